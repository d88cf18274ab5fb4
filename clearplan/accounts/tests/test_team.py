"""The team page: who works at the clinic, their roles, and changes to them."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FuturesTimeout

import pytest
from allauth.mfa.models import Authenticator
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone

from clearplan.accounts import services
from clearplan.accounts.models import Clinic, Membership
from clearplan.accounts.tests.factories import ClinicFactory, UserFactory, staff_member
from clearplan.audit.models import AuditEvent


def test_the_team_page_lists_the_clinics_staff_with_roles_two_factor_and_last_sign_in(
    owner_client, owner, dentist, coordinator, front_desk, outsider
):
    Authenticator.objects.create(user=dentist, type=Authenticator.Type.TOTP, data={"secret": "x"})
    dentist.last_login = timezone.now()
    dentist.save()
    page = owner_client.get("/settings/team/").content.decode()
    for person in (owner, dentist, coordinator, front_desk):
        assert person.email in page
    assert outsider.email not in page
    assert "Dentist" in page
    assert "Treatment coordinator" in page
    assert page.count('badge--success">On') == 1
    assert "Never" in page


def test_the_team_page_does_not_grow_queries_with_the_team(owner_client, clinic, django_assert_max_num_queries):
    for _ in range(3):
        staff_member(clinic, Membership.Role.COORDINATOR)
    with django_assert_max_num_queries(12) as first:
        owner_client.get("/settings/team/")
    for _ in range(10):
        staff_member(clinic, Membership.Role.FRONT_DESK)
    with django_assert_max_num_queries(len(first.captured_queries)):
        owner_client.get("/settings/team/")


@pytest.mark.parametrize(
    "path", ["/settings/team/", "/settings/team/invite/", "/settings/clinic/", "/settings/organisation/"]
)
def test_manager_pages_are_closed_to_other_roles_with_the_friendly_page(coordinator_client, path):
    response = coordinator_client.get(path)
    assert response.status_code == 403
    assert "You don't have access to this page" in response.content.decode()


def test_a_manager_changes_a_role_and_it_is_audited(owner_client, owner, coordinator):
    response = owner_client.post(
        f"/settings/team/{coordinator.public_id}/", {"role": "practitioner", "clinical_role": "oral_health_therapist"}
    )
    assert response.status_code == 302
    membership = coordinator.memberships.get()
    assert (membership.role, membership.clinical_role) == ("practitioner", "oral_health_therapist")
    event = AuditEvent.objects.get(action=AuditEvent.Action.PERMISSION)
    assert event.actor == owner
    assert event.object_id == str(coordinator.public_id)
    assert event.changes == {
        "role": ["coordinator", "practitioner"],
        "clinical_role": ["", "oral_health_therapist"],
    }


def test_a_practitioner_needs_a_clinical_role(owner_client, coordinator):
    response = owner_client.post(f"/settings/team/{coordinator.public_id}/", {"role": "practitioner"})
    assert response.status_code == 200
    assert "Choose the practitioner&#x27;s clinical role." in response.content.decode()
    assert coordinator.memberships.get().role == "coordinator"


def test_the_last_manager_cannot_step_down_or_be_removed(owner_client, owner):
    response = owner_client.post(f"/settings/team/{owner.public_id}/", {"role": "coordinator"})
    assert response.status_code == 200
    assert "needs at least one owner or manager" in response.content.decode()
    response = owner_client.post(f"/settings/team/{owner.public_id}/remove/")
    assert response.status_code == 200
    assert "needs at least one owner or manager" in response.content.decode()
    assert owner.memberships.get().role == "manager"
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.PERMISSION).exists()


def test_a_manager_can_step_down_when_another_manager_remains(owner_client, owner, clinic):
    staff_member(clinic, Membership.Role.MANAGER)
    response = owner_client.post(f"/settings/team/{owner.public_id}/", {"role": "coordinator"})
    assert response.status_code == 302
    assert owner.memberships.get().role == "coordinator"
    assert owner_client.get("/settings/team/").status_code == 403


def test_removing_someone_takes_away_their_access_and_is_audited(owner_client, owner, front_desk, password):
    page = owner_client.get(f"/settings/team/{front_desk.public_id}/remove/").content.decode()
    assert f"Remove {front_desk.display_name} from" in page
    response = owner_client.post(f"/settings/team/{front_desk.public_id}/remove/")
    assert response.status_code == 302
    assert not front_desk.memberships.exists()
    front_desk.refresh_from_db()
    assert not front_desk.is_active
    # They can no longer sign in.
    response = Client().post("/accounts/login/", {"login": front_desk.email, "password": password})
    assert response.status_code != 302 or response["Location"] == "/accounts/inactive/"
    event = AuditEvent.objects.get(action=AuditEvent.Action.PERMISSION)
    assert event.changes == {"role": ["front_desk", None], "account_deactivated": True}


def test_removing_someone_who_works_elsewhere_too_keeps_their_account(owner_client, coordinator, other_clinic):
    Membership.objects.create(user=coordinator, clinic=other_clinic, role=Membership.Role.COORDINATOR)
    owner_client.post(f"/settings/team/{coordinator.public_id}/remove/")
    coordinator.refresh_from_db()
    assert coordinator.is_active
    assert [m.clinic for m in coordinator.memberships.all()] == [other_clinic]


def test_a_removed_persons_open_session_ends(owner_client, front_desk, front_desk_client):
    assert front_desk_client.get("/today/").status_code == 200
    owner_client.post(f"/settings/team/{front_desk.public_id}/remove/")
    assert front_desk_client.get("/today/").status_code == 302


def test_another_clinics_staff_member_is_not_found_by_url(owner_client, outsider):
    assert owner_client.get(f"/settings/team/{outsider.public_id}/").status_code == 404
    assert owner_client.post(f"/settings/team/{outsider.public_id}/remove/").status_code == 404
    assert outsider.memberships.exists()


def test_organisation_admins_are_shown_on_every_clinics_team(owner_client, organisation):
    admin = UserFactory(organisation=organisation, is_organisation_admin=True, email="admin@example.com")
    page = owner_client.get("/settings/team/").content.decode()
    assert admin.email in page
    assert "Organisation administrator" in page


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("change", ["step_down", "remove"])
def test_a_manager_leaving_while_another_manager_is_part_way_through_leaving_is_refused(change):
    """Two managers step down at the same moment. The first request has counted the other
    managers and demoted its manager but not yet committed; the second must wait for it and
    then see there is no manager left besides its own, instead of counting the first as one."""
    clinic = ClinicFactory()
    first, second = (staff_member(clinic, Membership.Role.MANAGER) for _ in range(2))
    second_membership = Membership.objects.get(user=second)

    def second_leaves() -> str:
        try:
            if change == "step_down":
                services.membership_change_role(membership=second_membership, by=second, role="coordinator")
            else:
                services.membership_remove(membership=second_membership, by=second)
            return "done"
        except ValidationError:
            return "refused"
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        with transaction.atomic():
            # The first request, part-way through: it holds the clinic's team, as the services do.
            Clinic.objects.select_for_update().get(pk=clinic.pk)
            Membership.objects.filter(user=first).update(role=Membership.Role.COORDINATOR)
            outcome = pool.submit(second_leaves)
            with pytest.raises(FuturesTimeout):
                outcome.result(timeout=0.5)  # it waits for the first request to finish
        assert outcome.result(timeout=10) == "refused"
    assert Membership.objects.filter(clinic=clinic, role=Membership.Role.MANAGER).get().user == second
