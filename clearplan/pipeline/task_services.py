"""Every change people make to a case's tasks and to the clinic's checklist steps: checked,
saved in one transaction and written to the audit log.

Tasks: tick and untick (never a step Clearplan performs), add a task of one's own, choose who
does a task and by when, remove a task one added. Steps: switch on or off, who does it, due in
how many days, and the order. Ticking is idempotent (the form says which state it wants), so a
double click or a replayed form changes nothing twice.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from clearplan.accounts.models import Membership
from clearplan.audit.models import AuditEvent
from clearplan.audit.services import audit_record
from clearplan.lib.clinic_time import clinic_now
from clearplan.pipeline import checklist
from clearplan.pipeline.models import CaseTask, WorkflowStep
from clearplan.pipeline.stages import audit_case_change

if TYPE_CHECKING:
    from collections.abc import Callable

    from django.http import HttpRequest

    from clearplan.accounts.models import Clinic, User
    from clearplan.plans.models import Case

WORKFLOW_RECORD_TYPE = "workflow_steps"
MAX_TITLE = 200
# A second "Add task" with the same words within this time is the same click arriving twice.
REPEAT_WINDOW = dt.timedelta(seconds=30)


def _audit_task(*, task: CaseTask, by: User, request: HttpRequest | None, changes: dict[str, Any]) -> None:
    audit_case_change(case=task.case, by=by, request=request, changes={"task": task.title, **changes})


def automatic_refusal(task: CaseTask) -> str:
    step = checklist.definition_of(task.step_key)
    when = step.done_by_clearplan_when if step is not None else "when it happens"
    return f"Clearplan ticks “{task.title}” {when}; it can’t be ticked or unticked by hand."


def task_set_done(*, task: CaseTask, done: bool, by: User, request: HttpRequest | None = None) -> CaseTask:
    """Tick (`done=True`) or untick a task. Asking for the state it is already in changes nothing.
    Raises ValidationError for a step Clearplan performs."""
    with transaction.atomic():
        current = CaseTask.objects.select_for_update(of=("self",)).select_related("case__clinic").get(pk=task.pk)
        if current.automatic:
            raise ValidationError(automatic_refusal(current))
        if current.is_done == done:
            return current
        before = current.is_done
        current.done_at = timezone.now() if done else None
        current.done_by = by if done else None
        current.save(update_fields=["done_at", "done_by"])
        _audit_task(task=current, by=by, request=request, changes={"done": [before, done]})
    return current


# ---------- Who does it, and by when ----------


@dataclass(frozen=True)
class Assignee:
    """Either one person, or a role (blank: the case's treatment coordinator)."""

    role: str = checklist.CASE_COORDINATOR
    person: User | None = None


def _check_assignee(assignee: Assignee, clinic: Clinic) -> None:
    if assignee.person is not None:
        if not Membership.objects.filter(user=assignee.person, clinic=clinic, user__is_active=True).exists():
            raise ValidationError({"assignee": "Choose someone who works at this clinic."})
    elif assignee.role not in checklist.ROLE_LABELS:
        raise ValidationError({"assignee": "Choose who does this task."})


def _check_due_on(due_on: dt.date | None, clinic: Clinic, *, was: dt.date | None = None) -> None:
    if due_on is None or due_on == was:
        return
    today = clinic_now(clinic).date()
    if due_on < today:
        raise ValidationError({"due_on": "Choose today or a later date."})
    if due_on > today + dt.timedelta(days=checklist.MAX_DUE_AFTER_DAYS):
        raise ValidationError({"due_on": "Choose a date within the next year."})


def _clean_title(title: str) -> str:
    title = " ".join((title or "").split())
    if not title:
        raise ValidationError({"title": "Say what needs doing."})
    if len(title) > MAX_TITLE:
        raise ValidationError({"title": f"Keep it under {MAX_TITLE} characters."})
    return title


def _raise_all(*checks: Callable[[], object]) -> None:
    """Run every check and raise one ValidationError with all their messages, by field."""
    errors: dict[str, list[str]] = {}
    for check in checks:
        try:
            check()
        except ValidationError as error:
            for field, messages in error.message_dict.items():
                errors.setdefault(field, []).extend(messages)
    if errors:
        raise ValidationError(errors)


def _who(assignee: Assignee) -> str:
    return assignee.person.display_name if assignee.person is not None else checklist.role_label(assignee.role)


def task_add(
    *,
    case: Case,
    title: str,
    due_on: dt.date | None,
    assignee: Assignee,
    by: User,
    request: HttpRequest | None = None,
) -> CaseTask:
    """A task of the team's own on the case, at the end of its list. The same task sent twice
    within a few seconds (a double click, a resubmitted form) is saved once."""
    _raise_all(
        lambda: _clean_title(title),
        lambda: _check_assignee(assignee, case.clinic),
        lambda: _check_due_on(due_on, case.clinic),
    )
    title = _clean_title(title)
    with transaction.atomic():
        now = timezone.now()
        repeat = (
            CaseTask.objects.select_for_update()
            .filter(
                case=case, kind=CaseTask.Kind.OTHER, title=title, created_by=by, created_at__gte=now - REPEAT_WINDOW
            )
            .first()
        )
        if repeat is not None:
            return repeat
        last = CaseTask.objects.filter(case=case).aggregate(last=Max("position"))["last"]
        task = CaseTask.objects.create(
            case=case,
            kind=CaseTask.Kind.OTHER,
            title=title,
            position=(last or 0) + 1,
            role=assignee.role if assignee.person is None else "",
            assigned_to=assignee.person,
            due_on=due_on,
            created_by=by,
            created_at=now,
        )
        task.case = case
        _audit_task(task=task, by=by, request=request, changes={"added": True, "who": _who(assignee)})
    return task


def task_update(
    *,
    task: CaseTask,
    assignee: Assignee,
    due_on: dt.date | None,
    by: User,
    title: str | None = None,
    request: HttpRequest | None = None,
) -> CaseTask:
    """Change who does a task and when it is due (and the words of a task the team added)."""
    case = task.case
    checks: list[Callable[[], object]] = [
        lambda: _check_assignee(assignee, case.clinic),
        lambda: _check_due_on(due_on, case.clinic, was=task.due_on),
    ]
    if title is not None and task.kind == CaseTask.Kind.OTHER:
        checks.insert(0, lambda: _clean_title(title))
    _raise_all(*checks)
    with transaction.atomic():
        current = CaseTask.objects.select_for_update().get(pk=task.pk)
        before = {
            "who": current.assigned_to.display_name if current.assigned_to else checklist.role_label(current.role),
            "due_on": current.due_on.isoformat() if current.due_on else None,
            "title": current.title,
        }
        current.assigned_to = assignee.person
        current.role = assignee.role if assignee.person is None else ""
        current.due_on = due_on
        if title is not None and current.kind == CaseTask.Kind.OTHER:
            current.title = _clean_title(title)
        current.save(update_fields=["assigned_to", "role", "due_on", "title"])
        after = {"who": _who(assignee), "due_on": due_on.isoformat() if due_on else None, "title": current.title}
        changes = {key: [before[key], after[key]] for key in before if before[key] != after[key]}
        current.case = case
        if changes:
            _audit_task(task=current, by=by, request=request, changes=changes)
    return current


def task_remove(*, task: CaseTask, by: User, request: HttpRequest | None = None) -> None:
    """Remove a task the team added. Checklist steps and follow-ups stay: they are switched off
    in the clinic's settings, or ticked."""
    if task.kind != CaseTask.Kind.OTHER:
        raise ValidationError("Only tasks the team added can be removed; tick this one when it is done.")
    with transaction.atomic():
        _audit_task(task=task, by=by, request=request, changes={"removed": True})
        CaseTask.objects.filter(pk=task.pk).delete()


# ---------- The clinic's checklist steps ----------


@dataclass(frozen=True)
class StepSettings:
    key: str
    enabled: bool
    role: str
    due_after_days: int | None


def _step_errors(change: StepSettings) -> dict[str, str]:
    errors: dict[str, str] = {}
    step = checklist.definition_of(change.key)
    if step is None:
        return {"key": "This step is no longer part of the checklist."}
    if change.role not in checklist.ROLE_LABELS:
        errors["role"] = "Choose who does this step."
    if step.has_due_date:
        if change.due_after_days is None:
            errors["due_after_days"] = "Say in how many days it is due (0 for the day of the conversation)."
        elif not 0 <= change.due_after_days <= checklist.MAX_DUE_AFTER_DAYS:
            errors["due_after_days"] = f"Choose a number from 0 to {checklist.MAX_DUE_AFTER_DAYS}."
    return errors


class StepSettingsError(ValidationError):
    """Problems with several steps' settings: `by_step[key]` maps field names to messages."""

    def __init__(self, by_step: dict[str, dict[str, str]]) -> None:
        self.by_step = by_step
        super().__init__("Some steps need a change before they can be saved.")


def _move(rows: list[WorkflowStep], key: str, direction: str) -> list[WorkflowStep]:
    index = next((i for i, row in enumerate(rows) if row.key == key), None)
    if index is None:
        return rows
    other = index - 1 if direction == "up" else index + 1
    if not 0 <= other < len(rows):
        return rows
    rows = list(rows)
    rows[index], rows[other] = rows[other], rows[index]
    return rows


def workflow_steps_save(
    *,
    clinic: Clinic,
    changes: list[StepSettings],
    by: User,
    move: tuple[str, str] | None = None,
    request: HttpRequest | None = None,
) -> list[WorkflowStep]:
    """Save the clinic's steps (on or off, who, due in how many days) and, with `move=(key,
    "up"|"down")`, move one step one place. Everything or nothing: raises StepSettingsError
    naming each step's problems. New cases follow the new settings; existing cases keep theirs."""
    problems = {change.key: errors for change in changes if (errors := _step_errors(change))}
    if problems:
        raise StepSettingsError(problems)
    if move is not None and move[1] not in ("up", "down"):
        raise ValidationError("Choose to move a step up or down.")
    with transaction.atomic():
        rows = list(WorkflowStep.objects.select_for_update().filter(clinic=clinic).order_by("position", "pk"))
        if len(rows) < len(checklist.WORKFLOW_STEPS):
            checklist.workflow_steps_for(clinic)
            rows = list(WorkflowStep.objects.select_for_update().filter(clinic=clinic).order_by("position", "pk"))
        rows = [row for row in rows if row.key in checklist.STEPS_BY_KEY]
        by_key = {change.key: change for change in changes}
        if move is not None:
            rows = _move(rows, *move)
        audit_changes: dict[str, Any] = {}
        for position, row in enumerate(rows):
            before = (row.enabled, row.role, row.due_after_days, row.position)
            change = by_key.get(row.key)
            if change is not None:
                row.enabled = change.enabled
                row.role = change.role
                if change.due_after_days is not None:
                    row.due_after_days = change.due_after_days
            row.position = position
            if before != (row.enabled, row.role, row.due_after_days, row.position):
                row.save(update_fields=["enabled", "role", "due_after_days", "position"])
                if before[:3] != (row.enabled, row.role, row.due_after_days):
                    audit_changes[row.key] = {
                        "on": [before[0], row.enabled],
                        "who": [checklist.role_label(before[1]), checklist.role_label(row.role)],
                        "due_after_days": [before[2], row.due_after_days],
                    }
        if move is not None:
            audit_changes["moved"] = list(move)
        if audit_changes:
            audit_record(
                action=AuditEvent.Action.SETTINGS,
                request=request,
                actor=by,
                clinic=clinic,
                object_type=WORKFLOW_RECORD_TYPE,
                object_id=str(clinic.public_id),
                object_label=f"Planning checklist at {clinic.name}",
                changes=audit_changes,
            )
    return rows


def checklist_start(*, case: Case, by: User, request: HttpRequest | None = None) -> int:
    """Give a case made before the checklist existed its tasks (and any step switched on since).
    Returns how many tasks were added."""
    with transaction.atomic():
        before = CaseTask.objects.filter(case=case).count()
        checklist.tasks_create_for(case=case)
        added = CaseTask.objects.filter(case=case).count() - before
        if added:
            audit_case_change(case=case, by=by, request=request, changes={"checklist": "started", "tasks_added": added})
    return added
