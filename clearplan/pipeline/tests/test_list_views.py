"""The Pipeline list: the board's filters, a stage (Completed too), columns sorted either way,
pages of fifty, and the audit of what was shown."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from clearplan.accounts.models import Membership
from clearplan.accounts.tests.factories import staff_member
from clearplan.audit.models import AuditEvent
from clearplan.pipeline.board_views import LIST_PAGE_SIZE
from clearplan.pipeline.models import CaseProgress, CaseTask, Stage
from clearplan.pipeline.tests.board_fixtures import add_engagement, make_case, make_cases

pytestmark = pytest.mark.django_db

LIST = "/pipeline/list/"


@pytest.fixture
def rows(clinic, dentist, coordinator):
    """Four open cases that sort differently on every column, and one completed."""
    zara = staff_member(clinic, Membership.Role.COORDINATOR, first_name="Zara", last_name="Young")
    today = timezone.localdate()
    made = make_cases(
        {
            "ana": ("Ana", "Adams", Stage.BOOKED, "300", 9, zara, "oral_health"),
            "bo": ("Bo", "Brown", Stage.NOT_SENT, "4000", 1, coordinator, "oral_health"),
            "cy": ("Cy", "Clark", Stage.FOLLOW_UP, "2000", 30, None, "oral_health"),
            "di": ("Di", "Dane", Stage.SENT, "1000", 4, coordinator, "oral_health"),
            "done": ("Ed", "Done", Stage.COMPLETED, "7000", 0, coordinator, "oral_health"),
        },
        clinic=clinic,
        dentist=dentist,
    )
    CaseTask.objects.filter(case__in=made.values()).delete()
    for key, days in (("ana", 3), ("bo", 1), ("di", 8)):
        CaseTask.objects.create(case=made[key], title="Call", due_on=today + dt.timedelta(days=days))
    # Last activity: most recent for Di, then Ana, Bo, Cy.
    for key, hours in (("di", 1), ("ana", 5), ("bo", 30), ("cy", 800)):
        CaseProgress.objects.filter(case=made[key]).update(last_activity_at=timezone.now() - dt.timedelta(hours=hours))
    return made


def order(response):
    return [card.patient.first_name for card in response.context["cards"]]


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("patient", ["Ana", "Bo", "Cy", "Di"]),
        ("-patient", ["Di", "Cy", "Bo", "Ana"]),
        ("stage", ["Bo", "Di", "Cy", "Ana"]),
        ("-stage", ["Ana", "Cy", "Di", "Bo"]),
        ("-value", ["Bo", "Cy", "Di", "Ana"]),
        ("value", ["Ana", "Di", "Cy", "Bo"]),
        ("-days", ["Cy", "Ana", "Di", "Bo"]),
        ("days", ["Bo", "Di", "Ana", "Cy"]),
        ("activity", ["Cy", "Bo", "Ana", "Di"]),
        ("-activity", ["Di", "Ana", "Bo", "Cy"]),
        # Bo and Di are both Chloé's: the newer case first; no one assigned last.
        ("assigned", ["Di", "Bo", "Ana", "Cy"]),
        ("next", ["Bo", "Ana", "Di", "Cy"]),
        ("-next", ["Di", "Ana", "Bo", "Cy"]),
    ],
)
def test_each_column_sorts_both_ways(coordinator_client, rows, sort, expected):
    response = coordinator_client.get(f"{LIST}?sort={sort}")
    assert order(response) == expected


def test_the_current_order_is_marked_and_its_heading_reverses_it(coordinator_client, rows):
    html = coordinator_client.get(f"{LIST}?sort=-value&engagement=").content.decode()
    assert 'aria-sort="descending"' in html
    assert "?sort=value&amp;engagement=" in html
    # Other headings start their own order, keeping the filters.
    assert "?sort=patient&amp;engagement=" in html


def test_an_unknown_order_falls_back_to_the_stage(coordinator_client, rows):
    assert order(coordinator_client.get(f"{LIST}?sort=password")) == ["Bo", "Di", "Cy", "Ana"]


def test_completed_cases_are_found_with_the_stage_filter(coordinator_client, rows):
    assert "Ed" not in order(coordinator_client.get(LIST))
    assert order(coordinator_client.get(f"{LIST}?stage=completed")) == ["Ed"]
    assert order(coordinator_client.get(f"{LIST}?stage=follow_up")) == ["Cy"]


def test_the_list_takes_the_boards_filters(coordinator_client, rows, coordinator):
    add_engagement(rows["di"], by=coordinator, visits=(40,))
    response = coordinator_client.get(f"{LIST}?engagement=viewed_no_response")
    assert order(response) == ["Di"]
    response = coordinator_client.get(f"{LIST}?coordinator={coordinator.public_id}&sort=value")
    assert order(response) == ["Di", "Bo"]
    # The board link keeps them.
    assert f"/pipeline/?coordinator={coordinator.public_id}" in response.content.decode()


def test_the_list_pages_fifty_at_a_time(coordinator_client, clinic, dentist):
    for number in range(LIST_PAGE_SIZE + 3):
        make_case(clinic=clinic, dentist=dentist, stage=Stage.SENT, value=f"{number + 1}.00")
    first = coordinator_client.get(f"{LIST}?sort=-value")
    assert len(first.context["cards"]) == LIST_PAGE_SIZE
    assert "Next page" in first.content.decode()
    second = coordinator_client.get(f"{LIST}?sort=-value&page=2")
    assert [str(card.value) for card in second.context["cards"]] == ["3.00", "2.00", "1.00"]
    assert second.context["page"].number == 2


def test_a_page_of_the_list_is_audited(coordinator_client, coordinator, rows):
    coordinator_client.get(LIST)
    event = AuditEvent.objects.get(object_type="pipeline_list")
    assert (event.actor, event.changes) == (coordinator, {"cases_shown": 4, "page": 1})


def test_the_list_shows_only_the_clinics_cases(coordinator_client, rows, other_clinic, outsider):
    make_case(clinic=other_clinic, dentist=outsider, stage=Stage.SENT, first_name="Oona", last_name="Elsewhere")
    assert "Oona" not in order(coordinator_client.get(LIST))
    assert "Oona Elsewhere" not in coordinator_client.get(f"{LIST}?stage=sent").content.decode()
