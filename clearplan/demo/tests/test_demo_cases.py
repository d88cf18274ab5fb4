"""The demo practice's cases: about 150 plans that pass the same checks as a coordinator's, with
drawn X-rays and photos (one of them DICOM) ready to show, loaded once."""

from collections import Counter
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import override_settings

from clearplan.audit.guard import audit_purge_allowed
from clearplan.audit.models import AuditEvent
from clearplan.demo.cases import ELECTIVE_SCENARIOS, MIX, SCENARIOS
from clearplan.demo.practice import DEMO_ORGANISATION_ID
from clearplan.lib.teeth import is_valid_fdi
from clearplan.patients.models import clinic_today
from clearplan.plans.image_markup import validate_markup
from clearplan.plans.models import Case, CaseImage, PlanLine, PlanOption, PlanType
from clearplan.plans.services import LineInput, _resolve_line


@pytest.fixture(autouse=True)
def _demo_installation(settings):
    settings.DEMO = True


def load():
    call_command("load_demo", stdout=StringIO())


@pytest.fixture(scope="module")
def demo_media(tmp_path_factory):
    return tmp_path_factory.mktemp("demo-media")


@pytest.fixture(autouse=True)
def _shared_media(settings, demo_media):
    # The shared load below keeps its pictures here; every test reads them from the same place.
    settings.MEDIA_ROOT = demo_media


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker, demo_media):
    # Loading the demo takes a while (drawing and preparing the pictures), so the tests here share one
    # load, committed, and empty the database afterwards for the tests that follow.
    with django_db_blocker.unblock(), override_settings(DEMO=True, MEDIA_ROOT=demo_media):
        load()
    yield
    with django_db_blocker.unblock(), audit_purge_allowed(connection):
        call_command("flush", "--no-input", verbosity=0)


def counts():
    return {
        "cases": Case.objects.count(),
        "options": PlanOption.objects.count(),
        "lines": PlanLine.objects.count(),
        "images": CaseImage.objects.count(),
        "audit events": AuditEvent.objects.count(),
    }


def scenario_of(case: Case) -> str:
    """Which kind of conversation a demo case is, read from what was planned."""
    codes = set(PlanLine.objects.filter(option__case=case).values_list("procedure__code", flat=True))
    if not case.pack_needed:
        return "follow_up"
    if "823" in codes or "821" in codes:
        return "childrens_orthodontics"
    if "829" in codes:
        return "clear_aligners"
    if "526" in codes:
        return "veneers"
    if "119" in codes or "118" in codes:
        return "whitening"
    if "965" in codes:
        return "night_guard"
    if "222" in codes:
        return "gum_treatment"
    if "684" in codes:
        return "missing_tooth"
    if "415" in codes:
        return "root_canal_crown"
    if "711" in codes or "719" in codes:
        return "dentures"
    if "121" in codes:
        return "child_check_up"
    return "check_up_fillings"


@pytest.mark.django_db
def test_loading_again_changes_nothing(demo):
    before = counts()
    load()
    assert counts() == before


@pytest.mark.django_db
def test_about_150_cases_across_both_clinics_over_the_last_three_months(demo):
    cases = list(Case.objects.filter(clinic__organisation__public_id=DEMO_ORGANISATION_ID).select_related("clinic"))
    assert 150 <= len(cases) <= 160
    by_clinic = Counter(case.clinic.time_zone for case in cases)
    assert set(by_clinic) == {"Australia/Sydney", "Australia/Perth"}
    assert min(by_clinic.values()) >= 40
    for case in cases:
        days_ago = (clinic_today(case.clinic) - case.conversation_date).days
        assert 0 <= days_ago < 90
    assert len({case.conversation_date for case in cases}) >= 30


@pytest.mark.django_db
def test_every_line_passes_the_plan_checks_with_teeth_stored_as_fdi(demo):
    lines = PlanLine.objects.select_related("option__case__clinic", "procedure")
    assert lines.count() >= 600
    for line in lines:
        case = line.option.case
        assert line.tooth is None or is_valid_fdi(line.tooth)
        assert (line.tooth is not None) == line.procedure.needs_tooth
        # The same check a coordinator's typed line goes through, with the stored values typed back in.
        values = _resolve_line(
            case,
            LineInput(
                procedure=line.procedure,
                tooth=str(line.tooth or ""),
                surfaces=line.surfaces,
                area=line.arch or (str(line.quadrant) if line.quadrant else ""),
                quantity=line.quantity,
                phase=line.phase,
                note=line.note,
            ),
        )
        assert values["tooth"] == line.tooth
        assert values["surfaces"] == line.surfaces
        assert values["fee"] == line.fee


