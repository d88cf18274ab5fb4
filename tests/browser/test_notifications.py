"""A coordinator sees a patient's reply under the bell, opens it, and marks the rest read;
then chooses which notifications are also emailed."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from clearplan.notifications.services import notify_team
from clearplan.plans.tests.conftest import case, patient, procedures, standard  # noqa: F401  (fixtures)


def test_a_reply_shows_under_the_bell_and_on_the_notifications_page(
    page,
    sign_in_as,
    check_page,
    case,  # noqa: F811
    coordinator,
    owner,
):
    sign_in_as(coordinator)
    page.goto("/today/")
    expect(page.get_by_role("link", name="Notifications, none unread")).to_be_visible()

    notify_team(case=case, kind="question", text="Mere Ngata asked a question about her treatment pack")
    notify_team(case=case, kind="proceed", text="Mere Ngata would like to go ahead with Option A: crown")

    page.goto("/today/")
    bell = page.get_by_role("link", name="Notifications, 2 unread")
    expect(bell).to_be_visible()
    expect(bell.locator(".notification-bell__count")).to_have_text("2")
    check_page(page, "today-with-notifications")

    bell.click()
    expect(page).to_have_url(re.compile(r"/notifications/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Notifications")
    items = page.locator(".notification")
    expect(items).to_have_count(2)
    expect(items.nth(0)).to_contain_text("Mere Ngata would like to go ahead with Option A: crown")
    expect(items.nth(1)).to_contain_text("Mere Ngata asked a question about her treatment pack")
    assert items.nth(0).locator(".notification__text").evaluate("node => getComputedStyle(node).fontWeight") == "700"
    check_page(page, "notifications")

    page.get_by_role("link", name=re.compile("asked a question")).click()
    expect(page).to_have_url(re.compile(rf"/cases/{case.public_id}/$"))
    expect(page.get_by_role("link", name="Notifications, 1 unread")).to_be_visible()

    page.get_by_role("link", name="Notifications, 1 unread").click()
    page.get_by_role("button", name="Mark all as read").click()
    expect(page.get_by_text("All notifications are marked as read.")).to_be_visible()
    expect(page.get_by_role("link", name="Notifications, none unread")).to_be_visible()
    expect(page.locator(".notification--unread")).to_have_count(0)
    check_page(page, "notifications-all-read")


def test_email_choices_on_your_profile(page, sign_in_as, check_page, coordinator):
    sign_in_as(coordinator)
    page.goto("/settings/profile/")
    expect(page.get_by_role("heading", name="Notifications")).to_be_visible()
    question = page.get_by_label("A patient asks a question")
    expect(question).to_have_value("my_cases")
    check_page(page, "profile-email-choices")

    question.select_option("all_cases")
    page.get_by_label("A patient says “not right now”").select_option("my_cases")
    page.get_by_role("button", name="Save email choices").click()

    expect(page.get_by_text("Your email choices are saved.")).to_be_visible()
    expect(page.get_by_label("A patient asks a question")).to_have_value("all_cases")
    expect(page.get_by_label("A patient says “not right now”")).to_have_value("my_cases")
