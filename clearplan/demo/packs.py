"""The demo practice's treatment packs: most cases older than a day were sent; many were opened
(on phones mostly), some patients asked a question, asked to proceed, said "not right now", and
some signed. One case is kept sent-but-unopened for whoever runs the demo: its link is printed by
`load_demo --print-logins`, with the date of birth to verify with.

Versions are frozen and links created by the same services a coordinator uses; the history
(when it was sent, opened, answered) is then dated back to match the case. The demo link's token
is derived from the installation's SECRET_KEY, so it stays the same across restarts without the
token being stored anywhere.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import random
import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from clearplan.accounts.models import Organisation, User
from clearplan.catalog.models import (
    DEFAULT_EMAIL_MESSAGE,
    DEFAULT_EMAIL_SUBJECT,
    DEFAULT_SMS_MESSAGE,
    PackTemplate,
)
from clearplan.catalog.placeholders import render_text
from clearplan.messaging.models import OutboundMessage
from clearplan.packs.links import link_create, token_digest
from clearplan.packs.models import (
    ConsentSignature,
    DeviceType,
    PackLink,
    PackSend,
    PackSession,
    PackVersion,
    PackVisit,
    PatientResponse,
    Recipient,
)
from clearplan.packs.versions import pack_version_freeze
from clearplan.patients.models import clinic_today
from clearplan.plans import composer
from clearplan.plans.models import Case, PlanLine

SEED = 20240613
SECTIONS = ["cover", "images", "what-we-found", "options", "costs", "next-steps", "questions", "contact"]

QUESTIONS = [
    "Will the crown feel different to my other teeth? And how long does it take to get used to?",
    "Is the cost per tooth or for everything listed? Just want to be sure before I talk to my partner.",
    "How much time off work should I plan for after the first visit?",
    "Can I claim any of this through my health fund? I'm with Bupa on mid-level extras.",
    "Will it hurt? I had a bad experience years ago and I get quite anxious.",
    "Is it okay to wait until after Christmas, or will that make it worse?",
    "Can we split the treatment across two months to spread the cost?",
]
PREFERRED_TIMES = ["Weekday mornings", "Weekday afternoons", "Saturdays", "After 4 pm if possible", ""]
NOT_NOW = [
    ("cost", "Need to save up a bit first."),
    ("timing", "Moving house next month, will come back to it."),
    ("second_opinion", ""),
    ("insurance", "Waiting to hear back from my health fund."),
    ("worry", "A bit nervous, would like to think about it."),
]
# Which starter template words a demo case's pack uses, from the procedures on its plan.
TEMPLATE_BY_CODE_PREFIX = [
    (("829",), "clear_aligners"),
    (("823", "821", "871"), "childrens_orthodontics"),
    (("661", "684", "688"), "implant"),
    (("642", "643", "615"), "crown"),
    (("41",), "root_canal"),
    (("711", "712", "719"), "dentures"),
    (("222", "250"), "periodontal"),
    (("118", "119"), "whitening"),
    (("526",), "veneers"),
    (("31",), "extraction"),
    (("52",), "filling"),
]


def demo_link_token() -> str:
    """The printed demo link's token: stable for this installation, unguessable without its SECRET_KEY."""
    digest = hmac.new(settings.SECRET_KEY.encode(), b"clearplan demo patient link", hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:24]).decode().rstrip("=")


@dataclass(frozen=True)
class DemoPatientLink:
    path: str
    first_name: str
    date_of_birth: date
    clinic: str


def demo_patient_link() -> DemoPatientLink | None:
    token = demo_link_token()
    link = (
        PackLink.objects.select_related("case__patient", "case__clinic")
        .filter(token_sha256=token_digest(token), revoked_at__isnull=True)
        .first()
    )
    if link is None:
        return None
    patient = link.case.patient
    return DemoPatientLink(
        path=f"/p/{token}",
        first_name=patient.preferred_name or patient.first_name,
        date_of_birth=patient.date_of_birth,
        clinic=link.case.clinic.name,
    )


def _template_for(case: Case, templates: dict[str, PackTemplate]) -> PackTemplate | None:
    codes = list(PlanLine.objects.filter(option__case=case).values_list("procedure__code", flat=True))
    for prefixes, key in TEMPLATE_BY_CODE_PREFIX:
        if any(code.startswith(prefixes) for code in codes) and key in templates:
            return templates[key]
    return templates.get("checkup")


def _at(day: date, hour: int, minute: int, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=zone)


