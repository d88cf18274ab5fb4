"""Today: what each team member should do first, with numbered scenarios for the order.

The clock is Wednesday 17 September 2025, 10:00 in Sydney (the clinic's zone). The clinic's
checklist steps are switched off unless a scenario needs them, so each section holds only what
the scenario made.
"""

from __future__ import annotations

import datetime as dt
import secrets
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from clearplan.audit.models import AuditEvent
from clearplan.packs.models import PackSession, PatientResponse
from clearplan.pipeline.checklist import workflow_steps_for
from clearplan.pipeline.models import CaseTask, Stage, WorkflowStep
from clearplan.pipeline.tests.board_fixtures import add_engagement, make_case
from clearplan.pipeline.today_selectors import CLINIC, MINE, today_for

pytestmark = pytest.mark.django_db

SYDNEY = ZoneInfo("Australia/Sydney")
NOW = dt.datetime(2025, 9, 17, 10, 0, tzinfo=SYDNEY)
TODAY = NOW.date()


@pytest.fixture(autouse=True)
def _wednesday_morning_in_sydney():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture(autouse=True)
def _no_checklist_steps(clinic):
    workflow_steps_for(clinic)
    WorkflowStep.objects.filter(clinic=clinic).update(enabled=False)


def respond(case, *, kind: str, option_title: str = "", preferred_times: str = "", seen_by=None, hours_ago: int = 1):
    """The patient's reply from the pack's last session (add_engagement made it)."""
    session = PackSession.objects.filter(link__case=case).latest("created_at")
    response = PatientResponse.objects.create(
        case=case,
        version=case.pack_versions.latest("number"),
        session=session,
        kind=kind,
        option_title=option_title,
        option_public_id=secrets.token_hex(16) if kind == "proceed" else None,
        preferred_times=preferred_times,
        submission_key=secrets.token_hex(16),
        seen_by=seen_by,
        seen_at=timezone.now() if seen_by else None,
    )
    PatientResponse.objects.filter(pk=response.pk).update(created_at=timezone.now() - dt.timedelta(hours=hours_ago))
    return response


def follow_up_task(case, *, due_on, title="Call the patient", **fields):
    return CaseTask.objects.create(case=case, kind=CaseTask.Kind.FOLLOW_UP, title=title, due_on=due_on, **fields)


def names(section) -> list[str]:
    return [item.patient for item in section.items]


def section(day, key):
    return next(s for s in day.sections if s.key == key)


