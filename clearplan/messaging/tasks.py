"""Background tasks for outgoing messages: `deliver_message` for patient and clinic messages
(OutboundMessage rows, by SMS or email), and `send_email` for staff emails (invitations,
password resets) queued by `email_send_later`.

Emails can carry health information and sign-in links, so nothing here writes an address,
a subject or a message body to the log or into a stored error: log lines name the message
by a random reference, and failures by the kind of error and the mail server's reply code.
The message itself is stored as the task's arguments only until the task finishes; then it
is replaced by a note carrying the reference (see `forget_arguments_when_finished`).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.utils import timezone
from django_tasks import task

from clearplan.lib.background import can_schedule_later, forget_arguments_when_finished, retry_later
from clearplan.lib.retry import RetryPolicy
from clearplan.messaging import delivery
from clearplan.messaging.delivery import DeliveryFailed, failure_kind, is_transient
from clearplan.messaging.failures import Failure
from clearplan.messaging.models import OutboundMessage

__all__ = [
    "deliver_message",
    "failure_kind",
    "is_transient",
    "receive_sms",
    "requeue_stranded_messages",
    "send_email",
]

logger = logging.getLogger("clearplan.messaging.email")

EMAIL_RETRY_POLICY = RetryPolicy()


class EmailNotDelivered(Exception):
    """An email was given up on. The message names the reference and the kind of failure only."""


class EmailDeliveryDeferred(Exception):
    """One attempt failed and a later attempt is queued. Raised so the attempt is recorded
    as failed, with a message that carries no personal data."""


@task(queue_name="email")
def send_email(
    *,
    to: list[str],
    subject: str,
    text: str,
    html: str | None,
    reply_to: list[str],
    message_id: str,
    reference: str,
    attempt: int = 1,
) -> str:
    """Hand one message to the configured email backend (settings.EMAIL_BACKEND).

    Queued by `clearplan.messaging.services.email_send_later`; retries itself on transient
    failures following EMAIL_RETRY_POLICY. The Message-ID stays the same on every attempt,
    so a mail program can recognise a repeat should a worker stop between sending and
    recording that it sent.
    """
    message = EmailMultiAlternatives(
        subject=subject, body=text, to=to, reply_to=reply_to, headers={"Message-ID": message_id}
    )
    if html:
        message.attach_alternative(html, "text/html")
    try:
        message.send(fail_silently=False)
    except Exception as error:
        kind = failure_kind(error)
        max_attempts = EMAIL_RETRY_POLICY.max_attempts
        if not is_transient(error):
            logger.error("Email %s could not be sent and will not be retried (%s)", reference, kind)
            raise EmailNotDelivered(f"Email {reference} could not be sent and will not be retried ({kind}).") from None
        if not can_schedule_later(send_email):
            logger.error("Email %s could not be sent (%s); this task backend cannot retry later", reference, kind)
            raise EmailNotDelivered(f"Email {reference} could not be sent ({kind}); no retry possible.") from None
        next_attempt_at = retry_later(
            send_email,
            attempt=attempt,
            policy=EMAIL_RETRY_POLICY,
            kwargs={
                "to": to,
                "subject": subject,
                "text": text,
                "html": html,
                "reply_to": reply_to,
                "message_id": message_id,
                "reference": reference,
            },
        )
        if next_attempt_at is None:
            logger.error(
                "Email %s could not be delivered after %d attempts and has been given up (%s)",
                reference,
                attempt,
                kind,
            )
            raise EmailNotDelivered(
                f"Email {reference} could not be delivered after {attempt} attempts ({kind})."
            ) from None
        logger.warning(
            "Email %s attempt %d of %d failed (%s); trying again at %s",
            reference,
            attempt,
            max_attempts,
            kind,
            next_attempt_at.isoformat(timespec="seconds"),
        )
        raise EmailDeliveryDeferred(
            f"Email {reference} attempt {attempt} of {max_attempts} failed ({kind}); "
            f"next attempt at {next_attempt_at.isoformat(timespec='seconds')}."
        ) from None
    logger.info("Email %s delivered on attempt %d", reference, attempt)
    return "delivered"


forget_arguments_when_finished(send_email, keep=("reference", "attempt"))


# ---------- Messages (OutboundMessage) ----------

MESSAGE_RETRY_POLICY = RetryPolicy()
logger_messages = logging.getLogger("clearplan.messaging.delivery")


class MessageNotDelivered(Exception):
    """A message was given up on. The text names the message's reference and the kind of failure only."""


class MessageDeliveryDeferred(Exception):
    """One try failed and a later one is queued; raised so the task row records the failed try."""


