"""Text messages from patients: Twilio's incoming-message webhook, and STOP/START keywords."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST


@csrf_exempt
@require_POST
def sms_inbound_hook(request: HttpRequest) -> HttpResponse:
    return HttpResponse("Not ready\n", status=503, content_type="text/plain")
