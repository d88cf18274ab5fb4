"""EMAIL_URL: how an address for the mail server becomes Django's email settings, and the
demo outbox being refused outside the demo and development."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from clearplan.lib.email_url import OUTBOX_BACKEND, parse_email_url
from clearplan.lib.env import ConfigurationError

PROJECT_ROOT = Path(django_settings.BASE_DIR)
SHOW_EMAIL_BACKEND = "import django; django.setup(); from django.conf import settings; print(settings.EMAIL_BACKEND)"


def test_the_outbox_is_chosen_in_the_demo_and_in_development():
    assert parse_email_url("outbox://", outbox_allowed=True) == {"EMAIL_BACKEND": OUTBOX_BACKEND}


def test_the_outbox_is_refused_in_a_real_installation():
    with pytest.raises(ConfigurationError, match=r"outbox:// .* only for the demo or development"):
        parse_email_url("outbox://", outbox_allowed=False)


def test_a_mail_server_address_gives_the_smtp_settings():
    assert parse_email_url("smtp+tls://clinic%40example.com:p%40ss@mail.example.com", outbox_allowed=False) == {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "mail.example.com",
        "EMAIL_PORT": 587,
        "EMAIL_HOST_USER": "clinic@example.com",
        "EMAIL_HOST_PASSWORD": "p@ss",
        "EMAIL_USE_TLS": True,
        "EMAIL_USE_SSL": False,
        "EMAIL_TIMEOUT": 20,
    }


@pytest.mark.parametrize(("url", "message"), [("ftp://x", "not one of"), ("smtp://", "needs a host name")])
def test_an_address_it_cannot_use_stops_start_up_with_a_clear_message(url, message):
    with pytest.raises(ConfigurationError, match=message):
        parse_email_url(url, outbox_allowed=True)


def _start_settings(tmp_path: Path, **variables: str) -> subprocess.CompletedProcess:
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DEBUG", "CLEARPLAN_DEMO", "EMAIL_URL", "DATABASE_URL"}
    }
    environment.update(
        {
            "DJANGO_SETTINGS_MODULE": "clearplan.settings",
            "SECRET_KEY": "email-url-test",
            "CLEARPLAN_VAR_DIR": str(tmp_path),
            **variables,
        }
    )
    return subprocess.run(  # noqa: S603 - fixed arguments
        [sys.executable, "-c", SHOW_EMAIL_BACKEND],
        cwd=PROJECT_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.slow
def test_a_production_server_set_to_the_outbox_refuses_to_start(tmp_path):
    refused = _start_settings(tmp_path, EMAIL_URL="outbox://")
    demo = _start_settings(tmp_path, EMAIL_URL="outbox://", CLEARPLAN_DEMO="true")

    assert refused.returncode != 0
    assert "EMAIL_URL=outbox:// keeps emails on this server" in refused.stderr
    assert demo.returncode == 0, demo.stderr
    assert demo.stdout.strip() == OUTBOX_BACKEND
