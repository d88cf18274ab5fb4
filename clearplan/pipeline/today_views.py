from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from clearplan.accounts.access import staff_required
from clearplan.lib.clinic_time import clinic_now


@staff_required
def today(request: HttpRequest) -> HttpResponse:
    hour = clinic_now(request.clinic).hour
    greeting = "morning" if hour < 12 else "afternoon" if hour < 18 else "evening"
    return render(request, "pipeline/today.html", {"greeting": greeting})
