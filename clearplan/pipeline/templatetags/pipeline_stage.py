from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.inclusion_tag("pipeline/board/_case_stage.html", takes_context=True)
def case_stage_panel(context: template.Context, case: Any) -> dict[str, Any]:
    return {"case": case, "request": context.get("request"), "csrf_token": context.get("csrf_token")}
