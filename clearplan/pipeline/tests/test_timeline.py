"""A case's full timeline: everything that happened, oldest first, in the clinic's time zone,
built from the real services (sending, the patient's reply, a follow-up, an appointment)."""

from __future__ import annotations

import datetime as dt
import secrets
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clearplan.messaging.conversations.services import (
    conversation_for_patient,
    conversation_reply,
    conversation_url,
    message_receive,
    note_add,
)
from clearplan.messaging.models import OutboundMessage
from clearplan.messaging.services import message_send
from clearplan.packs.models import PackSession, PackVisit
from clearplan.packs.responses import response_record
from clearplan.packs.tests.test_responses import key, option_id, patient_request, start_session
from clearplan.pipeline import stages, task_services
from clearplan.pipeline.models import CaseTask, FollowUpRun, RuleKind, Stage
from clearplan.pipeline.tests.booking_fixtures import _messages_wait_in_the_queue, book  # noqa: F401
from clearplan.pipeline.tests.test_checklist import send_pack, task
from clearplan.pipeline.timeline import case_full_timeline
from clearplan.plans.models import Case

pytestmark = pytest.mark.django_db

SYDNEY = ZoneInfo("Australia/Sydney")


def sydney(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2025, 9, day, hour, minute, tzinfo=SYDNEY)


def visit(case, send, *, at, sections, seconds):
    session = PackSession.objects.create(
        link=send.link,
        key_sha256=secrets.token_hex(32),
        expires_at=at + dt.timedelta(days=1),
        verified_at=at,
        device_type="phone",
    )
    made = PackVisit.objects.create(
        session=session,
        link=send.link,
        case=case,
        version=send.version,
        seconds_viewed=seconds,
        sections=sections,
        device_type="phone",
        measured_by_script=True,
    )
    PackVisit.objects.filter(pk=made.pk).update(started_at=at)
    return session


@pytest.fixture
def story(sendable_case, coordinator, front_desk, clinic):
    """Mere's fortnight, told by the services that make it happen."""
    case = sendable_case
    Case.objects.filter(pk=case.pk).update(created_at=sydney(15, 9))
    CaseTask.objects.filter(case=case, step_key="retrieve_imaging_records").update(done_at=sydney(15, 9, 5))
    with time_machine.travel(sydney(15, 16), tick=False):
        send = send_pack(case, coordinator)
    visit(case, send, at=sydney(15, 19, 41), sections=["cover", "options", "costs"], seconds=190)
    with time_machine.travel(sydney(16, 10), tick=False):
        task_services.task_set_done(task=task(case, "fetch_insurance_coverage"), done=True, by=front_desk)
    with time_machine.travel(sydney(17, 9), tick=False):
        message = message_send(
            clinic=clinic,
            channel="sms",
            to=case.patient.mobile,
            body="Hi Mere, just checking you got your treatment plan.",
            purpose=OutboundMessage.Purpose.FOLLOW_UP,
            patient=case.patient,
            case=case,
            sender=coordinator,
        )
        FollowUpRun.objects.create(
            case=case, kind=RuleKind.NOT_OPENED, anchor="test", outcome=FollowUpRun.Outcome.MESSAGED, message=message
        )
    with time_machine.travel(sydney(17, 9, 5), tick=False):
        stages.stage_move(case=case, to_stage=Stage.FOLLOW_UP, by=coordinator, note="Call on Friday")
        CaseTask.objects.create(case=case, kind=CaseTask.Kind.FOLLOW_UP, title="Call the patient")
    with time_machine.travel(sydney(18, 11), tick=False):
        session = start_session(send.link)
        response_record(
            session=session,
            version=send.version,
            kind="proceed",
            option_public_id=option_id(send.version, "Option A: crown"),
            preferred_times="Mornings",
            submission_key=key(),
            request=patient_request(),
        )
    with time_machine.travel(sydney(19, 14), tick=False):
        book(case, coordinator, when=sydney(30, 9))
    with time_machine.travel(sydney(29, 12), tick=False):
        return case_full_timeline(case)


