import re
from datetime import date

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clearplan.accounts.models import Membership
from clearplan.accounts.tests.factories import ClinicFactory, staff_member
from clearplan.audit.models import AuditEvent
from clearplan.lib import private_search
from clearplan.patients.tests.factories import PatientFactory

LIST_URL = "/patients/"


def search(client, text, **extra):
    """Type a search and press Enter, as a person without JavaScript would."""
    return client.post(LIST_URL, {"q": text}, follow=True, **extra)


def names_on(response):
    return [patient.full_name for patient in response.context["patients"]]


@pytest.fixture
def patients(clinic):
    return {
        "zoe": PatientFactory(
            clinic=clinic, first_name="Zoë", last_name="O'Brien", date_of_birth=date(1988, 3, 14), mobile="+61412345678"
        ),
        "thao": PatientFactory(
            clinic=clinic, first_name="Thảo", last_name="Nguyễn", date_of_birth=date(1975, 11, 2), pms_id="10423"
        ),
        "tui": PatientFactory(clinic=clinic, first_name="Tūī", last_name="Smith-Jones", date_of_birth=date(2001, 1, 9)),
        "nathan": PatientFactory(clinic=clinic, first_name="Nathan", last_name="Anderson"),
    }


def test_it_lists_the_clinics_patients_by_last_name(coordinator_client, patients):
    response = coordinator_client.get(LIST_URL)
    assert names_on(response) == ["Nathan Anderson", "Thảo Nguyễn", "Zoë O'Brien", "Tūī Smith-Jones"]


def test_it_hides_other_clinics_patients(coordinator_client, patients, other_clinic):
    PatientFactory(clinic=other_clinic, first_name="Perth", last_name="Person")
    response = coordinator_client.get(LIST_URL)
    assert "Perth Person" not in names_on(response)
    assert "Perth Person" not in response.content.decode()


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("zoe", ["Zoë O'Brien"]),
        ("ZOË", ["Zoë O'Brien"]),
        ("obrien", ["Zoë O'Brien"]),
        ("o'brien", ["Zoë O'Brien"]),
        ("O’Brien", ["Zoë O'Brien"]),
        ("brien zoe", ["Zoë O'Brien"]),
        ("nguyen", ["Thảo Nguyễn"]),
        ("thao nguyen", ["Thảo Nguyễn"]),
        ("jones", ["Tūī Smith-Jones"]),
        ("smith-jones", ["Tūī Smith-Jones"]),
        ("smith jones", ["Tūī Smith-Jones"]),
        ("tui", ["Tūī Smith-Jones"]),
        ("an", ["Nathan Anderson"]),
    ],
)
def test_name_search_ignores_accents_case_apostrophes_and_hyphens(coordinator_client, patients, typed, expected):
    assert names_on(search(coordinator_client, typed)) == expected


@pytest.mark.parametrize("typed", ["0412345678", "0412 345 678", "+61 412 345 678", "(04) 1234-5678", "345678"])
def test_phone_search_finds_the_number_however_it_is_typed(coordinator_client, patients, typed):
    assert names_on(search(coordinator_client, typed)) == ["Zoë O'Brien"]


def test_phone_search_finds_a_child_by_their_parents_mobile(coordinator_client, clinic):
    PatientFactory(
        clinic=clinic,
        first_name="Mia",
        mobile="",
        date_of_birth=date(2016, 2, 2),
        guardian_name="Aroha Ngata",
        guardian_relationship="Mother",
        guardian_mobile="+61491570157",
    )
    assert names_on(search(coordinator_client, "0491 570 157")) == [
        p.full_name for p in clinic.patients.filter(first_name="Mia")
    ]


@pytest.mark.parametrize("typed", ["14/03/1988", "14-03-1988", "1988-03-14"])
def test_birth_date_search_reads_australian_dates_day_first(coordinator_client, patients, typed):
    assert names_on(search(coordinator_client, typed)) == ["Zoë O'Brien"]


def test_birth_date_search_reads_us_dates_month_first(organisation):
    from django.test import Client

    us_clinic = ClinicFactory(organisation=organisation, locale="en-US", time_zone="America/Los_Angeles")
    user = staff_member(us_clinic, Membership.Role.FRONT_DESK)
    PatientFactory(clinic=us_clinic, first_name="Ava", date_of_birth=date(1988, 3, 14), mobile="+14155552671")
    client = Client()
    client.force_login(user)
    assert names_on(search(client, "03/14/1988")) == [p.full_name for p in us_clinic.patients.all()]
    assert names_on(search(client, "(415) 555-2671")) == [p.full_name for p in us_clinic.patients.all()]
    assert "MM/DD/YYYY" in client.get(LIST_URL).content.decode()


