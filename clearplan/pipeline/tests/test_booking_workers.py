"""Three `manage.py worker` processes started at once against this test's database, each running the
pipeline's timed work as it starts: a due reminder is written once and reaches the (real) mail
server once."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

import pytest
from django.db import connection
from django.utils import timezone

from clearplan.messaging.models import OutboundMessage
from clearplan.messaging.tests.conftest import (
    DATABASE_TASKS,
    smtp_server,  # noqa: F401  (fixture)
)
from clearplan.messaging.tests.workers import database_url_for_this_test, start_worker, stop_worker
from clearplan.pipeline.bookings import on_the_clock
from clearplan.pipeline.models import Booking, FollowUpSettings
from clearplan.pipeline.tests.booking_fixtures import (
    SYDNEY,
    _messages_wait_in_the_queue,  # noqa: F401  (fixture)
    book,
)


def _sqlite_as_installed() -> dict[str, str]:
    """On SQLite, the workers open the test database with the options an installation uses
    (settings.py: write transactions that wait their turn, WAL), which a bare sqlite:/// address
    would leave out; three processes writing at once need them."""
    if connection.vendor != "sqlite":
        return {}
    options = connection.settings_dict["OPTIONS"]
    query = urlencode({"transaction_mode": options["transaction_mode"], "init_command": options["init_command"]})
    return {"DATABASE_URL": f"{database_url_for_this_test()}?{query}"}


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_overlapping_workers_send_a_due_reminder_once(settings, request, sendable_case, coordinator, tmp_path):
    mail_server = request.getfixturevalue("smtp_server")
    settings.TASKS = DATABASE_TASKS
    patient = sendable_case.patient
    patient.consent_sms = False
    patient.preferred_channel = "email"
    patient.save()
    # Contact hours all day, so the test does not depend on the hour it runs at.
    FollowUpSettings.objects.create(
        clinic=sendable_case.clinic,
        reminder_hours_before=24,
        contact_from=dt.time(0, 0),
        contact_until=dt.time(23, 59, 59, 999999),
    )
    now = timezone.now()
    due = (now - dt.timedelta(minutes=5)).astimezone(SYDNEY).replace(second=0, microsecond=0)
    starts_at = on_the_clock(SYDNEY, due.replace(tzinfo=None) + dt.timedelta(hours=24))
    booking = book(sendable_case, coordinator, when=starts_at)
    # Booked two days ago, so the reminder is due now rather than covered by the confirmation.
    Booking.objects.filter(pk=booking.pk).update(
        created_at=now - dt.timedelta(days=2), confirmation_sent_at=now - dt.timedelta(days=2)
    )

    logs = [tmp_path / f"worker-{number}.log" for number in range(3)]
    environment = {"EMAIL_URL": f"smtp://127.0.0.1:{mail_server.port}", **_sqlite_as_installed()}
    workers = [start_worker(log, "--batch", environment=environment) for log in logs]
    try:
        for worker, log in zip(workers, logs, strict=True):
            worker.wait(timeout=120)
            assert worker.returncode == 0, log.read_text(errors="replace")
    finally:
        for worker in workers:
            stop_worker(worker)

    [reminder] = OutboundMessage.objects.filter(purpose="booking_reminder")
    outputs = "\n".join(f"--- {log.name}\n{log.read_text(errors='replace')}" for log in logs)
    assert reminder.status == "sent", outputs
    booking.refresh_from_db()
    assert booking.reminder_sent_at is not None
    subjects = [delivery.message["Subject"] for delivery in mail_server.deliveries]
    assert subjects.count(f"Reminder: your appointment at {sendable_case.clinic.name}") == 1
    for log in logs:
        output = log.read_text(errors="replace")
        assert "mere.ngata@example.com" not in output
