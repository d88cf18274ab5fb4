from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from clearplan.accounts.access import staff_required
from clearplan.accounts.middleware import ACTIVE_CLINIC_SESSION_KEY


@staff_required
def settings_home(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/settings_home.html")


@staff_required
def profile(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/profile.html")


@require_POST
@staff_required
def switch_clinic(request: HttpRequest) -> HttpResponse:
    chosen = request.POST.get("clinic", "")
    if any(str(clinic.public_id) == chosen for clinic in request.available_clinics):
        request.session[ACTIVE_CLINIC_SESSION_KEY] = chosen
    next_url = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = "/"
    # A record page from the old clinic would 404 in the new one, so land on the section instead.
    if next_url.startswith("/patients/"):
        next_url = "/patients/"
    return redirect(next_url)
