"""Consent to SMS and email: every change the team makes goes into the patient's consent history,
shown on their page with who made it; a number that texted STOP cannot be ticked back on by the
team, only by the patient texting START."""

from __future__ import annotations

from clearplan.messaging.models import Conversation, SmsOptOut
from clearplan.patients.models import ContactConsentChange
from clearplan.patients.services import record_version
from clearplan.patients.tests.factories import PatientFactory
from clearplan.patients.tests.test_create_and_edit import NEW_URL, field_errors, form_data


def edit(client, patient, **changes):
    data = form_data(
        first_name=patient.first_name,
        last_name=patient.last_name,
        date_of_birth=patient.date_of_birth.strftime("%d/%m/%Y"),
        mobile=patient.mobile,
        email=patient.email,
        version=record_version(patient),
        **changes,
    )
    return client.post(f"/patients/{patient.public_id}/edit/", {k: v for k, v in data.items() if v is not None})


def test_unticking_sms_consent_is_recorded_with_who_did_it(coordinator_client, coordinator, clinic):
    patient = PatientFactory(clinic=clinic, mobile="+61491570678", preferred_channel="email")

    response = edit(coordinator_client, patient, consent_sms=None, consent_email="on", preferred_channel="email")

    assert response.status_code == 302
    change = ContactConsentChange.objects.get(patient=patient)
    assert (change.channel, change.agrees, change.source, change.changed_by) == ("sms", False, "staff", coordinator)
    page = coordinator_client.get(f"/patients/{patient.public_id}/").content.decode()
    assert "Consent history" in page
    assert "SMS stopped" in page
    assert "Changed by Chloé O&#x27;Connor" in page


def test_saving_without_changing_consent_adds_nothing_to_the_history(coordinator_client, clinic):
    patient = PatientFactory(clinic=clinic, mobile="+61491570678")

    edit(coordinator_client, patient, consent_sms="on", consent_email="on", notes="Prefers mornings")

    assert not ContactConsentChange.objects.exists()


def test_consent_given_when_the_patient_is_added_starts_the_history(front_desk_client, front_desk):
    front_desk_client.post(NEW_URL, form_data())

    [change] = ContactConsentChange.objects.all()
    assert (change.channel, change.agrees, change.changed_by) == ("sms", True, front_desk)


def test_the_team_cannot_tick_sms_back_on_for_a_number_that_texted_stop(coordinator_client, clinic):
    patient = PatientFactory(clinic=clinic, mobile="+61491570678", consent_sms=False, preferred_channel="email")
    SmsOptOut.objects.create(number="+61491570678", keyword="STOP")

    form_page = coordinator_client.get(f"/patients/{patient.public_id}/edit/").content.decode()
    response = edit(coordinator_client, patient, consent_sms="on", consent_email="on", preferred_channel="email")

    assert "text messages stay off until the patient texts START" in form_page
    assert response.status_code == 200
    [error] = field_errors(response, "consent_sms")
    assert error.startswith("This number texted STOP on ")
    assert error.endswith("text messages stay off until the patient texts START.")
    patient.refresh_from_db()
    assert patient.consent_sms is False
    assert not ContactConsentChange.objects.exists()


def test_a_new_patient_with_a_number_that_texted_stop_cannot_be_ticked_for_sms(front_desk_client):
    SmsOptOut.objects.create(number="+61412345678", keyword="STOP")

    response = front_desk_client.post(NEW_URL, form_data())

    assert response.status_code == 200
    assert field_errors(response, "consent_sms")


def test_another_number_on_the_record_can_still_be_texted(coordinator_client, clinic):
    patient = PatientFactory(
        clinic=clinic,
        mobile="+61491570678",
        consent_sms=False,
        preferred_channel="email",
        guardian_name="Aroha Ngata",
        guardian_relationship="mother",
        guardian_mobile="+61491570111",
    )
    SmsOptOut.objects.create(number="+61491570111", keyword="STOP")

    response = edit(
        coordinator_client,
        patient,
        consent_sms="on",
        consent_email="on",
        preferred_channel="email",
        guardian_name="Aroha Ngata",
        guardian_relationship="mother",
        guardian_mobile="+61491570111",
    )

    assert response.status_code == 302
    patient.refresh_from_db()
    assert patient.consent_sms is True
    page = coordinator_client.get(f"/patients/{patient.public_id}/").content.decode()
    assert "The parent or guardian&#x27;s number texted STOP on" in page


def test_the_patient_page_links_to_their_conversation(coordinator_client, clinic):
    patient = PatientFactory(clinic=clinic)
    without = coordinator_client.get(f"/patients/{patient.public_id}/").content.decode()
    conversation = Conversation.objects.create(patient=patient, clinic=clinic)

    page = coordinator_client.get(f"/patients/{patient.public_id}/").content.decode()

    assert f"/conversations/{conversation.public_id}/" not in without
    assert f'href="/conversations/{conversation.public_id}/">Conversation</a>' in page
