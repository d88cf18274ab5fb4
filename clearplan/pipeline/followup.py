"""Calm follow-up: each clinic's rules, applied by the worker."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from clearplan.pipeline.models import FollowUpSettings

if TYPE_CHECKING:
    from clearplan.accounts.models import Clinic


def settings_for(clinic: Clinic) -> FollowUpSettings:
    """The clinic's follow-up settings; the defaults (unsaved) when it has none."""
    found = FollowUpSettings.objects.filter(clinic=clinic).first()
    return found if found is not None else FollowUpSettings(clinic=clinic)


def apply_due_rules(*, now: dt.datetime | None = None) -> int:
    """Apply every rule that is due; returns how many actions were taken."""
    return 0
