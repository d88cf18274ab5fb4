"""A coordinator composes a two-option implant pack from a template, with three key images, previews
it at phone width and marks it ready to send.

Clicks and fields are counted by the `Steps` helper. The core path (patient → template → plan →
preview → ready) must take at most 12 clicks. Uploading and choosing the three images is counted
separately and not held to that budget: it depends on how many pictures there are, and the
picture work (drawing markup included) has its own test in test_case_images.py; here one image's
markup is stored directly so the preview shows an overlay.
"""

from __future__ import annotations

import datetime
import io
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from django.test.signals import setting_changed
from PIL import Image, ImageDraw
from playwright.sync_api import Locator, Page, expect

from clearplan.catalog.models import Fee, FeeSchedule, PackTemplate, Procedure
from clearplan.patients.tests.factories import PatientFactory
from clearplan.plans.models import Case, CaseImage
from tests.browser.conftest import axe_violations, describe_violations, screenshot_path

CORE_CLICK_BUDGET = 12


@pytest.fixture(autouse=True)
def _tasks_run_at_once(settings):
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend", "QUEUES": ["default", "email"]}
    }
    setting_changed.send(sender=None, setting="TASKS", value=settings.TASKS, enter=True)


@dataclass
class Steps:
    """Clicks and fields touched, kept apart for the core path and the image work."""

    page: Page
    part: str = "core"
    clicks: dict[str, int] = field(default_factory=lambda: {"core": 0, "images": 0})
    fields: dict[str, int] = field(default_factory=lambda: {"core": 0, "images": 0})

    def click(self, locator: Locator) -> None:
        locator.click()
        self.clicks[self.part] += 1

    def fill(self, locator: Locator, value: str) -> None:
        locator.fill(value)
        self.fields[self.part] += 1


def _picture(colour: tuple[int, int, int]) -> bytes:
    image = Image.new("RGB", (800, 600), (235, 225, 215))
    ImageDraw.Draw(image).ellipse((250, 150, 550, 450), fill=colour)
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


@pytest.fixture
def implant_template(organisation, clinic):
    schedule = FeeSchedule.objects.create(clinic=clinic, name="Standard", is_default=True)

    def item(code, name, area, minutes, fee, explanation):
        procedure = Procedure.objects.create(
            organisation=organisation,
            code=code,
            name=name,
            category="implant" if code.startswith("68") else "prosthodontic",
            treatment_area=area,
            default_chair_minutes=minutes,
            patient_explanation=explanation,
        )
        Fee.objects.create(
            schedule=schedule, procedure=procedure, amount=Decimal(fee), effective_from=datetime.date(2025, 1, 1)
        )

    item("014", "Consultation", "whole_mouth", 30, "95.00", "A talk through your options and any questions.")
    item("684", "Implant placement", "tooth", 90, "3200.00", "A small titanium post is placed in the jaw bone.")
    item("661", "Crown on an implant", "tooth", 60, "2100.00", "A tooth-coloured crown is fixed to the implant.")
    item("643", "Bridge crown", "tooth", 90, "1500.00", "The teeth either side are crowned to hold the bridge.")
    item("642", "Bridge tooth", "tooth", 30, "1100.00", "The false tooth that fills the gap.")
    return PackTemplate.objects.create(
        organisation=organisation,
        name="Implant",
        plan_type="both",
        treatments="implant, missing tooth, gap",
        cover_message="Hi {patient_first_name},\n\nThank you for talking with {dentist_name} about the gap.",
        what_we_found="There is a gap where a tooth is missing.",
        your_options_intro="{dentist_name} has marked the option we recommend.",
        costs_intro="Our fees for each option.",
        next_steps="Call {clinic_phone} to book.",
        questions=[{"question": "Does an implant hurt?", "answer": "The area is numbed first."}],
        aftercare="Eat soft food for a few days.",
        sending_script="I've just sent you your treatment pack.",
        default_options=[
            {
                "title": "Option A: implant",
                "recommended": True,
                "kind": "treatment",
                "lines": [{"code": "014"}, {"code": "684"}, {"code": "661", "phase": 2}],
            },
            {
                "title": "Option B: bridge",
                "recommended": False,
                "kind": "treatment",
                "lines": [{"code": "643", "quantity": 2}, {"code": "642"}],
            },
        ],
    )


