"""The composer's pages: Template · Plan · Images · Preview, then "Ready to send" and Send (the send
form itself is clearplan/packs/staff_views.py).

Each page reads its case through `get_case_for_user` (another clinic's case is a 404) and is
audited like the case page. Searching for a patient is posted, so no name is put in an address.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clearplan.accounts.access import staff_required
from clearplan.accounts.models import Clinic
from clearplan.catalog.template_selectors import pack_templates_by_plan_type
from clearplan.patients.selectors import get_patient_for_user, patients_of, read_query, search_patients
from clearplan.plans import composer
from clearplan.plans.composer_forms import PatientSearchForm, SuggestionsForm, TemplateChoiceForm
from clearplan.plans.forms import submit_form
from clearplan.plans.models import Case, CaseImage
from clearplan.plans.selectors import get_case_for_user, get_option_of_case, options_with_totals
from clearplan.plans.views import audit_case_view, line_add_form, new_case_initial, procedures_for_case

STEPS = (("template", "Template"), ("plan", "Plan"), ("images", "Images"), ("preview", "Preview"), ("send", "Send"))
BRAND_COLOUR = re.compile(r"^#[0-9A-Fa-f]{6}$")
DEFAULT_BRAND = "#1F6F78"


def composer_steps(current: str, case: Case | None) -> list[dict[str, Any]]:
    names = [name for name, _ in STEPS]
    urls = {
        "plan": reverse("plans:compose_plan", args=[case.public_id]) if case else "",
        "images": reverse("plans:compose_images", args=[case.public_id]) if case else "",
        "preview": reverse("plans:compose_preview", args=[case.public_id]) if case else "",
        "send": reverse("packs:send", args=[case.public_id]) if case and case.ready_at else "",
        "template": "",
    }
    return [
        {
            "number": index + 1,
            "label": label,
            "url": urls[name],
            "current": name == current,
            "done": names.index(name) < names.index(current),
        }
        for index, (name, label) in enumerate(STEPS)
    ]


def _image_url(image: CaseImage) -> str:
    return reverse("plans:image_file", args=[image.public_id, "medium"])


@require_http_methods(["GET", "POST"])
@staff_required
def compose_start(request: HttpRequest) -> HttpResponse:
    """ "New pack" from Today: find the patient first."""
    clinic = request.clinic
    results = None
    if request.method == "POST":
        form = PatientSearchForm(request.POST)
        if form.is_valid():
            results = list(search_patients(clinic, read_query(form.cleaned_data["q"], clinic=clinic))[:20])
    else:
        form = PatientSearchForm()
    recent = list(patients_of(clinic).order_by("-updated_at", "-id")[:8])
    context = {"form": form, "results": results, "recent": recent, "steps": composer_steps("template", None)}
    return render(request, "plans/composer/start.html", context)


@require_http_methods(["GET", "POST"])
@staff_required
def compose_template(request: HttpRequest, patient_id: uuid.UUID) -> HttpResponse:
    """Step 1: choose the template; the case is created with its options and lines."""
    patient = get_patient_for_user(request, patient_id)
    clinic = request.clinic
    if request.method == "POST":
        form = TemplateChoiceForm(request.POST, clinic=clinic)
        composed = submit_form(
            form,
            lambda: composer.case_create_from_template(
                patient=patient,
                template=form.cleaned_data["template"],
                dentist=form.cleaned_data["dentist"],
                coordinator=form.cleaned_data["coordinator"],
                conversation_date=form.cleaned_data["conversation_date"],
                by=request.user,
                request=request,
            ),
        )
        if composed is not None:
            for note in composed.notes:
                messages.warning(request, note)
            return redirect("plans:compose_plan", composed.case.public_id)
    else:
        form = TemplateChoiceForm(initial=new_case_initial(request, patient), clinic=clinic)
    chosen = form["template"].value()
    context = {
        "form": form,
        "patient": patient,
        "groups": pack_templates_by_plan_type(clinic.organisation),
        "chosen": str(chosen) if chosen else "",
        "steps": composer_steps("template", None),
    }
    return render(request, "plans/composer/template.html", context, status=400 if form.errors else 200)


def _render_plan(
    request: HttpRequest, case: Case, *, bound: dict[int, SuggestionsForm] | None = None, status: int = 200
) -> HttpResponse:
    procedures = procedures_for_case(case)
    views = options_with_totals(case)
    suggestions = composer.suggestions_for(case, [view.option for view in views])
    bound = bound or {}
    items = []
    for view in views:
        option = view.option
        found = suggestions.get(option.pk, [])
        suggestion_form = bound.get(option.pk) or SuggestionsForm(
            found, clinic=case.clinic, prefix=f"suggest-{option.public_id.hex[:8]}"
        )
        items.append(
            {
                "view": view,
                "add_form": line_add_form(case, option, procedures),
                "suggestions": suggestion_form if found else None,
            }
        )
    context = {"case": case, "patient": case.patient, "items": items, "steps": composer_steps("plan", case)}
    return render(request, "plans/composer/plan.html", context, status=status)


@require_GET
@staff_required
def compose_plan(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """Step 2: the options and lines, with the template's suggested procedures to place."""
    case = get_case_for_user(request, public_id)
    audit_case_view(request, case)
    return _render_plan(request, case)


