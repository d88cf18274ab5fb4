"""Glue between Clearplan's background work and django-tasks.

django-tasks has no retries of its own, the database backend leaves a task marked RUNNING
for ever if its worker is killed mid-run, and it keeps every finished task, arguments and
all, for ever. These helpers add what is missing: a failed task can enqueue its next attempt
for later; the worker's upkeep (at start and then every minute) hands abandoned tasks back to
the queue and deletes old finished tasks; and a task whose arguments carry secrets (an email
with a sign-in link) has them replaced by a short note as soon as it finishes.
"""

from __future__ import annotations

import logging
import os
import random
import socket
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.db import DatabaseError, connections
from django.utils import timezone
from django.utils.crypto import get_random_string

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from django_tasks.base import Task, TaskResult

    from clearplan.lib.retry import RetryPolicy

logger = logging.getLogger("clearplan.background")

# Spreading retries out is not a security matter, but SystemRandom keeps linters and
# reviewers from having to think about it.
_random = random.SystemRandom()

# A task whose worker vanished this many times in a row is probably what kills the worker
# (out of memory, a crash in a C library); it is marked failed instead of being retried again.
MAX_ABANDONED_RUNS = 3

# How many rows one upkeep round clears or deletes at most, so a backlog (the first start
# after an upgrade) is worked through over several rounds instead of one long transaction.
UPKEEP_BATCH = 500
UPKEEP_BATCHES_PER_ROUND = 20

# Worker ids are at most 64 characters (django-tasks-db's limit): host (30) : process id (7)
# : process start time (12) : random (8).
_HOST_LENGTH = 30


def can_schedule_later(task: Task) -> bool:
    """Whether the task's backend stores `run_after` (the database backend does; the
    immediate backend used in some tests and one-off scripts does not)."""
    return bool(task.get_backend().supports_defer)


def retry_later(task: Task, *, attempt: int, policy: RetryPolicy, kwargs: dict[str, Any]) -> datetime | None:
    """After attempt number `attempt` failed, enqueue attempt `attempt + 1` to run after the
    policy's backoff, and return when it will run. None means no retry was queued: the
    attempts are used up, or the backend cannot run a task later."""
    if not can_schedule_later(task):
        return None
    delay = policy.delay_after(attempt, random_fraction=_random.random())
    if delay is None:
        return None
    run_after = timezone.now() + delay
    task.using(run_after=run_after).enqueue(**kwargs, attempt=attempt + 1)
    return run_after


# ---------- Which worker is which ----------


def _this_host() -> str:
    return socket.gethostname().replace(":", "-")[:_HOST_LENGTH] or "localhost"


def process_start_time(process_id: int) -> str | None:
    """When the process started, in clock ticks since the machine booted (field 22 of
    /proc/<pid>/stat), or None where that cannot be read (not Linux, no such process).

    A process id alone is reused: after a container restarts, the new worker often gets the
    very id the old one had. The pair (process id, start time) is never reused while the
    machine is up.
    """
    try:
        stat = Path(f"/proc/{process_id}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    # The command name (field 2) is in parentheses and may itself contain spaces and ")".
    fields = stat.rpartition(")")[2].split()
    if len(fields) < 20 or not fields[19].isdigit():
        return None
    return fields[19]


def worker_id_for_this_process() -> str:
    """A worker id that says where the worker runs, `host:process id:start time:random`, so a
    later upkeep round on the same machine can tell whether that process has gone."""
    start = process_start_time(os.getpid()) or ""
    return f"{_this_host()}:{os.getpid()}:{start}:{get_random_string(8)}"


class WorkerState(Enum):
    RUNNING = "running"
    GONE = "gone"
    UNKNOWN = "unknown"


def worker_state(worker_id: str) -> WorkerState:
    """Whether the worker with this id is provably running, provably gone, or unknown.

    Only a worker on this machine can be checked: its process id must exist and, where the
    id records one, have the same start time (otherwise the id has been reused by another
    process, and the worker is gone). A worker on another machine, an id in another format,
    or one without a start time to compare is unknown; then only the time limit applies.
    """
    parts = worker_id.split(":")
    if len(parts) == 4:
        host, process_id, recorded_start, _suffix = parts
    elif len(parts) == 3:  # ids written before start times were recorded
        host, process_id, _suffix = parts
        recorded_start = ""
    else:
        return WorkerState.UNKNOWN
    if host != _this_host() or not process_id.isdigit():
        return WorkerState.UNKNOWN
    pid = int(process_id)
    current_start = process_start_time(pid)
    if pid != os.getpid():
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return WorkerState.GONE
        except PermissionError:
            pass  # exists, under another user; the start time still tells whether it is the same process
        except OSError:
            return WorkerState.UNKNOWN
    if recorded_start and current_start:
        return WorkerState.RUNNING if recorded_start == current_start else WorkerState.GONE
    if pid == os.getpid() and not recorded_start and current_start is None:
        # No start times on this system: an id naming this process is taken to be this worker.
        return WorkerState.RUNNING
    return WorkerState.UNKNOWN


