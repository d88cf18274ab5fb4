"""A coordinator builds a case with a two-option plan from the patient's page."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from playwright.sync_api import expect

from clearplan.catalog.models import Fee, FeeSchedule, Procedure
from clearplan.patients.tests.factories import PatientFactory
from clearplan.plans.models import Case


def test_a_coordinator_builds_a_two_option_plan(
    page, sign_in_as, check_page, clinic, coordinator, dentist, organisation
):
    patient = PatientFactory(clinic=clinic, first_name="Mere", last_name="Ngata")
    crown = Procedure.objects.create(
        organisation=organisation,
        code="615",
        name="Porcelain crown",
        category="prosthodontic",
        treatment_area="tooth",
        default_chair_minutes=90,
    )
    bridge = Procedure.objects.create(
        organisation=organisation,
        code="643",
        name="Bridge, one replacement tooth",
        category="prosthodontic",
        treatment_area="tooth",
        default_chair_minutes=120,
    )
    standard = FeeSchedule.objects.create(clinic=clinic, name="Standard", is_default=True)
    for procedure, amount in ((crown, "1650.00"), (bridge, "3900.00")):
        Fee.objects.create(
            schedule=standard, procedure=procedure, amount=Decimal(amount), effective_from=date(2020, 1, 1)
        )
    sign_in_as(coordinator)

    page.goto(f"/patients/{patient.public_id}/")
    page.get_by_role("link", name="New case").click()
    page.get_by_label("Dentist").select_option(label="Priya Raman (Dentist)")
    page.get_by_label("Oral health", exact=True).check()
    page.get_by_label("Key points for the team").fill("Cracked upper left first molar. Cost matters to Mere.")
    check_page(page, "case new")
    page.get_by_role("button", name="Create case").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Treatment case for Mere Ngata")
    option_a = page.locator("section.plan-option").first
    option_a.get_by_label("Procedure").select_option(label="615 — Porcelain crown")
    option_a.get_by_label("Tooth (optional)").fill("26")
    option_a.get_by_role("button", name="Add to Option A").click()
    expect(page.locator("section.plan-option").first).to_contain_text("$1,650.00")

    page.get_by_label("Option name").fill("Option B: bridge")
    page.get_by_role("button", name="Add an option").click()
    option_b = page.locator("section.plan-option").nth(1)
    option_b.get_by_label("Procedure").select_option(label="643 — Bridge, one replacement tooth")
    option_b.get_by_label("Tooth (optional)").fill("99")
    option_b.get_by_role("button", name="Add to Option B: bridge").click()
    expect(page.locator("section.plan-option").nth(1)).to_contain_text("“99” is not a tooth in FDI numbering")
    option_b = page.locator("section.plan-option").nth(1)
    option_b.get_by_label("Tooth (optional)").fill("25")
    option_b.get_by_role("button", name="Add to Option B: bridge").click()
    expect(page.locator("section.plan-option").nth(1)).to_contain_text("$3,900.00")

    check_page(page, "case two options")
    case = Case.objects.get()
    assert [o.lines.count() for o in case.options.order_by("position")] == [1, 1]
