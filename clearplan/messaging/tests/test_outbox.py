"""The demo outbox: the email backend that keeps messages as files, and the page where
organisation administrators read the ones sent to their own organisation's people."""

from __future__ import annotations

import os
import stat
from datetime import UTC, datetime

import pytest
from django.core.mail import EmailMessage, EmailMultiAlternatives
from django.db import transaction
from django.test import Client
from django.urls import reverse

from clearplan.accounts.models import Membership
from clearplan.accounts.services import invitation_create
from clearplan.accounts.tests.factories import ClinicFactory, OrganisationFactory, UserFactory, staff_member
from clearplan.audit.models import AuditEvent
from clearplan.lib.email_url import OUTBOX_BACKEND
from clearplan.messaging.outbox import (
    ORGANISATION_HEADER,
    message_path,
    organisation_of_recipients,
    outbox_directory,
)
from clearplan.messaging.selectors import outbox_message, outbox_messages
from clearplan.messaging.services import email_send_later
from clearplan.messaging.tests.conftest import IMMEDIATE_TASKS

NOTICE = "Demo outbox: in a real installation these emails are delivered by your mail server."
RESET_LINK = "http://127.0.0.1:8000/accounts/password/reset/key/3-abc-def/"
# The coordinator fixture's address: a member of the base fixtures' organisation.
TEAM_MEMBER = "coordinator@example.com"


@pytest.fixture
def outbox(settings):
    settings.EMAIL_BACKEND = OUTBOX_BACKEND
    return settings.OUTBOX_DIR


@pytest.fixture
def admin(owner, coordinator):
    owner.is_organisation_admin = True
    owner.save(update_fields=["is_organisation_admin"])
    return owner


@pytest.fixture
def admin_client(admin):
    client = Client()
    client.force_login(admin)
    return client


@pytest.fixture
def rival_admin(db):
    """An organisation administrator of another practice group on the same installation."""
    rival_clinic = ClinicFactory(organisation=OrganisationFactory(name="Rival Dental Group"), name="Rival Dental")
    return staff_member(
        rival_clinic, Membership.Role.MANAGER, email="rival.admin@example.com", is_organisation_admin=True
    )


def _organisation_id(user) -> str:
    return str(user.organisation.public_id)


def _names() -> set[str]:
    return {path.stem for path in outbox_directory().glob("*.eml")}


def _send(subject: str, *, to: str = TEAM_MEMBER, body: str = "Hello", sent_at: datetime | None = None) -> str:
    before = _names()
    EmailMessage(subject=subject, body=body, to=[to]).send()
    [name] = _names() - before
    if sent_at is not None:
        timestamp = sent_at.timestamp()
        os.utime(message_path(name), (timestamp, timestamp))
    return name


def test_the_outbox_backend_keeps_each_message_as_a_private_eml_file(outbox, db):
    message = EmailMultiAlternatives(subject="Welcome to Clearplan", body="Plain words", to=["sam@example.com"])
    message.attach_alternative("<p>Formatted words</p>", "text/html")

    assert message.send() == 1

    [eml] = list(outbox.iterdir())
    assert eml.suffix == ".eml"
    assert len(eml.stem) == 32
    assert stat.S_IMODE(eml.stat().st_mode) == 0o600
    content = eml.read_bytes()
    assert b"Subject: Welcome to Clearplan" in content
    assert b"Plain words" in content
    assert b"<p>Formatted words</p>" in content


@pytest.mark.django_db
def test_two_messages_never_share_a_file(outbox, admin):
    EmailMessage(subject="One", body="1", to=[TEAM_MEMBER]).send()
    EmailMessage(subject="Two", body="2", to=[admin.email]).send()

    listing = outbox_messages(organisation=_organisation_id(admin))
    assert {message.subject for message in listing.messages} == {"One", "Two"}


# ---------- Whose messages an administrator sees ----------


@pytest.mark.django_db
def test_each_message_is_stamped_with_the_organisation_of_its_recipients(outbox, admin, rival_admin):
    ours = _send("Reset your password", to=TEAM_MEMBER.upper())
    theirs = _send("Reset your password", to=rival_admin.email)
    nobodys = _send("Reset your password", to="stranger@example.com")

    def stamp(name: str) -> bytes | None:
        for line in message_path(name).read_bytes().splitlines():
            if line.startswith(ORGANISATION_HEADER.encode() + b":"):
                return line.split(b":", 1)[1].strip()
        return None

    assert stamp(ours) == _organisation_id(admin).encode()
    assert stamp(theirs) == _organisation_id(rival_admin).encode()
    assert stamp(nobodys) is None


