"""The patient's pages: the link, verification, the pack itself, its images, PDF and engagement.

Nothing here trusts an id from the address alone: every page starts from the pack session in the
cookie (clearplan.packs.access), which belongs to one link and so to one case. Pages that show
anything about the patient need a verified session; before that only the clinic's name and logo
show. Every response carries the patient pages' headers (no Referer, no caching, no indexing).
"""

from __future__ import annotations

import functools
import mimetypes
import re
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from clearplan.accounts.models import Clinic
from clearplan.audit.models import AuditEvent
from clearplan.lib.clinic_time import clinic_zone
from clearplan.packs import access, engagement
from clearplan.packs.links import link_for_token, link_is_usable
from clearplan.packs.models import (
    PackLink,
    PackSend,
    PackSession,
    PackVersion,
    PackVersionImage,
    PackVisit,
    Recipient,
    VerificationMethod,
)
from clearplan.packs.versions import IMAGE_SIZES
from clearplan.plans import composer
from clearplan.plans.composer_views import BRAND_COLOUR, DEFAULT_BRAND

if TYPE_CHECKING:
    from collections.abc import Callable


def _patient_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return access.patient_headers(view(request, *args, **kwargs))

    return wrapper


# ---------- The link ----------


def _clinic_context(clinic: Clinic | None) -> dict[str, Any]:
    """Only the clinic shows before verification: its name, logo and phone."""
    if clinic is None:
        return {"clinic": None}
    return {
        "clinic": clinic,
        "clinic_phone": access.display_phone(clinic) if clinic.phone else "",
        "logo_url": reverse("packs:patient_logo", args=[clinic.public_id]) if clinic.logo else "",
    }


def _link_ended(request: HttpRequest, link: PackLink) -> HttpResponse:
    reason = "withdrawn" if link.revoked_at is not None else "expired"
    context = {**_clinic_context(link.case.clinic), "reason": reason}
    return _unlogged(render(request, "packs/patient/link_ended.html", context, status=410))


def _link_unknown(request: HttpRequest) -> HttpResponse:
    return _unlogged(render(request, "packs/patient/link_unknown.html", _clinic_context(None), status=404))


def _unlogged(response: HttpResponse) -> HttpResponse:
    # Django logs every 4xx with its path, which here holds a link's token; the page itself is the answer.
    response._has_been_logged = True  # type: ignore[attr-defined]
    return response


@_patient_page
@require_GET
def patient_open(request: HttpRequest, token: str) -> HttpResponse:
    """The address in the message: exchange the token for a session cookie and move to /p/, so the
    token leaves the address bar, the history and any Referer at once."""
    link = link_for_token(token)
    if link is None:
        return _link_unknown(request)
    if not link_is_usable(link):
        return _link_ended(request, link)
    response = redirect("packs:patient_pack")
    existing = access.current_session(request)
    if existing is not None and existing.link_id == link.pk:
        # Tapping the link again keeps the session (and its verification) this browser already has.
        return response
    session, key = access.session_start(link=link, request=request)
    access.set_session_cookie(response, request=request, key=key, session=session)
    return response


# ---------- Verification ----------


def _whose(link: PackLink) -> str:
    return "your child's" if link.recipient == Recipient.GUARDIAN else "your"


