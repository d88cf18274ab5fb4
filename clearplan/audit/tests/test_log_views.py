"""The audit log pages: what a manager sees, how filters narrow it, the CSV export, and
that nothing on these pages can change or remove an entry."""

from __future__ import annotations

import csv
import datetime as dt
import io
import uuid

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from clearplan.accounts.models import Membership
from clearplan.accounts.tests.factories import ClinicFactory, OrganisationFactory, staff_member
from clearplan.audit.models import AuditEvent
from clearplan.audit.selectors import RECORD_TYPE_LABELS
from clearplan.audit.services import audit_record
from clearplan.audit.views import spreadsheet_safe

LOG_URL = "/settings/audit/"
EXPORT_URL = "/settings/audit/export/"
UTC = dt.UTC


def record(*, clinic, actor, action=AuditEvent.Action.VIEW, object_type="patient", label="Zoë Nguyen", at=None, **kw):
    fields = {
        "action": action,
        "actor": actor,
        "clinic": clinic,
        "object_type": object_type,
        "object_id": kw.pop("object_id", str(uuid.uuid4())),
        "object_label": label,
        **kw,
    }
    if at is None:
        return audit_record(**fields)
    with time_machine.travel(at, tick=False):
        return audit_record(**fields)


def shown_labels(response) -> list[str]:
    return [row.event.object_label for row in response.context["rows"]]


def export_rows(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body.removeprefix("\ufeff"))))


# ---------- Who may see it ----------


@pytest.mark.parametrize("client_fixture", ["coordinator_client", "front_desk_client", "dentist_client"])
def test_it_refuses_staff_who_are_not_managers(request, client_fixture):
    response = request.getfixturevalue(client_fixture).get(LOG_URL)
    assert response.status_code == 403
    assert request.getfixturevalue(client_fixture).get(EXPORT_URL).status_code == 403


def test_it_sends_people_who_are_not_signed_in_to_sign_in(db):
    response = Client().get(LOG_URL)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_the_settings_page_links_managers_to_the_audit_log(owner_client, coordinator_client):
    assert LOG_URL in owner_client.get(reverse("accounts:settings")).content.decode()
    assert LOG_URL not in coordinator_client.get(reverse("accounts:settings")).content.decode()


def test_it_never_shows_another_clinics_events(owner_client, owner, outsider, clinic, other_clinic):
    record(clinic=clinic, actor=owner, label="Seen in Sydney")
    record(clinic=other_clinic, actor=outsider, label="Seen in Perth")

    response = owner_client.get(LOG_URL)

    assert shown_labels(response) == ["Seen in Sydney"]
    assert "Seen in Perth" not in response.content.decode()


def test_managers_see_their_own_teams_sign_ins_but_not_other_clinics_staff(owner_client, front_desk, outsider):
    # Signing in happens before a clinic is chosen, so these events carry no clinic.
    audit_record(action=AuditEvent.Action.SIGN_IN, actor=front_desk, obj=front_desk)
    audit_record(action=AuditEvent.Action.SIGN_IN, actor=outsider, obj=outsider)

    response = owner_client.get(LOG_URL)

    assert shown_labels(response) == ["Fatima Desk"]
    assert "Oscar Outside" not in response.content.decode()


def test_recorded_details_that_are_not_changes_are_shown_plainly(owner_client, owner, clinic):
    record(
        clinic=clinic,
        actor=owner,
        action=AuditEvent.Action.EXPORT,
        object_type="audit_log",
        label="Audit log",
        changes={"filters": {"action": "Viewed"}},
    )

    page = owner_client.get(LOG_URL).content.decode()

    assert "<summary>Details</summary>" in page
    assert "<dd>Action: Viewed</dd>" in page


def test_a_manager_of_two_clinics_sees_the_clinic_they_are_working_in(owner, outsider, clinic, other_clinic):
    Membership.objects.create(user=owner, clinic=other_clinic, role=Membership.Role.MANAGER)
    record(clinic=clinic, actor=owner, label="Seen in Sydney")
    record(clinic=other_clinic, actor=outsider, label="Seen in Perth")
    client = Client()
    client.force_login(owner)

    client.post(reverse("accounts:switch_clinic"), {"clinic": str(other_clinic.public_id), "next": LOG_URL})

    assert shown_labels(client.get(LOG_URL)) == ["Seen in Perth"]