def load_demo_packs(organisation: Organisation) -> int:
    """Send, open and answer the demo's packs unless any were sent already; returns how many were sent."""
    if PackSend.objects.filter(case__clinic__organisation=organisation).exists():
        return 0
    rng = random.Random(SEED)  # noqa: S311 - repeatable made-up history, not security
    templates = {
        template.starter_key: template
        for template in PackTemplate.objects.filter(organisation=organisation).active().exclude(starter_key="")
    }
    cases = list(
        Case.objects.filter(clinic__organisation=organisation, pack_needed=True)
        .select_related("clinic", "patient", "dentist", "coordinator")
        .order_by("conversation_date", "pk")
    )
    sent = 0
    demo_case: Case | None = None
    with transaction.atomic():
        for case in cases:
            today = clinic_today(case.clinic)
            age = (today - case.conversation_date).days
            if age < 1 or not case.options.exists() or case.coordinator is None:
                continue
            patient = case.patient
            if demo_case is None and age <= 10 and patient.mobile and not patient.has_guardian and case.images.exists():
                demo_case = case
                continue  # sent last, with the printed link
            if rng.random() < (0.55 if age < 4 else 0.88):
                _send_with_history(case, rng=rng, templates=templates, today=today)
                sent += 1
        if demo_case is not None:
            _send_with_history(demo_case, rng=rng, templates=templates, today=clinic_today(demo_case.clinic), demo=True)
            sent += 1
    return sent


def _send_with_history(
    case: Case, *, rng: random.Random, templates: dict[str, PackTemplate], today: date, demo: bool = False
) -> None:
    zone = ZoneInfo(case.clinic.time_zone)
    sender: User = case.coordinator or case.dentist
    if case.template is None:
        case.template = _template_for(case, templates)
        case.save(update_fields=["template"])
    version = pack_version_freeze(case=case, by=sender)
    recipient = Recipient.GUARDIAN if case.patient.has_guardian else Recipient.PATIENT
    if demo:
        token = demo_link_token()
        link, _ = link_create(case=case, recipient=recipient, by=sender)
        PackLink.objects.filter(pk=link.pk).update(token_sha256=token_digest(token))
        link.refresh_from_db()
    else:
        link, token = link_create(case=case, recipient=recipient, by=sender)
    sent_day = case.conversation_date if rng.random() < 0.8 or demo else case.conversation_date + timedelta(days=1)
    sent_at = _at(sent_day, rng.choice([11, 13, 15, 17, 18]), rng.choice([5, 20, 35, 50]), zone)
    if sent_at > timezone.now():
        sent_at = timezone.now() - timedelta(minutes=30)
    values = composer.placeholder_values(case) | {"team_member_name": sender.display_name}
    template = case.template
    sms_text = render_text(template.sms_message if template else DEFAULT_SMS_MESSAGE, values)
    email_subject = render_text(template.email_subject if template else DEFAULT_EMAIL_SUBJECT, values)
    email_text = render_text(template.email_message if template else DEFAULT_EMAIL_MESSAGE, values)
    patient = case.patient
    mobile = patient.guardian_mobile if recipient == Recipient.GUARDIAN else patient.mobile
    email = patient.guardian_email if recipient == Recipient.GUARDIAN else patient.email
    by_sms = bool(mobile) and patient.consent_sms
    by_email = bool(email) and patient.consent_email and (not by_sms or rng.random() < 0.3)
    if not (by_sms or by_email):
        by_sms, mobile = True, mobile or patient.mobile or "+61400000000"
    url = f"{settings.SITE_URL}/p/{token}"
    messages = {}
    for channel, wanted, address, body, subject in (
        (OutboundMessage.Channel.SMS, by_sms, mobile, f"{sms_text}\n{url}", ""),
        (OutboundMessage.Channel.EMAIL, by_email, email, f"{email_text}\n\n{url}", email_subject),
    ):
        if not wanted:
            continue
        messages[channel] = OutboundMessage.objects.create(
            clinic=case.clinic,
            patient=patient,
            case=case,
            channel=channel,
            purpose=OutboundMessage.Purpose.PACK,
            to_address=address,
            sender=sender,
            subject=subject,
            body=body,
            status=OutboundMessage.Status.DELIVERED,
            send_after=sent_at,
            attempts=1,
            provider_message_id=f"demo-{secrets.token_hex(8)}",
        )
    send = PackSend.objects.create(
        case=case,
        version=version,
        link=link,
        recipient=recipient,
        by_sms=OutboundMessage.Channel.SMS in messages,
        by_email=OutboundMessage.Channel.EMAIL in messages,
        sms_text=sms_text,
        email_subject=email_subject,
        email_text=email_text,
        send_at=sent_at,
        status=PackSend.Status.SENT,
        sms_message_id=messages[OutboundMessage.Channel.SMS].public_id
        if OutboundMessage.Channel.SMS in messages
        else None,
        email_message_id=(
            messages[OutboundMessage.Channel.EMAIL].public_id if OutboundMessage.Channel.EMAIL in messages else None
        ),
        sent_by=sender,
        submission_key=secrets.token_hex(16),
    )
    for message in messages.values():
        OutboundMessage.objects.filter(pk=message.pk).update(
            created_at=sent_at, sent_at=sent_at + timedelta(seconds=4), delivered_at=sent_at + timedelta(seconds=9)
        )
    PackSend.objects.filter(pk=send.pk).update(created_at=sent_at)
    PackVersion.objects.filter(pk=version.pk).update(created_at=sent_at - timedelta(minutes=2))
    PackLink.objects.filter(pk=link.pk).update(
        created_at=sent_at, expires_at=sent_at + timedelta(days=case.clinic.pack_link_days)
    )
    if demo:
        return
    _history(case, version=version, link=link, sent_at=sent_at, rng=rng, recipient=recipient)


