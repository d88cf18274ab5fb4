"""The Pipeline board in Chromium: a card dragged to another stage, another moved with the
keyboard through its Move menu, "Not proceeding for now" asking why and when to look again, a
drop the board refuses with the reason, and the list's sorting and reassigning; axe at 1280, 768
and 390 px."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from clearplan.accounts.models import Membership
from clearplan.accounts.tests.factories import staff_member
from clearplan.pipeline.models import CaseProgress, Stage, StageMove
from clearplan.pipeline.tests.board_fixtures import add_engagement, make_cases
from tests.browser.conftest import screenshot_path

PHONE = {"width": 390, "height": 844}
# Wide enough for all six columns side by side, so a drag needs no sideways scrolling.
DESKTOP = {"width": 1920, "height": 1000}


# key: (first name, last name, stage, value, days in the stage, coordinator ("chloe", "sam" or None), plan type)
PRACTICE = {
    "mere": ("Mere", "Ngata", Stage.SENT, "4850.00", 4, "chloe", "oral_health"),
    "zoe": ("Zoë", "O'Brien", Stage.SENT, "1650.00", 2, "chloe", "oral_health"),
    "anh": ("Anh", "Nguyễn", Stage.NOT_SENT, "980.00", 0, "sam", "oral_health"),
    "tui": ("Tūī", "Parata", Stage.FOLLOW_UP, "12400.00", 6, "chloe", "both"),
    "james": ("James", "Smith-Jones", Stage.REQUESTED, "3200.00", 1, "sam", "oral_health"),
    "priya": ("Priya", "Shah", Stage.BOOKED, "2150.00", 3, None, "oral_health"),
    "liam": ("Liam", "O'Sullivan-Whitford", Stage.NOT_PROCEEDING, "6100.00", 20, "chloe", "elective"),
}


@pytest.fixture
def practice(clinic, dentist, coordinator, owner):
    """A week at a practice: cases in every stage, some read, one answered."""
    sam = staff_member(clinic, Membership.Role.COORDINATOR, first_name="Sam", last_name="Tran", email="sam@example.com")
    people = {"chloe": coordinator, "sam": sam, None: None}
    table = {key: (*row[:5], people[row[5]], row[6]) for key, row in PRACTICE.items()}
    cases = make_cases(table, clinic=clinic, dentist=dentist)
    add_engagement(cases["mere"], by=coordinator, visits=(380, 95))
    add_engagement(cases["zoe"], by=coordinator)
    add_engagement(cases["tui"], by=coordinator, visits=(600,))
    add_engagement(cases["james"], by=coordinator, visits=(240,), replied=True)
    return cases


def card(page: Page, case) -> str:
    return f"#card-{case.public_id}"


def check_phone(page: Page, name: str, check_accessibility) -> None:
    page.set_viewport_size(PHONE)
    page.wait_for_load_state("load")
    page.screenshot(path=screenshot_path(name, 390), full_page=True)
    check_accessibility(page, f"{name} at 390 px")
    page.set_viewport_size({"width": 1280, "height": 900})


def test_a_card_moves_by_dragging_and_another_by_the_keyboard(
    page: Page, sign_in_as, check_page, check_accessibility, coordinator, practice
):
    sign_in_as(coordinator)
    page.goto("/pipeline/")
    expect(page.locator("#column-sent .board-column__figures")).to_contain_text("2 cases")
    expect(page.locator("#column-sent .board-column__figures")).to_contain_text("$6,500.00")
    expect(page.locator(card(page, practice["mere"]))).to_contain_text("Viewed twice · 7 min 55 s")
    check_page(page, "pipeline board")
    check_phone(page, "pipeline board", check_accessibility)

    # Mere has read her pack twice without answering: dragged to "Follow-up required".
    page.set_viewport_size(DESKTOP)
    page.screenshot(path=screenshot_path("pipeline board", 1920))
    page.drag_and_drop(card(page, practice["mere"]), "#column-follow_up")
    status = page.locator("#board-status")
    expect(status).to_contain_text("Mere Ngata moved to “Follow-up required”.")
    expect(page.locator(f"#column-follow_up {card(page, practice['mere'])}")).to_be_visible()
    expect(page.locator("#column-sent .board-column__figures")).to_contain_text("1 case")
    assert CaseProgress.objects.get(case=practice["mere"]).stage == Stage.FOLLOW_UP

    # James asked to proceed; moved back to follow-up with the keyboard alone, through his card's Move menu.
    james = page.locator(card(page, practice["james"]))
    james.locator("summary").focus()
    page.keyboard.press("Enter")
    follow_up_button = james.get_by_role("button", name="Follow-up required")
    expect(follow_up_button).to_be_visible()
    james.screenshot(path=screenshot_path("pipeline board move menu", 1920))
    follow_up_button.focus()
    page.keyboard.press("Enter")
    expect(status).to_contain_text("James Smith-Jones moved to “Follow-up required”.")
    # Focus stays with the card that moved, now in its new column.
    expect(page.locator(f"#column-follow_up {card(page, practice['james'])}")).to_be_focused()
    assert StageMove.objects.filter(case=practice["james"], moved_by=coordinator, to_stage=Stage.FOLLOW_UP).exists()

    # Nobody can drag a case to "Booked": the board says what to do instead and nothing moves.
    page.drag_and_drop(card(page, practice["tui"]), "#column-booked")
    expect(status).to_contain_text("Record the appointment on the case")
    assert CaseProgress.objects.get(case=practice["tui"]).stage == Stage.FOLLOW_UP


def test_not_proceeding_asks_why_and_when_to_look_again(
    page: Page, sign_in_as, check_accessibility, coordinator, practice
):
    sign_in_as(coordinator)
    page.set_viewport_size(DESKTOP)
    page.goto("/pipeline/")
    page.drag_and_drop(card(page, practice["tui"]), "#column-not_proceeding")
    dialog = page.locator("#np-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("heading")).to_contain_text("Tūī Parata")
    suggested = dialog.get_by_label("Look at it again on").input_value()
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", suggested)
    check_accessibility(page, "the not proceeding dialog")

    # Sent without a reason: the message is at the field, in the dialog, and nothing moved.
    dialog.get_by_role("button", name="Move to “Not proceeding for now”").click()
    expect(dialog.locator(".field__error")).to_contain_text("Choose why the patient is not going ahead for now.")
    assert CaseProgress.objects.get(case=practice["tui"]).stage == Stage.FOLLOW_UP
    page.screenshot(path=screenshot_path("pipeline not proceeding dialog", 1280))

    dialog.get_by_label("Why not now?").select_option("cost")
    dialog.get_by_label("Note for the team").fill("Saving up; call after the school holidays.")
    dialog.get_by_role("button", name="Move to “Not proceeding for now”").click()
    expect(dialog).to_be_hidden()
    expect(page.locator("#board-status")).to_contain_text("Tūī Parata moved to “Not proceeding for now”.")
    progress = CaseProgress.objects.get(case=practice["tui"])
    assert progress.stage == Stage.NOT_PROCEEDING
    assert progress.not_proceeding_reason == "cost"
    assert str(progress.look_again_on) == suggested


def test_a_stale_board_says_the_case_moved_meanwhile(page: Page, sign_in_as, coordinator, practice):
    from clearplan.pipeline.stages import stage_move

    sign_in_as(coordinator)
    page.goto("/pipeline/")
    # Someone else moves Tūī while this page is open.
    stage_move(case=practice["tui"], to_stage=Stage.REQUESTED, by=coordinator)
    tui = page.locator(card(page, practice["tui"]))
    tui.locator("summary").click()
    tui.get_by_role("button", name="Requested to proceed").click()
    expect(page.locator("#board-status")).to_contain_text("This case was moved meanwhile")
    expect(page.locator(f"#column-requested {card(page, practice['tui'])}")).to_be_visible()
    expect(page.locator(f"#column-follow_up {card(page, practice['tui'])}")).to_have_count(0)


def test_the_list_sorts_and_hands_cases_over(
    page: Page, sign_in_as, check_page, check_accessibility, coordinator, practice
):
    sign_in_as(coordinator)
    page.goto("/pipeline/list/?sort=-value")
    rows = page.locator(".pipeline-table tbody tr")
    expect(rows.first).to_contain_text("Tūī Parata")
    check_page(page, "pipeline list")
    check_phone(page, "pipeline list", check_accessibility)

    # The highest-value follow-ups: read, but not answered. The filter is in the address.
    page.get_by_text("Filters", exact=True).click()
    page.get_by_label("Engagement").select_option(label="Viewed, no response")
    page.screenshot(path=screenshot_path("pipeline list filters", 1280), full_page=True)
    page.get_by_role("button", name="Apply filters").click()
    expect(page).to_have_url(re.compile(r"engagement=viewed_no_response"))
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("Tūī Parata")
    expect(rows.nth(1)).to_contain_text("Mere Ngata")
    page.get_by_role("link", name="Board").click()
    expect(page).to_have_url(re.compile(r"/pipeline/\?.*engagement=viewed_no_response"))
    expect(page.locator(".board-card")).to_have_count(2)
    page.get_by_role("link", name="List").click()

    page.get_by_label("Tick Mere Ngata").check()
    page.get_by_label("Tick Tūī Parata").check()
    page.get_by_label("Reassign ticked cases to").select_option(label="Sam Tran")
    page.get_by_role("button", name="Reassign").click()
    expect(page.locator(".notice--success")).to_contain_text("2 cases reassigned to Sam Tran.")
    practice["mere"].refresh_from_db()
    assert practice["mere"].coordinator.first_name == "Sam"


def test_the_case_page_says_where_the_case_stands(page: Page, sign_in_as, check_accessibility, coordinator, practice):
    sign_in_as(coordinator)
    page.goto(f"/cases/{practice['tui'].public_id}/")
    panel = page.locator("#case-stage")
    expect(panel).to_contain_text("Follow-up required")
    panel.get_by_text("Move this case…").click()
    panel.get_by_label("Note for the team").fill("Called; she wants to go ahead.")
    panel.screenshot(path=screenshot_path("pipeline case stage panel moving", 1280))
    panel.get_by_role("button", name="Requested to proceed").click()
    expect(page.locator("#case-stage .stage-panel__status")).to_contain_text(
        "Tūī Parata moved to “Requested to proceed”."
    )
    expect(page.locator("#case-stage")).to_contain_text("Called; she wants to go ahead.")
    page.locator("#case-stage").screenshot(path=screenshot_path("pipeline case stage panel", 1280))
    check_accessibility(page, "the case page with its stage panel")
    page.set_viewport_size(PHONE)
    page.locator("#case-stage").screenshot(path=screenshot_path("pipeline case stage panel", 390))


def test_without_scripts_the_move_menu_and_not_proceeding_still_work(
    context_without_scripts, coordinator, practice, live_server
):
    from tests.browser.conftest import signed_in_cookie

    context_without_scripts.add_cookies([signed_in_cookie(coordinator, live_server.url)])
    page = context_without_scripts.new_page()
    page.goto("/pipeline/?plan_type=oral_health")
    # The Move menu leads to the move page, which comes back to the same board.
    mere = page.locator(card(page, practice["mere"]))
    mere.locator("summary").click()
    mere.get_by_role("link", name="Choose where to move it…").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Move the case for Mere Ngata")
    page.get_by_label("Requested to proceed").check()
    page.get_by_role("button", name="Move the case").click()
    expect(page).to_have_url(re.compile(r"/pipeline/\?plan_type=oral_health$"))
    expect(page.locator(".notice--success")).to_contain_text("Mere Ngata moved to “Requested to proceed”.")

    # "Not proceeding for now" asks why, at the field, before anything moves.
    zoe = page.locator(card(page, practice["zoe"]))
    zoe.locator("summary").click()
    zoe.get_by_role("link", name="Choose where to move it…").click()
    page.get_by_label("Not proceeding for now").check()
    page.get_by_role("button", name="Move the case").click()
    expect(page.locator("#move-reason_error")).to_contain_text("Choose why the patient is not going ahead for now.")
    page.get_by_label("Why not now?").select_option("timing")
    page.get_by_role("button", name="Move the case").click()
    expect(page).to_have_url(re.compile(r"/pipeline/\?plan_type=oral_health$"))
    assert CaseProgress.objects.get(case=practice["zoe"]).stage == Stage.NOT_PROCEEDING
