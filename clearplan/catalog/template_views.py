"""Settings → Pack templates. Everyone on the team can read templates and their preview;
owners and managers edit, copy, retire and restore them."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from clearplan.accounts.access import is_manager, manager_required, staff_required
from clearplan.catalog import template_selectors as selectors
from clearplan.catalog import template_services as services
from clearplan.catalog.placeholders import PLACEHOLDERS, render_text
from clearplan.catalog.template_forms import PackTemplateForm

if TYPE_CHECKING:
    from django.http import HttpRequest, HttpResponse


def _attach(form: PackTemplateForm, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, field_errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, field_errors)
    else:
        form.add_error(None, error)


def _preview(request: HttpRequest, content: dict[str, Any]) -> selectors.Preview:
    return selectors.build_preview(
        content, organisation=request.clinic.organisation_id, values=selectors.sample_values(request.clinic)
    )


@require_http_methods(["GET", "HEAD"])
@staff_required
def pack_template_list(request: HttpRequest) -> HttpResponse:
    show_retired = request.GET.get("retired") == "1"
    groups = selectors.pack_templates_by_plan_type(request.clinic.organisation, include_retired=show_retired)
    has_any = bool(groups) or selectors.pack_templates_of(request.clinic.organisation).exists()
    return render(
        request,
        "catalog/pack_templates/list.html",
        {
            "groups": groups,
            "has_any": has_any,
            "show_retired": show_retired,
            "can_edit": is_manager(request.user, request.clinic),
        },
    )


def _sending_preview(request: HttpRequest, template: Any) -> dict[str, Any]:
    """The template's messages and consent statements as the sample patient would get them."""
    values = {**selectors.sample_values(request.clinic), "team_member_name": request.user.display_name}
    return {
        "sms": render_text(template.sms_message, values),
        "email_subject": render_text(template.email_subject, values),
        "email": render_text(template.email_message, values),
        "consent": [render_text(statement, values) for statement in template.consent_statements or []],
    }


@require_http_methods(["GET", "HEAD"])
@staff_required
def pack_template_detail(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    template = selectors.get_pack_template_for_user(request, public_id)
    return render(
        request,
        "catalog/pack_templates/detail.html",
        {
            "template": template,
            "preview": _preview(request, selectors.template_content(template)),
            "sending": _sending_preview(request, template),
            "can_edit": is_manager(request.user, request.clinic),
        },
    )


@require_http_methods(["GET", "POST"])
@manager_required
def pack_template_edit(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    template = selectors.get_pack_template_for_user(request, public_id)
    if request.method == "POST":
        form = PackTemplateForm(request.POST)
        content = form.content_for_preview()
        # "Preview" without scripts: show the typed words beside the form, save nothing.
        if request.POST.get("action") != "preview" and form.is_valid():
            try:
                services.pack_template_update(template=template, by=request.user, values=form.values(), request=request)
            except ValidationError as error:
                _attach(form, error)
            else:
                messages.success(request, "Template saved.")
                return redirect("catalog:pack_template_detail", public_id=template.public_id)
    else:
        content = selectors.template_content(template)
        form = PackTemplateForm(
            initial=PackTemplateForm.initial_for(
                {field: getattr(template, field) for field in services.TEMPLATE_FIELDS}
            )
        )
    return render(
        request,
        "catalog/pack_templates/edit.html",
        {
            "template": template,
            "form": form,
            "preview": _preview(request, content),
            "placeholders": PLACEHOLDERS,
        },
    )


@require_POST
@manager_required
def pack_template_preview(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """The preview pane alone, re-rendered from the words being typed (htmx)."""
    selectors.get_pack_template_for_user(request, public_id)
    form = PackTemplateForm(request.POST)
    return render(
        request, "catalog/pack_templates/_preview.html", {"preview": _preview(request, form.content_for_preview())}
    )


@require_POST
@manager_required
def pack_template_duplicate(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    template = selectors.get_pack_template_for_user(request, public_id)
    copy = services.pack_template_duplicate(template=template, by=request.user, request=request)
    messages.success(request, f"“{copy.name}” is a copy of “{template.name}”. Change it as you need.")
    return redirect("catalog:pack_template_edit", public_id=copy.public_id)


@require_POST
@manager_required
def pack_template_retire(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    template = selectors.get_pack_template_for_user(request, public_id)
    services.pack_template_retire(template=template, by=request.user, request=request)
    messages.success(request, f"“{template.name}” is retired: it is no longer offered for new packs.")
    return redirect("catalog:pack_template_detail", public_id=template.public_id)


@require_POST
@manager_required
def pack_template_restore(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    template = selectors.get_pack_template_for_user(request, public_id)
    services.pack_template_restore(template=template, by=request.user, request=request)
    messages.success(request, f"“{template.name}” is offered for new packs again.")
    return redirect("catalog:pack_template_detail", public_id=template.public_id)


@require_POST
@manager_required
def pack_templates_starter(request: HttpRequest) -> HttpResponse:
    result = services.pack_templates_install_starter(
        organisation=request.clinic.organisation, by=request.user, request=request
    )
    if result.templates_added:
        messages.success(
            request,
            f"Added {result.templates_added} starter templates. "
            "Read them through and adjust the words to your practice.",
        )
    else:
        messages.info(request, "You already have every starter template; nothing was added.")
    return redirect("catalog:pack_templates")
