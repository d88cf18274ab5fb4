"""The compiled session lookup gives exactly what the ordinary queryset gives."""

from __future__ import annotations

import threading
from datetime import timedelta

from django.utils import timezone

from clearplan.packs import session_lookup
from clearplan.packs.models import PackSession
from clearplan.packs.session_lookup import find_session, session_queryset
from clearplan.packs.tests.patient_client import opened_and_verified
from clearplan.packs.versions import pack_version_freeze


def _session_digest() -> str:
    return PackSession.objects.get(verified_at__isnull=False).key_sha256


def _same(found: PackSession, expected: PackSession) -> None:
    assert found.pk == expected.pk
    assert found.verified_at == expected.verified_at
    assert found.expires_at == expected.expires_at
    assert found.link.public_id == expected.link.public_id
    assert found.link.case.public_id == expected.link.case.public_id
    assert found.link.case.clinic.name == expected.link.case.clinic.name
    assert found.link.case.patient.date_of_birth == expected.link.case.patient.date_of_birth
    for name in ("latest_version_key", "last_response_key", "last_signature_key"):
        assert getattr(found, name) == getattr(expected, name)


def test_it_finds_the_session_with_its_link_case_clinic_patient_and_page_state(
    sendable_case, coordinator, django_assert_num_queries
):
    opened_and_verified(sendable_case, coordinator)
    digest = _session_digest()
    now = timezone.now()
    expected = session_queryset(digest, now).get()
    assert expected.latest_version_key == sendable_case.pack_versions.get().public_id

    for _ in range(2):  # compiled on the first call, reused on the second
        with django_assert_num_queries(1):
            found = find_session(digest, now)
        _same(found, expected)
    # The compiled statement is in use (not the fallback to the ordinary queryset).
    assert session_lookup._local.plans["default"] is not None


def test_a_newer_version_and_a_reply_show_in_the_state(sendable_case, coordinator):
    browser, _token = opened_and_verified(sendable_case, coordinator)
    digest = _session_digest()
    first = find_session(digest, timezone.now())
    newer = pack_version_freeze(case=sendable_case, by=coordinator)
    asked = browser.post("/p/respond/question/", {"question-submission_key": "k" * 20, "question-message": "When?"})
    assert asked.status_code == 302

    again = find_session(digest, timezone.now())
    assert again.latest_version_key == newer.public_id
    assert first.latest_version_key != newer.public_id
    assert first.last_response_key is None
    assert again.last_response_key is not None


def test_an_unknown_key_or_an_expired_session_finds_nothing(sendable_case, coordinator):
    opened_and_verified(sendable_case, coordinator)
    digest = _session_digest()
    assert find_session("0" * 64, timezone.now()) is None
    assert find_session(digest, timezone.now() + timedelta(days=2)) is None
    assert find_session(digest, timezone.now()) is not None


def test_another_thread_compiles_its_own_lookup(sendable_case, coordinator):
    opened_and_verified(sendable_case, coordinator)
    digest = _session_digest()
    errors: list[BaseException] = []

    def look() -> None:
        from django.db import connection

        try:
            # A thread has its own connection (which, on SQLite, cannot see this test's open
            # transaction), so it must simply run without error and find nothing it should not.
            find_session("0" * 64, timezone.now())
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    thread = threading.Thread(target=look)
    thread.start()
    thread.join()
    assert errors == []
    assert find_session(digest, timezone.now()).link.case.pk == sendable_case.pk
