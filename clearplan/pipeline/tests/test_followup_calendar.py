"""Business days and contact hours on the clinic's wall clock: worked examples, then properties
checked over many generated weeks, anchors and moments."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clearplan.pipeline.followup_calendar import (
    WorkingWeek,
    business_days_from_text,
    business_days_label,
    instant_of,
    local_wall,
)

WEEKDAYS = WorkingWeek(frozenset({1, 2, 3, 4, 5}), dt.time(9), dt.time(18))


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


# ---------- Worked examples (2025-03-03 is a Monday) ----------


@pytest.mark.parametrize(
    ("anchor", "days", "due"),
    [
        # 1. Monday 10:00 + 1 business day → Tuesday 10:00.
        ("2025-03-03 10:00", 1, "2025-03-04 10:00"),
        # 2. Friday 16:00 + 1 → Monday 16:00 (the weekend does not count).
        ("2025-03-07 16:00", 1, "2025-03-10 16:00"),
        # 3. Saturday 11:00 + 1: counting starts Monday 00:00, so Monday is the one full day → Tuesday 00:00.
        ("2025-03-08 11:00", 1, "2025-03-11 00:00"),
        # 4. Wednesday 14:30 + 3 → Thursday, Friday, Monday 14:30.
        ("2025-03-05 14:30", 3, "2025-03-10 14:30"),
        # 5. Tuesday 09:15 + 7 → Wed, Thu, Fri, Mon, Tue, Wed, Thu 09:15.
        ("2025-03-04 09:15", 7, "2025-03-13 09:15"),
    ],
)
def test_due_is_the_same_clock_time_the_given_business_days_later(anchor, days, due):
    assert WEEKDAYS.due(at(anchor), days) == at(due)


def test_a_clinic_open_on_saturdays_counts_them():
    six_days = WorkingWeek(frozenset({1, 2, 3, 4, 5, 6}), dt.time(9), dt.time(18))
    assert six_days.due(at("2025-03-07 16:00"), 1) == at("2025-03-08 16:00")


@pytest.mark.parametrize(
    ("moment", "contact"),
    [
        ("2025-03-07 21:00", "2025-03-10 09:00"),  # Friday evening → Monday morning
        ("2025-03-04 07:30", "2025-03-04 09:00"),  # Tuesday before hours → that morning
        ("2025-03-04 12:00", "2025-03-04 12:00"),  # inside hours: now
        ("2025-03-04 18:00", "2025-03-05 09:00"),  # the end of hours is already outside
        ("2025-03-09 10:00", "2025-03-10 09:00"),  # Sunday → Monday
    ],
)
def test_next_contact_time(moment, contact):
    assert WEEKDAYS.next_contact_time(at(moment)) == at(contact)


def test_the_wall_clock_in_sydney_across_the_start_of_daylight_saving():
    sydney = ZoneInfo("Australia/Sydney")
    # Friday 3 October 2025, 10:00 AEST (UTC+10); the clocks go forward on Sunday 5 October.
    sent = instant_of(at("2025-10-03 10:00"), sydney)
    assert sent == dt.datetime(2025, 10, 3, 0, 0, tzinfo=dt.UTC)
    due = instant_of(WEEKDAYS.due(local_wall(sent, sydney), 1), sydney)
    # Monday 10:00 AEDT (UTC+11): 71 hours later, not 72.
    assert due == dt.datetime(2025, 10, 5, 23, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("12345", "Monday to Friday"),
        ("135", "Monday, Wednesday and Friday"),
        ("1234567", "every day"),
        ("6", "Saturday"),
        ("67", "Saturday and Sunday"),
    ],
)
def test_business_days_read_as_words(text, label):
    assert business_days_label(business_days_from_text(text)) == label


def test_a_week_without_business_days_is_refused():
    with pytest.raises(ValueError, match="at least one business day"):
        WorkingWeek(frozenset(), dt.time(9), dt.time(18))


# ---------- Properties ----------

weeks = st.builds(
    WorkingWeek,
    business_days=st.frozensets(st.integers(1, 7), min_size=1),
    contact_from=st.just(dt.time(9)),
    contact_until=st.just(dt.time(18)),
)
moments = st.datetimes(min_value=dt.datetime(2024, 1, 1), max_value=dt.datetime(2027, 12, 31))


@given(week=weeks, anchor=moments, now=moments, days=st.integers(1, 15))
def test_due_before_is_exactly_the_rule_the_other_way_round(week, anchor, now, days):
    assert (anchor < week.due_before(now, days)) == (week.due(anchor, days) <= now)


@given(week=weeks, anchor=moments, later=st.timedeltas(min_value=dt.timedelta(0), max_value=dt.timedelta(days=30)))
def test_a_later_anchor_is_never_due_sooner(week, anchor, later):
    assert week.due(anchor + later, 3) >= week.due(anchor, 3)


@given(week=weeks, anchor=moments, days=st.integers(1, 15))
def test_due_lands_on_a_business_day_at_least_that_many_days_later(week, anchor, days):
    due = week.due(anchor, days)
    assert week.is_business_day(due.date())
    assert (due.date() - anchor.date()).days >= days


@given(week=weeks, moment=moments)
def test_the_next_contact_time_is_inside_contact_hours_and_not_before(week, moment):
    contact = week.next_contact_time(moment)
    assert contact >= moment
    assert week.is_contact_time(contact)
