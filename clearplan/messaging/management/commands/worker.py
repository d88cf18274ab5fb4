"""`manage.py worker`: the background worker Clearplan runs.

It is django-tasks-db's `db_worker` with two differences: it works through every queue
unless told otherwise, and before it starts it hands tasks abandoned by a stopped worker
back to the queue (the database backend alone would leave them marked running for ever).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from clearplan.lib.background import requeue_abandoned_tasks, worker_id_for_this_process


class Command(BaseCommand):
    help = "Run the background worker: return abandoned tasks to the queue, then process tasks until stopped."

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

    def handle(self, *args: Any, **options: Any) -> None:
        minutes = options["abandoned_after_minutes"] or settings.TASKS_ABANDONED_AFTER_MINUTES
        found = requeue_abandoned_tasks(older_than=timedelta(minutes=minutes))
        if found.returned_to_queue or found.marked_failed:
            self.stdout.write(
                f"Tasks left running by a stopped worker: {found.returned_to_queue} returned to the queue, "
                f"{found.marked_failed} marked failed."
            )
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
