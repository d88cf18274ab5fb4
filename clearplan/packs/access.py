"""The patient's way in: the pack session cookie, verification and the checks every patient view makes.

Opening /p/<token> starts a *pack session*: a random key (256 bits) in an HttpOnly cookie scoped to
/p/, of which only the SHA-256 is stored. The session belongs to one link, so to one case: nothing a
session can reach belongs to another patient. It lasts `SESSION_HOURS` from the last request
(sliding), never past the link's own expiry, and it stops at once when the link is revoked or expires.

Before anything about the patient shows, the session is verified (date of birth, or a six-digit code
sent to the patient's or guardian's own mobile or email). Wrong answers are counted on the link
across sessions; at `MAX_FAILED_VERIFICATIONS` the link locks for `LOCK_MINUTES` and the clinic hears.

Other patient views use `patient_verified`, which sets request.pack_session, pack_link, pack_case and
pack_version, or sends the browser to /p/ (verification, or the page saying the link has ended).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

from django.core.exceptions import ValidationError
from django.db import transaction
from django.middleware.csrf import CsrfViewMiddleware
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.decorators import decorator_from_middleware
from django.views.decorators.csrf import csrf_exempt

from clearplan.audit.models import AuditEvent
from clearplan.audit.services import client_address
from clearplan.packs.links import link_is_usable
from clearplan.packs.models import DeviceType, PackLink, PackSession, Recipient, VerificationMethod
from clearplan.packs.session_lookup import find_session
from clearplan.packs.versions import latest_version
from clearplan.plans.services import CASE_RECORD_TYPE

if TYPE_CHECKING:
    from collections.abc import Callable

    from django.http import HttpRequest, HttpResponse


logger = logging.getLogger(__name__)

PACK_COOKIE = "clearplan_pack"
COOKIE_PATH = "/p/"
SESSION_KEY_BYTES = 32
SESSION_HOURS = 12
# The session's expiry slides forward at most this often, so reading the pack is not a write per request.
SLIDE_AFTER = timedelta(minutes=5)

MAX_FAILED_VERIFICATIONS = 5
LOCK_MINUTES = 30
CODE_DIGITS = 6
CODE_MINUTES = 10
CODE_RESEND_SECONDS = 60
CODE_SENDS_PER_HOUR = 5

ACTOR_LABELS: dict[str, str] = {
    Recipient.PATIENT: "Patient (pack link)",
    Recipient.GUARDIAN: "Parent or guardian (pack link)",
}


# ---------- Requests and devices ----------


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


_TABLET = re.compile(r"ipad|tablet|kindle|silk|playbook|(android(?!.*mobile))", re.IGNORECASE)
_PHONE = re.compile(r"iphone|ipod|android.*mobile|windows phone|blackberry|opera mini|mobile", re.IGNORECASE)
_COMPUTER = re.compile(r"windows nt|macintosh|x11|cros|linux", re.IGNORECASE)


def device_type_for(user_agent: str) -> str:
    """Phone, tablet or computer, from the browser's own description (good enough for engagement)."""
    if not user_agent:
        return DeviceType.UNKNOWN
    if _TABLET.search(user_agent):
        return DeviceType.TABLET
    if _PHONE.search(user_agent):
        return DeviceType.PHONE
    if _COMPUTER.search(user_agent):
        return DeviceType.COMPUTER
    return DeviceType.UNKNOWN


@dataclass(frozen=True)
class SessionDetails:
    ip_address: str | None
    user_agent: str
    device_type: str


def session_details(request: HttpRequest) -> SessionDetails:
    """Where the request came from, as recorded on sessions, visits and signatures."""
    user_agent = request.META.get("HTTP_USER_AGENT", "")[:300]
    return SessionDetails(
        ip_address=client_address(request), user_agent=user_agent, device_type=device_type_for(user_agent)
    )


def actor_label(link: PackLink) -> str:
    return ACTOR_LABELS.get(link.recipient, ACTOR_LABELS[Recipient.PATIENT])


def patient_audit(
    *, request: HttpRequest | None, link: PackLink, action: str, changes: dict[str, Any] | None = None
) -> AuditEvent:
    """An audit row for something the patient (or guardian) did through their link; there is no staff actor."""
    case = link.case
    details = session_details(request) if request is not None else None
    return AuditEvent.objects.create(
        action=action,
        actor=None,
        actor_label=actor_label(link),
        organisation_id=case.clinic.organisation_id,
        clinic=case.clinic,
        object_type=CASE_RECORD_TYPE,
        object_id=str(case.public_id),
        object_label=str(case)[:300],
        changes=changes or {},
        ip_address=details.ip_address if details else None,
        user_agent=details.user_agent if details else "",
    )


