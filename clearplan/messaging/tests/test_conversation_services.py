"""The conversation services the inbox calls: which channel a reply takes, consent, notes,
assigning, snoozing, closing and reopening, and a patient's message waking a thread."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from clearplan.messaging.conversations import services
from clearplan.messaging.models import Conversation, OutboundMessage
from clearplan.messaging.tests.conftest import send_sms_through
from clearplan.patients.tests.factories import PatientFactory


@pytest.fixture(autouse=True)
def _sms_set_up(settings, sms_provider):
    send_sms_through(settings, sms_provider)


@pytest.fixture
def patient(clinic):
    return PatientFactory(clinic=clinic, first_name="Mere", preferred_channel="sms")


def receive(patient, channel="sms", body="Hello"):
    message, _ = services.message_receive(patient=patient, channel=channel, body=body, notify=False)
    return message.conversation


def test_a_reply_goes_on_the_channel_the_patient_used_last(patient):
    thread = receive(patient, channel="email")
    thread.refresh_from_db()
    assert services.reply_channel(thread) == "email"


def test_a_reply_goes_by_the_preferred_channel_when_the_patient_has_not_written(patient):
    thread = services.conversation_for_patient(patient=patient)
    assert services.reply_channel(thread) == "sms"


def test_a_channel_without_consent_is_refused_at_the_field(patient, coordinator):
    thread = receive(patient)
    patient.consent_sms = False
    patient.save()
    thread.refresh_from_db()

    with pytest.raises(ValidationError) as refused:
        services.conversation_reply(conversation=thread, by=coordinator, body="Hi", channel="sms")

    assert "has not agreed to receive SMS" in refused.value.message_dict["channel"][0]
    assert not OutboundMessage.objects.filter(purpose=OutboundMessage.Purpose.CONVERSATION).exists()


def test_a_file_cannot_go_by_sms(patient, coordinator):
    thread = receive(patient)
    file = services.IncomingAttachment(name="x.pdf", content=b"%PDF-1.7", content_type="application/pdf")

    with pytest.raises(ValidationError) as refused:
        services.conversation_reply(conversation=thread, by=coordinator, body="Hi", channel="sms", attachment=file)

    assert "attachment" in refused.value.message_dict


def test_a_reply_is_signed_with_the_team_members_name(patient, coordinator, clinic):
    thread = receive(patient)

    sent = services.conversation_reply(conversation=thread, by=coordinator, body="See you Friday.")

    assert sent.outbound.body == f"See you Friday.\n- {coordinator.first_name}, {clinic.name}"
    assert sent.author == coordinator


def test_the_same_submission_sends_once(patient, coordinator):
    thread = receive(patient)

    first = services.conversation_reply(conversation=thread, by=coordinator, body="Once", submission_key="abc")
    again = services.conversation_reply(conversation=thread, by=coordinator, body="Once", submission_key="abc")

    assert first.pk == again.pk
    assert OutboundMessage.objects.filter(purpose=OutboundMessage.Purpose.CONVERSATION).count() == 1


def test_a_note_is_never_sent(patient, coordinator):
    thread = receive(patient)

    note = services.note_add(conversation=thread, by=coordinator, body="Checked with Dr Lee")

    assert note.is_note
    assert note.outbound is None
    assert not OutboundMessage.objects.filter(purpose=OutboundMessage.Purpose.CONVERSATION).exists()


def test_only_the_clinics_team_can_be_assigned(patient, coordinator, outsider):
    thread = receive(patient)

    services.conversation_assign(conversation=thread, by=coordinator, to=coordinator)
    with pytest.raises(ValidationError):
        services.conversation_assign(conversation=thread, by=coordinator, to=outsider)

    thread.refresh_from_db()
    assert thread.assigned_to == coordinator


def test_a_patient_message_reopens_a_closed_thread_and_counts_unread(patient, coordinator):
    thread = receive(patient)
    services.conversation_close(conversation=thread, by=coordinator)

    receive(patient, body="One more question")

    thread.refresh_from_db()
    assert thread.status == "open"
    assert thread.unread_count == 1


def test_a_patient_message_wakes_a_snoozed_thread(patient, coordinator):
    thread = receive(patient)
    services.conversation_snooze(conversation=thread, by=coordinator, until=timezone.now() + dt.timedelta(days=1))

    receive(patient, body="Are you there?")

    thread.refresh_from_db()
    assert thread.snoozed_until is None
    assert thread.unread_count == 2


def test_a_snooze_in_the_past_is_refused(patient, coordinator):
    thread = receive(patient)
    with pytest.raises(ValidationError):
        services.conversation_snooze(conversation=thread, by=coordinator, until=timezone.now() - dt.timedelta(hours=1))


def test_snoozes_wake_when_their_time_comes(patient, coordinator):
    thread = receive(patient)
    thread.refresh_from_db()
    services.conversation_mark_read(conversation=thread)
    services.conversation_snooze(conversation=thread, by=coordinator, until=timezone.now() + dt.timedelta(hours=1))

    assert services.snoozes_wake(now=timezone.now()) == 0
    assert services.snoozes_wake(now=timezone.now() + dt.timedelta(hours=2)) == 1

    thread.refresh_from_db()
    assert thread.snoozed_until is None
    assert thread.unread_count == 1


def test_reopening_a_closed_thread(patient, coordinator):
    thread = receive(patient)
    services.conversation_close(conversation=thread, by=coordinator)
    services.conversation_reopen(conversation=thread, by=coordinator)
    thread.refresh_from_db()
    assert thread.status == "open"


def test_reading_a_thread_goes_by_the_database_not_the_copy_in_hand(patient):
    thread = receive(patient)
    stale = Conversation.objects.get(pk=thread.pk)
    stale.unread_count = 0  # loaded before the message arrived, as an open page would hold it
    receive(patient, body="One more thing")

    assert services.conversation_mark_read(conversation=stale) == 1
    assert Conversation.objects.get(pk=thread.pk).unread_count == 0
    # Read already (by another tab, say): nothing changes, whatever the copy in hand says.
    other_tab = Conversation.objects.get(pk=thread.pk)
    other_tab.unread_count = 3
    assert services.conversation_mark_read(conversation=other_tab) == 0
    assert other_tab.unread_count == 0
