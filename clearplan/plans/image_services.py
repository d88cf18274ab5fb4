"""Every change to a case's images: upload, caption, markup, choosing images for the pack, deleting.

Uploads are checked completely before anything is written (clearplan.lib.imaging), so a
refused file leaves nothing behind. What is kept is the original without metadata (photos)
or exactly as uploaded (DICOM, which names the patient: kept privately, never served). The
web sizes are made in the background once the upload's transaction has committed.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction

from clearplan.audit.models import AuditEvent
from clearplan.audit.services import audit_record, changes_between
from clearplan.lib.imaging import (
    DEFAULT_MAX_BYTES,
    ImageRejected,
    InspectedImage,
    _too_large,
    dicom_identifiers,
    inspect_upload,
    original_for_storage,
    patient_name_matches,
)
from clearplan.plans.image_markup import describe_markup, validate_markup
from clearplan.plans.models import Case, CaseImage

if TYPE_CHECKING:
    from django.core.files.uploadedfile import UploadedFile
    from django.http import HttpRequest

    from clearplan.accounts.models import User

logger = logging.getLogger("clearplan.plans.images")

RECORD_TYPE: Final = "case_image"
# More than this many key images still works, but is asked about first.
RECOMMENDED_KEY_IMAGES: Final = 3
FOURTH_IMAGE_QUESTION: Final = "Packs work best with one to three images. Include a fourth anyway?"


def max_upload_bytes() -> int:
    return int(getattr(settings, "CASE_IMAGE_MAX_BYTES", DEFAULT_MAX_BYTES))


@dataclass
class UploadResult:
    """What happened to one file of an upload, for the person who sent it."""

    filename: str
    image: CaseImage | None = None
    error: str = ""
    warnings: list[str] = field(default_factory=list)

    @property
    def stored(self) -> bool:
        return self.image is not None


class KeyImagesNeedConfirmation(Exception):
    """More than three images were chosen for the pack without saying that is intended."""

    def __init__(self) -> None:
        super().__init__(FOURTH_IMAGE_QUESTION)


def case_images_upload(
    *, case: Case, files: list[UploadedFile], kind: str, caption: str, by: User, request: HttpRequest | None
) -> list[UploadResult]:
    """Each file on its own: one refused file does not stop the others being kept."""
    results = []
    for upload in files:
        try:
            results.append(
                case_image_upload(case=case, file=upload, kind=kind, caption=caption, by=by, request=request)
            )
        except ImageRejected as rejected:
            results.append(UploadResult(filename=_display_name(upload), error=rejected.message))
    return results


def case_image_upload(
    *, case: Case, file: UploadedFile, kind: str, caption: str, by: User, request: HttpRequest | None
) -> UploadResult:
    """Check, clean and keep one uploaded picture; raises ImageRejected with a message for the uploader."""
    limit = max_upload_bytes()
    # The size the browser sent is known before reading a byte: refuse a huge file without reading it.
    if file.size is not None and file.size > limit:
        raise _too_large(file.size, limit)
    file.seek(0)
    # One byte more than the limit: enough to tell a file that was too large from one that fits.
    inspected = inspect_upload(file.read(limit + 1), filename=file.name or "", max_bytes=limit)
    if kind not in CaseImage.Kind.values:
        kind = CaseImage.Kind.XRAY if inspected.kind == "dicom" else CaseImage.Kind.PHOTO
    warnings = _dicom_warnings(inspected, case=case)
    stored = original_for_storage(inspected)
    image = CaseImage(
        case=case,
        kind=kind,
        source_format=inspected.format,
        original_sha256=hashlib.sha256(stored).hexdigest(),
        width=inspected.width,
        height=inspected.height,
        caption=caption.strip()[:300],
        processing=CaseImage.Processing.PENDING,
        uploaded_by=by,
    )
    written: list[str] = []
    try:
        with transaction.atomic():
            image.original.save(f"original.{inspected.extension}", ContentFile(stored), save=False)
            written.append(image.original.name)
            image.save()
            audit_record(
                action=AuditEvent.Action.CREATE,
                request=request,
                actor=by,
                clinic=case.clinic,
                obj=image,
                object_type=RECORD_TYPE,
                changes={
                    "kind": [None, image.get_kind_display()],
                    "format": [None, image.source_format],
                    "caption": [None, image.caption],
                },
            )
            transaction.on_commit(lambda: _prepare_later(image))
    except BaseException:
        # Nothing half-saved: a file on disk without its row would never be found or removed.
        _delete_files(written)
        raise
    return UploadResult(filename=_display_name(file), image=image, warnings=warnings)


def _prepare_later(image: CaseImage) -> None:
    from clearplan.plans.tasks import case_image_prepare

    case_image_prepare.enqueue(image_id=str(image.public_id))


def _dicom_warnings(inspected: InspectedImage, *, case: Case) -> list[str]:
    if inspected.kind != "dicom":
        return []
    try:
        found = dicom_identifiers(inspected.original)
    except ImageRejected:
        return []
    name = found.get("PatientName", "")
    patient = case.patient
    if not name:
        return ["This X-ray has no patient name in it, so Clearplan couldn't check it belongs to this patient."]
    if patient_name_matches(name, given_name=patient.first_name, family_name=patient.last_name):
        return []
    shown = " ".join(part for part in reversed(name.split("=", 1)[0].split("^")[:2]) if part)
    return [
        f"This X-ray is labelled with the name “{shown}”, not {patient.full_name}. "
        "Check it belongs to this patient; delete it if it doesn't."
    ]


def _display_name(file: UploadedFile) -> str:
    return (file.name or "The file").rsplit("/", 1)[-1][:120]


def _delete_files(names: list[str]) -> None:
    for name in names:
        if name:
            default_storage.delete(name)


def case_image_update_caption(*, image: CaseImage, caption: str, by: User, request: HttpRequest | None) -> CaseImage:
    with transaction.atomic():
        before = {"caption": image.caption}
        image.caption = caption.strip()
        image.save(update_fields=["caption"])
        changes = changes_between(before, {"caption": image.caption})
        if changes:
            audit_record(
                action=AuditEvent.Action.UPDATE,
                request=request,
                actor=by,
                clinic=image.case.clinic,
                obj=image,
                object_type=RECORD_TYPE,
                changes=changes,
            )
    return image


def case_image_save_markup(*, image: CaseImage, markup: Any, by: User, request: HttpRequest | None) -> CaseImage:
    """Replace the marks drawn over the image; raises ValidationError for anything the editor can't draw."""
    clean = validate_markup(markup)
    with transaction.atomic():
        before = describe_markup(image.markup or [])
        image.markup = clean
        image.save(update_fields=["markup"])
        after = describe_markup(clean)
        audit_record(
            action=AuditEvent.Action.UPDATE,
            request=request,
            actor=by,
            clinic=image.case.clinic,
            obj=image,
            object_type=RECORD_TYPE,
            changes={"markup": [before, after]} if before != after else {"markup": ["redrawn", after]},
        )
    return image


