"""`{% pack_actions %}`: the patient's actions area on the pack page (proceed, question, not now, sign).

Used by packs/patient/_actions.html, so the pack page only needs `pack_session` and `version` in its
context (or request.pack_session / request.pack_version, as `patient_verified` sets them).

The area's forms take most of the pack page's time to render, yet they only change when the
patient does something. So the rendered area is kept per version, link and what the link has done
(its responses and signatures), with the two things that must differ on every page load — the
CSRF token and each form's submission key — put in afresh each time.
"""

from __future__ import annotations

import hashlib

from django import template
from django.contrib import messages
from django.core.cache import cache
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

from clearplan.packs.models import PackSession, PackVersion
from clearplan.packs.response_forms import new_submission_key
from clearplan.packs.response_views import DONE_TAG, FORM_NAMES, actions_context
from clearplan.packs.responses import patient_action_state
from clearplan.packs.session_lookup import PAGE_STATE

register = template.Library()

TEMPLATE = "packs/patient/respond/_section.html"
CSRF_PLACEHOLDER = "csrf-token-placeholder-7c1e"
KEY_PLACEHOLDER = "submission-key-placeholder-{}-7c1e"
CACHE_SECONDS = 60 * 60


def _key(session: PackSession, version: PackVersion) -> str:
    """The version, the link, and the newest reply and signature through the link (read with the
    session by clearplan.packs.access): what the area shows changes only when one of them does.
    Public ids, never reused, so a kept area can never be shown for another link."""
    if not hasattr(session, "last_response_key"):
        session = PackSession.objects.annotate(**PAGE_STATE).get(pk=session.pk)
    parts = [
        str(version.public_id),
        str(session.link.public_id),
        str(session.last_response_key or ""),  # type: ignore[attr-defined]
        str(session.last_signature_key or ""),  # type: ignore[attr-defined]
    ]
    return "pack-actions:" + hashlib.sha256("|".join(parts).encode()).hexdigest()


@register.simple_tag(takes_context=True)
def pack_actions(context: template.Context) -> SafeString:
    request = context["request"]
    session = context.get("pack_session") or request.pack_session
    version = context.get("version") or request.pack_version
    if any(DONE_TAG in message.tags.split() for message in messages.get_messages(request)):
        # A confirmation shows once; render it as it is rather than keeping it.
        area = actions_context(request, session=session, version=version)
        return mark_safe(render_to_string(TEMPLATE, {**area, "csrf_token": get_token(request)}))
    key = _key(session, version)
    html = cache.get(key)
    if html is None:
        state = patient_action_state(session, version)
        area = actions_context(request, session=session, version=version, state=state)
        html = render_to_string(TEMPLATE, {**area, "csrf_token": CSRF_PLACEHOLDER})
        for number, name in enumerate(FORM_NAMES.values()):
            html = html.replace(area[name].initial["submission_key"], KEY_PLACEHOLDER.format(number))
        cache.set(key, html, CACHE_SECONDS)
    html = html.replace(CSRF_PLACEHOLDER, get_token(request))
    for number in range(len(FORM_NAMES)):
        html = html.replace(KEY_PLACEHOLDER.format(number), new_submission_key())
    return mark_safe(html)
