from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from clearplan.accounts.access import manager_required, staff_required
from clearplan.audit.models import AuditEvent
from clearplan.audit.services import audit_record
from clearplan.messaging import selectors
from clearplan.messaging.outbox import outbox_enabled


@staff_required
def conversations(request: HttpRequest) -> HttpResponse:
    return render(request, "messaging/conversations.html", {"outbox_enabled": outbox_enabled()})


@manager_required
def outbox(request: HttpRequest) -> HttpResponse:
    # Only managers: the outbox holds every email the installation sent, including other
    # staff members' password-reset links.
    if not outbox_enabled():
        raise Http404("The demo outbox is not in use.")
    listing = selectors.outbox_messages()
    return render(
        request,
        "messaging/outbox.html",
        {"messages_in_outbox": listing.messages, "total": listing.total, "time_zone": request.clinic.time_zone},
    )


@manager_required
def outbox_message(request: HttpRequest, name: str) -> HttpResponse:
    if not outbox_enabled():
        raise Http404("The demo outbox is not in use.")
    message = selectors.outbox_message(name)
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
