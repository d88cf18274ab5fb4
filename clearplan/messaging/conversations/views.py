"""The inbox and its threads (staff pages).

The inbox lists the active clinic's conversations by view (Unread, Assigned to me, All open,
Snoozed, Closed) with a search; a thread shows beside the list on a wide screen and on its own
on a phone. Replies, notes, assigning, snoozing, closing and reopening are plain form posts
(htmx sends the composer without a reload and polls for new messages when scripts run).
"""

from __future__ import annotations

import secrets
import uuid
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages as flash
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clearplan.accounts.access import is_manager, manager_required, staff_required
from clearplan.audit.models import AuditEvent
from clearplan.audit.services import audit_record
from clearplan.lib.clinic_time import clinic_zone
from clearplan.messaging.conversations import saved_replies as saved_reply_services
from clearplan.messaging.conversations import selectors, services
from clearplan.messaging.conversations.forms import AssignForm, ComposerForm, SavedReplyForm, SnoozeForm
from clearplan.messaging.models import Conversation, SavedReply
from clearplan.messaging.views import _can_read_outbox
from clearplan.plans.forms import attach_errors


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _page_number(request: HttpRequest) -> int:
    try:
        return max(1, int(request.GET.get("page", "1")))
    except ValueError:
        return 1


def _list_state(request: HttpRequest) -> dict[str, str]:
    """The inbox's view and search, carried from the list into a thread and back."""
    state = {"view": selectors.InboxView.read(request.GET.get("view"))}
    search = (request.GET.get("q") or "").strip()[:100]
    if search:
        state["q"] = search
    return state


def _inbox_context(request: HttpRequest) -> dict[str, Any]:
    state = _list_state(request)
    view = state["view"]
    page = selectors.inbox_page(
        request.clinic, request.user, view=view, search=state.get("q", ""), page=_page_number(request)
    )
    counts = selectors.view_counts(request.clinic, request.user)
    tabs = [
        {
            "key": key,
            "label": label,
            "count": counts.get(key),
            "url": "?" + urlencode({**state, "view": key}),
            "current": key == view,
        }
        for key, label in selectors.InboxView.LABELS.items()
    ]
    query = urlencode(state)
    if page.search:
        # The list shows patients' names, so a search over them is recorded like the patient list's.
        audit_record(
            action=AuditEvent.Action.VIEW,
            request=request,
            object_type="conversation_search",
            object_label="Searched conversations",
            changes={"view": view, "shown": len(page.conversations)},
        )
    return {
        "inbox": page,
        "tabs": tabs,
        "list_query": query,
        "view_label": selectors.InboxView.LABELS[view],
        "previous_url": "?" + urlencode({**state, "page": page.page - 1}) if page.has_previous else "",
        "next_url": "?" + urlencode({**state, "page": page.page + 1}) if page.has_next else "",
        "time_zone": request.clinic.time_zone,
        "zone": clinic_zone(request.clinic),
        "now": timezone.now(),
        "can_read_outbox": _can_read_outbox(request),
    }


@require_GET
@staff_required
def inbox(request: HttpRequest) -> HttpResponse:
    context = _inbox_context(request)
    if _is_htmx(request) and request.headers.get("HX-Target") == "inbox-list":
        response = render(request, "messaging/inbox_list.html", context)
    else:
        response = render(request, "messaging/inbox.html", context)
    response["Vary"] = "HX-Request"
    return response


# ---------- One thread ----------


def _thread_opened(request: HttpRequest, conversation: Conversation) -> None:
    """Opening a thread reads it for the team, marks the patient's pack replies in it seen, and is
    recorded in the audit log."""
    from clearplan.packs.models import PatientResponse

    services.conversation_mark_read(conversation=conversation)
    PatientResponse.objects.filter(conversation_message__conversation=conversation, seen_at__isnull=True).update(
        seen_at=timezone.now(), seen_by=request.user
    )
    audit_record(action=AuditEvent.Action.VIEW, request=request, obj=conversation, object_type="conversation")


def _composer(
    conversation: Conversation, routes: dict[str, services.ReplyRoute], data: Any = None, files: Any = None
) -> ComposerForm:
    default = services.reply_channel(conversation, routes)
    initial = {"submission_key": secrets.token_hex(16), "channel": default, "kind": "reply"}
    return ComposerForm(data, files, routes=routes, default_channel=default, initial=initial)


