"""`{% digest_choices_section %}`: the email digest choices, shown on Your profile."""

from __future__ import annotations

from typing import Any

from django import template

from clearplan.pipeline import digests
from clearplan.pipeline.digest_forms import DigestChoicesForm

register = template.Library()


@register.inclusion_tag("pipeline/digests/_choices.html", takes_context=True)
def digest_choices_section(context: dict[str, Any]) -> dict[str, Any]:
    request = context["request"]
    user = request.user
    kinds = digests.kinds_offered_to(user)
    form = DigestChoicesForm(initial=digests.choices_for(user), kinds=kinds) if kinds else None
    return {"request": request, "digest_form": form, "csrf_token": context.get("csrf_token")}
