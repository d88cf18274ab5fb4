"""Sending the pack to the patient (or their parent or guardian), and what the team does after.

`pack_send` is one decision to send: it checks the pack can go, that each chosen channel has a
destination the patient agreed to, and that a scheduled time is in the future; then it freezes a
version (or reuses the last one when nothing changed since), makes a link and hands one message
per channel to messaging. All of it happens in one transaction, so a refusal leaves nothing
behind, and the messages leave only once it commits. A repeated `submission_key` (a double
click, a resubmitted form) gives back the send already made.

The words come from the case's pack template with the placeholders filled in, and the team member
may change them before sending; the patient's link is always added at the end.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.formats import date_format

from clearplan.accounts.forms import national_phone
from clearplan.audit.models import AuditEvent
from clearplan.catalog.models import DEFAULT_EMAIL_MESSAGE, DEFAULT_EMAIL_SUBJECT, DEFAULT_SMS_MESSAGE
from clearplan.catalog.placeholders import render_text
from clearplan.lib.clinic_time import clinic_now, clinic_zone
from clearplan.messaging.services import message_cancel, message_send
from clearplan.packs.links import link_create, link_path, link_revoke
from clearplan.packs.models import ConsentSignature, PackLink, PackSend, PackVersion, PatientResponse, Recipient
from clearplan.packs.versions import case_changed_since, check_sendable, latest_version, pack_version_freeze
from clearplan.pipeline import events as pipeline_events
from clearplan.plans import composer, services

if TYPE_CHECKING:
    from django.http import HttpRequest

    from clearplan.accounts.models import User
    from clearplan.patients.models import Patient
    from clearplan.plans.models import Case

SMS = "sms"
EMAIL = "email"
# Long enough for a friendly note, short enough to stay a few text messages.
SMS_TEXT_MAX = 480
EMAIL_SUBJECT_MAX = 200
EMAIL_TEXT_MAX = 5000
EVENING_HOUR = 18
OPEN_BUTTON = "Open your treatment pack"


# ---------- Who it goes to, and where ----------


@dataclass(frozen=True)
class Destination:
    """One channel to one person: the address (never shown whole), how staff see it, and why it
    cannot be used (empty when it can)."""

    channel: str
    address: str
    masked: str
    problem: str

    @property
    def usable(self) -> bool:
        return not self.problem


def mask_mobile(number: str) -> str:
    return f"mobile ending {number[-3:]}" if len(number) >= 3 else "mobile"


def mask_email(address: str) -> str:
    local, _at, domain = address.rpartition("@")
    return f"{local[0]}…@{domain}" if local else "email"


def first_name(patient: Patient) -> str:
    return patient.preferred_name or patient.first_name


def default_recipient(patient: Patient) -> str:
    """A patient under 18 with a parent or guardian on record: the pack goes to the guardian."""
    if patient.is_minor and patient.has_guardian:
        return Recipient.GUARDIAN
    return Recipient.PATIENT


def recipient_name(patient: Patient, recipient: str) -> str:
    if recipient == Recipient.GUARDIAN:
        return patient.guardian_name
    return patient.full_name


def destinations(patient: Patient, recipient: str) -> dict[str, Destination]:
    """SMS and email for the recipient, each with the reason it cannot be used, in words staff can act on."""
    name = first_name(patient)
    if recipient == Recipient.GUARDIAN:
        mobile, email = patient.guardian_mobile, patient.guardian_email
        who = f"{patient.guardian_name} ({name}'s parent or guardian)"
        no_mobile = f"There is no mobile number for {who} on {name}'s record."
        no_email = f"There is no email address for {who} on {name}'s record."
        no_sms = (
            f"{name}'s record does not say SMS is agreed — ask {patient.guardian_name}, "
            "then tick “Agrees to receive SMS” on the record."
        )
        no_mail = (
            f"{name}'s record does not say email is agreed — ask {patient.guardian_name}, "
            "then tick “Agrees to receive email” on the record."
        )
    else:
        mobile, email = patient.mobile, patient.email
        no_mobile = f"There is no mobile number on {name}'s record."
        no_email = f"There is no email address on {name}'s record."
        no_sms = f"{name} has not agreed to receive SMS — ask {name}, then tick “Agrees to receive SMS” on the record."
        no_mail = (
            f"{name} has not agreed to receive email — ask {name}, then tick “Agrees to receive email” on the record."
        )
    sms_problem = no_mobile if not mobile else ("" if patient.consent_sms else no_sms)
    email_problem = no_email if not email else ("" if patient.consent_email else no_mail)
    return {
        SMS: Destination(SMS, mobile, mask_mobile(mobile) if mobile else "", sms_problem),
        EMAIL: Destination(EMAIL, email, mask_email(email) if email else "", email_problem),
    }


def recipient_problem(patient: Patient, recipient: str) -> str:
    if recipient not in Recipient.values:
        return "Choose who the pack goes to."
    if recipient == Recipient.GUARDIAN and not patient.has_guardian:
        return f"There is no parent or guardian on {first_name(patient)}'s record."
    return ""


# ---------- The words ----------


def message_texts(case: Case, by: User) -> dict[str, str]:
    """The case template's SMS, email subject and email text, filled in for this patient, with the
    team member who is sending named."""
    values = dict(composer.placeholder_values(case))
    values["team_member_name"] = by.display_name
    template = case.template
    sms = template.sms_message if template is not None else DEFAULT_SMS_MESSAGE
    subject = template.email_subject if template is not None else DEFAULT_EMAIL_SUBJECT
    text = template.email_message if template is not None else DEFAULT_EMAIL_MESSAGE
    return {
        "sms_text": render_text(sms or DEFAULT_SMS_MESSAGE, values).strip(),
        "email_subject": " ".join(render_text(subject or DEFAULT_EMAIL_SUBJECT, values).split()),
        "email_text": render_text(text or DEFAULT_EMAIL_MESSAGE, values).strip(),
    }


def absolute_url(path: str, request: HttpRequest | None = None) -> str:
    """The address patients reach this installation at (PUBLIC_BASE_URL), or the request's own."""
    base = getattr(settings, "PUBLIC_BASE_URL", "") or ""
    if base:
        return f"{base.rstrip('/')}{path}"
    if request is not None:
        return request.build_absolute_uri(path)
    return f"{settings.SITE_URL.rstrip('/')}{path}"


