from __future__ import annotations

from typing import Any, cast

import phonenumbers
from django import forms
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError

from clearplan.accounts.logos import PreparedLogo, prepare_logo
from clearplan.accounts.models import Clinic, Membership, User, validate_time_zone

Role = Membership.Role

COMMON_TIME_ZONES = [
    ("Australia/Sydney", "Sydney, Canberra, Melbourne (AEST/AEDT)"),
    ("Australia/Brisbane", "Brisbane (AEST, no daylight saving)"),
    ("Australia/Adelaide", "Adelaide (ACST/ACDT)"),
    ("Australia/Darwin", "Darwin (ACST)"),
    ("Australia/Hobart", "Hobart (AEST/AEDT)"),
    ("Australia/Perth", "Perth (AWST)"),
    ("Pacific/Auckland", "Auckland (NZST/NZDT)"),
    ("Europe/London", "London (GMT/BST)"),
    ("Europe/Dublin", "Dublin (GMT/IST)"),
    ("America/New_York", "New York, Eastern time"),
    ("America/Chicago", "Chicago, Central time"),
    ("America/Denver", "Denver, Mountain time"),
    ("America/Phoenix", "Phoenix, Arizona (no daylight saving)"),
    ("America/Los_Angeles", "Los Angeles, Pacific time"),
    ("America/Anchorage", "Anchorage, Alaska time"),
    ("Pacific/Honolulu", "Honolulu, Hawaii time"),
]

CURRENCIES = [
    ("AUD", "Australian dollar (AUD)"),
    ("NZD", "New Zealand dollar (NZD)"),
    ("USD", "US dollar (USD)"),
    ("GBP", "Pound sterling (GBP)"),
    ("EUR", "Euro (EUR)"),
]

COUNTRY_NAMES = {"AU": "Australia", "US": "the United States", "GB": "the United Kingdom"}

PRACTITIONER_HINT = "Needed for practitioners: dentist, orthodontist, hygienist or oral-health therapist."


def _role_choices() -> list[tuple[str, str]]:
    return [(value, label) for value, label in Role.choices]


def _clinical_role_choices() -> list[tuple[str, str]]:
    return [("", "Not a practitioner")] + [(v, label) for v, label in Membership.ClinicalRole.choices if v]


class RoleFieldsMixin(forms.Form):
    role = forms.ChoiceField(label="Role", choices=_role_choices)
    clinical_role = forms.ChoiceField(
        label="Clinical role", choices=_clinical_role_choices, required=False, help_text=PRACTITIONER_HINT
    )

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        if cleaned.get("role") == Role.PRACTITIONER and not cleaned.get("clinical_role"):
            self.add_error("clinical_role", "Choose the practitioner's clinical role.")
        elif cleaned.get("role") and cleaned.get("role") != Role.PRACTITIONER:
            cleaned["clinical_role"] = ""
        return cleaned


class InvitationForm(RoleFieldsMixin):
    email = forms.EmailField(
        label="Email address",
        help_text="We'll email a link to set a password. It works for 7 days.",
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )
    field_order = ["email", "role", "clinical_role"]


class MembershipForm(RoleFieldsMixin):
    pass


class AcceptInvitationForm(forms.Form):
    first_name = forms.CharField(
        label="First name", max_length=150, widget=forms.TextInput(attrs={"autocomplete": "given-name"})
    )
    last_name = forms.CharField(
        label="Last name", max_length=150, required=False, widget=forms.TextInput(attrs={"autocomplete": "family-name"})
    )
    password1 = forms.CharField(
        label="Choose a password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="At least 10 characters. A short sentence you'll remember works well.",
    )
    password2 = forms.CharField(
        label="Type the password again",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args: Any, email: str, **kwargs: Any) -> None:
        self.email = email
        super().__init__(*args, **kwargs)

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        password1, password2 = cleaned.get("password1"), cleaned.get("password2")
        if password1 and password2 and password1 != password2:
            self.add_error("password2", "The two passwords don't match.")
        elif password1:
            # Checked against the name and email too, so "Olivia2024" is refused for Olivia.
            candidate = User(
                email=self.email, first_name=cleaned.get("first_name", ""), last_name=cleaned.get("last_name", "")
            )
            try:
                password_validation.validate_password(password1, user=candidate)
            except ValidationError as error:
                self.add_error("password1", error)
        return cleaned


class ProfileForm(forms.Form):
    first_name = forms.CharField(
        label="First name", max_length=150, widget=forms.TextInput(attrs={"autocomplete": "given-name"})
    )
    last_name = forms.CharField(
        label="Last name", max_length=150, required=False, widget=forms.TextInput(attrs={"autocomplete": "family-name"})
    )
    notify_by_email = forms.BooleanField(
        label="Email me about my cases (digests and replies from patients)", required=False
    )


class TwoFactorRequirementForm(forms.Form):
    require_two_factor = forms.BooleanField(
        label="Everyone must use two-factor authentication",
        required=False,
        help_text="Staff without an authenticator app will be asked to set one up the next time they open Clearplan.",
    )


class OrganisationForm(TwoFactorRequirementForm):
    name = forms.CharField(label="Organisation name", max_length=200)
    field_order = ["name", "require_two_factor"]


def _time_zone_choices(current: str | None) -> list[tuple[str, str]]:
    choices = list(COMMON_TIME_ZONES)
    if current and current not in dict(choices):
        choices.insert(0, (current, current))
    return choices


