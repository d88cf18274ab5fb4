"""Text messages from patients: signed by Twilio, put in the right patient's thread once, kept
even when nobody has the number, and never logged with the number or the words."""

from __future__ import annotations

import logging
import threading
from datetime import date

import pytest
from django.db import connection
from django.test import Client

from clearplan.messaging.conversations.sms_inbound import MMS_NOTE, received_sms_process_waiting
from clearplan.messaging.models import Conversation, ConversationMessage, ReceivedSms, UnmatchedInbound
from clearplan.messaging.signatures import twilio_signature
from clearplan.messaging.tests.conftest import FAKE_AUTH_TOKEN, PATIENT_MOBILE, send_sms_through, stored_message
from clearplan.notifications.models import Notification
from clearplan.patients.tests.factories import PatientFactory
from clearplan.pipeline.models import CaseProgress
from clearplan.pipeline.stages import progress_for

INBOUND_PATH = "/hooks/sms/inbound/"
BASE_URL = "https://clearplan.example.com"
PARENT_MOBILE = "+61491570111"
STRANGER_MOBILE = "+61491570999"


@pytest.fixture
def twilio(settings, sms_provider):
    send_sms_through(settings, sms_provider)
    return Client(enforce_csrf_checks=True)


def text_message(
    client, *, sid="SM" + "1" * 32, sender=PATIENT_MOBILE, body="Can I come on Tuesday?", signature=None, **extra
):
    fields = {"MessageSid": sid, "AccountSid": "AC1", "From": sender, "To": "+61400000000", "Body": body, **extra}
    fields = {name: value for name, value in fields.items() if value is not None}
    if signature is None:
        signature = twilio_signature(FAKE_AUTH_TOKEN, BASE_URL + INBOUND_PATH, fields.items())
    response = client.post(INBOUND_PATH, fields, HTTP_X_TWILIO_SIGNATURE=signature)
    # The worker's part: put what the webhook kept into the thread (as its receive_sms task does).
    received_sms_process_waiting()
    return response


def nothing_stored() -> bool:
    return not (
        ReceivedSms.objects.exists() or ConversationMessage.objects.exists() or UnmatchedInbound.objects.exists()
    )


def thread_of(patient) -> list[ConversationMessage]:
    return list(ConversationMessage.objects.filter(conversation__patient=patient))


def test_a_patients_text_lands_in_their_thread_and_gets_an_empty_answer(twilio, patient, coordinator):
    response = text_message(twilio)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/xml")
    assert response.content == b"<Response></Response>"
    [message] = thread_of(patient)
    assert (message.direction, message.channel, message.body) == ("in", "sms", "Can I come on Tuesday?")
    assert (message.from_address, message.from_whom) == (PATIENT_MOBILE, "patient")
    conversation = Conversation.objects.get(patient=patient)
    assert conversation.status == "open"
    assert conversation.unread_count == 1


@pytest.mark.parametrize(
    "signature",
    ["", "bm90IHRoZSBzaWduYXR1cmU=", twilio_signature("another-token", BASE_URL + INBOUND_PATH, [])],
)
def test_a_text_without_twilios_signature_is_refused_and_nothing_is_kept(twilio, patient, signature):
    response = text_message(twilio, signature=signature)

    assert response.status_code == 403
    assert nothing_stored()


def test_a_text_signed_for_other_fields_is_refused(twilio, patient):
    signed = {"MessageSid": "SM" + "1" * 32, "From": PATIENT_MOBILE, "Body": "Hello"}
    signature = twilio_signature(FAKE_AUTH_TOKEN, BASE_URL + INBOUND_PATH, signed.items())

    response = text_message(twilio, body="Something else", signature=signature)

    assert response.status_code == 403
    assert nothing_stored()


