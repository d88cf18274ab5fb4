"""Today and the case checklist in Chromium: a coordinator's Today lists what to do first, one
click opens the case, and a checklist step is ticked in place by mouse and by keyboard; a
manager reorders the clinic's steps with the keyboard. Axe at 1280, 768 and 390 px."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import expect

from clearplan.lib.clinic_time import clinic_now
from clearplan.packs.tests.conftest import sendable_case, template  # noqa: F401
from clearplan.pipeline.checklist import workflow_steps_for
from clearplan.pipeline.models import CaseTask, Stage, WorkflowStep
from clearplan.pipeline.tests.board_fixtures import add_engagement, make_case
from clearplan.plans.tests.conftest import patient, procedures, standard  # noqa: F401
from tests.browser.conftest import axe_violations, describe_violations, screenshot_path

PHONE = {"width": 390, "height": 844}


def check_on_a_phone(page, name: str) -> None:
    """The same page at 390 px: a screenshot, and axe's WCAG 2.2 AA rules."""
    page.set_viewport_size(PHONE)
    page.screenshot(path=screenshot_path(name, 390), full_page=True)
    violations = axe_violations(page)
    page.set_viewport_size({"width": 1280, "height": 900})
    if violations:
        pytest.fail(f"Accessibility problems on {name} at 390 px:\n{describe_violations(violations)}", pytrace=False)


@pytest.fixture
def busy_week(clinic, dentist, coordinator, front_desk):
    today = clinic_now(clinic).date()
    asked = make_case(
        clinic=clinic,
        dentist=dentist,
        coordinator=coordinator,
        stage=Stage.REQUESTED,
        value="4850.00",
        first_name="Mere",
        last_name="Ngata",
        days_in_stage=2,
    )
    viewed = make_case(
        clinic=clinic,
        dentist=dentist,
        coordinator=coordinator,
        stage=Stage.SENT,
        value="2400.00",
        first_name="Zoë",
        last_name="O'Brien",
        days_in_stage=3,
    )
    add_engagement(viewed, by=coordinator, visits=(380, 95))
    follow_up = make_case(
        clinic=clinic,
        dentist=dentist,
        coordinator=coordinator,
        stage=Stage.FOLLOW_UP,
        value="1650.00",
        first_name="Tom",
        last_name="Whaanga",
        days_in_stage=1,
    )
    CaseTask.objects.create(
        case=follow_up, kind=CaseTask.Kind.FOLLOW_UP, title="Call the patient", due_on=today - dt.timedelta(days=1)
    )
    fresh = make_case(
        clinic=clinic, dentist=dentist, coordinator=coordinator, value="980.00", first_name="Ana", last_name="Silva"
    )
    fresh.conversation_date = today
    fresh.save(update_fields=["conversation_date"])
    return {"asked": asked, "viewed": viewed, "follow_up": follow_up, "fresh": fresh}