@pytest.fixture
def week(clinic, other_clinic, dentist, coordinator, front_desk, outsider):
    """A believable week at the clinic, one case per patient, named for the scenario it serves."""
    other_coordinator = front_desk  # a second person who coordinates a few cases

    def case(name, stage, value, *, coordinator=coordinator, days_in_stage=0, at=clinic, dentist=dentist):
        first, last = name.split()
        return make_case(
            clinic=at,
            dentist=dentist,
            coordinator=coordinator,
            stage=stage,
            value=value,
            first_name=first,
            last_name=last,
            days_in_stage=days_in_stage,
        )

    made = {}
    # 1. Requests to proceed: the longest waiting first; the same wait, the higher value first.
    made["ana"] = case("Ana Requested", Stage.REQUESTED, "500.00", days_in_stage=3)
    made["ben"] = case("Ben Requested", Stage.REQUESTED, "5000.00", days_in_stage=1)
    made["cat"] = case("Cat Requested", Stage.REQUESTED, "2000.00", days_in_stage=3)
    add_engagement(made["cat"], by=coordinator, visits=(200,))
    respond(made["cat"], kind="proceed", option_title="Option A: crown", preferred_times="Weekday mornings")
    # 2. Viewed, no reply: the higher value first; not opened, or answered, is not here.
    made["dev"] = case("Dev Viewed", Stage.SENT, "3000.00", days_in_stage=4)
    add_engagement(made["dev"], by=coordinator, visits=(60, 90))
    made["eve"] = case("Eve Viewed", Stage.SENT, "8000.00", days_in_stage=2)
    add_engagement(made["eve"], by=coordinator, visits=(300,))
    made["fay"] = case("Fay Unopened", Stage.SENT, "9000.00", days_in_stage=2)
    add_engagement(made["fay"], by=coordinator)
    # 3. Questions not yet seen, the oldest first; a seen one is done with.
    made["gus"] = case("Gus Asked", Stage.SENT, "10000.00", days_in_stage=2)
    add_engagement(made["gus"], by=coordinator, visits=(100,))
    respond(made["gus"], kind="question", hours_ago=5)
    made["hal"] = case("Hal Answered", Stage.SENT, "700.00", days_in_stage=2)
    add_engagement(made["hal"], by=coordinator, visits=(100,))
    respond(made["hal"], kind="question", seen_by=coordinator)
    # 4. Follow-ups due: cases in "Follow-up required", and follow-up tasks due by today.
    made["ivy"] = case("Ivy Follow", Stage.FOLLOW_UP, "1200.00", days_in_stage=1)
    made["jon"] = case("Jon Overdue", Stage.SENT, "7000.00", days_in_stage=6)
    follow_up_task(made["jon"], due_on=TODAY - dt.timedelta(days=1))
    made["kim"] = case("Kim Later", Stage.SENT, "6000.00", days_in_stage=1)
    follow_up_task(made["kim"], due_on=TODAY + dt.timedelta(days=1))
    # 5. Packs to send from the last two weeks' conversations, the oldest first.
    made["leo"] = case("Leo Today", Stage.NOT_SENT, "900.00")
    made["mia"] = case("Mia Monday", Stage.NOT_SENT, "400.00")
    made["ned"] = case("Ned Old", Stage.NOT_SENT, "400.00")
    for key, days in (("leo", 0), ("mia", 3), ("ned", 20)):
        made[key].conversation_date = TODAY - dt.timedelta(days=days)
        made[key].save(update_fields=["conversation_date"])
    made["ola"] = case("Ola Nopack", Stage.NOT_SENT, "400.00")
    made["ola"].pack_needed = False
    made["ola"].no_pack_reason = "procedural_follow_up"
    made["ola"].save(update_fields=["pack_needed", "no_pack_reason"])
    # 6. Tasks due by today, the earliest first; not tomorrow's, not Clearplan's, not done ones.
    made["pia"] = case("Pia Tasks", Stage.BOOKED, "300.00")
    pia = made["pia"]
    CaseTask.objects.create(case=pia, title="Order the crown", due_on=TODAY, role="coordinator")
    CaseTask.objects.create(
        case=pia, title="Send the lab slip", due_on=TODAY - dt.timedelta(days=2), assigned_to=coordinator
    )
    CaseTask.objects.create(
        case=pia, title="Check the shade", due_on=TODAY + dt.timedelta(days=1), assigned_to=coordinator
    )
    CaseTask.objects.create(case=pia, title="Ring the fund", due_on=TODAY - dt.timedelta(days=1), role="front_desk")
    CaseTask.objects.create(case=pia, title="Pack sent", due_on=TODAY - dt.timedelta(days=3), automatic=True)
    CaseTask.objects.create(
        case=pia, title="Old job", due_on=TODAY - dt.timedelta(days=3), done_at=timezone.now(), done_by=coordinator
    )
    # 7. Whose: another coordinator's case, a case nobody coordinates, another clinic's case.
    made["quin"] = case("Quin Theirs", Stage.REQUESTED, "4000.00", coordinator=other_coordinator, days_in_stage=2)
    made["rue"] = case("Rue Nobody", Stage.REQUESTED, "3500.00", coordinator=None, days_in_stage=2)
    made["sam"] = case(
        "Sam Elsewhere", Stage.REQUESTED, "99999.00", coordinator=outsider, days_in_stage=9, at=other_clinic
    )
    return made


def test_scenario_1_requests_to_proceed_the_longest_waiting_first_then_the_most_valuable(week, coordinator, clinic):
    requests = section(today_for(user=coordinator, clinic=clinic, role="coordinator"), "requests")
    assert names(requests) == ["Cat Requested", "Ana Requested", "Rue Nobody", "Ben Requested"]
    cat = requests.items[0]
    assert cat.what == "Asked to proceed with Option A: crown"
    assert cat.detail == "Preferred times: Weekday mornings"
    assert cat.when == "Waiting 3 days"
    assert cat.value == Decimal("2000.00")
    assert requests.items[2].coordinator == "No coordinator yet"