def test_practice_management_id_search_is_exact(coordinator_client, patients):
    assert names_on(search(coordinator_client, "10423")) == ["Thảo Nguyễn"]
    assert names_on(search(coordinator_client, "1042")) == []


def test_the_list_is_paginated_by_25(coordinator_client, clinic):
    PatientFactory.create_batch(30, clinic=clinic)
    first = coordinator_client.get(LIST_URL)
    assert len(first.context["patients"]) == 25
    assert "Page 1 of 2" in first.content.decode()
    second = coordinator_client.get(LIST_URL, {"page": 2})
    assert len(second.context["patients"]) == 5
    ids_on_both = {p.public_id for p in first.context["patients"]} | {p.public_id for p in second.context["patients"]}
    assert len(ids_on_both) == 30


def test_pagination_keeps_the_search(coordinator_client, clinic):
    PatientFactory.create_batch(27, clinic=clinic, last_name="Kelly")
    PatientFactory.create_batch(3, clinic=clinic, first_name="Ann", last_name="Other")
    response = search(coordinator_client, "kelly")
    address = response.redirect_chain[-1][0]
    page = response.content.decode()
    assert f'href="{address}&amp;page=2"' in page
    second = coordinator_client.get(f"{address}&page=2")
    assert len(second.context["patients"]) == 2
    assert {p.last_name for p in second.context["patients"]} == {"Kelly"}


def test_the_search_term_never_appears_in_the_address(coordinator_client, patients):
    typed = "Zoë O'Brien"
    response = search(coordinator_client, typed)
    address = response.redirect_chain[-1][0]
    token = address.removeprefix("/patients/?search=")
    assert re.fullmatch(r"[A-Za-z0-9_-]{12}", token)
    assert "brien" not in address.lower()
    assert coordinator_client.session[private_search.SESSION_KEY][token] == typed
    assert "O&#x27;Brien, Zoë" in coordinator_client.get(address).content.decode()


def test_a_search_address_from_another_session_shows_everyone_with_a_note(coordinator_client, patients, coordinator):
    address = search(coordinator_client, "zoe").redirect_chain[-1][0]
    from django.test import Client

    other_session = Client()
    other_session.force_login(coordinator)
    response = other_session.get(address)
    assert len(response.context["patients"]) == 4
    assert "That search is no longer available" in response.content.decode()


def test_the_list_costs_the_same_number_of_queries_for_5_or_25_patients(coordinator_client, clinic, dentist):
    PatientFactory.create_batch(5, clinic=clinic, primary_dentist=dentist, medical_alerts="Penicillin allergy")
    # Session and caches settle; a search that finds nobody is not audited, so the next page is.
    search(coordinator_client, "nobody by this name")
    with CaptureQueriesContext(connection) as few:
        coordinator_client.get(LIST_URL)
    PatientFactory.create_batch(20, clinic=clinic, primary_dentist=dentist, medical_alerts="Latex allergy")
    with CaptureQueriesContext(connection) as many:
        response = coordinator_client.get(LIST_URL)
    assert len(response.context["patients"]) == 25
    assert len(many) == len(few)
    # Savepoints come from the test's own transaction; a real request has none.
    statements = [q["sql"] for q in many if "SAVEPOINT" not in q["sql"]]
    # Session, user, clinics, role, count, patients, the audit row and the session's note of it,
    # the header's count of unread notifications and the navigation's count of unread conversations.
    assert len(statements) <= 10, "\n".join(sql[:100] for sql in statements)


def test_searching_with_htmx_returns_only_the_results(coordinator_client, patients):
    response = coordinator_client.post(
        LIST_URL, {"q": "zoe"}, headers={"HX-Request": "true", "HX-Target": "patient-results"}
    )
    page = response.content.decode()
    assert response["HX-Replace-Url"].startswith("/patients/?search=")
    assert "zoe" not in response["HX-Replace-Url"]
    assert "O&#x27;Brien, Zoë" in page
    assert "Nguyễn" not in page
    assert "<html" not in page
    assert 'aria-label="Main"' not in page
    assert 'hx-swap-oob="innerHTML:#patient-search-status"' in page
    assert "HX-Request" in response["Vary"]


def test_the_page_searches_as_you_type_and_also_works_without_javascript(coordinator_client, patients):
    page = search(coordinator_client, "zoe").content.decode()
    assert "<html" in page
    assert 'method="post" action="/patients/"' in page
    assert 'name="q" value="zoe"' in page
    assert 'hx-trigger="input changed delay:300ms, search"' in page
    assert '<button type="submit" class="button">' in page
    assert 'id="patient-results"' in page


