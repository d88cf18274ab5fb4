"""Managers invite staff by email; the link in the email sets up their account."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from clearplan.accounts.models import Invitation, Membership, User
from clearplan.accounts.tests.factories import ClinicFactory, staff_member
from clearplan.audit.models import AuditEvent

NEW_PASSWORD = "tooth fairy visits on tuesdays"


def _invite(client, sending, **fields):
    data = {"email": "new.hygienist@example.com", "role": "practitioner", "clinical_role": "hygienist"} | fields
    with sending():
        return client.post("/settings/team/invite/", data)


def _link_path(message) -> str:
    return re.search(r"http://127\.0\.0\.1:8000(/join/[\w-]+/)", message.body).group(1)


ACCEPT_PATH = "/join/accept/"


def _open(client, path):
    """Follow the emailed link as a browser would: to the page it leads to."""
    return client.get(path, follow=True)


def _accept(client, path, **fields):
    """Open the emailed link, then fill in the form on the page it leads to."""
    _open(client, path)
    data = {"first_name": "Noor", "last_name": "Haddad", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    return client.post(ACCEPT_PATH, data | fields)


def test_a_manager_invites_a_practitioner_and_the_email_carries_a_set_password_link(
    owner_client, owner, clinic, sending, mailoutbox
):
    response = _invite(owner_client, sending)
    assert response.status_code == 302
    assert response["Location"] == "/settings/team/"

    invitation = Invitation.objects.get()
    assert invitation.email == "new.hygienist@example.com"
    assert invitation.clinic == clinic
    assert invitation.role == Membership.Role.PRACTITIONER
    assert invitation.clinical_role == Membership.ClinicalRole.HYGIENIST
    assert invitation.invited_by == owner
    assert invitation.expires_at - invitation.sent_at == timedelta(days=7)

    [message] = mailoutbox
    assert message.to == ["new.hygienist@example.com"]
    assert message.subject == f"Olivia Owner invited you to {clinic.name} on Clearplan"
    assert "Choose your password" in message.alternatives[0][0]
    path = _link_path(message)
    token = path.split("/")[2]
    # Only a hash of the token is kept.
    assert invitation.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(Invitation.objects.values().get())

    event = AuditEvent.objects.get(action=AuditEvent.Action.INVITE)
    assert event.actor == owner
    assert event.changes["event"] == "sent"
    assert event.changes["role"] == "practitioner"

    page = owner_client.get("/settings/team/").content.decode()
    assert "new.hygienist@example.com" in page
    assert "Waiting" in page


def test_accepting_sets_name_and_password_creates_the_account_and_signs_in(owner_client, clinic, sending, mailoutbox):
    _invite(owner_client, sending)
    path = _link_path(mailoutbox[0])
    visitor = Client()
    page = _open(visitor, path).content.decode()
    assert f"Join {clinic.name}" in page
    assert "new.hygienist@example.com" in page

    response = _accept(visitor, path)
    assert response.status_code == 302
    user = User.objects.get(email="new.hygienist@example.com")
    assert (user.first_name, user.last_name) == ("Noor", "Haddad")
    assert user.organisation == clinic.organisation
    assert user.check_password(NEW_PASSWORD)
    membership = user.memberships.get()
    assert (membership.clinic, membership.role, membership.clinical_role) == (clinic, "practitioner", "hygienist")

    assert visitor.get("/today/").status_code == 200
    invitation = Invitation.objects.get()
    assert invitation.accepted_at is not None
    assert invitation.accepted_by == user
    assert AuditEvent.objects.filter(action=AuditEvent.Action.SIGN_IN, actor=user).exists()
    assert AuditEvent.objects.filter(action=AuditEvent.Action.INVITE, changes__event="accepted").exists()


def test_a_weak_or_mismatched_password_is_refused_at_the_field_and_nothing_is_created(
    owner_client, sending, mailoutbox
):
    _invite(owner_client, sending)
    path = _link_path(mailoutbox[0])
    visitor = Client()
    response = _accept(visitor, path, password1="password", password2="password")
    page = response.content.decode()
    assert response.status_code == 200
    assert "This password is too short" in page
    assert 'aria-invalid="true"' in page
    response = _accept(visitor, path, password2="something else entirely")
    assert "The two passwords don&#x27;t match." in response.content.decode()
    response = _accept(visitor, path, first_name="", password1="noor haddad", password2="noor haddad")
    assert "This field is required." in response.content.decode()
    assert not User.objects.filter(email="new.hygienist@example.com").exists()
    assert Invitation.objects.get().accepted_at is None


def test_a_used_link_says_so_and_offers_sign_in(owner_client, sending, mailoutbox):
    _invite(owner_client, sending)
    path = _link_path(mailoutbox[0])
    _accept(Client(), path)
    response = Client().get(path)
    assert response.status_code == 410
    assert "This invitation has been used" in response.content.decode()


def test_an_expired_link_says_who_to_ask(owner_client, sending, mailoutbox):
    _invite(owner_client, sending)
    path = _link_path(mailoutbox[0])
    with time_machine.travel(timezone.now() + timedelta(days=7, minutes=1)):
        response = Client().get(path)
        assert response.status_code == 410
        assert "This invitation has expired" in response.content.decode()
        assert "Ask Olivia Owner" in response.content.decode()
        _accept(Client(), path)
    assert not User.objects.filter(email="new.hygienist@example.com").exists()


def test_a_withdrawn_invitation_stops_working(owner_client, owner, sending, mailoutbox):
    _invite(owner_client, sending)
    path = _link_path(mailoutbox[0])
    invitation = Invitation.objects.get()
    response = owner_client.post(f"/settings/team/invitations/{invitation.public_id}/withdraw/")
    assert response.status_code == 302
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None
    assert "This invitation was withdrawn" in _open(Client(), path).content.decode()
    assert "No invitations are waiting" in owner_client.get("/settings/team/").content.decode()
    assert AuditEvent.objects.filter(action=AuditEvent.Action.INVITE, changes__event="withdrawn").exists()


def test_the_token_leaves_the_address_at_once_and_the_form_posts_without_it(owner_client, sending, mailoutbox):
    """Addresses reach access logs and browser history: the token is in the first request only."""
    _invite(owner_client, sending)
    path = _link_path(mailoutbox[0])
    token = path.split("/")[2]
    visitor = Client()
    response = visitor.get(path)
    assert response.status_code == 302
    assert response["Location"] == ACCEPT_PATH
    assert response["Referrer-Policy"] == "no-referrer"
    assert token not in str(dict(visitor.session))

    page = visitor.get(ACCEPT_PATH)
    assert page.status_code == 200
    assert page["Referrer-Policy"] == "no-referrer"
    assert token not in page.content.decode()  # the form posts back to this token-free address

    response = visitor.post(ACCEPT_PATH, {"first_name": "Noor", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response.status_code == 302
    assert User.objects.filter(email="new.hygienist@example.com").exists()


def test_the_accept_page_without_opening_the_link_says_to_open_it_again(client, db):
    response = client.get(ACCEPT_PATH)
    assert response.status_code == 410
    assert response["Referrer-Policy"] == "no-referrer"
    assert "Open your invitation link again" in response.content.decode()
    response = client.post(ACCEPT_PATH, {"first_name": "Noor", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response.status_code == 410
    assert not User.objects.filter(first_name="Noor").exists()


def test_a_link_opened_before_a_resend_stops_working(owner_client, owner, sending, mailoutbox):
    _invite(owner_client, sending)
    visitor = Client()
    _open(visitor, _link_path(mailoutbox[0]))
    invitation = Invitation.objects.get()
    with sending():
        owner_client.post(f"/settings/team/invitations/{invitation.public_id}/resend/")
    response = visitor.post(ACCEPT_PATH, {"first_name": "Noor", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response.status_code == 410
    assert "This invitation link doesn" in response.content.decode()
    assert not User.objects.filter(email="new.hygienist@example.com").exists()


def test_an_invitation_withdrawn_while_its_page_is_open_cannot_be_accepted(owner_client, sending, mailoutbox):
    _invite(owner_client, sending)
    visitor = Client()
    _open(visitor, _link_path(mailoutbox[0]))
    invitation = Invitation.objects.get()
    owner_client.post(f"/settings/team/invitations/{invitation.public_id}/withdraw/")
    response = visitor.post(ACCEPT_PATH, {"first_name": "Noor", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response.status_code == 410
    assert "This invitation was withdrawn" in response.content.decode()
    assert not User.objects.filter(email="new.hygienist@example.com").exists()


def test_an_unknown_link_gets_a_clear_page(client, db):
    response = client.get("/join/not-a-real-token/")
    assert response.status_code == 410
    assert response["Referrer-Policy"] == "no-referrer"
    assert "This invitation link doesn" in response.content.decode()


def _manager_client(user) -> Client:
    # A fresh sign-in: the idle time-out would end a session carried across days.
    client = Client()
    client.force_login(user)
    return client


def test_resending_sends_a_new_link_and_the_old_one_stops_working(owner_client, owner, sending, mailoutbox):
    _invite(owner_client, sending)
    old_path = _link_path(mailoutbox[0])
    invitation = Invitation.objects.get()
    with time_machine.travel(timezone.now() + timedelta(days=6)):
        with sending():
            response = _manager_client(owner).post(f"/settings/team/invitations/{invitation.public_id}/resend/")
        assert response.status_code == 302
    assert len(mailoutbox) == 2
    new_path = _link_path(mailoutbox[1])
    assert new_path != old_path
    invitation.refresh_from_db()
    assert invitation.expires_at > timezone.now() + timedelta(days=12)
    assert _open(Client(), old_path).status_code == 410
    assert _open(Client(), new_path).status_code == 200
    assert AuditEvent.objects.filter(action=AuditEvent.Action.INVITE, changes__event="resent").exists()


def test_an_expired_invitation_can_be_resent_from_the_team_page(owner_client, owner, sending, mailoutbox):
    _invite(owner_client, sending)
    with time_machine.travel(timezone.now() + timedelta(days=8)):
        manager = _manager_client(owner)
        page = manager.get("/settings/team/").content.decode()
        assert "Expired" in page
        invitation = Invitation.objects.get()
        with sending():
            manager.post(f"/settings/team/invitations/{invitation.public_id}/resend/")
        assert _open(Client(), _link_path(mailoutbox[-1])).status_code == 200


def test_inviting_someone_again_while_an_invitation_waits_asks_to_resend_instead(owner_client, sending, mailoutbox):
    _invite(owner_client, sending)
    response = _invite(owner_client, sending, email="New.Hygienist@Example.com")
    assert response.status_code == 200
    assert "already has an invitation waiting" in response.content.decode()
    assert Invitation.objects.count() == 1
    assert len(mailoutbox) == 1


def test_someone_who_already_works_here_cannot_be_invited(owner_client, coordinator, sending, mailoutbox):
    response = _invite(owner_client, sending, email=coordinator.email, role="front_desk", clinical_role="")
    assert "already works at" in response.content.decode()
    assert not Invitation.objects.exists()
    assert mailoutbox == []


@pytest.mark.parametrize(
    "account_fields",
    [
        {},  # works at another practice, in its own organisation
        {"is_active": False},  # a former member of another practice
        {"organisation": None},  # an account that belongs to no practice
    ],
    ids=["another-practice", "former-member-elsewhere", "no-practice"],
)
def test_an_address_held_outside_the_organisation_is_refused_without_saying_where(
    owner_client, sending, mailoutbox, account_fields
):
    other_practice = ClinicFactory(name="Bayside Orthodontics")
    taken = staff_member(other_practice, Membership.Role.COORDINATOR, email="taken@example.com", first_name="Quentin")
    User.objects.filter(pk=taken.pk).update(**account_fields)
    response = _invite(owner_client, sending, email="taken@example.com", role="coordinator", clinical_role="")
    page = response.content.decode()
    assert response.status_code == 200
    assert "This address can&#x27;t be invited. Ask the person for another email address, or contact support." in page
    for giveaway in ("another practice", "already used", "Bayside", "Quentin"):
        assert giveaway not in page
    assert not Invitation.objects.exists()
    assert mailoutbox == []


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"email": "not an email"}, "Enter a valid email address."),
        ({"clinical_role": ""}, "Choose the practitioner&#x27;s clinical role."),
        ({"role": "owner"}, "Select a valid choice."),
    ],
)
def test_bad_invitation_input_is_shown_at_the_field_and_nothing_is_sent(
    owner_client, sending, mailoutbox, fields, message
):
    response = _invite(owner_client, sending, **fields)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Invitation.objects.exists()
    assert mailoutbox == []


def test_a_non_practitioner_invitation_keeps_no_clinical_role(owner_client, sending):
    _invite(owner_client, sending, role="front_desk", clinical_role="dentist")
    assert Invitation.objects.get().clinical_role == ""


def test_someone_elsewhere_in_the_organisation_joins_with_their_existing_account(
    owner_client, outsider, clinic, password, sending, mailoutbox
):
    _invite(owner_client, sending, email=outsider.email, role="coordinator", clinical_role="")
    path = _link_path(mailoutbox[0])
    visitor = Client()
    page = _open(visitor, path).content.decode()
    assert "You already have a Clearplan account" in page
    response = visitor.post(ACCEPT_PATH)
    assert response["Location"] == "/accounts/login/"
    assert set(outsider.memberships.values_list("clinic__name", flat=True)) == {clinic.name, "Harbour Dental Perth"}
    outsider.refresh_from_db()
    assert outsider.check_password(password)  # their password is untouched
    assert "_auth_user_id" not in visitor.session  # they sign in as usual


def test_a_removed_staff_member_can_be_invited_back_and_chooses_a_new_password(
    owner_client, owner, clinic, sending, mailoutbox
):
    former = staff_member(clinic, Membership.Role.FRONT_DESK, email="former@example.com")
    owner_client.post(f"/settings/team/{former.public_id}/remove/")
    former.refresh_from_db()
    assert not former.is_active
    _invite(owner_client, sending, email="former@example.com", role="front_desk", clinical_role="")
    response = _accept(Client(), _link_path(mailoutbox[0]))
    assert response.status_code == 302
    former.refresh_from_db()
    assert former.is_active
    assert former.check_password(NEW_PASSWORD)
    assert former.memberships.get().clinic == clinic


def test_the_invitation_link_for_someone_else_does_not_act_for_a_signed_in_user(
    owner_client, outsider, sending, mailoutbox, coordinator_client
):
    _invite(owner_client, sending, email=outsider.email, role="coordinator", clinical_role="")
    path = _link_path(mailoutbox[0])
    page = _open(coordinator_client, path).content.decode()
    assert "but you're signed in as coordinator@example.com" in page
    coordinator_client.post(ACCEPT_PATH)
    assert outsider.memberships.count() == 1


def test_only_managers_can_invite(coordinator_client, sending):
    assert coordinator_client.get("/settings/team/invite/").status_code == 403
    response = _invite(coordinator_client, sending)
    assert response.status_code == 403
    assert "You don't have access to this page" in response.content.decode()
    assert not Invitation.objects.exists()


def test_another_clinics_invitation_is_not_found_by_url(owner_client, other_clinic, outsider):
    foreign = Invitation.objects.create(
        email="x@example.com",
        clinic=other_clinic,
        role="coordinator",
        invited_by=outsider,
        token_hash="0" * 64,
        sent_at=timezone.now(),
        expires_at=timezone.now() + timedelta(days=7),
    )
    assert owner_client.post(f"/settings/team/invitations/{foreign.public_id}/resend/").status_code == 404
    assert owner_client.post(f"/settings/team/invitations/{foreign.public_id}/withdraw/").status_code == 404
    foreign.refresh_from_db()
    assert foreign.revoked_at is None


def test_an_invitation_for_a_clinic_in_another_organisation_is_separate(db, sending, mailoutbox):
    other_manager = staff_member(ClinicFactory(), Membership.Role.MANAGER)
    client = Client()
    client.force_login(other_manager)
    _invite(client, sending, email="noor@example.com", role="coordinator", clinical_role="")
    _accept(Client(), _link_path(mailoutbox[0]))
    user = User.objects.get(email="noor@example.com")
    assert user.organisation == other_manager.organisation
