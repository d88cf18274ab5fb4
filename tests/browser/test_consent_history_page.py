"""The patient's page after they texted STOP: consent per channel, the warning that texts stay
off until the patient texts START, the consent history, and the link to their conversation."""

from __future__ import annotations

from playwright.sync_api import expect

from clearplan.messaging.conversations.opt_out import sms_stop
from clearplan.messaging.conversations.services import conversation_for_patient
from clearplan.patients.models import ContactConsentChange
from clearplan.patients.tests.factories import PatientFactory


def test_the_team_sees_why_text_messages_are_off(page, sign_in_as, coordinator, clinic, check_page):
    patient = PatientFactory(clinic=clinic, first_name="Mere", last_name="Ngata", mobile="+61491570678")
    ContactConsentChange.objects.create(
        patient=patient, channel="email", agrees=True, source="staff", changed_by=coordinator
    )
    conversation = conversation_for_patient(patient=patient)
    sms_stop(number="+61491570678", keyword="STOP")
    sign_in_as(coordinator)

    page.goto(f"/patients/{patient.public_id}/")

    expect(page.get_by_text("This number texted STOP on")).to_be_visible()
    history = page.get_by_role("list", name="Consent history")
    expect(history.get_by_role("listitem")).to_have_count(2)
    expect(history.get_by_role("listitem").first).to_contain_text("SMS stopped")
    expect(history.get_by_role("listitem").first).to_contain_text("The patient texted STOP")
    expect(page.get_by_role("link", name="Conversation", exact=True)).to_have_attribute(
        "href", f"/conversations/{conversation.public_id}/"
    )
    check_page(page, "patient-detail-after-stop")
