"""Retries with backoff when the mail server cannot be reached, and giving up cleanly."""

from __future__ import annotations

import logging
import smtplib
import socket
from datetime import timedelta

import pytest
import time_machine
from django.db import transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from clearplan.messaging.services import email_send_later
from clearplan.messaging.tasks import failure_kind, is_transient, send_email
from clearplan.messaging.tests.conftest import (
    DATABASE_TASKS,
    IMMEDIATE_TASKS,
    clearplan_log_text,
    run_worker_until_idle,
    send_through_smtp,
)

RECIPIENT = "patient@example.com"
TEXT = "Your treatment plan for the implant at 46 is ready."


def _queue_one_email(subject: str = "Your treatment plan") -> None:
    with transaction.atomic():
        email_send_later(to=[RECIPIENT], subject=subject, text=TEXT)


def _assert_nothing_private_in(log: str) -> None:
    for private in (RECIPIENT, TEXT, "implant"):
        assert private not in log


@pytest.mark.django_db(transaction=True)
def test_a_failed_attempt_is_retried_later_and_then_delivered(settings, closed_port, smtp_server, caplog):
    caplog.set_level(logging.INFO)
    settings.TASKS = DATABASE_TASKS
    send_through_smtp(settings, closed_port)
    _queue_one_email()

    run_worker_until_idle()

    first = DBTaskResult.objects.get(status="FAILED")
    retry = DBTaskResult.objects.get(status="READY")
    assert first.exception_class_path == "clearplan.messaging.tasks.EmailDeliveryDeferred"
    assert "attempt 1 of 6 failed (ConnectionRefusedError)" in first.traceback
    assert retry.queue_name == "email"
    assert retry.args_kwargs["kwargs"]["attempt"] == 2
    assert retry.args_kwargs["kwargs"]["reference"] == first.args_kwargs["reference"]
    # The failed attempt's copy of the message is cleared; the retry carries its own.
    assert first.args_kwargs == {
        "args": [],
        "kwargs": {},
        "redacted": True,
        "reference": first.args_kwargs["reference"],
    }
    message_id = retry.args_kwargs["kwargs"]["message_id"]
    # First wait: 30 s, give or take a fifth (24–36 s) after the failure.
    wait = retry.run_after - first.finished_at
    assert timedelta(seconds=23) <= wait <= timedelta(seconds=37)

    # A worker that looks now finds nothing due yet.
    run_worker_until_idle()
    retry.refresh_from_db()
    assert retry.status == "READY"

    # The mail server is back, and the retry comes due.
    send_through_smtp(settings, smtp_server.port)
    with time_machine.travel(retry.run_after + timedelta(seconds=1), tick=True):
        run_worker_until_idle()

    retry.refresh_from_db()
    assert retry.status == "SUCCESSFUL"
    [delivery] = smtp_server.deliveries
    assert delivery.message["Subject"] == "Your treatment plan"
    assert delivery.message["Message-ID"] == message_id
    assert TEXT in delivery.message.get_content()
    assert DBTaskResult.objects.count() == 2
    assert retry.args_kwargs == {
        "args": [],
        "kwargs": {},
        "redacted": True,
        "reference": first.args_kwargs["reference"],
        "attempt": 2,
    }

    log = clearplan_log_text(caplog)
    assert "attempt 1 of 6 failed (ConnectionRefusedError); trying again at" in log
    assert "delivered on attempt 2" in log
    _assert_nothing_private_in(log)
    for row in DBTaskResult.objects.all():
        _assert_nothing_private_in(row.traceback)
        _assert_nothing_private_in(str(row.args_kwargs))


@pytest.mark.django_db(transaction=True)
def test_after_the_last_attempt_it_gives_up_and_says_so(settings, closed_port, caplog):
    caplog.set_level(logging.INFO)
    settings.TASKS = DATABASE_TASKS
    send_through_smtp(settings, closed_port)
    with transaction.atomic():
        send_email.enqueue(
            to=[RECIPIENT],
            subject="Your plan",
            text=TEXT,
            html=None,
            reply_to=[],
            message_id="<last@clearplan.localhost>",
            reference="lastattempt",
            attempt=6,
        )

    run_worker_until_idle()

    [final] = DBTaskResult.objects.all()
    assert final.status == "FAILED"
    assert final.exception_class_path == "clearplan.messaging.tasks.EmailNotDelivered"
    assert "after 6 attempts (ConnectionRefusedError)" in final.traceback
    failures = [record for record in caplog.records if record.levelno >= logging.ERROR]
    assert any("lastattempt could not be delivered after 6 attempts" in record.getMessage() for record in failures)
    _assert_nothing_private_in(clearplan_log_text(caplog))


