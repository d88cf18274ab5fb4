"""Lock-out after repeated unsuccessful sign-ins.

After LOGIN_FAILURE_LIMIT wrong passwords in a row for one email address, that address
cannot sign in for LOGIN_LOCKOUT_MINUTES. Failures older than the lock-out period no
longer count, a correct password clears the count, and so does a password reset (the
lock-out message offers one).

The count is kept per address typed, in the database, so it holds across server
processes and restarts, and an unknown address behaves exactly like a real one.
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from clearplan.accounts.models import Clinic, SignInThrottle, User
from clearplan.audit.models import AuditEvent
from clearplan.audit.services import audit_record

if TYPE_CHECKING:
    from django.http import HttpRequest


@dataclass(frozen=True)
class Lock:
    until: datetime
    time_zone: zoneinfo.ZoneInfo

    @property
    def message(self) -> str:
        local = self.until.astimezone(self.time_zone)
        clock = f"{local:%I:%M}".lstrip("0") + (" am" if local.hour < 12 else " pm")
        return (
            f"For your security this account is locked for {settings.LOGIN_LOCKOUT_MINUTES} minutes after "
            f"{settings.LOGIN_FAILURE_LIMIT} unsuccessful sign-ins. Try again at {clock}, or reset your password."
        )


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()[:254]


def _account_for(email: str) -> User | None:
    return User.objects.filter(email__iexact=email).select_related("organisation").first()


def _time_zone_for(user: User | None) -> zoneinfo.ZoneInfo:
    # The account's own clinic time is what the person expects to read; an unknown
    # address gets the installation's default zone.
    if user is not None:
        clinic = Clinic.objects.filter(memberships__user=user).order_by("memberships__created_at").first()
        if clinic is not None:
            return zoneinfo.ZoneInfo(clinic.time_zone)
    return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def _audit_label(email: str) -> str:
    # Someone may type a password into the email box; only keep what looks like an address.
    return email if "@" in email else "(not an email address)"


def _lock_end(throttle: SignInThrottle | None, now: datetime) -> datetime | None:
    """When the lock on this address ends, or None when no lock holds at `now`."""
    if throttle is not None and throttle.is_locked_at(now):
        return throttle.locked_until
    return None


def sign_in_lock(*, email: str) -> Lock | None:
    """The lock on this address right now, if there is one."""
    email = normalise_email(email)
    if not email:
        return None
    throttle = SignInThrottle.objects.filter(email=email).first()
    until = _lock_end(throttle, timezone.now())
    if until is None:
        return None
    return Lock(until=until, time_zone=_time_zone_for(_account_for(email)))


def sign_in_failure_record(*, email: str, request: HttpRequest | None) -> Lock | None:
    """Count one unsuccessful sign-in. Returns the lock when this failure starts one."""
    email = normalise_email(email)
    if not email:
        return None
    now = timezone.now()
    window = timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES)
    account = _account_for(email)
    with transaction.atomic():
        throttle, _ = SignInThrottle.objects.select_for_update().get_or_create(email=email)
        until = _lock_end(throttle, now)
        if until is not None:
            return Lock(until=until, time_zone=_time_zone_for(account))
        stale = throttle.last_failure_at is None or now - throttle.last_failure_at > window
        expired_lock = throttle.locked_until is not None and now >= throttle.locked_until
        throttle.failures = 1 if (stale or expired_lock) else throttle.failures + 1
        throttle.last_failure_at = now
        locks = throttle.failures >= settings.LOGIN_FAILURE_LIMIT
        until = now + window if locks else None
        throttle.locked_until = until
        throttle.save()
        # Rows for addresses nobody has tried for a day carry no lock and no count that
        # matters; clearing them here keeps the table small however many addresses are tried.
        SignInThrottle.objects.filter(last_failure_at__lt=now - timedelta(days=1)).delete()
        audit_record(
            action=AuditEvent.Action.SIGN_IN_FAILED,
            request=request,
            actor=account,
            obj=account,
            object_label="" if account else _audit_label(email),
            changes={"unsuccessful_in_a_row": throttle.failures},
        )
        if until is None:
            return None
        audit_record(
            action=AuditEvent.Action.LOCKED_OUT,
            request=request,
            actor=account,
            obj=account,
            object_label="" if account else _audit_label(email),
            changes={"locked_until": until.isoformat(), "minutes": settings.LOGIN_LOCKOUT_MINUTES},
        )
        return Lock(until=until, time_zone=_time_zone_for(account))


def sign_in_failures_clear(*, email: str) -> None:
    """A correct password or a completed password reset starts the count again."""
    email = normalise_email(email)
    if email:
        SignInThrottle.objects.filter(email=email).delete()