def patient_headers(response: HttpResponse) -> HttpResponse:
    """Every patient page: no Referer leaves it, nothing is kept in caches, nothing is indexed."""
    response["Referrer-Policy"] = "no-referrer"
    response["Cache-Control"] = "no-store"
    response["X-Robots-Tag"] = "noindex, nofollow, noarchive"
    return response


# ---------- Sessions ----------


def _session_expiry(link: PackLink, now: datetime) -> datetime:
    return min(now + timedelta(hours=SESSION_HOURS), link.expires_at)


def session_start(*, link: PackLink, request: HttpRequest) -> tuple[PackSession, str]:
    """A new unverified session for the link; returns it with the cookie's key (only its SHA-256 is kept)."""
    key = secrets.token_urlsafe(SESSION_KEY_BYTES)
    details = session_details(request)
    session = PackSession.objects.create(
        link=link,
        key_sha256=key_digest(key),
        expires_at=_session_expiry(link, timezone.now()),
        ip_address=details.ip_address,
        user_agent=details.user_agent,
        device_type=details.device_type,
    )
    return session, key


def set_session_cookie(response: HttpResponse, *, request: HttpRequest, key: str, session: PackSession) -> None:
    max_age = max(0, int((session.expires_at - timezone.now()).total_seconds()))
    response.set_cookie(
        PACK_COOKIE,
        key,
        max_age=max_age,
        path=COOKIE_PATH,
        secure=request.is_secure(),
        httponly=True,
        samesite="Lax",
    )


def clear_session_cookie(response: HttpResponse) -> None:
    response.delete_cookie(PACK_COOKIE, path=COOKIE_PATH, samesite="Lax")


_NOT_LOOKED_UP = object()


def session_from_cookie(request: HttpRequest) -> PackSession | None:
    """The session the cookie names while the session itself lasts, even if its link has since
    ended (so the page can say so). Looked up once per request."""
    cached = getattr(request, "_pack_session_lookup", _NOT_LOOKED_UP)
    if cached is not _NOT_LOOKED_UP:
        return cached  # type: ignore[return-value]
    key = request.COOKIES.get(PACK_COOKIE, "")
    session = None
    if key and len(key) <= 100:
        session = find_session(key_digest(key), timezone.now())
    request._pack_session_lookup = session  # type: ignore[attr-defined]
    return session


def current_session(request: HttpRequest) -> PackSession | None:
    """The browser's pack session when it is still good and its link still works (verified or not)."""
    session = session_from_cookie(request)
    if session is None or not link_is_usable(session.link):
        return None
    return session


def session_end(*, request: HttpRequest, session: PackSession) -> None:
    """Sign out of the pack on this browser: the session stops working at once."""
    with transaction.atomic():
        PackSession.objects.filter(pk=session.pk).update(expires_at=timezone.now())
        patient_audit(request=request, link=session.link, action=AuditEvent.Action.SIGN_OUT)


def session_keep_alive(*, request: HttpRequest, session: PackSession, response: HttpResponse) -> None:
    """Slide the session's expiry forward (at most every few minutes) and renew the cookie with it."""
    now = timezone.now()
    if now - session.last_seen_at < SLIDE_AFTER:
        return
    session.last_seen_at = now
    session.expires_at = _session_expiry(session.link, now)
    PackSession.objects.filter(pk=session.pk).update(last_seen_at=now, expires_at=session.expires_at)
    key = request.COOKIES.get(PACK_COOKIE, "")
    if key:
        set_session_cookie(response, request=request, key=key, session=session)


class _PatientCsrfMiddleware(CsrfViewMiddleware):
    """Patient pages send no Referer, and so browsers send `Origin: null` with their forms, which
    Django's origin check refuses. The token check stays. Another site's form cannot pass it: it
    cannot read the token, and both the pack cookie and Django's CSRF cookie are SameSite=Lax, so
    a cross-site form carries neither."""

    def _origin_verified(self, request: HttpRequest) -> bool:
        # (_origin_verified is Django's own, missing from the type stubs.)
        return request.META.get("HTTP_ORIGIN") == "null" or super()._origin_verified(request)  # type: ignore[misc]


_patient_csrf_protect = cast(
    "Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]",
    decorator_from_middleware(_PatientCsrfMiddleware),
)