def test_the_timeline_tells_the_whole_case_in_order_in_the_clinics_time(story):
    assert [(entry.when_label, entry.what, entry.who) for entry in story] == [
        ("15 Sep, 9:00 am", "Case opened", "Chloé O'Connor"),
        ("15 Sep, 9:05 am", "Done: Add the X-rays and photos", "Clearplan"),
        ("15 Sep, 4:00 pm", "Version 1 of the pack frozen", "Chloé O'Connor"),
        ("15 Sep, 4:00 pm", "Pack sent by SMS", "Chloé O'Connor"),
        ("15 Sep, 4:00 pm", "Moved to “Sent”", "Clearplan"),
        ("15 Sep, 4:00 pm", "Done: Send the treatment pack", "Clearplan"),
        ("15 Sep, 7:41 pm", "Opened on a phone", "Patient"),
        ("16 Sep, 10:00 am", "Done: Check the patient’s health fund or insurance cover", "Fatima Desk"),
        ("17 Sep, 9:00 am", "Follow-up message by SMS", "Clearplan (automatic)"),
        ("17 Sep, 9:05 am", "Moved to “Follow-up required”", "Chloé O'Connor"),
        ("17 Sep, 9:05 am", "Follow-up task added: Call the patient", "Clearplan"),
        ("18 Sep, 11:00 am", "Asked to proceed with Option A: crown", "Patient"),
        ("18 Sep, 11:00 am", "Moved to “Requested to proceed”", "Clearplan"),
        ("19 Sep, 2:00 pm", "Appointment booked for Tue 30 Sep 2025, 9:00 am", "Chloé O'Connor"),
        ("19 Sep, 2:00 pm", "Appointment confirmation by SMS", "Chloé O'Connor"),
        ("19 Sep, 2:00 pm", "Appointment confirmation by email", "Chloé O'Connor"),
        ("19 Sep, 2:00 pm", "Moved to “Booked”", "Clearplan"),
        ("19 Sep, 2:00 pm", "Done: Book the treatment and send the confirmation", "Clearplan"),
    ]


def test_each_entry_says_enough_to_act_on_without_repeating_the_patients_words(story):
    details = {entry.what: entry.detail for entry in story}
    assert details["Opened on a phone"] == "Read for 3 min 10 s · sections: Cover, Your options, Costs"
    assert details["Moved to “Sent”"] == "The pack was sent"
    assert details["Moved to “Follow-up required”"] == "Call on Friday"
    assert details["Follow-up message by SMS"] == "To mobile ending 678 · Waiting to send"
    assert details["Asked to proceed with Option A: crown"] == "Preferred times: Mornings"
    assert details["Appointment booked for Tue 30 Sep 2025, 9:00 am"] == "60 min with Priya Raman"
    assert all("just checking" not in entry.what + entry.detail for entry in story)


def test_the_times_follow_the_clinics_own_zone(sendable_case, clinic):
    Case.objects.filter(pk=sendable_case.pk).update(created_at=sydney(15, 9))
    clinic.time_zone = "Australia/Perth"
    clinic.save(update_fields=["time_zone"])
    sendable_case.refresh_from_db()
    with time_machine.travel(sydney(20, 9), tick=False):
        opened = case_full_timeline(sendable_case)[0]
    assert (opened.what, opened.when_label) == ("Case opened", "15 Sep, 7:00 am")


def test_the_timeline_reads_the_same_number_of_queries_however_long_it_is(sendable_case, coordinator):
    send = send_pack(sendable_case, coordinator)
    with CaptureQueriesContext(connection) as short:
        case_full_timeline(sendable_case)
    conversation = conversation_for_patient(patient=sendable_case.patient)
    for number in range(5):
        visit(sendable_case, send, at=sydney(16, 9 + number), sections=["costs"], seconds=30)
        CaseTask.objects.create(case=sendable_case, kind=CaseTask.Kind.OTHER, title=f"Task {number}")
        message_receive(patient=sendable_case.patient, channel="sms", body=f"Question {number}", notify=False)
        note_add(conversation=conversation, by=coordinator, body=f"Note {number}")
        conversation_reply(conversation=conversation, by=coordinator, body=f"Answer {number}", channel="sms")
    send_pack(sendable_case, coordinator, submission_key="send-2")
    with CaptureQueriesContext(connection) as long:
        entries = case_full_timeline(sendable_case)
    assert len(entries) > 15
    assert len(long) == len(short)