@task(queue_name="email")
def deliver_message(*, message_id: str, attempt: int = 1) -> str:
    """Send one OutboundMessage (its public id) exactly once: see clearplan/messaging/delivery.py.

    Queued by `message_send`; transient failures are tried again following MESSAGE_RETRY_POLICY,
    counting every try of the message, those cut short by a stopped worker included. `attempt`
    numbers the task's own runs for the task table only.
    """
    message = delivery.claim(message_id)
    if message is None:
        return "nothing to send"
    reference = message.reference
    try:
        provider_message_id = delivery.hand_to_provider(message)
    except DeliveryFailed as failed:
        failure = failed.failure
        if not failure.transient:
            delivery.record_failure(message, failure)
            logger_messages.error("Message %s was refused and will not be retried (%s)", reference, failure.kind)
            raise MessageNotDelivered(f"Message {reference} was refused ({failure.kind}).") from None
        with transaction.atomic():
            next_attempt_at = retry_later(
                deliver_message,
                attempt=message.attempts,
                policy=MESSAGE_RETRY_POLICY,
                kwargs={"message_id": message_id},
            )
            if next_attempt_at is None:
                delivery.record_failure(message, delivery.gave_up(message, failure))
            else:
                delivery.record_retry(message, failure, next_attempt_at=next_attempt_at)
        if next_attempt_at is None:
            logger_messages.error(
                "Message %s could not be sent after %d tries and has been given up (%s)",
                reference,
                message.attempts,
                failure.kind,
            )
            raise MessageNotDelivered(
                f"Message {reference} could not be sent after {message.attempts} tries ({failure.kind})."
            ) from None
        logger_messages.warning(
            "Message %s try %d of %d failed (%s); trying again at %s",
            reference,
            message.attempts,
            MESSAGE_RETRY_POLICY.max_attempts,
            failure.kind,
            next_attempt_at.isoformat(timespec="seconds"),
        )
        raise MessageDeliveryDeferred(
            f"Message {reference} try {message.attempts} failed ({failure.kind}); "
            f"next try at {next_attempt_at.isoformat(timespec='seconds')}."
        ) from None
    delivery.record_sent(message, provider_message_id)
    logger_messages.info("Message %s sent on try %d", reference, message.attempts)
    return "sent"


# How long a message may be due without a task to send it before the worker's upkeep queues one.
STRANDED_AFTER = timedelta(minutes=2)
_STRANDED_BATCH = 200


def requeue_stranded_messages(*, older_than: timedelta = STRANDED_AFTER) -> int:
    """Queue a delivery task for each message that is due (or was being sent) but has no task
    waiting or running for it: its task was never queued (the process stopped right after the
    commit), or was marked failed after its worker stopped several times. A message whose tries
    are used up is marked failed instead. Returns how many messages were queued or failed.

    Runs in the worker's upkeep after abandoned tasks are handed back, so a message whose worker
    died is normally retried by its own task, and this finds nothing.
    """
    from django_tasks.base import TaskResultStatus
    from django_tasks_db.backend import DatabaseBackend
    from django_tasks_db.models import DBTaskResult

    if not isinstance(deliver_message.get_backend(), DatabaseBackend):
        return 0
    due = list(
        OutboundMessage.objects.filter(
            status__in=delivery.TO_BE_SENT, send_after__lte=timezone.now() - older_than
        ).only("id", "public_id", "status", "attempts", "channel")[:_STRANDED_BATCH]
    )
    if not due:
        return 0
    pending = DBTaskResult.objects.filter(
        task_path=deliver_message.module_path,
        status__in=[TaskResultStatus.READY, TaskResultStatus.RUNNING],
    ).values_list("args_kwargs", flat=True)
    waiting = {str((stored or {}).get("kwargs", {}).get("message_id")) for stored in pending}
    handled = 0
    for message in due:
        if str(message.public_id) in waiting:
            continue
        if message.attempts >= MESSAGE_RETRY_POLICY.max_attempts:
            delivery.record_failure(
                message,
                Failure(
                    kind="worker_lost",
                    detail_for_staff="Clearplan stopped while sending this message several times, "
                    "so it was not sent again.",
                ),
            )
            logger_messages.error("Message %s was given up after its worker stopped too often", message.reference)
        else:
            deliver_message.enqueue(message_id=str(message.public_id), attempt=message.attempts + 1)
            logger_messages.warning("Message %s had no task to send it; queued one", message.reference)
        handled += 1
    return handled


@task()
def receive_sms(*, received_id: int) -> str:
    """Put a text message the webhook kept into its patient's thread (see
    clearplan/messaging/conversations/sms_inbound.py). Running it twice changes nothing."""
    from clearplan.messaging.conversations.sms_inbound import received_sms_process

    done = received_sms_process(received_id=received_id)
    return "processed" if done is not None else "already processed"
