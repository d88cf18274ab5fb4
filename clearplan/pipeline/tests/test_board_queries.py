"""The board and the list read a fixed number of queries, however many cards they show."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clearplan.pipeline.models import CaseTask, Stage
from clearplan.pipeline.tests.board_fixtures import add_engagement, make_case
from conftest import signed_in_client

pytestmark = pytest.mark.django_db

STAGES = [Stage.NOT_SENT, Stage.SENT, Stage.FOLLOW_UP, Stage.REQUESTED, Stage.BOOKED, Stage.NOT_PROCEEDING]


def add_cases(count, *, clinic, dentist, coordinator):
    for number in range(count):
        case = make_case(
            clinic=clinic,
            dentist=dentist,
            coordinator=coordinator if number % 2 else None,
            stage=STAGES[number % len(STAGES)],
            value=f"{100 + number}.00",
        )
        if number % 3 == 0:
            add_engagement(case, by=coordinator, visits=(30, 40), replied=number % 2 == 0)
        CaseTask.objects.create(case=case, title="Call the patient")


def queries_for(user, address):
    client = signed_in_client(user)  # a fresh session: the first look is audited each time
    with CaptureQueriesContext(connection) as captured:
        response = client.get(address)
    assert response.status_code == 200
    return len(captured), response


@pytest.mark.parametrize("address", ["/pipeline/", "/pipeline/list/", "/pipeline/?engagement=viewed_no_response"])
def test_queries_do_not_grow_with_the_number_of_cards(address, clinic, dentist, coordinator):
    add_cases(6, clinic=clinic, dentist=dentist, coordinator=coordinator)
    few, response = queries_for(coordinator, address)
    shown_before = response.content.decode().count('class="board-card"') + response.content.decode().count(
        'name="cases"'
    )
    add_cases(60, clinic=clinic, dentist=dentist, coordinator=coordinator)
    many, response = queries_for(coordinator, address)
    shown_after = response.content.decode().count('class="board-card"') + response.content.decode().count(
        'name="cases"'
    )
    assert shown_after > shown_before
    assert many == few


def test_a_move_answers_in_a_fixed_number_of_queries(clinic, dentist, coordinator):
    from clearplan.pipeline.models import CaseProgress

    add_cases(12, clinic=clinic, dentist=dentist, coordinator=coordinator)
    client = signed_in_client(coordinator)

    def move_one():
        progress = CaseProgress.objects.filter(clinic=clinic, stage=Stage.SENT).first()
        with CaptureQueriesContext(connection) as captured:
            client.post(
                "/pipeline/move/",
                {
                    "case": progress.case.public_id,
                    "revision": progress.revision,
                    "shown_stage": Stage.SENT,
                    "to_stage": Stage.FOLLOW_UP,
                    "view": "board",
                },
                headers={"HX-Request": "true"},
            )
        return len(captured)

    first = move_one()
    add_cases(36, clinic=clinic, dentist=dentist, coordinator=coordinator)
    assert move_one() == first
