"""The starter catalogues: what ships, installing them, and the Standard schedule from their fees."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from clearplan.accounts.tests.factories import ClinicFactory
from clearplan.audit.models import AuditEvent
from clearplan.catalog import starter
from clearplan.catalog.models import (
    CODE_PATTERN,
    CodingSystem,
    Fee,
    FeeSchedule,
    Procedure,
    ProcedureDependency,
    TreatmentArea,
)
from clearplan.catalog.selectors import fee_for
from clearplan.catalog.services import catalog_install_starter, fee_schedule_create_standard

# ---------- The files themselves ----------


@pytest.mark.parametrize("region", ["AU", "US"])
def test_every_starter_row_is_a_usable_procedure(region):
    items = starter.starter_items(region)
    assert len(items) >= 55
    codes = [item.code for item in items]
    assert len(codes) == len(set(codes)), "a code is listed twice"
    for item in items:
        assert re.match(CODE_PATTERN, item.code), item.code
        assert item.name, item.code
        assert item.patient_explanation, item.code
        assert item.fee > 0, item.code
        assert item.fee == item.fee.quantize(Decimal("0.01")), item.code
        if item.treatment_area == TreatmentArea.TOOTH_SURFACES:
            assert item.surfaces_min is not None, item.code
            assert item.surfaces_max is not None, item.code
            assert 1 <= item.surfaces_min <= item.surfaces_max <= 5, item.code
        else:
            assert (item.surfaces_min, item.surfaces_max) == (None, None), item.code


def test_the_australian_starter_uses_ada_item_numbers_and_the_us_starter_cdt_codes():
    assert all(re.fullmatch(r"\d{3}", item.code) for item in starter.starter_items("AU"))
    assert all(re.fullmatch(r"D\d{4}", item.code) for item in starter.starter_items("US"))
    au = {item.code: item for item in starter.starter_items("AU")}
    for code in ("011", "012", "022", "037", "114", "121", "311", "314", "415", "416", "417", "418", "613", "615"):
        assert code in au
    assert [au[code].surfaces_min for code in ("531", "532", "533", "534", "535")] == [1, 2, 3, 4, 5]
    us = {item.code for item in starter.starter_items("US")}
    for code in ("D0120", "D0150", "D0210", "D0330", "D1110", "D2740", "D3330", "D4341", "D6010", "D7140", "D8080"):
        assert code in us


@pytest.mark.parametrize("region", ["AU", "US"])
def test_the_starter_ships_no_licensed_descriptions(region):
    # Our own names only: the licensed schedules call these "Comprehensive oral examination" and
    # "Periodic oral evaluation - established patient"; the starter must not carry such wording.
    header = (starter.DATA_DIR / f"starter_{region.lower()}.csv").read_text(encoding="utf-8").splitlines()[0]
    assert "description" not in header.lower()
    names = " ".join(item.name.lower() for item in starter.starter_items(region))
    for licensed in ("comprehensive oral examination", "periodic oral examination", "periodic oral evaluation"):
        assert licensed not in names


@pytest.mark.parametrize("region", ["AU", "US"])
def test_every_starter_rule_names_items_of_its_own_catalogue(region):
    codes = {item.code for item in starter.starter_items(region)}
    for rule in starter.starter_rules(region):
        assert rule.procedure in codes
        assert rule.requires_code in codes or rule.requires_category


# ---------- Installing ----------


def test_installing_the_starter_adds_every_item_with_its_rules_and_one_audit_entry(organisation, owner):
    result = catalog_install_starter(organisation=organisation, region="AU", by=owner)
    items = starter.starter_items("AU")
    assert result.added == len(items)
    assert result.already_there == 0
    assert Procedure.objects.filter(organisation=organisation).count() == len(items)
    assert set(Procedure.objects.values_list("coding_system", flat=True)) == {CodingSystem.ADA_AU}
    filling = Procedure.objects.get(organisation=organisation, code="532")
    assert filling.surface_range == (2, 2)
    assert filling.licensed_description == ""
    crown_rule = ProcedureDependency.objects.get(procedure__code="613")
    assert crown_rule.in_words == "After any root canal (endodontic) procedure, on the same tooth"
    implant_rule = ProcedureDependency.objects.get(procedure__code="684")
    assert implant_rule.min_gap_weeks == 12
    assert implant_rule.site == ProcedureDependency.Site.SAME_SITE
    assert result.rules_added == ProcedureDependency.objects.count() == len(starter.starter_rules("AU"))
    event = AuditEvent.objects.get(object_type="procedure")
    assert event.changes == {"procedures_added": len(items), "order_rules_added": result.rules_added}


def test_installing_the_starter_again_changes_nothing(organisation, owner):
    catalog_install_starter(organisation=organisation, region="AU", by=owner)
    Procedure.objects.filter(code="012").update(name="Our own check-up name")
    Procedure.objects.filter(code="311").update(retired_at="2025-01-01T00:00Z")
    before = (Procedure.objects.count(), ProcedureDependency.objects.count(), AuditEvent.objects.count())

    again = catalog_install_starter(organisation=organisation, region="AU", by=owner)

    assert again.added == 0
    assert again.rules_added == 0
    assert (Procedure.objects.count(), ProcedureDependency.objects.count(), AuditEvent.objects.count()) == before
    assert Procedure.objects.get(code="012").name == "Our own check-up name"
    assert Procedure.objects.get(code="311").is_retired


def test_installing_fills_in_only_the_items_that_are_missing(organisation, owner):
    catalog_install_starter(organisation=organisation, region="AU", by=owner)
    ProcedureDependency.objects.filter(procedure__code__in=["661", "688"]).delete()
    Procedure.objects.filter(code="661").delete()

    again = catalog_install_starter(organisation=organisation, region="AU", by=owner)

    assert again.added == 1
    assert again.rules_added == 2  # 661 after 688, and 688 after 684
    assert Procedure.objects.filter(code="661").exists()


def test_each_organisation_gets_its_own_catalogue(organisation, owner):
    other = ClinicFactory().organisation
    catalog_install_starter(organisation=organisation, region="AU", by=owner)
    catalog_install_starter(organisation=other, region="AU", by=None)
    count = len(starter.starter_items("AU"))
    assert Procedure.objects.filter(organisation=organisation).count() == count
    assert Procedure.objects.filter(organisation=other).count() == count


def test_an_unknown_region_is_refused(organisation, owner):
    with pytest.raises(ValueError, match="no starter catalogue"):
        catalog_install_starter(organisation=organisation, region="NZ", by=owner)


# ---------- The Standard schedule from starter fees ----------


def test_the_standard_schedule_gets_the_starter_fees_and_becomes_the_default(clinic, owner):
    catalog_install_starter(organisation=clinic.organisation, region="AU", by=owner)

    schedule = fee_schedule_create_standard(clinic=clinic, by=owner, effective_from=date(2025, 1, 1))

    assert schedule.name == "Standard"
    assert schedule.kind == FeeSchedule.Kind.STANDARD
    assert schedule.is_default
    assert Fee.objects.filter(schedule=schedule).count() == len(starter.starter_items("AU"))
    crown = Procedure.objects.get(code="613")
    quote = fee_for(clinic=clinic, procedure=crown, on_date=date(2025, 3, 1))
    assert quote.amount == Decimal("1680.00")
    assert quote.currency == "AUD"


def test_creating_the_standard_schedule_again_keeps_changed_fees_and_adds_only_missing_ones(clinic, owner):
    catalog_install_starter(organisation=clinic.organisation, region="AU", by=owner)
    schedule = fee_schedule_create_standard(clinic=clinic, by=owner, effective_from=date(2025, 1, 1))
    Fee.objects.filter(schedule=schedule, procedure__code="012").update(amount=Decimal("72.00"))
    Fee.objects.filter(schedule=schedule, procedure__code="022").delete()
    count = Fee.objects.count()

    again = fee_schedule_create_standard(clinic=clinic, by=owner, effective_from=date(2025, 1, 1))

    assert again == schedule
    assert Fee.objects.count() == count + 1
    assert Fee.objects.get(schedule=schedule, procedure__code="012").amount == Decimal("72.00")
    assert FeeSchedule.objects.filter(clinic=clinic).count() == 1


def test_us_clinics_get_us_dollar_starter_fees(db):
    clinic = ClinicFactory(currency="USD", locale="en-US", time_zone="America/New_York")
    catalog_install_starter(organisation=clinic.organisation, region="US", by=None)
    fee_schedule_create_standard(clinic=clinic, by=None, effective_from=date(2025, 1, 1))
    quote = fee_for(clinic=clinic, procedure=Procedure.objects.get(code="D0120"), on_date=date(2025, 2, 1))
    assert quote.amount == Decimal("65.00")
    assert quote.currency == "USD"


def test_a_clinic_in_another_currency_is_told_to_enter_its_own_fees(db):
    clinic = ClinicFactory(currency="NZD")
    with pytest.raises(ValidationError, match="this clinic uses NZD"):
        fee_schedule_create_standard(clinic=clinic, by=None)
    assert not FeeSchedule.objects.exists()
