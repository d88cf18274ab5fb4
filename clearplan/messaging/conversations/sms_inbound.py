"""Text messages from patients: Twilio's incoming-message webhook, and STOP/START keywords.

POST /hooks/sms/inbound/ with Twilio's form fields (MessageSid, From, To, Body, NumMedia), signed
with X-Twilio-Signature over PUBLIC_BASE_URL + the path and query it was sent to (as the delivery
reports in clearplan/messaging/hooks.py are).

- A good request is kept as it came (`ReceivedSms`, once per MessageSid) and answered at once;
  the worker's `receive_sms` task then puts it in the thread (within a second when the worker is
  running; its upkeep picks up any message whose task was lost). So a burst of texts, or Twilio's
  retries, never wait on the inbox's work.
- A bad or missing signature, or no SMS provider set up: 403, nothing stored.
- A request that is not a text message (no MessageSid, no From, a From that is not a phone
  number, a Body over 1,600 characters): 400, nothing stored. Over 64 KB: 413.
- From a number on a patient's record (theirs or their parent's): the message goes into that
  patient's thread, once however often Twilio delivers it. A number shared by several patients
  (a parent of siblings) goes to the one last texted at that number.
- From a number nobody has: kept as an UnmatchedInbound, so nothing a patient sends is lost.
- A text that is only STOP (or a similar word) or START is also acted on (see opt_out.py).

The answer is empty TwiML: Clearplan never replies by itself. The log holds references only,
never the number or the words.
"""

from __future__ import annotations

import datetime as dt
import logging
import re

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from clearplan.messaging.conversations import opt_out
from clearplan.messaging.conversations.services import message_receive
from clearplan.messaging.models import Channel, ConversationMessage, OutboundMessage, ReceivedSms, UnmatchedInbound
from clearplan.messaging.signatures import twilio_signature_valid
from clearplan.patients import phones
from clearplan.patients.models import Patient

logger = logging.getLogger("clearplan.messaging.sms_inbound")

MAX_REQUEST_BYTES = 64 * 1024
MAX_BODY_CHARS = 1600  # Twilio's own limit for one message, joined from its parts
MMS_NOTE = "[The patient sent a picture by MMS; ask them to email it]"
EMPTY_TEXT = "(An empty text message)"
_MESSAGE_SID = re.compile(r"^[A-Za-z0-9]{2,64}$")


def _plain(status: int, text: str) -> HttpResponse:
    return HttpResponse(text + "\n", status=status, content_type="text/plain")


def _empty_twiml() -> HttpResponse:
    return HttpResponse("<Response></Response>", content_type="text/xml")


def _signed_by_twilio(request: HttpRequest, auth_token: str) -> bool:
    url = settings.PUBLIC_BASE_URL + request.get_full_path()
    fields = [(name, value) for name, values in request.POST.lists() for value in values]
    return twilio_signature_valid(auth_token, url, fields, request.headers.get("X-Twilio-Signature", ""))


class _Unreadable(ValueError):
    pass


def _read(request: HttpRequest) -> tuple[str, str, str, int]:
    """(MessageSid, From in E.164, Body, NumMedia), or _Unreadable saying what is wrong."""
    sid = (request.POST.get("MessageSid") or request.POST.get("SmsSid") or "").strip()
    if not _MESSAGE_SID.match(sid):
        raise _Unreadable("MessageSid is missing or not a message id.")
    typed_from = request.POST.get("From", "").strip()
    if not typed_from:
        raise _Unreadable("From is missing.")
    # Twilio always sends numbers in international form, so no country is assumed.
    if not typed_from.startswith("+"):
        raise _Unreadable("From is not a phone number in international form.")
    try:
        from_number = phones.to_e164(typed_from, country=phones.FALLBACK_COUNTRY)
    except phones.InvalidPhoneNumber:
        raise _Unreadable("From is not a phone number.") from None
    body = request.POST.get("Body", "")
    if len(body) > MAX_BODY_CHARS:
        raise _Unreadable(f"Body is longer than {MAX_BODY_CHARS} characters.")
    media = request.POST.get("NumMedia", "0").strip() or "0"
    if not media.isdigit() or int(media) > 10:
        raise _Unreadable("NumMedia is not a number from 0 to 10.")
    return sid, from_number, body, int(media)


