"""The demo practice's pipeline: cases in every stage, each stage following from what the patient
did with their pack, every move recorded, and work on each demo login's Today. One shared load."""

from collections import Counter

import pytest
from django.utils import timezone

from clearplan.demo.packs import demo_link_token, demo_patient_link
from clearplan.demo.practice import STAFF
from clearplan.demo.tests.test_demo_cases import (  # noqa: F401  (the shared load and its settings)
    _demo_installation,
    _shared_media,
    demo,
    demo_media,
    demo_organisation,
    load,
)
from clearplan.messaging.models import OutboundMessage
from clearplan.packs.links import token_digest
from clearplan.packs.models import ConsentSignature, PackLink, PackSend, PatientResponse
from clearplan.patients.models import clinic_today
from clearplan.pipeline.models import (
    BOARD_STAGES,
    Booking,
    CaseProgress,
    CaseTask,
    FollowUpRun,
    MoveCause,
    Stage,
    StageMove,
)
from clearplan.pipeline.stages import can_move

S = Stage


@pytest.fixture
def progress(demo_organisation):  # noqa: F811
    return list(
        CaseProgress.objects.filter(clinic__organisation=demo_organisation).select_related(
            "case__clinic", "case__patient"
        )
    )


def by_stage(progress):
    found = {}
    for row in progress:
        found.setdefault(row.stage, []).append(row)
    return found


def test_every_clinic_has_cases_in_every_stage_of_the_board_and_a_few_completed(demo_organisation, progress):  # noqa: F811
    for clinic in demo_organisation.clinics.all():
        stages = Counter(row.stage for row in progress if row.clinic_id == clinic.pk)
        assert set(BOARD_STAGES) <= set(stages), (clinic.name, stages)
    completed = [row for row in progress if row.stage == S.COMPLETED]
    assert 2 <= len(completed) <= 8


def test_sent_cases_are_both_viewed_and_not_yet_viewed(progress):
    sent = [row.case_id for row in by_stage(progress)[S.SENT]]
    opened = set(
        PackLink.objects.filter(case_id__in=sent, first_opened_at__isnull=False).values_list("case_id", flat=True)
    )
    assert opened, "some sent cases were viewed"
    assert set(sent) - opened, "some sent cases were not viewed yet"


def test_each_stage_follows_from_the_history_of_moves(progress):
    moves = {}
    for move in StageMove.objects.filter(case_id__in=[row.case_id for row in progress]).order_by("created_at", "id"):
        moves.setdefault(move.case_id, []).append(move)
    for row in progress:
        history = moves.get(row.case_id, [])
        stage = S.NOT_SENT
        for move in history:
            assert move.from_stage == stage, (row.case_id, [str(m) for m in history])
            assert can_move(move.from_stage, move.to_stage), str(move)
            if move.cause == MoveCause.BY_HAND:
                assert move.moved_by_id is not None
                assert move.event_key is None
            else:
                assert move.moved_by_id is None
                assert move.event_key
            stage = move.to_stage
        assert row.stage == stage
        if history:
            assert row.stage_since == history[-1].created_at
            assert row.revision == len(history)
            assert history[-1].created_at <= timezone.now()


def test_sending_asking_and_signing_match_the_stage(progress):
    sent = set(PackSend.objects.values_list("case_id", flat=True))
    asked = set(PatientResponse.objects.filter(kind="proceed").values_list("case_id", flat=True))
    signed = set(ConsentSignature.objects.values_list("case_id", flat=True))
    not_now = set(PatientResponse.objects.filter(kind="not_now").values_list("case_id", flat=True))
    for row in progress:
        assert (row.stage != S.NOT_SENT) == (row.case_id in sent), row.case_id
        if row.case_id in asked or row.case_id in signed:
            assert row.stage in (S.REQUESTED, S.BOOKED, S.COMPLETED)
            assert row.follow_ups_stopped_at is not None
        if row.stage in (S.REQUESTED, S.BOOKED, S.COMPLETED):
            assert row.case_id in asked
        if row.case_id in not_now:
            assert row.stage == S.NOT_PROCEEDING


