"""Reads: the demo outbox (only what belongs to the reader's organisation) and the messages on a case."""

from __future__ import annotations

import email
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.parser import BytesHeaderParser
from typing import TYPE_CHECKING

from clearplan.messaging.models import OutboundMessage
from clearplan.messaging.outbox import MESSAGE_NAME, ORGANISATION_HEADER, SUFFIX, message_path, outbox_directory
from clearplan.messaging.sms import SMS_OUTBOX_NAME, SMS_OUTBOX_SUFFIX, sms_outbox_directory

if TYPE_CHECKING:
    from email.message import Message
    from pathlib import Path

    from django.db.models import QuerySet

    from clearplan.plans.models import Case

OUTBOX_PAGE_SIZE = 200


@dataclass(frozen=True)
class OutboxSummary:
    name: str
    to: str
    subject: str
    sent_at: datetime


@dataclass(frozen=True)
class OutboxMessage:
    name: str
    to: str
    reply_to: str
    sender: str
    subject: str
    sent_at: datetime
    text: str
    has_html: bool


@dataclass(frozen=True)
class OutboxListing:
    messages: list[OutboxSummary]
    total: int


def _sent_at(path: Path) -> datetime:
    # The file's own time, to the nanosecond, orders messages sent within the same second.
    return datetime.fromtimestamp(path.stat().st_mtime_ns / 1e9, tz=UTC)


def _message_files() -> list[tuple[int, Path]]:
    directory = outbox_directory()
    if not directory.is_dir():
        return []
    files = []
    for path in directory.iterdir():
        if path.suffix != SUFFIX or not MESSAGE_NAME.fullmatch(path.stem):
            continue
        try:
            files.append((path.stat().st_mtime_ns, path))
        except FileNotFoundError:
            continue
    files.sort(key=lambda item: (item[0], item[1].name), reverse=True)
    return files


def _belongs_to(headers: Message, organisation: str) -> bool:
    return bool(organisation) and str(headers.get(ORGANISATION_HEADER, "")).strip() == organisation


def outbox_messages(*, organisation: str, limit: int = OUTBOX_PAGE_SIZE) -> OutboxListing:
    """The newest `limit` messages sent to people of the organisation (its public id),
    newest first, read from their headers only."""
    parser = BytesHeaderParser(policy=policy.default)
    summaries: list[OutboxSummary] = []
    total = 0
    for modified_ns, path in _message_files():
        try:
            with path.open("rb") as handle:
                headers = parser.parse(handle)
        except FileNotFoundError:
            continue
        if not _belongs_to(headers, organisation):
            continue
        total += 1
        if len(summaries) < limit:
            summaries.append(
                OutboxSummary(
                    name=path.stem,
                    to=str(headers.get("To", "")),
                    subject=str(headers.get("Subject", "")),
                    sent_at=datetime.fromtimestamp(modified_ns / 1e9, tz=UTC),
                )
            )
    return OutboxListing(messages=summaries, total=total)


def outbox_message(name: str, *, organisation: str) -> OutboxMessage | None:
    """One message by its file name, or None if there is no such message for the organisation."""
    path = message_path(name)
    if path is None:
        return None
    try:
        content = path.read_bytes()
        sent_at = _sent_at(path)
    except (FileNotFoundError, IsADirectoryError):
        return None
    message = email.message_from_bytes(content, policy=policy.default)
    if not _belongs_to(message, organisation):
        return None
    text_part = message.get_body(preferencelist=("plain",))
    html_part = message.get_body(preferencelist=("html",))
    return OutboxMessage(
        name=name,
        to=str(message.get("To", "")),
        reply_to=str(message.get("Reply-To", "")),
        sender=str(message.get("From", "")),
        subject=str(message.get("Subject", "")),
        sent_at=sent_at,
        text=text_part.get_content() if text_part is not None else "",
        has_html=html_part is not None and html_part is not text_part,
    )


# ---------- Text messages in the demo outbox ----------


@dataclass(frozen=True)
class OutboxText:
    name: str
    to: str
    body: str
    sent_at: datetime


def outbox_texts(*, organisation: str, limit: int = OUTBOX_PAGE_SIZE) -> list[OutboxText]:
    """The newest `limit` text messages sent by the organisation's clinics (its public id), newest first."""
    directory = sms_outbox_directory()
    if not organisation or not directory.is_dir():
        return []
    texts = []
    for path in directory.iterdir():
        if path.suffix != SMS_OUTBOX_SUFFIX or not SMS_OUTBOX_NAME.fullmatch(path.stem):
            continue
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
            sent_at = datetime.fromisoformat(record["sent_at"])
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if not isinstance(record, dict) or record.get("organisation") != organisation:
            continue
        texts.append(
            OutboxText(name=path.stem, to=str(record.get("to", "")), body=str(record.get("body", "")), sent_at=sent_at)
        )
    texts.sort(key=lambda text: (text.sent_at, text.name), reverse=True)
    return texts[:limit]


# ---------- Messages on a case ----------


def messages_for_case(*, case: Case) -> QuerySet[OutboundMessage]:
    """Every message about the case, newest first, with what the case page shows alongside."""
    return OutboundMessage.objects.filter(case=case).select_related("sender", "clinic").order_by("-created_at", "-id")


def failed_messages_for_case(*, case: Case) -> QuerySet[OutboundMessage]:
    """The case's messages that were not delivered (failed or bounced), newest first."""
    return messages_for_case(case=case).filter(
        status__in=[OutboundMessage.Status.FAILED, OutboundMessage.Status.BOUNCED]
    )
