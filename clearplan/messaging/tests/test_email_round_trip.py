"""A whole email conversation: a team member replies in the thread, the worker delivers it
through a real SMTP server (aiosmtpd), the patient answers from their mail program (quoting the
email, attaching a PDF), and the answer comes back into the same thread through the signed
webhook, without the quote and with the PDF."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import parseaddr

import pytest
from django.db import transaction
from django.test import Client

from clearplan.messaging.conversations.services import (
    conversation_for_patient,
    conversation_reply,
    message_receive,
    reply_address,
    unsubscribe_url,
)
from clearplan.messaging.models import ConversationMessage, OutboundMessage
from clearplan.messaging.services import message_send
from clearplan.messaging.signatures import email_events_signature
from clearplan.messaging.tests.conftest import DATABASE_TASKS, PATIENT_EMAIL, run_worker_until_idle, send_through_smtp

SECRET = "inbound-secret-for-tests"
DOMAIN = "reply.harbourdental.example"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture
def email_patient(settings, smtp_server, patient, case, coordinator):
    settings.TASKS = DATABASE_TASKS
    settings.DEFAULT_FROM_EMAIL = "Clearplan <no-reply@clearplan.example>"
    settings.INBOUND_EMAIL_SECRET = SECRET
    settings.INBOUND_EMAIL_DOMAIN = DOMAIN
    send_through_smtp(settings, smtp_server.port)
    patient.consent_email = True
    patient.preferred_channel = "email"
    patient.save()
    clinic = patient.clinic
    clinic.name = "Harbour Dental"
    clinic.save(update_fields=["name"])
    coordinator.first_name = "Chloé"
    coordinator.save(update_fields=["first_name"])
    return patient


def mail_program_reply(received: EmailMessage, *, words: str) -> bytes:
    """What a mail program sends when the patient presses Reply: to the Reply-To address, the
    subject with "Re:", threading headers, the original quoted, plus a PDF."""
    original = received.get_body(preferencelist=("plain",)).get_content()
    quoted = "\n".join(f"> {line}" for line in original.splitlines())
    reply = EmailMessage()
    reply["From"] = f"Mere Ngata <{PATIENT_EMAIL}>"
    reply["To"] = received["Reply-To"]
    reply["Subject"] = f"Re: {received['Subject']}"
    reply["Message-ID"] = "<patient-answer-2@mail.example>"
    reply["In-Reply-To"] = received["Message-ID"]
    reply["References"] = received["Message-ID"]
    reply.set_content(f"{words}\n\nOn Tue, 3 Mar 2026 at 10:15, {received['From']} wrote:\n{quoted}\n")
    reply.add_attachment(PDF, maintype="application", subtype="pdf", filename="health fund letter.pdf")
    return reply.as_bytes()


@pytest.mark.django_db(transaction=True)
def test_an_email_conversation_goes_out_through_smtp_and_the_answer_comes_back_to_the_thread(
    email_patient, smtp_server, coordinator
):
    conversation = conversation_for_patient(patient=email_patient)
    # The patient wrote first, so the team's reply answers that email.
    message_receive(
        patient=email_patient,
        channel="email",
        subject="Question about my plan",
        body="Does the health fund cover the crown?",
        from_address=PATIENT_EMAIL,
        from_whom="patient",
        provider_message_id="<patient-question-1@mail.example>",
    )

    sent = conversation_reply(conversation=conversation, by=coordinator, body="Yes, mostly. I'll send the details.")
    run_worker_until_idle()

    sent.outbound.refresh_from_db()
    assert sent.outbound.status == OutboundMessage.Status.SENT
    # (The team may be told of the patient's first email by email too; this is the one to the patient.)
    [delivery] = [each for each in smtp_server.deliveries if each.envelope_to == [PATIENT_EMAIL]]
    received = delivery.message
    assert received["Reply-To"] == reply_address(conversation)
    assert received["From"] == "Chloé at Harbour Dental <no-reply@clearplan.example>"
    assert parseaddr(received["From"])[1] == "no-reply@clearplan.example"
    assert received["Subject"] == "Re: Question about my plan"
    assert received["In-Reply-To"] == "<patient-question-1@mail.example>"
    assert received["References"] == "<patient-question-1@mail.example>"
    assert received["List-Unsubscribe"] == f"<{unsubscribe_url(conversation)}>"
    assert received["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text = received.get_body(preferencelist=("plain",)).get_content()
    assert "Yes, mostly. I'll send the details." in text
    assert f"Don't want emails from Harbour Dental? Unsubscribe: {unsubscribe_url(conversation)}" in text

    raw = mail_program_reply(received, words="Great, thank you. My fund's letter is attached.")
    response = Client(enforce_csrf_checks=True).post(
        "/hooks/email/inbound/",
        raw,
        content_type="message/rfc822",
        HTTP_X_CLEARPLAN_SIGNATURE=email_events_signature(SECRET, raw),
    )

    assert response.status_code == 200
    assert response.json() == {"stored": True, "reason": "stored"}
    thread = list(ConversationMessage.objects.filter(conversation=conversation).order_by("created_at", "id"))
    assert [(each.direction, each.channel) for each in thread] == [("in", "email"), ("out", "email"), ("in", "email")]
    answer = thread[-1]
    assert answer.body == "Great, thank you. My fund's letter is attached."
    assert "Yes, mostly" in answer.full_text
    assert answer.subject == "Re: Re: Question about my plan"
    assert answer.from_whom == "patient"
    [attachment] = answer.attachments.all()
    assert attachment.name == "health fund letter.pdf"
    assert attachment.content_type == "application/pdf"
    with attachment.file.open("rb") as handle:
        assert handle.read() == PDF
    conversation.refresh_from_db()
    assert conversation.unread_count == 1
    assert conversation.last_inbound_channel == "email"


@pytest.mark.django_db(transaction=True)
def test_a_formatted_email_to_a_patient_has_the_unsubscribe_line_in_both_versions(
    email_patient, smtp_server, case, coordinator
):
    with transaction.atomic():
        message_send(
            clinic=email_patient.clinic,
            channel="email",
            to=PATIENT_EMAIL,
            subject="Checking in",
            body="Hi Mere, any questions about your plan?",
            html="<html><body><p>Hi Mere, any questions about your plan?</p></body></html>",
            purpose="follow_up",
            patient=email_patient,
            case=case,
            sender=coordinator,
        )
    run_worker_until_idle()

    [delivery] = [each for each in smtp_server.deliveries if each.envelope_to == [PATIENT_EMAIL]]
    url = unsubscribe_url(conversation_for_patient(patient=email_patient))
    html = delivery.message.get_body(preferencelist=("html",)).get_content()
    assert f'Don\'t want emails from Harbour Dental? Unsubscribe: <a href="{url}">{url}</a></p></body>' in html
    assert delivery.message["From"] == "Harbour Dental <no-reply@clearplan.example>"
    assert delivery.message["In-Reply-To"] is None


@pytest.mark.django_db(transaction=True)
def test_emails_clearplan_sends_to_staff_have_no_unsubscribe_link(email_patient, smtp_server, coordinator):
    with transaction.atomic():
        message_send(
            clinic=email_patient.clinic,
            channel="email",
            to="chloe@harbourdental.example",
            subject="A patient replied",
            body="Mere replied about her plan.",
            purpose="staff_notification",
        )
    run_worker_until_idle()

    [delivery] = smtp_server.deliveries
    assert delivery.message["List-Unsubscribe"] is None
    assert delivery.message["From"] == "Harbour Dental <no-reply@clearplan.example>"
    assert "Unsubscribe" not in delivery.message.get_body(preferencelist=("plain",)).get_content()
