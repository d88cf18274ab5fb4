"""Sending text messages: one small interface, `send_sms`, and the backends behind it.

The backend comes from SMS_URL (parsed in clearplan/lib/sms_url.py into SMS_BACKEND and
SMS_OPTIONS):

- `TwilioSmsBackend` speaks Twilio's Messages API (or a compatible provider's) over HTTPS with
  the standard library, sending the message's idempotency key in `I-Twilio-Idempotency-Token`
  so a repeat of the same message (a worker stopped before it recorded the answer) is
  recognised by the provider and not sent twice.
- `OutboxSmsBackend` keeps each message as a JSON file under OUTBOX_DIR/sms for the demo,
  named from the idempotency key, so a repeat finds the file already there.

A failure is raised as `SmsNotSent`, saying whether trying again later could help and giving
a reason staff understand. Nothing here logs or raises the number or the words.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import json
import logging
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol
from urllib.error import HTTPError, URLError
from urllib.parse import quote, urlencode
from urllib.request import HTTPRedirectHandler, OpenerDirector, ProxyHandler, Request, build_opener

from django.conf import settings
from django.utils.module_loading import import_string

from clearplan.messaging.failures import Failure, sms_error
from clearplan.messaging.outbox import write_once

logger = logging.getLogger("clearplan.messaging.sms")

NOT_SET_UP_MESSAGE = (
    "SMS is not set up for this practice yet. Send by email instead, or ask whoever looks after "
    "Clearplan's settings to connect an SMS provider."
)
# An answer longer than this is not a Messages API answer; reading stops there.
_MAX_REPLY_BYTES = 64 * 1024
SMS_OUTBOX_FOLDER = "sms"
SMS_OUTBOX_SUFFIX = ".json"
SMS_OUTBOX_NAME = re.compile(r"[0-9a-f]{32}")


class SmsNotSent(Exception):
    """A text message was not accepted. `failure.transient` says whether a later try may work."""

    def __init__(self, failure: Failure) -> None:
        super().__init__(failure.kind)
        self.failure = failure


class SmsBackend(Protocol):
    def send_sms(self, *, to: str, body: str, idempotency_key: str, status_callback_url: str) -> str:
        """Hand one message to the provider; return the provider's id for it."""
        ...


def sms_configured() -> bool:
    return bool(settings.SMS_BACKEND)


def sms_backend() -> SmsBackend:
    if not sms_configured():
        raise SmsNotSent(Failure(kind="sms_not_configured", detail_for_staff=NOT_SET_UP_MESSAGE))
    backend_class = import_string(settings.SMS_BACKEND)
    backend: SmsBackend = backend_class(**settings.SMS_OPTIONS)
    return backend


def send_sms(to: str, body: str, idempotency_key: str, status_callback_url: str) -> str:
    """Send one text message through the configured provider; returns the provider's message id.

    `to` is an E.164 mobile number. The same `idempotency_key` must be given on every try of
    the same message. Raises SmsNotSent.
    """
    return sms_backend().send_sms(
        to=to, body=body, idempotency_key=idempotency_key, status_callback_url=status_callback_url
    )


# ---------- Twilio and compatible providers ----------


