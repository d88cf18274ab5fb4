"""Delivery reports from providers: no session, no CSRF token; each request proves where it
came from with a signature instead.

- POST /hooks/sms/status/: Twilio's status callback (MessageSid, MessageStatus, ErrorCode),
  signed with X-Twilio-Signature over PUBLIC_BASE_URL + the path and query it was sent to.
- POST /hooks/email/events/: {"message_id": "<...>", "event": "delivered"|"bounced"|"failed",
  "reason": "..."} signed with X-Clearplan-Signature: sha256=<HMAC-SHA256 of the body with
  EMAIL_EVENTS_SECRET>.

A bad signature is refused with 403; a report for a message we do not know is answered 200
and ignored, so the provider does not keep retrying it. Nothing from a report is logged.
"""

from __future__ import annotations

import json
import logging

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from clearplan.messaging.services import message_record_email_event, message_record_sms_status
from clearplan.messaging.signatures import email_events_signature_valid, twilio_signature_valid

logger = logging.getLogger("clearplan.messaging.hooks")

MAX_REPORT_BYTES = 64 * 1024


def _refused(reason: str) -> HttpResponse:
    logger.warning("Refused a delivery report: %s", reason)
    return HttpResponse("Forbidden\n", status=403, content_type="text/plain")


def _empty_twiml() -> HttpResponse:
    return HttpResponse("<Response></Response>", content_type="text/xml")


@csrf_exempt
@require_POST
def sms_status(request: HttpRequest) -> HttpResponse:
    auth_token = str(settings.SMS_OPTIONS.get("auth_token", ""))
    if not auth_token:
        return _refused("no SMS provider with an auth token is set up")
    url = settings.PUBLIC_BASE_URL + request.get_full_path()
    fields = [(name, value) for name, values in request.POST.lists() for value in values]
    if not twilio_signature_valid(auth_token, url, fields, request.headers.get("X-Twilio-Signature", "")):
        return _refused("the SMS status report's signature does not match")
    error_code = request.POST.get("ErrorCode", "").strip()
    message_record_sms_status(
        provider_message_id=request.POST.get("MessageSid", "").strip(),
        status=request.POST.get("MessageStatus", ""),
        error_code=int(error_code) if error_code.isdigit() else None,
        public_id=request.GET.get("message", ""),
    )
    return _empty_twiml()


@csrf_exempt
@require_POST
def email_events(request: HttpRequest) -> HttpResponse:
    secret = settings.EMAIL_EVENTS_SECRET
    if not secret:
        return _refused("EMAIL_EVENTS_SECRET is not set")
    if len(request.body) > MAX_REPORT_BYTES:
        return HttpResponse("Too large\n", status=413, content_type="text/plain")
    if not email_events_signature_valid(secret, request.body, request.headers.get("X-Clearplan-Signature", "")):
        return _refused("the email event's signature does not match")
    try:
        report = json.loads(request.body)
    except ValueError:
        return JsonResponse({"error": "The body is not JSON."}, status=400)
    if not isinstance(report, dict) or not all(
        isinstance(report.get(key, ""), str) for key in ("message_id", "event", "reason")
    ):
        return JsonResponse({"error": "Expected message_id, event and reason as strings."}, status=400)
    message = message_record_email_event(
        message_id=report.get("message_id", ""), event=report.get("event", ""), reason=report.get("reason", "")
    )
    return JsonResponse({"recorded": message is not None})
