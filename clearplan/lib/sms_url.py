"""Turn an SMS_URL into SMS settings, the way lib/email_url.py does for EMAIL_URL.

Supported forms:
    (empty)                                         SMS is not set up: sending a text message is
                                                    refused with a clear message
    outbox://                                       keep each text message as a file under
                                                    OUTBOX_DIR/sms; demo and development only
    twilio://ACCOUNT_SID:AUTH_TOKEN@api.twilio.com?from=%2B61400000000
                                                    Twilio, or any provider that speaks its
                                                    Messages API. Query parameters:
        from=+61...                 the sending number (E.164) or an alphanumeric sender id
                                    ("+" may be written as is or as %2B)
        messaging_service_sid=MG... a Twilio messaging service instead of `from`
        scheme=https                http is allowed only for a provider on this machine
        timeout=10                  seconds to wait for the provider's answer
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

from clearplan.lib.env import ConfigurationError

SMS_OUTBOX_BACKEND = "clearplan.messaging.sms.OutboxSmsBackend"
SMS_TWILIO_BACKEND = "clearplan.messaging.sms.TwilioSmsBackend"

DEFAULT_TIMEOUT_SECONDS = 10.0
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
# Alphanumeric sender ids: up to 11 letters, digits and spaces, at least one letter.
_SENDER_ID = re.compile(r"^(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}$")
_SID = re.compile(r"^[A-Za-z0-9]{2,64}$")


@dataclass(frozen=True)
class SmsSettings:
    """`backend` is the dotted path of the SMS backend class, "" when SMS is not set up;
    `options` are handed to the backend (account, credentials, sender, timeouts)."""

    backend: str
    options: dict[str, Any] = field(default_factory=dict)


def _query(query: str) -> dict[str, str]:
    # parse_qs would turn the "+" of an international number into a space.
    values: dict[str, str] = {}
    for pair in query.split("&"):
        if not pair:
            continue
        key, _equals, value = pair.partition("=")
        values[unquote(key).strip().lower()] = unquote(value).strip()
    return values


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_sms_url(url: str, *, outbox_allowed: bool) -> SmsSettings:
    """`outbox_allowed` is true only in demo or development mode: the outbox keeps every text
    message, links to patients' packs included, on the server's disk."""
    url = url.strip()
    if not url:
        return SmsSettings(backend="")
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "outbox":
        if not outbox_allowed:
            raise ConfigurationError(
                "SMS_URL=outbox:// keeps text messages on this server instead of sending them, and is only for the "
                "demo or development: set CLEARPLAN_DEMO=true or DEBUG=true, or give SMS_URL a provider such as "
                "twilio://ACCOUNT_SID:AUTH_TOKEN@api.twilio.com?from=%2B61400000000."
            )
        return SmsSettings(backend=SMS_OUTBOX_BACKEND)
    if scheme != "twilio":
        raise ConfigurationError(f"SMS_URL scheme {scheme!r} is not one of twilio, outbox.")
    host = parts.hostname
    if not host:
        raise ConfigurationError(
            "SMS_URL needs the provider's host name, for example twilio://SID:TOKEN@api.twilio.com."
        )
    account_sid = unquote(parts.username or "")
    auth_token = unquote(parts.password or "")
    if not _SID.match(account_sid) or not auth_token:
        raise ConfigurationError(
            "SMS_URL needs the account SID and auth token before the host: twilio://ACCOUNT_SID:AUTH_TOKEN@host."
        )
    try:
        port = parts.port
    except ValueError as error:
        raise ConfigurationError(f"SMS_URL has an invalid port: {error}") from error
    query = _query(parts.query)
    unknown = set(query) - {"from", "messaging_service_sid", "scheme", "timeout"}
    if unknown:
        raise ConfigurationError(f"SMS_URL has unknown settings: {', '.join(sorted(unknown))}.")
    sender = query.get("from", "")
    service = query.get("messaging_service_sid", "")
    if bool(sender) == bool(service):
        raise ConfigurationError(
            "SMS_URL needs exactly one of from=+61... (the sending number) or messaging_service_sid=MG...."
        )
    if sender and not (_E164.match(sender) or _SENDER_ID.match(sender)):
        raise ConfigurationError(
            "SMS_URL's from= must be a number in international form such as +61400000000 "
            "(write + as %2B if your tools change it), or a sender name of up to 11 letters and digits."
        )
    if service and not _SID.match(service):
        raise ConfigurationError("SMS_URL's messaging_service_sid= is not a Twilio id such as MG0123....")
    http_scheme = query.get("scheme", "https").lower()
    if http_scheme not in {"https", "http"}:
        raise ConfigurationError("SMS_URL's scheme= must be https (or http for a provider on this machine).")
    if http_scheme == "http" and not _is_loopback(host):
        raise ConfigurationError(
            "SMS_URL's scheme=http would send the SMS account's auth token unencrypted; "
            "it is allowed only for a provider on this machine (127.0.0.1, localhost)."
        )
    try:
        timeout = float(query.get("timeout", DEFAULT_TIMEOUT_SECONDS))
    except ValueError as error:
        raise ConfigurationError("SMS_URL's timeout= must be a number of seconds.") from error
    if not 0 < timeout <= 120:
        raise ConfigurationError("SMS_URL's timeout= must be above 0 and at most 120 seconds.")
    return SmsSettings(
        backend=SMS_TWILIO_BACKEND,
        options={
            "account_sid": account_sid,
            "auth_token": auth_token,
            "host": host,
            "port": port,
            "scheme": http_scheme,
            "from": sender,
            "messaging_service_sid": service,
            "timeout": timeout,
        },
    )
