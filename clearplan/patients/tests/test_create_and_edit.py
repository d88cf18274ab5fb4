import re
import uuid
from datetime import date

import pytest
import time_machine
from django.test import Client

from clearplan.accounts.models import Membership
from clearplan.accounts.tests.factories import ClinicFactory, staff_member
from clearplan.audit.models import AuditEvent
from clearplan.patients.models import Patient
from clearplan.patients.services import patient_update, record_version
from clearplan.patients.tests.factories import PatientFactory

NEW_URL = "/patients/new/"


def form_data(**overrides):
    data = {
        "first_name": "Zoë",
        "last_name": "O'Brien",
        "preferred_name": "",
        "date_of_birth": "14/03/1988",
        "mobile": "0412 345 678",
        "email": "zoe@example.com",
        "preferred_channel": "sms",
        "consent_sms": "on",
        "guardian_name": "",
        "guardian_relationship": "",
        "guardian_mobile": "",
        "guardian_email": "",
        "primary_dentist": "",
        "pms_id": "",
        "medical_alerts": "",
        "notes": "",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def field_errors(response, field):
    return response.context["form"].errors.get(field, [])


def test_front_desk_can_register_a_patient(front_desk_client, front_desk, clinic, dentist):
    response = front_desk_client.post(
        NEW_URL, form_data(primary_dentist=str(dentist.pk), medical_alerts="Penicillin allergy", pms_id="10423")
    )
    patient = Patient.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/patients/{patient.public_id}/"
    assert (patient.first_name, patient.last_name) == ("Zoë", "O'Brien")
    assert patient.clinic == clinic
    assert patient.created_by == front_desk
    assert patient.mobile == "+61412345678"
    assert patient.date_of_birth == date(1988, 3, 14)
    assert patient.primary_dentist == dentist
    assert AuditEvent.objects.filter(action=AuditEvent.Action.CREATE, object_id=str(patient.public_id)).exists()
    assert "Zoë O&#x27;Brien has been added." in front_desk_client.get(response["Location"]).content.decode()


@pytest.mark.parametrize("typed", ["0412 345 678", "+61 412 345 678", "0412-345-678", "(04) 1234 5678"])
def test_a_mobile_typed_any_way_is_stored_in_international_form(coordinator_client, typed):
    coordinator_client.post(NEW_URL, form_data(mobile=typed))
    assert Patient.objects.get().mobile == "+61412345678"


def test_a_new_zealand_mobile_dialled_the_australian_way_is_accepted(coordinator_client):
    response = coordinator_client.post(NEW_URL, form_data(mobile="0011 64 21 123 4567"))
    assert response.status_code == 302
    assert Patient.objects.get().mobile == "+64211234567"


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        (
            "1800 123 456",
            "This is a free-call or business number, not a mobile. Enter a mobile number such as 0412 345 678.",
        ),
        (
            "13 12 34",
            "This is a free-call or business number, not a mobile. Enter a mobile number such as 0412 345 678.",
        ),
        (
            "(02) 9999 1234",
            "This is a landline number, which can't receive text messages. Enter a mobile number such as 0412 345 678.",
        ),
        (
            "0412 345 678 ext 12",
            "Enter the number without an extension. Text messages can't be sent to an extension.",
        ),
    ],
)
def test_a_number_that_cannot_take_a_text_is_refused_at_the_mobile_field(coordinator_client, typed, message):
    for field in ("mobile", "guardian_mobile"):
        response = coordinator_client.post(NEW_URL, form_data(**{field: typed}))
        assert response.status_code == 200
        assert field_errors(response, field) == [message]
    assert not Patient.objects.exists()


def test_the_mobile_hint_gives_an_example_from_the_clinics_country(organisation):
    gb_clinic = ClinicFactory(organisation=organisation, locale="en-GB", time_zone="Europe/London")
    client = Client()
    client.force_login(staff_member(gb_clinic, Membership.Role.FRONT_DESK))
    assert "For example 07400 123456." in client.get(NEW_URL).content.decode()


