"""Signing in, and working in more than one clinic."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from clearplan.accounts.models import Membership
from clearplan.patients.tests.factories import PatientFactory

from .conftest import signed_in_cookie


def test_staff_sign_in_with_email_and_password_and_land_on_today(page, owner, password, check_page):
    page.goto("/accounts/login/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    check_page(page, "sign-in")

    page.get_by_label("Email").fill("owner@example.com")
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()

    expect(page).to_have_url(re.compile(r"/today/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(r"^Good (morning|afternoon|evening), Olivia$"))
    check_page(page, "today-after-sign-in")


def test_a_wrong_password_is_explained_without_leaving_the_page(page, owner, check_page):
    page.goto("/accounts/login/")

    page.get_by_label("Email").fill("owner@example.com")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()

    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    expect(page.get_by_label("Email")).to_have_value("owner@example.com")
    expect(page.locator("main")).to_contain_text("password you specified are not correct")
    check_page(page, "sign-in-wrong-password")


def test_a_user_in_two_clinics_switches_clinic_in_the_header(page, sign_in_as, owner, clinic, other_clinic, check_page):
    Membership.objects.create(user=owner, clinic=other_clinic, role=Membership.Role.MANAGER)
    PatientFactory(clinic=clinic, first_name="Zoë", last_name="Sydney-Harbour")
    PatientFactory(clinic=other_clinic, first_name="Kirra", last_name="Swan-River")
    sign_in_as(owner)
    page.goto("/patients/")
    switcher = page.get_by_label("Clinic you are working in")

    switcher.select_option(label="Harbour Dental Sydney")

    expect(switcher.locator("option:checked")).to_have_text("Harbour Dental Sydney")
    expect(page.get_by_role("link", name=re.compile("Sydney-Harbour"))).to_be_visible()
    expect(page.get_by_role("link", name=re.compile("Swan-River"))).to_have_count(0)

    switcher.select_option(label="Harbour Dental Perth")

    expect(page).to_have_url(re.compile(r"/patients/$"))
    expect(switcher.locator("option:checked")).to_have_text("Harbour Dental Perth")
    expect(page.get_by_role("link", name=re.compile("Swan-River"))).to_be_visible()
    expect(page.get_by_role("link", name=re.compile("Sydney-Harbour"))).to_have_count(0)
    check_page(page, "patients-after-switching-clinic")


def test_the_clinic_switcher_works_without_scripts(context_without_scripts, live_server, owner, other_clinic):
    # The switcher's button is there for keyboard users and for browsers without JavaScript.
    Membership.objects.create(user=owner, clinic=other_clinic, role=Membership.Role.MANAGER)
    context_without_scripts.add_cookies([signed_in_cookie(owner, live_server.url)])
    page = context_without_scripts.new_page()
    page.goto("/today/")
    switcher = page.get_by_label("Clinic you are working in")

    switcher.select_option(label="Harbour Dental Sydney")
    page.get_by_role("button", name="Switch").click()

    expect(switcher.locator("option:checked")).to_have_text("Harbour Dental Sydney")
    expect(page.get_by_text("Harbour Dental Sydney ·")).to_be_visible()
