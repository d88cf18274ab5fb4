"""The case page's "Where this case stands" panel: the stage, how long it has been there, who
moved it and why, the Move menu, reassigning, and the history of moves."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import template

from clearplan.lib.clinic_time import clinic_now, clinic_zone
from clearplan.pipeline.models import NotProceedingReason, Stage, StageMove
from clearplan.pipeline.stages import look_again_suggested, moves_by_hand, progress_for, reached_otherwise

if TYPE_CHECKING:
    from django.http import HttpRequest

    from clearplan.pipeline.board_forms import MoveForm
    from clearplan.plans.models import Case

register = template.Library()

HISTORY_SHOWN = 50

STAGE_BADGES: dict[str, str] = {
    Stage.NOT_SENT: "",
    Stage.SENT: "badge--info",
    Stage.FOLLOW_UP: "badge--warning",
    Stage.REQUESTED: "badge--success",
    Stage.BOOKED: "badge--brand",
    Stage.NOT_PROCEEDING: "",
    Stage.COMPLETED: "badge--success",
}


@register.filter
def stage_badge(stage: str) -> str:
    """The badge colour class of a stage."""
    return STAGE_BADGES.get(stage, "")


@register.filter
def stage_label(stage: str) -> str:
    return Stage(stage).label if stage in Stage.values else ""


@register.filter(name="reached_otherwise")
def reached_otherwise_filter(stage: str) -> list[str]:
    """What moves a case in `stage` to Sent or Booked, where it could go next."""
    return reached_otherwise(stage)


def stage_panel_context(
    case: Case, *, request: HttpRequest | None, move_form: MoveForm | None = None
) -> dict[str, Any]:
    """Everything the panel shows, in four queries (progress, moves, follow-up settings, team)."""
    from clearplan.pipeline.board_forms import MoveForm, ReassignForm
    from clearplan.pipeline.selectors import days_label

    progress = progress_for(case)
    moves = list(StageMove.objects.filter(case=case).select_related("moved_by")[:HISTORY_SHOWN])
    allowed = moves_by_hand(progress.stage)
    zone = clinic_zone(case.clinic)
    days = max(0, (clinic_now(case.clinic).date() - progress.stage_since.astimezone(zone).date()).days)
    if move_form is None:
        move_form = MoveForm(
            prefix_id="stage",
            initial={
                "case": case.public_id,
                "revision": progress.revision,
                "look_again_on": look_again_suggested(case.clinic),
            },
        )
    reassign_form = ReassignForm(
        clinic=case.clinic,
        initial={"to": str(case.coordinator.public_id) if case.coordinator_id and case.coordinator else ""},
    )
    return {
        "case": case,
        "clinic": case.clinic,
        "progress": progress,
        "stage_badge": STAGE_BADGES.get(progress.stage, ""),
        "days_in_stage": days_label(days),
        "last_move": moves[0] if moves else None,
        "moves": moves,
        "simple_moves": [(stage, Stage(stage).label) for stage in allowed if stage != Stage.NOT_PROCEEDING],
        "can_not_proceed": Stage.NOT_PROCEEDING in allowed,
        "not_proceeding_label": Stage.NOT_PROCEEDING.label,
        "reasons": NotProceedingReason,
        # Stages the case could go to next that only something real can move it to.
        "reached_otherwise": reached_otherwise(progress.stage),
        "move_form": move_form,
        "move_form_open": bool(move_form.is_bound and move_form.errors),
        "reassign_form": reassign_form,
        "request": request,
        "case_url_next": request.get_full_path() if request is not None else "",
    }


@register.inclusion_tag("pipeline/board/_case_stage.html", takes_context=True)
def case_stage_panel(context: template.Context, case: Any) -> dict[str, Any]:
    request = context.get("request")
    return {**stage_panel_context(case, request=request), "csrf_token": context.get("csrf_token")}
