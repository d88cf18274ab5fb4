"""A digest travels the whole way: `manage.py worker` finds it due at 07:00, queues it, and
delivers it over SMTP (a real server, aiosmtpd, on loopback) as one email with a plain-text
and an HTML part, from the clinic, naming no patient."""

from __future__ import annotations

from io import StringIO

import pytest
import time_machine
from django.core.management import call_command

from clearplan.messaging.tests.conftest import DATABASE_TASKS, send_through_smtp, smtp_server  # noqa: F401
from clearplan.pipeline.models import DigestChoice
from clearplan.pipeline.tests import digest_scenario
from clearplan.pipeline.tests.digest_scenario import PATIENT_NAMES, sydney

SITE = "https://clearplan.example.com"


@pytest.mark.django_db(transaction=True)
def test_the_worker_delivers_the_mornings_digests_over_smtp_once(
    settings,
    smtp_server,  # noqa: F811
    clinic,
    other_clinic,
    owner,
    dentist,
    coordinator,
    outsider,
    procedures,
):
    settings.TASKS = DATABASE_TASKS
    settings.SITE_URL = SITE
    send_through_smtp(settings, smtp_server.port)
    scenario = digest_scenario.build(
        clinic=clinic,
        other_clinic=other_clinic,
        owner=owner,
        dentist=dentist,
        coordinator=coordinator,
        outsider=outsider,
        procedure=procedures["crown"],
    )
    DigestChoice.objects.create(user=owner, kind="practice", frequency="daily")

    with time_machine.travel(sydney(3, 7, 3), tick=True):
        call_command("worker", "--batch", stdout=StringIO())
        # A second worker started a minute later finds nothing left to send.
        call_command("worker", "--batch", stdout=StringIO())

    deliveries = {delivery.envelope_to[0]: delivery.message for delivery in smtp_server.deliveries}
    assert sorted(deliveries) == sorted([owner.email, dentist.email, scenario.sam.email])
    mail = deliveries[owner.email]
    assert mail["Subject"] == f"{clinic.name}: your practice digest for Tuesday 3 March"
    assert mail["From"].addresses[0].display_name == clinic.name
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    assert "4 cases worth $6,946.00 are waiting on the patient or the team:" in text
    assert "$6,946.00" in html
    assert f'href="{SITE}/digests/{clinic.public_id}/board/"' in html
    for message in deliveries.values():
        readable = " ".join(
            [message["Subject"], message.get_body(("plain",)).get_content(), message.get_body(("html",)).get_content()]
        )
        for first, last in PATIENT_NAMES.values():
            assert first not in readable
            assert last.replace("'", "&#x27;") not in readable
            assert last not in readable
