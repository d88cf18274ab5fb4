"""Business days and contact hours in a clinic's own calendar. Plain Python, no database.

The sums here use the clinic's wall clock (naive local date-times). "After 3 business days" means
the same time on the clock three business days later, whatever daylight saving did in between.
An anchor on a day the clinic is closed counts from the start of the next business day: a pack
sent on Saturday has had one full business day by Tuesday morning.

`due_before` gives the same rule the other way round: from now, the latest anchor that is due.
The worker turns that into one bound in a query, so it never loads cases that are not yet due.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

MIDNIGHT = dt.time(0, 0)
ONE_DAY = dt.timedelta(days=1)
WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def local_wall(moment: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    """The clinic's wall clock at `moment` (an aware date-time), without its time zone."""
    return moment.astimezone(zone).replace(tzinfo=None)


def instant_of(wall: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    """The moment the clinic's clock shows `wall`, in UTC. A time that happens twice when the
    clocks go back is taken the first time; one skipped when they go forward, as if the clocks
    had not changed yet (an hour later on the clock)."""
    return wall.replace(tzinfo=zone, fold=0).astimezone(dt.UTC)


def business_days_from_text(text: str) -> frozenset[int]:
    """ISO weekdays (Monday = 1) from their digits, as FollowUpSettings stores them ("12345")."""
    return frozenset(int(char) for char in text if char in "1234567")


def business_days_label(days: frozenset[int]) -> str:
    """ "Monday to Friday", "Monday, Wednesday and Friday", "every day"."""
    ordered = sorted(days)
    if len(ordered) == 7:
        return "every day"
    if len(ordered) >= 3 and ordered == list(range(ordered[0], ordered[-1] + 1)):
        return f"{WEEKDAY_NAMES[ordered[0] - 1]} to {WEEKDAY_NAMES[ordered[-1] - 1]}"
    names = [WEEKDAY_NAMES[day - 1] for day in ordered]
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


@dataclass(frozen=True)
class WorkingWeek:
    """When a clinic works: its business days (ISO weekdays) and the hours patients may be contacted."""

    business_days: frozenset[int]
    contact_from: dt.time
    contact_until: dt.time

    def __post_init__(self) -> None:
        if not self.business_days or not self.business_days <= frozenset(range(1, 8)):
            raise ValueError("A working week needs at least one business day, Monday = 1 to Sunday = 7.")

    def is_business_day(self, day: dt.date) -> bool:
        return day.isoweekday() in self.business_days

    def is_contact_time(self, wall: dt.datetime) -> bool:
        """A business day, from `contact_from` up to (not including) `contact_until`."""
        return self.is_business_day(wall.date()) and self.contact_from <= wall.time() < self.contact_until

    def next_business_day(self, day: dt.date) -> dt.date:
        """`day` itself when it is a business day, otherwise the next one."""
        while not self.is_business_day(day):
            day += ONE_DAY
        return day

    def add_business_days(self, day: dt.date, count: int) -> dt.date:
        """The `count`-th business day after `day` (0: `day` itself)."""
        for _ in range(count):
            day = self.next_business_day(day + ONE_DAY)
        return day

    def counting_from(self, anchor: dt.datetime) -> dt.datetime:
        """Where counting starts: the anchor, or the start of the next business day when it fell on a closed day."""
        if self.is_business_day(anchor.date()):
            return anchor
        return dt.datetime.combine(self.next_business_day(anchor.date()), MIDNIGHT)

    def due(self, anchor: dt.datetime, business_days: int) -> dt.datetime:
        """When something `business_days` after `anchor` falls due, on the wall clock."""
        start = self.counting_from(anchor)
        return dt.datetime.combine(self.add_business_days(start.date(), business_days), start.time())

    def due_before(self, now: dt.datetime, business_days: int) -> dt.datetime:
        """The bound B for which, at wall time `now`, an anchor A is due exactly when A < B.

        `due` never decreases as the anchor gets later, so walking back one day at a time from
        today, the first day with anything due fixes the bound."""
        day = now.date()
        # Enough days to pass `business_days` business days even with one business day a week.
        for _ in range(7 * (business_days + 2)):
            if self.is_business_day(day):
                target = self.add_business_days(day, business_days)
                if target < now.date():
                    return dt.datetime.combine(day + ONE_DAY, MIDNIGHT)
                if target == now.date():
                    # Anchors on `day` up to and including now's time on the clock.
                    return dt.datetime.combine(day, now.time()) + dt.timedelta(microseconds=1)
            elif self.due(dt.datetime.combine(day, MIDNIGHT), business_days) <= now:
                return dt.datetime.combine(day + ONE_DAY, MIDNIGHT)
            day -= ONE_DAY
        raise AssertionError("unreachable: a working week has a business day every seven days")

    def next_contact_time(self, wall: dt.datetime) -> dt.datetime:
        """The first moment at or after `wall` when patients may be contacted."""
        day = wall.date()
        if self.is_contact_time(wall):
            return wall
        if self.is_business_day(day) and wall.time() < self.contact_from:
            return dt.datetime.combine(day, self.contact_from)
        return dt.datetime.combine(self.next_business_day(day + ONE_DAY), self.contact_from)