def _verification_page(
    request: HttpRequest,
    session: PackSession,
    *,
    error: str = "",
    code_error: str = "",
    values: dict[str, str] | None = None,
    status: int = 200,
) -> HttpResponse:
    link = session.link
    clinic = link.case.clinic
    now = timezone.now()
    code_pending = bool(session.code_sha256 and session.code_expires_at and session.code_expires_at > now)
    sent_by = "by text message" if session.code_sent_to.startswith("mobile") else "by email"
    month_first = clinic.locale == Clinic.Locale.EN_US
    values = values or {}
    order = ("month", "day", "year") if month_first else ("day", "month", "year")
    date_fields = [
        {"name": name, "label": name.capitalize(), "autocomplete": f"bday-{name}", "value": values.get(name, "")}
        for name in order
    ]
    context = {
        **_clinic_context(clinic),
        "method": link.verification,
        "whose": _whose(link),
        "is_guardian": link.recipient == Recipient.GUARDIAN,
        "locked_message": access._locked_message(link) if access.link_locked(link, now) else "",
        "error": error,
        "code_error": code_error,
        "values": values,
        "date_fields": date_fields,
        "tries_left": access.MAX_FAILED_VERIFICATIONS - link.failed_verifications,
        "code_pending": code_pending,
        "code_sent_by": sent_by,
        "code_minutes": access.CODE_MINUTES,
        "month_first": month_first,
    }
    return render(request, "packs/patient/verify.html", context, status=status)


@_patient_page
@require_POST
@access.patient_form
def patient_verify(request: HttpRequest) -> HttpResponse:
    session = access.current_session(request)
    if session is None or session.verified_at is not None:
        return redirect("packs:patient_pack")
    link = session.link
    values = {name: request.POST.get(name, "")[:40] for name in ("day", "month", "year", "code")}
    try:
        if link.verification == VerificationMethod.CODE:
            access.verify_code(request=request, session=session, code=values["code"])
        else:
            answer = access.parse_date_of_birth(
                day=values["day"],
                month=values["month"],
                year=values["year"],
                locale=link.case.clinic.locale,
                whose=_whose(link),
            )
            access.verify_date_of_birth(request=request, session=session, answer=answer)
    except access.VerificationRefused as refused:
        link.refresh_from_db(fields=["failed_verifications", "locked_until", "revoked_at", "expires_at"])
        if not link_is_usable(link):
            return redirect("packs:patient_pack")
        # A wrong answer is not kept in the form, so a second person at the screen does not see it.
        kept = values if refused.code == "invalid" else {}
        return _verification_page(request, session, error=refused.message, values=kept, status=400)
    return redirect("packs:patient_pack")


@_patient_page
@require_POST
@access.patient_form
def patient_send_code(request: HttpRequest) -> HttpResponse:
    session = access.current_session(request)
    if session is None or session.verified_at is not None or session.link.verification != VerificationMethod.CODE:
        return redirect("packs:patient_pack")
    try:
        access.code_send(request=request, session=session)
    except access.VerificationRefused as refused:
        session.refresh_from_db()
        return _verification_page(request, session, code_error=refused.message, status=400)
    return redirect("packs:patient_pack")


# ---------- The pack ----------

# A frozen version never changes, so its page body is prepared once per process and reused.
_BODY_CACHE: OrderedDict[tuple[int, str], tuple[str, str]] = OrderedDict()
_BODY_CACHE_SIZE = 64
_CONTACT = '<footer class="pack-section pack-contact"'
_IMAGE = re.compile(r'<img src="(?P<base>/p/images/[0-9a-f-]{36}/)medium"(?P<rest>[^>]*)>')


def _enlargeable(match: re.Match[str]) -> str:
    # Tapping a picture opens its largest size: a plain link, so it works without the script too.
    return (
        f'<a class="pack-image__open" href="{match["base"]}large">{match[0]}'
        '<span class="pack-visually-hidden"> (opens a larger copy)</span></a>'
    )


def pack_body_parts(version: PackVersion) -> tuple[str, str]:
    """The frozen body split before "Contact us" (the patient's actions go between), with each
    picture made a link to its larger size."""
    key = (version.pk, version.sha256)
    parts = _BODY_CACHE.get(key)
    if parts is None:
        body = PackVersion.objects.values_list("body_html", flat=True).get(pk=version.pk)
        body = _IMAGE.sub(_enlargeable, body)
        cut = body.find(_CONTACT)
        parts = (body, "") if cut < 0 else (body[:cut], body[cut:])
        _BODY_CACHE[key] = parts
        while len(_BODY_CACHE) > _BODY_CACHE_SIZE:
            _BODY_CACHE.popitem(last=False)
    return parts


