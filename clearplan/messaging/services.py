"""Sending messages. Every outgoing email goes through `email_send_later`, so it is sent by
the background worker, retried when the mail server is unreachable, and never sent for a
change that was rolled back."""

from __future__ import annotations

import logging
import secrets
from email.utils import getaddresses, make_msgid, parseaddr
from functools import partial
from typing import TypedDict

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction

from clearplan.messaging.tasks import send_email

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


def _message_id_domain() -> str:
    sender = parseaddr(settings.DEFAULT_FROM_EMAIL)[1]
    return sender.rpartition("@")[2] or "clearplan.localhost"


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
        "message_id": make_msgid(domain=_message_id_domain()),
        "reference": reference,
    }
    transaction.on_commit(partial(_enqueue, reference, task_kwargs))


def _enqueue(reference: str, task_kwargs: _EmailTaskArguments) -> None:
    result = send_email.enqueue(**task_kwargs)
    logger.info("Email %s queued as task %s", reference, result.id)
