"""Reading conversations for the staff pages: one thread by its public id (the active clinic's
only), the inbox's views with their counts and search, a thread's messages, and the quick
replies a team member can drop into a reply.

Every query here is a fixed number of queries however many rows there are (the inbox's list
pages have query-count tests), and the inbox's views are served by the conversation indexes
named for them (`conversation_inbox_by_status`, `_unread`, `_assigned`).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db.models import Count, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.http import Http404, HttpRequest
from django.utils import timezone

from clearplan.messaging.models import Conversation, ConversationAttachment, ConversationMessage, SavedReply
from clearplan.patients import phones

if TYPE_CHECKING:
    from clearplan.accounts.models import Clinic, User
    from clearplan.plans.models import Case

PAGE_SIZE = 50


class InboxView:
    UNREAD = "unread"
    MINE = "mine"
    OPEN = "open"
    SNOOZED = "snoozed"
    CLOSED = "closed"

    LABELS = {
        UNREAD: "Unread",
        MINE: "Assigned to me",
        OPEN: "All open",
        SNOOZED: "Snoozed",
        CLOSED: "Closed",
    }
    DEFAULT = OPEN

    @classmethod
    def read(cls, value: str | None) -> str:
        return value if value in cls.LABELS else cls.DEFAULT


def get_conversation_for_user(request: HttpRequest, public_id: uuid.UUID | str) -> Conversation:
    """The conversation with this public id in the clinic the user is working in, or 404."""
    clinic = getattr(request, "clinic", None)
    if clinic is None or not request.user.is_authenticated:
        raise Http404("No such conversation.")
    try:
        key = uuid.UUID(str(public_id))
    except ValueError as error:
        raise Http404("No such conversation.") from error
    try:
        return Conversation.objects.select_related("clinic", "patient", "assigned_to").get(clinic=clinic, public_id=key)
    except Conversation.DoesNotExist as error:
        raise Http404("No such conversation.") from error


def _in_view(clinic: Clinic, user: User, view: str, now: dt.datetime) -> QuerySet[Conversation]:
    conversations = Conversation.objects.filter(clinic=clinic)
    awake = Q(snoozed_until__isnull=True) | Q(snoozed_until__lte=now)
    if view == InboxView.UNREAD:
        return conversations.filter(status=Conversation.Status.OPEN, unread_count__gt=0)
    if view == InboxView.MINE:
        return conversations.filter(status=Conversation.Status.OPEN, assigned_to=user)
    if view == InboxView.SNOOZED:
        return conversations.filter(status=Conversation.Status.OPEN, snoozed_until__gt=now)
    if view == InboxView.CLOSED:
        return conversations.filter(status=Conversation.Status.CLOSED)
    return conversations.filter(awake, status=Conversation.Status.OPEN)


def view_counts(clinic: Clinic, user: User, *, now: dt.datetime | None = None) -> dict[str, int]:
    """How many open conversations each tab holds, in one query over the open ones (closed
    threads pile up for years, so their tab is not counted)."""
    now = now or timezone.now()
    awake = Q(snoozed_until__isnull=True) | Q(snoozed_until__lte=now)
    counts = Conversation.objects.filter(clinic=clinic, status=Conversation.Status.OPEN).aggregate(
        unread=Count("id", filter=Q(unread_count__gt=0)),
        mine=Count("id", filter=Q(assigned_to=user)),
        open=Count("id", filter=awake),
        snoozed=Count("id", filter=Q(snoozed_until__gt=now)),
    )
    return {key: int(value or 0) for key, value in counts.items()}


def unread_conversations(clinic: Clinic) -> int:
    """The navigation's badge: open threads with a patient message nobody has opened (one query,
    served by the `conversation_inbox_unread` partial index)."""
    return Conversation.objects.filter(clinic=clinic, status=Conversation.Status.OPEN, unread_count__gt=0).count()


# A search that finds more threads than this is left to the database to match row by row.
_SEARCH_SET_LIMIT = 2000


def _search(conversations: QuerySet[Conversation], clinic: Clinic, text: str) -> QuerySet[Conversation]:
    """Threads whose patient matches by name, mobile, email or practice-management ID, or with the
    words in any message or internal note. The matching threads are found first (few, usually),
    and the page is then read from them, rather than testing every thread of a long inbox."""
    from clearplan.patients.models import Patient
    from clearplan.patients.selectors import read_query

    query = read_query(text, clinic=clinic)
    if query.is_empty:
        return conversations
    # Each way of naming a patient is its own small query, served by its own index (an OR of them
    # would read every patient row).
    # (The practice-management ID's index only holds IDs that are set, so the query says so.)
    ways = [Q(pms_id=query.text) & ~Q(pms_id="")]
    if query.email:
        ways += [Q(email__iexact=query.email), Q(guardian_email__iexact=query.email)]
    elif query.phone_digits:
        # Stored numbers are E.164: a whole number typed in any format is found by its index,
        # part of a number by the digits it contains.
        whole = f"+{query.phone_digits}"
        if phones.E164_PATTERN.match(whole) and len(query.phone_digits) >= 9:
            ways += [Q(mobile=whole), Q(guardian_mobile=whole)]
        else:
            ways += [Q(mobile__contains=query.phone_digits), Q(guardian_mobile__contains=query.phone_digits)]
    elif query.name_words:
        by_name = Q()
        for word in query.name_words:
            by_name &= Q(search_name__startswith=word) | Q(search_name__contains=f" {word}")
        ways.append(by_name)
    patients: set[int] = set()
    for way in ways:
        # No order: the list order (by name) would steer the database away from the index for the way.
        found_here = Patient.objects.filter(way, clinic=clinic).order_by().values_list("id", flat=True)
        patients |= set(found_here[:_SEARCH_SET_LIMIT])
    # The patients are the clinic's already; each has at most one thread (found by its unique key).
    ids = set(Conversation.objects.filter(patient_id__in=sorted(patients)).order_by().values_list("id", flat=True))
    words = text.strip()
    # Messages of every clinic are read (one plain pass); the page below keeps this clinic's threads.
    said = ConversationMessage.objects.filter(body__icontains=words).order_by()
    # A number or an address names a patient; only words are looked for in what was said.
    by_words = len(words) >= 3 and not (query.phone_digits or query.email)
    if by_words:
        ids |= set(said.values_list("conversation_id", flat=True).distinct()[: _SEARCH_SET_LIMIT + 1])
    if len(ids) <= _SEARCH_SET_LIMIT:
        return conversations.filter(pk__in=sorted(ids))
    # A search matching thousands of threads: the database matches them row by row instead.
    any_way = Q()
    for way in ways:
        any_way |= way
    matches = Q(patient_id__in=Patient.objects.filter(any_way, clinic=clinic).values("id"))
    if by_words:
        matches |= Q(pk__in=said.values("conversation_id"))
    return conversations.filter(matches)


@dataclass(frozen=True)
class InboxPage:
    view: str
    search: str
    page: int
    conversations: Sequence[Conversation]
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.page > 1


def inbox_page(
    clinic: Clinic, user: User, *, view: str, search: str = "", page: int = 1, now: dt.datetime | None = None
) -> InboxPage:
    """One page of the inbox, newest activity first, each row carrying its patient, assignee and
    the channel of its last message (one query for the page)."""
    now = now or timezone.now()
    page = max(1, page)
    conversations = _in_view(clinic, user, view, now)
    if search.strip():
        conversations = _search(conversations, clinic, search)
    last_channel = (
        ConversationMessage.objects.filter(conversation=OuterRef("pk")).order_by("-created_at", "-id").values("channel")
    )
    rows = list(
        conversations.select_related("patient", "assigned_to")
        .annotate(last_channel=Subquery(last_channel[:1]))
        .order_by("-last_message_at", "-id")[(page - 1) * PAGE_SIZE : page * PAGE_SIZE + 1]
    )
    return InboxPage(
        view=view, search=search.strip(), page=page, conversations=rows[:PAGE_SIZE], has_next=len(rows) > PAGE_SIZE
    )


def thread_messages(conversation: Conversation, *, after: dt.datetime | None = None) -> list[ConversationMessage]:
    """The thread in order, with authors, delivery status and attachments (three queries)."""
    messages = ConversationMessage.objects.filter(conversation=conversation)
    if after is not None:
        messages = messages.filter(created_at__gt=after)
    return list(
        messages.select_related("author", "outbound", "pack_response")
        .prefetch_related(Prefetch("attachments", queryset=ConversationAttachment.objects.order_by("id")))
        .order_by("created_at", "id")
    )


def patient_cases(conversation: Conversation) -> list[Case]:
    """The patient's cases, newest first, each with its stage (one query)."""
    from clearplan.plans.models import Case

    return list(
        Case.objects.filter(patient_id=conversation.patient_id, clinic_id=conversation.clinic_id)
        .select_related("progress")
        .order_by("-created_at", "-id")
    )


