import threading
import uuid
from datetime import UTC, date, datetime

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from clearplan.accounts.models import Membership
from clearplan.accounts.tests.factories import staff_member
from clearplan.audit.models import AuditEvent
from clearplan.patients.models import Patient
from clearplan.patients.services import (
    PatientAlreadyCreated,
    StaleRecordError,
    patient_create,
    patient_update,
    record_version,
)
from clearplan.patients.tests.factories import PatientFactory


def details(**overrides):
    base = {
        "first_name": "Zoë",
        "last_name": "O'Brien",
        "preferred_name": "",
        "date_of_birth": date(1988, 3, 14),
        "mobile": "0412 345 678",
        "email": "zoe@example.com",
        "preferred_channel": Patient.Channel.SMS,
        "consent_sms": True,
        "consent_email": False,
    }
    return base | overrides


def test_names_are_stored_exactly_as_typed(clinic, front_desk):
    for first, last in [("Zoë", "O'Brien"), ("Thảo", "Nguyễn"), ("Aroha", "Te Rangi-Ngata"), ("Tūī", "Smith-Jones")]:
        patient = patient_create(clinic=clinic, by=front_desk, details=details(first_name=first, last_name=last))
        patient.refresh_from_db()
        assert (patient.first_name, patient.last_name) == (first, last)


def test_the_mobile_is_stored_in_international_form(clinic, front_desk):
    patient = patient_create(clinic=clinic, by=front_desk, details=details(mobile="0412-345-678"))
    assert patient.mobile == "+61412345678"


def test_the_search_column_follows_name_changes(clinic, front_desk):
    patient = patient_create(clinic=clinic, by=front_desk, details=details())
    assert patient.search_name.startswith("obrien")
    patient = patient_update(patient=patient, by=front_desk, details={"last_name": "Nguyễn"})
    patient.refresh_from_db()
    assert patient.search_name.startswith("nguyen")


def test_creating_a_patient_is_audited_with_every_value(clinic, front_desk):
    patient = patient_create(clinic=clinic, by=front_desk, details=details())
    event = AuditEvent.objects.get(action=AuditEvent.Action.CREATE, object_id=str(patient.public_id))
    assert event.actor == front_desk
    assert event.clinic == clinic
    assert event.changes["last_name"] == [None, "O'Brien"]
    assert event.changes["mobile"] == [None, "+61412345678"]


def test_changing_a_patient_is_audited_with_only_what_changed(clinic, front_desk, dentist):
    patient = patient_create(clinic=clinic, by=front_desk, details=details())
    patient_update(
        patient=patient, by=front_desk, details={"email": "zoe.obrien@example.com", "primary_dentist": dentist}
    )
    event = AuditEvent.objects.get(action=AuditEvent.Action.UPDATE)
    assert event.changes == {
        "email": ["zoe@example.com", "zoe.obrien@example.com"],
        "primary_dentist": ["", "Priya Raman"],
    }


def test_saving_without_changes_writes_nothing(clinic, front_desk):
    patient = patient_create(clinic=clinic, by=front_desk, details=details())
    version = record_version(patient)
    patient_update(patient=patient, by=front_desk, details=details(mobile="+61 412 345 678"), expected_version=version)
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.UPDATE).exists()
    patient.refresh_from_db()
    assert record_version(patient) == version


def test_an_edit_opened_before_someone_elses_save_is_refused(clinic, front_desk, coordinator):
    patient = patient_create(clinic=clinic, by=front_desk, details=details())
    opened_version = record_version(patient)
    patient_update(patient=patient, by=coordinator, details={"notes": "Prefers morning appointments."})
    with pytest.raises(StaleRecordError):
        patient_update(
            patient=patient, by=front_desk, details={"notes": "Nervous patient."}, expected_version=opened_version
        )
    patient.refresh_from_db()
    assert patient.notes == "Prefers morning appointments."


def test_an_invalid_change_saves_nothing(clinic, front_desk):
    patient = patient_create(clinic=clinic, by=front_desk, details=details())
    with pytest.raises(ValidationError) as raised:
        patient_update(patient=patient, by=front_desk, details={"mobile": "12345", "notes": "changed"})
    assert "mobile" in raised.value.message_dict
    patient.refresh_from_db()
    assert patient.notes == ""


def test_the_practice_management_id_is_unique_within_a_clinic_only(clinic, other_clinic, front_desk):
    patient_create(clinic=clinic, by=front_desk, details=details(pms_id="10423"))
    patient_create(clinic=other_clinic, by=front_desk, details=details(pms_id="10423"))
    with pytest.raises(ValidationError) as raised:
        patient_create(clinic=clinic, by=front_desk, details=details(first_name="Liam", pms_id="10423"))
    assert raised.value.message_dict["pms_id"] == [
        "Another patient at this clinic already has this practice-management ID."
    ]


def test_the_database_refuses_a_second_patient_with_the_same_practice_id(clinic):
    PatientFactory(clinic=clinic, pms_id="A1")
    PatientFactory(clinic=clinic, pms_id="")
    PatientFactory(clinic=clinic, pms_id="")
    with pytest.raises(IntegrityError), transaction.atomic():
        PatientFactory(clinic=clinic, pms_id="A1")


