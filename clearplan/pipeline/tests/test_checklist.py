# ruff: noqa: F811  (fixtures imported from the packs tests are used as test arguments)
"""The planning checklist: each clinic's steps, each case's tasks, and the steps Clearplan ticks
by itself when the real thing happens (a pack sent, a signature, an image, an appointment)."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from clearplan.accounts.models import Membership
from clearplan.accounts.tests.factories import staff_member
from clearplan.audit.models import AuditEvent
from clearplan.lib.clinic_time import clinic_now
from clearplan.packs import sending
from clearplan.packs.tests.conftest import add_key_image
from clearplan.packs.tests.test_responses import link, session, version  # noqa: F401
from clearplan.packs.tests.test_signing import sign
from clearplan.pipeline import checklist, task_services
from clearplan.pipeline.checklist import (
    FINALISE_AND_SIGN,
    IMAGES,
    PATIENT_RECORD,
    PLAN_READY,
    PROPOSAL_REPORT,
    SCHEDULE_TREATMENT,
    SEND_PACK,
    WORKFLOW_STEPS,
    tasks_create_for,
    workflow_steps_for,
)
from clearplan.pipeline.models import Booking, CaseTask, WorkflowStep
from clearplan.pipeline.task_services import Assignee, StepSettings
from clearplan.plans.services import case_create

pytestmark = pytest.mark.django_db

ON_BY_DEFAULT = [IMAGES, "fetch_insurance_coverage", SEND_PACK, FINALISE_AND_SIGN, SCHEDULE_TREATMENT]


@pytest.fixture(autouse=True)
def _messages_wait_in_the_queue(settings):
    settings.SMS_BACKEND = "clearplan.messaging.sms.OutboxBackend"
    settings.PUBLIC_BASE_URL = "https://clearplan.example.com"


def new_case(patient, dentist, coordinator, *, on=dt.date(2025, 9, 15)):
    return case_create(
        patient=patient,
        dentist=dentist,
        coordinator=coordinator,
        conversation_date=on,
        plan_type="oral_health",
        key_points="",
        by=coordinator,
    )


def send_pack(case, by, *, submission_key="send-1"):
    words = sending.message_texts(case, by)
    return sending.pack_send(
        case=case,
        by=by,
        by_sms=True,
        by_email=False,
        sms_text=words["sms_text"],
        email_subject=words["email_subject"],
        email_text=words["email_text"],
        submission_key=submission_key,
    )


def task(case, key) -> CaseTask:
    return CaseTask.objects.get(case=case, step_key=key)


def settings_as_they_are(clinic, **overrides) -> list[StepSettings]:
    changes = []
    for row in workflow_steps_for(clinic):
        change = StepSettings(key=row.key, enabled=row.enabled, role=row.role, due_after_days=row.due_after_days)
        if row.key in overrides:
            change = StepSettings(**{**change.__dict__, **overrides[row.key]})
        changes.append(change)
    return changes


# ---------- The steps ----------


def test_every_step_of_the_planning_workflow_is_there_once_in_plain_words():
    assert len(WORKFLOW_STEPS) == 21
    assert len({step.key for step in WORKFLOW_STEPS}) == 21
    roles = {value for value, _label in checklist.ROLE_CHOICES}
    assert roles == {"", *Membership.Role.values}
    for step in WORKFLOW_STEPS:
        assert step.role in roles
        assert step.title[0].isupper()
        assert len(step.title) <= 60
        assert "_" not in step.title
    # The events and the receivers name steps that exist.
    for key in (SEND_PACK, FINALISE_AND_SIGN, SCHEDULE_TREATMENT, IMAGES, PLAN_READY, PROPOSAL_REPORT):
        assert checklist.STEPS_BY_KEY[key].automatic


def test_a_clinic_gets_its_steps_with_the_defaults_the_first_time_and_once(clinic):
    rows = workflow_steps_for(clinic)
    assert [row.key for row in rows] == [step.key for step in WORKFLOW_STEPS]
    assert [row.position for row in rows] == list(range(21))
    assert [row.key for row in rows if row.enabled] == ON_BY_DEFAULT
    workflow_steps_for(clinic)
    assert WorkflowStep.objects.filter(clinic=clinic).count() == 21


def test_a_step_added_to_clearplan_later_joins_the_end_of_a_clinics_order(clinic):
    workflow_steps_for(clinic)
    WorkflowStep.objects.filter(clinic=clinic, key=PLAN_READY).delete()
    rows = workflow_steps_for(clinic)
    assert rows[-1].key == PLAN_READY
    assert rows[-1].position == 21


# ---------- A new case's checklist ----------


def test_a_new_case_gets_the_steps_switched_on_with_due_dates_from_the_conversation(
    patient, dentist, coordinator, clinic
):
    case = new_case(patient, dentist, coordinator, on=dt.date(2025, 9, 15))
    tasks = list(CaseTask.objects.filter(case=case))
    assert [t.step_key for t in tasks] == ON_BY_DEFAULT
    assert all(t.kind == CaseTask.Kind.CHECKLIST for t in tasks)
    due = {t.step_key: t.due_on for t in tasks}
    assert due == {
        IMAGES: dt.date(2025, 9, 15),
        "fetch_insurance_coverage": dt.date(2025, 9, 16),
        SEND_PACK: dt.date(2025, 9, 16),
        # Waiting on the patient: no date to be late against.
        FINALISE_AND_SIGN: None,
        SCHEDULE_TREATMENT: None,
    }
    assert {t.step_key for t in tasks if t.automatic} == {IMAGES, SEND_PACK, FINALISE_AND_SIGN, SCHEDULE_TREATMENT}
    assert task(case, "fetch_insurance_coverage").role == "front_desk"
    assert not any(t.is_done for t in tasks)


def test_the_clinics_own_choices_shape_new_cases_and_leave_open_cases_alone(
    patient, dentist, coordinator, owner, clinic
):
    earlier = new_case(patient, dentist, coordinator)
    changes = settings_as_they_are(
        clinic,
        fetch_insurance_coverage={"enabled": False},
        determine_priority_sequence={"enabled": True, "role": "practitioner", "due_after_days": 2},
    )
    task_services.workflow_steps_save(clinic=clinic, changes=changes, by=owner, move=(SEND_PACK, "up"))

    case = new_case(patient, dentist, coordinator, on=dt.date(2025, 10, 1))
    keys = list(CaseTask.objects.filter(case=case).values_list("step_key", flat=True))
    assert keys == [IMAGES, SEND_PACK, FINALISE_AND_SIGN, SCHEDULE_TREATMENT, "determine_priority_sequence"]
    priority = task(case, "determine_priority_sequence")
    assert (priority.role, priority.due_on) == ("practitioner", dt.date(2025, 10, 3))
    assert CaseTask.objects.filter(case=earlier, step_key="fetch_insurance_coverage").exists()


def test_another_clinics_settings_do_not_reach_this_clinics_cases(
    patient, dentist, coordinator, outsider, other_clinic
):
    workflow_steps_for(other_clinic)
    WorkflowStep.objects.filter(clinic=other_clinic).update(enabled=False)
    case = new_case(patient, dentist, coordinator)
    assert CaseTask.objects.filter(case=case).count() == len(ON_BY_DEFAULT)


def test_steps_already_true_when_the_checklist_is_made_are_done_at_once_by_clearplan(
    patient, dentist, coordinator, clinic
):
    workflow_steps_for(clinic)
    WorkflowStep.objects.filter(clinic=clinic, key__in=[PATIENT_RECORD, PLAN_READY]).update(enabled=True)
    case = new_case(patient, dentist, coordinator)
    record = task(case, PATIENT_RECORD)
    assert record.is_done
    assert record.done_by is None
    assert not task(case, PLAN_READY).is_done

    # A case from before the checklist, that already has images and is ready to send.
    CaseTask.objects.filter(case=case).delete()
    add_key_image(case, coordinator, 1, "Upper left molar")
    case.ready_at = timezone.now()
    case.save()
    assert task_services.checklist_start(case=case, by=coordinator) == 7
    assert task(case, IMAGES).is_done
    assert task(case, PLAN_READY).is_done
    assert not task(case, SEND_PACK).is_done


def test_making_the_checklist_takes_a_few_queries_and_running_it_again_adds_nothing(
    patient, dentist, coordinator, clinic, django_assert_max_num_queries
):
    case = new_case(patient, dentist, coordinator)
    workflow_steps_for(clinic)
    CaseTask.objects.filter(case=case).delete()
    with django_assert_max_num_queries(3):
        tasks_create_for(case=case)
    tasks_create_for(case=case)
    assert CaseTask.objects.filter(case=case).count() == len(ON_BY_DEFAULT)


# ---------- Steps Clearplan ticks ----------


def test_sending_a_real_pack_ticks_the_send_step_and_the_proposal_it_contains(sendable_case, coordinator, clinic):
    WorkflowStep.objects.filter(clinic=clinic, key=PROPOSAL_REPORT).update(enabled=True)
    task_services.checklist_start(case=sendable_case, by=coordinator)
    assert not task(sendable_case, SEND_PACK).is_done

    send_pack(sendable_case, coordinator)

    sent = task(sendable_case, SEND_PACK)
    assert sent.is_done
    assert sent.done_by is None
    assert task(sendable_case, PROPOSAL_REPORT).is_done
    assert not task(sendable_case, FINALISE_AND_SIGN).is_done
    first_done_at = sent.done_at
    send_pack(sendable_case, coordinator, submission_key="send-2")
    assert task(sendable_case, SEND_PACK).done_at == first_done_at


def test_the_images_step_is_ticked_when_the_first_image_is_added(patient, dentist, coordinator):
    case = new_case(patient, dentist, coordinator)
    assert not task(case, IMAGES).is_done
    add_key_image(case, coordinator, 1, "Upper left molar")
    assert task(case, IMAGES).is_done


def test_the_patients_signature_ticks_the_signing_step(session, version, sendable_case):
    assert not task(sendable_case, FINALISE_AND_SIGN).is_done
    sign(session, version)
    signed = task(sendable_case, FINALISE_AND_SIGN)
    assert signed.is_done
    assert signed.done_by is None


def test_marking_the_case_ready_ticks_the_review_step(patient, dentist, coordinator, clinic):
    workflow_steps_for(clinic)
    WorkflowStep.objects.filter(clinic=clinic, key=PLAN_READY).update(enabled=True)
    case = new_case(patient, dentist, coordinator)
    case.ready_at = timezone.now()
    case.save(update_fields=["ready_at"])
    assert task(case, PLAN_READY).is_done


def test_booking_ticks_the_appointment_step_and_cancelling_the_only_booking_opens_it_again(
    patient, dentist, coordinator
):
    case = new_case(patient, dentist, coordinator)
    booking = Booking.objects.create(
        case=case,
        starts_at=timezone.now() + dt.timedelta(days=7),
        practitioner=dentist,
        created_by=coordinator,
        submission_key=uuid.uuid4().hex,
    )
    assert task(case, SCHEDULE_TREATMENT).is_done
    booking.status = Booking.Status.CANCELLED
    booking.cancelled_at = timezone.now()
    booking.save()
    assert not task(case, SCHEDULE_TREATMENT).is_done


# ---------- People tick, add and assign ----------


def test_a_person_ticks_and_unticks_a_step_and_each_change_is_audited_once(patient, dentist, coordinator):
    case = new_case(patient, dentist, coordinator)
    insurance = task(case, "fetch_insurance_coverage")

    task_services.task_set_done(task=insurance, done=True, by=coordinator)
    task_services.task_set_done(task=insurance, done=True, by=coordinator)  # a double click

    insurance.refresh_from_db()
    assert insurance.is_done
    assert insurance.done_by == coordinator
    events = AuditEvent.objects.filter(object_id=str(case.public_id), changes__task=insurance.title)
    assert events.count() == 1
    assert events.get().changes["done"] == [False, True]

    task_services.task_set_done(task=insurance, done=False, by=coordinator)
    insurance.refresh_from_db()
    assert not insurance.is_done
    assert insurance.done_by is None


@pytest.mark.parametrize("done", [True, False])
def test_a_step_clearplan_performs_cannot_be_ticked_or_unticked_by_hand(patient, dentist, coordinator, done):
    case = new_case(patient, dentist, coordinator)
    step = task(case, SEND_PACK)
    if not done:
        checklist.step_done_automatically(case=case, key=SEND_PACK)
    with pytest.raises(ValidationError) as error:
        task_services.task_set_done(task=step, done=done, by=coordinator)
    assert "Clearplan ticks “Send the treatment pack” when the pack is sent" in error.value.messages[0]
    assert task(case, SEND_PACK).is_done is (not done)


def test_adding_a_task_checks_what_was_typed_and_saves_a_double_click_once(
    patient, dentist, coordinator, front_desk, outsider
):
    case = new_case(patient, dentist, coordinator)
    today = clinic_now(case.clinic).date()
    with pytest.raises(ValidationError) as error:
        task_services.task_add(
            case=case,
            title="  ",
            due_on=dt.date(2020, 1, 1),
            assignee=Assignee(person=outsider),
            by=coordinator,
        )
    assert set(error.value.message_dict) == {"title", "due_on", "assignee"}
    assert not CaseTask.objects.filter(case=case, kind=CaseTask.Kind.OTHER).exists()

    def add():
        return task_services.task_add(
            case=case,
            title="Ring  the health fund",
            due_on=today + dt.timedelta(days=2),
            assignee=Assignee(person=front_desk),
            by=coordinator,
        )

    first, second = add(), add()
    assert first == second
    assert (first.title, first.assigned_to, first.kind) == ("Ring the health fund", front_desk, CaseTask.Kind.OTHER)
    assert first.position > task(case, SCHEDULE_TREATMENT).position


def test_a_task_is_given_to_a_person_or_a_role_with_a_date_and_added_tasks_can_be_removed(
    patient, dentist, coordinator, front_desk
):
    case = new_case(patient, dentist, coordinator)
    insurance = task(case, "fetch_insurance_coverage")
    tomorrow = clinic_now(case.clinic).date() + dt.timedelta(days=1)
    task_services.task_update(task=insurance, assignee=Assignee(person=front_desk), due_on=tomorrow, by=coordinator)
    insurance.refresh_from_db()
    assert (insurance.assigned_to, insurance.role, insurance.due_on) == (front_desk, "", tomorrow)

    task_services.task_update(task=insurance, assignee=Assignee(role="manager"), due_on=None, by=coordinator)
    insurance.refresh_from_db()
    assert (insurance.assigned_to, insurance.role, insurance.due_on) == (None, "manager", None)

    with pytest.raises(ValidationError):
        task_services.task_remove(task=insurance, by=coordinator)
    added = task_services.task_add(
        case=case, title="Scan for the crown", due_on=None, assignee=Assignee(), by=coordinator
    )
    task_services.task_remove(task=added, by=coordinator)
    assert not CaseTask.objects.filter(pk=added.pk).exists()


def test_a_practitioner_from_another_clinic_cannot_be_given_a_task(patient, dentist, coordinator, other_clinic):
    case = new_case(patient, dentist, coordinator)
    elsewhere = staff_member(
        other_clinic, Membership.Role.PRACTITIONER, clinical_role=Membership.ClinicalRole.DENTIST, email="e@example.com"
    )
    with pytest.raises(ValidationError) as error:
        task_services.task_update(
            task=task(case, SEND_PACK), assignee=Assignee(person=elsewhere), due_on=None, by=coordinator
        )
    assert error.value.message_dict == {"assignee": ["Choose someone who works at this clinic."]}


# ---------- The clinic's settings ----------


def test_saving_the_steps_is_all_or_nothing_with_each_problem_named_by_step(clinic, owner):
    changes = settings_as_they_are(
        clinic,
        fetch_insurance_coverage={"enabled": False},
        send_draft_plan={"due_after_days": 400},
        calculate_copay={"role": "dentist"},
    )
    with pytest.raises(task_services.StepSettingsError) as error:
        task_services.workflow_steps_save(clinic=clinic, changes=changes, by=owner)
    assert error.value.by_step == {
        SEND_PACK: {"due_after_days": "Choose a number from 0 to 365."},
        "calculate_copay": {"role": "Choose who does this step."},
    }
    assert WorkflowStep.objects.get(clinic=clinic, key="fetch_insurance_coverage").enabled


def test_moving_a_step_swaps_it_with_its_neighbour_and_is_audited(clinic, owner):
    task_services.workflow_steps_save(
        clinic=clinic, changes=settings_as_they_are(clinic), by=owner, move=(IMAGES, "up")
    )
    keys = [row.key for row in workflow_steps_for(clinic)]
    assert keys[:2] == [IMAGES, PATIENT_RECORD]
    task_services.workflow_steps_save(
        clinic=clinic, changes=settings_as_they_are(clinic), by=owner, move=(IMAGES, "up")
    )
    assert [row.key for row in workflow_steps_for(clinic)] == keys  # already first: nothing moves
    event = AuditEvent.objects.filter(object_type="workflow_steps").first()
    assert event.action == AuditEvent.Action.SETTINGS
    assert event.changes["moved"] == [IMAGES, "up"]
