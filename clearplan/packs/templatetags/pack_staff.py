"""The case page's "Treatment pack" panel, and times as the clinic reads them.

The panel is drawn by `{% pack_panel case %}`, so the case page needs no pack code in its view."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from django import template
from django.utils.formats import date_format

from clearplan.lib.clinic_time import clinic_zone
from clearplan.packs import sending
from clearplan.packs.engagement_selectors import engagement_context
from clearplan.packs.selectors import pack_panel as build_pack_panel
from clearplan.packs.staff_forms import UpdateForm

register = template.Library()


@register.filter
def clinic_time(value: datetime | None, clinic: Any) -> str:
    """3 Mar 2026, 2:15 pm where the clinic is."""
    if not value:
        return ""
    local = value.astimezone(clinic_zone(clinic))
    clock = local.strftime("%I:%M %p").lstrip("0").lower()
    return f"{date_format(local, 'j M Y')}, {clock}"


@register.filter
def send_when(value: datetime | None, clinic: Any) -> str:
    """ "6:00 pm today", "9:30 am tomorrow" where the clinic is."""
    return sending.local_time(clinic, value) if value else ""


@register.inclusion_tag("packs/staff/_case_pack.html", takes_context=True)
def pack_panel(context: template.Context, case: Any) -> dict[str, Any]:
    return {
        # What the patient did with the pack: drawn by packs/staff/_engagement.html.
        **engagement_context(case),
        "case": case,
        "patient": case.patient,
        "panel": build_pack_panel(case),
        "update_form": UpdateForm(),
        # Each "Send a new link" button adds its link's id to this, so two buttons never share a key.
        "resend_key": uuid.uuid4().hex,
        "csrf_token": context.get("csrf_token"),
        "request": context.get("request"),
        "active_clinic": context.get("active_clinic"),
        "user": context.get("user"),
    }
