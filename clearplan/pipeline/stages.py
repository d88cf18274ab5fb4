"""The stage machine: which moves are allowed, and the one service that makes them.

Every move goes through `stage_move` (by a person) or `stage_move_automatically` (by an
event such as a send, a patient's reply or a booking). Both check the move against
`ALLOWED_MOVES`, record a `StageMove` and bump the case's `revision`; an automatic move is
keyed by its event so the same event never moves a case twice, however often it is replayed.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from clearplan.audit.models import AuditEvent
from clearplan.audit.services import audit_record
from clearplan.pipeline.models import CaseProgress, MoveCause, NotProceedingReason, Stage, StageMove
from clearplan.plans.services import CASE_RECORD_TYPE

if TYPE_CHECKING:
    from django.http import HttpRequest

    from clearplan.accounts.models import Clinic, User
    from clearplan.plans.models import Case

S = Stage

ALLOWED_MOVES: dict[str, frozenset[str]] = {
    S.NOT_SENT: frozenset({S.SENT, S.BOOKED, S.NOT_PROCEEDING}),
    # Back to "Not yet sent" only when a scheduled send is called off before it goes.
    S.SENT: frozenset({S.NOT_SENT, S.FOLLOW_UP, S.REQUESTED, S.BOOKED, S.NOT_PROCEEDING}),
    S.FOLLOW_UP: frozenset({S.SENT, S.REQUESTED, S.BOOKED, S.NOT_PROCEEDING}),
    S.REQUESTED: frozenset({S.FOLLOW_UP, S.BOOKED, S.NOT_PROCEEDING}),
    S.BOOKED: frozenset({S.FOLLOW_UP, S.COMPLETED, S.NOT_PROCEEDING}),
    S.NOT_PROCEEDING: frozenset({S.FOLLOW_UP, S.REQUESTED, S.BOOKED}),
    # A case completed by mistake can be put back in the book.
    S.COMPLETED: frozenset({S.BOOKED}),
}

# Moves a person may not make by hand, because they follow from something real happening:
# "Sent" needs a pack sent, "Booked" needs an appointment (recorded on the case).
NOT_BY_HAND: frozenset[str] = frozenset({S.NOT_SENT, S.SENT, S.BOOKED})


HOW_TO_REACH: dict[str, str] = {
    S.NOT_SENT: "A sent pack can’t be unsent. Send a new link, or move the case on.",
    S.SENT: "Send the pack from the case to move it to “Sent”.",
    S.BOOKED: "Record the appointment on the case to move it to “Booked”.",
}


def audit_case_change(
    *, case: Case, changes: dict[str, Any], by: User | None = None, request: HttpRequest | None = None
) -> None:
    """One audit row for a change to the case's place in the pipeline (its stage, its coordinator…);
    without `by`, Clearplan made it."""
    audit_record(
        action=AuditEvent.Action.UPDATE,
        request=request,
        actor=by,
        clinic=case.clinic,
        obj=case,
        object_type=CASE_RECORD_TYPE,
        changes=changes,
    )


def reached_otherwise(from_stage: str) -> list[str]:
    """What moves a case in `from_stage` to Sent or Booked, where it could go next but not by hand
    ("Not yet sent" is never a next step worth explaining)."""
    return [HOW_TO_REACH[target] for target in (S.SENT, S.BOOKED) if can_move(from_stage, target)]


def can_move(from_stage: str, to_stage: str) -> bool:
    return to_stage in ALLOWED_MOVES.get(from_stage, frozenset())


def moves_by_hand(from_stage: str) -> list[str]:
    """The stages a person can move a case to from `from_stage`, in board order."""
    allowed = ALLOWED_MOVES.get(from_stage, frozenset()) - NOT_BY_HAND
    return [stage for stage in Stage.values if stage in allowed]


def progress_for(case: Case) -> CaseProgress:
    """The case's progress row, made if missing (cases made before the pipeline existed)."""
    progress, _ = CaseProgress.objects.get_or_create(case=case, defaults={"clinic_id": case.clinic_id})
    return progress


def progress_start(case: Case) -> CaseProgress:
    return progress_for(case)


def _locked_progress(case: Case) -> CaseProgress:
    progress_for(case)
    return CaseProgress.objects.select_for_update().get(case=case)


def look_again_suggested(clinic: Clinic) -> dt.date:
    """The date offered to look at a case again when it is not proceeding for now: today in the
    clinic plus its follow-up settings' `look_again_after_days`."""
    from clearplan.lib.clinic_time import clinic_now
    from clearplan.pipeline.followup import settings_for

    return clinic_now(clinic).date() + dt.timedelta(days=settings_for(clinic).look_again_after_days)


def _stage_words(move: StageMove) -> list[str | None]:
    return [Stage(move.from_stage).label, Stage(move.to_stage).label]


def _check_not_proceeding(reason: str, look_again_on: dt.date | None, *, today: dt.date) -> None:
    errors: dict[str, str] = {}
    if reason not in NotProceedingReason.values:
        errors["reason"] = "Choose why the patient is not going ahead for now."
    if look_again_on is not None and look_again_on <= today:
        errors["look_again_on"] = "Choose a date after today to look at this case again."
    if errors:
        raise ValidationError(errors)


