"""The team's pack pages: the send form (the composer's last step, also reached from the case
page) and the actions on the case page's "Treatment pack" panel. Every view reads its case
through `get_case_for_user` (another clinic's case is a 404) and the pack's records through the
case; actions are POST only and go through one service each."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import TypeVar

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clearplan.accounts.access import staff_required
from clearplan.audit.models import AuditEvent
from clearplan.packs import pdf, selectors, sending
from clearplan.packs.models import PackSend, Recipient
from clearplan.packs.staff_forms import ResendForm, SendForm, UpdateForm
from clearplan.plans import services as plan_services
from clearplan.plans.composer_views import composer_steps
from clearplan.plans.models import Case
from clearplan.plans.selectors import get_case_for_user
from clearplan.plans.views import audit_case_view

T = TypeVar("T")


def _panel_url(case: Case) -> str:
    return reverse("plans:detail", args=[case.public_id]) + "#treatment-pack"


def _channels_in_words(send: PackSend) -> str:
    return " and ".join(name for name, on in (("SMS", send.by_sms), ("email", send.by_email)) if on)


def _confirmation(case: Case, send: PackSend) -> str:
    to = sending.recipient_name(case.patient, send.recipient)
    if send.status == PackSend.Status.SCHEDULED:
        when = sending.local_time(case.clinic, send.send_at)
        return f"The pack will go to {to} by {_channels_in_words(send)} at {when}. You can cancel it until then."
    return f"The pack is on its way to {to} by {_channels_in_words(send)}."


def _recipient_for(request: HttpRequest, case: Case) -> str:
    chosen = request.POST.get("recipient") if request.method == "POST" else request.GET.get("recipient")
    patient = case.patient
    if chosen in Recipient.values and not sending.recipient_problem(patient, chosen):
        return chosen
    return sending.default_recipient(patient)


@require_http_methods(["GET", "POST"])
@staff_required
def pack_send_view(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """Who it goes to, by which channels, the words, and when."""
    case = get_case_for_user(request, public_id)
    patient = case.patient
    recipient = _recipient_for(request, case)
    places = sending.destinations(patient, recipient)
    form_kwargs = {"clinic": case.clinic, "places": places, "link_length": sending.link_length(request)}
    if request.method == "POST":
        form = SendForm(request.POST, **form_kwargs)
        if form.is_valid():
            data = form.cleaned_data
            try:
                send = sending.pack_send(
                    case=case,
                    by=request.user,
                    recipient=recipient,
                    by_sms=data["by_sms"],
                    by_email=data["by_email"],
                    sms_text=data["sms_text"],
                    email_subject=data["email_subject"],
                    email_text=data["email_text"],
                    send_at=data["send_at"],
                    submission_key=data["submission_key"],
                    request=request,
                )
            except ValidationError as error:
                form.attach(error)
            else:
                messages.success(request, _confirmation(case, send))
                return redirect(_panel_url(case))
    else:
        audit_case_view(request, case)
        initial = {
            **sending.message_texts(case, request.user),
            "recipient": recipient,
            "submission_key": uuid.uuid4().hex,
            "by_sms": places[sending.SMS].usable,
            "by_email": places[sending.EMAIL].usable,
            "when": SendForm.WHEN_NOW,
        }
        form = SendForm(initial=initial, **form_kwargs)
    sendable_problem = ""
    try:
        from clearplan.packs.versions import check_sendable

        check_sendable(case)
    except ValidationError as error:
        sendable_problem = " ".join(error.messages)
    other = Recipient.PATIENT if recipient == Recipient.GUARDIAN else Recipient.GUARDIAN
    context = {
        "case": case,
        "patient": patient,
        "form": form,
        "places": places,
        "recipient": recipient,
        "recipient_name": sending.recipient_name(patient, recipient),
        "other_recipient": other if not sending.recipient_problem(patient, other) else None,
        "other_recipient_name": sending.recipient_name(patient, other),
        "sendable_problem": sendable_problem,
        "no_channel": not any(place.usable for place in places.values()),
        "steps": composer_steps("send", case),
        "link_length": form.link_length,
        "last_send": selectors.latest_send(case),
    }
    return render(request, "packs/staff/send.html", context, status=400 if form.errors else 200)


def _act(request: HttpRequest, case: Case, action: Callable[[], T], success: Callable[[T], str]) -> HttpResponse:
    """Run one service for a button on the pack panel; say what happened, or why not, back on the case page."""
    try:
        result = action()
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(request, success(result))
    return redirect(_panel_url(case))


@require_POST
@staff_required
def pack_send_cancel_view(request: HttpRequest, public_id: uuid.UUID, send_id: uuid.UUID) -> HttpResponse:
    case = get_case_for_user(request, public_id)
    send = selectors.get_send_of_case(case, send_id)
    return _act(
        request,
        case,
        lambda: sending.pack_send_cancel(send=send, by=request.user, request=request),
        lambda _: "The scheduled send is cancelled. Nothing was sent.",
    )


@require_POST
@staff_required
def link_revoke_view(request: HttpRequest, public_id: uuid.UUID, link_id: uuid.UUID) -> HttpResponse:
    case = get_case_for_user(request, public_id)
    link = selectors.get_link_of_case(case, link_id)
    return _act(
        request,
        case,
        lambda: sending.pack_link_revoke(link=link, by=request.user, request=request),
        lambda _: "The link no longer opens the pack. Send a new link when the patient needs one.",
    )


@require_POST
@staff_required
def link_resend_view(request: HttpRequest, public_id: uuid.UUID, link_id: uuid.UUID) -> HttpResponse:
    """A new link with the same words and channels as the link's last send; the old link stops working."""
    case = get_case_for_user(request, public_id)
    link = selectors.get_link_of_case(case, link_id)
    send = selectors.send_for_link(link)
    if send is None:
        raise Http404("This link was never sent.")
    form = ResendForm(request.POST)
    key = form.cleaned_data["submission_key"] if form.is_valid() else None
    return _act(
        request,
        case,
        lambda: sending.pack_resend(send=send, by=request.user, submission_key=key, request=request),
        lambda new: _confirmation(case, new) + " The old link no longer works.",
    )


