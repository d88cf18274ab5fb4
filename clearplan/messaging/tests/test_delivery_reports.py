"""Delivery reports: the SMS provider's status callback and the mail relay's events, each
checked by its signature, recorded only forward, and shown on the case when something failed."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from clearplan.messaging import delivery
from clearplan.messaging.models import OutboundMessage
from clearplan.messaging.signatures import email_events_signature, twilio_signature
from clearplan.messaging.tests.conftest import FAKE_AUTH_TOKEN, send_sms_through, stored_message
from clearplan.notifications.models import Notification

EMAIL_SECRET = "relay-shared-secret"
SMS_STATUS_PATH = "/hooks/sms/status/"


@pytest.fixture
def hooks(settings, sms_provider):
    send_sms_through(settings, sms_provider)
    settings.EMAIL_EVENTS_SECRET = EMAIL_SECRET
    return Client(enforce_csrf_checks=True)


def _message(case, **fields) -> OutboundMessage:
    values = {"status": "sent", "provider_message_id": "SM" + "a" * 32, "sent_at": timezone.now(), **fields}
    return stored_message(case, **values)


def _sms_status(client, fields: dict[str, str], *, query: str = "", signature: str | None = None, token=None):
    path = SMS_STATUS_PATH + (f"?{query}" if query else "")
    if signature is None:
        signature = twilio_signature(token or FAKE_AUTH_TOKEN, "https://clearplan.example.com" + path, fields.items())
    return client.post(path, fields, HTTP_X_TWILIO_SIGNATURE=signature)


def _email_event(client, report: dict, *, secret: str = EMAIL_SECRET, signature: str | None = None):
    body = json.dumps(report).encode()
    return client.post(
        reverse("hooks:email_events"),
        body,
        content_type="application/json",
        HTTP_X_CLEARPLAN_SIGNATURE=signature if signature is not None else email_events_signature(secret, body),
    )


@pytest.mark.django_db
def test_a_signed_delivery_report_marks_the_text_message_delivered(hooks, case):
    message = _message(case)

    response = _sms_status(
        hooks, {"MessageSid": message.provider_message_id, "MessageStatus": "delivered", "AccountSid": "AC1"}
    )

    assert response.status_code == 200
    message.refresh_from_db()
    assert message.status == OutboundMessage.Status.DELIVERED
    assert message.delivered_at is not None


@pytest.mark.django_db
@pytest.mark.parametrize(
    "signature",
    ["", "bm90IHRoZSBzaWduYXR1cmU=", twilio_signature("another-token", "https://clearplan.example.com/hooks/", [])],
)
def test_a_report_without_the_right_signature_is_refused(hooks, case, signature):
    message = _message(case)

    response = _sms_status(
        hooks, {"MessageSid": message.provider_message_id, "MessageStatus": "failed"}, signature=signature
    )

    assert response.status_code == 403
    message.refresh_from_db()
    assert message.status == OutboundMessage.Status.SENT


@pytest.mark.django_db
def test_a_report_signed_for_other_fields_is_refused(hooks, case):
    message = _message(case)
    signed_for = {"MessageSid": message.provider_message_id, "MessageStatus": "delivered"}
    signature = twilio_signature(FAKE_AUTH_TOKEN, "https://clearplan.example.com" + SMS_STATUS_PATH, signed_for.items())

    response = _sms_status(hooks, {**signed_for, "MessageStatus": "failed"}, signature=signature)

    assert response.status_code == 403


@pytest.mark.django_db
def test_a_report_for_an_unknown_message_is_answered_and_ignored(hooks, case):
    message = _message(case)

    response = _sms_status(hooks, {"MessageSid": "SM" + "f" * 32, "MessageStatus": "failed", "ErrorCode": "30005"})

    assert response.status_code == 200
    message.refresh_from_db()
    assert message.status == OutboundMessage.Status.SENT


@pytest.mark.django_db
def test_statuses_only_move_forward(hooks, case):
    message = _message(case)
    sid = message.provider_message_id

    for status in ("delivered", "sent", "queued", "sending"):
        assert _sms_status(hooks, {"MessageSid": sid, "MessageStatus": status}).status_code == 200
        message.refresh_from_db()
        assert message.status == OutboundMessage.Status.DELIVERED
    delivered_at = message.delivered_at
    _sms_status(hooks, {"MessageSid": sid, "MessageStatus": "delivered"})
    message.refresh_from_db()
    assert message.delivered_at == delivered_at, "a repeated report changes nothing"


@pytest.mark.django_db
def test_an_undelivered_text_message_shows_why_on_the_case(hooks, case, coordinator):
    message = _message(case, sender=coordinator)

    _sms_status(
        hooks, {"MessageSid": message.provider_message_id, "MessageStatus": "undelivered", "ErrorCode": "30005"}
    )
    # A failure is final: a stray "sent" afterwards does not hide it.
    _sms_status(hooks, {"MessageSid": message.provider_message_id, "MessageStatus": "sent"})

    message.refresh_from_db()
    assert message.status == OutboundMessage.Status.FAILED
    assert message.failure_kind == "sms_30005"
    assert message.failure_detail_for_staff == "The mobile number doesn't exist or is no longer in use."
    assert message.failed_at is not None
    assert Notification.objects.filter(recipient=coordinator, kind="delivery_failed", case=case).count() == 1


@pytest.mark.django_db
def test_a_report_that_arrives_before_the_worker_recorded_the_id_still_finds_its_message(hooks, case):
    message = _message(case, status="sending", provider_message_id="", sent_at=None)
    sid = "SM" + "b" * 32

    response = _sms_status(
        hooks, {"MessageSid": sid, "MessageStatus": "delivered"}, query=f"message={message.public_id}"
    )
    # The worker then records the provider's answer.
    delivery.record_sent(message, sid)

    assert response.status_code == 200
    message.refresh_from_db()
    assert message.provider_message_id == sid
    assert message.status == OutboundMessage.Status.DELIVERED
    assert message.sent_at is not None


@pytest.mark.django_db
def test_the_public_id_does_not_let_a_report_take_over_a_message_that_has_its_id(hooks, case):
    message = _message(case)

    _sms_status(hooks, {"MessageSid": "SM" + "c" * 32, "MessageStatus": "failed"}, query=f"message={message.public_id}")

    message.refresh_from_db()
    assert message.status == OutboundMessage.Status.SENT
    assert message.provider_message_id == "SM" + "a" * 32


@pytest.mark.django_db
def test_sms_reports_are_refused_when_no_provider_is_set_up(hooks, settings, case):
    settings.SMS_BACKEND, settings.SMS_OPTIONS = "", {}
    message = _message(case)

    response = _sms_status(hooks, {"MessageSid": message.provider_message_id, "MessageStatus": "delivered"})

    assert response.status_code == 403


@pytest.mark.django_db
def test_reports_are_posted_only(hooks):
    assert hooks.get(SMS_STATUS_PATH).status_code == 405
    assert hooks.get(reverse("hooks:email_events")).status_code == 405


# ---------- Email events ----------


def _email(case, **fields) -> OutboundMessage:
    values = {
        "channel": "email",
        "subject": "Your plan",
        "provider_message_id": "<" + "d" * 40 + "@clearplan.localhost>",
        **fields,
    }
    return _message(case, **values)


@pytest.mark.django_db
def test_a_signed_email_event_marks_the_email_delivered(hooks, case):
    message = _email(case)

    response = _email_event(hooks, {"message_id": message.provider_message_id, "event": "delivered"})

    assert response.status_code == 200
    assert response.json() == {"recorded": True}
    message.refresh_from_db()
    assert message.status == OutboundMessage.Status.DELIVERED


@pytest.mark.django_db
def test_a_bounce_is_recorded_with_a_reason_staff_understand_and_never_the_relays_words(hooks, case):
    message = _email(case)
    bare_id = message.provider_message_id.strip("<>")

    _email_event(hooks, {"message_id": bare_id, "event": "bounced", "reason": "no_such_user"})
    _email_event(hooks, {"message_id": bare_id, "event": "delivered"})

    message.refresh_from_db()
    assert message.status == OutboundMessage.Status.BOUNCED
    assert message.failure_kind == "email_bounced"
    assert message.failure_detail_for_staff == "The patient's email address doesn't exist at their email provider."
    assert message.failure_next_step == "Check the email address on the patient's record and send again."

    other = _email(case, provider_message_id="<" + "e" * 40 + "@clearplan.localhost>")
    _email_event(
        hooks,
        {"message_id": other.provider_message_id, "event": "failed", "reason": "550 mere.ngata@example.com unknown"},
    )
    other.refresh_from_db()
    assert other.status == OutboundMessage.Status.FAILED
    assert other.failure_detail_for_staff == "The email could not be delivered."


@pytest.mark.django_db
def test_a_bounce_after_delivery_is_still_recorded(hooks, case):
    message = _email(case, status="delivered")

    _email_event(hooks, {"message_id": message.provider_message_id, "event": "bounced", "reason": "mailbox_full"})

    message.refresh_from_db()
    assert message.status == OutboundMessage.Status.BOUNCED
    assert message.failure_detail_for_staff == "The patient's mailbox is full."


@pytest.mark.django_db
def test_email_events_with_a_wrong_or_missing_signature_are_refused(hooks, case):
    message = _email(case)
    report = {"message_id": message.provider_message_id, "event": "bounced"}

    assert _email_event(hooks, report, secret="not-the-secret").status_code == 403
    assert _email_event(hooks, report, signature="").status_code == 403
    assert _email_event(hooks, report, signature="sha256=" + "0" * 64).status_code == 403
    message.refresh_from_db()
    assert message.status == OutboundMessage.Status.SENT


@pytest.mark.django_db
def test_email_events_are_refused_while_no_secret_is_set(hooks, settings, case):
    settings.EMAIL_EVENTS_SECRET = ""
    message = _email(case)

    response = _email_event(hooks, {"message_id": message.provider_message_id, "event": "bounced"}, secret="")

    assert response.status_code == 403


@pytest.mark.django_db
def test_an_email_event_for_an_unknown_message_is_answered_and_ignored(hooks):
    response = _email_event(hooks, {"message_id": "<unknown@example.com>", "event": "bounced"})

    assert response.status_code == 200
    assert response.json() == {"recorded": False}


@pytest.mark.django_db
def test_an_email_event_that_is_not_a_report_is_refused_as_bad(hooks):
    body = b"not json"
    response = hooks.post(
        reverse("hooks:email_events"),
        body,
        content_type="application/json",
        HTTP_X_CLEARPLAN_SIGNATURE=email_events_signature(EMAIL_SECRET, body),
    )
    assert response.status_code == 400
    assert _email_event(hooks, {"message_id": 5, "event": "bounced"}).status_code == 400
