"""Cases move through the pipeline by themselves when something real happens, once per event."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from clearplan.lib.clinic_time import clinic_now
from clearplan.packs import sending
from clearplan.packs.responses import response_record
from clearplan.packs.tests.test_responses import key, link, option_id, session, start_session, version  # noqa: F401
from clearplan.packs.tests.test_signing import sign
from clearplan.pipeline import events
from clearplan.pipeline.models import CaseProgress, MoveCause, Stage, StageMove
from clearplan.pipeline.stages import progress_for

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _messages_wait_in_the_queue(settings):
    # The messages are written but not delivered: these tests are about the case's stage.
    settings.SMS_BACKEND = "clearplan.messaging.sms.OutboxBackend"
    settings.PUBLIC_BASE_URL = "https://clearplan.example.com"


def send(case, by, *, submission_key="send-1", **overrides):
    words = sending.message_texts(case, by)
    arguments = {
        "case": case,
        "by": by,
        "by_sms": True,
        "by_email": False,
        "sms_text": words["sms_text"],
        "email_subject": words["email_subject"],
        "email_text": words["email_text"],
        "submission_key": submission_key,
    }
    return sending.pack_send(**{**arguments, **overrides})


def stage_of(case) -> str:
    return CaseProgress.objects.get(case=case).stage


def test_a_new_case_starts_not_yet_sent(sendable_case):
    progress = CaseProgress.objects.get(case=sendable_case)
    assert progress.stage == Stage.NOT_SENT
    assert progress.clinic_id == sendable_case.clinic_id
    assert not sendable_case.stage_moves.exists()


def test_sending_the_pack_moves_the_case_to_sent_once(sendable_case, coordinator):
    pack_send = send(sendable_case, coordinator)
    assert stage_of(sendable_case) == Stage.SENT
    move = sendable_case.stage_moves.get()
    assert (move.from_stage, move.to_stage, move.cause, move.moved_by) == (
        Stage.NOT_SENT,
        Stage.SENT,
        MoveCause.PACK_SENT,
        None,
    )
    # The same event told again, and a second send of a new link, move nothing.
    events.pack_sent(send=pack_send)
    send(sendable_case, coordinator, submission_key="send-2")
    assert sendable_case.stage_moves.count() == 1
    assert stage_of(sendable_case) == Stage.SENT


def test_a_scheduled_send_called_off_puts_the_case_back_to_not_yet_sent(sendable_case, coordinator):
    later = timezone.now() + dt.timedelta(days=1)
    pack_send = send(sendable_case, coordinator, send_at=later)
    assert stage_of(sendable_case) == Stage.SENT
    sending.pack_send_cancel(send=pack_send, by=coordinator)
    assert stage_of(sendable_case) == Stage.NOT_SENT
    assert list(sendable_case.stage_moves.order_by("created_at", "id").values_list("cause", flat=True)) == [
        MoveCause.PACK_SENT,
        MoveCause.SEND_CANCELLED,
    ]


def test_i_would_like_to_proceed_moves_the_case_and_stops_follow_up(sendable_case, coordinator, session, version):  # noqa: F811
    send(sendable_case, coordinator)
    response = response_record(
        session=session,
        version=version,
        kind="proceed",
        option_public_id=option_id(version, "Option A: crown"),
        submission_key=key(),
    )
    progress = progress_for(sendable_case)
    assert progress.stage == Stage.REQUESTED
    assert progress.follow_ups_stopped_at is not None
    assert progress.follow_ups_stopped_because == "The patient asked to proceed"
    move = StageMove.objects.get(event_key=f"pack_response:{response.public_id}")
    assert move.note == "Option A: crown"
    events.patient_responded(response=response)
    assert sendable_case.stage_moves.filter(to_stage=Stage.REQUESTED).count() == 1


def test_not_right_now_keeps_the_patients_reason_and_a_date_to_look_again(
    sendable_case,
    coordinator,
    session,  # noqa: F811
    version,  # noqa: F811
):
    send(sendable_case, coordinator)
    response_record(session=session, version=version, kind="not_now", reason="cost", submission_key=key())
    progress = progress_for(sendable_case)
    assert progress.stage == Stage.NOT_PROCEEDING
    assert progress.not_proceeding_reason == "cost"
    # The default look-again date is 90 days away in the clinic's calendar.
    assert progress.look_again_on == clinic_now(sendable_case.clinic).date() + dt.timedelta(days=90)
    assert progress.follow_ups_stopped_because == "The patient said not right now"


def test_a_question_stops_automatic_follow_up_without_moving_the_case(
    sendable_case,
    coordinator,
    session,  # noqa: F811
    version,  # noqa: F811
):
    send(sendable_case, coordinator)
    response_record(session=session, version=version, kind="question", message="Will it hurt?", submission_key=key())
    progress = progress_for(sendable_case)
    assert progress.stage == Stage.SENT
    assert progress.follow_ups_stopped_because == "The patient asked a question"


def test_signing_moves_a_sent_case_to_requested_to_proceed(sendable_case, coordinator, session, version):  # noqa: F811
    send(sendable_case, coordinator)
    sign(session, version)
    assert stage_of(sendable_case) == Stage.REQUESTED
    assert sendable_case.stage_moves.filter(to_stage=Stage.REQUESTED).count() == 1


def test_a_patient_who_proceeds_after_not_now_comes_back_to_requested(sendable_case, coordinator, link, version):  # noqa: F811
    send(sendable_case, coordinator)
    first = start_session(link)
    response_record(session=first, version=version, kind="not_now", reason="timing", submission_key=key())
    assert stage_of(sendable_case) == Stage.NOT_PROCEEDING
    response_record(
        session=first,
        version=version,
        kind="proceed",
        option_public_id=option_id(version, "Option A: crown"),
        submission_key=key(),
    )
    progress = progress_for(sendable_case)
    assert progress.stage == Stage.REQUESTED
    assert progress.not_proceeding_reason == ""
    assert progress.look_again_on is None
