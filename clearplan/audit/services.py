"""Writing to the audit log. Call `audit_record` from every service and view that
shows or changes patient data."""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING, Any

from django.conf import settings

from clearplan.audit.models import AuditEvent

if TYPE_CHECKING:
    from django.http import HttpRequest

    from clearplan.accounts.models import Clinic, User


def client_address(request: HttpRequest | None) -> str | None:
    """The address the request came from, as far as it can be trusted.

    With TRUSTED_PROXY_COUNT = N, each of N proxies appends the address it received the request
    from to X-Forwarded-For, so the Nth entry from the right was written by our outermost proxy;
    anything further left was sent by the client and could be made up. Without trusted proxies,
    or when the header has fewer entries than there are proxies, REMOTE_ADDR is used."""
    if request is None:
        return None
    proxies = settings.TRUSTED_PROXY_COUNT
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxies > 0 and forwarded:
        hops = [hop.strip() for hop in forwarded.split(",")]
        if len(hops) >= proxies:
            address = _ip_address(hops[-proxies])
            if address is not None:
                return address
    return _ip_address(request.META.get("REMOTE_ADDR", ""))


def _ip_address(text: str) -> str | None:
    """`text` as a canonical IP address, allowing a port ("203.0.113.7:5123", "[2001:db8::1]:443"),
    or None when it is not an address."""
    text = text.strip()
    candidates = [text]
    if text.startswith("[") and "]" in text:
        candidates.append(text[1 : text.index("]")])
    elif text.count(":") == 1:
        candidates.append(text.split(":")[0])
    for candidate in candidates:
        try:
            return str(ipaddress.ip_address(candidate))
        except ValueError:
            continue
    return None


def audit_record(
    *,
    action: str,
    request: HttpRequest | None = None,
    actor: User | None = None,
    clinic: Clinic | None = None,
    obj: Any = None,
    object_type: str = "",
    object_id: str = "",
    object_label: str = "",
    changes: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event. `obj` may be any model with a `public_id`; its type and label are taken from it."""
    if actor is None and request is not None and request.user.is_authenticated:
        actor = request.user
    if clinic is None and request is not None:
        clinic = getattr(request, "clinic", None)
    if obj is not None:
        object_type = object_type or obj._meta.model_name
        object_id = object_id or str(getattr(obj, "public_id", obj.pk))
        object_label = object_label or str(obj)
    organisation_id = clinic.organisation_id if clinic is not None else getattr(actor, "organisation_id", None)
    return AuditEvent.objects.create(
        action=action,
        actor=actor,
        actor_label=(actor.display_name if actor is not None else "")[:300],
        organisation_id=organisation_id,
        clinic=clinic,
        object_type=object_type,
        object_id=object_id,
        object_label=object_label[:300],
        changes=changes or {},
        ip_address=client_address(request),
        user_agent=(request.META.get("HTTP_USER_AGENT", "") if request is not None else "")[:300],
    )


def changes_between(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """{"field": [old, new]} for every field whose value differs."""
    return {
        field: [before.get(field), after.get(field)]
        for field in sorted(set(before) | set(after))
        if before.get(field) != after.get(field)
    }
