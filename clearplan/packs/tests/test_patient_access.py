"""The patient's way in: the link, the session cookie, verification and lock-out."""

from __future__ import annotations

import re
from datetime import date, timedelta
from html import unescape

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from clearplan.audit.models import AuditEvent
from clearplan.lib.sms_url import SMS_OUTBOX_BACKEND
from clearplan.messaging.models import OutboundMessage
from clearplan.notifications.models import Notification
from clearplan.packs import access
from clearplan.packs.links import link_path, link_revoke
from clearplan.packs.models import PackLink, PackSession
from clearplan.packs.tests.patient_client import (
    answer_date_of_birth,
    give_a_guardian,
    opened_and_verified,
    patient_browser,
    send_pack,
)

PATIENT_PAGES_HEADERS = {
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Robots-Tag": "noindex, nofollow, noarchive",
}


def assert_patient_headers(response) -> None:
    for header, value in PATIENT_PAGES_HEADERS.items():
        assert response[header] == value, header


def assert_nothing_about_the_patient(html: str, case) -> None:
    # Random ids in addresses (the clinic's brand stylesheet, static file hashes) can contain any digits.
    html = re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{12,}", "", html)
    patient = case.patient
    for secret in (
        patient.first_name,
        patient.last_name,
        patient.mobile,
        patient.mobile[-3:],
        patient.email,
        patient.date_of_birth.isoformat(),
        str(patient.date_of_birth.year),
    ):
        assert secret not in html, secret


@pytest.fixture
def sent(sendable_case, coordinator):
    return send_pack(sendable_case, coordinator)


# ---------- The link ----------


def test_opening_the_link_swaps_the_token_for_a_cookie_and_moves_to_an_address_without_it(sent, sendable_case):
    link, token = sent
    client = patient_browser()
    response = client.get(link_path(token))
    assert response.status_code == 302
    assert response["Location"] == "/p/"
    assert_patient_headers(response)
    cookie = response.cookies[access.PACK_COOKIE]
    assert cookie["httponly"]
    assert cookie["path"] == "/p/"
    assert cookie["samesite"] == "Lax"
    assert 0 < int(cookie["max-age"]) <= 12 * 60 * 60
    assert token not in cookie.value
    stored = PackSession.objects.get(link=link)
    assert stored.key_sha256 == access.key_digest(cookie.value)
    assert cookie.value not in str(PackSession.objects.values_list().get(pk=stored.pk))
    assert stored.device_type == "phone"

    page = client.get(response["Location"])
    assert page.status_code == 200
    assert token not in page.content.decode()
    assert_patient_headers(page)


def test_the_cookie_is_secure_on_https(sent):
    _link, token = sent
    response = patient_browser().get(link_path(token), secure=True)
    assert response.cookies[access.PACK_COOKIE]["secure"]


def test_the_session_never_outlives_the_link(sendable_case, coordinator):
    link, token = send_pack(sendable_case, coordinator)
    PackLink.objects.filter(pk=link.pk).update(expires_at=timezone.now() + timedelta(hours=2))
    response = patient_browser().get(link_path(token))
    assert int(response.cookies[access.PACK_COOKIE]["max-age"]) <= 2 * 60 * 60


def test_tapping_the_link_again_keeps_the_verified_session(sendable_case, coordinator):
    client, token = opened_and_verified(sendable_case, coordinator)
    again = client.get(link_path(token))
    assert again.status_code == 302
    assert access.PACK_COOKIE not in again.cookies
    assert PackSession.objects.count() == 1
    assert "Your options" in client.get("/p/").content.decode()


def test_an_unknown_token_says_only_that_the_link_does_not_work(sent, sendable_case):
    response = patient_browser().get(link_path("x" * 32))
    assert response.status_code == 404
    html = response.content.decode()
    assert "This link does not work" in html
    assert sendable_case.clinic.name not in html
    assert access.PACK_COOKIE not in response.cookies
    assert_patient_headers(response)


