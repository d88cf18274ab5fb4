"""The demo outbox: the email backend that keeps messages as files, and the managers' page
that shows them."""

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
from clearplan.accounts.tests.factories import staff_member
from clearplan.audit.models import AuditEvent
from clearplan.lib.email_url import OUTBOX_BACKEND
from clearplan.messaging.outbox import message_path
from clearplan.messaging.selectors import outbox_message, outbox_messages
from clearplan.messaging.services import email_send_later
from clearplan.messaging.tests.conftest import IMMEDIATE_TASKS

NOTICE = "Demo outbox: in a real installation these emails are delivered by your mail server."
RESET_LINK = "http://127.0.0.1:8000/accounts/password/reset/key/3-abc-def/"


@pytest.fixture
def outbox(settings):
    settings.EMAIL_BACKEND = OUTBOX_BACKEND
    return settings.OUTBOX_DIR


def _send(subject: str, *, to: str = "sam@example.com", body: str = "Hello", sent_at: datetime | None = None) -> str:
    EmailMessage(subject=subject, body=body, to=[to]).send()
    newest = max(outbox_messages().messages, key=lambda message: message.sent_at)
    if sent_at is not None:
        path = message_path(newest.name)
        timestamp = sent_at.timestamp()
        os.utime(path, (timestamp, timestamp))
    return newest.name


def test_the_outbox_backend_keeps_each_message_as_a_private_eml_file(outbox):
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


def test_two_messages_never_share_a_file(outbox):
    EmailMessage(subject="One", body="1", to=["a@example.com"]).send()
    EmailMessage(subject="Two", body="2", to=["b@example.com"]).send()

    assert {message.subject for message in outbox_messages().messages} == {"One", "Two"}


@pytest.mark.django_db(transaction=True)
def test_an_email_sent_later_lands_in_the_outbox(settings, outbox):
    settings.TASKS = IMMEDIATE_TASKS
    with transaction.atomic():
        email_send_later(to=["sam@example.com"], subject="You're invited", text=f"Join here: {RESET_LINK}")

    [summary] = outbox_messages().messages
    message = outbox_message(summary.name)
    assert message.subject == "You're invited"
    assert message.to == "sam@example.com"
    assert RESET_LINK in message.text


@pytest.mark.django_db
def test_managers_see_the_outbox_newest_first_in_their_clinics_time(outbox, owner_client):
    _send("Older message", sent_at=datetime(2025, 1, 6, 3, 30, tzinfo=UTC))
    _send("Newer message", to="olivia@example.com", sent_at=datetime(2025, 1, 6, 4, 45, tzinfo=UTC))

    response = owner_client.get(reverse("messaging:outbox"))

    assert response.status_code == 200
    page = response.content.decode()
    assert NOTICE in page
    assert page.index("Newer message") < page.index("Older message")
    assert "olivia@example.com" in page
    # 04:45 UTC is 3:45 pm in Sydney in January (daylight saving, UTC+11).
    assert "6 Jan 2025, 3:45 p.m." in page or "6 Jan 2025, 3:45 pm" in page
    assert "Australia/Sydney" in page


@pytest.mark.django_db
def test_a_manager_working_in_perth_sees_perth_time(outbox, other_clinic):
    perth_manager = staff_member(other_clinic, Membership.Role.MANAGER, email="perth.manager@example.com")
    client = Client()
    client.force_login(perth_manager)
    _send("Morning message", sent_at=datetime(2025, 1, 6, 4, 45, tzinfo=UTC))

    page = client.get(reverse("messaging:outbox")).content.decode()

    # 04:45 UTC is 12:45 pm in Perth (UTC+8, no daylight saving).
    assert "6 Jan 2025, 12:45 p.m." in page or "6 Jan 2025, 12:45 pm" in page


@pytest.mark.django_db
def test_an_empty_outbox_says_what_will_appear_there(outbox, owner_client):
    response = owner_client.get(reverse("messaging:outbox"))

    assert response.status_code == 200
    assert "No emails sent yet" in response.content.decode()


