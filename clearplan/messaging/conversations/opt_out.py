"""Patients asking for no more messages: a text that says STOP (or START again), and the
unsubscribe link at the foot of every email.

- `keyword_in(text)`: the opt-out or opt-in word a whole text message is, if it is one.
- `sms_stop(number=..., keyword=...)`: the number gets no more text messages (SmsOptOut), and
  every patient with it on file stops agreeing to SMS, with the change in their consent history.
- `sms_start(number=..., keyword=...)`: the number can be texted again; consent comes back only
  for the patients whose consent that number's STOP took away.
- `email_unsubscribe(conversation=...)`: the patient's (and guardian's) email addresses get no
  more email from the clinic, and the patient stops agreeing to email.

Each runs in one transaction with its audit rows, and repeating it changes nothing more.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import Q

from clearplan.audit.models import AuditEvent
from clearplan.audit.services import audit_record
from clearplan.messaging.conversations.services import current_cases
from clearplan.messaging.models import EmailOptOut, SmsOptOut
from clearplan.patients.models import ContactConsentChange, Patient

if TYPE_CHECKING:
    from clearplan.messaging.models import Conversation

# The words carriers and Twilio treat as "stop" and "start" (a text that is only this word).
STOP_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPT OUT", "OPTOUT", "REVOKE"})
START_WORDS = frozenset({"START", "UNSTOP", "YES"})

_TRAILING_PUNCTUATION = re.compile(r"[\s.!?,;:…'\"“”‘’)(-]+$")


@dataclass(frozen=True)
class Keyword:
    word: str  # as the carriers write it: "STOP", "OPT OUT"
    stops: bool  # True: stop; False: start again


def keyword_in(text: str) -> Keyword | None:
    """ "Stop", " STOP! ", "opt  out." → STOP / OPT OUT; "Please stop texting me" → None: only a
    text that is the word alone is a request, anything longer is a message for the team."""
    word = " ".join(_TRAILING_PUNCTUATION.sub("", (text or "").strip()).split()).upper()
    if word in STOP_WORDS:
        return Keyword(word=word, stops=True)
    if word in START_WORDS:
        return Keyword(word=word, stops=False)
    return None


def _patients_with_number(number: str) -> list[Patient]:
    return list(
        Patient.objects.select_for_update(of=("self",))
        .filter(Q(mobile=number) | Q(guardian_mobile=number))
        .select_related("clinic")
        .order_by("id")
    )


def _record_consent(
    patient: Patient,
    *,
    channel: str,
    agrees: bool,
    source: str,
    keyword: str = "",
    switched_to: str = "",
) -> None:
    ContactConsentChange.objects.create(
        patient=patient, channel=channel, agrees=agrees, source=source, keyword=keyword[:20]
    )
    field = "consent_sms" if channel == Patient.Channel.SMS else "consent_email"
    changes: dict[str, object] = {field: [not agrees, agrees], "source": source}
    if keyword:
        changes["keyword"] = keyword
    if switched_to:
        changes["preferred_channel"] = [
            Patient.Channel.EMAIL if switched_to == Patient.Channel.SMS else Patient.Channel.SMS,
            switched_to,
        ]
    audit_record(action=AuditEvent.Action.UPDATE, clinic=patient.clinic, obj=patient, changes=changes)


def _stop_follow_ups(patient: Patient) -> None:
    from clearplan.pipeline import events as pipeline_events

    for case in current_cases(patient):
        pipeline_events.patient_opted_out(case=case)


def sms_stop(*, number: str, keyword: str) -> list[Patient]:
    """`number` (E.164) texted an opt-out word. Returns the patients whose SMS consent it took away."""
    changed: list[Patient] = []
    with transaction.atomic():
        SmsOptOut.objects.get_or_create(number=number, defaults={"keyword": keyword[:20]})
        for patient in _patients_with_number(number):
            if not patient.consent_sms:
                continue
            _withdraw(
                patient,
                channel=Patient.Channel.SMS,
                source=ContactConsentChange.Source.SMS_KEYWORD,
                keyword=keyword,
                other_channel_usable=patient.consent_email and bool(patient.email or patient.guardian_email),
            )
            changed.append(patient)
    return changed


def _withdraw(patient: Patient, *, channel: str, source: str, other_channel_usable: bool, keyword: str = "") -> None:
    """The patient no longer agrees to `channel`: recorded in their consent history, the other
    channel becomes the preferred one when it can be used, and automatic follow-up stops."""
    other = Patient.Channel.EMAIL if channel == Patient.Channel.SMS else Patient.Channel.SMS
    setattr(patient, f"consent_{channel}", False)
    switched_to = ""
    if patient.preferred_channel == channel and other_channel_usable:
        patient.preferred_channel = switched_to = other
    patient.save(update_fields=[f"consent_{channel}", "preferred_channel", "updated_at"])
    _record_consent(patient, channel=channel, agrees=False, source=source, keyword=keyword, switched_to=switched_to)
    _stop_follow_ups(patient)


def _withdrawn_by_keyword(patient: Patient) -> bool:
    """Whether the last change to the patient's SMS consent was a texted STOP (not the team)."""
    last = (
        ContactConsentChange.objects.filter(patient=patient, channel=Patient.Channel.SMS)
        .order_by("-created_at", "-id")
        .first()
    )
    return last is not None and not last.agrees and last.source == ContactConsentChange.Source.SMS_KEYWORD


