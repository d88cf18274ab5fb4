"""The patient's "stop emails" link (/u/<token>/): no sign-in, the token is the key.

- GET shows one question, "Stop emails from <clinic>?", and a button. It never unsubscribes by
  itself: mail scanners open every link in a message.
- POST from that button (with its CSRF token) unsubscribes and says so.
- POST with the body `List-Unsubscribe=One-Click` is the mail app's own unsubscribe button
  (RFC 8058): it carries no CSRF token, so that one request is exempt.

Nothing on the page names the patient or shows their address ("your emails"). Every response
sends no Referer and is not cached; an unknown token gets the "link does not work" page, and the
token is never logged.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.decorators import decorator_from_middleware
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from clearplan.audit.models import AuditEvent
from clearplan.audit.services import audit_record
from clearplan.messaging.conversations.opt_out import email_unsubscribe, email_unsubscribed
from clearplan.messaging.conversations.services import CONVERSATION_RECORD_TYPE
from clearplan.messaging.models import Conversation
from clearplan.packs import access as patient_access
from clearplan.web.gunicorn_logging import redact

ONE_CLICK_FIELD = "List-Unsubscribe"
ONE_CLICK_VALUE = "One-Click"


class _UnsubscribeCsrfMiddleware(patient_access._PatientCsrfMiddleware):
    """The patient pages' CSRF check, whose refusals are logged without the link's token."""

    def _reject(self, request: HttpRequest, reason: str) -> HttpResponse:
        # (_reject is Django's own, missing from the type stubs.)
        path = request.path
        request.path = redact(path)
        try:
            return cast("HttpResponse", super()._reject(request, reason))  # type: ignore[misc]
        finally:
            request.path = path


_csrf_protect = cast(
    "Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]",
    decorator_from_middleware(_UnsubscribeCsrfMiddleware),
)


def _unlogged(response: HttpResponse) -> HttpResponse:
    # Django logs every 4xx with its path, which here holds the link's token.
    response._has_been_logged = True  # type: ignore[attr-defined]
    return response


def _context(conversation: Conversation) -> dict[str, Any]:
    clinic = conversation.clinic
    return {
        "clinic": clinic,
        "clinic_phone": patient_access.display_phone(clinic) if clinic.phone else "",
        "logo_url": reverse("packs:patient_logo", args=[clinic.public_id]) if clinic.logo else "",
    }


def _find(token: str) -> Conversation | None:
    return Conversation.objects.select_related("clinic", "patient").filter(unsubscribe_token=token).first()


def _unknown(request: HttpRequest) -> HttpResponse:
    response = render(request, "messaging/unsubscribe_unknown.html", {"clinic": None}, status=404)
    return patient_access.patient_headers(_unlogged(response))


def _audit_page_view(request: HttpRequest, conversation: Conversation) -> None:
    audit_record(
        action=AuditEvent.Action.VIEW,
        request=request,
        clinic=conversation.clinic,
        obj=conversation,
        object_type=CONVERSATION_RECORD_TYPE,
        changes={"unsubscribe_page": True},
    )


def _done(request: HttpRequest, conversation: Conversation) -> HttpResponse:
    response = render(request, "messaging/unsubscribe_done.html", _context(conversation))
    return patient_access.patient_headers(response)


@_csrf_protect
def _page(request: HttpRequest, token: str) -> HttpResponse:
    conversation = _find(token)
    if conversation is None:
        return _unknown(request)
    if request.method == "POST":
        email_unsubscribe(conversation=conversation)
        return _done(request, conversation)
    _audit_page_view(request, conversation)
    if email_unsubscribed(conversation):
        return _done(request, conversation)
    response = render(request, "messaging/unsubscribe.html", _context(conversation))
    return patient_access.patient_headers(response)


@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    if request.method == "POST" and request.POST.get(ONE_CLICK_FIELD) == ONE_CLICK_VALUE:
        conversation = _find(token)
        if conversation is None:
            return _unknown(request)
        email_unsubscribe(conversation=conversation)
        return _done(request, conversation)
    return _page(request, token)
