"""The patient's "stop emails" link (/u/<token>/): no sign-in, the token is the key."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse


def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    raise Http404("Not ready")