def patient_form(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """CSRF protection for views that patient pages post forms to (patient_verified includes it)."""
    return csrf_exempt(_patient_csrf_protect(view))


def patient_verified(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """For patient views: a verified session on a working link, or the browser goes to /p/ (which
    asks to verify, or says the link has ended). Sets request.pack_session, pack_link, pack_case and
    pack_version (the case's latest version), checks the CSRF token of forms posted from patient
    pages (see _PatientCsrfMiddleware), and sends the patient pages' headers."""
    protected = _patient_csrf_protect(view)

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        session = current_session(request)
        if session is None or session.verified_at is None:
            return patient_headers(redirect("packs:patient_pack"))
        version = latest_version(session.link.case)
        if version is None:
            return patient_headers(redirect("packs:patient_pack"))
        request.pack_session = session  # type: ignore[attr-defined]
        request.pack_link = session.link  # type: ignore[attr-defined]
        request.pack_case = session.link.case  # type: ignore[attr-defined]
        request.pack_version = version  # type: ignore[attr-defined]
        response = protected(request, *args, **kwargs)
        session_keep_alive(request=request, session=session, response=response)
        return patient_headers(response)

    return csrf_exempt(wrapper)


# ---------- Verification ----------


class VerificationRefused(ValidationError):
    """A wrong, malformed or locked answer; the message is for the patient, at the field."""


def link_locked(link: PackLink, now: datetime | None = None) -> bool:
    return link.locked_until is not None and link.locked_until > (now or timezone.now())


def _locked_message(link: PackLink) -> str:
    from clearplan.lib.clinic_time import clinic_zone

    assert link.locked_until is not None
    until = link.locked_until.astimezone(clinic_zone(link.case.clinic))
    clinic = link.case.clinic
    phone = f" or call {clinic.name} on {display_phone(clinic)}" if clinic.phone else ""
    return (
        f"For your security this link is paused after {MAX_FAILED_VERIFICATIONS} tries that did not match. "
        f"Please try again after {clock_time(until)}{phone}."
    )


def clock_time(moment: datetime) -> str:
    """ "3:45 pm": how a time reads to a patient."""
    hour = moment.hour % 12 or 12
    return f"{hour}:{moment.minute:02d} {'am' if moment.hour < 12 else 'pm'}"


def display_phone(clinic: Any) -> str:
    from clearplan.accounts.forms import national_phone

    return national_phone(clinic)


def _tell_team_link_locked(link: PackLink) -> None:
    """The clinic hears that someone could not answer (it may be the patient struggling, or someone else)."""
    try:
        from clearplan.notifications.services import notify_team  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        return
    who = "the parent or guardian's" if link.recipient == Recipient.GUARDIAN else "the patient's"
    question = "date of birth" if link.verification == VerificationMethod.DATE_OF_BIRTH else "one-time code"
    notify_team(
        case=link.case,
        kind="link_locked",
        text=(
            f"The pack link was paused for {LOCK_MINUTES} minutes after {MAX_FAILED_VERIFICATIONS} wrong answers "
            f"to the {question} question on {who} link. If the patient calls, you can help them or send a new link."
        ),
    )


def _answer(*, request: HttpRequest, session: PackSession, correct: bool, method: str) -> PackSession:
    """Count a right or wrong answer on the link under a row lock, so answers sent side by side get
    no more tries than the limit. Raises VerificationRefused for a wrong answer or a locked link."""
    now = timezone.now()
    with transaction.atomic():
        link = (
            PackLink.objects.select_for_update().select_related("case__clinic", "case__patient").get(pk=session.link_id)
        )
        if not link_is_usable(link):
            raise VerificationRefused("This link no longer works.", code="ended")
        if link_locked(link, now):
            raise VerificationRefused(_locked_message(link), code="locked")
        if correct:
            link.failed_verifications = 0
            link.locked_until = None
            link.first_opened_at = link.first_opened_at or now
            link.last_opened_at = now
            link.save(update_fields=["failed_verifications", "locked_until", "first_opened_at", "last_opened_at"])
            session.verified_at = now
            session.verified_by = method
            session.code_sha256 = ""
            session.code_expires_at = None
            session.save(update_fields=["verified_at", "verified_by", "code_sha256", "code_expires_at"])
            session.link = link
            patient_audit(
                request=request, link=link, action=AuditEvent.Action.SIGN_IN, changes={"pack_verified_by": method}
            )
            return session
        link.failed_verifications += 1
        tries_left = MAX_FAILED_VERIFICATIONS - link.failed_verifications
        if tries_left <= 0:
            link.failed_verifications = 0
            link.locked_until = now + timedelta(minutes=LOCK_MINUTES)
            link.save(update_fields=["failed_verifications", "locked_until"])
            patient_audit(
                request=request,
                link=link,
                action=AuditEvent.Action.LOCKED_OUT,
                changes={"pack_link_locked_until": link.locked_until.isoformat()},
            )
            _tell_team_link_locked(link)
            session.link = link
            return_message = _locked_message(link)
        else:
            link.save(update_fields=["failed_verifications"])
            patient_audit(
                request=request,
                link=link,
                action=AuditEvent.Action.SIGN_IN_FAILED,
                changes={"pack_verification": method, "tries_left": tries_left},
            )
            return_message = ""
    if return_message:
        raise VerificationRefused(return_message, code="locked")
    raise VerificationRefused(
        wrong_answer_message(method, recipient=session.link.recipient, tries_left=tries_left), code="wrong"
    )


def wrong_answer_message(method: str, *, recipient: str, tries_left: int) -> str:
    tries = "1 more try" if tries_left == 1 else f"{tries_left} more tries"
    if method == VerificationMethod.CODE:
        return f"That code does not match the one we sent. Check it and try again. You have {tries}."
    whose = "your child's date of birth" if recipient == Recipient.GUARDIAN else "the date of birth"
    return f"That does not match {whose} in our records. Check the day, month and year and try again. You have {tries}."


# Dates of birth: three boxes (day, month, year), or a whole date typed or pasted into one of them.

_MONTH_NAMES = {
    name: number
    for number, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ],
        start=1,
    )
    for name in names
}
_PARTS = re.compile(r"[0-9]+|[a-z]+", re.IGNORECASE)


