"""The pipeline's timed work, run by the worker every minute (see `manage.py worker`).

Each part is safe to run any number of times and from several workers at once: what it does
is recorded under a unique key first, so a restart or an overlap never repeats a message.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.utils import timezone

from clearplan.pipeline import bookings, digests, followup

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PipelineRound:
    follow_ups: int
    reminders: int
    digests: int


def pipeline_upkeep(*, now: dt.datetime | None = None) -> PipelineRound:
    moment = now or timezone.now()
    return PipelineRound(
        follow_ups=followup.apply_due_rules(now=moment),
        reminders=bookings.send_due_reminders(now=moment),
        digests=digests.send_due_digests(now=moment),
    )
