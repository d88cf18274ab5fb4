"""The bell in the staff header."""

from __future__ import annotations

from typing import Any

from django import template

from clearplan.notifications.selectors import unread_count

register = template.Library()


@register.inclusion_tag("notifications/_bell.html", takes_context=True)
def notification_bell(context: dict[str, Any]) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"show": False}
    # The clinics the header's switcher offers: the ones the user can still open.
    count = unread_count(user, getattr(request, "available_clinics", []))
    return {"show": True, "unread": count, "current": request.resolver_match and request.resolver_match.namespace}
