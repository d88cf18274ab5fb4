"""Text messages through the Twilio-compatible backend, against a fake provider on loopback that
checks each request (path, basic auth, form fields, idempotency header) and drops repeats."""

from __future__ import annotations

import logging
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from django_tasks_db.models import DBTaskResult

from clearplan.messaging import delivery
from clearplan.messaging.models import OutboundMessage
from clearplan.messaging.sms import SmsNotSent, send_sms
from clearplan.messaging.tests.conftest import (
    DATABASE_TASKS,
    FAKE_SENDER,
    SMS_TEXT,
    clearplan_log_text,
    queue_sms,
    run_worker_until_idle,
    send_sms_through,
)
from clearplan.notifications.models import Notification

TEXT = SMS_TEXT


@pytest.fixture
def twilio(settings, sms_provider):
    settings.TASKS = DATABASE_TASKS
    send_sms_through(settings, sms_provider)
    return sms_provider


@pytest.mark.django_db(transaction=True)
def test_a_text_message_reaches_the_provider_as_twilio_expects(twilio, clinic, case, coordinator, caplog):
    caplog.set_level(logging.INFO)
    message = queue_sms(case, coordinator)

    run_worker_until_idle()

    assert twilio.problems == []
    [request] = twilio.requests
    assert request.fields["To"] == "+61491570678"
    assert request.fields["From"] == FAKE_SENDER
    assert request.fields["Body"] == TEXT
    assert request.idempotency_token == message.idempotency_key
    callback = urlsplit(request.fields["StatusCallback"])
    assert f"{callback.scheme}://{callback.netloc}{callback.path}" == "https://clearplan.example.com/hooks/sms/status/"
    assert parse_qs(callback.query) == {"message": [str(message.public_id)]}
    message.refresh_from_db()
    assert message.status == OutboundMessage.Status.SENT
    assert message.provider_message_id == request.sid
    log = clearplan_log_text(caplog)
    assert f"Message {message.reference} sent on try 1" in log
    for private in ("491570678", "Mere", "treatment plan"):
        assert private not in log


@pytest.mark.django_db
def test_a_messaging_service_is_used_instead_of_a_number_when_configured(settings, sms_provider):
    send_sms_through(settings, sms_provider)
    settings.SMS_OPTIONS = {**settings.SMS_OPTIONS, "from": "", "messaging_service_sid": "MG" + "1" * 32}

    send_sms("+61491570678", "Hello", "key-1", "https://clearplan.example.com/hooks/sms/status/")

    assert sms_provider.problems == []
    [request] = sms_provider.requests
    assert request.fields["MessagingServiceSid"] == "MG" + "1" * 32
    assert "From" not in request.fields


@pytest.mark.django_db
def test_the_same_idempotency_key_twice_sends_one_message(settings, sms_provider):
    send_sms_through(settings, sms_provider)
    callback = "https://clearplan.example.com/hooks/sms/status/"

    first = send_sms("+61491570678", "Hello", "same-key", callback)
    second = send_sms("+61491570678", "Hello", "same-key", callback)
    other = send_sms("+61491570678", "Hello", "another-key", callback)

    assert first == second != other
    assert [request.outcome for request in sms_provider.requests] == ["sent", "duplicate", "sent"]
    assert len(sms_provider.delivered) == 2


