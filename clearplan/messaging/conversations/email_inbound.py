"""Email replies from patients: raw MIME posted by the mail provider."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST


@csrf_exempt
@require_POST
def email_inbound_hook(request: HttpRequest) -> HttpResponse:
    return HttpResponse("Not ready\n", status=503, content_type="text/plain")