def link_length(request: HttpRequest | None = None) -> int:
    """How many characters the link adds to an SMS (a blank line and the address)."""
    return 2 + len(absolute_url(link_path("x" * 32), request))


def _with_link(text: str, url: str) -> str:
    return f"{text.strip()}\n\n{url}"


def _pack_email_html(*, case: Case, text: str, url: str) -> str:
    paragraphs = [part.strip() for part in text.replace("\r\n", "\n").split("\n\n") if part.strip()]
    return render_to_string(
        "packs/staff/email_pack.html",
        {
            "clinic": case.clinic,
            "phone": national_phone(case.clinic),
            "paragraphs": paragraphs,
            "url": url,
            "button": OPEN_BUTTON,
        },
    )


# ---------- When ----------


def evening_time(clinic: Any, now: datetime | None = None) -> datetime | None:
    """6 pm today where the clinic is, while it is still to come."""
    local = (now or timezone.now()).astimezone(clinic_zone(clinic))
    evening = local.replace(hour=EVENING_HOUR, minute=0, second=0, microsecond=0)
    return evening if local < evening else None


def local_time(clinic: Any, moment: datetime) -> str:
    """ "6:00 pm today", "9:30 am on Tue 4 Mar" in the clinic's time zone."""
    local = moment.astimezone(clinic_zone(clinic))
    clock = local.strftime("%I:%M %p").lstrip("0").lower()
    today = clinic_now(clinic).date()
    if local.date() == today:
        return f"{clock} today"
    if local.date() == today + timedelta(days=1):
        return f"{clock} tomorrow"
    return f"{clock} on {date_format(local, 'D j M Y')}"


# ---------- Sending ----------


def _check_texts(*, by_sms: bool, by_email: bool, sms_text: str, email_subject: str, email_text: str) -> dict:
    errors: dict[str, str] = {}
    if by_sms:
        if not sms_text.strip():
            errors["sms_text"] = "Write the text message, or untick SMS."
        elif len(sms_text) > SMS_TEXT_MAX:
            errors["sms_text"] = f"Keep the text message to {SMS_TEXT_MAX} characters; the link is added after it."
    if by_email:
        if not email_subject.strip():
            errors["email_subject"] = "Write the email's subject, or untick email."
        elif "\n" in email_subject or "\r" in email_subject or len(email_subject) > EMAIL_SUBJECT_MAX:
            errors["email_subject"] = f"Keep the subject to one line of at most {EMAIL_SUBJECT_MAX} characters."
        if not email_text.strip():
            errors["email_text"] = "Write the email, or untick email."
        elif len(email_text) > EMAIL_TEXT_MAX:
            errors["email_text"] = f"Keep the email to {EMAIL_TEXT_MAX} characters."
    return errors


