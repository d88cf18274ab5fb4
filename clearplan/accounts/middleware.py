"""Per-request staff context: the idle time-out and the clinic being worked in."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.db.models import prefetch_related_objects
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone

from clearplan.accounts.access import clinics_for_user, role_in_clinic
from clearplan.accounts.signals import SIGN_OUT_REASON_ATTRIBUTE
from clearplan.lib.clinic_time import clinic_zone

if TYPE_CHECKING:
    from collections.abc import Callable

    from django.http import HttpRequest, HttpResponse

    from clearplan.accounts.models import Clinic, User

ACTIVE_CLINIC_SESSION_KEY = "clearplan_active_clinic"
LAST_SEEN_SESSION_KEY = "clearplan_last_seen"


class IdleTimeoutMiddleware:
    """Signs staff out after SESSION_IDLE_TIMEOUT_MINUTES without a request.

    The time of the last request is written to the session at most once a minute:
    rewriting the session on every request is a database write (on SQLite it takes the
    write lock), and a time-out counted in minutes only needs to be right to the minute.
    """

    REFRESH_AFTER_SECONDS = 60

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            now = time.time()
            last_seen = request.session.get(LAST_SEEN_SESSION_KEY)
            limit = settings.SESSION_IDLE_TIMEOUT_MINUTES * 60
            if last_seen is not None and now - float(last_seen) > limit:
                setattr(request, SIGN_OUT_REASON_ATTRIBUTE, "idle")
                logout(request)
                messages.info(
                    request,
                    f"You were signed out after {settings.SESSION_IDLE_TIMEOUT_MINUTES} minutes without activity, "
                    "to keep patient information safe. Please sign in again.",
                )
                return redirect_to_login(request.get_full_path())
            if last_seen is None or now - float(last_seen) >= self.REFRESH_AFTER_SECONDS:
                request.session[LAST_SEEN_SESSION_KEY] = now
        return self.get_response(request)


class ActiveClinicMiddleware:
    """Sets request.clinic (the clinic chosen in the header) and request.role."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.clinic = None
        request.role = None
        if request.user.is_authenticated:
            clinics = list(clinics_for_user(request.user).select_related("organisation"))
            request.available_clinics = clinics
            chosen = request.session.get(ACTIVE_CLINIC_SESSION_KEY)
            clinic = next((c for c in clinics if str(c.public_id) == chosen), None)
            if clinic is None and clinics:
                # Until they choose, people start in a clinic where they hold a role (an
                # organisation admin may see clinics where they hold none).
                prefetch_related_objects([request.user], "memberships")  # role_in_clinic reads them too
                own = {membership.clinic_id for membership in request.user.memberships.all()}
                clinic = next((c for c in clinics if c.pk in own), clinics[0])
            request.clinic = clinic
            if clinic is not None:
                request.role = role_in_clinic(request.user, clinic)
        else:
            request.available_clinics = []
        if request.clinic is None:
            return self.get_response(request)
        # Times are stored in UTC; every page shows them in the clinic's own time zone.
        with timezone.override(clinic_zone(request.clinic)):
            return self.get_response(request)


class TwoFactorRequiredMiddleware:
    """When the organisation requires two-factor, staff without an authenticator app are
    sent to set one up before they can use anything else.

    Sign-in, sign-out, password and two-factor pages (all under /accounts/), invitation
    links and static files stay reachable so the person can finish setting up.
    """

    ALWAYS_ALLOWED_PREFIXES = ("/accounts/", "/join/", "/static/", "/health/")

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if (
            request.user.is_authenticated
            and not request.path.startswith(self.ALWAYS_ALLOWED_PREFIXES)
            and two_factor_setup_required(request.user, clinic=getattr(request, "clinic", None))
        ):
            messages.warning(
                request,
                "Your organisation asks everyone to use two-factor authentication. "
                "Please set up an authenticator app to continue — it takes about two minutes.",
            )
            return redirect(reverse("mfa_activate_totp"))
        return self.get_response(request)


def two_factor_setup_required(user: User, *, clinic: Clinic | None = None) -> bool:
    from allauth.mfa.models import Authenticator

    # The active clinic's organisation was loaded already; avoid a query on every request.
    if clinic is not None and clinic.organisation_id == user.organisation_id:
        organisation = clinic.organisation
    else:
        organisation = user.organisation
    if organisation is None or not organisation.require_two_factor:
        return False
    return not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
