"""Today: what a team member should do first, for the clinic they are working in.

In order of what matters:
  1. requests to proceed waiting (the longest waiting first, then the most valuable);
  2. packs viewed but not answered (the most valuable first);
  3. patients' questions not yet seen (the oldest first);
  4. follow-ups due: cases in "Follow-up required" and follow-up tasks due (most valuable first);
  5. treatment conversations of the last two weeks whose pack has not been sent (oldest first);
  6. tasks due today or earlier (the earliest due first).

"Mine" (the default) is the cases where the person is the treatment coordinator or the
dentist (and, for coordinators and managers, cases with no coordinator yet, so none is
forgotten), and the tasks that fall to them: assigned to them, or to their role, or to "the
case's coordinator" or "the case's dentist" when that is them. "The whole clinic" drops that
narrowing. Each section is one query, whatever the number of items; each shows its first
`LIMIT` items and the total, or up to `EXPANDED_LIMIT` when asked to show them all.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Subquery, Window
from django.urls import reverse

from clearplan.lib.clinic_time import clinic_now, clinic_zone
from clearplan.packs.engagement_selectors import when_label
from clearplan.packs.models import ConsentSignature, PackVisit, PatientResponse
from clearplan.pipeline import checklist
from clearplan.pipeline.checklist_selectors import due_label, who_label
from clearplan.pipeline.models import CaseProgress, CaseTask, Stage
from clearplan.pipeline.selectors import ago_label, case_value_subquery, days_label

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from clearplan.accounts.models import Clinic, User

MINE = "mine"
CLINIC = "clinic"
LIMIT = 10
# "Show all" on a section: still bounded; beyond this the board and the list take over.
EXPANDED_LIMIT = 200
# Conversations older than this without a pack are left to the board's "Not yet sent" column.
PACK_WINDOW_DAYS = 14
# Roles that pick up cases nobody coordinates yet.
PICK_UP_UNASSIGNED = frozenset({checklist.COORDINATOR, checklist.MANAGER})


@dataclass(frozen=True)
class TodayItem:
    case_public_id: str
    patient: str
    what: str
    detail: str = ""
    when: str = ""
    value: Decimal | None = None
    coordinator: str = ""
    badge: str = ""
    # Where on the case page the item is about.
    anchor: str = ""

    @property
    def url(self) -> str:
        return reverse("plans:detail", args=[self.case_public_id]) + (f"#{self.anchor}" if self.anchor else "")


@dataclass(frozen=True)
class TodaySection:
    key: str
    title: str
    why: str
    items: list[TodayItem]
    total: int

    @property
    def more(self) -> int:
        return max(0, self.total - len(self.items))


@dataclass(frozen=True)
class Today:
    scope: str
    sections: list[TodaySection]
    today: dt.date
    clinic: Clinic
    shown_patients: int = field(default=0)
    expanded: str = ""

    @property
    def total(self) -> int:
        return sum(section.total for section in self.sections)

    @property
    def waiting(self) -> list[TodaySection]:
        return [section for section in self.sections if section.total]


# ---------- Whose cases and tasks ----------


def _my_cases(user: User, role: str | None, prefix: str = "case__") -> Q:
    mine = Q(**{f"{prefix}coordinator": user}) | Q(**{f"{prefix}dentist": user})
    if role in PICK_UP_UNASSIGNED:
        mine |= Q(**{f"{prefix}coordinator__isnull": True})
    return mine


def my_tasks_q(user: User, role: str | None) -> Q:
    """Tasks that fall to `user` (the same rule as checklist_selectors.is_mine)."""
    by_role = Q(role=checklist.CASE_COORDINATOR, case__coordinator=user) | Q(
        role=checklist.PRACTITIONER, case__dentist=user
    )
    if role and role != checklist.PRACTITIONER:
        by_role |= Q(role=role)
    return Q(assigned_to=user) | Q(assigned_to__isnull=True) & by_role


# ---------- Words ----------


def _ago(moment: dt.datetime, today: dt.date, zone: ZoneInfo) -> int:
    """Whole days from `moment` (in the clinic's zone) to today."""
    return max(0, (today - moment.astimezone(zone).date()).days)


def _waiting(days: int) -> str:
    return "Since today" if days == 0 else f"Waiting {days_label(days)}"


def _in_follow_up(days: int) -> str:
    return "In follow-up since today" if days == 0 else f"In follow-up for {days_label(days)}"


def _patient(case: Any) -> str:
    patient = case.patient
    name = f"{patient.first_name} {patient.last_name}".strip()
    return f"{name} ({patient.preferred_name})" if patient.shows_preferred_name else name


def _coordinator(case: Any) -> str:
    return case.coordinator.display_name if case.coordinator_id else "No coordinator yet"


def _item(case: Any, **about: Any) -> TodayItem:
    """An item about `case`: its link, the patient's name and the coordinator, with `about`."""
    who = _coordinator(case)
    return TodayItem(case_public_id=str(case.public_id), patient=_patient(case), coordinator=who, **about)


@dataclass(frozen=True)
class _Ask:
    """What every section is read for: whose work, which day, and which section is shown whole."""

    clinic: Clinic
    mine: Q | None
    mine_tasks: Q | None
    today: dt.date
    zone: ZoneInfo
    expand: str

    def rows(self, key: str, rows: QuerySet[Any]) -> list[Any]:
        """The section's first rows, each carrying the section's total (one query)."""
        limit = EXPANDED_LIMIT if key == self.expand else LIMIT
        return list(rows.annotate(total_rows=Window(Count("pk")))[:limit])


def _total(rows: list[Any]) -> int:
    return rows[0].total_rows if rows else 0


# What an item shows of its case, read with it: the patient's names and the coordinator's.
CASE_FIELDS = (
    "case__public_id",
    "case__conversation_date",
    "case__coordinator_id",
    "case__patient__first_name",
    "case__patient__last_name",
    "case__patient__preferred_name",
    "case__coordinator__first_name",
    "case__coordinator__last_name",
    "case__coordinator__email",
)


def _progress(clinic: Clinic, mine: Q | None) -> QuerySet[CaseProgress]:
    rows = CaseProgress.objects.filter(clinic=clinic).select_related("case__patient", "case__coordinator")
    rows = rows.only("case_id", "stage", "stage_since", *CASE_FIELDS)
    return rows.filter(mine) if mine is not None else rows


# ---------- The sections ----------


def _requests(ask: _Ask) -> TodaySection:
    clinic, mine, today, zone = ask.clinic, ask.mine, ask.today, ask.zone
    proceed = PatientResponse.objects.filter(case=OuterRef("case_id"), kind=PatientResponse.Kind.PROCEED).order_by(
        "-created_at", "-id"
    )
    rows = ask.rows(
        "requests",
        _progress(clinic, mine)
        .filter(stage=Stage.REQUESTED)
        .annotate(
            value=case_value_subquery("case_id"),
            option_title=Subquery(proceed.values("option_title")[:1]),
            preferred_times=Subquery(proceed.values("preferred_times")[:1]),
        )
        .order_by("stage_since", "-value", "case_id"),
    )
    items = [
        _item(
            row.case,
            what=f"Asked to proceed with {row.option_title}" if row.option_title else "Asked to proceed",
            detail=f"Preferred times: {row.preferred_times}" if row.preferred_times else "",
            when=_waiting(_ago(row.stage_since, today, zone)),
            value=row.value,
            anchor="treatment-pack",
        )
        for row in rows
    ]
    return TodaySection(
        "requests",
        "Requests to proceed",
        "These patients are ready to go ahead: book them in.",
        items,
        _total(rows),
    )


def _viewed_unanswered(ask: _Ask) -> TodaySection:
    clinic, mine, today, zone = ask.clinic, ask.mine, ask.today, ask.zone
    visits = PackVisit.objects.filter(case=OuterRef("case_id")).order_by().values("case")
    replied = Q(Exists(PatientResponse.objects.filter(case=OuterRef("case_id")))) | Q(
        Exists(ConsentSignature.objects.filter(case=OuterRef("case_id")))
    )
    rows = ask.rows(
        "viewed",
        _progress(clinic, mine)
        .filter(stage=Stage.SENT)
        .filter(Exists(PackVisit.objects.filter(case=OuterRef("case_id"))))
        .exclude(replied)
        .annotate(
            value=case_value_subquery("case_id"),
            visits=Subquery(visits.annotate(n=Count("pk")).values("n")),
            last_visit=Subquery(
                PackVisit.objects.filter(case=OuterRef("case_id")).order_by("-started_at").values("started_at")[:1]
            ),
        )
        .order_by("-value", "stage_since", "case_id"),
    )
    items = []
    for row in rows:
        times = {1: "once", 2: "twice"}.get(row.visits, f"{row.visits} times")
        items.append(
            _item(
                row.case,
                what="Viewed the pack, no reply yet",
                detail=f"Viewed {times}, last {ago_label(_ago(row.last_visit, today, zone))}",
                when=f"Sent {ago_label(_ago(row.stage_since, today, zone))}",
                value=row.value,
                anchor="treatment-pack",
            )
        )
    return TodaySection(
        "viewed",
        "Viewed, no reply yet",
        "They have read their pack: a friendly call now helps most. Highest value first.",
        items,
        _total(rows),
    )


def _questions(ask: _Ask) -> TodaySection:
    clinic, mine, zone = ask.clinic, ask.mine, ask.zone
    questions = (
        PatientResponse.objects.filter(case__clinic=clinic, kind=PatientResponse.Kind.QUESTION, seen_at__isnull=True)
        .select_related("case__patient", "case__coordinator")
        .only("created_at", "responder", *CASE_FIELDS)
        .order_by("created_at", "id")
    )
    if mine is not None:
        questions = questions.filter(mine)
    rows = ask.rows("questions", questions)
    items = [
        _item(
            row.case,
            what="Asked a question" + (" (parent or guardian)" if row.responder == "guardian" else ""),
            when=f"Asked {when_label(row.created_at, zone)}",
            anchor="treatment-pack",
        )
        for row in rows
    ]
    return TodaySection(
        "questions",
        "New questions from patients",
        "Answer them, then mark them as seen on the case.",
        items,
        _total(rows),
    )


def _follow_ups(ask: _Ask) -> TodaySection:
    clinic, mine, mine_tasks, today, zone = ask.clinic, ask.mine, ask.mine_tasks, ask.today, ask.zone
    due_tasks = CaseTask.objects.filter(
        case=OuterRef("case_id"), kind=CaseTask.Kind.FOLLOW_UP, done_at__isnull=True, due_on__lte=today
    )
    open_tasks = CaseTask.objects.filter(
        case=OuterRef("case_id"), kind=CaseTask.Kind.FOLLOW_UP, done_at__isnull=True
    ).order_by(F("due_on").asc(nulls_last=True), "position", "pk")
    progress = _progress(clinic, None).filter(Q(stage=Stage.FOLLOW_UP) | Q(Exists(due_tasks)))
    if mine is not None and mine_tasks is not None:
        my_due = due_tasks.filter(mine_tasks)
        progress = progress.filter(mine | Q(Exists(my_due)))
    rows = ask.rows(
        "follow_ups",
        progress.annotate(
            value=case_value_subquery("case_id"),
            task_title=Subquery(open_tasks.values("title")[:1]),
            task_due=Subquery(open_tasks.values("due_on")[:1]),
        ).order_by("-value", "stage_since", "case_id"),
    )
    items = []
    for row in rows:
        overdue = row.task_due is not None and row.task_due < today
        items.append(
            _item(
                row.case,
                what=row.task_title or "Follow-up required",
                detail=due_label(row.task_due, today) if row.task_due else "",
                when=_in_follow_up(_ago(row.stage_since, today, zone)) if row.stage == Stage.FOLLOW_UP else "",
                value=row.value,
                badge="Overdue" if overdue else "",
                anchor="checklist",
            )
        )
    return TodaySection(
        "follow_ups",
        "Follow-ups due",
        "Cases that need a contact from the team. Highest value first.",
        items,
        _total(rows),
    )


def _packs_to_send(ask: _Ask) -> TodaySection:
    clinic, mine, today = ask.clinic, ask.mine, ask.today
    since = today - dt.timedelta(days=PACK_WINDOW_DAYS)
    rows = ask.rows(
        "packs_to_send",
        _progress(clinic, mine)
        .filter(
            stage=Stage.NOT_SENT,
            case__pack_needed=True,
            case__conversation_date__gte=since,
            case__conversation_date__lte=today,
        )
        .annotate(value=case_value_subquery("case_id"))
        .order_by("case__conversation_date", "-value", "case_id"),
    )
    items = []
    for row in rows:
        days = (today - row.case.conversation_date).days
        items.append(
            _item(
                row.case,
                what="Pack not sent yet",
                when=f"Conversation {ago_label(days)}",
                value=row.value,
                anchor="treatment-pack",
            )
        )
    return TodaySection(
        "packs_to_send",
        "Packs to send",
        "Treatment conversations from the last two weeks. Send within one business day while it is fresh.",
        items,
        _total(rows),
    )


def _tasks_due(ask: _Ask) -> TodaySection:
    clinic, mine_tasks, today = ask.clinic, ask.mine_tasks, ask.today
    tasks = (
        CaseTask.objects.filter(
            case__clinic=clinic,
            done_at__isnull=True,
            automatic=False,
            due_on__lte=today,
            case__progress__stage__in=[Stage.NOT_SENT, Stage.SENT, Stage.FOLLOW_UP, Stage.REQUESTED, Stage.BOOKED],
        )
        .exclude(kind=CaseTask.Kind.FOLLOW_UP)
        .select_related("case__patient", "case__coordinator", "case__dentist", "assigned_to")
        .order_by("due_on", "position", "id")
    )
    if mine_tasks is not None:
        tasks = tasks.filter(mine_tasks)
    rows = ask.rows("tasks", tasks)
    items = [
        _item(
            task.case,
            what=task.title,
            detail=who_label(task, task.case),
            when=due_label(task.due_on, today),
            badge="Overdue" if task.due_on < today else "",
            anchor="checklist",
        )
        for task in rows
    ]
    return TodaySection("tasks", "Tasks due", "Checklist steps and tasks due today or earlier.", items, _total(rows))


SECTION_READERS = (_requests, _viewed_unanswered, _questions, _follow_ups, _packs_to_send, _tasks_due)
SECTION_KEYS = ("requests", "viewed", "questions", "follow_ups", "packs_to_send", "tasks")


def today_for(*, user: User, clinic: Clinic, role: str | None, scope: str = MINE, expand: str = "") -> Today:
    """Everything on Today for `user` at `clinic`, in six queries; `expand` names a section to
    show whole (up to EXPANDED_LIMIT items)."""
    today = clinic_now(clinic).date()
    ask = _Ask(
        clinic=clinic,
        mine=_my_cases(user, role) if scope == MINE else None,
        mine_tasks=my_tasks_q(user, role) if scope == MINE else None,
        today=today,
        zone=clinic_zone(clinic),
        expand=expand,
    )
    sections = [reader(ask) for reader in SECTION_READERS]
    patients = {item.case_public_id for section in sections for item in section.items}
    return Today(
        scope=scope, sections=sections, today=today, clinic=clinic, shown_patients=len(patients), expanded=expand
    )
