"""Appointments recorded for a case, their confirmations, reminders and calendar files."""

from __future__ import annotations

import datetime as dt


def send_due_reminders(*, now: dt.datetime | None = None) -> int:
    """Send the reminders that are due; returns how many."""
    return 0
