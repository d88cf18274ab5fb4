"""Email replies from patients, posted raw by the mail provider: signed, put in the right thread
once, kept aside when no thread's address matches, automatic replies left out."""

from __future__ import annotations

import io
import logging
from email.message import EmailMessage
from urllib.parse import urlencode

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from clearplan.messaging.conversations.services import conversation_for_patient, reply_address
from clearplan.messaging.models import ConversationMessage, UnmatchedInbound
from clearplan.messaging.signatures import email_events_signature
from clearplan.messaging.tests.conftest import PATIENT_EMAIL
from clearplan.notifications.models import Notification
from clearplan.pipeline.stages import progress_for

INBOUND_PATH = "/hooks/email/inbound/"
SECRET = "inbound-secret-for-tests"
DOMAIN = "reply.harbourdental.example"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture
def inbound(settings):
    settings.INBOUND_EMAIL_SECRET = SECRET
    settings.INBOUND_EMAIL_DOMAIN = DOMAIN
    return Client(enforce_csrf_checks=True)


@pytest.fixture
def conversation(patient):
    return conversation_for_patient(patient=patient)


def patient_email(
    to: str,
    *,
    sender: str = f"Mere Ngata <{PATIENT_EMAIL}>",
    text: str = "Thursday suits me, thank you.",
    message_id: str = "<reply-1@mail.example>",
    **extra_headers: str,
) -> bytes:
    message = EmailMessage()
    if sender:
        message["From"] = sender
    message["To"] = to
    message["Subject"] = "Re: Your treatment plan"
    if message_id:
        message["Message-ID"] = message_id
    for name, value in extra_headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(text)
    return message.as_bytes()


def post(client, raw: bytes, *, signature: str | None = None, recipient: str = ""):
    if signature is None:
        signature = email_events_signature(SECRET, raw)
    path = f"{INBOUND_PATH}?{urlencode({'recipient': recipient})}" if recipient else INBOUND_PATH
    headers = {"HTTP_X_CLEARPLAN_SIGNATURE": signature} if signature else {}
    return client.post(path, raw, content_type="message/rfc822", **headers)


def nothing_stored() -> bool:
    return not ConversationMessage.objects.exists() and not UnmatchedInbound.objects.exists()


@pytest.mark.django_db
def test_a_patients_email_reply_lands_in_their_thread(inbound, conversation, coordinator):
    response = post(inbound, patient_email(reply_address(conversation)))

    assert response.status_code == 200
    assert response.json() == {"stored": True, "reason": "stored"}
    [message] = ConversationMessage.objects.filter(conversation=conversation)
    assert message.direction == "in"
    assert message.channel == "email"
    assert message.body == "Thursday suits me, thank you."
    assert message.subject == "Re: Your treatment plan"
    assert message.from_address == PATIENT_EMAIL
    assert message.from_whom == "patient"
    assert message.provider_message_id == "<reply-1@mail.example>"
    conversation.refresh_from_db()
    assert conversation.status == "open"
    assert conversation.unread_count == 1
    assert conversation.last_inbound_channel == "email"


@pytest.mark.django_db
def test_the_reply_address_is_found_whatever_the_case_of_its_domain_and_in_the_envelope(inbound, conversation):
    shouted = reply_address(conversation).replace(DOMAIN, DOMAIN.upper())
    post(inbound, patient_email("Harbour Dental <front@harbourdental.example>"), recipient=shouted)

    assert ConversationMessage.objects.filter(conversation=conversation).count() == 1


@pytest.mark.django_db
def test_a_recipient_whose_plus_was_not_encoded_in_the_query_is_still_found(inbound, conversation):
    raw = patient_email("front@harbourdental.example")
    inbound.post(
        f"{INBOUND_PATH}?recipient={reply_address(conversation)}",
        raw,
        content_type="message/rfc822",
        HTTP_X_CLEARPLAN_SIGNATURE=email_events_signature(SECRET, raw),
    )

    assert ConversationMessage.objects.filter(conversation=conversation).count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("signature", ["", "sha256=" + "0" * 64, "sha1=abc", "wrong"])
