"""Sending the pack: by SMS and email from the clinic, naming the team member, with a link that
opens it; refusals at the field with nothing saved; scheduling, double clicks, updates, revoking
and resending. SMS go to the outbox backend (files under OUTBOX_DIR/sms), email through a real
SMTP server (aiosmtpd) on loopback."""

from __future__ import annotations

import json
import re
import threading
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from clearplan.audit.models import AuditEvent
from clearplan.lib.sms_url import SMS_OUTBOX_BACKEND
from clearplan.messaging.models import OutboundMessage
from clearplan.messaging.sms import sms_outbox_directory
from clearplan.messaging.tests.conftest import IMMEDIATE_TASKS, send_through_smtp, smtp_server  # noqa: F401
from clearplan.packs import sending
from clearplan.packs.links import link_for_token, link_is_usable, token_digest
from clearplan.packs.models import PackLink, PackSend, PackVersion
from clearplan.plans import services

PUBLIC = "https://clearplan.example.com"
LINK = re.compile(re.escape(PUBLIC) + r"/p/([A-Za-z0-9_-]+)")


@pytest.fixture(autouse=True)
def _messages_go_out(settings, smtp_server):  # noqa: F811
    settings.SMS_BACKEND = SMS_OUTBOX_BACKEND
    settings.SMS_OPTIONS = {}
    settings.TASKS = IMMEDIATE_TASKS
    settings.PUBLIC_BASE_URL = PUBLIC
    send_through_smtp(settings, smtp_server.port)


def texts() -> list[dict]:
    directory = sms_outbox_directory()
    return [json.loads(path.read_text()) for path in directory.glob("*.json")] if directory.exists() else []


def send(case, by, *, key="key-1", **overrides):
    words = sending.message_texts(case, by)
    arguments = {
        "case": case,
        "by": by,
        "by_sms": True,
        "by_email": True,
        "sms_text": words["sms_text"],
        "email_subject": words["email_subject"],
        "email_text": words["email_text"],
        "submission_key": key,
    }
    return sending.pack_send(**{**arguments, **overrides})


def nothing_saved() -> bool:
    return not (
        PackVersion.objects.exists()
        or PackLink.objects.exists()
        or PackSend.objects.exists()
        or OutboundMessage.objects.exists()
    )


@pytest.mark.django_db(transaction=True)
def test_sending_by_sms_and_email_lands_both_from_the_clinic_naming_the_team_member(
    sendable_case,
    coordinator,
    clinic,
    smtp_server,  # noqa: F811
):
    pack = send(sendable_case, coordinator)

    assert pack.status == PackSend.Status.SENT
    assert pack.version.number == 1
    [sms] = texts()
    assert sms["to"] == "+61412345678"
    assert sms["body"].startswith(f"Hi Mere, it's Chloé O'Connor from {clinic.name}.")
    sms_token = LINK.search(sms["body"]).group(1)
    assert sms["body"].endswith(f"\n\n{PUBLIC}/p/{sms_token}")

    [delivery] = smtp_server.deliveries
    mail = delivery.message
    assert delivery.envelope_to == ["mere.ngata@example.com"]
    assert mail["From"].addresses[0].display_name == clinic.name
    assert mail["Subject"] == f"Your treatment pack from {clinic.name}"
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    assert "Chloé O'Connor" in text
    assert "Chloé O&#x27;Connor" in html
    assert "Open your treatment pack" in html
    assert "<img" not in html
    # Nothing from the plan itself (options, fees, teeth) is in the email beyond the template's words.
    # (Links are left out of the comparison: their random tokens can hold any digits.)
    words = re.sub(r"https?://\S+", "", text).lower()
    for detail in ("crown", "1,715", "26", "denture"):
        assert detail not in words
    email_token = LINK.search(text).group(1)
    assert f"{PUBLIC}/p/{email_token}" in html
    # One link for both messages; the token is stored only as its SHA-256.
    assert sms_token == email_token
    assert pack.link.token_sha256 == token_digest(sms_token)
    assert sms_token not in json.dumps(list(PackLink.objects.values()), default=str)

    sms_row = OutboundMessage.objects.get(public_id=pack.sms_message_id)
    email_row = OutboundMessage.objects.get(public_id=pack.email_message_id)
    assert (sms_row.purpose, sms_row.sender, sms_row.case) == ("pack", coordinator, sendable_case)
    assert (email_row.purpose, email_row.sender, email_row.patient) == ("pack", coordinator, sendable_case.patient)
    assert AuditEvent.objects.filter(object_id=str(sendable_case.public_id), changes__has_key="pack_send").exists()


