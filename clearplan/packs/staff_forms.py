"""The send form and the small forms on the case's pack panel. The forms read what was typed;
`clearplan.packs.sending` decides whether it can go, and its refusals come back at the field."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import TYPE_CHECKING, Any

from django import forms
from django.core.exceptions import ValidationError

from clearplan.lib.clinic_time import clinic_now, clinic_zone
from clearplan.packs import sending
from clearplan.plans.forms import DateInput

if TYPE_CHECKING:
    from clearplan.accounts.models import Clinic
    from clearplan.packs.sending import Destination

# The GSM 03.38 characters an SMS carries at 160 to a message; anything else (an emoji, “curly
# quotes”, ā) sends the whole text as Unicode, 70 to a message. Extension characters count twice.
GSM_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENDED = set("^{}\\[~]|€\f")


@dataclass(frozen=True)
class SmsLength:
    characters: int
    segments: int
    unicode: bool

    @property
    def describe(self) -> str:
        noun = "message" if self.segments == 1 else "messages"
        kind = " (special characters use more room)" if self.unicode else ""
        return f"{self.characters} characters with the link: {self.segments} text {noun}{kind}"


def sms_length(text: str) -> SmsLength:
    unicode = any(char not in GSM_BASIC and char not in GSM_EXTENDED for char in text)
    if unicode:
        units = sum(2 if ord(char) > 0xFFFF else 1 for char in text)
        single, multi = 70, 67
    else:
        units = sum(2 if char in GSM_EXTENDED else 1 for char in text)
        single, multi = 160, 153
    segments = 1 if units <= single else -(-units // multi)
    return SmsLength(units, segments, unicode)


class TimeInput(forms.TimeInput):
    input_type = "time"


class SendForm(forms.Form):
    WHEN_NOW = "now"
    WHEN_EVENING = "evening"
    WHEN_LATER = "later"

    recipient = forms.CharField(widget=forms.HiddenInput)
    submission_key = forms.CharField(widget=forms.HiddenInput, max_length=64)
    by_sms = forms.BooleanField(required=False, label="SMS")
    by_email = forms.BooleanField(required=False, label="Email")
    sms_text = forms.CharField(
        required=False,
        label="Text message",
        max_length=sending.SMS_TEXT_MAX,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 4, "data-sms-text": ""}),
        help_text="The link to the pack is added at the end.",
    )
    email_subject = forms.CharField(required=False, label="Email subject", max_length=sending.EMAIL_SUBJECT_MAX)
    email_text = forms.CharField(
        required=False,
        label="Email",
        max_length=sending.EMAIL_TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 10}),
        help_text="A button “Open your treatment pack” and the link are added at the end.",
    )
    when = forms.ChoiceField(label="When", widget=forms.RadioSelect, initial=WHEN_NOW)
    later_date = forms.DateField(required=False, label="Date", widget=DateInput(format="%Y-%m-%d"))
    later_time = forms.TimeField(required=False, label="Time", widget=TimeInput(format="%H:%M"))

    def __init__(
        self, *args: Any, clinic: Clinic, places: dict[str, Destination], link_length: int, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.clinic = clinic
        self.places = places
        self.link_length = link_length
        self.evening = sending.evening_time(clinic)
        choices = [(self.WHEN_NOW, "Now")]
        if self.evening is not None:
            choices.append((self.WHEN_EVENING, "At 6 pm today"))
        choices.append((self.WHEN_LATER, "At a date and time I choose"))
        self.fields["when"].choices = choices  # type: ignore[attr-defined]
        zone = clinic_zone(clinic)
        self.fields["later_time"].help_text = f"In the clinic's time ({zone.key.replace('_', ' ')})."
        for name, channel in (("by_sms", sending.SMS), ("by_email", sending.EMAIL)):
            place = places[channel]
            field = self.fields[name]
            if place.usable:
                field.label = f"{field.label} to {place.masked}"
            else:
                field.widget.attrs["disabled"] = True
                field.help_text = place.problem

    @property
    def sms_length(self) -> SmsLength:
        text = self["sms_text"].value() or ""
        return sms_length(str(text).strip() + "x" * self.link_length)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        when = cleaned.get("when")
        cleaned["send_at"] = None
        if when == self.WHEN_EVENING:
            evening = sending.evening_time(self.clinic)
            if evening is None:
                self.add_error("when", "It is already past 6 pm. Send now, or choose a date and time.")
            cleaned["send_at"] = evening
        elif when == self.WHEN_LATER:
            day: date | None = cleaned.get("later_date")
            moment: time | None = cleaned.get("later_time")
            if day is None and "later_date" not in self.errors:
                self.add_error("later_date", "Choose the day to send it.")
            if moment is None and "later_time" not in self.errors:
                self.add_error("later_time", "Choose the time to send it.")
            if day is not None and moment is not None:
                chosen = datetime.combine(day, moment, tzinfo=clinic_zone(self.clinic))
                if chosen <= clinic_now(self.clinic):
                    self.add_error("later_time", "That time has passed. Choose a time still to come.")
                cleaned["send_at"] = chosen
        return cleaned

    def attach(self, error: ValidationError) -> None:
        """A service refusal, each message at its field ("send_at" is the When choice)."""
        if hasattr(error, "error_dict"):
            for field, messages in error.message_dict.items():
                target = "when" if field == "send_at" else field
                for message in messages:
                    self.add_error(target if target in self.fields and target != "recipient" else None, message)
        else:
            for message in error.messages:
                self.add_error(None, message)


class UpdateForm(forms.Form):
    notify = forms.BooleanField(
        required=False,
        initial=True,
        label="Tell the patient it was updated",
        help_text="A short message on the channels the pack was sent by.",
    )


class ResendForm(forms.Form):
    submission_key = forms.CharField(widget=forms.HiddenInput, max_length=64)