@pytest.mark.django_db
def test_a_message_shows_its_text_with_links_a_demo_user_can_follow(outbox, owner_client):
    name = _send(
        "Reset your Clearplan password",
        to="coordinator@example.com",
        body=f"Hello Chloé,\n\nChoose a new password here:\n{RESET_LINK}\n\n<script>alert(1)</script>",
    )

    response = owner_client.get(reverse("messaging:outbox_message", args=[name]))

    assert response.status_code == 200
    page = response.content.decode()
    assert NOTICE in page
    assert "<h1>Reset your Clearplan password</h1>" in page
    assert "coordinator@example.com" in page
    assert "Hello Chloé" in page
    assert f'<a href="{RESET_LINK}"' in page
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


@pytest.mark.django_db
def test_reading_a_message_is_recorded_in_the_audit_log(outbox, owner, owner_client):
    name = _send("Invitation")

    owner_client.get(reverse("messaging:outbox_message", args=[name]))

    event = AuditEvent.objects.get(object_type="outbox_email")
    assert event.actor == owner
    assert event.action == AuditEvent.Action.VIEW
    assert event.object_id == name


@pytest.mark.django_db
@pytest.mark.parametrize("client_fixture", ["coordinator_client", "front_desk_client", "dentist_client"])
def test_staff_who_are_not_managers_cannot_open_the_outbox(outbox, request, client_fixture):
    client = request.getfixturevalue(client_fixture)
    name = _send("Reset your password")

    assert client.get(reverse("messaging:outbox")).status_code == 403
    assert client.get(reverse("messaging:outbox_message", args=[name])).status_code == 403


@pytest.mark.django_db
def test_signed_out_visitors_are_sent_to_sign_in(outbox, client):
    response = client.get(reverse("messaging:outbox"))

    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))


@pytest.mark.django_db
def test_the_outbox_does_not_exist_when_email_goes_to_a_real_mail_server(settings, owner_client):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.OUTBOX_DIR.mkdir(parents=True)
    (settings.OUTBOX_DIR / f"{'a' * 32}.eml").write_bytes(b"Subject: left over\n\nold")

    assert owner_client.get(reverse("messaging:outbox")).status_code == 404
    assert owner_client.get(reverse("messaging:outbox_message", args=["a" * 32])).status_code == 404
    assert "Demo outbox" not in owner_client.get(reverse("messaging:conversations")).content.decode()


@pytest.mark.django_db
def test_managers_find_the_outbox_from_conversations(outbox, owner_client, coordinator_client):
    url = reverse("messaging:outbox")

    assert f'href="{url}"' in owner_client.get(reverse("messaging:conversations")).content.decode()
    assert f'href="{url}"' not in coordinator_client.get(reverse("messaging:conversations")).content.decode()


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
def test_a_message_name_cannot_reach_outside_the_outbox_or_guess_a_message(outbox, owner_client, path):
    (outbox.parent / "secret_key").write_text("do not show")

    response = owner_client.get(path)

    assert response.status_code == 404
    assert "do not show" not in response.content.decode()


def test_only_names_the_outbox_gives_out_map_to_files(outbox, tmp_path):
    outbox.mkdir(parents=True)
    secret = tmp_path / "secret.eml"
    secret.write_bytes(b"Subject: secret\n\nnot yours")
    (outbox / f"{'b' * 32}.eml").symlink_to(secret)

    for name in ["../secret", "../../etc/passwd", "", "b" * 31, "B" * 32, f"{'b' * 32}/../x", 42]:
        assert message_path(name) is None
    assert outbox_message("b" * 32) is None, "a link pointing out of the outbox is not followed"


@pytest.mark.django_db
def test_the_outbox_page_reads_the_database_the_same_number_of_times_however_many_emails(
    outbox, owner_client, django_assert_max_num_queries
):
    _send("First")
    owner_client.get(reverse("messaging:outbox"))  # warm the session and clinic caches
    with django_assert_max_num_queries(20) as few:
        owner_client.get(reverse("messaging:outbox"))
    for number in range(15):
        _send(f"Message {number}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = owner_client.get(reverse("messaging:outbox"))
    assert response.content.decode().count("/conversations/outbox/") >= 16