def test_an_expired_link_says_so_with_the_clinics_phone_and_nothing_about_the_patient(sent, sendable_case):
    _link, token = sent
    with time_machine.travel(timezone.now() + timedelta(days=61)):
        response = patient_browser().get(link_path(token))
    assert response.status_code == 410
    html = response.content.decode()
    assert "This link has expired" in html
    assert sendable_case.clinic.name in html
    assert "(02) 9000 0000" in html
    assert_nothing_about_the_patient(html, sendable_case)
    assert access.PACK_COOKIE not in response.cookies
    assert_patient_headers(response)


def test_a_withdrawn_link_says_so(sent, sendable_case, coordinator):
    link, token = sent
    link_revoke(link=link, by=coordinator)
    response = patient_browser().get(link_path(token))
    assert response.status_code == 410
    assert "This link has been withdrawn" in response.content.decode()
    assert_nothing_about_the_patient(response.content.decode(), sendable_case)


def test_withdrawing_the_link_ends_a_session_already_reading(sendable_case, coordinator):
    client, _token = opened_and_verified(sendable_case, coordinator)
    link_revoke(link=PackLink.objects.get(), by=coordinator)
    response = client.get("/p/")
    assert response.status_code == 410
    assert "Your options" not in response.content.decode()


def test_without_a_session_the_pack_address_asks_for_the_link(sent):
    response = Client().get("/p/")
    assert response.status_code == 200
    assert "tap the link in the text message or email" in response.content.decode()
    assert_patient_headers(response)


def test_the_session_ends_after_twelve_hours_without_a_visit(sendable_case, coordinator):
    client, _token = opened_and_verified(sendable_case, coordinator)
    with time_machine.travel(timezone.now() + timedelta(hours=12, minutes=1)):
        response = client.get("/p/")
    assert "Your options" not in response.content.decode()


def test_reading_keeps_the_session_going(sendable_case, coordinator):
    client, _token = opened_and_verified(sendable_case, coordinator)
    start = timezone.now()
    with time_machine.travel(start + timedelta(hours=8)):
        renewed = client.get("/p/")
        assert int(renewed.cookies[access.PACK_COOKIE]["max-age"]) > 11 * 60 * 60
    with time_machine.travel(start + timedelta(hours=16)):
        assert "Your options" in client.get("/p/").content.decode()


def test_signing_out_ends_the_session_on_this_browser(sendable_case, coordinator):
    client, _token = opened_and_verified(sendable_case, coordinator)
    cookie = client.cookies[access.PACK_COOKIE].value
    response = client.post(reverse("packs:patient_sign_out"))
    assert response.status_code == 302
    assert response.cookies[access.PACK_COOKIE].value == ""
    assert "You have signed out" in client.get(response["Location"]).content.decode()
    stolen = patient_browser()
    stolen.cookies[access.PACK_COOKIE] = cookie
    assert "Your options" not in stolen.get("/p/").content.decode()
    assert AuditEvent.objects.filter(action="sign_out", actor_label="Patient (pack link)").exists()


# ---------- Date of birth ----------


def test_before_verifying_only_the_clinic_shows(sent, sendable_case):
    _link, token = sent
    client = patient_browser()
    client.get(link_path(token))
    response = client.get("/p/")
    html = response.content.decode()
    assert "please confirm your date of birth" in html
    assert sendable_case.clinic.name in html
    assert_nothing_about_the_patient(html, sendable_case)
    assert "Priya" not in html
    assert "<title>Your treatment pack · Harbour Dental Sydney</title>" in html
    assert 'autocomplete="bday-day"' in html
    assert 'autocomplete="bday-month"' in html
    assert 'autocomplete="bday-year"' in html
    assert html.count('inputmode="numeric"') == 3
    assert 'property="og:' not in html


