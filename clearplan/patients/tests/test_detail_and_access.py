from datetime import date

import pytest
import time_machine
from django.test import Client

from clearplan.accounts.middleware import ACTIVE_CLINIC_SESSION_KEY
from clearplan.accounts.models import Membership
from clearplan.accounts.tests.factories import MembershipFactory
from clearplan.audit.models import AuditEvent
from clearplan.patients.services import record_version
from clearplan.patients.tests.factories import PatientFactory


@pytest.fixture
def zoe(clinic, dentist):
    return PatientFactory(
        clinic=clinic,
        first_name="Zoë",
        last_name="O'Brien",
        preferred_name="Zo",
        date_of_birth=date(1988, 3, 14),
        mobile="+61412345678",
        email="zoe@example.com",
        consent_sms=True,
        consent_email=False,
        pms_id="10423",
        primary_dentist=dentist,
        medical_alerts="Takes warfarin — check INR before extractions.",
        notes="Prefers early appointments.",
    )


def url(patient, suffix=""):
    return f"/patients/{patient.public_id}/{suffix}"


def test_the_record_shows_everything_the_team_needs(coordinator_client, zoe):
    page = coordinator_client.get(url(zoe)).content.decode()
    assert "Zoë O&#x27;Brien" in page
    assert "prefers “Zo”" in page
    assert "Born 14 March 1988" in page
    assert "0412 345 678" in page
    assert "zoe@example.com" in page
    assert "Agrees to SMS" in page
    assert "No email consent" in page
    assert "Takes warfarin — check INR before extractions." in page
    assert "Priya Raman" in page
    assert "10423" in page
    assert "Prefers early appointments." in page
    assert f'href="/patients/{zoe.public_id}/edit/"' in page
    assert "Treatment cases" in page


def test_medical_alerts_are_shown_prominently_in_the_danger_style(coordinator_client, zoe):
    page = coordinator_client.get(url(zoe)).content.decode()
    alerts_at = page.index("notice--error medical-alerts")
    assert alerts_at < page.index("Contact</h2>")
    assert '<span class="badge badge--danger">Medical alert</span>' in page


def test_a_child_without_a_guardian_is_pointed_out(coordinator_client, clinic):
    child = PatientFactory(clinic=clinic, date_of_birth=date(date.today().year - 8, 1, 1))
    page = coordinator_client.get(url(child)).content.decode()
    assert "No parent or guardian is recorded" in page
    assert "Under 18" in page


def test_us_clinics_see_us_dates_and_phone_numbers(organisation):
    from clearplan.accounts.tests.factories import ClinicFactory, staff_member

    us_clinic = ClinicFactory(organisation=organisation, locale="en-US", time_zone="America/New_York")
    user = staff_member(us_clinic, Membership.Role.COORDINATOR)
    patient = PatientFactory(clinic=us_clinic, date_of_birth=date(1988, 3, 14), mobile="+14155552671")
    client = Client()
    client.force_login(user)
    page = client.get(url(patient)).content.decode()
    assert "Born March 14, 1988" in page
    assert "(415) 555-2671" in page


def test_every_view_of_a_record_is_audited_with_the_address(coordinator_client, coordinator, zoe):
    coordinator_client.get(url(zoe), REMOTE_ADDR="203.0.113.7")
    coordinator_client.get(url(zoe, "edit/"), REMOTE_ADDR="203.0.113.7")
    views = AuditEvent.objects.filter(action=AuditEvent.Action.VIEW, object_id=str(zoe.public_id))
    assert views.count() == 2
    event = views.first()
    assert event.actor == coordinator
    assert event.object_type == "patient"
    assert event.ip_address == "203.0.113.7"
    assert event.clinic == zoe.clinic


@pytest.mark.parametrize("suffix", ["", "edit/"])
def test_an_outsider_gets_not_found_for_another_clinics_patient(outsider_client, zoe, suffix):
    response = outsider_client.get(url(zoe, suffix))
    assert response.status_code == 404
    assert "O&#x27;Brien" not in response.content.decode()
    assert not AuditEvent.objects.filter(object_id=str(zoe.public_id)).exists()


def test_an_outsider_cannot_change_another_clinics_patient(outsider_client, coordinator_client, zoe):
    # A complete, valid edit: were the clinic check missing, this would be saved.
    complete = {
        "version": record_version(zoe),
        "first_name": "Hacked",
        "last_name": "O'Brien",
        "preferred_name": "Zo",
        "date_of_birth": "14/03/1988",
        "mobile": "0412 345 678",
        "email": "zoe@example.com",
        "preferred_channel": "sms",
        "consent_sms": "on",
        "pms_id": "10423",
        "medical_alerts": "Takes warfarin — check INR before extractions.",
        "notes": "Prefers early appointments.",
    }
    response = outsider_client.post(url(zoe, "edit/"), complete)
    assert response.status_code == 404
    zoe.refresh_from_db()
    assert zoe.first_name == "Zoë"
    assert not AuditEvent.objects.filter(object_id=str(zoe.public_id)).exists()

    # The same form from someone at Zoë's clinic is accepted, so it is the clinic that was refused.
    assert coordinator_client.post(url(zoe, "edit/"), complete).status_code == 302
    zoe.refresh_from_db()
    assert zoe.first_name == "Hacked"


def test_a_person_in_two_clinics_sees_a_patient_only_in_the_clinic_they_are_working_in(coordinator, zoe, other_clinic):
    MembershipFactory(user=coordinator, clinic=other_clinic, role=Membership.Role.COORDINATOR)
    client = Client()
    client.force_login(coordinator)
    session = client.session
    session[ACTIVE_CLINIC_SESSION_KEY] = str(other_clinic.public_id)
    session.save()
    assert client.get(url(zoe)).status_code == 404
    assert client.get("/patients/").context["page"].paginator.count == 0

    session = client.session
    session[ACTIVE_CLINIC_SESSION_KEY] = str(zoe.clinic.public_id)
    session.save()
    assert client.get(url(zoe)).status_code == 200


def test_a_made_up_patient_address_is_not_found(coordinator_client, db):
    assert coordinator_client.get("/patients/00000000-0000-0000-0000-000000000000/").status_code == 404


@pytest.mark.parametrize("role_client", ["owner_client", "dentist_client", "coordinator_client", "front_desk_client"])
def test_every_role_can_see_the_clinics_patients(request, role_client, zoe):
    client = request.getfixturevalue(role_client)
    assert client.get("/patients/").context["page"].paginator.count == 1
    assert client.get(url(zoe)).status_code == 200
    assert client.get(url(zoe, "edit/")).status_code == 200
    assert client.get("/patients/new/").status_code == 200


def test_signed_out_visitors_are_sent_to_sign_in(client, zoe):
    response = client.get(url(zoe))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert not AuditEvent.objects.filter(object_id=str(zoe.public_id)).exists()


@pytest.mark.parametrize(
    ("born", "words"),
    [
        (date(1988, 3, 14), "36 years"),
        (date(2022, 6, 14), "2 years"),
        (date(2023, 4, 20), "13 months"),
        (date(2024, 5, 14), "1 month"),
        (date(2024, 6, 1), "under 1 month"),
    ],
)
def test_age_reads_naturally_for_babies_and_adults(clinic, born, words):
    patient = PatientFactory(clinic=clinic, date_of_birth=born)
    with time_machine.travel("2024-06-14 02:00:00+00:00", tick=False):
        assert patient.age_in_words == words
