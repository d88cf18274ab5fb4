"""Forms read what staff type; the services decide whether it makes sense (teeth, surfaces,
fees), and their messages are put back at the field they are about."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django import forms
from django.core.exceptions import ValidationError

from clearplan.accounts.models import Clinic, User
from clearplan.catalog.models import Category, Procedure
from clearplan.lib.teeth import Quadrant, format_tooth, numbering_hint
from clearplan.patients.forms import PractitionerChoiceField
from clearplan.patients.selectors import practitioners_at
from clearplan.plans.models import Case, PlanLine, PlanType
from clearplan.plans.selectors import staff_at
from clearplan.plans.services import LineInput

T = TypeVar("T")


class StaffChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return obj.display_name


class DateInput(forms.DateInput):
    input_type = "date"


def attach_errors(form: forms.Form, error: ValidationError) -> None:
    """Put a service's messages on the form, each at its field when the form has it."""
    if hasattr(error, "error_dict"):
        for field, messages in error.message_dict.items():
            for message in messages:
                form.add_error(field if field in form.fields else None, message)
    else:
        for message in error.messages:
            form.add_error(None, message)


def submit_form(form: forms.Form, action: Callable[[], T]) -> T | None:
    """Run `action` (a service call reading `form.cleaned_data`) when the form is valid and give back
    what it returns. When the form or the service refuses, the messages are on the form and nothing
    is returned, so `form.errors` tells the caller whether it went through."""
    if not form.is_valid():
        return None
    try:
        return action()
    except ValidationError as error:
        attach_errors(form, error)
        return None


