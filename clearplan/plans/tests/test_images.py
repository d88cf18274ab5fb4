"""Case images as staff use them: uploading, what is refused, who can see them, captions,
choosing key images for the pack and deleting. Pictures are drawn in the tests."""

from __future__ import annotations

import datetime
import html
import io
from pathlib import Path

import numpy as np
import pytest
from django.urls import reverse
from PIL import ExifTags, Image

from clearplan.audit.models import AuditEvent
from clearplan.lib.tests.test_imaging import _dicom, _gradient, _png_declaring, _sideways_phone_jpeg
from clearplan.patients.tests.factories import PatientFactory
from clearplan.plans.image_services import FOURTH_IMAGE_QUESTION
from clearplan.plans.models import Case, CaseImage, PlanType

# Helpers


@pytest.fixture(autouse=True)
def _tasks_run_at_once(settings):
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend", "QUEUES": ["default", "email"]}
    }


@pytest.fixture
def case(clinic, dentist, coordinator):
    patient = PatientFactory(clinic=clinic, first_name="Jane", last_name="Citizen")
    return Case.objects.create(
        clinic=clinic,
        patient=patient,
        dentist=dentist,
        coordinator=coordinator,
        conversation_date=datetime.date(2025, 3, 4),
        plan_type=PlanType.ORAL_HEALTH,
        created_by=coordinator,
    )


def _upload(name: str, content: bytes) -> io.BytesIO:
    file = io.BytesIO(content)
    file.name = name
    return file


def _png(colour=(40, 120, 200), size=(300, 200)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="PNG")
    return buffer.getvalue()


def _file_url(image: CaseImage, size: str) -> str:
    return reverse("plans:image_file", kwargs={"image_id": image.public_id, "size": size})


def _page(response) -> str:
    return html.unescape(response.content.decode())


def _files_on_disk(settings) -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


def _post_upload(client, case, *files, kind="photo", caption="", django_capture_on_commit_callbacks=None):
    url = reverse("plans:image_upload", kwargs={"case_id": case.public_id})
    data = {"pictures": list(files), "kind": kind, "caption": caption}
    if django_capture_on_commit_callbacks is None:
        return client.post(url, data)
    with django_capture_on_commit_callbacks(execute=True):
        return client.post(url, data)


def _ready_image(client, case, capture, name="photo.png", content=None, caption="") -> CaseImage:
    response = _post_upload(
        client,
        case,
        _upload(name, content or _png()),
        caption=caption,
        django_capture_on_commit_callbacks=capture,
    )
    assert response.status_code == 302
    return CaseImage.objects.filter(case=case).latest("pk")


# Uploading


def test_a_phone_photo_is_kept_without_its_exif_and_gps(
    coordinator_client, case, settings, django_capture_on_commit_callbacks
):
    response = _post_upload(
        coordinator_client,
        case,
        _upload("IMG_2041.jpg", _sideways_phone_jpeg()),
        caption="Front teeth",
        django_capture_on_commit_callbacks=django_capture_on_commit_callbacks,
    )

    assert response.status_code == 302
    image = CaseImage.objects.get(case=case)
    assert (image.source_format, image.width, image.height, image.caption) == ("JPEG", 100, 200, "Front teeth")
    assert image.processing == CaseImage.Processing.READY
    stored = Path(image.original.path)
    assert stored.is_relative_to(Path(settings.MEDIA_ROOT))
    assert "IMG_2041" not in stored.name
    kept = Image.open(stored)
    assert len(kept.getexif()) == 0
    assert not kept.getexif().get_ifd(ExifTags.IFD.GPSInfo)
    assert b"PhoneMaker" not in stored.read_bytes()
    for size, longest in (("thumb", 200), ("medium", 200), ("large", 200)):
        derived = Image.open(getattr(image, size).path)
        assert derived.format == "WEBP"
        assert max(derived.size) == longest
    event = AuditEvent.objects.get(action=AuditEvent.Action.CREATE, object_type="case_image")
    assert event.object_id == str(image.public_id)