# ---------- Abandoned tasks ----------


@dataclass(frozen=True)
class AbandonedTasks:
    returned_to_queue: int
    marked_failed: int


class WorkerLost(Exception):
    """The worker running a task stopped before the task finished, several times."""


def requeue_abandoned_tasks(*, older_than: timedelta) -> AbandonedTasks:
    """Hand tasks left RUNNING by a worker that is no longer running back to the queue.

    A task is abandoned when its worker's process is provably gone from this machine, or,
    when its worker cannot be checked (it runs on another machine), when it started more
    than `older_than` ago: choose a limit longer than any task takes. A task whose worker is
    provably still running on this machine, this one included, is left alone however long it
    takes. Each row is updated only if it is still in the state we read, so two workers
    cannot both requeue it, and a task that finished meanwhile is left alone.
    """
    from django_tasks.base import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    now = timezone.now()
    returned = failed = 0
    running = DBTaskResult.objects.running().only("id", "worker_ids", "started_at")
    for row in running:
        last_worker = row.worker_ids[-1] if row.worker_ids else ""
        state = worker_state(last_worker)
        timed_out = row.started_at is None or row.started_at < now - older_than
        if state is WorkerState.RUNNING or (state is WorkerState.UNKNOWN and not timed_out):
            continue
        still_as_read = DBTaskResult.objects.filter(
            id=row.id, status=TaskResultStatus.RUNNING, started_at=row.started_at
        )
        if len(row.worker_ids) >= MAX_ABANDONED_RUNS:
            error = WorkerLost(f"The worker running this task stopped before it finished, {len(row.worker_ids)} times.")
            failed += still_as_read.update(
                status=TaskResultStatus.FAILED,
                finished_at=now,
                exception_class_path=f"{WorkerLost.__module__}.{WorkerLost.__qualname__}",
                traceback=f"{WorkerLost.__qualname__}: {error}\n",
            )
        else:
            returned += still_as_read.update(status=TaskResultStatus.READY, started_at=None)
    if returned or failed:
        logger.warning(
            "Found tasks left running by a stopped worker: %d returned to the queue, %d marked failed",
            returned,
            failed,
        )
    return AbandonedTasks(returned_to_queue=returned, marked_failed=failed)


# ---------- Secret arguments ----------

# Task path → the keyword arguments kept once the task has finished.
_PRIVATE_ARGUMENT_TASKS: dict[str, tuple[str, ...]] = {}


def forget_arguments_when_finished(task: Task, *, keep: Iterable[str] = ()) -> None:
    """Declare that `task`'s arguments hold secrets or personal data: once a run finishes
    (delivered or given up), its stored arguments are replaced by a note that they were
    removed, keeping only the keyword arguments named in `keep` (a reference for the logs,
    the attempt number). A retry is queued with its own copy before the run finishes."""
    _PRIVATE_ARGUMENT_TASKS[task.module_path] = tuple(keep)


def redacted_arguments(task_path: str, kwargs: dict[str, Any]) -> dict[str, Any]:
    """What is stored in place of a finished task's arguments. The empty args and kwargs keep
    the row readable by django-tasks-db (its admin, get_result)."""
    kept = {name: kwargs[name] for name in _PRIVATE_ARGUMENT_TASKS.get(task_path, ()) if name in kwargs}
    return {"args": [], "kwargs": {}, "redacted": True, **kept}


def forget_arguments_of_finished_task(sender: object, task_result: TaskResult, **_signal: Any) -> None:
    """Receiver for django-tasks' task_finished signal.

    The database worker sends it after it has saved the final status, and that save names
    only the status, result and error columns, so the arguments cleared here stay cleared.
    A failure here is logged and never raised: raising would make the worker record a
    delivered email as failed. The next upkeep round clears whatever was missed.
    """
    from django_tasks_db.backend import DatabaseBackend
    from django_tasks_db.models import DBTaskResult

    try:
        task = task_result.task
        if task.module_path not in _PRIVATE_ARGUMENT_TASKS or not isinstance(task.get_backend(), DatabaseBackend):
            return
        DBTaskResult.objects.finished().filter(id=task_result.id).update(
            args_kwargs=redacted_arguments(task.module_path, dict(task_result.kwargs))
        )
    except Exception as error:
        logger.warning(
            "Could not clear the stored arguments of finished task %s (%s); the worker's upkeep will",
            task_result.id,
            type(error).__name__,
        )


