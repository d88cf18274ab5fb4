"""Clinic logos: check an upload and re-encode it before anything is stored.

Re-encoding through Pillow keeps only the pixels: camera and editor metadata (EXIF
with GPS position, XMP, text chunks, colour profiles) is dropped, and a file that only
pretends to be an image, or that would unpack into an enormous one, is refused at the
field with a plain message.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from PIL import Image, ImageOps, UnidentifiedImageError

if TYPE_CHECKING:
    from django.core.files.uploadedfile import UploadedFile

MAX_BYTES = 1024 * 1024
# Larger than this is refused before the pixels are decoded, which bounds the memory one upload can take.
MAX_SIDE_ACCEPTED = 4000
# What is kept: plenty for print at logo size.
MAX_SIDE_STORED = 2000
FORMATS = {"PNG": "png", "JPEG": "jpg", "WEBP": "webp"}
CONTENT_TYPES = {"png": "image/png", "jpg": "image/jpeg", "webp": "image/webp"}

NOT_AN_IMAGE = "This file isn't an image we can read. Use a PNG, JPEG or WebP file."


@dataclass(frozen=True)
class PreparedLogo:
    content: bytes
    extension: str
    width: int
    height: int


def prepare_logo(upload: UploadedFile) -> PreparedLogo:
    """The upload re-encoded in its own format, metadata removed, at most MAX_SIDE_STORED pixels a side."""
    if upload.size is not None and upload.size > MAX_BYTES:
        raise ValidationError("This file is larger than 1 MB. Please choose a smaller image.")
    data = upload.read(MAX_BYTES + 1)
    upload.seek(0)
    if len(data) > MAX_BYTES:
        raise ValidationError("This file is larger than 1 MB. Please choose a smaller image.")
    try:
        with warnings.catch_warnings():
            # Pillow only warns at first about an image that unpacks to a huge size; treat it as refused.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                image_format = image.format or ""
                if image_format not in FORMATS:
                    raise ValidationError("Use a PNG, JPEG or WebP image.")
                width, height = image.size
                if width > MAX_SIDE_ACCEPTED or height > MAX_SIDE_ACCEPTED:
                    raise ValidationError(
                        f"This image is {width} × {height} pixels. Use one no larger than "
                        f"{MAX_SIDE_ACCEPTED} × {MAX_SIDE_ACCEPTED} pixels."
                    )
                image.load()
                clean = _pixels_only(image, transparency_allowed=image_format != "JPEG")
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise ValidationError(
            f"This image is too large to open. Use one no larger than {MAX_SIDE_ACCEPTED} × {MAX_SIDE_ACCEPTED} pixels."
        ) from error
    except ValidationError:
        raise
    except UnidentifiedImageError as error:
        raise ValidationError(NOT_AN_IMAGE) from error
    except Exception as error:
        # Damaged files fail deep inside Pillow's decoders with many kinds of error
        # (OSError, SyntaxError, ValueError, struct.error…); to the person it is all the same.
        raise ValidationError(NOT_AN_IMAGE) from error
    clean.thumbnail((MAX_SIDE_STORED, MAX_SIDE_STORED), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    if image_format == "JPEG":
        clean.save(buffer, format="JPEG", quality=90, optimize=True)
    elif image_format == "WEBP":
        clean.save(buffer, format="WEBP", quality=90, lossless=clean.mode == "RGBA")
    else:
        clean.save(buffer, format="PNG", optimize=True)
    return PreparedLogo(
        content=buffer.getvalue(), extension=FORMATS[image_format], width=clean.width, height=clean.height
    )


def _pixels_only(image: Image.Image, *, transparency_allowed: bool) -> Image.Image:
    """A new image with the same look and nothing else: no EXIF, XMP, text or colour profile."""
    # A photo taken sideways is stored sideways with a note to turn it; turn it now, as the note goes.
    upright = ImageOps.exif_transpose(image) or image
    has_transparency = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
    mode = "RGBA" if transparency_allowed and has_transparency else "RGB"
    clean = Image.new(mode, upright.size)
    clean.paste(upright.convert(mode))
    return clean