def test_a_us_clinic_reads_us_numbers_and_dates(organisation):
    us_clinic = ClinicFactory(organisation=organisation, locale="en-US", time_zone="America/Los_Angeles")
    client = Client()
    client.force_login(staff_member(us_clinic, Membership.Role.FRONT_DESK))
    response = client.post(NEW_URL, form_data(mobile="(415) 555-2671", date_of_birth="03/14/1988"))
    assert response.status_code == 302
    patient = Patient.objects.get()
    assert (patient.mobile, patient.date_of_birth) == ("+14155552671", date(1988, 3, 14))


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"mobile": "0412 345"}, "mobile", "Enter a mobile number such as 0412 345 678."),
        ({"mobile": "call after 5"}, "mobile", "Enter a mobile number such as 0412 345 678."),
        ({"email": "zoe@", "consent_email": "on"}, "email", "Enter an email address such as name@example.com."),
        (
            {"date_of_birth": "31/02/1988"},
            "date_of_birth",
            "Enter the date of birth as DD/MM/YYYY, for example 14/03/1988.",
        ),
        (
            {"date_of_birth": "03/14/1988"},
            "date_of_birth",
            "Enter the date of birth as DD/MM/YYYY, for example 14/03/1988.",
        ),
        (
            {"date_of_birth": "01/01/1899"},
            "date_of_birth",
            "Check the year: the date of birth must be after 1 January 1900.",
        ),
        ({"date_of_birth": "01/01/2999"}, "date_of_birth", "The date of birth can't be in the future."),
        ({"first_name": ""}, "first_name", "Enter the patient's legal first name."),
        (
            {"mobile": "", "consent_sms": "on", "preferred_channel": "email", "consent_email": "on"},
            "consent_sms",
            "Add a mobile number to send SMS, or untick this box.",
        ),
        (
            {"email": "", "consent_email": "on"},
            "consent_email",
            "Add an email address to send email, or untick this box.",
        ),
        (
            {"consent_sms": None},
            "preferred_channel",
            "The patient hasn't agreed to SMS. Tick “Agrees to receive SMS”, or choose email.",
        ),
        (
            {"preferred_channel": "email"},
            "preferred_channel",
            "The patient hasn't agreed to email. Tick “Agrees to receive email”, or choose SMS.",
        ),
        (
            {"email": "", "preferred_channel": "email"},
            "preferred_channel",
            "Add an email address to contact this patient by email, or choose SMS.",
        ),
    ],
)
def test_bad_input_gets_a_message_at_the_field_and_saves_nothing(coordinator_client, overrides, field, message):
    response = coordinator_client.post(NEW_URL, form_data(**overrides))
    assert response.status_code == 200
    assert field_errors(response, field) == [message]
    page = response.content.decode()
    assert 'class="error-summary"' in page
    assert f'href="#id_{field}"' in page
    assert f'id="id_{field}_error"' in page
    assert not Patient.objects.exists()


def test_an_unreadable_mobile_gives_one_message_not_three(coordinator_client):
    response = coordinator_client.post(NEW_URL, form_data(mobile="0412 345"))
    assert set(response.context["form"].errors) == {"mobile"}


def test_what_was_typed_is_kept_after_an_error(coordinator_client):
    page = coordinator_client.post(
        NEW_URL, form_data(mobile="0412 345", notes="Nervous about needles")
    ).content.decode()
    assert 'value="Zoë"' in page
    assert 'value="O&#x27;Brien"' in page
    assert 'value="0412 345"' in page
    assert "Nervous about needles" in page


def test_errors_are_tied_to_their_fields_for_screen_readers(coordinator_client):
    page = coordinator_client.post(NEW_URL, form_data(mobile="0412 345")).content.decode()
    assert 'aria-invalid="true"' in page
    assert 'aria-describedby="id_mobile_helptext id_mobile_error"' in page


@time_machine.travel("2024-06-14 15:00:00+00:00", tick=False)
def test_a_child_needs_a_parent_or_guardian(coordinator_client):
    response = coordinator_client.post(NEW_URL, form_data(date_of_birth="01/09/2015"))
    assert field_errors(response, "guardian_name") == ["Patients under 18 need a parent or guardian. Enter their name."]
    assert field_errors(response, "guardian_relationship")
    assert not Patient.objects.exists()

    response = coordinator_client.post(
        NEW_URL,
        form_data(
            date_of_birth="01/09/2015",
            mobile="",
            guardian_name="Siobhán O'Brien",
            guardian_relationship="Mother",
            guardian_mobile="0491 570 156",
        ),
    )
    assert response.status_code == 302
    assert Patient.objects.get().guardian_mobile == "+61491570156"


def test_the_same_practice_id_twice_names_who_has_it(coordinator_client, clinic):
    PatientFactory(clinic=clinic, first_name="Liam", last_name="Walsh", pms_id="10423")
    response = coordinator_client.post(NEW_URL, form_data(pms_id="10423"))
    assert field_errors(response, "pms_id") == ["Liam Walsh already has this practice-management ID at this clinic."]


