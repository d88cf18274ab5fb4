"""Option totals: numbered scenarios with the working written out."""

from decimal import Decimal

import pytest

from clearplan.plans.totals import LineFigures, option_total, visits_for


def line(fee: str, quantity: int = 1, phase: int = 1, minutes: int = 30) -> LineFigures:
    return LineFigures(unit_fee=Decimal(fee), quantity=quantity, phase=phase, chair_minutes=minutes)


def test_scenario_1_single_phase_total_and_visits():
    # Exam 65.00 ×1 + filling 180.00 ×2 = 65.00 + 360.00 = 425.00.
    # Minutes: 30 + 2×40 = 110 → 110 / 60 = 1.83 → 2 visits.
    totals = option_total([line("65.00", minutes=30), line("180.00", quantity=2, minutes=40)])
    assert totals.total == Decimal("425.00")
    assert totals.chair_minutes == 110
    assert totals.visits == 2
    assert not totals.has_several_phases


def test_scenario_2_phases_are_subtotalled_and_visited_separately():
    # Phase 1: scaling 240.50 ×2 = 481.00, 2×45 = 90 min → 2 visits.
    # Phase 2: crown 1650.00, 90 min → 2 visits; exam 65.00, 30 min → with the crown 120 min → 2 visits.
    # Total 481.00 + 1715.00 = 2196.00; visits 2 + 2 = 4 (phases never share a visit).
    totals = option_total(
        [
            line("1650.00", phase=2, minutes=90),
            line("240.50", quantity=2, phase=1, minutes=45),
            line("65.00", phase=2, minutes=30),
        ]
    )
    assert [(p.phase, p.subtotal, p.chair_minutes, p.visits) for p in totals.phases] == [
        (1, Decimal("481.00"), 90, 2),
        (2, Decimal("1715.00"), 120, 2),
    ]
    assert totals.total == Decimal("2196.00")
    assert totals.visits == 4


def test_scenario_3_fractions_of_a_cent_round_half_up_at_the_line():
    # 33.335 ×3 = 100.005 → 100.01 (half up at the line); 0.125 ×1 → 0.13. Total 100.14.
    totals = option_total([line("33.335", quantity=3), line("0.125")])
    assert totals.total == Decimal("100.14")


def test_scenario_4_an_option_without_lines_costs_nothing_and_needs_no_visit():
    totals = option_total([])
    assert totals.total == Decimal("0.00")
    assert totals.visits == 0
    assert totals.phases == ()


def test_scenario_5_exactly_one_visit_length_is_one_visit_and_a_minute_more_is_two():
    # 60 min / 60 = 1 visit; 61 min / 60 = 1.02 → 2 visits.
    assert visits_for(60) == 1
    assert visits_for(61) == 2
    # A 45-minute visit limit: 90 min = 2 visits, 91 min = 3 visits.
    assert visits_for(90, 45) == 2
    assert visits_for(91, 45) == 3


def test_fees_are_never_floats():
    with pytest.raises(TypeError):
        LineFigures(unit_fee=1.1, quantity=1, phase=1, chair_minutes=10)  # type: ignore[arg-type]


def test_quantity_and_phase_start_at_one():
    with pytest.raises(ValueError, match="quantity is at least 1"):
        line("10.00", quantity=0)
    with pytest.raises(ValueError, match="numbered from 1"):
        line("10.00", phase=0)
