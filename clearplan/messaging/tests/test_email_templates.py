"""The base templates other features extend for their emails."""

from __future__ import annotations

import re

from django.template import Context, Template

LINK = "http://127.0.0.1:8000/join/abc-123/?next=/today/&x=1"

HTML_CHILD = """{% extends "messaging/email/base.html" %}
{% block title %}Join Harbour Dental{% endblock %}
{% block preheader %}Olivia invited you.{% endblock %}
{% block content %}<p>Hello {{ name }},</p>
{% include "messaging/email/button.html" with url=link label="Set your password" %}{% endblock %}"""

TEXT_CHILD = """{% extends "messaging/email/base.txt" %}
{% block content %}Hello {{ name }},

Set your password: {{ link }}{% endblock %}"""


def _render(source: str) -> str:
    return Template(source).render(Context({"name": "Chloé O'Connor <3", "link": LINK}))


def test_the_html_email_carries_the_clearplan_name_content_and_a_working_button():
    html = _render(HTML_CHILD)

    assert "<title>Join Harbour Dental</title>" in html
    assert "Clearplan" in html
    assert "Hello Chloé O&#x27;Connor &lt;3," in html, "names are escaped in HTML"
    assert html.count('href="http://127.0.0.1:8000/join/abc-123/?next=/today/&amp;x=1"') == 2
    assert "Set your password" in html
    assert "If you weren't expecting it, you can safely ignore it" in html


def test_the_html_email_loads_nothing_from_anywhere_so_nobody_learns_it_was_opened():
    html = _render(HTML_CHILD)

    assert "<img" not in html.lower()
    assert "<link" not in html.lower()
    assert "<script" not in html.lower()
    assert "url(" not in html.lower()
    assert "@import" not in html.lower()
    external = set(re.findall(r'(?:src|href)="([^"]+)"', html))
    assert external <= {"http://127.0.0.1:8000/join/abc-123/?next=/today/&amp;x=1"}


def test_the_plain_text_email_is_not_html_escaped():
    text = _render(TEXT_CHILD)

    assert text.startswith("Hello Chloé O'Connor <3,")
    assert f"Set your password: {LINK}" in text
    assert "&amp;" not in text
    assert "&lt;" not in text
    assert "Clearplan" in text
    assert "If you weren't expecting it, you can safely ignore it" in text
