"""Choosing digests on Your profile, and the digest's button that opens the right clinic."""

from __future__ import annotations

import pytest
from django.urls import reverse

from clearplan.accounts.middleware import ACTIVE_CLINIC_SESSION_KEY
from clearplan.accounts.models import Membership
from clearplan.accounts.tests.factories import ClinicFactory, OrganisationFactory, staff_member
from clearplan.audit.models import AuditEvent
from clearplan.pipeline.models import DigestChoice

pytestmark = pytest.mark.django_db

CHOICES = reverse("pipeline:digest_choices")


def selected(html: str, name: str) -> str:
    """The value selected in the <select name=...> of `html`."""
    start = html.index(f'name="{name}"')
    block = html[start : html.index("</select>", start)]
    marker = block.index(" selected")
    return block[:marker].rsplit('value="', 1)[1].split('"', 1)[0]


def test_a_manager_sees_the_weekly_practice_digest_on_their_profile(owner_client):
    page = owner_client.get(reverse("accounts:profile")).content.decode()

    assert "Email digests" in page
    assert selected(page, "practice") == "weekly"
    assert 'name="my_patients"' not in page


def test_a_dentist_sees_my_patients_daily(dentist_client):
    page = dentist_client.get(reverse("accounts:profile")).content.decode()

    assert selected(page, "my_patients") == "daily"
    assert 'name="practice"' not in page


def test_a_coordinator_has_no_digest_to_choose(coordinator_client):
    assert "Email digests" not in coordinator_client.get(reverse("accounts:profile")).content.decode()
    page = coordinator_client.get(CHOICES).content.decode()
    assert "No digest for your role" in page


def test_saving_a_choice_keeps_it_and_records_who_changed_what(owner, owner_client):
    response = owner_client.post(CHOICES, {"practice": "daily"})

    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:profile") + "#digests-heading"
    assert DigestChoice.objects.get(user=owner, kind="practice").frequency == "daily"
    event = AuditEvent.objects.get(action="update", object_id=str(owner.public_id))
    assert event.changes == {"digest_practice": ["weekly", "daily"]}
    assert selected(owner_client.get(reverse("accounts:profile")).content.decode(), "practice") == "daily"

    owner_client.post(CHOICES, {"practice": "daily"})  # the same form sent twice changes nothing
    assert DigestChoice.objects.filter(user=owner).count() == 1
    assert AuditEvent.objects.filter(action="update", object_id=str(owner.public_id)).count() == 1


def test_a_choice_that_is_not_offered_is_shown_at_its_field_and_nothing_is_saved(owner, owner_client):
    response = owner_client.post(CHOICES, {"practice": "hourly"})

    assert response.status_code == 200
    page = response.content.decode()
    assert 'class="field field--error"' in page
    assert "Choose daily, weekly or don’t send." in page
    assert not DigestChoice.objects.exists()


def test_a_digest_not_offered_to_the_person_cannot_be_chosen(coordinator, coordinator_client):
    coordinator_client.post(CHOICES, {"practice": "daily", "my_patients": "daily"})
    assert not DigestChoice.objects.filter(user=coordinator).exists()


def test_the_digests_button_opens_the_board_in_the_digests_clinic(owner, other_clinic, owner_client):
    Membership.objects.create(user=owner, clinic=other_clinic, role=Membership.Role.MANAGER)

    response = owner_client.get(reverse("pipeline:digest_open", args=[other_clinic.public_id, "board"]))

    assert response.status_code == 302
    assert response["Location"] == reverse("pipeline:board")
    assert owner_client.session[ACTIVE_CLINIC_SESSION_KEY] == str(other_clinic.public_id)
    today = owner_client.get(reverse("pipeline:digest_open", args=[other_clinic.public_id, "today"]))
    assert today["Location"] == reverse("pipeline:today")


def test_the_button_for_a_clinic_that_is_not_theirs_is_not_found(owner_client, other_clinic):
    elsewhere = ClinicFactory(organisation=OrganisationFactory(), name="Elsewhere Dental")
    staff_member(elsewhere, Membership.Role.MANAGER)

    for clinic in (other_clinic, elsewhere):
        response = owner_client.get(reverse("pipeline:digest_open", args=[clinic.public_id, "board"]))
        assert response.status_code == 404
    assert owner_client.get(f"/digests/{other_clinic.public_id}/settings/").status_code == 404


def test_the_button_asks_someone_signed_out_to_sign_in_first(client, clinic):
    url = reverse("pipeline:digest_open", args=[clinic.public_id, "today"])
    response = client.get(url)
    assert response.status_code == 302
    assert "login" in response["Location"]
    assert "next=" in response["Location"]
