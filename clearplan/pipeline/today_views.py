"""Today: each team member's list of what to do first at the clinic they are working in."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from clearplan.accounts.access import staff_required
from clearplan.audit.models import AuditEvent
from clearplan.audit.services import audit_record
from clearplan.lib.clinic_time import clinic_now
from clearplan.pipeline.today_selectors import CLINIC, MINE, SECTION_KEYS, today_for

TODAY_RECORD_TYPE = "today"


@require_GET
@staff_required
def today(request: HttpRequest) -> HttpResponse:
    scope = CLINIC if request.GET.get("show") == CLINIC else MINE
    expand = request.GET.get("all", "")
    expand = expand if expand in SECTION_KEYS else ""
    hour = clinic_now(request.clinic).hour
    greeting = "morning" if hour < 12 else "afternoon" if hour < 18 else "evening"
    day = today_for(user=request.user, clinic=request.clinic, role=request.role, scope=scope, expand=expand)
    if day.shown_patients:
        # Today names patients and what they asked for: reading it is logged like a patient list.
        audit_record(
            action=AuditEvent.Action.VIEW,
            request=request,
            object_type=TODAY_RECORD_TYPE,
            object_label="Today",
            changes={"scope": scope, "cases_shown": day.shown_patients},
        )
    return render(request, "pipeline/today.html", {"greeting": greeting, "day": day})
