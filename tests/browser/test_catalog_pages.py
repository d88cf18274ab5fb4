"""Settings → Procedures and Settings → Fee schedules in Chromium: a manager sets up the
catalogue and fees, imports licensed descriptions, and a coordinator reads them."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from playwright.sync_api import expect

from clearplan.catalog.models import Fee, FeeSchedule, Procedure
from clearplan.catalog.services import (
    catalog_install_starter,
    fee_schedule_create,
    fee_schedule_create_standard,
    fees_set,
)


def test_a_manager_starts_from_the_starter_catalogue_and_edits_a_procedure(page, sign_in_as, owner, check_page):
    sign_in_as(owner)
    page.goto("/settings/")
    page.get_by_role("link", name=re.compile("^Procedures")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Procedures")
    check_page(page, "procedures-empty")

    page.get_by_role("button", name="Use the Australian starter (ADA item numbers)").click()
    expect(page.get_by_text("Added 66 procedures")).to_be_visible()
    check_page(page, "procedures-list")

    page.get_by_label("Code or name").fill("crown")
    page.get_by_role("button", name="Search").click()
    table = page.get_by_role("table")
    expect(table.get_by_role("link", name="Ceramic crown", exact=True)).to_be_visible()
    assert "q=crown" in page.url
    table.get_by_role("link", name="Ceramic crown", exact=True).click()

    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(r"613\s+Ceramic crown"))
    rule = "After any root canal (endodontic) procedure, on the same tooth"
    expect(page.get_by_text(rule, exact=True)).to_be_visible()
    check_page(page, "procedure-detail")

    page.get_by_role("link", name="Edit", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Edit 613")
    page.get_by_label("Name", exact=True).fill("")
    page.get_by_label("Usual chair time (minutes)").fill("0")
    page.get_by_role("button", name="Save changes").click()
    name = page.get_by_label("Name", exact=True)
    expect(name).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_role("alert")).to_contain_text("Enter a name staff and patients will understand.")
    check_page(page, "procedure-edit-errors")

    name.fill("Porcelain or zirconia crown")
    page.get_by_label("Usual chair time (minutes)").fill("90")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile("Porcelain or zirconia crown"))

    page.get_by_role("button", name="Retire").click()
    expect(page.get_by_text("613 is retired")).to_be_visible()
    expect(page.get_by_text("Retired — not offered for new plans")).to_be_visible()
    assert Procedure.objects.get(code="613").is_retired


def test_a_manager_adds_an_order_rule(page, sign_in_as, owner, organisation, check_page):
    catalog_install_starter(organisation=organisation, region="AU", by=owner)
    implant_crown = Procedure.objects.get(code="661")
    sign_in_as(owner)
    page.goto(f"/settings/procedures/{Procedure.objects.get(code='311').public_id}/rules/new/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("comes after")
    check_page(page, "procedure-rule-new")

    page.get_by_role("button", name="Add rule").click()
    expect(page.get_by_role("alert")).to_contain_text("Choose the procedure (or category) that must come first.")

    page.get_by_label("After this procedure").select_option(label=f"661 {implant_crown.name}")
    page.get_by_label("Where").select_option(label="At the same site (where the tooth is or was)")
    page.get_by_role("button", name="Add rule").click()
    expect(page.get_by_role("alert")).to_contain_text("This would be circular")
    check_page(page, "procedure-rule-refused")


def test_importing_licensed_descriptions_with_a_bad_row_and_then_a_good_file(
    page, sign_in_as, owner, organisation, check_page, tmp_path
):
    catalog_install_starter(organisation=organisation, region="AU", by=owner)
    sign_in_as(owner)
    page.goto("/settings/procedures/")
    page.get_by_role("link", name="Import descriptions").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Import descriptions")
    check_page(page, "import-descriptions")

    bad = tmp_path / "codes.csv"
    bad.write_bytes("Item,Description\n011,Licensed wording one\n012,\n999,Not ours\n".encode("cp1252"))
    page.get_by_label("Code list (CSV file)").set_input_files(str(bad))
    page.get_by_role("button", name="Check the file").click()
    expect(page.get_by_role("alert")).to_contain_text("Nothing has been saved.")
    expect(page.get_by_role("cell", name="Code 012 has no description.")).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("^Import"))).to_have_count(0)
    check_page(page, "import-descriptions-problems")

    good = tmp_path / "codes-fixed.csv"
    good.write_bytes("Item,Description\n011,Licensed wording one – café\n12,Licensed wording two\n".encode("cp1252"))
    page.get_by_label("Code list (CSV file)").set_input_files(str(good))
    page.get_by_role("button", name="Check the file").click()
    expect(page.get_by_text("2 procedures will get their licensed description")).to_be_visible()
    check_page(page, "import-descriptions-preview")
    page.get_by_role("button", name="Import 2 descriptions").click()

    expect(page.get_by_text("Licensed descriptions imported: 2 procedures updated.")).to_be_visible()
    assert Procedure.objects.get(code="011").licensed_description == "Licensed wording one – café"


def test_a_manager_creates_fee_schedules_and_changes_fees_from_a_date(page, sign_in_as, owner, clinic, check_page):
    catalog_install_starter(organisation=clinic.organisation, region="AU", by=owner)
    sign_in_as(owner)
    page.goto("/settings/")
    page.get_by_role("link", name=re.compile("^Fee schedules")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Fee schedules")
    check_page(page, "fee-schedules-empty")

    page.get_by_role("button", name="Create the Standard schedule").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Standard")
    expect(page.get_by_role("row", name=re.compile(r"^613 Ceramic crown \$1,680\.00"))).to_be_visible()
    check_page(page, "fee-schedule-standard")

    page.get_by_role("link", name="Fee schedules").first.click()
    page.get_by_role("link", name="Add a fee schedule").click()
    page.get_by_label("Name").fill("Concession")
    page.get_by_label("Kind of schedule").select_option("concession")
    page.get_by_label("Who it is for").fill("Pension and health-care card holders")
    page.get_by_role("button", name="Add schedule").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Change Concession fees")
    page.get_by_label("Category").select_option("diagnostic")
    page.get_by_role("button", name="Show").click()
    page.get_by_label("New fees apply from").fill("2025-07-01")
    page.get_by_label(re.compile(r"^New fee for 012 ")).fill("60")
    page.get_by_label(re.compile(r"^New fee for 011 ")).fill("80.555")
    page.get_by_role("button", name="Save new fees").click()
    field = page.get_by_label(re.compile(r"^New fee for 011 "))
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_role("alert")).to_contain_text("Use at most two decimal places (cents).")
    check_page(page, "fee-schedule-fees-errors")
    assert not Fee.objects.filter(schedule__name="Concession").exists()

    field.fill("$80")
    page.get_by_role("button", name="Save new fees").click()
    expect(page.get_by_text("2 fees saved, applying from 1 Jul 2025.")).to_be_visible()
    expect(
        page.get_by_role("row", name=re.compile(r"^613 Ceramic crown \$1,680\.00 Standard fee applies"))
    ).to_be_visible()
    check_page(page, "fee-schedule-concession")

    page.get_by_role("button", name="Make default").click()
    expect(page.get_by_text("Concession is now the default fee schedule")).to_be_visible()
    assert FeeSchedule.objects.get(clinic=clinic, is_default=True).name == "Concession"


def test_a_coordinator_reads_procedures_and_fees_without_editing(
    page, sign_in_as, owner, coordinator, clinic, check_page
):
    catalog_install_starter(organisation=clinic.organisation, region="AU", by=owner)
    standard = fee_schedule_create_standard(clinic=clinic, by=owner, effective_from=date(2024, 1, 1))
    concession = fee_schedule_create(clinic=clinic, by=owner, name="Concession", kind="concession")
    fees_set(
        schedule=concession,
        by=owner,
        effective_from=date(2024, 1, 1),
        amounts={Procedure.objects.get(code="012"): Decimal("60")},
    )
    sign_in_as(coordinator)
    page.goto("/settings/procedures/")
    expect(page.get_by_role("link", name="Add a procedure")).to_have_count(0)
    check_page(page, "procedures-read-only")

    page.goto(f"/settings/fee-schedules/{standard.public_id}/")
    expect(page.get_by_role("link", name="Change fees")).to_have_count(0)
    page.get_by_role("link", name="Fee schedules").first.click()
    check_page(page, "fee-schedules-list")
    page.get_by_role("table").get_by_role("link", name="Concession").click()
    expect(page.get_by_role("row", name=re.compile(r"^012 Regular check-up \$60\.00"))).to_be_visible()

    page.goto(f"/settings/procedures/{Procedure.objects.get(code='012').public_id}/")
    expect(page.get_by_role("heading", name="Fees at Harbour Dental Sydney")).to_be_visible()
    check_page(page, "procedure-detail-read-only")
    response = page.goto(f"/settings/fee-schedules/{standard.public_id}/fees/")
    assert response is not None
    assert response.status == 403
