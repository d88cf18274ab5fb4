"""Tasks left RUNNING by a worker that stopped (killed, crashed, machine restarted) go back
to the queue when a worker starts, and while it runs, instead of staying stuck for ever."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from datetime import timedelta

import pytest
from django.db import OperationalError
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from clearplan.lib.background import (
    MAX_ABANDONED_RUNS,
    PeriodicUpkeep,
    WorkerState,
    process_start_time,
    requeue_abandoned_tasks,
    task_upkeep,
    worker_id_for_this_process,
    worker_state,
)
from clearplan.messaging.tasks import send_email
from clearplan.messaging.tests.conftest import DATABASE_TASKS

HOST = socket.gethostname()[:30]
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


def _worker_id(process_id: int, start_time: str | None = None) -> str:
    start = process_start_time(process_id) if start_time is None else start_time
    return f"{HOST}:{process_id}:{start}:abcdefgh"


def test_worker_ids_say_which_machine_and_process_the_worker_is_and_when_it_started():
    host, process_id, start_time, suffix = worker_id_for_this_process().split(":")
    assert host == HOST
    assert int(process_id) == os.getpid()
    assert start_time == process_start_time(os.getpid())
    assert start_time.isdigit(), "read from /proc on Linux"
    assert len(suffix) == 8
    assert worker_id_for_this_process() != worker_id_for_this_process()


def test_a_worker_id_fits_django_tasks_db_even_with_a_long_host_name_and_process_id(monkeypatch):
    monkeypatch.setattr(socket, "gethostname", lambda: "h" * 253)
    host = worker_id_for_this_process().split(":")[0]
    # The longest process id Linux gives out has 7 digits; 12 digits of clock ticks is 300 years.
    longest = f"{host}:{'9' * 7}:{'9' * 12}:{'x' * 8}"
    assert len(longest) <= 64


def test_the_start_time_of_a_process_comes_from_proc_and_differs_between_processes(dead_process_id):
    mine = process_start_time(os.getpid())
    parents = process_start_time(os.getppid())
    assert mine is not None
    assert parents is not None
    assert int(parents) <= int(mine)
    assert process_start_time(dead_process_id) is None


def test_workers_on_this_machine_are_told_apart_by_process_and_start_time(dead_process_id):
    parent = os.getppid()
    assert worker_state(_worker_id(parent)) is WorkerState.RUNNING
    assert worker_state(worker_id_for_this_process()) is WorkerState.RUNNING
    assert worker_state(_worker_id(dead_process_id, "12345")) is WorkerState.GONE
    # The same process id, started at another time: the id was reused (a container restart
    # gives the new worker the old one's process id), so the old worker is gone.
    earlier = str(int(process_start_time(parent)) - 1)
    assert worker_state(_worker_id(parent, earlier)) is WorkerState.GONE
    assert worker_state(_worker_id(os.getpid(), earlier)) is WorkerState.GONE
    # Nothing to compare, or not this machine: only the time limit can tell.
    assert worker_state(f"{HOST}:{parent}:abcdefgh") is WorkerState.UNKNOWN
    assert worker_state(f"other-server:{parent}:{process_start_time(parent)}:abcdefgh") is WorkerState.UNKNOWN
    assert worker_state("k2W9vYbq0nLr5tXz") is WorkerState.UNKNOWN
    assert worker_state("") is WorkerState.UNKNOWN


@pytest.mark.django_db
def test_a_task_whose_worker_process_is_gone_goes_straight_back_to_the_queue(dead_process_id):
    row = _running_task(worker_ids=[_worker_id(dead_process_id, "4242")])

    found = requeue_abandoned_tasks(older_than=LIMIT)

    row.refresh_from_db()
    assert found.returned_to_queue == 1
    assert row.status == "READY"
    assert row.started_at is None
    assert DBTaskResult.objects.ready().get() == row


@pytest.mark.django_db
def test_a_task_whose_worker_is_still_running_is_left_alone_however_long_it_takes():
    still_running = _running_task(worker_ids=[_worker_id(os.getppid())], started_ago=timedelta(hours=3))
    this_worker = _running_task(worker_ids=[worker_id_for_this_process()], started_ago=timedelta(hours=3))

    assert requeue_abandoned_tasks(older_than=LIMIT).returned_to_queue == 0
    assert DBTaskResult.objects.get(id=still_running.id).status == "RUNNING"
    assert DBTaskResult.objects.get(id=this_worker.id).status == "RUNNING"


@pytest.mark.django_db
def test_a_task_whose_worker_process_id_was_reused_after_a_restart_goes_back_to_the_queue():
    # The container restarted: the new worker has the process id the old one had.
    earlier = str(int(process_start_time(os.getpid())) - 100)
    row = _running_task(worker_ids=[_worker_id(os.getpid(), earlier)])

    assert requeue_abandoned_tasks(older_than=LIMIT).returned_to_queue == 1
    row.refresh_from_db()
    assert row.status == "READY"


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
    lost = [f"{HOST}:{dead_process_id}:4242:run{number:05d}" for number in range(MAX_ABANDONED_RUNS)]
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
    done = _running_task(worker_ids=[_worker_id(dead_process_id, "4242")], started_ago=timedelta(hours=5))
    done.set_successful("delivered")

    assert requeue_abandoned_tasks(older_than=LIMIT).returned_to_queue == 0
    assert DBTaskResult.objects.get(id=waiting.id).status == "READY"
    assert DBTaskResult.objects.get(id=done.id).status == "SUCCESSFUL"


# ---------- While the worker runs ----------


def _wait_for(condition, *, timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


@pytest.mark.django_db(transaction=True)
def test_the_running_worker_hands_back_a_task_abandoned_after_it_started(dead_process_id):
    upkeep = PeriodicUpkeep(lambda: task_upkeep(abandoned_after=LIMIT, keep_finished_for=timedelta(days=7)), every=0.05)
    upkeep.start()
    try:
        assert _wait_for(lambda: upkeep.rounds >= 1), "the first round ran"
        row = _running_task(worker_ids=[_worker_id(dead_process_id, "4242")])

        assert _wait_for(lambda: DBTaskResult.objects.get(id=row.id).status == "READY")
    finally:
        upkeep.stop()
    assert not upkeep.is_alive()


def test_a_failed_upkeep_round_is_logged_and_the_next_one_still_runs(caplog):
    calls: list[int] = []
    second_round = threading.Event()

    def flaky() -> None:
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("database is locked")
        second_round.set()

    upkeep = PeriodicUpkeep(flaky, every=0.01)
    upkeep.start()
    try:
        assert second_round.wait(timeout=10)
    finally:
        upkeep.stop()
    assert not upkeep.is_alive()
    assert "Background task upkeep failed (OperationalError)" in caplog.text


def test_stopping_the_upkeep_does_not_wait_for_the_next_round():
    upkeep = PeriodicUpkeep(lambda: None, every=3600)
    upkeep.start()
    started = time.monotonic()
    upkeep.stop()
    assert not upkeep.is_alive()
    assert time.monotonic() - started < 5
    assert upkeep.rounds == 0


@pytest.mark.parametrize("every", [0, -1])
def test_an_upkeep_interval_must_be_above_zero(every):
    with pytest.raises(ValueError, match="longer than zero"):
        PeriodicUpkeep(lambda: None, every=every)
