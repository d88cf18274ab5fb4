"""What staff see of a case's messages (messaging/_case_messages.html), and the demo outbox
showing text messages and patient emails to the sending clinic's organisation only."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.template.loader import render_to_string
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from clearplan.accounts.models import Membership
from clearplan.accounts.tests.factories import ClinicFactory, OrganisationFactory, staff_member
from clearplan.audit.models import AuditEvent
from clearplan.lib.email_url import OUTBOX_BACKEND
from clearplan.lib.sms_url import SMS_OUTBOX_BACKEND
from clearplan.messaging.selectors import messages_for_case
from clearplan.messaging.services import message_send
from clearplan.messaging.tests.conftest import IMMEDIATE_TASKS, stored_message
from clearplan.patients.tests.factories import PatientFactory

SIX_PM_SYDNEY = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)  # 6 pm in Sydney (summer time)


def _render(case) -> str:
    return " ".join(
        render_to_string("messaging/_case_messages.html", {"messages": messages_for_case(case=case)}).split()
    )


@pytest.mark.django_db
def test_each_message_shows_how_to_whom_masked_who_sent_it_and_its_status_in_clinic_time(clinic, case, coordinator):
    stored_message(
        case,
        send_after=SIX_PM_SYDNEY,
        sender=coordinator,
        status="delivered",
        sent_at=SIX_PM_SYDNEY,
        delivered_at=SIX_PM_SYDNEY,
    )
    stored_message(
        case,
        send_after=SIX_PM_SYDNEY,
        channel="email",
        subject="Your plan",
        status="scheduled",
        purpose="signed_copy",
        attachment_name="Signed pack.pdf",
    )

    page = _render(case)

    assert "SMS" in page
    assert "Treatment pack" in page
    assert "mobile ending 678" in page
    assert "+61491570678" not in page
    assert "m…@example.com" in page
    assert "mere.ngata" not in page
    assert coordinator.display_name.replace("'", "&#x27;") in page
    assert clinic.name in page, "a message with no team member named comes from the clinic"
    assert "Delivered" in page
    assert "2 Mar 2026, 6:00 p.m." in page
    assert "Scheduled" in page
    assert "Signed copy" in page
    assert "with Signed pack.pdf" in page
    assert "Not delivered" not in page


@pytest.mark.django_db
def test_a_failed_message_says_why_and_what_to_do(clinic, case):
    stored_message(
        case,
        send_after=SIX_PM_SYDNEY,
        status="failed",
        failed_at=SIX_PM_SYDNEY,
        failure_kind="sms_21211",
        failure_detail_for_staff="The mobile number was not accepted by the SMS provider: it is not a valid number.",
    )
    stored_message(
        case,
        send_after=SIX_PM_SYDNEY,
        channel="email",
        subject="Your plan",
        status="bounced",
        failed_at=SIX_PM_SYDNEY,
        failure_kind="email_bounced",
        failure_detail_for_staff="The email bounced: the patient's email provider would not accept it.",
    )

    page = _render(case)

    assert page.count('class="notice notice--error"') == 2
    assert "The mobile number was not accepted by the SMS provider: it is not a valid number." in page
    assert "Check the number on the patient&#x27;s record and send again." in page
    assert "Check the email address on the patient&#x27;s record and send again." in page
    assert "Bounced" in page


@pytest.mark.django_db
def test_a_message_waiting_to_be_tried_again_says_when(clinic, case):
    stored_message(case, send_after=SIX_PM_SYDNEY, status="queued", attempts=1, failure_kind="sms_http_503")

    page = _render(case)

    assert "Trying again" in page
    assert 'at <time datetime="2026-03-02T18:00:00+11:00">2 Mar 2026, 6:00 p.m.</time>' in page


@pytest.mark.django_db
def test_no_messages_yet(case):
    assert "No messages have been sent about this case yet." in _render(case)


@pytest.mark.django_db
def test_the_list_reads_the_database_once_however_many_messages(
    clinic, case, coordinator, dentist, django_assert_num_queries
):
    for sender in (coordinator, dentist, None, coordinator):
        stored_message(case, send_after=SIX_PM_SYDNEY, sender=sender, status="sent", sent_at=timezone.now())

    with django_assert_num_queries(1):
        _render(case)


# ---------- The demo outbox ----------


@pytest.fixture
def demo_outboxes(settings):
    settings.EMAIL_BACKEND = OUTBOX_BACKEND
    settings.SMS_BACKEND = SMS_OUTBOX_BACKEND
    settings.SMS_OPTIONS = {}
    settings.TASKS = IMMEDIATE_TASKS


@pytest.fixture
def admin_client(owner):
    owner.is_organisation_admin = True
    owner.save(update_fields=["is_organisation_admin"])
    client = Client()
    client.force_login(owner)
    return client


def _send_both(clinic, case, *, text: str, subject: str):
    message_send(clinic=clinic, channel="sms", to="+61491570678", body=text, purpose="pack", case=case)
    message_send(
        clinic=clinic,
        channel="email",
        to="mere.ngata@example.com",
        subject=subject,
        body=text,
        purpose="pack",
        case=case,
    )


@pytest.mark.django_db
def test_the_demo_outbox_shows_the_organisations_text_messages_and_patient_emails(
    demo_outboxes, clinic, case, admin_client, django_capture_on_commit_callbacks
):
    rival_clinic = ClinicFactory(organisation=OrganisationFactory(name="Rival Dental Group"))
    rival_case_patient = PatientFactory(clinic=rival_clinic)
    staff_member(rival_clinic, Membership.Role.MANAGER, email="rival@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        _send_both(clinic, case, text="Ours: https://example.com/p/ours", subject="Our plan for you")
        message_send(
            clinic=rival_clinic,
            channel="sms",
            to="+61491570111",
            body="Theirs: https://example.com/p/theirs",
            purpose="pack",
            patient=rival_case_patient,
        )

    page = admin_client.get(reverse("messaging:outbox")).content.decode()

    assert "Text messages" in page
    assert "+61491570678" in page
    assert '<a href="https://example.com/p/ours"' in page
    assert "Our plan for you" in page
    assert "Theirs" not in page
    assert "+61491570111" not in page
    event = AuditEvent.objects.get(object_type="outbox_sms")
    assert event.action == AuditEvent.Action.VIEW
    assert event.changes == {"shown": 1}
