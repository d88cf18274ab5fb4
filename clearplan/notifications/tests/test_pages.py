"""The bell, the notifications page, opening one and marking them read, and email choices on the profile."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from clearplan.accounts.models import Membership
from clearplan.accounts.tests.factories import MembershipFactory
from clearplan.audit.models import AuditEvent
from clearplan.notifications.models import Notification, NotificationPreference
from clearplan.notifications.services import notify_team

pytestmark = pytest.mark.django_db


def bell_label(response) -> str:
    match = re.search(r'class="notification-bell[^"]*"[^>]*aria-label="([^"]+)"', response.content.decode())
    assert match, "the header has a notifications bell"
    return match.group(1)


def test_the_header_bell_counts_unread_notifications(case, coordinator, coordinator_client):
    assert bell_label(coordinator_client.get("/today/")) == "Notifications, none unread"

    notify_team(case=case, kind="question", text="Mere Ngata asked a question about her treatment pack")
    notify_team(case=case, kind="proceed", text="Mere Ngata would like to proceed")

    response = coordinator_client.get("/patients/")
    assert bell_label(response) == "Notifications, 2 unread"
    assert 'class="notification-bell__count" aria-hidden="true">2<' in response.content.decode()


def test_the_page_lists_notifications_newest_first_with_unread_ones_marked(case, coordinator, coordinator_client):
    notify_team(case=case, kind="question", text="Mere Ngata asked a question about her treatment pack")
    notify_team(case=case, kind="signed", text="Mere Ngata signed the consent")

    page = coordinator_client.get("/notifications/").content.decode()

    assert page.index("Mere Ngata signed the consent") < page.index("Mere Ngata asked a question")
    assert page.count("notification notification--unread") == 2
    assert "Unread: " in page
    assert "Mark all as read" in page


def test_opening_a_notification_marks_it_read_and_goes_to_the_case(case, coordinator, coordinator_client):
    notify_team(case=case, kind="question", text="Mere Ngata asked a question about her treatment pack")
    notification = Notification.objects.get(recipient=coordinator)

    response = coordinator_client.get(f"/notifications/{notification.public_id}/")

    assert response.status_code == 302
    assert response["Location"] == f"/cases/{case.public_id}/"
    notification.refresh_from_db()
    assert notification.read_at is not None
    assert bell_label(coordinator_client.get(response["Location"])) == "Notifications, none unread"
    page = coordinator_client.get("/notifications/").content.decode()
    assert "notification--unread" not in page
    assert "Mark all as read" not in page


def test_opening_a_notification_from_another_of_my_clinics_switches_to_it(
    case, coordinator, coordinator_client, other_clinic
):
    MembershipFactory(user=coordinator, clinic=other_clinic, role=Membership.Role.COORDINATOR)
    notify_team(case=case, kind="question", text="Mere Ngata asked a question")
    notification = Notification.objects.get(recipient=coordinator)
    coordinator_client.post("/settings/switch-clinic/", {"clinic": str(other_clinic.public_id), "next": "/"})

    listing = coordinator_client.get("/notifications/").content.decode()
    assert "Harbour Dental Sydney" in listing  # several clinics: each notification says which
    response = coordinator_client.get(f"/notifications/{notification.public_id}/", follow=True)

    assert response.status_code == 200
    assert "Treatment case for Mere Ngata" in response.content.decode()


def test_mark_all_as_read_needs_a_post_and_marks_only_my_own(case, owner, coordinator, coordinator_client):
    notify_team(case=case, kind="question", text="Mere Ngata asked a question")
    notify_team(case=case, kind="proceed", text="Mere Ngata would like to proceed")

    assert coordinator_client.get("/notifications/read-all/").status_code == 405
    response = coordinator_client.post("/notifications/read-all/", follow=True)

    assert "All notifications are marked as read." in response.content.decode()
    assert not Notification.objects.filter(recipient=coordinator, read_at__isnull=True).exists()
    assert Notification.objects.filter(recipient=owner, read_at__isnull=True).count() == 2


def test_someone_elses_notification_cannot_be_seen_or_opened(case, owner, coordinator, front_desk_client):
    notify_team(case=case, kind="question", text="Mere Ngata asked a question")
    owners = Notification.objects.get(recipient=owner)

    page = front_desk_client.get("/notifications/").content.decode()
    assert "Mere Ngata" not in page
    assert "No notifications yet" in page
    assert front_desk_client.get(f"/notifications/{owners.public_id}/").status_code == 404
    owners.refresh_from_db()
    assert owners.read_at is None


def test_notifications_from_a_clinic_i_left_are_hidden(case, coordinator, coordinator_client, other_clinic):
    notify_team(case=case, kind="question", text="Mere Ngata asked a question")
    notification = Notification.objects.get(recipient=coordinator)
    Membership.objects.filter(user=coordinator).delete()
    MembershipFactory(user=coordinator, clinic=other_clinic, role=Membership.Role.COORDINATOR)

    assert bell_label(coordinator_client.get("/patients/")) == "Notifications, none unread"
    assert "Mere Ngata" not in coordinator_client.get("/notifications/").content.decode()
    assert coordinator_client.get(f"/notifications/{notification.public_id}/").status_code == 404


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.get("/notifications/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


# Email choices on Settings → Your profile


def test_the_profile_shows_email_choices_with_the_defaults(coordinator_client):
    page = coordinator_client.get("/settings/profile/").content.decode()

    assert 'id="email-choices-heading"' in page
    assert re.search(r'name="question".*?<option value="my_cases" selected>', page, re.S)
    assert re.search(r'name="not_now".*?<option value="never" selected>', page, re.S)


def test_saving_email_choices_is_kept_and_audited(coordinator, coordinator_client):
    choices = {
        "question": "all_cases",
        "proceed": "my_cases",
        "not_now": "never",
        "signed": "never",
        "link_locked": "my_cases",
        "delivery_failed": "all_cases",
        "message": "never",
    }

    response = coordinator_client.post("/notifications/email-choices/", choices, follow=True)

    assert "Your email choices are saved." in response.content.decode()
    assert dict(NotificationPreference.objects.filter(user=coordinator).values_list("kind", "email")) == choices
    event = AuditEvent.objects.filter(actor=coordinator, action=AuditEvent.Action.UPDATE).latest("id")
    assert event.changes["email_question"] == ["my_cases", "all_cases"]
    assert event.changes["email_signed"] == ["my_cases", "never"]
    assert re.search(r'name="question".*?<option value="all_cases" selected>', response.content.decode(), re.S)


def test_an_unknown_email_choice_changes_nothing(coordinator, coordinator_client):
    response = coordinator_client.post("/notifications/email-choices/", {"question": "hourly"}, follow=True)

    assert "Choose when to email you" in response.content.decode()
    assert not NotificationPreference.objects.filter(user=coordinator).exists()


def test_times_read_as_just_now_minutes_ago_or_the_clinic_time(case, coordinator, coordinator_client):
    written = datetime(2026, 3, 12, 8, 41, tzinfo=UTC)  # 7:41 pm in Sydney
    with time_machine.travel(written, tick=False):
        notify_team(case=case, kind="question", text="Mere Ngata asked a question")
        assert ">Just now</time>" in coordinator_client.get("/notifications/").content.decode()
    with time_machine.travel(written + timedelta(minutes=12), tick=False):
        assert ">12 min ago</time>" in coordinator_client.get("/notifications/").content.decode()
    with time_machine.travel(written + timedelta(days=2), tick=False):
        coordinator_client.force_login(coordinator)  # a new session: the old one timed out while idle
        assert ">12 Mar, 7:41 pm</time>" in coordinator_client.get("/notifications/").content.decode()


def test_each_notification_names_its_patient_and_the_page_reads_a_fixed_number_of_queries(
    case, coordinator, coordinator_client, django_assert_max_num_queries
):
    notify_team(case=case, kind="link_locked", text="The pack link was paused after five wrong answers.")
    coordinator_client.get("/notifications/")
    with django_assert_max_num_queries(30) as one:
        page = coordinator_client.get("/notifications/").content.decode()
    assert re.search(r"Mere Ngata · <time", page)

    for _ in range(10):
        notify_team(case=case, kind="question", text="A question")
    with django_assert_max_num_queries(len(one.captured_queries)):
        coordinator_client.get("/notifications/")
