from __future__ import annotations

from typing import Any, cast

from django import forms

from clearplan.accounts.models import Clinic, User
from clearplan.audit.models import AuditEvent
from clearplan.audit.selectors import AuditScope


class StaffChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return obj.display_name


class AuditFilterForm(forms.Form):
    """The filters of the audit log. They travel in the URL, so a filtered view can be bookmarked; the
    record name (often a patient's) travels only as a session token standing for it."""

    q = forms.CharField(
        label="Record",
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Patient or record name"}),
    )
    clinic: forms.ModelChoiceField[Clinic] = forms.ModelChoiceField(
        label="Clinic", queryset=None, required=False, to_field_name="public_id", empty_label="All clinics"
    )
    staff = StaffChoiceField(
        label="Staff member", queryset=None, required=False, to_field_name="public_id", empty_label="Anyone"
    )
    action = forms.ChoiceField(label="Action", required=False)
    record_type = forms.ChoiceField(label="Record type", required=False)
    date_from = forms.DateField(label="From", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label="To", required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(
        self, *args: Any, scope: AuditScope, staff: Any, record_types: list[tuple[str, str]], **kwargs: Any
    ) -> None:
        kwargs.setdefault("auto_id", "filter-%s")
        super().__init__(*args, **kwargs)
        if scope.spans_clinics:
            clinic_field = cast(forms.ModelChoiceField, self.fields["clinic"])
            clinic_field.queryset = Clinic.objects.filter(pk__in=[clinic.pk for clinic in scope.clinics])
        else:
            del self.fields["clinic"]
        cast(StaffChoiceField, self.fields["staff"]).queryset = staff
        cast(forms.ChoiceField, self.fields["action"]).choices = [("", "Any action"), *AuditEvent.Action.choices]
        cast(forms.ChoiceField, self.fields["record_type"]).choices = [("", "Any record"), *record_types]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        date_from, date_to = cleaned.get("date_from"), cleaned.get("date_to")
        if date_from and date_to and date_from > date_to:
            self.add_error("date_to", "Choose a date on or after the “From” date.")
        return cleaned

    def filters(self) -> dict[str, Any]:
        """The filters that were valid; a mistyped one is reported at its field and left out."""
        data = getattr(self, "cleaned_data", {})
        return {
            "clinic": data.get("clinic"),
            "staff": data.get("staff"),
            "action": data.get("action") or "",
            "record_type": data.get("record_type") or "",
            "date_from": data.get("date_from"),
            "date_to": data.get("date_to"),
            "search": data.get("q") or "",
        }

    def active_filter_count(self) -> int:
        return sum(1 for value in self.filters().values() if value)
