"""message_send: what it refuses, what it records, when it queues, and cancelling a scheduled message."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from clearplan.audit.models import AuditEvent
from clearplan.lib.sms_url import SMS_OUTBOX_BACKEND
from clearplan.messaging.models import OutboundMessage
from clearplan.messaging.selectors import failed_messages_for_case, messages_for_case
from clearplan.messaging.services import message_cancel, message_send
from clearplan.messaging.sms import sms_outbox_directory
from clearplan.messaging.tests.conftest import DATABASE_TASKS, IMMEDIATE_TASKS, queue_sms, stored_message
from clearplan.patients.tests.factories import PatientFactory

PACK_TEXT = "Hi Mere, here is your treatment plan from Harbour Dental: https://example.com/p/abc"


@pytest.fixture
def sms_outbox(settings):
    settings.SMS_BACKEND = SMS_OUTBOX_BACKEND
    settings.SMS_OPTIONS = {}
    settings.TASKS = IMMEDIATE_TASKS


def _send_sms(clinic, case, coordinator, **overrides):
    return queue_sms(case, coordinator, **{"clinic": clinic, "body": PACK_TEXT, **overrides})


def _outbox_texts() -> list[dict]:
    directory = sms_outbox_directory()
    return [json.loads(path.read_text()) for path in directory.glob("*.json")] if directory.exists() else []


@pytest.mark.django_db
def test_an_sms_is_recorded_audited_and_sent_after_the_commit(
    sms_outbox, clinic, case, coordinator, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        message = _send_sms(clinic, case, coordinator)
        assert _outbox_texts() == [], "nothing is sent before the transaction commits"

    message.refresh_from_db()
    assert message.status == OutboundMessage.Status.SENT
    assert message.to_address == "+61491570678"
    assert message.patient == case.patient
    assert message.attempts == 1
    assert message.sent_at is not None
    assert message.provider_message_id.startswith("SM")
    assert len(message.idempotency_key) == 40
    [text] = _outbox_texts()
    assert text["to"] == "+61491570678"
    assert text["body"] == PACK_TEXT
    assert text["organisation"] == str(clinic.organisation.public_id)

    event = AuditEvent.objects.get(object_type="outbound_message")
    assert event.action == AuditEvent.Action.CREATE
    assert event.actor == coordinator
    assert event.object_id == str(message.public_id)
    assert event.changes["channel"] == "sms"
    assert event.changes["case"] == str(case.public_id)
    assert "491570678" not in str(event.changes)
    assert "491570678" not in event.object_label


@pytest.mark.django_db
def test_nothing_is_sent_for_a_change_that_rolled_back(sms_outbox, clinic, case, coordinator):
    def send_then_fail():
        with transaction.atomic():
            _send_sms(clinic, case, coordinator)
            raise RuntimeError("the surrounding change failed")

    with pytest.raises(RuntimeError):
        send_then_fail()

    assert not OutboundMessage.objects.exists()
    assert _outbox_texts() == []


@pytest.mark.django_db
def test_sms_is_refused_clearly_when_no_provider_is_set_up(settings, clinic, case, coordinator):
    settings.SMS_BACKEND = ""

    with pytest.raises(ValidationError) as refused:
        _send_sms(clinic, case, coordinator)

    assert refused.value.message_dict["channel"] == [
        "SMS is not set up for this practice yet. Send by email instead, or ask whoever looks after "
        "Clearplan's settings to connect an SMS provider."
    ]
    assert not OutboundMessage.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"to": "02 9999 1234"}, "to", "landline"),
        ({"to": "not a number"}, "to", "Enter a mobile number"),
        ({"to": ""}, "to", "no mobile number"),
        ({"body": "x" * 1601}, "body", "at most 1600 characters; this one has 1601"),
        ({"body": "   "}, "body", "empty"),
        ({"channel": "fax"}, "channel", "SMS or email"),
        ({"send_after": datetime(2030, 1, 1, 18, 0)}, "send_after", "time zone"),
    ],
)
def test_an_unusable_sms_is_refused_at_its_field(sms_outbox, clinic, case, coordinator, overrides, field, words):
    with pytest.raises(ValidationError) as refused:
        _send_sms(clinic, case, coordinator, **overrides)

    assert words in " ".join(refused.value.message_dict[field])
    assert not OutboundMessage.objects.exists()


@pytest.mark.django_db
def test_an_sms_with_exactly_1600_characters_is_accepted(sms_outbox, clinic, case, coordinator):
    assert _send_sms(clinic, case, coordinator, body="x" * 1600).body == "x" * 1600


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"to": "mere.ngata@"}, "to", "valid email address"),
        ({"to": "a@example.com\nBcc: b@example.com"}, "to", "valid email address"),
        ({"subject": ""}, "subject", "needs a subject"),
        ({"subject": "Two\nlines"}, "subject", "one line"),
        ({"reply_to": "nobody"}, "reply_to", "valid email address"),
        ({"attachment": ("plan.pdf", b"", "application/pdf")}, "attachment", "empty"),
        ({"attachment": ("plan.pdf", b"x" * (10 * 1024 * 1024 + 1), "application/pdf")}, "attachment", "10 MB"),
        ({"attachment": ("plan.pdf", b"%PDF", "not a type")}, "attachment", "type"),
    ],
)
def test_an_unusable_email_is_refused_at_its_field(clinic, case, coordinator, overrides, field, words):
    arguments = {
        "clinic": clinic,
        "channel": "email",
        "to": "mere.ngata@example.com",
        "subject": "Your treatment plan",
        "body": PACK_TEXT,
        "purpose": "pack",
        "case": case,
    }
    with pytest.raises(ValidationError) as refused:
        message_send(**{**arguments, **overrides})

    assert words in " ".join(refused.value.message_dict[field])
    assert not OutboundMessage.objects.exists()


@pytest.mark.django_db
def test_a_case_or_patient_of_another_clinic_is_refused(sms_outbox, clinic, other_clinic, case, coordinator):
    stranger = PatientFactory(clinic=other_clinic)

    with pytest.raises(ValidationError, match="another clinic"):
        _send_sms(other_clinic, case, coordinator)
    with pytest.raises(ValidationError, match="another patient"):
        _send_sms(clinic, case, coordinator, patient=PatientFactory(clinic=clinic))
    with pytest.raises(ValidationError, match="another clinic"):
        _send_sms(clinic, None, coordinator, patient=stranger)


@pytest.mark.django_db
def test_an_email_remembers_where_replies_go_and_its_attachment(clinic, case, coordinator):
    clinic.email = "hello@harbourdental.example"
    clinic.save(update_fields=["email"])

    message = message_send(
        clinic=clinic,
        channel="email",
        to="mere.ngata@example.com",
        subject="Your signed treatment pack",
        body="Attached is your signed pack.",
        purpose="signed_copy",
        case=case,
        sender=coordinator,
        reply_to="coordinator@example.com",
        attachment=("../../Mere Ngata signed pack.pdf", b"%PDF-1.7 signed", "Application/PDF"),
    )

    assert message.reply_to == "hello@harbourdental.example, coordinator@example.com"
    assert message.attachment_name == "Mere Ngata signed pack.pdf"
    assert message.attachment_type == "application/pdf"
    assert "Mere" not in message.attachment.name, "stored under a random name"
    with message.attachment.open("rb") as stored:
        assert stored.read() == b"%PDF-1.7 signed"


@pytest.mark.django_db(transaction=True)
def test_a_message_for_later_is_scheduled_and_queued_to_run_then(settings, sms_outbox, clinic, case, coordinator):
    settings.TASKS = DATABASE_TASKS
    six_pm = timezone.now() + timedelta(hours=3)

    message = _send_sms(clinic, case, coordinator, send_after=six_pm)

    assert message.status == OutboundMessage.Status.SCHEDULED
    assert message.send_after == six_pm
    task = DBTaskResult.objects.get()
    assert task.run_after == six_pm
    assert task.args_kwargs["kwargs"] == {"message_id": str(message.public_id)}
    assert task.queue_name == "email"


@pytest.mark.django_db(transaction=True)
def test_a_time_already_past_sends_now(settings, sms_outbox, clinic, case, coordinator):
    settings.TASKS = DATABASE_TASKS

    message = _send_sms(clinic, case, coordinator, send_after=timezone.now() - timedelta(minutes=5))

    assert message.status == OutboundMessage.Status.QUEUED
    assert DBTaskResult.objects.get().status == "READY"


@pytest.mark.django_db(transaction=True)
def test_a_scheduled_message_can_be_cancelled_until_it_goes(settings, sms_outbox, clinic, case, coordinator):
    settings.TASKS = DATABASE_TASKS
    message = _send_sms(clinic, case, coordinator, send_after=timezone.now() + timedelta(hours=3))

    message_cancel(message=message, by=coordinator)

    message.refresh_from_db()
    assert message.status == OutboundMessage.Status.CANCELLED
    assert message.cancelled_at is not None
    event = AuditEvent.objects.filter(object_type="outbound_message", action=AuditEvent.Action.UPDATE).get()
    assert event.changes == {"status": ["scheduled", "cancelled"]}
    with pytest.raises(ValidationError, match="already cancelled"):
        message_cancel(message=message, by=coordinator)

    sent_now = _send_sms(clinic, case, coordinator)
    with pytest.raises(ValidationError, match="can no longer be cancelled"):
        message_cancel(message=sent_now, by=coordinator)


@pytest.mark.django_db
def test_a_cases_messages_newest_first_and_its_failures(case, other_clinic):
    older = stored_message(case, status="failed", failure_kind="sms_21211")
    newer = stored_message(case, channel="email", subject="Plan", status="bounced")
    sent = stored_message(case, status="delivered")
    elsewhere = PatientFactory(clinic=other_clinic)
    OutboundMessage.objects.create(
        clinic=other_clinic,
        patient=elsewhere,
        channel="sms",
        purpose="other",
        to_address="+61491570111",
        body="elsewhere",
        send_after=timezone.now(),
    )

    assert list(messages_for_case(case=case)) == [sent, newer, older]
    assert list(failed_messages_for_case(case=case)) == [newer, older]
