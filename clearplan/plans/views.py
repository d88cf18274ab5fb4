"""Case pages. Each view reads its case through `get_case_for_user`, calls one service and
renders. Line and option changes answer htmx requests with the option's card alone, and
everything else (and every request without JavaScript) with a redirect or the full page."""

from __future__ import annotations

import uuid
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from clearplan.accounts.access import staff_required
from clearplan.audit.models import AuditEvent
from clearplan.audit.services import audit_record
from clearplan.catalog.models import Procedure
from clearplan.catalog.selectors import procedures_for_new_plans
from clearplan.lib.clinic_time import clinic_now
from clearplan.patients.models import Patient
from clearplan.patients.selectors import get_patient_for_user
from clearplan.plans import services
from clearplan.plans.forms import (
    CaseForm,
    LineForm,
    NoPackForm,
    OptionForm,
    OptionRenameForm,
    line_initial,
    submit_form,
)
from clearplan.plans.models import Case, PlanOption
from clearplan.plans.selectors import (
    get_case_for_user,
    get_line_of_case,
    get_option_of_case,
    one_option_with_totals,
    options_with_totals,
)
from clearplan.plans.services import CASE_RECORD_TYPE


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def audit_case_view(request: HttpRequest, case: Case) -> None:
    audit_record(action=AuditEvent.Action.VIEW, request=request, obj=case, object_type=CASE_RECORD_TYPE)


def _case_url(case: Case, option: PlanOption | None = None) -> str:
    url = reverse("plans:detail", args=[case.public_id])
    return f"{url}#option-{option.public_id}" if option is not None else url


def procedures_for_case(case: Case) -> list[Procedure]:
    return list(procedures_for_new_plans(case.clinic.organisation))


def line_add_form(case: Case, option: PlanOption, procedures: list[Procedure], data: Any = None) -> LineForm:
    return LineForm(data, clinic=case.clinic, procedures=procedures, prefix=f"add-{option.public_id.hex[:8]}")


def new_case_initial(request: HttpRequest, patient: Patient) -> dict[str, Any]:
    """A new case starts today, with the patient's own dentist and, for a coordinator, themself."""
    initial: dict[str, Any] = {"conversation_date": clinic_now(request.clinic).date()}
    if patient.primary_dentist_id:
        initial["dentist"] = patient.primary_dentist_id
    if request.role == "coordinator":
        initial["coordinator"] = request.user.pk
    return initial


def _render_case(
    request: HttpRequest, case: Case, *, bound: dict[int, LineForm] | None = None, status: int = 200
) -> HttpResponse:
    procedures = procedures_for_case(case)
    views = options_with_totals(case)
    bound = bound or {}
    options = [
        {"view": view, "add_form": bound.get(view.option.pk) or line_add_form(case, view.option, procedures)}
        for view in views
    ]
    context = {
        "case": case,
        "patient": case.patient,
        "options": options,
        "option_form": OptionForm(),
        "has_no_treatment": any(view.option.kind == PlanOption.Kind.NO_TREATMENT for view in views),
        "can_add_option": len(views) < services.MAX_OPTIONS,
        "no_pack_form": NoPackForm(),
    }
    return render(request, "plans/case_detail.html", context, status=status)


def _render_option(
    request: HttpRequest, case: Case, option: PlanOption, form: LineForm | None = None, status: int = 200
) -> HttpResponse:
    procedures = procedures_for_case(case)
    view = one_option_with_totals(option)
    context = {
        "case": case,
        "item": {"view": view, "add_form": form or line_add_form(case, option, procedures)},
        "option_total_count": case.options.count(),
    }
    return render(request, "plans/_option.html", context, status=status)


@require_http_methods(["GET", "POST"])
@staff_required
def case_create_view(request: HttpRequest, patient_id: uuid.UUID) -> HttpResponse:
    patient = get_patient_for_user(request, patient_id)
    clinic = request.clinic
    if request.method == "POST":
        form = CaseForm(request.POST, clinic=clinic)
        case = submit_form(
            form,
            lambda: services.case_create(
                patient=patient,
                dentist=form.cleaned_data["dentist"],
                coordinator=form.cleaned_data["coordinator"],
                conversation_date=form.cleaned_data["conversation_date"],
                plan_type=form.cleaned_data["plan_type"],
                key_points=form.cleaned_data["key_points"],
                by=request.user,
                request=request,
            ),
        )
        if case is not None:
            return redirect(_case_url(case))
    else:
        form = CaseForm(initial=new_case_initial(request, patient), clinic=clinic)
    return render(request, "plans/case_form.html", {"form": form, "patient": patient, "case": None})


