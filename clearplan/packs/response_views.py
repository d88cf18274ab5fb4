"""What the patient's pack posts to: I'd like to proceed, I have a question, not right now, sign;
and the signed PDF.

Every view sits behind `access.patient_verified` (a verified pack session on a working link, the
form's CSRF token, the patient pages' headers). A reply that goes through sends the browser back
to the pack with a calm confirmation (a message, so nothing personal rides in the address); a
refused one shows the form again on its own page with the message at the field and nothing saved.
The forms work without JavaScript; the only script draws the optional signature.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from clearplan.audit.models import AuditEvent
from clearplan.packs import access
from clearplan.packs.models import ConsentSignature, PackVersion, PatientResponse
from clearplan.packs.response_forms import NotNowForm, ProceedForm, QuestionForm, SignForm
from clearplan.packs.responses import (
    ActionState,
    patient_action_state,
    response_record,
    signature_record,
    signed_pdf_make,
)
from clearplan.plans.forms import submit_form

if TYPE_CHECKING:
    from clearplan.packs.models import PackSession

Kind = PatientResponse.Kind

THANK_YOU = "Thank you — we’ve told the team. {clinic} will be in touch."
DONE_TAG = "pack-done"
DONE_FRAGMENT = "#pack-done"

# What each page is called when a form is shown on its own (opened directly, or sent back with a problem).
HEADINGS = {
    Kind.PROCEED: "I’d like to proceed",
    Kind.QUESTION: "I have a question",
    Kind.NOT_NOW: "Not right now",
    "sign": "Consent and signature",
}
FORM_TEMPLATES = {
    Kind.PROCEED: "packs/patient/respond/_proceed.html",
    Kind.QUESTION: "packs/patient/respond/_question.html",
    Kind.NOT_NOW: "packs/patient/respond/_not_now.html",
    "sign": "packs/patient/respond/_sign.html",
}
FORM_NAMES = {
    Kind.PROCEED: "proceed_form",
    Kind.QUESTION: "question_form",
    Kind.NOT_NOW: "not_now_form",
    "sign": "sign_form",
}


def _form(kind: str, state: ActionState, data: Any = None) -> forms.Form:
    initial: dict[str, Any] = {"version": state.version.public_id}
    if kind == Kind.PROCEED:
        initial["option"] = state.chosen_option_id or None
        return ProceedForm(data, options=state.options, prefix="proceed", initial=initial)
    if kind == Kind.QUESTION:
        return QuestionForm(data, prefix="question", initial=initial)
    if kind == Kind.NOT_NOW:
        return NotNowForm(data, prefix="not-now", initial=initial)
    initial["option"] = state.chosen_option_id or None
    return SignForm(
        data,
        options=state.options,
        statements=state.statements,
        is_guardian=state.is_guardian,
        patient_first_name=state.patient_first_name,
        prefix="sign",
        initial=initial,
    )


def actions_context(
    request: HttpRequest,
    *,
    session: PackSession,
    version: PackVersion,
    bound: dict[str, forms.Form] | None = None,
    state: ActionState | None = None,
) -> dict[str, Any]:
    """Everything the actions area of the pack page needs (packs/patient/respond/_section.html):
    what this link has done already, a form for each action, and the confirmation just earned."""
    state = state or patient_action_state(session, version)
    context: dict[str, Any] = {"state": state}
    for kind, name in FORM_NAMES.items():
        context[name] = (bound or {}).get(name) or _form(kind, state)
    context["proceed_choices"] = list(zip(state.options, context["proceed_form"]["option"], strict=True))
    context["sign_choices"] = list(zip(state.options, context["sign_form"]["option"], strict=True))
    done = [message for message in messages.get_messages(request) if DONE_TAG in message.tags.split()]
    if done:
        context["done"] = done[-1]
        context["done_kind"] = next(
            (tag.removeprefix(f"{DONE_TAG}--") for tag in done[-1].tags.split() if tag.startswith(f"{DONE_TAG}--")),
            "",
        )
    return context


def _version_read(request: HttpRequest, form: forms.Form) -> PackVersion:
    """The version the form was shown with, when it is this case's; otherwise the latest."""
    wanted = form.cleaned_data.get("version") if hasattr(form, "cleaned_data") else None
    if isinstance(wanted, uuid.UUID):
        version = PackVersion.objects.filter(case=request.pack_case, public_id=wanted).first()  # type: ignore[attr-defined]
        if version is not None:
            return version
    return request.pack_version  # type: ignore[attr-defined]