@pytest.mark.django_db(transaction=True)
def test_the_link_in_the_message_opens_the_pack(sendable_case, coordinator, client):
    send(sendable_case, coordinator, by_email=False)

    token = LINK.search(texts()[0]["body"]).group(1)
    link = link_for_token(token)
    assert link is not None
    assert link.case == sendable_case
    assert link_is_usable(link)
    assert link.recipient == "patient"
    # The patient's side answers the address (verification first), rather than "no such page".
    assert client.get(f"/p/{token}").status_code != 404


@pytest.mark.django_db
def test_sms_without_consent_is_refused_at_its_field_and_nothing_is_saved(sendable_case, coordinator):
    patient = sendable_case.patient
    patient.consent_sms = False
    patient.save()

    with pytest.raises(ValidationError) as refused:
        send(sendable_case, coordinator)

    assert refused.value.message_dict == {
        "by_sms": ["Mere has not agreed to receive SMS — ask Mere, then tick “Agrees to receive SMS” on the record."]
    }
    assert nothing_saved()


@pytest.mark.django_db
def test_email_without_an_address_is_refused_at_its_field_and_nothing_is_saved(sendable_case, coordinator):
    patient = sendable_case.patient
    patient.email = ""
    patient.consent_email = False
    patient.save()

    with pytest.raises(ValidationError) as refused:
        send(sendable_case, coordinator, by_sms=False)

    assert refused.value.message_dict == {"by_email": ["There is no email address on Mere's record."]}
    assert nothing_saved()


@pytest.mark.django_db
def test_a_pack_with_no_channel_or_an_empty_message_is_refused(sendable_case, coordinator):
    with pytest.raises(ValidationError) as refused:
        send(sendable_case, coordinator, by_sms=False, by_email=False)
    assert refused.value.message_dict == {"__all__": ["Choose SMS, email or both."]}

    with pytest.raises(ValidationError) as refused:
        send(sendable_case, coordinator, sms_text="  ", email_subject="")
    assert set(refused.value.message_dict) == {"sms_text", "email_subject"}
    assert nothing_saved()


@pytest.mark.django_db
def test_a_case_marked_no_pack_needed_is_not_sent(sendable_case, coordinator):
    services.case_mark_no_pack(case=sendable_case, reason="no_new_information", note="", by=coordinator)

    with pytest.raises(ValidationError, match="needing no pack"):
        send(sendable_case, coordinator)
    assert nothing_saved()


@pytest.mark.django_db(transaction=True)
def test_a_child_with_a_guardian_gets_the_pack_through_the_guardian(sendable_case, coordinator, clinic):
    patient = sendable_case.patient
    today = timezone.now().date()
    patient.date_of_birth = date(today.year - 12, 1, 1)
    patient.guardian_name = "Aroha Ngata"
    patient.guardian_relationship = "mother"
    patient.guardian_mobile = "+61412999111"
    patient.guardian_email = ""
    patient.save()

    assert sending.default_recipient(patient) == "guardian"
    with pytest.raises(ValidationError) as refused:
        send(sendable_case, coordinator)
    assert refused.value.message_dict == {
        "by_email": ["There is no email address for Aroha Ngata (Mere's parent or guardian) on Mere's record."]
    }

    pack = send(sendable_case, coordinator, by_email=False)

    assert pack.recipient == "guardian"
    assert pack.link.recipient == "guardian"
    assert [text["to"] for text in texts()] == ["+61412999111"]


