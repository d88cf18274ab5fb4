"""A queued email survives the worker being killed in the middle of sending it.

Real processes throughout: `manage.py worker` runs as a subprocess against this test's own
database (a file for SQLite, the test database on PostgreSQL) and sends to a real SMTP
server. The first worker is caught mid-send (the server holds the message without
answering) and killed with SIGKILL, which leaves the task marked RUNNING; a second worker
finds it abandoned, sends it, and the server receives it exactly once.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
from typing import TYPE_CHECKING

import pytest
from django.db import transaction
from django_tasks_db.models import DBTaskResult

from clearplan.messaging.services import email_send_later
from clearplan.messaging.tasks import send_email
from clearplan.messaging.tests.conftest import DATABASE_TASKS
from clearplan.messaging.tests.workers import start_worker, stop_worker, wait_until

if TYPE_CHECKING:
    from pathlib import Path

RECIPIENT = "restart.test@example.com"
TEXT = "Your plan for the crown on 26 is ready to review."


def _start_worker(log: Path, *extra: str, smtp_port: int) -> subprocess.Popen:
    return start_worker(log, *extra, environment={"EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}"})


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_an_email_task_survives_its_worker_being_killed_mid_send(settings, slow_smtp_server, tmp_path):
    settings.TASKS = DATABASE_TASKS
    first_log, second_log = tmp_path / "first-worker.log", tmp_path / "second-worker.log"
    logs = [first_log, second_log]
    with transaction.atomic():
        email_send_later(to=[RECIPIENT], subject="Your treatment plan is ready", text=TEXT)
    task = DBTaskResult.objects.get()

    first = _start_worker(first_log, smtp_port=slow_smtp_server.port)
    second = None
    try:
        wait_until(
            slow_smtp_server.handler.first_message_arrived.is_set,
            timeout=60,
            what="the first worker to start sending",
            logs=logs,
        )
        task.refresh_from_db()
        assert task.status == "RUNNING"

        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
        task.refresh_from_db()
        assert task.status == "RUNNING", "a killed worker cannot mark its task; it stays RUNNING"
        assert slow_smtp_server.deliveries == []

        second = _start_worker(second_log, "--batch", smtp_port=slow_smtp_server.port)
        second.wait(timeout=90)
        assert second.returncode == 0, second_log.read_text(errors="replace")
    finally:
        stop_worker(first)
        if second is not None:
            stop_worker(second)

    task.refresh_from_db()
    assert task.status == "SUCCESSFUL"
    assert len(task.worker_ids) == 2, "claimed by the killed worker, then by the second one"
    assert DBTaskResult.objects.count() == 1, "no retry was needed and nothing was queued twice"
    [delivery] = slow_smtp_server.deliveries
    assert delivery.envelope_to == [RECIPIENT]
    assert delivery.message["Subject"] == "Your treatment plan is ready"
    assert TEXT in delivery.message.get_content()

    second_output = second_log.read_text(errors="replace")
    assert "1 returned to the queue" in second_output
    for output in (first_log.read_text(errors="replace"), second_output):
        assert RECIPIENT not in output
        assert TEXT not in output


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_running_worker_takes_over_a_task_abandoned_by_another_worker(settings, smtp_server, tmp_path):
    """The other worker died after this one started, so only the upkeep that runs while the
    worker runs can notice."""
    settings.TASKS = DATABASE_TASKS
    log = tmp_path / "worker.log"
    worker = _start_worker(log, "--upkeep-every", "0.3", smtp_port=smtp_server.port)
    try:
        wait_until(
            lambda: log.exists() and "Starting worker" in log.read_text(errors="replace"),
            timeout=60,
            what="the worker to start",
            logs=[log],
        )
        dead = subprocess.Popen([sys.executable, "-c", "pass"])
        dead.wait(timeout=30)
        with transaction.atomic():
            send_email.enqueue(
                to=[RECIPIENT],
                subject="Your treatment plan is ready",
                text=TEXT,
                html=None,
                reply_to=[],
                message_id="<abandoned@clearplan.localhost>",
                reference="abandoned001",
            )
            # Claimed by a worker whose process has since gone, before this worker could take it.
            DBTaskResult.objects.update(
                status="RUNNING", worker_ids=[f"{socket.gethostname()[:30]}:{dead.pid}:4242:deadbeef"]
            )

        wait_until(lambda: len(smtp_server.deliveries) == 1, timeout=60, what="the abandoned email", logs=[log])
        # The worker clears the email's stored arguments just after it records the task finished.
        wait_until(
            lambda: DBTaskResult.objects.filter(status="SUCCESSFUL", args_kwargs__has_key="redacted").exists(),
            timeout=30,
            what="the task to finish and its arguments to be cleared",
            logs=[log],
        )
    finally:
        stop_worker(worker)

    task = DBTaskResult.objects.get()
    assert len(task.worker_ids) == 2
    assert task.args_kwargs["redacted"] is True
    [delivery] = smtp_server.deliveries
    assert delivery.envelope_to == [RECIPIENT]
