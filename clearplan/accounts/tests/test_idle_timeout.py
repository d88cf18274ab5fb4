from __future__ import annotations

from datetime import timedelta

import time_machine
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from clearplan.audit.models import AuditEvent


def test_staff_are_signed_out_after_the_idle_period_with_an_explanation(coordinator_client, coordinator, settings):
    settings.SESSION_IDLE_TIMEOUT_MINUTES = 30
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        assert coordinator_client.get("/patients/").status_code == 200
    with time_machine.travel(start + timedelta(minutes=31), tick=False):
        response = coordinator_client.get("/patients/")
        assert response.status_code == 302
        assert response["Location"] == "/accounts/login/?next=/patients/"
        page = coordinator_client.get(response["Location"]).content.decode()
    assert "You were signed out after 30 minutes without activity" in page
    assert "_auth_user_id" not in coordinator_client.session
    event = AuditEvent.objects.get(action=AuditEvent.Action.SIGN_OUT)
    assert event.actor == coordinator
    assert event.changes == {"reason": "idle"}


def test_activity_keeps_the_session_alive(coordinator_client, settings):
    settings.SESSION_IDLE_TIMEOUT_MINUTES = 30
    start = timezone.now()
    for minutes in (0, 25, 50, 75):
        with time_machine.travel(start + timedelta(minutes=minutes), tick=False):
            assert coordinator_client.get("/today/").status_code == 200


def test_the_return_address_after_an_idle_sign_out_keeps_its_query_intact(coordinator_client, settings):
    settings.SESSION_IDLE_TIMEOUT_MINUTES = 30
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        coordinator_client.get("/today/")
    with time_machine.travel(start + timedelta(minutes=31), tick=False):
        response = coordinator_client.get("/patients/?page=2&sort=name")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/patients/%3Fpage%3D2%26sort%3Dname"


def _session_writes(queries) -> list[str]:
    return [
        query["sql"]
        for query in queries
        if "django_session" in query["sql"] and not query["sql"].lstrip().upper().startswith("SELECT")
    ]


def test_requests_within_a_minute_of_each_other_do_not_rewrite_the_session(coordinator_client, settings):
    settings.SESSION_IDLE_TIMEOUT_MINUTES = 30
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        coordinator_client.get("/today/")
    stored = Session.objects.get()
    for seconds in (20, 59):
        with time_machine.travel(start + timedelta(seconds=seconds), tick=False):
            with CaptureQueriesContext(connection) as queries:
                assert coordinator_client.get("/today/").status_code == 200
            assert _session_writes(queries.captured_queries) == []
    assert Session.objects.get().session_data == stored.session_data
    with time_machine.travel(start + timedelta(seconds=61), tick=False), CaptureQueriesContext(connection) as queries:
        coordinator_client.get("/today/")
    assert _session_writes(queries.captured_queries) != []
    assert Session.objects.get().session_data != stored.session_data


def test_the_time_out_counts_from_the_last_recorded_minute_of_activity(coordinator_client, settings):
    """Activity less than a minute after the last recorded request is not written down, so the
    time-out may come up to a minute early, never late."""
    settings.SESSION_IDLE_TIMEOUT_MINUTES = 30
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        coordinator_client.get("/today/")
    with time_machine.travel(start + timedelta(seconds=45), tick=False):
        coordinator_client.get("/today/")
    with time_machine.travel(start + timedelta(minutes=30, seconds=30), tick=False):
        response = coordinator_client.get("/today/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert "_auth_user_id" not in coordinator_client.session
