"""A coordinator sees a patient's reply under the bell, opens it, and marks the rest read;
chooses which notifications are also emailed; and sees on the case how the patient read the pack."""

from __future__ import annotations

import re
import secrets
from datetime import timedelta

from django.utils import timezone
from playwright.sync_api import expect

from clearplan.notifications.services import notify_team
from clearplan.packs.links import link_create
from clearplan.packs.models import PackLink, PackSend, PackSession, PackVersion, PackVisit
from clearplan.packs.tests.conftest import sendable_case, template  # noqa: F401  (fixtures)
from clearplan.packs.versions import pack_version_freeze
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


def test_the_case_page_shows_how_the_patient_read_the_pack(
    page,
    sign_in_as,
    check_page,
    sendable_case,  # noqa: F811
    coordinator,
):
    version = pack_version_freeze(case=sendable_case, by=coordinator)
    PackVersion.objects.filter(pk=version.pk).update(created_at=timezone.now() - timedelta(days=2, minutes=5))
    link, _token = link_create(case=sendable_case, by=coordinator)
    # Verifying marks the link opened; each page load after that is a visit.
    PackLink.objects.filter(pk=link.pk).update(
        first_opened_at=timezone.now() - timedelta(days=1, hours=2), last_opened_at=timezone.now() - timedelta(days=1)
    )
    PackSend.objects.create(
        case=sendable_case,
        version=version,
        link=link,
        by_sms=True,
        by_email=True,
        send_at=timezone.now() - timedelta(days=2),
        sent_by=coordinator,
        submission_key=secrets.token_hex(16),
    )
    reads = [(380, ["cover", "images", "options", "costs"], "phone"), (95, ["questions", "contact"], "computer")]
    for number, (seconds, sections, device) in enumerate(reads):
        session = PackSession.objects.create(
            link=link,
            key_sha256=secrets.token_hex(32),
            expires_at=timezone.now() + timedelta(days=1),
            verified_at=timezone.now(),
            verified_by="date_of_birth",
            device_type=device,
        )
        visit = PackVisit.objects.create(
            session=session,
            link=link,
            case=sendable_case,
            version=version,
            seconds_viewed=seconds,
            sections=sections,
            device_type=device,
            measured_by_script=True,
        )
        PackVisit.objects.filter(pk=visit.pk).update(started_at=timezone.now() - timedelta(days=1, hours=2 - number))

    sign_in_as(coordinator)
    page.goto(f"/cases/{sendable_case.public_id}/")

    engagement = page.locator(".engagement")
    expect(engagement.get_by_role("heading", name="Engagement")).to_be_visible()
    expect(engagement.locator(".engagement__summary")).to_contain_text("Viewed twice · 7 min 55 s in all · first")
    expect(engagement.locator(".engagement__summary")).to_contain_text("on a phone and a computer")
    expect(engagement.get_by_role("list", name="Sections seen").get_by_role("listitem")).to_have_text(
        ["Cover", "Your images", "Your options", "Costs", "Questions", "Contact"]
    )
    # The pack's story is told once, in the case's whole timeline further down the page.
    expect(engagement.get_by_role("list", name="Timeline")).to_have_count(0)
    story = page.locator("#case-timeline").get_by_role("list", name="Timeline").get_by_role("listitem")
    frozen = story.filter(has_text="Version 1 of the pack frozen")
    sent = story.filter(has_text="Pack sent by SMS and email")
    opened = story.filter(has_text="Opened on a phone")
    expect(frozen).to_have_count(1)
    expect(sent).to_have_count(1)
    expect(opened.first).to_contain_text("Read for 6 min 20 s")
    whats = story.all_inner_texts()
    first = next(i for i, text in enumerate(whats) if "Version 1 of the pack frozen" in text)
    then = next(i for i, text in enumerate(whats) if "Pack sent by SMS and email" in text)
    last = next(i for i, text in enumerate(whats) if "Opened on a phone" in text)
    assert first < then < last, whats
    engagement.scroll_into_view_if_needed()
    check_page(page, "case-engagement")
