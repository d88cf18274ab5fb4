"""Showing case images: the markup overlay drawn on the server, and words describing a picture."""

from __future__ import annotations

from django import template
from django.utils.safestring import SafeString

from clearplan.plans.image_markup import describe_markup, markup_svg
from clearplan.plans.models import CaseImage

register = template.Library()


@register.filter
def markup_overlay(image: CaseImage) -> SafeString:
    """The arrows, circles and boxes over the picture, as inline SVG (empty when there are none)."""
    if not image.markup:
        return SafeString("")
    return markup_svg(image.markup, width=image.width, height=image.height)


@register.filter
def image_alt(image: CaseImage) -> str:
    """Alt text: the caption or what the picture is, and what has been drawn on it."""
    words = image.caption or f"{image.get_kind_display()} uploaded {image.uploaded_at:%d %b %Y}"
    if image.markup:
        words = f"{words} (marked with {describe_markup(image.markup)})"
    return words
