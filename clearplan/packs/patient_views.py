"""The patient's pages."""

from __future__ import annotations

import uuid

from django.http import Http404, HttpRequest, HttpResponse


def patient_image(request: HttpRequest, image_id: uuid.UUID, size: str) -> HttpResponse:
    raise Http404


def patient_logo(request: HttpRequest, clinic_id: uuid.UUID) -> HttpResponse:
    raise Http404


def patient_open(request: HttpRequest, token: str) -> HttpResponse:
    raise Http404
