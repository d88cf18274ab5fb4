"""Delivering one OutboundMessage: the steps the `deliver_message` task goes through.

1. `claim`: in its own transaction, with the row locked, a message that is still to be sent
   is marked `sending` and its attempt counted, and that is committed before the provider is
   called. A message already sent, delivered, failed or cancelled is left alone, so a second
   task for the same message does nothing.
2. `hand_to_provider`: the SMS provider gets the message's idempotency key (Twilio's
   `I-Twilio-Idempotency-Token`); an email gets a Message-ID made from it. A message found
   `sending` was interrupted (its worker stopped mid-send); it is tried again with the same
   key, so the provider recognises the repeat instead of sending a second message.
3. `record_sent`, `record_retry` or `record_failure` write the outcome.

Log lines and stored errors name a message by the start of its public id only.
"""

from __future__ import annotations

import logging
import re
import smtplib
from email.utils import formataddr, parseaddr
from html import escape
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from clearplan.messaging.failures import Failure
from clearplan.messaging.models import Channel, Conversation, ConversationMessage, Direction, OutboundMessage
from clearplan.messaging.sms import SmsNotSent, send_sms

if TYPE_CHECKING:
    from datetime import datetime

logger = logging.getLogger("clearplan.messaging.delivery")

Status = OutboundMessage.Status
FINISHED = frozenset({Status.SENT, Status.DELIVERED, Status.FAILED, Status.BOUNCED, Status.CANCELLED})
TO_BE_SENT = frozenset({Status.SCHEDULED, Status.QUEUED, Status.SENDING})


class DeliveryFailed(Exception):
    def __init__(self, failure: Failure) -> None:
        super().__init__(failure.kind)
        self.failure = failure


# ---------- Mail server errors ----------


def failure_kind(error: BaseException) -> str:
    """The error's class and, for a mail server's refusal, its reply codes; never the
    server's words, which often repeat the recipient's address."""
    name = type(error).__name__
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = sorted({str(code) for code, _reply in error.recipients.values()})
        return f"{name} {','.join(codes)}".strip()
    if isinstance(error, smtplib.SMTPResponseException):
        return f"{name} {error.smtp_code}"
    return name


def is_transient(error: BaseException) -> bool:
    """Whether trying the same message again later could succeed.

    Network trouble, time-outs and a mail server's 4xx replies (busy, greylisting, mailbox
    temporarily full) are worth retrying; a 5xx refusal (no such mailbox, message rejected)
    will be refused again. A failed sign-in to the mail server is retried: it is fixed in
    the settings, and retrying gives the practice time to do that before messages are lost.
    """
    if isinstance(error, smtplib.SMTPAuthenticationError):
        return True
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _reply in error.recipients.values()]
        return any(400 <= code < 500 for code in codes)
    if isinstance(error, smtplib.SMTPResponseException):
        return not 500 <= error.smtp_code < 600
    return isinstance(error, smtplib.SMTPException | OSError | TimeoutError)


def email_failure(error: BaseException) -> Failure:
    kind = failure_kind(error)
    if isinstance(error, smtplib.SMTPAuthenticationError):
        return Failure(
            kind=f"email_sign_in_refused_{error.smtp_code}",
            detail_for_staff="The mail server did not accept Clearplan's account details.",
            transient=True,
        )
    if is_transient(error):
        return Failure(
            kind=f"email_unreachable_{kind.replace(' ', '_')}",
            detail_for_staff="Clearplan could not reach the mail server, or it asked to try later.",
            transient=True,
        )
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return Failure(
            kind=f"email_refused_{kind.rpartition(' ')[2]}",
            detail_for_staff="The patient's email address was refused: it may be misspelled or no longer in use.",
        )
    return Failure(
        kind=f"email_refused_{kind.replace(' ', '_')}",
        detail_for_staff="The mail server refused the email.",
    )


# ---------- Addresses ----------


def message_id_domain() -> str:
    sender = parseaddr(settings.DEFAULT_FROM_EMAIL)[1]
    return sender.rpartition("@")[2] or "clearplan.localhost"


def email_message_id(message: OutboundMessage) -> str:
    """The same on every try of the message, so mail programs and our outbox drop a repeat."""
    return f"<{message.idempotency_key}@{message_id_domain()}>"


def email_from(message: OutboundMessage) -> str:
    """The clinic's name with the installation's own sending address; a team member's reply in a
    conversation names them too ("Chloé at Harbour Dental")."""
    name = message.clinic.name
    sender = message.sender
    if message.purpose == OutboundMessage.Purpose.CONVERSATION and sender is not None:
        name = f"{sender.first_name or sender.display_name} at {name}"
    return formataddr((name, parseaddr(settings.DEFAULT_FROM_EMAIL)[1]))


# ---------- Emails to a patient: unsubscribing and threading ----------

_MESSAGE_ID = re.compile(r"^<[^<>\s]+>$")


