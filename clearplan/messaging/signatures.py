"""Checking that a delivery report really comes from the provider.

- Twilio signs each status callback with `X-Twilio-Signature`: base64 of HMAC-SHA1, keyed with
  the account's auth token, of the full URL it posted to followed by every POST field's name
  and value, sorted by name.
- Our email delivery reports carry `X-Clearplan-Signature: sha256=<hex>`: HMAC-SHA256 of the
  request body, keyed with EMAIL_EVENTS_SECRET.

Both compare in constant time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable

EMAIL_SIGNATURE_PREFIX = "sha256="


def twilio_signature(auth_token: str, url: str, fields: Iterable[tuple[str, str]]) -> str:
    """`fields` are the POST form's (name, value) pairs; a name given twice counts each value."""
    data = url + "".join(name + value for name, value in sorted(fields))
    digest = hmac.new(auth_token.encode("utf-8"), data.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def twilio_signature_valid(auth_token: str, url: str, fields: Iterable[tuple[str, str]], signature: str) -> bool:
    if not auth_token or not signature:
        return False
    return hmac.compare_digest(twilio_signature(auth_token, url, fields), signature.strip())


def email_events_signature(secret: str, body: bytes) -> str:
    return EMAIL_SIGNATURE_PREFIX + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def email_events_signature_valid(secret: str, body: bytes, signature: str) -> bool:
    if not secret or not signature:
        return False
    return hmac.compare_digest(email_events_signature(secret, body), signature.strip().lower())
