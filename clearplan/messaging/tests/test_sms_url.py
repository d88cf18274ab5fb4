"""SMS_URL: how a provider address becomes the SMS settings, and what is refused."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from clearplan.lib.env import ConfigurationError
from clearplan.lib.sms_url import SMS_OUTBOX_BACKEND, SMS_TWILIO_BACKEND, parse_sms_url

PROJECT_ROOT = Path(django_settings.BASE_DIR)
SID = "AC0123456789abcdef0123456789abcdef"


def test_no_address_means_sms_is_not_set_up():
    assert parse_sms_url("", outbox_allowed=False).backend == ""


def test_the_outbox_is_for_the_demo_and_development_only():
    assert parse_sms_url("outbox://", outbox_allowed=True).backend == SMS_OUTBOX_BACKEND
    with pytest.raises(ConfigurationError, match=r"outbox:// .* only for the demo or development"):
        parse_sms_url("outbox://", outbox_allowed=False)


@pytest.mark.parametrize("sender", ["+61400000000", "%2B61400000000"])
def test_a_twilio_address_gives_the_account_and_sender(sender):
    sms = parse_sms_url(f"twilio://{SID}:s3cr%40t@api.twilio.com?from={sender}", outbox_allowed=False)

    assert sms.backend == SMS_TWILIO_BACKEND
    assert sms.options == {
        "account_sid": SID,
        "auth_token": "s3cr@t",
        "host": "api.twilio.com",
        "port": None,
        "scheme": "https",
        "from": "+61400000000",
        "messaging_service_sid": "",
        "timeout": 10.0,
    }


def test_a_messaging_service_or_a_sender_name_can_send():
    service = parse_sms_url(f"twilio://{SID}:t@api.twilio.com?messaging_service_sid=MG123", outbox_allowed=False)
    named = parse_sms_url(f"twilio://{SID}:t@api.twilio.com?from=HarbourDent", outbox_allowed=False)

    assert service.options["messaging_service_sid"] == "MG123"
    assert named.options["from"] == "HarbourDent"


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("sms://x", "not one of twilio, outbox"),
        ("twilio://api.twilio.com?from=%2B61400000000", "account SID and auth token"),
        (f"twilio://{SID}:t@api.twilio.com", "exactly one of from="),
        (f"twilio://{SID}:t@api.twilio.com?from=%2B614&messaging_service_sid=MG1", "exactly one of from="),
        (f"twilio://{SID}:t@api.twilio.com?from=0400000000", "international form"),
        (f"twilio://{SID}:t@api.twilio.com?from=%2B61400000000&scheme=http", "unencrypted"),
        (f"twilio://{SID}:t@api.twilio.com?from=%2B61400000000&timeout=0", "timeout="),
        (f"twilio://{SID}:t@api.twilio.com?from=%2B61400000000&colour=blue", "unknown settings: colour"),
        (f"twilio://{SID}:t@api.twilio.com:99999?from=%2B61400000000", "invalid port"),
    ],
)
def test_an_unusable_address_stops_start_up_with_a_clear_message(url, words):
    with pytest.raises(ConfigurationError, match=words):
        parse_sms_url(url, outbox_allowed=False)


def test_plain_http_is_allowed_for_a_provider_on_this_machine():
    sms = parse_sms_url(f"twilio://{SID}:t@127.0.0.1:8025?from=%2B61400000000&scheme=http", outbox_allowed=False)

    assert (sms.options["scheme"], sms.options["port"]) == ("http", 8025)


def test_settings_read_sms_url_from_the_environment():
    environment = {
        **os.environ,
        "SECRET_KEY": "x",
        "SMS_URL": f"twilio://{SID}:token@api.twilio.com?from=%2B61400000000",
        "PUBLIC_BASE_URL": "https://clearplan.example.com/",
        "DJANGO_SETTINGS_MODULE": "clearplan.settings",
    }
    environment.pop("DEBUG", None)
    environment.pop("CLEARPLAN_DEMO", None)
    shown = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings; "
            "print(settings.SMS_BACKEND, settings.SMS_OPTIONS['from'], settings.PUBLIC_BASE_URL)",
        ],
        cwd=PROJECT_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )

    assert shown.stdout.split() == [SMS_TWILIO_BACKEND, "+61400000000", "https://clearplan.example.com"]
