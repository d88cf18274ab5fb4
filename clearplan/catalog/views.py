"""Settings → Procedures and Settings → Fee schedules. Everyone on the team can look;
owners and managers change things."""

from __future__ import annotations

import copy
import uuid
from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from clearplan.accounts.access import is_manager, manager_required, staff_required
from clearplan.catalog import codefile, selectors, services, starter
from clearplan.catalog.fees import day_in_words
from clearplan.catalog.forms import (
    DependencyForm,
    DescriptionImportForm,
    FeeScheduleForm,
    FeesForm,
    ProcedureFilterForm,
    ProcedureForm,
)
from clearplan.catalog.models import ProcedureDependency
from clearplan.lib.clinic_time import clinic_now

if TYPE_CHECKING:
    from django import forms
    from django.http import HttpRequest, HttpResponse, QueryDict

PAGE_SIZE = 100
IMPORT_SESSION_KEY = "clearplan_catalog_import"
UNKNOWN_CODES_SHOWN = 60


def _attach(form: forms.Form, error: ValidationError) -> None:
    """A service's refusal, shown at the field it names (or above the form)."""
    if hasattr(error, "error_dict"):
        for field, field_errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, field_errors)
    else:
        form.add_error(None, error)


def _posted(request: HttpRequest) -> QueryDict | None:
    """The submitted data, also when it is empty: an empty form is still a submission to check."""
    return request.POST if request.method == "POST" else None


def _suggested_region(request: HttpRequest) -> str:
    return starter.region_for_currency(request.clinic.currency) or "AU"


# ---------- Procedures ----------


@require_http_methods(["GET", "HEAD"])
@staff_required
def procedure_list(request: HttpRequest) -> HttpResponse:
    organisation = request.clinic.organisation
    form = ProcedureFilterForm(request.GET or None)
    procedures = selectors.search_procedures(organisation, **form.filters())
    page = Paginator(procedures, PAGE_SIZE).get_page(request.GET.get("page"))
    filtered = form.is_bound and form.is_filtered
    has_any = page.paginator.count > 0 or (filtered and selectors.procedures_of(organisation).exists())
    return render(
        request,
        "catalog/procedure_list.html",
        {
            "form": form,
            "page": page,
            "procedures": page.object_list,
            "filtered": filtered,
            "catalogue_empty": not has_any,
            "regions": [(code, label, starter.REGION_CODES[code]) for code, label in starter.REGIONS.items()],
            "suggested_region": _suggested_region(request),
            "can_edit": is_manager(request.user, request.clinic),
        },
    )


