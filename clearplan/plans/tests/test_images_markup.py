"""Markup over case images: what the server accepts, how it is drawn, and that the picture is untouched."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from clearplan.plans.image_markup import MAX_SHAPES, markup_svg, parse_markup
from clearplan.plans.models import CaseImage
from clearplan.plans.tests.test_images import _ready_image
from clearplan.plans.tests.test_images import _tasks_run_at_once as _tasks_run_at_once
from clearplan.plans.tests.test_images import case as _case_fixture  # noqa: F401

ARROW = {"type": "arrow", "x1": 0.1, "y1": 0.1, "x2": 0.5, "y2": 0.5, "colour": "red"}
CIRCLE = {"type": "circle", "cx": 0.5, "cy": 0.5, "rx": 0.2, "ry": 0.1, "colour": "yellow"}
BOX = {"type": "box", "x": 0.2, "y": 0.3, "w": 0.4, "h": 0.3, "colour": "white"}


def test_arrows_circles_and_boxes_in_the_palette_are_accepted():
    assert parse_markup(json.dumps([ARROW, CIRCLE, BOX])) == [ARROW, CIRCLE, BOX]


@pytest.mark.parametrize(
    ("markup", "message"),
    [
        ("not json", "couldn't be read"),
        ('{"type": "arrow"}', "couldn't be read"),
        (json.dumps([{**ARROW, "type": "text"}]), "Only arrows, circles and boxes"),
        (json.dumps([{**ARROW, "colour": "#123456"}]), "Marks can only be drawn in red, yellow"),
        (json.dumps([{**ARROW, "x2": 1.5}]), "goes outside the picture"),
        (json.dumps([{**ARROW, "x2": -0.1}]), "goes outside the picture"),
        (json.dumps([{**BOX, "x": 0.8, "w": 0.5}]), "goes outside the picture"),
        (json.dumps([{**ARROW, "x2": "0.5"}]), "couldn't be read"),
        (json.dumps([{**ARROW, "x2": True}]), "couldn't be read"),
        (json.dumps([{**ARROW, "onclick": "alert(1)"}]), "couldn't be read"),
        (json.dumps([ARROW] * (MAX_SHAPES + 1)), f"at most {MAX_SHAPES} marks"),
        ('[{"type": "arrow", "x1": NaN, "y1": 0, "x2": 0, "y2": 0, "colour": "red"}]', "couldn't be read"),
    ],
)
def test_anything_the_editor_cannot_draw_is_refused_with_a_clear_message(markup, message):
    with pytest.raises(ValidationError) as refused:
        parse_markup(markup)
    assert message in " ".join(refused.value.messages)


def test_the_overlay_is_drawn_with_attributes_only_never_inline_styles():
    svg = markup_svg([ARROW, CIRCLE, BOX], width=1000, height=500)
    assert "style=" not in svg
    assert 'viewBox="0 0 1000 500"' in svg
    assert '<ellipse cx="500.0" cy="250.0" rx="200.0" ry="50.0"' in svg
    assert '<rect x="200.0" y="150.0" width="400.0" height="150.0"' in svg
    assert 'stroke="#e11d48"' in svg


def test_saving_markup_keeps_the_original_file_untouched_and_shows_the_marks(
    coordinator_client, case, django_capture_on_commit_callbacks
):
    image = _ready_image(coordinator_client, case, django_capture_on_commit_callbacks)
    before = hashlib.sha256(Path(image.original.path).read_bytes()).hexdigest()

    response = coordinator_client.post(
        reverse("plans:image_markup", kwargs={"image_id": image.public_id}),
        {"markup": json.dumps([CIRCLE, ARROW])},
        follow=True,
    )

    image.refresh_from_db()
    assert image.markup == [CIRCLE, ARROW]
    assert hashlib.sha256(Path(image.original.path).read_bytes()).hexdigest() == before == image.original_sha256
    page = response.content.decode()
    assert "Markup saved" in page
    assert "<ellipse" in page
    assert "marked with 1 circle and 1 arrow" in page
    listing = coordinator_client.get(reverse("plans:case_images", kwargs={"case_id": case.public_id}))
    assert "<ellipse" in listing.content.decode()


def test_refused_markup_is_explained_and_the_saved_marks_stay(
    coordinator_client, case, django_capture_on_commit_callbacks
):
    image = _ready_image(coordinator_client, case, django_capture_on_commit_callbacks)
    CaseImage.objects.filter(pk=image.pk).update(markup=[BOX])

    response = coordinator_client.post(
        reverse("plans:image_markup", kwargs={"image_id": image.public_id}),
        {"markup": json.dumps([{**ARROW, "colour": "purple"}])},
    )

    assert response.status_code == 400
    assert "Marks can only be drawn in" in response.content.decode()
    image.refresh_from_db()
    assert image.markup == [BOX]


def test_the_editor_explains_drawing_needs_javascript_and_still_shows_the_marks(
    coordinator_client, case, django_capture_on_commit_callbacks
):
    image = _ready_image(coordinator_client, case, django_capture_on_commit_callbacks)
    CaseImage.objects.filter(pk=image.pk).update(markup=[BOX])

    page = coordinator_client.get(reverse("plans:image_edit", kwargs={"image_id": image.public_id})).content.decode()

    assert "Drawing arrows, circles and boxes needs JavaScript" in page
    assert "<rect" in page
    assert 'name="caption"' in page
