"""The composer: a case from a template, suggested procedures placed on a tooth, the pack preview
and "Ready to send"."""

from __future__ import annotations

import html
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from clearplan.audit.models import AuditEvent
from clearplan.catalog.models import EducationItem, PackTemplate
from clearplan.plans import composer
from clearplan.plans.models import Case, CaseImage, PlanOption


@pytest.fixture
def template(organisation, procedures, standard):
    return PackTemplate.objects.create(
        organisation=organisation,
        name="Crown or denture",
        plan_type="oral_health",
        treatments="crown, cracked tooth",
        cover_message=(
            "Hi {patient_first_name},\n\n{dentist_name} has put this together. Call {clinic_name} on {clinic_phone}."
        ),
        what_we_found="A crack in the tooth {dentist_name} showed you.",
        your_options_intro="Here are your options.",
        costs_intro="Our fees for each option.",
        next_steps="Book the first visit.",
        questions=[{"question": "Does it hurt, {patient_first_name}?", "answer": "Very little."}],
        aftercare="Brush gently.",
        sending_script="I've sent your pack.",
        default_options=[
            {
                "title": "Option A: crown",
                "recommended": True,
                "kind": "treatment",
                "lines": [
                    {"code": "011", "quantity": 1, "phase": 1},
                    {"code": "615", "quantity": 1, "phase": 2},
                    {"code": "888", "quantity": 1, "phase": 1},
                ],
            },
            {"title": "Option B: denture", "recommended": False, "kind": "treatment", "lines": [{"code": "711"}]},
            {"title": "No treatment — what to expect", "kind": "no_treatment"},
        ],
    )


def _start(client, patient, template, dentist, **extra):
    data = {
        "template": str(template.public_id),
        "dentist": dentist.pk,
        "coordinator": "",
        "conversation_date": "2025-09-15",
        **extra,
    }
    return client.post(reverse("plans:compose_template", args=[patient.public_id]), data)


def _options(case):
    return list(case.options.order_by("position"))


def test_a_case_from_a_template_has_its_options_and_the_lines_that_need_no_tooth(
    coordinator_client, patient, template, dentist, procedures
):
    response = _start(coordinator_client, patient, template, dentist)

    case = Case.objects.get(patient=patient)
    assert response.status_code == 302
    assert response["Location"] == reverse("plans:compose_plan", args=[case.public_id])
    assert case.template == template
    assert case.plan_type == "oral_health"
    options = _options(case)
    assert [option.title for option in options] == [
        "Option A: crown",
        "Option B: denture",
        "No treatment — what to expect",
    ]
    assert [option.is_recommended for option in options] == [True, False, False]
    assert options[2].kind == PlanOption.Kind.NO_TREATMENT
    # The examination is for the whole mouth, so it is added with its fee from the Standard schedule.
    crown_lines = list(options[0].lines.all())
    assert [(line.procedure.code, line.fee, line.phase) for line in crown_lines] == [("011", Decimal("65.00"), 1)]
    # The crown and the denture need a tooth or an arch: they wait as suggestions.
    assert not options[1].lines.exists()
    suggestions = composer.suggestions_for(case, options)
    assert [s.procedure.code for s in suggestions[options[0].pk]] == ["615"]
    assert [s.procedure.code for s in suggestions[options[1].pk]] == ["711"]


def test_a_code_missing_from_the_catalogue_is_left_out_with_a_note(
    coordinator_client, patient, template, dentist, procedures
):
    response = _start(coordinator_client, patient, template, dentist)

    page = coordinator_client.get(response["Location"]).content.decode()
    assert "Item 888 in “Option A: crown” is not in this practice&#x27;s current catalogue" in page
    case = Case.objects.get(patient=patient)
    event = AuditEvent.objects.filter(object_id=str(case.public_id), changes__has_key="template").get()
    assert event.changes["template"] == [None, "Crown or denture"]
    assert "888" in event.changes["left_out"][1][0]


def test_the_template_step_defaults_to_the_patients_dentist_and_today(coordinator_client, patient, dentist, template):
    patient.primary_dentist = dentist
    patient.save()

    page = coordinator_client.get(reverse("plans:compose_template", args=[patient.public_id])).content.decode()

    assert f'<option value="{dentist.pk}" selected>' in page
    assert "Crown or denture" in page
    assert "crown, cracked tooth" in page
    assert 'aria-current="step"' in page


