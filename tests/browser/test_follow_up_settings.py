"""Settings → Follow-up rules in Chromium: a manager changes the reminder's words while the
preview follows, makes a mistake that is shown at its field, and saves; a coordinator reads the
rules; axe finds nothing at 1280, 768 and 390 px."""

from __future__ import annotations

from playwright.sync_api import expect

from clearplan.pipeline.followup import rules_for, settings_for
from tests.browser.conftest import SCREENSHOT_DIR, screenshot_path


def phone_width(page, name, check_accessibility):
    SCREENSHOT_DIR.mkdir(exist_ok=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=screenshot_path(name, 390), full_page=True)
    check_accessibility(page, f"{name} at 390 px")
    page.set_viewport_size({"width": 1280, "height": 900})


def test_a_manager_changes_the_follow_up_rules_with_a_live_preview(
    page, sign_in_as, owner, clinic, check_page, check_accessibility
):
    sign_in_as(owner)
    page.goto("/settings/follow-up/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Follow-up rules")
    reminder = page.locator("#rule-not_opened")
    preview = page.locator("#preview-not_opened")
    expect(preview).to_contain_text(f"Hi Sam, a gentle reminder from {clinic.name}")
    check_page(page, "follow-up-rules")
    phone_width(page, "follow-up-rules", check_accessibility)

    reminder.get_by_label("Text message").fill("Hello {patient_first_name}, your pack is here when you're ready:")
    expect(preview).to_contain_text("Hello Sam, your pack is here when you're ready:")

    page.get_by_label("Contact patients until").fill("08:00")
    page.locator("#rule-no_response_message").get_by_label("Text message").fill("Hi {first_name}")
    # The preview has caught up (an unknown placeholder is shown as typed) before saving.
    expect(page.locator("#preview-no_response_message")).to_contain_text("Hi {first_name}")
    page.get_by_role("button", name="Save the follow-up rules").click()
    expect(page.get_by_role("heading", name="Please check these fields")).to_be_visible()
    expect(page.get_by_text("Choose a time after the start of contact hours.").first).to_be_visible()
    expect(page.get_by_text("Unknown placeholder {first_name}.", exact=False).first).to_be_visible()
    expect(page.get_by_label("Contact patients until")).to_have_attribute("aria-invalid", "true")
    check_accessibility(page, "the follow-up rules with mistakes")
    check_page(page, "follow-up-rules-mistakes")
    assert settings_for(clinic).pk is None

    page.get_by_label("Contact patients until").fill("17:30")
    page.locator("#rule-no_response_message").get_by_label("Text message").fill(
        "Hi {patient_first_name}, it's {team_member_name}. Any questions? Just reply."
    )
    page.get_by_label("Saturday").check()
    expect(page.locator("#preview-no_response_message")).to_contain_text("Any questions? Just reply.")
    page.get_by_role("button", name="Save the follow-up rules").click()
    expect(page.get_by_text("The follow-up rules are saved.")).to_be_visible()
    expect(page.locator(".page-header__lead")).to_contain_text("Monday to Saturday, from 9:00 am to 5:30 pm")
    assert settings_for(clinic).business_days == "123456"
    assert rules_for(clinic)["not_opened"].sms_text.startswith("Hello {patient_first_name}")


def test_a_coordinator_reads_the_rules(page, sign_in_as, coordinator, clinic, check_page, check_accessibility):
    sign_in_as(coordinator)
    page.goto("/settings/follow-up/")
    expect(page.get_by_text("Only the practice owner or a manager can change these rules.")).to_be_visible()
    expect(page.get_by_role("button", name="Save the follow-up rules")).to_have_count(0)
    expect(page.get_by_role("heading", name="Viewed, no response")).to_be_visible()
    check_page(page, "follow-up-rules-read")
    phone_width(page, "follow-up-rules-read", check_accessibility)
