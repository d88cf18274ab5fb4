"""Placeholders in pack templates: {patient_first_name}, {dentist_name}, {clinic_name},
{clinic_phone} and {team_member_name} (who sends the pack). Plain Python, no database: the same
rules check a template when it is saved and fill it in when a pack is previewed or sent.

A value that is missing (a clinic without a phone number, a case without a dentist yet) is
replaced by a neutral phrase, so a patient never reads an empty gap or a raw placeholder.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping

PLACEHOLDERS: dict[str, str] = {
    "patient_first_name": "The patient's first name",
    "dentist_name": "The dentist or practitioner on the case",
    "clinic_name": "The clinic's name",
    "clinic_phone": "The clinic's phone number",
    "team_member_name": "The team member sending the pack",
}

# Chosen to read naturally where the starter templates use each placeholder ("Hi {patient_first_name},",
# "call {clinic_name} on {clinic_phone}").
FALLBACKS: dict[str, str] = {
    "patient_first_name": "there",
    "dentist_name": "your dentist",
    "clinic_name": "our practice",
    "clinic_phone": "our usual number",
    "team_member_name": "the team",
}

SAMPLE_PATIENT_FIRST_NAME = "Sam"

_PLACEHOLDER = re.compile(r"\{([^{}\n]*)\}")


def placeholders_in(text: str) -> list[str]:
    """The names written in braces, in order of first appearance."""
    seen: list[str] = []
    for match in _PLACEHOLDER.finditer(text or ""):
        name = match.group(1).strip()
        if name not in seen:
            seen.append(name)
    return seen


def placeholder_problem(text: str) -> str | None:
    """A sentence naming what is wrong with the placeholders in `text`, or None when they are all known."""
    unknown = [name for name in placeholders_in(text) if name not in PLACEHOLDERS]
    if unknown:
        names = ", ".join("{" + name + "}" for name in unknown)
        known = ", ".join("{" + name + "}" for name in PLACEHOLDERS)
        noun = "placeholder" if len(unknown) == 1 else "placeholders"
        return f"Unknown {noun} {names}. You can use {known}."
    leftover = _PLACEHOLDER.sub("", text or "")
    if "{" in leftover or "}" in leftover:
        return "A brace is not matched. Use braces only around a placeholder, such as {clinic_name}."
    return None


def _value(name: str, values: Mapping[str, str | None]) -> str:
    value = (values.get(name) or "").strip()
    return value or FALLBACKS[name]


def render_text(text: str, values: Mapping[str, str | None]) -> str:
    """Plain text with each known placeholder filled in (for emails and text messages)."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1).strip()
        return _value(name, values) if name in PLACEHOLDERS else match.group(0)

    return _PLACEHOLDER.sub(replace, text or "")


def render_html(text: str, values: Mapping[str, str | None]) -> str:
    """HTML paragraphs: the text and every value are escaped, a blank line starts a new paragraph
    and a single line break stays a line break. The result is safe to mark as HTML."""
    filled = render_text(text, values)
    paragraphs = [part.strip() for part in re.split(r"\n\s*\n", filled.replace("\r\n", "\n")) if part.strip()]
    return "".join("<p>" + html.escape(paragraph).replace("\n", "<br>") + "</p>" for paragraph in paragraphs)
