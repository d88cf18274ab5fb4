"""STOP and START by text message: the number gets no more texts, the patient's consent goes off
(and comes back only by the patient's own START), the team sees the word in the thread and the
change on the patient's page."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError

from clearplan.messaging.conversations.opt_out import keyword_in
from clearplan.messaging.models import ConversationMessage, SmsOptOut
from clearplan.messaging.services import message_send
from clearplan.messaging.tests.conftest import PATIENT_MOBILE
from clearplan.messaging.tests.test_sms_inbound import PARENT_MOBILE, STRANGER_MOBILE, text_message, twilio  # noqa: F401
from clearplan.patients.models import ContactConsentChange, Patient
from clearplan.patients.tests.factories import PatientFactory
from clearplan.pipeline.models import CaseProgress


@pytest.mark.parametrize(
    ("text", "word", "stops"),
    [
        ("STOP", "STOP", True),
        (" stop ", "STOP", True),
        ("Stop.", "STOP", True),
        ("STOP!!", "STOP", True),
        ("Unsubscribe", "UNSUBSCRIBE", True),
        ("opt out", "OPT OUT", True),
        ("Opt  Out!", "OPT OUT", True),
        ("optout", "OPTOUT", True),
        ("stopall", "STOPALL", True),
        ("Quit", "QUIT", True),
        ("start", "START", False),
        ("Unstop", "UNSTOP", False),
        ("yes", "YES", False),
    ],
)
def test_a_text_that_is_only_an_opt_out_or_opt_in_word_is_recognised(text, word, stops):
    keyword = keyword_in(text)
    assert keyword is not None
    assert (keyword.word, keyword.stops) == (word, stops)


@pytest.mark.parametrize("text", ["Please stop texting me", "stop by tomorrow?", "Yes please, Tuesday", "", "STOPP"])
def test_a_longer_message_is_for_the_team_not_a_keyword(text):
    assert keyword_in(text) is None


def test_stop_turns_off_text_messages_to_that_number(twilio, case, coordinator):  # noqa: F811
    patient = case.patient

    response = text_message(twilio, body="STOP")

    assert response.status_code == 200
    assert SmsOptOut.objects.filter(number=PATIENT_MOBILE, keyword="STOP").exists()
    patient.refresh_from_db()
    assert patient.consent_sms is False
    assert patient.preferred_channel == Patient.Channel.EMAIL  # email was agreed and an address is on file
    change = ContactConsentChange.objects.get(patient=patient)
    assert (change.channel, change.agrees, change.source, change.keyword) == ("sms", False, "sms_keyword", "STOP")
    # The team still sees the word in the thread.
    assert ConversationMessage.objects.get(conversation__patient=patient).body == "STOP"
    assert CaseProgress.objects.get(case=case).follow_ups_stopped_at is not None
    with pytest.raises(ValidationError) as refused:
        message_send(
            clinic=case.clinic, channel="sms", to=PATIENT_MOBILE, body="Reminder", purpose="follow_up", case=case
        )
    assert "replied STOP" in str(refused.value)


def test_stop_shows_on_the_patients_page_with_its_history(twilio, patient, coordinator_client):  # noqa: F811
    text_message(twilio, body="Stop.")

    page = coordinator_client.get(f"/patients/{patient.public_id}/").content.decode()

    assert "No SMS consent" in page
    assert "The patient texted STOP" in page
    assert "texted STOP on" in page
    assert "text messages stay off until the patient texts START" in page


def test_stop_twice_is_recorded_once(twilio, patient):  # noqa: F811
    text_message(twilio, body="STOP")
    text_message(twilio, sid="SM" + "4" * 32, body="stop")

    assert SmsOptOut.objects.count() == 1
    assert ContactConsentChange.objects.filter(patient=patient).count() == 1
    assert ConversationMessage.objects.filter(conversation__patient=patient).count() == 2


def test_a_parents_stop_covers_every_child_with_that_number(twilio, clinic):  # noqa: F811
    children = [
        PatientFactory(
            clinic=clinic,
            date_of_birth=born,
            mobile="",
            email="",
            consent_email=False,
            guardian_name="Aroha Ngata",
            guardian_relationship="mother",
            guardian_mobile=PARENT_MOBILE,
        )
        for born in (date(2014, 2, 1), date(2017, 8, 1))
    ]

    text_message(twilio, sender=PARENT_MOBILE, body="STOP")

    for child in children:
        child.refresh_from_db()
        assert child.consent_sms is False
        assert child.preferred_channel == Patient.Channel.SMS  # no email to switch to
        assert child.consent_changes.get().keyword == "STOP"


def test_start_gives_consent_back(twilio, case):  # noqa: F811
    patient = case.patient
    text_message(twilio, body="STOP")

    text_message(twilio, sid="SM" + "5" * 32, body="Start")

    assert not SmsOptOut.objects.exists()
    patient.refresh_from_db()
    assert patient.consent_sms is True
    latest = patient.consent_changes.first()
    assert (latest.agrees, latest.source, latest.keyword) == (True, "sms_keyword", "START")
    message_send(clinic=case.clinic, channel="sms", to=PATIENT_MOBILE, body="Welcome back", purpose="other", case=case)


def test_start_does_not_override_the_teams_own_decision(twilio, patient, coordinator):  # noqa: F811
    PatientFactory(clinic=patient.clinic, mobile=PATIENT_MOBILE, consent_sms=False)  # never agreed
    text_message(twilio, body="STOP")

    text_message(twilio, sid="SM" + "6" * 32, body="START")

    assert Patient.objects.get(pk=patient.pk).consent_sms is True
    assert Patient.objects.filter(consent_sms=False).count() == 1


def test_yes_without_an_earlier_stop_is_just_a_reply(twilio, patient):  # noqa: F811
    text_message(twilio, body="Yes")

    patient.refresh_from_db()
    assert patient.consent_sms is True
    assert not patient.consent_changes.exists()
    assert ConversationMessage.objects.get(conversation__patient=patient).body == "Yes"


def test_stop_from_an_unknown_number_still_stops_texts_to_it(twilio, db):  # noqa: F811
    text_message(twilio, sender=STRANGER_MOBILE, body="STOP")

    assert SmsOptOut.objects.filter(number=STRANGER_MOBILE).exists()
