"""The patient on a phone, after verifying: ask a question, ask to proceed with an option and a
preferred time, then sign (every statement ticked, a name with an accent and an apostrophe, a
stroke drawn with the mouse) and download the signed copy; and the same forms with JavaScript off."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import RequestFactory
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from clearplan.packs import access
from clearplan.packs.links import link_create
from clearplan.packs.models import ConsentSignature, PatientResponse
from clearplan.packs.responses import clean_drawn_signature
from clearplan.packs.tests.conftest import patient, procedures, sendable_case, standard, template  # noqa: F401
from clearplan.packs.versions import pack_version_freeze
from tests.browser.conftest import axe_violations, describe_violations, screenshot_path

PHONE = {"width": 390, "height": 844}
PHONE_AGENT = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.0 Mobile/15E148 Safari/604.1"
)
SIGNER = "Zoë O'Brien"


@pytest.fixture
def pack_cookie(sendable_case, coordinator, live_server: Any) -> dict[str, str]:  # noqa: F811
    """A verified pack session for a freshly sent pack, as the browser's cookie (the link and its
    verification are tested in test_patient_pack.py)."""
    pack_version_freeze(case=sendable_case, by=coordinator)
    link, _token = link_create(case=sendable_case, by=coordinator)
    request = RequestFactory().get("/p/", HTTP_USER_AGENT=PHONE_AGENT)
    session, key = access.session_start(link=link, request=request)
    session.verified_at = timezone.now()
    session.verified_by = link.verification
    session.save(update_fields=["verified_at", "verified_by"])
    return {"name": access.PACK_COOKIE, "value": key, "url": f"{live_server.url}{access.COOKIE_PATH}"}


def phone_page(browser: Browser, live_server: Any, console_errors: list[str], cookie: dict[str, str], **options):
    context = browser.new_context(
        base_url=live_server.url,
        viewport=PHONE,
        user_agent=PHONE_AGENT,
        locale="en-AU",
        timezone_id="Australia/Sydney",
        **options,
    )
    context.set_default_timeout(10_000)
    context.add_cookies([cookie])
    page = context.new_page()
    page.on(
        "console",
        lambda message: (
            message.type == "error"
            and "Failed to load resource" not in message.text
            and console_errors.append(message.text)
        ),
    )
    page.on("pageerror", lambda error: console_errors.append(str(error)))
    return context, page


@pytest.fixture
def phone(browser: Browser, live_server: Any, console_errors: list[str], pack_cookie) -> Page:
    context, page = phone_page(browser, live_server, console_errors, pack_cookie)
    yield page
    context.close()


@pytest.fixture
def phone_without_scripts(browser: Browser, live_server: Any, console_errors: list[str], pack_cookie) -> Page:
    context, page = phone_page(browser, live_server, console_errors, pack_cookie, java_script_enabled=False)
    yield page
    context.close()


def check_phone_widths(page: Page, name: str, console_errors: list[str], *, axe: bool = True) -> None:
    """Screenshots and axe's WCAG 2.2 AA rules at 390 and 320 px; nothing may scroll sideways.
    (axe and the width check run in the page, so a page without JavaScript gets screenshots only.)"""
    problems = []
    for width in (390, 320):
        page.set_viewport_size({"width": width, "height": 844})
        page.screenshot(path=screenshot_path(name, width), full_page=True)
        if not axe:
            continue
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


def open_all_choices(page: Page) -> None:
    for name in ("I’d like to proceed", "I have a question", "Not right now"):
        details = page.locator("details.pack-action", has=page.locator("summary", has_text=name))
        if details.get_attribute("open") is None:
            details.locator("summary").click()


def draw_a_stroke(page: Page) -> None:
    canvas = page.locator("canvas[data-signature-canvas]")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + 20, box["y"] + box["height"] * 0.7)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.4, box["y"] + box["height"] * 0.3, steps=8)
    page.mouse.move(box["x"] + box["width"] * 0.7, box["y"] + box["height"] * 0.6, steps=8)
    page.mouse.up()


def test_a_patient_asks_a_question_asks_to_proceed_and_signs_on_a_phone(
    phone: Page,
    sendable_case,  # noqa: F811
    console_errors: list[str],
):
    clinic = sendable_case.clinic.name
    thank_you = f"Thank you — we’ve told the team. {clinic} will be in touch."
    phone.goto("/p/")
    expect(phone.get_by_role("heading", name="What would you like to do?")).to_be_visible()
    # The drawing area is there once the script has run; the consent statements are listed to tick.
    expect(phone.locator("[data-signature-pad]")).to_be_visible()
    open_all_choices(phone)
    phone.locator("#pack-actions").scroll_into_view_if_needed()
    check_phone_widths(phone, "patient-actions", console_errors)

    # A question.
    phone.get_by_label("Your question").fill("Can I have the crown done before Christmas?")
    phone.get_by_role("button", name="Send my question").click()
    expect(phone).to_have_url(re.compile(r"/p/#pack-done$"))
    expect(phone.locator("#pack-done")).to_have_text(re.compile(re.escape(thank_you)))
    expect(phone.locator(".pack-replies")).to_contain_text("You asked a question")
    question = PatientResponse.objects.get(kind="question")
    assert question.message == "Can I have the crown done before Christmas?"
    check_phone_widths(phone, "patient-actions-question-sent", console_errors)

    # I'd like to proceed: the denture, on weekday mornings or after 3 pm on Tuesdays.
    phone.locator("summary", has_text="I’d like to proceed").click()
    proceed = phone.locator("#pack-proceed")
    options = proceed.locator(".pack-option-choice__title")
    expect(options).to_have_text(["Option A: crown", "Option B: denture"])
    expect(proceed.locator(".pack-option-choice--recommended")).to_contain_text("Recommended")
    proceed.get_by_label(re.compile("Option B: denture")).check()
    proceed.get_by_label("Weekday mornings").check()
    proceed.get_by_label("Anything else about times?").fill("After 3 pm on Tuesdays")
    proceed.get_by_role("button", name="Send my request").click()
    expect(phone).to_have_url(re.compile(r"/p/#pack-done$"))
    expect(phone.locator("#pack-done")).to_contain_text(thank_you)
    request = PatientResponse.objects.get(kind="proceed")
    assert request.option_title == "Option B: denture"
    assert request.preferred_times == "Weekday mornings; After 3 pm on Tuesdays"

    # Sign, from the offer that follows; the denture is already chosen. One statement is missed first.
    phone.get_by_role("link", name="Sign your consent now").click()
    expect(phone).to_have_url(re.compile(r"#pack-sign$"))
    sign = phone.locator("#pack-sign")
    expect(sign.get_by_label(re.compile("Option B: denture"))).to_be_checked()
    statements = sign.locator("#id_sign-statements input")
    count = statements.count()
    assert count == 4
    for index in range(count - 1):
        statements.nth(index).check()
    sign.get_by_label("Your full name").fill(SIGNER)
    draw_a_stroke(phone)
    drawn = phone.locator("input[name='sign-drawn_signature']").input_value()
    assert re.match(r"^M [\d.]+ [\d.]+ L [\d.]+ [\d.]+", drawn)
    check_phone_widths(phone, "patient-sign-filled", console_errors)
    sign.get_by_role("button", name="Sign", exact=True).click()

    # Sent back with the missing statement named at its field, the rest kept as entered.
    expect(phone.get_by_role("heading", level=1)).to_have_text("Consent and signature")
    expect(phone.locator(".pack-field__error").first).to_contain_text(
        "I agree to go ahead with the option I have chosen."
    )
    expect(phone.get_by_label("Your full name")).to_have_value(SIGNER)
    expect(phone.locator("input[name='sign-drawn_signature']")).to_have_value(clean_drawn_signature(drawn))
    assert not ConsentSignature.objects.exists()
    check_phone_widths(phone, "patient-sign-problem", console_errors)
    phone.locator("#id_sign-statements input").nth(count - 1).check()
    phone.get_by_role("button", name="Sign", exact=True).click()

    expect(phone).to_have_url(re.compile(r"/p/#pack-done$"))
    expect(phone.locator("#pack-done")).to_contain_text(thank_you)
    expect(phone.locator(".pack-signed__title")).to_have_text(
        re.compile(rf"^Signed by {re.escape(SIGNER)} on \d+ \w+ \d{{4}}$")
    )
    signature = ConsentSignature.objects.get()
    assert signature.signer_name == SIGNER
    assert signature.option_title == "Option B: denture"
    assert signature.drawn_signature == clean_drawn_signature(drawn)
    assert len(signature.consent_statements) == 4
    assert signature.version_sha256 == signature.version.sha256
    assert PatientResponse.objects.filter(kind="proceed").count() == 1
    check_phone_widths(phone, "patient-signed", console_errors)

    with phone.expect_download() as download:
        phone.locator(".pack-signed").get_by_role("link", name="Download your signed copy (PDF)").click()
    assert download.value.suggested_filename == "signed-consent.pdf"
    with open(download.value.path(), "rb") as pdf:
        assert pdf.read(5) == b"%PDF-"


def test_the_forms_work_without_javascript(phone_without_scripts: Page, sendable_case, console_errors: list[str]):  # noqa: F811
    page = phone_without_scripts
    page.goto("/p/")
    # No script, no drawing: the typed name is the signature.
    expect(page.locator("[data-signature-pad]")).to_be_hidden()
    page.locator("summary", has_text="Not right now").click()
    page.get_by_label("The cost").check()
    page.get_by_role("button", name="Let the team know").click()
    expect(page.locator("#pack-done")).to_contain_text("we’ve told the team")
    assert PatientResponse.objects.get().reason == "cost"

    sign = page.locator("#pack-sign")
    sign.get_by_label(re.compile("Option A: crown")).check()
    for index in range(sign.locator("#id_sign-statements input").count()):
        sign.locator("#id_sign-statements input").nth(index).check()
    sign.get_by_label("Your full name").fill("Mere Ngata")
    sign.get_by_role("button", name="Sign", exact=True).click()
    expect(page.locator(".pack-signed__title")).to_contain_text("Signed by Mere Ngata on")
    signature = ConsentSignature.objects.get()
    assert signature.drawn_signature == ""
    check_phone_widths(page, "patient-signed-without-scripts", console_errors, axe=False)
