"""Writing to the audit log. Call `audit_record` from every service and view that
shows or changes patient data."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from clearplan.audit.models import AuditEvent

if TYPE_CHECKING:
    from django.http import HttpRequest

    from clearplan.accounts.models import Clinic, User


def client_address(request: HttpRequest | None) -> str | None:
    if request is None:
        return None
    # REMOTE_ADDR only: X-Forwarded-For is trusted just when a proxy is configured to set it.
    return request.META.get("REMOTE_ADDR") or None


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
