"""Conversations in templates: times as the inbox says them, the navigation's unread badge, the
case page's conversation panel, and an SMS's length in parts."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from django import template
from django.utils import timezone

register = template.Library()


def _clock(local: dt.datetime) -> str:
    hour = local.hour % 12 or 12
    return f"{hour}:{local.minute:02d} {'am' if local.hour < 12 else 'pm'}"


@register.simple_tag
def conversation_when(
    value: dt.datetime | None, zone: ZoneInfo, long: bool = False, now: dt.datetime | None = None
) -> str:
    """In the clinic's zone: "10:42 am" today, "Yesterday", "3 Nov", "3 Nov 2024" in another year;
    `long` adds the time to the day ("Yesterday, 4:05 pm")."""
    if value is None:
        return ""
    local = value.astimezone(zone)
    today = (now or timezone.now()).astimezone(zone).date()
    if local.date() == today:
        return f"Today, {_clock(local)}" if long else _clock(local)
    if local.date() == today - dt.timedelta(days=1):
        day = "Yesterday"
    elif local.date() == today + dt.timedelta(days=1):
        day = "Tomorrow"
    elif local.year == today.year:
        day = f"{local.day} {local:%b}"
    else:
        day = f"{local.day} {local:%b} {local.year}"
    return f"{day}, {_clock(local)}" if long else day


@register.filter
def sms_length(text: str) -> str:
    """ "By SMS: 1 text message (42 characters with your sign-off)." (the same count as the pack's
    send form; conversations.js says the same as the team types)."""
    from clearplan.packs.staff_forms import sms_length as measure

    length = measure(text or "")
    noun = "message" if length.segments == 1 else "messages"
    kind = " Accented letters and emoji leave less room in each text." if length.unicode else ""
    return f"By SMS: {length.segments} text {noun} ({length.characters} characters with your sign-off).{kind}"


@register.inclusion_tag("messaging/_nav_badge.html", takes_context=True)
def conversations_nav_badge(context: dict[str, Any]) -> dict[str, Any]:
    from clearplan.messaging.conversations.selectors import unread_conversations

    request = context.get("request")
    clinic = getattr(request, "clinic", None)
    user = getattr(request, "user", None)
    if clinic is None or user is None or not user.is_authenticated:
        return {"show": False}
    return {"show": True, "unread": unread_conversations(clinic)}


@register.inclusion_tag("messaging/_case_conversation.html", takes_context=True)
def case_conversation(context: dict[str, Any], case: Any) -> dict[str, Any]:
    """The case page's small panel: the patient's thread, its last message and whether it waits."""
    from clearplan.lib.clinic_time import clinic_zone
    from clearplan.messaging.models import Conversation

    conversation = Conversation.objects.filter(patient_id=case.patient_id, clinic_id=case.clinic_id).first()
    return {"conversation": conversation, "case": case, "zone": clinic_zone(case.clinic)}