def sender_of(number: str) -> tuple[Patient | None, str]:
    """The patient a text from `number` is about, and whose number it is ("patient" or "guardian").
    Several patients can share a number (a parent's, for siblings): the one Clearplan last texted
    at that number, else the record changed most recently."""
    candidates = list(
        Patient.objects.filter(Q(mobile=number) | Q(guardian_mobile=number))
        .select_related("clinic")
        .order_by("-updated_at", "-id")
    )
    if not candidates:
        return None, ""
    chosen = candidates[0]
    if len(candidates) > 1:
        last_texted = (
            OutboundMessage.objects.filter(
                channel=OutboundMessage.Channel.SMS, to_address=number, patient__in=candidates
            )
            .order_by("-created_at", "-id")
            .values_list("patient_id", flat=True)
            .first()
        )
        chosen = next((patient for patient in candidates if patient.pk == last_texted), chosen)
    return chosen, "patient" if chosen.mobile == number else "guardian"


@csrf_exempt
@require_POST
def sms_inbound_hook(request: HttpRequest) -> HttpResponse:
    auth_token = str(settings.SMS_OPTIONS.get("auth_token", ""))
    if not auth_token:
        logger.warning("Refused a text message: no SMS provider with an auth token is set up")
        return _plain(403, "Forbidden")
    declared = request.META.get("CONTENT_LENGTH") or "0"
    if (declared.isdigit() and int(declared) > MAX_REQUEST_BYTES) or len(request.body) > MAX_REQUEST_BYTES:
        return _plain(413, "Too large")
    if not _signed_by_twilio(request, auth_token):
        logger.warning("Refused a text message: the signature does not match")
        return _plain(403, "Forbidden")
    try:
        sid, number, text, media = _read(request)
    except _Unreadable as problem:
        return _plain(400, str(problem))
    received = received_sms_keep(sid=sid, number=number, to=request.POST.get("To", "")[:254], text=text, media=media)
    logger.info("Text message %s: %s", sid[-8:], "kept" if received is not None else "a repeat, kept before")
    return _empty_twiml()


def received_sms_keep(*, sid: str, number: str, to: str, text: str, media: int) -> ReceivedSms | None:
    """Keep the message as delivered, once per MessageSid, and have the worker put it in its thread
    (the webhook answers at once, however busy the clinic's inbox is). None for a repeat."""
    try:
        with transaction.atomic():
            received = ReceivedSms.objects.create(
                provider_message_id=sid, from_number=number, to_number=to, body=text, media_count=media
            )
            # The task row is written in the same transaction (the task queue is in this database),
            # so the message and its task are kept together or not at all.
            _enqueue(received.pk)
    except IntegrityError:
        return None
    return received


def _enqueue(received_id: int) -> None:
    from clearplan.messaging.tasks import receive_sms

    receive_sms.enqueue(received_id=received_id)


def received_sms_process(*, received_id: int) -> ConversationMessage | UnmatchedInbound | None:
    """Put one kept text message in its patient's thread (or keep it as unmatched) and act on STOP
    or START. Safe to run twice or from two workers at once: the row is locked and marked done."""
    with transaction.atomic():
        received = ReceivedSms.objects.select_for_update().filter(pk=received_id, processed_at__isnull=True).first()
        if received is None:
            return None
        text, media, number = received.body, received.media_count, received.from_number
        body = text.strip()
        if media:
            body = f"{body}\n\n{MMS_NOTE}" if body else MMS_NOTE
        body = body or EMPTY_TEXT
        keyword = opt_out.keyword_in(text) if not media else None
        patient, from_whom = sender_of(number)
        result: ConversationMessage | UnmatchedInbound
        if patient is None:
            result, first_time = UnmatchedInbound.objects.get_or_create(
                channel=Channel.SMS,
                provider_message_id=received.provider_message_id,
                defaults={"from_address": number, "to_address": received.to_number, "body": body},
            )
            reference = "unmatched"
        else:
            result, first_time = message_receive(
                patient=patient,
                channel=Channel.SMS,
                body=body,
                from_address=number,
                from_whom=from_whom,
                provider_message_id=received.provider_message_id,
            )
            reference = f"message {str(result.public_id)[:8]}"
        if first_time and keyword is not None:
            opt_out.sms_keyword_apply(number=number, keyword=keyword)
        received.processed_at = timezone.now()
        received.save(update_fields=["processed_at"])
    logger.info(
        "Text message %s: %s%s",
        received.provider_message_id[-8:],
        reference,
        f" ({'opt-out' if keyword.stops else 'opt-in'} keyword)" if keyword is not None and first_time else "",
    )
    return result


def received_sms_process_waiting(*, older_than: dt.timedelta = dt.timedelta(0), limit: int = 500) -> int:
    """Process kept text messages still waiting (the worker's upkeep finds any whose task was lost).
    Returns how many were processed."""
    cutoff = timezone.now() - older_than
    waiting = list(
        ReceivedSms.objects.filter(processed_at__isnull=True, received_at__lte=cutoff)
        .order_by("received_at", "id")
        .values_list("id", flat=True)[:limit]
    )
    return sum(1 for received_id in waiting if received_sms_process(received_id=received_id) is not None)
