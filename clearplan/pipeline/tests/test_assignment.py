"""Handing cases over: one or many to another team member of the clinic, with their open tasks,
audited; refused for someone who does not work there, and from the list or the case page."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from clearplan.accounts.models import Membership
from clearplan.accounts.tests.factories import staff_member
from clearplan.audit.models import AuditEvent
from clearplan.pipeline.assignment import cases_reassign
from clearplan.pipeline.models import CaseTask, Stage
from clearplan.pipeline.tests.board_fixtures import make_case

pytestmark = pytest.mark.django_db

REASSIGN = "/pipeline/reassign/"


@pytest.fixture
def sam(clinic):
    return staff_member(clinic, Membership.Role.COORDINATOR, first_name="Sam", last_name="Tran")


@pytest.fixture
def chloes(clinic, dentist, coordinator):
    """Three of Chloé's cases, each with a task of hers, one of the dentist's and one done."""
    made = []
    for name in ("Ari", "Bea", "Cal"):
        case = make_case(clinic=clinic, dentist=dentist, coordinator=coordinator, stage=Stage.SENT, first_name=name)
        CaseTask.objects.filter(case=case).delete()
        CaseTask.objects.create(case=case, title="Call the patient", assigned_to=coordinator)
        CaseTask.objects.create(case=case, title="Check the X-ray", assigned_to=dentist)
        CaseTask.objects.create(
            case=case,
            title="Sent the pack",
            assigned_to=coordinator,
            done_by=coordinator,
            done_at="2025-09-15T10:00:00Z",
        )
        made.append(case)
    return made


def test_many_cases_go_to_another_coordinator_with_their_open_tasks(chloes, sam, coordinator, dentist, owner):
    before = {case.pk: case.updated_at for case in chloes}
    changed = cases_reassign(cases=chloes[:2], to=sam, by=owner, request=None)
    assert changed == 2
    for case in chloes[:2]:
        case.refresh_from_db()
        assert case.coordinator == sam
        assert case.updated_at > before[case.pk]
        tasks = {task.title: task.assigned_to for task in case.tasks.all()}
        assert tasks == {"Call the patient": sam, "Check the X-ray": dentist, "Sent the pack": coordinator}
        event = AuditEvent.objects.get(object_id=str(case.public_id), changes__has_key="coordinator")
        assert (event.actor, event.changes["coordinator"]) == (owner, ["Chloé O'Connor", "Sam Tran"])
    chloes[2].refresh_from_db()
    assert chloes[2].coordinator == coordinator


def test_a_case_already_with_that_person_is_left_alone(chloes, coordinator, owner):
    assert cases_reassign(cases=chloes, to=coordinator, by=owner) == 0
    assert not AuditEvent.objects.filter(changes__has_key="coordinator").exists()


def test_only_someone_who_works_at_the_clinic_can_take_cases_over(chloes, outsider, owner, sam):
    with pytest.raises(ValidationError) as refused:
        cases_reassign(cases=chloes, to=outsider, by=owner)
    assert refused.value.message_dict == {"to": ["Choose someone who works at this clinic."]}
    sam.is_active = False
    sam.save()
    with pytest.raises(ValidationError):
        cases_reassign(cases=chloes, to=sam, by=owner)
    assert {case.coordinator_id for case in chloes} == {chloes[0].coordinator_id}


def test_cases_of_two_clinics_are_not_reassigned_together(chloes, other_clinic, outsider, sam, owner):
    theirs = make_case(clinic=other_clinic, dentist=outsider, stage=Stage.SENT)
    with pytest.raises(ValidationError) as refused:
        cases_reassign(cases=[chloes[0], theirs], to=sam, by=owner)
    assert "cases" in refused.value.message_dict
    with pytest.raises(ValidationError):
        cases_reassign(cases=[], to=sam, by=owner)


def test_the_list_hands_ticked_cases_over(coordinator_client, chloes, sam):
    response = coordinator_client.post(
        REASSIGN,
        {
            "cases": [chloes[0].public_id, chloes[2].public_id],
            "to": sam.public_id,
            "next": "/pipeline/list/?sort=value",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == "/pipeline/list/?sort=value"
    page = coordinator_client.get(response["Location"])
    assert "2 cases reassigned to Sam Tran." in page.content.decode()
    for case in (chloes[0], chloes[2]):
        case.refresh_from_db()
        assert case.coordinator == sam
    chloes[1].refresh_from_db()
    assert chloes[1].coordinator != sam


def test_the_case_page_hands_one_case_over(coordinator_client, chloes, sam):
    case = chloes[1]
    url = reverse("plans:detail", args=[case.public_id])
    html = coordinator_client.get(url).content.decode()
    assert 'action="/pipeline/reassign/"' in html
    response = coordinator_client.post(REASSIGN, {"cases": case.public_id, "to": sam.public_id, "next": url})
    assert response["Location"] == url
    assert "One case reassigned to Sam Tran." in coordinator_client.get(url).content.decode()


def test_forgetting_who_or_which_is_said_at_the_field_and_changes_nothing(coordinator_client, chloes, coordinator):
    response = coordinator_client.post(REASSIGN, {"cases": chloes[0].public_id, "to": ""})
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="reassign-to_error"' in html
    assert "Choose who takes these cases over." in html
    assert f'value="{chloes[0].public_id}"' in html  # the ticked case is kept
    response = coordinator_client.post(REASSIGN, {"to": coordinator.public_id})
    assert "Tick the cases to reassign." in response.content.decode()


def test_a_case_of_another_clinic_cannot_be_reassigned_from_here(
    coordinator_client, chloes, other_clinic, outsider, sam
):
    theirs = make_case(clinic=other_clinic, dentist=outsider, stage=Stage.SENT)
    response = coordinator_client.post(
        REASSIGN, {"cases": [chloes[0].public_id, theirs.public_id], "to": sam.public_id}
    )
    assert response.status_code == 404
    theirs.refresh_from_db()
    chloes[0].refresh_from_db()
    assert (theirs.coordinator, chloes[0].coordinator.first_name) == (None, "Chloé")


def test_someone_from_another_clinic_cannot_be_chosen(coordinator_client, chloes, outsider):
    response = coordinator_client.post(REASSIGN, {"cases": chloes[0].public_id, "to": outsider.public_id})
    assert response.status_code == 400
    assert "Choose someone who works at this clinic." in response.content.decode()