def _history(
    case: Case, *, version: PackVersion, link: PackLink, sent_at: datetime, rng: random.Random, recipient: str
) -> None:
    if rng.random() > 0.78:
        return  # sent, not opened yet
    now = timezone.now()
    device = rng.choices([DeviceType.PHONE, DeviceType.COMPUTER, DeviceType.TABLET], weights=[7, 2, 1])[0]
    session = PackSession.objects.create(
        link=link,
        key_sha256=secrets.token_hex(32),
        expires_at=sent_at + timedelta(hours=12),
        verified_by=link.verification,
        user_agent="Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X)" if device == DeviceType.PHONE else "",
        device_type=device,
    )
    opened = sent_at + timedelta(minutes=rng.randint(8, 60 * 30))
    if opened > now:
        opened = now - timedelta(minutes=5)
    visits = rng.choices([1, 2, 3, 4], weights=[5, 3, 2, 1])[0]
    moment = opened
    for number in range(visits):
        seconds = rng.randint(45, 600) if number == 0 else rng.randint(30, 240)
        seen = SECTIONS[: rng.randint(3, len(SECTIONS))] if number == 0 else rng.sample(SECTIONS, rng.randint(1, 4))
        visit = PackVisit.objects.create(
            session=session,
            link=link,
            case=case,
            version=version,
            seconds_viewed=seconds,
            sections=[name for name in SECTIONS if name in seen],
            device_type=device,
            measured_by_script=True,
        )
        PackVisit.objects.filter(pk=visit.pk).update(
            started_at=moment, last_seen_at=moment + timedelta(seconds=seconds)
        )
        last = moment
        moment = min(moment + timedelta(hours=rng.randint(3, 60)), now - timedelta(minutes=2))
    PackSession.objects.filter(pk=session.pk).update(created_at=opened, verified_at=opened, last_seen_at=last)
    PackLink.objects.filter(pk=link.pk).update(first_opened_at=opened, last_opened_at=last)

    answer = rng.random()
    snapshot = version.snapshot
    treatments = [option for option in snapshot["options"] if option["kind"] == "treatment"]
    chosen = next((option for option in treatments if option["is_recommended"]), treatments[0] if treatments else None)
    responded_at = last + timedelta(minutes=rng.randint(1, 8))
    if answer < 0.3 and chosen is not None:
        response = PatientResponse.objects.create(
            case=case,
            version=version,
            session=session,
            kind=PatientResponse.Kind.PROCEED,
            option_public_id=chosen["public_id"],
            option_title=chosen["title"],
            preferred_times=rng.choice(PREFERRED_TIMES),
            responder=recipient,
            submission_key=secrets.token_hex(16),
        )
        PatientResponse.objects.filter(pk=response.pk).update(created_at=responded_at)
        if rng.random() < 0.6:
            patient = case.patient
            guardian = recipient == Recipient.GUARDIAN
            ConsentSignature.objects.create(
                case=case,
                version=version,
                version_sha256=version.sha256,
                session=session,
                option_public_id=chosen["public_id"],
                option_title=chosen["title"],
                signer_name=patient.guardian_name if guardian else f"{patient.first_name} {patient.last_name}",
                relationship=ConsentSignature.Relationship.PARENT if guardian else ConsentSignature.Relationship.SELF,
                verified_by=link.verification,
                signed_at=responded_at + timedelta(minutes=2),
                ip_address="203.0.113.24",
                user_agent=session.user_agent,
                consent_statements=snapshot["consent_statements"],
                submission_key=secrets.token_hex(16),
            )
    elif answer < 0.48:
        response = PatientResponse.objects.create(
            case=case,
            version=version,
            session=session,
            kind=PatientResponse.Kind.QUESTION,
            message=rng.choice(QUESTIONS),
            responder=recipient,
            submission_key=secrets.token_hex(16),
        )
        PatientResponse.objects.filter(pk=response.pk).update(created_at=responded_at)
    elif answer < 0.58:
        reason, note = rng.choice(NOT_NOW)
        response = PatientResponse.objects.create(
            case=case,
            version=version,
            session=session,
            kind=PatientResponse.Kind.NOT_NOW,
            reason=reason,
            message=note,
            responder=recipient,
            submission_key=secrets.token_hex(16),
        )
        PatientResponse.objects.filter(pk=response.pk).update(created_at=responded_at)
