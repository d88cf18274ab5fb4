"""The audit log as managers see it: browse, filter and export. There is no way to change or
delete an event from here. The filter form is posted only so that a record name typed into it
(often a patient's name) stays out of the address: the page redirects to an address that
carries the other filters and a token for the name (see clearplan.lib.private_search)."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.core.paginator import Paginator
from django.http import QueryDict, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_GET, require_http_methods

from clearplan.accounts.access import manager_required
from clearplan.audit.forms import AuditFilterForm
from clearplan.audit.models import AuditEvent
from clearplan.audit.selectors import (
    ACTION_BADGES,
    AuditScope,
    audit_events_in_scope,
    audit_scope_for,
    filter_audit_events,
    record_type_choices,
    record_type_label,
    staff_in_scope,
)
from clearplan.audit.services import audit_record
from clearplan.lib.clinic_time import clinic_now, clinic_zone
from clearplan.lib.private_search import recall_search, remember_search

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from django.db.models import QuerySet
    from django.http import HttpRequest, HttpResponse

    from clearplan.accounts.models import Clinic

PAGE_SIZE = 50
# Spreadsheet programs run a cell that starts with one of these as a formula.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class EventRow:
    event: AuditEvent
    local_at: datetime
    clinic_name: str
    badge: str
    record_type: str
    record_url: str
    changes: list[tuple[str, Any, Any]]
    details: list[tuple[str, Any]]


def _filter_data(request: HttpRequest) -> tuple[QueryDict, bool]:
    """The filters from the address, with the record-name search looked up from its token.
    Returns the data and whether the address named a search this session no longer has."""
    data = request.GET.copy()
    data.pop("q", None)
    token = data.pop("search", [""])[0]
    text = recall_search(request, token)
    if text:
        data["q"] = text
    return data, bool(token) and text is None


def _filtered_events(request: HttpRequest, data: QueryDict) -> tuple[AuditScope, AuditFilterForm, QuerySet[AuditEvent]]:
    scope = audit_scope_for(request.user, request.clinic, request.available_clinics)
    in_scope = audit_events_in_scope(scope)
    form = AuditFilterForm(data, scope=scope, staff=staff_in_scope(scope), record_types=record_type_choices())
    form.is_valid()
    events = filter_audit_events(in_scope, zone=clinic_zone(request.clinic), **form.filters())
    return scope, form, events


def _record_url(event: AuditEvent) -> str:
    if event.object_type == "patient" and event.object_id:
        try:
            return reverse("patients:detail", kwargs={"public_id": event.object_id})
        except NoReverseMatch:
            return ""
    return ""


def _rows(events: Iterable[AuditEvent], clinics_by_id: dict[int, Clinic], zone: ZoneInfo) -> list[EventRow]:
    """Every time in the active clinic's zone, so a list spanning clinics still reads in order."""
    return [
        EventRow(
            event=event,
            local_at=event.at.astimezone(zone),
            clinic_name=clinics_by_id[event.clinic_id].name if event.clinic_id in clinics_by_id else "",
            badge=ACTION_BADGES.get(event.action, ""),
            record_type=record_type_label(event.object_type),
            record_url=_record_url(event),
            changes=_changes_in_words(event),
            details=_details_in_words(event),
        )
        for event in events
    ]


def _is_change(value: Any) -> bool:
    return isinstance(value, list | tuple) and len(value) == 2


def _in_words(key: str) -> str:
    return key.replace("_", " ").capitalize()


def _changes_in_words(event: AuditEvent) -> list[tuple[str, Any, Any]]:
    """[("Mobile", old, new), ...] from `changes` entries shaped {"field": [old, new]}."""
    if not isinstance(event.changes, dict):
        return []
    return [(_in_words(key), value[0], value[1]) for key, value in event.changes.items() if _is_change(value)]


def _details_in_words(event: AuditEvent) -> list[tuple[str, Any]]:
    """Anything else the event recorded, such as the filters of an export or a sign-out's reason."""
    if not isinstance(event.changes, dict):
        return []
    details = []
    for key, value in event.changes.items():
        if _is_change(value):
            continue
        if isinstance(value, dict):
            value = "; ".join(f"{_in_words(inner)}: {inner_value}" for inner, inner_value in value.items()) or "none"
        details.append((_in_words(key), value))
    return details