@pytest.mark.django_db(transaction=True)
def test_a_recipient_the_server_refuses_for_good_is_not_retried(settings, refusing_smtp_server, caplog):
    caplog.set_level(logging.INFO)
    settings.TASKS = DATABASE_TASKS
    send_through_smtp(settings, refusing_smtp_server.port)
    _queue_one_email()

    run_worker_until_idle()

    [only] = DBTaskResult.objects.all()
    assert only.status == "FAILED"
    assert only.exception_class_path == "clearplan.messaging.tasks.EmailNotDelivered"
    assert "(SMTPRecipientsRefused 550)" in only.traceback
    assert refusing_smtp_server.deliveries == []
    # The server's reply repeats the address; only its code is kept.
    _assert_nothing_private_in(clearplan_log_text(caplog))
    _assert_nothing_private_in(only.traceback)


@pytest.mark.django_db(transaction=True)
def test_without_a_backend_that_can_wait_a_failure_is_logged_and_the_request_carries_on(settings, closed_port, caplog):
    caplog.set_level(logging.INFO)
    settings.TASKS = IMMEDIATE_TASKS
    send_through_smtp(settings, closed_port)

    _queue_one_email()  # does not raise: the failure belongs to the task, not the caller

    log = clearplan_log_text(caplog)
    assert "could not be sent (ConnectionRefusedError); this task backend cannot retry later" in log
    _assert_nothing_private_in(log)


@pytest.mark.parametrize(
    ("error", "transient", "kind"),
    [
        (ConnectionRefusedError(111, "Connection refused"), True, "ConnectionRefusedError"),
        (TimeoutError("timed out"), True, "TimeoutError"),
        (socket.gaierror(-2, "Name or service not known"), True, "gaierror"),
        (smtplib.SMTPServerDisconnected("Connection unexpectedly closed"), True, "SMTPServerDisconnected"),
        (smtplib.SMTPDataError(451, b"4.3.0 Mail server temporarily rejected message"), True, "SMTPDataError 451"),
        (smtplib.SMTPDataError(554, b"5.7.1 Message rejected as spam"), False, "SMTPDataError 554"),
        (smtplib.SMTPSenderRefused(553, b"5.7.1 sender not allowed", "no-reply@x"), False, "SMTPSenderRefused 553"),
        (smtplib.SMTPAuthenticationError(535, b"5.7.8 bad credentials"), True, "SMTPAuthenticationError 535"),
        (
            smtplib.SMTPRecipientsRefused({"a@example.com": (450, b"4.2.0 greylisted, try again")}),
            True,
            "SMTPRecipientsRefused 450",
        ),
        (
            smtplib.SMTPRecipientsRefused({"a@example.com": (550, b"no"), "b@example.com": (551, b"no")}),
            False,
            "SMTPRecipientsRefused 550,551",
        ),
        (ValueError("Header values may not contain linefeed"), False, "ValueError"),
    ],
)
def test_it_retries_network_trouble_and_temporary_refusals_but_not_permanent_ones(error, transient, kind):
    assert is_transient(error) is transient
    assert failure_kind(error) == kind


@pytest.mark.django_db
def test_the_retry_is_queued_for_a_future_time_on_the_database_backend(settings, closed_port):
    """The database backend stores run_after, and its workers leave the row until then."""
    settings.TASKS = DATABASE_TASKS
    later = timezone.now() + timedelta(minutes=5)
    send_email.using(run_after=later).enqueue(
        to=[RECIPIENT], subject="x", text="y", html=None, reply_to=[], message_id="<m@x>", reference="r"
    )

    [row] = DBTaskResult.objects.all()
    assert row.run_after == later
    assert not DBTaskResult.objects.ready().exists()
    with time_machine.travel(later + timedelta(seconds=1)):
        assert DBTaskResult.objects.ready().get() == row