def test_a_tooth_adds_the_suggested_procedures_and_they_stop_being_suggested(
    coordinator_client, patient, template, dentist, procedures
):
    _start(coordinator_client, patient, template, dentist)
    case = Case.objects.get(patient=patient)
    option = _options(case)[0]
    prefix = f"suggest-{option.public_id.hex[:8]}"

    response = coordinator_client.post(
        reverse("plans:compose_add_suggestions", args=[case.public_id, option.public_id]),
        {f"{prefix}-tooth": "26", f"{prefix}-pick-1": "on"},
    )

    assert response.status_code == 302
    crown = option.lines.get(procedure__code="615")
    assert (crown.tooth, crown.phase, crown.fee) == (26, 2, Decimal("1650.00"))
    assert option.pk not in composer.suggestions_for(case, _options(case))


def test_a_wrong_tooth_is_refused_at_the_field_and_nothing_is_added(
    coordinator_client, patient, template, dentist, procedures
):
    _start(coordinator_client, patient, template, dentist)
    case = Case.objects.get(patient=patient)
    option = _options(case)[0]
    prefix = f"suggest-{option.public_id.hex[:8]}"

    response = coordinator_client.post(
        reverse("plans:compose_add_suggestions", args=[case.public_id, option.public_id]),
        {f"{prefix}-tooth": "19", f"{prefix}-pick-1": "on"},
    )

    assert response.status_code == 400
    page = response.content.decode()
    assert "Nothing was added" in page
    assert f'id="{prefix}-tooth"' in page
    assert 'aria-invalid="true"' in page
    assert not option.lines.filter(procedure__code="615").exists()


def _key_image(case, user, order, caption):
    return CaseImage.objects.create(
        case=case,
        kind="photo",
        source_format="PNG",
        original=f"case-images/x/{order}.png",
        original_sha256="0" * 64,
        width=300,
        height=200,
        processing="ready",
        caption=caption,
        markup=[{"type": "circle", "cx": 0.5, "cy": 0.5, "rx": 0.1, "ry": 0.1, "colour": "red"}] if order == 1 else [],
        is_key=True,
        key_order=order,
        uploaded_by=user,
    )


@pytest.fixture
def composed(coordinator, patient, template, dentist, procedures):
    result = composer.case_create_from_template(
        patient=patient,
        template=template,
        dentist=dentist,
        coordinator=coordinator,
        conversation_date=date(2025, 9, 15),
        by=coordinator,
    )
    case = result.case
    option = _options(case)[0]
    picks = [
        composer.SuggestionPick(suggestion=s, tooth="26") for s in composer.suggestions_for(case, [option])[option.pk]
    ]
    composer.option_add_suggestions(option=option, picks=picks, by=coordinator)
    return case


def test_the_preview_fills_in_placeholders_for_this_patient(coordinator_client, composed, clinic, dentist):
    clinic.phone = "+61298765432"
    clinic.save()

    page = html.unescape(
        coordinator_client.get(reverse("plans:compose_preview", args=[composed.public_id])).content.decode()
    )

    assert f"Hi {composed.patient.first_name}," in page
    assert f"{dentist.display_name} has put this together. Call {clinic.name} on (02) 9876 5432." in page
    assert f"Does it hurt, {composed.patient.first_name}?" in page
    assert "{patient_first_name}" not in page
    assert "{dentist_name}" not in page


def test_the_preview_shows_the_recommended_option_totals_and_key_images_in_order(
    coordinator_client, composed, coordinator, procedures
):
    EducationItem.objects.create(
        organisation=composed.clinic.organisation,
        procedure=procedures["crown"],
        title="What a crown is",
        body="A cap over the whole tooth.",
    )
    second = _key_image(composed, coordinator, 2, "The cracked tooth from the side")
    first = _key_image(composed, coordinator, 1, "The crack, circled")
    CaseImage.objects.create(
        case=composed,
        kind="photo",
        source_format="PNG",
        original="case-images/x/not-key.png",
        original_sha256="0" * 64,
        width=10,
        height=10,
        processing="ready",
        caption="Not for the pack",
        uploaded_by=coordinator,
    )

    page = html.unescape(
        coordinator_client.get(reverse("plans:compose_preview", args=[composed.public_id])).content.decode()
    )

    assert "Recommended by" in page
    assert page.index("Option A: crown") < page.index("Recommended by") < page.index("Option B: denture")
    # 65.00 examination + 1,650.00 crown.
    assert "$1,715.00" in page
    assert "Step 1: $65.00" in page
    assert "Step 2: $1,650.00" in page
    assert page.index(str(first.public_id)) < page.index(str(second.public_id))
    assert "Not for the pack" not in page
    assert 'class="image-markup"' in page
    assert "What a crown is" in page
    assert "A cap over the whole tooth." in page
    assert "Insurance and payment options" in page
    assert "Caring for your teeth afterwards" in page