@require_POST
@staff_required
def publish_update_view(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    case = get_case_for_user(request, public_id)
    form = UpdateForm(request.POST)
    notify = form.cleaned_data["notify"] if form.is_valid() else False
    told = " and told the patient" if notify else ""
    return _act(
        request,
        case,
        lambda: sending.pack_publish_update(case=case, by=request.user, notify=notify, request=request),
        lambda version: f"The patient's pack now shows version {version.number}{told}.",
    )


@require_POST
@staff_required
def response_seen_view(request: HttpRequest, public_id: uuid.UUID, response_id: uuid.UUID) -> HttpResponse:
    case = get_case_for_user(request, public_id)
    response = selectors.get_response_of_case(case, response_id)
    sending.response_mark_seen(response=response, by=request.user, request=request)
    return redirect(_panel_url(case))


def _audit_export(request: HttpRequest, case: Case, what: str, public_id: uuid.UUID) -> None:
    plan_services._audit(
        action=AuditEvent.Action.EXPORT, case=case, by=request.user, request=request, changes={what: str(public_id)}
    )


def _pdf_response(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_GET
@staff_required
def signature_pdf_view(request: HttpRequest, public_id: uuid.UUID, signature_id: uuid.UUID) -> HttpResponse:
    case = get_case_for_user(request, public_id)
    signature = selectors.get_signature_of_case(case, signature_id)
    content = sending.signed_pdf_bytes(signature)
    _audit_export(request, case, "signed_pdf_downloaded", signature.public_id)
    return _pdf_response(content, pdf.signed_pdf_filename(signature))


@require_POST
@staff_required
def signature_email_view(request: HttpRequest, public_id: uuid.UUID, signature_id: uuid.UUID) -> HttpResponse:
    case = get_case_for_user(request, public_id)
    signature = selectors.get_signature_of_case(case, signature_id)
    return _act(
        request,
        case,
        lambda: sending.signed_copy_send(signature=signature, by=request.user, request=request),
        lambda _: "The signed copy is on its way by email.",
    )


@require_GET
@staff_required
def version_pdf_view(request: HttpRequest, public_id: uuid.UUID, version_id: uuid.UUID) -> HttpResponse:
    case = get_case_for_user(request, public_id)
    version = selectors.get_version_of_case(case, version_id)
    content = pdf.pack_pdf(version)
    _audit_export(request, case, "pack_pdf_downloaded", version.public_id)
    return _pdf_response(content, pdf.pack_pdf_filename(version))
