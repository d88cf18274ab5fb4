"""Which fee applies: pure selection over plain values, with no database inside.

A fee schedule holds dated fees per procedure. On a given day the fee that applies is the
one with the latest start date on or before that day. A plan asks for a schedule (say
Concession); when that schedule has no fee for the procedure on that day, the clinic's
default schedule (Standard) answers instead, and the quote says so. Money is Decimal,
rounded to cents; a float is refused rather than rounded silently.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError

CENT = Decimal("0.01")
MAX_AMOUNT = Decimal("99999999.99")
MAX_OVERRIDE_REASON = 300


@dataclass(frozen=True)
class ScheduleRef:
    id: int
    name: str


@dataclass(frozen=True)
class FeeRow:
    schedule_id: int
    amount: Decimal
    effective_from: date


@dataclass(frozen=True)
class FeeQuote:
    """The fee for one procedure on one day, and where it came from.

    `amount` is None when no fee is set; `reason` then says why, in words staff can act on.
    `fell_back` is True when the requested schedule had no fee and the default's was used."""

    amount: Decimal | None
    currency: str
    schedule_id: int | None
    schedule_name: str
    effective_from: date | None
    requested_schedule_name: str
    fell_back: bool
    reason: str

    @property
    def is_set(self) -> bool:
        return self.amount is not None


@dataclass(frozen=True)
class FeeOverride:
    amount: Decimal
    reason: str


def day_in_words(day: date) -> str:
    """ "1 Jul 2025": the same in every locale, and never read the wrong way round."""
    return f"{day.day} {day:%b %Y}"


def latest_on(rows: Iterable[FeeRow], *, schedule_id: int, on_date: date) -> FeeRow | None:
    """The schedule's row with the latest start on or before `on_date`."""
    best: FeeRow | None = None
    for row in rows:
        if row.schedule_id != schedule_id or row.effective_from > on_date:
            continue
        if best is None or row.effective_from > best.effective_from:
            best = row
    return best


def next_after(rows: Iterable[FeeRow], *, schedule_id: int, on_date: date) -> FeeRow | None:
    """The schedule's first row starting after `on_date`: a fee change that is already planned."""
    soonest: FeeRow | None = None
    for row in rows:
        if row.schedule_id != schedule_id or row.effective_from <= on_date:
            continue
        if soonest is None or row.effective_from < soonest.effective_from:
            soonest = row
    return soonest


def select_fee(
    *,
    rows: Iterable[FeeRow],
    on_date: date,
    requested: ScheduleRef | None,
    default: ScheduleRef | None,
    procedure_label: str,
    currency: str,
) -> FeeQuote:
    """The fee for `procedure_label` on `on_date` from `requested` (or the default when none is
    requested), falling back to `default` when the requested schedule has none that day."""
    rows = list(rows)
    wanted = requested or default
    when = day_in_words(on_date)
    if wanted is None:
        return FeeQuote(
            amount=None,
            currency=currency,
            schedule_id=None,
            schedule_name="",
            effective_from=None,
            requested_schedule_name="",
            fell_back=False,
            reason=f"This clinic has no fee schedule yet, so there is no fee for {procedure_label}.",
        )
    found = latest_on(rows, schedule_id=wanted.id, on_date=on_date)
    if found is not None:
        return FeeQuote(
            amount=found.amount.quantize(CENT),
            currency=currency,
            schedule_id=wanted.id,
            schedule_name=wanted.name,
            effective_from=found.effective_from,
            requested_schedule_name=wanted.name,
            fell_back=False,
            reason=f"{wanted.name} fee from {day_in_words(found.effective_from)}.",
        )
    if default is not None and default.id != wanted.id:
        fallback = latest_on(rows, schedule_id=default.id, on_date=on_date)
        if fallback is not None:
            return FeeQuote(
                amount=fallback.amount.quantize(CENT),
                currency=currency,
                schedule_id=default.id,
                schedule_name=default.name,
                effective_from=fallback.effective_from,
                requested_schedule_name=wanted.name,
                fell_back=True,
                reason=(
                    f"{wanted.name} has no fee for {procedure_label} on {when}, so the {default.name} fee "
                    f"from {day_in_words(fallback.effective_from)} applies."
                ),
            )
        searched = f"{wanted.name} or {default.name}"
    else:
        searched = wanted.name
    return FeeQuote(
        amount=None,
        currency=currency,
        schedule_id=None,
        schedule_name="",
        effective_from=None,
        requested_schedule_name=wanted.name,
        fell_back=False,
        reason=f"No fee is set for {procedure_label} in {searched} on {when}.",
    )


def parse_amount(value: object) -> Decimal:
    """A fee typed or passed in, as Decimal cents. Raises ValueError with a message for staff."""
    if isinstance(value, float):
        # A float has already lost the cents it was meant to hold.
        raise TypeError("Fees are Decimal or text, never float.")
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ValueError("Enter the fee.")
    text = str(value).strip().replace(",", "").replace("$", "").replace(" ", "")
    try:
        amount = Decimal(text)
    except InvalidOperation as error:
        raise ValueError("Enter an amount such as 180 or 180.50.") from error
    if not amount.is_finite():
        raise ValueError("Enter an amount such as 180 or 180.50.")
    if amount < 0:
        raise ValueError("A fee cannot be less than zero.")
    if amount != amount.quantize(CENT):
        raise ValueError("Use at most two decimal places (cents).")
    if amount > MAX_AMOUNT:
        raise ValueError("That is more than any fee can be; check the number of digits.")
    return amount.quantize(CENT)


def validate_fee_override(
    amount: object, reason: str, *, amount_field: str = "amount", reason_field: str = "reason"
) -> FeeOverride:
    """A fee typed over the schedule's on a plan line must be a sensible amount and say why.
    Raises ValidationError keyed by `amount_field` and `reason_field`, so a form can show each
    message at its own field."""
    errors: dict[str, str] = {}
    parsed = Decimal("0")
    try:
        parsed = parse_amount(amount)
    except ValueError as error:
        errors[amount_field] = str(error)
    reason = " ".join((reason or "").split())
    if not reason:
        errors[reason_field] = (
            "Say why this fee differs from the fee schedule, for example “Agreed by Dr Ngata for a long-term patient”."
        )
    elif len(reason) > MAX_OVERRIDE_REASON:
        errors[reason_field] = f"Keep the reason under {MAX_OVERRIDE_REASON} characters."
    if errors:
        raise ValidationError(errors)
    return FeeOverride(amount=parsed, reason=reason)
