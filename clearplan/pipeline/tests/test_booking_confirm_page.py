"""The patient's confirm page, opened from the link in their message: only the clinic, the day and
time and a Confirm button; confirming once is recorded once; an unknown link is a friendly 404
that says nothing and is not logged; the patient pages' headers; the link's token never reaches
the access log."""

from __future__ import annotations

import logging

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from clearplan.audit.models import AuditEvent
from clearplan.pipeline import bookings
from clearplan.pipeline.models import Booking, CaseProgress, Stage
from clearplan.pipeline.tests.booking_fixtures import (
    MONDAY_MORNING,
    _messages_wait_in_the_queue,  # noqa: F401  (fixture)
    book,
    confirm_path,
    lines_of_the_crown,
    messages_about,
    monday_morning,  # noqa: F401  (fixture)
    sydney,
)
from clearplan.web.gunicorn_logging import redact

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("monday_morning")]

PHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148 Safari/604.1"


@pytest.fixture
def booked(sendable_case, coordinator):
    booking = book(sendable_case, coordinator, lines=lines_of_the_crown(sendable_case), note="Anxious; crown on 26")
    return booking, confirm_path(messages_about(sendable_case)[0])


def patient_browser() -> Client:
    # The patient's phone, checking CSRF tokens as a real browser's requests are checked.
    return Client(enforce_csrf_checks=True, HTTP_USER_AGENT=PHONE)


def post_confirm(client: Client, path: str, *, origin: str = "null"):
    client.get(path)
    token = client.cookies["csrftoken"].value
    # With no Referer (Referrer-Policy: no-referrer) browsers send "Origin: null" with the form.
    return client.post(path, {"csrfmiddlewaretoken": token}, HTTP_ORIGIN=origin)


def test_the_page_shows_only_the_clinic_the_day_and_time_and_a_confirm_button(booked, sendable_case):
    _booking, path = booked

    response = patient_browser().get(path)

    assert response.status_code == 200
    page = response.content.decode()
    assert "Please confirm your appointment" in page
    assert sendable_case.clinic.name in page
    assert "9:30 am on Tuesday 10 March 2026" in page
    assert '<button class="pack-button" type="submit">Confirm</button>' in page
    patient = sendable_case.patient
    for private in (patient.first_name, patient.last_name, "rown", "Anxious", "Raman", "Priya"):
        assert private not in page
    assert response["Referrer-Policy"] == "no-referrer"
    assert response["Cache-Control"] == "no-store"
    assert "noindex" in response["X-Robots-Tag"]
    assert '<meta name="robots" content="noindex, nofollow">' in page


def test_confirming_is_recorded_once_and_the_page_then_says_so(booked, sendable_case):
    booking, path = booked
    client = patient_browser()

    response = post_confirm(client, path)

    assert response.status_code == 302
    assert response["Location"] == path
    assert response["Referrer-Policy"] == "no-referrer"
    booking.refresh_from_db()
    assert booking.patient_confirmed_at == MONDAY_MORNING
    page = client.get(path).content.decode()
    assert "Thank you, you&#x27;re confirmed" in page or "Thank you, you're confirmed" in page
    assert "<button" not in page

    with time_machine.travel(sydney(2026, 3, 3, 8, 0), tick=False):
        post_confirm(client, path)
    booking.refresh_from_db()
    assert booking.patient_confirmed_at == MONDAY_MORNING
    events = AuditEvent.objects.filter(changes__has_key="appointment_confirmed_by_patient")
    assert events.count() == 1
    assert events.get().actor is None
    assert CaseProgress.objects.get(case=sendable_case).stage == Stage.BOOKED


def test_the_team_sees_that_the_patient_confirmed(booked, sendable_case, coordinator_client):
    _booking, path = booked
    post_confirm(patient_browser(), path)
    page = coordinator_client.get(reverse("plans:detail", args=[sendable_case.public_id])).content.decode()
    assert "Confirmed by the patient" in page


def test_a_form_from_another_site_is_refused(booked):
    booking, path = booked
    client = patient_browser()
    client.get(path)
    response = client.post(path, {}, HTTP_ORIGIN="https://elsewhere.example")
    assert response.status_code == 403
    booking.refresh_from_db()
    assert booking.patient_confirmed_at is None


def test_an_unknown_link_is_a_friendly_404_that_says_nothing_and_is_not_logged(booked, caplog):
    client = patient_browser()
    with caplog.at_level(logging.INFO):
        for token in ("Jxv0VmCFtqlBFq5_8U0ee2MinpBxp1FW", "short", "x" * 200, "not%20a%20token"):
            response = client.get(f"/a/{token}")
            assert response.status_code == 404
            page = response.content.decode()
            assert "This link does not work" in page
            assert response["Referrer-Policy"] == "no-referrer"
            assert response["Cache-Control"] == "no-store"
    assert "Jxv0VmCFtqlBFq5_8U0ee2MinpBxp1FW" not in caplog.text
    assert "Harbour" not in page


def test_a_rescheduled_appointments_old_link_stops_and_the_new_one_works(booked, sendable_case, coordinator):
    booking, old_path = booked
    bookings.booking_update(
        booking=booking,
        by=coordinator,
        starts_at=sydney(2026, 3, 12, 14, 0),
        duration_minutes=60,
        practitioner=booking.practitioner,
    )
    new_path = confirm_path(messages_about(sendable_case)[-1])
    client = patient_browser()
    assert client.get(old_path).status_code == 404
    assert "2:00 pm on Thursday 12 March 2026" in client.get(new_path).content.decode()


def test_a_cancelled_appointments_link_says_so_and_cannot_confirm(booked, coordinator):
    booking, path = booked
    bookings.booking_cancel(booking=booking, by=coordinator, reason="Patient asked", tell_patient=False)
    client = patient_browser()

    page = client.get(path).content.decode()
    # The page has no form; a confirmation posted anyway (an old tab) changes nothing.
    assert Client().post(path).status_code == 302

    assert "This appointment was cancelled" in page
    assert "<button" not in page
    assert Booking.objects.get(pk=booking.pk).patient_confirmed_at is None


def test_a_past_appointment_cannot_be_confirmed(booked):
    booking, path = booked
    client = patient_browser()
    with time_machine.travel(sydney(2026, 3, 10, 11, 0), tick=False):
        page = client.get(path).content.decode()
        assert Client().post(path).status_code == 302
    assert "This appointment has passed" in page
    assert Booking.objects.get(pk=booking.pk).patient_confirmed_at is None


def test_the_access_log_shows_confirm_links_without_their_token():
    assert redact("GET /a/Jxv0VmCFtqlBFq5_8U0ee2MinpBxp1FW HTTP/1.1") == "GET /a/… HTTP/1.1"
    assert redact("/a/Jxv0VmCFtqlBFq5_8U0ee2MinpBxp1FW?x=1") == "/a/…?x=1"
    assert redact("/cases/a/b") == "/cases/a/b"
