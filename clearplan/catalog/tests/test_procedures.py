"""Adding, editing, retiring procedures, and the order rules between them."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from clearplan.accounts.tests.factories import OrganisationFactory
from clearplan.audit.models import AuditEvent
from clearplan.catalog.models import Category, Procedure, ProcedureDependency, TreatmentArea
from clearplan.catalog.selectors import procedures_for_new_plans
from clearplan.catalog.services import (
    dependency_add,
    dependency_remove,
    procedure_create,
    procedure_restore,
    procedure_retire,
    procedure_update,
)
from clearplan.catalog.tests.factories import ProcedureFactory

FILLING = {
    "code": " 532 ",
    "coding_system": "ada_au",
    "name": "Tooth-coloured filling, two surfaces",
    "category": Category.RESTORATIVE,
    "treatment_area": TreatmentArea.TOOTH_SURFACES,
    "surfaces_min": 2,
    "surfaces_max": 2,
    "default_chair_minutes": 45,
    "usually_elective": False,
    "patient_explanation": "Repairing decay across two surfaces.",
    "licensed_description": "",
}


def test_a_new_procedure_is_saved_with_a_tidy_code_and_audited(organisation, owner):
    procedure = procedure_create(organisation=organisation, by=owner, values=FILLING)
    assert procedure.code == "532"
    assert procedure.surface_range == (2, 2)
    assert procedure.surfaces_in_words == "exactly 2 surfaces"
    event = AuditEvent.objects.get(object_type="procedure", action=AuditEvent.Action.CREATE)
    assert event.object_id == str(procedure.public_id)
    assert event.object_label == "532 Tooth-coloured filling, two surfaces"
    assert event.changes["name"] == [None, "Tooth-coloured filling, two surfaces"]


def test_lower_case_codes_are_stored_in_capitals(organisation, owner):
    procedure = procedure_create(organisation=organisation, by=owner, values={**FILLING, "code": "d2392"})
    assert procedure.code == "D2392"


def test_a_code_can_be_used_once_per_organisation(organisation, owner):
    procedure_create(organisation=organisation, by=owner, values=FILLING)
    with pytest.raises(ValidationError) as refused:
        procedure_create(organisation=organisation, by=owner, values={**FILLING, "name": "Another"})
    assert refused.value.message_dict["code"] == ["Code 532 is already used by “Tooth-coloured filling, two surfaces”."]
    other_practice = OrganisationFactory()
    procedure_create(organisation=other_practice, by=None, values=FILLING)
    assert Procedure.objects.filter(code="532").count() == 2


def test_the_database_refuses_a_second_procedure_with_the_same_code(organisation):
    ProcedureFactory(organisation=organisation, code="011")
    with pytest.raises(IntegrityError), transaction.atomic():
        ProcedureFactory(organisation=organisation, code="011")


def test_surface_counts_are_checked(organisation, owner):
    with pytest.raises(ValidationError) as refused:
        procedure_create(organisation=organisation, by=owner, values={**FILLING, "surfaces_min": 3, "surfaces_max": 2})
    assert "cannot be fewer than the fewest" in refused.value.message_dict["surfaces_max"][0]
    with pytest.raises(ValidationError) as refused:
        procedure_create(organisation=organisation, by=owner, values={**FILLING, "surfaces_max": 6})
    assert "surfaces_max" in refused.value.message_dict


def test_surface_counts_are_dropped_for_work_that_is_not_on_surfaces(organisation, owner):
    procedure = procedure_create(
        organisation=organisation, by=owner, values={**FILLING, "treatment_area": TreatmentArea.TOOTH}
    )
    assert procedure.surfaces_min is None
    assert procedure.surfaces_max is None
    assert procedure.surface_range is None


def test_the_database_refuses_surfaces_on_whole_mouth_work(organisation):
    with pytest.raises(IntegrityError), transaction.atomic():
        ProcedureFactory(organisation=organisation, treatment_area=TreatmentArea.WHOLE_MOUTH, surfaces_min=1)


def test_an_edit_records_only_what_changed(organisation, owner):
    procedure = procedure_create(organisation=organisation, by=owner, values=FILLING)
    procedure_update(procedure=procedure, by=owner, values={**FILLING, "default_chair_minutes": 50})
    event = AuditEvent.objects.get(object_type="procedure", action=AuditEvent.Action.UPDATE)
    assert event.changes == {"default_chair_minutes": [45, 50]}


def test_an_edit_that_changes_nothing_writes_nothing(organisation, owner):
    procedure = procedure_create(organisation=organisation, by=owner, values=FILLING)
    procedure_update(procedure=procedure, by=owner, values=FILLING)
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.UPDATE).exists()


def test_retired_procedures_are_not_offered_for_new_plans_and_can_come_back(organisation, owner):
    procedure = procedure_create(organisation=organisation, by=owner, values=FILLING)
    procedure_retire(procedure=procedure, by=owner)
    assert procedure not in procedures_for_new_plans(organisation)
    assert Procedure.objects.get(pk=procedure.pk).is_retired
    procedure_restore(procedure=procedure, by=owner)
    assert procedure in procedures_for_new_plans(organisation)
    changes = list(
        AuditEvent.objects.filter(action=AuditEvent.Action.UPDATE).order_by("id").values_list("changes", flat=True)
    )
    assert changes == [{"retired": [False, True]}, {"retired": [True, False]}]


# ---------- Order rules ----------


@pytest.fixture
def endo_and_crown(organisation):
    root_canal = ProcedureFactory(organisation=organisation, code="415", category=Category.ENDODONTIC)
    crown = ProcedureFactory(organisation=organisation, code="613", category=Category.PROSTHODONTIC)
    return root_canal, crown


def test_a_crown_can_be_set_to_follow_root_canal_treatment_on_the_same_tooth(endo_and_crown, owner):
    root_canal, crown = endo_and_crown
    rule = dependency_add(procedure=crown, by=owner, requires_procedure=root_canal)
    assert rule.in_words == f"After 415 {root_canal.name}, on the same tooth"
    assert AuditEvent.objects.get(object_type="procedure").changes == {"order_rule": [None, rule.in_words]}


def test_an_implant_waits_for_any_oral_surgery_at_that_site(organisation, owner):
    implant = ProcedureFactory(organisation=organisation, code="684", category=Category.IMPLANT)
    rule = dependency_add(
        procedure=implant,
        by=owner,
        requires_category=Category.ORAL_SURGERY,
        site="same_site",
        min_gap_weeks=12,
        note="Bone heals first.",
    )
    assert (
        rule.in_words == "After any oral surgery and extractions procedure, at the same site, at least 12 weeks later"
    )


def test_a_rule_that_would_go_round_in_a_circle_is_refused(endo_and_crown, owner):
    root_canal, crown = endo_and_crown
    dependency_add(procedure=crown, by=owner, requires_procedure=root_canal)
    with pytest.raises(ValidationError, match="This would be circular: 613 already has to come after 415"):
        dependency_add(procedure=root_canal, by=owner, requires_procedure=crown)
    assert ProcedureDependency.objects.count() == 1


def test_a_circle_through_a_category_is_refused_too(endo_and_crown, owner):
    root_canal, crown = endo_and_crown
    dependency_add(procedure=crown, by=owner, requires_category=Category.ENDODONTIC)
    with pytest.raises(ValidationError, match="circular"):
        dependency_add(procedure=root_canal, by=owner, requires_procedure=crown)


def test_a_whole_mouth_procedure_cannot_be_on_the_same_tooth(organisation, owner):
    exam = ProcedureFactory(organisation=organisation, code="012", treatment_area=TreatmentArea.WHOLE_MOUTH)
    clean = ProcedureFactory(organisation=organisation, code="114", treatment_area=TreatmentArea.WHOLE_MOUTH)
    with pytest.raises(ValidationError) as refused:
        dependency_add(procedure=clean, by=owner, requires_procedure=exam, site="same_tooth")
    assert "114 is not done on one tooth" in refused.value.message_dict["site"][0]
    dependency_add(procedure=clean, by=owner, requires_procedure=exam, site="anywhere")


def test_a_rule_needs_exactly_one_thing_to_follow(endo_and_crown, owner):
    root_canal, crown = endo_and_crown
    with pytest.raises(ValidationError, match="either one procedure or a whole category"):
        dependency_add(procedure=crown, by=owner)
    with pytest.raises(ValidationError, match="either one procedure or a whole category"):
        dependency_add(procedure=crown, by=owner, requires_procedure=root_canal, requires_category="endodontic")


def test_a_procedure_cannot_follow_itself_or_another_practices_procedure(endo_and_crown, owner):
    _root_canal, crown = endo_and_crown
    with pytest.raises(ValidationError, match="cannot have to come after itself"):
        dependency_add(procedure=crown, by=owner, requires_procedure=crown)
    stranger = ProcedureFactory(code="415")
    with pytest.raises(ValidationError, match="your own catalogue"):
        dependency_add(procedure=crown, by=owner, requires_procedure=stranger)


def test_the_same_rule_twice_is_refused(endo_and_crown, owner):
    root_canal, crown = endo_and_crown
    dependency_add(procedure=crown, by=owner, requires_procedure=root_canal)
    with pytest.raises(ValidationError, match="already has a rule"):
        dependency_add(procedure=crown, by=owner, requires_procedure=root_canal, min_gap_weeks=2)


def test_removing_a_rule_is_audited(endo_and_crown, owner):
    root_canal, crown = endo_and_crown
    rule = dependency_add(procedure=crown, by=owner, requires_procedure=root_canal)
    dependency_remove(dependency=rule, by=owner)
    assert not ProcedureDependency.objects.exists()
    assert AuditEvent.objects.order_by("-id").first().changes == {"order_rule": [rule.in_words, None]}


def test_the_database_keeps_rules_well_formed(endo_and_crown):
    root_canal, crown = endo_and_crown
    with pytest.raises(IntegrityError), transaction.atomic():
        ProcedureDependency.objects.create(procedure=crown, requires_procedure=root_canal, requires_category="implant")
    with pytest.raises(IntegrityError), transaction.atomic():
        ProcedureDependency.objects.create(procedure=crown)
    with pytest.raises(IntegrityError), transaction.atomic():
        ProcedureDependency.objects.create(procedure=crown, requires_procedure=crown)
