"""A coordinator records an appointment from the case page at 1280 px: the form says the clinic's
time zone, offers the team with dentists first and the plan's treatment grouped by option; after
saving, the case's "Appointments" panel shows it waiting for the patient to confirm. The patient
opens the link from their text message on a phone (390 px), sees only the clinic, day and time, and
confirms; the team then sees "Confirmed by the patient". Every page is checked with axe and
photographed at 1280 and 390 px."""

from __future__ import annotations

import datetime as dt
import re

from django.utils import timezone
from playwright.sync_api import expect

from clearplan.messaging.models import OutboundMessage
from clearplan.packs.tests.conftest import sendable_case, template  # noqa: F401  (fixtures)
from clearplan.pipeline.models import Booking, CaseProgress, Stage
from clearplan.pipeline.tests.booking_fixtures import SYDNEY, book
from clearplan.plans.tests.conftest import patient, procedures, standard  # noqa: F401  (fixtures)
from tests.browser.conftest import screenshot_path
from tests.browser.test_sending import PUBLIC, _at_phone_width, _messages_go_out  # noqa: F401  (fixture)


def test_a_coordinator_records_an_appointment_and_the_patient_confirms_it_on_their_phone(
    page,
    browser,
    live_server,
    sign_in_as,
    coordinator,
    sendable_case,  # noqa: F811
    check_page,
    check_accessibility,
):
    case = sendable_case
    day = (timezone.now() + dt.timedelta(days=8)).astimezone(SYDNEY).date()
    sign_in_as(coordinator)
    page.goto(f"/cases/{case.public_id}/")

    panel = page.locator("#appointments")
    expect(panel.get_by_role("heading", name="Appointments")).to_be_visible()
    expect(panel).to_contain_text("No appointments recorded yet.")
    panel.get_by_role("link", name="Record an appointment").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Record an appointment")
    expect(page.get_by_text("In the clinic's time (Australia/Sydney).")).to_be_visible()
    expect(page.get_by_label("With", exact=True)).to_have_value(str(case.dentist.public_id))
    crown = page.get_by_role("group", name="Option A: crown")
    expect(crown.get_by_role("checkbox")).to_have_count(2)
    expect(page.get_by_role("group", name="Option B: denture").get_by_role("checkbox")).to_have_count(1)
    check_page(page, "record-an-appointment")
    _at_phone_width(page, "record-an-appointment", check_accessibility)

    page.get_by_label("Day", exact=True).fill(day.isoformat())
    page.get_by_label("Time", exact=True).fill("09:30")
    page.get_by_label("Length in minutes").fill("45")
    crown.get_by_role("checkbox", name=re.compile("Porcelain crown")).check()
    page.get_by_label("Note for the team").fill("Bring the shade guide")
    page.get_by_role("button", name="Record the appointment").click()

    when = f"9:30 am on {day:%A} {day.day} {day:%B %Y}"
    expect(page.get_by_text(f"Appointment recorded for {when}.")).to_be_visible()
    expect(page.get_by_text("The confirmation is on its way to Mere Ngata by SMS and email.")).to_be_visible()
    row = page.locator("#appointments .booking").first
    expect(row).to_contain_text(when)
    expect(row).to_contain_text("until 10:15 am · 45 minutes")
    expect(row).to_contain_text("With Priya Raman · Porcelain crown")
    expect(row).to_contain_text("Not confirmed yet")
    expect(row).to_contain_text("Confirmation sent")
    expect(row.get_by_role("link", name=re.compile("^Change"))).to_be_visible()
    booking = Booking.objects.get(case=case)
    assert CaseProgress.objects.get(case=case).stage == Stage.BOOKED
    page.locator("#appointments").scroll_into_view_if_needed()
    check_page(page, "case-appointments")
    page.locator("#appointments").screenshot(path=screenshot_path("case-appointments-panel", 1280))
    _at_phone_width(page, "case-appointments", check_accessibility)
    page.set_viewport_size({"width": 390, "height": 844})
    page.locator("#appointments").screenshot(path=screenshot_path("case-appointments-panel", 390))
    page.set_viewport_size({"width": 1280, "height": 900})

    # The patient taps the link in their text message.
    [sms] = OutboundMessage.objects.filter(case=case, channel="sms", purpose="booking_confirmation")
    assert sms.status == "sent"
    path = re.search(re.escape(PUBLIC) + r"(/a/[A-Za-z0-9_-]+)", sms.body).group(1)
    phone = browser.new_context(
        base_url=live_server.url,
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
        locale="en-AU",
    )
    try:
        patient_page = phone.new_page()
        errors: list[str] = []
        # As the shared `page` fixture does: a refused inline style or script shows up here; a
        # missing favicon ("Failed to load resource") does not count.
        patient_page.on(
            "console",
            lambda message: (
                message.type == "error"
                and "Failed to load resource" not in message.text
                and errors.append(message.text)
            ),
        )
        patient_page.goto(path)
        expect(patient_page.get_by_role("heading", level=1)).to_have_text("Please confirm your appointment")
        expect(patient_page.get_by_text(when)).to_be_visible()
        expect(patient_page.get_by_text(case.clinic.name).first).to_be_visible()
        body = patient_page.locator("body").inner_text()
        assert "Mere" not in body
        assert "crown" not in body.lower()
        patient_page.screenshot(path=screenshot_path("appointment-confirm", 390), full_page=True)
        check_accessibility(patient_page, "the patient's confirm page at 390 px")

        patient_page.get_by_role("button", name="Confirm").click()

        expect(patient_page.get_by_role("heading", level=1)).to_have_text("Thank you, you're confirmed")
        patient_page.screenshot(path=screenshot_path("appointment-confirmed", 390), full_page=True)
        check_accessibility(patient_page, "the patient's confirmed page at 390 px")
        assert errors == []
    finally:
        phone.close()

    booking.refresh_from_db()
    assert booking.patient_confirmed_at is not None
    page.reload()
    expect(page.locator("#appointments .booking").first).to_contain_text("Confirmed by the patient")

    # A second visit is booked, then cancelled from the panel: it stays listed, struck through.
    second = book(case, coordinator, key="second-visit", when=dt.datetime.combine(day, dt.time(14), tzinfo=SYDNEY))
    page.reload()
    second_row = page.locator(f"#appointment-{second.public_id}")
    second_row.get_by_role("link", name=re.compile("^Cancel appointment")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Cancel the appointment")
    expect(page.get_by_label("Tell the patient it is cancelled")).to_be_checked()
    check_page(page, "cancel-an-appointment")
    _at_phone_width(page, "cancel-an-appointment", check_accessibility)
    page.get_by_role("button", name="Cancel the appointment").click()
    expect(page.get_by_text("Say why it is cancelled, for the team.").first).to_be_visible()
    page.get_by_label("Why is it cancelled?").fill("Both teeth done in the morning visit")
    page.get_by_role("button", name="Cancel the appointment").click()

    expect(page.get_by_text(f"Appointment for 2:00 pm on {day:%A} {day.day} {day:%B %Y} cancelled.")).to_be_visible()
    cancelled_row = page.locator(f"#appointment-{second.public_id}")
    expect(cancelled_row).to_contain_text("Cancelled")
    expect(cancelled_row.locator("s")).to_have_text(f"2:00 pm on {day:%A} {day.day} {day:%B %Y}")
    assert CaseProgress.objects.get(case=case).stage == Stage.BOOKED  # the first appointment still stands
    page.locator("#appointments").screenshot(path=screenshot_path("case-appointments-confirmed-and-cancelled", 1280))
    check_accessibility(page, "the case page after cancelling")