def test_the_right_date_of_birth_opens_the_pack_and_is_recorded(sent, sendable_case):
    link, token = sent
    client = patient_browser()
    client.get(link_path(token))
    response = answer_date_of_birth(client, sendable_case.patient.date_of_birth)
    assert response.status_code == 302
    assert response["Location"] == "/p/"
    session = PackSession.objects.get()
    assert session.verified_at is not None
    assert session.verified_by == "date_of_birth"
    link.refresh_from_db()
    assert link.first_opened_at is not None
    assert link.failed_verifications == 0
    event = AuditEvent.objects.get(action="sign_in")
    assert event.actor is None
    assert event.actor_label == "Patient (pack link)"
    assert event.object_id == str(sendable_case.public_id)
    assert event.ip_address == "203.0.113.9"
    assert "Your options" in client.get("/p/").content.decode()


@pytest.mark.parametrize("typed", ["{d:02d}/{m:02d}/{y}", "{y}-{m:02d}-{d:02d}", "{d} July {y}", "{d}.{m}.{y}"])
def test_a_whole_date_typed_or_pasted_into_the_day_box_is_understood(sent, sendable_case, typed):
    patient = sendable_case.patient
    patient.date_of_birth = date(1986, 7, 3)
    patient.save()
    _link, token = sent
    client = patient_browser()
    client.get(link_path(token))
    day = typed.format(d=3, m=7, y=1986)
    response = client.post(reverse("packs:patient_verify"), {"day": day, "month": "", "year": ""})
    assert response.status_code == 302


def test_a_wrong_date_says_so_at_the_field_with_the_tries_left(sent, sendable_case):
    _link, token = sent
    client = patient_browser()
    client.get(link_path(token))
    response = answer_date_of_birth(client, date(1990, 1, 1))
    assert response.status_code == 400
    html = response.content.decode()
    assert "does not match the date of birth in our records" in html
    assert "You have 4 more tries" in html
    assert 'aria-invalid="true"' in html
    assert 'value="1990"' not in html
    assert_nothing_about_the_patient(html, sendable_case)
    failed = AuditEvent.objects.get(action="sign_in_failed")
    assert failed.actor_label == "Patient (pack link)"


@pytest.mark.parametrize(
    ("day", "month", "year", "message"),
    [
        ("", "", "", "Enter your date of birth."),
        ("31", "2", "1986", "not a date in the calendar"),
        ("3", "7", "86", "Enter the year in full"),
        ("3", "July?", "1986", "as numbers"),
    ],
)
def test_a_date_that_cannot_be_read_is_explained_and_costs_no_try(sent, day, month, year, message):
    link, token = sent
    client = patient_browser()
    client.get(link_path(token))
    response = client.post(reverse("packs:patient_verify"), {"day": day, "month": month, "year": year})
    assert response.status_code == 400
    assert message in response.content.decode()
    link.refresh_from_db()
    assert link.failed_verifications == 0


def test_five_wrong_answers_lock_the_link_for_half_an_hour_and_tell_the_clinic(sent, sendable_case, coordinator):
    link, token = sent
    first = patient_browser()
    first.get(link_path(token))
    for _ in range(3):
        answer_date_of_birth(first, date(1990, 1, 1))
    # The count belongs to the link, so a fresh browser does not start again at five.
    second = patient_browser()
    second.get(link_path(token))
    answer_date_of_birth(second, date(1990, 1, 2))
    locked = answer_date_of_birth(second, date(1990, 1, 3))
    html = locked.content.decode()
    assert "this link is paused after 5 tries" in html
    assert "(02) 9000 0000" in html
    link.refresh_from_db()
    assert link.locked_until is not None
    assert AuditEvent.objects.filter(action="locked_out").count() == 1
    assert Notification.objects.filter(recipient=coordinator, kind="link_locked", case=sendable_case).exists()

    # While locked even the right answer is refused, and the page shows no form.
    right = answer_date_of_birth(second, sendable_case.patient.date_of_birth)
    assert right.status_code == 400
    assert PackSession.objects.filter(verified_at__isnull=False).count() == 0
    page = second.get("/p/").content.decode()
    assert "this link is paused" in page
    assert 'name="day"' not in page

    with time_machine.travel(timezone.now() + timedelta(minutes=31)):
        after = answer_date_of_birth(second, sendable_case.patient.date_of_birth)
        assert after.status_code == 302
        assert "Your options" in second.get("/p/").content.decode()


