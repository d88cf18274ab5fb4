"""The planning checklist: each clinic's workflow steps, and each case's tasks.

The steps are the planning workflow's named steps (PRODUCT.md, "The planning workflow"), in
words a receptionist uses. A clinic switches them on or off, orders them, says who does each
and in how many days; its `WorkflowStep` rows are made with the defaults below the first time
they are needed. A new case gets one `CaseTask` per step switched on. Steps Clearplan performs
itself are ticked by Clearplan (`step_done_automatically`) when the thing happens, and cannot
be ticked or unticked by hand; the others are ticked by people (see task_services).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db.models import Exists, OuterRef
from django.utils import timezone

from clearplan.pipeline.models import CaseTask, WorkflowStep

if TYPE_CHECKING:
    from collections.abc import Iterable

    from clearplan.accounts.models import Clinic
    from clearplan.plans.models import Case

# Who does a step: a Membership.Role value, or blank for the case's own treatment coordinator.
CASE_COORDINATOR = ""
PRACTITIONER = "practitioner"
COORDINATOR = "coordinator"
FRONT_DESK = "front_desk"
MANAGER = "manager"

# Words for each choice of who does a step, in the order the settings page offers them.
# "Practitioner" on a case means the case's own dentist.
ROLE_CHOICES: tuple[tuple[str, str], ...] = (
    (CASE_COORDINATOR, "The case’s treatment coordinator"),
    (PRACTITIONER, "The case’s dentist"),
    (COORDINATOR, "Any treatment coordinator"),
    (FRONT_DESK, "Front desk"),
    (MANAGER, "Practice manager"),
)
ROLE_LABELS: dict[str, str] = dict(ROLE_CHOICES)

# Keys of the steps Clearplan performs itself.
PATIENT_RECORD = "retrieve_patient_profile"
IMAGES = "retrieve_imaging_records"
PLAN_READY = "generate_plan_for_review"
SEND_PACK = "send_draft_plan"
FINALISE_AND_SIGN = "finalise_and_sign"
PROPOSAL_REPORT = "generate_proposal_report"
EDUCATION_LOGGED = "log_education_material"
SCHEDULE_TREATMENT = "send_appointment_confirmation"

MAX_DUE_AFTER_DAYS = 365


@dataclass(frozen=True)
class StepDefinition:
    key: str
    title: str
    # One line for the settings page: what the step is for, or when Clearplan ticks it.
    explanation: str
    role: str
    due_after_days: int
    enabled: bool
    # When Clearplan ticks it, in words ("when the pack is sent"); empty: people tick it.
    done_by_clearplan_when: str = ""
    # Steps that wait on the patient or on treatment have no due date: they would only ever look late.
    has_due_date: bool = True

    @property
    def automatic(self) -> bool:
        return bool(self.done_by_clearplan_when)


# The seed's steps in its order. On by default: the few a practice needs from day one.
WORKFLOW_STEPS: tuple[StepDefinition, ...] = (
    StepDefinition(
        PATIENT_RECORD,
        "Open the case on the patient’s record",
        "Clearplan keeps every case on the patient’s record, so this is done as soon as the case exists.",
        CASE_COORDINATOR,
        0,
        False,
        done_by_clearplan_when="when the case is made",
    ),
    StepDefinition(
        IMAGES,
        "Add the X-rays and photos",
        "The images that explain the plan to the patient.",
        CASE_COORDINATOR,
        0,
        True,
        done_by_clearplan_when="when the first image is added to the case",
    ),
    StepDefinition(
        "schedule_preliminary_consultation",
        "Book the first consultation",
        "For patients who have not yet had their examination.",
        FRONT_DESK,
        0,
        False,
    ),
    StepDefinition(
        "document_treatment_options",
        "Write up the treatment options",
        "The dentist records the options discussed with the patient.",
        PRACTITIONER,
        0,
        False,
    ),
    StepDefinition(
        "estimate_preliminary_costing",
        "Check the fees in the plan",
        "Fees come from the fee schedule; check any that were changed for this patient.",
        CASE_COORDINATOR,
        1,
        False,
    ),
    StepDefinition(
        "update_risk_assessment",
        "Update the risk assessment",
        "Caries and gum disease risk, medical alerts and anything that changes the plan.",
        PRACTITIONER,
        0,
        False,
    ),
    StepDefinition(
        PLAN_READY,
        "Check the plan and mark it ready to send",
        "The dentist or coordinator reviews the plan before it goes to the patient.",
        CASE_COORDINATOR,
        1,
        False,
        done_by_clearplan_when="when the case is marked “Ready to send”",
    ),
    StepDefinition(
        "fetch_insurance_coverage",
        "Check the patient’s health fund or insurance cover",
        "So the pack can show what the fund or insurer is likely to pay.",
        FRONT_DESK,
        1,
        True,
    ),
    StepDefinition(
        SEND_PACK,
        "Send the treatment pack",
        "Within one business day of the conversation.",
        CASE_COORDINATOR,
        1,
        True,
        done_by_clearplan_when="when the pack is sent",
    ),
    StepDefinition(
        "schedule_discussion_appointment",
        "Book a time to go through the plan",
        "A call or visit to talk the options through with the patient.",
        FRONT_DESK,
        3,
        False,
    ),
    StepDefinition(
        FINALISE_AND_SIGN,
        "Patient signs the treatment consent",
        "The patient signs from their pack, on their own phone or computer.",
        CASE_COORDINATOR,
        0,
        True,
        done_by_clearplan_when="when the patient signs",
        has_due_date=False,
    ),
    StepDefinition(
        "update_financial_estimates",
        "Update the cost estimate",
        "After the health fund or insurer answers, or the plan changes.",
        CASE_COORDINATOR,
        7,
        False,
    ),
    StepDefinition(
        "notify_staff_of_scope",
        "Tell the hygienist and team what is planned",
        "So everyone who sees the patient knows the plan.",
        PRACTITIONER,
        1,
        False,
    ),
    StepDefinition(
        PROPOSAL_REPORT,
        "Prepare the full written proposal",
        "The treatment pack is the full proposal: options, costs, images and consent.",
        CASE_COORDINATOR,
        1,
        False,
        done_by_clearplan_when="when the pack is sent",
    ),
    StepDefinition(
        "calculate_copay",
        "Work out what the patient pays",
        "The patient’s share after their health fund or insurance.",
        FRONT_DESK,
        1,
        False,
    ),
    StepDefinition(
        SCHEDULE_TREATMENT,
        "Book the treatment and send the confirmation",
        "Clearplan sends the confirmation and the reminder with a calendar file.",
        FRONT_DESK,
        0,
        True,
        done_by_clearplan_when="when an appointment is booked",
        has_due_date=False,
    ),
    StepDefinition(
        "check_preauthorisation",
        "Check the pre-approval from the health fund or insurer",
        "For treatment that needs approval before it starts.",
        FRONT_DESK,
        7,
        False,
    ),
    StepDefinition(
        "review_necessity_checklist",
        "Check each treatment has a reason",
        "Every planned treatment is linked to something the dentist found.",
        PRACTITIONER,
        0,
        False,
    ),
    StepDefinition(
        EDUCATION_LOGGED,
        "Record the information given to the patient",
        "The pack’s explanations and aftercare are kept with the case.",
        CASE_COORDINATOR,
        1,
        False,
        done_by_clearplan_when="when the pack is sent",
    ),
    StepDefinition(
        "send_post_treatment_care",
        "Send aftercare instructions after treatment",
        "What to expect and how to look after the treated teeth.",
        CASE_COORDINATOR,
        0,
        False,
        has_due_date=False,
    ),
    StepDefinition(
        "determine_priority_sequence",
        "Decide the order of treatment",
        "Urgent care first, then disease control, then restorative and elective treatment.",
        PRACTITIONER,
        0,
        False,
    ),
)

STEPS_BY_KEY: dict[str, StepDefinition] = {step.key: step for step in WORKFLOW_STEPS}

# One event completes several steps: sending the pack also delivers the proposal and the
# education material it contains.
COMPLETED_TOGETHER: dict[str, tuple[str, ...]] = {
    SEND_PACK: (SEND_PACK, PROPOSAL_REPORT, EDUCATION_LOGGED),
}


def definition_of(key: str) -> StepDefinition | None:
    return STEPS_BY_KEY.get(key)


def role_label(role: str) -> str:
    return ROLE_LABELS.get(role, role.replace("_", " ").capitalize())


# ---------- The clinic's steps ----------


def _default_row(clinic: Clinic, step: StepDefinition, position: int) -> WorkflowStep:
    return WorkflowStep(
        clinic=clinic,
        key=step.key,
        title=step.title,
        enabled=step.enabled,
        position=position,
        role=step.role,
        due_after_days=step.due_after_days,
    )


def workflow_steps_for(clinic: Clinic) -> list[WorkflowStep]:
    """The clinic's steps in its order, made with the defaults the first time (and for any step
    added to Clearplan since): one query when they exist."""
    rows = list(WorkflowStep.objects.filter(clinic=clinic).order_by("position", "pk"))
    have = {row.key for row in rows}
    missing = [step for step in WORKFLOW_STEPS if step.key not in have]
    if missing:
        start = max((row.position for row in rows), default=-1) + 1
        WorkflowStep.objects.bulk_create(
            [_default_row(clinic, step, start + index) for index, step in enumerate(missing)],
            ignore_conflicts=True,
        )
        rows = list(WorkflowStep.objects.filter(clinic=clinic).order_by("position", "pk"))
    return [row for row in rows if row.key in STEPS_BY_KEY]


# ---------- Each case's tasks ----------


def due_date(case: Case, row: WorkflowStep) -> dt.date | None:
    step = STEPS_BY_KEY[row.key]
    if not step.has_due_date:
        return None
    return case.conversation_date + dt.timedelta(days=row.due_after_days)


def _already_done(case: Case, keys: Iterable[str]) -> set[str]:
    """Which of the automatic steps `keys` are already true for the case (one query, or none)."""
    from clearplan.packs.models import ConsentSignature, PackSend
    from clearplan.pipeline.models import Booking
    from clearplan.plans.models import Case as CaseModel
    from clearplan.plans.models import CaseImage

    keys = set(keys)
    done: set[str] = set()
    if PATIENT_RECORD in keys:
        done.add(PATIENT_RECORD)
    if PLAN_READY in keys and case.ready_at is not None:
        done.add(PLAN_READY)
    facts = {
        IMAGES: Exists(CaseImage.objects.filter(case=OuterRef("pk"))),
        SEND_PACK: Exists(PackSend.objects.filter(case=OuterRef("pk")).exclude(status=PackSend.Status.CANCELLED)),
        FINALISE_AND_SIGN: Exists(ConsentSignature.objects.filter(case=OuterRef("pk"))),
        SCHEDULE_TREATMENT: Exists(Booking.objects.filter(case=OuterRef("pk"), status=Booking.Status.BOOKED)),
    }
    facts[PROPOSAL_REPORT] = facts[EDUCATION_LOGGED] = facts[SEND_PACK]
    wanted = {key: fact for key, fact in facts.items() if key in keys}
    if wanted:
        found = CaseModel.objects.filter(pk=case.pk).values(**wanted).first() or {}
        done.update(key for key, value in found.items() if value)
    return done


def tasks_create_for(*, case: Case) -> None:
    """Give a case its checklist from the clinic's steps switched on. Steps Clearplan performs
    that are already true are done at once. A few queries; running it again adds only what is
    missing (a step switched on since)."""
    rows = [row for row in workflow_steps_for(case.clinic) if row.enabled]
    if not rows:
        return
    automatic = [row.key for row in rows if STEPS_BY_KEY[row.key].automatic]
    already = _already_done(case, automatic) if automatic else set()
    now = timezone.now()
    CaseTask.objects.bulk_create(
        [
            CaseTask(
                case=case,
                kind=CaseTask.Kind.CHECKLIST,
                step_key=row.key,
                title=row.title,
                position=row.position,
                role=row.role,
                due_on=due_date(case, row),
                automatic=STEPS_BY_KEY[row.key].automatic,
                done_at=now if row.key in already else None,
                created_at=now,
            )
            for row in rows
        ],
        ignore_conflicts=True,
    )


def _completed_keys(key: str) -> tuple[str, ...]:
    return COMPLETED_TOGETHER.get(key, (key,))


def step_done_automatically(*, case: Case, key: str, at: dt.datetime | None = None) -> int:
    """Mark the case's task for workflow step `key` (and the steps done with it) done by
    Clearplan, if the case has it and it is not done yet. Returns how many were ticked."""
    return step_done_automatically_for(case_id=case.pk, key=key, at=at)


def step_done_automatically_for(*, case_id: int, key: str, at: dt.datetime | None = None) -> int:
    return CaseTask.objects.filter(
        case_id=case_id, step_key__in=_completed_keys(key), automatic=True, done_at__isnull=True
    ).update(done_at=at or timezone.now(), done_by=None)


def step_reopened_automatically_for(*, case_id: int, key: str) -> int:
    """Undo Clearplan's own tick (e.g. the only appointment was cancelled). Returns how many."""
    return CaseTask.objects.filter(
        case_id=case_id, step_key__in=_completed_keys(key), automatic=True, done_at__isnull=False, done_by=None
    ).update(done_at=None)