def _whole_date(text: str, *, month_first: bool) -> tuple[str, str, str] | None:
    """Day, month and year from a whole date ("03/07/1986", "1986-07-03", "3 July 1986"), or None."""
    parts = _PARTS.findall(text)
    if len(parts) != 3:
        return None
    named = [part for part in parts if part.isalpha()]
    if named:
        if len(named) != 1 or named[0].lower() not in _MONTH_NAMES:
            return None
        month = str(_MONTH_NAMES[named[0].lower()])
        day, year = (part for part in parts if not part.isalpha())
        if len(day) == 4:
            day, year = year, day
        return day, month, year
    if len(parts[0]) == 4:
        year, month, day = parts
        return day, month, year
    first, second, year = parts
    return (second, first, year) if month_first else (first, second, year)


def parse_date_of_birth(*, day: str, month: str, year: str, locale: str = "en-AU", whose: str = "your") -> date:
    """The date the patient entered, or VerificationRefused with a message saying what to fix.
    A malformed date is a typing slip, not a wrong answer, so it does not count as a try."""
    day, month, year = (value.strip() for value in (day, month, year))
    month_first = locale == "en-US"
    for value in (day, month, year):
        if len(_PARTS.findall(value)) == 3:
            whole = _whole_date(value, month_first=month_first)
            if whole is not None:
                day, month, year = whole
                break
    if not (day or month or year):
        raise VerificationRefused(f"Enter {whose} date of birth.", code="invalid")
    if not (day.isdigit() and month.isdigit() and year.isdigit()):
        if month.strip().lower() in _MONTH_NAMES and day.isdigit() and year.isdigit():
            month = str(_MONTH_NAMES[month.strip().lower()])
        else:
            raise VerificationRefused(
                "Enter the day, month and year as numbers, for example 27 3 1986.", code="invalid"
            )
    if len(year) != 4:
        raise VerificationRefused("Enter the year in full, for example 1986.", code="invalid")
    try:
        answer = date(int(year), int(month), int(day))
    except ValueError:
        raise VerificationRefused(
            "That is not a date in the calendar. Check the day and month.", code="invalid"
        ) from None
    if answer > timezone.localdate():
        raise VerificationRefused("That date is in the future. Check the year.", code="invalid")
    return answer


def verify_date_of_birth(*, request: HttpRequest, session: PackSession, answer: date) -> PackSession:
    """The patient's date of birth (also on a guardian's link: the child's). Raises VerificationRefused."""
    expected = session.link.case.patient.date_of_birth
    correct = hmac.compare_digest(answer.isoformat(), expected.isoformat())
    return _answer(request=request, session=session, correct=correct, method=VerificationMethod.DATE_OF_BIRTH)


# One-time codes