def test_a_right_answer_clears_the_wrong_ones_before_it(sent, sendable_case):
    link, token = sent
    client = patient_browser()
    client.get(link_path(token))
    for _ in range(4):
        answer_date_of_birth(client, date(1990, 1, 1))
    answer_date_of_birth(client, sendable_case.patient.date_of_birth)
    link.refresh_from_db()
    assert link.failed_verifications == 0
    assert link.locked_until is None


def test_a_guardian_confirms_the_childs_date_of_birth_and_is_recorded_as_the_guardian(sendable_case, coordinator):
    patient = give_a_guardian(sendable_case)
    _link, token = send_pack(sendable_case, coordinator, recipient="guardian")
    client = patient_browser()
    client.get(link_path(token))
    page = unescape(client.get("/p/").content.decode())
    assert "your child's date of birth" in page
    assert "Aroha" not in page
    wrong = answer_date_of_birth(client, date(1980, 5, 5))
    assert "your child's date of birth in our records" in unescape(wrong.content.decode())
    assert answer_date_of_birth(client, patient.date_of_birth).status_code == 302
    assert AuditEvent.objects.filter(action="sign_in", actor_label="Parent or guardian (pack link)").exists()


# ---------- One-time codes ----------


@pytest.fixture
def code_clinic(sendable_case, settings):
    settings.SMS_BACKEND = SMS_OUTBOX_BACKEND
    settings.SMS_OPTIONS = {}
    clinic = sendable_case.clinic
    clinic.pack_verification = "code"
    clinic.save()
    return clinic


def sent_code(recipient_message: OutboundMessage) -> str:
    return re.search(r"\b(\d{6})\b", recipient_message.body).group(1)


def test_a_code_goes_to_the_patients_mobile_and_opens_the_pack(code_clinic, sendable_case, coordinator):
    _link, token = send_pack(sendable_case, coordinator)
    client = patient_browser()
    client.get(link_path(token))
    page = client.get("/p/").content.decode()
    assert "Send me a code" in page
    assert_nothing_about_the_patient(page, sendable_case)
    assert client.post(reverse("packs:patient_send_code")).status_code == 302
    message = OutboundMessage.objects.get(purpose="verification_code")
    assert message.channel == "sms"
    assert message.to_address == "+61412345678"
    assert message.case == sendable_case
    assert sendable_case.patient.first_name not in message.body
    page = client.get("/p/").content.decode()
    assert "We have sent a 6-digit code by text message" in page
    assert 'autocomplete="one-time-code"' in page
    assert 'inputmode="numeric"' in page
    assert_nothing_about_the_patient(page, sendable_case)

    wrong = client.post(reverse("packs:patient_verify"), {"code": "000000" if sent_code(message) != "000000" else "1"})
    assert "That code does not match" in wrong.content.decode()
    right = client.post(reverse("packs:patient_verify"), {"code": sent_code(message)})
    assert right.status_code == 302
    assert PackSession.objects.get().verified_by == "code"
    assert "Your options" in client.get("/p/").content.decode()


def test_when_the_practice_cannot_send_sms_the_code_goes_by_email(code_clinic, sendable_case, coordinator, settings):
    settings.SMS_BACKEND = ""
    _link, token = send_pack(sendable_case, coordinator)
    client = patient_browser()
    client.get(link_path(token))
    client.post(reverse("packs:patient_send_code"))
    assert OutboundMessage.objects.get(purpose="verification_code").channel == "email"


def test_without_a_mobile_the_code_goes_by_email(code_clinic, sendable_case, coordinator):
    patient = sendable_case.patient
    patient.mobile = ""
    patient.save()
    _link, token = send_pack(sendable_case, coordinator)
    client = patient_browser()
    client.get(link_path(token))
    client.post(reverse("packs:patient_send_code"))
    message = OutboundMessage.objects.get(purpose="verification_code")
    assert message.channel == "email"
    assert message.to_address == "mere.ngata@example.com"
    assert "by email" in client.get("/p/").content.decode()


