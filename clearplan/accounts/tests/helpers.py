from __future__ import annotations

import time

from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.test import Client

from clearplan.accounts.tests.factories import TEST_PASSWORD


def signed_in_client(email: str, password: str = TEST_PASSWORD) -> Client:
    """A client that signed in through the real sign-in form (so allauth knows when it
    happened, which changing two-factor settings requires)."""
    client = Client()
    response = client.post("/accounts/login/", {"login": email, "password": password})
    assert response.status_code == 302, response.content.decode()
    return client


def current_code(secret: str) -> str:
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))