def for_the_patients_thread(message: OutboundMessage) -> tuple[str, str | None, dict[str, str]]:
    """The text, HTML and extra headers of an email to a patient: an unsubscribe link (in the
    footer, and as List-Unsubscribe with one-click unsubscribe, RFC 8058) and, for a team
    member's reply, In-Reply-To and References naming the patient's last email, so their mail
    program shows one thread. Other emails (codes, staff notices) are sent as they are."""
    from clearplan.messaging.conversations.services import (
        THREAD_PURPOSES,
        conversation_for_patient,
        unsubscribe_url,
    )

    patient = message.patient
    if patient is None or message.purpose not in THREAD_PURPOSES:
        return message.body, message.html, {}
    conversation = conversation_for_patient(patient=patient)
    url = unsubscribe_url(conversation)
    clinic = message.clinic.name
    body = f"{message.body}\n\n--\nDon't want emails from {clinic}? Unsubscribe: {url}"
    html = message.html
    if html:
        footer = (
            f'<p>Don\'t want emails from {escape(clinic)}? Unsubscribe: <a href="{escape(url)}">{escape(url)}</a></p>'
        )
        closing = html.lower().rfind("</body>")
        html = html[:closing] + footer + html[closing:] if closing >= 0 else html + footer
    headers = {"List-Unsubscribe": f"<{url}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
    if message.purpose == OutboundMessage.Purpose.CONVERSATION:
        answering = _patients_last_email_id(conversation, before=message.created_at)
        if answering:
            headers["In-Reply-To"] = answering
            headers["References"] = answering
    return body, html, headers


def _patients_last_email_id(conversation: Conversation, *, before: datetime) -> str:
    found = (
        ConversationMessage.objects.filter(
            conversation=conversation, direction=Direction.INBOUND, channel=Channel.EMAIL, created_at__lte=before
        )
        .exclude(provider_message_id="")
        .order_by("-created_at", "-id")
        .values_list("provider_message_id", flat=True)
        .first()
    )
    # A Message-ID from the patient's mail program goes into a header: only a well-formed one.
    return found if found and _MESSAGE_ID.match(found) else ""


def status_callback_url(message: OutboundMessage) -> str:
    """Where the SMS provider reports delivery. It names the message by its public id too, so
    a report that arrives before the provider's id is recorded still finds its message."""
    return f"{settings.PUBLIC_BASE_URL}{reverse('hooks:sms_status')}?message={message.public_id}"


# ---------- The steps ----------


def claim(message_id: str) -> OutboundMessage | None:
    """Mark the message `sending` and count the attempt, committed before anything is sent;
    None when there is nothing to send (gone, finished, cancelled, or not due yet)."""
    with transaction.atomic():
        message = (
            OutboundMessage.objects.select_for_update(of=("self",))
            .select_related("clinic")
            .filter(public_id=message_id)
            .first()
        )
        if message is None or message.status in FINISHED:
            return None
        if message.status == Status.SCHEDULED and message.send_after > timezone.now():
            return None
        if message.status == Status.SENDING:
            logger.warning(
                "Message %s was being sent when its worker stopped; trying again with the same idempotency key",
                message.reference,
            )
        message.status = Status.SENDING
        message.attempts += 1
        message.save(update_fields=["status", "attempts"])
    return message


def hand_to_provider(message: OutboundMessage) -> str:
    """Send the message; returns the provider's id for it. Raises DeliveryFailed."""
    if message.channel == OutboundMessage.Channel.SMS:
        try:
            return send_sms(message.to_address, message.body, message.idempotency_key, status_callback_url(message))
        except SmsNotSent as error:
            raise DeliveryFailed(error.failure) from None
    message_id = email_message_id(message)
    body, html, thread_headers = for_the_patients_thread(message)
    email = EmailMultiAlternatives(
        subject=message.subject,
        body=body,
        from_email=email_from(message),
        to=[message.to_address],
        reply_to=[address.strip() for address in message.reply_to.split(",") if address.strip()],
        headers={"Message-ID": message_id, **thread_headers},
    )
    if html:
        email.attach_alternative(html, "text/html")
    try:
        if message.attachment:
            with message.attachment.open("rb") as handle:
                email.attach(message.attachment_name, handle.read(), message.attachment_type)
        email.send(fail_silently=False)
    except Exception as error:
        raise DeliveryFailed(email_failure(error)) from None
    return message_id


def record_sent(message: OutboundMessage, provider_message_id: str) -> None:
    """A delivery report may already have moved the message on (delivered); that is kept."""
    with transaction.atomic():
        current = OutboundMessage.objects.select_for_update().get(pk=message.pk)
        fields = []
        if current.status in TO_BE_SENT:
            current.status = Status.SENT
            fields.append("status")
        if not current.sent_at:
            current.sent_at = timezone.now()
            fields.append("sent_at")
        if provider_message_id and not current.provider_message_id:
            current.provider_message_id = provider_message_id[:200]
            fields.append("provider_message_id")
        if fields:
            current.save(update_fields=fields)


def record_retry(message: OutboundMessage, failure: Failure, *, next_attempt_at: datetime) -> None:
    """Back to waiting, with the time of the next try (shown on the case)."""
    OutboundMessage.objects.filter(pk=message.pk, status=Status.SENDING).update(
        status=Status.QUEUED, send_after=next_attempt_at, failure_kind=failure.kind
    )


def record_failure(message: OutboundMessage, failure: Failure) -> None:
    with transaction.atomic():
        changed = OutboundMessage.objects.filter(pk=message.pk, status__in=TO_BE_SENT).update(
            status=Status.FAILED,
            failed_at=timezone.now(),
            failure_kind=failure.kind,
            failure_detail_for_staff=failure.detail_for_staff[:300],
        )
        if changed:
            tell_the_team_it_failed(message)


def tell_the_team_it_failed(message: OutboundMessage) -> None:
    """A message about a patient's case that will not arrive is something the team must act on."""
    case = message.case
    if case is None:
        return
    from clearplan.notifications.services import notify_team

    notify_team(case=case, kind="delivery_failed", text="")


def gave_up(message: OutboundMessage, failure: Failure) -> Failure:
    """The failure recorded when the last try failed for a reason that might have passed."""
    return Failure(
        kind=failure.kind,
        detail_for_staff=(
            f"{failure.detail_for_staff} Clearplan tried {message.attempts} times over about three hours "
            "and has stopped trying."
        ),
    )
