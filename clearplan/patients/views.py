from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from clearplan.accounts.access import staff_required


@staff_required
def patient_list(request: HttpRequest) -> HttpResponse:
    return render(request, "patients/patient_list.html")


@staff_required
def patient_create(request: HttpRequest) -> HttpResponse:
    return render(request, "patients/patient_list.html")
