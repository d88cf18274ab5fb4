"""Messages by email: through a real SMTP server (aiosmtpd), from the clinic, with its
attachment; refusals and unreachable servers; and the demo outbox keeping one copy of a repeat."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
import time_machine
from django.db import transaction
from django_tasks_db.models import DBTaskResult

from clearplan.lib.email_url import OUTBOX_BACKEND
from clearplan.messaging import delivery
from clearplan.messaging.models import OutboundMessage
from clearplan.messaging.selectors import outbox_message, outbox_messages
from clearplan.messaging.services import message_send
from clearplan.messaging.tests.conftest import (
    DATABASE_TASKS,
    clearplan_log_text,
    run_worker_until_idle,
    send_through_smtp,
)

TEXT = "Hi Mere,\n\nAttached is a copy of the treatment pack you signed.\n\nKind regards,\nChloé"
PDF = b"%PDF-1.7\n% a signed pack\n"


def _send_email(clinic, case, coordinator, **overrides):
    arguments = {
        "clinic": clinic,
        "channel": "email",
        "to": "mere.ngata@example.com",
        "subject": "Your signed treatment pack from Harbour Dental Sydney",
        "body": TEXT,
        "html": "<p>Hi Mere,</p><p>Attached is a copy of the treatment pack you signed.</p>",
        "purpose": "signed_copy",
        "case": case,
        "sender": coordinator,
        "attachment": ("Signed treatment pack.pdf", PDF, "application/pdf"),
    }
    with transaction.atomic():
        return message_send(**{**arguments, **overrides})


@pytest.fixture
def clinic_with_email(clinic):
    clinic.name = "Harbour Dental Sydney"
    clinic.email = "hello@harbourdental.example"
    clinic.save(update_fields=["name", "email"])
    return clinic


@pytest.mark.django_db(transaction=True)
def test_an_email_reaches_the_mail_server_from_the_clinic_with_its_attachment(
    settings, smtp_server, clinic_with_email, case, coordinator
):
    settings.TASKS = DATABASE_TASKS
    settings.DEFAULT_FROM_EMAIL = "Clearplan <no-reply@clearplan.example>"
    send_through_smtp(settings, smtp_server.port)
    message = _send_email(clinic_with_email, case, coordinator, reply_to="coordinator@example.com")

    run_worker_until_idle()

    message.refresh_from_db()
    assert message.status == OutboundMessage.Status.SENT
    [delivery_] = smtp_server.deliveries
    email = delivery_.message
    assert delivery_.envelope_to == ["mere.ngata@example.com"]
    assert email["From"] == "Harbour Dental Sydney <no-reply@clearplan.example>"
    assert email["Reply-To"] == "hello@harbourdental.example, coordinator@example.com"
    assert email["Subject"] == "Your signed treatment pack from Harbour Dental Sydney"
    assert email["Message-ID"] == f"<{message.idempotency_key}@clearplan.example>"
    assert message.provider_message_id == email["Message-ID"]
    assert TEXT in email.get_body(preferencelist=("plain",)).get_content().replace("\r\n", "\n")
    assert "Attached is a copy" in email.get_body(preferencelist=("html",)).get_content()
    [attachment] = list(email.iter_attachments())
    assert attachment.get_filename() == "Signed treatment pack.pdf"
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_content() == PDF


@pytest.mark.django_db(transaction=True)
def test_a_clinic_name_with_accents_and_punctuation_is_a_proper_sender(settings, smtp_server, clinic, case):
    settings.TASKS = DATABASE_TASKS
    send_through_smtp(settings, smtp_server.port)
    clinic.name = "Zoë's Dental, Newtown"
    clinic.save(update_fields=["name"])
    _send_email(clinic, case, None, attachment=None)

    run_worker_until_idle()

    [delivery_] = smtp_server.deliveries
    assert delivery_.message["From"].addresses[0].display_name == "Zoë's Dental, Newtown"
    assert delivery_.message["From"].addresses[0].addr_spec == "no-reply@clearplan.localhost"


@pytest.mark.django_db(transaction=True)
def test_a_refused_address_fails_at_once_with_a_reason_staff_understand(
    settings, refusing_smtp_server, clinic, case, coordinator, caplog
):
    caplog.set_level(logging.INFO)
    settings.TASKS = DATABASE_TASKS
    send_through_smtp(settings, refusing_smtp_server.port)
    message = _send_email(clinic, case, coordinator)

    run_worker_until_idle()

    message.refresh_from_db()
    assert message.status == OutboundMessage.Status.FAILED
    assert message.failure_kind == "email_refused_550"
    assert message.failure_detail_for_staff == (
        "The patient's email address was refused: it may be misspelled or no longer in use."
    )
    assert message.failure_next_step == "Check the email address on the patient's record and send again."
    assert message.failed_at is not None
    assert message.attempts == 1
    assert DBTaskResult.objects.filter(status="READY").count() == 0, "a refusal is not retried"
    log = clearplan_log_text(caplog)
    assert f"Message {message.reference} was refused and will not be retried (email_refused_550)" in log
    assert "mere.ngata" not in log


@pytest.mark.django_db(transaction=True)
def test_an_unreachable_mail_server_is_tried_again_later_and_then_delivers(
    settings, closed_port, smtp_server, clinic, case, coordinator
):
    settings.TASKS = DATABASE_TASKS
    send_through_smtp(settings, closed_port)
    message = _send_email(clinic, case, coordinator)

    run_worker_until_idle()

    message.refresh_from_db()
    assert message.status == OutboundMessage.Status.QUEUED
    assert message.attempts == 1
    assert message.failure_kind == "email_unreachable_ConnectionRefusedError"
    retry = DBTaskResult.objects.get(status="READY")
    assert retry.args_kwargs["kwargs"] == {"message_id": str(message.public_id), "attempt": 2}
    assert message.send_after == retry.run_after, "the case shows when the next try is"

    send_through_smtp(settings, smtp_server.port)
    with time_machine.travel(retry.run_after + timedelta(seconds=1), tick=True):
        run_worker_until_idle()

    message.refresh_from_db()
    assert message.status == OutboundMessage.Status.SENT
    assert message.attempts == 2
    [delivered] = smtp_server.deliveries
    assert delivered.message["Message-ID"] == delivery.email_message_id(message)


@pytest.mark.django_db(transaction=True)
def test_after_the_last_try_the_message_fails_and_says_so(settings, closed_port, clinic, case, coordinator):
    settings.TASKS = DATABASE_TASKS
    send_through_smtp(settings, closed_port)
    message = _send_email(clinic, case, coordinator)
    # Five tries already failed.
    OutboundMessage.objects.filter(pk=message.pk).update(attempts=5)

    run_worker_until_idle()

    message.refresh_from_db()
    assert message.status == OutboundMessage.Status.FAILED
    assert message.attempts == 6
    assert message.failure_detail_for_staff == (
        "Clearplan could not reach the mail server, or it asked to try later. "
        "Clearplan tried 6 times over about three hours and has stopped trying."
    )
    assert message.failure_next_step == "Send again. If it keeps happening, tell whoever looks after Clearplan."
    assert not DBTaskResult.objects.filter(status="READY").exists()


@pytest.mark.django_db
def test_the_demo_outbox_keeps_one_copy_of_a_repeated_email_and_shows_it_to_the_clinics_organisation(
    settings, clinic, case, coordinator
):
    settings.EMAIL_BACKEND = OUTBOX_BACKEND
    message = _send_email(clinic, case, coordinator)

    claimed = delivery.claim(str(message.public_id))
    assert claimed is not None
    first = delivery.hand_to_provider(claimed)
    # The worker stopped before recording it; the next try sends the very same email.
    second = delivery.hand_to_provider(claimed)

    assert first == second == delivery.email_message_id(message)
    organisation = str(clinic.organisation.public_id)
    listing = outbox_messages(organisation=organisation)
    assert listing.total == 1
    [summary] = listing.messages
    assert summary.subject == "Your signed treatment pack from Harbour Dental Sydney"
    shown = outbox_message(summary.name, organisation=organisation)
    assert shown is not None
    assert "Attached is a copy" in shown.text
