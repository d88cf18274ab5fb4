"""Conversations in Chromium: a coordinator finds a patient's text and pack question under Unread,
opens the thread, drops in a quick reply with the patient's first name, sends it by SMS (to a fake
Twilio on a loopback port) and sees it in the thread with who sent it and that it was sent; adds an
internal note, takes the conversation on, snoozes it, and the navigation's unread count drops.
The inbox, the thread and Settings → Quick replies are photographed and checked with axe (WCAG 2.2
AA) at 1280, 768 and 390 px."""

from __future__ import annotations

import uuid

import pytest
from django.test.signals import setting_changed
from playwright.sync_api import Page, expect

from clearplan.messaging.conversations.services import message_receive
from clearplan.messaging.models import Conversation, ConversationMessage, OutboundMessage, SavedReply
from clearplan.messaging.tests.conftest import send_sms_through, sms_provider  # noqa: F401  (fixture)
from clearplan.packs.links import link_create
from clearplan.packs.responses import response_record
from clearplan.packs.tests.conftest import sendable_case, template  # noqa: F401  (fixtures)
from clearplan.packs.tests.test_responses import start_session
from clearplan.packs.versions import pack_version_freeze
from clearplan.patients.tests.factories import PatientFactory
from clearplan.plans.tests.conftest import patient, procedures, standard  # noqa: F401  (fixtures)
from tests.browser.conftest import axe_violations, describe_violations, screenshot_path

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
LONG_NAME = ("Maximiliana-Josephine", "Wolfeschlegelsteinhausen-Bergdorff")
LONG_MESSAGE = (
    "Hello, I had a question about the estimate you sent last week, because my health fund told me on the phone "
    "that item 615 is only covered once every five years and I had a crown done in 2021 at another practice, "
    "so I am not sure whether the amount on page two is what I will actually pay or whether it will be more. "
    "Also could you tell me https://www.example.com/a-very-long-link-that-keeps-going-and-going-without-any-spaces"
)


@pytest.fixture(autouse=True)
def _messages_go_out(settings, sms_provider):  # noqa: F811
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend", "QUEUES": ["default", "email"]}
    }
    setting_changed.send(sender=None, setting="TASKS", value=settings.TASKS, enter=True)
    send_sms_through(settings, sms_provider)
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def at_a_phone_width(page: Page, name: str) -> None:
    """The page as it is now at 390 px: a full-page screenshot, axe, and nothing wider than the screen."""
    page.set_viewport_size(PHONE)
    page.screenshot(path=screenshot_path(name, 390), full_page=True)
    violations = axe_violations(page)
    too_wide = page.evaluate("document.documentElement.scrollWidth")
    page.set_viewport_size(DESKTOP)
    if violations:
        pytest.fail(f"Accessibility problems on {name} at 390 px:\n{describe_violations(violations)}", pytrace=False)
    assert too_wide <= PHONE["width"], f"{name} is {too_wide} px wide on a 390 px phone"


@pytest.fixture
def waiting(sendable_case, coordinator, clinic):  # noqa: F811
    """Mere asked a question from her pack and then texted; another patient with a long name wrote
    a long text; the clinic has a quick reply that greets the patient by first name."""
    case = sendable_case
    version = pack_version_freeze(case=case, by=coordinator)
    link = link_create(case=case, by=coordinator)[0]
    response_record(
        session=start_session(link),
        version=version,
        kind="question",
        message="Can I split the payments over three months?",
        submission_key=uuid.uuid4().hex,
    )
    message_receive(
        patient=case.patient,
        channel="sms",
        body="Also, is Friday at 10 still ok for the appointment?",
        from_address=case.patient.mobile,
        notify=False,
    )
    other = PatientFactory(
        clinic=clinic,
        first_name=LONG_NAME[0],
        last_name=LONG_NAME[1],
        mobile="+61491570156",
        consent_sms=True,
    )
    message_receive(patient=other, channel="sms", body=LONG_MESSAGE, from_address=other.mobile, notify=False)
    SavedReply.objects.create(
        clinic=clinic,
        title="We'll call you back",
        body="Hi {patient_first_name}, thanks for your message. We'll call you back today to talk it through.",
        position=0,
    )
    SavedReply.objects.create(
        clinic=clinic,
        title="Opening hours",
        body="Hi {patient_first_name}, we're open 8 am to 5 pm weekdays and 8 am to 12 pm on Saturdays.",
        position=1,
    )
    return Conversation.objects.get(patient=case.patient)


