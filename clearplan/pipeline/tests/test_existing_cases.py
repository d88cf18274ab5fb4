"""Cases made before the pipeline existed get the stage their history shows."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps

from clearplan.packs.responses import response_record
from clearplan.packs.tests.test_responses import key, link, session, version  # noqa: F401
from clearplan.pipeline.models import CaseProgress
from clearplan.pipeline.tests.test_events import send

pytestmark = pytest.mark.django_db

backfill = importlib.import_module("clearplan.pipeline.migrations.0002_every_case_in_the_pipeline")


@pytest.fixture(autouse=True)
def _messages_wait_in_the_queue(settings):
    settings.SMS_BACKEND = "clearplan.messaging.sms.OutboxBackend"
    settings.PUBLIC_BASE_URL = "https://clearplan.example.com"


def stage_after_backfill(case) -> CaseProgress:
    CaseProgress.objects.filter(case=case).delete()
    backfill.forwards(apps, None)
    return CaseProgress.objects.get(case=case)


def test_a_case_never_sent_is_not_yet_sent(sendable_case):
    assert stage_after_backfill(sendable_case).stage == "not_sent"


def test_a_sent_case_is_sent(sendable_case, coordinator):
    send(sendable_case, coordinator)
    assert stage_after_backfill(sendable_case).stage == "sent"


def test_a_patient_who_said_not_now_is_not_proceeding_with_their_reason(sendable_case, coordinator, session, version):  # noqa: F811
    send(sendable_case, coordinator)
    response_record(session=session, version=version, kind="not_now", reason="insurance", submission_key=key())
    progress = stage_after_backfill(sendable_case)
    assert (progress.stage, progress.not_proceeding_reason) == ("not_proceeding", "insurance")


def test_a_patient_who_asked_to_proceed_is_requested_to_proceed(sendable_case, coordinator, session, version):  # noqa: F811
    send(sendable_case, coordinator)
    option = next(o["public_id"] for o in version.snapshot["options"] if o["title"] == "Option A: crown")
    response_record(session=session, version=version, kind="proceed", option_public_id=option, submission_key=key())
    assert stage_after_backfill(sendable_case).stage == "requested"