class ConversationForm(forms.Form):
    """Who had the treatment conversation and when: shared by the case form and the composer's first step."""

    dentist = PractitionerChoiceField(
        queryset=User.objects.none(),
        label="Dentist",
        empty_label="Choose the dentist",
        error_messages={
            "required": "Choose the dentist who had the conversation.",
            "invalid_choice": "Choose a dentist or other practitioner who works at this clinic.",
        },
    )
    coordinator = StaffChoiceField(
        queryset=User.objects.none(),
        required=False,
        label="Treatment coordinator",
        empty_label="No one yet",
        error_messages={"invalid_choice": "Choose someone who works at this clinic."},
    )
    conversation_date = forms.DateField(
        label="Date of the conversation",
        widget=DateInput(format="%Y-%m-%d"),
        error_messages={"required": "Enter the date of the conversation.", "invalid": "Enter a date."},
    )

    def __init__(self, *args: Any, clinic: Clinic, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["dentist"].queryset = practitioners_at(clinic)  # type: ignore[attr-defined]
        self.fields["coordinator"].queryset = staff_at(clinic)  # type: ignore[attr-defined]


class CaseForm(ConversationForm):
    plan_type = forms.ChoiceField(
        choices=PlanType.choices,
        label="Type of plan",
        widget=forms.RadioSelect,
        error_messages={"required": "Choose the type of plan."},
    )
    key_points = forms.CharField(
        required=False,
        label="Key points for the team",
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="What the dentist wants the team to know: the findings, what matters to the patient, what to stress.",
    )

    @classmethod
    def initial_for(cls, case: Case) -> dict[str, Any]:
        return {
            "dentist": case.dentist_id,
            "coordinator": case.coordinator_id,
            "conversation_date": case.conversation_date,
            "plan_type": case.plan_type,
            "key_points": case.key_points,
        }


def procedure_choices(procedures: list[Procedure]) -> list[tuple[str, Any]]:
    """Grouped by category, so a long catalogue stays easy to scan in one select."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for procedure in procedures:
        label = Category(procedure.category).label if procedure.category in Category.values else "Other"
        groups.setdefault(label, []).append((str(procedure.public_id), f"{procedure.code} — {procedure.name}"))
    return [("", "Choose a procedure"), *sorted(groups.items())]


class LineForm(forms.Form):
    """One plan line. The catalogue is read once per page and handed to every option's form."""

    procedure = forms.ChoiceField(
        label="Procedure",
        error_messages={
            "required": "Choose a procedure.",
            "invalid_choice": "Choose a current procedure from this practice's catalogue.",
        },
    )
    tooth = forms.CharField(required=False, max_length=10, label="Tooth")
    surfaces = forms.CharField(
        required=False, max_length=40, label="Surfaces", help_text="For fillings: letters such as MOD."
    )
    area = forms.CharField(
        required=False,
        max_length=20,
        label="Arch or quadrant",
        help_text="Only for work on a whole arch (upper, lower) or quadrant (UR, UL, LL, LR).",
    )
    quantity = forms.IntegerField(
        initial=1,
        label="How many",
        error_messages={"required": "Enter how many, 1 or more.", "invalid": "Enter a whole number."},
    )
    phase = forms.IntegerField(
        initial=1,
        label="Phase",
        help_text="Phase 1 is done first.",
        error_messages={"required": "Enter the phase, 1 or more.", "invalid": "Enter a whole number."},
    )
    note = forms.CharField(required=False, max_length=300, label="Note")
    fee_override = forms.CharField(
        required=False,
        max_length=20,
        label="Different fee",
        help_text="Leave empty to use the fee schedule.",
    )
    override_reason = forms.CharField(required=False, max_length=300, label="Reason for the different fee")

    def __init__(self, *args: Any, clinic: Clinic, procedures: list[Procedure], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.procedures = {str(procedure.public_id): procedure for procedure in procedures}
        self.fields["procedure"].choices = procedure_choices(procedures)  # type: ignore[attr-defined]
        self.fields["tooth"].help_text = numbering_hint(clinic.tooth_numbering)
        for name in ("tooth", "surfaces", "area", "fee_override"):
            self.fields[name].widget.attrs["autocomplete"] = "off"
        self.fields["fee_override"].widget.attrs["inputmode"] = "decimal"
        self.fields["quantity"].widget.attrs.update(min="1", max="99")
        self.fields["phase"].widget.attrs.update(min="1", max="20")

    def clean_procedure(self) -> Procedure:
        return self.procedures[self.cleaned_data["procedure"]]

    def line_input(self) -> LineInput:
        data = self.cleaned_data
        return LineInput(
            procedure=data["procedure"],
            tooth=data["tooth"],
            surfaces=data["surfaces"],
            area=data["area"],
            quantity=data["quantity"],
            phase=data["phase"],
            note=data["note"],
            fee_override=data["fee_override"],
            override_reason=data["override_reason"],
        )


class OptionForm(forms.Form):
    title = forms.CharField(
        max_length=120,
        label="Option name",
        required=False,
        help_text="For example “Option B: bridge”. Left empty, the next letter is used.",
    )


class OptionRenameForm(forms.Form):
    title = forms.CharField(max_length=120, label="Option name", error_messages={"required": "Give the option a name."})
    summary = forms.CharField(
        required=False,
        label="Summary for the patient",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="A few plain sentences about this option.",
    )


class NoPackForm(forms.Form):
    reason = forms.ChoiceField(
        choices=[choice for choice in Case.NoPackReason.choices if choice[0]],
        label="Why no pack is needed",
        widget=forms.RadioSelect,
        error_messages={"required": "Choose why this case needs no treatment pack."},
    )
    note = forms.CharField(required=False, max_length=300, label="Note for the team")


def line_initial(line: PlanLine, system: str) -> dict[str, Any]:
    """A stored line as staff would type it: the tooth in the clinic's numbering."""
    area = ""
    if line.arch:
        area = line.arch
    elif line.quadrant:
        area = Quadrant(line.quadrant).code
    return {
        "procedure": str(line.procedure.public_id),
        "tooth": format_tooth(line.tooth, system) if line.tooth else "",
        "surfaces": line.surfaces,
        "area": area,
        "quantity": line.quantity,
        "phase": line.phase,
        "note": line.note,
        "fee_override": str(line.fee) if line.fee_source == PlanLine.FeeSource.OVERRIDE else "",
        "override_reason": line.override_reason,
    }