def get_attachment_for_user(request: HttpRequest, public_id: uuid.UUID | str) -> ConversationAttachment:
    """An attachment on a thread of the active clinic, or 404."""
    clinic = getattr(request, "clinic", None)
    if clinic is None or not request.user.is_authenticated:
        raise Http404("No such file.")
    try:
        key = uuid.UUID(str(public_id))
        return ConversationAttachment.objects.select_related("message__conversation__clinic").get(
            public_id=key, message__conversation__clinic=clinic
        )
    except (ValueError, ConversationAttachment.DoesNotExist) as error:
        raise Http404("No such file.") from error


def saved_replies(clinic: Clinic) -> list[SavedReply]:
    return list(SavedReply.objects.filter(clinic=clinic).order_by("position", "title", "id"))


def get_saved_reply_for_user(request: HttpRequest, public_id: uuid.UUID | str) -> SavedReply:
    clinic = getattr(request, "clinic", None)
    try:
        key = uuid.UUID(str(public_id))
        return SavedReply.objects.get(clinic=clinic, public_id=key)
    except (ValueError, SavedReply.DoesNotExist) as error:
        raise Http404("No such quick reply.") from error


@dataclass(frozen=True)
class QuickReply:
    title: str
    body: str
    source: str  # "saved" (the clinic's own) or "script" (a pack template's sending script)


