"""Email digests for practice owners and managers, and for practitioners."""

from __future__ import annotations

import datetime as dt


def send_due_digests(*, now: dt.datetime | None = None) -> int:
    """Send the digests that are due; returns how many."""
    return 0