def test_a_dicom_xray_is_rendered_to_web_sizes_and_kept_byte_for_byte(
    coordinator_client, case, django_capture_on_commit_callbacks
):
    xray = _dicom(_gradient(columns=600, rows=400), elements={"WindowCenter": 300, "WindowWidth": 600})

    response = _post_upload(
        coordinator_client,
        case,
        _upload("bitewing.dcm", xray),
        kind="xray",
        django_capture_on_commit_callbacks=django_capture_on_commit_callbacks,
    )

    assert response.status_code == 302
    image = CaseImage.objects.get(case=case)
    assert (image.source_format, image.kind, image.processing) == ("DICOM", "xray", "ready")
    assert Path(image.original.path).read_bytes() == xray
    thumb = Image.open(image.thumb.path)
    assert thumb.format == "WEBP"
    assert thumb.size == (320, 213)
    # The left of the X-ray is dark and the right is light, as windowed.
    grey = thumb.convert("L")
    assert grey.getpixel((5, 100)) < 40
    assert grey.getpixel((315, 100)) > 215
    # The name in the file matches the patient, so no warning.
    follow = coordinator_client.get(response["Location"])
    assert "not Jane Citizen" not in follow.content.decode()


def test_a_dicom_xray_labelled_with_another_name_is_kept_with_a_warning(
    coordinator_client, case, django_capture_on_commit_callbacks
):
    xray = _dicom(_gradient(columns=64, rows=64), elements={"PatientName": "Smith^John"})

    response = _post_upload(
        coordinator_client,
        case,
        _upload("xray.dcm", xray),
        kind="xray",
        django_capture_on_commit_callbacks=django_capture_on_commit_callbacks,
    )

    page = coordinator_client.get(response["Location"]).content.decode()
    assert "labelled with the name “John Smith”, not Jane Citizen" in page
    assert CaseImage.objects.filter(case=case).count() == 1


def test_an_image_waiting_for_its_web_sizes_shows_as_being_prepared(coordinator_client, case):
    # No commit callbacks run here, so the background work has not happened yet.
    _post_upload(coordinator_client, case, _upload("photo.png", _png()))

    image = CaseImage.objects.get(case=case)
    assert image.processing == CaseImage.Processing.PENDING
    page = coordinator_client.get(reverse("plans:case_images", kwargs={"case_id": case.public_id})).content.decode()
    assert "Preparing the picture" in page
    assert reverse("plans:image_file", kwargs={"image_id": image.public_id, "size": "thumb"}) not in page


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("notes.txt", b"Patient notes, not a picture", "isn't a picture Clearplan can read"),
        ("broken.png", _png()[:120], "looks damaged or incomplete"),
        ("bomb.png", _png_declaring(20_000, 20_000), "too large to open safely"),
        ("report.pdf", b"%PDF-1.7 fake", "This is a PDF file"),
    ],
)
def test_a_refused_file_gets_a_message_at_the_field_and_nothing_is_stored(
    coordinator_client, case, settings, name, content, message, django_capture_on_commit_callbacks
):
    response = _post_upload(
        coordinator_client,
        case,
        _upload(name, content),
        django_capture_on_commit_callbacks=django_capture_on_commit_callbacks,
    )

    assert response.status_code == 400
    page = _page(response)
    assert message in page
    assert 'id="upload-pictures_error"' in page
    assert f"{name}: " in page
    assert not CaseImage.objects.exists()
    assert _files_on_disk(settings) == []
    assert not AuditEvent.objects.filter(object_type="case_image").exists()


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(coordinator_client, case, settings):
    settings.CASE_IMAGE_MAX_BYTES = 50_000
    big = _png(size=(10, 10)) + b"\x00" * 60_000

    response = _post_upload(coordinator_client, case, _upload("big.png", big))

    assert response.status_code == 400
    assert "the limit is 0.1 MB" in response.content.decode()
    assert not CaseImage.objects.exists()
    assert _files_on_disk(settings) == []


