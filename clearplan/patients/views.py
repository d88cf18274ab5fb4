from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.messages.storage.base import BaseStorage
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_http_methods

from clearplan.accounts.access import staff_required
from clearplan.audit.models import AuditEvent
from clearplan.audit.services import audit_record
from clearplan.lib.private_search import recall_search, remember_search
from clearplan.messaging.models import Conversation
from clearplan.patients.forms import PatientCreateForm, PatientEditForm, PatientForm, date_order
from clearplan.patients.selectors import (
    get_patient_for_user,
    patient_added_by_form,
    patients_of,
    possible_duplicates,
    read_query,
    search_patients,
)
from clearplan.patients.services import (
    PatientAlreadyCreated,
    StaleRecordError,
    consent_history,
    parse_version,
    patient_create,
    patient_list_shown,
    patient_update,
    record_version,
    sms_stop_warning,
    sms_stops_on_file,
)

if TYPE_CHECKING:
    import uuid

    from django.http import HttpRequest, HttpResponse

    from clearplan.patients.models import Patient

PAGE_SIZE = 25
RESULTS_TARGET = "patient-results"


@require_http_methods(["GET", "HEAD", "POST"])
@staff_required
def patient_list(request: HttpRequest) -> HttpResponse:
    """The clinic's patients. A search is posted, never put in the address: the address
    carries only a token standing for it (see clearplan.lib.private_search)."""
    is_htmx = (
        request.headers.get("HX-Request") == "true" and request.headers.get("HX-History-Restore-Request") != "true"
    )
    if request.method == "POST":
        text = request.POST.get("q", "").strip()
        token = remember_search(request, text) if text else ""
        address = _page_url(token, 1)
        if not is_htmx:
            return redirect(address)
        response = _render_list(request, text=text, token=token, page_number=1, results_only=True)
        response["HX-Replace-Url"] = address
        return response
    token = request.GET.get("search", "")
    text = recall_search(request, token)
    search_expired = bool(token) and text is None
    results_only = is_htmx and request.headers.get("HX-Target") == RESULTS_TARGET
    return _render_list(
        request,
        text=text or "",
        token="" if search_expired else token,
        page_number=request.GET.get("page"),
        results_only=results_only,
        search_expired=search_expired,
    )


def _render_list(
    request: HttpRequest,
    *,
    text: str,
    token: str,
    page_number: Any,
    results_only: bool,
    search_expired: bool = False,
) -> HttpResponse:
    clinic = request.clinic
    query = read_query(text, clinic=clinic)
    page = Paginator(search_patients(clinic, query), PAGE_SIZE).get_page(page_number)
    patient_list_shown(
        request=request,
        clinic=clinic,
        patients=list(page.object_list),
        page_number=page.number,
        search_token=token if query.text else "",
    )
    context = {
        "query": query,
        "q": query.text,
        "page": page,
        "patients": page.object_list,
        # Only worth a query when nothing matched: tells "no patients yet" from "no match".
        "clinic_has_patients": page.paginator.count > 0 or patients_of(clinic).exists(),
        "date_hint": date_order(clinic)[1],
        "previous_url": _page_url(token, page.previous_page_number()) if page.has_previous() else "",
        "next_url": _page_url(token, page.next_page_number()) if page.has_next() else "",
        "search_expired": search_expired,
        "is_results_request": results_only,
    }
    template = "patients/patient_list.html#results" if results_only else "patients/patient_list.html"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request", "HX-Target"])
    return response


