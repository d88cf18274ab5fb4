"""Where each case stands and what happens next.

- `CaseProgress`: one row per case holding its stage, since when, and what stops automatic
  follow-up. The board and Today read it; only `stages.stage_move` writes the stage.
- `StageMove`: the history of every move, by a person (with their reason) or by Clearplan
  (with the event that caused it, whose key makes an automatic move happen once).
- `FollowUpSettings` and `FollowUpRule`: each clinic's calm follow-up rules;
  `FollowUpRun` is the ledger that makes the worker apply each rule to a case once.
- `WorkflowStep` and `CaseTask`: the clinic's planning checklist and each case's tasks.
- `Booking`: appointments recorded for a case, with their confirmation and reminder.
- `DigestChoice` and `DigestSent`: who gets which email digest, and which were sent.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class Stage(models.TextChoices):
    NOT_SENT = "not_sent", "Not yet sent"
    SENT = "sent", "Sent"
    FOLLOW_UP = "follow_up", "Follow-up required"
    REQUESTED = "requested", "Requested to proceed"
    BOOKED = "booked", "Booked"
    NOT_PROCEEDING = "not_proceeding", "Not proceeding for now"
    COMPLETED = "completed", "Completed"


# The board's columns, in order. Completed cases leave the board (the list still finds them).
BOARD_STAGES: tuple[str, ...] = (
    Stage.NOT_SENT,
    Stage.SENT,
    Stage.FOLLOW_UP,
    Stage.REQUESTED,
    Stage.BOOKED,
    Stage.NOT_PROCEEDING,
)
OPEN_STAGES: tuple[str, ...] = BOARD_STAGES


class NotProceedingReason(models.TextChoices):
    # The same values as the patient's own "Not right now" reasons (packs.PatientResponse).
    COST = "cost", "Cost"
    TIMING = "timing", "Timing"
    WORRY = "worry", "Worried about the treatment"
    SECOND_OPINION = "second_opinion", "Wants a second opinion"
    INSURANCE = "insurance", "Waiting on insurance or health fund"
    OTHER = "other", "Other"


class CaseProgress(models.Model):
    case = models.OneToOneField("plans.Case", on_delete=models.CASCADE, primary_key=True, related_name="progress")
    # The case's clinic again, so the board's query is served by one index.
    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.PROTECT, related_name="+")
    stage = models.CharField(max_length=20, choices=Stage.choices, default=Stage.NOT_SENT)
    stage_since = models.DateTimeField(default=timezone.now)
    last_activity_at = models.DateTimeField(default=timezone.now)
    not_proceeding_reason = models.CharField(max_length=20, choices=NotProceedingReason.choices, blank=True)
    look_again_on = models.DateField(null=True, blank=True, help_text="When a case not proceeding comes back.")
    # Any reply, decline, booking or opt-out stops automatic follow-up until a person restarts it.
    follow_ups_stopped_at = models.DateTimeField(null=True, blank=True)
    follow_ups_stopped_because = models.CharField(max_length=120, blank=True)
    automatic_contacts = models.PositiveSmallIntegerField(default=0)
    # Bumped by every move: a move made from a stale page (an old `revision`) is refused.
    revision = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [
            models.Index(fields=["clinic", "stage", "-stage_since"], name="progress_by_clinic_stage"),
            models.Index(
                fields=["look_again_on"],
                condition=Q(stage="not_proceeding", look_again_on__isnull=False),
                name="progress_look_again_due",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(stage="not_proceeding") | ~Q(not_proceeding_reason=""),
                name="progress_not_proceeding_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return self.get_stage_display()


class MoveCause(models.TextChoices):
    BY_HAND = "by_hand", "Moved by a team member"
    PACK_SENT = "pack_sent", "The pack was sent"
    SEND_CANCELLED = "send_cancelled", "The scheduled send was cancelled"
    PATIENT_PROCEED = "patient_proceed", "The patient asked to proceed"
    PATIENT_NOT_NOW = "patient_not_now", "The patient said not right now"
    BOOKED = "booked", "An appointment was booked"
    BOOKING_CANCELLED = "booking_cancelled", "The appointment was cancelled"
    FOLLOW_UP_RULE = "follow_up_rule", "A follow-up rule"
    LOOK_AGAIN = "look_again", "The date to look again arrived"


class StageMove(models.Model):
    case = models.ForeignKey("plans.Case", on_delete=models.CASCADE, related_name="stage_moves")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    from_stage = models.CharField(max_length=20, choices=Stage.choices)
    to_stage = models.CharField(max_length=20, choices=Stage.choices)
    cause = models.CharField(max_length=20, choices=MoveCause.choices)
    # Empty when Clearplan moved the case by itself.
    moved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    note = models.CharField(max_length=300, blank=True, help_text="Why, in the team member's words.")
    not_proceeding_reason = models.CharField(max_length=20, choices=NotProceedingReason.choices, blank=True)
    look_again_on = models.DateField(null=True, blank=True)
    # What caused an automatic move, e.g. "pack_send:<uuid>": the same event never moves a case twice.
    event_key = models.CharField(max_length=100, unique=True, null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["case", "-created_at"], name="stage_move_by_case_newest")]

    def __str__(self) -> str:
        return f"{self.get_from_stage_display()} → {self.get_to_stage_display()}"


def _default_business_days() -> str:
    return "12345"


class FollowUpSettings(models.Model):
    """A clinic's limits on automatic contact; a clinic without a row uses these defaults."""

    clinic = models.OneToOneField("accounts.Clinic", on_delete=models.CASCADE, related_name="follow_up_settings")
    automatic_follow_up = models.BooleanField(default=True)
    max_automatic_contacts = models.PositiveSmallIntegerField(default=2)
    # Messages go out only on business days between these times, in the clinic's time zone.
    contact_from = models.TimeField(default=dt.time(9, 0))
    contact_until = models.TimeField(default=dt.time(18, 0))
    business_days = models.CharField(
        max_length=7, default=_default_business_days, help_text="ISO weekdays, Monday = 1, e.g. 12345."
    )
    look_again_after_days = models.PositiveSmallIntegerField(
        default=90, help_text="The suggested date to look again when a case is not proceeding for now."
    )
    reminder_hours_before = models.PositiveSmallIntegerField(
        default=48, help_text="How long before an appointment the patient's reminder goes."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(contact_from__lt=models.F("contact_until")), name="follow_up_window"),
        ]

    def __str__(self) -> str:
        return f"Follow-up settings for {self.clinic}"