def test_an_email_without_a_good_signature_is_refused_and_nothing_is_kept(inbound, conversation, signature):
    response = post(inbound, patient_email(reply_address(conversation)), signature=signature or "")

    assert response.status_code == 403
    assert nothing_stored()


@pytest.mark.django_db
def test_an_email_signed_for_another_body_is_refused(inbound, conversation):
    raw = patient_email(reply_address(conversation))
    signature = email_events_signature(SECRET, raw.replace(b"Thursday", b"Friday"))

    assert post(inbound, raw, signature=signature).status_code == 403
    assert nothing_stored()


@pytest.mark.django_db
def test_without_a_secret_set_up_every_email_is_refused(settings, inbound, conversation):
    settings.INBOUND_EMAIL_SECRET = ""
    raw = patient_email(reply_address(conversation))

    assert post(inbound, raw, signature=email_events_signature("", raw)).status_code == 403
    assert nothing_stored()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"", "not_an_email"),
        (b"\x00\x01 not mail", "not_an_email"),
        ("no-sender", "no_sender"),
        ("no-message-id", "no_message_id"),
    ],
)
def test_a_malformed_email_is_refused_with_a_reason_and_nothing_is_kept(inbound, conversation, raw, reason):
    if raw == "no-sender":
        raw = patient_email(reply_address(conversation), sender="")
    elif raw == "no-message-id":
        raw = patient_email(reply_address(conversation), message_id="")
    response = post(inbound, raw)

    assert response.status_code == 400
    assert response.json() == {"stored": False, "reason": reason}
    assert nothing_stored()


@pytest.mark.django_db
def test_an_email_over_30_mb_is_refused(inbound, conversation):
    raw = patient_email(reply_address(conversation), text="x" * (30 * 1024 * 1024))

    assert post(inbound, raw).status_code == 413
    assert nothing_stored()


@pytest.mark.django_db
def test_the_same_email_delivered_twice_is_kept_once(inbound, conversation, coordinator):
    raw = patient_email(reply_address(conversation))

    assert post(inbound, raw).json() == {"stored": True, "reason": "stored"}
    assert post(inbound, raw).json() == {"stored": False, "reason": "already_stored"}
    assert ConversationMessage.objects.filter(conversation=conversation).count() == 1
    assert Notification.objects.filter(kind="message", recipient=coordinator).count() == 1
    conversation.refresh_from_db()
    assert conversation.unread_count == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    "to",
    [
        f"reply+{'f' * 32}@{DOMAIN}",  # a token no conversation has
        "front@harbourdental.example",  # no reply address at all
        f"reply+{'f' * 32}@another.example",  # the right shape at someone else's domain
    ],
)
def test_an_email_that_matches_no_thread_is_kept_for_the_team_once(inbound, patient, to):
    raw = patient_email(to)

    assert post(inbound, raw).json() == {"stored": False, "reason": "unmatched"}
    assert post(inbound, raw).json() == {"stored": False, "reason": "already_kept_unmatched"}
    [kept] = UnmatchedInbound.objects.all()
    assert kept.channel == "email"
    assert kept.from_address == PATIENT_EMAIL
    assert "Thursday suits me" in kept.body
    assert kept.provider_message_id == "<reply-1@mail.example>"
    assert not ConversationMessage.objects.exists()


@pytest.mark.django_db
def test_an_out_of_office_answer_is_not_stored(inbound, conversation):
    raw = patient_email(reply_address(conversation), text="I'm away until Monday.", Auto_Submitted="auto-replied")
    response = post(inbound, raw)

    assert response.status_code == 200
    assert response.json() == {"stored": False, "reason": "auto_reply"}
    assert nothing_stored()


@pytest.mark.django_db
def test_a_reply_stops_the_cases_automatic_follow_up_and_tells_the_team(inbound, case, coordinator):
    conversation = conversation_for_patient(patient=case.patient)
    assert progress_for(case).follow_ups_stopped_at is None

    post(inbound, patient_email(reply_address(conversation)))

    progress = progress_for(case)
    assert progress.follow_ups_stopped_at is not None
    assert "replied by email" in progress.follow_ups_stopped_because
    notification = Notification.objects.get(kind="message", recipient=coordinator)
    assert "by email" in notification.text
    assert str(conversation.public_id) in notification.link_url


