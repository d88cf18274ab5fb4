"""A case ready to send: made from a template (crown or denture, and no treatment), a crown on
tooth 26 and two key images with real files, for a patient with a mobile and an email address."""

from __future__ import annotations

import io
from datetime import date

import pytest
from django.core.files.base import ContentFile
from PIL import Image

from clearplan.catalog.models import PackTemplate
from clearplan.plans import composer
from clearplan.plans.models import CaseImage
from clearplan.plans.tests.conftest import patient, procedures, standard  # noqa: F401  (fixtures)


def png_bytes(colour: tuple[int, int, int] = (40, 120, 200), size: tuple[int, int] = (300, 200)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
def template(organisation, procedures, standard):  # noqa: F811
    return PackTemplate.objects.create(
        organisation=organisation,
        name="Crown or denture",
        plan_type="oral_health",
        treatments="crown, cracked tooth",
        cover_message="Hi {patient_first_name},\n\n{dentist_name} has put this together for you.",
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
                "lines": [{"code": "011", "quantity": 1, "phase": 1}, {"code": "615", "quantity": 1, "phase": 2}],
            },
            {"title": "Option B: denture", "recommended": False, "kind": "treatment", "lines": [{"code": "711"}]},
            {"title": "No treatment — what to expect", "kind": "no_treatment"},
        ],
    )


def add_key_image(case, user, order: int, caption: str, colour=(40, 120, 200)) -> CaseImage:
    image = CaseImage(
        case=case,
        kind="xray" if order == 1 else "photo",
        source_format="PNG",
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
    content = png_bytes(colour)
    image.original.save("original.png", ContentFile(content), save=False)
    for size in ("thumb", "medium", "large"):
        getattr(image, size).save(f"{size}.png", ContentFile(content), save=False)
    image.save()
    return image


@pytest.fixture
def sendable_case(coordinator, patient, template, dentist, procedures):  # noqa: F811
    patient.mobile = "+61412345678"
    patient.email = "mere.ngata@example.com"
    patient.consent_sms = True
    patient.consent_email = True
    patient.save()
    case = composer.case_create_from_template(
        patient=patient,
        template=template,
        dentist=dentist,
        coordinator=coordinator,
        conversation_date=date(2025, 9, 15),
        by=coordinator,
    ).case
    crown_option = case.options.get(title="Option A: crown")
    picks = [
        composer.SuggestionPick(suggestion=suggestion, tooth="26")
        for suggestion in composer.suggestions_for(case, [crown_option])[crown_option.pk]
    ]
    composer.option_add_suggestions(option=crown_option, picks=picks, by=coordinator)
    denture_option = case.options.get(title="Option B: denture")
    picks = [
        composer.SuggestionPick(suggestion=suggestion, area="upper")
        for suggestion in composer.suggestions_for(case, [denture_option])[denture_option.pk]
    ]
    composer.option_add_suggestions(option=denture_option, picks=picks, by=coordinator)
    add_key_image(case, coordinator, 1, "The cracked upper left molar")
    add_key_image(case, coordinator, 2, "Your smile today", colour=(200, 160, 120))
    return case
