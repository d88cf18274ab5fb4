"""Settings → Procedures as staff use it: everyone can look, managers change things."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clearplan.accounts.tests.factories import UserFactory
from clearplan.audit.models import AuditEvent
from clearplan.catalog.models import Category, Procedure, ProcedureDependency, TreatmentArea
from clearplan.catalog.services import catalog_install_starter
from clearplan.catalog.tests.factories import ProcedureFactory

LIST_URL = reverse("catalog:procedures")


def detail_url(procedure):
    return reverse("catalog:procedure_detail", args=[procedure.public_id])


def shown_codes(response):
    return [procedure.code for procedure in response.context["procedures"]]


@pytest.fixture
def catalogue(organisation, owner):
    catalog_install_starter(organisation=organisation, region="AU", by=owner)
    return Procedure.objects.filter(organisation=organisation)


def test_a_new_practice_is_offered_the_starter_catalogues(owner_client):
    page = owner_client.get(LIST_URL).content.decode()
    assert "No procedures yet" in page
    assert "Use the Australian starter (ADA item numbers)" in page
    assert "Use the United States starter (CDT codes)" in page


def test_a_manager_installs_the_starter_from_the_empty_list(owner_client, organisation):
    response = owner_client.post(reverse("catalog:starter_install"), {"region": "AU"}, follow=True)
    assert "Added 66 procedures from the Australian starter catalogue." in response.content.decode()
    assert Procedure.objects.filter(organisation=organisation).count() == 66


def test_staff_who_are_not_managers_see_the_list_read_only(coordinator_client, catalogue):
    response = coordinator_client.get(LIST_URL)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Add a procedure" not in page
    assert "Import descriptions" not in page
    assert "Only owners and managers can change them." in page


def test_search_finds_by_the_start_of_a_code_or_words_of_the_name(owner_client, catalogue):
    assert shown_codes(owner_client.get(LIST_URL, {"q": "53"})) == ["531", "532", "533", "534", "535"]
    assert shown_codes(owner_client.get(LIST_URL, {"q": "back two"})) == ["532"]
    assert shown_codes(owner_client.get(LIST_URL, {"q": "CROWN implant"})) == ["661"]


def test_the_category_filter_and_retired_items(owner_client, owner, catalogue):
    endo = shown_codes(owner_client.get(LIST_URL, {"category": Category.ENDODONTIC}))
    assert endo == ["411", "414", "415", "416", "417", "418", "419", "455"]
    catalogue.filter(code="411").update(retired_at="2025-01-01T00:00Z")
    assert "411" not in shown_codes(owner_client.get(LIST_URL, {"category": Category.ENDODONTIC}))
    with_retired = owner_client.get(LIST_URL, {"category": Category.ENDODONTIC, "retired": "on"})
    assert "411" in shown_codes(with_retired)
    assert "Retired" in with_retired.content.decode()


def test_a_search_with_no_match_says_so(owner_client, catalogue):
    page = owner_client.get(LIST_URL, {"q": "zzz"}).content.decode()
    assert "No procedures match" in page


def test_the_list_runs_the_same_number_of_queries_however_many_procedures(
    owner_client, organisation, django_assert_num_queries
):
    for _ in range(3):
        ProcedureFactory(organisation=organisation)
    owner_client.get(LIST_URL)  # the session's first write settles
    with CaptureQueriesContext(connection) as few:
        owner_client.get(LIST_URL)
    for _ in range(60):
        ProcedureFactory(organisation=organisation)
    with django_assert_num_queries(len(few.captured_queries)):
        response = owner_client.get(LIST_URL)
    assert len(response.context["procedures"]) == 63


def test_another_practices_procedure_is_not_found(owner_client):
    stranger = ProcedureFactory(code="011")
    assert owner_client.get(detail_url(stranger)).status_code == 404
    assert owner_client.get(reverse("catalog:procedure_edit", args=[stranger.public_id])).status_code == 404
    assert owner_client.post(reverse("catalog:procedure_retire", args=[stranger.public_id])).status_code == 404
    assert stranger.retired_at is None


def test_a_procedure_is_shared_by_every_clinic_of_the_practice(outsider_client, catalogue):
    crown = catalogue.get(code="613")
    page = outsider_client.get(detail_url(crown)).content.decode()
    assert "Ceramic crown" in page
    assert "After any root canal (endodontic) procedure, on the same tooth" in page


@pytest.mark.parametrize(
    "url_name",
    ["catalog:procedure_create", "catalog:import_descriptions"],
)
def test_non_managers_cannot_open_the_editing_pages(coordinator_client, front_desk_client, dentist_client, url_name):
    for client in (coordinator_client, front_desk_client, dentist_client):
        assert client.get(reverse(url_name)).status_code == 403


def test_non_managers_cannot_change_a_procedure(coordinator_client, catalogue):
    crown = catalogue.get(code="613")
    assert coordinator_client.get(reverse("catalog:procedure_edit", args=[crown.public_id])).status_code == 403
    response = coordinator_client.post(reverse("catalog:procedure_retire", args=[crown.public_id]))
    assert response.status_code == 403
    assert coordinator_client.post(reverse("catalog:starter_install"), {"region": "US"}).status_code == 403
    crown.refresh_from_db()
    assert not crown.is_retired
    assert not catalogue.filter(code="D0120").exists()


def test_a_manager_adds_a_procedure(owner_client, organisation):
    response = owner_client.post(
        reverse("catalog:procedure_create"),
        {
            "code": "x101",
            "coding_system": "custom",
            "name": "Mouthguard for sport",
            "category": Category.PREVENTIVE,
            "treatment_area": TreatmentArea.ARCH,
            "default_chair_minutes": "20",
            "patient_explanation": "A custom guard for contact sport.",
        },
    )
    procedure = Procedure.objects.get(organisation=organisation, code="X101")
    assert response.status_code == 302
    assert response["Location"] == detail_url(procedure)
    assert AuditEvent.objects.filter(object_type="procedure", action=AuditEvent.Action.CREATE).exists()


def test_mistakes_are_explained_at_their_fields_and_nothing_is_saved(owner_client, organisation):
    ProcedureFactory(organisation=organisation, code="011", name="Full check-up")
    response = owner_client.post(
        reverse("catalog:procedure_create"),
        {
            "code": "011",
            "coding_system": "ada_au",
            "name": "",
            "category": "restorative",
            "treatment_area": TreatmentArea.TOOTH_SURFACES,
            "surfaces_min": "3",
            "surfaces_max": "9",
            "default_chair_minutes": "0",
        },
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert errors["code"] == ["Code 011 is already used by “Full check-up”."]
    assert errors["name"] == ["Enter a name staff and patients will understand."]
    assert errors["surfaces_max"] == ["A tooth has at most 5 surfaces."]
    assert errors["default_chair_minutes"] == ["Enter at least 1 minute."]
    assert Procedure.objects.count() == 1


def test_a_manager_edits_and_retires_and_restores(owner_client, catalogue):
    crown = catalogue.get(code="613")
    form = {
        "code": "613",
        "coding_system": "ada_au",
        "name": "Porcelain or zirconia crown",
        "category": Category.PROSTHODONTIC,
        "treatment_area": TreatmentArea.TOOTH,
        "default_chair_minutes": "90",
        "patient_explanation": crown.patient_explanation,
    }
    assert owner_client.post(reverse("catalog:procedure_edit", args=[crown.public_id]), form).status_code == 302
    crown.refresh_from_db()
    assert crown.name == "Porcelain or zirconia crown"

    page = owner_client.post(reverse("catalog:procedure_retire", args=[crown.public_id]), follow=True)
    assert "613 is retired" in page.content.decode()
    crown.refresh_from_db()
    assert crown.is_retired
    owner_client.post(reverse("catalog:procedure_restore", args=[crown.public_id]))
    crown.refresh_from_db()
    assert not crown.is_retired


def test_retiring_needs_a_post(owner_client, catalogue):
    crown = catalogue.get(code="613")
    assert owner_client.get(reverse("catalog:procedure_retire", args=[crown.public_id])).status_code == 405


def test_a_manager_adds_and_removes_an_order_rule(owner_client, catalogue):
    extraction = catalogue.get(code="311")
    scaling = catalogue.get(code="114")
    url = reverse("catalog:dependency_add", args=[extraction.public_id])
    response = owner_client.post(
        url, {"requires_procedure": str(scaling.public_id), "site": "anywhere", "min_gap_weeks": "1", "note": ""}
    )
    assert response.status_code == 302
    rule = ProcedureDependency.objects.get(procedure=extraction)
    assert rule.requires_procedure == scaling

    owner_client.post(reverse("catalog:dependency_remove", args=[extraction.public_id, rule.public_id]))
    assert not ProcedureDependency.objects.filter(procedure=extraction).exists()


def test_the_rule_form_explains_its_mistakes(owner_client, catalogue):
    crown = catalogue.get(code="613")
    url = reverse("catalog:dependency_add", args=[crown.public_id])
    errors = owner_client.post(url, {"site": "same_tooth", "min_gap_weeks": "200"}).context["form"].errors
    assert errors["requires_procedure"] == ["Choose the procedure (or category) that must come first."]
    assert errors["min_gap_weeks"] == ["Enter 104 weeks (two years) or less."]
    root_canal = catalogue.get(code="415")
    circular = owner_client.post(
        reverse("catalog:dependency_add", args=[root_canal.public_id]),
        {"requires_procedure": str(crown.public_id), "site": "same_tooth", "min_gap_weeks": "0"},
    )
    assert "This would be circular" in circular.content.decode()


def test_a_rule_of_another_procedure_cannot_be_removed_through_this_one(owner_client, catalogue):
    crown = catalogue.get(code="613")
    rule = ProcedureDependency.objects.get(procedure__code="417")
    response = owner_client.post(reverse("catalog:dependency_remove", args=[crown.public_id, rule.public_id]))
    assert response.status_code == 404
    assert ProcedureDependency.objects.filter(pk=rule.pk).exists()


def test_the_settings_page_links_to_procedures_and_fees_for_everyone(owner_client, front_desk_client):
    for client in (owner_client, front_desk_client):
        page = client.get(reverse("accounts:settings")).content.decode()
        assert reverse("catalog:procedures") in page
        assert reverse("catalog:fee_schedules") in page


def test_signed_out_visitors_are_sent_to_sign_in(client, catalogue):
    response = client.get(LIST_URL)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_an_organisation_admin_without_a_role_can_manage_the_catalogue(organisation, clinic):
    admin = UserFactory(organisation=organisation, is_organisation_admin=True)
    client = Client()
    client.force_login(admin)
    assert client.get(reverse("catalog:procedure_create")).status_code == 200
