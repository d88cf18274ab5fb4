"""The Pipeline board: columns with counts and values, cards, filters from the address, moves
with and without htmx (and what happens when they are refused), who may see what, and the audit."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from clearplan.accounts.models import Membership
from clearplan.accounts.tests.factories import staff_member
from clearplan.audit.models import AuditEvent
from clearplan.catalog.models import PackTemplate
from clearplan.pipeline.models import BOARD_STAGES, CaseProgress, CaseTask, Stage, StageMove
from clearplan.pipeline.selectors import CARDS_PER_COLUMN
from clearplan.pipeline.stages import stage_move
from clearplan.pipeline.tests.board_fixtures import add_engagement, make_case

pytestmark = pytest.mark.django_db

BOARD = "/pipeline/"
MOVE = "/pipeline/move/"
HTMX = {"HX-Request": "true"}


@pytest.fixture
def cases(clinic, dentist, coordinator):
    """One case in each stage, worth 1,000 more at each stage; the completed one leaves the board."""
    return {
        stage: make_case(
            clinic=clinic,
            dentist=dentist,
            coordinator=coordinator,
            stage=stage,
            value=f"{1000 * (position + 1)}.00",
            first_name="Pat",
            last_name=f"{stage.title().replace('_', '')}",
        )
        for position, stage in enumerate(Stage.values)
    }


def columns(response):
    return {column.stage: column for column in response.context["board"].columns}


def names(column):
    return [card.patient.full_name for card in column.cards]


def move(client, case, to_stage, *, htmx=True, **fields):
    progress = CaseProgress.objects.get(case=case)
    data = {
        "case": str(case.public_id),
        "revision": progress.revision,
        "shown_stage": progress.stage,
        "to_stage": to_stage,
        "view": "board",
        "next": BOARD,
        **fields,
    }
    return client.post(MOVE, data, headers=HTMX if htmx else {})


# ---------- What the board shows ----------


def test_each_stage_is_a_column_with_its_count_and_value_and_completed_cases_leave(coordinator_client, cases):
    response = coordinator_client.get(BOARD)
    assert response.status_code == 200
    shown = columns(response)
    assert list(shown) == list(BOARD_STAGES)
    assert shown[Stage.SENT].count == 1
    assert shown[Stage.SENT].total == Decimal("2000.00")
    assert response.context["board"].total == Decimal("21000.00")
    html = response.content.decode()
    assert "Pat Completed" not in html
    assert "1 case</span>" in html
    assert "$2,000.00" in html


def test_a_card_shows_value_days_engagement_who_and_the_next_action(coordinator_client, clinic, dentist, coordinator):
    case = make_case(
        clinic=clinic,
        dentist=dentist,
        coordinator=coordinator,
        stage=Stage.SENT,
        value="4850.00",
        first_name="Mere",
        last_name="Ngata",
        days_in_stage=4,
    )
    add_engagement(case, by=coordinator, visits=(380, 95))
    CaseTask.objects.filter(case=case).delete()
    today = timezone.localdate()
    CaseTask.objects.create(case=case, title="Call about the crown", due_on=today + dt.timedelta(days=2))
    CaseTask.objects.create(case=case, title="Check the health fund", due_on=today + dt.timedelta(days=5))
    CaseTask.objects.create(
        case=case, title="Done already", due_on=today - dt.timedelta(days=5), done_at=timezone.now()
    )

    html = coordinator_client.get(BOARD).content.decode()

    card = html[html.index(f'id="card-{case.public_id}"') :]
    card = card[: card.index("</article>")]
    assert "Mere Ngata" in card
    assert "$4,850.00" in card
    assert "Oral health" in card
    assert "4 days in this stage" in card
    assert "Viewed twice · 7 min 55 s" in card
    assert "Chloé O&#x27;Connor" in card
    assert "Call about the crown" in card
    assert "Done already" not in card
    assert f'href="{reverse("plans:detail", args=[case.public_id])}"' in card


def test_a_long_column_shows_its_highest_values_first_and_offers_the_rest(coordinator_client, clinic, dentist):
    for number in range(CARDS_PER_COLUMN + 5):
        make_case(clinic=clinic, dentist=dentist, stage=Stage.SENT, value=f"{100 + number}.00")
    response = coordinator_client.get(BOARD)
    sent = columns(response)[Stage.SENT]
    assert sent.count == CARDS_PER_COLUMN + 5
    assert len(sent.cards) == CARDS_PER_COLUMN
    values = [card.value for card in sent.cards]
    assert values == sorted(values, reverse=True)
    assert values[-1] == Decimal("105.00")
    assert f"Show all {CARDS_PER_COLUMN + 5}" in response.content.decode()

    # "Show all" with htmx answers with that column alone, every card in it.
    response = coordinator_client.get(BOARD + "?show=sent", headers={**HTMX, "HX-Target": "column-sent"})
    html = response.content.decode()
    assert 'id="column-sent"' in html
    assert html.count('class="board-card"') == CARDS_PER_COLUMN + 5
    assert 'id="column-booked"' not in html


def test_it_shows_only_the_clinics_own_cases(coordinator_client, cases, other_clinic, outsider):
    theirs = make_case(
        clinic=other_clinic, dentist=outsider, stage=Stage.SENT, first_name="Oona", last_name="Elsewhere"
    )
    html = coordinator_client.get(BOARD).content.decode()
    assert "Oona Elsewhere" not in html
    # A case of another clinic cannot be moved or even looked up from here.
    assert move(coordinator_client, theirs, Stage.FOLLOW_UP).status_code == 404
    assert coordinator_client.get(reverse("pipeline:move_page", args=[theirs.public_id])).status_code == 404
    assert CaseProgress.objects.get(case=theirs).stage == Stage.SENT


def test_a_shared_address_opens_the_clinic_it_names_if_the_user_works_there(
    coordinator, coordinator_client, clinic, other_clinic, dentist
):
    Membership.objects.create(user=coordinator, clinic=other_clinic, role=Membership.Role.COORDINATOR)
    coordinator_client.post(reverse("accounts:switch_clinic"), {"clinic": clinic.public_id, "next": BOARD})
    assert coordinator_client.get(BOARD).context["active_clinic"] == clinic
    make_case(clinic=other_clinic, dentist=dentist, stage=Stage.SENT, first_name="Perth", last_name="Patient")
    shared = f"{BOARD}?clinic={other_clinic.public_id}&plan_type=oral_health"
    response = coordinator_client.get(shared)
    assert response.status_code == 302
    assert response["Location"] == shared
    response = coordinator_client.get(shared)
    assert response.context["active_clinic"] == other_clinic
    assert response.context["board"].count == 1
    assert "Perth Patient" in response.content.decode()


def test_an_address_naming_a_clinic_the_user_does_not_work_at_is_not_found(coordinator_client, organisation):
    from clearplan.accounts.tests.factories import ClinicFactory

    elsewhere = ClinicFactory(organisation=organisation, name="Harbour Dental Hobart")
    assert coordinator_client.get(f"{BOARD}?clinic={elsewhere.public_id}").status_code == 404


def test_a_person_with_no_clinic_is_refused_and_signed_out_people_sign_in(client, db):
    response = client.get(BOARD)
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


# ---------- Filters ----------


@pytest.fixture
def mixed(clinic, dentist, coordinator, front_desk, organisation):
    """Cases that differ in one way each, all sent and open."""
    other_dentist = staff_member(
        clinic,
        Membership.Role.PRACTITIONER,
        clinical_role=Membership.ClinicalRole.DENTIST,
        first_name="Ben",
        last_name="Okafor",
    )
    template = PackTemplate.objects.create(organisation=organisation, name="Implants", plan_type="elective")
    now = timezone.now()
    made = {
        "unread": make_case(clinic=clinic, dentist=dentist, coordinator=coordinator, stage=Stage.SENT, value="500"),
        "read": make_case(clinic=clinic, dentist=dentist, coordinator=front_desk, stage=Stage.SENT, value="1500"),
        "answered": make_case(clinic=clinic, dentist=other_dentist, stage=Stage.FOLLOW_UP, value="2500"),
        "elective": make_case(
            clinic=clinic, dentist=dentist, stage=Stage.REQUESTED, value="9000", plan_type="elective", template=template
        ),
    }
    add_engagement(made["unread"], by=coordinator, sent_at=now - dt.timedelta(days=10))
    add_engagement(made["read"], by=coordinator, visits=(30,), sent_at=now - dt.timedelta(days=3))
    add_engagement(made["answered"], by=coordinator, visits=(60,), replied=True, sent_at=now - dt.timedelta(days=1))
    made["template"] = template
    made["other_dentist"] = other_dentist
    return made


def shown_ids(response):
    return {card.case.pk for column in response.context["board"].columns for card in column.cards}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("engagement=not_viewed", {"unread"}),
        ("engagement=viewed_no_response", {"read"}),
        ("engagement=responded", {"answered"}),
        ("plan_type=elective", {"elective"}),
        ("value_min=1000&value_max=3000", {"read", "answered"}),
        ("value_min=9000", {"elective"}),
        ("coordinator=none", {"answered", "elective"}),
    ],
)
def test_each_filter_narrows_the_board(coordinator_client, mixed, query, expected):
    response = coordinator_client.get(f"{BOARD}?{query}")
    assert shown_ids(response) == {mixed[key].pk for key in expected}


def test_sent_says_how_many_have_opened_their_pack(coordinator_client, mixed):
    sent = columns(coordinator_client.get(BOARD))[Stage.SENT]
    assert (sent.count, sent.viewed, sent.not_viewed) == (2, 1, 1)
    assert "1 not viewed · 1 viewed" in coordinator_client.get(BOARD).content.decode()
    for engagement, expected in (("viewed_no_response", (1, 1, 0)), ("not_viewed", (1, 0, 1))):
        sent = columns(coordinator_client.get(f"{BOARD}?engagement={engagement}"))[Stage.SENT]
        assert (sent.count, sent.viewed, sent.not_viewed) == expected


def test_filters_by_team_member_dentist_template_and_date_sent(coordinator_client, mixed, front_desk, clinic):
    by_person = coordinator_client.get(f"{BOARD}?coordinator={front_desk.public_id}")
    assert shown_ids(by_person) == {mixed["read"].pk}
    by_dentist = coordinator_client.get(f"{BOARD}?dentist={mixed['other_dentist'].public_id}")
    assert shown_ids(by_dentist) == {mixed["answered"].pk}
    by_template = coordinator_client.get(f"{BOARD}?template={mixed['template'].public_id}")
    assert shown_ids(by_template) == {mixed["elective"].pk}
    today = timezone.localdate()
    since = (today - dt.timedelta(days=4)).isoformat()
    recent = coordinator_client.get(f"{BOARD}?sent_from={since}")
    assert shown_ids(recent) == {mixed["read"].pk, mixed["answered"].pk}
    until = (today - dt.timedelta(days=5)).isoformat()
    assert shown_ids(coordinator_client.get(f"{BOARD}?sent_to={until}")) == {mixed["unread"].pk}


def test_a_mistyped_filter_is_reported_at_its_field_and_left_out(coordinator_client, mixed):
    response = coordinator_client.get(f"{BOARD}?value_min=lots&value_max=100&engagement=not_viewed")
    form = response.context["form"]
    assert form.errors["value_min"] == ["Enter a number."]
    assert shown_ids(response) == set()  # the valid filters still apply: not viewed and at most 100
    html = response.content.decode()
    assert 'id="filter-value_min_error"' in html
    response = coordinator_client.get(f"{BOARD}?value_min=900&value_max=100")
    assert response.context["form"].errors["value_max"] == ["Choose an amount at or above the “Value from” amount."]


def test_a_stranger_in_the_address_matches_nothing_instead_of_failing(coordinator_client, mixed, outsider):
    response = coordinator_client.get(f"{BOARD}?coordinator={outsider.public_id}")
    assert response.status_code == 200
    assert "coordinator" in response.context["form"].errors


# ---------- Moving ----------


def test_a_move_with_htmx_answers_with_the_sentence_and_both_columns(coordinator_client, coordinator, cases):
    case = cases[Stage.SENT]
    response = move(coordinator_client, case, Stage.FOLLOW_UP, note="Read it twice; call her.")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Pat Sent moved to “Follow-up required”." in html
    assert f'data-card="card-{case.public_id}"' in html
    assert 'id="column-sent"' in html
    assert 'id="column-follow_up"' in html
    assert html.count('hx-swap-oob="outerHTML"') == 2
    assert 'id="column-booked"' not in html
    progress = CaseProgress.objects.get(case=case)
    assert progress.stage == Stage.FOLLOW_UP
    last = StageMove.objects.filter(case=case).first()
    assert (last.moved_by, last.note) == (coordinator, "Read it twice; call her.")
    audit = AuditEvent.objects.filter(object_type="case", object_id=str(case.public_id)).latest("at")
    assert audit.changes["stage"] == ["Sent", "Follow-up required"]


@pytest.mark.parametrize(
    ("to_stage", "message"),
    [
        (Stage.BOOKED, "Record the appointment on the case to move it to “Booked”."),
        (Stage.SENT, "The case is already in “Sent”."),
        (Stage.COMPLETED, "A case in “Sent” can’t move to “Completed”."),
    ],
)
def test_a_move_that_is_not_allowed_says_why_and_changes_nothing(coordinator_client, cases, to_stage, message):
    case = cases[Stage.SENT]
    response = move(coordinator_client, case, to_stage)
    html = response.content.decode()
    assert message in html
    assert "board-status__message--error" in html
    assert CaseProgress.objects.get(case=case).stage == Stage.SENT


def test_a_move_from_a_stale_board_is_refused_and_the_card_is_shown_where_it_is(coordinator_client, coordinator, cases):
    case = cases[Stage.SENT]
    data = {"revision": 0, "shown_stage": Stage.SENT}
    stage_move(case=case, to_stage=Stage.REQUESTED, by=coordinator)  # someone else, meanwhile
    response = move(coordinator_client, case, Stage.FOLLOW_UP, **data)
    html = response.content.decode()
    assert "This case was moved meanwhile; it is now in “Requested to proceed”." in html
    # The column the page showed it in, and the one it is really in, are both redrawn.
    assert 'id="column-sent"' in html
    assert 'id="column-requested"' in html
    requested = html[html.index('id="column-requested"') :]
    assert f'id="card-{case.public_id}"' in requested
    assert CaseProgress.objects.get(case=case).stage == Stage.REQUESTED


def test_not_proceeding_from_the_dialog_needs_a_reason_shown_at_its_field(coordinator_client, cases):
    case = cases[Stage.FOLLOW_UP]
    response = move(coordinator_client, case, Stage.NOT_PROCEEDING, via="dialog", look_again_on="")
    assert response["HX-Retarget"] == "#np-fields"
    html = response.content.decode()
    assert 'id="np-reason_error"' in html
    assert "Choose why the patient is not going ahead for now." in html
    assert CaseProgress.objects.get(case=case).stage == Stage.FOLLOW_UP

    yesterday = (timezone.localdate() - dt.timedelta(days=1)).isoformat()
    response = move(
        coordinator_client, case, Stage.NOT_PROCEEDING, via="dialog", reason="cost", look_again_on=yesterday
    )
    html = response.content.decode()
    assert 'id="np-look_again_on_error"' in html
    assert "Choose a date after today to look at this case again." in html
    assert CaseProgress.objects.get(case=case).stage == Stage.FOLLOW_UP


def test_not_proceeding_keeps_the_reason_and_the_date_to_look_again(coordinator_client, cases):
    case = cases[Stage.FOLLOW_UP]
    later = timezone.localdate() + dt.timedelta(days=60)
    response = move(
        coordinator_client, case, Stage.NOT_PROCEEDING, via="dialog", reason="second_opinion", look_again_on=later
    )
    assert "moved to “Not proceeding for now”" in response.content.decode()
    progress = CaseProgress.objects.get(case=case)
    assert (progress.stage, progress.not_proceeding_reason, progress.look_again_on) == (
        Stage.NOT_PROCEEDING,
        "second_opinion",
        later,
    )


def test_without_scripts_a_move_goes_back_to_the_board_with_a_message(coordinator_client, cases):
    case = cases[Stage.REQUESTED]
    response = move(coordinator_client, case, Stage.FOLLOW_UP, htmx=False, next=f"{BOARD}?plan_type=oral_health")
    assert response.status_code == 302
    assert response["Location"] == f"{BOARD}?plan_type=oral_health"
    page = coordinator_client.get(response["Location"])
    assert "Pat Requested moved to “Follow-up required”." in page.content.decode()


def test_without_scripts_a_missing_reason_is_shown_on_the_move_page(coordinator_client, cases):
    case = cases[Stage.SENT]
    response = move(coordinator_client, case, Stage.NOT_PROCEEDING, htmx=False)
    assert response.status_code == 400
    html = response.content.decode()
    assert "The case was not moved" in html
    assert 'id="move-reason_error"' in html
    assert CaseProgress.objects.get(case=case).stage == Stage.SENT


def test_without_scripts_a_stale_move_goes_back_and_says_so(coordinator_client, coordinator, cases):
    case = cases[Stage.SENT]
    stage_move(case=case, to_stage=Stage.FOLLOW_UP, by=coordinator)
    response = move(coordinator_client, case, Stage.REQUESTED, htmx=False, revision=0)
    assert response.status_code == 302
    page = coordinator_client.get(response["Location"])
    assert "This case was moved meanwhile" in page.content.decode()


def test_the_move_page_offers_the_moves_a_person_can_make_and_is_audited(coordinator_client, cases):
    case = cases[Stage.SENT]
    response = coordinator_client.get(reverse("pipeline:move_page", args=[case.public_id]) + "?to=not_proceeding")
    html = response.content.decode()
    assert [label for _stage, label in response.context["allowed"]] == [
        "Follow-up required",
        "Requested to proceed",
        "Not proceeding for now",
    ]
    assert 'value="not_proceeding" id="move-to-not_proceeding" checked' in html
    assert "Record the appointment on the case to move it to “Booked”." in html
    assert AuditEvent.objects.filter(action="view", object_id=str(case.public_id)).exists()


def test_the_case_page_panel_moves_the_case_in_place(coordinator_client, cases):
    case = cases[Stage.FOLLOW_UP]
    progress = CaseProgress.objects.get(case=case)
    response = coordinator_client.post(
        MOVE,
        {"case": case.public_id, "revision": progress.revision, "to_stage": Stage.REQUESTED, "view": "case"},
        headers=HTMX,
    )
    html = response.content.decode()
    assert 'id="case-stage"' in html
    assert "Pat FollowUp moved to “Requested to proceed”." in html
    assert "Follow-up required → Requested to proceed" in html


def test_the_case_page_shows_where_the_case_stands(coordinator_client, coordinator, cases):
    case = cases[Stage.SENT]
    stage_move(case=case, to_stage=Stage.NOT_PROCEEDING, by=coordinator, reason="cost", note="Saving up")
    html = coordinator_client.get(reverse("plans:detail", args=[case.public_id])).content.decode()
    panel = html[html.index('id="case-stage"') :]
    assert "Where this case stands" in panel
    assert "Not proceeding for now" in panel
    assert "By Chloé O&#x27;Connor" in panel
    assert "Saving up" in panel
    assert "Cost" in panel
    assert "Look again on" in panel
    assert "Sent → Not proceeding for now" in panel


# ---------- The audit ----------


def test_looking_at_the_board_is_audited_once_a_minute_for_the_same_cases(coordinator_client, coordinator, cases):
    coordinator_client.get(BOARD)
    coordinator_client.get(BOARD)
    events = AuditEvent.objects.filter(object_type="pipeline_board")
    assert events.count() == 1
    event = events.get()
    assert (event.action, event.actor, event.changes["cases_shown"]) == ("view", coordinator, 6)
    # Different cases shown (a filter) are another row.
    coordinator_client.get(f"{BOARD}?plan_type=elective&value_min=1")
    coordinator_client.get(f"{BOARD}?engagement=responded")
    assert events.count() == 1  # neither showed a patient
    coordinator_client.get(f"{BOARD}?value_min=3000")
    assert events.count() == 2
