"""Forms for the composer: choosing the patient and the template, and placing suggested procedures."""

from __future__ import annotations

from typing import Any

from django import forms

from clearplan.accounts.models import Clinic
from clearplan.catalog.models import PackTemplate
from clearplan.lib.teeth import numbering_hint
from clearplan.plans.composer import Suggestion, SuggestionPick
from clearplan.plans.forms import ConversationForm


class PatientSearchForm(forms.Form):
    q = forms.CharField(
        label="Patient's name, phone or date of birth",
        max_length=100,
        error_messages={"required": "Type part of the patient's name to find them."},
    )


class TemplateChoiceForm(ConversationForm):
    template = forms.ModelChoiceField(
        queryset=PackTemplate.objects.none(),
        to_field_name="public_id",
        widget=forms.RadioSelect,
        label="Template",
        error_messages={
            "required": "Choose the template closest to the conversation.",
            "invalid_choice": "Choose one of this practice's current templates.",
        },
    )
    field_order = ["template"]

    def __init__(self, *args: Any, clinic: Clinic, **kwargs: Any) -> None:
        super().__init__(*args, clinic=clinic, **kwargs)
        self.fields["template"].queryset = PackTemplate.objects.filter(  # type: ignore[attr-defined]
            organisation_id=clinic.organisation_id
        ).active()


class SuggestionsForm:
    """The suggested procedures of one option: a tick for each, one tooth for all the tooth work
    (an implant, its abutment and crown go on the same tooth), and surfaces or an arch or
    quadrant where a procedure needs them. Field names carry the suggestion's key."""

    def __init__(self, suggestions: list[Suggestion], *, clinic: Clinic, prefix: str, data: Any = None) -> None:
        self.suggestions = suggestions
        self.prefix = prefix
        self.data = data
        self.hint = numbering_hint(clinic.tooth_numbering)
        self.errors: dict[str, list[str]] = {}
        self.needs_tooth = any(suggestion.needs_tooth for suggestion in suggestions)

    def name(self, field: str) -> str:
        return f"{self.prefix}-{field}"

    def value(self, field: str) -> str:
        if self.data is None:
            return ""
        return str(self.data.get(self.name(field), "")).strip()

    @property
    def tooth_value(self) -> str:
        return self.value("tooth")

    def is_picked(self, suggestion: Suggestion) -> bool:
        if self.data is None:
            return True
        return self.data.get(self.name(f"pick-{suggestion.key}")) == "on"

    def picks(self) -> list[SuggestionPick]:
        tooth = self.value("tooth")
        return [
            SuggestionPick(
                suggestion=suggestion,
                tooth=tooth,
                surfaces=self.value(f"surfaces-{suggestion.key}"),
                area=self.value(f"area-{suggestion.key}"),
            )
            for suggestion in self.suggestions
            if self.is_picked(suggestion)
        ]

    def set_errors(self, message_dict: dict[str, list[str]]) -> None:
        """Service messages keyed "<key>-<field>"; tooth messages are shown once, at the shared tooth."""
        for name, messages in message_dict.items():
            key, _, field = name.partition("-")
            target = "tooth" if field == "tooth" else ("general" if not field else f"{field}-{key}")
            if field == "procedure" or field == "fee_override" or field in ("quantity", "phase", "note"):
                target = f"row-{key}"
            bucket = self.errors.setdefault(target, [])
            bucket.extend(message for message in messages if message not in bucket)

    def rows(self) -> list[dict[str, Any]]:
        return [
            {
                "suggestion": suggestion,
                "picked": self.is_picked(suggestion),
                "pick_name": self.name(f"pick-{suggestion.key}"),
                "surfaces_name": self.name(f"surfaces-{suggestion.key}"),
                "surfaces_value": self.value(f"surfaces-{suggestion.key}"),
                "surfaces_errors": self.errors.get(f"surfaces-{suggestion.key}", []),
                "area_name": self.name(f"area-{suggestion.key}"),
                "area_value": self.value(f"area-{suggestion.key}"),
                "area_errors": self.errors.get(f"area-{suggestion.key}", []),
                "row_errors": self.errors.get(f"row-{suggestion.key}", []),
            }
            for suggestion in self.suggestions
        ]
