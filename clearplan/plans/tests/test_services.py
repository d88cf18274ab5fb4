"""Building a case and its plan: teeth, surfaces and areas refused with a message at the field,
fees from the schedule or changed with a reason, one recommended option, no pack with a reason."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from clearplan.audit.models import AuditEvent
from clearplan.catalog.models import Fee
from clearplan.plans.models import Case, PlanLine, PlanOption
from clearplan.plans.services import (
    LineInput,
    case_clear_no_pack,
    case_create,
    case_mark_no_pack,
    line_add,
    line_remove,
    line_update,
    option_add,
    option_remove,
    option_reorder,
    option_set_recommended,
)

pytestmark = pytest.mark.django_db


def add(case, by, **typed):
    option = case.options.first()
    return line_add(option=option, data=LineInput(**typed), by=by)


def errors_of(excinfo) -> dict[str, list[str]]:
    return excinfo.value.message_dict


def test_a_new_case_starts_with_one_recommended_option_and_is_audited(case, coordinator):
    options = list(case.options.all())
    assert [(o.title, o.is_recommended) for o in options] == [("Option A", True)]
    event = AuditEvent.objects.get(object_id=str(case.public_id), action=AuditEvent.Action.CREATE)
    assert event.object_type == "case"
    assert event.actor == coordinator


def test_the_conversation_date_defaults_to_today_in_the_clinics_zone(patient, dentist, coordinator, time_machine):
    # 23:30 on 14 Sept in UTC is already 15 Sept in Sydney.
    time_machine.move_to("2025-09-14T23:30:00Z")
    case = case_create(
        patient=patient,
        dentist=dentist,
        coordinator=None,
        conversation_date=None,
        plan_type="elective",
        key_points="",
        by=coordinator,
    )
    assert case.conversation_date == date(2025, 9, 15)


def test_the_dentist_must_be_a_practitioner_at_the_clinic(patient, coordinator, outsider):
    with pytest.raises(ValidationError) as excinfo:
        case_create(
            patient=patient,
            dentist=coordinator,
            coordinator=outsider,
            conversation_date=None,
            plan_type="oral_health",
            key_points="",
            by=coordinator,
        )
    assert "practitioner who works at this clinic" in errors_of(excinfo)["dentist"][0]
    assert "works at this clinic" in errors_of(excinfo)["coordinator"][0]
    assert not Case.objects.exists()


# ---------- Teeth, surfaces and areas, in each numbering system ----------


@pytest.mark.parametrize(
    ("numbering", "typed", "stored"),
    [("fdi", "36", 36), ("universal", "19", 36), ("palmer", "LL6", 36), ("universal", "K", 75), ("palmer", "lld", 74)],
)
def test_a_tooth_typed_in_the_clinics_numbering_is_stored_as_fdi(
    case, coordinator, procedures, numbering, typed, stored
):
    case.clinic.tooth_numbering = numbering
    case.clinic.save()
    line = add(case, coordinator, procedure=procedures["crown"], tooth=typed)
    assert line.tooth == stored


@pytest.mark.parametrize(
    ("numbering", "typed", "message"),
    [
        ("fdi", "19", "“19” is not a tooth in FDI numbering"),
        ("universal", "33", "“33” is not a tooth in Universal numbering"),
        ("palmer", "UR9", "“UR9” is not a tooth in Palmer numbering"),
    ],
)
def test_a_tooth_that_does_not_exist_is_refused_at_the_tooth_field(
    case, coordinator, procedures, numbering, typed, message
):
    case.clinic.tooth_numbering = numbering
    case.clinic.save()
    with pytest.raises(ValidationError) as excinfo:
        add(case, coordinator, procedure=procedures["crown"], tooth=typed)
    assert message in errors_of(excinfo)["tooth"][0]
    assert not PlanLine.objects.exists()


def test_a_tooth_procedure_without_a_tooth_asks_for_one_in_the_clinics_numbering(case, coordinator, procedures):
    case.clinic.tooth_numbering = "universal"
    case.clinic.save()
    with pytest.raises(ValidationError) as excinfo:
        add(case, coordinator, procedure=procedures["crown"])
    assert errors_of(excinfo)["tooth"] == [
        "Enter the tooth for Porcelain crown. For example 19, or K for a baby tooth."
    ]


def test_a_tooth_on_a_whole_mouth_procedure_is_refused(case, coordinator, procedures):
    with pytest.raises(ValidationError) as excinfo:
        add(case, coordinator, procedure=procedures["exam"], tooth="36")
    assert errors_of(excinfo)["tooth"] == [
        "Comprehensive examination is for the whole mouth, so it does not take a tooth. Leave the tooth empty."
    ]


def test_a_surface_that_is_not_on_that_tooth_is_refused(case, coordinator, procedures):
    with pytest.raises(ValidationError) as excinfo:
        add(case, coordinator, procedure=procedures["filling"], tooth="11", surfaces="MO")
    assert "Occlusal (O) is not a surface of tooth 11, a front tooth" in errors_of(excinfo)["surfaces"][0]


def test_surfaces_are_named_in_palmer_for_a_palmer_clinic(case, coordinator, procedures):
    case.clinic.tooth_numbering = "palmer"
    case.clinic.save()
    with pytest.raises(ValidationError) as excinfo:
        add(case, coordinator, procedure=procedures["filling"], tooth="UR1", surfaces="O")
    assert "tooth UR1" in errors_of(excinfo)["surfaces"][0]


def test_surfaces_are_stored_in_charting_order(case, coordinator, procedures):
    line = add(case, coordinator, procedure=procedures["filling"], tooth="36", surfaces="dom")
    assert line.surfaces == "MOD"


def test_the_number_of_surfaces_must_fit_the_procedure(case, coordinator, procedures):
    with pytest.raises(ValidationError) as excinfo:
        add(case, coordinator, procedure=procedures["filling2"], tooth="36", surfaces="MOD")
    assert errors_of(excinfo)["surfaces"][0].startswith(
        "Tooth-coloured filling, two surfaces covers exactly 2 surfaces; you entered 3 (MOD)."
    )


def test_surface_work_needs_surfaces_and_whole_tooth_work_takes_none(case, coordinator, procedures):
    with pytest.raises(ValidationError) as excinfo:
        add(case, coordinator, procedure=procedures["filling"], tooth="36")
    assert "Enter the surfaces of tooth 36" in errors_of(excinfo)["surfaces"][0]
    with pytest.raises(ValidationError) as excinfo:
        add(case, coordinator, procedure=procedures["crown"], tooth="36", surfaces="MO")
    assert "takes no surfaces" in errors_of(excinfo)["surfaces"][0]


def test_arch_and_quadrant_procedures_take_an_arch_or_quadrant_not_a_tooth(case, coordinator, procedures):
    denture = add(case, coordinator, procedure=procedures["denture"], area="upper")
    scaling = add(case, coordinator, procedure=procedures["scaling"], area="LL")
    assert (denture.arch, denture.tooth) == ("upper", None)
    assert scaling.quadrant == 3
    with pytest.raises(ValidationError) as excinfo:
        add(case, coordinator, procedure=procedures["denture"], tooth="36")
    messages = errors_of(excinfo)
    assert "does not take a tooth" in messages["tooth"][0]
    assert "Choose the upper or lower arch." in messages["area"][0]
    with pytest.raises(ValidationError) as excinfo:
        add(case, coordinator, procedure=procedures["scaling"], area="middle")
    assert "“middle” is not a quadrant" in errors_of(excinfo)["area"][0]


def test_retired_and_other_organisations_procedures_are_refused(case, coordinator, procedures):
    from clearplan.accounts.tests.factories import OrganisationFactory
    from clearplan.catalog.models import Procedure

    with pytest.raises(ValidationError) as excinfo:
        add(case, coordinator, procedure=procedures["retired"], tooth="36")
    assert "retired" in errors_of(excinfo)["procedure"][0]
    elsewhere = Procedure.objects.create(
        organisation=OrganisationFactory(), code="011", name="Exam", category="diagnostic", treatment_area="whole_mouth"
    )
    with pytest.raises(ValidationError) as excinfo:
        add(case, coordinator, procedure=elsewhere)
    assert "this practice's catalogue" in errors_of(excinfo)["procedure"][0]


def test_quantity_and_phase_start_at_one(case, coordinator, procedures):
    with pytest.raises(ValidationError) as excinfo:
        add(case, coordinator, procedure=procedures["exam"], quantity=0, phase=0)
    assert set(errors_of(excinfo)) == {"quantity", "phase"}


# ---------- Fees ----------


def test_the_fee_comes_from_the_default_schedule_on_the_conversation_date(case, coordinator, procedures, standard):
    # A later fee rise does not change a plan discussed before it.
    Fee.objects.create(
        schedule=standard, procedure=procedures["crown"], amount=Decimal("1800"), effective_from=date(2025, 10, 1)
    )
    line = add(case, coordinator, procedure=procedures["crown"], tooth="26")
    assert line.fee == Decimal("1650.00")
    assert (line.fee_source, line.fee_schedule, line.fee_effective_from) == ("schedule", standard, date(2025, 7, 1))


def test_the_cases_own_schedule_is_used_and_falls_back_to_the_default(case, coordinator, procedures, concession):
    case.fee_schedule = concession
    case.save()
    exam = add(case, coordinator, procedure=procedures["exam"])
    crown = add(case, coordinator, procedure=procedures["crown"], tooth="26")
    assert (exam.fee, exam.fee_schedule.name) == (Decimal("45.00"), "Concession")
    assert (crown.fee, crown.fee_schedule.name) == (Decimal("1650.00"), "Standard")


def test_a_changed_fee_needs_a_reason(case, coordinator, procedures):
    with pytest.raises(ValidationError) as excinfo:
        add(case, coordinator, procedure=procedures["crown"], tooth="26", fee_override="1500")
    assert "Say why this fee differs" in errors_of(excinfo)["override_reason"][0]
    line = add(
        case,
        coordinator,
        procedure=procedures["crown"],
        tooth="26",
        fee_override="1,500.00",
        override_reason="Long-term patient",
    )
    assert (line.fee, line.fee_source, line.override_reason) == (Decimal("1500.00"), "override", "Long-term patient")


def test_the_database_refuses_a_changed_fee_without_a_reason(case, procedures):
    option = case.options.first()
    with pytest.raises(IntegrityError), transaction.atomic():
        PlanLine.objects.create(option=option, procedure=procedures["exam"], fee=Decimal("1"), fee_source="override")


def test_a_procedure_without_a_fee_asks_for_one_with_a_reason(case, coordinator, procedures, standard):
    Fee.objects.filter(procedure=procedures["crown"]).delete()
    with pytest.raises(ValidationError) as excinfo:
        add(case, coordinator, procedure=procedures["crown"], tooth="26")
    assert errors_of(excinfo)["fee_override"][0].startswith("No fee is set for 615 in Standard")


def test_updating_a_line_rechecks_it_and_removing_it_is_audited(case, coordinator, procedures):
    line = add(case, coordinator, procedure=procedures["filling"], tooth="36", surfaces="MO")
    with pytest.raises(ValidationError):
        line_update(
            line=line, data=LineInput(procedure=procedures["filling"], tooth="36", surfaces="MI"), by=coordinator
        )
    line = line_update(
        line=line, data=LineInput(procedure=procedures["filling"], tooth="46", surfaces="MOD", phase=2), by=coordinator
    )
    line.refresh_from_db()
    assert (line.tooth, line.surfaces, line.phase) == (46, "MOD", 2)
    line_remove(line=line, by=coordinator)
    assert not PlanLine.objects.exists()
    changes = [e.changes for e in AuditEvent.objects.filter(object_type="case").order_by("at", "id")]
    assert any("line_removed" in c for c in changes)
    assert any("line 521: tooth" in c for c in changes)


# ---------- Options ----------


def test_exactly_one_option_is_recommended(case, coordinator):
    first = case.options.get()
    second = option_add(case=case, title="Option B: bridge", by=coordinator)
    assert not second.is_recommended
    option_set_recommended(option=second, by=coordinator)
    assert list(case.options.filter(is_recommended=True)) == [second]
    first.refresh_from_db()
    assert not first.is_recommended


def test_the_database_refuses_two_recommended_options(case):
    with pytest.raises(IntegrityError), transaction.atomic():
        PlanOption.objects.create(case=case, title="Another", is_recommended=True)


def test_removing_the_recommended_option_recommends_the_first_remaining(case, coordinator):
    first = case.options.get()
    second = option_add(case=case, by=coordinator)
    assert second.title == "Option B"
    option_remove(option=first, by=coordinator)
    second.refresh_from_db()
    assert second.is_recommended


def test_a_no_treatment_option_is_added_once_and_takes_no_procedures(case, coordinator, procedures):
    option = option_add(case=case, kind="no_treatment", by=coordinator)
    assert option.title == "No treatment — what to expect"
    with pytest.raises(ValidationError):
        option_add(case=case, kind="no_treatment", by=coordinator)
    with pytest.raises(ValidationError) as excinfo:
        line_add(option=option, data=LineInput(procedure=procedures["exam"]), by=coordinator)
    assert "no procedures" in errors_of(excinfo)["procedure"][0]


def test_options_can_be_put_in_a_new_order(case, coordinator):
    a = case.options.get()
    b = option_add(case=case, by=coordinator)
    option_reorder(case=case, order=[b, a], by=coordinator)
    assert [o.title for o in case.options.order_by("position")] == ["Option B", "Option A"]


# ---------- No pack needed ----------


def test_no_pack_needed_requires_a_reason_and_can_be_undone(case, coordinator):
    with pytest.raises(ValidationError) as excinfo:
        case_mark_no_pack(case=case, reason="", note="", by=coordinator)
    assert errors_of(excinfo)["reason"] == ["Choose why this case needs no treatment pack."]
    case = case_mark_no_pack(
        case=case, reason="procedural_follow_up", note="Second stage of a root canal", by=coordinator
    )
    assert (case.pack_needed, case.no_pack_reason) == (False, "procedural_follow_up")
    case = case_clear_no_pack(case=case, by=coordinator)
    assert (case.pack_needed, case.no_pack_reason, case.no_pack_note) == (True, "", "")


def test_the_database_refuses_no_pack_without_a_reason(case):
    with pytest.raises(IntegrityError), transaction.atomic():
        Case.objects.filter(pk=case.pk).update(pack_needed=False, no_pack_reason="")