@pytest.mark.django_db(transaction=True)
def test_a_scheduled_send_waits_and_can_be_cancelled(sendable_case, coordinator, smtp_server):  # noqa: F811
    at = timezone.now() + timedelta(hours=3)

    pack = send(sendable_case, coordinator, send_at=at)

    assert pack.status == PackSend.Status.SCHEDULED
    assert pack.send_at == at
    messages = OutboundMessage.objects.filter(case=sendable_case)
    assert {message.status for message in messages} == {"scheduled"}
    assert {message.send_after for message in messages} == {at}
    assert texts() == []
    assert smtp_server.deliveries == []

    sending.pack_send_cancel(send=pack, by=coordinator)

    pack.refresh_from_db()
    assert pack.status == PackSend.Status.CANCELLED
    assert {message.status for message in OutboundMessage.objects.filter(case=sendable_case)} == {"cancelled"}
    pack.link.refresh_from_db()
    assert pack.link.revoked_at is not None
    with pytest.raises(ValidationError, match="Only a scheduled send"):
        sending.pack_send_cancel(send=pack, by=coordinator)


@pytest.mark.django_db
def test_a_time_that_has_passed_is_refused(sendable_case, coordinator):
    with pytest.raises(ValidationError) as refused:
        send(sendable_case, coordinator, send_at=timezone.now() - timedelta(minutes=1))

    assert list(refused.value.message_dict) == ["send_at"]
    assert nothing_saved()


def test_six_pm_today_is_offered_only_before_six_in_the_clinics_time_zone():
    class Clinic:
        time_zone = "Australia/Perth"

    perth = ZoneInfo("Australia/Perth")
    afternoon = datetime(2026, 3, 4, 17, 59, tzinfo=perth)
    evening = sending.evening_time(Clinic(), afternoon)
    assert evening == datetime(2026, 3, 4, 18, 0, tzinfo=perth)
    assert sending.evening_time(Clinic(), datetime(2026, 3, 4, 18, 0, tzinfo=perth)) is None
    # 17:30 in Sydney is 14:30 in Perth: still before six there.
    sydney_half_past_five = datetime(2026, 3, 4, 17, 30, tzinfo=ZoneInfo("Australia/Sydney"))
    assert sending.evening_time(Clinic(), sydney_half_past_five) == evening


@pytest.mark.django_db(transaction=True)
def test_a_double_submission_sends_once(sendable_case, coordinator, smtp_server):  # noqa: F811
    first = send(sendable_case, coordinator, key="same-form")
    second = send(sendable_case, coordinator, key="same-form")

    assert first == second
    assert PackSend.objects.count() == 1
    assert PackLink.objects.count() == 1
    assert OutboundMessage.objects.count() == 2
    assert len(texts()) == 1
    assert len(smtp_server.deliveries) == 1


