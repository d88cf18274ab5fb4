"""Background work for cases: making the web sizes of uploaded images.

Log lines name an image by its random public id only; never a file name, caption or
anything read from a DICOM header, which would name the patient.
"""

from __future__ import annotations

import logging

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django_tasks import task

from clearplan.lib.imaging import clean_image, derivatives, inspect_upload
from clearplan.plans.models import CaseImage

logger = logging.getLogger("clearplan.plans.images")

SIZES = ("thumb", "medium", "large")


@task(queue_name="default")
def case_image_prepare(*, image_id: str) -> str:
    """Render the stored original (upright photo, or windowed X-ray) and save its WebP web sizes."""
    image = CaseImage.objects.select_related("case__clinic").filter(public_id=image_id).first()
    if image is None:
        # Deleted before the worker reached it: nothing to do.
        return "gone"
    if image.processing == CaseImage.Processing.READY:
        return "ready"
    try:
        with image.original.open("rb") as original:
            content = original.read()
        # The stored original already passed the upload's checks; a re-encoded photo may be a little larger.
        inspected = inspect_upload(content, filename=image.original.name, max_bytes=max(len(content), 1) + 1)
        made = derivatives(clean_image(inspected))
    except Exception as error:
        logger.error("Case image %s could not be prepared (%s)", image.public_id, type(error).__name__)
        CaseImage.objects.filter(pk=image.pk).update(processing=CaseImage.Processing.FAILED)
        return "failed"
    old = [getattr(image, size).name for size in SIZES]
    written = []
    try:
        for size in SIZES:
            getattr(image, size).save(f"{size}.webp", ContentFile(made[size].content), save=False)
            written.append(getattr(image, size).name)
        with transaction.atomic():
            updated = CaseImage.objects.filter(pk=image.pk).update(
                thumb=image.thumb.name,
                medium=image.medium.name,
                large=image.large.name,
                processing=CaseImage.Processing.READY,
            )
    except Exception:
        for name in written:
            default_storage.delete(name)
        raise
    if not updated:
        # The image was deleted while its sizes were being made.
        for name in written:
            default_storage.delete(name)
        return "gone"
    for name in old:
        if name:
            default_storage.delete(name)
    return "ready"