def sms_start(*, number: str, keyword: str) -> list[Patient]:
    """`number` texted START (or UNSTOP, YES) after a STOP. Returns the patients whose SMS consent
    came back. Without an earlier STOP nothing happens: "Yes" is usually an answer to a question."""
    changed: list[Patient] = []
    with transaction.atomic():
        removed, _ = SmsOptOut.objects.filter(number=number).delete()
        if not removed:
            return changed
        for patient in _patients_with_number(number):
            if patient.consent_sms or not _withdrawn_by_keyword(patient):
                continue
            patient.consent_sms = True
            patient.save(update_fields=["consent_sms", "updated_at"])
            _record_consent(
                patient,
                channel=Patient.Channel.SMS,
                agrees=True,
                source=ContactConsentChange.Source.SMS_KEYWORD,
                keyword=keyword,
            )
            changed.append(patient)
    return changed


def sms_keyword_apply(*, number: str, keyword: Keyword) -> list[Patient]:
    if keyword.stops:
        return sms_stop(number=number, keyword=keyword.word)
    return sms_start(number=number, keyword=keyword.word)


def email_addresses_of(patient: Patient) -> list[str]:
    """The patient's and their guardian's email addresses, lower case, each once."""
    found = (address.strip().lower() for address in (patient.email, patient.guardian_email))
    return list(dict.fromkeys(address for address in found if address))


def email_unsubscribed(conversation: Conversation) -> bool:
    """Whether every email address on the patient's record has already used the link."""
    addresses = email_addresses_of(conversation.patient)
    if not addresses:
        return False
    stopped = EmailOptOut.objects.filter(clinic_id=conversation.clinic_id, address__in=addresses).count()
    return stopped == len(addresses)


def email_unsubscribe(*, conversation: Conversation) -> bool:
    """The patient used the unsubscribe link in an email from the clinic: no more email to their
    addresses, and they no longer agree to email (text messages become the preferred way when
    they can be used). Returns whether anything changed; using the link again changes nothing."""
    with transaction.atomic():
        patient = (
            Patient.objects.select_for_update(of=("self",)).select_related("clinic").get(pk=conversation.patient_id)
        )
        added = 0
        for address in email_addresses_of(patient):
            _, created = EmailOptOut.objects.get_or_create(clinic_id=conversation.clinic_id, address=address)
            added += created
        if not patient.consent_email:
            if added:
                audit_record(
                    action=AuditEvent.Action.UPDATE,
                    clinic=patient.clinic,
                    obj=patient,
                    changes={"email_unsubscribed": [False, True], "source": "unsubscribe_link"},
                )
            return bool(added)
        _withdraw(
            patient,
            channel=Patient.Channel.EMAIL,
            source=ContactConsentChange.Source.UNSUBSCRIBE_LINK,
            other_channel_usable=patient.consent_sms and _can_text(patient),
        )
    return True


def _can_text(patient: Patient) -> bool:
    numbers = [number for number in (patient.mobile, patient.guardian_mobile) if number]
    return bool(numbers) and SmsOptOut.objects.filter(number__in=numbers).count() < len(set(numbers))
