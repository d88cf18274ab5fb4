# ruff: noqa: F811  (the fixtures imported from test_responses are used as test arguments)
"""Consent and signature: what is checked, and what the record keeps."""

from __future__ import annotations

import uuid
from datetime import UTC
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from clearplan.audit.models import AuditEvent
from clearplan.notifications.models import Notification
from clearplan.packs.links import link_create
from clearplan.packs.models import ConsentSignature, PatientResponse, Recipient
from clearplan.packs.responses import (
    ALREADY_SIGNED,
    UPDATED_SINCE_READ,
    clean_drawn_signature,
    patient_action_state,
    response_record,
    signature_record,
)
from clearplan.packs.tests.test_responses import (  # noqa: F401  (fixtures)
    browser_session,
    client_for,
    guardian_session,
    key,
    link,
    option_id,
    patient_client,
    patient_request,
    session,
    start_session,
    verified_session_with_key,
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


# ---------- Signing from the pack page ----------


def sign_data(version, **values):
    data = {
        "sign-submission_key": key(),
        "sign-version": str(version.public_id),
        "sign-option": option_id(version, "Option A: crown"),
        "sign-statements": [str(index) for index in range(len(version.snapshot["consent_statements"]))],
        "sign-signer_name": "Zoë O'Brien",
    }
    data.update({f"sign-{name}": value for name, value in values.items()})
    return data


def test_signing_from_the_page_shows_who_signed_and_offers_the_signed_copy(
    client_for, version, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for.post(reverse("packs:sign"), sign_data(version, drawn_signature="M 10 10 L 200 150"))
    assert response.status_code == 302
    assert response["Location"] == "/p/#pack-done"
    signature = ConsentSignature.objects.get()
    assert signature.signer_name == "Zoë O'Brien"
    assert signature.drawn_signature == "M 10 10 L 200 150"
    assert "iPhone" in signature.user_agent
    page = client_for.get("/p/").content.decode()
    signed_on = signature.signed_at.astimezone(ZoneInfo(version.case.clinic.time_zone))
    assert f"Signed by Zoë O&#x27;Brien on {signed_on.day} {signed_on:%B %Y}" in page
    pdf_url = reverse("packs:signed_pdf", args=[signature.public_id])
    assert pdf_url in page
    assert 'action="/p/sign/"' not in page
    download = client_for.get(pdf_url)
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"
    assert b"".join(download.streaming_content).startswith(b"%PDF-")
    assert "Zo" not in download["Content-Disposition"]


def test_a_problem_shows_the_form_again_with_each_message_at_its_field(client_for, version):
    response = client_for.post(reverse("packs:sign"), sign_data(version, statements=["0"], signer_name=""))
    assert response.status_code == 400
    page = response.content.decode()
    assert "Type your full name to sign." in page
    assert "Still to tick" in page
    assert 'aria-invalid="true"' in page
    assert 'href="#id_sign-signer_name"' in page
    assert 'href="#id_sign-statements"' in page
    # What was ticked stays ticked.
    assert 'value="0" id="id_sign-statements_0" aria-invalid="true" checked' in page
    assert not ConsentSignature.objects.exists()


def test_a_refused_drawing_is_not_sent_again(client_for, version):
    response = client_for.post(reverse("packs:sign"), sign_data(version, drawn_signature="M 0 0 <script>"))
    assert response.status_code == 400
    page = response.content.decode()
    assert "The drawn signature could not be read" in page
    assert "<script>" not in page.split("</h1>", 1)[1].split("signature.js")[0]
    assert 'name="sign-drawn_signature" id="id_sign-drawn_signature" value=""' in page


def test_signing_a_version_that_has_since_been_updated_is_refused(client_for, version, sendable_case, coordinator):
    pack_version_freeze(case=sendable_case, by=coordinator)
    response = client_for.post(reverse("packs:sign"), sign_data(version))
    assert response.status_code == 400
    assert "This pack was updated — please read the latest version before signing" in response.content.decode()
    assert not ConsentSignature.objects.exists()


def test_after_an_update_the_page_says_a_new_signature_is_needed(client_for, version, sendable_case, coordinator):
    assert client_for.post(reverse("packs:sign"), sign_data(version)).status_code == 302
    pack_version_freeze(case=sendable_case, by=coordinator)
    page = client_for.get("/p/").content.decode()
    assert "this version needs a new signature" in page
    assert 'action="/p/sign/"' in page


def test_a_guardian_is_asked_how_they_are_related(sendable_case, coordinator, version):
    patient = sendable_case.patient
    patient.guardian_name = "Aroha Ngata"
    patient.save()
    guardian_link = link_create(case=sendable_case, recipient=Recipient.GUARDIAN, by=coordinator)[0]
    client = patient_client(verified_session_with_key(guardian_link))
    page = client.get("/p/").content.decode()
    assert "Your relationship to Mere" in page
    assert "You are signing for Mere." in page
    refused = client.post(reverse("packs:sign"), sign_data(version, signer_name="Aroha Ngata"))
    assert refused.status_code == 400
    assert "Choose how you are related to Mere." in refused.content.decode()
    signed = client.post(reverse("packs:sign"), sign_data(version, signer_name="Aroha Ngata", relationship="parent"))
    assert signed.status_code == 302
    assert ConsentSignature.objects.get().relationship == "parent"
    assert "As Mere’s parent, you agreed" in client.get("/p/").content.decode()


def test_signing_needs_the_forms_csrf_token(browser_session, version):
    client = patient_client(browser_session, enforce_csrf=True)
    assert client.post(reverse("packs:sign"), sign_data(version)).status_code == 403
    assert not ConsentSignature.objects.exists()


def test_another_cases_signed_copy_is_not_reachable(client_for, version, patient, template, dentist, coordinator):
    from clearplan.packs.tests.conftest import add_key_image
    from clearplan.packs.tests.test_responses import another_case

    other_case = another_case(patient, template, dentist, coordinator)
    other_case.options.filter(title="Option B: denture").delete()
    add_key_image(other_case, coordinator, 1, "Another X-ray")
    other_version = pack_version_freeze(case=other_case, by=coordinator)
    other_session = start_session(link_create(case=other_case, by=coordinator)[0])
    other_signature = sign(other_session, other_version)
    assert client_for.get(reverse("packs:signed_pdf", args=[other_signature.public_id])).status_code == 404
    assert client_for.get(reverse("packs:signed_pdf", args=[uuid.uuid4()])).status_code == 404
    # Its own case's signed copy is there.
    own = sign(start_session(link_create(case=version.case, by=coordinator)[0]), version)
    assert client_for.get(reverse("packs:signed_pdf", args=[own.public_id])).status_code == 200