def _existing_send(case: Case, submission_key: str) -> PackSend | None:
    existing = PackSend.objects.filter(submission_key=submission_key).select_related("case").first()
    if existing is not None and existing.case_id != case.pk:
        # A key is random per form; one reused for another case is a mistake, not a repeat.
        raise ValidationError("This form was already used for another case. Open the send page again.")
    return existing


def pack_send(
    *,
    case: Case,
    by: User,
    recipient: str | None = None,
    by_sms: bool,
    by_email: bool,
    sms_text: str,
    email_subject: str,
    email_text: str,
    send_at: datetime | None = None,
    submission_key: str,
    request: HttpRequest | None = None,
    replaces_link: PackLink | None = None,
) -> PackSend:
    """Send (or schedule) the pack. Raises ValidationError by field ("by_sms", "by_email",
    "send_at", "sms_text", "email_subject", "email_text", "recipient") with nothing saved.
    `replaces_link` (for "Send a new link") is revoked in the same transaction."""
    key = (submission_key or "").strip()
    if not key or len(key) > 64:
        raise ValidationError("This form is missing its send key. Open the send page again.")
    existing = _existing_send(case, key)
    if existing is not None:
        return existing
    try:
        return _pack_send(
            case=case,
            by=by,
            recipient=recipient,
            by_sms=by_sms,
            by_email=by_email,
            sms_text=sms_text,
            email_subject=email_subject,
            email_text=email_text,
            send_at=send_at,
            key=key,
            request=request,
            replaces_link=replaces_link,
        )
    except IntegrityError:
        # Two submissions of one form racing: the other one's send stands.
        existing = _existing_send(case, key)
        if existing is None:
            raise
        return existing


def _pack_send(
    *,
    case: Case,
    by: User,
    recipient: str | None,
    by_sms: bool,
    by_email: bool,
    sms_text: str,
    email_subject: str,
    email_text: str,
    send_at: datetime | None,
    key: str,
    request: HttpRequest | None,
    replaces_link: PackLink | None,
) -> PackSend:
    now = timezone.now()
    with transaction.atomic():
        current = services._locked_case(case)
        existing = _existing_send(current, key)
        if existing is not None:
            return existing
        check_sendable(current)
        patient = current.patient
        recipient = recipient or default_recipient(patient)
        problem = recipient_problem(patient, recipient)
        if problem:
            raise ValidationError({"recipient": problem})
        errors: dict[str, Any] = {}
        if not by_sms and not by_email:
            errors["__all__"] = "Choose SMS, email or both."
        places = destinations(patient, recipient)
        if by_sms and not places[SMS].usable:
            errors["by_sms"] = places[SMS].problem
        if by_email and not places[EMAIL].usable:
            errors["by_email"] = places[EMAIL].problem
        errors.update(
            _check_texts(
                by_sms=by_sms, by_email=by_email, sms_text=sms_text, email_subject=email_subject, email_text=email_text
            )
        )
        if send_at is not None and send_at <= now:
            errors["send_at"] = "That time has passed. Choose a time still to come, or send now."
        if errors:
            raise ValidationError(errors)
        scheduled = send_at is not None

        version = latest_version(current)
        if version is None or case_changed_since(version):
            version = pack_version_freeze(case=current, by=by, request=request)
        if replaces_link is not None:
            pack_link_revoke(link=replaces_link, by=by, request=request)
        link, token = link_create(case=current, recipient=recipient, by=by, request=request)
        url = absolute_url(link_path(token), request)
        pack_send_row = PackSend.objects.create(
            case=current,
            version=version,
            link=link,
            recipient=recipient,
            by_sms=by_sms,
            by_email=by_email,
            sms_text=sms_text.strip() if by_sms else "",
            email_subject=email_subject.strip() if by_email else "",
            email_text=email_text.strip() if by_email else "",
            send_at=send_at or now,
            status=PackSend.Status.SCHEDULED if scheduled else PackSend.Status.SENT,
            sent_by=by,
            submission_key=key,
        )
        common = {
            "clinic": current.clinic,
            "purpose": "pack",
            "patient": patient,
            "case": current,
            "sender": by,
            "send_after": send_at,
        }
        update_fields = []
        if by_sms:
            sms = _send_message("by_sms", channel=SMS, to=places[SMS].address, body=_with_link(sms_text, url), **common)
            pack_send_row.sms_message_id = sms.public_id
            update_fields.append("sms_message_id")
        if by_email:
            mail = _send_message(
                "by_email",
                channel=EMAIL,
                to=places[EMAIL].address,
                subject=email_subject.strip(),
                body=_with_link(email_text, url),
                html=_pack_email_html(case=current, text=email_text, url=url),
                **common,
            )
            pack_send_row.email_message_id = mail.public_id
            update_fields.append("email_message_id")
        pack_send_row.save(update_fields=update_fields)
        pipeline_events.pack_sent(send=pack_send_row)
        services._audit(
            action=AuditEvent.Action.CREATE,
            case=current,
            by=by,
            request=request,
            changes={
                "pack_send": [None, str(pack_send_row.public_id)],
                "pack_version": [None, version.number],
                "channels": [None, [name for name, on in ((SMS, by_sms), (EMAIL, by_email)) if on]],
                "recipient": [None, recipient],
                "send_at": [None, pack_send_row.send_at.isoformat()] if scheduled else [None, "now"],
            },
        )
    return pack_send_row


