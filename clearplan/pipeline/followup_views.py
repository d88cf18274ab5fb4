"""Settings → Follow-up rules. Everyone on the team can read the clinic's rules and what patients
would get; owners and managers change them. One form saves the limits and the four rules
together; the previews follow the words as they are typed (htmx), or on "Preview" without scripts."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from clearplan.accounts.access import is_manager, manager_required, staff_required
from clearplan.catalog.placeholders import PLACEHOLDERS, render_text
from clearplan.catalog.template_selectors import sample_values
from clearplan.pipeline.followup import (
    RULE_EFFECTS,
    RULE_WHEN,
    follow_up_settings_save,
    rules_for,
    settings_for,
)
from clearplan.pipeline.followup_calendar import business_days_from_text, business_days_label
from clearplan.pipeline.followup_forms import FollowUpRuleForm, FollowUpSettingsForm
from clearplan.pipeline.models import FollowUpRule, RuleKind

if TYPE_CHECKING:
    from django.http import HttpRequest, HttpResponse


def clock(value: dt.time | None) -> str:
    """ "9:00 am", "6:30 pm"."""
    if value is None:
        return ""
    return value.strftime("%I:%M %p").lstrip("0").lower()


@dataclass
class RuleSection:
    kind: str
    title: str
    when: str
    effect: str
    form: FollowUpRuleForm
    rule: FollowUpRule
    preview: dict[str, str] | None

    @property
    def has_words(self) -> bool:
        return "sms_text" in self.form.fields


def words_preview(request: HttpRequest, words: dict[str, str]) -> dict[str, str] | None:
    """The words filled in for the sample patient, named as the person looking at the page."""
    if not any(text.strip() for text in words.values()):
        return None
    values = {**sample_values(request.clinic), "team_member_name": request.user.display_name}
    return {
        "sms": render_text(words.get("sms_text", ""), values).strip(),
        "email_subject": " ".join(render_text(words.get("email_subject", ""), values).split()),
        "email": render_text(words.get("email_text", ""), values).strip(),
    }


# The rules as a case meets them, for reading (they are applied in followup.RULE_ORDER).
PAGE_ORDER = (RuleKind.NOT_OPENED, RuleKind.VIEWED_NO_RESPONSE, RuleKind.NO_RESPONSE_MESSAGE, RuleKind.LOOK_AGAIN)


def _rule_forms(request: HttpRequest, data: Any = None) -> list[RuleSection]:
    rules = rules_for(request.clinic, save=False)
    sections = []
    for kind in PAGE_ORDER:
        form = FollowUpRuleForm(data, kind=kind, initial=FollowUpRuleForm.initial_for(rules[kind]))
        sections.append(
            RuleSection(
                kind=kind,
                title=RuleKind(kind).label,
                when=RULE_WHEN[kind],
                effect=RULE_EFFECTS[kind],
                form=form,
                rule=rules[kind],
                preview=words_preview(request, form.words_typed()),
            )
        )
    return sections


def _attach(error: ValidationError, settings_form: FollowUpSettingsForm, sections: list[RuleSection]) -> None:
    """A refusal from saving, at its field: "<kind>-<field>" is a rule's, anything else the limits'."""
    forms = {section.kind: section.form for section in sections}
    for key, messages_for_field in error.message_dict.items():
        kind, _, field = key.partition("-")
        if field and kind in forms and field in forms[kind].fields:
            forms[kind].add_error(field, messages_for_field)
        else:
            settings_form.add_error(key if key in settings_form.fields else None, messages_for_field)


@require_http_methods(["GET", "HEAD", "POST"])
@staff_required
def follow_up_rules(request: HttpRequest) -> HttpResponse:
    clinic = request.clinic
    can_edit = is_manager(request.user, clinic)
    if request.method == "POST" and not can_edit:
        raise PermissionDenied("Only the practice owner or a manager can change the follow-up rules.")
    data = request.POST if request.method == "POST" else None
    settings = settings_for(clinic)
    settings_form = FollowUpSettingsForm(data, initial=FollowUpSettingsForm.initial_for(settings))
    sections = _rule_forms(request, data)
    if data is not None and request.POST.get("action") != "preview":
        # Every form is checked, so each mistake shows at its field at once.
        valid = [settings_form.is_valid(), *(section.form.is_valid() for section in sections)]
        if all(valid):
            try:
                follow_up_settings_save(
                    clinic=clinic,
                    by=request.user,
                    values=settings_form.values(),
                    rules={section.kind: section.form.values() for section in sections},
                    request=request,
                )
            except ValidationError as error:
                _attach(error, settings_form, sections)
            else:
                messages.success(request, "The follow-up rules are saved. They apply from the worker's next round.")
                return redirect("pipeline:follow_up_rules")
    problems = [(field.id_for_label, field.label, error) for field in settings_form for error in field.errors]
    problems += [
        (field.id_for_label, f"{section.title} — {field.label}", error)
        for section in sections
        for field in section.form
        for error in field.errors
    ]
    return render(
        request,
        "pipeline/followup/rules.html",
        {
            "settings": settings,
            "settings_form": settings_form,
            "sections": sections,
            "can_edit": can_edit,
            "problems": problems,
            "business_days": business_days_label(business_days_from_text(settings.business_days)),
            "contact_from": clock(settings.contact_from),
            "contact_until": clock(settings.contact_until),
            # In a follow-up message the team member is whoever follows the case up.
            "placeholders": {**PLACEHOLDERS, "team_member_name": "The case's coordinator, or its dentist if none"},
        },
    )


@require_POST
@manager_required
def follow_up_rules_preview(request: HttpRequest) -> HttpResponse:
    """The previews alone, from the words being typed (htmx swaps each into its rule)."""
    return render(request, "pipeline/followup/_previews.html", {"sections": _rule_forms(request, request.POST)})
