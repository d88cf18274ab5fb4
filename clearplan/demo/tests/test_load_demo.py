import uuid
from collections import Counter
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from clearplan.accounts.models import Clinic, Membership, Organisation, User
from clearplan.audit.models import AuditEvent
from clearplan.demo.practice import DEMO_PASSWORD, ORGANISATION_NAME
from clearplan.patients import phones
from clearplan.patients.models import Patient
from clearplan.patients.search import fold


@pytest.fixture(autouse=True)
def _demo_installation(settings):
    settings.DEMO = True


def load(*args):
    out = StringIO()
    call_command("load_demo", *args, stdout=out)
    return out.getvalue()


def counts():
    return {
        "organisations": Organisation.objects.count(),
        "clinics": Clinic.objects.count(),
        "staff": User.objects.count(),
        "memberships": Membership.objects.count(),
        "patients": Patient.objects.count(),
        "audit events": AuditEvent.objects.count(),
    }


@pytest.fixture
def demo(db):
    load()
    return Organisation.objects.get(name=ORGANISATION_NAME)


def test_loading_twice_changes_nothing_the_second_time(db):
    first_output = load()
    after_first = counts()
    second_output = load()
    assert counts() == after_first
    assert "Loaded the demo practice Harbour & Hills Dental: 2 clinics, 13 staff and 200 patients." in first_output
    assert "already exists" in second_output
    assert "nothing was changed" in second_output


def test_loading_again_after_the_practice_is_renamed_changes_nothing(demo):
    demo.name = "Harbour Dental Group"
    demo.save()
    before = counts()
    output = load()
    assert counts() == before
    assert "The demo practice Harbour Dental Group already exists" in output
    assert "nothing was changed" in output
    assert not Organisation.objects.filter(name=ORGANISATION_NAME).exists()


def test_logins_are_printed_after_the_practice_is_renamed(demo):
    demo.name = "Harbour Dental Group"
    demo.save()
    output = load("--print-logins", "--url", "http://127.0.0.1:8000/")
    assert "Sign in as any of the Harbour Dental Group team." in output
    assert len([line for line in output.splitlines() if "@harbourhills.example" in line]) == 13


def test_a_demo_that_is_only_partly_there_is_not_loaded_a_second_time(demo):
    # As if the practice had been removed by hand but some of its logins were kept.
    Organisation.objects.filter(pk=demo.pk).update(public_id=uuid.uuid4(), name="Someone else's practice")
    User.objects.filter(organisation=demo).update(organisation=None)
    before = counts()
    output = load()
    assert counts() == before
    assert "nothing was changed" in output
    assert "hannah@harbourhills.example" in load("--print-logins")


def test_a_demo_loaded_before_it_had_a_fixed_id_is_still_recognised(demo):
    Organisation.objects.filter(pk=demo.pk).update(public_id=uuid.uuid4(), name="Renamed long ago")
    before = counts()
    assert "The demo practice Renamed long ago already exists" in load()
    assert counts() == before


def test_two_clinics_in_different_time_zones_have_a_team_in_every_role(demo):
    clinics = list(demo.clinics.all())
    assert len(clinics) == 2
    assert {clinic.time_zone for clinic in clinics} == {"Australia/Sydney", "Australia/Perth"}
    assert {clinic.locale for clinic in clinics} == {"en-AU"}

    memberships = Membership.objects.filter(clinic__organisation=demo)
    roles = Counter(memberships.values_list("role", flat=True))
    assert set(roles) == set(Membership.Role.values)
    clinical = Counter(memberships.exclude(clinical_role="").values_list("clinical_role", flat=True))
    assert clinical[Membership.ClinicalRole.DENTIST] >= 2
    assert clinical[Membership.ClinicalRole.HYGIENIST] >= 1
    assert clinical[Membership.ClinicalRole.ORAL_HEALTH_THERAPIST] >= 1
    assert roles[Membership.Role.COORDINATOR] >= 2
    assert demo.staff.filter(is_organisation_admin=True).count() == 1
    in_both = [user for user in demo.staff.all() if user.memberships.count() == 2]
    assert len(in_both) == 1
    assert all(user.email.endswith("@harbourhills.example") for user in demo.staff.all())
    assert all(user.check_password(DEMO_PASSWORD) for user in demo.staff.all())


def test_patients_have_realistic_names_kept_exactly_as_written(demo):
    patients = Patient.objects.filter(clinic__organisation=demo)
    assert 190 <= patients.count() <= 210
    names = [patient.full_name for patient in patients]
    for name in ("Zoë O'Brien", "Thảo Nguyễn", "Tūī Smith-Jones", "Seán D'Arcy", "Mereana Te Rangi-Ngata"):
        assert name in names
    with_accents = [name for name in names if fold(name) != name.lower()]
    assert len(with_accents) >= 20
    assert sum("'" in name for name in names) >= 5
    assert sum("-" in name for name in names) >= 5


def test_every_demo_patient_is_valid_and_can_be_contacted(demo):
    patients = list(Patient.objects.filter(clinic__organisation=demo).select_related("clinic"))
    for patient in patients:
        patient.full_clean()
        for number in (patient.mobile, patient.guardian_mobile):
            if number:
                # 0491 570 xxx is set aside for fiction, so nobody real is ever texted by the demo.
                assert number.startswith("+61491570")
        assert patient.consent_sms or patient.consent_email
        if patient.email:
            assert patient.email.endswith("@example.com")
    children = [patient for patient in patients if patient.is_minor]
    assert len(children) >= 10
    assert all(child.guardian_name and child.guardian_relationship for child in children)
    assert sum(bool(patient.medical_alerts) for patient in patients) >= 5
    assert sum(bool(patient.pms_id) for patient in patients) >= 150
    assert len({patient.mobile for patient in patients if patient.mobile}) == sum(bool(p.mobile) for p in patients)


def test_print_logins_shows_the_address_password_and_who_to_sign_in_as(demo):
    before = counts()
    output = load("--print-logins", "--url", "http://127.0.0.1:8000/")
    assert counts() == before
    assert "http://127.0.0.1:8000/" in output
    assert DEMO_PASSWORD in output
    assert "hannah@harbourhills.example" in output
    assert "Owner / manager" in output
    assert "Organisation admin" in output
    assert "Surry Hills and Subiaco" in output
    assert len([line for line in output.splitlines() if "@harbourhills.example" in line]) == 13


def test_print_logins_before_loading_says_how_to_load(db):
    with pytest.raises(CommandError, match="load_demo"):
        load("--print-logins")
    assert Organisation.objects.count() == 0


def test_it_refuses_to_create_published_passwords_outside_a_demo(db, settings):
    settings.DEMO = False
    settings.DEBUG = False
    with pytest.raises(CommandError, match="CLEARPLAN_DEMO"):
        load()
    assert Organisation.objects.count() == 0


def test_a_demo_login_signs_in_and_finds_a_patient(demo, client):
    response = client.post("/accounts/login/", {"login": "jack@harbourhills.example", "password": DEMO_PASSWORD})
    assert response.status_code == 302
    results = client.post("/patients/", {"q": "zoe obrien"}, follow=True)
    assert [patient.full_name for patient in results.context["patients"]] == ["Zoë O'Brien"]
    page = client.get(f"/patients/{results.context['patients'][0].public_id}/").content.decode()
    assert phones.for_display(results.context["patients"][0].mobile, country="AU") in page