def test_today_shows_what_to_do_first_and_a_step_is_ticked_in_place(
    page, sign_in_as, check_page, busy_week, coordinator, clinic
):
    sign_in_as(coordinator)
    page.goto("/today/")

    expect(page.get_by_role("heading", level=1)).to_contain_text("Chloé")
    headings = page.locator(".today-section h2")
    expect(headings).to_have_count(4)
    expect(headings.nth(0)).to_contain_text("Requests to proceed")
    expect(headings.nth(1)).to_contain_text("Viewed, no reply yet")
    expect(headings.nth(2)).to_contain_text("Follow-ups due")
    expect(headings.nth(3)).to_contain_text("Packs to send")
    expect(page.locator(".today-summary")).to_contain_text("4 things to do")
    expect(page.locator("#today-follow_ups")).to_contain_text("Overdue")
    check_page(page, "today")
    check_on_a_phone(page, "today")

    page.get_by_role("link", name="Whole clinic").click()
    expect(page.get_by_role("link", name="Whole clinic")).to_have_attribute("aria-current", "page")
    page.get_by_role("link", name="Mine").click()

    # One click from the request to the case.
    page.locator("#today-requests .today-item").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Treatment case for Mere Ngata")
    checklist = page.locator("#checklist")
    expect(checklist.locator(".checklist__progress")).to_have_text("0 of 5 steps done")

    # Ticked in place: no page load (the marker survives), the step says who did it.
    page.evaluate("window.stillTheSamePage = true")
    tick = checklist.get_by_role("button", name="Mark “Check the patient’s health fund or insurance cover” as done")
    tick.click()
    expect(checklist.locator(".checklist__progress")).to_have_text("1 of 5 steps done")
    expect(page.locator("#checklist-said")).to_have_text("“Check the patient’s health fund or insurance cover” done.")
    expect(checklist).to_contain_text("Done by Chloé O'Connor")
    assert page.evaluate("window.stillTheSamePage") is True

    # The same button, by keyboard: focus stays on it after the checklist is redrawn.
    untick = checklist.get_by_role(
        "button", name="Mark “Check the patient’s health fund or insurance cover” as not done"
    )
    untick.focus()
    page.keyboard.press("Enter")
    expect(checklist.locator(".checklist__progress")).to_have_text("0 of 5 steps done")
    focused = page.evaluate("document.activeElement && document.activeElement.id")
    assert focused.startswith("tick-")
    assert CaseTask.objects.get(case=busy_week["asked"], step_key="fetch_insurance_coverage").done_at is None

    # A task of the team's own, added in place.
    checklist.get_by_text("Add a task").click()
    checklist.get_by_label("Task").fill("Ask the lab about the shade")
    checklist.get_by_role("button", name="Add the task").click()
    expect(checklist.get_by_role("list", name="Follow-ups and other tasks")).to_contain_text(
        "Ask the lab about the shade"
    )
    checklist.scroll_into_view_if_needed()
    check_page(page, "case checklist")
    check_on_a_phone(page, "case checklist")


def test_a_step_clearplan_performs_is_shown_done_by_clearplan_without_a_button(
    page,
    sign_in_as,
    sendable_case,  # noqa: F811
    coordinator,
):
    sign_in_as(coordinator)
    page.goto(f"/cases/{sendable_case.public_id}/#checklist")
    images = page.locator(".task", has_text="Add the X-rays and photos")
    expect(images).to_contain_text("Done by Clearplan")
    expect(images.get_by_role("button")).to_have_count(0)
    send = page.locator(".task", has_text="Send the treatment pack")
    expect(send).to_contain_text("Clearplan ticks this when the pack is sent")


def test_a_quiet_day(page, sign_in_as, check_page, coordinator):
    sign_in_as(coordinator)
    page.goto("/today/")
    expect(page.get_by_role("heading", name="Nothing needs you right now")).to_be_visible()
    check_page(page, "today quiet")


def test_a_manager_moves_a_step_by_keyboard_and_switches_one_on(page, sign_in_as, check_page, owner, clinic):
    workflow_steps_for(clinic)
    sign_in_as(owner)
    page.goto("/settings/planning-checklist/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Planning checklist")
    check_page(page, "planning checklist settings")
    check_on_a_phone(page, "planning checklist settings")

    page.get_by_role("button", name="Down: move “Check the patient’s health fund or insurance cover” later").focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**moved=fetch_insurance_coverage:down**")
    focused = page.evaluate("document.activeElement.value")
    assert focused == "fetch_insurance_coverage:down"
    keys = list(WorkflowStep.objects.filter(clinic=clinic).order_by("position").values_list("key", flat=True))
    assert keys.index("fetch_insurance_coverage") == keys.index("send_draft_plan") + 1

    step = page.locator("#step-calculate_copay")
    step.get_by_role("checkbox", name="Work out what the patient pays").check()
    days = step.get_by_label("Due after (days) — Work out what the patient pays")
    days.fill("400")
    page.get_by_role("button", name="Save the checklist").last.click()
    expect(page.locator(".error-summary")).to_contain_text("Choose a number from 0 to 365.")
    expect(page.locator("#id_calculate_copay-due_after_days_error")).to_be_visible()
    days = page.locator("#step-calculate_copay").get_by_label("Due after (days) — Work out what the patient pays")
    days.fill("2")
    days.press("Enter")  # Enter saves the form; it does not press the first "Down" button
    expect(page.get_by_text("Checklist saved.")).to_be_visible()
    assert "moved=" not in page.url
    copay = WorkflowStep.objects.get(clinic=clinic, key="calculate_copay")
    assert (copay.enabled, copay.due_after_days) == (True, 2)
