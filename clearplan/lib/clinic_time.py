"""Times are stored in UTC and shown in the clinic's own time zone."""

from __future__ import annotations

import zoneinfo
from datetime import datetime
from typing import Protocol

from django.utils import timezone


class HasTimeZone(Protocol):
    time_zone: str


def clinic_zone(clinic: HasTimeZone) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(clinic.time_zone)


def clinic_now(clinic: HasTimeZone) -> datetime:
    return timezone.now().astimezone(clinic_zone(clinic))
