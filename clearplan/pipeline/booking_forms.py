"""The appointment forms. They read what was typed; clearplan.pipeline.bookings decides whether it
makes sense, and its refusals come back at the field they are about."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django import forms
from django.core.exceptions import ValidationError

from clearplan.accounts.models import Membership
from clearplan.lib.clinic_time import clinic_now, clinic_zone
from clearplan.packs.staff_forms import TimeInput
from clearplan.pipeline import bookings
from clearplan.plans.forms import DateInput
from clearplan.plans.models import PlanLine
from clearplan.plans.templatetags.plans_display import line_where

if TYPE_CHECKING:
    from clearplan.accounts.models import Clinic, User
    from clearplan.pipeline.models import Booking
    from clearplan.plans.models import Case

Role = Membership.Role
# Who appointments are usually with comes first in the list.
CLINICAL_ORDER = {"dentist": 0, "orthodontist": 1, "hygienist": 2, "oral_health_therapist": 3}


def bookable_staff(clinic: Clinic) -> list[tuple[User, str]]:
    """Everyone working at the clinic with how they are described: practitioners first (dentists,
    then orthodontists, hygienists and oral-health therapists), then the rest of the team."""
    memberships = Membership.objects.filter(clinic=clinic, user__is_active=True).select_related("user")

    def order(membership: Membership) -> tuple[int, int, str, str]:
        practitioner = membership.role == Role.PRACTITIONER
        return (
            0 if practitioner else 1,
            CLINICAL_ORDER.get(membership.clinical_role, 9),
            membership.user.first_name.lower(),
            membership.user.last_name.lower(),
        )

    staff = []
    for membership in sorted(memberships, key=order):
        if membership.role == Role.PRACTITIONER and membership.clinical_role:
            role = Membership.ClinicalRole(membership.clinical_role).label
        else:
            role = Membership.Role(membership.role).label
        staff.append((membership.user, role))
    return staff


def case_lines(case: Case) -> list[PlanLine]:
    return list(
        PlanLine.objects.filter(option__case=case)
        .select_related("option", "procedure")
        .order_by("option__position", "option__pk", "phase", "position", "pk")
    )


def line_label(line: PlanLine, clinic: Clinic) -> str:
    """ "Porcelain crown — tooth 26", "Full upper or lower denture — upper arch"."""
    where = line_where(line, clinic)
    where = f"tooth {where}" if line.tooth else where.lower()
    quantity = f" × {line.quantity}" if line.quantity > 1 else ""
    return f"{line.procedure.name}{f' — {where}' if where else ''}{quantity}"


class BookingForm(forms.Form):
    submission_key = forms.CharField(widget=forms.HiddenInput, max_length=64, required=False)
    day = forms.DateField(
        label="Day",
        widget=DateInput(format="%Y-%m-%d"),
        error_messages={"required": "Choose the day of the appointment.", "invalid": "Enter a date, e.g. 7/4/2026."},
    )
    time = forms.TimeField(
        label="Time",
        widget=TimeInput(format="%H:%M"),
        error_messages={"required": "Choose the time it starts.", "invalid": "Enter a time, e.g. 9:30 am."},
    )
    duration_minutes = forms.IntegerField(
        label="Length in minutes",
        initial=60,
        widget=forms.NumberInput(attrs={"min": bookings.MIN_MINUTES, "max": bookings.MAX_MINUTES, "step": 5}),
        error_messages={"required": "Say how long the appointment is.", "invalid": "Enter the length in minutes."},
    )
    practitioner = forms.ChoiceField(
        label="With",
        error_messages={
            "required": "Choose who the appointment is with.",
            "invalid_choice": "Choose someone who works at this clinic.",
        },
    )
    lines = forms.MultipleChoiceField(label="Treatment at this appointment", required=False)
    note = forms.CharField(
        label="Note for the team",
        required=False,
        max_length=bookings.NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Not sent to the patient.",
    )

    def __init__(self, *args: Any, case: Case, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.case = case
        clinic = case.clinic
        zone = clinic_zone(clinic)
        self.zone_name = zone.key.replace("_", " ")
        self.fields["time"].help_text = f"In the clinic's time ({self.zone_name})."
        staff = bookable_staff(clinic)
        self.staff = {str(user.public_id): user for user, _role in staff}
        choices: list[Any] = [("", "Choose who it is with")]
        choices += [(str(user.public_id), f"{user.display_name} ({role})") for user, role in staff]
        self.fields["practitioner"].choices = choices  # type: ignore[attr-defined]
        self.case_lines = {str(line.public_id): line for line in case_lines(case)}
        self.fields["lines"].choices = [  # type: ignore[attr-defined]
            (key, line_label(line, clinic)) for key, line in self.case_lines.items()
        ]
        self.fields["day"].widget.attrs["min"] = clinic_now(clinic).date().isoformat()

    @property
    def line_groups(self) -> list[dict[str, Any]]:
        """The plan's lines under their option, for checkboxes grouped by option."""
        chosen = {str(value) for value in (self["lines"].value() or [])}
        groups: dict[int, dict[str, Any]] = {}
        for position, (key, line) in enumerate(self.case_lines.items()):
            group = groups.setdefault(line.option_id, {"option": line.option, "lines": []})
            group["lines"].append(
                {
                    "value": key,
                    "id": f"id_lines_{position}",
                    "label": line_label(line, self.case.clinic),
                    "checked": key in chosen,
                }
            )
        return list(groups.values())

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        day: dt.date | None = cleaned.get("day")
        moment: dt.time | None = cleaned.get("time")
        cleaned["starts_at"] = None
        if day is not None and moment is not None:
            wall = dt.datetime.combine(day, moment)
            starts_at = bookings.on_the_clock(clinic_zone(self.case.clinic), wall)
            if starts_at.replace(tzinfo=None) != wall:
                self.add_error("time", "The clocks change at that time on this day. Choose another time.")
            cleaned["starts_at"] = starts_at
        cleaned["practitioner_user"] = self.staff.get(cleaned.get("practitioner") or "")
        cleaned["plan_lines"] = [self.case_lines[key] for key in cleaned.get("lines") or [] if key in self.case_lines]
        return cleaned

    def service_arguments(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "starts_at": data["starts_at"],
            "duration_minutes": data["duration_minutes"],
            "practitioner": data["practitioner_user"],
            "lines": data["plan_lines"],
            "note": data["note"],
        }

    def attach(self, error: ValidationError) -> None:
        """A service refusal, each message at its field: a time in the past is put at the day when
        the day itself has passed, else at the time."""
        if not hasattr(error, "error_dict"):
            for message in error.messages:
                self.add_error(None, message)
            return
        for field, messages in error.message_dict.items():
            target: str | None = field
            if field == "starts_at":
                day = self.cleaned_data.get("day")
                target = "day" if day is not None and day < clinic_now(self.case.clinic).date() else "time"
            if target not in self.fields:
                target = None
            for message in messages:
                self.add_error(target, message)


def booking_initial(booking: Booking) -> dict[str, Any]:
    local = booking.starts_at.astimezone(clinic_zone(booking.case.clinic))
    return {
        "day": local.date(),
        "time": local.time().replace(second=0, microsecond=0),
        "duration_minutes": booking.duration_minutes,
        "practitioner": str(booking.practitioner.public_id),
        "lines": [str(line.public_id) for line in booking.lines.all()],
        "note": booking.note,
    }


class CancelForm(forms.Form):
    reason = forms.CharField(
        label="Why is it cancelled?",
        max_length=bookings.REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="For the team; the patient is not shown this.",
        error_messages={"required": "Say why it is cancelled, for the team."},
    )
    tell_patient = forms.BooleanField(
        label="Tell the patient it is cancelled",
        required=False,
        initial=True,
        help_text="By SMS and email as their record allows, with a calendar file that removes it from their calendar.",
    )
