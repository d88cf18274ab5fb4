"""Settings → Fee schedules: each clinic's own schedules, fees changed in bulk with history kept."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clearplan.accounts.models import Membership
from clearplan.audit.models import AuditEvent
from clearplan.catalog.forms import fee_field_name
from clearplan.catalog.models import Fee, FeeSchedule, Procedure
from clearplan.catalog.services import catalog_install_starter, fee_schedule_create, fees_set
from clearplan.catalog.tests.factories import ProcedureFactory
from clearplan.lib.clinic_time import clinic_now

LIST_URL = reverse("catalog:fee_schedules")


def detail_url(schedule):
    return reverse("catalog:fee_schedule_detail", args=[schedule.public_id])


def fees_url(schedule):
    return reverse("catalog:fee_schedule_fees", args=[schedule.public_id])


@pytest.fixture
def catalogue(organisation, owner):
    catalog_install_starter(organisation=organisation, region="AU", by=owner)
    return Procedure.objects.filter(organisation=organisation)


@pytest.fixture
def standard(clinic, owner, catalogue):
    schedule = fee_schedule_create(clinic=clinic, by=owner, name="Standard")
    fees_set(
        schedule=schedule,
        by=owner,
        effective_from=date(2024, 1, 1),
        amounts={catalogue.get(code="012"): Decimal("70"), catalogue.get(code="613"): Decimal("1680")},
    )
    return schedule


@pytest.fixture
def concession(clinic, owner, standard, catalogue):
    schedule = fee_schedule_create(clinic=clinic, by=owner, name="Concession", kind=FeeSchedule.Kind.CONCESSION)
    fees_set(schedule=schedule, by=owner, effective_from=date(2024, 1, 1), amounts={catalogue.get(code="012"): "60"})
    return schedule


def test_a_clinic_without_schedules_is_offered_the_standard_schedule(owner_client, catalogue):
    page = owner_client.get(LIST_URL).content.decode()
    assert "No fee schedules yet" in page
    assert "Create the Standard schedule" in page


def test_a_clinic_without_procedures_is_sent_to_set_them_up_first(owner_client):
    page = owner_client.get(LIST_URL).content.decode()
    assert "set up your procedures first" in page


def test_creating_the_standard_schedule_from_the_list(owner_client, clinic, catalogue):
    response = owner_client.post(reverse("catalog:fee_schedule_standard"), follow=True)
    schedule = FeeSchedule.objects.get(clinic=clinic)
    assert response.redirect_chain[-1][0] == detail_url(schedule)
    assert schedule.is_default
    assert Fee.objects.filter(schedule=schedule).count() == catalogue.count()
    assert "$1,680.00" in response.content.decode()


def test_the_list_shows_only_the_active_clinics_schedules(owner_client, other_clinic, owner, standard, concession):
    fee_schedule_create(clinic=other_clinic, by=owner, name="Perth fees")
    response = owner_client.get(LIST_URL)
    assert [schedule.name for schedule in response.context["schedules"]] == ["Standard", "Concession"]
    assert response.context["schedules"][0].procedures_with_fees == 2
    assert "Perth fees" not in response.content.decode()


def test_another_clinics_schedule_is_not_found_even_for_a_manager_of_both(
    owner_client, owner, clinic, other_clinic, standard
):
    Membership.objects.create(user=owner, clinic=other_clinic, role=Membership.Role.MANAGER)
    owner_client.post(reverse("accounts:switch_clinic"), {"clinic": str(clinic.public_id)})
    elsewhere = fee_schedule_create(clinic=other_clinic, by=owner, name="Perth fees")
    assert owner_client.get(detail_url(standard)).status_code == 200
    assert owner_client.get(detail_url(elsewhere)).status_code == 404
    assert owner_client.get(fees_url(elsewhere)).status_code == 404
    response = owner_client.post(reverse("catalog:fee_schedule_default", args=[elsewhere.public_id]))
    assert response.status_code == 404


def test_staff_can_read_fees_but_not_change_them(coordinator_client, standard, concession, catalogue):
    page = coordinator_client.get(detail_url(concession)).content.decode()
    assert "Change fees" not in page
    assert coordinator_client.get(fees_url(standard)).status_code == 403
    assert coordinator_client.post(fees_url(standard), {"effective_from": "2025-07-01"}).status_code == 403
    assert coordinator_client.get(reverse("catalog:fee_schedule_create")).status_code == 403
    response = coordinator_client.post(reverse("catalog:fee_schedule_default", args=[concession.public_id]))
    assert response.status_code == 403
    assert coordinator_client.post(reverse("catalog:fee_schedule_standard")).status_code == 403


def test_the_schedule_page_shows_fees_the_default_supplies_and_planned_changes(
    owner_client, owner, standard, concession, catalogue, clinic
):
    today = clinic_now(clinic).date()
    crown = catalogue.get(code="613")
    fees_set(schedule=concession, by=owner, effective_from=date(today.year + 1, 7, 1), amounts={crown: "1500"})

    response = owner_client.get(detail_url(concession), {"q": "crown"})
    lines = {line.procedure.code: line for line in response.context["lines"]}
    assert lines["613"].own_amount is None
    assert lines["613"].quote.fell_back
    assert lines["613"].quote.amount == Decimal("1680.00")
    assert lines["613"].upcoming_amount == Decimal("1500.00")
    page = response.content.decode()
    assert "Standard fee applies" in page
    assert f"from 1 Jul {today.year + 1}" in page


def test_the_schedule_page_runs_the_same_number_of_queries_however_many_procedures(
    owner_client, owner, organisation, clinic, django_assert_num_queries
):
    schedule = fee_schedule_create(clinic=clinic, by=owner, name="Standard")
    concession = fee_schedule_create(clinic=clinic, by=owner, name="Concession")

    def add(count):
        procedures = [ProcedureFactory(organisation=organisation) for _ in range(count)]
        fees_set(
            schedule=schedule,
            by=owner,
            effective_from=date(2024, 1, 1),
            amounts={procedure: Decimal("100") for procedure in procedures},
        )

    add(3)
    owner_client.get(detail_url(concession))
    with CaptureQueriesContext(connection) as few:
        owner_client.get(detail_url(concession))
    add(40)
    with django_assert_num_queries(len(few.captured_queries)):
        response = owner_client.get(detail_url(concession))
    assert len(response.context["lines"]) == 43


def test_a_manager_changes_fees_from_a_date_and_the_old_fees_stay(owner_client, standard, catalogue, clinic):
    check_up = catalogue.get(code="012")
    crown = catalogue.get(code="613")
    response = owner_client.post(
        fees_url(standard),
        {
            "effective_from": "2025-07-01",
            fee_field_name(check_up): "$75",
            fee_field_name(crown): "",
        },
        follow=True,
    )
    assert "1 fee saved, applying from 1 Jul 2025." in response.content.decode()
    amounts = list(
        Fee.objects.filter(schedule=standard, procedure=check_up)
        .order_by("effective_from")
        .values_list("effective_from", "amount")
    )
    assert amounts == [(date(2024, 1, 1), Decimal("70.00")), (date(2025, 7, 1), Decimal("75.00"))]
    assert Fee.objects.filter(schedule=standard, procedure=crown).count() == 1
    event = AuditEvent.objects.filter(object_type="fee_schedule").order_by("-id").first()
    assert event.changes == {"fees_from": "1 Jul 2025", "012": ["70.00", "75.00"]}


def test_the_fees_form_explains_its_mistakes_and_saves_nothing(owner_client, standard, catalogue):
    check_up = catalogue.get(code="012")
    crown = catalogue.get(code="613")
    count = Fee.objects.count()
    response = owner_client.post(
        fees_url(standard),
        {"effective_from": "", fee_field_name(check_up): "75", fee_field_name(crown): "12.345"},
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors["effective_from"] == ["Choose the date the new fees start."]
    assert form.errors[fee_field_name(crown)] == ["Use at most two decimal places (cents)."]
    assert Fee.objects.count() == count


def test_the_fees_form_asks_for_at_least_one_fee(owner_client, standard):
    response = owner_client.post(fees_url(standard), {"effective_from": "2025-07-01"})
    assert "Type at least one new fee." in response.content.decode()


def test_the_fees_form_can_show_one_category(owner_client, standard):
    response = owner_client.get(fees_url(standard), {"category": "endodontic"})
    assert [line.procedure.code for line, _field in response.context["rows"]] == [
        "411",
        "414",
        "415",
        "416",
        "417",
        "418",
        "419",
        "455",
    ]


def test_a_manager_adds_renames_and_makes_a_schedule_the_default(owner_client, clinic, standard):
    response = owner_client.post(
        reverse("catalog:fee_schedule_create"),
        {"name": "HCF members", "kind": FeeSchedule.Kind.CONTRACTED, "description": "Fees agreed with HCF"},
    )
    hcf = FeeSchedule.objects.get(clinic=clinic, name="HCF members")
    assert response["Location"] == fees_url(hcf)
    assert not hcf.is_default

    owner_client.post(
        reverse("catalog:fee_schedule_edit", args=[hcf.public_id]),
        {"name": "HCF members 2025", "kind": FeeSchedule.Kind.CONTRACTED, "description": ""},
    )
    owner_client.post(reverse("catalog:fee_schedule_default", args=[hcf.public_id]))
    hcf.refresh_from_db()
    standard.refresh_from_db()
    assert hcf.name == "HCF members 2025"
    assert hcf.is_default
    assert not standard.is_default


def test_a_duplicate_schedule_name_is_explained_at_the_field(owner_client, standard):
    response = owner_client.post(reverse("catalog:fee_schedule_create"), {"name": "STANDARD", "kind": "standard"})
    assert response.context["form"].errors["name"] == ["This clinic already has a fee schedule called “STANDARD”."]
