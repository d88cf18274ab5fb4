"""Search terms that identify a patient (a name, a phone number, a date of birth) never go
into a URL, where they would reach browser history, proxy logs and shared links.

The search form posts the term; the term is kept in the staff member's session under a
random token, and the results page's address carries only that token (`?search=...`), so
paging, the back button and reloading still work.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django.http import HttpRequest

SESSION_KEY = "clearplan_private_searches"
KEEP = 20
MAX_LENGTH = 200


def remember_search(request: HttpRequest, text: str) -> str:
    """Store `text` in the session and return the token that stands for it in URLs."""
    # Truncated before comparing, so a long search typed twice finds the copy stored the first time.
    text = text[:MAX_LENGTH]
    searches: dict[str, str] = dict(request.session.get(SESSION_KEY, {}))
    for token, stored in searches.items():
        if stored == text:
            return token
    token = secrets.token_urlsafe(9)
    searches[token] = text
    # dicts keep insertion order, so the oldest searches are dropped first.
    while len(searches) > KEEP:
        searches.pop(next(iter(searches)))
    request.session[SESSION_KEY] = searches
    return token


def recall_search(request: HttpRequest, token: str) -> str | None:
    """The text a token stands for, or None when it is unknown (another session, or expired)."""
    if not token:
        return None
    return request.session.get(SESSION_KEY, {}).get(token)