def test_several_files_at_once_keep_the_good_ones_and_name_the_refused_one(
    coordinator_client, case, django_capture_on_commit_callbacks
):
    response = _post_upload(
        coordinator_client,
        case,
        _upload("left.png", _png((200, 0, 0))),
        _upload("letter.txt", b"hello"),
        _upload("right.png", _png((0, 200, 0))),
        django_capture_on_commit_callbacks=django_capture_on_commit_callbacks,
    )

    page = _page(response)
    assert "2 pictures uploaded" in page
    assert "letter.txt: This file isn't a picture" in page
    assert CaseImage.objects.filter(case=case, processing="ready").count() == 2


# Who can see them


def test_images_are_served_privately_to_staff_of_the_clinic(
    coordinator_client, case, django_capture_on_commit_callbacks
):
    image = _ready_image(coordinator_client, case, django_capture_on_commit_callbacks)

    for size, content_type in (("thumb", "image/webp"), ("medium", "image/webp"), ("original", "image/png")):
        response = coordinator_client.get(
            reverse("plans:image_file", kwargs={"image_id": image.public_id, "size": size})
        )
        assert response.status_code == 200
        assert response["Content-Type"] == content_type
        assert response["Cache-Control"].startswith("private")
        assert response["X-Content-Type-Options"] == "nosniff"
        assert b"".join(response.streaming_content)[:4] in (b"RIFF", b"\x89PNG")


def test_a_dicom_original_is_never_served_only_its_rendered_copies(
    coordinator_client, case, django_capture_on_commit_callbacks
):
    image = _ready_image(
        coordinator_client, case, django_capture_on_commit_callbacks, name="x.dcm", content=_dicom(_gradient(64, 64))
    )

    original = coordinator_client.get(
        reverse("plans:image_file", kwargs={"image_id": image.public_id, "size": "original"})
    )
    large = coordinator_client.get(reverse("plans:image_file", kwargs={"image_id": image.public_id, "size": "large"}))

    assert original.status_code == 404
    assert large.status_code == 200


def test_another_clinics_staff_and_signed_out_visitors_cannot_reach_images(
    coordinator_client, outsider_client, client, case, django_capture_on_commit_callbacks
):
    image = _ready_image(coordinator_client, case, django_capture_on_commit_callbacks)
    addresses = [
        reverse("plans:image_file", kwargs={"image_id": image.public_id, "size": "thumb"}),
        reverse("plans:image_file", kwargs={"image_id": image.public_id, "size": "original"}),
        reverse("plans:image_edit", kwargs={"image_id": image.public_id}),
        reverse("plans:case_images", kwargs={"case_id": case.public_id}),
    ]
    for address in addresses:
        assert outsider_client.get(address).status_code == 404
        signed_out = client.get(address)
        assert signed_out.status_code == 302
        assert "/accounts/login/" in signed_out["Location"]
    upload = _post_upload(outsider_client, case, _upload("x.png", _png()))
    assert upload.status_code == 404
    assert CaseImage.objects.count() == 1


# Captions, key images, deleting


def test_staff_caption_an_image(coordinator_client, case, django_capture_on_commit_callbacks):
    image = _ready_image(coordinator_client, case, django_capture_on_commit_callbacks)

    response = coordinator_client.post(
        reverse("plans:image_caption", kwargs={"image_id": image.public_id}),
        {"caption": "Decay under the old filling"},
        follow=True,
    )

    image.refresh_from_db()
    assert image.caption == "Decay under the old filling"
    assert "Caption saved." in response.content.decode()
    assert AuditEvent.objects.filter(action="update", object_id=str(image.public_id)).exists()


def _choose(client, case, chosen, *, confirm=False):
    data = {"key": [str(image.public_id) for image, _order in chosen]}
    for image, order in chosen:
        data[f"order-{image.public_id}"] = str(order)
    if confirm:
        data["confirm_more"] = "yes"
    return client.post(reverse("plans:case_key_images", kwargs={"case_id": case.public_id}), data)


def test_up_to_three_key_images_are_chosen_in_the_order_given(
    coordinator_client, case, django_capture_on_commit_callbacks
):
    first, second, third = (
        _ready_image(coordinator_client, case, django_capture_on_commit_callbacks, caption=f"Picture {n}")
        for n in range(3)
    )

    response = _choose(coordinator_client, case, [(first, 3), (second, 1), (third, 2)])

    assert response.status_code == 302
    chosen = list(CaseImage.objects.filter(case=case, is_key=True).order_by("key_order"))
    assert [image.caption for image in chosen] == ["Picture 1", "Picture 2", "Picture 0"]
    page = coordinator_client.get(response["Location"]).content.decode()
    assert "Key image 1" in page
    assert "Key image 3" in page


