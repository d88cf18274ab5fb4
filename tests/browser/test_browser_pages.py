"""Every top-level page of the staff interface, at laptop and tablet width, with no
accessibility problems axe can find."""

from __future__ import annotations

import datetime as dt
import re
import uuid

import pytest
import time_machine
from django.template.loader import render_to_string
from playwright.sync_api import expect

from clearplan.accounts.models import Membership
from clearplan.accounts.tests.factories import ClinicFactory
from clearplan.audit.models import AuditEvent
from clearplan.audit.services import audit_record

TOP_LEVEL_PAGES = [
    ("today", "/today/", re.compile(r"^Good (morning|afternoon|evening), Olivia$")),
    ("pipeline", "/pipeline/", "Pipeline"),
    ("conversations", "/conversations/", "Conversations"),
    ("patients", "/patients/", "Patients"),
    ("insights", "/insights/", "Insights"),
    ("settings", "/settings/", "Settings"),
    ("audit-log", "/settings/audit/", "Audit log"),
]


@pytest.mark.parametrize(("name", "path", "heading"), TOP_LEVEL_PAGES, ids=[page[0] for page in TOP_LEVEL_PAGES])
def test_every_top_level_page_is_accessible_at_both_widths(page, sign_in_as, owner, check_page, name, path, heading):
    sign_in_as(owner)

    page.goto(path)

    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    check_page(page, name)


@pytest.mark.parametrize(
    ("name", "path", "heading"), TOP_LEVEL_PAGES[:-1], ids=[page[0] for page in TOP_LEVEL_PAGES[:-1]]
)
def test_the_navigation_marks_the_page_you_are_on(page, sign_in_as, owner, name, path, heading):
    sign_in_as(owner)
    page.goto(path)

    current = page.get_by_role("navigation", name="Main").locator("[aria-current=page]")

    expect(current).to_have_count(1)
    expect(current).to_have_attribute("href", re.compile(f"^{re.escape(path)}"))


def test_the_page_not_found_page_is_accessible(page, sign_in_as, owner, check_page):
    sign_in_as(owner)

    response = page.goto(f"/patients/{uuid.uuid4()}/")

    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("We couldn't find that page")
    expect(page.get_by_role("link", name="Go to Today")).to_be_visible()
    check_page(page, "not-found")


def test_the_page_not_found_page_is_accessible_when_signed_out(page, check_page):
    response = page.goto("/no-such-page/")

    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("We couldn't find that page")
    check_page(page, "not-found-signed-out")


def test_the_no_access_page_is_accessible(page, sign_in_as, coordinator, check_page):
    sign_in_as(coordinator)

    response = page.goto("/settings/audit/")

    assert response.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text("You don't have access to this page")
    expect(page.get_by_text("Only the practice owner or a manager can do this.")).to_be_visible()
    check_page(page, "no-access")


def test_the_something_went_wrong_page_is_accessible(page, live_server, check_page):
    # The 500 page is served as the server would after a failure; nothing in the product fails on purpose.
    html = render_to_string("errors/500.html")
    page.route("**/failing-page/", lambda route: route.fulfill(status=500, body=html, content_type="text/html"))

    page.goto("/failing-page/")

    expect(page.get_by_role("heading", level=1)).to_have_text("Something went wrong on our side")
    check_page(page, "server-error")


@pytest.mark.parametrize("path", ["/today/", "/settings/audit/"])
def test_the_staff_layout_follows_landmark_and_heading_good_practice(
    page, sign_in_as, owner, other_clinic, check_accessibility, path
):
    # Beyond the WCAG rules: one main landmark, all content inside landmarks, one h1, headings in order.
    Membership.objects.create(user=owner, clinic=other_clinic, role=Membership.Role.MANAGER)
    sign_in_as(owner)
    page.goto(path)

    check_accessibility(page, tags=["best-practice"])
    expect(page.get_by_role("banner")).to_have_count(1)
    expect(page.get_by_role("main")).to_have_count(1)
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()
    expect(page.get_by_label("Clinic you are working in")).to_be_visible()


def test_the_skip_link_moves_keyboard_users_to_the_page_content(page, sign_in_as, owner):
    sign_in_as(owner)
    page.goto("/today/")

    page.keyboard.press("Tab")
    skip_link = page.get_by_role("link", name="Skip to main content")
    expect(skip_link).to_be_focused()
    expect(skip_link).to_be_in_viewport()
    page.keyboard.press("Enter")

    expect(page.locator("main")).to_be_focused()


def test_the_user_menu_opens_and_stays_accessible(page, sign_in_as, owner, check_page):
    sign_in_as(owner)
    page.goto("/today/")

    page.locator("summary", has_text="Account menu").click()

    menu = page.locator(".user-menu__panel")
    expect(menu.get_by_role("link", name="Your profile")).to_be_visible()
    expect(menu.get_by_role("button", name="Sign out")).to_be_visible()
    check_page(page, "user-menu-open")


