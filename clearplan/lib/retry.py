"""How long to wait before trying a failed piece of background work again.

Pure arithmetic, so the schedule can be tested exactly: the caller supplies the random
number that spreads retries out, and gets back a delay or "stop trying".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter.

    With the defaults the waits after attempts 1 to 5 are about 30 seconds, 2 minutes,
    8 minutes, 32 minutes and 2 hours (capped), each moved up to a fifth either way so that
    many messages failing together do not all come back at the same moment. The sixth
    failure is final: by then a mail server has been unreachable for nearly three hours,
    and the practice should hear about it rather than wait for ever.
    """

    max_attempts: int = 6
    first_delay: timedelta = timedelta(seconds=30)
    factor: float = 4.0
    longest_delay: timedelta = timedelta(hours=2)
    jitter: float = 0.2

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1.")
        if self.first_delay <= timedelta(0):
            raise ValueError("first_delay must be longer than zero.")
        if self.factor < 1:
            raise ValueError("factor must be at least 1, or the waits would shrink.")
        if self.longest_delay < self.first_delay:
            raise ValueError("longest_delay must not be shorter than first_delay.")
        if not 0 <= self.jitter < 1:
            raise ValueError("jitter must be at least 0 and below 1.")

    def delay_after(self, attempt: int, *, random_fraction: float) -> timedelta | None:
        """The wait before the next attempt, after attempt number `attempt` (1 = the first)
        failed; None when that was the last attempt allowed.

        `random_fraction` is a number in [0, 1): 0.5 gives the exact exponential delay,
        0 the shortest and values near 1 the longest.
        """
        if attempt < 1:
            raise ValueError("Attempts are counted from 1.")
        if not 0 <= random_fraction < 1:
            raise ValueError("random_fraction must be at least 0 and below 1.")
        if attempt >= self.max_attempts:
            return None
        longest = self.longest_delay.total_seconds()
        # Capping the exponent first keeps the number finite however many attempts are allowed.
        seconds = self.first_delay.total_seconds()
        for _ in range(attempt - 1):
            seconds *= self.factor
            if seconds >= longest:
                seconds = longest
                break
        spread = 1 - self.jitter + 2 * self.jitter * random_fraction
        return timedelta(seconds=round(seconds * spread, 3))
