"""The thread page: replying, internal notes, attachments, a double submit and a stale page, and
quick replies filled in for the patient."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from clearplan.audit.models import AuditEvent
from clearplan.messaging.conversations.services import message_receive
from clearplan.messaging.models import ConversationAttachment, ConversationMessage, OutboundMessage, SavedReply
from clearplan.messaging.tests.conftest import send_sms_through
from clearplan.patients.tests.factories import PatientFactory

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.7\n% an x-ray report\n"


@pytest.fixture(autouse=True)
def _sms_set_up(settings, sms_provider):
    # A fake Twilio on a loopback port: replies by SMS are really handed to a provider.
    send_sms_through(settings, sms_provider)


@pytest.fixture
def thread(clinic):
    patient = PatientFactory(clinic=clinic, first_name="Mere", last_name="Ngata", mobile="+61491570156")
    message, _ = message_receive(
        patient=patient, channel="sms", body="Is Friday ok?", from_address=patient.mobile, notify=False
    )
    return message.conversation


def send_url(thread):
    return reverse("messaging:conversation_send", args=[thread.public_id])


def thread_url(thread):
    return reverse("messaging:conversation", args=[thread.public_id])


def test_a_reply_goes_by_sms_signed_with_the_team_members_name(coordinator, coordinator_client, thread):
    response = coordinator_client.post(
        send_url(thread), {"kind": "reply", "channel": "sms", "body": "Friday at 10 is fine.", "submission_key": "k1"}
    )

    assert response.status_code == 302
    sent = OutboundMessage.objects.get(purpose=OutboundMessage.Purpose.CONVERSATION)
    assert sent.channel == "sms"
    assert sent.body.startswith("Friday at 10 is fine.")
    assert coordinator.first_name in sent.body
    page = coordinator_client.get(thread_url(thread)).content.decode()
    assert "Friday at 10 is fine." in page
    assert "Waiting to send" in page or "Sent" in page


def test_a_double_submit_sends_once(coordinator_client, thread):
    data = {"kind": "reply", "channel": "sms", "body": "See you then.", "submission_key": "same-key"}

    coordinator_client.post(send_url(thread), data)
    coordinator_client.post(send_url(thread), data)

    assert OutboundMessage.objects.filter(purpose=OutboundMessage.Purpose.CONVERSATION).count() == 1


def test_a_stale_page_still_sends_after_the_thread_was_closed(coordinator, coordinator_client, thread):
    from clearplan.messaging.conversations.services import conversation_close

    conversation_close(conversation=thread, by=coordinator)

    response = coordinator_client.post(
        send_url(thread), {"kind": "reply", "channel": "sms", "body": "One more thing.", "submission_key": "k2"}
    )

    assert response.status_code == 302
    assert ConversationMessage.objects.filter(conversation=thread, body__startswith="One more thing.").exists()


def test_an_empty_reply_is_refused_at_the_field(coordinator_client, thread):
    response = coordinator_client.post(send_url(thread), {"kind": "reply", "channel": "sms", "body": " "})

    assert response.status_code == 400
    assert "Write the message first." in response.content.decode()
    assert not OutboundMessage.objects.filter(purpose=OutboundMessage.Purpose.CONVERSATION).exists()


def test_an_internal_note_is_never_sent(coordinator_client, thread):
    coordinator_client.post(
        send_url(thread), {"kind": "note", "body": "Called her back, all sorted.", "submission_key": "n1"}
    )

    note = ConversationMessage.objects.get(conversation=thread, direction="internal")
    assert note.body == "Called her back, all sorted."
    assert note.outbound is None
    assert not OutboundMessage.objects.filter(purpose=OutboundMessage.Purpose.CONVERSATION).exists()
    assert "Only the team sees this." in coordinator_client.get(thread_url(thread)).content.decode()


def test_a_file_on_a_note_is_kept_and_served_only_to_the_team(coordinator_client, outsider_client, thread):
    upload = SimpleUploadedFile("report.pdf", PDF, content_type="application/pdf")
    coordinator_client.post(
        send_url(thread), {"kind": "note", "body": "The report", "attachment": upload, "submission_key": "n2"}
    )

    stored = ConversationAttachment.objects.get()
    url = reverse("messaging:attachment", args=[stored.public_id])
    response = coordinator_client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response["Cache-Control"]
    assert AuditEvent.objects.filter(object_type="conversation_attachment", object_id=str(stored.public_id)).exists()
    assert outsider_client.get(url).status_code == 404


def test_an_image_shows_inline(coordinator_client, thread):
    upload = SimpleUploadedFile("photo.png", PNG, content_type="image/png")
    coordinator_client.post(
        send_url(thread), {"kind": "note", "body": "", "attachment": upload, "submission_key": "n3"}
    )

    stored = ConversationAttachment.objects.get()
    response = coordinator_client.get(reverse("messaging:attachment", args=[stored.public_id]))
    assert not response["Content-Disposition"].startswith("attachment")
    assert response["Content-Type"] == "image/png"


@pytest.mark.parametrize(
    ("name", "content", "error"),
    [
        ("script.pdf", b"<script>alert(1)</script>", "Attach a photo (JPEG or PNG) or a PDF document."),
        ("empty.png", b"", "The submitted file is empty."),
    ],
)
def test_a_file_that_is_not_a_photo_or_pdf_is_refused_at_the_field(coordinator_client, thread, name, content, error):
    upload = SimpleUploadedFile(name, content, content_type="application/pdf")
    response = coordinator_client.post(send_url(thread), {"kind": "note", "body": "x", "attachment": upload})

    assert error in response.content.decode()
    assert not ConversationMessage.objects.filter(direction="internal").exists()


def test_a_file_cannot_go_by_sms(coordinator_client, thread):
    upload = SimpleUploadedFile("photo.png", PNG, content_type="image/png")
    response = coordinator_client.post(
        send_url(thread), {"kind": "reply", "channel": "sms", "body": "Here it is", "attachment": upload}
    )

    assert "A text message cannot carry a file." in response.content.decode()
    assert not OutboundMessage.objects.filter(purpose=OutboundMessage.Purpose.CONVERSATION).exists()


def test_quick_replies_are_filled_in_for_the_patient(clinic, coordinator_client, thread):
    SavedReply.objects.create(
        clinic=clinic, title="Thanks", body="Thanks {patient_first_name}, see you at {clinic_name}."
    )

    page = coordinator_client.get(thread_url(thread)).content.decode()
    assert f"Thanks Mere, see you at {clinic.name}." in page

    # Without scripts, "Use" reloads the thread with the reply in the message box.
    page = coordinator_client.get(thread_url(thread), {"quick": "0"}).content.decode()
    assert (
        f'data-composer-body aria-describedby="composer-count">Thanks Mere, see you at {clinic.name}.</textarea>'
        in page
    )


def test_another_clinic_cannot_write_to_the_thread(outsider_client, thread):
    response = outsider_client.post(send_url(thread), {"kind": "note", "body": "Hello"})

    assert response.status_code == 404
    assert not ConversationMessage.objects.filter(direction="internal").exists()
