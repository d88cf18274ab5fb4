"""Who hears about a patient's reply, in the app and by email."""

from __future__ import annotations

import pytest
from django.db import transaction

from clearplan.accounts.models import Membership
from clearplan.accounts.tests.factories import UserFactory, staff_member
from clearplan.notifications.models import Notification, NotificationPreference
from clearplan.notifications.services import notification_preferences_set, notify_team

pytestmark = pytest.mark.django_db

QUESTION_TEXT = "Mere Ngata asked a question about her treatment pack"


def recipients(notifications):
    return sorted(n.recipient.email for n in notifications)


def test_the_case_team_and_the_clinic_leads_are_notified_once_each(case, owner, dentist, coordinator, front_desk):
    second_coordinator = staff_member(case.clinic, Membership.Role.COORDINATOR, email="sam@example.com")
    # The case's coordinator is also one of the clinic's coordinators: still one notification.
    notifications = notify_team(case=case, kind="question", text=QUESTION_TEXT)

    assert recipients(notifications) == sorted(
        [owner.email, dentist.email, coordinator.email, second_coordinator.email]
    )
    assert front_desk.email not in recipients(notifications)
    first = Notification.objects.get(recipient=coordinator)
    assert first.text == QUESTION_TEXT
    assert first.link_url == f"/cases/{case.public_id}/"
    assert first.clinic == case.clinic
    assert first.read_at is None


def test_staff_of_other_clinics_are_never_notified(case, outsider, other_clinic):
    other_manager = staff_member(other_clinic, Membership.Role.MANAGER, email="perth-manager@example.com")

    notifications = notify_team(case=case, kind="proceed", text="Mere Ngata would like to proceed")

    assert outsider.email not in recipients(notifications)
    assert other_manager.email not in recipients(notifications)
    assert not Notification.objects.filter(recipient__in=[outsider, other_manager]).exists()


def test_a_dentist_who_left_the_clinic_is_not_notified(case, dentist, coordinator):
    Membership.objects.filter(user=dentist, clinic=case.clinic).delete()

    notifications = notify_team(case=case, kind="signed", text="Mere Ngata signed")

    assert dentist.email not in recipients(notifications)
    assert coordinator.email in recipients(notifications)


def test_deactivated_staff_are_not_notified(case, owner, coordinator):
    owner.is_active = False
    owner.save()

    assert owner.email not in recipients(notify_team(case=case, kind="question", text=QUESTION_TEXT))


def test_organisation_admins_hear_as_owners(case, organisation, coordinator):
    admin = UserFactory(organisation=organisation, is_organisation_admin=True, email="group-owner@example.com")
    outside_admin = UserFactory(is_organisation_admin=True, email="someone-elses-group@example.com")

    found = recipients(notify_team(case=case, kind="question", text=QUESTION_TEXT))

    assert admin.email in found
    assert outside_admin.email not in found


def reply_that_fails_to_save(case):
    with transaction.atomic():
        notify_team(case=case, kind="question", text=QUESTION_TEXT)
        raise RuntimeError("the reply could not be saved")


def test_notifications_roll_back_with_the_reply_that_caused_them(case, coordinator):
    with pytest.raises(RuntimeError, match="could not be saved"):
        reply_that_fails_to_save(case)

    assert not Notification.objects.exists()


def test_an_unknown_kind_or_outside_link_is_refused(case):
    with pytest.raises(ValueError, match="birthday"):
        notify_team(case=case, kind="birthday", text="?")
    with pytest.raises(ValueError, match="inside Clearplan"):
        notify_team(case=case, kind="question", text="?", link_url="https://example.com/")


def test_default_text_names_the_patient_when_the_caller_gives_none(case, coordinator):
    notify_team(case=case, kind="proceed", text="")

    assert Notification.objects.get(recipient=coordinator).text == "Mere Ngata would like to go ahead with treatment"


# Email


def test_by_default_only_the_case_coordinator_and_dentist_get_an_email(
    case, owner, dentist, coordinator, sending, mailoutbox
):
    with sending():
        notify_team(case=case, kind="question", text=QUESTION_TEXT)

    assert sorted(address for message in mailoutbox for address in message.to) == sorted(
        [dentist.email, coordinator.email]
    )
    assert all(len(message.to) == 1 for message in mailoutbox)


def test_the_email_names_the_clinic_but_not_the_patient_or_their_words(case, coordinator, sending, mailoutbox):
    with sending():
        notify_team(case=case, kind="question", text=QUESTION_TEXT)

    message = next(m for m in mailoutbox if m.to == [coordinator.email])
    assert message.subject == "A patient replied on a case at Harbour Dental Sydney"
    assert "A patient replied on a case at Harbour Dental Sydney. Open Clearplan to read it:" in message.body
    assert f"/cases/{case.public_id}/" in message.body
    everything = message.subject + message.body + "".join(str(alt[0]) for alt in getattr(message, "alternatives", []))
    for identifying in ("Mere", "Ngata", "question", "crack", "molar"):
        assert identifying not in everything


def test_no_email_is_sent_when_the_reply_is_rolled_back(case, coordinator, sending, mailoutbox):
    with sending(), pytest.raises(RuntimeError, match="could not be saved"):
        reply_that_fails_to_save(case)

    assert mailoutbox == []


def test_kinds_that_default_to_in_app_only_send_no_email(case, coordinator, sending, mailoutbox):
    with sending():
        notify_team(case=case, kind="not_now", text="Mere Ngata said not right now")
        notify_team(case=case, kind="link_locked", text="Mere Ngata's link locked")

    assert Notification.objects.filter(recipient=coordinator).count() == 2
    assert mailoutbox == []


def test_a_coordinator_who_turned_emails_off_for_questions_still_sees_them_in_the_app(
    case, dentist, coordinator, sending, mailoutbox
):
    notification_preferences_set(user=coordinator, choices={"question": "never"})

    with sending():
        notify_team(case=case, kind="question", text=QUESTION_TEXT)

    assert [m.to for m in mailoutbox] == [[dentist.email]]
    assert Notification.objects.filter(recipient=coordinator, kind="question").exists()


def test_a_manager_can_ask_for_emails_about_every_case(case, owner, dentist, coordinator, sending, mailoutbox):
    notification_preferences_set(user=owner, choices={"not_now": "all_cases"})

    with sending():
        notify_team(case=case, kind="not_now", text="Mere Ngata said not right now")

    assert [m.to for m in mailoutbox] == [[owner.email]]


def test_the_profile_switch_for_all_emails_stops_every_email(case, dentist, coordinator, sending, mailoutbox):
    coordinator.notify_by_email = False
    coordinator.save()

    with sending():
        notify_team(case=case, kind="question", text=QUESTION_TEXT)

    assert [m.to for m in mailoutbox] == [[dentist.email]]


def test_preferences_are_stored_once_per_kind(coordinator):
    notification_preferences_set(user=coordinator, choices={"question": "never"})
    notification_preferences_set(user=coordinator, choices={"question": "all_cases"})

    assert list(NotificationPreference.objects.filter(user=coordinator).values_list("kind", "email")) == [
        ("question", "all_cases")
    ]
