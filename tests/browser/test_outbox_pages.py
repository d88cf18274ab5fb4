"""The demo outbox in Chromium: an organisation administrator finds an email sent to one of
the team and follows its link."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from clearplan.lib.email_url import OUTBOX_BACKEND
from clearplan.messaging.services import email_send_later


@pytest.fixture
def demo_outbox(settings):
    settings.EMAIL_BACKEND = OUTBOX_BACKEND
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend", "QUEUES": ["default", "email"]}
    }


@pytest.fixture
def organisation_admin(owner):
    owner.is_organisation_admin = True
    owner.save(update_fields=["is_organisation_admin"])
    return owner


def test_an_organisation_admin_reads_an_email_in_the_outbox_and_follows_its_link(
    page, live_server, sign_in_as, organisation_admin, coordinator, demo_outbox, check_page
):
    link = f"{live_server.url}/conversations/"
    email_send_later(
        to=[coordinator.email],
        subject="Join Harbour Dental Sydney on Clearplan",
        text=f"Hello,\n\nOlivia Owner has invited you to join the team.\n\nSet your password here:\n{link}\n",
    )
    email_send_later(to=["someone.else@example.com"], subject="Reset your password", text="Not for this practice")
    sign_in_as(organisation_admin)

    page.goto("/conversations/")
    page.get_by_role("link", name="Demo outbox").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Demo outbox")
    expect(page.get_by_text("in a real installation these emails are delivered by your mail server")).to_be_visible()
    expect(page.get_by_role("link", name="Reset your password")).to_have_count(0)
    check_page(page, "demo-outbox")

    page.get_by_role("link", name="Join Harbour Dental Sydney on Clearplan").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Join Harbour Dental Sydney on Clearplan")
    expect(page.get_by_text(coordinator.email)).to_be_visible()
    check_page(page, "demo-outbox-message")

    page.get_by_role("link", name=link).click()

    expect(page).to_have_url(link)
    expect(page.get_by_role("heading", level=1)).to_have_text("Conversations")


def test_an_empty_outbox_is_accessible(page, sign_in_as, organisation_admin, demo_outbox, check_page):
    sign_in_as(organisation_admin)

    page.goto("/conversations/outbox/")

    expect(page.get_by_role("heading", level=2)).to_have_text("No emails sent yet")
    check_page(page, "demo-outbox-empty")


def test_a_clinic_manager_finds_no_outbox(page, sign_in_as, owner, demo_outbox):
    """The outbox shows colleagues' password-reset links: a clinic manager who is not an
    organisation administrator neither sees the way in nor gets in by the address."""
    sign_in_as(owner)

    page.goto("/conversations/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Conversations")
    expect(page.get_by_role("link", name="Demo outbox")).to_have_count(0)

    response = page.goto("/conversations/outbox/")
    assert response is not None
    assert response.status == 403