@require_http_methods(["GET", "POST"])
@staff_required
def case_edit_view(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    case = get_case_for_user(request, public_id)
    if request.method == "POST":
        form = CaseForm(request.POST, clinic=case.clinic)
        submit_form(
            form, lambda: services.case_update(case=case, by=request.user, request=request, **form.cleaned_data)
        )
        if not form.errors:
            return redirect(_case_url(case))
    else:
        audit_case_view(request, case)
        form = CaseForm(initial=CaseForm.initial_for(case), clinic=case.clinic)
    return render(request, "plans/case_form.html", {"form": form, "patient": case.patient, "case": case})


@require_http_methods(["GET"])
@staff_required
def case_detail_view(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    case = get_case_for_user(request, public_id)
    audit_case_view(request, case)
    return _render_case(request, case)


@require_http_methods(["GET", "POST"])
@staff_required
def case_no_pack_view(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    case = get_case_for_user(request, public_id)
    if request.method == "POST":
        form = NoPackForm(request.POST)
        submit_form(
            form,
            lambda: services.case_mark_no_pack(
                case=case,
                reason=form.cleaned_data["reason"],
                note=form.cleaned_data["note"],
                by=request.user,
                request=request,
            ),
        )
        if not form.errors:
            return redirect(_case_url(case))
    else:
        audit_case_view(request, case)
        form = NoPackForm()
    return render(request, "plans/no_pack_form.html", {"form": form, "case": case, "patient": case.patient})


@require_POST
@staff_required
def case_pack_needed_view(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    case = get_case_for_user(request, public_id)
    services.case_clear_no_pack(case=case, by=request.user, request=request)
    return redirect(_case_url(case))


@require_POST
@staff_required
def option_add_view(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    case = get_case_for_user(request, public_id)
    kind = request.POST.get("kind", PlanOption.Kind.TREATMENT)
    form = OptionForm(request.POST)
    title = form.cleaned_data["title"] if form.is_valid() else ""
    try:
        option = services.option_add(case=case, title=title, kind=kind, by=request.user, request=request)
    except ValidationError as error:
        context = {"case": case, "patient": case.patient, "errors": error.messages}
        return render(request, "plans/case_problem.html", context, status=400)
    return redirect(_case_url(case, option))


@require_http_methods(["GET", "POST"])
@staff_required
def option_edit_view(request: HttpRequest, public_id: uuid.UUID, option_id: uuid.UUID) -> HttpResponse:
    case = get_case_for_user(request, public_id)
    option = get_option_of_case(case, option_id)
    if request.method == "POST":
        form = OptionRenameForm(request.POST)
        submit_form(
            form,
            lambda: services.option_rename(
                option=option,
                title=form.cleaned_data["title"],
                summary=form.cleaned_data["summary"],
                by=request.user,
                request=request,
            ),
        )
        if not form.errors:
            return redirect(_case_url(case, option))
    else:
        audit_case_view(request, case)
        form = OptionRenameForm(initial={"title": option.title, "summary": option.summary})
    context = {"form": form, "case": case, "option": option, "patient": case.patient}
    return render(request, "plans/option_form.html", context)


@require_POST
@staff_required
def option_remove_view(request: HttpRequest, public_id: uuid.UUID, option_id: uuid.UUID) -> HttpResponse:
    case = get_case_for_user(request, public_id)
    option = get_option_of_case(case, option_id)
    services.option_remove(option=option, by=request.user, request=request)
    return redirect(_case_url(case))


@require_POST
@staff_required
def option_recommend_view(request: HttpRequest, public_id: uuid.UUID, option_id: uuid.UUID) -> HttpResponse:
    case = get_case_for_user(request, public_id)
    option = get_option_of_case(case, option_id)
    services.option_set_recommended(option=option, by=request.user, request=request)
    return redirect(_case_url(case, option))


@require_POST
@staff_required
def option_move_view(request: HttpRequest, public_id: uuid.UUID, option_id: uuid.UUID) -> HttpResponse:
    case = get_case_for_user(request, public_id)
    option = get_option_of_case(case, option_id)
    order = list(case.options.order_by("position", "pk"))
    index = next(i for i, each in enumerate(order) if each.pk == option.pk)
    step = -1 if request.POST.get("direction") == "earlier" else 1
    target = index + step
    if 0 <= target < len(order):
        order[index], order[target] = order[target], order[index]
        services.option_reorder(case=case, order=order, by=request.user, request=request)
    return redirect(_case_url(case, option))


@require_POST
@staff_required
def line_add_view(request: HttpRequest, public_id: uuid.UUID, option_id: uuid.UUID) -> HttpResponse:
    case = get_case_for_user(request, public_id)
    option = get_option_of_case(case, option_id)
    procedures = procedures_for_case(case)
    form = line_add_form(case, option, procedures, request.POST)
    submit_form(
        form, lambda: services.line_add(option=option, data=form.line_input(), by=request.user, request=request)
    )
    if not form.errors:
        if _is_htmx(request):
            return _render_option(request, case, option)
        return redirect(_case_url(case, option))
    if _is_htmx(request):
        # 200 so htmx swaps the card in and the messages show at their fields.
        return _render_option(request, case, option, form=form)
    return _render_case(request, case, bound={option.pk: form}, status=400)


@require_http_methods(["GET", "POST"])
@staff_required
def line_edit_view(request: HttpRequest, public_id: uuid.UUID, line_id: uuid.UUID) -> HttpResponse:
    case = get_case_for_user(request, public_id)
    line = get_line_of_case(case, line_id)
    procedures = procedures_for_case(case)
    if line.procedure not in procedures:
        # A retired procedure stays selectable on the line that already has it.
        procedures.append(line.procedure)
    if request.method == "POST":
        form = LineForm(request.POST, clinic=case.clinic, procedures=procedures)
        submit_form(
            form, lambda: services.line_update(line=line, data=form.line_input(), by=request.user, request=request)
        )
        if not form.errors:
            return redirect(_case_url(case, line.option))
    else:
        audit_case_view(request, case)
        form = LineForm(
            initial=line_initial(line, case.clinic.tooth_numbering), clinic=case.clinic, procedures=procedures
        )
    context = {"form": form, "case": case, "line": line, "patient": case.patient}
    return render(request, "plans/line_form.html", context, status=400 if form.errors else 200)


@require_POST
@staff_required
def line_remove_view(request: HttpRequest, public_id: uuid.UUID, line_id: uuid.UUID) -> HttpResponse:
    case = get_case_for_user(request, public_id)
    line = get_line_of_case(case, line_id)
    option = line.option
    services.line_remove(line=line, by=request.user, request=request)
    if _is_htmx(request):
        return _render_option(request, case, option)
    return redirect(_case_url(case, option))