def case_images_choose_for_pack(
    *,
    case: Case,
    chosen: list[tuple[CaseImage, int | None]],
    confirmed: bool,
    by: User,
    request: HttpRequest | None,
) -> list[CaseImage]:
    """Make exactly `chosen` the case's key images, ordered by the number given (then by their
    previous place). More than three raises KeyImagesNeedConfirmation unless `confirmed`."""
    if len(chosen) > RECOMMENDED_KEY_IMAGES and not confirmed:
        raise KeyImagesNeedConfirmation
    with transaction.atomic():
        images = list(CaseImage.objects.select_for_update().filter(case=case).order_by("pk"))
        by_id = {image.pk: image for image in images}
        chosen = [(by_id[image.pk], order) for image, order in chosen if image.pk in by_id]
        previous = {image.pk: (image.is_key, image.key_order) for image in images}

        def sort_key(item: tuple[CaseImage, int | None]) -> tuple[int, int, int]:
            image, order = item
            was_key, old_order = previous[image.pk]
            return (order if order is not None else 1000, old_order if was_key else 1000, image.pk)

        ordered = [image for image, _order in sorted(chosen, key=sort_key)]
        positions = {image.pk: number for number, image in enumerate(ordered, start=1)}
        changed = []
        for image in images:
            is_key, order = (True, positions[image.pk]) if image.pk in positions else (False, 0)
            if (image.is_key, image.key_order) != (is_key, order):
                image.is_key, image.key_order = is_key, order
                changed.append(image)
        if changed:
            CaseImage.objects.bulk_update(changed, ["is_key", "key_order"])
            for image in changed:
                was_key, old_order = previous[image.pk]
                audit_record(
                    action=AuditEvent.Action.UPDATE,
                    request=request,
                    actor=by,
                    clinic=case.clinic,
                    obj=image,
                    object_type=RECORD_TYPE,
                    changes={"in_pack": [_pack_place(was_key, old_order), _pack_place(image.is_key, image.key_order)]},
                )
    return ordered


def _pack_place(is_key: bool, order: int) -> str:
    return f"key image {order}" if is_key else "not in the pack"


def case_image_delete(*, image: CaseImage, by: User, request: HttpRequest | None) -> None:
    """Remove the image and its files; the remaining key images close up their order."""
    names = [image.original.name, image.thumb.name, image.medium.name, image.large.name]
    with transaction.atomic():
        case = image.case
        audit_record(
            action=AuditEvent.Action.UPDATE,
            request=request,
            actor=by,
            clinic=case.clinic,
            obj=image,
            object_type=RECORD_TYPE,
            changes={"image": ["kept", "deleted"]},
        )
        image.delete()
        remaining = list(CaseImage.objects.filter(case=case, is_key=True).order_by("key_order", "pk"))
        for number, other in enumerate(remaining, start=1):
            other.key_order = number
        CaseImage.objects.bulk_update(remaining, ["key_order"])
        # Files go only once the row is gone for good, so a rolled-back delete loses nothing.
        transaction.on_commit(lambda: _delete_files(names))