def forget_arguments_of_finished_tasks() -> int:
    """Clear the stored arguments of every finished task that still has them (missed by the
    signal, marked failed by `requeue_abandoned_tasks`, or finished before an upgrade).
    Returns how many were cleared."""
    from django_tasks_db.models import DBTaskResult

    if not _PRIVATE_ARGUMENT_TASKS:
        return 0
    cleared = 0
    for _batch in range(UPKEEP_BATCHES_PER_ROUND):
        rows = list(
            DBTaskResult.objects.finished()
            .filter(task_path__in=list(_PRIVATE_ARGUMENT_TASKS))
            .exclude(args_kwargs__has_key="redacted")
            .only("id", "task_path", "args_kwargs")[:UPKEEP_BATCH]
        )
        for row in rows:
            stored = row.args_kwargs if isinstance(row.args_kwargs, dict) else {}
            kwargs = stored.get("kwargs")
            cleared += (
                DBTaskResult.objects.finished()
                .filter(id=row.id)
                .update(args_kwargs=redacted_arguments(row.task_path, kwargs if isinstance(kwargs, dict) else {}))
            )
        if len(rows) < UPKEEP_BATCH:
            break
    return cleared


# ---------- Old finished tasks ----------


def prune_finished_tasks(*, older_than: timedelta) -> int:
    """Delete successful and failed tasks that finished more than `older_than` ago; waiting
    and running tasks are never touched. Returns how many were deleted."""
    from django_tasks_db.models import DBTaskResult

    cutoff = timezone.now() - older_than
    deleted = 0
    for _batch in range(UPKEEP_BATCHES_PER_ROUND):
        ids = list(
            DBTaskResult.objects.finished()
            .filter(finished_at__lt=cutoff)
            .order_by()
            .values_list("id", flat=True)[:UPKEEP_BATCH]
        )
        if ids:
            deleted += DBTaskResult.objects.finished().filter(id__in=ids, finished_at__lt=cutoff).delete()[0]
        if len(ids) < UPKEEP_BATCH:
            break
    if deleted:
        logger.info("Deleted %d finished tasks older than %s", deleted, older_than)
    return deleted


# ---------- The worker's upkeep ----------


@dataclass(frozen=True)
class Upkeep:
    returned_to_queue: int
    marked_failed: int
    arguments_cleared: int
    deleted: int


def task_upkeep(*, abandoned_after: timedelta, keep_finished_for: timedelta) -> Upkeep:
    """One round of the worker's upkeep: abandoned tasks back to the queue (or failed), secret
    arguments of finished tasks cleared, old finished tasks deleted."""
    abandoned = requeue_abandoned_tasks(older_than=abandoned_after)
    cleared = forget_arguments_of_finished_tasks()
    deleted = prune_finished_tasks(older_than=keep_finished_for)
    return Upkeep(
        returned_to_queue=abandoned.returned_to_queue,
        marked_failed=abandoned.marked_failed,
        arguments_cleared=cleared,
        deleted=deleted,
    )


class PeriodicUpkeep:
    """Runs `work` every `every` seconds on a daemon thread while the worker runs, so a task
    abandoned by another worker is picked up without anyone restarting this one.

    Each round uses its own database connection, closed afterwards; a round that fails (the
    database briefly locked or unreachable) is logged and the next round tries again. The
    thread dies with the worker process.
    """

    def __init__(self, work: Callable[[], object], *, every: float) -> None:
        if every <= 0:
            raise ValueError("The upkeep interval must be longer than zero.")
        self.every = every
        self.rounds = 0
        self._work = work
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="clearplan-task-upkeep", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, *, wait: float = 10) -> None:
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout=wait)

    def is_alive(self) -> bool:
        return self._thread.is_alive()

    def _run(self) -> None:
        while not self._stopping.wait(self.every):
            try:
                self._work()
            except (DatabaseError, OSError) as error:
                logger.warning(
                    "Background task upkeep failed (%s); trying again in %g seconds", type(error).__name__, self.every
                )
            except Exception:
                logger.exception("Background task upkeep failed; trying again in %g seconds", self.every)
            finally:
                self.rounds += 1
                connections.close_all()