def test_ready_to_send_is_recorded_and_audited_and_editing_stays_possible(coordinator_client, composed, coordinator):
    option_b = _options(composed)[1]
    option_b.delete()  # Option B has no procedures yet; the pack could not be ready with it.

    response = coordinator_client.post(reverse("plans:compose_ready", args=[composed.public_id]))

    assert response.status_code == 302
    composed.refresh_from_db()
    assert composed.ready_at is not None
    assert composed.ready_by == coordinator
    assert AuditEvent.objects.filter(object_id=str(composed.public_id), changes__has_key="ready_to_send").exists()
    page = coordinator_client.get(response["Location"]).content.decode()
    assert "Ready to send" in page
    # Still editable until it is sent.
    option = _options(composed)[0]
    edit = coordinator_client.post(
        reverse("plans:option_edit", args=[composed.public_id, option.public_id]), {"title": "Crown", "summary": ""}
    )
    assert edit.status_code == 302


def test_ready_to_send_is_refused_while_an_option_has_no_procedures(coordinator_client, composed):
    response = coordinator_client.post(reverse("plans:compose_ready", args=[composed.public_id]), follow=True)

    composed.refresh_from_db()
    assert composed.ready_at is None
    assert "Add procedures to “Option B: denture”" in html.unescape(response.content.decode())


@pytest.mark.parametrize("step", ["compose_plan", "compose_images", "compose_preview", "compose_pack_page"])
def test_composer_pages_are_audited_views_of_the_case(coordinator_client, composed, step):
    before = AuditEvent.objects.filter(action=AuditEvent.Action.VIEW, object_id=str(composed.public_id)).count()

    response = coordinator_client.get(reverse(f"plans:{step}", args=[composed.public_id]))

    assert response.status_code == 200
    after = AuditEvent.objects.filter(action=AuditEvent.Action.VIEW, object_id=str(composed.public_id)).count()
    assert after == before + 1


@pytest.mark.parametrize("step", ["compose_plan", "compose_images", "compose_preview", "compose_pack_page"])
def test_another_clinics_staff_get_not_found(outsider_client, composed, step):
    assert outsider_client.get(reverse(f"plans:{step}", args=[composed.public_id])).status_code == 404


def test_another_clinics_staff_cannot_mark_ready_or_start_a_pack(outsider_client, composed, template, dentist):
    assert outsider_client.post(reverse("plans:compose_ready", args=[composed.public_id])).status_code == 404
    assert _start(outsider_client, composed.patient, template, dentist).status_code == 404
    composed.refresh_from_db()
    assert composed.ready_at is None


def test_signed_out_visitors_are_sent_to_sign_in(client, composed):
    response = client.get(reverse("plans:compose_preview", args=[composed.public_id]))
    assert response.status_code == 302
    assert "login" in response["Location"]


def test_new_pack_from_today_finds_the_patient_without_putting_the_name_in_an_address(coordinator_client, patient):
    page = coordinator_client.get(reverse("pipeline:today")).content.decode()
    assert reverse("plans:compose_start") in page

    response = coordinator_client.post(reverse("plans:compose_start"), {"q": "Ngata"})

    assert response.status_code == 200
    assert reverse("plans:compose_template", args=[patient.public_id]) in response.content.decode()
    assert "Ngata" not in reverse("plans:compose_start")


def test_the_patient_page_offers_a_new_pack(coordinator_client, patient):
    page = coordinator_client.get(reverse("patients:detail", args=[patient.public_id])).content.decode()
    assert reverse("plans:compose_template", args=[patient.public_id]) in page


def test_the_brand_stylesheet_carries_the_clinics_colour_and_a_readable_text_colour(client, clinic):
    clinic.brand_colour = "#F5D90A"
    clinic.save()

    response = client.get(reverse("plans:compose_brand_css", args=[clinic.public_id]))

    assert response["Content-Type"].startswith("text/css")
    assert "--pack-brand: #F5D90A; --pack-on-brand: #111111;" in response.content.decode()
    assert composer.readable_text_colour("#1F6F78") == "#ffffff"