def _send_message(field: str, **kwargs: Any) -> Any:
    """message_send, with its refusals put at the send form's field for that channel."""
    try:
        return message_send(**kwargs)
    except ValidationError as error:
        raise ValidationError({field: error.messages}) from error


def _message_ids(send: PackSend) -> list[uuid.UUID]:
    return [message_id for message_id in (send.sms_message_id, send.email_message_id) if message_id]


def pack_send_cancel(*, send: PackSend, by: User, request: HttpRequest | None = None) -> PackSend:
    """Call off a scheduled send before it goes: its messages are cancelled and its link revoked."""
    with transaction.atomic():
        current = PackSend.objects.select_for_update().select_related("case__clinic", "link").get(pk=send.pk)
        if current.status != PackSend.Status.SCHEDULED:
            raise ValidationError("Only a scheduled send can be cancelled; this one has already gone.")
        from clearplan.messaging.models import OutboundMessage

        for message in OutboundMessage.objects.filter(public_id__in=_message_ids(current)):
            message_cancel(message=message, by=by)
        current.status = PackSend.Status.CANCELLED
        current.save(update_fields=["status"])
        link_revoke(link=current.link, by=by, request=request)
        services._audit(
            action=AuditEvent.Action.UPDATE,
            case=current.case,
            by=by,
            request=request,
            changes={"pack_send_cancelled": [None, str(current.public_id)]},
        )
        pipeline_events.pack_send_cancelled(send=current)
    return current


def pack_link_revoke(*, link: PackLink, by: User, request: HttpRequest | None = None) -> PackLink:
    """The link stops opening the pack. A send still waiting to carry it is called off too, so no
    message goes out with a link that no longer works."""
    with transaction.atomic():
        waiting = PackSend.objects.filter(link=link, status=PackSend.Status.SCHEDULED, send_at__gt=timezone.now())
        for send in waiting:
            pack_send_cancel(send=send, by=by, request=request)
        return link_revoke(link=link, by=by, request=request)


def pack_resend(
    *, send: PackSend, by: User, submission_key: str | None = None, request: HttpRequest | None = None
) -> PackSend:
    """The same words on the same channels with a new link; the old link stops working."""
    return pack_send(
        case=send.case,
        by=by,
        recipient=send.recipient,
        by_sms=send.by_sms,
        by_email=send.by_email,
        sms_text=send.sms_text,
        email_subject=send.email_subject,
        email_text=send.email_text,
        submission_key=submission_key or uuid.uuid4().hex,
        request=request,
        replaces_link=send.link,
    )


def update_message_texts(case: Case, send: PackSend) -> dict[str, str]:
    clinic = case.clinic
    name = first_name(case.patient) if send.recipient == Recipient.PATIENT else case.patient.guardian_name
    pack_of = "your" if send.recipient == Recipient.PATIENT else f"{first_name(case.patient)}'s"
    sent_on = date_format(send.send_at.astimezone(clinic_zone(clinic)), "j F")
    text = (
        f"Hi {name}, {pack_of} treatment pack from {clinic.name} has been updated. "
        f"Open it with the link we sent on {sent_on} to see the latest."
    )
    return {"sms_text": text, "email_subject": f"Your treatment pack from {clinic.name} has been updated", "text": text}