def test_organisation_admins_see_every_clinic_of_their_organisation_only(owner, outsider, clinic, other_clinic):
    admin = staff_member(clinic, Membership.Role.COORDINATOR, first_name="Ada", is_organisation_admin=True)
    elsewhere = ClinicFactory(organisation=OrganisationFactory(name="Another Group"), name="Elsewhere Dental")
    stranger = staff_member(elsewhere, Membership.Role.MANAGER)
    record(clinic=clinic, actor=owner, label="Seen in Sydney")
    record(clinic=other_clinic, actor=outsider, label="Seen in Perth")
    record(clinic=elsewhere, actor=stranger, label="Seen by another group")
    client = Client()
    client.force_login(admin)

    response = client.get(LOG_URL)

    assert sorted(shown_labels(response)) == ["Seen in Perth", "Seen in Sydney"]
    page = response.content.decode()
    assert "Seen by another group" not in page
    assert '<th scope="col">Clinic</th>' in page
    # ...and they can narrow it to one clinic.
    narrowed = client.get(LOG_URL, {"clinic": str(other_clinic.public_id)})
    assert shown_labels(narrowed) == ["Seen in Perth"]


def test_an_organisation_wide_log_reads_in_one_time_zone_the_active_clinics(owner, clinic, other_clinic):
    admin = staff_member(clinic, Membership.Role.COORDINATOR, first_name="Ada", is_organisation_admin=True)
    record(clinic=clinic, actor=owner, label="Seen in Sydney", at=dt.datetime(2026, 3, 2, 1, 0, tzinfo=UTC))
    client = Client()
    client.force_login(admin)
    client.post("/settings/switch-clinic/", {"clinic": str(other_clinic.public_id), "next": LOG_URL})

    page = client.get(LOG_URL).content.decode()

    # 01:00 UTC is 9:00 in Perth (the clinic being worked in) and 12:00 in Sydney (where it happened).
    assert 'datetime="2026-03-02T09:00:00+08:00"' in page
    assert "Harbour Dental Perth’s time zone (Australia/Perth), for every clinic" in page


# ---------- What it shows ----------


def test_it_lists_events_newest_first_with_who_what_and_where(owner_client, owner, coordinator, clinic):
    record(clinic=clinic, actor=owner, label="First", at=dt.datetime(2026, 3, 2, 1, 0, tzinfo=UTC))
    record(
        clinic=clinic,
        actor=coordinator,
        action=AuditEvent.Action.UPDATE,
        label="Second",
        at=dt.datetime(2026, 3, 2, 2, 0, tzinfo=UTC),
        changes={"mobile": ["+61400000000", "+61411111111"]},
    )

    response = owner_client.get(LOG_URL)

    assert shown_labels(response) == ["Second", "First"]
    page = response.content.decode()
    assert "Chloé O&#x27;Connor" in page
    assert '<span class="badge badge--brand">Changed</span>' in page
    assert "What changed" in page
    assert "<dt>Mobile</dt>" in page
    assert "+61411111111" in page


def test_it_shows_times_in_the_clinics_time_zone(owner_client, owner, clinic):
    # 23:30 UTC on 1 March is 10:30 the next morning in Sydney (daylight saving time, UTC+11).
    record(clinic=clinic, actor=owner, at=dt.datetime(2026, 3, 1, 23, 30, tzinfo=UTC))

    page = owner_client.get(LOG_URL).content.decode()

    assert "2 Mar 2026" in page
    assert "10:30 a.m." in page or "10:30 am" in page
    assert 'datetime="2026-03-02T10:30:00+11:00"' in page


def test_it_shows_the_address_the_event_came_from(owner_client, owner, clinic, rf):
    request = rf.get("/", REMOTE_ADDR="198.51.100.7")
    request.user = owner
    request.clinic = clinic
    audit_record(action=AuditEvent.Action.VIEW, request=request, object_type="patient", object_label="Zoë Nguyen")

    assert "198.51.100.7" in owner_client.get(LOG_URL).content.decode()


