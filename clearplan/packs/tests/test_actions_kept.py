"""The actions area of the pack page is rendered once per state and kept; what must be fresh on
every load (the CSRF token, each form's submission key) still is, and what the patient does shows."""

from __future__ import annotations

import re

from django.urls import reverse

from clearplan.packs.models import PatientResponse
from clearplan.packs.tests.patient_client import opened_and_verified


def submission_keys(page: str) -> list[str]:
    return re.findall(r'name="[a-z-]*-?submission_key" value="([^"]+)"', page)


def test_each_load_gets_its_own_submission_keys_and_a_working_csrf_token(sendable_case, coordinator):
    browser, _token = opened_and_verified(sendable_case, coordinator)
    browser.handler.enforce_csrf_checks = True
    first = browser.get("/p/").content.decode()
    second = browser.get("/p/").content.decode()

    assert len(submission_keys(first)) == 4
    assert not set(submission_keys(first)) & set(submission_keys(second))
    assert "placeholder" not in second

    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', second).group(1)
    key = re.search(r'name="question-submission_key" value="([^"]+)"', second).group(1)
    asked = browser.post(
        reverse("packs:respond_question"),
        {"csrfmiddlewaretoken": csrf, "question-submission_key": key, "question-message": "Can I eat after?"},
    )
    assert asked.status_code == 302
    # A second question from a later load is a new question, not a repeat of the first.
    third = browser.get("/p/").content.decode()
    key = re.search(r'name="question-submission_key" value="([^"]+)"', third).group(1)
    browser.post(
        reverse("packs:respond_question"),
        {"csrfmiddlewaretoken": csrf, "question-submission_key": key, "question-message": "And drink?"},
    )
    assert list(PatientResponse.objects.order_by("created_at").values_list("message", flat=True)) == [
        "Can I eat after?",
        "And drink?",
    ]


def test_what_the_patient_did_shows_on_the_next_load(sendable_case, coordinator):
    browser, _token = opened_and_verified(sendable_case, coordinator)
    before = browser.get("/p/").content.decode()
    option = sendable_case.options.get(is_recommended=True)
    key = re.search(r'name="proceed-submission_key" value="([^"]+)"', before).group(1)
    browser.post(
        reverse("packs:respond_proceed"),
        {"proceed-submission_key": key, "proceed-option": str(option.public_id), "proceed-preferred_times": ""},
    )
    browser.get("/p/")  # the one-time confirmation
    after = browser.get("/p/").content.decode()
    assert "You asked to go ahead with" not in before
    assert f"You asked to go ahead with “{option.title}”" in after
