"""Settings → Follow-up rules: the clinic's limits (one form) and each of its four rules (one form
each, prefixed with the rule's kind). The checks are followup.check_settings and check_rule, the
same the save runs, so a message appears at its field before anything is saved."""

from __future__ import annotations

from typing import Any

from django import forms

from clearplan.pipeline.followup import (
    EMAIL_SUBJECT_MAX,
    MAX_CONTACTS,
    MAX_LOOK_AGAIN_DAYS,
    MAX_REMINDER_HOURS,
    MAX_RULE_DAYS,
    RULE_FIELDS,
    RULES_WITH_DAYS,
    RULES_WITH_WORDS,
    SETTINGS_FIELDS,
    SMS_TEXT_MAX,
    check_rule,
    check_settings,
)
from clearplan.pipeline.followup_calendar import WEEKDAY_NAMES
from clearplan.pipeline.models import FollowUpRule, FollowUpSettings, RuleKind


def _number(*, label: str, low: int, high: int, help_text: str = "") -> forms.IntegerField:
    # The range is checked by check_settings/check_rule, whose messages say what to choose.
    return forms.IntegerField(
        label=label,
        required=False,
        help_text=help_text,
        widget=forms.NumberInput(attrs={"min": low, "max": high, "inputmode": "numeric", "class": "input--short"}),
    )


def _time(label: str) -> forms.TimeField:
    return forms.TimeField(
        label=label,
        required=False,
        widget=forms.TimeInput(attrs={"type": "time", "class": "input--short"}, format="%H:%M"),
    )


class FollowUpSettingsForm(forms.Form):
    automatic_follow_up = forms.BooleanField(
        label="Send follow-up messages to patients automatically",
        required=False,
        help_text="When this is off, the rules still move cases and give the team tasks, and nothing is sent.",
    )
    max_automatic_contacts = _number(
        label="Most automatic messages per case",
        low=0,
        high=MAX_CONTACTS,
        help_text="Every automatic message about a case counts, by text, email or both. A patient never gets "
        "two on the same day.",
    )
    contact_from = _time("Contact patients from")
    contact_until = _time("Contact patients until")
    business_days = forms.MultipleChoiceField(
        label="Business days",
        required=False,
        choices=[(str(number), name) for number, name in enumerate(WEEKDAY_NAMES, start=1)],
        widget=forms.CheckboxSelectMultiple,
    )
    look_again_after_days = _number(
        label="Days before looking again",
        low=1,
        high=MAX_LOOK_AGAIN_DAYS,
        help_text="When a case is not proceeding for now, the date to look again is suggested this many "
        "days ahead. The team can choose another date.",
    )
    reminder_hours_before = _number(
        label="Appointment reminder, hours before",
        low=1,
        high=MAX_REMINDER_HOURS,
        help_text="How long before an appointment the patient's reminder goes.",
    )

    @staticmethod
    def initial_for(settings: FollowUpSettings) -> dict[str, Any]:
        initial = {field: getattr(settings, field) for field in SETTINGS_FIELDS}
        initial["business_days"] = list(settings.business_days)
        return initial

    def values(self) -> dict[str, Any]:
        values = {field: self.cleaned_data.get(field) for field in SETTINGS_FIELDS}
        values["business_days"] = "".join(sorted(self.cleaned_data.get("business_days") or []))
        values["automatic_follow_up"] = bool(values["automatic_follow_up"])
        return values

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for field, message in check_settings(self.values()).items():
            if field not in self.errors:
                self.add_error(field, message)
        return cleaned


class FollowUpRuleForm(forms.Form):
    enabled = forms.BooleanField(label="Use this rule", required=False)
    after_business_days = _number(label="After how many business days", low=1, high=MAX_RULE_DAYS)
    sms_text = forms.CharField(
        label="Text message",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "maxlength": SMS_TEXT_MAX}),
        help_text="The link to the pack is added after it.",
    )
    email_subject = forms.CharField(
        label="Email subject", required=False, widget=forms.TextInput(attrs={"maxlength": EMAIL_SUBJECT_MAX})
    )
    email_text = forms.CharField(
        label="Email",
        required=False,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text="A button to open the pack is added after it.",
    )

    def __init__(self, *args: Any, kind: str, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", kind)
        super().__init__(*args, **kwargs)
        self.kind = kind
        self.fields["enabled"].label = f"Use the “{RuleKind(kind).label}” rule"
        if kind not in RULES_WITH_DAYS:
            del self.fields["after_business_days"]
        if kind not in RULES_WITH_WORDS:
            for field in ("sms_text", "email_subject", "email_text"):
                del self.fields[field]
        elif kind == RuleKind.LOOK_AGAIN:
            self.fields[
                "sms_text"
            ].help_text = (
                "The link to the pack is added after it. Leave the three empty for a task only, with no message."
            )

    @staticmethod
    def initial_for(rule: FollowUpRule) -> dict[str, Any]:
        return {field: getattr(rule, field) for field in RULE_FIELDS}

    def values(self) -> dict[str, Any]:
        values = {field: self.cleaned_data.get(field) for field in RULE_FIELDS if field in self.fields}
        values["enabled"] = bool(values["enabled"])
        for field in ("sms_text", "email_subject", "email_text"):
            if field in values:
                values[field] = (values[field] or "").strip()
        return values

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for field, message in check_rule(self.kind, self.values()).items():
            if field not in self.errors:
                self.add_error(field, message)
        return cleaned

    def words_typed(self) -> dict[str, str]:
        """The words as typed, valid or not, for the preview."""
        source = self.data if self.is_bound else self.initial
        return {
            field: str(source.get(self.add_prefix(field) if self.is_bound else field, "") or "")
            for field in ("sms_text", "email_subject", "email_text")
            if field in self.fields
        }
