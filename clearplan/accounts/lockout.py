"""Lock-out after repeated unsuccessful sign-ins.

After LOGIN_FAILURE_LIMIT wrong passwords in a row for one email address, that address
cannot sign in for LOGIN_LOCKOUT_MINUTES. Failures older than the lock-out period no
longer count, a correct password clears the count, and so does a password reset (the
lock-out message offers one).

Each attempt is reserved before its password is checked (`sign_in_attempt_reserve`), so
a burst of requests sent side by side gets no more password checks than the limit: the
attempt after the limit is refused even while the earlier ones are still being checked,
and even if it carries the right password.

The count is kept per address typed, in the database, so it holds across server
processes and restarts, and an unknown address behaves exactly like a real one: the
message shows the time in the installation's time zone for everyone, so it says nothing
about which clinic, if any, an address belongs to.
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from clearplan.accounts.models import SignInThrottle, User
from clearplan.audit.models import AuditEvent
from clearplan.audit.services import audit_record

if TYPE_CHECKING:
    from django.http import HttpRequest


@dataclass(frozen=True)
class Lock:
    until: datetime

    @property
    def message(self) -> str:
        local = self.until.astimezone(zoneinfo.ZoneInfo(settings.TIME_ZONE))
        clock = f"{local:%I:%M}".lstrip("0") + (" am" if local.hour < 12 else " pm")
        return (
            f"For your security this account is locked for {settings.LOGIN_LOCKOUT_MINUTES} minutes after "
            f"{settings.LOGIN_FAILURE_LIMIT} unsuccessful sign-ins. Try again at {clock}, or reset your password."
        )


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()[:254]


def _account_for(email: str) -> User | None:
    return User.objects.filter(email__iexact=email).first()


def _audit_label(email: str) -> str:
    # Someone may type a password into the email box; only keep what looks like an address.
    return email if "@" in email else "(not an email address)"


def _window() -> timedelta:
    return timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES)


def _throttle_for_update(email: str) -> SignInThrottle:
    """The address's row, locked until the surrounding transaction ends.

    get_or_create retries the read inside a savepoint when a parallel request inserted
    the row first, so two first attempts for a new address cannot both start at zero.
    """
    throttle, _ = SignInThrottle.objects.select_for_update().get_or_create(email=email)
    return throttle


def _start_afresh_if_over(throttle: SignInThrottle, now: datetime) -> None:
    """Attempts from before the lock-out period, or from before a lock that has ended, no longer count."""
    stale = throttle.last_attempt_at is None or now - throttle.last_attempt_at > _window()
    lock_ended = throttle.locked_until is not None and now >= throttle.locked_until
    if stale or lock_ended:
        throttle.attempts = 0
        throttle.failures = 0
        throttle.locked_until = None


def sign_in_attempt_reserve(*, email: str) -> Lock | None:
    """Count one sign-in attempt before its password is checked.

    Returns the lock when the attempt is refused: the address is locked, or enough
    attempts are already counted (some may still be under way) to reach the limit.
    """
    email = normalise_email(email)
    if not email:
        return None
    now = timezone.now()
    with transaction.atomic():
        throttle = _throttle_for_update(email)
        if throttle.locked_until is not None and throttle.is_locked_at(now):
            return Lock(until=throttle.locked_until)
        _start_afresh_if_over(throttle, now)
        if throttle.attempts >= settings.LOGIN_FAILURE_LIMIT:
            # The attempts that used up the limit are still being checked; the lock they
            # are about to set will end at about this time.
            return Lock(until=now + _window())
        throttle.attempts += 1
        throttle.last_attempt_at = now
        throttle.save(update_fields=["attempts", "failures", "last_attempt_at", "locked_until"])
    return None


def sign_in_failure_record(*, email: str, request: HttpRequest | None) -> Lock | None:
    """Record that a reserved attempt had the wrong password. Returns the lock when one holds."""
    email = normalise_email(email)
    if not email:
        return None
    now = timezone.now()
    account = _account_for(email)
    with transaction.atomic():
        throttle = _throttle_for_update(email)
        if throttle.locked_until is not None and throttle.is_locked_at(now):
            # An attempt that was under way when another one set the lock.
            existing_lock: Lock | None = Lock(until=throttle.locked_until)
        else:
            existing_lock = None
            _start_afresh_if_over(throttle, now)
        throttle.failures += 1
        # A correct password elsewhere may have cleared the row while this one was checked.
        throttle.attempts = max(throttle.attempts, throttle.failures)
        throttle.last_attempt_at = now
        starts_lock = existing_lock is None and throttle.failures >= settings.LOGIN_FAILURE_LIMIT
        if starts_lock:
            throttle.locked_until = now + _window()
        throttle.save()
        # Rows for addresses nobody has tried for a day carry no lock and no count that
        # matters; clearing them here keeps the table small however many addresses are tried.
        SignInThrottle.objects.filter(last_attempt_at__lt=now - timedelta(days=1)).delete()
        audit_record(
            action=AuditEvent.Action.SIGN_IN_FAILED,
            request=request,
            actor=account,
            obj=account,
            object_label="" if account else _audit_label(email),
            changes={"unsuccessful_in_a_row": throttle.failures},
        )
        if not starts_lock:
            return existing_lock
        assert throttle.locked_until is not None
        audit_record(
            action=AuditEvent.Action.LOCKED_OUT,
            request=request,
            actor=account,
            obj=account,
            object_label="" if account else _audit_label(email),
            changes={"locked_until": throttle.locked_until.isoformat(), "minutes": settings.LOGIN_LOCKOUT_MINUTES},
        )
        return Lock(until=throttle.locked_until)


def sign_in_failures_clear(*, email: str) -> None:
    """A correct password or a completed password reset starts the count again."""
    email = normalise_email(email)
    if email:
        SignInThrottle.objects.filter(email=email).delete()
