"""The patient on a phone: open the link from the message, get the date of birth wrong then right,
read every section of the pack, and (in another browser) do the same with JavaScript turned off."""

from __future__ import annotations

import re
import time
from datetime import date
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from clearplan.packs.links import link_path
from clearplan.packs.models import PackVisit
from clearplan.packs.tests.conftest import patient, procedures, sendable_case, standard, template  # noqa: F401
from clearplan.packs.tests.patient_client import send_pack
from tests.browser.conftest import axe_violations, describe_violations, screenshot_path

PHONE = {"width": 390, "height": 844}
PHONE_AGENT = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.0 Mobile/15E148 Safari/604.1"
)
SECTIONS = ["cover", "images", "what-we-found", "options", "costs", "next-steps", "questions", "aftercare", "contact"]


@pytest.fixture
def phone(browser: Browser, live_server: Any, console_errors: list[str]) -> Page:
    context = browser.new_context(
        base_url=live_server.url,
        viewport=PHONE,
        user_agent=PHONE_AGENT,
        locale="en-AU",
        timezone_id="Australia/Sydney",
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.on(
        "console",
        lambda message: (
            message.type == "error"
            and "Failed to load resource" not in message.text
            and console_errors.append(message.text)
        ),
    )
    page.on(
        "response",
        lambda response: (
            response.status == 404
            and not response.url.endswith("/favicon.ico")
            and console_errors.append(f"404 for {response.url}")
        ),
    )
    page.on("pageerror", lambda error: console_errors.append(str(error)))
    yield page
    context.close()


@pytest.fixture
def pack_link(sendable_case, coordinator):  # noqa: F811
    person = sendable_case.patient
    person.date_of_birth = date(1986, 7, 3)
    person.save()
    _link, token = send_pack(sendable_case, coordinator)
    return token


def check_small_screens(page: Page, name: str, console_errors: list[str]) -> None:
    """axe at 390 and 320 px with screenshots at each, and one at 1280 px for the wide layout."""
    problems = []
    for width in (390, 320, 1280):
        page.set_viewport_size({"width": width, "height": 844 if width < 1000 else 900})
        page.wait_for_load_state("load")
        page.screenshot(path=screenshot_path(name, width), full_page=True)
        if width in (390, 320):
            overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
            if overflow > 0:
                problems.append(f"the page scrolls sideways by {overflow} px at {width} px")
            violations = axe_violations(page)
            if violations:
                problems.append(f"at {width} px:\n{describe_violations(violations)}")
    page.set_viewport_size(PHONE)
    if console_errors:
        problems.append("the browser reported errors:\n" + "\n".join(console_errors))
    if problems:
        pytest.fail(f"Problems on the {name} page:\n" + "\n".join(problems), pytrace=False)


def wait_for(condition, *, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail("The page did not report in time", pytrace=False)
        time.sleep(0.1)


def test_a_patient_verifies_and_reads_every_section_on_a_phone(phone, pack_link, sendable_case, console_errors):  # noqa: F811
    token = pack_link
    phone.goto(link_path(token))
    expect(phone).to_have_url(re.compile(r"/p/$"))
    assert token not in phone.url
    expect(phone.get_by_role("heading", level=1)).to_have_text("Your treatment pack")
    expect(phone.get_by_text("Mere")).to_have_count(0)
    check_small_screens(phone, "patient-verify", console_errors)

    # A wrong date first: a clear message at the field, with the tries left.
    phone.get_by_label("Day").fill("4")
    phone.get_by_label("Month").fill("7")
    phone.get_by_label("Year").fill("1986")
    phone.get_by_role("button", name="Open my pack").click()
    error = phone.locator(".pack-field__error")
    expect(error).to_contain_text("does not match the date of birth in our records")
    expect(error).to_contain_text("You have 4 more tries")
    expect(phone.get_by_label("Day")).to_have_attribute("aria-invalid", "true")
    check_small_screens(phone, "patient-verify-wrong", console_errors)

    # Pasting the whole date into the day box spreads it over the three boxes.
    phone.get_by_label("Day").evaluate(
        """box => {
            const data = new DataTransfer();
            data.setData("text/plain", "03/07/1986");
            box.dispatchEvent(new ClipboardEvent("paste", {clipboardData: data, bubbles: true, cancelable: true}));
        }"""
    )
    expect(phone.get_by_label("Day")).to_have_value("03")
    expect(phone.get_by_label("Month")).to_have_value("07")
    expect(phone.get_by_label("Year")).to_have_value("1986")
    phone.get_by_role("button", name="Open my pack").click()

    expect(phone.get_by_role("heading", level=1, name="Your treatment pack")).to_be_visible()
    expect(phone.get_by_text("Hi Mere")).to_be_visible()
    assert phone.url.endswith("/p/")
    assert token not in phone.url
    assert token not in phone.content()
    # The browser's history holds only /p/, never the address with the token.
    history = phone.context.new_cdp_session(phone).send("Page.getNavigationHistory")
    addresses = [entry["url"] for entry in history["entries"]]
    assert addresses
    assert not [address for address in addresses if token in address]
    check_small_screens(phone, "patient-pack", console_errors)

    # Read it from top to bottom.
    for name in SECTIONS:
        section = phone.locator(f'[data-pack-section="{name}"]').first
        section.scroll_into_view_if_needed()
        phone.mouse.wheel(0, 200)
        phone.wait_for_timeout(300)
    phone.keyboard.press("End")
    phone.wait_for_timeout(300)

    # A picture opens larger, and closes again.
    phone.locator('[data-pack-section="images"]').scroll_into_view_if_needed()
    phone.locator("a.pack-image__open").first.click()
    dialog = phone.get_by_role("dialog", name="Enlarged picture")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_text("The cracked upper left molar")).to_be_visible()
    phone.get_by_role("button", name="Close").click()
    expect(dialog).to_be_hidden()

    # Leaving the page sends what was seen.
    phone.goto("/p/signed-out/")
    visit = PackVisit.objects.get(case=sendable_case)

    def reported() -> bool:
        visit.refresh_from_db()
        return visit.measured_by_script and set(SECTIONS) <= set(visit.sections)

    wait_for(reported)
    assert visit.seconds_viewed >= 1
    assert visit.device_type == "phone"


def test_the_pack_works_with_javascript_turned_off(browser: Browser, live_server: Any, pack_link, sendable_case):  # noqa: F811
    context: BrowserContext = browser.new_context(base_url=live_server.url, java_script_enabled=False, viewport=PHONE)
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        page.goto(link_path(pack_link))
        assert page.url.endswith("/p/")
        # Without the script a whole date typed into the day box is still understood.
        page.get_by_label("Day").fill("3/7/1986")
        page.get_by_role("button", name="Open my pack").click()
        expect(page.get_by_text("Hi Mere")).to_be_visible()
        expect(page.locator("details.pack-details").first).to_be_visible()
        visit = PackVisit.objects.get(case=sendable_case)
        assert visit.measured_by_script is False
        page.screenshot(path=screenshot_path("patient-pack-without-javascript", 390), full_page=True)

        # A picture is a plain link to its larger size.
        with page.expect_navigation():
            page.locator("a.pack-image__open").first.click()
        assert re.search(r"/p/images/[0-9a-f-]{36}/large$", page.url)
        page.go_back()

        page.get_by_role("button", name="Sign out of this pack").click()
        expect(page.get_by_role("heading", name="You have signed out of your pack")).to_be_visible()
        page.goto("/p/")
        expect(page.get_by_text("Hi Mere")).to_have_count(0)
    finally:
        context.close()


def test_a_patient_opens_the_pack_with_a_code_sent_by_text_message(
    phone,
    sendable_case,  # noqa: F811
    coordinator,
    settings,
    console_errors,
):
    from clearplan.lib.sms_url import SMS_OUTBOX_BACKEND
    from clearplan.messaging.models import OutboundMessage

    settings.SMS_BACKEND = SMS_OUTBOX_BACKEND
    settings.SMS_OPTIONS = {}
    clinic = sendable_case.clinic
    clinic.pack_verification = "code"
    clinic.save()
    _link, token = send_pack(sendable_case, coordinator)

    phone.goto(link_path(token))
    expect(phone.get_by_text("we will send you a 6-digit code")).to_be_visible()
    check_small_screens(phone, "patient-verify-code", console_errors)
    phone.get_by_role("button", name="Send me a code").click()
    expect(phone.get_by_role("status")).to_contain_text("We have sent a 6-digit code by text message")
    message = OutboundMessage.objects.get(purpose="verification_code")
    code = re.search(r"\b(\d{6})\b", message.body).group(1)
    check_small_screens(phone, "patient-verify-code-sent", console_errors)

    phone.get_by_label("Your 6-digit code").fill(code)
    phone.get_by_role("button", name="Open my pack").click()
    expect(phone.get_by_text("Hi Mere")).to_be_visible()
