"""The checklist on the case page and the clinic's checklist settings, as the team uses them:
ticking in place (htmx) and without scripts, steps Clearplan ticks, adding a task, who may do
what, and the managers' page for the steps."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from clearplan.audit.models import AuditEvent
from clearplan.lib.clinic_time import clinic_now
from clearplan.pipeline import checklist
from clearplan.pipeline.checklist import IMAGES, SEND_PACK, workflow_steps_for
from clearplan.pipeline.models import CaseTask, WorkflowStep
from clearplan.pipeline.tests.test_checklist import new_case, task

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def case(patient, dentist, coordinator):
    return new_case(patient, dentist, coordinator)


def done_url(case, task):
    return reverse("pipeline:task_done", args=[case.public_id, task.public_id])


def test_the_case_page_shows_the_checklist_with_who_when_and_what_clearplan_ticks(coordinator_client, case):
    checklist.step_done_automatically(case=case, key=IMAGES)
    page = coordinator_client.get(reverse("plans:detail", args=[case.public_id])).content.decode()
    assert 'id="checklist"' in page
    assert "1 of 5 steps done" in page
    assert "Check the patient’s health fund or insurance cover" in page
    assert "Fatima" not in page  # front desk as a role, not a person
    assert "Front desk" in page
    assert "Done by Clearplan" in page
    assert "Clearplan ticks this when the pack is sent" in page
    # People tick their steps; steps Clearplan performs have no button.
    assert "Mark “Check the patient’s health fund or insurance cover” as done" in page
    assert "Mark “Send the treatment pack” as done" not in page


def test_ticking_in_place_answers_with_the_checklist_and_says_what_happened(coordinator_client, coordinator, case):
    insurance = task(case, "fetch_insurance_coverage")
    response = coordinator_client.post(done_url(case, insurance), {"done": "1"}, **HTMX)
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="checklist-body"' in body
    assert "1 of 5 steps done" in body
    assert 'hx-swap-oob="true">“Check the patient’s health fund or insurance cover” done.</p>' in body
    assert "Done by Chloé O&#x27;Connor" in body
    insurance.refresh_from_db()
    assert insurance.done_by == coordinator


def test_ticking_without_scripts_comes_back_to_the_checklist_on_the_case(front_desk_client, front_desk, case):
    insurance = task(case, "fetch_insurance_coverage")
    response = front_desk_client.post(done_url(case, insurance), {"done": "1"})
    assert response.status_code == 302
    assert response["Location"] == reverse("plans:detail", args=[case.public_id]) + "#checklist"
    response = front_desk_client.post(done_url(case, insurance), {"done": "0"}, follow=True)
    assert "not done yet" in response.content.decode()
    insurance.refresh_from_db()
    assert not insurance.is_done


def test_a_step_clearplan_performs_is_refused_by_hand_and_left_as_it_was(coordinator_client, case):
    send = task(case, SEND_PACK)
    response = coordinator_client.post(done_url(case, send), {"done": "1"}, **HTMX)
    assert "Clearplan ticks “Send the treatment pack” when the pack is sent" in response.content.decode()
    send.refresh_from_db()
    assert not send.is_done


def test_another_clinics_team_cannot_see_or_tick_this_clinics_tasks(outsider_client, case):
    insurance = task(case, "fetch_insurance_coverage")
    assert outsider_client.post(done_url(case, insurance), {"done": "1"}).status_code == 404
    assert (
        outsider_client.get(reverse("pipeline:task_edit", args=[case.public_id, insurance.public_id])).status_code
        == 404
    )
    insurance.refresh_from_db()
    assert not insurance.is_done


def test_a_task_of_another_case_is_not_found_through_this_case(coordinator_client, case, patient, dentist, coordinator):
    other = new_case(patient, dentist, coordinator)
    url = reverse("pipeline:task_done", args=[case.public_id, task(other, SEND_PACK).public_id])
    assert coordinator_client.post(url, {"done": "1"}).status_code == 404


def test_adding_a_task_shows_problems_at_their_fields_and_keeps_what_was_typed(coordinator_client, case):
    url = reverse("pipeline:task_add", args=[case.public_id])
    data = {"new-task-title": "Call the lab", "new-task-assignee": "role:", "new-task-due_on": "2020-01-01"}
    response = coordinator_client.post(url, data, **HTMX)
    body = response.content.decode()
    assert response.status_code == 200
    assert "Choose today or a later date." in body
    assert 'value="Call the lab"' in body
    assert '<details class="checklist__add" open>' in body
    without_scripts = coordinator_client.post(url, data)
    assert without_scripts.status_code == 400
    assert "Choose today or a later date." in without_scripts.content.decode()
    assert not CaseTask.objects.filter(case=case, kind=CaseTask.Kind.OTHER).exists()

    tomorrow = clinic_now(case.clinic).date() + dt.timedelta(days=1)
    data["new-task-due_on"] = tomorrow.isoformat()
    response = coordinator_client.post(url, data, **HTMX)
    assert "Call the lab" in response.content.decode()
    added = CaseTask.objects.get(case=case, kind=CaseTask.Kind.OTHER)
    assert (added.due_on, added.role, added.assigned_to) == (tomorrow, "", None)


def test_changing_who_does_a_task_names_a_person_of_this_clinic(coordinator_client, case, front_desk):
    insurance = task(case, "fetch_insurance_coverage")
    url = reverse("pipeline:task_edit", args=[case.public_id, insurance.public_id])
    page = coordinator_client.get(url).content.decode()
    assert "Fatima Desk" in page
    response = coordinator_client.post(url, {"assignee": f"person:{front_desk.public_id}", "due_on": ""})
    assert response.status_code == 302
    insurance.refresh_from_db()
    assert insurance.assigned_to == front_desk
    assert insurance.due_on is None
    response = coordinator_client.post(url, {"assignee": "person:not-a-person", "due_on": ""})
    assert response.status_code == 400
    assert "Choose who does this task." in response.content.decode()


def test_a_case_from_before_the_checklist_can_start_one(coordinator_client, case):
    CaseTask.objects.filter(case=case).delete()
    page = coordinator_client.get(reverse("plans:detail", args=[case.public_id])).content.decode()
    assert "This case has no checklist yet" in page
    coordinator_client.post(reverse("pipeline:checklist_start", args=[case.public_id]))
    assert CaseTask.objects.filter(case=case).count() == 5


def test_the_checklist_reads_the_same_number_of_queries_however_many_tasks(coordinator_client, case, coordinator):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from clearplan.pipeline.task_services import Assignee, task_add

    url = done_url(case, task(case, "fetch_insurance_coverage"))
    coordinator_client.post(url, {"done": "1"}, **HTMX)  # the session is refreshed on the first request
    with CaptureQueriesContext(connection) as few:
        coordinator_client.post(url, {"done": "0"}, **HTMX)
    for number in range(8):
        task_add(case=case, title=f"Task {number}", due_on=None, assignee=Assignee(), by=coordinator)
    with CaptureQueriesContext(connection) as many:
        coordinator_client.post(url, {"done": "1"}, **HTMX)
    assert len(many) == len(few) <= 16


# ---------- The clinic's steps ----------


def test_only_managers_change_the_checklist_steps(coordinator_client, owner_client):
    url = reverse("pipeline:workflow_steps")
    assert coordinator_client.get(url).status_code == 403
    page = owner_client.get(url).content.decode()
    assert "Planning checklist" in page
    assert page.count('class="workflow-step card') == 21
    assert "Done by Clearplan" in page


def form_data(clinic, **changes):
    data = {}
    for row in workflow_steps_for(clinic):
        if row.enabled:
            data[f"{row.key}-enabled"] = "on"
        data[f"{row.key}-role"] = row.role
        data[f"{row.key}-due_after_days"] = str(row.due_after_days)
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def test_a_manager_switches_steps_and_sets_who_and_when_and_it_is_audited(owner_client, clinic):
    data = form_data(
        clinic,
        **{
            "fetch_insurance_coverage-enabled": None,
            "calculate_copay-enabled": "on",
            "calculate_copay-role": "coordinator",
            "calculate_copay-due_after_days": "2",
        },
    )
    response = owner_client.post(reverse("pipeline:workflow_steps"), data, follow=True)
    assert "Checklist saved." in response.content.decode()
    copay = WorkflowStep.objects.get(clinic=clinic, key="calculate_copay")
    assert (copay.enabled, copay.role, copay.due_after_days) == (True, "coordinator", 2)
    assert not WorkflowStep.objects.get(clinic=clinic, key="fetch_insurance_coverage").enabled
    event = AuditEvent.objects.get(object_type="workflow_steps")
    assert set(event.changes) == {"calculate_copay", "fetch_insurance_coverage"}


def test_a_wrong_number_of_days_is_named_at_its_field_and_nothing_is_saved(owner_client, clinic):
    data = form_data(clinic, **{"send_draft_plan-due_after_days": "soon", "fetch_insurance_coverage-enabled": None})
    response = owner_client.post(reverse("pipeline:workflow_steps"), data)
    assert response.status_code == 400
    body = response.content.decode()
    assert 'id="id_send_draft_plan-due_after_days_error"' in body
    assert "Enter a whole number of days." in body
    assert "Send the treatment pack — Due after (days)" in body
    assert WorkflowStep.objects.get(clinic=clinic, key="fetch_insurance_coverage").enabled


def test_moving_a_step_keeps_the_other_changes_and_comes_back_to_the_same_button(owner_client, clinic):
    data = form_data(clinic, move="fetch_insurance_coverage:up", **{"calculate_copay-enabled": "on"})
    response = owner_client.post(reverse("pipeline:workflow_steps"), data)
    assert response["Location"].endswith("?moved=fetch_insurance_coverage:up")
    keys = [row.key for row in workflow_steps_for(clinic)]
    assert keys.index("fetch_insurance_coverage") == keys.index(checklist.PLAN_READY) - 1
    assert WorkflowStep.objects.get(clinic=clinic, key="calculate_copay").enabled
    page = owner_client.get(response["Location"]).content.decode()
    moved = page[page.index('value="fetch_insurance_coverage:up"') :]
    assert moved[: moved.index(">")].endswith(" autofocus")
