from __future__ import annotations

from datetime import timedelta

import time_machine
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
