"""Settings → Follow-up rules: managers change the limits, the rules and their words, with a
preview for a sample patient, every mistake at its field and nothing half-saved; the rest of the
team reads the rules; every change is in the audit log."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from clearplan.accounts.models import Membership
from clearplan.accounts.tests.factories import staff_member
from clearplan.audit.models import AuditEvent
from clearplan.pipeline.followup import DEFAULT_RULES, rules_for, settings_for
from clearplan.pipeline.models import FollowUpRule, FollowUpSettings

pytestmark = pytest.mark.django_db
URL = reverse("pipeline:follow_up_rules")
PREVIEW = reverse("pipeline:follow_up_rules_preview")


def form_data(**changes) -> dict[str, object]:
    """What the page posts with the defaults, with `changes` (field names as posted)."""
    data: dict[str, object] = {
        "automatic_follow_up": "on",
        "max_automatic_contacts": "2",
        "contact_from": "09:00",
        "contact_until": "18:00",
        "business_days": ["1", "2", "3", "4", "5"],
        "look_again_after_days": "90",
        "reminder_hours_before": "48",
    }
    for kind, words in DEFAULT_RULES.items():
        data[f"{kind}-enabled"] = "on"
        data[f"{kind}-after_business_days"] = str(words.after_business_days)
        data[f"{kind}-sms_text"] = words.sms_text
        data[f"{kind}-email_subject"] = words.email_subject
        data[f"{kind}-email_text"] = words.email_text
    for name, value in changes.items():
        if value is None:
            data.pop(name, None)
        else:
            data[name] = value
    return data


def test_a_manager_sees_the_calm_defaults_with_a_preview_for_a_sample_patient(owner_client, clinic):
    response = owner_client.get(URL)
    page = response.content.decode()
    assert response.status_code == 200
    assert "<h1>Follow-up rules</h1>" in page
    assert "Monday to Friday, from 9:00 am to 6:00 pm (Australia/Sydney time)" in page
    assert f"Hi Sam, a gentle reminder from {clinic.name} that your treatment pack is ready" in page
    assert "it&#x27;s Olivia Owner from" in page  # the words name the team member
    assert 'name="not_opened-after_business_days" value="1"' in page
    assert 'name="viewed_no_response-after_business_days" value="3"' in page
    assert 'name="no_response_message-after_business_days" value="7"' in page
    # Showing the page saves nothing.
    assert not FollowUpSettings.objects.exists()
    assert not FollowUpRule.objects.exists()


def test_a_manager_saves_the_rules_and_the_change_is_audited(owner_client, owner, clinic):
    data = form_data(
        max_automatic_contacts="1",
        contact_from="08:30",
        contact_until="17:00",
        business_days=["1", "2", "3", "4", "5", "6"],
        **{
            "not_opened-after_business_days": "2",
            "no_response_message-enabled": None,
            "look_again-sms_text": "Hi {patient_first_name}, whenever you're ready, your plan is here:",
            "look_again-email_subject": "Your treatment pack from {clinic_name}",
            "look_again-email_text": "Hi {patient_first_name},\n\nWhenever you're ready, your plan is here.",
        },
    )
    response = owner_client.post(URL, data)

    assert response.status_code == 302
    assert response["Location"] == URL
    settings = settings_for(clinic)
    assert (settings.max_automatic_contacts, settings.contact_from, settings.contact_until, settings.business_days) == (
        1,
        dt.time(8, 30),
        dt.time(17, 0),
        "123456",
    )
    rules = rules_for(clinic, save=False)
    assert rules["not_opened"].after_business_days == 2
    assert rules["no_response_message"].enabled is False
    assert rules["look_again"].sms_text.startswith("Hi {patient_first_name}, whenever")
    event = AuditEvent.objects.get(action=AuditEvent.Action.SETTINGS, object_type="follow_up_rules")
    assert event.actor == owner
    assert event.changes["Most automatic messages per case"] == [2, 1]
    assert event.changes["Contact patients from"] == ["09:00", "08:30"]
    assert event.changes["Not opened: After business days"] == [1, 2]
    assert event.changes["Still no response: On"] == [True, False]
    assert "The follow-up rules are saved." in owner_client.get(URL).content.decode()


def test_saving_the_same_form_twice_changes_and_audits_once(owner_client):
    data = form_data(max_automatic_contacts="3")
    owner_client.post(URL, data)
    owner_client.post(URL, data)
    assert AuditEvent.objects.filter(action=AuditEvent.Action.SETTINGS).count() == 1
    assert FollowUpSettings.objects.get().max_automatic_contacts == 3


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"contact_until": "08:00"}, "contact_until", "Choose a time after the start of contact hours."),
        ({"contact_from": "nine"}, "contact_from", "Enter a valid time."),
        ({"business_days": []}, "business_days", "Choose at least one business day."),
        ({"max_automatic_contacts": "11"}, "max_automatic_contacts", "Choose from 0 to 10 messages."),
        ({"look_again_after_days": "0"}, "look_again_after_days", "Choose from 1 to 730 days."),
        ({"not_opened-after_business_days": "0"}, "not_opened-after_business_days", "Choose from 1 to 60"),
        ({"not_opened-sms_text": ""}, "not_opened-sms_text", "Write the text message: a pack may have gone by"),
        ({"not_opened-sms_text": "Hi {first_name}"}, "not_opened-sms_text", "Unknown placeholder {first_name}."),
        ({"no_response_message-email_subject": "x" * 201}, "no_response_message-email_subject", "Keep it to 200"),
        (
            {"look_again-sms_text": "Hi {patient_first_name}"},
            "look_again-email_text",
            "Write the email too, or leave all three empty for a task only.",
        ),
    ],
)
def test_each_mistake_is_shown_at_its_field_and_nothing_is_saved(owner_client, changes, field, message):
    response = owner_client.post(URL, form_data(**changes))

    assert response.status_code == 200
    page = response.content.decode()
    assert f'id="id_{field}_error"' in page or (field == "business_days" and 'id="business-days-error"' in page)
    assert message.replace("'", "&#x27;") in page
    assert 'class="error-summary"' in page
    assert not FollowUpSettings.objects.exists()
    assert not FollowUpRule.objects.exists()
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.SETTINGS).exists()


def test_the_words_typed_are_kept_and_previewed_when_a_mistake_is_shown(owner_client):
    response = owner_client.post(
        URL, form_data(contact_until="08:00", **{"not_opened-sms_text": "Hello {patient_first_name}, no rush:"})
    )
    page = response.content.decode()
    assert "Hello {patient_first_name}, no rush:</textarea>" in page
    assert "Hello Sam, no rush:" in page


def test_preview_without_scripts_shows_the_new_words_and_saves_nothing(owner_client):
    response = owner_client.post(
        URL, form_data(action="preview", **{"no_response_message-sms_text": "Hi {patient_first_name}, any questions?"})
    )
    assert response.status_code == 200
    assert "Hi Sam, any questions?" in response.content.decode()
    assert not FollowUpRule.objects.exists()


def test_the_live_preview_swaps_each_rules_words_in_place(owner_client, clinic):
    response = owner_client.post(
        PREVIEW, form_data(**{"not_opened-email_subject": "A note from {clinic_name}", "look_again-sms_text": ""})
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert '<div id="preview-not_opened" hx-swap-oob="innerHTML">' in page
    assert f"A note from {clinic.name}" in page
    assert 'id="preview-no_response_message"' in page
    assert "No message to the patient: a person follows up." in page  # the look-again rule, without words
    assert 'id="preview-viewed_no_response"' not in page  # that rule has no words


@pytest.mark.parametrize("user_client", ["coordinator_client", "front_desk_client", "dentist_client"])
def test_the_rest_of_the_team_reads_the_rules_but_cannot_change_them(request, user_client, clinic):
    client = request.getfixturevalue(user_client)
    response = client.get(URL)
    page = response.content.decode()
    assert response.status_code == 200
    assert "Only the practice owner or a manager can change these rules." in page
    assert '<form method="post" novalidate class="form followup-form"' not in page
    assert f"Hi Sam, a gentle reminder from {clinic.name}" in page
    assert "After 3 business days." in page

    assert client.post(URL, form_data(max_automatic_contacts="5")).status_code == 403
    assert client.post(PREVIEW, form_data()).status_code == 403
    assert not FollowUpSettings.objects.exists()


def test_a_manager_changes_only_their_own_clinics_rules(other_clinic, clinic):
    from conftest import signed_in_client

    manager_elsewhere = staff_member(other_clinic, Membership.Role.MANAGER, email="perth.manager@example.com")
    response = signed_in_client(manager_elsewhere).post(URL, form_data(max_automatic_contacts="4"))
    assert response.status_code == 302
    assert settings_for(other_clinic).max_automatic_contacts == 4
    assert settings_for(clinic).pk is None


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