class RuleKind(models.TextChoices):
    NOT_OPENED = "not_opened", "Not opened"
    VIEWED_NO_RESPONSE = "viewed_no_response", "Viewed, no response"
    NO_RESPONSE_MESSAGE = "no_response_message", "Still no response"
    LOOK_AGAIN = "look_again", "Not proceeding for now: check in"


class FollowUpRule(models.Model):
    """One of a clinic's follow-up rules. What each kind does is fixed (see followup.py);
    the clinic chooses whether it runs, after how many business days, and the words."""

    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.CASCADE, related_name="follow_up_rules")
    kind = models.CharField(max_length=30, choices=RuleKind.choices)
    enabled = models.BooleanField(default=True)
    after_business_days = models.PositiveSmallIntegerField(default=1)
    sms_text = models.TextField(blank=True)
    email_subject = models.CharField(max_length=200, blank=True)
    email_text = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["clinic", "kind"], name="follow_up_rule_one_per_kind")]

    def __str__(self) -> str:
        return self.get_kind_display()


class FollowUpRun(models.Model):
    """Proof that a rule was applied to a case for one occasion (`anchor`: what started the
    wait, such as the send or the stage's start). The unique key is what lets the worker
    restart, or two workers overlap, without anything happening twice."""

    class Outcome(models.TextChoices):
        MESSAGED = "messaged", "Message sent"
        TASK = "task", "Task created"
        MOVED = "moved", "Case moved"
        SKIPPED = "skipped", "Skipped"

    case = models.ForeignKey("plans.Case", on_delete=models.CASCADE, related_name="follow_up_runs")
    kind = models.CharField(max_length=30, choices=RuleKind.choices)
    anchor = models.CharField(max_length=100)
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    detail = models.CharField(max_length=200, blank=True, help_text="Why it was skipped, or what was done.")
    message = models.ForeignKey(
        "messaging.OutboundMessage", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["case", "kind", "anchor"], name="follow_up_run_once"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.get_outcome_display()}"


class WorkflowStep(models.Model):
    """One step of a clinic's planning checklist (the seed's named steps, see checklist.py)."""

    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.CASCADE, related_name="workflow_steps")
    key = models.CharField(max_length=50)
    title = models.CharField(max_length=120)
    enabled = models.BooleanField(default=True)
    position = models.PositiveSmallIntegerField(default=0)
    # Membership.Role value of who does it; blank: the case's treatment coordinator.
    role = models.CharField(max_length=20, blank=True)
    due_after_days = models.PositiveSmallIntegerField(
        default=0, help_text="Days after the treatment conversation the step is due."
    )

    class Meta:
        ordering = ["position", "pk"]
        constraints = [models.UniqueConstraint(fields=["clinic", "key"], name="workflow_step_once_per_clinic")]

    def __str__(self) -> str:
        return self.title


