"""Sending messages.

- `message_send` is how Clearplan writes to patients (and about them): an OutboundMessage row
  per message, by SMS or email, sent now or later by the background worker exactly once, with
  its delivery recorded from the provider's reports and failures shown on the case.
- `email_send_later` sends staff emails that belong to no clinic's records (invitations,
  password resets): queued, retried, never sent for a change that was rolled back.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import uuid
from email.utils import getaddresses, make_msgid
from functools import partial
from typing import TYPE_CHECKING, TypedDict

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from clearplan.audit.models import AuditEvent
from clearplan.audit.services import audit_record
from clearplan.lib.background import can_schedule_later
from clearplan.messaging.conversations.services import THREAD_PURPOSES, outbound_copy
from clearplan.messaging.delivery import message_id_domain, tell_the_team_it_failed
from clearplan.messaging.failures import Failure, email_event_failure, sms_undelivered
from clearplan.messaging.models import EmailOptOut, OutboundMessage, SmsOptOut
from clearplan.messaging.sms import NOT_SET_UP_MESSAGE, sms_configured
from clearplan.messaging.tasks import deliver_message, send_email
from clearplan.patients.phones import InvalidPhoneNumber, mobile_to_e164

if TYPE_CHECKING:
    from datetime import datetime

    from clearplan.accounts.models import Clinic, User
    from clearplan.patients.models import Patient
    from clearplan.plans.models import Case

logger = logging.getLogger("clearplan.messaging.email")

# A subject line longer than this is cut by most mail programs anyway, and a body beyond
# a few hundred kilobytes is a mistake (a file pasted in), not a message.
MAX_SUBJECT_LENGTH = 250
MAX_TEXT_LENGTH = 500_000
MAX_RECIPIENTS = 50


class _EmailTaskArguments(TypedDict):
    """What the send_email task is queued with; its keyword arguments, stored with the task."""

    to: list[str]
    subject: str
    text: str
    html: str | None
    reply_to: list[str]
    message_id: str
    reference: str


def _clean_addresses(addresses: list[str], *, what: str, required: bool) -> list[str]:
    """Each entry is one address, bare (`sam@example.com`) or with a name
    (`Sam Lee <sam@example.com>`). The error messages never repeat the address itself,
    because they may end up in an error log."""
    if isinstance(addresses, str):
        raise ValidationError(f"Give the {what} addresses as a list.", code="not_a_list")
    cleaned = [address.strip() for address in addresses]
    if required and not cleaned:
        raise ValidationError(f"An email needs at least one {what}.", code="required")
    if len(cleaned) > MAX_RECIPIENTS:
        raise ValidationError(f"An email can have at most {MAX_RECIPIENTS} {what} addresses.", code="too_many")
    for position, address in enumerate(cleaned, start=1):
        parsed = getaddresses([address])
        valid = "\n" not in address and "\r" not in address and len(parsed) == 1 and parsed[0][1]
        if valid:
            try:
                validate_email(parsed[0][1])
            except ValidationError:
                valid = False
        if not valid:
            raise ValidationError(f"{what.capitalize()} {position} is not a valid email address.", code="invalid")
    return cleaned


def email_send_later(
    *,
    to: list[str],
    subject: str,
    text: str,
    html: str | None = None,
    reply_to: list[str] | None = None,
) -> None:
    """Queue an email to be sent by the background worker once the current database
    transaction commits (at once when there is none).

    `text` is the plain-text body, always sent; `html` an optional formatted version of the
    same content. Raises ValidationError for an invalid address, an empty or multi-line
    subject or an empty body, before anything is queued.
    """
    recipients = _clean_addresses(to, what="recipient", required=True)
    reply_to_addresses = _clean_addresses(reply_to or [], what="reply-to", required=False)
    subject = subject.strip()
    if not subject:
        raise ValidationError("An email needs a subject.", code="required")
    if "\n" in subject or "\r" in subject:
        raise ValidationError("An email subject must be on one line.", code="invalid")
    if len(subject) > MAX_SUBJECT_LENGTH:
        raise ValidationError(f"An email subject can be at most {MAX_SUBJECT_LENGTH} characters.", code="too_long")
    if not text.strip():
        raise ValidationError("An email needs a plain-text body.", code="required")
    if len(text) > MAX_TEXT_LENGTH or (html is not None and len(html) > MAX_TEXT_LENGTH):
        raise ValidationError("This email is too long to send.", code="too_long")

    # The reference names the message in log lines instead of its addresses or subject.
    reference = secrets.token_hex(6)
    task_kwargs: _EmailTaskArguments = {
        "to": recipients,
        "subject": subject,
        "text": text,
        "html": html or None,
        "reply_to": reply_to_addresses,
        "message_id": make_msgid(domain=message_id_domain()),
        "reference": reference,
    }
    transaction.on_commit(partial(_enqueue, reference, task_kwargs))


def _enqueue(reference: str, task_kwargs: _EmailTaskArguments) -> None:
    result = send_email.enqueue(**task_kwargs)
    logger.info("Email %s queued as task %s", reference, result.id)


# ---------- Messages to patients: OutboundMessage ----------

SMS_MAX_LENGTH = 1600  # Twilio's limit for one message (it is split into parts on the way)
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
MAX_ATTACHMENT_NAME_LENGTH = 150
_MIME_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*$")
MESSAGE_RECORD_TYPE = "outbound_message"

Attachment = tuple[str, bytes, str]


def _clean_email_address(address: str, *, field: str, what: str) -> str:
    address = (address or "").strip()
    try:
        if not address or "\n" in address or "\r" in address or len(address) > 254:
            raise ValidationError("invalid")
        validate_email(address)
    except ValidationError:
        raise ValidationError({field: f"Enter a valid email address for {what}."}, code="invalid") from None
    return address


def _clean_attachment(attachment: Attachment) -> tuple[str, bytes, str]:
    try:
        filename, content, mime_type = attachment
    except (TypeError, ValueError):
        raise ValidationError(
            {"attachment": "Give the attachment as (file name, contents, type)."}, code="invalid"
        ) from None
    name = "".join(ch for ch in os.path.basename(str(filename).replace("\\", "/")) if ch.isprintable()).strip()
    if not name or name in {".", ".."}:
        raise ValidationError({"attachment": "The attachment needs a file name."}, code="required")
    if len(name) > MAX_ATTACHMENT_NAME_LENGTH:
        stem, dot, extension = name.rpartition(".")
        name = (stem[: MAX_ATTACHMENT_NAME_LENGTH - len(extension) - 1] + dot + extension) if dot else name[:150]
    if not isinstance(content, bytes) or not content:
        raise ValidationError({"attachment": "The attachment is empty."}, code="required")
    if len(content) > MAX_ATTACHMENT_BYTES:
        raise ValidationError(
            {"attachment": f"The attachment is larger than {MAX_ATTACHMENT_BYTES // (1024 * 1024)} MB."},
            code="too_large",
        )
    mime_type = str(mime_type).strip().lower()
    if not _MIME_TYPE.match(mime_type) or len(mime_type) > 100:
        raise ValidationError({"attachment": "The attachment's type is not a file type."}, code="invalid")
    return name, content, mime_type


def _check_records(*, clinic: Clinic, patient: Patient | None, case: Case | None) -> Patient | None:
    if case is not None:
        if case.clinic_id != clinic.pk:
            raise ValidationError("This case belongs to another clinic.", code="wrong_clinic")
        if patient is None:
            patient = case.patient
        elif case.patient_id != patient.pk:
            raise ValidationError("This case belongs to another patient.", code="wrong_patient")
    if patient is not None and patient.clinic_id != clinic.pk:
        raise ValidationError("This patient belongs to another clinic.", code="wrong_clinic")
    return patient


def _clean_sms(*, clinic: Clinic, to: str, body: str, subject: str, html: str | None, attachment: object) -> str:
    if not sms_configured():
        raise ValidationError({"channel": NOT_SET_UP_MESSAGE}, code="sms_not_set_up")
    if subject or html or attachment:
        raise ValidationError("A text message has no subject, formatted version or attachment.", code="invalid")
    try:
        mobile = mobile_to_e164(to, country=clinic.country)
    except InvalidPhoneNumber as error:
        raise ValidationError({"to": error.message}, code="invalid") from None
    if not mobile:
        raise ValidationError({"to": "There is no mobile number to send to."}, code="required")
    if len(body) > SMS_MAX_LENGTH:
        raise ValidationError(
            {"body": f"A text message can be at most {SMS_MAX_LENGTH} characters; this one has {len(body)}."},
            code="too_long",
        )
    return mobile


def _clean_email(*, to: str, subject: str, body: str, html: str | None) -> tuple[str, str]:
    address = _clean_email_address(to, field="to", what="the recipient")
    subject = (subject or "").strip()
    if not subject:
        raise ValidationError({"subject": "An email needs a subject."}, code="required")
    if "\n" in subject or "\r" in subject:
        raise ValidationError({"subject": "An email subject must be on one line."}, code="invalid")
    if len(subject) > MAX_SUBJECT_LENGTH:
        raise ValidationError(
            {"subject": f"An email subject can be at most {MAX_SUBJECT_LENGTH} characters."}, code="too_long"
        )
    if len(body) > MAX_TEXT_LENGTH or (html is not None and len(html) > MAX_TEXT_LENGTH):
        raise ValidationError({"body": "This email is too long to send."}, code="too_long")
    return address, subject


def message_send(
    *,
    clinic: Clinic,
    channel: str,
    to: str,
    body: str,
    purpose: str,
    subject: str = "",
    html: str | None = None,
    patient: Patient | None = None,
    case: Case | None = None,
    sender: User | None = None,
    send_after: datetime | None = None,
    reply_to: str | None = None,
    attachment: Attachment | None = None,
) -> OutboundMessage:
    """Record a message from `clinic` and have the background worker send it once the current
    transaction commits: at once, or at `send_after` when that is in the future (status
    `scheduled`, which `message_cancel` can still stop).

    `to` is a mobile number for SMS (typed or E.164; read in the clinic's country and stored in
    E.164) or an email address. An email comes from the clinic's name at DEFAULT_FROM_EMAIL's
    address, with replies going to the clinic's email (when it has one) and `reply_to`.
    `attachment` is (file name, contents, MIME type), email only. `sender` is the team member
    the message names. Raises ValidationError, keyed by argument name where one is to blame,
    before anything is saved or queued.
    """
    Channel, Purpose = OutboundMessage.Channel, OutboundMessage.Purpose
    if channel not in Channel.values:
        raise ValidationError({"channel": "Choose SMS or email."}, code="invalid")
    if purpose not in Purpose.values:
        raise ValidationError("Unknown message purpose.", code="invalid")
    body = (body or "").strip()
    if not body:
        raise ValidationError({"body": "The message is empty."}, code="required")
    patient = _check_records(clinic=clinic, patient=patient, case=case)
    if send_after is not None and timezone.is_naive(send_after):
        raise ValidationError({"send_after": "Give the sending time with its time zone."}, code="invalid")

    cleaned_attachment = None
    reply_addresses: list[str] = []
    if channel == Channel.SMS:
        address = _clean_sms(clinic=clinic, to=to, body=body, subject=subject, html=html, attachment=attachment)
        subject, html = "", None
    else:
        address, subject = _clean_email(to=to, subject=subject, body=body, html=html)
        thread_address = _thread_reply_address(patient, purpose)
        if thread_address:
            # The patient's reply comes back into their conversation rather than a separate mailbox.
            reply_addresses.append(thread_address)
        elif clinic.email:
            reply_addresses.append(clinic.email)
        if reply_to:
            extra = _clean_email_address(reply_to, field="reply_to", what="replies")
            if extra.lower() not in {known.lower() for known in reply_addresses}:
                reply_addresses.append(extra)
        if attachment is not None:
            cleaned_attachment = _clean_attachment(attachment)

    _refuse_opted_out(clinic=clinic, channel=channel, address=address, purpose=purpose)
    now = timezone.now()
    scheduled = send_after is not None and send_after > now
    with transaction.atomic():
        message = OutboundMessage(
            clinic=clinic,
            patient=patient,
            case=case,
            channel=channel,
            purpose=purpose,
            to_address=address,
            sender=sender,
            subject=subject,
            body=body,
            html=html or None,
            reply_to=", ".join(reply_addresses),
            status=OutboundMessage.Status.SCHEDULED if scheduled else OutboundMessage.Status.QUEUED,
            send_after=send_after if scheduled and send_after is not None else now,
        )
        if cleaned_attachment is not None:
            name, content, mime_type = cleaned_attachment
            message.attachment_name, message.attachment_type = name, mime_type
            message.attachment.save(name, ContentFile(content), save=False)
        message.save()
        audit_record(
            action=AuditEvent.Action.CREATE,
            actor=sender,
            clinic=clinic,
            obj=message,
            object_type=MESSAGE_RECORD_TYPE,
            changes={
                "channel": channel,
                "purpose": purpose,
                "case": str(case.public_id) if case is not None else None,
                "patient": str(patient.public_id) if patient is not None else None,
                "send_after": message.send_after.isoformat() if scheduled else None,
                "attachment": bool(cleaned_attachment),
            },
        )
        outbound_copy(message=message)
        transaction.on_commit(
            partial(_enqueue_delivery, message.public_id, message.send_after if scheduled else None), robust=True
        )
    return message


# Messages that still go to an opted-out number or address: a code the patient asked for to open
# their pack, and messages to staff.
_ALWAYS_SENT = frozenset({OutboundMessage.Purpose.VERIFICATION_CODE, OutboundMessage.Purpose.STAFF_NOTIFICATION})


def _refuse_opted_out(*, clinic: Clinic, channel: str, address: str, purpose: str) -> None:
    if purpose in _ALWAYS_SENT:
        return
    if channel == OutboundMessage.Channel.SMS and SmsOptOut.objects.filter(number=address).exists():
        raise ValidationError(
            {"to": "This mobile number asked not to get text messages (they replied STOP). Use email, or call them."},
            code="opted_out",
        )
    if (
        channel == OutboundMessage.Channel.EMAIL
        and purpose != OutboundMessage.Purpose.DIGEST
        and EmailOptOut.objects.filter(clinic=clinic, address=address.lower()).exists()
    ):
        raise ValidationError(
            {"to": "This email address unsubscribed from the clinic's emails. Use SMS, or call them."},
            code="opted_out",
        )


def _thread_reply_address(patient: Patient | None, purpose: str) -> str:
    if patient is None or purpose not in THREAD_PURPOSES:
        return ""
    from clearplan.messaging.conversations.services import conversation_for_patient, reply_address

    return reply_address(conversation_for_patient(patient=patient)) if settings.INBOUND_EMAIL_DOMAIN else ""


def _enqueue_delivery(public_id: uuid.UUID, run_after: datetime | None) -> None:
    reference = str(public_id)[:8]
    task = deliver_message
    if run_after is not None:
        if not can_schedule_later(task):
            logger.warning("Message %s is scheduled, but this task backend cannot wait; it was not queued", reference)
            return
        task = task.using(run_after=run_after)
    result = task.enqueue(message_id=str(public_id))
    logger.info("Message %s queued as task %s", reference, result.id)


def message_cancel(*, message: OutboundMessage, by: User) -> OutboundMessage:
    """Stop a scheduled message before it is sent. Raises ValidationError when it is no longer
    scheduled (already being sent, sent, or cancelled)."""
    with transaction.atomic():
        locked = OutboundMessage.objects.select_for_update().get(pk=message.pk)
        if locked.status != OutboundMessage.Status.SCHEDULED:
            if locked.status == OutboundMessage.Status.CANCELLED:
                raise ValidationError("This message was already cancelled.", code="already_cancelled")
            raise ValidationError(
                "This message can no longer be cancelled: it is being sent or has been sent.", code="too_late"
            )
        locked.status = OutboundMessage.Status.CANCELLED
        locked.cancelled_at = timezone.now()
        locked.save(update_fields=["status", "cancelled_at"])
        audit_record(
            action=AuditEvent.Action.UPDATE,
            actor=by,
            clinic=locked.clinic,
            obj=locked,
            object_type=MESSAGE_RECORD_TYPE,
            changes={"status": [OutboundMessage.Status.SCHEDULED.value, OutboundMessage.Status.CANCELLED.value]},
        )
    message.status, message.cancelled_at = locked.status, locked.cancelled_at
    return locked


# ---------- Delivery reports from providers ----------

# Statuses only move forward; a late or repeated report never moves a message back.
_STATUS_ORDER = {
    OutboundMessage.Status.SCHEDULED: 0,
    OutboundMessage.Status.QUEUED: 1,
    OutboundMessage.Status.SENDING: 2,
    OutboundMessage.Status.SENT: 3,
    OutboundMessage.Status.DELIVERED: 4,
    OutboundMessage.Status.FAILED: 5,
    OutboundMessage.Status.BOUNCED: 5,
    OutboundMessage.Status.CANCELLED: 6,
}
# Twilio's MessageStatus values that say something we record.
SMS_REPORTED_STATUSES = {
    "sent": OutboundMessage.Status.SENT,
    "delivered": OutboundMessage.Status.DELIVERED,
    "read": OutboundMessage.Status.DELIVERED,
    "undelivered": OutboundMessage.Status.FAILED,
    "failed": OutboundMessage.Status.FAILED,
}
EMAIL_REPORTED_EVENTS = {
    "delivered": OutboundMessage.Status.DELIVERED,
    "bounced": OutboundMessage.Status.BOUNCED,
    "failed": OutboundMessage.Status.FAILED,
}


def _advance(message: OutboundMessage, status: str, *, failure: Failure | None = None) -> bool:
    """Move a locked message forward to `status`; False when that would be a step back."""
    new = OutboundMessage.Status(status)
    if _STATUS_ORDER[new] <= _STATUS_ORDER[OutboundMessage.Status(message.status)]:
        return False
    now = timezone.now()
    message.status = new
    fields = ["status"]
    if new in {OutboundMessage.Status.SENT, OutboundMessage.Status.DELIVERED} and message.sent_at is None:
        message.sent_at = now
        fields.append("sent_at")
    if new == OutboundMessage.Status.DELIVERED:
        message.delivered_at = now
        fields.append("delivered_at")
    if new in {OutboundMessage.Status.FAILED, OutboundMessage.Status.BOUNCED}:
        message.failed_at = now
        fields.append("failed_at")
        if failure is not None:
            message.failure_kind = failure.kind
            message.failure_detail_for_staff = failure.detail_for_staff[:300]
            fields += ["failure_kind", "failure_detail_for_staff"]
    message.save(update_fields=fields)
    logger.info("Message %s reported %s by its provider", message.reference, new.value)
    if new in {OutboundMessage.Status.FAILED, OutboundMessage.Status.BOUNCED}:
        tell_the_team_it_failed(message)
    return True


def message_record_sms_status(
    *, provider_message_id: str, status: str, error_code: int | None = None, public_id: str = ""
) -> OutboundMessage | None:
    """Record an SMS provider's status report. The message is found by the provider's id, or by
    its public id from the callback address when the provider's id is not recorded yet (the
    report raced the worker). Returns None when no message matches (the report is ignored)."""
    new_status = SMS_REPORTED_STATUSES.get(status.strip().lower())
    if not provider_message_id:
        return None
    with transaction.atomic():
        message = (
            OutboundMessage.objects.select_for_update()
            .filter(channel=OutboundMessage.Channel.SMS, provider_message_id=provider_message_id)
            .first()
        )
        if message is None and public_id:
            try:
                uuid.UUID(public_id)
            except ValueError:
                return None
            message = (
                OutboundMessage.objects.select_for_update()
                .filter(channel=OutboundMessage.Channel.SMS, public_id=public_id, provider_message_id="")
                .first()
            )
            if message is not None:
                message.provider_message_id = provider_message_id[:200]
                message.save(update_fields=["provider_message_id"])
        if message is None:
            return None
        if new_status is not None:
            failure = sms_undelivered(error_code) if new_status == OutboundMessage.Status.FAILED else None
            _advance(message, new_status, failure=failure)
    return message


def message_record_email_event(*, message_id: str, event: str, reason: str = "") -> OutboundMessage | None:
    """Record a mail relay's report for the email with this Message-ID ("<...@...>", angle
    brackets optional). Returns None when no message matches or the event is unknown."""
    new_status = EMAIL_REPORTED_EVENTS.get(event.strip().lower())
    message_id = message_id.strip()
    if new_status is None or not message_id:
        return None
    if not message_id.startswith("<"):
        message_id = f"<{message_id}>"
    with transaction.atomic():
        message = (
            OutboundMessage.objects.select_for_update()
            .filter(channel=OutboundMessage.Channel.EMAIL, provider_message_id=message_id)
            .first()
        )
        if message is None:
            return None
        failure = None
        if new_status != OutboundMessage.Status.DELIVERED:
            failure = email_event_failure(new_status.value, reason.strip().lower())
        _advance(message, new_status, failure=failure)
    return message
