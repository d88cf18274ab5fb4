"""Finding, opening and adding patients, as the front desk does many times a day."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from clearplan.patients.models import Patient
from clearplan.patients.tests.factories import PatientFactory


def test_search_for_a_patient_typed_without_accents_and_open_the_record(
    page, sign_in_as, coordinator, clinic, other_clinic, check_page
):
    PatientFactory(clinic=clinic, first_name="Zoë", last_name="Ngô-O'Brien", medical_alerts="Takes warfarin.")
    PatientFactory(clinic=clinic, first_name="Liam", last_name="Smith")
    PatientFactory(clinic=other_clinic, first_name="Zoe", last_name="Ngo")
    sign_in_as(coordinator)
    page.goto("/patients/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Patients")
    check_page(page, "patient-list")

    # Results follow the typing; pressing Search as well would send a second, overlapping search.
    page.get_by_label("Find a patient").fill("zoe ngo")

    results = page.get_by_role("table")
    expect(results.get_by_role("link")).to_have_count(1)
    expect(results.get_by_role("link", name="Ngô-O'Brien, Zoë")).to_be_visible()
    assert "zoe" not in page.url.lower()
    check_page(page, "patient-search-results")

    results.get_by_role("link", name="Ngô-O'Brien, Zoë").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("Zoë Ngô-O'Brien")
    expect(page.get_by_role("heading", name="Medical alerts")).to_be_visible()
    expect(page.get_by_text("Takes warfarin.")).to_be_visible()
    check_page(page, "patient-detail")


def test_create_a_patient_with_an_invalid_mobile_then_correct_it(page, sign_in_as, front_desk, clinic, check_page):
    sign_in_as(front_desk)
    page.goto("/patients/")
    page.get_by_role("link", name="Add a patient").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Add a patient")
    check_page(page, "new-patient")

    page.get_by_label("Legal first name").fill("Seán")
    page.get_by_label("Legal last name").fill("O'Brien-Ngata")
    page.get_by_label("Date of birth").fill("14/07/1988")
    mobile = page.get_by_label(re.compile(r"^Mobile"))
    mobile.fill("0412 34")
    page.get_by_label("Agrees to receive SMS").check()
    page.get_by_role("button", name="Add patient").click()

    expect(mobile).to_have_attribute("aria-invalid", "true")
    expect(mobile).to_have_accessible_description(re.compile(r"Enter a mobile number such as"))
    expect(mobile).to_have_value("0412 34")
    expect(page.get_by_label("Legal first name")).to_have_value("Seán")
    expect(page.get_by_label("Agrees to receive SMS")).to_be_checked()
    assert Patient.objects.count() == 0
    check_page(page, "new-patient-invalid-mobile")

    mobile.fill("0412 345 678")
    page.get_by_role("button", name="Add patient").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("Seán O'Brien-Ngata")
    expect(page.get_by_text("Seán O'Brien-Ngata has been added.")).to_be_visible()
    expect(page.get_by_role("link", name=re.compile(r"0412 345 678"))).to_be_visible()
    patient = Patient.objects.get()
    assert patient.mobile == "+61412345678"
    assert patient.clinic == clinic
    check_page(page, "new-patient-saved")


def test_results_update_as_you_type_and_the_address_keeps_only_a_token(page, sign_in_as, front_desk, clinic):
    PatientFactory(clinic=clinic, first_name="Aroha", last_name="Ngata")
    PatientFactory(clinic=clinic, first_name="Liam", last_name="Smith")
    sign_in_as(front_desk)
    page.goto("/patients/")

    page.get_by_label("Find a patient").press_sequentially("ngata", delay=40)

    results = page.get_by_role("table")
    expect(results.get_by_role("link")).to_have_count(1)
    expect(results.get_by_role("link", name="Ngata, Aroha")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/patients/\?search=[\w-]{12}$"))
    assert "ngata" not in page.url.lower()

    page.reload()
    expect(page.get_by_role("table").get_by_role("link")).to_have_count(1)
    expect(page.get_by_label("Find a patient")).to_have_value("ngata")


def test_searches_reach_the_audit_log_without_what_was_typed(page, sign_in_as, owner, clinic, check_page):
    PatientFactory(clinic=clinic, first_name="Aroha", last_name="Ngata")
    PatientFactory(clinic=clinic, first_name="Liam", last_name="Smith")
    sign_in_as(owner)
    page.goto("/patients/")
    page.get_by_label("Find a patient").press_sequentially("ngata", delay=40)
    expect(page.get_by_role("table").get_by_role("link")).to_have_count(1)

    page.goto("/settings/audit/")
    page.get_by_label("Record type").select_option(label="Patient list")
    page.get_by_role("button", name="Apply filters").click()

    rows = page.get_by_role("row")
    # The whole list when the page opened, then the one search result.
    expect(rows).to_have_count(3)
    expect(rows.nth(1)).to_contain_text("Patient list: Patient search")
    expect(rows.nth(2)).to_contain_text("Patient list: All patients")
    rows.nth(1).get_by_text("Details").click()
    expect(rows.nth(1).get_by_text("Patients shown")).to_be_visible()
    expect(rows.nth(1).get_by_text("Search token")).to_be_visible()
    assert "ngata" not in page.locator("main").inner_text().lower()
    check_page(page, "audit-log-patient-searches")