@pytest.mark.django_db
def test_a_parents_address_is_recognised_as_the_guardians(inbound, patient):
    patient.guardian_name = "Aroha Ngata"
    patient.guardian_relationship = "mother"
    patient.guardian_email = "aroha.ngata@example.com"
    patient.save()
    conversation = conversation_for_patient(patient=patient)

    post(inbound, patient_email(reply_address(conversation), sender="Aroha <Aroha.Ngata@Example.com>"))

    [message] = ConversationMessage.objects.filter(conversation=conversation)
    assert message.from_whom == "guardian"
    assert message.from_address == "aroha.ngata@example.com"


@pytest.mark.django_db
def test_someone_else_writing_to_the_threads_address_is_kept_but_not_named(inbound, conversation):
    post(inbound, patient_email(reply_address(conversation), sender="someone@elsewhere.example"))

    [message] = ConversationMessage.objects.filter(conversation=conversation)
    assert message.from_whom == ""


@pytest.mark.django_db
def test_attachments_are_kept_and_refused_ones_are_named(inbound, conversation):
    message = EmailMessage()
    message["From"] = PATIENT_EMAIL
    message["To"] = reply_address(conversation)
    message["Subject"] = "My referral"
    message["Message-ID"] = "<with-files@mail.example>"
    message.set_content("Here is the referral.")
    message.add_attachment(PDF, maintype="application", subtype="pdf", filename="referral.pdf")
    message.add_attachment(b"PK\x03\x04", maintype="application", subtype="zip", filename="x-rays.zip")
    post(inbound, message.as_bytes())

    [stored] = ConversationMessage.objects.filter(conversation=conversation)
    assert stored.body.endswith("[1 attachment not kept: x-rays.zip — only photos and PDF files are kept]")
    [attachment] = stored.attachments.all()
    assert attachment.name == "referral.pdf"
    assert attachment.content_type == "application/pdf"
    with attachment.file.open("rb") as handle:
        assert handle.read() == PDF


@pytest.mark.django_db
def test_the_log_never_holds_the_address_or_the_words(inbound, conversation, caplog):
    caplog.set_level(logging.INFO)
    post(inbound, patient_email(reply_address(conversation)))
    post(inbound, patient_email("nobody@harbourdental.example", message_id="<other@mail.example>"))

    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert str(conversation.public_id)[:8] in logged
    for private in (PATIENT_EMAIL, "Thursday suits me", conversation.reply_token, "Mere"):
        assert private not in logged


# ---------- The mail server's pipe: manage.py receive_email ----------


def run_receive_email(raw: bytes, monkeypatch, *arguments: str) -> str:
    stdin = io.TextIOWrapper(io.BytesIO(raw))
    monkeypatch.setattr("sys.stdin", stdin)
    output = io.StringIO()
    call_command("receive_email", *arguments, stdout=output)
    return output.getvalue()


@pytest.mark.django_db
def test_the_mail_servers_pipe_stores_an_email_once(settings, conversation, monkeypatch):
    settings.INBOUND_EMAIL_DOMAIN = DOMAIN
    raw = patient_email("front@harbourdental.example")

    assert "Stored" in run_receive_email(raw, monkeypatch, "--recipient", reply_address(conversation))
    assert "already_stored" in run_receive_email(raw, monkeypatch, "--recipient", reply_address(conversation))
    [message] = ConversationMessage.objects.filter(conversation=conversation)
    assert message.body == "Thursday suits me, thank you."


@pytest.mark.django_db
def test_the_mail_servers_pipe_bounces_what_is_not_an_email(settings, monkeypatch):
    settings.INBOUND_EMAIL_DOMAIN = DOMAIN

    with pytest.raises(CommandError) as refused:
        run_receive_email(b"", monkeypatch)
    assert refused.value.returncode == 65
    assert nothing_stored()
