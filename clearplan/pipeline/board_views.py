from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from clearplan.accounts.access import staff_required


@staff_required
def board(request: HttpRequest) -> HttpResponse:
    return render(request, "pipeline/board.html")
