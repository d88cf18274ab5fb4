"""Which fee a plan line takes: numbered scenarios with the working written out.

Schedules: Standard (id 1, the clinic's default) and Concession (id 2)."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from clearplan.catalog.fees import FeeRow, ScheduleRef, parse_amount, select_fee, validate_fee_override

STANDARD = ScheduleRef(id=1, name="Standard")
CONCESSION = ScheduleRef(id=2, name="Concession")


def quote(rows, on_date, requested=None, default=STANDARD):
    return select_fee(
        rows=rows, on_date=on_date, requested=requested, default=default, procedure_label="532", currency="AUD"
    )


def standard(amount: str, day: date) -> FeeRow:
    return FeeRow(schedule_id=STANDARD.id, amount=Decimal(amount), effective_from=day)


def concession(amount: str, day: date) -> FeeRow:
    return FeeRow(schedule_id=CONCESSION.id, amount=Decimal(amount), effective_from=day)


def test_scenario_1_a_single_standard_fee_applies_from_its_start_date():
    # Standard: $180 from 1 Jan 2025. A plan on 14 Mar 2025 → 1 Jan ≤ 14 Mar, so $180 from 1 Jan.
    result = quote([standard("180", date(2025, 1, 1))], date(2025, 3, 14))
    assert result.amount == Decimal("180.00")
    assert result.schedule_name == "Standard"
    assert result.effective_from == date(2025, 1, 1)
    assert not result.fell_back
    assert result.reason == "Standard fee from 1 Jan 2025."


def test_scenario_2_a_plan_on_the_start_date_already_gets_the_new_fee():
    # $180 from 1 Jan, $195 from 1 Jul. A plan on 1 Jul → both start on or before 1 Jul; the
    # latest start (1 Jul) wins: $195.
    rows = [standard("180", date(2025, 1, 1)), standard("195", date(2025, 7, 1))]
    assert quote(rows, date(2025, 7, 1)).amount == Decimal("195.00")


def test_scenario_3_a_plan_the_day_before_a_price_rise_keeps_the_old_fee():
    # $180 from 1 Jan, $195 from 1 Jul. A plan on 30 Jun → only 1 Jan ≤ 30 Jun: $180.
    rows = [standard("195", date(2025, 7, 1)), standard("180", date(2025, 1, 1))]
    result = quote(rows, date(2025, 6, 30))
    assert result.amount == Decimal("180.00")
    assert result.effective_from == date(2025, 1, 1)


def test_scenario_4_three_dated_fees_in_any_order_pick_the_latest_start_not_after_the_plan():
    # $150 from 1 Jan 2024, $165 from 1 Jan 2025, $180 from 1 Jan 2026, listed out of order.
    # A plan on 15 Aug 2025 → starts on or before it: 2024-01-01 and 2025-01-01; latest: $165.
    rows = [standard("180", date(2026, 1, 1)), standard("150", date(2024, 1, 1)), standard("165", date(2025, 1, 1))]
    assert quote(rows, date(2025, 8, 15)).amount == Decimal("165.00")


def test_scenario_5_a_plan_before_any_fee_starts_has_no_fee_and_says_so():
    # Standard's only fee starts 1 Jul 2025. A plan on 1 Jun 2025 → nothing starts by then.
    result = quote([standard("195", date(2025, 7, 1))], date(2025, 6, 1))
    assert result.amount is None
    assert not result.is_set
    assert result.reason == "No fee is set for 532 in Standard on 1 Jun 2025."


def test_scenario_6_the_concession_fee_applies_when_the_concession_schedule_has_one():
    # Standard $220, Concession $187 (both from 1 Jan). Concession requested on 1 Mar → $187
    # from Concession, no fall-back.
    rows = [standard("220", date(2025, 1, 1)), concession("187", date(2025, 1, 1))]
    result = quote(rows, date(2025, 3, 1), requested=CONCESSION)
    assert result.amount == Decimal("187.00")
    assert result.schedule_name == "Concession"
    assert not result.fell_back


def test_scenario_7_concession_without_a_fee_for_the_item_falls_back_to_standard():
    # Standard $1,680 for a crown from 1 Jan; Concession has no crown fee. Concession requested
    # on 1 Mar → Concession has nothing → default Standard: $1,680 from 1 Jan, marked as a fall-back.
    result = quote([standard("1680", date(2025, 1, 1))], date(2025, 3, 1), requested=CONCESSION)
    assert result.amount == Decimal("1680.00")
    assert result.schedule_name == "Standard"
    assert result.requested_schedule_name == "Concession"
    assert result.fell_back
    assert result.reason == (
        "Concession has no fee for 532 on 1 Mar 2025, so the Standard fee from 1 Jan 2025 applies."
    )


def test_scenario_8_a_concession_fee_that_starts_later_does_not_apply_yet():
    # Standard $220 from 1 Jan; Concession $187 from 1 Jul. Concession requested on 30 Jun →
    # Concession has nothing by 30 Jun → Standard $220. On 1 Jul → Concession $187.
    rows = [standard("220", date(2025, 1, 1)), concession("187", date(2025, 7, 1))]
    assert quote(rows, date(2025, 6, 30), requested=CONCESSION).amount == Decimal("220.00")
    assert quote(rows, date(2025, 7, 1), requested=CONCESSION).amount == Decimal("187.00")


def test_scenario_9_neither_schedule_has_a_fee():
    # Concession requested, and neither it nor Standard has a fee for the item.
    result = quote([], date(2025, 3, 1), requested=CONCESSION)
    assert result.amount is None
    assert result.reason == "No fee is set for 532 in Concession or Standard on 1 Mar 2025."


def test_scenario_10_asking_for_no_schedule_uses_the_default():
    # No schedule requested → the default (Standard) answers: $95.
    result = quote([standard("95", date(2025, 1, 1)), concession("80", date(2025, 1, 1))], date(2025, 2, 1))
    assert result.amount == Decimal("95.00")
    assert result.schedule_name == "Standard"


def test_scenario_11_a_clinic_with_no_schedules_has_no_fee():
    result = quote([], date(2025, 2, 1), requested=None, default=None)
    assert result.amount is None
    assert result.reason == "This clinic has no fee schedule yet, so there is no fee for 532."


def test_scenario_12_fees_come_back_in_cents():
    # $180.5 stored → quoted as $180.50, two decimal places.
    result = quote([standard("180.5", date(2025, 1, 1))], date(2025, 2, 1))
    assert str(result.amount) == "180.50"


def test_scenario_13_requesting_the_default_schedule_itself_never_falls_back_to_itself():
    # Standard requested and it has no fee → no fee, named once.
    result = quote([concession("80", date(2025, 1, 1))], date(2025, 2, 1), requested=STANDARD)
    assert result.amount is None
    assert result.reason == "No fee is set for 532 in Standard on 1 Feb 2025."


# ---------- Overrides on a plan line ----------


def test_an_override_needs_a_reason():
    with pytest.raises(ValidationError) as refused:
        validate_fee_override(Decimal("150"), "   ")
    assert "Say why this fee differs" in refused.value.message_dict["reason"][0]


def test_an_override_with_an_amount_and_a_reason_is_accepted_and_tidied():
    override = validate_fee_override("1,250.5", "  Loyalty   discount agreed by Dr Ngata ")
    assert override.amount == Decimal("1250.50")
    assert override.reason == "Loyalty discount agreed by Dr Ngata"


def test_override_errors_are_reported_at_both_fields_and_can_be_named_for_a_form():
    with pytest.raises(ValidationError) as refused:
        validate_fee_override("-5", "", amount_field="fee", reason_field="fee_reason")
    assert refused.value.message_dict == {
        "fee": ["A fee cannot be less than zero."],
        "fee_reason": [
            "Say why this fee differs from the fee schedule, for example “Agreed by Dr Ngata for a long-term patient”."
        ],
    }


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "Enter the fee."),
        ("abc", "Enter an amount such as 180 or 180.50."),
        ("12.345", "Use at most two decimal places (cents)."),
        ("-1", "A fee cannot be less than zero."),
        ("100000000", "That is more than any fee can be; check the number of digits."),
        ("NaN", "Enter an amount such as 180 or 180.50."),
    ],
)
def test_bad_amounts_get_a_clear_message(typed, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_amount(typed)


def test_a_float_is_refused_rather_than_rounded():
    with pytest.raises(TypeError):
        parse_amount(180.1)


def test_amounts_typed_with_a_dollar_sign_and_commas_are_read():
    assert parse_amount("$1,680") == Decimal("1680.00")
    assert parse_amount(Decimal("0")) == Decimal("0.00")