def _code_digest(session: PackSession, code: str) -> str:
    from django.conf import settings

    return hmac.new(settings.SECRET_KEY.encode(), f"{session.key_sha256}:{code}".encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class CodeDestination:
    channel: str  # "sms" or "email"
    address: str
    masked: str  # for the team only ("mobile ending 678"); the patient's page says just "by text message"


def code_destination(link: PackLink) -> CodeDestination | None:
    """Where a code for this link goes: the recipient's own mobile (when the practice can send SMS),
    else their email."""
    patient = link.case.patient
    if link.recipient == Recipient.GUARDIAN:
        mobile, email = patient.guardian_mobile, patient.guardian_email
    else:
        mobile, email = patient.mobile, patient.email
    from clearplan.messaging.sms import sms_configured

    if mobile and sms_configured():
        return CodeDestination("sms", mobile, f"mobile ending {mobile[-3:]}")
    if email:
        local, _at, domain = email.rpartition("@")
        return CodeDestination("email", email, f"email {local[:1]}…@{domain}")
    return None


def code_send(*, request: HttpRequest, session: PackSession) -> PackSession:
    """Send a fresh six-digit code to the recipient's own mobile (or email). At most one a minute per
    session and `CODE_SENDS_PER_HOUR` an hour per case. Raises VerificationRefused."""
    from clearplan.messaging.models import OutboundMessage
    from clearplan.messaging.services import message_send  # type: ignore[attr-defined,unused-ignore]

    now = timezone.now()
    with transaction.atomic():
        current = PackSession.objects.select_for_update().get(pk=session.pk)
        link = PackLink.objects.select_related("case__clinic", "case__patient").get(pk=current.link_id)
        clinic = link.case.clinic
        if not link_is_usable(link):
            raise VerificationRefused("This link no longer works.", code="ended")
        if link_locked(link, now):
            raise VerificationRefused(_locked_message(link), code="locked")
        if current.code_sent_at is not None and now - current.code_sent_at < timedelta(seconds=CODE_RESEND_SECONDS):
            raise VerificationRefused(
                "We sent a code less than a minute ago. It can take a moment to arrive; "
                "wait a minute before asking for another.",
                code="too_soon",
            )
        recent = OutboundMessage.objects.filter(
            case=link.case,
            purpose=OutboundMessage.Purpose.VERIFICATION_CODE,
            created_at__gte=now - timedelta(hours=1),
        ).count()
        call = f" or call us on {display_phone(clinic)}" if clinic.phone else ""
        if recent >= CODE_SENDS_PER_HOUR:
            raise VerificationRefused(
                f"We have already sent {CODE_SENDS_PER_HOUR} codes in the last hour. Please try again later{call}.",
                code="too_many",
            )
        destination = code_destination(link)
        if destination is None:
            raise VerificationRefused(
                f"We do not have a mobile number or email address to send a code to. Please contact {clinic.name}"
                f"{call.replace(' or call us on', ' on')}.",
                code="no_contact",
            )
        code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
        current.code_sha256 = _code_digest(current, code)
        current.code_sent_at = now
        current.code_expires_at = now + timedelta(minutes=CODE_MINUTES)
        current.code_sent_to = destination.masked
        current.save(update_fields=["code_sha256", "code_sent_at", "code_expires_at", "code_sent_to"])
        body = (
            f"Your code for your treatment pack from {clinic.name} is {code}. It works for {CODE_MINUTES} minutes. "
            "If you did not ask for it, you can ignore this message."
        )
        try:
            message_send(
                clinic=clinic,
                channel=destination.channel,
                to=destination.address,
                body=body,
                purpose="verification_code",
                subject=f"Your code from {clinic.name}" if destination.channel == "email" else "",
                patient=link.case.patient,
                case=link.case,
            )
        except ValidationError:
            # A number or address the practice must correct; the patient can only ask them.
            logger.warning("A verification code could not be sent for pack link %s", str(link.public_id)[:8])
            raise VerificationRefused(
                f"We could not send a code to the details we have. Please contact {clinic.name}"
                f"{call.replace(' or call us on', ' on')}.",
                code="not_sent",
            ) from None
        patient_audit(
            request=request,
            link=link,
            action=AuditEvent.Action.CREATE,
            changes={"pack_code_sent_by": destination.channel},
        )
    current.link = link
    return current


def verify_code(*, request: HttpRequest, session: PackSession, code: str) -> PackSession:
    """The six-digit code sent to this session. Raises VerificationRefused."""
    code = re.sub(r"[\s-]", "", code)
    if not (len(code) == CODE_DIGITS and code.isdigit()):
        raise VerificationRefused(f"Enter the {CODE_DIGITS}-digit code from the message we sent.", code="invalid")
    if not session.code_sha256 or session.code_expires_at is None:
        raise VerificationRefused("Ask for a code first, with “Send me a code”.", code="no_code")
    if session.code_expires_at <= timezone.now():
        raise VerificationRefused("That code has expired. Ask for a new one.", code="expired")
    correct = hmac.compare_digest(_code_digest(session, code), session.code_sha256)
    return _answer(request=request, session=session, correct=correct, method=VerificationMethod.CODE)
