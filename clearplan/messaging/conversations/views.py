"""The inbox and its threads (staff pages)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from clearplan.accounts.access import staff_required


@staff_required
def inbox(request: HttpRequest) -> HttpResponse:
    return render(request, "messaging/conversations.html", {})