def test_the_audit_log_filters_and_exports_what_a_manager_asks_for(
    page, sign_in_as, owner, coordinator, clinic, check_page
):
    for minute, (actor, action, label) in enumerate(
        [
            (owner, AuditEvent.Action.VIEW, "Zoë Nguyen"),
            (coordinator, AuditEvent.Action.UPDATE, "Seán O'Brien"),
            (coordinator, AuditEvent.Action.CREATE, "Mia Ō'Hara-Smith"),
            (owner, AuditEvent.Action.SIGN_IN, ""),
        ]
    ):
        with time_machine.travel(dt.datetime(2026, 3, 2, 1, minute, tzinfo=dt.UTC), tick=False):
            audit_record(
                action=action,
                actor=actor,
                clinic=clinic,
                object_type="patient" if label else "",
                object_id=str(uuid.uuid4()) if label else "",
                object_label=label,
                changes={"mobile": ["0400 000 000", "+61411111111"]} if action == AuditEvent.Action.UPDATE else None,
            )
    sign_in_as(owner)
    page.goto("/settings/")
    page.get_by_role("link", name="Audit log").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Audit log")
    expect(page.get_by_role("row")).to_have_count(5)
    check_page(page, "audit-log-with-entries")

    page.get_by_label("Staff member").select_option(label="Chloé O'Connor")
    page.get_by_label("Action").select_option(label="Changed")
    page.get_by_role("button", name="Apply filters").click()

    rows = page.get_by_role("row")
    expect(rows).to_have_count(2)
    expect(rows.nth(1)).to_contain_text("Seán O'Brien")
    page.get_by_text("What changed").click()
    expect(page.get_by_text("+61411111111")).to_be_visible()
    check_page(page, "audit-log-filtered")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Export CSV").click()
    exported = download_info.value.path().read_text(encoding="utf-8-sig")
    assert "Seán O'Brien" in exported
    assert "Zoë Nguyen" not in exported
    assert AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT, actor=owner).count() == 1

    page.get_by_label("Staff member").select_option(label="Anyone")
    page.get_by_label("Action").select_option(label="Any action")
    page.get_by_label("Record", exact=True).fill("o'brien")
    page.get_by_role("button", name="Apply filters").click()
    expect(page.get_by_role("row")).to_have_count(2)
    expect(page.get_by_label("Record", exact=True)).to_have_value("o'brien")
    assert "brien" not in page.url.lower()


def test_the_audit_log_explains_a_date_range_the_wrong_way_round(page, sign_in_as, owner, check_page):
    sign_in_as(owner)
    page.goto("/settings/audit/")

    page.get_by_label("From", exact=True).fill("2026-03-05")
    page.get_by_label("To", exact=True).fill("2026-03-01")
    page.get_by_role("button", name="Apply filters").click()

    date_to = page.get_by_label("To", exact=True)
    expect(date_to).to_have_attribute("aria-invalid", "true")
    expect(date_to).to_have_accessible_description("Choose a date on or after the “From” date.")
    check_page(page, "audit-log-filter-error")


def test_the_audit_log_pages_through_older_entries(page, sign_in_as, owner, clinic, check_page):
    for minute in range(60):
        with time_machine.travel(dt.datetime(2026, 3, 2, 1, minute, tzinfo=dt.UTC), tick=False):
            audit_record(
                action=AuditEvent.Action.VIEW,
                actor=owner,
                clinic=clinic,
                object_type="patient",
                object_id=str(uuid.uuid4()),
                object_label=f"Patient number {minute:02d}",
            )
    sign_in_as(owner)
    page.goto("/settings/audit/")
    expect(page.get_by_text("Showing 1–50 of 60 entries")).to_be_visible()
    check_page(page, "audit-log-first-page")

    page.get_by_role("link", name="Older entries").click()

    expect(page.get_by_text("Showing 51–60 of 60 entries")).to_be_visible()
    expect(page.get_by_role("link", name="Patient number 00")).to_be_visible()
    expect(page.get_by_role("link", name="Newer entries")).to_be_visible()


def test_the_header_stays_on_one_line_on_a_tablet_with_long_clinic_names(page, sign_in_as, owner, clinic, check_page):
    clinic.name = "Harbour & Hills Family and Specialist Dental Subiaco"
    clinic.save()
    second = ClinicFactory(organisation=clinic.organisation, name="Harbour & Hills Orthodontics Surry Hills")
    Membership.objects.create(user=owner, clinic=second, role=Membership.Role.MANAGER)
    sign_in_as(owner)
    page.set_viewport_size({"width": 768, "height": 1024})
    page.goto("/today/")

    brand = page.get_by_role("banner").get_by_role("link", name="Clearplan").bounding_box()
    switcher = page.get_by_label("Clinic you are working in").bounding_box()
    account = page.locator("summary", has_text="Account menu").bounding_box()

    assert abs(switcher["y"] + switcher["height"] / 2 - (brand["y"] + brand["height"] / 2)) < 4
    assert abs(account["y"] + account["height"] / 2 - (brand["y"] + brand["height"] / 2)) < 4
    assert account["x"] + account["width"] <= 768
    check_page(page, "header-long-clinic-names")