def _currency_choices(current: str | None) -> list[tuple[str, str]]:
    choices = list(CURRENCIES)
    if current and current not in dict(choices):
        choices.insert(0, (current, current))
    return choices


class ClinicDetailsForm(forms.Form):
    """What a clinic is called, where it is, and how it counts time, money and teeth."""

    name = forms.CharField(label="Clinic name", max_length=200)
    address = forms.CharField(
        label="Address", required=False, widget=forms.Textarea(attrs={"rows": 3, "autocomplete": "street-address"})
    )
    phone = forms.CharField(
        label="Phone",
        required=False,
        max_length=40,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
        help_text="Type it as you would dial it locally; we store it in international form.",
    )
    email = forms.EmailField(label="Email", required=False)
    time_zone = forms.ChoiceField(label="Time zone", help_text="Appointments, reminders and reports use this time.")
    locale = forms.ChoiceField(label="Language and region", choices=Clinic.Locale.choices)
    currency = forms.ChoiceField(label="Currency")
    tooth_numbering = forms.ChoiceField(label="Tooth numbering", choices=Clinic.ToothNumbering.choices)

    def __init__(self, *args: Any, organisation_clinics: Any = None, current: Clinic | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.current = current
        self.organisation_clinics = organisation_clinics
        cast(forms.ChoiceField, self.fields["time_zone"]).choices = _time_zone_choices(
            current.time_zone if current else None
        )
        cast(forms.ChoiceField, self.fields["currency"]).choices = _currency_choices(
            current.currency if current else None
        )

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if self.organisation_clinics is not None:
            others = self.organisation_clinics.filter(name__iexact=name)
            if self.current is not None:
                others = others.exclude(pk=self.current.pk)
            if others.exists():
                raise ValidationError("Another clinic in your organisation already has this name.")
        return name

    def clean_time_zone(self) -> str:
        value = self.cleaned_data["time_zone"]
        validate_time_zone(value)
        return value

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        phone = (cleaned.get("phone") or "").strip()
        locale = cleaned.get("locale")
        if phone and locale:
            country = Clinic.LOCALE_COUNTRY.get(locale, "AU")
            try:
                parsed = phonenumbers.parse(phone, country)
            except phonenumbers.NumberParseException:
                parsed = None
            if parsed is None or not phonenumbers.is_valid_number(parsed):
                self.add_error("phone", f"This doesn't look like a valid phone number in {COUNTRY_NAMES[country]}.")
            else:
                cleaned["phone"] = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
        else:
            cleaned["phone"] = phone
        return cleaned


class ClinicProfileForm(ClinicDetailsForm):
    brand_colour = forms.RegexField(
        label="Brand colour",
        regex=r"^#[0-9A-Fa-f]{6}$",
        max_length=7,
        error_messages={"invalid": "Use a colour written like #1F6F78 (a # and six letters or digits)."},
        help_text="Used on treatment packs and emails. A darker colour keeps white text readable.",
        widget=forms.TextInput(attrs={"spellcheck": "false", "autocomplete": "off", "data-colour-text": ""}),
    )
    logo = forms.FileField(
        label="Logo",
        required=False,
        help_text="PNG, JPEG or WebP, up to 1 MB and 4000 × 4000 pixels.",
        widget=forms.ClearableFileInput(attrs={"accept": "image/png,image/jpeg,image/webp"}),
    )
    remove_logo = forms.BooleanField(label="Remove the current logo", required=False)
    pack_verification = forms.ChoiceField(
        label="How patients prove who they are",
        choices=cast(list[tuple[str, str]], Clinic._meta.get_field("pack_verification").choices),
        widget=forms.RadioSelect,
        help_text="Asked before a patient sees anything in their pack. A code is sent to the patient's (or their "
        "parent or guardian's) own mobile or email on record.",
    )
    pack_link_days = forms.IntegerField(
        label="Days a pack link works",
        min_value=1,
        max_value=365,
        help_text="From 1 to 365. After this the patient asks the clinic for a new link; links already sent "
        "keep their own end date.",
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        error_messages={
            "min_value": "A link must work for at least 1 day.",
            "max_value": "A link can work for at most 365 days.",
            "invalid": "Enter a whole number of days.",
        },
    )

    def clean_logo(self) -> PreparedLogo | None:
        logo = self.cleaned_data.get("logo")
        if not logo:
            return None
        # Checked and re-encoded here, so nothing reaches storage until the image is known good.
        return prepare_logo(logo)


def clinic_initial(clinic: Clinic) -> dict[str, Any]:
    return {
        "name": clinic.name,
        "address": clinic.address,
        "phone": national_phone(clinic),
        "email": clinic.email,
        "time_zone": clinic.time_zone,
        "locale": clinic.locale,
        "currency": clinic.currency,
        "tooth_numbering": clinic.tooth_numbering,
        "brand_colour": clinic.brand_colour,
        "pack_verification": clinic.pack_verification,
        "pack_link_days": clinic.pack_link_days,
    }


def national_phone(clinic: Clinic) -> str:
    """Show a stored +61… number the way the practice writes it."""
    if not clinic.phone:
        return ""
    try:
        parsed = phonenumbers.parse(clinic.phone, clinic.country)
    except phonenumbers.NumberParseException:
        return clinic.phone
    if phonenumbers.region_code_for_number(parsed) == clinic.country:
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
