"""Sending later (for example at 6 pm), cancelling before then, and the worker's upkeep finding
messages that are due but have no task to send them."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from clearplan.messaging.models import OutboundMessage
from clearplan.messaging.services import message_cancel
from clearplan.messaging.tasks import deliver_message, requeue_stranded_messages
from clearplan.messaging.tests.conftest import (
    DATABASE_TASKS,
    queue_sms,
    run_worker_until_idle,
    send_sms_through,
    stored_message,
)

TEXT = "Hi Mere, your treatment plan from Harbour Dental is ready."


@pytest.fixture
def twilio(settings, sms_provider):
    settings.TASKS = DATABASE_TASKS
    send_sms_through(settings, sms_provider)
    return sms_provider


def _schedule(clinic, case, coordinator, *, at):
    return queue_sms(case, coordinator, send_after=at)


@pytest.mark.django_db(transaction=True)
def test_a_scheduled_message_waits_for_its_time_then_goes(twilio, clinic, case, coordinator):
    six_pm = timezone.now() + timedelta(hours=4)
    message = _schedule(clinic, case, coordinator, at=six_pm)

    run_worker_until_idle()
    with time_machine.travel(six_pm - timedelta(minutes=1), tick=False):
        run_worker_until_idle()

    message.refresh_from_db()
    assert message.status == OutboundMessage.Status.SCHEDULED
    assert twilio.requests == []

    with time_machine.travel(six_pm + timedelta(seconds=1), tick=True):
        run_worker_until_idle()

    message.refresh_from_db()
    assert message.status == OutboundMessage.Status.SENT
    assert message.sent_at >= six_pm
    assert len(twilio.delivered) == 1


@pytest.mark.django_db(transaction=True)
def test_a_cancelled_message_is_not_sent_when_its_time_comes(twilio, clinic, case, coordinator):
    six_pm = timezone.now() + timedelta(hours=4)
    message = _schedule(clinic, case, coordinator, at=six_pm)
    message_cancel(message=message, by=coordinator)

    with time_machine.travel(six_pm + timedelta(seconds=1), tick=True):
        run_worker_until_idle()

    message.refresh_from_db()
    assert message.status == OutboundMessage.Status.CANCELLED
    assert twilio.requests == []
    assert DBTaskResult.objects.get().status == "SUCCESSFUL", "the task ran and found nothing to send"


@pytest.mark.django_db(transaction=True)
def test_a_task_that_runs_early_leaves_the_message_for_its_time(twilio, clinic, case, coordinator):
    message = _schedule(clinic, case, coordinator, at=timezone.now() + timedelta(hours=4))

    # A stray task for the message (queued by hand, say) runs now.
    deliver_message.enqueue(message_id=str(message.public_id))
    run_worker_until_idle()

    message.refresh_from_db()
    assert message.status == OutboundMessage.Status.SCHEDULED
    assert message.attempts == 0
    assert twilio.requests == []


@pytest.mark.django_db(transaction=True)
def test_a_due_message_without_a_task_is_queued_by_the_upkeep(twilio, clinic, case, coordinator):
    # The process stopped between committing the message and queueing its task.
    message = stored_message(case, status="queued")

    assert requeue_stranded_messages() == 0, "not yet: its task may still be on the way"
    with time_machine.travel(timezone.now() + timedelta(minutes=3), tick=True):
        assert requeue_stranded_messages() == 1
        assert requeue_stranded_messages() == 0, "its task is now waiting"
        run_worker_until_idle()

    message.refresh_from_db()
    assert message.status == OutboundMessage.Status.SENT
    assert len(twilio.delivered) == 1


@pytest.mark.django_db(transaction=True)
def test_a_message_whose_worker_stopped_too_often_is_failed_not_sent_again(twilio, clinic, case, coordinator):
    message = stored_message(case, send_after=timezone.now() - timedelta(hours=1), status="sending", attempts=6)

    assert requeue_stranded_messages() == 1

    message.refresh_from_db()
    assert message.status == OutboundMessage.Status.FAILED
    assert message.failure_kind == "worker_lost"
    assert message.failure_detail_for_staff == (
        "Clearplan stopped while sending this message several times, so it was not sent again."
    )
    assert not DBTaskResult.objects.exists()
    assert twilio.requests == []
