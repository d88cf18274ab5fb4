"""The pack page a verified patient reads, its pictures, logo, brand colour and PDF."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import reverse

from clearplan.audit.models import AuditEvent
from clearplan.packs.models import PackVersionImage, PackVisit
from clearplan.packs.tests.conftest import png_bytes
from clearplan.packs.tests.patient_client import opened_and_verified, patient_browser, send_pack
from clearplan.packs.versions import pack_version_freeze
from clearplan.patients.tests.factories import PatientFactory

IMAGE_ADDRESS = re.compile(r"/p/images/[0-9a-f-]{36}/(?:thumb|medium|large)")


@pytest.fixture
def reader(sendable_case, coordinator):
    client, _token = opened_and_verified(sendable_case, coordinator)
    return client


def test_the_verified_patient_reads_the_frozen_pack(reader, sendable_case):
    response = reader.get("/p/")
    assert response.status_code == 200
    html = response.content.decode()
    version = sendable_case.pack_versions.get()
    for section in ("cover", "images", "options", "costs", "next-steps", "questions", "aftercare", "contact"):
        assert f'data-pack-section="{section}"' in html
    assert "Option A: crown" in html
    assert "Hi Mere" in html
    assert "Recommended by" in html
    # Actions come before "Contact us", inside the pack.
    assert html.index('href="/p/pdf/"') < html.index('data-pack-section="contact"')
    assert html.count("<article") == 1
    assert version.body_html.split('<footer class="pack-section pack-contact"')[1] in html


def test_the_page_title_and_head_name_no_one(reader, sendable_case):
    html = reader.get("/p/").content.decode()
    head = html.split("</head>")[0]
    assert "<title>Your treatment pack · Harbour Dental Sydney</title>" in head
    assert "Mere" not in head
    assert "Ngata" not in head
    assert "og:" not in head
    assert "twitter:" not in head
    assert 'name="description"' not in head


def test_every_reading_is_a_visit_and_an_audited_view(reader, sendable_case):
    reader.get("/p/")
    reader.get("/p/")
    visits = PackVisit.objects.filter(case=sendable_case)
    assert visits.count() == 2
    assert {visit.measured_by_script for visit in visits} == {False}
    assert {visit.device_type for visit in visits} == {"phone"}
    views = AuditEvent.objects.filter(action="view", object_id=str(sendable_case.public_id))
    assert views.count() == 2
    assert {event.actor_label for event in views} == {"Patient (pack link)"}
    assert {event.actor_id for event in views} == {None}


def test_the_page_carries_its_visit_for_the_script(reader):
    html = reader.get("/p/").content.decode()
    visit = PackVisit.objects.get()
    assert f'data-visit="{visit.public_id}"' in html
    assert f'data-engagement-url="{reverse("packs:patient_engagement")}"' in html
    assert 'name="csrfmiddlewaretoken"' in html


def test_the_page_is_light(reader, django_assert_max_num_queries):
    # Six statements (session, version, responses, signatures, the visit and the audit row), one
    # transaction around the writes (a savepoint pair inside the test's transaction) and room for one more.
    with django_assert_max_num_queries(9):
        response = reader.get("/p/")
    html = response.content
    assets = [
        finders.find("clearplan/css/pack.css"),
        finders.find("clearplan/js/pack.js"),
    ]
    brand = re.search(rb'href="(/p/brand/[^"]+)"', html).group(1).decode()
    weight = len(html) + sum(Path(asset).stat().st_size for asset in assets) + len(reader.get(brand).content)
    extra_styles = re.findall(rb'<link rel="stylesheet" href="/static/([^"]+)"', html)
    weight += sum(Path(finders.find(name.decode())).stat().st_size for name in extra_styles if b"pack.css" not in name)
    extra_scripts = re.findall(rb'<script src="/static/([^"]+)"', html)
    weight += sum(Path(finders.find(name.decode())).stat().st_size for name in extra_scripts if b"pack.js" not in name)
    assert weight <= 100 * 1024, weight


def test_pictures_open_larger_by_a_plain_link(reader, sendable_case):
    html = reader.get("/p/").content.decode()
    images = PackVersionImage.objects.filter(version__case=sendable_case)
    assert images.count() == 2
    for image in images:
        large, medium = (f"/p/images/{image.public_id}/{size}" for size in ("large", "medium"))
        assert f'<a class="pack-image__open" href="{large}"><img src="{medium}"' in html
    assert 'loading="lazy"' in html
    assert "srcset=" in html


def test_a_newer_version_says_it_was_updated_once(reader, sendable_case, coordinator):
    assert "this is the latest version" not in reader.get("/p/").content.decode()
    option = sendable_case.options.get(title="Option B: denture")
    option.summary = "A partial denture replaces the missing teeth."
    option.save()
    pack_version_freeze(case=sendable_case, by=coordinator)
    html = reader.get("/p/").content.decode()
    assert "this is the latest version of your pack" in html
    assert "A partial denture replaces the missing teeth." in html
    assert "this is the latest version" not in reader.get("/p/").content.decode()


# ---------- Pictures ----------


def test_pictures_are_served_to_the_verified_session(reader, sendable_case):
    image = PackVersionImage.objects.filter(version__case=sendable_case).first()
    for size in ("thumb", "medium", "large"):
        response = reader.get(reverse("packs:patient_image", args=[image.public_id, size]))
        assert response.status_code == 200
        assert response["Content-Type"] == "image/png"
        assert response["Cache-Control"] == "no-store"
        assert b"".join(response.streaming_content).startswith(b"\x89PNG")
    assert reader.get(reverse("packs:patient_image", args=[image.public_id, "original"])).status_code == 404


def test_pictures_are_not_served_without_a_verified_session(sendable_case, coordinator):
    _link, token = send_pack(sendable_case, coordinator)
    image = PackVersionImage.objects.filter(version__case=sendable_case).first()
    address = reverse("packs:patient_image", args=[image.public_id, "medium"])
    assert Client().get(address).status_code == 404
    unverified = patient_browser()
    unverified.get(f"/p/{token}")
    assert unverified.get(address).status_code == 404


@pytest.fixture
def other_reader(sendable_case, coordinator, template, dentist, clinic):
    """A second patient at the same clinic with their own pack, verified in their own browser."""
    from clearplan.plans import composer

    other = PatientFactory(clinic=clinic, first_name="Tama", last_name="Wiremu", date_of_birth=date(1975, 2, 14))
    case = composer.case_create_from_template(
        patient=other,
        template=template,
        dentist=dentist,
        coordinator=coordinator,
        conversation_date=date(2025, 9, 20),
        by=coordinator,
    ).case
    for title, where in (("Option A: crown", {"tooth": "16"}), ("Option B: denture", {"area": "upper"})):
        option = case.options.get(title=title)
        picks = [
            composer.SuggestionPick(suggestion=suggestion, **where)
            for suggestion in composer.suggestions_for(case, [option])[option.pk]
        ]
        composer.option_add_suggestions(option=option, picks=picks, by=coordinator)
    client, _token = opened_and_verified(case, coordinator)
    return client


def test_another_patients_pack_and_pictures_are_not_reachable(reader, other_reader, sendable_case):
    # Each browser sees only its own case, whatever ids it tries.
    assert "Mere" not in other_reader.get("/p/").content.decode()
    image = PackVersionImage.objects.filter(version__case=sendable_case).first()
    address = reverse("packs:patient_image", args=[image.public_id, "medium"])
    assert reader.get(address).status_code == 200
    assert other_reader.get(address).status_code == 404


# ---------- Logo, brand and PDF ----------


def test_the_logo_and_brand_colour_are_public_and_cached(sendable_case):
    clinic = sendable_case.clinic
    clinic.brand_colour = "#F4D03F"
    clinic.logo.save("logo.png", ContentFile(png_bytes()), save=True)
    logo = Client().get(reverse("packs:patient_logo", args=[clinic.public_id]))
    assert logo.status_code == 200
    assert "max-age" in logo["Cache-Control"]
    brand = Client().get(reverse("packs:patient_brand_css", args=[clinic.public_id])).content.decode()
    assert "--pack-brand: #F4D03F" in brand
    assert "--pack-on-brand: #111111" in brand


def test_the_pack_can_be_downloaded_as_a_pdf(reader, sendable_case):
    response = reader.get(reverse("packs:patient_pdf"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="treatment-pack.pdf"'
    assert response["Cache-Control"] == "no-store"
    assert response.content.startswith(b"%PDF-")
    assert AuditEvent.objects.filter(action="export", actor_label="Patient (pack link)").exists()


def test_the_pdf_needs_a_verified_session(sendable_case, coordinator):
    _link, token = send_pack(sendable_case, coordinator)
    client = patient_browser()
    client.get(f"/p/{token}")
    response = client.get(reverse("packs:patient_pdf"))
    assert response.status_code == 302
    assert response["Location"] == "/p/"


def test_the_staff_preview_still_uses_the_same_page_shell(coordinator_client, sendable_case):
    response = coordinator_client.get(reverse("plans:compose_pack_page", args=[sendable_case.public_id]))
    assert response.status_code == 200
    assert b"Preview for the practice team" in response.content
    assert settings.STATIC_URL.encode() + b"clearplan/css/pack.css" in response.content
