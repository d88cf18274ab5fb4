"""Settings → Pack templates in Chromium: a manager adds the starter set, edits a template while the
phone-width preview follows, and a coordinator reads a template without changing it."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from clearplan.catalog.models import PackTemplate
from clearplan.catalog.services import catalog_install_starter
from clearplan.catalog.template_services import pack_templates_install_starter
from tests.browser.conftest import SCREENSHOT_DIR, screenshot_path


def phone_width_screenshot(page, name):
    SCREENSHOT_DIR.mkdir(exist_ok=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=screenshot_path(name, 390), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def test_a_manager_edits_a_template_with_a_live_preview(
    page, sign_in_as, owner, dentist, organisation, check_page, check_accessibility
):
    catalog_install_starter(organisation=organisation, region="AU", by=owner)
    sign_in_as(owner)
    page.goto("/settings/")
    page.get_by_role("link", name=re.compile("^Pack templates")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Pack templates")
    check_page(page, "pack-templates-empty")

    page.get_by_role("button", name="Add the starter templates").click()
    expect(page.get_by_text("Added 13 starter templates")).to_be_visible()
    check_page(page, "pack-templates-list")
    phone_width_screenshot(page, "pack-templates-list")

    page.get_by_role("link", name="Crown", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Crown")
    preview = page.get_by_role("article", name="Preview for the patient")
    expect(preview).to_contain_text("Hi Sam,")
    expect(preview).to_contain_text(f"{dentist.display_name} and the team at")
    check_page(page, "pack-template-detail")
    phone_width_screenshot(page, "pack-template-detail")

    page.get_by_role("link", name="Edit", exact=True).click()
    cover = page.get_by_label("Cover message")
    cover.fill("Hello {patient_first_name}, here is your plan from {clinic_name}.")
    expect(preview).to_contain_text("Hello Sam, here is your plan from")
    check_page(page, "pack-template-edit")
    phone_width_screenshot(page, "pack-template-edit")

    cover.fill("Hello {first_name}")
    page.get_by_label("Options to start from").fill("[{")
    page.get_by_role("button", name="Save template").click()
    expect(page.get_by_label("Cover message")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_text("Unknown placeholder {first_name}.", exact=False).first).to_be_visible()
    expect(page.get_by_text("This is not valid JSON", exact=False).first).to_be_visible()
    check_accessibility(page, "the template form with errors")

    page.get_by_label("Cover message").fill("Hello {patient_first_name}.")
    page.get_by_label("Options to start from").fill('[{"title": "Option A: ceramic crown", "recommended": true}]')
    page.get_by_role("button", name="Save template").click()
    expect(page.get_by_text("Template saved.")).to_be_visible()
    crown = PackTemplate.objects.get(organisation=organisation, name="Crown")
    assert crown.cover_message == "Hello {patient_first_name}."

    page.get_by_role("button", name="Make a copy").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Edit Crown (copy)")


def test_the_preview_button_works_without_scripts(context_without_scripts, owner, organisation, live_server):
    from tests.browser.conftest import signed_in_cookie

    pack_templates_install_starter(organisation=organisation, by=owner)
    crown = PackTemplate.objects.get(organisation=organisation, name="Crown")
    context_without_scripts.add_cookies([signed_in_cookie(owner, live_server.url)])
    page = context_without_scripts.new_page()
    page.goto(f"/settings/pack-templates/{crown.public_id}/edit/")
    page.get_by_label("Cover message").fill("Good morning {patient_first_name}.")
    page.get_by_role("button", name="Preview", exact=True).click()
    expect(page.get_by_role("article", name="Preview for the patient")).to_contain_text("Good morning Sam.")
    crown.refresh_from_db()
    assert crown.cover_message.startswith("Hi {patient_first_name}")


def test_a_coordinator_reads_templates_without_edit_buttons(page, sign_in_as, coordinator, organisation, check_page):
    pack_templates_install_starter(organisation=organisation, by=None)
    sign_in_as(coordinator)
    page.goto("/settings/pack-templates/")
    expect(page.get_by_text("Only owners and managers can change them.")).to_be_visible()
    page.get_by_role("link", name="Veneers", exact=True).click()
    expect(page.get_by_role("article", name="Preview for the patient")).to_contain_text("Hi Sam,")
    expect(page.get_by_role("link", name="Edit", exact=True)).to_have_count(0)
    check_page(page, "pack-template-detail-read-only")
