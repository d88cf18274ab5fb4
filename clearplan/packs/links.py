"""Patient links: a random token the patient receives, of which only the SHA-256 is kept.

A token is 32 URL-safe characters from `secrets` (192 bits), so it cannot be guessed and says
nothing about the patient. The address is /p/<token>; on first use the token is exchanged for a
session cookie and the browser moves to /p/, so the token leaves the address bar and history.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import TYPE_CHECKING

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from clearplan.audit.models import AuditEvent
from clearplan.packs.models import PackLink, Recipient
from clearplan.plans import services

if TYPE_CHECKING:
    from django.http import HttpRequest

    from clearplan.accounts.models import User
    from clearplan.plans.models import Case

TOKEN_BYTES = 24


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def link_path(token: str) -> str:
    return reverse("packs:patient_open", args=[token])


def link_create(
    *, case: Case, recipient: str = Recipient.PATIENT, by: User, request: HttpRequest | None = None
) -> tuple[PackLink, str]:
    """A new link for the case; returns it with the token, which is shown once and never stored."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    with transaction.atomic():
        link = PackLink.objects.create(
            case=case,
            token_sha256=token_digest(token),
            recipient=recipient,
            verification=case.clinic.pack_verification,
            created_by=by,
            expires_at=timezone.now() + timedelta(days=case.clinic.pack_link_days),
        )
        services._audit(
            action=AuditEvent.Action.CREATE,
            case=case,
            by=by,
            request=request,
            changes={"pack_link": [None, str(link.public_id)], "recipient": [None, recipient]},
        )
    return link, token


def link_for_token(token: str) -> PackLink | None:
    if not token or len(token) > 100:
        return None
    return (
        PackLink.objects.select_related("case__clinic", "case__patient")
        .filter(token_sha256=token_digest(token))
        .first()
    )


def link_revoke(*, link: PackLink, by: User, request: HttpRequest | None = None) -> PackLink:
    """The link stops working at once, including for browsers already reading with it."""
    with transaction.atomic():
        current = PackLink.objects.select_for_update().get(pk=link.pk)
        if current.revoked_at is None:
            current.revoked_at = timezone.now()
            current.revoked_by = by
            current.save(update_fields=["revoked_at", "revoked_by"])
            services._audit(
                action=AuditEvent.Action.UPDATE,
                case=current.case,
                by=by,
                request=request,
                changes={"pack_link_revoked": [None, str(current.public_id)]},
            )
    return current


def link_is_usable(link: PackLink) -> bool:
    now = timezone.now()
    return link.revoked_at is None and link.expires_at > now
