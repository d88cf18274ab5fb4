"""Reading the pipeline: a case's value, the board's columns and cards, and the list.

`case_value_subquery()` is the one definition of what a case is worth, shared by the board,
the list, Today and the digests. The board reads in a fixed number of queries however many
cases a clinic has: one light query gives every open case's stage and value (for the
columns' counts and totals and to choose the cards shown), a second reads the shown cards in
full. The list pages one annotated query.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import models
from django.db.models import (
    Count,
    DecimalField,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from clearplan.lib.clinic_time import clinic_now, clinic_zone
from clearplan.packs.models import ConsentSignature, PackSend, PackVisit, PatientResponse
from clearplan.pipeline.models import BOARD_STAGES, CaseProgress, CaseTask, Stage
from clearplan.pipeline.stages import HOW_TO_REACH, moves_by_hand, reached_otherwise
from clearplan.plans.models import PlanLine, PlanOption

if TYPE_CHECKING:
    from collections.abc import Sequence

    from clearplan.accounts.models import Clinic, User
    from clearplan.catalog.models import PackTemplate

MONEY: DecimalField[Decimal, Decimal] = DecimalField(max_digits=14, decimal_places=2)
ZERO = Decimal("0.00")
CENT = Decimal("0.01")


def _money(value: Decimal | None) -> Decimal:
    """Two decimal places on every database (SQLite gives sums without them)."""
    return ZERO if value is None else Decimal(value).quantize(CENT)


# How many cards a column shows before "Show all": the highest values first.
CARDS_PER_COLUMN = 10


# ---------- What a case is worth ----------


def case_value_subquery(case_ref: str = "pk") -> Coalesce:
    """The value of the case `OuterRef(case_ref)` points at, as Decimal in the clinic's currency:
    the total (fee × quantity) of its recommended option's lines, or of its first treatment
    option when none is recommended; 0 when it has no option with lines.

    Annotate a Case queryset with `case_value_subquery()`, or any model with a case foreign key
    with `case_value_subquery("case_id")`."""
    chosen_option = (
        PlanOption.objects.filter(case=OuterRef(OuterRef(case_ref)))
        .filter(Q(is_recommended=True) | Q(kind=PlanOption.Kind.TREATMENT))
        .order_by("-is_recommended", "position", "pk")
        .values("pk")[:1]
    )
    # Only the chosen option's lines are added up (not every option's, then one picked).
    total = (
        PlanLine.objects.filter(option=Subquery(chosen_option))
        .order_by()
        .values("option")
        .annotate(total=Sum(ExpressionWrapper(F("fee") * F("quantity"), output_field=MONEY)))
        .values("total")
    )
    return Coalesce(Subquery(total, output_field=MONEY), Value(ZERO), output_field=MONEY)


# ---------- Filters ----------


class Engagement:
    NOT_VIEWED = "not_viewed"
    VIEWED_NO_RESPONSE = "viewed_no_response"
    RESPONDED = "responded"

    CHOICES = (
        (NOT_VIEWED, "Sent, not viewed"),
        (VIEWED_NO_RESPONSE, "Viewed, no response"),
        (RESPONDED, "Responded"),
    )


UNASSIGNED = "none"


@dataclass(frozen=True)
class CaseFilters:
    """What the board and the list are narrowed to. Every field is optional."""

    coordinator: User | None = None
    unassigned: bool = False
    dentist: User | None = None
    plan_type: str = ""
    value_min: Decimal | None = None
    value_max: Decimal | None = None
    sent_from: dt.date | None = None
    sent_to: dt.date | None = None
    engagement: str = ""
    template: PackTemplate | None = None
    # The list only: one stage, or every open stage when empty.
    stage: str = ""

    @property
    def any(self) -> bool:
        return any(
            (
                self.coordinator,
                self.unassigned,
                self.dentist,
                self.plan_type,
                self.value_min is not None,
                self.value_max is not None,
                self.sent_from,
                self.sent_to,
                self.engagement,
                self.template,
                self.stage,
            )
        )


def _sent(now: dt.datetime) -> Exists:
    """A pack has gone to the patient: sent, or scheduled for a time that has passed."""
    return Exists(
        PackSend.objects.filter(case=OuterRef("case_id"), send_at__lte=now).exclude(status=PackSend.Status.CANCELLED)
    )


def _viewed() -> Exists:
    return Exists(PackVisit.objects.filter(case=OuterRef("case_id")))


def _replied(clinic: Clinic, stages: Sequence[str]) -> Q:
    """The patient answered or signed. Asked as "one of this clinic's cases in these stages with a
    reply": as "a reply or a signature exists" for each row, PostgreSQL reads every reply of every
    case instead."""
    these = {"case__progress__clinic": clinic, "case__progress__stage__in": list(stages)}
    return Q(case_id__in=PatientResponse.objects.filter(**these).values("case_id")) | Q(
        case_id__in=ConsentSignature.objects.filter(**these).values("case_id")
    )


def _local_midnight(day: dt.date, clinic: Clinic) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=clinic_zone(clinic))


def open_progress(clinic: Clinic, filters: CaseFilters, *, stages: Sequence[str] = BOARD_STAGES) -> QuerySet[Any]:
    """The clinic's cases in `stages`, narrowed by `filters`, annotated with `value`."""
    wanted = [filters.stage] if filters.stage else list(stages)
    progress = CaseProgress.objects.filter(clinic=clinic, stage__in=wanted)
    progress = progress.annotate(value=case_value_subquery("case_id"))
    if filters.unassigned:
        progress = progress.filter(case__coordinator__isnull=True)
    elif filters.coordinator is not None:
        progress = progress.filter(case__coordinator=filters.coordinator)
    if filters.dentist is not None:
        progress = progress.filter(case__dentist=filters.dentist)
    if filters.plan_type:
        progress = progress.filter(case__plan_type=filters.plan_type)
    if filters.template is not None:
        progress = progress.filter(case__template=filters.template)
    if filters.value_min is not None:
        progress = progress.filter(value__gte=filters.value_min)
    if filters.value_max is not None:
        progress = progress.filter(value__lte=filters.value_max)
    if filters.sent_from or filters.sent_to:
        sends = PackSend.objects.filter(case=OuterRef("case_id")).exclude(status=PackSend.Status.CANCELLED)
        if filters.sent_from:
            sends = sends.filter(send_at__gte=_local_midnight(filters.sent_from, clinic))
        if filters.sent_to:
            sends = sends.filter(send_at__lt=_local_midnight(filters.sent_to + dt.timedelta(days=1), clinic))
        progress = progress.filter(Exists(sends))
    if filters.engagement == Engagement.NOT_VIEWED:
        progress = progress.filter(_sent(timezone.now())).exclude(_viewed())
    elif filters.engagement == Engagement.VIEWED_NO_RESPONSE:
        progress = progress.filter(_viewed()).exclude(_replied(clinic, wanted))
    elif filters.engagement == Engagement.RESPONDED:
        progress = progress.filter(_replied(clinic, wanted))
    return progress


