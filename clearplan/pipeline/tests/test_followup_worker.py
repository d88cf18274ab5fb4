"""Nothing twice, nothing missed: the rules applied by several workers at once, and by the real
`manage.py worker` started, stopped and started again, against a real SMTP server (aiosmtpd) and
a fake SMS provider speaking Twilio's API, each on loopback."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection
from django.utils import timezone

from clearplan.messaging.models import OutboundMessage
from clearplan.messaging.tests.conftest import (  # noqa: F401  (fixtures)
    DATABASE_TASKS,
    send_sms_through,
    send_through_smtp,
    sms_provider,
    smtp_server,
)
from clearplan.messaging.tests.workers import start_worker, stop_worker
from clearplan.pipeline.followup import apply_due_rules
from clearplan.pipeline.models import CaseProgress, FollowUpRun, FollowUpSettings
from clearplan.pipeline.tests.followup_support import (
    _messages_can_go,  # noqa: F401  (an autouse fixture)
    local,
    send_pack,
)
from clearplan.pipeline.tests.test_followup_limits import another_case

SYDNEY = "Australia/Sydney"


@pytest.mark.django_db(transaction=True)
def test_two_workers_applying_the_rules_at_the_same_moment_act_once_per_case(
    sendable_case, coordinator, template, dentist, patient
):
    cases = [sendable_case] + [another_case(patient, template, dentist, coordinator) for _ in range(7)]
    for case in cases:
        send_pack(case, coordinator, local(SYDNEY, "2027-03-02 10:00"))
    due = local(SYDNEY, "2027-03-03 10:00")
    start = threading.Barrier(2)
    applied: list[int] = []
    failures: list[BaseException] = []

    def worker() -> None:
        try:
            start.wait(timeout=10)
            applied.append(apply_due_rules(now=due))
        except BaseException as error:
            failures.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert failures == []
    assert sum(applied) == len(cases)
    assert FollowUpRun.objects.filter(kind="not_opened", outcome="messaged").count() == len(cases)
    assert OutboundMessage.objects.filter(purpose="follow_up").count() == 2 * len(cases)
    assert set(CaseProgress.objects.filter(case__in=cases).values_list("automatic_contacts", flat=True)) == {1}
    # The links: the pack's and the reminder's for each case, none revoked.
    for case in cases:
        assert case.pack_links.filter(revoked_at__isnull=True).count() == 2


def _zone_at_midday(now: dt.datetime) -> str:
    """A fixed-offset zone where it is about noon now, so the worker (which runs on the real
    clock) is inside contact hours whenever the test runs."""
    offset = 12 - now.astimezone(dt.UTC).hour
    if offset == 0:
        return "Etc/GMT"
    # The Etc zones' signs are the other way round: Etc/GMT-10 is UTC+10.
    return f"Etc/GMT{'-' if offset > 0 else '+'}{abs(offset)}"


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_real_worker_sends_the_reminder_once_across_overlapping_workers_and_a_restart(
    settings,
    sendable_case,
    coordinator,
    clinic,
    smtp_server,  # noqa: F811
    sms_provider,  # noqa: F811
    tmp_path,
):
    settings.TASKS = DATABASE_TASKS
    send_through_smtp(settings, smtp_server.port)
    send_sms_through(settings, sms_provider)
    now = timezone.now()
    clinic.time_zone = _zone_at_midday(now)
    clinic.save(update_fields=["time_zone"])
    FollowUpSettings.objects.create(clinic=clinic, business_days="1234567")
    sendable_case.refresh_from_db()
    # The pack went two days ago (its own messages are still waiting for a worker).
    send_pack(sendable_case, coordinator, now - dt.timedelta(days=2))
    environment = {
        "EMAIL_URL": f"smtp://127.0.0.1:{smtp_server.port}",
        "SMS_URL": sms_provider.sms_url(),
        "PUBLIC_BASE_URL": "https://clearplan.example.com",
    }
    logs = [tmp_path / f"worker-{number}.log" for number in range(3)]

    # Two workers start at the same moment, each applying the rules before it works the queue
    # (on PostgreSQL; a practice on SQLite runs one worker, so there they run one after the other).
    overlapping = connection.vendor == "postgresql"
    first = [start_worker(log, "--batch", environment=environment) for log in logs[: 2 if overlapping else 1]]
    started = list(first)
    try:
        for process in first:
            process.wait(timeout=120)
        if not overlapping:
            started.append(start_worker(logs[1], "--batch", environment=environment))
            started[-1].wait(timeout=120)
        # Later, after a restart.
        started.append(start_worker(logs[2], "--batch", environment=environment))
        started[-1].wait(timeout=120)
    finally:
        for process in started:
            stop_worker(process)
    for process, log in zip(started, logs, strict=True):
        assert process.returncode == 0, log.read_text(errors="replace")

    def plain(delivery) -> str:
        return delivery.message.get_body(("plain",)).get_content()

    reminders = [delivery for delivery in smtp_server.deliveries if "gentle reminder" in plain(delivery)]
    assert len(reminders) == 1
    assert reminders[0].envelope_to == ["mere.ngata@example.com"]
    texts = [request for request in sms_provider.delivered if "gentle reminder" in request.fields["Body"]]
    assert len(texts) == 1
    assert texts[0].fields["To"] == "+61412345678"
    assert "https://clearplan.example.com/p/" in texts[0].fields["Body"]
    # The pack's own email and text went once each too.
    assert len(smtp_server.deliveries) == 2
    assert len(sms_provider.delivered) == 2
    [run] = FollowUpRun.objects.filter(case=sendable_case)
    assert run.outcome == "messaged"
    statuses = set(OutboundMessage.objects.filter(purpose="follow_up").values_list("status", flat=True))
    assert statuses == {OutboundMessage.Status.SENT}, "\n".join(log.read_text() for log in logs)
    for log in logs:
        output = log.read_text(errors="replace")
        assert "Traceback" not in output
        assert "mere.ngata@example.com" not in output
