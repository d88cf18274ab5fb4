"""The retry schedule for background work (clearplan.lib.retry), worked out by hand.

Default policy: first wait 30 s, each wait four times the last, capped at 2 hours, moved up
to 20 % either way by the random fraction (0.5 = no change), six attempts in all.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clearplan.lib.retry import RetryPolicy

POLICY = RetryPolicy()


@pytest.mark.parametrize(
    ("attempt", "expected"),
    [
        (1, timedelta(seconds=30)),  # 30 s
        (2, timedelta(minutes=2)),  # 30 s × 4 = 120 s
        (3, timedelta(minutes=8)),  # 120 s × 4 = 480 s
        (4, timedelta(minutes=32)),  # 480 s × 4 = 1,920 s
        (5, timedelta(hours=2)),  # 1,920 s × 4 = 7,680 s, capped at 7,200 s
    ],
)
def test_the_wait_grows_four_times_per_attempt_up_to_two_hours(attempt, expected):
    assert POLICY.delay_after(attempt, random_fraction=0.5) == expected


def test_it_stops_after_the_sixth_attempt():
    assert POLICY.max_attempts == 6
    assert POLICY.delay_after(6, random_fraction=0.5) is None
    assert POLICY.delay_after(7, random_fraction=0.5) is None


def test_the_whole_schedule_gives_a_mail_server_nearly_three_hours_to_come_back():
    total = sum((POLICY.delay_after(attempt, random_fraction=0.5) for attempt in range(1, 6)), timedelta())
    # 30 s + 2 min + 8 min + 32 min + 120 min = 162 min 30 s
    assert total == timedelta(minutes=162, seconds=30)


def test_jitter_moves_a_wait_at_most_a_fifth_either_way():
    # 30 s × (1 − 0.2) = 24 s; 30 s × (1 + 0.2 × (2 × 0.75 − 1)) = 33 s
    assert POLICY.delay_after(1, random_fraction=0.0) == timedelta(seconds=24)
    assert POLICY.delay_after(1, random_fraction=0.75) == timedelta(seconds=33)
    # The cap applies before the jitter, so capped retries still spread out: 7,200 s × 0.8 = 5,760 s
    assert POLICY.delay_after(5, random_fraction=0.0) == timedelta(seconds=5760)


def test_a_policy_with_a_single_attempt_never_retries():
    assert RetryPolicy(max_attempts=1).delay_after(1, random_fraction=0.5) is None


def test_a_huge_number_of_attempts_stays_at_the_cap():
    policy = RetryPolicy(max_attempts=10_000)
    assert policy.delay_after(9_999, random_fraction=0.5) == timedelta(hours=2)


@pytest.mark.parametrize(
    ("attempt", "fraction"),
    [(0, 0.5), (-1, 0.5), (1, 1.0), (1, -0.1)],
)
def test_it_refuses_attempt_numbers_and_fractions_out_of_range(attempt, fraction):
    with pytest.raises(ValueError, match=r"random_fraction|counted from 1"):
        POLICY.delay_after(attempt, random_fraction=fraction)


@pytest.mark.parametrize(
    "settings_",
    [
        {"max_attempts": 0},
        {"first_delay": timedelta(0)},
        {"factor": 0.5},
        {"longest_delay": timedelta(seconds=1)},
        {"jitter": 1.0},
    ],
)
def test_it_refuses_a_policy_that_makes_no_sense(settings_):
    with pytest.raises(ValueError, match="must"):
        RetryPolicy(**settings_)


@given(
    attempt=st.integers(min_value=1, max_value=5),
    fraction=st.floats(min_value=0, max_value=1, exclude_max=True),
)
def test_every_wait_lies_within_the_jitter_band_of_its_step(attempt, fraction):
    exact = min(30 * 4 ** (attempt - 1), 7200)
    delay = POLICY.delay_after(attempt, random_fraction=fraction).total_seconds()
    assert exact * 0.8 - 0.001 <= delay <= exact * 1.2 + 0.001


@given(fraction=st.floats(min_value=0, max_value=1, exclude_max=True))
def test_with_the_same_luck_a_later_attempt_never_waits_less(fraction):
    delays = [POLICY.delay_after(attempt, random_fraction=fraction) for attempt in range(1, 6)]
    assert delays == sorted(delays)