# ---------- Cards ----------


# The next action is what a person should do next: a follow-up first, then steps people tick, then
# steps Clearplan ticks when they happen (such as the patient signing); within each, the first due.
NEXT_TASK_ORDER = (
    models.Case(When(kind=CaseTask.Kind.FOLLOW_UP, then=0), default=1),
    "automatic",
    F("due_on").asc(nulls_last=True),
    "position",
    "pk",
)


def _next_task() -> QuerySet[CaseTask]:
    """The case's next open task (see NEXT_TASK_ORDER)."""
    return CaseTask.objects.filter(case=OuterRef("case_id"), done_at__isnull=True).order_by(*NEXT_TASK_ORDER)


@dataclass(frozen=True)
class _CardFacts:
    """What the cards show besides the case itself, each read in one plain query for all the
    cards (cheaper to build and run than as many correlated subqueries on the cards' query)."""

    visits: dict[int, tuple[int, int]]  # case id → (times opened, seconds read)
    sent: set[int]
    responded: set[int]
    next_task: dict[int, tuple[str, dt.date | None]]


def _card_facts(case_ids: list[int]) -> _CardFacts:
    visits = {
        case_id: (count, seconds or 0)
        for case_id, count, seconds in PackVisit.objects.filter(case_id__in=case_ids)
        .order_by()
        .values("case_id")
        .annotate(count=Count("pk"), seconds=Sum("seconds_viewed"))
        .values_list("case_id", "count", "seconds")
    }
    sent = set(
        PackSend.objects.filter(case_id__in=case_ids, send_at__lte=timezone.now())
        .exclude(status=PackSend.Status.CANCELLED)
        .values_list("case_id", flat=True)
    )
    responded = set(PatientResponse.objects.filter(case_id__in=case_ids).values_list("case_id", flat=True))
    responded |= set(ConsentSignature.objects.filter(case_id__in=case_ids).values_list("case_id", flat=True))
    next_task: dict[int, tuple[str, dt.date | None]] = {}
    open_tasks = (
        CaseTask.objects.filter(case_id__in=case_ids, done_at__isnull=True)
        .order_by("case_id", *NEXT_TASK_ORDER)
        .values_list("case_id", "title", "due_on")
    )
    for case_id, title, due_on in open_tasks:
        next_task.setdefault(case_id, (title, due_on))
    return _CardFacts(visits=visits, sent=sent, responded=responded, next_task=next_task)


