"""The unsubscribe link at the foot of a patient's email: opening it changes nothing (mail scanners
open links), the button or the mail app's one-click request stops the clinic's emails, and the
page never names the patient nor leaves its token in the log."""

from __future__ import annotations

import logging
import re

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from clearplan.audit.models import AuditEvent
from clearplan.messaging.conversations.services import conversation_for_patient, unsubscribe_url
from clearplan.messaging.models import EmailOptOut
from clearplan.messaging.services import message_send
from clearplan.messaging.tests.conftest import PATIENT_EMAIL
from clearplan.patients.models import ContactConsentChange, Patient
from clearplan.pipeline.models import CaseProgress

UNKNOWN_TOKEN = "0123456789abcdef" * 2


@pytest.fixture
def conversation(case):
    patient = case.patient
    patient.guardian_email = "Parent@Example.com"
    patient.preferred_channel = Patient.Channel.EMAIL
    patient.save()
    return conversation_for_patient(patient=patient)


@pytest.fixture
def patient_browser():
    return Client(enforce_csrf_checks=True)


def link(conversation) -> str:
    return f"/u/{conversation.unsubscribe_token}/"


def csrf_token_on(page: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)


def test_the_link_is_the_one_emails_carry(settings, conversation):
    settings.SITE_URL = "https://clearplan.example.com"
    assert unsubscribe_url(conversation) == "https://clearplan.example.com" + link(conversation)


def test_opening_the_link_asks_first_and_changes_nothing(patient_browser, conversation):
    response = patient_browser.get(link(conversation))

    page = response.content.decode()
    assert response.status_code == 200
    assert "Stop emails from Harbour Dental Sydney?" in page
    for private in ("Mere", "Ngata", PATIENT_EMAIL):
        assert private not in page
    assert response["Referrer-Policy"] == "no-referrer"
    assert response["Cache-Control"] == "no-store"
    assert not EmailOptOut.objects.exists()
    assert Patient.objects.get(pk=conversation.patient_id).consent_email is True
    assert AuditEvent.objects.filter(action="view", object_id=str(conversation.public_id)).exists()


def test_the_button_stops_the_clinics_emails(patient_browser, conversation, case):
    page = patient_browser.get(link(conversation)).content.decode()

    response = patient_browser.post(link(conversation), {"csrfmiddlewaretoken": csrf_token_on(page)})

    assert response.status_code == 200
    assert "You won't get any more emails from us" in response.content.decode()
    assert response["Cache-Control"] == "no-store"
    assert set(EmailOptOut.objects.values_list("address", flat=True)) == {PATIENT_EMAIL, "parent@example.com"}
    patient = Patient.objects.get(pk=conversation.patient_id)
    assert patient.consent_email is False
    assert patient.preferred_channel == Patient.Channel.SMS  # SMS is agreed and the mobile can be texted
    change = ContactConsentChange.objects.get(patient=patient)
    assert (change.channel, change.agrees, change.source) == ("email", False, "unsubscribe_link")
    assert CaseProgress.objects.get(case=case).follow_ups_stopped_at is not None
    with pytest.raises(ValidationError):
        message_send(
            clinic=case.clinic, channel="email", to=PATIENT_EMAIL, subject="Hi", body="News", purpose="other", case=case
        )


def test_the_mail_apps_one_click_unsubscribe_works_without_a_form(patient_browser, conversation):
    response = patient_browser.post(
        link(conversation), "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )

    assert response.status_code == 200
    assert EmailOptOut.objects.count() == 2
    assert Patient.objects.get(pk=conversation.patient_id).consent_email is False


def test_a_post_from_elsewhere_without_the_pages_token_is_refused_and_not_logged(patient_browser, conversation, caplog):
    with caplog.at_level(logging.DEBUG):
        response = patient_browser.post(link(conversation), {"anything": "else"})

    assert response.status_code == 403
    assert not EmailOptOut.objects.exists()
    assert "Forbidden (CSRF" in caplog.text
    assert conversation.unsubscribe_token not in caplog.text


def test_unsubscribing_twice_is_harmless(patient_browser, conversation):
    for _ in range(2):
        patient_browser.post(
            link(conversation), "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
        )

    assert EmailOptOut.objects.count() == 2
    assert ContactConsentChange.objects.count() == 1
    again = patient_browser.get(link(conversation)).content.decode()
    assert "You won't get any more emails from us" in again


def test_a_wrong_token_gets_the_link_does_not_work_page_and_is_not_logged(patient_browser, conversation, caplog):
    with caplog.at_level(logging.DEBUG):
        response = patient_browser.get(f"/u/{UNKNOWN_TOKEN}/")
        clicked = patient_browser.post(
            f"/u/{UNKNOWN_TOKEN}/", "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
        )

    assert (response.status_code, clicked.status_code) == (404, 404)
    assert "This link does not work" in response.content.decode()
    assert UNKNOWN_TOKEN not in caplog.text
    assert not EmailOptOut.objects.exists()
