from __future__ import annotations

from typing import TYPE_CHECKING, Any

from allauth.account.adapter import DefaultAccountAdapter
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
        lock = lockout.sign_in_lock(email=credentials.get("email", ""))
        if lock is not None:
            raise ValidationError(lock.message, code="locked_out")
        super().pre_authenticate(request, **credentials)

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

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        from allauth.core import context as allauth_context
        from django.contrib.sites.shortcuts import get_current_site

        from clearplan.messaging.services import email_send_later

        request = allauth_context.request
        message = self.render_mail(
            template_prefix,
            email,
            {"request": request, "email": email, "current_site": get_current_site(request), **context},
        )
        html = None
        if isinstance(message, EmailMultiAlternatives):
            html = next((content for content, mimetype in message.alternatives if mimetype == "text/html"), None)
        if message.content_subtype == "html":
            html, text = message.body, strip_tags(message.body)
        else:
            text = message.body
        email_send_later(to=list(message.to), subject=message.subject, text=text, html=html)
