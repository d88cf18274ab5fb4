"""The stage machine, tried with many random sequences of moves (hypothesis): no illegal move is
ever accepted, by hand or automatically; an automatic move happens once per event however often
the event is replayed; a move from an out-of-date page is refused; a refused move changes nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clearplan.lib.clinic_time import clinic_now
from clearplan.pipeline.models import CaseProgress, MoveCause, NotProceedingReason, Stage, StageMove
from clearplan.pipeline.stages import (
    ALLOWED_MOVES,
    NOT_BY_HAND,
    can_move,
    moves_by_hand,
    stage_move,
    stage_move_automatically,
)
from clearplan.pipeline.tests.board_fixtures import make_case

STAGES = list(Stage.values)


# ---------- The table itself ----------


@given(st.sampled_from(STAGES), st.sampled_from(STAGES))
def test_a_move_is_allowed_only_when_the_table_says_so(from_stage, to_stage):
    assert can_move(from_stage, to_stage) == (to_stage in ALLOWED_MOVES[from_stage])
    assert not can_move(from_stage, from_stage)


@given(st.sampled_from(STAGES))
def test_a_person_is_offered_only_allowed_moves_never_sent_or_booked(stage):
    offered = moves_by_hand(stage)
    assert set(offered) <= ALLOWED_MOVES[stage]
    assert not set(offered) & NOT_BY_HAND
    assert len(offered) == len(set(offered))


def test_every_open_case_can_leave_its_stage_somehow():
    for stage in STAGES:
        assert ALLOWED_MOVES[stage], stage


# ---------- Sequences of moves against the database ----------


@dataclass(frozen=True)
class ByHand:
    to_stage: str
    page_age: int  # 0: the page is up to date; otherwise how many moves behind (or ahead) it is
    reason: str
    look_again: str  # "none", "past", "today", "future"


@dataclass(frozen=True)
class Automatic:
    to_stage: str
    event: str
    only_from: frozenset[str] | None


by_hand = st.builds(
    ByHand,
    to_stage=st.sampled_from([*STAGES, "nowhere"]),
    page_age=st.sampled_from([0, 0, 0, 1, -1]),
    reason=st.sampled_from(["", "cost", "timing", "not-a-reason"]),
    look_again=st.sampled_from(["none", "past", "today", "future"]),
)
automatic = st.builds(
    Automatic,
    to_stage=st.sampled_from(STAGES),
    event=st.sampled_from(["pack_send:1", "pack_send:2", "response:1", "booking:1", "booking_cancelled:1"]),
    only_from=st.one_of(st.none(), st.frozensets(st.sampled_from(STAGES), min_size=1)),
)


class Rollback(Exception):
    """Ends an example, undoing everything it wrote."""


@pytest.fixture
def case(clinic, dentist, coordinator):
    return make_case(clinic=clinic, dentist=dentist, coordinator=coordinator, stage=Stage.NOT_SENT)


def _look_again(kind: str, today: dt.date) -> dt.date | None:
    return {
        "none": None,
        "past": today - dt.timedelta(days=1),
        "today": today,
        "future": today + dt.timedelta(days=30),
    }[kind]


def _by_hand_should_pass(action: ByHand, stage: str, today: dt.date) -> bool:
    if action.page_age != 0 or action.to_stage not in Stage.values or action.to_stage == stage:
        return False
    if action.to_stage in NOT_BY_HAND or not can_move(stage, action.to_stage):
        return False
    if action.to_stage == Stage.NOT_PROCEEDING:
        when = _look_again(action.look_again, today)
        return action.reason in NotProceedingReason.values and (when is None or when > today)
    return True


def _check_history(case) -> None:
    """Whatever happened: every recorded move is allowed, people never made the moves only events
    make, and the revision counts the moves."""
    progress = CaseProgress.objects.get(case=case)
    moves = list(StageMove.objects.filter(case=case).order_by("created_at", "id"))
    assert progress.revision == len(moves)
    stage = Stage.NOT_SENT
    for move in moves:
        assert move.from_stage == stage
        assert can_move(move.from_stage, move.to_stage), move
        if move.cause == MoveCause.BY_HAND:
            assert move.to_stage not in NOT_BY_HAND
            assert move.moved_by_id is not None
        else:
            assert move.event_key
        if move.to_stage == Stage.NOT_PROCEEDING:
            assert move.not_proceeding_reason in NotProceedingReason.values
        stage = move.to_stage
    assert progress.stage == stage
    assert (progress.stage == Stage.NOT_PROCEEDING) == bool(progress.not_proceeding_reason)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(actions=st.lists(st.one_of(by_hand, automatic), min_size=1, max_size=14))
def test_no_sequence_of_moves_breaks_the_rules(case, coordinator, actions):
    try:
        with transaction.atomic():
            today = clinic_now(case.clinic).date()
            used_events: set[str] = set()
            for action in actions:
                before = CaseProgress.objects.get(case=case)
                moves_before = StageMove.objects.filter(case=case).count()
                if isinstance(action, ByHand):
                    expected = _by_hand_should_pass(action, before.stage, today)
                    try:
                        stage_move(
                            case=case,
                            to_stage=action.to_stage,
                            by=coordinator,
                            revision=before.revision + action.page_age,
                            reason=action.reason,
                            look_again_on=_look_again(action.look_again, today),
                        )
                    except ValidationError:
                        assert not expected, (action, before.stage)
                        after = CaseProgress.objects.get(case=case)
                        assert (after.stage, after.revision) == (before.stage, before.revision)
                        assert StageMove.objects.filter(case=case).count() == moves_before
                    else:
                        assert expected, (action, before.stage)
                        assert CaseProgress.objects.get(case=case).stage == action.to_stage
                else:
                    expected = (
                        action.event not in used_events
                        and before.stage != action.to_stage
                        and (action.only_from is None or before.stage in action.only_from)
                        and can_move(before.stage, action.to_stage)
                    )
                    arguments = {
                        "case": case,
                        "to_stage": action.to_stage,
                        "cause": MoveCause.PACK_SENT,
                        "event_key": action.event,
                        "only_from": action.only_from,
                    }
                    move = stage_move_automatically(**arguments)
                    assert (move is not None) == expected, (action, before.stage)
                    if move is not None:
                        used_events.add(action.event)
                    # Replaying the same event changes nothing, whatever happened the first time.
                    assert stage_move_automatically(**arguments) is None
                _check_history(case)
            raise Rollback
    except Rollback:
        pass


def test_the_same_event_moves_a_case_once_however_often_it_is_replayed(case):
    first = stage_move_automatically(case=case, to_stage=Stage.SENT, cause=MoveCause.PACK_SENT, event_key="pack_send:a")
    assert first is not None
    for _ in range(3):
        assert (
            stage_move_automatically(case=case, to_stage=Stage.SENT, cause=MoveCause.PACK_SENT, event_key="pack_send:a")
            is None
        )
    assert StageMove.objects.filter(event_key="pack_send:a").count() == 1
    assert CaseProgress.objects.get(case=case).revision == 1


def test_a_move_from_an_out_of_date_page_is_refused_and_says_where_the_case_is(case, coordinator):
    stage_move_automatically(case=case, to_stage=Stage.SENT, cause=MoveCause.PACK_SENT, event_key="pack_send:b")
    with pytest.raises(ValidationError) as refused:
        stage_move(case=case, to_stage=Stage.FOLLOW_UP, by=coordinator, revision=0)
    assert refused.value.message_dict["revision"] == ["This case was moved meanwhile; it is now in “Sent”."]
    assert CaseProgress.objects.get(case=case).stage == Stage.SENT


def test_not_proceeding_gets_the_clinics_look_again_date_when_none_is_given(case, coordinator):
    move = stage_move(case=case, to_stage=Stage.NOT_PROCEEDING, by=coordinator, reason="timing")
    assert move.look_again_on == clinic_now(case.clinic).date() + dt.timedelta(days=90)
    assert CaseProgress.objects.get(case=case).look_again_on == move.look_again_on
