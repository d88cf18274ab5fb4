"""What the task table keeps: an email's addresses, words and links are stored only until its
task finishes, and finished tasks are deleted after TASKS_KEEP_FINISHED_DAYS."""

from __future__ import annotations

import json
import re
import signal
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from clearplan.lib.background import forget_arguments_of_finished_tasks, prune_finished_tasks
from clearplan.messaging.services import email_send_later
from clearplan.messaging.tasks import send_email
from clearplan.messaging.tests.conftest import DATABASE_TASKS, run_worker_until_idle, send_through_smtp

RECIPIENT = "new.hygienist@example.com"
SUBJECT = "Join Harbour Dental Sydney on Clearplan"
INVITATION_LINK = "http://127.0.0.1:8000/accounts/invitation/6f1c2d9e8b7a/"
TEXT = f"Olivia Owner has invited you to join the team.\n\nChoose your password here:\n{INVITATION_LINK}\n"
PRIVATE = (RECIPIENT, "hygienist", SUBJECT, INVITATION_LINK, "6f1c2d9e8b7a", "invited you")


@pytest.fixture(autouse=True)
def _database_tasks(settings):
    settings.TASKS = DATABASE_TASKS


def _queue_invitation() -> None:
    with transaction.atomic():
        email_send_later(
            to=[RECIPIENT],
            subject=SUBJECT,
            text=TEXT,
            html=f'<p><a href="{INVITATION_LINK}">Choose your password</a></p>',
            reply_to=["owner@example.com"],
        )


def _whole_table() -> str:
    """Every column of every task row, as text."""
    return json.dumps(list(DBTaskResult.objects.values()), default=str)


def _assert_nothing_private_stored() -> None:
    stored = _whole_table()
    for private in PRIVATE:
        assert private not in stored
    assert "owner@example.com" not in stored


@pytest.mark.django_db(transaction=True)
def test_once_an_email_is_delivered_the_task_table_no_longer_holds_it(settings, smtp_server):
    send_through_smtp(settings, smtp_server.port)
    _queue_invitation()
    assert INVITATION_LINK in _whole_table(), "the worker needs the message until it is sent"

    run_worker_until_idle()

    [delivery] = smtp_server.deliveries
    assert INVITATION_LINK in delivery.message.get_body(preferencelist=("plain",)).get_content()
    [row] = DBTaskResult.objects.all()
    assert row.status == "SUCCESSFUL"
    assert row.return_value == "delivered"
    assert row.args_kwargs == {
        "args": [],
        "kwargs": {},
        "redacted": True,
        "reference": row.args_kwargs["reference"],
    }
    assert re.fullmatch(r"[0-9a-f]{12}", row.args_kwargs["reference"])
    _assert_nothing_private_stored()


@pytest.mark.django_db(transaction=True)
def test_an_email_given_up_on_leaves_nothing_private_behind_either(settings, refusing_smtp_server):
    send_through_smtp(settings, refusing_smtp_server.port)
    _queue_invitation()

    run_worker_until_idle()

    [row] = DBTaskResult.objects.all()
    assert row.status == "FAILED"
    assert row.exception_class_path == "clearplan.messaging.tasks.EmailNotDelivered"
    assert row.args_kwargs["redacted"] is True
    assert row.args_kwargs["reference"] in row.traceback, "the note and the error name the same email"
    _assert_nothing_private_stored()


@pytest.mark.django_db(transaction=True)
def test_a_cleared_task_can_still_be_looked_up(settings, smtp_server):
    send_through_smtp(settings, smtp_server.port)
    _queue_invitation()
    run_worker_until_idle()

    result = send_email.get_result(str(DBTaskResult.objects.get().id))

    assert result.status == "SUCCESSFUL"
    assert result.return_value == "delivered"
    assert result.kwargs == {}


@pytest.mark.django_db
def test_upkeep_clears_finished_emails_that_still_hold_their_message():
    """For tasks that finished before this rule, or whose clearing failed at the time."""
    finished = _stored_email(status="SUCCESSFUL", reference="oldfinished1")
    gave_up = _stored_email(status="FAILED", reference="oldfailed001")
    waiting = _stored_email(status="READY", reference="stillwaiting")

    assert forget_arguments_of_finished_tasks() == 2
    assert forget_arguments_of_finished_tasks() == 0, "already cleared rows are left alone"

    finished.refresh_from_db()
    gave_up.refresh_from_db()
    waiting.refresh_from_db()
    assert finished.args_kwargs == {"args": [], "kwargs": {}, "redacted": True, "reference": "oldfinished1"}
    assert gave_up.args_kwargs == {
        "args": [],
        "kwargs": {},
        "redacted": True,
        "reference": "oldfailed001",
        "attempt": 3,
    }
    assert waiting.args_kwargs["kwargs"]["text"] == TEXT, "a message still to be sent keeps its words"


def _stored_email(*, status: str, reference: str, finished_ago: timedelta = timedelta(0)) -> DBTaskResult:
    extra = {"attempt": 3} if status == "FAILED" else {}
    result = send_email.enqueue(
        to=[RECIPIENT],
        subject=SUBJECT,
        text=TEXT,
        html=None,
        reply_to=[],
        message_id="<m@clearplan.localhost>",
        reference=reference,
        **extra,
    )
    finished_at = timezone.now() - finished_ago if status in {"SUCCESSFUL", "FAILED"} else None
    DBTaskResult.objects.filter(id=result.id).update(status=status, finished_at=finished_at)
    return DBTaskResult.objects.get(id=result.id)


@pytest.mark.django_db
def test_finished_tasks_are_deleted_after_a_week_and_nothing_else_is():
    old_success = _stored_email(status="SUCCESSFUL", reference="a", finished_ago=timedelta(days=7, minutes=1))
    old_failure = _stored_email(status="FAILED", reference="b", finished_ago=timedelta(days=30))
    recent = _stored_email(status="SUCCESSFUL", reference="c", finished_ago=timedelta(days=6, hours=23))
    waiting = _stored_email(status="READY", reference="d")
    DBTaskResult.objects.filter(id=waiting.id).update(enqueued_at=timezone.now() - timedelta(days=60))
    running = _stored_email(status="RUNNING", reference="e")

    assert prune_finished_tasks(older_than=timedelta(days=7)) == 2

    remaining = set(DBTaskResult.objects.values_list("id", flat=True))
    assert remaining == {recent.id, waiting.id, running.id}
    assert old_success.id not in remaining
    assert old_failure.id not in remaining


@pytest.mark.django_db(transaction=True)
def test_the_worker_deletes_old_finished_tasks_when_it_starts(settings, capsys):
    settings.TASKS_KEEP_FINISHED_DAYS = 7
    _stored_email(status="SUCCESSFUL", reference="old", finished_ago=timedelta(days=8))
    kept = _stored_email(status="SUCCESSFUL", reference="new", finished_ago=timedelta(days=1))
    # db_worker installs its own Ctrl-C handlers; the test run keeps its own.
    handlers = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT)}
    try:
        call_command("worker", "--batch", verbosity=0)
    finally:
        for number, handler in handlers.items():
            signal.signal(number, handler)

    assert list(DBTaskResult.objects.values_list("id", flat=True)) == [kept.id]
    assert "Deleted 1 finished tasks older than 7 days." in capsys.readouterr().out