@require_http_methods(["GET", "HEAD"])
@staff_required
def patient_detail(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    patient = get_patient_for_user(request, public_id)
    audit_record(action=AuditEvent.Action.VIEW, request=request, obj=patient)
    context = {
        "patient": patient,
        "consent_changes": consent_history(patient),
        "sms_stop_warnings": [sms_stop_warning(patient, stop) for stop in sms_stops_on_file(patient)],
        "conversation": Conversation.objects.filter(patient=patient).only("public_id").first(),
    }
    return render(request, "patients/patient_detail.html", context)


@require_http_methods(["GET", "POST"])
@staff_required
def patient_create_view(request: HttpRequest) -> HttpResponse:
    clinic = request.clinic
    duplicates: list[Patient] = []
    if request.method == "POST":
        form = PatientCreateForm(request.POST, clinic=clinic)
        creation_token = form.submitted_creation_token()
        # Before validating: the patient this form already added would otherwise be reported as
        # a possible duplicate of the one being added.
        earlier = patient_added_by_form(clinic, creation_token)
        if earlier is not None:
            return _show_added(request, earlier)
        if form.is_valid():
            details = form.details()
            duplicates = possible_duplicates(
                clinic,
                first_name=details["first_name"],
                last_name=details["last_name"],
                date_of_birth=details["date_of_birth"],
            )
            if not duplicates or form.cleaned_data["confirm_different_person"]:
                try:
                    saved = _save_or_show_errors(
                        form,
                        lambda: patient_create(
                            clinic=clinic,
                            by=request.user,
                            details=details,
                            creation_token=creation_token,
                            request=request,
                        ),
                    )
                except PatientAlreadyCreated as already:
                    return _show_added(request, already.patient)
                if saved is not None:
                    return _show_added(request, saved)
    else:
        form = PatientCreateForm(clinic=clinic)
    return render(
        request,
        "patients/patient_form.html",
        {"form": form, "duplicates": duplicates, "patient": None, "is_new": True},
        status=200,
    )


@require_http_methods(["GET", "POST"])
@staff_required
def patient_edit(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    patient = get_patient_for_user(request, public_id)
    stale: Patient | None = None
    if request.method == "POST":
        # The form works on a copy, so the page header keeps the saved name while errors show.
        form = PatientEditForm(request.POST, clinic=request.clinic, instance=copy.copy(patient))
        if form.is_valid():
            try:
                saved = _save_or_show_errors(
                    form,
                    lambda: patient_update(
                        patient=patient,
                        by=request.user,
                        details=form.details(),
                        expected_version=parse_version(form.cleaned_data["version"]),
                        request=request,
                    ),
                )
            except StaleRecordError as error:
                stale = error.patient
            else:
                if saved is not None:
                    messages.success(request, "Changes saved.")
                    return redirect("patients:detail", public_id=saved.public_id)
    else:
        form = PatientEditForm(
            clinic=request.clinic, instance=copy.copy(patient), initial={"version": record_version(patient)}
        )
        audit_record(action=AuditEvent.Action.VIEW, request=request, obj=patient)
    return render(
        request,
        "patients/patient_form.html",
        {"form": form, "patient": patient, "stale": stale, "is_new": False, "duplicates": []},
        status=409 if stale is not None else 200,
    )


def _show_added(request: HttpRequest, patient: Patient) -> HttpResponse:
    """The new patient's page with one confirmation, also when the form was sent twice: the
    browser may never have shown the first response, or may still carry its message."""
    confirmation = f"{patient.full_name} has been added."
    pending = messages.get_messages(request)
    already_said = any(message.message == confirmation for message in pending)
    if isinstance(pending, BaseStorage):
        pending.used = False  # looking must not use the messages up
    if not already_said:
        messages.success(request, confirmation)
    return redirect("patients:detail", public_id=patient.public_id)


def _page_url(token: str, number: int) -> str:
    params: dict[str, Any] = {"search": token} if token else {}
    if number > 1:
        params["page"] = number
    address = reverse("patients:list")
    return f"{address}?{urlencode(params)}" if params else address


def _save_or_show_errors(form: PatientForm, save: Any) -> Patient | None:
    """Runs the service; rules it enforces beyond the form come back as field errors."""
    try:
        return save()
    except ValidationError as error:
        form.add_error(None, error)
        return None
