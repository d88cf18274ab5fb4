"""For the follow-up tests: a clinic in a chosen time zone, a pack sent at a chosen moment, the
patient opening it from the link in their text message, and worker rounds at chosen moments
(time-machine moves the clock; everything else is the real code). The case, `sendable_case`, and
its patient are the pipeline tests' fixtures (conftest.py)."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone

from clearplan.lib.sms_url import SMS_OUTBOX_BACKEND
from clearplan.messaging.models import OutboundMessage
from clearplan.packs import sending
from clearplan.packs.models import PackSend
from clearplan.packs.tests.patient_client import answer_date_of_birth, patient_browser
from clearplan.pipeline.followup import apply_due_rules
from clearplan.pipeline.models import FollowUpRun

PUBLIC = "https://clearplan.example.com"
LINK = re.compile(re.escape(PUBLIC) + r"(/p/[A-Za-z0-9_-]+)")


@pytest.fixture(autouse=True)
def _messages_can_go(settings):
    settings.SMS_BACKEND = SMS_OUTBOX_BACKEND
    settings.SMS_OPTIONS = {}
    settings.PUBLIC_BASE_URL = PUBLIC


def local(zone: str, text: str) -> dt.datetime:
    """A wall-clock time in `zone` ("2025-10-03 10:00"), as an aware date-time."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone))


def move_clinic(case, zone: str) -> None:
    clinic = case.clinic
    clinic.time_zone = zone
    clinic.save(update_fields=["time_zone"])
    case.refresh_from_db()


def send_pack(case, by, when: dt.datetime, *, by_sms: bool = True, by_email: bool = True) -> PackSend:
    """The team member sends the pack at `when`, with the template's words."""
    with time_machine.travel(when, tick=False):
        words = sending.message_texts(case, by)
        return sending.pack_send(
            case=case,
            by=by,
            by_sms=by_sms,
            by_email=by_email,
            sms_text=words["sms_text"],
            email_subject=words["email_subject"],
            email_text=words["email_text"],
            submission_key=uuid.uuid4().hex,
        )


def link_in(message: OutboundMessage) -> str:
    return LINK.search(message.body).group(1)


def pack_message(send: PackSend) -> OutboundMessage:
    return OutboundMessage.objects.get(public_id=send.sms_message_id or send.email_message_id)


def open_link(path: str, case, when: dt.datetime):
    """The patient opens a link at `when` and gives their date of birth; returns the pack page."""
    with time_machine.travel(when, tick=False):
        browser = patient_browser()
        browser.get(path)
        answered = answer_date_of_birth(browser, case.patient.date_of_birth)
        assert answered.status_code == 302, answered.content.decode()[:300]
        return browser.get(answered["Location"])


def round_at(when: dt.datetime) -> int:
    """One worker round at `when`."""
    with time_machine.travel(when, tick=False):
        return apply_due_rules(now=timezone.now())


def follow_up_messages(case) -> list[OutboundMessage]:
    return list(OutboundMessage.objects.filter(case=case, purpose="follow_up").order_by("created_at", "id"))


def runs(case) -> list[FollowUpRun]:
    return list(FollowUpRun.objects.filter(case=case).order_by("created_at", "id"))
