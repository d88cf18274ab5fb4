"""`{% pack_actions %}`: the patient's actions area on the pack page (proceed, question, not now, sign).

Used by packs/patient/_actions.html, so the pack page only needs `pack_session` and `version` in its
context (or request.pack_session / request.pack_version, as `patient_verified` sets them)."""

from __future__ import annotations

from typing import Any

from django import template

from clearplan.packs.response_views import actions_context

register = template.Library()


@register.inclusion_tag("packs/patient/respond/_section.html", takes_context=True)
def pack_actions(context: template.Context) -> dict[str, Any]:
    request = context["request"]
    session = context.get("pack_session") or request.pack_session
    version = context.get("version") or request.pack_version
    return actions_context(request, session=session, version=version)