def _days_between(earlier: dt.datetime, today: dt.date, zone: Any) -> int:
    return max(0, (today - earlier.astimezone(zone).date()).days)


def days_label(days: int) -> str:
    return "today" if days == 0 else "1 day" if days == 1 else f"{days} days"


def ago_label(days: int) -> str:
    return "today" if days == 0 else "yesterday" if days == 1 else f"{days} days ago"


def _duration_words(seconds: int) -> str:
    from clearplan.packs.engagement_selectors import duration_label

    return duration_label(seconds)


@dataclass
class Card:
    """One case as the board and the list show it."""

    progress: CaseProgress
    value: Decimal
    days_in_stage: int
    days_since_activity: int
    visits: int
    seconds_viewed: int
    sent: bool
    responded: bool
    next_task_title: str
    next_task_due: dt.date | None
    next_task_overdue: bool
    moves: list[str]
    # Read once here rather than through several lookups each in the template: the board draws many cards.
    public_id: str
    case_url: str
    patient_name: str
    coordinator_name: str
    plan_type_label: str

    @property
    def dom_id(self) -> str:
        return f"card-{self.public_id}"

    @property
    def case(self) -> Any:
        return self.progress.case

    @property
    def patient(self) -> Any:
        return self.progress.case.patient

    @property
    def stage(self) -> str:
        return self.progress.stage

    @property
    def stage_label(self) -> str:
        return self.progress.get_stage_display()

    @property
    def revision(self) -> int:
        return self.progress.revision

    @property
    def days_in_stage_label(self) -> str:
        return days_label(self.days_in_stage)

    @property
    def last_activity_label(self) -> str:
        return ago_label(self.days_since_activity)

    @property
    def engagement_label(self) -> str:
        if self.visits:
            times = {1: "once", 2: "twice"}.get(self.visits, f"{self.visits} times")
            words = f"Viewed {times}"
            return f"{words} · {_duration_words(self.seconds_viewed)}" if self.seconds_viewed else words
        return "Not viewed yet" if self.sent else "Not sent yet"

    @property
    def engagement_state(self) -> str:
        if self.responded:
            return "responded"
        if self.visits:
            return "viewed"
        return "not_viewed" if self.sent else "not_sent"