def test_it_links_patient_records_to_the_patient_page(owner_client, owner, clinic):
    patient_id = str(uuid.uuid4())
    record(clinic=clinic, actor=owner, object_id=patient_id, label="Zoë Nguyen")
    record(clinic=clinic, actor=owner, object_type="clinic", object_id=str(clinic.public_id), label=clinic.name)

    page = owner_client.get(LOG_URL).content.decode()

    assert f'<a href="/patients/{patient_id}/">Zoë Nguyen</a>' in page
    assert f'href="/clinics/{clinic.public_id}/' not in page


def test_it_says_when_nothing_has_been_recorded_yet(owner_client):
    page = owner_client.get(LOG_URL).content.decode()
    assert "Nothing has been recorded yet" in page


def test_it_pages_through_fifty_entries_at_a_time(owner_client, owner, clinic):
    for minute in range(55):
        at = dt.datetime(2026, 3, 2, 1, minute, tzinfo=UTC)
        record(clinic=clinic, actor=owner, label=f"Patient {minute:02d}", at=at)

    first = owner_client.get(LOG_URL)
    second = owner_client.get(LOG_URL, {"page": 2})

    assert len(first.context["rows"]) == 50
    assert shown_labels(first)[0] == "Patient 54"
    assert shown_labels(second) == [f"Patient {minute:02d}" for minute in range(4, -1, -1)]
    assert "Showing 1–50 of 55 entries" in first.content.decode()
    assert 'href="?page=2"' in first.content.decode()


def test_pages_keep_the_filters(owner_client, owner, clinic):
    for minute in range(51):
        at = dt.datetime(2026, 3, 2, 1, minute, tzinfo=UTC)
        record(clinic=clinic, actor=owner, action=AuditEvent.Action.UPDATE, at=at)

    page = owner_client.get(LOG_URL, {"action": "update"}).content.decode()

    assert 'href="?action=update&amp;page=2"' in page


def test_the_list_runs_the_same_number_of_queries_however_many_events_there_are(
    owner_client, owner, coordinator, clinic, django_assert_num_queries
):
    def add_events(count: int) -> None:
        for index in range(count):
            record(clinic=clinic, actor=owner if index % 2 else coordinator, object_type=f"type{index % 3}")

    add_events(3)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    owner_client.get(LOG_URL)  # the session's first write settles
    with CaptureQueriesContext(connection) as few:
        owner_client.get(LOG_URL)
    add_events(40)
    with django_assert_num_queries(len(few.captured_queries)):
        response = owner_client.get(LOG_URL)
    assert len(response.context["rows"]) == 43


# ---------- Filters ----------


@pytest.fixture
def mixed_events(owner, coordinator, clinic):
    record(clinic=clinic, actor=owner, label="Zoë Nguyen", at=dt.datetime(2026, 3, 1, 12, 0, tzinfo=UTC))
    record(
        clinic=clinic,
        actor=coordinator,
        action=AuditEvent.Action.UPDATE,
        label="Seán O'Brien",
        at=dt.datetime(2026, 3, 3, 12, 0, tzinfo=UTC),
    )
    record(
        clinic=clinic,
        actor=coordinator,
        action=AuditEvent.Action.SETTINGS,
        object_type="clinic",
        label="Harbour Dental Sydney",
        at=dt.datetime(2026, 3, 5, 12, 0, tzinfo=UTC),
    )


def test_it_filters_by_staff_member(owner_client, mixed_events, coordinator):
    response = owner_client.get(LOG_URL, {"staff": str(coordinator.public_id)})
    assert shown_labels(response) == ["Harbour Dental Sydney", "Seán O'Brien"]


def test_it_filters_by_action(owner_client, mixed_events):
    assert shown_labels(owner_client.get(LOG_URL, {"action": "update"})) == ["Seán O'Brien"]


