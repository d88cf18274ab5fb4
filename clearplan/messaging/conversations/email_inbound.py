"""Email replies from patients: the raw message, posted by the mail provider or piped in by the
mail server (`manage.py receive_email`), lands in the patient's conversation.

- POST /hooks/email/inbound/ (optional `?recipient=` the envelope address): the body is the raw
  MIME message, signed with `X-Clearplan-Signature: sha256=<HMAC-SHA256 of the body with
  INBOUND_EMAIL_SECRET>`. No secret set or a bad signature → 403; over 30 MB → 413; not an
  email, or no From or Message-ID → 400. Nothing is stored in those cases.
- The conversation is found by the `reply+<token>@INBOUND_EMAIL_DOMAIN` address among the
  recipients. No such address, or a token no conversation has → kept as UnmatchedInbound, so
  nothing a patient sends is lost. Out-of-office answers and bounces are not stored.
- A message delivered twice (the same Message-ID) is stored once.

The answer is JSON: {"stored": true|false, "reason": "..."}. Log lines name a conversation by
the start of its public id, never an address or a name.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from clearplan.messaging.conversations.email_parsing import ParsedEmail, UnreadableEmail, parse_email
from clearplan.messaging.conversations.services import IncomingAttachment, message_receive
from clearplan.messaging.models import Channel, Conversation, UnmatchedInbound
from clearplan.messaging.signatures import email_events_signature_valid

if TYPE_CHECKING:
    from clearplan.patients.models import Patient

logger = logging.getLogger("clearplan.messaging.email_inbound")

MAX_EMAIL_BYTES = 30 * 1024 * 1024
_TOKEN = re.compile(r"^reply\+([0-9a-f]{32})$")


@dataclass(frozen=True)
class Outcome:
    stored: bool
    reason: str
    status: int = 200


# ---------- Shared by the webhook and the command ----------


def email_receive(raw: bytes, *, envelope_recipient: str = "") -> Outcome:
    """Store one raw email from a patient. `stored` is True only the first time a message lands
    in a thread."""
    if len(raw) > MAX_EMAIL_BYTES:
        return Outcome(stored=False, reason="too_large", status=413)
    try:
        parsed = parse_email(raw, envelope_recipient=envelope_recipient)
    except UnreadableEmail:
        return Outcome(stored=False, reason="not_an_email", status=400)
    if not parsed.from_address:
        return Outcome(stored=False, reason="no_sender", status=400)
    if not parsed.message_id:
        return Outcome(stored=False, reason="no_message_id", status=400)
    if parsed.auto_reply:
        logger.info("Ignored an automatic reply (out-of-office or bounce)")
        return Outcome(stored=False, reason="auto_reply")
    conversation = conversation_for_recipients(parsed.recipients)
    if conversation is None:
        return _keep_unmatched(parsed)
    patient = conversation.patient
    _message, created = message_receive(
        patient=patient,
        channel=Channel.EMAIL,
        subject=parsed.subject,
        body=parsed.visible_text or "(no text)",
        html=parsed.visible_html,
        full_text=parsed.full_text,
        attachments=[
            IncomingAttachment(name=each.name, content=each.content, content_type=each.content_type)
            for each in parsed.attachments
        ],
        provider_message_id=parsed.message_id,
        from_address=parsed.from_address,
        from_whom=_who_wrote(parsed.from_address, patient),
    )
    reference = str(conversation.public_id)[:8]
    if not created:
        logger.info("An email already in conversation %s was delivered again; kept once", reference)
        return Outcome(stored=False, reason="already_stored")
    logger.info(
        "Email stored in conversation %s (%d attachments kept, %d not kept)",
        reference,
        len(parsed.attachments),
        len(parsed.refused),
    )
    return Outcome(stored=True, reason="stored")


def reply_token_of(address: str) -> str:
    """The token in reply+<token>@INBOUND_EMAIL_DOMAIN; empty for any other address."""
    domain = settings.INBOUND_EMAIL_DOMAIN.lower()
    local, _at, address_domain = address.lower().rpartition("@")
    if not domain or address_domain != domain:
        return ""
    found = _TOKEN.match(local)
    return found.group(1) if found else ""


def conversation_for_recipients(recipients: tuple[str, ...]) -> Conversation | None:
    tokens = [token for token in (reply_token_of(address) for address in recipients) if token]
    if not tokens:
        return None
    return Conversation.objects.select_related("patient", "clinic").filter(reply_token__in=tokens).first()


def _who_wrote(address: str, patient: Patient) -> str:
    """ "patient" or "guardian" when the address is the one on their record; "" when it is not."""
    if address and address == patient.email.lower():
        return "patient"
    if address and address == patient.guardian_email.lower():
        return "guardian"
    return ""


def _keep_unmatched(parsed: ParsedEmail) -> Outcome:
    to_address = next((each for each in parsed.recipients if reply_token_of(each)), "")
    to_address = to_address or (parsed.recipients[0] if parsed.recipients else "")
    if UnmatchedInbound.objects.filter(channel=Channel.EMAIL, provider_message_id=parsed.message_id).exists():
        return Outcome(stored=False, reason="already_kept_unmatched")
    body = parsed.full_text or parsed.subject or "(no text)"
    if parsed.subject:
        body = f"Subject: {parsed.subject}\n\n{body}"
    try:
        with transaction.atomic():
            UnmatchedInbound.objects.create(
                channel=Channel.EMAIL,
                from_address=parsed.from_address[:254],
                to_address=to_address[:254],
                body=body,
                provider_message_id=parsed.message_id,
            )
    except IntegrityError:
        return Outcome(stored=False, reason="already_kept_unmatched")
    logger.info("Kept an email that no conversation's address matches")
    return Outcome(stored=False, reason="unmatched")


# ---------- The webhook ----------


def _refused(reason: str) -> HttpResponse:
    logger.warning("Refused an inbound email: %s", reason)
    return HttpResponse("Forbidden\n", status=403, content_type="text/plain")


@csrf_exempt
@require_POST
def email_inbound_hook(request: HttpRequest) -> HttpResponse:
    secret = settings.INBOUND_EMAIL_SECRET
    if not secret:
        return _refused("INBOUND_EMAIL_SECRET is not set")
    length = request.headers.get("Content-Length", "")
    if length.isdigit() and int(length) > MAX_EMAIL_BYTES:
        return JsonResponse({"stored": False, "reason": "too_large"}, status=413)
    # Read from the stream: `request.body` refuses anything over DATA_UPLOAD_MAX_MEMORY_SIZE, and
    # an email with a few phone photos is larger than that.
    body = request.read(MAX_EMAIL_BYTES + 1)
    if len(body) > MAX_EMAIL_BYTES:
        return JsonResponse({"stored": False, "reason": "too_large"}, status=413)
    if not email_events_signature_valid(secret, body, request.headers.get("X-Clearplan-Signature", "")):
        return _refused("the signature does not match")
    # An address has no spaces: a space here is a "+" the provider did not encode in the query.
    recipient = request.GET.get("recipient", "").strip().replace(" ", "+")[:254]
    outcome = email_receive(body, envelope_recipient=recipient)
    return JsonResponse({"stored": outcome.stored, "reason": outcome.reason}, status=outcome.status)