def test_a_coordinator_answers_a_patient_from_the_inbox(
    page,
    sign_in_as,
    check_page,
    coordinator,
    waiting,
    sms_provider,  # noqa: F811
):
    sign_in_as(coordinator)
    page.goto("/conversations/?view=unread")

    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Conversations")).to_contain_text("2 unread")
    unread = page.get_by_role("list", name="Unread conversations")
    expect(unread.get_by_role("listitem")).to_have_count(2)
    mere = unread.get_by_role("listitem").filter(has_text="Mere Ngata")
    expect(mere).to_contain_text("Also, is Friday at 10 still ok")
    expect(mere).to_contain_text("2 unread")
    check_page(page, "conversations inbox")
    at_a_phone_width(page, "conversations inbox")

    mere.get_by_role("link").click()

    expect(page.get_by_role("heading", level=2, name="Mere Ngata")).to_be_visible()
    thread = page.get_by_role("list", name="Messages")
    expect(thread.get_by_role("listitem")).to_have_count(2)
    expect(thread.get_by_role("listitem").first).to_contain_text("Can I split the payments over three months?")
    expect(thread.get_by_role("listitem").first).to_contain_text("on their pack page")
    expect(thread.get_by_role("listitem").last).to_contain_text("by SMS")
    # Opened, so no longer waiting for the team.
    expect(nav.get_by_role("link", name="Conversations")).to_contain_text("1 unread")

    # A quick reply goes into the box with the patient's first name, ready to edit.
    page.get_by_label("Quick replies").select_option(label="We'll call you back")
    page.get_by_role("button", name="Use").click()
    box = page.get_by_role("textbox", name="Message")
    expect(box).to_have_value("Hi Mere, thanks for your message. We'll call you back today to talk it through.")
    expect(box).to_be_focused()
    page.get_by_label("Send by").select_option("sms")
    page.get_by_role("button", name="Send", exact=True).click()

    expect(page.get_by_role("status").filter(has_text="Message sent.")).to_be_visible()
    sent = thread.get_by_role("listitem").last
    expect(sent).to_contain_text("Hi Mere, thanks for your message.")
    expect(sent).to_contain_text("Chloé O'Connor")
    expect(sent).to_contain_text("SMS to the patient")
    expect(sent).to_contain_text("Sent")
    [text] = sms_provider.delivered
    assert text.fields["To"] == "+61412345678"
    assert text.fields["Body"].startswith("Hi Mere, thanks for your message.")
    assert "Chloé" in text.fields["Body"]
    expect(box).to_have_value("")

    # An internal note looks different and never leaves the clinic.
    page.get_by_label("Internal note").check()
    expect(page.get_by_text("Only the team sees this. It is never sent to the patient.")).to_be_visible()
    box.fill("Called her: she will ring the health fund about item 615 first.")
    page.get_by_role("button", name="Add note").click()
    expect(page.get_by_role("status").filter(has_text="Note added.")).to_be_visible()
    note = thread.get_by_role("listitem").last
    expect(note).to_contain_text("Internal note")
    expect(note).to_contain_text("Only the team sees this.")
    assert len(sms_provider.delivered) == 1
    assert OutboundMessage.objects.filter(purpose=OutboundMessage.Purpose.CONVERSATION).count() == 1

    # Taking it on.
    page.get_by_label("Assigned to").select_option(label="Chloé O'Connor")
    page.get_by_role("button", name="Assign").click()
    expect(page.get_by_text("Assigned to Chloé O'Connor.")).to_be_visible()
    check_page(page, "conversation thread")
    at_a_phone_width(page, "conversation thread")

    # Snoozed until tomorrow morning: it leaves All open and waits under Snoozed.
    page.locator("summary", has_text="Snooze").click()
    page.get_by_label("Tomorrow morning (8 am)").check()
    page.locator(".thread-snooze__panel").get_by_role("button", name="Snooze").click()
    expect(page.get_by_text("Snoozed until Tomorrow, 8:00 am.")).to_be_visible()
    expect(page.locator(".thread-actions__state")).to_contain_text("Snoozed until Tomorrow, 8:00 am")
    waiting.refresh_from_db()
    assert waiting.assigned_to == coordinator
    assert waiting.snoozed_until is not None
    assert waiting.unread_count == 0
    assert ConversationMessage.objects.filter(conversation=waiting, direction="internal").count() == 1

    page.goto("/conversations/?view=snoozed")
    snoozed = page.get_by_role("list", name="Snoozed conversations")
    expect(snoozed).to_contain_text("Mere Ngata")
    expect(snoozed).to_contain_text("Assigned to you")
    page.goto("/conversations/?view=mine")
    expect(page.get_by_role("list", name="Assigned to me conversations")).to_contain_text("Mere Ngata")