def test_the_primary_dentist_must_be_a_practitioner_at_the_clinic(clinic, other_clinic, front_desk, coordinator):
    elsewhere = staff_member(other_clinic, Membership.Role.PRACTITIONER, clinical_role=Membership.ClinicalRole.DENTIST)
    for not_allowed in (elsewhere, coordinator):
        with pytest.raises(ValidationError) as raised:
            patient_create(clinic=clinic, by=front_desk, details=details(primary_dentist=not_allowed))
        assert "primary_dentist" in raised.value.message_dict


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"mobile": "", "consent_sms": True, "preferred_channel": "email", "consent_email": True}, "consent_sms"),
        ({"email": "", "consent_email": True}, "consent_email"),
        ({"mobile": "", "consent_sms": False}, "preferred_channel"),
        ({"consent_sms": False}, "preferred_channel"),
        ({"preferred_channel": "email", "consent_email": False}, "preferred_channel"),
        ({"mobile": "(02) 9999 1234"}, "mobile"),
        ({"date_of_birth": date(1899, 12, 31)}, "date_of_birth"),
    ],
)
def test_contact_and_consent_rules_hold_whoever_saves(clinic, front_desk, changes, field):
    with pytest.raises(ValidationError) as raised:
        patient_create(clinic=clinic, by=front_desk, details=details(**changes))
    assert field in raised.value.message_dict
    assert not Patient.objects.exists()


def test_a_landline_is_refused_as_a_mobile_even_when_nobody_will_text_it(clinic, front_desk):
    with pytest.raises(ValidationError) as raised:
        patient_create(
            clinic=clinic,
            by=front_desk,
            details=details(mobile="(02) 9999 1234", consent_sms=False, preferred_channel="email", consent_email=True),
        )
    assert raised.value.message_dict["mobile"] == [
        "This is a landline number, which can't receive text messages. Enter a mobile number such as 0412 345 678."
    ]
    assert not Patient.objects.exists()


def test_a_landline_saved_some_other_way_is_caught_by_the_records_own_rules(clinic):
    patient = PatientFactory.build(clinic=clinic, guardian_mobile="+61299991234")
    with pytest.raises(ValidationError) as raised:
        patient.full_clean()
    assert raised.value.message_dict["guardian_mobile"][0].startswith("This is a landline number")


def test_a_childs_guardian_can_be_the_contact(clinic, front_desk):
    patient = patient_create(
        clinic=clinic,
        by=front_desk,
        details=details(
            date_of_birth=date(2018, 5, 1),
            mobile="",
            guardian_name="Siobhán O'Brien",
            guardian_relationship="Mother",
            guardian_mobile="0491 570 156",
        ),
    )
    assert patient.guardian_mobile == "+61491570156"
    assert patient.is_minor


# 01:00 on 15 June 2024 in Sydney is still 14 June in UTC and in Perth (23:00).
SYDNEY_EARLY_MORNING = datetime(2024, 6, 14, 15, 0, tzinfo=UTC)


@time_machine.travel(SYDNEY_EARLY_MORNING, tick=False)
def test_adulthood_starts_on_the_birthday_in_the_clinics_own_time_zone(clinic, other_clinic, front_desk):
    turning_18 = details(date_of_birth=date(2006, 6, 15))
    sydney_patient = patient_create(clinic=clinic, by=front_desk, details=turning_18)
    assert not sydney_patient.is_minor

    with pytest.raises(ValidationError) as raised:
        patient_create(clinic=other_clinic, by=front_desk, details=turning_18)
    assert set(raised.value.message_dict) == {"guardian_name", "guardian_relationship"}


@time_machine.travel(SYDNEY_EARLY_MORNING, tick=False)
def test_a_birth_date_of_tomorrow_is_refused(clinic, front_desk):
    with pytest.raises(ValidationError) as raised:
        patient_create(clinic=clinic, by=front_desk, details=details(date_of_birth=date(2024, 6, 16)))
    assert raised.value.message_dict["date_of_birth"] == ["The date of birth can't be in the future."]


def test_a_creation_token_adds_one_patient_however_often_it_is_sent(clinic, front_desk):
    token = uuid.uuid4()
    first = patient_create(clinic=clinic, by=front_desk, details=details(), creation_token=token)
    with pytest.raises(PatientAlreadyCreated) as raised:
        patient_create(clinic=clinic, by=front_desk, details=details(), creation_token=token)
    assert raised.value.patient == first
    assert Patient.objects.count() == 1


def test_the_database_refuses_two_patients_with_one_creation_token(clinic):
    token = uuid.uuid4()
    PatientFactory(clinic=clinic, creation_token=token)
    with pytest.raises(IntegrityError), transaction.atomic():
        PatientFactory(clinic=clinic, creation_token=token)


@pytest.mark.django_db(transaction=True)
def test_two_submissions_racing_each_other_add_one_patient(clinic, front_desk):
    token = uuid.uuid4()
    start = threading.Barrier(2)
    outcomes = []

    def submit():
        try:
            start.wait()
            patient_create(clinic=clinic, by=front_desk, details=details(), creation_token=token)
            outcomes.append("added")
        except PatientAlreadyCreated:
            outcomes.append("found the first")
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["added", "found the first"]
    assert Patient.objects.filter(creation_token=token).count() == 1
