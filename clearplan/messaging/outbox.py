"""The demo outbox: an email backend that keeps each message as an .eml file under
settings.OUTBOX_DIR instead of sending it, so the product can be tried without a mail server.

Chosen with EMAIL_URL=outbox:// (the default when DEBUG or CLEARPLAN_DEMO is on). Managers
read the messages on the Demo outbox page; any mail program opens the files too.
"""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend

from clearplan.lib.email_url import OUTBOX_BACKEND

if TYPE_CHECKING:
    from collections.abc import Sequence

    from django.core.mail import EmailMessage

# A file's name is 32 random hex digits: unguessable, and nothing else can pass for one,
# so a name taken from a URL can never point outside the outbox.
MESSAGE_NAME = re.compile(r"[0-9a-f]{32}")
SUFFIX = ".eml"


def outbox_enabled() -> bool:
    return settings.EMAIL_BACKEND == OUTBOX_BACKEND


def outbox_directory() -> Path:
    return Path(settings.OUTBOX_DIR)


def message_path(name: str) -> Path | None:
    """The file for a message name, or None when the name is not one the outbox gives out."""
    if not isinstance(name, str) or not MESSAGE_NAME.fullmatch(name):
        return None
    directory = outbox_directory().resolve()
    path = (directory / f"{name}{SUFFIX}").resolve()
    if path.parent != directory:
        return None
    return path


class OutboxEmailBackend(BaseEmailBackend):
    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        if not email_messages:
            return 0
        directory = outbox_directory()
        sent = 0
        try:
            directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            for message in email_messages:
                if not message.recipients():
                    continue
                self._write(directory, message.message().as_bytes(linesep="\n"))
                sent += 1
        except OSError:
            if not self.fail_silently:
                raise
        return sent

    @staticmethod
    def _write(directory: Path, content: bytes) -> None:
        name = secrets.token_hex(16)
        # Written under a hidden temporary name and renamed, so the outbox page never reads
        # half a message.
        temporary = directory / f".{name}.tmp"
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(content)
            os.replace(temporary, directory / f"{name}{SUFFIX}")
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