_VERSION_CACHE: OrderedDict[uuid.UUID, PackVersion] = OrderedDict()


def _frozen_version(public_id: uuid.UUID) -> PackVersion:
    """The version without its page body (kept apart by pack_body_parts); versions are immutable."""
    version = _VERSION_CACHE.get(public_id)
    if version is None:
        version = PackVersion.objects.defer("body_html").get(public_id=public_id)
        _VERSION_CACHE[public_id] = version
        while len(_VERSION_CACHE) > _BODY_CACHE_SIZE:
            _VERSION_CACHE.popitem(last=False)
    return version


def _last_version_seen(link: PackLink) -> int | None:
    """The version this link last showed, or else the one it was sent with."""
    seen = PackVisit.objects.filter(link=link).order_by("-started_at").values_list("version__number", flat=True).first()
    if seen is None:
        seen = (
            PackSend.objects.filter(link=link).order_by("-created_at").values_list("version__number", flat=True).first()
        )
    return seen


@dataclass(frozen=True)
class _Gate:
    """What /p/ shows when it cannot show the pack."""

    response: HttpResponse


def _pack_gate(request: HttpRequest) -> PackSession | _Gate:
    session = access.session_from_cookie(request)
    if session is None:
        return _Gate(render(request, "packs/patient/no_session.html", _clinic_context(None)))
    if not link_is_usable(session.link):
        return _Gate(_link_ended(request, session.link))
    if session.verified_at is None:
        return _Gate(_verification_page(request, session))
    return session


@_patient_page
@require_GET
def patient_pack(request: HttpRequest) -> HttpResponse:
    """The pack, for a verified session; otherwise verification, or a page saying why not."""
    gate = _pack_gate(request)
    if isinstance(gate, _Gate):
        return gate.response
    session = gate
    link = session.link
    case = link.case
    # The version was found with the session; a version never changes, so each process keeps it.
    latest = getattr(session, "latest_version_key", None)
    version = _frozen_version(latest) if latest else None
    if version is None:
        return render(request, "packs/patient/not_ready.html", _clinic_context(case.clinic))
    updated = version.number > 1 and (_last_version_seen(link) or version.number) < version.number
    with transaction.atomic():  # one commit for the page's writes
        visit = engagement.visit_start(session=session, version=version)
        access.patient_audit(
            request=request, link=link, action=AuditEvent.Action.VIEW, changes={"pack_version": version.number}
        )
        now = timezone.now()
        if link.last_opened_at is None or now - link.last_opened_at >= access.SLIDE_AFTER:
            PackLink.objects.filter(pk=link.pk).update(last_opened_at=now)
    before_contact, contact = pack_body_parts(version)
    context = {
        **_clinic_context(case.clinic),
        "version": version,
        "pack_session": session,
        "link": link,
        "case": case,
        "visit": visit,
        "updated": updated,
        "updated_on": version.created_at.astimezone(clinic_zone(case.clinic)),
        "body_before_contact": before_contact,
        "body_contact": contact,
    }
    # The actions area (packs/patient/_actions.html) reads these too.
    request.pack_session = session  # type: ignore[attr-defined]
    request.pack_link = link  # type: ignore[attr-defined]
    request.pack_case = case  # type: ignore[attr-defined]
    request.pack_version = version  # type: ignore[attr-defined]
    response = render(request, "packs/patient/pack.html", context)
    access.session_keep_alive(request=request, session=session, response=response)
    return response


@_patient_page
@require_POST
@access.patient_form
def patient_sign_out(request: HttpRequest) -> HttpResponse:
    session = access.session_from_cookie(request)
    if session is not None:
        access.session_end(request=request, session=session)
    response = redirect("packs:patient_signed_out")
    access.clear_session_cookie(response)
    return response


