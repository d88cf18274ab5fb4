"""The case page's checklist (`{% case_checklist case %}`) and its full timeline
(`{% case_timeline case %}`), so the case page needs no pipeline code in its view."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import template

from clearplan.pipeline.checklist_selectors import case_checklist as read_checklist

if TYPE_CHECKING:
    from django.http import HttpRequest

    from clearplan.pipeline.checklist_forms import TaskForm
    from clearplan.plans.models import Case

register = template.Library()


def checklist_context(case: Case, *, request: HttpRequest | None, add_form: TaskForm | None = None) -> dict[str, Any]:
    """What `pipeline/checklist/_checklist_body.html` draws: the case, its tasks and the add form."""
    from clearplan.pipeline.checklist_forms import TaskForm

    if add_form is None:
        add_form = TaskForm(clinic=case.clinic, prefix="new-task", initial={"assignee": "role:"})
    return {
        "case": case,
        "checklist": read_checklist(case),
        "add_form": add_form,
        "request": request,
    }


@register.inclusion_tag("pipeline/checklist/_case_checklist.html", takes_context=True)
def case_checklist(context: template.Context, case: Case) -> dict[str, Any]:
    return {
        **checklist_context(case, request=context.get("request")),
        "csrf_token": context.get("csrf_token"),
    }


@register.inclusion_tag("pipeline/checklist/_case_timeline.html")
def case_timeline(case: Case) -> dict[str, Any]:
    from clearplan.pipeline.timeline import case_full_timeline

    return {"case": case, "timeline": case_full_timeline(case)}