@pytest.mark.django_db
def test_an_administrator_sees_only_emails_to_their_own_organisations_people(outbox, admin_client, rival_admin):
    _send("Reset link for our coordinator", to=TEAM_MEMBER)
    _send("Reset link for the rival admin", to=rival_admin.email)
    _send("Reset link for an unknown address", to="stranger@example.com")

    page = admin_client.get(reverse("messaging:outbox")).content.decode()

    assert "Reset link for our coordinator" in page
    assert "Reset link for the rival admin" not in page
    assert rival_admin.email not in page
    assert "Reset link for an unknown address" not in page
    assert "Harbour Smiles Group" in page


@pytest.mark.django_db
def test_another_organisations_message_cannot_be_opened_even_by_its_name(outbox, admin, admin_client, rival_admin):
    theirs = _send("Reset your password", to=rival_admin.email, body=f"Choose a new password: {RESET_LINK}")
    rival_client = Client()
    rival_client.force_login(rival_admin)

    response = admin_client.get(reverse("messaging:outbox_message", args=[theirs]))

    assert response.status_code == 404
    assert RESET_LINK not in response.content.decode()
    assert rival_client.get(reverse("messaging:outbox_message", args=[theirs])).status_code == 200
    assert not AuditEvent.objects.filter(object_type="outbox_email", actor=admin).exists()


@pytest.mark.django_db
def test_a_message_to_nobody_the_installation_knows_is_shown_to_no_one(outbox, admin, admin_client):
    name = _send("Reset your password", to="stranger@example.com", body=RESET_LINK)

    assert outbox_messages(organisation=_organisation_id(admin)).total == 0
    assert outbox_message(name, organisation="") is None
    assert admin_client.get(reverse("messaging:outbox_message", args=[name])).status_code == 404


@pytest.mark.django_db
def test_a_message_addressed_to_two_organisations_is_shown_to_neither(outbox, admin, rival_admin):
    EmailMessage(subject="Both", body="Hello", to=[TEAM_MEMBER], cc=[rival_admin.email]).send()

    assert outbox_messages(organisation=_organisation_id(admin)).total == 0
    assert outbox_messages(organisation=_organisation_id(rival_admin)).total == 0


@pytest.mark.django_db
def test_a_sender_cannot_stamp_a_message_for_another_organisation(outbox, admin, rival_admin):
    EmailMessage(
        subject="Forged",
        body="Hello",
        to=[rival_admin.email],
        headers={ORGANISATION_HEADER: _organisation_id(admin)},
    ).send()

    assert outbox_messages(organisation=_organisation_id(admin)).total == 0
    assert outbox_messages(organisation=_organisation_id(rival_admin)).total == 1


@pytest.mark.django_db
def test_an_invitation_email_is_shown_to_the_inviting_organisations_administrator(
    settings, outbox, admin, admin_client, clinic, rival_admin, django_capture_on_commit_callbacks
):
    settings.TASKS = IMMEDIATE_TASKS
    with django_capture_on_commit_callbacks(execute=True):
        invitation_create(clinic=clinic, by=admin, email="new.hygienist@example.com", role=Membership.Role.COORDINATOR)

    [summary] = outbox_messages(organisation=_organisation_id(admin)).messages
    assert summary.to == "new.hygienist@example.com"
    assert outbox_messages(organisation=_organisation_id(rival_admin)).total == 0
    page = admin_client.get(reverse("messaging:outbox_message", args=[summary.name])).content.decode()
    assert "has invited you to join Harbour Dental Sydney" in page
    assert "To accept, choose your password here" in page


