"""The bell in the staff header."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import template
from django.utils import timezone

from clearplan.lib.clinic_time import clinic_zone
from clearplan.notifications.models import Notification
from clearplan.notifications.selectors import unread_count
from clearplan.packs.engagement_selectors import when_label

register = template.Library()


@register.inclusion_tag("notifications/_bell.html", takes_context=True)
def notification_bell(context: dict[str, Any]) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    if request is None or user is None or not user.is_authenticated:
        return {"show": False}
    # The clinics the header's switcher offers: the ones the user can still open.
    count = unread_count(user, getattr(request, "available_clinics", []))
    return {"show": True, "unread": count, "current": request.resolver_match and request.resolver_match.namespace}


@register.filter
def notification_when(notification: Notification) -> str:
    """ "Just now", "12 min ago", then "12 Mar, 7:41 pm" in the time zone of the notification's clinic."""
    age = timezone.now() - notification.created_at
    if age < timedelta(minutes=1):
        return "Just now"
    if age < timedelta(hours=1):
        return f"{age.seconds // 60} min ago"
    return when_label(notification.created_at, clinic_zone(notification.clinic))
