"""Forms of the board and the list: the filters (read from the address, so a view can be shared),
moving a case, and reassigning cases."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any, cast

from django import forms

from clearplan.catalog.models import PackTemplate
from clearplan.patients.selectors import practitioners_at
from clearplan.pipeline.models import BOARD_STAGES, NotProceedingReason, Stage
from clearplan.pipeline.selectors import DEFAULT_SORT, LIST_SORTS, UNASSIGNED, CaseFilters, Engagement
from clearplan.plans.models import PlanType
from clearplan.plans.selectors import staff_at

if TYPE_CHECKING:
    from clearplan.accounts.models import Clinic, User


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        # A date input only understands ISO dates, whatever the clinic's locale.
        super().__init__(attrs, format="%Y-%m-%d")


def _pick(choices: dict[str, Any], key: str) -> Any:
    return choices.get(key) if key else None


class CaseFilterForm(forms.Form):
    """The board's filters. Choices are read once each (team, practitioners, templates), so the
    form costs the same few queries whatever is chosen. A mistyped value is reported at its field
    and left out of the filtering."""

    clinic = forms.ChoiceField(label="Clinic", required=False)
    coordinator = forms.ChoiceField(label="Team member", required=False)
    dentist = forms.ChoiceField(label="Dentist", required=False)
    plan_type = forms.ChoiceField(label="Type of plan", required=False)
    value_min = forms.DecimalField(
        label="Value from", required=False, min_value=0, max_digits=12, decimal_places=2, localize=False
    )
    value_max = forms.DecimalField(
        label="Value up to", required=False, min_value=0, max_digits=12, decimal_places=2, localize=False
    )
    sent_from = forms.DateField(label="Sent from", required=False, widget=DateInput)
    sent_to = forms.DateField(label="Sent up to", required=False, widget=DateInput)
    engagement = forms.ChoiceField(label="Engagement", required=False)
    template = forms.ChoiceField(label="Template", required=False)

    def __init__(self, *args: Any, clinic: Clinic, clinics: list[Clinic], **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "filter-%s")
        super().__init__(*args, **kwargs)
        self.clinic_obj = clinic
        self._staff = {str(user.public_id): user for user in staff_at(clinic)}
        self._dentists = {str(user.public_id): user for user in practitioners_at(clinic)}
        self._templates = {
            str(template.public_id): template
            for template in PackTemplate.objects.filter(organisation_id=clinic.organisation_id).order_by(
                "retired_at", "name"
            )
        }
        if len(clinics) > 1:
            self._choices("clinic", [(str(c.public_id), c.name) for c in clinics], empty=None)
            self.initial.setdefault("clinic", str(clinic.public_id))
        else:
            del self.fields["clinic"]
        self._choices(
            "coordinator",
            [(UNASSIGNED, "No one assigned"), *((key, user.display_name) for key, user in self._staff.items())],
            empty="Anyone",
        )
        self._choices(
            "dentist", [(key, user.display_name) for key, user in self._dentists.items()], empty="Any dentist"
        )
        self._choices("plan_type", PlanType.choices, empty="Any type")
        self._choices("engagement", Engagement.CHOICES, empty="Any")
        self._choices(
            "template", [(key, template.name) for key, template in self._templates.items()], empty="Any template"
        )

    def _choices(self, name: str, choices: Any, *, empty: str | None) -> None:
        field = cast(forms.ChoiceField, self.fields[name])
        field.choices = [*([("", empty)] if empty is not None else []), *choices]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        low, high = cleaned.get("value_min"), cleaned.get("value_max")
        if low is not None and high is not None and low > high:
            self.add_error("value_max", "Choose an amount at or above the “Value from” amount.")
        start, end = cleaned.get("sent_from"), cleaned.get("sent_to")
        if start and end and start > end:
            self.add_error("sent_to", "Choose a date on or after the “Sent from” date.")
        return cleaned

    def chosen_clinic(self) -> str:
        """The public id of the clinic asked for in the address, if any."""
        return str(self.data.get("clinic", ""))

    def filters(self) -> CaseFilters:
        """The filters that were valid; a mistyped one is left out (and shown at its field)."""
        data = self.cleaned_data if self.is_bound and hasattr(self, "cleaned_data") else {}
        coordinator = data.get("coordinator") or ""
        return CaseFilters(
            coordinator=_pick(self._staff, coordinator),
            unassigned=coordinator == UNASSIGNED,
            dentist=_pick(self._dentists, data.get("dentist") or ""),
            plan_type=data.get("plan_type") or "",
            value_min=data.get("value_min"),
            value_max=data.get("value_max"),
            sent_from=data.get("sent_from"),
            sent_to=data.get("sent_to") if not self.has_error("sent_to") else None,
            engagement=data.get("engagement") or "",
            template=_pick(self._templates, data.get("template") or ""),
            stage=data.get("stage") or "",
        )

    def active_count(self) -> int:
        chosen = self.filters()
        return sum(
            1
            for value in (
                chosen.coordinator or chosen.unassigned,
                chosen.dentist,
                chosen.plan_type,
                chosen.value_min is not None or chosen.value_max is not None,
                chosen.sent_from or chosen.sent_to,
                chosen.engagement,
                chosen.template,
                chosen.stage,
            )
            if value
        )


STAGE_FILTER_CHOICES = [
    *((stage, Stage(stage).label) for stage in BOARD_STAGES),
    (Stage.COMPLETED.value, Stage.COMPLETED.label),
]


class ListFilterForm(CaseFilterForm):
    """The list's filters: the board's, a stage (Completed too), and the order."""

    stage = forms.ChoiceField(label="Stage", required=False)
    sort = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._choices("stage", STAGE_FILTER_CHOICES, empty="Any open stage")

    def clean_sort(self) -> str:
        sort = self.cleaned_data.get("sort") or ""
        return sort if sort.lstrip("-") in LIST_SORTS else DEFAULT_SORT

    def chosen_sort(self) -> str:
        """The order asked for; completed cases come most recently completed first by default."""
        data = getattr(self, "cleaned_data", {})
        if data.get("sort") and self.data.get("sort"):
            return str(data["sort"])
        return "days" if data.get("stage") == Stage.COMPLETED else DEFAULT_SORT


class MoveForm(forms.Form):
    """Moving one case. The service decides whether the move is allowed; its messages come back
    at these fields."""

    case = forms.UUIDField(widget=forms.HiddenInput)
    revision = forms.IntegerField(min_value=0, widget=forms.HiddenInput)
    to_stage = forms.ChoiceField(
        label="Move to",
        choices=Stage.choices,
        error_messages={"required": "Choose a stage.", "invalid_choice": "Choose a stage."},
    )
    reason = forms.ChoiceField(
        label="Why not now?",
        required=False,
        choices=[("", "Choose a reason"), *NotProceedingReason.choices],
    )
    look_again_on = forms.DateField(
        label="Look at it again on",
        required=False,
        widget=DateInput,
        help_text="The case comes back for follow-up on this day.",
    )
    note = forms.CharField(
        label="Note for the team",
        required=False,
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"max_length": "Keep the note under 300 characters."},
    )

    def __init__(self, *args: Any, prefix_id: str = "move", **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", f"{prefix_id}-%s")
        super().__init__(*args, **kwargs)


class ReassignForm(forms.Form):
    """Handing one case or many to another team member of the clinic."""

    cases = forms.TypedMultipleChoiceField(
        label="Cases",
        coerce=uuid.UUID,
        error_messages={"required": "Tick the cases to reassign."},
    )
    to = forms.ChoiceField(
        label="Reassign to",
        error_messages={
            "required": "Choose who takes these cases over.",
            "invalid_choice": "Choose someone who works at this clinic.",
        },
    )

    def __init__(self, *args: Any, clinic: Clinic, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "reassign-%s")
        super().__init__(*args, **kwargs)
        self._staff = {str(user.public_id): user for user in staff_at(clinic)}
        cast(forms.ChoiceField, self.fields["to"]).choices = [
            ("", "Choose a team member"),
            *((key, user.display_name) for key, user in self._staff.items()),
        ]
        # Any case id is accepted here; the view looks each one up within the clinic.
        submitted = self.data.getlist("cases") if hasattr(self.data, "getlist") else []
        cast(forms.ChoiceField, self.fields["cases"]).choices = [(value, value) for value in submitted]

    def clean_cases(self) -> list[uuid.UUID]:
        return list(dict.fromkeys(self.cleaned_data.get("cases") or []))

    def person(self) -> User:
        return self._staff[self.cleaned_data["to"]]