def test_a_practitioner_from_another_clinic_cannot_be_chosen(coordinator_client, other_clinic):
    elsewhere = staff_member(other_clinic, Membership.Role.PRACTITIONER, clinical_role=Membership.ClinicalRole.DENTIST)
    response = coordinator_client.post(NEW_URL, form_data(primary_dentist=str(elsewhere.pk)))
    assert field_errors(response, "primary_dentist") == [
        "Choose a dentist or other practitioner who works at this clinic."
    ]


def test_the_dentist_list_shows_the_clinics_practitioners_with_their_role(coordinator_client, dentist, other_clinic):
    staff_member(other_clinic, Membership.Role.PRACTITIONER, clinical_role="dentist", first_name="Elsewhere")
    page = coordinator_client.get(NEW_URL).content.decode()
    assert "Priya Raman (Dentist)" in page
    assert "Elsewhere" not in page


def test_the_form_is_grouped_into_sections(coordinator_client):
    page = coordinator_client.get(NEW_URL).content.decode()
    for legend in ("Names", "Contact", "Consent", "Parent or guardian", "Clinical"):
        assert f"<legend>{legend}</legend>" in page
    assert 'class="form-grid"' in page


# -- Duplicates ---------------------------------------------------------------------------


def test_a_possible_duplicate_is_shown_and_nothing_saved_until_confirmed(coordinator_client, clinic):
    existing = PatientFactory(clinic=clinic, first_name="Zoe", last_name="OBrien", date_of_birth=date(1988, 3, 14))
    response = coordinator_client.post(NEW_URL, form_data())
    page = response.content.decode()
    assert "This patient may already be registered" in page
    assert f'href="/patients/{existing.public_id}/"' in page
    assert "This is a different person — save anyway" in page
    assert Patient.objects.count() == 1

    response = coordinator_client.post(NEW_URL, form_data())
    assert Patient.objects.count() == 1

    response = coordinator_client.post(NEW_URL, form_data(confirm_different_person="on"))
    assert response.status_code == 302
    assert Patient.objects.count() == 2


def test_same_name_with_another_birthday_is_not_a_duplicate(coordinator_client, clinic):
    PatientFactory(clinic=clinic, first_name="Zoë", last_name="O'Brien", date_of_birth=date(1990, 3, 14))
    assert coordinator_client.post(NEW_URL, form_data()).status_code == 302


def test_a_namesake_at_another_clinic_is_not_a_duplicate(coordinator_client, other_clinic):
    PatientFactory(clinic=other_clinic, first_name="Zoë", last_name="O'Brien", date_of_birth=date(1988, 3, 14))
    assert coordinator_client.post(NEW_URL, form_data()).status_code == 302


# -- Editing ------------------------------------------------------------------------------


@pytest.fixture
def zoe(clinic):
    return PatientFactory(
        clinic=clinic,
        first_name="Zoë",
        last_name="O'Brien",
        date_of_birth=date(1988, 3, 14),
        mobile="+61412345678",
        email="zoe@example.com",
    )


def edit_data(patient, **overrides):
    return form_data(**({"version": record_version(patient), "consent_email": "on"} | overrides))


def test_the_edit_form_shows_saved_values_the_clinics_way(coordinator_client, zoe):
    page = coordinator_client.get(f"/patients/{zoe.public_id}/edit/").content.decode()
    assert 'value="0412 345 678"' in page
    assert 'value="14/03/1988"' in page
    assert f'name="version" value="{record_version(zoe)}"' in page


def test_an_edit_is_saved_and_audited_with_what_changed(coordinator_client, coordinator, zoe):
    response = coordinator_client.post(
        f"/patients/{zoe.public_id}/edit/", edit_data(zoe, preferred_name="Zo", mobile="0491 570 159")
    )
    assert response.status_code == 302
    zoe.refresh_from_db()
    assert zoe.preferred_name == "Zo"
    event = AuditEvent.objects.get(action=AuditEvent.Action.UPDATE)
    assert event.actor == coordinator
    assert event.changes == {"mobile": ["+61412345678", "+61491570159"], "preferred_name": ["", "Zo"]}


