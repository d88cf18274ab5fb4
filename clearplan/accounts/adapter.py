from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from allauth.account import app_settings as allauth_account_settings
from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.internal.flows.login import get_authentication_records
from allauth.core import context as allauth_context
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.utils.html import strip_tags

from clearplan.accounts import lockout

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser
    from django.http import HttpRequest


class AccountAdapter(DefaultAccountAdapter):
    """Staff join by invitation only; there is no public sign-up.

    Sign-in also passes through our lock-out (clearplan.accounts.lockout), and every
    email allauth sends goes out through the background email queue.
    """

    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return False

    def pre_authenticate(self, request: HttpRequest, **credentials: Any) -> None:
        # allauth's flood limit first: an attempt it refuses never reaches a password check,
        # so it must not hold one of this address's reserved attempts.
        super().pre_authenticate(request, **credentials)
        # Counted before the password is checked, so parallel requests cannot each try one.
        lock = lockout.sign_in_attempt_reserve(email=credentials.get("email", ""))
        if lock is not None:
            raise ValidationError(lock.message, code="locked_out")

    def authenticate(self, request: HttpRequest, **credentials: Any) -> AbstractBaseUser | None:
        user = super().authenticate(request, **credentials)
        if user is not None:
            lockout.sign_in_failures_clear(email=credentials.get("email", ""))
        return user

    def authentication_failed(self, request: HttpRequest, **credentials: Any) -> None:
        lock = lockout.sign_in_failure_record(email=credentials.get("email", ""), request=request)
        if lock is not None:
            # Say so on the attempt that triggers the lock, not only on the next one.
            raise ValidationError(lock.message, code="locked_out")

    def is_reauthentication_required(self, *, app: str, **kwargs: Any) -> bool:
        """Changing two-factor settings asks for the password again, unless the person
        signed in within the last few minutes: straight after signing in (or accepting an
        invitation, or being sent to set up two-factor) asking again only adds friction."""
        if not super().is_reauthentication_required(app=app, **kwargs):
            return False
        return not signed_in_recently(allauth_context.request)

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        from django.contrib.sites.shortcuts import get_current_site

        from clearplan.messaging.services import email_send_later

        request = allauth_context.request
        message = self.render_mail(
            template_prefix,
            email,
            {"request": request, "email": email, "current_site": get_current_site(request), **context},
        )
        html: str | None = None
        if isinstance(message, EmailMultiAlternatives):
            html = next(
                (
                    content
                    for content, mimetype in message.alternatives
                    if mimetype == "text/html" and isinstance(content, str)
                ),
                None,
            )
        if message.content_subtype == "html":
            html, text = message.body, strip_tags(message.body)
        else:
            text = message.body
        email_send_later(to=list(message.to), subject=message.subject, text=text, html=html)


def signed_in_recently(request: HttpRequest | None) -> bool:
    if request is None or not request.user.is_authenticated:
        return False
    records = get_authentication_records(request, request.user)
    limit = allauth_account_settings.REAUTHENTICATION_TIMEOUT
    return any(time.time() - record["at"] < limit for record in records)
