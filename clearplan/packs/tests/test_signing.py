# ruff: noqa: F811  (the fixtures imported from test_responses are used as test arguments)
"""Consent and signature: what is checked, and what the record keeps."""

from __future__ import annotations

import uuid
from datetime import UTC

import pytest
from django.core.exceptions import ValidationError

from clearplan.audit.models import AuditEvent
from clearplan.notifications.models import Notification
from clearplan.packs.models import ConsentSignature, PatientResponse
from clearplan.packs.responses import (
    ALREADY_SIGNED,
    UPDATED_SINCE_READ,
    clean_drawn_signature,
    patient_action_state,
    response_record,
    signature_record,
)
from clearplan.packs.tests.test_responses import (  # noqa: F401  (fixtures)
    guardian_session,
    key,
    link,
    option_id,
    patient_request,
    session,
    start_session,
    version,
)
from clearplan.packs.versions import pack_version_freeze


def sign(session, version, **overrides):
    values = {
        "signer_name": "Mere Ngata",
        "relationship": "self",
        "statements_ticked": list(range(len(version.snapshot["consent_statements"]))),
        "option_public_id": option_id(version, "Option A: crown"),
        "submission_key": key(),
        "request": patient_request(),
    }
    values.update(overrides)
    return signature_record(session=session, version=version, **values)


def test_a_signature_keeps_what_was_agreed_to_who_signed_and_how_they_verified(session, version):
    signature = sign(session, version, signer_name="  Zoë O'Brien-Nguyễn  ", drawn_signature="M 10 20 L 30 40.5")
    signature.refresh_from_db()
    assert signature.signer_name == "Zoë O'Brien-Nguyễn"
    assert signature.relationship == "self"
    assert signature.verified_by == session.verified_by == "date_of_birth"
    assert signature.consent_statements == version.snapshot["consent_statements"]
    assert signature.consent_statements[0] == (
        "I have read this treatment pack and had the chance to ask questions about it."
    )
    assert signature.version == version
    assert signature.version_sha256 == version.sha256
    assert signature.option_title == "Option A: crown"
    assert signature.signed_at.utcoffset().total_seconds() == 0
    assert signature.signed_at.tzinfo is not None
    assert signature.signed_at.astimezone(UTC) == signature.signed_at
    assert signature.ip_address == "203.0.113.9"
    assert "iPhone" in signature.user_agent
    assert signature.drawn_signature == "M 10 20 L 30 40.5"


def test_the_exact_wording_is_kept_even_when_the_template_changes_later(session, version, template):
    template.consent_statements = ["Something else entirely."]
    template.save()
    signature = sign(session, version)
    assert len(signature.consent_statements) == 4
    assert "Something else entirely." not in signature.consent_statements


def test_every_statement_must_be_ticked_and_the_message_names_the_missing_ones(session, version):
    statements = version.snapshot["consent_statements"]
    with pytest.raises(ValidationError) as error:
        sign(session, version, statements_ticked=[0, 2])
    message = error.value.message_dict["statements"][0]
    assert f"2. “{statements[1]}”" in message
    assert f"4. “{statements[3]}”" in message
    assert statements[0] not in message
    assert not ConsentSignature.objects.exists()


def test_ticking_nothing_is_refused_plainly(session, version):
    with pytest.raises(ValidationError) as error:
        sign(session, version, statements_ticked=[])
    assert error.value.message_dict["statements"] == ["Tick each statement to show you agree with it."]


def test_ticks_for_statements_that_do_not_exist_do_not_count(session, version):
    with pytest.raises(ValidationError):
        sign(session, version, statements_ticked=[0, 1, 2, 7])


def test_a_name_is_needed(session, version):
    with pytest.raises(ValidationError) as error:
        sign(session, version, signer_name="   ")
    assert error.value.message_dict == {"signer_name": ["Type your full name to sign."]}


def test_several_problems_are_reported_together(session, version):
    with pytest.raises(ValidationError) as error:
        sign(session, version, signer_name="", statements_ticked=[], option_public_id=None)
    assert set(error.value.message_dict) == {"signer_name", "statements", "option"}
    assert not ConsentSignature.objects.exists()
    assert not PatientResponse.objects.exists()


def test_the_option_must_be_a_treatment_option_of_this_version(session, version):
    with pytest.raises(ValidationError) as error:
        sign(session, version, option_public_id=option_id(version, "No treatment — what to expect"))
    assert "option" in error.value.message_dict
    with pytest.raises(ValidationError):
        sign(session, version, option_public_id=uuid.uuid4())


def test_a_patient_signs_for_themselves(session, version):
    with pytest.raises(ValidationError) as error:
        sign(session, version, relationship="parent")
    assert "relationship" in error.value.message_dict
    assert sign(session, version, relationship="").relationship == "self"


def test_a_guardian_says_how_they_are_related_and_cannot_sign_as_the_patient(guardian_session, version):
    for wrong in ("self", "", "uncle"):
        with pytest.raises(ValidationError) as error:
            sign(guardian_session, version, relationship=wrong, signer_name="Aroha Ngata")
        assert error.value.message_dict["relationship"] == ["Choose how you are related to Mere."]
    signature = sign(guardian_session, version, relationship="parent", signer_name="Aroha Ngata")
    assert signature.relationship == "parent"
    assert signature.signer_name == "Aroha Ngata"
    event = AuditEvent.objects.get(changes__consent_signature__1=str(signature.public_id))
    assert event.actor_label == "Parent or guardian (pack link)"


