"""email_send_later: what callers (invitations, password resets) rely on."""

from __future__ import annotations

import logging

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django_tasks_db.models import DBTaskResult

from clearplan.messaging.services import email_send_later
from clearplan.messaging.tests.conftest import (
    DATABASE_TASKS,
    IMMEDIATE_TASKS,
    clearplan_log_text,
    send_through_smtp,
)

RECIPIENT = "sam.lee@example.com"
PRIVATE_TEXT = "Your appointment about the root canal on tooth 36 is confirmed."
RESET_LINK = "http://127.0.0.1:8000/accounts/password/reset/key/abc-123/"


@pytest.fixture
def immediate_smtp(settings, smtp_server):
    settings.TASKS = IMMEDIATE_TASKS
    send_through_smtp(settings, smtp_server.port)
    return smtp_server


@pytest.mark.django_db(transaction=True)
def test_it_delivers_the_message_to_a_real_mail_server_after_the_transaction_commits(immediate_smtp, settings):
    with transaction.atomic():
        email_send_later(
            to=[RECIPIENT, "Olivia Owner <owner@example.com>"],
            subject="Reset your Clearplan password",
            text=f"Someone asked to reset your password.\n\nChoose a new one: {RESET_LINK}\n",
            html=f'<p>Choose a new one: <a href="{RESET_LINK}">reset</a></p>',
            reply_to=["front.desk@example.com"],
        )
        assert immediate_smtp.deliveries == [], "nothing goes out before the commit"

    [delivery] = immediate_smtp.deliveries
    assert sorted(delivery.envelope_to) == ["owner@example.com", RECIPIENT]
    message = delivery.message
    assert message["Subject"] == "Reset your Clearplan password"
    assert message["From"] == settings.DEFAULT_FROM_EMAIL
    assert message["Reply-To"] == "front.desk@example.com"
    assert message["Message-ID"].endswith("@clearplan.localhost>")
    assert RESET_LINK in message.get_body(preferencelist=("plain",)).get_content()
    assert f'href="{RESET_LINK}"' in message.get_body(preferencelist=("html",)).get_content()


@pytest.mark.django_db(transaction=True)
def test_a_message_without_html_is_plain_text_only(immediate_smtp):
    with transaction.atomic():
        email_send_later(to=[RECIPIENT], subject="Welcome", text="Hello Sam")

    [delivery] = immediate_smtp.deliveries
    assert delivery.message.get_content_type() == "text/plain"
    assert delivery.message.get_content().strip() == "Hello Sam"


@pytest.mark.django_db(transaction=True)
def test_nothing_is_sent_when_the_change_that_asked_for_it_is_rolled_back(immediate_smtp):
    class InvitationFailed(Exception):
        pass

    def invite_then_fail() -> None:
        with transaction.atomic():
            email_send_later(to=[RECIPIENT], subject="You're invited", text="Join the team")
            raise InvitationFailed

    with pytest.raises(InvitationFailed):
        invite_then_fail()

    assert immediate_smtp.deliveries == []


@pytest.mark.django_db
def test_with_the_database_backend_the_message_waits_in_the_email_queue(settings, django_capture_on_commit_callbacks):
    settings.TASKS = DATABASE_TASKS
    with django_capture_on_commit_callbacks(execute=True):
        email_send_later(to=[RECIPIENT], subject="You're invited", text="Join the team")

    [queued] = DBTaskResult.objects.all()
    assert queued.queue_name == "email"
    assert queued.status == "READY"
    assert queued.task_path == "clearplan.messaging.tasks.send_email"
    assert queued.args_kwargs["kwargs"]["to"] == [RECIPIENT]
    assert "attempt" not in queued.args_kwargs["kwargs"], "the first attempt is the task's default"


@pytest.mark.django_db(transaction=True)
def test_addresses_and_message_text_never_reach_the_log(immediate_smtp, caplog):
    caplog.set_level(logging.DEBUG)
    with transaction.atomic():
        email_send_later(to=[RECIPIENT], subject="About tooth 36", text=PRIVATE_TEXT, reply_to=["reply@example.com"])

    assert len(immediate_smtp.deliveries) == 1
    clearplan_log = clearplan_log_text(caplog)
    assert "delivered" in clearplan_log
    for private in (RECIPIENT, "reply@example.com", "tooth 36", PRIVATE_TEXT):
        assert private not in clearplan_log


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"to": []}, "at least one recipient"),
        ({"to": ["not an address"]}, "Recipient 1 is not a valid email address"),
        ({"to": [RECIPIENT, "sam@"]}, "Recipient 2 is not a valid email address"),
        ({"to": ["a@example.com, b@example.com"]}, "Recipient 1 is not a valid email address"),
        ({"to": ["sam@example.com\nBcc: everyone@example.com"]}, "Recipient 1 is not a valid email address"),
        ({"to": RECIPIENT}, "as a list"),
        ({"reply_to": ["nobody"]}, "Reply-to 1 is not a valid email address"),
        ({"subject": "   "}, "needs a subject"),
        ({"subject": "Hello\nBcc: everyone@example.com"}, "on one line"),
        ({"subject": "x" * 251}, "at most 250 characters"),
        ({"text": ""}, "plain-text body"),
        ({"text": "x" * 500_001}, "too long"),
    ],
)
@pytest.mark.django_db
def test_it_refuses_a_message_it_could_not_send_and_queues_nothing(settings, fields, message):
    settings.TASKS = DATABASE_TASKS
    arguments = {"to": [RECIPIENT], "subject": "Hello", "text": "Body", **fields}

    with pytest.raises(ValidationError, match=message) as refused:
        email_send_later(**arguments)

    assert RECIPIENT not in str(refused.value), "errors may be logged, so they never repeat an address"
    assert not DBTaskResult.objects.exists()