@pytest.mark.django_db
def test_every_plan_has_one_recommended_option_and_no_treatment_options_are_empty(demo):
    for case in Case.objects.prefetch_related("options__lines"):
        options = list(case.options.all())
        assert sum(option.is_recommended for option in options) == 1
        for option in options:
            if option.kind == PlanOption.Kind.NO_TREATMENT:
                assert not option.lines.all()
                assert option.summary
            else:
                assert option.lines.all()
        assert case.key_points
        assert case.dentist.memberships.filter(clinic=case.clinic, role="practitioner").exists()
        assert case.coordinator is not None
    assert PlanOption.objects.filter(kind=PlanOption.Kind.NO_TREATMENT).count() >= 15
    assert Case.objects.filter(options__position=2).count() >= 5


@pytest.mark.django_db
def test_every_kind_of_conversation_is_there(demo):
    found = Counter(scenario_of(case) for case in Case.objects.all())
    assert set(found) == set(SCENARIOS) == set(MIX)
    assert found["check_up_fillings"] >= 20


@pytest.mark.django_db
def test_elective_treatments_are_planned_as_elective(demo):
    for case in Case.objects.all():
        if scenario_of(case) in ELECTIVE_SCENARIOS:
            assert case.plan_type == PlanType.ELECTIVE
        elif scenario_of(case) != "childrens_orthodontics":
            assert case.plan_type == PlanType.ORAL_HEALTH


@pytest.mark.django_db
def test_childrens_orthodontics_is_only_for_children_with_a_guardian(demo):
    children = [
        case
        for case in Case.objects.select_related("patient__clinic")
        if scenario_of(case)
        in (
            "childrens_orthodontics",
            "child_check_up",
        )
    ]
    assert children
    for case in children:
        assert case.patient.is_minor
        assert case.patient.guardian_name


@pytest.mark.django_db
def test_cases_without_a_pack_say_why(demo):
    without = Case.objects.filter(pack_needed=False)
    assert 3 <= without.count() <= 15
    for case in without:
        assert case.no_pack_reason in (Case.NoPackReason.PROCEDURAL_FOLLOW_UP, Case.NoPackReason.NO_NEW_INFORMATION)
        assert case.no_pack_note


@pytest.mark.django_db
def test_about_40_cases_have_captioned_key_pictures_ready_to_show(demo):
    with_images = Case.objects.filter(images__isnull=False).distinct()
    assert 35 <= with_images.count() <= 45
    for case in with_images:
        images = list(case.images.all())
        assert 1 <= len(images) <= 3
        assert sorted(image.key_order for image in images) == list(range(1, len(images) + 1))
        for image in images:
            assert image.is_key
            assert image.caption
            assert image.processing == CaseImage.Processing.READY
            for size in ("thumb", "medium", "large"):
                assert getattr(image, size).storage.exists(getattr(image, size).name)
    marked = CaseImage.objects.exclude(markup=[])
    assert marked.count() >= 20
    for image in marked:
        assert validate_markup(image.markup) == image.markup
    assert {shape["type"] for image in marked for shape in image.markup} == {"circle", "arrow", "box"}
    assert set(CaseImage.objects.values_list("kind", flat=True)) == {CaseImage.Kind.XRAY, CaseImage.Kind.PHOTO}


@pytest.mark.django_db
def test_a_dicom_x_ray_is_kept_as_exported_and_shown_from_its_web_sizes(demo):
    from clearplan.lib.imaging import dicom_identifiers, patient_name_matches

    dicoms = list(CaseImage.objects.filter(source_format="DICOM").select_related("case__patient"))
    assert dicoms
    for image in dicoms:
        assert image.kind == CaseImage.Kind.XRAY
        assert image.processing == CaseImage.Processing.READY
        with image.original.open("rb") as original:
            found = dicom_identifiers(original.read())
        patient = image.case.patient
        assert patient_name_matches(found["PatientName"], given_name=patient.first_name, family_name=patient.last_name)
        with image.large.open("rb") as large:
            assert large.read(12)[8:12] == b"WEBP"