def test_a_coordinator_builds_a_two_option_implant_pack_and_previews_it_at_phone_width(
    page, sign_in_as, coordinator, dentist, clinic, implant_template, check_page, check_accessibility
):
    clinic.phone = "+61298765432"
    clinic.save()
    patient = PatientFactory(clinic=clinic, first_name="Aroha", last_name="Ngata", primary_dentist=dentist)
    sign_in_as(coordinator)
    steps = Steps(page)
    page.goto(f"/patients/{patient.public_id}/")

    steps.click(page.get_by_role("link", name="New pack"))
    expect(page.get_by_role("heading", level=1)).to_have_text("New pack for Aroha Ngata")
    check_page(page, "composer-template")
    steps.click(page.get_by_text("Implant", exact=True))
    steps.click(page.get_by_role("button", name="Start the plan"))

    expect(page.get_by_role("heading", level=1)).to_have_text("Plan the options")
    case = Case.objects.get(patient=patient)
    assert case.dentist == dentist
    steps.fill(page.locator(".composer-suggestions").nth(0).get_by_label("Tooth", exact=True), "36")
    steps.click(page.get_by_role("button", name="Add to Option A: implant").first)
    expect(page.get_by_role("heading", name="Suggested for Option A: implant")).to_have_count(0)
    steps.fill(page.locator(".composer-suggestions").nth(0).get_by_label("Tooth", exact=True), "46")
    steps.click(page.get_by_role("button", name="Add to Option B: bridge").first)
    expect(page.locator(".composer-suggestions")).to_have_count(0)
    check_page(page, "composer-plan")
    steps.click(page.get_by_role("link", name="Next: images"))

    expect(page.get_by_role("heading", level=1)).to_have_text("Choose the images")
    steps.part = "images"
    page.get_by_label("Pictures", exact=True).set_input_files(
        [
            {"name": f"photo-{n}.jpg", "mimeType": "image/jpeg", "buffer": _picture(colour)}
            for n, colour in enumerate([(200, 60, 60), (60, 160, 90), (70, 90, 200)], start=1)
        ]
    )
    steps.fields["images"] += 1
    steps.fill(page.get_by_label("Caption"), "The gap, lower left")
    steps.click(page.get_by_role("button", name="Upload"))
    expect(page.get_by_text("3 pictures uploaded.")).to_be_visible()
    images = list(CaseImage.objects.filter(case=case).order_by("uploaded_at", "pk"))
    for number, image in enumerate(images, start=1):
        steps.click(page.locator(f"#key-{image.public_id}"))
        steps.fill(page.locator(f"#order-{image.public_id}"), str(number))
    steps.click(page.get_by_role("button", name="Save pack images"))
    expect(page.get_by_text("3 pictures chosen for the pack.")).to_be_visible()
    CaseImage.objects.filter(pk=images[0].pk).update(
        markup=[{"type": "circle", "colour": "yellow", "cx": 0.5, "cy": 0.5, "rx": 0.2, "ry": 0.25}]
    )
    check_page(page, "composer-images")
    steps.part = "core"
    steps.click(page.get_by_role("link", name="Next: preview"))

    expect(page.get_by_role("heading", level=1)).to_have_text("Preview the pack")
    phone = page.locator(".composer-preview__phone")
    box = phone.bounding_box()
    assert box is not None
    assert box["width"] <= 390
    expect(phone.get_by_text("Hi Aroha,")).to_be_visible()
    expect(phone.get_by_text("Recommended by")).to_be_visible()
    expect(phone.locator(".pack-image")).to_have_count(3)
    expect(phone.locator(".pack-image svg ellipse")).to_have_count(1)
    # Option A: 95 + 3,200 + 2,100; option B: 2 × 1,500 + 1,100.
    expect(phone.locator(".pack-costs")).to_contain_text("$5,395.00")
    expect(phone.locator(".pack-costs")).to_contain_text("$4,100.00")
    check_page(page, "composer-preview")
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=screenshot_path("composer-preview", 390), full_page=True)
    check_accessibility(page, "the preview at 390 px")
    page.set_viewport_size({"width": 1280, "height": 900})

    steps.click(page.get_by_role("button", name="Ready to send"))
    expect(page.get_by_text("The pack is ready to send.")).to_be_visible()
    case.refresh_from_db()
    assert case.ready_at is not None
    assert case.ready_by == coordinator

    print(
        f"\nComposer core path: {steps.clicks['core']} clicks, {steps.fields['core']} fields; "
        f"images: {steps.clicks['images']} clicks, {steps.fields['images']} fields"
    )
    assert steps.clicks["core"] <= CORE_CLICK_BUDGET
    assert steps.fields["core"] == 2


def test_the_full_width_pack_page_is_accessible_on_a_phone(
    page, sign_in_as, coordinator, dentist, clinic, implant_template
):
    from clearplan.plans.composer import case_create_from_template

    patient = PatientFactory(clinic=clinic, first_name="Sione", last_name="Tupou")
    case = case_create_from_template(
        patient=patient,
        template=implant_template,
        dentist=dentist,
        coordinator=coordinator,
        conversation_date=datetime.date(2025, 9, 15),
        by=coordinator,
    ).case
    sign_in_as(coordinator)
    page.set_viewport_size({"width": 320, "height": 800})
    page.goto(f"/cases/{case.public_id}/compose/pack/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Your treatment pack")
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    page.screenshot(path=screenshot_path("pack-page", 320), full_page=True)
    violations = axe_violations(page)
    assert not violations, describe_violations(violations)
