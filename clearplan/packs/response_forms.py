"""The forms on the patient's pack: proceed, a question, not right now, and consent.

The forms only read what was sent; the rules (which option, every statement ticked, who may sign)
live in clearplan.packs.responses, whose messages land at the same field names. Each form carries a
random submission key, so sending it twice records once.
"""

from __future__ import annotations

import secrets
from typing import Any

from django import forms

from clearplan.packs.models import ConsentSignature, PatientResponse
from clearplan.packs.responses import (
    DRAWN_SIGNATURE_MAX_CHARS,
    GUARDIAN_RELATIONSHIPS,
    MESSAGE_MAX_CHARS,
    PREFERRED_TIME_CHOICES,
    SUBMISSION_KEY_MAX_CHARS,
    TRY_AGAIN,
)

FREE_TEXT_TIMES_MAX_CHARS = 300
TEXT_CLASS = "pack-input pack-input--text"


def new_submission_key() -> str:
    return secrets.token_urlsafe(24)


class _PatientForm(forms.Form):
    submission_key = forms.CharField(
        widget=forms.HiddenInput,
        max_length=SUBMISSION_KEY_MAX_CHARS,
        error_messages={"required": TRY_AGAIN, "max_length": TRY_AGAIN},
    )
    # The version the patient was reading when the form was shown; signing an older one is refused.
    version = forms.UUIDField(widget=forms.HiddenInput, required=False, error_messages={"invalid": TRY_AGAIN})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {})
        kwargs["initial"].setdefault("submission_key", new_submission_key())
        super().__init__(*args, **kwargs)


def _option_choices(options: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(str(option["public_id"]), str(option["title"])) for option in options]


def _option_field(label: str) -> forms.ChoiceField:
    # Optional here: the service says which option is missing, in words that fit proceeding or signing.
    return forms.ChoiceField(
        label=label,
        widget=forms.RadioSelect,
        required=False,
        error_messages={"invalid_choice": "Choose one of the options in your pack."},
    )


class ProceedForm(_PatientForm):
    option = _option_field("Which option would you like?")
    times = forms.MultipleChoiceField(
        label="When suits you for appointments?",
        help_text="Tick any that suit. The team will offer you times.",
        choices=[(choice, choice) for choice in PREFERRED_TIME_CHOICES],
        widget=forms.CheckboxSelectMultiple,
        required=False,
        error_messages={"invalid_choice": "Choose from the times shown, or type what suits you."},
    )
    preferred_times = forms.CharField(
        label="Anything else about times?",
        help_text="For example: after 3 pm on Tuesdays, or not in school holidays.",
        widget=forms.TextInput(attrs={"class": TEXT_CLASS}),
        max_length=FREE_TEXT_TIMES_MAX_CHARS,
        required=False,
        error_messages={"max_length": f"Please keep this to {FREE_TEXT_TIMES_MAX_CHARS} characters."},
    )

    def __init__(self, *args: Any, options: list[dict[str, Any]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["option"].choices = _option_choices(options)  # type: ignore[attr-defined]

    def preferred_times_text(self) -> str:
        """The quick choices and the free text as one line for the team."""
        parts = [*self.cleaned_data.get("times", []), self.cleaned_data.get("preferred_times", "")]
        return "; ".join(part for part in parts if part)


class QuestionForm(_PatientForm):
    message = forms.CharField(
        label="Your question",
        help_text="The team will reply by phone, text or email.",
        widget=forms.Textarea(attrs={"rows": 5, "class": TEXT_CLASS}),
        max_length=MESSAGE_MAX_CHARS,
        error_messages={
            "required": "Type your question for the team.",
            "max_length": f"Please keep your message to {MESSAGE_MAX_CHARS} characters.",
        },
    )


class NotNowForm(_PatientForm):
    reason = forms.ChoiceField(
        label="Would you like to tell us why?",
        choices=[choice for choice in PatientResponse.NotNowReason.choices if choice[0]],
        widget=forms.RadioSelect,
        required=False,
        error_messages={"invalid_choice": "Choose one of the reasons, or none."},
    )
    message = forms.CharField(
        label="Anything you would like to add?",
        widget=forms.Textarea(attrs={"rows": 3, "class": TEXT_CLASS}),
        max_length=MESSAGE_MAX_CHARS,
        required=False,
        error_messages={"max_length": f"Please keep your message to {MESSAGE_MAX_CHARS} characters."},
    )


class SignForm(_PatientForm):
    option = _option_field("The option you are agreeing to")
    statements = forms.TypedMultipleChoiceField(
        label="Please read and tick each statement",
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        error_messages={"invalid_choice": "Tick the statements shown."},
    )
    signer_name = forms.CharField(
        label="Your full name",
        help_text="Typing your name here is your signature.",
        required=False,
        widget=forms.TextInput(
            attrs={"class": TEXT_CLASS, "autocomplete": "name", "autocapitalize": "words", "spellcheck": "false"}
        ),
    )
    relationship = forms.ChoiceField(
        label="Your relationship to the patient",
        widget=forms.RadioSelect,
        choices=[(value, ConsentSignature.Relationship(value).label) for value in GUARDIAN_RELATIONSHIPS],
        required=False,
        error_messages={"invalid_choice": "Choose how you are related to the patient."},
    )
    drawn_signature = forms.CharField(
        widget=forms.HiddenInput, required=False, max_length=DRAWN_SIGNATURE_MAX_CHARS, strip=True
    )

    def __init__(
        self,
        *args: Any,
        options: list[dict[str, Any]],
        statements: list[str],
        is_guardian: bool,
        patient_first_name: str = "",
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["option"].choices = _option_choices(options)  # type: ignore[attr-defined]
        self.fields["statements"].choices = [(index, text) for index, text in enumerate(statements)]  # type: ignore[attr-defined]
        if is_guardian:
            if patient_first_name:
                self.fields["relationship"].label = f"Your relationship to {patient_first_name}"
        else:
            # A patient's own link signs for themselves: no question to answer.
            del self.fields["relationship"]
        self.fields["drawn_signature"].error_messages["max_length"] = (
            "The drawn signature is too long. Clear it and draw it again, or leave it out."
        )