def _thread_context(
    request: HttpRequest, conversation: Conversation, *, form: ComposerForm | None = None
) -> dict[str, Any]:
    routes = services.reply_routes(conversation)
    if form is None:
        form = _composer(conversation, routes)
        chosen = _quick_reply(request, conversation)
        if chosen:
            form.initial["body"] = chosen
    thread = selectors.thread_messages(conversation)
    patient = conversation.patient
    team = list(_team(request))
    kind = form.data.get("kind", "reply") if form.is_bound else "reply"
    return {
        "conversation": conversation,
        "patient": patient,
        "thread": thread,
        "latest_id": thread[-1].public_id if thread else "",
        "cases": selectors.patient_cases(conversation),
        "routes": routes,
        "unusable_routes": [route for route in routes.values() if not route.usable],
        "form": form,
        "composer_kind": kind if kind in ("reply", "note") else "reply",
        "quick_replies": selectors.quick_replies(conversation, request.user),
        "assign_form": AssignForm(
            initial={"assigned_to": str(conversation.assigned_to.public_id) if conversation.assigned_to else ""},
            team=team,
        ),
        "snooze_form": SnoozeForm(clinic=conversation.clinic, now=timezone.now(), initial={"until": "tomorrow"}),
        "is_snoozed": conversation.snoozed_until is not None and conversation.snoozed_until > timezone.now(),
        "sms_signature": services.signed_body(body="", by=request.user, conversation=conversation, channel="sms"),
        "time_zone": request.clinic.time_zone,
        "zone": clinic_zone(request.clinic),
        "now": timezone.now(),
    }


def _quick_reply(request: HttpRequest, conversation: Conversation) -> str:
    """Without scripts, "Use" on the quick replies reloads the thread with the reply in the box."""
    try:
        index = int(request.GET.get("quick", ""))
    except ValueError:
        return ""
    replies = selectors.quick_replies(conversation, request.user)
    return replies[index].body if 0 <= index < len(replies) else ""


def _team(request: HttpRequest) -> Any:
    from clearplan.plans.selectors import staff_at

    return staff_at(request.clinic)


def _thread_url(conversation: Conversation, request: HttpRequest | None = None) -> str:
    url = services.conversation_url(conversation)
    if request is not None:
        state = _list_state(request)
        if state != {"view": selectors.InboxView.DEFAULT}:
            url += "?" + urlencode(state)
    return url


