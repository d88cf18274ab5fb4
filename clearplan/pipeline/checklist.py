"""The planning checklist: each clinic's workflow steps, and each case's tasks."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from clearplan.plans.models import Case

# Keys of the steps Clearplan performs itself (see WORKFLOW_STEPS).
SEND_PACK = "send_draft_plan"
FINALISE_AND_SIGN = "finalise_and_sign"
SCHEDULE_TREATMENT = "send_appointment_confirmation"


def tasks_create_for(*, case: Case) -> None:
    """Give a new case its checklist from the clinic's workflow steps."""


def step_done_automatically(*, case: Case, key: str) -> None:
    """Mark the case's task for workflow step `key` done by Clearplan, if the case has it."""
