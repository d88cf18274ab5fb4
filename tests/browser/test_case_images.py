"""A coordinator uploads three pictures to a case, circles what matters on each and chooses them for the pack."""

from __future__ import annotations

import datetime
import io

import pytest
from django.test.signals import setting_changed
from PIL import Image, ImageDraw
from playwright.sync_api import expect

from clearplan.patients.tests.factories import PatientFactory
from clearplan.plans.models import Case, CaseImage, PlanType
from tests.browser.conftest import axe_violations, describe_violations, screenshot_path


@pytest.fixture(autouse=True)
def _tasks_run_at_once(settings):
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend", "QUEUES": ["default", "email"]}
    }
    setting_changed.send(sender=None, setting="TASKS", value=settings.TASKS, enter=True)


def _picture(colour: tuple[int, int, int]) -> bytes:
    image = Image.new("RGB", (800, 600), (235, 225, 215))
    draw = ImageDraw.Draw(image)
    draw.ellipse((250, 150, 550, 450), fill=colour)
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def test_upload_mark_up_and_choose_three_key_images(page, sign_in_as, coordinator, dentist, clinic, check_page):
    patient = PatientFactory(clinic=clinic, first_name="Aroha", last_name="Ngata")
    case = Case.objects.create(
        clinic=clinic,
        patient=patient,
        dentist=dentist,
        coordinator=coordinator,
        conversation_date=datetime.date(2025, 3, 4),
        plan_type=PlanType.ORAL_HEALTH,
        created_by=coordinator,
    )
    sign_in_as(coordinator)
    page.goto(f"/cases/{case.public_id}/images/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Images for Aroha Ngata")

    page.get_by_label("Pictures", exact=True).set_input_files(
        [
            {"name": f"photo-{n}.jpg", "mimeType": "image/jpeg", "buffer": _picture(colour)}
            for n, colour in enumerate([(200, 60, 60), (60, 160, 90), (70, 90, 200)], start=1)
        ]
    )
    page.get_by_label("Caption").fill("Upper teeth")
    page.get_by_role("button", name="Upload").click()

    expect(page.get_by_text("3 pictures uploaded.")).to_be_visible()
    expect(page.get_by_role("link", name="Caption and markup")).to_have_count(3)
    assert CaseImage.objects.filter(case=case, processing="ready").count() == 3
    check_page(page, "case-images-uploaded")

    for number in range(3):
        page.get_by_role("link", name="Caption and markup").nth(number).click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Caption and markup")
        page.get_by_role("button", name="Circle").click()
        page.get_by_role("button", name="Yellow").click()
        canvas = page.locator(".markup-canvas")
        box = canvas.bounding_box()
        assert box is not None
        page.mouse.move(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.25)
        page.mouse.down()
        page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.5, steps=5)
        page.mouse.move(box["x"] + box["width"] * 0.7, box["y"] + box["height"] * 0.75, steps=5)
        page.mouse.up()
        expect(page.get_by_text("Marked with 1 circle (not saved")).to_be_visible()
        if number == 0:
            check_page(page, "case-image-markup-editor")
        page.get_by_role("button", name="Save markup").click()
        expect(page.get_by_text("Markup saved. The picture itself is unchanged.")).to_be_visible()
        expect(page.locator(".markup-canvas ellipse")).to_have_count(1)
        page.get_by_role("textbox", name="Caption").fill(f"Upper teeth, view {number + 1}")
        page.get_by_role("button", name="Save caption").click()
        expect(page.get_by_text("Caption saved.")).to_be_visible()
        page.get_by_role("link", name="Images for Aroha Ngata").click()

    images = list(CaseImage.objects.filter(case=case).order_by("uploaded_at", "pk"))
    for image in images:
        assert len(image.markup) == 1
        shape = image.markup[0]
        assert shape["type"] == "circle"
        assert shape["colour"] == "yellow"
        assert 0.45 < shape["cx"] < 0.55
        assert 0.15 < shape["rx"] < 0.25

    for number, image in enumerate(reversed(images), start=1):
        page.locator(f"#key-{image.public_id}").check()
        page.locator(f"#order-{image.public_id}").fill(str(number))
    page.get_by_role("button", name="Save pack images").click()

    expect(page.get_by_text("3 pictures chosen for the pack.")).to_be_visible()
    expect(page.get_by_text("Key image 3")).to_be_visible()
    expect(page.get_by_text("Upper teeth, view 3", exact=True)).to_be_visible()
    key_order = list(
        CaseImage.objects.filter(case=case, is_key=True).order_by("key_order").values_list("pk", flat=True)
    )
    assert key_order == [image.pk for image in reversed(images)]
    expect(page.locator(".case-images__grid svg ellipse")).to_have_count(3)
    check_page(page, "case-images-key-chosen")

    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=screenshot_path("case-images-key-chosen", 390), full_page=True)
    violations = axe_violations(page)
    assert not violations, describe_violations(violations)
