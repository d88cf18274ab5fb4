"""A text message is delivered exactly once even when its worker is killed mid-send.

Real processes throughout: `manage.py worker` runs as a subprocess against this test's own
database with SMS_URL pointing at a fake Twilio-compatible provider on loopback. The provider
accepts and records the first message, then holds its answer; the worker is killed with
SIGKILL while it waits, leaving the message `sending` and its task RUNNING. A second worker
hands the task back (its worker is provably gone), tries the message again with the same
idempotency key, and the provider recognises the repeat: the patient gets one text message.
"""

from __future__ import annotations

import signal

import pytest
from django_tasks_db.models import DBTaskResult

from clearplan.messaging.models import OutboundMessage
from clearplan.messaging.tests.conftest import DATABASE_TASKS, queue_sms, send_sms_through
from clearplan.messaging.tests.workers import start_worker, stop_worker, wait_until

TEXT = "Hi Mere, your treatment plan from Harbour Dental is ready: https://clearplan.example.com/p/abc"


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_text_message_is_sent_once_although_its_worker_is_killed_mid_send(
    settings, sms_provider, clinic, case, coordinator, tmp_path
):
    settings.TASKS = DATABASE_TASKS
    send_sms_through(settings, sms_provider)
    sms_provider.hold_first = True
    environment = {"SMS_URL": sms_provider.sms_url(), "PUBLIC_BASE_URL": "https://clearplan.example.com"}
    first_log, second_log = tmp_path / "first-worker.log", tmp_path / "second-worker.log"
    logs = [first_log, second_log]
    message = queue_sms(case, coordinator, body=TEXT)
    task = DBTaskResult.objects.get()

    first = start_worker(first_log, environment=environment)
    second = None
    try:
        wait_until(sms_provider.first_arrived.is_set, timeout=60, what="the first worker to send", logs=logs)
        message.refresh_from_db()
        assert message.status == OutboundMessage.Status.SENDING, "marked and committed before the provider was called"
        assert message.attempts == 1
        assert len(sms_provider.delivered) == 1, "the provider has accepted the message"

        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
        task.refresh_from_db()
        message.refresh_from_db()
        assert task.status == "RUNNING", "a killed worker cannot mark its task"
        assert message.status == OutboundMessage.Status.SENDING
        assert message.provider_message_id == "", "the provider's answer never reached the worker"

        second = start_worker(second_log, "--batch", environment=environment)
        second.wait(timeout=90)
        assert second.returncode == 0, second_log.read_text(errors="replace")
    finally:
        sms_provider.release.set()
        stop_worker(first)
        if second is not None:
            stop_worker(second)

    message.refresh_from_db()
    assert message.status == OutboundMessage.Status.SENT
    assert message.attempts == 2
    assert sms_provider.problems == []
    [delivered] = sms_provider.delivered
    assert delivered.fields["To"] == "+61491570678"
    assert delivered.fields["Body"] == TEXT
    assert message.provider_message_id == delivered.sid
    assert [request.outcome for request in sms_provider.requests] == ["sent", "duplicate"]
    assert {request.idempotency_token for request in sms_provider.requests} == {message.idempotency_key}

    task.refresh_from_db()
    assert task.status == "SUCCESSFUL"
    assert len(task.worker_ids) == 2, "claimed by the killed worker, then by the second one"
    assert DBTaskResult.objects.count() == 1, "no retry was needed and nothing was queued twice"
    second_output = second_log.read_text(errors="replace")
    assert "1 returned to the queue" in second_output
    assert f"Message {message.reference} was being sent when its worker stopped" in second_output
    for output in (first_log.read_text(errors="replace"), second_output):
        assert "491570678" not in output
        assert "491 570 678" not in output
        assert TEXT not in output
