"""Engagement the page records itself: opened (even without JavaScript), sections seen, time read."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from clearplan.packs.engagement import MAX_SECONDS_PER_UPDATE
from clearplan.packs.models import PackVisit
from clearplan.packs.tests.patient_client import opened_and_verified, patient_browser, send_pack

ENGAGEMENT = "/p/engagement/"


@pytest.fixture
def reading(sendable_case, coordinator):
    """A verified browser that has just opened the pack page; returns (browser, visit)."""
    client, _token = opened_and_verified(sendable_case, coordinator)
    client.get("/p/")
    return client, PackVisit.objects.get()


def report(client, visit, *, seconds=15, sections="cover,images"):
    return client.post(ENGAGEMENT, {"visit": str(visit.public_id), "seconds": str(seconds), "sections": sections})


def test_opening_the_page_records_a_visit_without_any_script(reading, sendable_case):
    _client, visit = reading
    assert visit.case == sendable_case
    assert visit.version == sendable_case.pack_versions.get()
    assert visit.measured_by_script is False
    assert visit.seconds_viewed == 0
    assert visit.sections == []
    assert visit.device_type == "phone"


def test_the_page_reports_sections_seen_and_time_read(reading):
    client, visit = reading
    with time_machine.travel(timezone.now() + timedelta(seconds=40)):
        assert report(client, visit, seconds=15, sections="cover,images").status_code == 200
        assert report(client, visit, seconds=15, sections="cover,images,options,costs").status_code == 200
    visit.refresh_from_db()
    assert visit.measured_by_script is True
    assert visit.seconds_viewed == 30
    assert visit.sections == ["cover", "images", "options", "costs"]


def test_unknown_section_names_are_ignored(reading):
    client, visit = reading
    with time_machine.travel(timezone.now() + timedelta(seconds=20)):
        report(client, visit, sections="cover,<script>,patient-name,questions")
    visit.refresh_from_db()
    assert visit.sections == ["cover", "questions"]


def test_one_report_counts_at_most_half_a_minute(reading):
    client, visit = reading
    with time_machine.travel(timezone.now() + timedelta(hours=1)):
        report(client, visit, seconds=100000)
    visit.refresh_from_db()
    assert visit.seconds_viewed == MAX_SECONDS_PER_UPDATE


def test_time_read_never_exceeds_the_time_since_the_page_opened(reading):
    client, visit = reading
    with time_machine.travel(visit.started_at + timedelta(seconds=20), tick=False):
        for _ in range(5):
            report(client, visit, seconds=15)
    visit.refresh_from_db()
    assert visit.seconds_viewed == 20


def test_negative_or_nonsense_seconds_count_as_nothing(reading):
    client, visit = reading
    with time_machine.travel(timezone.now() + timedelta(seconds=30)):
        report(client, visit, seconds=-50, sections="cover")
        client.post(ENGAGEMENT, {"visit": str(visit.public_id), "seconds": "lots", "sections": "cover"})
    visit.refresh_from_db()
    assert visit.seconds_viewed == 0
    assert visit.sections == ["cover"]


def test_a_report_for_another_browsers_visit_is_refused(reading, sendable_case, coordinator):
    _client, visit = reading
    someone_else, _token = opened_and_verified(sendable_case, coordinator)
    with time_machine.travel(timezone.now() + timedelta(seconds=30)):
        response = report(someone_else, visit, seconds=15, sections="costs")
    assert response.status_code == 404
    visit.refresh_from_db()
    assert visit.seconds_viewed == 0
    assert visit.sections == []


def test_a_report_without_a_verified_session_is_refused(reading, sendable_case, coordinator):
    _client, visit = reading
    _link, token = send_pack(sendable_case, coordinator)
    unverified = patient_browser()
    unverified.get(f"/p/{token}")
    assert report(unverified, visit).status_code == 403
    assert report(patient_browser(), visit).status_code == 403
    visit.refresh_from_db()
    assert visit.measured_by_script is False


def test_a_report_is_a_post_with_the_csrf_token(reading):
    client, visit = reading
    strict = Client(enforce_csrf_checks=True)
    strict.cookies = client.cookies
    assert strict.get(reverse("packs:patient_engagement")).status_code == 405
    assert report(strict, visit).status_code == 403
