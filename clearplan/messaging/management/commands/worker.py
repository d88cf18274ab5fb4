"""`manage.py worker`: the background worker Clearplan runs.

It is django-tasks-db's `db_worker` with two differences: it works through every queue
unless told otherwise, and it keeps the task table in order, once before it starts and then
every minute while it runs: tasks abandoned by a stopped worker go back to the queue (the
database backend alone would leave them marked running for ever), secret arguments of
finished tasks are cleared, finished tasks older than TASKS_KEEP_FINISHED_DAYS are
deleted, a message that is due but has no task to send it (see
`requeue_stranded_messages`) gets one, and the pipeline's timed work runs (follow-up rules,
appointment reminders, digests; see clearplan/pipeline/schedule.py).
"""

from __future__ import annotations

from argparse import ArgumentTypeError
from datetime import timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from clearplan.lib.background import PeriodicUpkeep, Upkeep, task_upkeep, worker_id_for_this_process
from clearplan.messaging.conversations.services import snoozes_wake
from clearplan.messaging.conversations.sms_inbound import received_sms_process_waiting
from clearplan.messaging.tasks import requeue_stranded_messages
from clearplan.pipeline.schedule import pipeline_upkeep


def _seconds(value: str) -> float:
    seconds = float(value)
    if not 0 < seconds < float("inf"):
        raise ArgumentTypeError("must be a number of seconds above zero")
    return seconds


def _upkeep(*, abandoned_after: timedelta, keep_finished_for: timedelta) -> Upkeep:
    # Abandoned tasks first: a message whose worker stopped is then retried by its own task.
    found = task_upkeep(abandoned_after=abandoned_after, keep_finished_for=keep_finished_for)
    requeue_stranded_messages()
    pipeline_upkeep()
    snoozes_wake()
    # Text messages whose task was lost (the process stopped between keeping one and queueing it).
    received_sms_process_waiting(older_than=timedelta(minutes=1))
    return found


class Command(BaseCommand):
    help = "Run the background worker: keep the task table in order, and process tasks until stopped."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--queue-name",
            default="*",
            help="Queues to process, separated by commas; '*' for all (default).",
        )
        parser.add_argument(
            "--interval",
            type=float,
            default=1.0,
            help="Seconds to wait between checks when there is nothing to do (default 1).",
        )
        parser.add_argument(
            "--batch",
            action="store_true",
            help="Process the tasks that are ready, then exit.",
        )
        parser.add_argument(
            "--abandoned-after-minutes",
            type=int,
            default=None,
            help="Treat a task as abandoned when it has been running this long "
            "(default: the TASKS_ABANDONED_AFTER_MINUTES setting).",
        )
        parser.add_argument(
            "--upkeep-every",
            type=_seconds,
            default=60.0,
            help="Seconds between upkeep rounds while the worker runs (default 60).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        minutes = options["abandoned_after_minutes"] or settings.TASKS_ABANDONED_AFTER_MINUTES
        upkeep = partial(
            _upkeep,
            abandoned_after=timedelta(minutes=minutes),
            keep_finished_for=timedelta(days=settings.TASKS_KEEP_FINISHED_DAYS),
        )
        found = upkeep()
        if found.returned_to_queue or found.marked_failed:
            self.stdout.write(
                f"Tasks left running by a stopped worker: {found.returned_to_queue} returned to the queue, "
                f"{found.marked_failed} marked failed."
            )
        if found.deleted:
            self.stdout.write(
                f"Deleted {found.deleted} finished tasks older than {settings.TASKS_KEEP_FINISHED_DAYS} days."
            )
        periodic = None
        if not options["batch"]:
            periodic = PeriodicUpkeep(upkeep, every=options["upkeep_every"])
            periodic.start()
        try:
            call_command(
                "db_worker",
                queue_name=options["queue_name"],
                interval=options["interval"],
                batch=options["batch"],
                reload=False,
                worker_id=worker_id_for_this_process(),
                startup_delay=not options["batch"],
                verbosity=options["verbosity"],
            )
        finally:
            if periodic is not None:
                periodic.stop(wait=5)