@require_POST
@staff_required
def compose_add_suggestions(request: HttpRequest, public_id: uuid.UUID, option_id: uuid.UUID) -> HttpResponse:
    case = get_case_for_user(request, public_id)
    option = get_option_of_case(case, option_id)
    found = composer.suggestions_for(case, list(case.options.all())).get(option.pk, [])
    form = SuggestionsForm(found, clinic=case.clinic, prefix=f"suggest-{option.public_id.hex[:8]}", data=request.POST)
    try:
        composer.option_add_suggestions(option=option, picks=form.picks(), by=request.user, request=request)
    except ValidationError as error:
        form.set_errors(error.message_dict if hasattr(error, "error_dict") else {"": error.messages})
        return _render_plan(request, case, bound={option.pk: form}, status=400)
    return redirect(reverse("plans:compose_plan", args=[case.public_id]) + f"#option-{option.public_id}")


@require_GET
@staff_required
def compose_images(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """Step 3: upload pictures and choose the key images (the case page's own images card)."""
    case = get_case_for_user(request, public_id)
    audit_case_view(request, case)
    context = {"case": case, "patient": case.patient, "steps": composer_steps("images", case), "upload_form": None}
    return render(request, "plans/composer/images.html", context)


@require_GET
@staff_required
def compose_preview(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """Step 4: the pack page at phone width, as the patient will see it."""
    case = get_case_for_user(request, public_id)
    audit_case_view(request, case)
    pack = composer.build_pack_page(case, image_url=_image_url)
    context = {"case": case, "patient": case.patient, "pack": pack, "steps": composer_steps("preview", case)}
    return render(request, "plans/composer/preview.html", context)


@require_GET
@staff_required
def compose_pack_page(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """The pack page on its own, full width, for a look on a larger screen."""
    case = get_case_for_user(request, public_id)
    audit_case_view(request, case)
    pack = composer.build_pack_page(case, image_url=_image_url)
    return render(request, "pack/pack_page.html", {"pack": pack, "staff_preview": True})


@require_POST
@staff_required
def compose_ready(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    case = get_case_for_user(request, public_id)
    try:
        composer.case_mark_ready(case=case, by=request.user, request=request)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
        return redirect("plans:compose_preview", case.public_id)
    messages.success(request, "The pack is ready to send. You can still change it until it is sent.")
    return redirect("packs:send", case.public_id)


@require_GET
def brand_stylesheet(request: HttpRequest, clinic_id: uuid.UUID) -> HttpResponse:
    """The clinic's brand colour as a stylesheet, because the pack page may not carry inline styles.
    A colour is not private, so this needs no session (the patient's page uses it too)."""
    clinic = get_object_or_404(Clinic, public_id=clinic_id)
    brand = clinic.brand_colour if BRAND_COLOUR.match(clinic.brand_colour or "") else DEFAULT_BRAND
    text = composer.readable_text_colour(brand)
    css = f".pack {{ --pack-brand: {brand}; --pack-on-brand: {text}; }}\n"
    response = HttpResponse(css, content_type="text/css; charset=utf-8")
    response["Cache-Control"] = "public, max-age=300"
    return response
