from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from clearplan.accounts.access import manager_required


@manager_required
def audit_log(request: HttpRequest) -> HttpResponse:
    return render(request, "audit/log.html")
