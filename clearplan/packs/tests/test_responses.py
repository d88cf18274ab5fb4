"""What the patient does from their pack: proceed, ask a question, not right now."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from clearplan.audit.models import AuditEvent
from clearplan.notifications.models import Notification
from clearplan.packs import access
from clearplan.packs.links import link_create, link_revoke
from clearplan.packs.models import PackSession, PatientResponse, Recipient
from clearplan.packs.responses import patient_action_state, response_record, treatment_options
from clearplan.packs.versions import pack_version_freeze

PHONE_BROWSER = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148 Safari/604.1"


def patient_request(address: str = "203.0.113.9"):
    return RequestFactory().post("/p/", REMOTE_ADDR=address, HTTP_USER_AGENT=PHONE_BROWSER)


def start_session(link, *, verified: bool = True) -> PackSession:
    session, _key = access.session_start(link=link, request=patient_request())
    if verified:
        session.verified_at = timezone.now()
        session.verified_by = link.verification
        session.save(update_fields=["verified_at", "verified_by"])
    return session


@pytest.fixture
def version(sendable_case, coordinator):
    return pack_version_freeze(case=sendable_case, by=coordinator)


@pytest.fixture
def link(sendable_case, coordinator, version):
    return link_create(case=sendable_case, by=coordinator)[0]


@pytest.fixture
def session(link):
    return start_session(link)


@pytest.fixture
def guardian_session(sendable_case, coordinator, version):
    patient = sendable_case.patient
    patient.guardian_name = "Aroha Ngata"
    patient.save()
    guardian_link = link_create(case=sendable_case, recipient=Recipient.GUARDIAN, by=coordinator)[0]
    return start_session(guardian_link)


def another_case(patient, template, dentist, coordinator):
    from clearplan.plans import composer

    return composer.case_create_from_template(
        patient=patient,
        template=template,
        dentist=dentist,
        coordinator=coordinator,
        conversation_date=date(2025, 10, 1),
        by=coordinator,
    ).case


def option_id(version, title: str) -> str:
    return next(option["public_id"] for option in version.snapshot["options"] if option["title"] == title)


def key() -> str:
    return uuid.uuid4().hex


# ---------- I'd like to proceed ----------


def test_proceed_records_the_chosen_option_and_preferred_times(session, version):
    crown = option_id(version, "Option A: crown")
    response = response_record(
        session=session,
        version=version,
        kind="proceed",
        option_public_id=crown,
        preferred_times="Weekday mornings; after 3 pm on Tuesdays",
        submission_key=key(),
        request=patient_request(),
    )
    assert response.kind == "proceed"
    assert str(response.option_public_id) == crown
    assert response.option_title == "Option A: crown"
    assert response.preferred_times == "Weekday mornings; after 3 pm on Tuesdays"
    assert response.case == version.case
    assert response.version == version
    assert response.responder == Recipient.PATIENT


def test_proceed_needs_an_option(session, version):
    with pytest.raises(ValidationError) as error:
        response_record(session=session, version=version, kind="proceed", submission_key=key())
    assert error.value.message_dict == {"option": ["Choose the option you would like to go ahead with."]}
    assert not PatientResponse.objects.exists()


def test_proceed_refuses_the_no_treatment_option(session, version):
    no_treatment = option_id(version, "No treatment — what to expect")
    with pytest.raises(ValidationError) as error:
        response_record(
            session=session, version=version, kind="proceed", option_public_id=no_treatment, submission_key=key()
        )
    assert "treatment options" in error.value.message_dict["option"][0]
    assert not PatientResponse.objects.exists()


def test_proceed_refuses_an_option_from_another_case(session, version, patient, template, dentist, coordinator):
    other_case = another_case(patient, template, dentist, coordinator)
    other_option = other_case.options.get(title="Option A: crown")
    with pytest.raises(ValidationError) as error:
        response_record(
            session=session,
            version=version,
            kind="proceed",
            option_public_id=other_option.public_id,
            submission_key=key(),
        )
    assert error.value.message_dict == {"option": ["Choose one of the options in your pack."]}


def test_proceed_refuses_an_option_that_is_not_in_the_version_the_patient_reads(
    session, version, sendable_case, coordinator
):
    added = sendable_case.options.create(title="Option C: added later", kind="treatment", position=9)
    with pytest.raises(ValidationError):
        response_record(
            session=session, version=version, kind="proceed", option_public_id=added.public_id, submission_key=key()
        )


def test_proceed_refuses_an_option_id_that_is_not_an_id(session, version):
    with pytest.raises(ValidationError) as error:
        response_record(
            session=session, version=version, kind="proceed", option_public_id="'; DROP TABLE", submission_key=key()
        )
    assert "option" in error.value.message_dict


# ---------- I have a question ----------


def test_question_records_the_message_as_typed(session, version):
    text = "Can I have the crown before Christmas?\nI'm away from 20 Dec — is that OK?"
    response = response_record(session=session, version=version, kind="question", message=text, submission_key=key())
    assert response.kind == "question"
    assert response.message == text
    assert response.option_public_id is None


def test_question_needs_a_message(session, version):
    with pytest.raises(ValidationError) as error:
        response_record(session=session, version=version, kind="question", message="   ", submission_key=key())
    assert error.value.message_dict == {"message": ["Type your question for the team."]}
    assert not PatientResponse.objects.exists()


def test_question_is_at_most_two_thousand_characters(session, version):
    with pytest.raises(ValidationError) as error:
        response_record(session=session, version=version, kind="question", message="a" * 2001, submission_key=key())
    assert error.value.message_dict == {"message": ["Please keep your message to 2000 characters (it has 2001)."]}
    response_record(session=session, version=version, kind="question", message="a" * 2000, submission_key=key())


# ---------- Not right now ----------


def test_not_now_needs_no_reason(session, version):
    response = response_record(session=session, version=version, kind="not_now", submission_key=key())
    assert response.kind == "not_now"
    assert response.reason == ""
    assert response.message == ""


def test_not_now_keeps_a_reason_and_a_message(session, version):
    response = response_record(
        session=session,
        version=version,
        kind="not_now",
        reason="insurance",
        message="Waiting to hear back from my health fund.",
        submission_key=key(),
    )
    assert response.reason == "insurance"
    assert response.get_reason_display() == "Waiting on my insurance or health fund"
    assert response.message == "Waiting to hear back from my health fund."


def test_not_now_refuses_a_reason_not_offered(session, version):
    with pytest.raises(ValidationError) as error:
        response_record(session=session, version=version, kind="not_now", reason="bribe", submission_key=key())
    assert "reason" in error.value.message_dict


def test_an_unknown_kind_is_refused(session, version):
    with pytest.raises(ValidationError):
        response_record(session=session, version=version, kind="cancel_everything", submission_key=key())


# ---------- Double submits, sessions and the record kept ----------


def test_the_same_form_sent_twice_records_one_reply(session, version):
    submission = key()
    first = response_record(
        session=session, version=version, kind="question", message="Is it painful?", submission_key=submission
    )
    second = response_record(
        session=session, version=version, kind="question", message="Is it painful?", submission_key=submission
    )
    assert first.pk == second.pk
    assert PatientResponse.objects.count() == 1
    assert Notification.objects.filter(kind="question").count() == Notification.objects.count()
    assert AuditEvent.objects.filter(changes__pack_response__1="question").count() == 1


def test_a_key_used_by_another_session_is_refused(session, version, link):
    other = start_session(link)
    submission = key()
    response_record(session=session, version=version, kind="not_now", submission_key=submission)
    with pytest.raises(ValidationError):
        response_record(session=other, version=version, kind="not_now", submission_key=submission)
    assert PatientResponse.objects.count() == 1


def test_an_unverified_session_cannot_reply(link, version):
    unverified = start_session(link, verified=False)
    with pytest.raises(ValidationError) as error:
        response_record(session=unverified, version=version, kind="question", message="Hi", submission_key=key())
    assert "confirm who you are" in error.value.messages[0]
    assert not PatientResponse.objects.exists()


def test_a_revoked_link_cannot_reply(session, link, version, coordinator):
    link_revoke(link=link, by=coordinator)
    with pytest.raises(ValidationError) as error:
        response_record(session=session, version=version, kind="question", message="Hi", submission_key=key())
    assert "link has ended" in error.value.messages[0]


def test_a_session_cannot_reply_to_another_cases_pack(session, patient, template, dentist, coordinator):
    from clearplan.packs.tests.conftest import add_key_image

    other_case = another_case(patient, template, dentist, coordinator)
    other_case.options.filter(kind="treatment").delete()
    add_key_image(other_case, coordinator, 1, "Another X-ray")
    other_version = pack_version_freeze(case=other_case, by=coordinator)
    with pytest.raises(ValidationError):
        response_record(session=session, version=other_version, kind="question", message="Hello", submission_key=key())
    assert not PatientResponse.objects.exists()


def test_each_reply_is_audited_as_the_patient_with_address_and_browser(session, version):
    response_record(
        session=session,
        version=version,
        kind="question",
        message="Private words",
        submission_key=key(),
        request=patient_request("198.51.100.4"),
    )
    event = AuditEvent.objects.get(changes__pack_response__1="question")
    assert event.actor is None
    assert event.actor_label == "Patient (pack link)"
    assert event.ip_address == "198.51.100.4"
    assert "iPhone" in event.user_agent
    assert event.object_id == str(version.case.public_id)
    assert "Private words" not in str(event.changes)


def test_a_guardians_reply_is_recorded_and_audited_as_the_guardian(guardian_session, version):
    response = response_record(
        session=guardian_session, version=version, kind="question", message="Is she old enough?", submission_key=key()
    )
    assert response.responder == Recipient.GUARDIAN
    assert AuditEvent.objects.get(changes__pack_response__1="question").actor_label == "Parent or guardian (pack link)"


def test_the_team_hears_about_each_reply(session, version, coordinator, dentist):
    crown = option_id(version, "Option A: crown")
    response_record(session=session, version=version, kind="proceed", option_public_id=crown, submission_key=key())
    response_record(session=session, version=version, kind="question", message="When?", submission_key=key())
    response_record(session=session, version=version, kind="not_now", reason="cost", submission_key=key())
    for person in (coordinator, dentist):
        kinds = set(Notification.objects.filter(recipient=person).values_list("kind", flat=True))
        assert kinds == {"proceed", "question", "not_now"}
    proceed = Notification.objects.filter(recipient=coordinator, kind="proceed").get()
    assert "Option A: crown" in proceed.text
    question = Notification.objects.filter(recipient=coordinator, kind="question").get()
    assert "When?" not in question.text


# ---------- What the page shows ----------


def test_the_options_offered_are_the_treatment_options_with_the_recommended_first(version):
    titles = [option["title"] for option in treatment_options(version.snapshot)]
    assert titles == ["Option A: crown", "Option B: denture"]


def test_the_page_state_preselects_the_option_the_patient_asked_for(session, version):
    state = patient_action_state(session, version)
    assert state.chosen_option_id == ""
    assert state.responses == []
    assert state.signature is None
    denture = option_id(version, "Option B: denture")
    response_record(session=session, version=version, kind="proceed", option_public_id=denture, submission_key=key())
    state = patient_action_state(session, version)
    assert state.chosen_option_id == denture
    assert state.latest_proceed is not None
    assert state.latest_proceed.option_title == "Option B: denture"
    assert next(statement[:20] for statement in state.statements) == "I have read this tre"
    assert not state.is_guardian
    assert state.patient_first_name == "Mere"


# ---------- The pages ----------


def patient_client(session_and_key, *, enforce_csrf: bool = False):
    from django.test import Client

    _session, cookie_key = session_and_key
    client = Client(enforce_csrf_checks=enforce_csrf, HTTP_USER_AGENT=PHONE_BROWSER)
    client.cookies[access.PACK_COOKIE] = cookie_key
    return client


def verified_session_with_key(link) -> tuple[PackSession, str]:
    session, cookie_key = access.session_start(link=link, request=patient_request())
    session.verified_at = timezone.now()
    session.verified_by = link.verification
    session.save(update_fields=["verified_at", "verified_by"])
    return session, cookie_key


@pytest.fixture
def browser_session(link):
    return verified_session_with_key(link)


@pytest.fixture
def client_for(browser_session):
    return patient_client(browser_session)


def form_data(prefix: str, version, **values) -> dict[str, object]:
    data: dict[str, object] = {f"{prefix}-submission_key": key(), f"{prefix}-version": str(version.public_id)}
    data.update({f"{prefix}-{name}": value for name, value in values.items()})
    return data


def test_the_pack_page_offers_the_three_choices_and_the_consent_form(client_for, version):
    page = client_for.get(reverse("packs:patient_pack")).content.decode()
    assert "What would you like to do?" in page
    for choice in ("I’d like to proceed", "I have a question", "Not right now", "Consent and signature"):
        assert choice in page
    assert version.snapshot["consent_statements"][0] in page
    assert 'autocomplete="name"' in page
    # The recommended option is offered first, and marked.
    assert page.index("Option A: crown") < page.index("Option B: denture")
    assert "Recommended" in page
    # A patient's own link is not asked who they are to the patient.
    assert "relationship" not in page


def test_asking_a_question_goes_back_to_the_pack_with_a_calm_confirmation(client_for, version, sendable_case):
    data = form_data("question", version, message="Will I need time off work?")
    response = client_for.post(reverse("packs:respond_question"), data)
    assert response.status_code == 302
    assert response["Location"] == "/p/#pack-done"
    assert response["Cache-Control"] == "no-store"
    assert PatientResponse.objects.get().message == "Will I need time off work?"
    page = client_for.get("/p/").content.decode()
    assert f"Thank you — we’ve told the team. {sendable_case.clinic.name} will be in touch." in page
    assert 'id="pack-done"' in page
    assert "You asked a question" in page
    # Shown once: reading the pack again does not thank them again.
    assert "we’ve told the team" not in client_for.get("/p/").content.decode()


def test_asking_to_proceed_keeps_the_option_and_times_and_offers_to_sign(client_for, version):
    denture = option_id(version, "Option B: denture")
    data = form_data("proceed", version, option=denture, preferred_times="after 3 pm on Tuesdays")
    data["proceed-times"] = ["Weekday mornings", "Saturdays"]
    response = client_for.post(reverse("packs:respond_proceed"), data)
    assert response.status_code == 302
    proceed = PatientResponse.objects.get()
    assert proceed.option_title == "Option B: denture"
    assert proceed.preferred_times == "Weekday mornings; Saturdays; after 3 pm on Tuesdays"
    page = client_for.get("/p/").content.decode()
    assert "Sign your consent now" in page
    # The consent form now has that option chosen (the recommended crown is listed first).
    assert f'name="sign-option" value="{denture}" id="id_sign-option_1" checked' in page


def test_not_right_now_with_a_reason(client_for, version):
    response = client_for.post(reverse("packs:respond_not_now"), form_data("not-now", version, reason="cost"))
    assert response.status_code == 302
    assert PatientResponse.objects.get().reason == "cost"


def test_an_empty_question_is_shown_again_at_the_field_and_nothing_is_saved(client_for, version):
    response = client_for.post(reverse("packs:respond_question"), form_data("question", version, message="  "))
    assert response.status_code == 400
    page = response.content.decode()
    assert "Type your question for the team." in page
    assert 'aria-invalid="true"' in page
    assert 'aria-describedby="id_question-message_helptext id_question-message_error"' in page
    assert "Back to your pack" in page
    assert not PatientResponse.objects.exists()


def test_another_cases_option_is_refused_at_the_field(client_for, version, patient, template, dentist, coordinator):
    other_option = another_case(patient, template, dentist, coordinator).options.get(title="Option A: crown")
    response = client_for.post(
        reverse("packs:respond_proceed"), form_data("proceed", version, option=str(other_option.public_id))
    )
    assert response.status_code == 400
    assert "Choose one of the options in your pack." in response.content.decode()
    assert not PatientResponse.objects.exists()


def test_the_same_form_posted_twice_records_once(client_for, version):
    data = form_data("question", version, message="Is parking available?")
    first = client_for.post(reverse("packs:respond_question"), data)
    second = client_for.post(reverse("packs:respond_question"), data)
    assert first.status_code == second.status_code == 302
    assert PatientResponse.objects.count() == 1


def test_replies_need_the_forms_csrf_token(browser_session, version):
    client = patient_client(browser_session, enforce_csrf=True)
    response = client.post(reverse("packs:respond_question"), form_data("question", version, message="Hello"))
    assert response.status_code == 403
    assert not PatientResponse.objects.exists()
    page = client.get(reverse("packs:respond_question"))
    token = page.context["csrf_token"]
    data = form_data("question", version, message="Hello")
    data["csrfmiddlewaretoken"] = str(token)
    assert client.post(reverse("packs:respond_question"), data).status_code == 302
    assert PatientResponse.objects.count() == 1


def test_an_unverified_session_is_sent_to_verify_and_nothing_is_saved(link, version):
    session_and_key = access.session_start(link=link, request=patient_request())
    client = patient_client(session_and_key)
    for name, prefix in (("respond_question", "question"), ("respond_not_now", "not-now")):
        response = client.post(reverse(f"packs:{name}"), form_data(prefix, version, message="Hi"))
        assert response.status_code == 302
        assert response["Location"] == reverse("packs:patient_pack")
    assert not PatientResponse.objects.exists()


def test_without_a_session_nothing_is_saved(version):
    from django.test import Client

    response = Client().post(reverse("packs:respond_question"), form_data("question", version, message="Hi"))
    assert response.status_code == 302
    assert not PatientResponse.objects.exists()


def test_a_revoked_link_cannot_reply_from_an_open_page(client_for, link, version, coordinator):
    link_revoke(link=link, by=coordinator)
    response = client_for.post(reverse("packs:respond_question"), form_data("question", version, message="Hi"))
    assert response.status_code == 302
    assert not PatientResponse.objects.exists()


def test_each_form_also_opens_on_its_own_page(client_for):
    for name, heading in (
        ("respond_proceed", "I’d like to proceed"),
        ("respond_question", "I have a question"),
        ("respond_not_now", "Not right now"),
        ("sign", "Consent and signature"),
    ):
        response = client_for.get(reverse(f"packs:{name}"))
        assert response.status_code == 200
        assert f"<h1>{heading}</h1>" in response.content.decode()
        assert response["Referrer-Policy"] == "no-referrer"