@pytest.mark.django_db
def test_recipients_are_matched_to_organisations_by_account_and_waiting_invitation(
    admin, clinic, other_clinic, rival_admin, outsider
):
    ours = _organisation_id(admin)
    theirs = _organisation_id(rival_admin)
    rival_clinic = rival_admin.memberships.get().clinic
    for inviting_clinic, address in [(clinic, "invited.once@example.com"), (clinic, "invited.twice@example.com")]:
        _invitation(inviting_clinic, address, by=admin)
    _invitation(rival_clinic, "Invited.Twice@example.com", by=rival_admin)
    _invitation(clinic, TEAM_MEMBER, by=admin)  # a team member invited again, by their own organisation
    _invitation(rival_clinic, outsider.email, by=rival_admin)
    UserFactory(email="no.organisation@example.com", organisation=None)

    assert organisation_of_recipients(["Chloé O'Connor <Coordinator@Example.com>"]) == ours
    assert organisation_of_recipients([TEAM_MEMBER]) == ours
    perth = staff_member(other_clinic, Membership.Role.COORDINATOR, email="perth.coordinator@example.com")
    assert organisation_of_recipients([TEAM_MEMBER, perth.email]) == ours, "another clinic, same organisation"
    assert organisation_of_recipients([outsider.email]) is None, "an account here, invited by another organisation"
    assert organisation_of_recipients(["invited.once@example.com"]) == ours
    assert organisation_of_recipients([rival_admin.email]) == theirs
    assert organisation_of_recipients(["invited.twice@example.com"]) is None, "invited by two organisations"
    assert organisation_of_recipients([TEAM_MEMBER, rival_admin.email]) is None
    assert organisation_of_recipients([TEAM_MEMBER, "stranger@example.com"]) is None
    assert organisation_of_recipients(["no.organisation@example.com"]) is None
    assert organisation_of_recipients([]) is None


def _invitation(clinic, address: str, *, by):
    from datetime import timedelta

    from django.utils import timezone

    from clearplan.accounts.models import Invitation

    now = timezone.now()
    return Invitation.objects.create(
        email=address,
        clinic=clinic,
        role=Membership.Role.COORDINATOR,
        invited_by=by,
        token_hash=os.urandom(32).hex(),
        sent_at=now,
        expires_at=now + timedelta(days=7),
    )


@pytest.mark.django_db(transaction=True)
def test_an_email_sent_later_lands_in_the_outbox(settings, outbox, admin):
    settings.TASKS = IMMEDIATE_TASKS
    with transaction.atomic():
        email_send_later(to=[TEAM_MEMBER], subject="Reset your password", text=f"Choose one here: {RESET_LINK}")

    organisation = _organisation_id(admin)
    [summary] = outbox_messages(organisation=organisation).messages
    message = outbox_message(summary.name, organisation=organisation)
    assert message.subject == "Reset your password"
    assert message.to == TEAM_MEMBER
    assert RESET_LINK in message.text


# ---------- The pages ----------


@pytest.mark.django_db
def test_administrators_see_the_outbox_newest_first_in_their_clinics_time(outbox, admin_client):
    _send("Older message", sent_at=datetime(2025, 1, 6, 3, 30, tzinfo=UTC))
    _send("Newer message", to="owner@example.com", sent_at=datetime(2025, 1, 6, 4, 45, tzinfo=UTC))

    response = admin_client.get(reverse("messaging:outbox"))

    assert response.status_code == 200
    page = response.content.decode()
    assert NOTICE in page
    assert page.index("Newer message") < page.index("Older message")
    assert "owner@example.com" in page
    # 04:45 UTC is 3:45 pm in Sydney in January (daylight saving, UTC+11).
    assert "6 Jan 2025, 3:45 p.m." in page or "6 Jan 2025, 3:45 pm" in page
    assert "Australia/Sydney" in page


@pytest.mark.django_db
def test_an_administrator_working_in_perth_sees_perth_time(outbox, other_clinic, coordinator):
    perth_admin = staff_member(
        other_clinic, Membership.Role.MANAGER, email="perth.manager@example.com", is_organisation_admin=True
    )
    client = Client()
    client.force_login(perth_admin)
    _send("Morning message", sent_at=datetime(2025, 1, 6, 4, 45, tzinfo=UTC))

    page = client.get(reverse("messaging:outbox")).content.decode()

    # 04:45 UTC is 12:45 pm in Perth (UTC+8, no daylight saving).
    assert "6 Jan 2025, 12:45 p.m." in page or "6 Jan 2025, 12:45 pm" in page


@pytest.mark.django_db
def test_an_empty_outbox_says_what_will_appear_there(outbox, admin_client):
    response = admin_client.get(reverse("messaging:outbox"))

    assert response.status_code == 200
    assert "No emails sent yet" in response.content.decode()


@pytest.mark.django_db
def test_a_message_shows_its_text_with_links_a_demo_user_can_follow(outbox, admin_client):
    name = _send(
        "Reset your Clearplan password",
        to=TEAM_MEMBER,
        body=f"Hello Chloé,\n\nChoose a new password here:\n{RESET_LINK}\n\n<script>alert(1)</script>",
    )

    response = admin_client.get(reverse("messaging:outbox_message", args=[name]))

    assert response.status_code == 200
    page = response.content.decode()
    assert NOTICE in page
    assert "<h1>Reset your Clearplan password</h1>" in page
    assert TEAM_MEMBER in page
    assert "Hello Chloé" in page
    assert f'<a href="{RESET_LINK}"' in page
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert ORGANISATION_HEADER not in page