def test_scenario_2_viewed_but_unanswered_the_most_valuable_first(week, coordinator, clinic):
    viewed = section(today_for(user=coordinator, clinic=clinic, role="coordinator"), "viewed")
    assert names(viewed) == ["Eve Viewed", "Dev Viewed"]
    assert viewed.items[1].detail == "Viewed twice, last today"
    assert viewed.items[1].when == "Sent 4 days ago"


def test_scenario_3_new_questions_the_oldest_first_and_seen_ones_gone(week, coordinator, clinic):
    questions = section(today_for(user=coordinator, clinic=clinic, role="coordinator"), "questions")
    assert names(questions) == ["Gus Asked"]
    assert questions.items[0].when == "Asked 17 Sep, 5:00 am"


def test_scenario_4_follow_ups_due_by_value_with_overdue_tasks_marked(week, coordinator, clinic):
    follow_ups = section(today_for(user=coordinator, clinic=clinic, role="coordinator"), "follow_ups")
    assert names(follow_ups) == ["Jon Overdue", "Ivy Follow"]
    jon, ivy = follow_ups.items
    assert (jon.what, jon.detail, jon.badge) == ("Call the patient", "Due 16 Sep", "Overdue")
    assert (ivy.what, ivy.when) == ("Follow-up required", "In follow-up for 1 day")


def test_scenario_5_packs_to_send_from_recent_conversations_the_oldest_first(week, coordinator, clinic):
    packs = section(today_for(user=coordinator, clinic=clinic, role="coordinator"), "packs_to_send")
    assert names(packs) == ["Mia Monday", "Leo Today"]
    assert [item.when for item in packs.items] == ["Conversation 3 days ago", "Conversation today"]


def test_scenario_6_my_tasks_due_the_earliest_first(week, coordinator, front_desk, clinic):
    mine = section(today_for(user=coordinator, clinic=clinic, role="coordinator"), "tasks")
    assert [item.what for item in mine.items] == ["Send the lab slip", "Order the crown"]
    assert [(item.when, item.badge) for item in mine.items] == [("Due 15 Sep", "Overdue"), ("Due today", "")]
    front = section(today_for(user=front_desk, clinic=clinic, role="front_desk"), "tasks")
    assert [item.what for item in front.items] == ["Ring the fund"]
    everyone = section(today_for(user=front_desk, clinic=clinic, role="front_desk", scope=CLINIC), "tasks")
    assert [item.what for item in everyone.items] == ["Send the lab slip", "Ring the fund", "Order the crown"]


def test_scenario_7_mine_is_my_cases_and_unassigned_ones_the_whole_clinic_is_everyones(
    week, coordinator, front_desk, dentist, clinic
):
    mine = today_for(user=coordinator, clinic=clinic, role="coordinator", scope=MINE)
    assert "Quin Theirs" not in names(section(mine, "requests"))
    clinic_wide = today_for(user=coordinator, clinic=clinic, role="coordinator", scope=CLINIC)
    assert names(section(clinic_wide, "requests")) == [
        "Cat Requested",
        "Ana Requested",
        "Quin Theirs",
        "Rue Nobody",
        "Ben Requested",
    ]
    # Front desk coordinates Quin's case; cases with nobody are for coordinators and managers.
    theirs = today_for(user=front_desk, clinic=clinic, role="front_desk")
    assert names(section(theirs, "requests")) == ["Quin Theirs"]
    # The dentist sees every case they had the conversation for.
    assert len(section(today_for(user=dentist, clinic=clinic, role="practitioner"), "requests").items) == 5
    # Another clinic's case never shows, however urgent.
    assert all(item.patient != "Sam Elsewhere" for s in clinic_wide.sections for item in s.items)


def test_the_sections_come_in_the_order_of_what_matters(week, coordinator, clinic):
    day = today_for(user=coordinator, clinic=clinic, role="coordinator")
    assert [s.key for s in day.sections] == ["requests", "viewed", "questions", "follow_ups", "packs_to_send", "tasks"]
    assert day.total == 4 + 2 + 1 + 2 + 2 + 2