class CaseTask(models.Model):
    class Kind(models.TextChoices):
        CHECKLIST = "checklist", "Checklist step"
        FOLLOW_UP = "follow_up", "Follow-up"
        OTHER = "other", "Task"

    case = models.ForeignKey("plans.Case", on_delete=models.CASCADE, related_name="tasks")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.OTHER)
    step_key = models.CharField(max_length=50, blank=True, help_text="The workflow step, for checklist tasks.")
    title = models.CharField(max_length=200)
    position = models.PositiveSmallIntegerField(default=0)
    role = models.CharField(max_length=20, blank=True)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="case_tasks", null=True, blank=True
    )
    due_on = models.DateField(null=True, blank=True)
    # Steps Clearplan performs itself (pack sent, signed, booked...) complete on their own.
    automatic = models.BooleanField(default=False)
    done_at = models.DateTimeField(null=True, blank=True)
    # Empty on a done task: Clearplan completed it.
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )

    class Meta:
        ordering = ["position", "created_at", "pk"]
        indexes = [
            models.Index(
                fields=["assigned_to", "due_on"], condition=Q(done_at__isnull=True), name="task_open_by_person_due"
            ),
            models.Index(fields=["case", "position"], name="task_by_case"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "step_key"], condition=~Q(step_key=""), name="task_one_per_step_per_case"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_done(self) -> bool:
        return self.done_at is not None


class Booking(models.Model):
    class Status(models.TextChoices):
        BOOKED = "booked", "Booked"
        CANCELLED = "cancelled", "Cancelled"

    case = models.ForeignKey("plans.Case", on_delete=models.PROTECT, related_name="bookings")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    starts_at = models.DateTimeField()
    duration_minutes = models.PositiveSmallIntegerField(default=60)
    practitioner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="bookings")
    lines = models.ManyToManyField("plans.PlanLine", blank=True, related_name="bookings")
    note = models.CharField(max_length=300, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.BOOKED)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    cancel_reason = models.CharField(max_length=300, blank=True)
    # The patient's "confirm" link: only the SHA-256 of its random token is kept.
    confirm_token_sha256 = models.CharField(max_length=64, unique=True, null=True, blank=True)
    patient_confirmed_at = models.DateTimeField(null=True, blank=True)
    confirmation_sent_at = models.DateTimeField(null=True, blank=True)
    reminder_sent_at = models.DateTimeField(null=True, blank=True)
    # The calendar file's SEQUENCE: raised by each change so calendars update the same event.
    sequence = models.PositiveSmallIntegerField(default=0)
    submission_key = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["starts_at"]
        indexes = [
            models.Index(fields=["case", "starts_at"], name="booking_by_case"),
            models.Index(
                fields=["starts_at"],
                condition=Q(status="booked", reminder_sent_at__isnull=True),
                name="booking_reminder_due",
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(duration_minutes__gte=5), name="booking_at_least_five_minutes"),
        ]

    def __str__(self) -> str:
        return f"Appointment on {self.starts_at:%d %b %Y %H:%M}"

    @property
    def ends_at(self) -> dt.datetime:
        return self.starts_at + dt.timedelta(minutes=self.duration_minutes)


class DigestKind(models.TextChoices):
    PRACTICE = "practice", "Practice digest"
    MY_PATIENTS = "my_patients", "My patients"


class DigestFrequency(models.TextChoices):
    DAILY = "daily", "Daily"
    WEEKLY = "weekly", "Weekly (Monday)"
    NEVER = "never", "Don’t send"


class DigestChoice(models.Model):
    """A staff member's choice for one digest; no row means the default for their role."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="digest_choices")
    kind = models.CharField(max_length=20, choices=DigestKind.choices)
    frequency = models.CharField(max_length=10, choices=DigestFrequency.choices)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "kind"], name="digest_choice_one_per_kind")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.get_frequency_display()}"


class DigestSent(models.Model):
    """One digest emailed to one person for one clinic and period: sent once, whatever restarts."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20, choices=DigestKind.choices)
    period_start = models.DateField()
    frequency = models.CharField(max_length=10, choices=DigestFrequency.choices)
    message = models.ForeignKey(
        "messaging.OutboundMessage", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "clinic", "kind", "period_start"], name="digest_sent_once_per_period"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for {self.period_start}"