@pytest.mark.django_db
def test_reading_a_message_is_recorded_in_the_audit_log(outbox, admin, admin_client):
    name = _send("Invitation")

    admin_client.get(reverse("messaging:outbox_message", args=[name]))

    event = AuditEvent.objects.get(object_type="outbox_email")
    assert event.actor == admin
    assert event.action == AuditEvent.Action.VIEW
    assert event.object_id == name


@pytest.mark.django_db
@pytest.mark.parametrize(
    "client_fixture", ["owner_client", "coordinator_client", "front_desk_client", "dentist_client"]
)
def test_staff_who_are_not_organisation_administrators_cannot_open_the_outbox(outbox, request, client_fixture):
    """Clinic managers included: the outbox holds their colleagues' password-reset links."""
    client = request.getfixturevalue(client_fixture)
    name = _send("Reset your password", to="frontdesk@example.com")

    assert client.get(reverse("messaging:outbox")).status_code == 403
    assert client.get(reverse("messaging:outbox_message", args=[name])).status_code == 403


@pytest.mark.django_db
def test_signed_out_visitors_are_sent_to_sign_in(outbox, client):
    response = client.get(reverse("messaging:outbox"))

    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))


@pytest.mark.django_db
def test_the_outbox_does_not_exist_when_email_goes_to_a_real_mail_server(settings, admin, admin_client):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.OUTBOX_DIR.mkdir(parents=True)
    stamp = f"{ORGANISATION_HEADER}: {_organisation_id(admin)}\n"
    (settings.OUTBOX_DIR / f"{'a' * 32}.eml").write_bytes(f"Subject: left over\n{stamp}\nold".encode())

    assert admin_client.get(reverse("messaging:outbox")).status_code == 404
    assert admin_client.get(reverse("messaging:outbox_message", args=["a" * 32])).status_code == 404
    assert "Demo outbox" not in admin_client.get(reverse("messaging:conversations")).content.decode()


@pytest.mark.django_db
def test_only_organisation_administrators_find_the_outbox_from_conversations(outbox, admin_client, dentist):
    url = reverse("messaging:outbox")
    manager = staff_member(dentist.memberships.get().clinic, Membership.Role.MANAGER, email="manager@example.com")
    manager_client = Client()
    manager_client.force_login(manager)

    assert f'href="{url}"' in admin_client.get(reverse("messaging:conversations")).content.decode()
    assert f'href="{url}"' not in manager_client.get(reverse("messaging:conversations")).content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    [
        "/conversations/outbox/..%2F..%2Fsecret_key/",
        "/conversations/outbox/%2E%2E/",
        "/conversations/outbox/0123456789abcdef0123456789abcdef.eml/",
        "/conversations/outbox/0123456789ABCDEF0123456789ABCDEF/",
        "/conversations/outbox/0123456789abcdef0123456789abcdef/",
    ],
)
def test_a_message_name_cannot_reach_outside_the_outbox_or_guess_a_message(outbox, admin_client, path):
    (outbox.parent / "secret_key").write_text("do not show")

    response = admin_client.get(path)

    assert response.status_code == 404
    assert "do not show" not in response.content.decode()


def test_only_names_the_outbox_gives_out_map_to_files(outbox, tmp_path):
    outbox.mkdir(parents=True)
    secret = tmp_path / "secret.eml"
    secret.write_bytes(b"Subject: secret\nX-Clearplan-Organisation: x\n\nnot yours")
    (outbox / f"{'b' * 32}.eml").symlink_to(secret)

    for name in ["../secret", "../../etc/passwd", "", "b" * 31, "B" * 32, f"{'b' * 32}/../x", 42]:
        assert message_path(name) is None
    assert outbox_message("b" * 32, organisation="x") is None, "a link pointing out of the outbox is not followed"


@pytest.mark.django_db
def test_the_outbox_page_reads_the_database_the_same_number_of_times_however_many_emails(
    outbox, admin_client, django_assert_max_num_queries
):
    _send("First")
    admin_client.get(reverse("messaging:outbox"))  # warm the session and clinic caches
    with django_assert_max_num_queries(20) as few:
        admin_client.get(reverse("messaging:outbox"))
    for number in range(15):
        _send(f"Message {number}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = admin_client.get(reverse("messaging:outbox"))
    assert response.content.decode().count("/conversations/outbox/") >= 16