@require_http_methods(["GET", "HEAD", "POST"])
@manager_required
def audit_log(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        return redirect(_address_for_filters(request))
    data, search_expired = _filter_data(request)
    scope, form, events = _filtered_events(request, data)
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    clinics_by_id = {clinic.pk: clinic for clinic in scope.clinics}
    return render(
        request,
        "audit/log.html",
        {
            "form": form,
            "scope": scope,
            "page": page,
            "rows": _rows(page.object_list, clinics_by_id, clinic_zone(request.clinic)),
            "filtered": form.active_filter_count() > 0,
            "search_expired": search_expired,
        },
    )


def _address_for_filters(request: HttpRequest) -> str:
    """The log's address for the posted filters, with the typed record name as a token."""
    params = QueryDict(mutable=True)
    for name in AuditFilterForm.base_fields:
        value = request.POST.get(name, "").strip()
        if value and name != "q":
            params[name] = value
    text = request.POST.get("q", "").strip()
    if text:
        params["search"] = remember_search(request, text)
    address = reverse("audit:log")
    return f"{address}?{params.urlencode()}" if params else address


class _Echo:
    """csv.writer writes into this and gets the line back, so rows can be streamed."""

    def write(self, value: str) -> str:
        return value


def spreadsheet_safe(value: Any) -> str:
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_TRIGGERS):
        return "'" + text
    return text


CSV_HEADER = [
    "When",
    "Clinic",
    "Staff member",
    "Action",
    "Record type",
    "Record",
    "Record id",
    "Address",
    "Browser",
    "Changes",
]


def _csv_lines(events: QuerySet[AuditEvent], clinics_by_id: dict[int, Clinic], zone: ZoneInfo) -> Iterator[str]:
    writer = csv.writer(_Echo())
    # The byte-order mark lets spreadsheet programs read accented names as UTF-8.
    yield "\ufeff" + writer.writerow(CSV_HEADER)
    for event in events.iterator(chunk_size=500):
        (row,) = _rows([event], clinics_by_id, zone)
        cells = [
            row.local_at.isoformat(sep=" ", timespec="seconds"),
            row.clinic_name,
            event.actor_label,
            event.get_action_display(),
            row.record_type,
            event.object_label,
            event.object_id,
            event.ip_address,
            event.user_agent,
            json.dumps(event.changes, ensure_ascii=False, sort_keys=True, default=str) if event.changes else "",
        ]
        yield writer.writerow([spreadsheet_safe(cell) for cell in cells])


def _filters_in_words(form: AuditFilterForm) -> dict[str, str]:
    described = {}
    for name, value in form.filters().items():
        if not value:
            continue
        if name == "staff":
            value = value.display_name
        elif name == "action":
            value = AuditEvent.Action(value).label
        elif name == "record_type":
            value = record_type_label(value)
        described[name] = str(value)
    return described


@require_GET
@manager_required
def audit_export(request: HttpRequest) -> HttpResponse:
    data, _search_expired = _filter_data(request)
    scope, form, events = _filtered_events(request, data)
    filters = _filters_in_words(form)
    export_event = audit_record(
        action=AuditEvent.Action.EXPORT,
        request=request,
        object_type="audit_log",
        object_label="Audit log" + (" (filtered)" if filters else ""),
        changes={"filters": filters},
    )
    # The file holds what was in the log when it was asked for, not the export's own entry.
    events = events.filter(pk__lt=export_event.pk)
    clinics_by_id = {clinic.pk: clinic for clinic in scope.clinics}
    stamp = clinic_now(request.clinic).strftime("%Y-%m-%d-%H%M")
    response = StreamingHttpResponse(
        _csv_lines(events, clinics_by_id, clinic_zone(request.clinic)), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="audit-log-{stamp}.csv"'
    response["Cache-Control"] = "no-store"
    return response