def test_booked_cases_have_an_upcoming_appointment_some_confirmed_and_one_was_cancelled(progress):
    now = timezone.now()
    booked = by_stage(progress)[S.BOOKED]
    assert len(booked) >= 4
    for row in booked:
        upcoming = Booking.objects.filter(case_id=row.case_id, status="booked", starts_at__gt=now)
        assert upcoming.exists(), row.case_id
        assert upcoming.first().practitioner_id == row.case.dentist_id
    for row in by_stage(progress)[S.COMPLETED]:
        assert Booking.objects.filter(case_id=row.case_id, status="booked", starts_at__lt=now).exists()
    bookings = Booking.objects.filter(case__clinic__organisation=booked[0].case.clinic.organisation_id)
    assert bookings.filter(patient_confirmed_at__isnull=False, starts_at__gt=now).exists()
    assert bookings.filter(patient_confirmed_at__isnull=True, status="booked", starts_at__gt=now).exists()
    [cancelled] = bookings.filter(status="cancelled")
    assert cancelled.cancel_reason
    causes = list(
        StageMove.objects.filter(case_id=cancelled.case_id).order_by("created_at").values_list("cause", flat=True)
    )
    assert causes[-3:] == [MoveCause.BOOKED, MoveCause.BOOKING_CANCELLED, MoveCause.BOOKED]
    assert not Booking.objects.filter(case__progress__stage__in=[S.NOT_SENT, S.SENT], status="booked").exists()


def test_not_proceeding_cases_have_a_reason_and_a_date_to_look_again(progress):
    rows = by_stage(progress)[S.NOT_PROCEEDING]
    assert len(rows) >= 3
    for row in rows:
        assert row.not_proceeding_reason
        assert row.look_again_on is not None
        assert row.look_again_on > clinic_today(row.case.clinic)
    causes = set(StageMove.objects.filter(to_stage=S.NOT_PROCEEDING).values_list("cause", flat=True))
    assert causes == {MoveCause.PATIENT_NOT_NOW, MoveCause.BY_HAND}


def test_follow_up_cases_have_tasks_rule_runs_and_one_calm_message_waits_for_the_worker(progress):
    follow_ups = by_stage(progress)[S.FOLLOW_UP]
    assert len(follow_ups) >= 4
    for row in follow_ups:
        assert CaseTask.objects.filter(case_id=row.case_id, kind="follow_up").exists(), row.case_id
    assert CaseTask.objects.filter(case_id__in=[r.case_id for r in follow_ups], kind="follow_up", done_at=None).exists()
    moved_by_rule = StageMove.objects.filter(cause=MoveCause.FOLLOW_UP_RULE)
    assert moved_by_rule.exists()
    for move in moved_by_rule:
        run = FollowUpRun.objects.get(case_id=move.case_id, kind="viewed_no_response")
        assert move.event_key == f"follow_up:{move.case.public_id}:{run.anchor}"
    [queued] = OutboundMessage.objects.filter(purpose="follow_up", status="queued")
    run = FollowUpRun.objects.get(message=queued)
    assert (run.kind, run.outcome) == ("no_response_message", "messaged")
    assert queued.sender_id is not None
    assert "/p/" in queued.body
    assert FollowUpRun.objects.filter(kind="not_opened", outcome="messaged").exists()


def test_no_rule_would_act_twice_on_a_case(progress):
    runs = Counter(FollowUpRun.objects.values_list("case_id", "kind", "anchor"))
    assert runs
    assert max(runs.values()) == 1
    for row in progress:
        contacts = FollowUpRun.objects.filter(case_id=row.case_id, outcome="messaged").count()
        assert row.automatic_contacts == contacts


def test_the_printed_patient_link_case_stays_sent_and_unopened(demo_organisation):  # noqa: F811
    assert demo_patient_link() is not None
    case = PackLink.objects.get(token_sha256=token_digest(demo_link_token())).case
    assert case.progress.stage == S.SENT
    assert not case.pack_links.filter(first_opened_at__isnull=False).exists()


def test_every_demo_login_with_a_clinic_role_has_work_on_today(demo_organisation):  # noqa: F811
    team = {user.email: user for user in demo_organisation.staff.all()}
    for plan in STAFF:
        if plan.organisation_admin:
            continue
        user = team[plan.email]
        open_tasks = CaseTask.objects.filter(assigned_to=user, done_at=None)
        assert open_tasks.exists(), plan.email
    chloe = team["chloe@harbourhills.example"]
    assert CaseProgress.objects.filter(case__coordinator=chloe, stage=S.REQUESTED).exists()


def test_loading_again_adds_nothing_to_the_pipeline(demo, db):  # noqa: F811
    before = (StageMove.objects.count(), Booking.objects.count(), CaseTask.objects.count(), FollowUpRun.objects.count())
    load()
    after = (StageMove.objects.count(), Booking.objects.count(), CaseTask.objects.count(), FollowUpRun.objects.count())
    assert before == after
