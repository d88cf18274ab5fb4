from __future__ import annotations

from django.test import Client

from clearplan.accounts.models import Membership
from clearplan.accounts.tests.factories import ClinicFactory, MembershipFactory, UserFactory


def test_someone_in_two_clinics_switches_between_them(coordinator, coordinator_client, clinic, other_clinic):
    MembershipFactory(user=coordinator, clinic=other_clinic, role=Membership.Role.COORDINATOR)
    page = coordinator_client.get("/today/").content.decode()
    assert "Clinic you are working in" in page
    assert f'value="{other_clinic.public_id}"' in page

    response = coordinator_client.post(
        "/settings/switch-clinic/", {"clinic": str(other_clinic.public_id), "next": "/settings/"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/settings/"
    page = coordinator_client.get("/settings/").content.decode()
    assert f'<option value="{other_clinic.public_id}" selected>' in page


def test_a_clinic_they_do_not_belong_to_cannot_be_chosen(coordinator_client, clinic, other_clinic):
    response = coordinator_client.post("/settings/switch-clinic/", {"clinic": str(other_clinic.public_id)})
    assert response.status_code == 302
    page = coordinator_client.get("/settings/").content.decode()
    assert other_clinic.name not in page
    assert clinic.name in page


def test_a_clinic_in_another_organisation_cannot_be_chosen_even_by_an_organisation_admin(organisation, clinic):
    admin = UserFactory(organisation=organisation, is_organisation_admin=True)
    foreign = ClinicFactory(name="Somebody Else's Dental")
    client = Client()
    client.force_login(admin)
    client.post("/settings/switch-clinic/", {"clinic": str(foreign.public_id)})
    assert "Somebody Else" not in client.get("/settings/").content.decode()


def test_organisation_admins_see_every_clinic_of_their_organisation(organisation, clinic, other_clinic):
    admin = UserFactory(organisation=organisation, is_organisation_admin=True)
    client = Client()
    client.force_login(admin)
    page = client.get("/today/").content.decode()
    assert f'value="{clinic.public_id}"' in page
    assert f'value="{other_clinic.public_id}"' in page
    client.post("/settings/switch-clinic/", {"clinic": str(other_clinic.public_id)})
    assert f'<option value="{other_clinic.public_id}" selected>' in client.get("/today/").content.decode()


def test_switching_from_a_patient_page_lands_on_the_patient_list(coordinator, coordinator_client, other_clinic):
    MembershipFactory(user=coordinator, clinic=other_clinic, role=Membership.Role.COORDINATOR)
    response = coordinator_client.post(
        "/settings/switch-clinic/",
        {"clinic": str(other_clinic.public_id), "next": "/patients/0b0e3c9e-7d7c-4a57-9c59-5b3c2d2f0a11/"},
    )
    assert response["Location"] == "/patients/"


def test_switching_never_redirects_to_another_site(coordinator_client):
    response = coordinator_client.post("/settings/switch-clinic/", {"clinic": "x", "next": "https://evil.example/"})
    assert response["Location"] == "/"


def test_an_organisation_admin_starts_in_a_clinic_where_they_hold_a_role(organisation, clinic, other_clinic):
    # "Harbour Dental Perth" sorts first, but the admin works at Sydney.
    admin = UserFactory(organisation=organisation, is_organisation_admin=True)
    MembershipFactory(user=admin, clinic=clinic, role=Membership.Role.MANAGER)
    client = Client()
    client.force_login(admin)
    assert f'<option value="{clinic.public_id}" selected>' in client.get("/today/").content.decode()


def test_times_on_pages_are_shown_in_the_active_clinics_time_zone(outsider, outsider_client, owner_client, owner):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    # 01:30 UTC is 12:30 pm in Sydney (daylight saving) and 9:30 am in Perth.
    moment = datetime(2026, 1, 15, 1, 30, tzinfo=ZoneInfo("UTC"))
    type(outsider).objects.filter(pk__in=[outsider.pk, owner.pk]).update(last_login=moment)
    assert "9:30 a.m." in outsider_client.get("/settings/profile/").content.decode()
    assert "12:30 p.m." in owner_client.get("/settings/profile/").content.decode()
