"""The demo practice's cases: about 150 plans that pass the same checks as a coordinator's, with
drawn X-rays and photos (one of them DICOM) ready to show, loaded once."""

import re
from collections import Counter
from datetime import datetime
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client, override_settings

from clearplan.accounts.models import Membership, Organisation
from clearplan.audit.guard import audit_purge_allowed
from clearplan.audit.models import AuditEvent
from clearplan.demo.cases import ELECTIVE_SCENARIOS, MIX, SCENARIOS
from clearplan.demo.practice import DEMO_ORGANISATION_ID, DEMO_PASSWORD
from clearplan.lib.sms_url import parse_sms_url
from clearplan.lib.teeth import is_valid_fdi
from clearplan.packs.links import link_for_token
from clearplan.packs.models import ConsentSignature, PackLink, PackSend, PackVersion, PackVisit, PatientResponse
from clearplan.packs.versions import digest
from clearplan.patients import phones
from clearplan.patients.models import Patient, clinic_today
from clearplan.patients.search import fold
from clearplan.plans.image_markup import validate_markup
from clearplan.plans.models import Case, CaseImage, PlanLine, PlanOption, PlanType
from clearplan.plans.services import LineInput, _resolve_line


@pytest.fixture(autouse=True)
def _demo_installation(settings):
    settings.DEMO = True
    # The shared load runs outside the per-test settings, so its passwords are hashed with Argon2.
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.Argon2PasswordHasher",
        "django.contrib.auth.hashers.MD5PasswordHasher",
    ]


def load(*args):
    out = StringIO()
    call_command("load_demo", *args, stdout=out)
    return out.getvalue()


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
    # Text messages go to the outbox, as in a real demo installation (CLEARPLAN_DEMO turns it on).
    sms = parse_sms_url("outbox://", outbox_allowed=True)
    with (
        django_db_blocker.unblock(),
        override_settings(DEMO=True, MEDIA_ROOT=demo_media, SMS_BACKEND=sms.backend, SMS_OPTIONS=sms.options),
    ):
        load()
    yield
    with django_db_blocker.unblock(), audit_purge_allowed(connection):
        call_command("flush", "--no-input", verbosity=0)


@pytest.fixture
def demo_organisation(demo, db):
    return Organisation.objects.get(public_id=DEMO_ORGANISATION_ID)


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


# ---------- The practice itself, read from the same shared load ----------


def test_two_clinics_in_different_time_zones_have_a_team_in_every_role(demo_organisation):
    clinics = list(demo_organisation.clinics.all())
    assert len(clinics) == 2
    assert {clinic.time_zone for clinic in clinics} == {"Australia/Sydney", "Australia/Perth"}
    assert {clinic.locale for clinic in clinics} == {"en-AU"}

    memberships = Membership.objects.filter(clinic__organisation=demo_organisation)
    roles = Counter(memberships.values_list("role", flat=True))
    assert set(roles) == set(Membership.Role.values)
    clinical = Counter(memberships.exclude(clinical_role="").values_list("clinical_role", flat=True))
    assert clinical[Membership.ClinicalRole.DENTIST] >= 2
    assert clinical[Membership.ClinicalRole.HYGIENIST] >= 1
    assert clinical[Membership.ClinicalRole.ORAL_HEALTH_THERAPIST] >= 1
    assert roles[Membership.Role.COORDINATOR] >= 2
    assert demo_organisation.staff.filter(is_organisation_admin=True).count() == 1
    in_both = [user for user in demo_organisation.staff.all() if user.memberships.count() == 2]
    assert len(in_both) == 1
    assert all(user.email.endswith("@harbourhills.example") for user in demo_organisation.staff.all())
    assert all(user.check_password(DEMO_PASSWORD) for user in demo_organisation.staff.all())


def test_patients_have_realistic_names_kept_exactly_as_written(demo_organisation):
    patients = Patient.objects.filter(clinic__organisation=demo_organisation)
    assert 190 <= patients.count() <= 210
    names = [patient.full_name for patient in patients]
    for name in ("Zoë O'Brien", "Thảo Nguyễn", "Tūī Smith-Jones", "Seán D'Arcy", "Mereana Te Rangi-Ngata"):
        assert name in names
    with_accents = [name for name in names if fold(name) != name.lower()]
    assert len(with_accents) >= 20
    assert sum("'" in name for name in names) >= 5
    assert sum("-" in name for name in names) >= 5


