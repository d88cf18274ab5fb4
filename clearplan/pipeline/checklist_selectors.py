"""Reading a case's checklist as the case page shows it: each task with who does it, when it
is due, and who ticked it when; in two queries however many tasks the case has."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from clearplan.lib.clinic_time import clinic_now, clinic_zone
from clearplan.packs.engagement_selectors import when_label
from clearplan.pipeline import checklist
from clearplan.pipeline.models import CaseTask

if TYPE_CHECKING:
    from clearplan.accounts.models import User
    from clearplan.plans.models import Case


def _day(day: dt.date, today: dt.date, *, weekday: bool) -> str:
    text = f"{day.day} {day:%b}" if day.year == today.year else f"{day.day} {day:%b %Y}"
    return f"{day:%a} {text}" if weekday else text


def due_label(due_on: dt.date, today: dt.date) -> str:
    """ "Due today", "Due tomorrow", "Due Thu 18 Sep"; for a date gone by, "Due 12 Sep" (shown
    with a calm "Overdue" beside it)."""
    if due_on == today:
        return "Due today"
    if due_on == today + dt.timedelta(days=1):
        return "Due tomorrow"
    return f"Due {_day(due_on, today, weekday=due_on > today)}"


def who_label(task: CaseTask, case: Case) -> str:
    """The person who does the task, or the role when it is anyone in that role."""
    if task.assigned_to is not None:
        return task.assigned_to.display_name
    if task.role == checklist.CASE_COORDINATOR:
        return case.coordinator.display_name if case.coordinator else "The treatment coordinator (no one yet)"
    if task.role == checklist.PRACTITIONER:
        return case.dentist.display_name
    return checklist.role_label(task.role)


@dataclass(frozen=True)
class TaskRow:
    task: CaseTask
    who: str
    due: str
    overdue: bool
    done: str
    # For steps Clearplan performs: when it ticks them.
    automatic_when: str

    @property
    def is_done(self) -> bool:
        return self.task.is_done


@dataclass(frozen=True)
class CaseChecklist:
    steps: list[TaskRow]
    # Follow-ups and the team's own tasks, open ones first.
    other: list[TaskRow]

    @property
    def done_count(self) -> int:
        return sum(1 for row in self.steps if row.is_done)

    @property
    def open_other_count(self) -> int:
        return sum(1 for row in self.other if not row.is_done)

    @property
    def is_empty(self) -> bool:
        return not self.steps and not self.other


def _row(task: CaseTask, case: Case, today: dt.date, now: dt.datetime) -> TaskRow:
    zone = clinic_zone(case.clinic)
    step = checklist.definition_of(task.step_key) if task.automatic else None
    if task.done_at is not None:
        by = task.done_by.display_name if task.done_by is not None else "Clearplan"
        done = f"Done by {by}, {when_label(task.done_at, zone, now=now)}"
    else:
        done = ""
    due = due_label(task.due_on, today) if task.due_on and not task.is_done else ""
    return TaskRow(
        task=task,
        who=who_label(task, case),
        due=due,
        overdue=bool(task.due_on and not task.is_done and task.due_on < today),
        done=done,
        automatic_when=step.done_by_clearplan_when if step is not None else ("by itself" if task.automatic else ""),
    )


def case_checklist(case: Case) -> CaseChecklist:
    now = clinic_now(case.clinic)
    today = now.date()
    tasks = list(CaseTask.objects.filter(case=case).select_related("assigned_to", "done_by"))
    rows = [_row(task, case, today, now) for task in tasks]
    steps = [row for row in rows if row.task.kind == CaseTask.Kind.CHECKLIST]
    other = [row for row in rows if row.task.kind != CaseTask.Kind.CHECKLIST]
    other.sort(key=lambda row: (row.is_done, row.task.due_on or dt.date.max, row.task.created_at))
    return CaseChecklist(steps=steps, other=other)


def task_of_case(case: Case, public_id: object) -> CaseTask:
    """The task with this public id on this case, or 404."""
    import uuid

    from django.http import Http404

    try:
        key = uuid.UUID(str(public_id))
        return CaseTask.objects.select_related("assigned_to", "done_by").get(case=case, public_id=key)
    except (ValueError, CaseTask.DoesNotExist) as error:
        raise Http404("No such task.") from error


def is_mine(task: CaseTask, case: Case, user: User, role: str | None) -> bool:
    """Whether the task falls to `user` (see today_selectors.my_tasks for the same rule in SQL)."""
    if task.assigned_to_id is not None:
        return task.assigned_to_id == user.pk
    if task.role == checklist.CASE_COORDINATOR:
        return case.coordinator_id == user.pk
    if task.role == checklist.PRACTITIONER:
        return case.dentist_id == user.pk
    return task.role == role
