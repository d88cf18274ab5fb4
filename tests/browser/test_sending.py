"""A coordinator sends a pack from the composer at 1280 px: the preview's "Ready to send" leads to the
send form, which shows where the pack goes and the template's words; after sending, the case page's
"Treatment pack" panel says it was sent and not viewed yet. Both pages are checked with axe and
photographed at 1280 and 390 px."""

from __future__ import annotations

import json

import pytest
from django.test.signals import setting_changed
from playwright.sync_api import Page, expect

from clearplan.lib.sms_url import SMS_OUTBOX_BACKEND
from clearplan.messaging.models import OutboundMessage
from clearplan.messaging.sms import sms_outbox_directory
from clearplan.packs.links import link_for_token
from clearplan.packs.models import PackSend
from clearplan.packs.tests.conftest import sendable_case, template  # noqa: F401  (fixtures)
from clearplan.plans.tests.conftest import patient, procedures, standard  # noqa: F401  (fixtures)
from tests.browser.conftest import screenshot_path

PUBLIC = "https://clearplan.example.com"


@pytest.fixture(autouse=True)
def _messages_go_out(settings):
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend", "QUEUES": ["default", "email"]}
    }
    setting_changed.send(sender=None, setting="TASKS", value=settings.TASKS, enter=True)
    settings.SMS_BACKEND = SMS_OUTBOX_BACKEND
    settings.SMS_OPTIONS = {}
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.PUBLIC_BASE_URL = PUBLIC


def _at_phone_width(page: Page, name: str, check_accessibility) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=screenshot_path(name, 390), full_page=True)
    check_accessibility(page, f"{name} at 390 px")
    page.set_viewport_size({"width": 1280, "height": 900})


def test_a_coordinator_sends_the_pack_from_the_composer_and_sees_it_on_the_case(
    page,
    sign_in_as,
    coordinator,
    sendable_case,  # noqa: F811
    check_page,
    check_accessibility,
):
    case = sendable_case
    sign_in_as(coordinator)
    page.goto(f"/cases/{case.public_id}/compose/preview/")

    page.get_by_role("button", name="Ready to send").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Send the pack")
    expect(page.get_by_text("The pack is ready to send.")).to_be_visible()
    expect(page.get_by_role("checkbox", name="SMS to mobile ending 678")).to_be_checked()
    expect(page.get_by_role("checkbox", name="Email to m…@example.com")).to_be_checked()
    sms_text = page.get_by_role("textbox", name="Text message")
    expect(sms_text).to_have_value(
        f"Hi Mere, it's Chloé O'Connor from {case.clinic.name}. As promised, here is your treatment pack from "
        f"{case.dentist.display_name}, to read in your own time:"
    )
    expect(page.get_by_label("Now")).to_be_checked()
    counter = page.locator("#sms-length")
    expect(counter).to_contain_text("text messages")
    # The counter follows the words (the page's own script, allowed by the Content-Security-Policy).
    sms_text.fill("Hi Mere, your pack:")
    expect(counter).to_contain_text("1 text message")
    check_page(page, "send-the-pack")
    _at_phone_width(page, "send-the-pack", check_accessibility)

    page.get_by_role("button", name="Send the pack").click()

    expect(page.get_by_text("The pack is on its way to Mere Ngata by SMS and email.")).to_be_visible()
    panel = page.locator("#treatment-pack")
    expect(panel.get_by_role("heading", name="Treatment pack")).to_be_visible()
    expect(panel.locator(".pack-panel__status")).to_contain_text("Not viewed yet")
    expect(panel.locator(".pack-panel__status")).to_contain_text("by Chloé O'Connor")
    expect(panel.get_by_role("button", name="Send a new link").first).to_be_visible()
    expect(panel.locator(".case-messages")).to_contain_text("mobile ending 678")
    check_page(page, "case-treatment-pack")
    _at_phone_width(page, "case-treatment-pack", check_accessibility)

    send = PackSend.objects.get(case=case)
    assert send.sms_text == "Hi Mere, your pack:"
    [text] = [json.loads(path.read_text()) for path in sms_outbox_directory().glob("*.json")]
    assert text["body"].startswith("Hi Mere, your pack:\n\n" + PUBLIC + "/p/")
    assert link_for_token(text["body"].rsplit("/p/", 1)[1]) == send.link
    assert set(OutboundMessage.objects.filter(case=case).values_list("status", flat=True)) == {"sent"}