def test_the_page_links_each_item_to_its_case_and_counts_each_section(week, coordinator_client, coordinator):
    page = coordinator_client.get(reverse("pipeline:today")).content.decode()
    assert "13 things to do</strong> for you" in page
    cat = reverse("plans:detail", args=[week["cat"].public_id])
    assert f'href="{cat}#treatment-pack"' in page
    assert page.index("Cat Requested") < page.index("Eve Viewed") < page.index("Gus Asked")
    assert '<a href="#today-requests">Requests to proceed <span class="today-counts__number">4</span>' in page
    assert "$8,000.00" in page
    assert "Sam Elsewhere" not in page
    assert "Quin Theirs" not in page
    clinic_page = coordinator_client.get(reverse("pipeline:today") + "?show=clinic").content.decode()
    assert "Quin Theirs" in clinic_page
    assert 'aria-current="page">Whole clinic' in clinic_page


def test_reading_today_is_audited_with_what_was_shown(week, coordinator_client, coordinator):
    coordinator_client.get(reverse("pipeline:today") + "?show=clinic")
    event = AuditEvent.objects.get(object_type="today")
    assert (event.action, event.actor) == (AuditEvent.Action.VIEW, coordinator)
    assert event.changes == {"scope": "clinic", "cases_shown": 13}


def test_a_quiet_day_says_so_calmly(coordinator_client, coordinator):
    page = coordinator_client.get(reverse("pipeline:today")).content.decode()
    assert "Nothing needs you right now" in page
    assert "See the whole clinic" in page
    assert not AuditEvent.objects.filter(object_type="today").exists()


def test_the_number_of_queries_does_not_grow_with_the_number_of_items(clinic, dentist, coordinator, coordinator_client):
    def one_of_each(n: int) -> None:
        for number in range(n):
            make_case(clinic=clinic, dentist=dentist, coordinator=coordinator, stage=Stage.REQUESTED)
            viewed = make_case(clinic=clinic, dentist=dentist, coordinator=coordinator, stage=Stage.SENT)
            add_engagement(viewed, by=coordinator, visits=(30,))
            asked = make_case(clinic=clinic, dentist=dentist, coordinator=coordinator, stage=Stage.SENT)
            add_engagement(asked, by=coordinator, replied=True)
            make_case(clinic=clinic, dentist=dentist, coordinator=coordinator, stage=Stage.FOLLOW_UP)
            fresh = make_case(clinic=clinic, dentist=dentist, coordinator=coordinator, stage=Stage.NOT_SENT)
            fresh.conversation_date = TODAY
            fresh.save(update_fields=["conversation_date"])
            CaseTask.objects.create(case=fresh, title=f"Task {number}", due_on=TODAY, assigned_to=coordinator)

    url = reverse("pipeline:today")
    one_of_each(1)
    coordinator_client.get(url)  # the session is refreshed on the first request
    with CaptureQueriesContext(connection) as few:
        assert coordinator_client.get(url).status_code == 200
    one_of_each(6)
    with CaptureQueriesContext(connection) as many:
        page = coordinator_client.get(url).content.decode()
    assert page.count('class="today-item"') == 7 * 6
    assert len(many) == len(few)
    today_queries = [q for q in many if "pipeline_" in q["sql"] or "packs_patientresponse" in q["sql"]]
    assert len(today_queries) == 6


def test_a_long_section_shows_its_first_ten_and_shows_all_on_asking(clinic, dentist, coordinator, coordinator_client):
    for number in range(12):
        make_case(
            clinic=clinic, dentist=dentist, coordinator=coordinator, stage=Stage.REQUESTED, value=f"{100 + number}.00"
        )
    page = coordinator_client.get(reverse("pipeline:today")).content.decode()
    assert page.count('class="today-item"') == 10
    assert 'href="?all=requests#today-requests">Show all 12' in page
    page = coordinator_client.get(reverse("pipeline:today") + "?all=requests").content.decode()
    assert page.count('class="today-item"') == 12
    assert "Show all" not in page
