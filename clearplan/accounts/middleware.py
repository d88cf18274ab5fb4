"""Per-request staff context: the idle time-out and the clinic being worked in."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.shortcuts import redirect

from clearplan.accounts.access import clinics_for_user, role_in_clinic

if TYPE_CHECKING:
    from collections.abc import Callable

    from django.http import HttpRequest, HttpResponse

ACTIVE_CLINIC_SESSION_KEY = "clearplan_active_clinic"
LAST_SEEN_SESSION_KEY = "clearplan_last_seen"


class IdleTimeoutMiddleware:
    """Signs staff out after SESSION_IDLE_TIMEOUT_MINUTES without a request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            now = time.time()
            last_seen = request.session.get(LAST_SEEN_SESSION_KEY)
            limit = settings.SESSION_IDLE_TIMEOUT_MINUTES * 60
            if last_seen is not None and now - float(last_seen) > limit:
                logout(request)
                messages.info(
                    request,
                    f"You were signed out after {settings.SESSION_IDLE_TIMEOUT_MINUTES} minutes without activity, "
                    "to keep patient information safe. Please sign in again.",
                )
                return redirect(f"{settings.LOGIN_URL_PATH}?next={request.path}")
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
            clinic = next((c for c in clinics if str(c.public_id) == chosen), None) or (clinics[0] if clinics else None)
            request.clinic = clinic
            if clinic is not None:
                request.role = role_in_clinic(request.user, clinic)
        else:
            request.available_clinics = []
        return self.get_response(request)
