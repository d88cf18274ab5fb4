from __future__ import annotations

from typing import Any

from django import forms

from clearplan.notifications.models import EmailChoice, Kind


class EmailChoicesForm(forms.Form):
    """One choice per kind of notification: when to email as well as show it in Clearplan."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for kind in Kind:
            self.fields[kind.value] = forms.ChoiceField(label=kind.label, choices=EmailChoice.choices)
