from __future__ import annotations

from typing import TYPE_CHECKING, Any

from clearplan.accounts.models import Membership

if TYPE_CHECKING:
    from django.http import HttpRequest


def workspace(request: HttpRequest) -> dict[str, Any]:
    """What the staff layout needs on every page: the clinic switcher and the role."""
    clinic = getattr(request, "clinic", None)
    role = getattr(request, "role", None)
    return {
        "active_clinic": clinic,
        "available_clinics": getattr(request, "available_clinics", []),
        "active_role": role,
        "active_role_label": Membership.Role(role).label if role else "",
        "is_manager": role == Membership.Role.MANAGER,
    }