def test_without_an_sms_provider_texts_are_refused(settings, patient):
    settings.SMS_OPTIONS = {}
    settings.PUBLIC_BASE_URL = BASE_URL

    response = text_message(Client(), signature=twilio_signature("", BASE_URL + INBOUND_PATH, []))

    assert response.status_code == 403
    assert nothing_stored()


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ({"sid": None}, "MessageSid"),
        ({"sid": "SM 1; drop"}, "MessageSid"),
        ({"sender": None}, "From"),
        ({"sender": "0491 570 678"}, "From"),
        ({"sender": "+61 not a number"}, "From"),
        ({"body": "x" * 1601}, "Body"),
        ({"NumMedia": "lots"}, "NumMedia"),
    ],
)
def test_a_malformed_text_is_refused_with_a_plain_reason_and_nothing_is_kept(twilio, patient, fields, says):
    response = text_message(twilio, **fields)

    assert response.status_code == 400
    assert says in response.content.decode()
    assert nothing_stored()


def test_an_oversized_request_is_refused(twilio, patient):
    response = text_message(twilio, Padding="x" * (65 * 1024))

    assert response.status_code == 413
    assert nothing_stored()


def test_twilio_delivering_the_same_text_twice_keeps_it_once(twilio, patient, coordinator):
    first = text_message(twilio)
    again = text_message(twilio)

    assert (first.status_code, again.status_code) == (200, 200)
    assert len(thread_of(patient)) == 1
    assert Conversation.objects.get(patient=patient).unread_count == 1
    assert Notification.objects.filter(kind="message", recipient=coordinator).count() == 1


def test_the_message_sid_may_come_as_sms_sid(twilio, patient):
    response = text_message(twilio, sid=None, SmsSid="SM" + "2" * 32)

    assert response.status_code == 200
    assert thread_of(patient)[0].provider_message_id == "SM" + "2" * 32


def test_a_parents_text_lands_in_their_childs_thread(twilio, clinic):
    child = PatientFactory(
        clinic=clinic,
        date_of_birth=date(2016, 5, 1),
        mobile="",
        guardian_name="Aroha Ngata",
        guardian_relationship="mother",
        guardian_mobile=PARENT_MOBILE,
    )

    text_message(twilio, sender=PARENT_MOBILE, body="Is 3pm OK for Tama?")

    [message] = thread_of(child)
    assert message.from_whom == "guardian"


def test_a_number_shared_by_siblings_goes_to_the_one_last_texted(twilio, clinic, case):
    older, younger = (
        PatientFactory(
            clinic=clinic,
            date_of_birth=born,
            mobile="",
            guardian_name="Aroha Ngata",
            guardian_relationship="mother",
            guardian_mobile=PARENT_MOBILE,
        )
        for born in (date(2014, 2, 1), date(2017, 8, 1))
    )
    stored_message(case, patient=older, to_address=PARENT_MOBILE)
    stored_message(case, patient=younger, to_address=PARENT_MOBILE)
    older.save()  # changed more recently, but not the one texted last

    text_message(twilio, sender=PARENT_MOBILE, body="Thanks, see you then")

    assert len(thread_of(younger)) == 1
    assert thread_of(older) == []


def test_a_text_from_an_unknown_number_is_kept_for_the_team(twilio, patient):
    first = text_message(twilio, sender=STRANGER_MOBILE, body="Who is this?")
    again = text_message(twilio, sender=STRANGER_MOBILE, body="Who is this?")

    assert (first.status_code, again.status_code) == (200, 200)
    [kept] = UnmatchedInbound.objects.all()
    assert (kept.channel, kept.from_address, kept.body) == ("sms", STRANGER_MOBILE, "Who is this?")
    assert not ConversationMessage.objects.exists()


def test_a_reply_stops_the_cases_automatic_follow_up_and_tells_the_team(twilio, case, coordinator):
    assert progress_for(case).follow_ups_stopped_at is None

    text_message(twilio, body="Yes I'd like to go ahead")

    progress = CaseProgress.objects.get(case=case)
    assert progress.follow_ups_stopped_at is not None
    assert "replied by SMS" in progress.follow_ups_stopped_because
    notification = Notification.objects.get(kind="message", recipient=coordinator)
    assert notification.case == case
    assert notification.link_url == f"/conversations/{Conversation.objects.get().public_id}/"