def test_a_fourth_key_image_asks_first_and_is_allowed_after_confirming(
    coordinator_client, case, django_capture_on_commit_callbacks
):
    images = [_ready_image(coordinator_client, case, django_capture_on_commit_callbacks) for _ in range(4)]
    chosen = [(image, number) for number, image in enumerate(images, start=1)]

    asked = _choose(coordinator_client, case, chosen)

    assert asked.status_code == 409
    assert FOURTH_IMAGE_QUESTION in asked.content.decode()
    assert not CaseImage.objects.filter(is_key=True).exists()

    confirmed = _choose(coordinator_client, case, chosen, confirm=True)

    assert confirmed.status_code == 302
    assert list(CaseImage.objects.filter(is_key=True).order_by("key_order").values_list("key_order", flat=True)) == [
        1,
        2,
        3,
        4,
    ]


def test_deleting_an_image_asks_first_then_removes_its_files_and_closes_up_the_pack_order(
    coordinator_client, case, settings, django_capture_on_commit_callbacks
):
    first, second = (_ready_image(coordinator_client, case, django_capture_on_commit_callbacks) for _ in range(2))
    _choose(coordinator_client, case, [(first, 1), (second, 2)])
    address = reverse("plans:image_delete", kwargs={"image_id": first.public_id})

    confirm = coordinator_client.get(address)
    assert confirm.status_code == 200
    assert "Delete this picture?" in confirm.content.decode()
    assert CaseImage.objects.count() == 2

    with django_capture_on_commit_callbacks(execute=True):
        response = coordinator_client.post(address)

    assert response.status_code == 302
    assert list(CaseImage.objects.values_list("pk", flat=True)) == [second.pk]
    second.refresh_from_db()
    assert (second.is_key, second.key_order) == (True, 1)
    assert len(_files_on_disk(settings)) == 4  # the other picture's original and three sizes


def test_the_case_images_section_lists_images_without_a_query_per_image(
    coordinator_client, case, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    for _ in range(2):
        _ready_image(coordinator_client, case, django_capture_on_commit_callbacks)
    address = reverse("plans:case_images", kwargs={"case_id": case.public_id})
    with django_assert_max_num_queries(30) as few:
        coordinator_client.get(address)
    with_two = len(few.captured_queries)
    for _ in range(4):
        _ready_image(coordinator_client, case, django_capture_on_commit_callbacks)
    with django_assert_max_num_queries(with_two):
        coordinator_client.get(address)


def test_an_uploaded_picture_never_reaches_a_public_address(
    coordinator_client, client, case, django_capture_on_commit_callbacks
):
    image = _ready_image(coordinator_client, case, django_capture_on_commit_callbacks)
    public = client.get(f"/media-not-public/{image.original.name}")
    assert public.status_code == 404
    assert np.asarray(Image.open(image.thumb.path)).size > 0


def test_a_picture_that_cannot_be_prepared_is_marked_so_and_the_log_names_no_patient(
    coordinator_client, case, caplog, django_capture_on_commit_callbacks
):
    _post_upload(coordinator_client, case, _upload("x.dcm", _dicom(_gradient(64, 64))), kind="xray")
    image = CaseImage.objects.get(case=case)
    # The stored file is damaged after upload (a disk fault, say) before the background work runs.
    Path(image.original.path).write_bytes(b"damaged")

    from clearplan.plans.tasks import case_image_prepare

    case_image_prepare.enqueue(image_id=str(image.public_id))

    image.refresh_from_db()
    assert image.processing == CaseImage.Processing.FAILED
    assert str(image.public_id) in caplog.text
    assert "Citizen" not in caplog.text
    page = _page(coordinator_client.get(reverse("plans:case_images", kwargs={"case_id": case.public_id})))
    assert "This picture couldn't be prepared" in page