class _NoRedirects(HTTPRedirectHandler):
    # Following a redirect would resend the form (or drop it, for 301/302) somewhere unexpected.
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class TwilioSmsBackend:
    def __init__(
        self,
        *,
        account_sid: str,
        auth_token: str,
        host: str,
        port: int | None = None,
        scheme: str = "https",
        timeout: float = 10.0,
        **sender: str,
    ) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.base_url = f"{scheme}://{host}{f':{port}' if port else ''}"
        self.timeout = timeout
        self.from_number = sender.get("from", "")
        self.messaging_service_sid = sender.get("messaging_service_sid", "")
        loopback = host in {"localhost", "127.0.0.1", "::1"} or host.startswith("127.")
        # A provider on this machine (tests, a local relay) is never reached through a proxy.
        handlers: list[Any] = [_NoRedirects()]
        if loopback:
            handlers.append(ProxyHandler({}))
        self._opener: OpenerDirector = build_opener(*handlers)

    @property
    def messages_url(self) -> str:
        return f"{self.base_url}/2010-04-01/Accounts/{quote(self.account_sid, safe='')}/Messages.json"

    def send_sms(self, *, to: str, body: str, idempotency_key: str, status_callback_url: str) -> str:
        form = {"To": to, "Body": body}
        if self.messaging_service_sid:
            form["MessagingServiceSid"] = self.messaging_service_sid
        else:
            form["From"] = self.from_number
        if status_callback_url:
            form["StatusCallback"] = status_callback_url
        credentials = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode("ascii")
        request = Request(  # noqa: S310 - the scheme is checked to be https (or http on loopback) in sms_url
            self.messages_url,
            data=urlencode(form).encode("utf-8"),
            method="POST",
            headers={
                "Authorization": f"Basic {credentials}",
                "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
                "Accept": "application/json",
                "User-Agent": "Clearplan",
                "I-Twilio-Idempotency-Token": idempotency_key,
            },
        )
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                reply = response.read(_MAX_REPLY_BYTES)
        except HTTPError as error:
            raise SmsNotSent(self._refusal(error)) from None
        except (URLError, OSError, TimeoutError, http.client.HTTPException) as error:
            reason = getattr(error, "reason", error)
            raise SmsNotSent(
                Failure(
                    kind=f"sms_network_{type(reason).__name__}",
                    detail_for_staff="Clearplan could not reach the SMS provider.",
                    transient=True,
                )
            ) from None
        try:
            sid = str(json.loads(reply).get("sid") or "")
        except (ValueError, AttributeError):
            sid = ""
        if not sid:
            # The provider took the message (2xx) but its answer has no id: delivery reports
            # cannot be matched by id, but the message is not sent again.
            logger.warning("The SMS provider accepted a message without giving its id")
        return sid

    @staticmethod
    def _refusal(error: HTTPError) -> Failure:
        status = error.code
        try:
            details = json.loads(error.read(_MAX_REPLY_BYTES) or b"{}")
            code = int(details["code"]) if isinstance(details, dict) and details.get("code") is not None else None
        except (ValueError, TypeError, OSError, http.client.HTTPException):
            code = None
        finally:
            error.close()
        if status == 429 or status >= 500:
            return Failure(
                kind=f"sms_http_{status}",
                detail_for_staff="The SMS provider was busy or unavailable.",
                transient=True,
            )
        if status in {401, 403} and code in {None, 20003, 20005}:
            # Wrong or suspended account details are fixed in the settings; retrying gives the
            # practice time to do that before messages are given up (as for the mail server).
            return Failure(
                kind=f"sms_sign_in_refused_{status}",
                detail_for_staff="The SMS provider did not accept Clearplan's account details.",
                transient=True,
            )
        if 400 <= status < 500:
            return sms_error(code, http_status=status)
        return Failure(
            kind=f"sms_http_{status}",
            detail_for_staff="The SMS provider gave an answer Clearplan did not expect.",
            transient=True,
        )


# ---------- The demo outbox ----------


def sms_outbox_directory() -> Path:
    return Path(settings.OUTBOX_DIR) / SMS_OUTBOX_FOLDER


def sms_outbox_name(idempotency_key: str) -> str:
    """The file name for a message: keyed with SECRET_KEY, so it cannot be worked out from
    anything outside the server, and the same for every try of the same message."""
    digest = hmac.new(settings.SECRET_KEY.encode(), idempotency_key.encode(), hashlib.sha256).hexdigest()
    return digest[:32]


def sms_outbox_path(name: str) -> Path | None:
    """The file for a message name, or None when the name is not one the outbox gives out."""
    if not isinstance(name, str) or not SMS_OUTBOX_NAME.fullmatch(name):
        return None
    directory = sms_outbox_directory().resolve()
    path = (directory / f"{name}{SMS_OUTBOX_SUFFIX}").resolve()
    return path if path.parent == directory else None


def _organisation_of_message(idempotency_key: str) -> str | None:
    from clearplan.messaging.models import OutboundMessage

    organisation = (
        OutboundMessage.objects.filter(idempotency_key=idempotency_key)
        .values_list("clinic__organisation__public_id", flat=True)
        .first()
    )
    return str(organisation) if organisation else None


class OutboxSmsBackend:
    """Keeps each text message as OUTBOX_DIR/sms/<name>.json, stamped with the organisation
    whose clinic sent it, for that organisation's administrators to read on the Demo outbox
    page. A repeat of a message already in the outbox is dropped, as a provider would."""

    def __init__(self, **_options: Any) -> None:
        pass

    def send_sms(self, *, to: str, body: str, idempotency_key: str, status_callback_url: str) -> str:
        name = sms_outbox_name(idempotency_key)
        provider_id = f"SM{name}"
        directory = sms_outbox_directory()
        record = {
            "provider_message_id": provider_id,
            "to": to,
            "body": body,
            "organisation": _organisation_of_message(idempotency_key),
            "sent_at": datetime.now(tz=UTC).isoformat(),
        }
        try:
            directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            content = json.dumps(record, ensure_ascii=False, indent=2).encode("utf-8")
            if not write_once(directory / f"{name}{SMS_OUTBOX_SUFFIX}", content):
                logger.info("The SMS outbox already holds this message; the repeat was dropped")
        except OSError as error:
            raise SmsNotSent(
                Failure(
                    kind=f"sms_outbox_{type(error).__name__}",
                    detail_for_staff="The demo outbox could not be written.",
                    transient=True,
                )
            ) from None
        return provider_id
