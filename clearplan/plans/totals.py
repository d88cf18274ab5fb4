"""Totals for one plan option: pure arithmetic over plain values, with no database inside.

- A line's amount is its fee for one times its quantity, rounded to cents (half up).
- A phase's subtotal is the sum of its lines' amounts; the option's total is the sum of its
  phases, rounded to cents again (a no-op for sums of cents, kept so the rule is stated once).
- Visits are estimated per phase: the phase's chair minutes (each line's chair time times its
  quantity) divided by the length of one visit, rounded up. A phase is done in its own
  visits, so phases are never packed together into one visit.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
DEFAULT_VISIT_MINUTES = 60


def to_cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class LineFigures:
    unit_fee: Decimal
    quantity: int
    phase: int
    chair_minutes: int

    def __post_init__(self) -> None:
        if not isinstance(self.unit_fee, Decimal):
            # A float has already lost the cents it was meant to hold.
            raise TypeError("Fees are Decimal, never float.")
        if self.quantity < 1:
            raise ValueError("A line's quantity is at least 1.")
        if self.phase < 1:
            raise ValueError("Phases are numbered from 1.")
        if self.chair_minutes < 0:
            raise ValueError("Chair time cannot be negative.")

    @property
    def amount(self) -> Decimal:
        return to_cents(self.unit_fee * self.quantity)

    @property
    def minutes(self) -> int:
        return self.chair_minutes * self.quantity


@dataclass(frozen=True)
class PhaseTotal:
    phase: int
    subtotal: Decimal
    chair_minutes: int
    visits: int


@dataclass(frozen=True)
class OptionTotal:
    total: Decimal
    phases: tuple[PhaseTotal, ...]
    visits: int
    chair_minutes: int

    @property
    def has_several_phases(self) -> bool:
        return len(self.phases) > 1


def visits_for(minutes: int, visit_minutes: int = DEFAULT_VISIT_MINUTES) -> int:
    if visit_minutes < 1:
        raise ValueError("A visit lasts at least one minute.")
    return math.ceil(minutes / visit_minutes) if minutes > 0 else 0


def option_total(lines: Iterable[LineFigures], *, visit_minutes: int = DEFAULT_VISIT_MINUTES) -> OptionTotal:
    by_phase: dict[int, list[LineFigures]] = {}
    for line in lines:
        by_phase.setdefault(line.phase, []).append(line)
    phases = []
    for phase in sorted(by_phase):
        phase_lines = by_phase[phase]
        minutes = sum(line.minutes for line in phase_lines)
        phases.append(
            PhaseTotal(
                phase=phase,
                subtotal=to_cents(sum((line.amount for line in phase_lines), Decimal("0"))),
                chair_minutes=minutes,
                visits=visits_for(minutes, visit_minutes),
            )
        )
    return OptionTotal(
        total=to_cents(sum((phase.subtotal for phase in phases), Decimal("0"))),
        phases=tuple(phases),
        visits=sum(phase.visits for phase in phases),
        chair_minutes=sum(phase.chair_minutes for phase in phases),
    )
