"""Sign-in, two-factor, invitation and settings pages in Chromium, at laptop and tablet
width, with no accessibility problems axe can find."""

from __future__ import annotations

import re

import pytest
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.test import Client
from playwright.sync_api import expect

from clearplan.accounts import services
from clearplan.accounts.models import Invitation, Membership
from clearplan.accounts.tests.factories import TEST_PASSWORD, UserFactory


def _type_sign_in(page, email: str, password: str = TEST_PASSWORD) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_the_sign_in_page_and_its_lock_out_message(page, owner, check_page, settings):
    settings.LOGIN_FAILURE_LIMIT = 2
    page.goto("/accounts/login/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    check_page(page, "sign-in")

    _type_sign_in(page, owner.email, "not my password")
    expect(page.get_by_role("alert")).to_contain_text("not correct")
    check_page(page, "sign-in-wrong-password")
    _type_sign_in(page, owner.email, "still not my password")
    expect(page.get_by_role("alert")).to_contain_text(
        re.compile(r"locked for 15 minutes after 2 unsuccessful sign-ins\. Try again at \d{1,2}:\d\d [ap]m")
    )
    check_page(page, "sign-in-locked")


def test_signing_in_and_out(page, owner):
    _type_sign_in(page, owner.email)
    expect(page).to_have_url(re.compile(r"/today/$"))
    page.locator("summary", has_text="Account menu").click()
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/$"))


def test_the_password_reset_pages(page, owner, check_page):
    page.goto("/accounts/password/reset/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Reset your password")
    check_page(page, "password-reset")
    page.get_by_label("Email address").fill(owner.email)
    page.get_by_role("button", name="Send the reset link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")
    check_page(page, "password-reset-sent")
    page.goto("/accounts/password/reset/key/1-broken/")
    expect(page.get_by_role("heading", level=1)).to_have_text("This reset link doesn't work")
    check_page(page, "password-reset-broken-link")


def test_setting_up_two_factor_and_the_code_step_at_sign_in(page, context, owner, check_page):
    _type_sign_in(page, owner.email)
    page.goto("/accounts/2fa/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Two-factor authentication")
    check_page(page, "two-factor")

    page.get_by_role("link", name="Set up").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Set up your authenticator app")
    qr = page.get_by_role("img", name=re.compile("QR code"))
    expect(qr).to_be_visible()
    assert qr.evaluate("image => image.naturalWidth") > 0  # the data: image loads under the page's policy
    check_page(page, "two-factor-set-up")

    secret = page.locator("#authenticator-secret").inner_text().strip()
    page.get_by_label("Authenticator code").fill("000000")
    page.get_by_role("button", name="Turn on two-factor authentication").click()
    expect(page.get_by_text("Incorrect code")).to_be_visible()
    check_page(page, "two-factor-set-up-wrong-code")

    import time

    counter = int(time.time()) // 30
    page.get_by_label("Authenticator code").fill(format_hotp_value(hotp_value(secret, counter)))
    page.get_by_role("button", name="Turn on two-factor authentication").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your recovery codes")
    expect(page.get_by_role("list", name="Unused recovery codes").get_by_role("listitem")).to_have_count(10)
    check_page(page, "two-factor-recovery-codes")

    page.goto("/accounts/2fa/recovery-codes/generate/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Make new recovery codes?")
    check_page(page, "two-factor-new-recovery-codes")
    page.goto("/accounts/2fa/totp/deactivate/")
    check_page(page, "two-factor-turn-off")

    context.clear_cookies()
    _type_sign_in(page, owner.email)
    expect(page.get_by_role("heading", level=1)).to_have_text("Enter your code")
    check_page(page, "sign-in-code")


def test_an_organisation_that_requires_two_factor_sends_staff_to_set_it_up(page, coordinator, organisation):
    organisation.require_two_factor = True
    organisation.save()
    _type_sign_in(page, coordinator.email)
    expect(page).to_have_url(re.compile(r"/accounts/2fa/totp/activate/$"))
    expect(page.get_by_role("status")).to_contain_text("Your organisation asks everyone to use two-factor")


def test_the_confirm_its_you_page(page, sign_in_as, owner, check_page):
    sign_in_as(owner)  # no recent typed sign-in, so changing two-factor asks for the password
    page.goto("/accounts/2fa/totp/activate/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm it's you")
    check_page(page, "confirm-its-you")


@pytest.fixture
def org_admin(organisation, clinic, other_clinic):
    return UserFactory(organisation=organisation, is_organisation_admin=True, email="admin@example.com")


SETTINGS_PAGES = [
    ("settings-profile", "/settings/profile/", "Your profile"),
    ("settings-team", "/settings/team/", "Team"),
    ("settings-invite", "/settings/team/invite/", "Invite someone to Harbour Dental Sydney"),
    ("settings-clinic", "/settings/clinic/", "Clinic profile"),
    ("settings-organisation", "/settings/organisation/", "Harbour Smiles Group"),
    ("settings-add-clinic", "/settings/organisation/clinics/new/", "Add a clinic"),
    ("settings-password", "/accounts/password/change/", "Change your password"),
]


@pytest.mark.parametrize(("name", "path", "heading"), SETTINGS_PAGES, ids=[p[0] for p in SETTINGS_PAGES])
def test_settings_pages_are_accessible(
    page, sign_in_as, org_admin, owner, dentist, clinic, name, path, heading, check_page
):
    Membership.objects.create(user=org_admin, clinic=clinic, role=Membership.Role.MANAGER)
    services.invitation_create(clinic=clinic, by=owner, email="new.starter@example.com", role="front_desk")
    sign_in_as(org_admin)
    page.goto(path)
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    check_page(page, name)


def test_a_manager_changes_a_role_and_removes_someone(page, sign_in_as, owner, dentist, coordinator, check_page):
    sign_in_as(owner)
    page.goto("/settings/team/")
    page.get_by_role("link", name=f"Change role for {coordinator.display_name}").click()
    check_page(page, "settings-member-role")
    page.get_by_label("Role", exact=True).select_option(label="Practitioner")
    page.get_by_role("button", name="Save role").click()
    expect(page.get_by_text("Choose the practitioner's clinical role.").first).to_be_visible()
    check_page(page, "settings-member-role-error")
    page.get_by_label("Clinical role (optional)").select_option(label="Hygienist")
    page.get_by_role("button", name="Save role").click()
    expect(page.get_by_role("status")).to_contain_text("role is saved")

    page.get_by_role("link", name=f"Remove {coordinator.display_name}").click()
    check_page(page, "settings-member-remove")
    page.get_by_role("button", name=re.compile("^Remove from")).click()
    expect(page.get_by_role("status")).to_contain_text("no longer has access")


def test_the_clinic_profile_shows_field_errors_and_the_colour_picker_follows_the_hex_value(
    page, sign_in_as, owner, check_page
):
    sign_in_as(owner)
    page.goto("/settings/clinic/")
    picker = page.get_by_label("Pick the brand colour")
    expect(picker).to_be_visible()
    page.get_by_label("Brand colour", exact=True).fill("#0A5C36")
    assert picker.input_value() == "#0a5c36"
    page.get_by_label("Phone").fill("12345")
    page.get_by_role("button", name="Save clinic profile").click()
    expect(page.get_by_role("alert")).to_contain_text("valid phone number")
    check_page(page, "settings-clinic-error")


def test_accepting_an_invitation(page, owner, clinic, settings, check_page):
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend", "QUEUES": ["default", "email"]}
    }
    from django.core import mail

    services.invitation_create(clinic=clinic, by=owner, email="noor@example.com", role="coordinator")
    link = re.search(r"(/join/[\w-]+/)", mail.outbox[-1].body).group(1)
    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Join {clinic.name}")
    # The token is only in the first address; the page and its form have one without it.
    expect(page).to_have_url(re.compile(r"/join/accept/$"))
    check_page(page, "invitation-accept")
    page.get_by_label("First name").fill("Noor")
    page.get_by_label("Choose a password").fill("short")
    page.get_by_label("Type the password again").fill("short")
    page.get_by_role("button", name="Create my account").click()
    expect(page.get_by_role("alert")).to_contain_text("too short")
    check_page(page, "invitation-accept-error")
    page.get_by_label("Choose a password").fill("tooth fairy visits on tuesdays")
    page.get_by_label("Type the password again").fill("tooth fairy visits on tuesdays")
    page.get_by_role("button", name="Create my account").click()
    expect(page).to_have_url(re.compile(r"/today/$"))
    expect(page.get_by_role("status")).to_contain_text("Welcome to Clearplan, Noor")

    Client().logout()
    page.context.clear_cookies()
    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text("This invitation has been used")
    check_page(page, "invitation-used")
    assert Invitation.objects.get().accepted_at is not None


def test_opening_the_invitation_page_without_the_link_explains_what_to_do(page, db, check_page):
    page.goto("/join/accept/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Open your invitation link again")
    check_page(page, "invitation-open-link-again")


def test_a_clinic_manager_sees_the_two_factor_rule_set_by_the_organisation_admin(
    page, sign_in_as, owner, organisation, check_page
):
    sign_in_as(owner)
    page.goto("/settings/team/")
    card = page.get_by_role("region", name="Two-factor authentication")
    expect(card).to_contain_text("Set by your organisation admin")
    expect(card.get_by_role("checkbox")).to_have_count(0)
    check_page(page, "settings-team-manager")