def test_a_guardians_code_goes_to_the_guardian(code_clinic, sendable_case, coordinator):
    give_a_guardian(sendable_case)
    _link, token = send_pack(sendable_case, coordinator, recipient="guardian")
    client = patient_browser()
    client.get(link_path(token))
    client.post(reverse("packs:patient_send_code"))
    assert OutboundMessage.objects.get(purpose="verification_code").to_address == "+61491570999"


def test_codes_are_limited_to_one_a_minute_and_five_an_hour(code_clinic, sendable_case, coordinator):
    _link, token = send_pack(sendable_case, coordinator)
    client = patient_browser()
    client.get(link_path(token))
    start = timezone.now()
    client.post(reverse("packs:patient_send_code"))
    too_soon = client.post(reverse("packs:patient_send_code"))
    assert too_soon.status_code == 400
    assert "less than a minute ago" in too_soon.content.decode()
    for minutes in (2, 4, 6, 8):
        with time_machine.travel(start + timedelta(minutes=minutes)):
            response = client.post(reverse("packs:patient_send_code"))
            assert response.status_code == 302, response.content.decode()
    with time_machine.travel(start + timedelta(minutes=10)):
        too_many = client.post(reverse("packs:patient_send_code"))
    assert "already sent 5 codes in the last hour" in too_many.content.decode()
    assert OutboundMessage.objects.filter(purpose="verification_code").count() == 5


def test_a_code_expires_after_ten_minutes_and_only_the_newest_works(code_clinic, sendable_case, coordinator):
    _link, token = send_pack(sendable_case, coordinator)
    client = patient_browser()
    client.get(link_path(token))
    start = timezone.now()
    client.post(reverse("packs:patient_send_code"))
    first = sent_code(OutboundMessage.objects.get())
    with time_machine.travel(start + timedelta(minutes=11)):
        expired = client.post(reverse("packs:patient_verify"), {"code": first})
        assert "That code has expired" in expired.content.decode()
        client.post(reverse("packs:patient_send_code"))
        newest = sent_code(OutboundMessage.objects.order_by("-created_at", "-id").first())
        if newest != first:
            assert "does not match" in client.post(reverse("packs:patient_verify"), {"code": first}).content.decode()
        assert client.post(reverse("packs:patient_verify"), {"code": newest}).status_code == 302


def test_no_contact_details_gives_a_clear_message(code_clinic, sendable_case, coordinator):
    patient = sendable_case.patient
    patient.mobile = ""
    patient.email = ""
    patient.save()
    _link, token = send_pack(sendable_case, coordinator)
    client = patient_browser()
    client.get(link_path(token))
    response = client.post(reverse("packs:patient_send_code"))
    assert "do not have a mobile number or email address" in response.content.decode()
    assert "(02) 9000 0000" in response.content.decode()


# ---------- Forms from pages that send no Referer ----------


def test_forms_posted_from_patient_pages_pass_the_token_check_with_a_null_origin(sent, sendable_case):
    """Browsers send `Origin: null` with forms from a no-referrer page; the CSRF token still decides."""
    _link, token = sent
    client = Client(enforce_csrf_checks=True)
    client.get(link_path(token))
    page = client.get("/p/").content.decode()
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    birth = sendable_case.patient.date_of_birth
    answer = {"day": birth.day, "month": birth.month, "year": birth.year}
    refused = client.post(reverse("packs:patient_verify"), answer, HTTP_ORIGIN="null")
    assert refused.status_code == 403
    accepted = client.post(
        reverse("packs:patient_verify"), {**answer, "csrfmiddlewaretoken": csrf}, HTTP_ORIGIN="null", secure=False
    )
    assert accepted.status_code == 302
    assert PackSession.objects.get().verified_at is not None


def test_another_sites_form_is_refused(sent):
    _link, token = sent
    client = Client(enforce_csrf_checks=True)
    client.get(link_path(token))
    response = client.post(
        reverse("packs:patient_verify"), {"day": "1"}, HTTP_ORIGIN="https://attacker.example", secure=True
    )
    assert response.status_code == 403
