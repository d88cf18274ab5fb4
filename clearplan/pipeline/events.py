"""What other parts of Clearplan tell the pipeline, and what it does about it.

Each function is called inside the caller's transaction, so a send, a reply or a booking and
the move it causes are saved together or not at all. Every automatic move is keyed by its
event (see stages.stage_move_automatically), so replaying an event changes nothing.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from clearplan.pipeline import checklist
from clearplan.pipeline.models import MoveCause, Stage
from clearplan.pipeline.stages import activity_touch, follow_ups_stop, stage_move_automatically

if TYPE_CHECKING:
    from clearplan.packs.models import ConsentSignature, PackSend, PatientResponse
    from clearplan.pipeline.models import Booking
    from clearplan.plans.models import Case

S = Stage


def pack_sent(*, send: PackSend) -> None:
    """The pack went (or is scheduled to go) to the patient: a case not yet sent becomes Sent."""
    case = send.case
    stage_move_automatically(
        case=case,
        to_stage=S.SENT,
        cause=MoveCause.PACK_SENT,
        event_key=f"pack_send:{send.public_id}",
        only_from=frozenset({S.NOT_SENT}),
    )
    checklist.step_done_automatically(case=case, key=checklist.SEND_PACK)
    activity_touch(case=case)


def pack_send_cancelled(*, send: PackSend) -> None:
    """A scheduled send called off before it went: with no other send, the case is not sent after all."""
    case = send.case
    if case.pack_sends.exclude(pk=send.pk).exclude(status="cancelled").exists():
        return
    stage_move_automatically(
        case=case,
        to_stage=S.NOT_SENT,
        cause=MoveCause.SEND_CANCELLED,
        event_key=f"pack_send_cancelled:{send.public_id}",
        only_from=frozenset({S.SENT}),
    )


def look_again_date(case: Case) -> dt.date:
    from clearplan.lib.clinic_time import clinic_now
    from clearplan.pipeline.followup import settings_for

    days = settings_for(case.clinic).look_again_after_days
    return clinic_now(case.clinic).date() + dt.timedelta(days=days)


def patient_responded(*, response: PatientResponse) -> None:
    """Any reply stops automatic follow-up; "I'd like to proceed" and "Not right now" also move the case."""
    case = response.case
    kind = response.kind
    if kind == "proceed":
        stage_move_automatically(
            case=case,
            to_stage=S.REQUESTED,
            cause=MoveCause.PATIENT_PROCEED,
            event_key=f"pack_response:{response.public_id}",
            only_from=frozenset({S.NOT_SENT, S.SENT, S.FOLLOW_UP, S.NOT_PROCEEDING}),
            note=response.option_title,
        )
        follow_ups_stop(case=case, because="The patient asked to proceed")
    elif kind == "not_now":
        stage_move_automatically(
            case=case,
            to_stage=S.NOT_PROCEEDING,
            cause=MoveCause.PATIENT_NOT_NOW,
            event_key=f"pack_response:{response.public_id}",
            only_from=frozenset({S.SENT, S.FOLLOW_UP, S.REQUESTED}),
            reason=response.reason or "other",
            look_again_on=look_again_date(case),
        )
        follow_ups_stop(case=case, because="The patient said not right now")
    else:
        follow_ups_stop(case=case, because="The patient asked a question")
    activity_touch(case=case)


def patient_signed(*, signature: ConsentSignature) -> None:
    case = signature.case
    stage_move_automatically(
        case=case,
        to_stage=S.REQUESTED,
        cause=MoveCause.PATIENT_PROCEED,
        event_key=f"signature:{signature.public_id}",
        only_from=frozenset({S.SENT, S.FOLLOW_UP, S.NOT_PROCEEDING}),
        note=signature.option_title,
    )
    follow_ups_stop(case=case, because="The patient signed")
    checklist.step_done_automatically(case=case, key=checklist.FINALISE_AND_SIGN)
    activity_touch(case=case)


def patient_replied(*, case: Case, because: str = "The patient replied") -> None:
    """A message from the patient on any channel (Conversations) stops automatic follow-up."""
    follow_ups_stop(case=case, because=because)
    activity_touch(case=case)


def patient_opted_out(*, case: Case) -> None:
    follow_ups_stop(case=case, because="The patient asked not to be contacted")


def booking_made(*, booking: Booking) -> None:
    case = booking.case
    stage_move_automatically(
        case=case,
        to_stage=S.BOOKED,
        cause=MoveCause.BOOKED,
        event_key=f"booking:{booking.public_id}",
        only_from=frozenset({S.NOT_SENT, S.SENT, S.FOLLOW_UP, S.REQUESTED, S.NOT_PROCEEDING}),
        at=booking.created_at,
    )
    follow_ups_stop(case=case, because="An appointment was booked")
    checklist.step_done_automatically(case=case, key=checklist.SCHEDULE_TREATMENT)
    activity_touch(case=case)


def booking_cancelled(*, booking: Booking) -> None:
    """Cancelling the case's last booked appointment puts it back into follow-up."""
    case = booking.case
    if case.bookings.filter(status="booked").exclude(pk=booking.pk).exists():
        activity_touch(case=case)
        return
    stage_move_automatically(
        case=case,
        to_stage=S.FOLLOW_UP,
        cause=MoveCause.BOOKING_CANCELLED,
        event_key=f"booking_cancelled:{booking.public_id}",
        only_from=frozenset({S.BOOKED}),
    )
    activity_touch(case=case)
