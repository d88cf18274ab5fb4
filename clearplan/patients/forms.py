"""The patient form: reads what staff type (any phone format, the clinic's date order) and
explains every problem at the field it belongs to."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from django import forms

from clearplan.accounts.models import Clinic, Membership
from clearplan.patients import phones
from clearplan.patients.models import Patient
from clearplan.patients.selectors import patients_of, practitioners_at
from clearplan.patients.services import EDITABLE_FIELDS, sms_stop_warning, sms_stops_on_file

EXAMPLE_BIRTH_DATE = date(1988, 3, 14)


def date_order(clinic: Clinic) -> tuple[str, str]:
    """(format for strptime, how to say it) in the order the clinic writes dates."""
    if clinic.locale == Clinic.Locale.EN_US:
        return "%m/%d/%Y", "MM/DD/YYYY"
    return "%d/%m/%Y", "DD/MM/YYYY"


class PractitionerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        clinical_role = getattr(obj, "clinical_role", "")
        if clinical_role:
            return f"{obj.display_name} ({Membership.ClinicalRole(clinical_role).label})"
        return obj.display_name


class PatientForm(forms.ModelForm):
    class Meta:
        model = Patient
        fields = EDITABLE_FIELDS

    def __init__(self, *args: Any, clinic: Clinic, **kwargs: Any) -> None:
        kwargs.setdefault("instance", Patient(clinic=clinic))
        super().__init__(*args, **kwargs)
        self.clinic = clinic
        country = clinic.country
        strptime_format, spoken_format = date_order(clinic)
        example_date = EXAMPLE_BIRTH_DATE.strftime(strptime_format)
        self.date_error = f"Enter the date of birth as {spoken_format}, for example {example_date}."

        self.fields["first_name"].error_messages["required"] = "Enter the patient's legal first name."
        self.fields["first_name"].help_text = "As on their ID. Accents, hyphens and apostrophes are kept as typed."
        self.fields["last_name"].error_messages["required"] = "Enter the patient's legal last name."

        self.fields["date_of_birth"] = forms.DateField(
            label="Date of birth",
            input_formats=[
                strptime_format,
                "%Y-%m-%d",
                strptime_format.replace("/", "-"),
                strptime_format.replace("/", "."),
            ],
            help_text=f"{spoken_format}, for example {example_date}.",
            error_messages={"required": "Enter the patient's date of birth.", "invalid": self.date_error},
            widget=forms.DateInput(format=strptime_format, attrs={"inputmode": "numeric", "autocomplete": "off"}),
        )

        example = phones.example_mobile(country)
        for name, label in (("mobile", "Mobile"), ("guardian_mobile", "Parent or guardian's mobile")):
            self.fields[name] = forms.CharField(
                label=label,
                required=False,
                max_length=40,
                help_text=f"For example {example}. Numbers from other countries need their country code.",
                widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off", "inputmode": "tel"}),
            )
        self.fields["guardian_mobile"].help_text = ""
        if self.instance.pk and not self.is_bound:
            # Show saved numbers the way the clinic writes them, not in international form.
            for name in ("mobile", "guardian_mobile"):
                self.initial[name] = phones.for_display(getattr(self.instance, name), country=country)

        for name in ("email", "guardian_email"):
            self.fields[name].error_messages["invalid"] = "Enter an email address such as name@example.com."
            self.fields[name].widget.attrs["autocomplete"] = "off"

        self.fields["preferred_channel"].label = "Preferred way to contact"
        self.fields["consent_sms"].label = "Agrees to receive SMS"
        self.fields["consent_sms"].help_text = "Treatment information and reminders by text message."
        if self.instance.pk:
            stops = sms_stops_on_file(self.instance)
            if stops:
                self.fields["consent_sms"].help_text = sms_stop_warning(self.instance, stops[-1])
        self.fields["consent_email"].label = "Agrees to receive email"
        self.fields["pms_id"].label = "Practice-management system ID"
        self.fields["guardian_relationship"].help_text = "For example mother, father, legal guardian or carer."

        self.fields["primary_dentist"] = PractitionerChoiceField(
            queryset=practitioners_at(clinic),
            required=False,
            label="Primary dentist",
            empty_label="Not chosen yet",
            error_messages={"invalid_choice": "Choose a dentist or other practitioner who works at this clinic."},
        )
        self.fields["medical_alerts"].widget = forms.Textarea(attrs={"rows": 3})
        self.fields["medical_alerts"].help_text = (
            "Allergies, medicines such as blood thinners, and conditions the team must know before treatment. "
            "Shown at the top of the patient's page."
        )
        self.fields["notes"].widget = forms.Textarea(attrs={"rows": 3})
        self.fields["notes"].help_text = "For the team only; never shown to the patient."

        for name in ("first_name", "last_name", "preferred_name", "guardian_name", "pms_id", "guardian_relationship"):
            self.fields[name].widget.attrs["autocomplete"] = "off"

    # -- Reading what was typed ---------------------------------------------------------------

    def _clean_phone(self, name: str) -> str:
        typed = self.cleaned_data.get(name, "")
        try:
            return phones.mobile_to_e164(typed, country=self.clinic.country)
        except phones.InvalidPhoneNumber as error:
            raise forms.ValidationError(error.message) from error

    def clean_mobile(self) -> str:
        return self._clean_phone("mobile")

    def clean_guardian_mobile(self) -> str:
        return self._clean_phone("guardian_mobile")

    def clean_pms_id(self) -> str:
        pms_id = self.cleaned_data.get("pms_id", "").strip()
        if pms_id:
            taken = patients_of(self.clinic).filter(pms_id=pms_id).exclude(pk=self.instance.pk).first()
            if taken is not None:
                raise forms.ValidationError(
                    f"{taken.full_name} already has this practice-management ID at this clinic."
                )
        return pms_id

    def clean(self) -> dict[str, Any]:
        super().clean()
        # The model's rules skip what could not be read, so one typing slip gives one message.
        self.instance.unreadable_fields = frozenset(self.errors)
        return self.cleaned_data

    def details(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in EDITABLE_FIELDS}


class PatientCreateForm(PatientForm):
    confirm_different_person = forms.BooleanField(required=False, label="This is a different person — save anyway")
    # A new random value each time the empty form is shown; see Patient.creation_token.
    creation_token = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial["creation_token"] = str(uuid.uuid4())

    def submitted_creation_token(self) -> uuid.UUID | None:
        """The token this submission carries. A missing or garbled one (a form from an old page)
        is not an error the person could fix, so the patient is simply added without one."""
        try:
            return uuid.UUID(str(self.data.get("creation_token", "")))
        except ValueError:
            return None


class PatientEditForm(PatientForm):
    version = forms.CharField(widget=forms.HiddenInput, required=False)
