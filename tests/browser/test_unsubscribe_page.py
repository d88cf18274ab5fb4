"""The unsubscribe page a patient reaches from the foot of an email: the clinic's name, one question
and one button, at desktop and phone widths, with no accessibility problems; the button stops
the emails and says so."""

from __future__ import annotations

from playwright.sync_api import expect

from clearplan.messaging.conversations.services import conversation_for_patient
from clearplan.messaging.models import EmailOptOut
from clearplan.patients.models import Patient
from clearplan.patients.tests.factories import PatientFactory
from tests.browser.conftest import SCREENSHOT_DIR, screenshot_path


def test_a_patient_stops_the_clinics_emails_from_the_link(page, clinic, check_accessibility, console_errors):
    patient = PatientFactory(clinic=clinic, first_name="Mere", last_name="Ngata", email="mere.ngata@example.com")
    conversation = conversation_for_patient(patient=patient)
    SCREENSHOT_DIR.mkdir(exist_ok=True)

    page.goto(f"/u/{conversation.unsubscribe_token}/")

    expect(page.get_by_role("heading", level=1)).to_have_text(f"Stop emails from {clinic.name}?")
    body = page.locator("body").inner_text()
    for private in ("Mere", "Ngata", "mere.ngata@example.com"):
        assert private not in body
    for width, height in ((1280, 900), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=screenshot_path("unsubscribe", width), full_page=True)
        check_accessibility(page, f"the unsubscribe page at {width} px")
    assert not EmailOptOut.objects.exists()

    page.get_by_role("button", name="Stop emails").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("You won't get any more emails from us")
    for width, height in ((390, 844), (1280, 900)):
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=screenshot_path("unsubscribe-done", width), full_page=True)
        check_accessibility(page, f"the unsubscribed page at {width} px")
    assert EmailOptOut.objects.filter(clinic=clinic, address="mere.ngata@example.com").exists()
    assert Patient.objects.get(pk=patient.pk).consent_email is False
    assert console_errors == []