def test_an_edit_of_a_page_opened_before_someone_elses_change_is_not_saved(coordinator_client, zoe, front_desk):
    opened = edit_data(zoe, notes="Asked about payment plans")
    patient_update(patient=zoe, by=front_desk, details={"notes": "Moved to Perth"})

    response = coordinator_client.post(f"/patients/{zoe.public_id}/edit/", opened)
    assert response.status_code == 409
    page = response.content.decode()
    assert "Your changes have not been saved." in page
    assert "Someone else changed this patient's record" in page
    assert "Asked about payment plans" in page
    zoe.refresh_from_db()
    assert zoe.notes == "Moved to Perth"


def test_an_edit_with_a_missing_version_is_treated_as_stale(coordinator_client, zoe):
    response = coordinator_client.post(f"/patients/{zoe.public_id}/edit/", edit_data(zoe, version="", notes="x"))
    assert response.status_code == 409
    zoe.refresh_from_db()
    assert zoe.notes == ""


def test_the_edit_page_keeps_the_saved_name_in_its_heading_while_errors_show(coordinator_client, zoe):
    response = coordinator_client.post(f"/patients/{zoe.public_id}/edit/", edit_data(zoe, first_name="", mobile="1"))
    page = response.content.decode()
    assert "<h1>Edit Zoë O&#x27;Brien</h1>" in page
    assert field_errors(response, "mobile") == ["Enter a mobile number such as 0412 345 678."]


def test_editing_does_not_ask_about_duplicates_of_the_patient_themself(coordinator_client, zoe):
    response = coordinator_client.post(f"/patients/{zoe.public_id}/edit/", edit_data(zoe, notes="Fine"))
    assert response.status_code == 302


def test_the_practice_id_can_be_kept_when_editing(coordinator_client, clinic):
    patient = PatientFactory(
        clinic=clinic,
        first_name="Zoë",
        last_name="O'Brien",
        date_of_birth=date(1988, 3, 14),
        pms_id="10423",
        email="zoe@example.com",
    )
    response = coordinator_client.post(f"/patients/{patient.public_id}/edit/", edit_data(patient, pms_id="10423"))
    assert response.status_code == 302


# -- Sending the form twice -----------------------------------------------------------------


def creation_token_on(page):
    return re.search(r'name="creation_token" value="([0-9a-f-]{36})"', page).group(1)


def test_sending_the_add_form_twice_adds_one_patient(coordinator_client):
    token = creation_token_on(coordinator_client.get(NEW_URL).content.decode())
    first = coordinator_client.post(NEW_URL, form_data(creation_token=token))
    second = coordinator_client.post(NEW_URL, form_data(creation_token=token))
    patient = Patient.objects.get()
    assert first.status_code == second.status_code == 302
    assert second["Location"] == first["Location"] == f"/patients/{patient.public_id}/"
    assert patient.creation_token == uuid.UUID(token)
    page = coordinator_client.get(second["Location"]).content.decode()
    assert page.count("Zoë O&#x27;Brien has been added.") == 1
    assert AuditEvent.objects.filter(action=AuditEvent.Action.CREATE).count() == 1


def test_each_opening_of_the_add_form_can_add_its_own_patient(coordinator_client):
    first_token = creation_token_on(coordinator_client.get(NEW_URL).content.decode())
    second_token = creation_token_on(coordinator_client.get(NEW_URL).content.decode())
    assert first_token != second_token
    coordinator_client.post(NEW_URL, form_data(creation_token=first_token))
    coordinator_client.post(NEW_URL, form_data(first_name="Liam", creation_token=second_token))
    assert Patient.objects.count() == 2


def test_the_token_survives_a_form_with_errors(coordinator_client):
    token = creation_token_on(coordinator_client.get(NEW_URL).content.decode())
    page = coordinator_client.post(NEW_URL, form_data(mobile="0412 345", creation_token=token)).content.decode()
    assert creation_token_on(page) == token
    assert coordinator_client.post(NEW_URL, form_data(creation_token=token)).status_code == 302
    assert Patient.objects.count() == 1


def test_a_form_without_a_readable_token_still_adds_the_patient(coordinator_client):
    response = coordinator_client.post(NEW_URL, form_data(creation_token="not-a-token"))
    assert response.status_code == 302
    assert Patient.objects.get().creation_token is None


def test_another_clinics_form_token_does_not_reveal_its_patient(outsider_client, coordinator_client):
    token = creation_token_on(coordinator_client.get(NEW_URL).content.decode())
    coordinator_client.post(NEW_URL, form_data(creation_token=token))
    response = outsider_client.post(NEW_URL, form_data(first_name="Liam", creation_token=token))
    assert response.status_code == 200
    assert "This form has already added a patient at another clinic." in response.content.decode()
    assert Patient.objects.count() == 1
