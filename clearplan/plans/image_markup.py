"""Arrows, circles and boxes drawn over a case image, kept as JSON beside the untouched file.

Coordinates are fractions of the picture's width and height (0 to 1), so the same marks sit
in the same place on the thumbnail, the web size and the patient's phone. The server accepts
only the shapes and colours the editor can draw; anything else is refused with one message.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any, Final

from django.core.exceptions import ValidationError
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

MAX_SHAPES: Final = 50
MAX_JSON_CHARACTERS: Final = 20_000

# Colour names as stored, with the hex drawn; chosen to stand out on both X-rays and photos.
PALETTE: Final[dict[str, tuple[str, str]]] = {
    "red": ("#e11d48", "Red"),
    "yellow": ("#facc15", "Yellow"),
    "green": ("#22c55e", "Green"),
    "blue": ("#3b82f6", "Blue"),
    "white": ("#ffffff", "White"),
}
SHAPE_FIELDS: Final[dict[str, tuple[str, ...]]] = {
    "arrow": ("x1", "y1", "x2", "y2"),
    "circle": ("cx", "cy", "rx", "ry"),
    "box": ("x", "y", "w", "h"),
}
SHAPE_NAMES: Final = {"arrow": "Arrow", "circle": "Circle", "box": "Box"}

UNREADABLE = "The drawing couldn't be read. Clear it and draw the marks again."


def parse_markup(raw: str) -> list[dict[str, Any]]:
    """The marks from the editor's JSON, checked strictly; raises ValidationError otherwise."""
    if len(raw) > MAX_JSON_CHARACTERS:
        raise ValidationError(UNREADABLE, code="too_long")
    try:
        data = json.loads(raw or "[]")
    except ValueError as error:
        raise ValidationError(UNREADABLE, code="not_json") from error
    return validate_markup(data)


def validate_markup(data: Any) -> list[dict[str, Any]]:
    if not isinstance(data, list):
        raise ValidationError(UNREADABLE, code="not_a_list")
    if len(data) > MAX_SHAPES:
        raise ValidationError(
            f"An image can have at most {MAX_SHAPES} marks; this drawing has {len(data)}. Remove some and save again.",
            code="too_many",
        )
    return [_validate_shape(shape) for shape in data]


def _validate_shape(shape: Any) -> dict[str, Any]:
    if not isinstance(shape, dict):
        raise ValidationError(UNREADABLE, code="not_a_shape")
    kind = shape.get("type")
    if kind not in SHAPE_FIELDS:
        raise ValidationError("Only arrows, circles and boxes can be drawn on an image.", code="unknown_shape")
    fields = SHAPE_FIELDS[kind]
    if set(shape) != {"type", "colour", *fields}:
        raise ValidationError(UNREADABLE, code="unexpected_fields")
    colour = shape["colour"]
    if colour not in PALETTE:
        names = ", ".join(label.lower() for _hex, label in PALETTE.values())
        raise ValidationError(f"Marks can only be drawn in {names}.", code="unknown_colour")
    clean: dict[str, Any] = {"type": kind, "colour": colour}
    for name in fields:
        value = shape[name]
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise ValidationError(UNREADABLE, code="not_a_number")
        if not 0 <= value <= 1:
            raise ValidationError("A mark goes outside the picture. Draw it again inside the image.", code="outside")
        clean[name] = round(float(value), 4)
    if kind == "box" and (clean["x"] + clean["w"] > 1.0001 or clean["y"] + clean["h"] > 1.0001):
        raise ValidationError("A mark goes outside the picture. Draw it again inside the image.", code="outside")
    return clean


@dataclass(frozen=True)
class _Canvas:
    width: int
    height: int

    @property
    def stroke(self) -> float:
        return round(max(self.width, self.height) * 0.006, 2) or 1

    def x(self, value: float) -> float:
        return round(value * self.width, 1)

    def y(self, value: float) -> float:
        return round(value * self.height, 1)


def markup_svg(markup: list[dict[str, Any]], *, width: int, height: int, label: str = "") -> SafeString:
    """An SVG to lay over the picture, drawn in the picture's own pixel space so arrowheads keep their shape.

    Presentation attributes only (no style attribute), which the Content-Security-Policy allows.
    """
    canvas = _Canvas(max(width, 1), max(height, 1))
    parts = [_shape_svg(shape, canvas) for shape in markup if shape.get("type") in SHAPE_FIELDS]
    labelled = format_html(' role="img" aria-label="{}"', label) if label else mark_safe(' aria-hidden="true"')
    return format_html(
        '<svg class="image-markup" viewBox="0 0 {} {}" xmlns="http://www.w3.org/2000/svg"{} focusable="false">{}</svg>',
        canvas.width,
        canvas.height,
        labelled,
        format_html_join("", "{}", ((part,) for part in parts)),
    )


def _shape_svg(shape: dict[str, Any], canvas: _Canvas) -> SafeString:
    colour = PALETTE.get(shape.get("colour", ""), PALETTE["red"])[0]
    common = format_html('fill="none" stroke="{}" stroke-width="{}" stroke-linecap="round"', colour, canvas.stroke)
    if shape["type"] == "box":
        return format_html(
            '<rect x="{}" y="{}" width="{}" height="{}" {}/>',
            canvas.x(shape["x"]),
            canvas.y(shape["y"]),
            canvas.x(shape["w"]),
            canvas.y(shape["h"]),
            common,
        )
    if shape["type"] == "circle":
        return format_html(
            '<ellipse cx="{}" cy="{}" rx="{}" ry="{}" {}/>',
            canvas.x(shape["cx"]),
            canvas.y(shape["cy"]),
            canvas.x(shape["rx"]),
            canvas.y(shape["ry"]),
            common,
        )
    return format_html('<path d="{}" stroke-linejoin="round" {}/>', arrow_path(shape, canvas), common)


def arrow_path(shape: dict[str, Any], canvas: _Canvas) -> str:
    x1, y1, x2, y2 = canvas.x(shape["x1"]), canvas.y(shape["y1"]), canvas.x(shape["x2"]), canvas.y(shape["y2"])
    # The head is a fixed share of the picture, so a short arrow still reads as an arrow.
    head = max(canvas.width, canvas.height) * 0.035
    angle = math.atan2(y2 - y1, x2 - x1)
    points = []
    for turn in (math.pi - 0.45, math.pi + 0.45):
        points.append((round(x2 + head * math.cos(angle + turn), 1), round(y2 + head * math.sin(angle + turn), 1)))
    (ax, ay), (bx, by) = points
    return f"M {x1} {y1} L {x2} {y2} M {ax} {ay} L {x2} {y2} L {bx} {by}"


def describe_markup(markup: list[dict[str, Any]]) -> str:
    """Words for screen readers and the audit log: "2 circles and 1 arrow"."""
    counts: dict[str, int] = {}
    for shape in markup:
        counts[shape["type"]] = counts.get(shape["type"], 0) + 1
    if not counts:
        return "no marks"
    words = [f"{count} {kind}{'s' if count != 1 else ''}" for kind, count in counts.items()]
    words = [word.replace("boxs", "boxes") for word in words]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]
