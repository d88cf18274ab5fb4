"""Case pages: scoped to the active clinic, open to every role, audited, and bounded in queries."""

from datetime import date

import pytest
from django.urls import reverse

from clearplan.audit.models import AuditEvent
from clearplan.plans.models import Case, PlanLine
from clearplan.plans.services import LineInput, line_add, option_add

pytestmark = pytest.mark.django_db


def detail_url(case):
    return reverse("plans:detail", args=[case.public_id])


def test_another_clinics_case_is_not_found(case, outsider_client):
    assert outsider_client.get(detail_url(case)).status_code == 404
    add_url = reverse("plans:option_add", args=[case.public_id])
    assert outsider_client.post(add_url, {"kind": "treatment"}).status_code == 404
    assert case.options.count() == 1


def test_signed_out_visitors_are_sent_to_sign_in(case, client):
    response = client.get(detail_url(case))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("who", ["owner_client", "dentist_client", "coordinator_client", "front_desk_client"])
def test_every_role_can_create_a_case_from_the_patients_page(request, who, patient, dentist, standard):
    client = request.getfixturevalue(who)
    patient_page = client.get(reverse("patients:detail", args=[patient.public_id]))
    create_url = reverse("plans:create", args=[patient.public_id])
    assert create_url in patient_page.content.decode()
    response = client.post(
        create_url,
        {"dentist": dentist.pk, "conversation_date": "2025-09-15", "plan_type": "both", "key_points": "Crown on 26"},
    )
    case = Case.objects.get()
    assert response.status_code == 302
    assert response["Location"] == detail_url(case)
    assert case.patient == patient
    assert case.conversation_date == date(2025, 9, 15)


def test_the_case_form_shows_missing_choices_at_their_fields(coordinator_client, patient):
    response = coordinator_client.post(reverse("plans:create", args=[patient.public_id]), {"conversation_date": ""})
    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors["dentist"] == ["Choose the dentist who had the conversation."]
    assert form.errors["plan_type"] == ["Choose the type of plan."]
    assert not Case.objects.exists()


def test_the_case_page_shows_lines_in_the_clinics_numbering_with_totals(
    case, coordinator, coordinator_client, procedures
):
    case.clinic.tooth_numbering = "palmer"
    case.clinic.save()
    option = case.options.get()
    line_add(option=option, data=LineInput(procedure=procedures["filling"], tooth="UL6", surfaces="MO"), by=coordinator)
    line_add(option=option, data=LineInput(procedure=procedures["crown"], tooth="UL6", phase=2), by=coordinator)
    response = coordinator_client.get(detail_url(case))
    page = response.content.decode()
    assert "Porcelain crown" in page
    assert "UL6" in page
    assert "$1,830.00" in page  # 180.00 + 1650.00
    assert "Phase 2" in page
    assert AuditEvent.objects.filter(action=AuditEvent.Action.VIEW, object_type="case").count() == 1


def test_adding_a_line_without_javascript_shows_field_messages_on_the_page(case, coordinator_client, procedures):
    option = case.options.get()
    prefix = f"add-{option.public_id.hex[:8]}"
    url = reverse("plans:line_add", args=[case.public_id, option.public_id])
    response = coordinator_client.post(
        url,
        {
            f"{prefix}-procedure": str(procedures["exam"].public_id),
            f"{prefix}-tooth": "36",
            f"{prefix}-quantity": "1",
            f"{prefix}-phase": "1",
        },
    )
    assert response.status_code == 400
    assert "does not take a tooth" in response.content.decode()
    assert not PlanLine.objects.exists()
    response = coordinator_client.post(
        url,
        {f"{prefix}-procedure": str(procedures["exam"].public_id), f"{prefix}-quantity": "1", f"{prefix}-phase": "1"},
    )
    assert response.status_code == 302
    assert PlanLine.objects.get().fee == 65


def test_adding_a_line_with_htmx_returns_the_option_card_alone(case, coordinator_client, procedures):
    option = case.options.get()
    prefix = f"add-{option.public_id.hex[:8]}"
    response = coordinator_client.post(
        reverse("plans:line_add", args=[case.public_id, option.public_id]),
        {
            f"{prefix}-procedure": str(procedures["crown"].public_id),
            f"{prefix}-tooth": "26",
            f"{prefix}-quantity": "1",
            f"{prefix}-phase": "1",
        },
        headers={"HX-Request": "true"},
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert page.lstrip().startswith("<section") or '<section id="option-' in page
    assert "<html" not in page
    assert "$1,650.00" in page


def test_marking_an_option_recommended_and_no_pack_from_the_page(case, coordinator, coordinator_client):
    second = option_add(case=case, title="Option B: bridge", by=coordinator)
    coordinator_client.post(reverse("plans:option_recommend", args=[case.public_id, second.public_id]))
    second.refresh_from_db()
    assert second.is_recommended
    response = coordinator_client.post(reverse("plans:no_pack", args=[case.public_id]), {"reason": ""})
    assert "Choose why this case needs no treatment pack." in response.content.decode()
    coordinator_client.post(reverse("plans:no_pack", args=[case.public_id]), {"reason": "no_new_information"})
    case.refresh_from_db()
    assert not case.pack_needed


def test_the_case_page_query_count_does_not_grow_with_options_and_lines(
    case, coordinator, coordinator_client, procedures, django_assert_max_num_queries
):
    coordinator_client.get(detail_url(case))  # the session's first write happens here
    option = case.options.get()
    line_add(option=option, data=LineInput(procedure=procedures["exam"]), by=coordinator)
    # The page draws the plan, the pack panel, where the case stands, appointments, the checklist and
    # the whole timeline: a fixed number of statements each.
    with django_assert_max_num_queries(55) as small:
        coordinator_client.get(detail_url(case))
    for _ in range(3):
        extra = option_add(case=case, by=coordinator)
        for tooth in ("16", "26", "36"):
            line_add(option=extra, data=LineInput(procedure=procedures["crown"], tooth=tooth), by=coordinator)
    with django_assert_max_num_queries(len(small.captured_queries)):
        coordinator_client.get(detail_url(case))


def test_the_patient_page_query_count_does_not_grow_with_cases(
    case, patient, dentist, coordinator, coordinator_client, django_assert_max_num_queries
):
    from clearplan.plans.services import case_create

    url = reverse("patients:detail", args=[patient.public_id])
    coordinator_client.get(url)
    with django_assert_max_num_queries(40) as one:
        coordinator_client.get(url)
    for day in (1, 2, 3):
        case_create(
            patient=patient,
            dentist=dentist,
            coordinator=None,
            conversation_date=date(2025, 10, day),
            plan_type="elective",
            key_points="",
            by=coordinator,
        )
    with django_assert_max_num_queries(len(one.captured_queries)):
        response = coordinator_client.get(url)
    assert response.content.decode().count(reverse("plans:detail", args=[case.public_id])[:7]) >= 4