def cards_for(case_ids: Sequence[int], clinic: Clinic, values: dict[int, Decimal] | None = None) -> list[Card]:
    """The cards of these cases, in no particular order, in a fixed number of queries; `values`
    by case id when they are known already (otherwise each case's value is read too)."""
    from django.urls import reverse

    ids = list(case_ids)
    if not ids:
        return []
    progress = CaseProgress.objects.filter(case_id__in=ids).select_related("case__patient", "case__coordinator")
    if values is None:
        progress = progress.annotate(value=case_value_subquery("case_id"))
    facts = _card_facts(ids)
    zone = clinic_zone(clinic)
    today = clinic_now(clinic).date()
    cards = []
    for row in progress:
        case = row.case
        public_id = str(case.public_id)
        coordinator = case.coordinator
        visits, seconds = facts.visits.get(row.case_id, (0, 0))
        title, due = facts.next_task.get(row.case_id, ("", None))
        cards.append(
            Card(
                progress=row,
                value=values[row.case_id] if values is not None else _money(row.value),  # type: ignore[attr-defined]
                days_in_stage=_days_between(row.stage_since, today, zone),
                days_since_activity=_days_between(row.last_activity_at, today, zone),
                visits=visits,
                seconds_viewed=seconds,
                sent=row.case_id in facts.sent,
                responded=row.case_id in facts.responded,
                next_task_title=title,
                next_task_due=due,
                next_task_overdue=due is not None and due < today,
                moves=moves_by_hand(row.stage),
                public_id=public_id,
                case_url=reverse("plans:detail", args=[public_id]),
                patient_name=case.patient.full_name,
                coordinator_name=coordinator.display_name if coordinator is not None else "",
                plan_type_label=case.get_plan_type_display(),
            )
        )
    return cards


# ---------- The board ----------


@dataclass
class Column:
    stage: str
    label: str
    count: int = 0
    total: Decimal = ZERO
    cards: list[Card] = field(default_factory=list)
    # Only for "Sent": how many have been opened.
    viewed: int = 0
    showing_all: bool = False

    @property
    def hidden(self) -> int:
        return self.count - len(self.cards)

    @property
    def not_viewed(self) -> int:
        return self.count - self.viewed

    @property
    def by_hand(self) -> bool:
        """Whether a person can move a case into this column."""
        return self.stage not in HOW_TO_REACH

    @property
    def how_to_reach(self) -> str:
        return HOW_TO_REACH.get(self.stage, "")

    @property
    def moves(self) -> list[tuple[str, str]]:
        """Where a person can move this column's cases, with the stages' names."""
        return [(stage, Stage(stage).label) for stage in moves_by_hand(self.stage)]

    @property
    def reached_otherwise(self) -> list[str]:
        """What moves this column's cases to Sent or Booked, which people cannot do by hand."""
        return reached_otherwise(self.stage)


@dataclass
class Board:
    columns: list[Column]

    @property
    def count(self) -> int:
        return sum(column.count for column in self.columns)

    @property
    def total(self) -> Decimal:
        return sum((column.total for column in self.columns), ZERO)

    @property
    def shown_case_ids(self) -> list[int]:
        return [card.progress.case_id for column in self.columns for card in column.cards]


