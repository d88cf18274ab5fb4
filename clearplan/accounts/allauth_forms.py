"""allauth's sign-in and password forms with our wording.

Labels are plain sentence case, hints are plain text (our field include escapes HTML),
and placeholders are dropped: a label that disappears while typing helps no one.
"""

from __future__ import annotations

from typing import Any

from allauth.account import forms as allauth_forms
from django import forms

CHOOSING_A_GOOD_ONE = "At least 10 characters, not a common password and not just numbers. A short sentence works well."


class _PlainFieldsMixin(forms.Form):
    wording: dict[str, tuple[str, str]] = {}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            field.widget.attrs.pop("placeholder", None)
            if name in self.wording:
                field.label, field.help_text = self.wording[name]


class LoginForm(_PlainFieldsMixin, allauth_forms.LoginForm):
    wording = {"login": ("Email address", ""), "password": ("Password", "")}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["login"].widget.attrs.update({"autocomplete": "username", "autofocus": True})


class ResetPasswordForm(_PlainFieldsMixin, allauth_forms.ResetPasswordForm):
    wording = {"email": ("Email address", "The address you sign in with.")}


class ResetPasswordKeyForm(_PlainFieldsMixin, allauth_forms.ResetPasswordKeyForm):
    wording = {
        "password1": ("New password", CHOOSING_A_GOOD_ONE),
        "password2": ("Type the new password again", ""),
    }


class ChangePasswordForm(_PlainFieldsMixin, allauth_forms.ChangePasswordForm):
    wording = {
        "oldpassword": ("Current password", ""),
        "password1": ("New password", CHOOSING_A_GOOD_ONE),
        "password2": ("Type the new password again", ""),
    }


class ReauthenticateForm(_PlainFieldsMixin, allauth_forms.ReauthenticateForm):
    wording = {"password": ("Your password", "")}
