from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from clearplan.accounts.access import staff_required


@staff_required
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "insights/home.html")