def test_a_clinic_with_no_patients_says_so_and_offers_to_add_one(coordinator_client):
    page = coordinator_client.get(LIST_URL).content.decode()
    assert "No patients yet" in page
    assert "Add your first patient" in page
    assert 'id="patient-search"' not in page


def test_a_search_with_no_match_says_so_and_suggests_other_searches(coordinator_client, patients):
    page = search(coordinator_client, "Wiremu").content.decode()
    assert "No patients match “Wiremu”" in page
    assert "Show all patients" in page
    assert "No patients yet" not in page


def test_the_list_shows_dates_and_phones_the_clinics_way(coordinator_client, patients):
    page = search(coordinator_client, "zoe").content.decode()
    assert "14/03/1988" in page
    assert "0412 345 678" in page


def test_signed_out_visitors_cannot_search(client, patients):
    response = client.post(LIST_URL, {"q": "zoe"})
    assert response.status_code == 302


# -- Audit ----------------------------------------------------------------------------------


def list_views():
    return AuditEvent.objects.filter(action=AuditEvent.Action.VIEW, object_type="patient_list")


def test_showing_the_list_is_audited_with_how_many_patients_were_shown(coordinator_client, coordinator, clinic):
    PatientFactory.create_batch(30, clinic=clinic)
    coordinator_client.get(LIST_URL, {"page": 2}, REMOTE_ADDR="203.0.113.7")
    event = list_views().get()
    assert event.actor == coordinator
    assert event.clinic == clinic
    assert event.object_label == "All patients"
    assert event.changes == {"patients_shown": 5, "page": 2}
    assert event.ip_address == "203.0.113.7"


def test_a_search_is_audited_by_its_token_never_by_what_was_typed(coordinator_client, patients):
    response = search(coordinator_client, "Zoë O'Brien")
    token = response.redirect_chain[-1][0].removeprefix("/patients/?search=")
    event = list_views().get()
    assert event.object_label == "Patient search"
    assert event.changes == {"patients_shown": 1, "page": 1, "search_token": token}
    recorded = f"{event.object_label} {event.object_id} {event.changes}".lower()
    assert "zo" not in recorded.replace(token.lower(), "")
    assert "brien" not in recorded


def test_searching_as_you_type_is_audited_once_per_different_page_of_results(coordinator_client, patients):
    htmx = {"HX-Request": "true", "HX-Target": "patient-results"}
    for typed in ["z", "zo", "zoe"]:
        coordinator_client.post(LIST_URL, {"q": typed}, headers=htmx)
    # "z", "zo" and "zoe" all show only Zoë: one page of results, recorded once.
    assert list_views().count() == 1
    coordinator_client.post(LIST_URL, {"q": "n"}, headers=htmx)
    coordinator_client.post(LIST_URL, {"q": "ng"}, headers=htmx)
    # "n" shows Nathan Anderson and Thảo Nguyễn; "ng" only Thảo Nguyễn.
    assert [event.changes["patients_shown"] for event in list_views().order_by("pk")] == [1, 2, 1]


def test_the_same_page_shown_again_is_recorded_again_after_a_minute(coordinator_client, patients):
    with time_machine.travel("2026-03-02 01:00:00+00:00", tick=False):
        coordinator_client.get(LIST_URL)
        coordinator_client.get(LIST_URL)
    with time_machine.travel("2026-03-02 01:00:59+00:00", tick=False):
        coordinator_client.get(LIST_URL)
    assert list_views().count() == 1
    with time_machine.travel("2026-03-02 01:01:01+00:00", tick=False):
        coordinator_client.get(LIST_URL)
    assert list_views().count() == 2


def test_another_staff_member_seeing_the_same_page_is_recorded_too(coordinator_client, front_desk_client, patients):
    coordinator_client.get(LIST_URL)
    front_desk_client.get(LIST_URL)
    assert list_views().count() == 2


def test_a_page_showing_no_patients_records_nothing(coordinator_client, patients):
    search(coordinator_client, "Wiremu")
    assert not list_views().exists()


def test_the_audit_log_shows_list_views_in_words(coordinator_client, owner_client, patients):
    search(coordinator_client, "zoe")
    page = owner_client.get("/settings/audit/", {"record_type": "patient_list"}).content.decode()
    assert "Patient list:" in page
    assert "Patient search" in page
    assert "<dt>Patients shown</dt>" in page
    assert "<dt>Search token</dt>" in page
    assert '<option value="patient_list" selected>Patient list</option>' in page
