"""Audit rows for signing in and out, and lock-out housekeeping after a password reset."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from allauth.account.signals import password_reset, user_logged_in
from django.contrib.auth.signals import user_logged_out
from django.dispatch import receiver

from clearplan.accounts import lockout
from clearplan.audit.models import AuditEvent
from clearplan.audit.services import audit_record

if TYPE_CHECKING:
    from django.http import HttpRequest

    from clearplan.accounts.models import User

# Set on the request by whoever signs a person out for a reason other than their own click.
SIGN_OUT_REASON_ATTRIBUTE = "clearplan_sign_out_reason"


@receiver(user_logged_in, dispatch_uid="clearplan_audit_sign_in")
def audit_sign_in(sender: Any, request: HttpRequest, user: User, **kwargs: Any) -> None:
    # allauth sends this once every step (password, then any two-factor code) has passed.
    audit_record(action=AuditEvent.Action.SIGN_IN, request=request, actor=user, obj=user)


@receiver(user_logged_out, dispatch_uid="clearplan_audit_sign_out")
def audit_sign_out(sender: Any, request: HttpRequest | None, user: User | None, **kwargs: Any) -> None:
    if user is None:
        return
    reason = getattr(request, SIGN_OUT_REASON_ATTRIBUTE, "") if request is not None else ""
    audit_record(
        action=AuditEvent.Action.SIGN_OUT,
        request=request,
        actor=user,
        obj=user,
        changes={"reason": reason} if reason else None,
    )


@receiver(password_reset, dispatch_uid="clearplan_clear_lockout_after_reset")
def clear_lockout_after_password_reset(sender: Any, request: HttpRequest, user: User, **kwargs: Any) -> None:
    lockout.sign_in_failures_clear(email=user.email)
