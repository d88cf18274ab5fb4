"""Background tasks for outgoing messages.

Emails can carry health information and sign-in links, so nothing here writes an address,
a subject or a message body to the log or into a stored error: log lines name the message
by a random reference, and failures by the kind of error and the mail server's reply code.
The message itself is stored as the task's arguments only until the task finishes; then it
is replaced by a note carrying the reference (see `forget_arguments_when_finished`).
"""

from __future__ import annotations

import logging
import smtplib

from django.core.mail import EmailMultiAlternatives
from django_tasks import task

from clearplan.lib.background import can_schedule_later, forget_arguments_when_finished, retry_later
from clearplan.lib.retry import RetryPolicy

logger = logging.getLogger("clearplan.messaging.email")

EMAIL_RETRY_POLICY = RetryPolicy()


class EmailNotDelivered(Exception):
    """An email was given up on. The message names the reference and the kind of failure only."""


class EmailDeliveryDeferred(Exception):
    """One attempt failed and a later attempt is queued. Raised so the attempt is recorded
    as failed, with a message that carries no personal data."""


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