def _thank(request: HttpRequest, state: ActionState, kind: str) -> HttpResponse:
    clinic = state.clinic_name or "The clinic"
    messages.success(request, THANK_YOU.format(clinic=clinic), extra_tags=f"{DONE_TAG} {DONE_TAG}--{kind}")
    return redirect(reverse("packs:patient_pack") + DONE_FRAGMENT)


def _form_page(request: HttpRequest, kind: str, state: ActionState, form: forms.Form, *, status: int) -> HttpResponse:
    context = actions_context(
        request,
        session=request.pack_session,  # type: ignore[attr-defined]
        version=state.version,
        bound={FORM_NAMES[kind]: form},
        state=state,
    )
    context.update(
        {
            "clinic": request.pack_case.clinic,  # type: ignore[attr-defined]
            "logo_url": _logo_url(request),
            "heading": HEADINGS[kind],
            "form_template": FORM_TEMPLATES[kind],
            "standalone": True,
        }
    )
    return render(request, "packs/patient/respond/page.html", context, status=status)


def _logo_url(request: HttpRequest) -> str:
    clinic = request.pack_case.clinic  # type: ignore[attr-defined]
    return reverse("packs:patient_logo", args=[clinic.public_id]) if clinic.logo else ""


def _respond(request: HttpRequest, kind: str) -> HttpResponse:
    state = patient_action_state(request.pack_session, request.pack_version)  # type: ignore[attr-defined]
    if request.method != "POST":
        return _form_page(request, kind, state, _form(kind, state), status=200)
    form = _form(kind, state, request.POST)

    def record() -> PatientResponse:
        data = form.cleaned_data
        return response_record(
            session=request.pack_session,  # type: ignore[attr-defined]
            version=_version_read(request, form),
            kind=kind,
            option_public_id=data.get("option") or None,
            preferred_times=form.preferred_times_text() if isinstance(form, ProceedForm) else "",
            message=data.get("message", ""),
            reason=data.get("reason", ""),
            submission_key=data["submission_key"],
            request=request,
        )

    if submit_form(form, record) is None:
        return _form_page(request, kind, state, form, status=400)
    return _thank(request, state, kind)


@access.patient_verified
@require_http_methods(["GET", "POST"])
def respond_proceed(request: HttpRequest) -> HttpResponse:
    return _respond(request, Kind.PROCEED)


@access.patient_verified
@require_http_methods(["GET", "POST"])
def respond_question(request: HttpRequest) -> HttpResponse:
    return _respond(request, Kind.QUESTION)


@access.patient_verified
@require_http_methods(["GET", "POST"])
def respond_not_now(request: HttpRequest) -> HttpResponse:
    return _respond(request, Kind.NOT_NOW)


@access.patient_verified
@require_http_methods(["GET", "POST"])
def sign(request: HttpRequest) -> HttpResponse:
    state = patient_action_state(request.pack_session, request.pack_version)  # type: ignore[attr-defined]
    if request.method != "POST":
        return _form_page(request, "sign", state, _form("sign", state), status=200)
    form = _form("sign", state, request.POST)

    def record() -> ConsentSignature:
        data = form.cleaned_data
        return signature_record(
            session=request.pack_session,  # type: ignore[attr-defined]
            version=_version_read(request, form),
            signer_name=data.get("signer_name", ""),
            relationship=data.get("relationship", ""),
            statements_ticked=list(data.get("statements", [])),
            drawn_signature=data.get("drawn_signature", ""),
            option_public_id=data.get("option") or None,
            submission_key=data["submission_key"],
            request=request,
        )

    if submit_form(form, record) is None:
        return _form_page(request, "sign", state, form, status=400)
    return _thank(request, state, "signed")


@access.patient_verified
@require_GET
def signed_pdf(request: HttpRequest, signature_id: uuid.UUID) -> HttpResponse:
    """The signed consent with its audit page, for a signature on this session's case."""
    signature = ConsentSignature.objects.filter(public_id=signature_id, case=request.pack_case).first()  # type: ignore[attr-defined]
    if signature is None:
        raise Http404
    if not signature.pdf:
        # Made when the signature was committed; made now if that did not work then.
        signature = signed_pdf_make(signature.pk)
        if signature is None or not signature.pdf:
            raise Http404
    access.patient_audit(
        request=request,
        link=request.pack_link,  # type: ignore[attr-defined]
        action=AuditEvent.Action.EXPORT,
        changes={"signed_pdf": str(signature.public_id)},
    )
    # A streamed file, which patient_verified's headers and cookie handle like any response.
    return FileResponse(  # type: ignore[return-value]
        signature.pdf.open("rb"), as_attachment=True, filename="signed-consent.pdf", content_type="application/pdf"
    )
