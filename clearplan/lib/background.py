"""Glue between Clearplan's background work and django-tasks.

django-tasks has no retries of its own, and the database backend leaves a task marked
RUNNING for ever if its worker is killed mid-run. These helpers add both: a failed task can
enqueue its next attempt for later, and a starting worker hands abandoned tasks back to the
queue.
"""

from __future__ import annotations

import logging
import os
import random
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.utils import timezone
from django.utils.crypto import get_random_string

if TYPE_CHECKING:
    from django_tasks.base import Task

    from clearplan.lib.retry import RetryPolicy

logger = logging.getLogger("clearplan.background")

# Spreading retries out is not a security matter, but SystemRandom keeps linters and
# reviewers from having to think about it.
_random = random.SystemRandom()

# A task whose worker vanished this many times in a row is probably what kills the worker
# (out of memory, a crash in a C library); it is marked failed instead of being retried again.
MAX_ABANDONED_RUNS = 3


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


def worker_id_for_this_process() -> str:
    """A worker id that says where the worker runs, `host:process id:random`, so a worker
    starting later on the same machine can tell that the process has gone."""
    host = socket.gethostname().replace(":", "-")[:40] or "localhost"
    return f"{host}:{os.getpid()}:{get_random_string(8)}"


def _worker_process_has_gone(worker_id: str) -> bool:
    """True only when we can be sure: the worker ran on this machine and its process no
    longer exists. Anything else (another machine, a plain random id) returns False."""
    host, _, rest = worker_id.partition(":")
    process_id, _, _suffix = rest.partition(":")
    if host != socket.gethostname().replace(":", "-")[:40] or not process_id.isdigit():
        return False
    pid = int(process_id)
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        # Exists, but belongs to someone else: a reused process id, so not provably gone.
        return False
    return False


@dataclass(frozen=True)
class AbandonedTasks:
    returned_to_queue: int
    marked_failed: int


class WorkerLost(Exception):
    """The worker running a task stopped before the task finished, several times."""


def requeue_abandoned_tasks(*, older_than: timedelta) -> AbandonedTasks:
    """Hand tasks left RUNNING by a worker that is no longer running back to the queue.

    A task is abandoned when its worker's process is provably gone from this machine, or
    when it started more than `older_than` ago (for workers on other machines; choose a
    limit longer than any task takes). Each row is updated only if it is still in the state
    we read, so two workers starting together cannot both requeue it, and a task that
    finished meanwhile is left alone.
    """
    from django_tasks.base import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    now = timezone.now()
    returned = failed = 0
    running = DBTaskResult.objects.running().only("id", "worker_ids", "started_at")
    for row in running:
        last_worker = row.worker_ids[-1] if row.worker_ids else ""
        timed_out = row.started_at is None or row.started_at < now - older_than
        if not (timed_out or _worker_process_has_gone(last_worker)):
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