@require_GET
@staff_required
def thread(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    conversation = selectors.get_conversation_for_user(request, public_id)
    _thread_opened(request, conversation)
    context = _thread_context(request, conversation)
    if _is_htmx(request) and request.headers.get("HX-Target") == "thread-pane":
        # Swapped in beside the list on a wide screen: the list stays, with its view and search.
        context["list_query"] = urlencode(_list_state(request))
        response = render(request, "messaging/thread_pane.html", context)
    else:
        context.update(_inbox_context(request))
        response = render(request, "messaging/thread.html", context)
    response["Vary"] = "HX-Request"
    return response


@require_GET
@staff_required
def thread_updates(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """Polled every 15 seconds by an open thread: nothing (204) until a message newer than the
    last one shown arrives, then the thread's messages again."""
    conversation = selectors.get_conversation_for_user(request, public_id)
    latest = conversation.messages.order_by("-created_at", "-id").values_list("public_id", flat=True).first()
    if latest is None or str(latest) == request.GET.get("since", ""):
        return HttpResponse(status=204)
    _thread_opened(request, conversation)
    thread = selectors.thread_messages(conversation)
    return render(
        request,
        "messaging/thread_messages.html",
        {
            "conversation": conversation,
            "patient": conversation.patient,
            "thread": thread,
            "latest_id": thread[-1].public_id if thread else "",
            "zone": clinic_zone(request.clinic),
            "now": timezone.now(),
        },
    )


@require_POST
@staff_required
def send(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """The composer: a reply to the patient or an internal note."""
    conversation = selectors.get_conversation_for_user(request, public_id)
    routes = services.reply_routes(conversation)
    form = _composer(conversation, routes, request.POST, request.FILES)
    sent = None
    if form.is_valid():
        data = form.cleaned_data
        attachment = data.get("attachment")
        try:
            if data["kind"] == "note":
                sent = services.note_add(
                    conversation=conversation,
                    by=request.user,
                    body=data["body"],
                    attachments=[attachment] if attachment else [],
                    submission_key=data.get("submission_key") or "",
                )
            else:
                sent = services.conversation_reply(
                    conversation=conversation,
                    by=request.user,
                    body=data["body"],
                    channel=data.get("channel") or "",
                    attachment=attachment,
                    submission_key=data.get("submission_key") or "",
                )
        except ValidationError as error:
            attach_errors(form, error)
    if sent is not None:
        said = "Note added." if sent.is_note else "Message sent."
        if _is_htmx(request):
            conversation.refresh_from_db()
            context = _thread_context(request, conversation)
            context["sent_notice"] = said
            return render(request, "messaging/thread_conversation.html", context)
        flash.success(request, said)
        return HttpResponseRedirect(_thread_url(conversation, request) + "#thread-latest")
    # Refused: the thread again with the messages at their fields and what was written kept.
    audit_record(action=AuditEvent.Action.VIEW, request=request, obj=conversation, object_type="conversation")
    context = _thread_context(request, conversation, form=form)
    if _is_htmx(request):
        return render(request, "messaging/thread_conversation.html", context, status=200)
    context.update(_inbox_context(request))
    return render(request, "messaging/thread.html", context, status=400)


def _back(request: HttpRequest, conversation: Conversation, said: str) -> HttpResponse:
    flash.success(request, said)
    return redirect(_thread_url(conversation, request))


def _refused(request: HttpRequest, conversation: Conversation, error: ValidationError) -> HttpResponse:
    for text in error.messages:
        flash.error(request, text)
    return redirect(_thread_url(conversation, request))


@require_POST
@staff_required
def assign(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    conversation = selectors.get_conversation_for_user(request, public_id)
    form = AssignForm(request.POST, team=list(_team(request)))
    if not form.is_valid():
        flash.error(request, "Choose someone who works at this clinic.")
        return redirect(_thread_url(conversation, request))
    to = form.cleaned_data["assigned_to"]
    try:
        services.conversation_assign(conversation=conversation, by=request.user, to=to)
    except ValidationError as error:
        return _refused(request, conversation, error)
    return _back(request, conversation, f"Assigned to {to.display_name}." if to else "No one is assigned now.")


@require_POST
@staff_required
def snooze(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    conversation = selectors.get_conversation_for_user(request, public_id)
    form = SnoozeForm(request.POST, clinic=conversation.clinic, now=timezone.now())
    if not form.is_valid() or form.cleaned_data.get("when") is None:
        for errors in form.errors.values():
            for text in errors:
                flash.error(request, text)
        if not form.errors:
            flash.error(request, "Choose when to bring this conversation back.")
        return redirect(_thread_url(conversation, request))
    when = form.cleaned_data["when"]
    try:
        services.conversation_snooze(conversation=conversation, by=request.user, until=when)
    except ValidationError as error:
        return _refused(request, conversation, error)
    from clearplan.messaging.templatetags.conversation_tags import conversation_when

    return _back(
        request, conversation, f"Snoozed until {conversation_when(when, clinic_zone(request.clinic), long=True)}."
    )


@require_POST
@staff_required
def close(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    conversation = selectors.get_conversation_for_user(request, public_id)
    if conversation.status != Conversation.Status.CLOSED:
        services.conversation_close(conversation=conversation, by=request.user)
    return _back(request, conversation, "Conversation closed. A new message from the patient opens it again.")


@require_POST
@staff_required
def reopen(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    conversation = selectors.get_conversation_for_user(request, public_id)
    if conversation.status != Conversation.Status.OPEN or conversation.snoozed_until is not None:
        services.conversation_reopen(conversation=conversation, by=request.user)
        if conversation.snoozed_until is not None:
            Conversation.objects.filter(pk=conversation.pk).update(snoozed_until=None)
    return _back(request, conversation, "Conversation open again.")


@require_GET
@staff_required
def attachment(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """A file on a message or note: only the clinic's team, recorded, never cached or sniffed."""
    stored = selectors.get_attachment_for_user(request, public_id)
    try:
        handle = stored.file.open("rb")
    except FileNotFoundError as error:
        raise Http404("The file is no longer stored.") from error
    audit_record(
        action=AuditEvent.Action.VIEW,
        request=request,
        obj=stored,
        object_type="conversation_attachment",
        changes={"conversation": str(stored.message.conversation.public_id)},
    )
    is_image = stored.content_type in ("image/jpeg", "image/png")
    response = FileResponse(handle, content_type=stored.content_type, as_attachment=not is_image, filename=stored.name)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@require_GET
@staff_required
def unread_badge(request: HttpRequest) -> HttpResponse:
    """The navigation's count, polled every 30 seconds."""
    return render(request, "messaging/_unread_badge.html", {"unread": selectors.unread_conversations(request.clinic)})


# ---------- Saved replies (Settings) ----------


@require_GET
@staff_required
def saved_replies(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "messaging/saved_replies.html",
        {"replies": selectors.saved_replies(request.clinic), "can_edit": is_manager(request.user, request.clinic)},
    )


@require_http_methods(["GET", "POST"])
@manager_required
def saved_reply_edit(request: HttpRequest, public_id: uuid.UUID | None = None) -> HttpResponse:
    reply = selectors.get_saved_reply_for_user(request, public_id) if public_id else SavedReply()
    form = SavedReplyForm(request.POST or None, instance=reply, clinic=request.clinic)
    if request.method == "POST" and form.is_valid():
        saved_reply_services.saved_reply_save(clinic=request.clinic, by=request.user, reply=form.save(commit=False))
        flash.success(request, "Quick reply saved.")
        return redirect("messaging:saved_replies")
    return render(request, "messaging/saved_reply_form.html", {"form": form, "reply": reply})


@require_POST
@manager_required
def saved_reply_move(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    reply = selectors.get_saved_reply_for_user(request, public_id)
    saved_reply_services.saved_reply_move(
        clinic=request.clinic, by=request.user, reply=reply, up=request.POST.get("direction") == "up"
    )
    return redirect(reverse("messaging:saved_replies") + f"#reply-{reply.public_id}")


@require_POST
@manager_required
def saved_reply_delete(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    try:
        reply = selectors.get_saved_reply_for_user(request, public_id)
    except Http404:
        # Deleted already (a double click): nothing more to do.
        return redirect("messaging:saved_replies")
    if not is_manager(request.user, request.clinic):
        raise PermissionDenied("Only the practice owner or a manager can do this.")
    saved_reply_services.saved_reply_delete(clinic=request.clinic, by=request.user, reply=reply)
    flash.success(request, f"“{reply.title}” deleted.")
    return redirect("messaging:saved_replies")
