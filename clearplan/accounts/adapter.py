from __future__ import annotations

from typing import TYPE_CHECKING

from allauth.account.adapter import DefaultAccountAdapter

if TYPE_CHECKING:
    from django.http import HttpRequest


class AccountAdapter(DefaultAccountAdapter):
    """Staff join by invitation only; there is no public sign-up."""

    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return False