def test_a_picture_by_mms_is_noted_in_the_thread(twilio, patient):
    text_message(twilio, body="Here is the swelling", NumMedia="1", MediaUrl0="https://api.twilio.com/media/ME1")

    [message] = thread_of(patient)
    assert message.body == f"Here is the swelling\n\n{MMS_NOTE}"
    assert not message.attachments.exists()


def test_the_log_never_holds_the_number_or_the_words(twilio, patient, caplog):
    with caplog.at_level(logging.DEBUG):
        text_message(twilio, body="My tooth still hurts")
        text_message(twilio, sid="SM" + "3" * 32, sender=STRANGER_MOBILE, body="Wrong number sorry")

    logged = caplog.text
    for secret in (PATIENT_MOBILE, "491570678", "tooth", STRANGER_MOBILE, "Wrong number"):
        assert secret not in logged


@pytest.mark.django_db(transaction=True)
def test_two_deliveries_of_one_text_at_the_same_moment_keep_it_once(settings, sms_provider, clinic):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite runs one writer at a time, so the two requests cannot overlap")
    send_sms_through(settings, sms_provider)
    patient = PatientFactory(clinic=clinic, mobile=PATIENT_MOBILE)
    start = threading.Barrier(2)
    answers: list[int] = []

    def deliver() -> None:
        try:
            start.wait(timeout=10)
            answers.append(text_message(Client()).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert answers == [200, 200]
    assert len(thread_of(patient)) == 1


def test_the_webhook_answers_at_once_and_the_worker_puts_the_text_in_the_thread(
    twilio, patient, django_capture_on_commit_callbacks
):
    from django_tasks_db.models import DBTaskResult

    from clearplan.messaging.tasks import receive_sms

    fields = {"MessageSid": "SM" + "7" * 32, "From": PATIENT_MOBILE, "To": "+61400000000", "Body": "Is 3pm ok?"}
    signature = twilio_signature(FAKE_AUTH_TOKEN, BASE_URL + INBOUND_PATH, fields.items())
    with django_capture_on_commit_callbacks(execute=True):
        response = twilio.post(INBOUND_PATH, fields, HTTP_X_TWILIO_SIGNATURE=signature)
    with django_capture_on_commit_callbacks(execute=True):
        twilio.post(INBOUND_PATH, fields, HTTP_X_TWILIO_SIGNATURE=signature)  # Twilio's retry

    assert response.status_code == 200
    [received] = ReceivedSms.objects.all()
    assert received.processed_at is None
    assert thread_of(patient) == []
    [queued] = DBTaskResult.objects.filter(task_path=receive_sms.module_path)
    assert queued.args_kwargs["kwargs"] == {"received_id": received.pk}

    assert receive_sms.call(received_id=received.pk) == "processed"
    assert receive_sms.call(received_id=received.pk) == "already processed"
    [message] = thread_of(patient)
    assert message.body == "Is 3pm ok?"
    received.refresh_from_db()
    assert received.processed_at is not None


def test_a_kept_text_whose_task_was_lost_is_put_in_the_thread_by_the_upkeep(twilio, patient):
    from datetime import timedelta

    ReceivedSms.objects.create(provider_message_id="SM" + "8" * 32, from_number=PATIENT_MOBILE, body="Hello?")
    assert received_sms_process_waiting(older_than=timedelta(minutes=1)) == 0  # too recent: its task may yet run
    ReceivedSms.objects.update(received_at=ReceivedSms.objects.get().received_at - timedelta(minutes=2))

    assert received_sms_process_waiting(older_than=timedelta(minutes=1)) == 1
    assert [message.body for message in thread_of(patient)] == ["Hello?"]
