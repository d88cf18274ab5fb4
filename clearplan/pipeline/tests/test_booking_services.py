"""Recording, changing and cancelling appointments: what is checked (each problem at its field,
nothing half-saved), what a double click does, where the case moves, and what the patient is sent."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ValidationError
from icalendar import Calendar

from clearplan.accounts.models import Membership
from clearplan.accounts.tests.factories import staff_member
from clearplan.audit.models import AuditEvent
from clearplan.messaging.models import OutboundMessage
from clearplan.pipeline import bookings
from clearplan.pipeline.models import Booking, CaseProgress, MoveCause, Stage
from clearplan.pipeline.tests.booking_fixtures import (
    MONDAY_MORNING,
    PUBLIC,
    _messages_wait_in_the_queue,  # noqa: F401  (fixture)
    book,
    confirm_path,
    lines_of_the_crown,
    messages_about,
    monday_morning,  # noqa: F401  (fixture)
    sydney,
)
from clearplan.plans.models import PlanLine

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("monday_morning")]


def stage_of(case) -> str:
    return CaseProgress.objects.get(case=case).stage


def calendar_of(message: OutboundMessage) -> Calendar:
    assert message.attachment_name == "appointment.ics"
    assert message.attachment_type == "text/calendar"
    with message.attachment.open("rb") as handle:
        return Calendar.from_ical(handle.read())


# ---------- Recording ----------


def test_recording_an_appointment_moves_the_case_to_booked_and_stops_automatic_follow_up(sendable_case, coordinator):
    crown_lines = lines_of_the_crown(sendable_case)
    booking = book(sendable_case, coordinator, lines=crown_lines, note="Bring the night guard")

    assert booking.status == Booking.Status.BOOKED
    assert booking.starts_at == sydney(2026, 3, 10, 9, 30)
    assert booking.created_by == coordinator
    assert set(booking.lines.all()) == set(crown_lines)
    assert booking.note == "Bring the night guard"
    progress = CaseProgress.objects.get(case=sendable_case)
    assert progress.stage == Stage.BOOKED
    assert progress.follow_ups_stopped_at is not None
    move = sendable_case.stage_moves.get()
    assert (move.from_stage, move.to_stage, move.cause) == (Stage.NOT_SENT, Stage.BOOKED, MoveCause.BOOKED)


def test_the_patient_is_sent_a_confirmation_by_sms_and_email_with_a_calendar_file_and_a_link_to_confirm(
    sendable_case, coordinator
):
    booking = book(sendable_case, coordinator)

    sms, email = sorted(messages_about(sendable_case), key=lambda message: message.channel, reverse=True)
    assert (sms.channel, email.channel) == ("sms", "email")
    assert sms.to_address == "+61412345678"
    assert sms.body.startswith(
        f"Hi Mere, your appointment at {sendable_case.clinic.name} is booked for 9:30 am on Tuesday 10 March 2026 "
        f"(1 hour). To change it, call {sendable_case.clinic.name} on (02) 9000 0000. "
        "Please confirm: https://clearplan.example.com/a/"
    )
    assert email.to_address == "mere.ngata@example.com"
    assert email.subject == f"Your appointment at {sendable_case.clinic.name}"
    assert "When: 9:30 am on Tuesday 10 March 2026 (1 hour)" in email.body
    assert "Where: 12 Wharf Street, Sydney NSW 2000" in email.body
    assert "Confirm my appointment" in email.html
    assert sms.sender == coordinator
    # Both carry the same working link; only its SHA-256 is kept.
    path = confirm_path(sms)
    assert confirm_path(email) == path
    token = path.rsplit("/", 1)[1]
    booking.refresh_from_db()
    assert booking.confirm_token_sha256 == bookings.token_digest(token)
    assert token not in booking.confirm_token_sha256
    assert booking.confirmation_sent_at == MONDAY_MORNING
    [event] = calendar_of(email).walk("VEVENT")
    assert event.decoded("dtstart") == sydney(2026, 3, 10, 9, 30)


def test_the_messages_say_nothing_about_the_treatment(sendable_case, coordinator):
    crown_lines = lines_of_the_crown(sendable_case)
    book(sendable_case, coordinator, lines=crown_lines, note="Crown on 26, nervous patient")
    for message in messages_about(sendable_case):
        words = f"{message.subject} {message.body} {message.html or ''}"
        for detail in ("rown", "orcelain", "xamination", "tooth", "nervous", "Raman", "Priya"):
            assert detail not in words


def test_a_double_click_records_one_appointment_and_sends_one_confirmation(sendable_case, coordinator):
    first = book(sendable_case, coordinator, key="same-form")
    again = book(sendable_case, coordinator, key="same-form")

    assert again.pk == first.pk
    assert Booking.objects.count() == 1
    assert len(messages_about(sendable_case)) == 2  # one SMS, one email


def test_a_form_key_used_for_another_case_is_refused(sendable_case, coordinator, dentist):
    book(sendable_case, coordinator, key="same-form")
    other_case = sendable_case.patient.cases.create(
        clinic=sendable_case.clinic,
        dentist=dentist,
        conversation_date=dt.date(2026, 2, 20),
        plan_type="oral_health",
        created_by=dentist,
    )
    with pytest.raises(ValidationError, match="already used for another case"):
        book(other_case, coordinator, key="same-form")
    assert not other_case.bookings.exists()


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"when": sydney(2026, 3, 2, 9, 59)}, "starts_at", "That time has passed"),
        ({"when": sydney(2028, 6, 1, 9, 0)}, "starts_at", "within the next two years"),
        ({"duration_minutes": 0}, "duration_minutes", "between 5 minutes and 8 hours"),
        ({"duration_minutes": 4}, "duration_minutes", "between 5 minutes and 8 hours"),
        ({"duration_minutes": 481}, "duration_minutes", "between 5 minutes and 8 hours"),
        ({"practitioner": None}, "practitioner", "Choose who the appointment is with"),
        ({"note": "x" * 301}, "note", "300 characters"),
    ],
)
def test_each_problem_is_named_at_its_field_and_nothing_is_saved(sendable_case, coordinator, overrides, field, message):
    with pytest.raises(ValidationError) as refused:
        book(sendable_case, coordinator, **overrides)

    assert list(refused.value.message_dict) == [field]
    assert message in refused.value.message_dict[field][0]
    assert not Booking.objects.exists()
    assert not OutboundMessage.objects.exists()
    assert stage_of(sendable_case) == Stage.NOT_SENT


def test_the_appointment_must_be_with_someone_who_works_at_the_clinic(sendable_case, coordinator, outsider):
    with pytest.raises(ValidationError) as refused:
        book(sendable_case, coordinator, practitioner=outsider)
    assert refused.value.message_dict == {"practitioner": ["Choose someone who works at this clinic."]}

    outsider.is_active = False
    outsider.save()
    staff_member(sendable_case.clinic, Membership.Role.FRONT_DESK, first_name="Former", email="former@example.com")
    former = Membership.objects.get(user__email="former@example.com").user
    former.is_active = False
    former.save()
    with pytest.raises(ValidationError) as refused:
        book(sendable_case, coordinator, practitioner=former)
    assert "practitioner" in refused.value.message_dict


def test_the_treatment_must_come_from_this_case(sendable_case, coordinator, dentist):
    crown_lines = lines_of_the_crown(sendable_case)
    other_case = sendable_case.patient.cases.create(
        clinic=sendable_case.clinic,
        dentist=dentist,
        conversation_date=dt.date(2026, 2, 20),
        plan_type="oral_health",
        created_by=dentist,
    )
    option = other_case.options.create(title="Other")
    stranger = PlanLine.objects.create(option=option, procedure=crown_lines[0].procedure, fee="100.00")
    with pytest.raises(ValidationError) as refused:
        book(sendable_case, coordinator, lines=[*crown_lines, stranger])
    assert refused.value.message_dict == {"lines": ["Choose treatment from this case's plan."]}
    assert not Booking.objects.exists()


def test_several_problems_are_named_together(sendable_case, coordinator):
    with pytest.raises(ValidationError) as refused:
        book(sendable_case, coordinator, when=sydney(2026, 3, 1, 9), duration_minutes=1000, practitioner=None)
    assert set(refused.value.message_dict) == {"starts_at", "duration_minutes", "practitioner"}


def test_a_minors_confirmation_goes_to_their_parent_or_guardian(sendable_case, coordinator):
    patient = sendable_case.patient
    patient.date_of_birth = dt.date(2014, 5, 1)
    patient.guardian_name = "Aroha Ngata"
    patient.guardian_mobile = "+61491570999"
    patient.guardian_email = "aroha@example.com"
    patient.save()

    book(sendable_case, coordinator)

    sms, email = sorted(messages_about(sendable_case), key=lambda message: message.channel, reverse=True)
    assert sms.to_address == "+61491570999"
    assert email.to_address == "aroha@example.com"
    assert sms.body.startswith(f"Hi Aroha Ngata, Mere's appointment at {sendable_case.clinic.name} is booked")


def test_only_the_channels_the_patient_agreed_to_are_used(sendable_case, coordinator):
    patient = sendable_case.patient
    patient.consent_email = False
    patient.save()

    book(sendable_case, coordinator)

    assert [message.channel for message in messages_about(sendable_case)] == ["sms"]


def test_without_a_channel_the_appointment_is_still_recorded_and_no_confirmation_is_claimed(sendable_case, coordinator):
    patient = sendable_case.patient
    patient.consent_email = False
    patient.consent_sms = False
    patient.save()

    booking = book(sendable_case, coordinator)

    assert booking.confirmation_sent_at is None
    assert stage_of(sendable_case) == Stage.BOOKED
    assert not OutboundMessage.objects.exists()
    reach = bookings.patient_reach(patient)
    assert reach.channels == ()
    assert "Mere has not agreed to receive SMS" in reach.problems[0]


def test_recording_is_audited(sendable_case, coordinator):
    booking = book(sendable_case, coordinator)
    event = AuditEvent.objects.get(object_type="case", action="create", changes__has_key="appointment")
    assert event.actor == coordinator
    assert event.object_id == str(sendable_case.public_id)
    assert event.changes["appointment"] == [None, str(booking.public_id)]
    assert event.changes["confirmation_sent"] == [None, True]


# ---------- Changing ----------


def change(booking, by, **overrides):
    arguments = {
        "booking": booking,
        "by": by,
        "starts_at": booking.starts_at,
        "duration_minutes": booking.duration_minutes,
        "practitioner": booking.practitioner,
        "lines": list(booking.lines.all()),
        "note": booking.note,
    }
    return bookings.booking_update(**{**arguments, **overrides})


def test_a_new_time_raises_the_sequence_asks_to_confirm_again_and_sends_the_new_time(sendable_case, coordinator):
    booking = book(sendable_case, coordinator)
    first_path = confirm_path(messages_about(sendable_case)[0])
    Booking.objects.filter(pk=booking.pk).update(patient_confirmed_at=MONDAY_MORNING, reminder_sent_at=MONDAY_MORNING)
    booking.refresh_from_db()

    moved = change(booking, coordinator, starts_at=sydney(2026, 3, 11, 14, 0), duration_minutes=90)

    assert moved.sequence == 1
    assert moved.patient_confirmed_at is None
    assert moved.reminder_sent_at is None
    sms, email = sorted(messages_about(sendable_case)[2:], key=lambda message: message.channel, reverse=True)
    assert "has moved to 2:00 pm on Wednesday 11 March 2026 (1 hour 30 minutes)" in sms.body
    assert email.subject == f"Your appointment at {sendable_case.clinic.name} has changed"
    [event] = calendar_of(email).walk("VEVENT")
    assert event["sequence"] == 1
    assert event.decoded("dtstart") == sydney(2026, 3, 11, 14, 0)
    assert confirm_path(sms) != first_path
    assert stage_of(sendable_case) == Stage.BOOKED


def test_saving_the_same_time_again_changes_nothing_for_the_patient(sendable_case, coordinator, front_desk):
    crown_lines = lines_of_the_crown(sendable_case)
    booking = book(sendable_case, coordinator)

    saved = change(booking, coordinator, lines=crown_lines, note="Needs the long chair", practitioner=front_desk)
    again = change(saved, coordinator, lines=crown_lines, note="Needs the long chair", practitioner=front_desk)

    assert again.sequence == 0
    assert again.note == "Needs the long chair"
    assert again.practitioner == front_desk
    assert set(again.lines.all()) == set(crown_lines)
    assert len(messages_about(sendable_case)) == 2
    changes = AuditEvent.objects.filter(object_type="case", action="update", changes__has_key="appointment")
    assert changes.count() == 1
    assert set(changes.get().changes) == {"appointment", "note", "practitioner", "lines"}


def test_an_appointment_can_only_be_moved_to_a_time_to_come(sendable_case, coordinator):
    booking = book(sendable_case, coordinator)
    with pytest.raises(ValidationError) as refused:
        change(booking, coordinator, starts_at=sydney(2026, 3, 2, 8, 0))
    assert list(refused.value.message_dict) == ["starts_at"]
    booking.refresh_from_db()
    assert booking.starts_at == sydney(2026, 3, 10, 9, 30)


def test_a_past_appointment_keeps_its_time_when_its_note_is_changed(sendable_case, coordinator):
    booking = book(sendable_case, coordinator)
    with time_machine.travel(sydney(2026, 3, 12, 9), tick=False):
        saved = change(booking, coordinator, note="Attended; crown fitted next visit")
    assert saved.note == "Attended; crown fitted next visit"


def test_a_cancelled_appointment_cannot_be_changed(sendable_case, coordinator):
    booking = book(sendable_case, coordinator)
    bookings.booking_cancel(booking=booking, by=coordinator, reason="Patient asked")
    with pytest.raises(ValidationError, match="cancelled"):
        change(booking, coordinator, starts_at=sydney(2026, 3, 12, 9))


# ---------- Cancelling ----------


def test_cancelling_the_last_appointment_puts_the_case_back_into_follow_up_and_tells_the_patient(
    sendable_case, coordinator
):
    booking = book(sendable_case, coordinator)

    cancelled = bookings.booking_cancel(booking=booking, by=coordinator, reason="Patient is travelling")

    assert cancelled.status == Booking.Status.CANCELLED
    assert (cancelled.cancelled_by, cancelled.cancel_reason) == (coordinator, "Patient is travelling")
    assert cancelled.sequence == 1
    assert stage_of(sendable_case) == Stage.FOLLOW_UP
    sms, email = sorted(messages_about(sendable_case)[2:], key=lambda message: message.channel, reverse=True)
    assert "appointment at" in sms.body
    assert sms.body.endswith(f"is cancelled. To book another time, call {sendable_case.clinic.name} on (02) 9000 0000.")
    assert "travelling" not in sms.body + email.body
    calendar = calendar_of(email)
    assert calendar["method"] == "CANCEL"
    [event] = calendar.walk("VEVENT")
    assert (event["sequence"], str(event["status"])) == (1, "CANCELLED")


def test_cancelling_one_of_two_appointments_keeps_the_case_booked(sendable_case, coordinator):
    first = book(sendable_case, coordinator, key="first")
    book(sendable_case, coordinator, key="second", when=sydney(2026, 3, 24, 9, 30))

    bookings.booking_cancel(booking=first, by=coordinator, reason="Merged into one visit")

    assert stage_of(sendable_case) == Stage.BOOKED


def test_cancelling_needs_a_reason_and_twice_is_harmless(sendable_case, coordinator):
    booking = book(sendable_case, coordinator)
    with pytest.raises(ValidationError) as refused:
        bookings.booking_cancel(booking=booking, by=coordinator, reason="  ")
    assert list(refused.value.message_dict) == ["reason"]

    bookings.booking_cancel(booking=booking, by=coordinator, reason="Patient asked", tell_patient=False)
    again = bookings.booking_cancel(booking=booking, by=coordinator, reason="Patient asked again")

    assert again.cancel_reason == "Patient asked"
    assert again.sequence == 1
    assert len(messages_about(sendable_case)) == 2  # the confirmation only: the patient was not told
    assert sendable_case.stage_moves.filter(cause=MoveCause.BOOKING_CANCELLED).count() == 1


# ---------- Sending the confirmation again ----------


def test_the_confirmation_can_be_sent_again_with_a_new_link_but_not_twice_in_a_minute(sendable_case, coordinator):
    booking = book(sendable_case, coordinator)
    first_digest = Booking.objects.get(pk=booking.pk).confirm_token_sha256

    bookings.booking_confirmation_resend(booking=booking, by=coordinator)
    assert len(messages_about(sendable_case)) == 2
    assert Booking.objects.get(pk=booking.pk).confirm_token_sha256 == first_digest

    with time_machine.travel(MONDAY_MORNING + dt.timedelta(minutes=5), tick=False):
        bookings.booking_confirmation_resend(booking=booking, by=coordinator)
    assert len(messages_about(sendable_case)) == 4
    assert Booking.objects.get(pk=booking.pk).confirm_token_sha256 != first_digest


def test_the_confirmation_is_not_sent_again_when_the_patient_cannot_be_reached(sendable_case, coordinator):
    patient = sendable_case.patient
    patient.consent_email = patient.consent_sms = False
    patient.save()
    booking = book(sendable_case, coordinator)
    with pytest.raises(ValidationError, match="has not agreed"):
        bookings.booking_confirmation_resend(booking=booking, by=coordinator)


def test_the_confirm_link_uses_the_public_address(sendable_case, coordinator):
    book(sendable_case, coordinator)
    assert PUBLIC + confirm_path(messages_about(sendable_case)[0]) in messages_about(sendable_case)[0].body
