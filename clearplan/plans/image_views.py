"""Pages and files for a case's images. Every object comes through image_selectors, scoped to
the clinic the user is working in, so another clinic's image is a 404."""

from __future__ import annotations

import mimetypes
from typing import TYPE_CHECKING

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from clearplan.accounts.access import staff_required
from clearplan.plans.image_forms import CaptionForm, ImageUploadForm, MarkupForm
from clearplan.plans.image_markup import PALETTE, describe_markup
from clearplan.plans.image_selectors import case_for_staff, image_for_staff, images_of
from clearplan.plans.image_services import (
    FOURTH_IMAGE_QUESTION,
    KeyImagesNeedConfirmation,
    case_image_delete,
    case_image_save_markup,
    case_image_update_caption,
    case_images_choose_for_pack,
    case_images_upload,
)
from clearplan.plans.models import Case, CaseImage

if TYPE_CHECKING:
    import uuid

    from django.http import HttpRequest, HttpResponse

# Short-lived and never shared: a signed-out browser should not keep showing X-rays for long.
IMAGE_CACHE_CONTROL = "private, max-age=300"
SIZES = ("thumb", "medium", "large", "original")
_ORIGINAL_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}


def _back_url(request: HttpRequest, case: Case) -> str:
    """Where the form was (the case page, or this app's images page); never another site."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("plans:case_images", kwargs={"case_id": case.public_id})


def _back(request: HttpRequest, case: Case) -> HttpResponseRedirect:
    return HttpResponseRedirect(_back_url(request, case))


def _images_page(
    request: HttpRequest, case: Case, *, upload_form: ImageUploadForm | None = None, status: int = 200, **extra: object
) -> HttpResponse:
    context = {"case": case, "upload_form": upload_form, **extra}
    return render(request, "plans/images/case_images_page.html", context, status=status)


@require_http_methods(["GET", "HEAD"])
@staff_required
def case_images(request: HttpRequest, case_id: uuid.UUID) -> HttpResponse:
    return _images_page(request, case_for_staff(request, case_id))


@require_POST
@staff_required
def image_upload(request: HttpRequest, case_id: uuid.UUID) -> HttpResponse:
    case = case_for_staff(request, case_id)
    form = ImageUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _images_page(request, case, upload_form=form, status=400)
    results = case_images_upload(
        case=case,
        files=form.cleaned_data["pictures"],
        kind=form.cleaned_data["kind"],
        caption=form.cleaned_data["caption"],
        by=request.user,
        request=request,
    )
    stored = [result for result in results if result.stored]
    refused = [result for result in results if not result.stored]
    if stored:
        count = len(stored)
        messages.success(
            request,
            f"{count} picture{'s' if count != 1 else ''} uploaded. "
            "Web sizes are being prepared; they appear here in a moment.",
        )
    for result in stored:
        for warning in result.warnings:
            messages.warning(request, f"{result.filename}: {warning}")
    if not refused:
        return _back(request, case)
    # Refusals are shown at the upload field, so the page is drawn again rather than redirected.
    for result in refused:
        form.add_error("pictures", f"{result.filename}: {result.error}")
    return _images_page(request, case, upload_form=form, status=400)


@require_http_methods(["GET", "HEAD"])
@staff_required
def image_file(request: HttpRequest, image_id: uuid.UUID, size: str) -> FileResponse:
    image = image_for_staff(request, image_id)
    if size not in SIZES:
        raise Http404
    if size == "original":
        # A DICOM original names the patient in its header: only the rendered copies are ever served.
        if image.source_format not in _ORIGINAL_TYPES:
            raise Http404
        stored, content_type = image.original, _ORIGINAL_TYPES[image.source_format]
    else:
        if image.processing != CaseImage.Processing.READY:
            raise Http404
        stored, content_type = getattr(image, size), "image/webp"
    if not stored.name:
        raise Http404
    try:
        handle = stored.open("rb")
    except FileNotFoundError as error:
        raise Http404 from error
    extension = mimetypes.guess_extension(content_type) or ""
    response = FileResponse(handle, content_type=content_type)
    response["Content-Disposition"] = f'inline; filename="case-image-{size}{extension}"'
    response["Cache-Control"] = IMAGE_CACHE_CONTROL
    response["X-Content-Type-Options"] = "nosniff"
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    return response


@require_http_methods(["GET", "HEAD"])
@staff_required
def image_edit(request: HttpRequest, image_id: uuid.UUID) -> HttpResponse:
    image = image_for_staff(request, image_id)
    return _editor(request, image)


def _editor(
    request: HttpRequest,
    image: CaseImage,
    *,
    caption_form: CaptionForm | None = None,
    markup_error: str = "",
    status: int = 200,
) -> HttpResponse:
    context = {
        "image": image,
        "case": image.case,
        "caption_form": caption_form or CaptionForm(initial={"caption": image.caption}),
        "markup_error": markup_error,
        "palette": [(name, hex_colour, label) for name, (hex_colour, label) in PALETTE.items()],
        "markup_description": describe_markup(image.markup or []),
    }
    return render(request, "plans/images/image_edit.html", context, status=status)


@require_POST
@staff_required
def image_caption(request: HttpRequest, image_id: uuid.UUID) -> HttpResponse:
    image = image_for_staff(request, image_id)
    form = CaptionForm(request.POST)
    if not form.is_valid():
        return _editor(request, image, caption_form=form, status=400)
    case_image_update_caption(image=image, caption=form.cleaned_data["caption"], by=request.user, request=request)
    messages.success(request, "Caption saved.")
    return redirect("plans:image_edit", image_id=image.public_id)


@require_POST
@staff_required
def image_markup(request: HttpRequest, image_id: uuid.UUID) -> HttpResponse:
    image = image_for_staff(request, image_id)
    form = MarkupForm(request.POST)
    if not form.is_valid():
        return _editor(request, image, markup_error=" ".join(form.errors.get("markup", [])), status=400)
    try:
        case_image_save_markup(image=image, markup=form.cleaned_data["markup"], by=request.user, request=request)
    except ValidationError as error:
        return _editor(request, image, markup_error=" ".join(error.messages), status=400)
    messages.success(request, "Markup saved. The picture itself is unchanged.")
    return redirect("plans:image_edit", image_id=image.public_id)


@require_http_methods(["GET", "HEAD", "POST"])
@staff_required
def image_delete(request: HttpRequest, image_id: uuid.UUID) -> HttpResponse:
    image = image_for_staff(request, image_id)
    case = image.case
    if request.method == "POST":
        case_image_delete(image=image, by=request.user, request=request)
        messages.success(request, "Picture deleted.")
        return redirect("plans:case_images", case_id=case.public_id)
    return render(request, "plans/images/image_delete.html", {"image": image, "case": case})


@require_POST
@staff_required
def case_key_images(request: HttpRequest, case_id: uuid.UUID) -> HttpResponse:
    case = case_for_staff(request, case_id)
    images = {str(image.public_id): image for image in images_of(case)}
    chosen: list[tuple[CaseImage, int | None]] = []
    for public_id in dict.fromkeys(request.POST.getlist("key")):
        image = images.get(public_id)
        if image is not None:
            chosen.append((image, _order(request.POST.get(f"order-{public_id}", ""))))
    confirmed = request.POST.get("confirm_more") == "yes"
    try:
        case_images_choose_for_pack(case=case, chosen=chosen, confirmed=confirmed, by=request.user, request=request)
    except KeyImagesNeedConfirmation:
        return render(
            request,
            "plans/images/key_images_confirm.html",
            {
                "case": case,
                "question": FOURTH_IMAGE_QUESTION,
                "chosen": chosen,
                "next": _back_url(request, case),
            },
            status=409,
        )
    count = len(chosen)
    if count:
        messages.success(request, f"{count} picture{'s' if count != 1 else ''} chosen for the pack.")
    else:
        messages.success(request, "No pictures are chosen for the pack now.")
    return _back(request, case)


def _order(text: str) -> int | None:
    try:
        value = int(text.strip())
    except ValueError:
        return None
    return value if 1 <= value <= 99 else None
