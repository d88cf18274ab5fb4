"""The case's checklist and the clinic's checklist steps. Each view reads its case through
`get_case_for_user` (another clinic's case is a 404), calls one service and answers: htmx
requests with the checklist alone, everything else with a redirect back to the case."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from clearplan.accounts.access import manager_required, staff_required
from clearplan.pipeline import checklist, task_services
from clearplan.pipeline.checklist_forms import StepForm, TaskForm, assignee_value
from clearplan.pipeline.checklist_selectors import task_of_case
from clearplan.pipeline.models import CaseTask
from clearplan.pipeline.templatetags.pipeline_checklist import checklist_context
from clearplan.plans.forms import attach_errors, submit_form
from clearplan.plans.models import Case
from clearplan.plans.selectors import get_case_for_user
from clearplan.plans.views import audit_case_view


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _case_url(case: Case) -> str:
    return reverse("plans:detail", args=[case.public_id]) + "#checklist"


def _checklist(
    request: HttpRequest, case: Case, *, said: str = "", add_form: TaskForm | None = None, status: int = 200
) -> HttpResponse:
    context = checklist_context(case, request=request, add_form=add_form)
    context["said"] = said
    return render(request, "pipeline/checklist/_checklist_update.html", context, status=status)


def _answer(request: HttpRequest, case: Case, said: str, *, problem: bool = False) -> HttpResponse:
    if _is_htmx(request):
        return _checklist(request, case, said=said)
    (messages.error if problem else messages.success)(request, said)
    return redirect(_case_url(case))


@require_POST
@staff_required
def task_done(request: HttpRequest, case_id: uuid.UUID, task_id: uuid.UUID) -> HttpResponse:
    case = get_case_for_user(request, case_id)
    task = task_of_case(case, task_id)
    done = request.POST.get("done") == "1"
    try:
        task = task_services.task_set_done(task=task, done=done, by=request.user, request=request)
    except ValidationError as error:
        return _answer(request, case, " ".join(error.messages), problem=True)
    return _answer(request, case, f"“{task.title}” {'done' if done else 'not done yet'}.")


@require_POST
@staff_required
def task_add(request: HttpRequest, case_id: uuid.UUID) -> HttpResponse:
    case = get_case_for_user(request, case_id)
    form = TaskForm(request.POST, clinic=case.clinic, prefix="new-task")
    task = submit_form(
        form,
        lambda: task_services.task_add(
            case=case,
            title=form.cleaned_data["title"],
            due_on=form.cleaned_data["due_on"],
            assignee=form.chosen_assignee(),
            by=request.user,
            request=request,
        ),
    )
    if task is not None:
        return _answer(request, case, f"Task added: “{task.title}”.")
    if _is_htmx(request):
        # 200 so htmx swaps the checklist in and the messages show at their fields.
        return _checklist(request, case, add_form=form, said="The task was not added: see the form.")
    audit_case_view(request, case)
    return render(
        request,
        "pipeline/checklist/task_form.html",
        {"case": case, "patient": case.patient, "form": form, "task": None},
        status=400,
    )


@require_http_methods(["GET", "POST"])
@staff_required
def task_edit(request: HttpRequest, case_id: uuid.UUID, task_id: uuid.UUID) -> HttpResponse:
    case = get_case_for_user(request, case_id)
    task = task_of_case(case, task_id)
    with_title = task.kind == CaseTask.Kind.OTHER
    if request.method == "POST":
        form = TaskForm(request.POST, clinic=case.clinic, with_title=with_title)
        submit_form(
            form,
            lambda: task_services.task_update(
                task=task,
                assignee=form.chosen_assignee(),
                due_on=form.cleaned_data["due_on"],
                title=form.cleaned_data.get("title"),
                by=request.user,
                request=request,
            ),
        )
        if not form.errors:
            messages.success(request, f"“{task.title}” saved.")
            return redirect(_case_url(case))
    else:
        audit_case_view(request, case)
        initial = {"title": task.title, "assignee": assignee_value(task), "due_on": task.due_on}
        form = TaskForm(initial=initial, clinic=case.clinic, with_title=with_title)
    context = {"case": case, "patient": case.patient, "form": form, "task": task}
    return render(request, "pipeline/checklist/task_form.html", context, status=400 if form.errors else 200)


@require_POST
@staff_required
def task_remove(request: HttpRequest, case_id: uuid.UUID, task_id: uuid.UUID) -> HttpResponse:
    case = get_case_for_user(request, case_id)
    task = task_of_case(case, task_id)
    try:
        task_services.task_remove(task=task, by=request.user, request=request)
    except ValidationError as error:
        return _answer(request, case, " ".join(error.messages), problem=True)
    return _answer(request, case, f"Task removed: “{task.title}”.")


@require_POST
@staff_required
def checklist_start(request: HttpRequest, case_id: uuid.UUID) -> HttpResponse:
    case = get_case_for_user(request, case_id)
    added = task_services.checklist_start(case=case, by=request.user, request=request)
    said = "Checklist started." if added else "This case already has every step that is switched on."
    return _answer(request, case, said)


# ---------- The clinic's checklist steps (managers) ----------


def _step_forms(request: HttpRequest) -> list[StepForm]:
    rows = checklist.workflow_steps_for(request.clinic)
    data = request.POST if request.method == "POST" else None
    forms = []
    for row in rows:
        step = checklist.STEPS_BY_KEY[row.key]
        initial = {"enabled": row.enabled, "role": row.role, "due_after_days": row.due_after_days}
        form = StepForm(data, initial=initial, step=step)
        form.row = row  # type: ignore[attr-defined]
        forms.append(form)
    return forms


def _parse_move(value: str) -> tuple[str, str] | None:
    key, _, direction = value.partition(":")
    return (key, direction) if key and direction else None


@require_http_methods(["GET", "POST"])
@manager_required
def workflow_steps(request: HttpRequest) -> HttpResponse:
    forms = _step_forms(request)
    focus = request.GET.get("moved", "")
    if request.method == "POST":
        move = _parse_move(request.POST.get("move", ""))
        valid = [form.is_valid() for form in forms]  # every form checked, so every message shows
        if all(valid):
            changes = [
                task_services.StepSettings(
                    key=form.step.key,
                    enabled=form.cleaned_data["enabled"],
                    role=form.cleaned_data["role"],
                    due_after_days=form.cleaned_data.get("due_after_days"),
                )
                for form in forms
            ]
            try:
                task_services.workflow_steps_save(
                    clinic=request.clinic, changes=changes, by=request.user, move=move, request=request
                )
            except task_services.StepSettingsError as error:
                for form in forms:
                    for field, message in error.by_step.get(form.step.key, {}).items():
                        form.add_error(field if field in form.fields else None, message)
            except ValidationError as error:
                attach_errors(forms[0], error)
            else:
                url = reverse("pipeline:workflow_steps")
                if move is not None:
                    # No #fragment: a page opened at a fragment ignores autofocus, which puts the
                    # keyboard back on the button just pressed (and scrolls to it).
                    return redirect(f"{url}?moved={move[0]}:{move[1]}")
                messages.success(request, "Checklist saved. New cases follow it; open cases keep the tasks they have.")
                return redirect(url)
    problems = [form for form in forms if form.errors]
    focus_key, _, focus_direction = focus.partition(":")
    context = {"forms": forms, "problems": problems, "focus_key": focus_key, "focus_direction": focus_direction}
    return render(request, "pipeline/checklist/workflow_steps.html", context, status=400 if problems else 200)