@_patient_page
@require_GET
def patient_signed_out(request: HttpRequest) -> HttpResponse:
    return render(request, "packs/patient/signed_out.html", _clinic_context(None))


@access.patient_verified
def patient_pdf(request: HttpRequest) -> HttpResponse:
    from clearplan.packs.pdf import pack_pdf  # made with WeasyPrint, so loaded only when asked for

    version: PackVersion = request.pack_version  # type: ignore[attr-defined]
    content = pack_pdf(version)
    access.patient_audit(
        request=request,
        link=request.pack_link,  # type: ignore[attr-defined]
        action=AuditEvent.Action.EXPORT,
        changes={"pack_pdf": version.number},
    )
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = 'attachment; filename="treatment-pack.pdf"'
    return response


# ---------- Images, logo and brand ----------


@_patient_page
@require_GET
def patient_image(request: HttpRequest, image_id: uuid.UUID, size: str) -> HttpResponse:
    """A picture from one of the session's own case's pack versions, to a verified session only."""
    if size not in IMAGE_SIZES:
        raise Http404
    session = access.current_session(request)
    if session is None or session.verified_at is None:
        raise Http404
    image = get_object_or_404(PackVersionImage, public_id=image_id, version__case_id=session.link.case_id)
    file = getattr(image, size)
    content_type = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
    response = FileResponse(file.open("rb"), content_type=content_type)
    response["Content-Security-Policy"] = "default-src 'none'"
    return response


def _public_asset_headers(response: HttpResponse) -> HttpResponse:
    """The logo and brand colour may be cached (they say nothing about the patient), but like every
    response under /p/ they send no Referer and are not indexed."""
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex, nofollow, noarchive"
    return response


@require_GET
def patient_logo(request: HttpRequest, clinic_id: uuid.UUID) -> HttpResponse:
    """A clinic's logo is not private: the patient sees it before verifying, and browsers may keep it."""
    clinic = get_object_or_404(Clinic, public_id=clinic_id)
    if not clinic.logo:
        raise Http404
    content_type = mimetypes.guess_type(clinic.logo.name)[0] or "application/octet-stream"
    response = FileResponse(clinic.logo.open("rb"), content_type=content_type)
    response["Content-Security-Policy"] = "default-src 'none'"
    response["Cache-Control"] = "public, max-age=3600"
    return _public_asset_headers(response)


@require_GET
def patient_brand_css(request: HttpRequest, clinic_id: uuid.UUID) -> HttpResponse:
    """The clinic's colour for its patient pages (a colour is not private)."""
    clinic = get_object_or_404(Clinic, public_id=clinic_id)
    brand = clinic.brand_colour if BRAND_COLOUR.match(clinic.brand_colour or "") else DEFAULT_BRAND
    css = f".pack, .pack-gate {{ --pack-brand: {brand}; --pack-on-brand: {composer.readable_text_colour(brand)}; }}\n"
    response = HttpResponse(css, content_type="text/css; charset=utf-8")
    response["Cache-Control"] = "public, max-age=300"
    return _public_asset_headers(response)


# ---------- Engagement ----------


@_patient_page
@require_POST
@access.patient_form
def patient_engagement(request: HttpRequest) -> HttpResponse:
    """What the page's script saw: sections that came into view and seconds the page was visible."""
    session = access.current_session(request)
    if session is None or session.verified_at is None:
        return JsonResponse({"ok": False}, status=403)
    try:
        seconds = int(request.POST.get("seconds", "0"))
    except ValueError:
        seconds = 0
    sections = request.POST.get("sections", "").split(",")[: len(engagement.SECTION_NAMES)]
    visit = engagement.visit_record(
        session=session, visit_id=request.POST.get("visit", ""), seconds=seconds, sections=sections
    )
    if visit is None:
        return JsonResponse({"ok": False}, status=404)
    return JsonResponse({"ok": True})