def test_every_demo_patient_is_valid_and_can_be_contacted(demo_organisation):
    patients = list(Patient.objects.filter(clinic__organisation=demo_organisation).select_related("clinic"))
    for patient in patients:
        patient.full_clean()
        for number in (patient.mobile, patient.guardian_mobile):
            if number:
                # 0491 570 xxx is set aside for fiction, so nobody real is ever texted by the demo.
                assert number.startswith("+61491570")
        assert patient.consent_sms or patient.consent_email
        if patient.email:
            assert patient.email.endswith("@example.com")
    children = [patient for patient in patients if patient.is_minor]
    assert len(children) >= 10
    assert all(child.guardian_name and child.guardian_relationship for child in children)
    assert sum(bool(patient.medical_alerts) for patient in patients) >= 5
    assert sum(bool(patient.pms_id) for patient in patients) >= 150
    assert len({patient.mobile for patient in patients if patient.mobile}) == sum(bool(p.mobile) for p in patients)


def test_print_logins_shows_the_address_password_and_who_to_sign_in_as(demo_organisation):
    before = counts()
    output = load("--print-logins", "--url", "http://127.0.0.1:8000/")
    assert counts() == before
    assert "http://127.0.0.1:8000/" in output
    assert DEMO_PASSWORD in output
    assert "hannah@harbourhills.example" in output
    assert "Owner / manager" in output
    assert "Organisation admin" in output
    assert "Surry Hills and Subiaco" in output
    assert len([line for line in output.splitlines() if "@harbourhills.example" in line]) == 13


def test_a_demo_login_signs_in_and_finds_a_patient(demo_organisation, client):
    response = client.post("/accounts/login/", {"login": "jack@harbourhills.example", "password": DEMO_PASSWORD})
    assert response.status_code == 302
    results = client.post("/patients/", {"q": "zoe obrien"}, follow=True)
    assert [patient.full_name for patient in results.context["patients"]] == ["Zoë O'Brien"]
    page = client.get(f"/patients/{results.context['patients'][0].public_id}/").content.decode()
    assert phones.for_display(results.context["patients"][0].mobile, country="AU") in page


def test_the_demo_has_packs_sent_opened_answered_and_signed(demo_organisation):
    sends = PackSend.objects.filter(case__clinic__organisation=demo_organisation)
    assert 80 <= sends.count() <= 130
    assert PackLink.objects.filter(first_opened_at__isnull=False).count() >= 50
    assert PackVisit.objects.filter(device_type="phone").exists()
    kinds = Counter(PatientResponse.objects.values_list("kind", flat=True))
    assert kinds["proceed"] >= 10
    assert kinds["question"] >= 5
    assert kinds["not_now"] >= 3
    assert ConsentSignature.objects.count() >= 5
    for version in PackVersion.objects.all():
        assert version.sha256 == digest(version.snapshot, version.body_html)
    for signature in ConsentSignature.objects.select_related("version"):
        assert signature.version_sha256 == signature.version.sha256
        assert signature.consent_statements == signature.version.snapshot["consent_statements"]
    for send in sends.select_related("case"):
        assert send.send_at.astimezone(ZoneInfo(send.case.clinic.time_zone)).date() >= send.case.conversation_date


def test_the_printed_patient_link_opens_with_the_printed_date_of_birth(demo_organisation):
    output = load("--print-logins", "--url", "http://127.0.0.1:8000/")
    path = re.search(r"http://127\.0\.0\.1:8000(/p/[A-Za-z0-9_-]{20,})", output).group(1)
    day, month, year = re.search(r"date of birth: (\d{1,2}) (\w+) (\d{4})", output).groups()
    browser = Client()
    opened = browser.get(path)
    assert opened.status_code == 302
    assert opened["Location"] == "/p/"
    assert "date of birth" in browser.get("/p/").content.decode()
    month_number = datetime.strptime(month, "%B").month
    answered = browser.post("/p/verify/", {"day": day, "month": str(month_number), "year": year})
    assert answered.status_code == 302
    page = browser.get("/p/").content.decode()
    assert 'data-pack-section="options"' in page
    # The demo link's pack was sent but not yet opened, so whoever tries it starts at the beginning.
    link = link_for_token(path.removeprefix("/p/"))
    assert link.visits.count() == 1
    assert not link.case.pack_responses.exists()