def test_a_signature_for_an_older_version_is_refused(session, version, sendable_case, coordinator):
    pack_version_freeze(case=sendable_case, by=coordinator)
    with pytest.raises(ValidationError) as error:
        sign(session, version)
    assert error.value.messages == [UPDATED_SINCE_READ]
    assert UPDATED_SINCE_READ.startswith("This pack was updated — please read the latest version before signing")


def test_signing_twice_is_refused_politely_even_from_another_browser(session, version, link):
    sign(session, version)
    with pytest.raises(ValidationError) as error:
        sign(start_session(link), version)
    assert error.value.messages == [ALREADY_SIGNED]
    assert ConsentSignature.objects.count() == 1


def test_a_double_submit_gives_back_the_same_signature(session, version):
    submission = key()
    first = sign(session, version, submission_key=submission)
    second = sign(session, version, submission_key=submission)
    assert first.pk == second.pk
    assert ConsentSignature.objects.count() == 1
    assert Notification.objects.filter(kind="signed").count() == Notification.objects.values("recipient").count()


def test_a_new_version_needs_a_new_signature(session, version, sendable_case, coordinator):
    sign(session, version)
    newer = pack_version_freeze(case=sendable_case, by=coordinator)
    state = patient_action_state(session, newer)
    assert state.signature is None
    assert state.needs_new_signature
    assert state.earlier_signature is not None
    assert state.earlier_signature.version == version
    signature = sign(session, newer)
    assert signature.version == newer
    assert signature.version_sha256 == newer.sha256
    state = patient_action_state(session, newer)
    assert state.signature == signature
    assert not state.needs_new_signature


def test_signing_records_a_proceed_reply_for_the_option_when_there_is_none(session, version):
    signature = sign(session, version)
    proceed = PatientResponse.objects.get(kind="proceed")
    assert proceed.option_public_id == signature.option_public_id
    assert proceed.version == version


def test_signing_after_asking_to_proceed_with_that_option_adds_no_second_request(session, version):
    crown = option_id(version, "Option A: crown")
    response_record(session=session, version=version, kind="proceed", option_public_id=crown, submission_key=key())
    sign(session, version, option_public_id=crown)
    assert PatientResponse.objects.filter(kind="proceed").count() == 1


def test_the_team_hears_about_the_signature(session, version, coordinator):
    sign(session, version)
    notification = Notification.objects.get(recipient=coordinator, kind="signed")
    assert "Option A: crown" in notification.text


def test_an_unverified_session_cannot_sign(link, version):
    with pytest.raises(ValidationError):
        sign(start_session(link, verified=False), version)
    assert not ConsentSignature.objects.exists()


# ---------- The drawn signature ----------


@pytest.mark.parametrize(
    ("drawn", "stored"),
    [
        ("", ""),
        ("M 0 0 L 1000 300", "M 0 0 L 1000 300"),
        ("M10,20L30,40 50,60", "M 10 20 L 30 40 50 60"),
        ("M 1.5 2.25 Q 3 4 5 6 C 1 2 3 4 5 6", "M 1.5 2.25 Q 3 4 5 6 C 1 2 3 4 5 6"),
        ("  M 1 2 L 3 4\n M 5 6 L 7 8  ", "M 1 2 L 3 4 M 5 6 L 7 8"),
    ],
)
def test_a_drawn_signature_is_plain_path_data(drawn, stored):
    assert clean_drawn_signature(drawn) == stored


@pytest.mark.parametrize(
    "hostile",
    [
        'M 0 0"/><script>alert(1)</script>',
        "javascript:alert(1)",
        "M 0 0 Z",
        "M 0 0 A 1 1 0 0 1 2 2",
        "L 1 1",
        "M 1e5 1",
        "M 1 2 L 3",
        "M 1001 2",
        "M 10 301",
        "M NaN 0",
        "M 0 0 L 10 10 <image href=x>",
        "M 1 2 " + "L 3 4 " * 7000,
        "M 0 0 L 1-2",
        "M 0 0 L 1..2 3",
        "M 0 0 L 1,,2",
    ],
)
def test_anything_else_in_the_drawn_signature_is_refused(hostile, session, version):
    with pytest.raises(ValidationError) as error:
        sign(session, version, drawn_signature=hostile)
    assert "drawn_signature" in error.value.message_dict
    assert not ConsentSignature.objects.exists()


# ---------- The signed PDF ----------


def test_the_signed_pdf_is_made_once_the_signature_is_committed(session, version, django_capture_on_commit_callbacks):
    pytest.importorskip("clearplan.packs.pdf")
    with django_capture_on_commit_callbacks(execute=True):
        signature = sign(session, version, signer_name="Zoë O'Brien")
    signature.refresh_from_db()
    assert signature.pdf
    assert len(signature.pdf_sha256) == 64
    with signature.pdf.open("rb") as stored:
        assert stored.read(5) == b"%PDF-"
