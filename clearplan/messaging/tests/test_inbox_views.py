"""The inbox: its views and counts, search by name, number or words, other clinics' threads kept
out, every look at a thread recorded, and the same number of queries however many rows."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from clearplan.audit.models import AuditEvent
from clearplan.messaging.conversations import selectors
from clearplan.messaging.conversations.services import conversation_assign, conversation_close, message_receive
from clearplan.messaging.models import Conversation
from clearplan.patients.tests.factories import PatientFactory

INBOX = reverse("messaging:conversations")


def received(patient, body, *, channel="sms"):
    message, _ = message_receive(patient=patient, channel=channel, body=body, from_address=patient.mobile, notify=False)
    return message.conversation


@pytest.fixture
def zoe(clinic):
    return PatientFactory(clinic=clinic, first_name="Zoë", last_name="O'Brien", mobile="+61491570156")


@pytest.fixture
def sam(clinic):
    return PatientFactory(clinic=clinic, first_name="Sam", last_name="Nguyen", mobile="+61491570999")


def page_text(client, url=INBOX, **params):
    response = client.get(url, params)
    assert response.status_code == 200
    return response.content.decode()


def test_a_patient_message_shows_in_the_inbox_with_its_preview_and_unread_count(coordinator_client, zoe):
    received(zoe, "Can I move my appointment to Friday?")

    page = page_text(coordinator_client)

    assert "Zoë O&#x27;Brien" in page
    assert "Can I move my appointment to Friday?" in page
    assert "1 unread" in page


def test_the_views_sort_threads_into_unread_mine_open_snoozed_and_closed(
    clinic, coordinator, coordinator_client, zoe, sam
):
    zoe_thread = received(zoe, "Hello from Zoë")
    sam_thread = received(sam, "Hello from Sam")
    conversation_assign(conversation=sam_thread, by=coordinator, to=coordinator)
    Conversation.objects.filter(pk=zoe_thread.pk).update(unread_count=0)

    assert "Hello from Zoë" not in page_text(coordinator_client, view="unread")
    assert "Hello from Sam" in page_text(coordinator_client, view="unread")
    assert "Hello from Zoë" not in page_text(coordinator_client, view="mine")
    assert "Hello from Sam" in page_text(coordinator_client, view="mine")

    Conversation.objects.filter(pk=zoe_thread.pk).update(snoozed_until=timezone.now() + dt.timedelta(hours=3))
    assert "Hello from Zoë" not in page_text(coordinator_client, view="open")
    assert "Hello from Zoë" in page_text(coordinator_client, view="snoozed")

    conversation_close(conversation=sam_thread, by=coordinator)
    assert "Hello from Sam" not in page_text(coordinator_client, view="open")
    assert "Hello from Sam" in page_text(coordinator_client, view="closed")

    counts = selectors.view_counts(clinic, coordinator)
    assert counts == {"unread": 0, "mine": 0, "open": 0, "snoozed": 1}


def test_the_newest_conversation_comes_first(coordinator_client, zoe, sam):
    received(zoe, "Older message")
    received(sam, "Newer message")

    page = page_text(coordinator_client)

    assert page.index("Newer message") < page.index("Older message")


@pytest.mark.parametrize("search", ["zoe", "o'brien", "OBRIEN", "Zoë O’Brien"])
def test_search_finds_a_patient_by_name_with_or_without_accents_and_apostrophes(coordinator_client, zoe, sam, search):
    received(zoe, "From Zoë")
    received(sam, "From Sam")

    page = page_text(coordinator_client, q=search)

    assert "From Zoë" in page
    assert "From Sam" not in page


@pytest.mark.parametrize("search", ["0491 570 156", "+61 491 570 156", "0491570156", "570156"])
def test_search_finds_a_patient_by_mobile_typed_in_any_format(coordinator_client, zoe, sam, search):
    received(zoe, "From Zoë")
    received(sam, "From Sam")

    page = page_text(coordinator_client, q=search)

    assert "From Zoë" in page
    assert "From Sam" not in page


def test_search_finds_words_in_a_message(coordinator_client, zoe, sam):
    received(zoe, "Is the crown covered by my health fund?")
    received(zoe, "Thanks")
    received(sam, "See you soon")

    page = page_text(coordinator_client, q="health fund")

    assert "Zoë" in page
    assert "See you soon" not in page


def test_another_clinics_thread_is_not_found(outsider_client, zoe):
    thread = received(zoe, "Private question")

    response = outsider_client.get(reverse("messaging:conversation", args=[thread.public_id]))

    assert response.status_code == 404
    assert "Private question" not in page_text(outsider_client)


def test_opening_a_thread_is_recorded_and_reads_it(coordinator, coordinator_client, zoe):
    thread = received(zoe, "Are you open Saturday?")

    page = page_text(coordinator_client, reverse("messaging:conversation", args=[thread.public_id]))

    assert "Are you open Saturday?" in page
    thread.refresh_from_db()
    assert thread.unread_count == 0
    viewed = AuditEvent.objects.filter(action=AuditEvent.Action.VIEW, object_id=str(thread.public_id))
    assert viewed.filter(actor=coordinator).count() == 1


def test_the_navigation_counts_unread_conversations(coordinator_client, zoe, sam):
    received(zoe, "One")
    received(sam, "Two")

    page = page_text(coordinator_client, reverse("pipeline:today"))
    assert "2 unread" in page
    badge = coordinator_client.get(reverse("messaging:unread_badge")).content.decode()
    assert "2 unread" in badge


def test_the_inbox_takes_the_same_number_of_queries_however_many_threads(clinic, coordinator_client):
    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert coordinator_client.get(INBOX, {"q": "message"}).status_code == 200
        return len(captured)

    received(PatientFactory(clinic=clinic), "First message")
    queries()  # the session's first request reads a little more
    few = queries()
    for number in range(12):
        received(PatientFactory(clinic=clinic), f"Message {number}")
    assert queries() == few


def test_a_thread_takes_the_same_number_of_queries_however_many_messages(clinic, coordinator_client, zoe):
    thread = received(zoe, "First")
    url = reverse("messaging:conversation", args=[thread.public_id])

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert coordinator_client.get(url).status_code == 200
        return len(captured)

    queries()
    few = queries()
    for number in range(8):
        received(zoe, f"Message {number}")
    Conversation.objects.filter(pk=thread.pk).update(unread_count=0)
    assert queries() == few
