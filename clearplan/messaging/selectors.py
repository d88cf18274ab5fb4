"""Reading the demo outbox: only the messages stamped with the reader's organisation."""

from __future__ import annotations

import email
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.parser import BytesHeaderParser
from typing import TYPE_CHECKING

from clearplan.messaging.outbox import MESSAGE_NAME, ORGANISATION_HEADER, SUFFIX, message_path, outbox_directory

if TYPE_CHECKING:
    from email.message import Message
    from pathlib import Path

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