def _apply(
    progress: CaseProgress,
    *,
    to_stage: str,
    cause: str,
    by: User | None,
    note: str,
    reason: str,
    look_again_on: dt.date | None,
    event_key: str | None,
    at: dt.datetime,
) -> StageMove:
    from_stage = progress.stage
    move = StageMove.objects.create(
        case_id=progress.case_id,
        from_stage=from_stage,
        to_stage=to_stage,
        cause=cause,
        moved_by=by,
        note=note,
        not_proceeding_reason=reason if to_stage == S.NOT_PROCEEDING else "",
        look_again_on=look_again_on if to_stage == S.NOT_PROCEEDING else None,
        event_key=event_key,
        created_at=at,
    )
    progress.stage = to_stage
    progress.stage_since = at
    progress.last_activity_at = at
    progress.revision += 1
    if to_stage == S.NOT_PROCEEDING:
        progress.not_proceeding_reason = reason
        progress.look_again_on = look_again_on
    else:
        progress.not_proceeding_reason = ""
        progress.look_again_on = None
    progress.save(
        update_fields=[
            "stage",
            "stage_since",
            "last_activity_at",
            "revision",
            "not_proceeding_reason",
            "look_again_on",
        ]
    )
    return move


def stage_move(
    *,
    case: Case,
    to_stage: str,
    by: User,
    revision: int | None = None,
    note: str = "",
    reason: str = "",
    look_again_on: dt.date | None = None,
    request: HttpRequest | None = None,
) -> StageMove:
    """A team member moves the case. Raises ValidationError (by field: "to_stage", "reason",
    "look_again_on", "revision") with nothing saved when the move is not allowed, lacks its
    reason, or was made from a page older than the case's last move."""
    from clearplan.lib.clinic_time import clinic_now

    note = (note or "").strip()
    if len(note) > 300:
        raise ValidationError({"note": "Keep the note under 300 characters."})
    with transaction.atomic():
        progress = _locked_progress(case)
        if revision is not None and revision != progress.revision:
            raise ValidationError(
                {"revision": f"This case was moved meanwhile; it is now in “{progress.get_stage_display()}”."}
            )
        if to_stage not in Stage.values:
            raise ValidationError({"to_stage": "Choose a stage."})
        if to_stage == progress.stage:
            raise ValidationError({"to_stage": f"The case is already in “{progress.get_stage_display()}”."})
        if to_stage in NOT_BY_HAND:
            raise ValidationError({"to_stage": HOW_TO_REACH[to_stage]})
        if not can_move(progress.stage, to_stage):
            raise ValidationError(
                {"to_stage": f"A case in “{progress.get_stage_display()}” can’t move to “{Stage(to_stage).label}”."}
            )
        if to_stage == S.NOT_PROCEEDING:
            _check_not_proceeding(reason, look_again_on, today=clinic_now(case.clinic).date())
            if look_again_on is None:
                look_again_on = look_again_suggested(case.clinic)
        move = _apply(
            progress,
            to_stage=to_stage,
            cause=MoveCause.BY_HAND,
            by=by,
            note=note,
            reason=reason,
            look_again_on=look_again_on,
            event_key=None,
            at=timezone.now(),
        )
        changes: dict[str, list[str | None]] = {"stage": _stage_words(move)}
        if note:
            changes["note"] = [None, note]
        if move.not_proceeding_reason:
            changes["reason"] = [None, NotProceedingReason(move.not_proceeding_reason).label]
            changes["look again on"] = [None, str(move.look_again_on)]
        audit_case_change(case=case, changes=changes, by=by, request=request)
    return move


def stage_move_automatically(
    *,
    case: Case,
    to_stage: str,
    cause: str,
    event_key: str,
    only_from: frozenset[str] | None = None,
    reason: str = "",
    look_again_on: dt.date | None = None,
    note: str = "",
    at: dt.datetime | None = None,
) -> StageMove | None:
    """Clearplan moves the case because of an event. Returns None, changing nothing, when the
    event already moved it, when the case is already there, when the case is in a stage the
    event does not move it from (`only_from`), or when the move is not allowed."""
    if StageMove.objects.filter(event_key=event_key).exists():
        return None
    try:
        with transaction.atomic():
            progress = _locked_progress(case)
            if progress.stage == to_stage:
                return None
            if only_from is not None and progress.stage not in only_from:
                return None
            if not can_move(progress.stage, to_stage):
                return None
            if to_stage == S.NOT_PROCEEDING and reason not in NotProceedingReason.values:
                reason = NotProceedingReason.OTHER
            move = _apply(
                progress,
                to_stage=to_stage,
                cause=cause,
                by=None,
                note=note[:300],
                reason=reason,
                look_again_on=look_again_on,
                event_key=event_key,
                at=at or timezone.now(),
            )
            audit_case_change(
                case=case, changes={"stage": _stage_words(move), "because": [None, MoveCause(cause).label]}
            )
            return move
    except IntegrityError:
        # The same event replayed at the same moment by another process: its move stands.
        if StageMove.objects.filter(event_key=event_key).exists():
            return None
        raise


def follow_ups_stop(*, case: Case, because: str, at: dt.datetime | None = None) -> None:
    """Stop automatic follow-up for the case (a reply, a decline, a booking or an opt-out)."""
    progress = progress_for(case)
    CaseProgress.objects.filter(pk=progress.pk, follow_ups_stopped_at__isnull=True).update(
        follow_ups_stopped_at=at or timezone.now(), follow_ups_stopped_because=because[:120]
    )


def follow_ups_restart(*, case: Case) -> None:
    CaseProgress.objects.filter(case=case).update(
        follow_ups_stopped_at=None, follow_ups_stopped_because="", automatic_contacts=0
    )


def activity_touch(*, case: Case, at: dt.datetime | None = None) -> None:
    """Record that something happened on the case (shown as 'last activity' on the board)."""
    moment = at or timezone.now()
    progress_for(case)
    CaseProgress.objects.filter(case=case, last_activity_at__lt=moment).update(last_activity_at=moment)
