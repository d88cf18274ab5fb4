"""What the team sees of how the patient read the pack: the summary's maths and the timeline."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.template.loader import render_to_string

from clearplan.messaging.models import OutboundMessage
from clearplan.packs.engagement_selectors import (
    case_engagement,
    case_timeline,
    duration_label,
    engagement_context,
    when_label,
)
from clearplan.packs.links import link_create, link_revoke
from clearplan.packs.models import ConsentSignature, PackSend, PackSession, PackVisit, PatientResponse
from clearplan.packs.versions import pack_version_freeze

pytestmark = pytest.mark.django_db

# 12 March 2026, 7:41 pm in Sydney (daylight saving, UTC+11) is 08:41 UTC.
FIRST_VISIT = datetime(2026, 3, 12, 8, 41, tzinfo=UTC)
NOW = datetime(2026, 3, 20, 1, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _it_is_march_2026():
    with time_machine.travel(NOW, tick=False):
        yield


def at(moment):
    return time_machine.travel(moment, tick=False)


@pytest.fixture
def version(sendable_case, coordinator):
    with at(FIRST_VISIT - timedelta(days=2)):
        return pack_version_freeze(case=sendable_case, by=coordinator)


@pytest.fixture
def link(sendable_case, coordinator):
    with at(FIRST_VISIT - timedelta(days=2)):
        return link_create(case=sendable_case, by=coordinator)[0]


def send(case, version, link, by, *, send_at, status=PackSend.Status.SENT, sms=True, email=True):
    return PackSend.objects.create(
        case=case,
        version=version,
        link=link,
        recipient=link.recipient,
        by_sms=sms,
        by_email=email,
        send_at=send_at,
        status=status,
        sent_by=by,
        submission_key=secrets.token_hex(16),
    )


def session_on(link, device="phone"):
    return PackSession.objects.create(
        link=link,
        key_sha256=secrets.token_hex(32),
        expires_at=NOW + timedelta(days=30),
        verified_at=NOW,
        verified_by="date_of_birth",
        device_type=device,
    )


def visit(link, version, *, when, seconds=0, sections=(), device="phone", measured=True):
    with at(when):
        return PackVisit.objects.create(
            session=session_on(link, device),
            link=link,
            case=link.case,
            version=version,
            seconds_viewed=seconds,
            sections=list(sections),
            device_type=device,
            measured_by_script=measured,
        )


@pytest.fixture
def sent(sendable_case, version, link, coordinator):
    return send(sendable_case, version, link, coordinator, send_at=FIRST_VISIT - timedelta(hours=3))


# Status


def test_a_pack_never_sent_is_not_sent_even_when_a_version_was_frozen(sendable_case, version):
    engagement = case_engagement(sendable_case)

    assert engagement.status == "not_sent"
    assert engagement.status_label == "Not sent yet"
    assert engagement.visits == 0
    assert engagement.first_opened_at is None


def test_a_scheduled_send_counts_as_sent_only_once_its_time_has_passed(sendable_case, version, link, coordinator):
    send(
        sendable_case,
        version,
        link,
        coordinator,
        send_at=NOW + timedelta(hours=5),
        status=PackSend.Status.SCHEDULED,
    )
    assert case_engagement(sendable_case).status == "not_sent"

    with at(NOW + timedelta(hours=6)):
        assert case_engagement(sendable_case).status == "sent_not_viewed"


def test_a_cancelled_send_is_not_a_send(sendable_case, version, link, coordinator):
    send(sendable_case, version, link, coordinator, send_at=NOW - timedelta(hours=1), status=PackSend.Status.CANCELLED)

    assert case_engagement(sendable_case).status == "not_sent"


def test_sent_then_viewed(sendable_case, version, link, sent):
    engagement = case_engagement(sendable_case)
    assert engagement.status == "sent_not_viewed"
    assert engagement.status_label == "Not viewed yet"

    visit(link, version, when=FIRST_VISIT, seconds=10, sections=["cover"])

    engagement = case_engagement(sendable_case)
    assert engagement.status == "viewed"
    assert engagement.summary_parts[0] == "Viewed once"


# The summary's maths


def test_visits_seconds_sections_and_devices_add_up(sendable_case, version, link, sent):
    visit(link, version, when=FIRST_VISIT, seconds=200, sections=["costs", "cover"])
    visit(link, version, when=FIRST_VISIT + timedelta(hours=1), seconds=120, sections=["cover", "images"])
    visit(
        link,
        version,
        when=FIRST_VISIT + timedelta(days=1, minutes=3),
        seconds=60,
        sections=["questions", "not-a-section"],
        device="computer",
    )

    engagement = case_engagement(sendable_case)

    assert engagement.visits == 3
    assert engagement.total_seconds_viewed == 380  # 200 + 120 + 60
    assert engagement.time_viewed_label == "6 min 20 s in all"
    # The union of what each visit saw, in the order the page shows it; unknown names are left out.
    assert [section.label for section in engagement.sections_viewed] == ["Cover", "Your images", "Costs", "Questions"]
    assert engagement.devices == frozenset({"phone", "computer"})
    assert engagement.devices_label == "on a phone and a computer"
    assert engagement.summary_parts == [
        "Viewed 3 times",
        "6 min 20 s in all",
        "first 12 Mar, 7:41 pm",
        "last 13 Mar, 7:44 pm",
        "on a phone and a computer",
    ]


def test_a_visit_without_scripts_counts_as_opened_with_no_time(sendable_case, version, link, sent):
    visit(link, version, when=FIRST_VISIT, measured=False, device="unknown")

    engagement = case_engagement(sendable_case)

    assert engagement.status == "viewed"
    assert engagement.visits == 1
    assert engagement.visits_without_script == 1
    assert engagement.devices == frozenset()
    assert engagement.summary_parts == ["Viewed once", "first 12 Mar, 7:41 pm"]


def test_times_are_in_the_clinic_time_zone(sendable_case, version, link, sent):
    visit(link, version, when=FIRST_VISIT, seconds=5)

    assert case_engagement(sendable_case).first_opened_label == "12 Mar, 7:41 pm"  # Sydney, UTC+11
    first = case_engagement(sendable_case).first_opened_at
    assert first.utcoffset() == timedelta(hours=11)

    clinic = sendable_case.clinic
    clinic.time_zone = "Australia/Perth"
    clinic.save()
    sendable_case.refresh_from_db()

    assert case_engagement(sendable_case).first_opened_label == "12 Mar, 4:41 pm"  # Perth, UTC+8


@pytest.mark.parametrize(
    ("seconds", "words"),
    [(0, "0 s"), (45, "45 s"), (60, "1 min"), (380, "6 min 20 s"), (3600, "1 h"), (3900, "1 h 5 min")],
)
def test_durations_read_naturally(seconds, words):
    assert duration_label(seconds) == words


def test_a_time_from_another_year_carries_its_year():
    from zoneinfo import ZoneInfo

    sydney = ZoneInfo("Australia/Sydney")
    assert when_label(datetime(2025, 12, 31, 20, 5, tzinfo=UTC), sydney) == "1 Jan, 7:05 am"
    assert when_label(datetime(2025, 6, 1, 2, 0, tzinfo=UTC), sydney) == "1 Jun 2025, 12:00 pm"


def test_the_number_of_queries_does_not_grow_with_the_visits(
    sendable_case, version, link, sent, django_assert_max_num_queries
):
    visit(link, version, when=FIRST_VISIT, seconds=30, sections=["cover"])
    sendable_case.refresh_from_db()
    with django_assert_max_num_queries(20) as one:
        engagement_context(sendable_case)

    for number in range(25):
        visit(link, version, when=FIRST_VISIT + timedelta(minutes=number + 1), seconds=30, sections=["options"])
    sendable_case.refresh_from_db()
    with django_assert_max_num_queries(len(one.captured_queries)):
        context = engagement_context(sendable_case)

    assert context["engagement"].visits == 26


# The timeline


def test_the_timeline_tells_the_pack_story_in_order(sendable_case, version, link, sent, coordinator, owner):
    session = session_on(link)
    visit(link, version, when=FIRST_VISIT, seconds=190, sections=["cover", "options"])
    option = sendable_case.options.get(title="Option A: crown")
    with at(FIRST_VISIT + timedelta(minutes=4)):
        PatientResponse.objects.create(
            case=sendable_case,
            version=version,
            session=session,
            kind="question",
            message="Will it hurt?",
            submission_key=secrets.token_hex(16),
        )
    with at(FIRST_VISIT + timedelta(minutes=6)):
        PatientResponse.objects.create(
            case=sendable_case,
            version=version,
            session=session,
            kind="proceed",
            option_public_id=option.public_id,
            option_title=option.title,
            preferred_times="Mornings",
            submission_key=secrets.token_hex(16),
        )
    ConsentSignature.objects.create(
        case=sendable_case,
        version=version,
        version_sha256=version.sha256,
        session=session,
        signer_name="Mere Ngata",
        relationship="self",
        verified_by="date_of_birth",
        signed_at=FIRST_VISIT + timedelta(minutes=8),
        consent_statements=["I have read this treatment pack."],
        submission_key=secrets.token_hex(16),
    )
    with at(FIRST_VISIT + timedelta(days=1)):
        link_revoke(link=link, by=owner)

    timeline = case_timeline(sendable_case)

    assert [(entry.when_label, entry.what, entry.who) for entry in timeline] == [
        ("10 Mar, 7:41 pm", "Version 1 of the pack frozen", "Chloé O'Connor"),
        ("12 Mar, 4:41 pm", "Pack sent by SMS and email", "Chloé O'Connor"),
        ("12 Mar, 7:41 pm", "Opened on a phone", "Patient"),
        ("12 Mar, 7:45 pm", "Asked a question", "Patient"),
        ("12 Mar, 7:47 pm", "Asked to proceed with Option A: crown", "Patient"),
        ("12 Mar, 7:49 pm", "Signed the consent for version 1", "Mere Ngata, the patient"),
        ("13 Mar, 7:41 pm", "Pack link revoked", "Olivia Owner"),
    ]
    opened = timeline[2]
    assert opened.detail == "Read for 3 min 10 s"
    assert timeline[4].detail == "Preferred times: Mornings"
    # The patient's words are shown with the responses on the case, not in the timeline.
    assert all("Will it hurt" not in entry.what + entry.detail for entry in timeline)


def test_the_timeline_shows_scheduled_and_guardian_sends(sendable_case, version, coordinator):
    with at(FIRST_VISIT):
        guardian_link = link_create(case=sendable_case, recipient="guardian", by=coordinator)[0]
        send(
            sendable_case,
            version,
            guardian_link,
            coordinator,
            send_at=NOW + timedelta(hours=8),
            status=PackSend.Status.SCHEDULED,
            sms=False,
        )

    whats = [entry.what for entry in case_timeline(sendable_case)]

    assert "Pack scheduled to go by email to the parent or guardian at 20 Mar, 8:00 pm" in whats


def test_the_timeline_shows_messages_that_were_not_delivered(sendable_case, version, link, sent, patient):
    sent_at = FIRST_VISIT - timedelta(hours=3)
    for channel, to, status in (("sms", "+61412345678", "failed"), ("email", "mere.ngata@example.com", "delivered")):
        OutboundMessage.objects.create(
            clinic=sendable_case.clinic,
            patient=patient,
            case=sendable_case,
            channel=channel,
            purpose="pack",
            to_address=to,
            subject="Your treatment pack" if channel == "email" else "",
            body="Your treatment pack",
            status=status,
            send_after=sent_at,
            failed_at=sent_at + timedelta(hours=1) if status == "failed" else None,
            failure_kind="sms:21614" if status == "failed" else "",
        )

    failures = [entry for entry in case_timeline(sendable_case) if entry.kind == "delivery_failed"]

    assert [(entry.when_label, entry.what) for entry in failures] == [
        ("12 Mar, 5:41 pm", "SMS to mobile ending 678 was not delivered")
    ]


# The partial


def test_the_partial_leaves_the_story_to_the_case_timeline(sendable_case, version, link, sent):
    visit(link, version, when=FIRST_VISIT, seconds=200, sections=["costs", "cover"])
    visit(link, version, when=FIRST_VISIT + timedelta(hours=1), seconds=180, sections=["images"])

    html = render_to_string("packs/staff/_engagement.html", engagement_context(sendable_case))

    summary = (
        "<strong>Viewed twice</strong> · 6 min 20 s in all · first 12 Mar, 7:41 pm · last 12 Mar, 8:41 pm · on a phone"
    )
    assert summary in html
    assert '<li class="chip">Cover</li><li class="chip">Your images</li><li class="chip">Costs</li>' in html
    assert '<ol class="timeline"' not in html


def test_the_partial_says_the_pack_is_not_opened_yet_for_a_sent_pack(sendable_case, version, link, sent):
    html = render_to_string("packs/staff/_engagement.html", engagement_context(sendable_case))

    assert "The patient has not opened the pack yet." in html
    assert "chip" not in html


def test_the_partial_draws_nothing_without_engagement():
    assert render_to_string("packs/staff/_engagement.html", {}).strip() == ""
