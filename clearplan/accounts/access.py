"""Who may see which clinic, and in which role.

Every view that shows clinic data gets its objects through helpers that start from
`clinics_for_user`, so a record from a clinic the user does not belong to is a 404.
"""

from __future__ import annotations

from functools import wraps
from typing import TYPE_CHECKING, Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet

from clearplan.accounts.models import Clinic, Membership

if TYPE_CHECKING:
    from collections.abc import Callable

    from django.http import HttpRequest, HttpResponse

    from clearplan.accounts.models import User

Role = Membership.Role


def clinics_for_user(user: User) -> QuerySet[Clinic]:
    if not user.is_authenticated:
        return Clinic.objects.none()
    if user.is_organisation_admin and user.organisation_id:
        return Clinic.objects.filter(organisation_id=user.organisation_id)
    return Clinic.objects.filter(memberships__user=user).distinct()


def role_in_clinic(user: User, clinic: Clinic) -> str | None:
    """The user's role in the clinic; organisation admins act as managers everywhere."""
    if user.is_organisation_admin and user.organisation_id == clinic.organisation_id:
        return Role.MANAGER
    for membership in user.memberships.all():
        if membership.clinic_id == clinic.pk:
            return membership.role
    return None


def is_manager(user: User, clinic: Clinic | None) -> bool:
    return clinic is not None and role_in_clinic(user, clinic) == Role.MANAGER


def staff_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Signed in, and a member of at least one clinic (request.clinic is set)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if getattr(request, "clinic", None) is None:
            raise PermissionDenied("You are not a member of any clinic yet. Ask your practice manager to add you.")
        return view(request, *args, **kwargs)

    return wrapper


def manager_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Only owners/managers of the active clinic (and organisation admins)."""

    @wraps(view)
    @staff_required
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not is_manager(request.user, request.clinic):
            raise PermissionDenied("Only the practice owner or a manager can do this.")
        return view(request, *args, **kwargs)

    return wrapper