@pytest.mark.django_db(transaction=True)
def test_two_submissions_of_one_form_racing_each_other_send_once(sendable_case, coordinator):
    start = threading.Barrier(2)
    sends, problems = [], []

    def submit():
        try:
            start.wait()
            sends.append(send(sendable_case, coordinator, key="racing", by_email=False).pk)
        except Exception as error:  # shown whole in the assertion below
            problems.append(repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert problems == []
    assert len(sends) == 2
    assert len(set(sends)) == 1
    assert PackSend.objects.count() == 1
    assert PackVersion.objects.count() == 1
    assert OutboundMessage.objects.count() == 1
    assert len(texts()) == 1


@pytest.mark.django_db(transaction=True)
def test_sending_again_without_changes_reuses_the_version(sendable_case, coordinator):
    first = send(sendable_case, coordinator, key="one", by_email=False)
    second = send(sendable_case, coordinator, key="two", by_email=False)

    assert first.version == second.version
    assert PackVersion.objects.count() == 1
    assert first.link != second.link


@pytest.mark.django_db(transaction=True)
def test_editing_then_updating_makes_version_two_and_tells_the_patient(sendable_case, coordinator):
    first = send(sendable_case, coordinator, by_email=False)
    with pytest.raises(ValidationError, match="already shows the plan as it is now"):
        sending.pack_publish_update(case=sendable_case, by=coordinator, notify=False)

    option = sendable_case.options.get(title="Option B: denture")
    services.option_rename(option=option, title="Option B: partial denture", by=coordinator)
    version = sending.pack_publish_update(case=sendable_case, by=coordinator, notify=True)

    assert version.number == 2
    assert "Option B: partial denture" in version.body_html
    assert first.version.number == 1
    update = [text for text in texts() if "has been updated" in text["body"]]
    assert len(update) == 1
    assert update[0]["to"] == "+61412345678"
    assert "Option B" not in update[0]["body"]
    # The link the patient already has keeps working, and now leads to version 2.
    first.link.refresh_from_db()
    assert link_is_usable(first.link)


@pytest.mark.django_db(transaction=True)
def test_a_new_link_revokes_the_old_one_and_repeats_the_words(sendable_case, coordinator):
    first = send(sendable_case, coordinator, by_email=False, sms_text="Hi Mere, your pack, as promised.")

    again = sending.pack_resend(send=first, by=coordinator)

    first.link.refresh_from_db()
    assert first.link.revoked_at is not None
    assert again.link != first.link
    assert link_is_usable(again.link)
    assert again.sms_text == "Hi Mere, your pack, as promised."
    bodies = sorted((text["body"] for text in texts()), key=len)
    tokens = {LINK.search(body).group(1) for body in bodies}
    assert len(tokens) == 2
    assert link_for_token(LINK.search(OutboundMessage.objects.get(public_id=again.sms_message_id).body).group(1)) == (
        again.link
    )


@pytest.mark.django_db(transaction=True)
def test_revoking_a_link_stops_it_and_calls_off_a_send_still_waiting_to_carry_it(sendable_case, coordinator):
    waiting = send(sendable_case, coordinator, send_at=timezone.now() + timedelta(hours=1))

    sending.pack_link_revoke(link=waiting.link, by=coordinator)

    waiting.refresh_from_db()
    waiting.link.refresh_from_db()
    assert not link_is_usable(waiting.link)
    assert waiting.status == PackSend.Status.CANCELLED
    assert not OutboundMessage.objects.exclude(status="cancelled").exists()


@pytest.mark.django_db
def test_the_words_come_from_the_template_with_the_sender_named(sendable_case, dentist, front_desk, template):
    template.sms_message = "Hi {patient_first_name}, {team_member_name} here from {clinic_name}."
    template.email_subject = "{patient_first_name}, your pack from {dentist_name}"
    template.save()
    sendable_case.refresh_from_db()

    words = sending.message_texts(sendable_case, front_desk)

    assert words["sms_text"] == f"Hi Mere, Fatima Desk here from {sendable_case.clinic.name}."
    assert words["email_subject"] == f"Mere, your pack from {dentist.display_name}"


@time_machine.travel(datetime(2026, 3, 4, 9, 0, tzinfo=ZoneInfo("Australia/Sydney")), tick=False)
@pytest.mark.django_db
def test_scheduled_times_read_in_the_clinics_own_words(clinic):
    sydney = ZoneInfo("Australia/Sydney")
    assert sending.local_time(clinic, datetime(2026, 3, 4, 18, 0, tzinfo=sydney)) == "6:00 pm today"
    assert sending.local_time(clinic, datetime(2026, 3, 5, 9, 30, tzinfo=sydney)) == "9:30 am tomorrow"
    assert sending.local_time(clinic, datetime(2026, 3, 10, 9, 30, tzinfo=sydney)) == "9:30 am on Tue 10 Mar 2026"


@pytest.mark.django_db(transaction=True)
def test_a_new_link_for_a_scheduled_send_goes_now_and_calls_off_the_waiting_one(sendable_case, coordinator):
    waiting = send(sendable_case, coordinator, by_email=False, send_at=timezone.now() + timedelta(hours=2))

    now = sending.pack_resend(send=waiting, by=coordinator)

    waiting.refresh_from_db()
    assert waiting.status == PackSend.Status.CANCELLED
    assert now.status == PackSend.Status.SENT
    assert OutboundMessage.objects.get(public_id=waiting.sms_message_id).status == "cancelled"
    assert len(texts()) == 1