@pytest.mark.django_db
def test_wrong_account_details_are_reported_as_a_sign_in_problem_worth_retrying(settings, sms_provider):
    send_sms_through(settings, sms_provider)
    settings.SMS_OPTIONS = {**settings.SMS_OPTIONS, "auth_token": "wrong"}

    with pytest.raises(SmsNotSent) as refused:
        send_sms("+61491570678", "Hello", "key", "https://clearplan.example.com/hooks/sms/status/")

    assert refused.value.failure.kind == "sms_sign_in_refused_401"
    assert refused.value.failure.transient
    assert sms_provider.delivered == []


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("code", "detail", "next_step"),
    [
        (
            21211,
            "The mobile number was not accepted by the SMS provider: it is not a valid number.",
            "Check the number on the patient's record and send again.",
        ),
        (
            21610,
            "The patient has replied STOP to the clinic's text messages, so the SMS provider will not send them "
            "any more.",
            "Send by email instead. The patient can reply START to the clinic's number to receive texts again.",
        ),
        (
            21614,
            "The number on the patient's record is not a mobile, so it can't receive text messages.",
            "Check the number on the patient's record and send again.",
        ),
        (
            99999,
            "The SMS provider did not accept the message.",
            "Check the number on the patient's record and send again.",
        ),
    ],
)
def test_a_refusal_fails_at_once_with_a_reason_staff_understand(
    twilio, clinic, case, coordinator, code, detail, next_step
):
    # Twilio's own words repeat the number; they must not reach the message row or the logs.
    twilio.refuse_with.append((400, {"code": code, "message": "The 'To' number +61491570678 is bad", "status": 400}))
    message = queue_sms(case, coordinator)

    run_worker_until_idle()

    message.refresh_from_db()
    assert message.status == OutboundMessage.Status.FAILED
    assert message.failure_kind == (f"sms_{code}" if code != 99999 else "sms_refused_99999")
    assert message.failure_detail_for_staff == detail
    assert message.failure_next_step == next_step
    assert "491570678" not in message.failure_detail_for_staff + message.failure_kind
    # The case's coordinator hears about it in the app, once.
    assert list(Notification.objects.filter(recipient=coordinator).values_list("kind", flat=True)) == [
        "delivery_failed"
    ]
    assert not DBTaskResult.objects.filter(status="READY").exists(), "a refusal is not retried"
    [task] = DBTaskResult.objects.all()
    assert "491570678" not in task.traceback


@pytest.mark.django_db(transaction=True)
def test_a_busy_provider_is_tried_again_with_the_same_key_and_sends_once(twilio, clinic, case, coordinator):
    twilio.refuse_with.append((503, {"code": 20503, "message": "Service unavailable", "status": 503}))
    message = queue_sms(case, coordinator)

    run_worker_until_idle()

    message.refresh_from_db()
    assert message.status == OutboundMessage.Status.QUEUED
    assert message.failure_kind == "sms_http_503"
    retry = DBTaskResult.objects.get(status="READY")
    with time_machine.travel(retry.run_after + timedelta(seconds=1), tick=True):
        run_worker_until_idle()

    message.refresh_from_db()
    assert message.status == OutboundMessage.Status.SENT
    assert message.attempts == 2
    assert [request.outcome for request in twilio.requests] == ["refused", "sent"]
    assert {request.idempotency_token for request in twilio.requests} == {message.idempotency_key}


@pytest.mark.django_db(transaction=True)
def test_an_unreachable_provider_is_tried_again_later(settings, closed_port, clinic, case, coordinator):
    settings.TASKS = DATABASE_TASKS
    settings.SMS_BACKEND = "clearplan.messaging.sms.TwilioSmsBackend"
    settings.SMS_OPTIONS = {
        "account_sid": "AC1",
        "auth_token": "t",
        "host": "127.0.0.1",
        "port": closed_port,
        "scheme": "http",
        "from": FAKE_SENDER,
        "timeout": 5,
    }
    message = queue_sms(case, coordinator)

    run_worker_until_idle()

    message.refresh_from_db()
    assert message.status == OutboundMessage.Status.QUEUED
    assert message.failure_kind == "sms_network_ConnectionRefusedError"
    assert DBTaskResult.objects.filter(status="READY").count() == 1


@pytest.mark.django_db
def test_a_message_already_finished_is_not_sent_again(settings, sms_provider, clinic, case, coordinator):
    send_sms_through(settings, sms_provider)
    settings.TASKS = DATABASE_TASKS
    message = queue_sms(case, coordinator)
    for status in ("sent", "delivered", "failed", "cancelled"):
        OutboundMessage.objects.filter(pk=message.pk).update(status=status)
        assert delivery.claim(str(message.public_id)) is None
    assert sms_provider.requests == []