def test_the_case_timeline_tag_draws_the_card(story, sendable_case, coordinator_client):
    from django.template import Context, Template

    html = Template("{% load pipeline_checklist %}{% case_timeline case %}").render(Context({"case": sendable_case}))
    assert 'id="case-timeline"' in html
    assert html.count('class="timeline__entry') == len(case_full_timeline(sendable_case))
    assert "Moved to “Booked”" in html
    assert coordinator_client.get(reverse("plans:detail", args=[sendable_case.public_id])).status_code == 200


def test_the_patients_texts_the_teams_replies_and_notes_link_to_the_conversation_and_pack_replies_are_told_once(
    sendable_case, coordinator
):
    case = sendable_case
    patient = case.patient
    Case.objects.filter(pk=case.pk).update(created_at=sydney(15, 9))
    with time_machine.travel(sydney(15, 16), tick=False):
        send = send_pack(case, coordinator)
    with time_machine.travel(sydney(16, 12, 15), tick=False):
        message_receive(
            patient=patient,
            channel="sms",
            body="Will the implant hurt? Honestly that worries me more than the cost.",
            from_address=patient.mobile,
            from_whom="patient",
            provider_message_id="SM-timeline-1",
        )
    conversation = conversation_for_patient(patient=patient)
    with time_machine.travel(sydney(16, 14, 2), tick=False):
        conversation_reply(
            conversation=conversation,
            by=coordinator,
            body="The area is numbed first, so you feel pressure but no pain.",
        )
    with time_machine.travel(sydney(16, 14, 30), tick=False):
        note_add(conversation=conversation, by=coordinator, body="Called, left a voicemail.")
    with time_machine.travel(sydney(16, 19), tick=False):
        response_record(
            session=start_session(send.link),
            version=send.version,
            kind="question",
            message="Is the cost per tooth?",
            submission_key=key(),
            request=patient_request(),
        )
    with time_machine.travel(sydney(17, 9), tick=False):
        entries = case_full_timeline(case)
    told = [(entry.when_label, entry.what, entry.who) for entry in entries if entry.when_label.startswith("16 Sep")]
    assert told == [
        ("16 Sep, 12:15 pm", "Message by SMS", "Patient"),
        ("16 Sep, 2:02 pm", "Reply by SMS", "Chloé O'Connor"),
        ("16 Sep, 2:30 pm", "Internal note", "Chloé O'Connor"),
        ("16 Sep, 7:00 pm", "Asked a question", "Patient"),
    ]
    by_what = {entry.what: entry for entry in entries}
    assert by_what["Internal note"].detail == "Called, left a voicemail."
    assert by_what["Reply by SMS"].detail == "To mobile ending 678 · Waiting to send"
    for what in ("Message by SMS", "Reply by SMS", "Internal note"):
        assert by_what[what].url == conversation_url(conversation)
    assert not hasattr(by_what["Asked a question"], "url")
    # The patient's words stay in the conversation; the pack's automatic messages are not told twice.
    assert all("implant hurt" not in entry.what + entry.detail for entry in entries)
    assert [entry.what for entry in entries].count("Pack sent by SMS") == 1


def test_the_timeline_card_links_to_the_conversation(sendable_case, coordinator, coordinator_client):
    from django.template import Context, Template

    message_receive(patient=sendable_case.patient, channel="sms", body="Can I move my appointment?", notify=False)
    conversation = conversation_for_patient(patient=sendable_case.patient)
    html = Template("{% load pipeline_checklist %}{% case_timeline case %}").render(Context({"case": sendable_case}))
    assert f'href="{conversation_url(conversation)}"' in html
    assert "Open the conversation" in html
    assert "Can I move my appointment?" not in html
