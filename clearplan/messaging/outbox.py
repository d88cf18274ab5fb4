"""The demo outbox: an email backend that keeps each message as an .eml file under
settings.OUTBOX_DIR instead of sending it, so the product can be tried without a mail server.

Chosen with EMAIL_URL=outbox:// (the default when DEBUG or CLEARPLAN_DEMO is on, and refused
otherwise). Organisation administrators read the messages on the Demo outbox page; any mail
program opens the files too.

The outbox holds sign-in links (invitations, password resets), so each message is stamped at
sending time with the organisation it belongs to, and the page shows an administrator only
their own organisation's messages: a clinic's message to a patient (sent by `message_send`)
belongs to the clinic's organisation; any other email to the organisation its recipients belong
to. A message whose recipients belong to no organisation, or to more than one, is stamped with
none and shown to nobody.

A message is named after its Message-ID (keyed with SECRET_KEY), and the outbox keeps only the
first copy of a message: a message tried again after a worker stopped mid-send carries the same
Message-ID and is dropped, as the patient's own mail program would hide the repeat.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import re
import secrets
from email.utils import getaddresses
from pathlib import Path
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend

from clearplan.lib.email_url import OUTBOX_BACKEND

if TYPE_CHECKING:
    from collections.abc import Sequence

    from django.core.mail import EmailMessage

logger = logging.getLogger("clearplan.messaging.email")

# A file's name is 32 hex digits, random or keyed with SECRET_KEY: unguessable, and nothing
# else can pass for one, so a name taken from a URL can never point outside the outbox.
MESSAGE_NAME = re.compile(r"[0-9a-f]{32}")
SUFFIX = ".eml"
# Which organisation's administrators may read a message: the organisation's public id.
ORGANISATION_HEADER = "X-Clearplan-Organisation"


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


def organisation_of_recipients(addresses: Sequence[str]) -> str | None:
    """The public id of the one organisation every recipient belongs to, or None.

    A recipient belongs to the organisation of the staff account with that address and of
    the clinics with a waiting invitation for it. An address with no such account or
    invitation, an account outside any organisation, or an address claimed by several
    organisations (an account in one, an invitation from another) belongs to none; then so
    does the message.
    """
    from django.db.models.functions import Lower

    from clearplan.accounts.models import Invitation, User

    emails = {email.strip().lower() for _name, email in getaddresses(list(addresses)) if email.strip()}
    if not emails:
        return None
    found: dict[str, set[str | None]] = {}
    accounts = User.objects.annotate(address=Lower("email")).filter(address__in=emails)
    for address, organisation in accounts.values_list("address", "organisation__public_id"):
        found.setdefault(address, set()).add(str(organisation) if organisation else None)
    invited = (
        Invitation.objects.pending()
        .annotate(address=Lower("email"))
        .filter(address__in=emails)
        .values_list("address", "clinic__organisation__public_id")
    )
    for address, organisation in invited:
        found.setdefault(address, set()).add(str(organisation))
    organisations = set()
    for email in emails:
        candidates = found.get(email, {None})
        if len(candidates) != 1:
            return None
        organisations |= candidates
    if len(organisations) != 1 or None in organisations:
        return None
    return organisations.pop()


def organisation_of_clinic_message(message_id: str) -> str | None:
    """The public id of the organisation whose clinic sent this email through `message_send`
    (its Message-ID carries the message's idempotency key), or None for any other email."""
    from clearplan.messaging.models import OutboundMessage

    key = message_id.strip().removeprefix("<").partition("@")[0]
    if not re.fullmatch(r"[0-9a-f]{40}", key):
        return None
    organisation = (
        OutboundMessage.objects.filter(idempotency_key=key, channel=OutboundMessage.Channel.EMAIL)
        .values_list("clinic__organisation__public_id", flat=True)
        .first()
    )
    return str(organisation) if organisation else None


class OutboxEmailBackend(BaseEmailBackend):
    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        if not email_messages:
            return 0
        directory = outbox_directory()
        sent = 0
        try:
            directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            for message in email_messages:
                recipients = message.recipients()
                if not recipients:
                    continue
                content = message.message()
                # Whatever the sender put there, the stamp is worked out here from the recipients.
                del content[ORGANISATION_HEADER]
                organisation = organisation_of_clinic_message(str(content["Message-ID"] or "")) or (
                    organisation_of_recipients(recipients)
                )
                if organisation is not None:
                    content[ORGANISATION_HEADER] = organisation
                self._write(directory, content.as_bytes(linesep="\n"), message_id=str(content["Message-ID"] or ""))
                sent += 1
        except OSError:
            if not self.fail_silently:
                raise
        return sent

    @staticmethod
    def _name(message_id: str) -> str:
        if not message_id:
            return secrets.token_hex(16)
        return hmac.new(settings.SECRET_KEY.encode(), message_id.encode(), hashlib.sha256).hexdigest()[:32]

    @classmethod
    def _write(cls, directory: Path, content: bytes, *, message_id: str = "") -> None:
        if not write_once(directory / f"{cls._name(message_id)}{SUFFIX}", content):
            logger.info("The outbox already holds an email with this Message-ID; the repeat was dropped")


def write_once(path: Path, content: bytes) -> bool:
    """Write `content` to `path` unless a file is already there; False when one was.

    Written under a hidden temporary name and linked into place, so a reader never sees half a
    file and a link never replaces a copy already there. Where the file system has no hard
    links, the file is moved into place if the name is still free.
    """
    temporary = path.parent / f".{path.stem}.{secrets.token_hex(4)}.tmp"
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(content)
        try:
            os.link(temporary, path)
        except FileExistsError:
            return False
        except OSError:
            if path.exists():
                return False
            os.replace(temporary, path)
        return True
    finally:
        temporary.unlink(missing_ok=True)
