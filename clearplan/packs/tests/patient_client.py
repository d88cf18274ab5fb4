"""A patient's browser in tests: open a pack link, answer the verification question."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from django.test import Client
from django.urls import reverse

from clearplan.packs.links import link_create, link_path
from clearplan.packs.versions import pack_version_freeze

if TYPE_CHECKING:
    from django.http import HttpResponse

PHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148 Safari/604.1"


def patient_browser() -> Client:
    return Client(HTTP_USER_AGENT=PHONE, REMOTE_ADDR="203.0.113.9")


def send_pack(case, by, *, recipient: str = "patient"):
    """Freeze a version (unless the case has one) and make a link; returns (link, token)."""
    if not case.pack_versions.exists():
        pack_version_freeze(case=case, by=by)
    return link_create(case=case, recipient=recipient, by=by)


def give_a_guardian(case, *, mobile: str = "+61491570999"):
    patient = case.patient
    patient.guardian_name = "Aroha Ngata"
    patient.guardian_relationship = "Mother"
    patient.guardian_mobile = mobile
    patient.save()
    return patient


def answer_date_of_birth(client: Client, birth_date: date) -> HttpResponse:
    return client.post(
        reverse("packs:patient_verify"),
        {"day": str(birth_date.day), "month": str(birth_date.month), "year": str(birth_date.year)},
    )


def opened_and_verified(case, by, *, recipient: str = "patient") -> tuple[Client, str]:
    """A browser that opened a fresh link for `case` and gave the right date of birth."""
    _link, token = send_pack(case, by, recipient=recipient)
    client = patient_browser()
    client.get(link_path(token))
    response = answer_date_of_birth(client, case.patient.date_of_birth)
    assert response.status_code == 302, response.content.decode()[:500]
    return client, token