def test_the_other_patients_long_name_and_message_wrap_on_a_phone(page, sign_in_as, coordinator, waiting):
    sign_in_as(coordinator)
    page.goto("/conversations/")
    page.get_by_role("link").filter(has_text=LONG_NAME[1]).click()
    expect(page.get_by_role("heading", level=2)).to_contain_text(LONG_NAME[1])
    at_a_phone_width(page, "conversation thread long")
    page.set_viewport_size(PHONE)
    page.get_by_role("link", name="All conversations").click()
    expect(page.get_by_role("list", name="All open conversations")).to_be_visible()


def test_the_empty_unread_view_says_so_calmly(page, sign_in_as, check_page, coordinator):
    sign_in_as(coordinator)
    page.goto("/conversations/?view=unread")
    expect(page.get_by_text("All caught up.")).to_be_visible()
    check_page(page, "conversations inbox empty")
    at_a_phone_width(page, "conversations inbox empty")


def test_quick_replies_in_settings(page, sign_in_as, check_page, owner, waiting):
    sign_in_as(owner)
    page.goto("/settings/")
    page.get_by_role("link", name="Quick replies").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Quick replies")
    expect(page.get_by_role("heading", level=2).first).to_have_text("We'll call you back")
    check_page(page, "settings quick replies")
    at_a_phone_width(page, "settings quick replies")

    page.get_by_role("button", name="Move down").click()
    expect(page.get_by_role("heading", level=2).first).to_have_text("Opening hours")


def test_on_a_wide_screen_a_conversation_opens_beside_the_list_without_a_page_load(
    page, sign_in_as, coordinator, waiting, context_without_scripts
):
    sign_in_as(coordinator)
    page.goto("/conversations/?view=unread")
    page.evaluate("window.stillTheSamePage = true")
    rows = page.get_by_role("list", name="Unread conversations")

    rows.get_by_role("link").filter(has_text="Mere Ngata").click()

    expect(page.get_by_role("heading", level=2, name="Mere Ngata")).to_be_visible()
    expect(page).to_have_url(f"{page.url.split('/conversations/')[0]}/conversations/{waiting.public_id}/?view=unread")
    expect(page).to_have_title("Conversation with Mere Ngata · Clearplan")
    assert page.evaluate("window.stillTheSamePage") is True
    expect(rows.get_by_role("link", name="Mere Ngata")).to_have_attribute("aria-current", "true")
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="Conversations")).to_contain_text(
        "1 unread"
    )
    # The swapped-in thread works like the page: a reply goes by htmx and shows in place.
    page.get_by_role("textbox", name="Message").fill("Yes, Friday at 10 is fine.")
    page.get_by_role("button", name="Send", exact=True).click()
    expect(page.get_by_role("list", name="Messages").get_by_role("listitem").last).to_contain_text(
        "Yes, Friday at 10 is fine."
    )
    assert page.evaluate("window.stillTheSamePage") is True
    # Back shows the list again.
    page.go_back()
    expect(page.get_by_role("heading", level=2, name="Choose a conversation")).to_be_visible()

    # Without scripts the row is a plain link to the thread's page.
    sign_in = context_without_scripts
    from tests.browser.conftest import signed_in_cookie

    sign_in.add_cookies([signed_in_cookie(coordinator, page.url.split("/conversations/")[0])])
    plain = sign_in.new_page()
    plain.goto("/conversations/")
    plain.get_by_role("link").filter(has_text=LONG_NAME[0]).click()
    expect(plain.get_by_role("heading", level=2)).to_contain_text(LONG_NAME[1])
