from __future__ import annotations

from functools import wraps
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from clearplan.accounts.access import staff_required
from clearplan.audit.models import AuditEvent
from clearplan.audit.services import audit_record
from clearplan.messaging import selectors
from clearplan.messaging.outbox import outbox_enabled

if TYPE_CHECKING:
    from collections.abc import Callable


def _can_read_outbox(request: HttpRequest) -> bool:
    user = request.user
    return outbox_enabled() and bool(getattr(user, "is_organisation_admin", False) and user.organisation_id)


def _outbox_reader_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The outbox holds sign-in links (invitations, password resets): only organisation
    administrators read it, and only their own organisation's messages."""

    @wraps(view)
    @staff_required
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not outbox_enabled():
            raise Http404("The demo outbox is not in use.")
        if not _can_read_outbox(request):
            raise PermissionDenied("Only an organisation administrator can open the demo outbox.")
        return view(request, *args, **kwargs)

    return wrapper


def _organisation_id(request: HttpRequest) -> str:
    return str(request.user.organisation.public_id)


@_outbox_reader_required
def outbox(request: HttpRequest) -> HttpResponse:
    listing = selectors.outbox_messages(organisation=_organisation_id(request))
    texts = selectors.outbox_texts(organisation=_organisation_id(request))
    if texts:
        # Text messages are shown whole (they carry links to patients' packs), so reading them is logged.
        audit_record(
            action=AuditEvent.Action.VIEW,
            request=request,
            object_type="outbox_sms",
            object_label="Text messages in the demo outbox",
            changes={"shown": len(texts)},
        )
    return render(
        request,
        "messaging/outbox.html",
        {
            "messages_in_outbox": listing.messages,
            "texts": texts,
            "total": listing.total,
            "organisation": request.user.organisation,
            "time_zone": request.clinic.time_zone,
        },
    )


@_outbox_reader_required
def outbox_message(request: HttpRequest, name: str) -> HttpResponse:
    message = selectors.outbox_message(name, organisation=_organisation_id(request))
    if message is None:
        raise Http404("No such message in the outbox.")
    # Later emails to patients carry their health information, so reading one is logged.
    audit_record(
        action=AuditEvent.Action.VIEW,
        request=request,
        object_type="outbox_email",
        object_id=name,
        object_label="Email in the demo outbox",
    )
    return render(
        request,
        "messaging/outbox_message.html",
        {"message": message, "time_zone": request.clinic.time_zone},
    )
