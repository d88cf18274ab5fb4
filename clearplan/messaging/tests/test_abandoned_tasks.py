"""Tasks left RUNNING by a worker that stopped (killed, crashed, machine restarted) go back
to the queue when a worker starts, instead of staying stuck for ever."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from datetime import timedelta

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from clearplan.lib.background import (
    MAX_ABANDONED_RUNS,
    requeue_abandoned_tasks,
    worker_id_for_this_process,
)
from clearplan.messaging.tasks import send_email
from clearplan.messaging.tests.conftest import DATABASE_TASKS

HOST = socket.gethostname()
LIMIT = timedelta(minutes=30)


@pytest.fixture(autouse=True)
def _database_tasks(settings):
    settings.TASKS = DATABASE_TASKS


@pytest.fixture(scope="module")
def dead_process_id() -> int:
    finished = subprocess.Popen([sys.executable, "-c", "pass"])
    finished.wait(timeout=30)
    return finished.pid


def _running_task(*, worker_ids: list[str], started_ago: timedelta = timedelta(seconds=5)) -> DBTaskResult:
    result = send_email.enqueue(
        to=["sam@example.com"], subject="s", text="t", html=None, reply_to=[], message_id="<m@x>", reference="r"
    )
    row = DBTaskResult.objects.get(id=result.id)
    for worker_id in worker_ids:
        row.claim(worker_id)
    DBTaskResult.objects.filter(id=row.id).update(started_at=timezone.now() - started_ago)
    row.refresh_from_db()
    return row


def test_worker_ids_say_which_machine_and_process_the_worker_is():
    host, process_id, suffix = worker_id_for_this_process().split(":")
    assert host == HOST[:40]
    assert int(process_id) == os.getpid()
    assert len(suffix) == 8
    assert len(worker_id_for_this_process()) <= 64


@pytest.mark.django_db
def test_a_task_whose_worker_process_is_gone_goes_straight_back_to_the_queue(dead_process_id):
    row = _running_task(worker_ids=[f"{HOST}:{dead_process_id}:abcdefgh"])

    found = requeue_abandoned_tasks(older_than=LIMIT)

    row.refresh_from_db()
    assert found.returned_to_queue == 1
    assert row.status == "READY"
    assert row.started_at is None
    assert DBTaskResult.objects.ready().get() == row


@pytest.mark.django_db
def test_a_task_whose_worker_is_still_running_is_left_alone():
    parent_still_running = os.getppid()
    row = _running_task(worker_ids=[f"{HOST}:{parent_still_running}:abcdefgh"])

    assert requeue_abandoned_tasks(older_than=LIMIT).returned_to_queue == 0
    row.refresh_from_db()
    assert row.status == "RUNNING"


@pytest.mark.django_db
def test_a_task_from_another_machine_is_returned_only_once_it_has_run_too_long():
    recent = _running_task(worker_ids=["other-server:1234:abcdefgh"], started_ago=timedelta(minutes=5))
    stale = _running_task(worker_ids=["other-server:1234:abcdefgh"], started_ago=timedelta(minutes=31))
    plain_id = _running_task(worker_ids=["k2W9vYbq0nLr5tXz"], started_ago=timedelta(hours=3))

    assert requeue_abandoned_tasks(older_than=LIMIT).returned_to_queue == 2

    statuses = {row.id: row.status for row in DBTaskResult.objects.all()}
    assert statuses == {recent.id: "RUNNING", stale.id: "READY", plain_id.id: "READY"}


@pytest.mark.django_db
def test_a_task_that_keeps_losing_its_worker_is_marked_failed_instead_of_looping(dead_process_id):
    lost = [f"{HOST}:{dead_process_id}:run{number:05d}" for number in range(MAX_ABANDONED_RUNS)]
    row = _running_task(worker_ids=lost)

    found = requeue_abandoned_tasks(older_than=LIMIT)

    row.refresh_from_db()
    assert found.marked_failed == 1
    assert row.status == "FAILED"
    assert row.exception_class_path == "clearplan.lib.background.WorkerLost"
    assert "stopped before it finished, 3 times" in row.traceback


@pytest.mark.django_db
def test_finished_and_waiting_tasks_are_never_touched(dead_process_id):
    waiting = _running_task(worker_ids=[])
    done = _running_task(worker_ids=[f"{HOST}:{dead_process_id}:abcdefgh"], started_ago=timedelta(hours=5))
    done.set_successful("delivered")

    assert requeue_abandoned_tasks(older_than=LIMIT).returned_to_queue == 0
    assert DBTaskResult.objects.get(id=waiting.id).status == "READY"
    assert DBTaskResult.objects.get(id=done.id).status == "SUCCESSFUL"