def quick_replies(conversation: Conversation, by: User) -> list[QuickReply]:
    """The clinic's saved replies, then the sending scripts of its pack templates, with
    placeholders filled in for this patient (two queries, plus one for the latest case)."""
    from clearplan.catalog.models import PackTemplate
    from clearplan.catalog.placeholders import render_text
    from clearplan.plans.models import Case

    clinic = conversation.clinic
    patient = conversation.patient
    case = (
        Case.objects.filter(patient_id=patient.pk, clinic_id=clinic.pk)
        .select_related("dentist", "coordinator")
        .order_by("-created_at", "-id")
        .first()
    )
    values = {
        "patient_first_name": patient.preferred_name or patient.first_name,
        "dentist_name": case.dentist.display_name if case is not None else "",
        "clinic_name": clinic.name,
        "clinic_phone": _clinic_phone(clinic),
        "team_member_name": by.display_name,
    }
    replies = [
        QuickReply(title=saved.title, body=render_text(saved.body, values).strip(), source="saved")
        for saved in saved_replies(clinic)
    ]
    scripts = PackTemplate.objects.active().filter(organisation_id=clinic.organisation_id).exclude(sending_script="")
    replies += [
        QuickReply(title=template.name, body=render_text(template.sending_script, values).strip(), source="script")
        for template in scripts.only("name", "sending_script").order_by("name", "id")
    ]
    return replies


def _clinic_phone(clinic: Clinic) -> str:
    from clearplan.plans.composer import national_phone

    return national_phone(clinic)