@require_http_methods(["GET", "HEAD"])
@staff_required
def procedure_detail(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    procedure = selectors.get_procedure_for_user(request, public_id)
    return render(
        request,
        "catalog/procedure_detail.html",
        {
            "procedure": procedure,
            "rules": selectors.dependencies_of(procedure),
            "required_by": selectors.required_by(procedure),
            "fee_history": selectors.fee_history(procedure, request.clinic),
            "can_edit": is_manager(request.user, request.clinic),
        },
    )


@require_http_methods(["GET", "POST"])
@manager_required
def procedure_create(request: HttpRequest) -> HttpResponse:
    organisation = request.clinic.organisation
    form = ProcedureForm(_posted(request), organisation=organisation)
    if request.method == "POST" and form.is_valid():
        try:
            procedure = services.procedure_create(
                organisation=organisation, by=request.user, values=form.values(), request=request
            )
        except ValidationError as error:
            _attach(form, error)
        else:
            messages.success(request, f"{procedure.code} {procedure.name} has been added.")
            return redirect("catalog:procedure_detail", public_id=procedure.public_id)
    return render(request, "catalog/procedure_form.html", {"form": form, "procedure": None})


@require_http_methods(["GET", "POST"])
@manager_required
def procedure_edit(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    procedure = selectors.get_procedure_for_user(request, public_id)
    organisation = request.clinic.organisation
    # The form edits a copy, so the page heading keeps the saved name while errors show.
    form = ProcedureForm(_posted(request), organisation=organisation, instance=copy.copy(procedure))
    if request.method == "POST" and form.is_valid():
        try:
            services.procedure_update(procedure=procedure, by=request.user, values=form.values(), request=request)
        except ValidationError as error:
            _attach(form, error)
        else:
            messages.success(request, "Changes saved.")
            return redirect("catalog:procedure_detail", public_id=procedure.public_id)
    return render(request, "catalog/procedure_form.html", {"form": form, "procedure": procedure})


@require_POST
@manager_required
def procedure_retire(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    procedure = selectors.get_procedure_for_user(request, public_id)
    services.procedure_retire(procedure=procedure, by=request.user, request=request)
    messages.success(
        request, f"{procedure.code} is retired: it is no longer offered for new plans. Plans that have it keep it."
    )
    return redirect("catalog:procedure_detail", public_id=procedure.public_id)


@require_POST
@manager_required
def procedure_restore(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    procedure = selectors.get_procedure_for_user(request, public_id)
    try:
        services.procedure_restore(procedure=procedure, by=request.user, request=request)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"{procedure.code} is back in use for new plans.")
    return redirect("catalog:procedure_detail", public_id=procedure.public_id)


@require_http_methods(["GET", "POST"])
@manager_required
def dependency_add(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    procedure = selectors.get_procedure_for_user(request, public_id)
    form = DependencyForm(_posted(request), procedure=procedure)
    if request.method == "POST" and form.is_valid():
        try:
            services.dependency_add(
                procedure=procedure,
                by=request.user,
                requires_procedure=form.cleaned_data["requires_procedure"],
                requires_category=form.cleaned_data["requires_category"],
                site=form.cleaned_data["site"],
                min_gap_weeks=form.cleaned_data["min_gap_weeks"],
                note=form.cleaned_data["note"],
                request=request,
            )
        except ValidationError as error:
            _attach(form, error)
        else:
            messages.success(request, "The order rule has been added.")
            return redirect("catalog:procedure_detail", public_id=procedure.public_id)
    return render(request, "catalog/dependency_form.html", {"form": form, "procedure": procedure})


@require_POST
@manager_required
def dependency_remove(request: HttpRequest, public_id: uuid.UUID, rule_id: uuid.UUID) -> HttpResponse:
    procedure = selectors.get_procedure_for_user(request, public_id)
    try:
        dependency = ProcedureDependency.objects.select_related("requires_procedure").get(
            procedure=procedure, public_id=rule_id
        )
    except ProcedureDependency.DoesNotExist as error:
        raise Http404("No such rule.") from error
    dependency.procedure = procedure
    services.dependency_remove(dependency=dependency, by=request.user, request=request)
    messages.success(request, "The order rule has been removed.")
    return redirect("catalog:procedure_detail", public_id=procedure.public_id)


@require_POST
@manager_required
def starter_install(request: HttpRequest) -> HttpResponse:
    region = request.POST.get("region", "")
    if region not in starter.REGIONS:
        messages.error(request, "Choose the Australian or the United States starter catalogue.")
        return redirect("catalog:procedures")
    result = services.catalog_install_starter(
        organisation=request.clinic.organisation, region=region, by=request.user, request=request
    )
    if result.added:
        messages.success(
            request,
            f"Added {result.added} procedures from the {starter.REGIONS[region]} starter catalogue. "
            "Check the names and chair times suit your practice.",
        )
    else:
        messages.info(request, "Your catalogue already has every item of that starter catalogue; nothing was added.")
    return redirect("catalog:procedures")


# ---------- Importing licensed descriptions ----------


@require_http_methods(["GET", "POST"])
@manager_required
def import_descriptions(request: HttpRequest) -> HttpResponse:
    organisation = request.clinic.organisation
    form = DescriptionImportForm(_posted(request), request.FILES if request.method == "POST" else None)
    preview = None
    token = ""
    if request.method == "POST" and form.is_valid():
        catalogue = {
            code: (name, description)
            for code, name, description in selectors.procedures_of(organisation).values_list(
                "code", "name", "licensed_description"
            )
        }
        preview = codefile.preview_import(form.cleaned_data["file"], catalogue)
        if preview.can_apply:
            token = uuid.uuid4().hex
            request.session[IMPORT_SESSION_KEY] = {
                "token": token,
                "organisation": organisation.pk,
                "file_name": request.FILES["file"].name,
                "descriptions": preview.descriptions(),
            }
        else:
            request.session.pop(IMPORT_SESSION_KEY, None)
    return render(
        request,
        "catalog/import_descriptions.html",
        {
            "form": form,
            "preview": preview,
            "token": token,
            "file_name": request.FILES["file"].name if preview is not None else "",
            "unknown_shown": preview.unknown[:UNKNOWN_CODES_SHOWN] if preview is not None else [],
            "unknown_more": max(0, len(preview.unknown) - UNKNOWN_CODES_SHOWN) if preview is not None else 0,
        },
    )


@require_POST
@manager_required
def import_confirm(request: HttpRequest) -> HttpResponse:
    organisation = request.clinic.organisation
    pending: dict[str, Any] | None = request.session.get(IMPORT_SESSION_KEY)
    if (
        not pending
        or pending.get("token") != request.POST.get("token")
        or pending.get("organisation") != organisation.pk
    ):
        messages.error(request, "That preview is no longer available. Upload the file again to import it.")
        return redirect("catalog:import_descriptions")
    updated = services.procedure_descriptions_import(
        organisation=organisation,
        descriptions=pending["descriptions"],
        by=request.user,
        file_name=pending.get("file_name", ""),
        request=request,
    )
    del request.session[IMPORT_SESSION_KEY]
    messages.success(
        request, f"Licensed descriptions imported: {updated} procedure{'s' if updated != 1 else ''} updated."
    )
    return redirect("catalog:procedures")


# ---------- Fee schedules ----------


@require_http_methods(["GET", "HEAD"])
@staff_required
def fee_schedule_list(request: HttpRequest) -> HttpResponse:
    clinic = request.clinic
    schedules = list(selectors.fee_schedules_with_counts(clinic))
    return render(
        request,
        "catalog/fee_schedule_list.html",
        {
            "schedules": schedules,
            "can_edit": is_manager(request.user, clinic),
            "catalogue_has_items": selectors.procedures_of(clinic.organisation_id).active().exists(),
            "starter_fees_available": starter.region_for_currency(clinic.currency) is not None,
            "has_standard": any(s.name.lower() == services.STANDARD_SCHEDULE_NAME.lower() for s in schedules),
        },
    )


@require_http_methods(["GET", "POST"])
@manager_required
def fee_schedule_create(request: HttpRequest) -> HttpResponse:
    form = FeeScheduleForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            schedule = services.fee_schedule_create(
                clinic=request.clinic, by=request.user, request=request, **form.cleaned_data
            )
        except ValidationError as error:
            _attach(form, error)
        else:
            messages.success(request, f"The {schedule.name} fee schedule has been added. Enter its fees below.")
            return redirect("catalog:fee_schedule_fees", public_id=schedule.public_id)
    return render(request, "catalog/fee_schedule_form.html", {"form": form, "schedule": None})


@require_POST
@manager_required
def fee_schedule_standard(request: HttpRequest) -> HttpResponse:
    try:
        schedule = services.fee_schedule_create_standard(clinic=request.clinic, by=request.user, request=request)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("catalog:fee_schedules")
    messages.success(
        request, f"The {schedule.name} schedule has the starter fees. Check them against your own fees and change any."
    )
    return redirect("catalog:fee_schedule_detail", public_id=schedule.public_id)


@require_http_methods(["GET", "HEAD"])
@staff_required
def fee_schedule_detail(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    schedule = selectors.get_fee_schedule_for_user(request, public_id)
    organisation = request.clinic.organisation
    form = ProcedureFilterForm(request.GET or None)
    filters = form.filters()
    procedures = list(selectors.search_procedures(organisation, text=filters["text"], category=filters["category"]))
    today = clinic_now(request.clinic).date()
    return render(
        request,
        "catalog/fee_schedule_detail.html",
        {
            "schedule": schedule,
            "form": form,
            "filtered": bool(filters["text"] or filters["category"]),
            "lines": selectors.schedule_lines(schedule, procedures, on_date=today),
            "today": today,
            "default_schedule": schedule if schedule.is_default else selectors.default_schedule(request.clinic),
            "can_edit": is_manager(request.user, request.clinic),
        },
    )


@require_http_methods(["GET", "POST"])
@manager_required
def fee_schedule_edit(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    schedule = selectors.get_fee_schedule_for_user(request, public_id)
    form = FeeScheduleForm(
        _posted(request),
        initial={"name": schedule.name, "kind": schedule.kind, "description": schedule.description},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.fee_schedule_update(schedule=schedule, by=request.user, values=form.cleaned_data, request=request)
        except ValidationError as error:
            _attach(form, error)
        else:
            messages.success(request, "Changes saved.")
            return redirect("catalog:fee_schedule_detail", public_id=schedule.public_id)
    return render(request, "catalog/fee_schedule_form.html", {"form": form, "schedule": schedule})


@require_POST
@manager_required
def fee_schedule_default(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    schedule = selectors.get_fee_schedule_for_user(request, public_id)
    services.fee_schedule_set_default(schedule=schedule, by=request.user, request=request)
    messages.success(request, f"{schedule.name} is now the default fee schedule at {request.clinic.name}.")
    return redirect("catalog:fee_schedule_detail", public_id=schedule.public_id)


@require_http_methods(["GET", "POST"])
@manager_required
def fee_schedule_fees(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    schedule = selectors.get_fee_schedule_for_user(request, public_id)
    organisation = request.clinic.organisation
    filter_form = ProcedureFilterForm(request.GET or None)
    filters = filter_form.filters()
    procedures = list(selectors.search_procedures(organisation, text=filters["text"], category=filters["category"]))
    today = clinic_now(request.clinic).date()
    form = FeesForm(
        _posted(request), procedures=procedures, currency=schedule.currency, initial={"effective_from": today}
    )
    if request.method == "POST" and form.is_valid():
        try:
            changed = services.fees_set(
                schedule=schedule,
                by=request.user,
                effective_from=form.effective_date,
                amounts=form.amounts(),
                request=request,
            )
        except ValidationError as error:
            _attach(form, error)
        else:
            when = day_in_words(form.effective_date)
            if changed:
                messages.success(request, f"{changed} fee{'s' if changed != 1 else ''} saved, applying from {when}.")
            else:
                messages.info(request, f"No fees changed: the amounts typed already apply on {when}.")
            return redirect("catalog:fee_schedule_detail", public_id=schedule.public_id)
    lines = selectors.schedule_lines(schedule, procedures, on_date=today)
    return render(
        request,
        "catalog/fee_schedule_fees.html",
        {
            "schedule": schedule,
            "form": form,
            "filter_form": filter_form,
            "filtered": bool(filters["text"] or filters["category"]),
            "rows": [(line, form.fee_field(line.procedure)) for line in lines],
            "today": today,
        },
    )
