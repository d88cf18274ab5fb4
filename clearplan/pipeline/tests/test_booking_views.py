"""The team's appointment pages: recording from the case page's form, every refusal at its field,
a double submit, changing and cancelling, the calendar file download, the "Appointments" panel on
the case page (with a query count that does not grow with appointments), audit rows, and another
clinic's case or appointment answering 404."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from icalendar import Calendar

from clearplan.audit.models import AuditEvent
from clearplan.pipeline import bookings
from clearplan.pipeline.models import Booking, CaseProgress, Stage
from clearplan.pipeline.tests.booking_fixtures import (
    MONDAY_MORNING,
    _messages_wait_in_the_queue,  # noqa: F401  (fixture)
    book,
    lines_of_the_crown,
    messages_about,
    monday_morning,  # noqa: F401  (fixture)
    sydney,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("monday_morning")]


def new_url(case) -> str:
    return reverse("pipeline:booking_new", args=[case.public_id])


def case_url(case) -> str:
    return reverse("plans:detail", args=[case.public_id])


def form_data(case, **overrides) -> dict:
    data = {
        "submission_key": "form-key-1",
        "day": "2026-03-10",
        "time": "09:30",
        "duration_minutes": "60",
        "practitioner": str(case.dentist.public_id),
        "lines": [str(line.public_id) for line in lines_of_the_crown(case)],
        "note": "Bring the night guard",
    }
    data.update(overrides)
    return data


def text_of(response) -> str:
    return response.content.decode()


# ---------- Recording ----------


def test_the_form_says_which_time_zone_and_offers_the_clinics_team_practitioners_first(
    coordinator_client, sendable_case
):
    response = coordinator_client.get(new_url(sendable_case))

    assert response.status_code == 200
    page = text_of(response)
    assert "In the clinic&#x27;s time (Australia/Sydney)." in page
    assert page.index("Priya Raman (Dentist)") < page.index("Chloé O&#x27;Connor (Treatment coordinator)")
    assert "Option A: crown" in page
    assert "Porcelain crown" in page
    assert "Option B: denture" in page
    assert AuditEvent.objects.filter(action="view", object_id=str(sendable_case.public_id)).exists()


def test_recording_an_appointment_from_the_form(coordinator_client, sendable_case):
    response = coordinator_client.post(new_url(sendable_case), form_data(sendable_case))

    assert response.status_code == 302
    assert response["Location"] == case_url(sendable_case) + "#appointments"
    booking = Booking.objects.get()
    assert booking.starts_at == sydney(2026, 3, 10, 9, 30)
    assert booking.practitioner == sendable_case.dentist
    assert set(booking.lines.all()) == set(lines_of_the_crown(sendable_case))
    assert CaseProgress.objects.get(case=sendable_case).stage == Stage.BOOKED
    page = text_of(coordinator_client.get(response["Location"]))
    assert "Appointment recorded for 9:30 am on Tuesday 10 March 2026." in page
    assert "The confirmation is on its way to Mere Ngata by SMS and email." in page


def test_a_double_submit_records_one_appointment(coordinator_client, sendable_case):
    first = coordinator_client.post(new_url(sendable_case), form_data(sendable_case))
    second = coordinator_client.post(new_url(sendable_case), form_data(sendable_case))

    assert first.status_code == second.status_code == 302
    assert Booking.objects.count() == 1
    assert len(messages_about(sendable_case)) == 2


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"day": "2026-03-01"}, "day", "That time has passed"),
        ({"time": "09:59", "day": "2026-03-02"}, "time", "That time has passed"),
        ({"day": ""}, "day", "Choose the day of the appointment."),
        ({"time": "half nine"}, "time", "Enter a time"),
        ({"duration_minutes": "0"}, "duration_minutes", "between 5 minutes and 8 hours"),
        ({"duration_minutes": "900"}, "duration_minutes", "between 5 minutes and 8 hours"),
        ({"practitioner": ""}, "practitioner", "Choose who the appointment is with."),
        ({"lines": ["not-a-line"]}, "lines", "Select a valid choice"),
        ({"note": "x" * 301}, "note", "at most 300 characters"),
        # 2:30 am on Sunday 4 October does not happen in Sydney: the clocks go from 2 to 3.
        ({"day": "2026-10-04", "time": "02:30"}, "time", "The clocks change at that time on this day"),
    ],
)
def test_each_problem_shows_at_its_field_and_nothing_is_saved(
    coordinator_client, sendable_case, overrides, field, message
):
    response = coordinator_client.post(new_url(sendable_case), form_data(sendable_case, **overrides))

    assert response.status_code == 400
    form = response.context["form"]
    assert list(form.errors) == [field]
    assert message in form.errors[field][0]
    assert f'id="id_{field}_error"' in text_of(response) or field == "lines"
    assert not Booking.objects.exists()
    assert CaseProgress.objects.get(case=sendable_case).stage == Stage.NOT_SENT


def test_someone_from_another_clinic_cannot_be_chosen(coordinator_client, sendable_case, outsider):
    response = coordinator_client.post(
        new_url(sendable_case), form_data(sendable_case, practitioner=str(outsider.public_id))
    )
    assert response.status_code == 400
    assert "Choose someone who works at this clinic." in response.context["form"].errors["practitioner"][0]


# ---------- Changing, cancelling, the calendar file ----------


def test_changing_the_time_tells_the_team_the_patient_was_sent_the_new_time(
    coordinator_client, sendable_case, coordinator
):
    booking = book(sendable_case, coordinator)
    url = reverse("pipeline:booking_edit", args=[sendable_case.public_id, booking.public_id])

    form = coordinator_client.get(url)
    assert form.context["form"]["time"].value().strftime("%H:%M") == "09:30"
    response = coordinator_client.post(url, form_data(sendable_case, day="2026-03-12", time="14:15"), follow=True)

    booking.refresh_from_db()
    assert booking.starts_at == sydney(2026, 3, 12, 14, 15)
    assert booking.sequence == 1
    assert "Appointment moved to 2:15 pm on Thursday 12 March 2026." in text_of(response)


def test_cancelling_asks_why_and_puts_the_case_back_into_follow_up(coordinator_client, sendable_case, coordinator):
    booking = book(sendable_case, coordinator)
    url = reverse("pipeline:booking_cancel", args=[sendable_case.public_id, booking.public_id])

    page = coordinator_client.get(url)
    assert "It is the case's only appointment, so the case goes back to Follow-up required." in text_of(page)
    refused = coordinator_client.post(url, {"reason": "", "tell_patient": "on"})
    assert refused.status_code == 400
    assert refused.context["form"].errors["reason"] == ["Say why it is cancelled, for the team."]

    response = coordinator_client.post(url, {"reason": "Patient is travelling", "tell_patient": "on"})
    assert response.status_code == 302
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CANCELLED
    assert CaseProgress.objects.get(case=sendable_case).stage == Stage.FOLLOW_UP


def test_the_team_can_download_the_calendar_file_and_it_is_audited(coordinator_client, sendable_case, coordinator):
    booking = book(sendable_case, coordinator)
    url = reverse("pipeline:booking_calendar", args=[sendable_case.public_id, booking.public_id])

    response = coordinator_client.get(url)

    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar"
    assert response["Content-Disposition"] == 'attachment; filename="appointment.ics"'
    [event] = Calendar.from_ical(response.content).walk("VEVENT")
    assert event["uid"] == f"appointment-{booking.public_id}@clearplan.example"
    assert AuditEvent.objects.filter(action="export", changes__has_key="appointment_calendar_file").exists()


def test_sending_the_confirmation_again_from_the_case(coordinator_client, sendable_case, coordinator):
    booking = book(sendable_case, coordinator)
    url = reverse("pipeline:booking_resend", args=[sendable_case.public_id, booking.public_id])
    with time_machine.travel(MONDAY_MORNING + dt.timedelta(minutes=10), tick=False):
        response = coordinator_client.post(url, follow=True)
    assert "The confirmation is on its way to Mere Ngata by SMS and email." in text_of(response)
    assert len(messages_about(sendable_case)) == 4


# ---------- The case page's panel ----------


def test_the_case_page_lists_appointments_coming_first_and_cancelled_ones_struck_through(
    coordinator_client, sendable_case, coordinator
):
    later = book(sendable_case, coordinator, key="later", when=sydney(2026, 3, 24, 9, 30))
    cancelled = book(sendable_case, coordinator, key="cancelled", when=sydney(2026, 3, 5, 11, 0))
    bookings.booking_cancel(booking=cancelled, by=coordinator, reason="Moved to the 24th")
    sooner = book(sendable_case, coordinator, key="sooner", when=sydney(2026, 3, 10, 9, 30))
    bookings.booking_confirm_by_patient(booking=sooner)

    page = text_of(coordinator_client.get(case_url(sendable_case)))

    panel = page[page.index('id="appointments"') :]
    assert panel.index(f"appointment-{sooner.public_id}") < panel.index(f"appointment-{later.public_id}")
    assert panel.index(f"appointment-{later.public_id}") < panel.index(f"appointment-{cancelled.public_id}")
    assert "<s>11:00 am on Thursday 5 March 2026</s>" in panel
    assert "Moved to the 24th" in panel
    assert "Confirmed by the patient" in panel
    assert "Not confirmed yet" in panel
    assert "Reminder due 9:30 am on Sunday 8 March 2026" in panel
    assert "Record an appointment" in panel


def test_the_case_pages_queries_do_not_grow_with_appointments(coordinator_client, sendable_case, coordinator):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert coordinator_client.get(case_url(sendable_case)).status_code == 200
        return len(captured)

    book(sendable_case, coordinator, key="first", lines=lines_of_the_crown(sendable_case))
    queries()  # the first page of the session also records when the user was last seen
    one = queries()
    for number in range(2, 7):
        book(
            sendable_case,
            coordinator,
            key=f"booking-{number}",
            when=sydney(2026, 3, 10 + number, 9, 30),
            lines=lines_of_the_crown(sendable_case),
        )
    bookings.booking_cancel(booking=Booking.objects.last(), by=coordinator, reason="Not needed")
    assert queries() == one


def test_a_patient_who_cannot_be_reached_is_named_on_the_panel(coordinator_client, sendable_case):
    patient = sendable_case.patient
    patient.consent_sms = patient.consent_email = False
    patient.save()
    page = text_of(coordinator_client.get(case_url(sendable_case)))
    assert "Mere Ngata can't be sent confirmations or reminders." in page


# ---------- Other clinics ----------


def test_another_clinics_team_gets_404_for_every_appointment_page(outsider_client, sendable_case, coordinator):
    booking = book(sendable_case, coordinator)
    ids = [sendable_case.public_id, booking.public_id]
    pages = [
        ("get", reverse("pipeline:booking_new", args=[sendable_case.public_id])),
        ("post", reverse("pipeline:booking_new", args=[sendable_case.public_id])),
        ("get", reverse("pipeline:booking_edit", args=ids)),
        ("post", reverse("pipeline:booking_edit", args=ids)),
        ("get", reverse("pipeline:booking_cancel", args=ids)),
        ("post", reverse("pipeline:booking_cancel", args=ids)),
        ("post", reverse("pipeline:booking_resend", args=ids)),
        ("get", reverse("pipeline:booking_calendar", args=ids)),
    ]
    for method, url in pages:
        response = getattr(outsider_client, method)(url, form_data(sendable_case) if method == "post" else None)
        assert response.status_code == 404, url
    booking.refresh_from_db()
    assert booking.status == Booking.Status.BOOKED
    assert Booking.objects.count() == 1


def test_an_appointment_of_another_case_is_404_under_this_case(coordinator_client, sendable_case, coordinator, dentist):
    booking = book(sendable_case, coordinator)
    other_case = sendable_case.patient.cases.create(
        clinic=sendable_case.clinic,
        dentist=dentist,
        conversation_date=dt.date(2026, 2, 20),
        plan_type="oral_health",
        created_by=dentist,
    )
    url = reverse("pipeline:booking_cancel", args=[other_case.public_id, booking.public_id])
    assert coordinator_client.get(url).status_code == 404


def test_signed_out_visitors_are_sent_to_sign_in(client, sendable_case):
    response = client.get(new_url(sendable_case))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
