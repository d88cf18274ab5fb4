"""The demo outbox: an email backend that keeps each message as an .eml file under
settings.OUTBOX_DIR instead of sending it, so the product can be tried without a mail server.

Chosen with EMAIL_URL=outbox:// (the default when DEBUG or CLEARPLAN_DEMO is on, and refused
otherwise). Organisation administrators read the messages on the Demo outbox page; any mail
program opens the files too.

The outbox holds sign-in links (invitations, password resets), so each message is stamped at
sending time with the organisation its recipients belong to, and the page shows an
administrator only their own organisation's messages. A message whose recipients belong to no
organisation, or to more than one, is stamped with none and shown to nobody.
"""

from __future__ import annotations

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

# A file's name is 32 random hex digits: unguessable, and nothing else can pass for one,
# so a name taken from a URL can never point outside the outbox.
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
                organisation = organisation_of_recipients(recipients)
                if organisation is not None:
                    content[ORGANISATION_HEADER] = organisation
                self._write(directory, content.as_bytes(linesep="\n"))
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
