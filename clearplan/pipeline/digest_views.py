"""Email digests: the choices page (also shown on Your profile) and the digest's button, which
opens the board or Today in the clinic the digest was about."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from clearplan.accounts.access import staff_required
from clearplan.accounts.middleware import ACTIVE_CLINIC_SESSION_KEY
from clearplan.pipeline import digests
from clearplan.pipeline.digest_forms import DigestChoicesForm

if TYPE_CHECKING:
    from django.http import HttpRequest, HttpResponse

OPEN_TARGETS = {"board": "pipeline:board", "today": "pipeline:today"}


@require_http_methods(["GET", "HEAD", "POST"])
@staff_required
def digest_choices(request: HttpRequest) -> HttpResponse:
    kinds = digests.kinds_offered_to(request.user)
    if request.method == "POST":
        form = DigestChoicesForm(request.POST, kinds=kinds)
        if form.is_valid():
            digests.digest_choices_set(user=request.user, choices=form.cleaned_data, request=request)
            messages.success(request, "Your digest choices are saved.")
            return redirect(reverse("accounts:profile") + "#digests-heading")
    else:
        form = DigestChoicesForm(initial=digests.choices_for(request.user), kinds=kinds)
    return render(request, "pipeline/digests/choices.html", {"digest_form": form if kinds else None})


@require_http_methods(["GET", "HEAD"])
@staff_required
def digest_open(request: HttpRequest, clinic_id: uuid.UUID, where: str) -> HttpResponse:
    """The digest's button: switch to the digest's clinic (when the person can still open it)
    and go to the board or Today. Another clinic, or one no longer theirs, is a 404."""
    if where not in OPEN_TARGETS:
        raise Http404
    clinic = next((clinic for clinic in request.available_clinics if clinic.public_id == clinic_id), None)
    if clinic is None:
        raise Http404
    request.session[ACTIVE_CLINIC_SESSION_KEY] = str(clinic.public_id)
    return redirect(OPEN_TARGETS[where])