def board_for(
    clinic: Clinic,
    filters: CaseFilters,
    *,
    stages: Sequence[str] = BOARD_STAGES,
    show_all: str = "",
    per_column: int = CARDS_PER_COLUMN,
) -> Board:
    """The board's columns for `stages` (all of them by default), each with its count, total
    value and its highest-value cards (every card for the column named by `show_all`).
    Three queries, however many cases."""
    # The value range is applied here rather than in SQL, where the value would be worked out twice.
    low, high = filters.value_min, filters.value_max
    unpriced = replace(filters, value_min=None, value_max=None)
    summary = open_progress(clinic, unpriced, stages=stages).order_by().values_list("case_id", "stage", "value")
    # Whether the pack was opened is told apart only in "Sent": asked separately, because as a
    # column of the query above PostgreSQL reads every visit of every case to answer it.
    viewed: set[int] = set()
    if Stage.SENT in stages and filters.engagement not in (Engagement.NOT_VIEWED, Engagement.VIEWED_NO_RESPONSE):
        sent = open_progress(clinic, unpriced, stages=[Stage.SENT]).filter(_viewed())
        viewed = set(sent.order_by().values_list("case_id", flat=True))
    # With an engagement filter on, whether each was viewed is known already.
    every_one_viewed = filters.engagement == Engagement.VIEWED_NO_RESPONSE
    columns = {stage: Column(stage=stage, label=Stage(stage).label) for stage in stages}
    ranked: dict[str, list[tuple[Decimal, int]]] = {stage: [] for stage in stages}
    for case_id, stage, value in summary:
        amount = _money(value)
        if (low is not None and amount < low) or (high is not None and amount > high):
            continue
        column = columns[stage]
        column.count += 1
        column.total += amount
        column.viewed += 1 if every_one_viewed or case_id in viewed else 0
        ranked[stage].append((amount, case_id))
    chosen: dict[int, Decimal] = {}
    for stage, entries in ranked.items():
        entries.sort(reverse=True)
        showing_all = stage == show_all
        columns[stage].showing_all = showing_all
        chosen.update((case_id, value) for value, case_id in (entries if showing_all else entries[:per_column]))
    if chosen:
        cards = cards_for(list(chosen), clinic, chosen)
        for card in sorted(cards, key=lambda c: (c.value, c.progress.case_id), reverse=True):
            # A case moved between the two reads is left out rather than shown in a column not asked for.
            if card.stage in columns:
                columns[card.stage].cards.append(card)
    return Board(columns=[columns[stage] for stage in stages])


# ---------- The list ----------

# Sort keys offered by the list's column headings, and what each orders by (ascending).
STAGE_ORDER = models.Case(
    *[When(stage=stage, then=Value(position)) for position, stage in enumerate(Stage.values)],
    default=Value(99),
    output_field=IntegerField(),
)
LIST_SORTS: dict[str, tuple[Any, ...]] = {
    "patient": ("case__patient__search_name",),
    "stage": (STAGE_ORDER,),
    "value": ("value",),
    # More days in the stage first when ascending reads "fewest days": so days sort by the start.
    "days": ("-stage_since",),
    "activity": ("last_activity_at",),
    "assigned": ("case__coordinator__first_name", "case__coordinator__last_name"),
    "next": (F("next_task_due").asc(nulls_last=True),),
}
DEFAULT_SORT = "stage"


def _ordering(sort: str) -> list[Any]:
    descending = sort.startswith("-")
    key = sort.lstrip("-")
    terms = LIST_SORTS.get(key, LIST_SORTS[DEFAULT_SORT])
    ordered: list[Any] = []
    for term in terms:
        if isinstance(term, str):
            expression: Any = F(term.lstrip("-"))
            flipped = term.startswith("-") != descending
            ordered.append(expression.desc(nulls_last=True) if flipped else expression.asc(nulls_last=True))
        elif hasattr(term, "descending"):  # already an OrderBy
            ordered.append(term.expression.desc(nulls_last=True) if descending else term)
        else:
            ordered.append(term.desc() if descending else term.asc())
    if key == "stage":
        ordered.append(F("value").desc())
    ordered.append(F("case_id").desc())
    return ordered


def list_order(clinic: Clinic, filters: CaseFilters, *, sort: str = DEFAULT_SORT) -> QuerySet[Any]:
    """The case ids of the list, filtered and sorted: page this, then read the page's cards with
    `list_cards`. Only what the order needs is worked out for every row; the rest only for the page."""
    progress = open_progress(clinic, filters)
    if sort.lstrip("-") == "next":
        progress = progress.annotate(next_task_due=Subquery(_next_task().values("due_on")[:1]))
    return progress.order_by(*_ordering(sort)).values_list("case_id", flat=True)


def list_cards(case_ids: Sequence[int], clinic: Clinic) -> list[Card]:
    """The cards of a page of the list, in the page's order."""
    by_id = {card.progress.case_id: card for card in cards_for(case_ids, clinic)}
    return [by_id[case_id] for case_id in case_ids if case_id in by_id]
