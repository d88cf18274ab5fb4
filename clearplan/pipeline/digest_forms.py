"""The digest choices on Your profile: how often to email each digest the person is offered."""

from __future__ import annotations

from typing import Any

from django import forms

from clearplan.pipeline.models import DigestFrequency, DigestKind

DESCRIPTIONS = {
    DigestKind.PRACTICE: (
        "For owners and managers: the appointments ahead; what was sent, opened, asked and booked; "
        "the value of cases waiting, and each team member's share."
    ),
    DigestKind.MY_PATIENTS: (
        "For practitioners, about the patients whose cases you are the dentist on: requests to proceed, "
        "questions, who opened their pack, and your appointments. Not sent when there is nothing to tell."
    ),
}


class DigestChoicesForm(forms.Form):
    """One frequency per digest the person is offered (see digests.kinds_offered_to)."""

    def __init__(self, *args: Any, kinds: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for kind in kinds:
            self.fields[kind] = forms.ChoiceField(
                label=DigestKind(kind).label,
                choices=DigestFrequency.choices,
                help_text=DESCRIPTIONS[DigestKind(kind)],
                error_messages={
                    "required": "Choose how often to send it.",
                    "invalid_choice": "Choose daily, weekly or don’t send.",
                },
            )
