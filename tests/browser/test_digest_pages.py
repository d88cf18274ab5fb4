"""A manager chooses the daily practice digest on Your profile; a choice that is not offered is
shown at its field on the digests page."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from clearplan.pipeline.models import DigestChoice


def test_a_manager_chooses_the_daily_practice_digest_on_their_profile(page, sign_in_as, check_page, owner):
    sign_in_as(owner)
    page.goto("/settings/profile/")
    section = page.get_by_role("region", name="Email digests")
    expect(section).to_be_visible()
    select = section.get_by_label("Practice digest")
    expect(select).to_have_value("weekly")
    check_page(page, "profile-with-digests")

    select.select_option("daily")
    section.get_by_role("button", name="Save digest choices").click()

    expect(page).to_have_url(re.compile(r"/settings/profile/#digests-heading$"))
    expect(page.get_by_text("Your digest choices are saved.")).to_be_visible()
    expect(page.get_by_role("region", name="Email digests").get_by_label("Practice digest")).to_have_value("daily")
    assert DigestChoice.objects.get(user=owner).frequency == "daily"


def test_the_digests_page_for_a_practitioner_and_at_phone_width(page, sign_in_as, check_page, dentist):
    sign_in_as(dentist)
    page.goto("/settings/profile/digests/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Email digests")
    expect(page.get_by_label("My patients")).to_have_value("daily")
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path="screenshots/digest-choices--390.png", full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    check_page(page, "digest-choices")