def test_the_record_types_offered_are_the_known_ones_without_reading_the_whole_log(owner_client, owner, clinic):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    record(clinic=clinic, actor=owner, object_type="patient")
    with CaptureQueriesContext(connection) as queries:
        response = owner_client.get(LOG_URL)
    assert not [q["sql"] for q in queries if 'DISTINCT "audit_auditevent"."object_type"' in q["sql"]]
    choices = [label for value, label in response.context["form"].fields["record_type"].choices if value]
    assert choices == sorted(RECORD_TYPE_LABELS.values())
    assert "Patient list" in choices


def test_it_filters_by_record_type(owner_client, mixed_events):
    response = owner_client.get(LOG_URL, {"record_type": "patient"})
    assert shown_labels(response) == ["Seán O'Brien", "Zoë Nguyen"]
    assert '<option value="clinic">Clinic</option>' in response.content.decode()


def test_it_searches_record_names_without_putting_them_in_the_address(owner_client, mixed_events):
    response = owner_client.post(LOG_URL, {"q": "o'brien", "action": ""}, follow=True)
    address = response.redirect_chain[-1][0]
    assert address.startswith(f"{LOG_URL}?search=")
    assert "brien" not in address.lower()
    assert shown_labels(response) == ["Seán O'Brien"]


def test_other_filters_stay_readable_in_the_address(owner_client, mixed_events):
    response = owner_client.post(LOG_URL, {"record_type": "patient", "q": ""})
    assert response["Location"] == f"{LOG_URL}?record_type=patient"


def test_a_record_name_typed_into_the_address_is_ignored(owner_client, mixed_events):
    assert len(shown_labels(owner_client.get(LOG_URL, {"q": "o'brien"}))) > 1


def test_it_filters_by_dates_in_the_clinics_time_zone(owner_client, owner, clinic):
    # 14:00 UTC on 2 March is just after midnight on 3 March in Sydney.
    record(clinic=clinic, actor=owner, label="Late", at=dt.datetime(2026, 3, 2, 12, 59, tzinfo=UTC))
    record(clinic=clinic, actor=owner, label="Next day", at=dt.datetime(2026, 3, 2, 13, 1, tzinfo=UTC))

    assert shown_labels(owner_client.get(LOG_URL, {"date_from": "2026-03-03"})) == ["Next day"]
    assert shown_labels(owner_client.get(LOG_URL, {"date_to": "2026-03-02"})) == ["Late"]
    assert shown_labels(owner_client.get(LOG_URL, {"date_from": "2026-03-02", "date_to": "2026-03-03"})) == [
        "Next day",
        "Late",
    ]


def test_a_date_range_the_wrong_way_round_is_explained_at_the_field(owner_client, mixed_events):
    response = owner_client.get(LOG_URL, {"date_from": "2026-03-04", "date_to": "2026-03-01"})

    page = response.content.decode()
    assert "Choose a date on or after the “From” date." in page
    assert 'id="filter-date_to_error"' in page
    assert 'aria-describedby="filter-date_to_error"' in page


def test_a_mistyped_filter_is_reported_and_the_others_still_apply(owner_client, mixed_events):
    response = owner_client.get(LOG_URL, {"date_from": "not a date", "action": "update"})

    assert shown_labels(response) == ["Seán O'Brien"]
    assert "Enter a valid date." in response.content.decode()


def test_a_former_staff_member_can_still_be_chosen_to_review_their_access(owner_client, owner, clinic):
    former = staff_member(clinic, Membership.Role.FRONT_DESK, first_name="Fergus", last_name="Former")
    record(clinic=clinic, actor=former, label="Looked up before leaving")
    record(clinic=clinic, actor=owner, label="Seen by the owner")
    former.memberships.all().delete()

    response = owner_client.get(LOG_URL, {"staff": str(former.public_id)})

    assert shown_labels(response) == ["Looked up before leaving"]
    assert "Fergus Former" in response.content.decode()


def test_a_staff_member_from_another_clinic_cannot_be_chosen(owner_client, mixed_events, outsider):
    response = owner_client.get(LOG_URL, {"staff": str(outsider.public_id)})

    assert "Select a valid choice" in response.content.decode()
    assert "Oscar Outside" not in response.content.decode()


# ---------- Export ----------