def pack_publish_update(*, case: Case, by: User, notify: bool, request: HttpRequest | None = None) -> PackVersion:
    """After the plan was changed: freeze a new version, which the patient's link shows from now
    on. With `notify`, a short message says so on the channels the pack was last sent by."""
    with transaction.atomic():
        current = services._locked_case(case)
        last_send = (
            PackSend.objects.filter(case=current).exclude(status=PackSend.Status.CANCELLED).order_by("-created_at")
        ).first()
        if last_send is None:
            raise ValidationError("The pack has not been sent yet. Send it first.")
        latest = latest_version(current)
        if latest is not None and not case_changed_since(latest):
            raise ValidationError("The patient's pack already shows the plan as it is now.")
        places = destinations(current.patient, last_send.recipient)
        channels = [name for name, on in ((SMS, last_send.by_sms), (EMAIL, last_send.by_email)) if on]
        if notify:
            problems = [places[channel].problem for channel in channels if not places[channel].usable]
            if problems:
                raise ValidationError({"notify": " ".join(problems)})
        version = pack_version_freeze(case=current, by=by, request=request)
        if notify:
            words = update_message_texts(current, last_send)
            common = {
                "clinic": current.clinic,
                "purpose": "pack",
                "patient": current.patient,
                "case": current,
                "sender": by,
            }
            for channel in channels:
                if channel == SMS:
                    _send_message("notify", channel=SMS, to=places[SMS].address, body=words["sms_text"], **common)
                else:
                    _send_message(
                        "notify",
                        channel=EMAIL,
                        to=places[EMAIL].address,
                        subject=words["email_subject"],
                        body=words["text"],
                        **common,
                    )
        services._audit(
            action=AuditEvent.Action.UPDATE,
            case=current,
            by=by,
            request=request,
            changes={
                "pack_updated_to_version": [latest.number if latest else None, version.number],
                "notified": notify,
            },
        )
    return version


# ---------- What the patient sent back ----------


def response_mark_seen(*, response: PatientResponse, by: User, request: HttpRequest | None = None) -> PatientResponse:
    with transaction.atomic():
        current = PatientResponse.objects.select_for_update().select_related("case__clinic").get(pk=response.pk)
        if current.seen_at is None:
            current.seen_at = timezone.now()
            current.seen_by = by
            current.save(update_fields=["seen_at", "seen_by"])
            services._audit(
                action=AuditEvent.Action.UPDATE,
                case=current.case,
                by=by,
                request=request,
                changes={"pack_response_seen": [None, str(current.public_id)]},
            )
    return current


def signed_pdf_bytes(signature: ConsentSignature) -> bytes:
    """The stored signed PDF; made (and stored) now if the background work has not done it yet."""
    from clearplan.packs import pdf

    stored = pdf.signature_pdf_store(signature)
    with stored.pdf.open("rb") as handle:
        return handle.read()


def signed_copy_send(*, signature: ConsentSignature, by: User, request: HttpRequest | None = None) -> Any:
    """Email the signed PDF to whoever signed (the patient, or their parent or guardian)."""
    from clearplan.packs import pdf

    with transaction.atomic():
        case = signature.case
        patient = case.patient
        recipient = Recipient.PATIENT if signature.relationship == ConsentSignature.Relationship.SELF else "guardian"
        if recipient == Recipient.GUARDIAN and not patient.has_guardian:
            recipient = Recipient.PATIENT
        place = destinations(patient, recipient)[EMAIL]
        if not place.usable:
            raise ValidationError(place.problem)
        clinic = case.clinic
        values = dict(composer.placeholder_values(case))
        values["team_member_name"] = by.display_name
        text = render_text(
            "Hi {patient_first_name},\n\nAttached is a copy of the treatment pack you signed, for your records.\n\n"
            "Kind regards,\n{team_member_name}\n{clinic_name}",
            values,
        )
        if recipient == Recipient.GUARDIAN:
            text = text.replace(f"Hi {values['patient_first_name']},", f"Hi {patient.guardian_name},", 1)
        message = message_send(
            clinic=clinic,
            channel=EMAIL,
            to=place.address,
            subject=f"Your signed treatment pack from {clinic.name}",
            body=text,
            purpose="signed_copy",
            patient=patient,
            case=case,
            sender=by,
            attachment=(pdf.signed_pdf_filename(signature), signed_pdf_bytes(signature), "application/pdf"),
        )
        services._audit(
            action=AuditEvent.Action.EXPORT,
            case=case,
            by=by,
            request=request,
            changes={"signed_copy_emailed": [None, str(signature.public_id)]},
        )
    return message