def test_the_export_holds_the_filtered_events_as_csv(owner_client, mixed_events, coordinator):
    response = owner_client.get(EXPORT_URL, {"staff": str(coordinator.public_id)})

    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="audit-log-')
    header, *rows = export_rows(response)
    assert header[:6] == ["When", "Clinic", "Staff member", "Action", "Record type", "Record"]
    assert [(row[2], row[3], row[5]) for row in rows] == [
        ("Chloé O'Connor", "Settings changed", "Harbour Dental Sydney"),
        ("Chloé O'Connor", "Changed", "Seán O'Brien"),
    ]
    assert rows[0][0] == "2026-03-05 23:00:00+11:00"


def test_the_export_never_includes_another_clinics_events(owner_client, owner, outsider, clinic, other_clinic):
    record(clinic=clinic, actor=owner, label="Seen in Sydney")
    record(clinic=other_clinic, actor=outsider, label="Seen in Perth")

    _header, *rows = export_rows(owner_client.get(EXPORT_URL))

    assert [row[5] for row in rows] == ["Seen in Sydney"]


def test_the_export_is_itself_recorded_with_its_filters(owner_client, owner, clinic, mixed_events):
    address = owner_client.post(LOG_URL, {"action": "update", "q": "brien"})["Location"]
    owner_client.get(EXPORT_URL + address.removeprefix(LOG_URL), REMOTE_ADDR="203.0.113.5")

    export = AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT).get()
    assert export.actor == owner
    assert export.clinic == clinic
    assert export.object_type == "audit_log"
    assert export.changes == {"filters": {"action": "Changed", "search": "brien"}}
    assert export.ip_address == "203.0.113.5"


def test_the_export_cannot_run_formulas_in_a_spreadsheet(owner_client, owner, clinic):
    record(clinic=clinic, actor=owner, label='=HYPERLINK("http://evil.example","Click")')
    record(clinic=clinic, actor=owner, label="+61 400 000 000")
    record(clinic=clinic, actor=owner, label="@SUM(A1)")
    record(clinic=clinic, actor=owner, label="-2+3")

    _header, *rows = export_rows(owner_client.get(EXPORT_URL))

    assert sorted(row[5] for row in rows) == sorted(
        ['\'=HYPERLINK("http://evil.example","Click")', "'+61 400 000 000", "'@SUM(A1)", "'-2+3"]
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@cmd", "'@cmd"),
        ("\t=1", "'\t=1"),
        ("Zoë", "Zoë"),
        ("a=b", "a=b"),
        (None, ""),
    ],
)
def test_spreadsheet_safe_quotes_only_cells_a_spreadsheet_would_run(value, expected):
    assert spreadsheet_safe(value) == expected


# ---------- Nothing deletes it ----------


@pytest.mark.parametrize(
    ("url", "method"),
    [(LOG_URL, "put"), (LOG_URL, "patch"), (LOG_URL, "delete")]
    + [(EXPORT_URL, method) for method in ("post", "put", "patch", "delete")],
)
def test_the_audit_pages_refuse_anything_but_reading(owner_client, owner, clinic, url, method):
    event = record(clinic=clinic, actor=owner)

    response = getattr(owner_client, method)(url, {"id": event.pk})

    assert response.status_code == 405
    assert AuditEvent.objects.filter(pk=event.pk).exists()
    assert AuditEvent.objects.count() == 1


def test_posting_to_the_log_only_applies_filters(owner_client, owner, clinic):
    event = record(clinic=clinic, actor=owner)
    response = owner_client.post(LOG_URL, {"id": event.pk, "action": "view"})
    assert response.status_code == 302
    assert response["Location"] == f"{LOG_URL}?action=view"
    assert AuditEvent.objects.filter(pk=event.pk).exists()
    assert AuditEvent.objects.count() == 1


def test_the_page_offers_no_way_to_delete_or_edit_an_entry(owner_client, owner, clinic):
    record(clinic=clinic, actor=owner)
    main = owner_client.get(LOG_URL).content.decode().split("<main", 1)[1]
    assert main.count("<form") == 1
    assert f'<form method="post" action="{LOG_URL}"' in main
    assert "Delete" not in main
