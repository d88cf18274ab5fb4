"""Uploaded clinical images: check them, clean them, and make the sizes the screens show.

Everything a practice uploads (photos, screenshots of intra-oral scans, X-rays) comes
through `inspect_upload`, which decides what the file is from its content alone (the
name and the browser's content type are whatever the sender's computer says) and
decodes it fully, so a damaged, disguised or oversized file is refused while the person
is still at the upload field, and nothing needs to be stored first.

What is kept afterwards is the caller's choice; this module provides the pieces:

- photos are kept without metadata (`strip_metadata_bytes`): a phone photo's EXIF block
  carries the GPS position of the surgery and often the owner's name and device serial;
- DICOM X-rays are kept byte for byte (`InspectedImage.original`), because that is the
  clinical record; they carry the patient's name, identifiers and dates in their header,
  so the caller must store them privately and never serve them to anyone;
- `clean_image` is the viewable picture (turned upright, or windowed from the X-ray's
  pixel values), and `derivatives` makes the web-sized WebP copies from it.

No Django here: the functions take bytes and return bytes or Pillow images.
"""

from __future__ import annotations

import io
import math
import unicodedata
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Final, Literal

import numpy as np
import pydicom
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError
from pydicom.pixels import apply_color_lut, apply_modality_lut, apply_voi, get_decoder, pixel_array
from pydicom.uid import UID

DEFAULT_MAX_BYTES: Final = 25 * 1024 * 1024
DEFAULT_MAX_PIXELS: Final = 80_000_000

Kind = Literal["photo", "dicom"]
ImageFormat = Literal["JPEG", "PNG", "WEBP", "DICOM"]

ACCEPTED = "Upload a JPEG, PNG, WebP or DICOM (.dcm) file."
NOT_AN_IMAGE = f"This file isn't a picture Clearplan can read. {ACCEPTED}"
DAMAGED = "This picture looks damaged or incomplete, so Clearplan can't open it. Try saving or exporting it again."
ANIMATED = f"This is an animation, not a still picture. {ACCEPTED}"
DICOM_NO_IMAGE = (
    "This DICOM file has no picture in it. Export the X-ray itself from the imaging software, "
    "as uncompressed DICOM or as a JPEG or PNG."
)
DICOM_NOT_READABLE = (
    "This DICOM file isn't one Clearplan can read. Export the X-ray again from the imaging software, "
    "as uncompressed DICOM or as a JPEG or PNG."
)

_EXTENSIONS: Final[dict[str, str]] = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "DICOM": "dcm"}
_CONTENT_TYPES: Final[dict[str, str]] = {
    "JPEG": "image/jpeg",
    "PNG": "image/png",
    "WEBP": "image/webp",
    "DICOM": "application/dicom",
}
# Formats people do send that Pillow could open but we don't take, named so the message can say what they sent.
_OTHER_FORMATS: Final[tuple[tuple[bytes, int, str], ...]] = (
    (b"GIF87a", 0, "a GIF"),
    (b"GIF89a", 0, "a GIF"),
    (b"BM", 0, "a BMP"),
    (b"II*\x00", 0, "a TIFF"),
    (b"MM\x00*", 0, "a TIFF"),
    (b"%PDF", 0, "a PDF"),
)
_HEIF_BRANDS: Final = (b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1", b"avif")

# Web sizes: the longest side in pixels. Never enlarged.
DERIVATIVE_SIZES: Final[dict[str, int]] = {"thumb": 320, "medium": 960, "large": 1920}
WEBP_QUALITY: Final = 80


class ImageRejected(Exception):
    """An upload Clearplan won't keep; `message` is written for the person who uploaded it."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass(frozen=True, eq=False)
class InspectedImage:
    """An upload that has been identified and fully decoded; only `inspect_upload` makes these."""

    kind: Kind
    format: ImageFormat
    # The picture as it will be shown: photos after turning them upright, X-rays as rendered.
    width: int
    height: int
    # The bytes as uploaded. For DICOM this is what the caller keeps (privately: it names the patient).
    original: bytes = field(repr=False)
    _clean: Image.Image = field(repr=False)
    _lossless_webp: bool = field(default=False, repr=False)

    @property
    def extension(self) -> str:
        return _EXTENSIONS[self.format]

    @property
    def content_type(self) -> str:
        return _CONTENT_TYPES[self.format]

    def clean(self) -> Image.Image:
        return clean_image(self)


@dataclass(frozen=True)
class Derivative:
    content: bytes
    width: int
    height: int
    content_type: str = "image/webp"
    extension: str = "webp"


def inspect_upload(
    data: bytes | BinaryIO,
    *,
    filename: str,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> InspectedImage:
    """Identify and fully decode an upload, or raise ImageRejected with a message for the uploader.

    `filename` never decides what the file is; it only lets the message speak to what the
    person thought they were sending.
    """
    content = _read_limited(data, max_bytes=max_bytes)
    if not content:
        raise ImageRejected("This file is empty. Choose the picture again.", code="empty")
    if content[128:132] == b"DICM":
        return _inspect_dicom(content, max_pixels=max_pixels)
    photo_format = _photo_format(content)
    if photo_format is None:
        raise ImageRejected(_not_an_image_message(content, filename=filename), code="not_an_image")
    return _inspect_photo(content, photo_format=photo_format, max_pixels=max_pixels)


def clean_image(inspected: InspectedImage) -> Image.Image:
    """The picture with no metadata: photos upright (EXIF orientation applied) in sRGB; X-rays as 8-bit greyscale.

    A new image each call, so the caller may resize or draw on it freely.
    """
    return inspected._clean.copy()


def strip_metadata_bytes(inspected: InspectedImage) -> bytes:
    """A photo re-encoded in its own format with nothing but the pixels: no EXIF (so no GPS), XMP or text.

    It is turned upright first, since the EXIF note saying which way is up goes with the rest.
    Takes the inspected upload rather than raw bytes so the file is only ever decoded once, by
    `inspect_upload`, and is known to be safe to decode.
    """
    if inspected.kind != "photo":
        raise ValueError("DICOM originals are kept exactly as uploaded; only photos are re-encoded.")
    image = inspected._clean
    buffer = io.BytesIO()
    if inspected.format == "JPEG":
        image.save(buffer, format="JPEG", quality=92)
    elif inspected.format == "PNG":
        image.save(buffer, format="PNG")
    elif inspected._lossless_webp:
        image.save(buffer, format="WEBP", lossless=True, method=4)
    else:
        image.save(buffer, format="WEBP", quality=90, method=4)
    return buffer.getvalue()


def original_for_storage(inspected: InspectedImage) -> bytes:
    """What to keep as "the original": photos without metadata, DICOM exactly as uploaded.

    The DICOM bytes identify the patient (name, identifiers, dates); the caller must store
    them privately and never serve them, only the rendered copies.
    """
    if inspected.kind == "dicom":
        return inspected.original
    return strip_metadata_bytes(inspected)


def derivatives(image: Image.Image) -> dict[str, Derivative]:
    """WebP copies at each of DERIVATIVE_SIZES (longest side), never enlarged, with no metadata."""
    clean = _pixels_only(image)
    results: dict[str, Derivative] = {}
    # Largest first, each made from the one before: cheaper than resizing the full picture three times.
    source = clean
    for name, longest_side in sorted(DERIVATIVE_SIZES.items(), key=lambda item: -item[1]):
        resized = source.copy()
        resized.thumbnail((longest_side, longest_side), Image.Resampling.LANCZOS)
        buffer = io.BytesIO()
        resized.save(buffer, format="WEBP", quality=WEBP_QUALITY, method=4)
        results[name] = Derivative(content=buffer.getvalue(), width=resized.width, height=resized.height)
        source = resized
    return {name: results[name] for name in DERIVATIVE_SIZES}


def dicom_identifiers(data: bytes | BinaryIO) -> dict[str, str]:
    """PatientName, PatientID and StudyDate from a DICOM file's header, where present.

    For checking the X-ray belongs to the patient it is being filed under. These values
    identify a person: show them to staff, never log them.
    """
    content = data if isinstance(data, bytes) else data.read()
    try:
        dataset = pydicom.dcmread(io.BytesIO(content), force=False, stop_before_pixels=True)
    except (InvalidDicomError, ValueError, EOFError, OSError) as error:
        raise ImageRejected(DICOM_NOT_READABLE, code="dicom_unreadable") from error
    found: dict[str, str] = {}
    for keyword in ("PatientName", "PatientID", "StudyDate"):
        value = dataset.get(keyword)
        if value is not None and str(value).strip():
            found[keyword] = str(value).strip()
    return found


def patient_name_matches(dicom_name: str, *, given_name: str, family_name: str) -> bool:
    """Whether a DICOM person name ("Family^Given^Middle") is the patient's, ignoring case and accents.

    Only family and given names are compared: imaging software fills the middle, prefix and
    suffix parts inconsistently, and a mismatch only ever leads to a warning.
    """
    parts = [*dicom_name.split("=", 1)[0].split("^"), "", ""]
    return _comparable(parts[0]) == _comparable(family_name) and _comparable(parts[1]) == _comparable(given_name)


# Reading and identifying


def _read_limited(data: bytes | BinaryIO, *, max_bytes: int) -> bytes:
    if isinstance(data, bytes | bytearray | memoryview):
        content = bytes(data)
        if len(content) > max_bytes:
            raise _too_large(len(content), max_bytes)
        return content
    total = _stream_size(data)
    if total is not None and total > max_bytes:
        raise _too_large(total, max_bytes)
    content = data.read(max_bytes + 1)
    if len(content) > max_bytes:
        raise _too_large(total if total is not None else len(content), max_bytes)
    return content


def _stream_size(stream: BinaryIO) -> int | None:
    try:
        if not stream.seekable():
            return None
        start = stream.tell()
        end = stream.seek(0, io.SEEK_END)
        stream.seek(start)
    except (OSError, AttributeError, ValueError):
        return None
    return end - start


def _too_large(size: int, limit: int) -> ImageRejected:
    return ImageRejected(f"This file is {_megabytes(size)} MB; the limit is {_megabytes(limit)} MB.", code="too_large")


def _megabytes(size: int) -> str:
    # Rounded up to a tenth, so a file just over the limit never reads as equal to it.
    value = math.ceil(size / (1024 * 1024) * 10) / 10
    return f"{value:g}"


def _photo_format(content: bytes) -> Literal["JPEG", "PNG", "WEBP"] | None:
    if content.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return "WEBP"
    return None


def _not_an_image_message(content: bytes, *, filename: str) -> str:
    for magic, offset, name in _OTHER_FORMATS:
        if content[offset : offset + len(magic)] == magic:
            return f"This is {name} file, which Clearplan doesn't take. {ACCEPTED}"
    if content[4:8] == b"ftyp" and content[8:12] in _HEIF_BRANDS:
        return (
            "This photo is in HEIC format (an iPhone's own format), which Clearplan can't read. "
            "Export it as a JPEG and upload that."
        )
    if filename.lower().endswith((".dcm", ".dicom")):
        return DICOM_NOT_READABLE
    return NOT_AN_IMAGE


# Photos


def _inspect_photo(content: bytes, *, photo_format: Literal["JPEG", "PNG", "WEBP"], max_pixels: int) -> InspectedImage:
    too_big = _too_many_pixels(max_pixels)
    try:
        with warnings.catch_warnings():
            # Pillow only warns at first about an image that unpacks to a huge size; treat that as refused.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(content), formats=[photo_format]) as image:
                width, height = image.size
                # Checked against our own limit before decoding, rather than by changing Pillow's
                # process-wide MAX_IMAGE_PIXELS, which other requests' threads share.
                if width * height > max_pixels:
                    raise too_big
                # Phone cameras write JPEGs with a second, smaller picture attached (MPO); the first is the photo.
                if photo_format != "JPEG" and getattr(image, "n_frames", 1) > 1:
                    raise ImageRejected(ANIMATED, code="animated")
                image.load()
                clean = _upright_srgb(image)
    except ImageRejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise too_big from error
    except UnidentifiedImageError as error:
        raise ImageRejected(NOT_AN_IMAGE, code="not_an_image") from error
    except Exception as error:
        # Damaged files fail deep inside Pillow's decoders with many kinds of error
        # (OSError for truncation, SyntaxError, ValueError, struct.error…); to the person it is all the same.
        raise ImageRejected(DAMAGED, code="damaged") from error
    return InspectedImage(
        kind="photo",
        format=photo_format,
        width=clean.width,
        height=clean.height,
        original=content,
        _clean=clean,
        _lossless_webp=photo_format == "WEBP" and _webp_is_lossless(content),
    )


def _too_many_pixels(max_pixels: int) -> ImageRejected:
    millions = f"{max_pixels / 1_000_000:g}"
    return ImageRejected(
        "This image is too large to open safely. "
        f"Save a smaller copy (under {millions} million pixels) and upload that.",
        code="too_many_pixels",
    )


def _upright_srgb(image: Image.Image) -> Image.Image:
    upright = ImageOps.exif_transpose(image)
    icc_profile = image.info.get("icc_profile")
    if icc_profile and upright.mode in ("RGB", "RGBA", "CMYK"):
        upright = _to_srgb(upright, icc_profile)
    return _pixels_only(upright)


def _to_srgb(image: Image.Image, icc_profile: bytes) -> Image.Image:
    # Phones tag photos with wide-gamut profiles (Display P3); dropping the profile without
    # converting would leave skin and gums looking washed out.
    output_mode = "RGBA" if image.mode == "RGBA" else "RGB"
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
        converted = ImageCms.profileToProfile(image, source, ImageCms.createProfile("sRGB"), outputMode=output_mode)
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        # A broken profile is ignored: the pixels are still a picture, just not colour-managed.
        return image
    return converted if converted is not None else image


def _pixels_only(image: Image.Image) -> Image.Image:
    """A new image with the same look and nothing else: no EXIF, XMP, text chunks or colour profile."""
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info:
        mode, source = "RGBA", image.convert("RGBA")
    elif image.mode in ("1", "L"):
        mode, source = "L", image.convert("L")
    elif image.mode in ("I", "I;16", "I;16L", "I;16B", "I;16N", "F"):
        mode, source = "L", _high_bit_depth_grey(image)
    else:
        mode, source = "RGB", image.convert("RGB")
    clean = Image.new(mode, source.size)
    clean.paste(source)
    return clean


def _high_bit_depth_grey(image: Image.Image) -> Image.Image:
    # 16-bit greyscale PNGs come out of some X-ray software; Pillow's own conversion to 8 bits clips them.
    values = np.asarray(image, dtype=np.float64)
    peak = float(values.max()) if values.size else 0.0
    scale = 255.0 / 65535.0 if peak > 255 else 1.0
    return Image.fromarray(np.clip(values * scale, 0, 255).round().astype(np.uint8), mode="L")


def _webp_is_lossless(content: bytes) -> bool:
    offset = 12
    while offset + 8 <= len(content):
        chunk = content[offset : offset + 4]
        if chunk == b"VP8L":
            return True
        if chunk == b"VP8 ":
            return False
        length = int.from_bytes(content[offset + 4 : offset + 8], "little")
        offset += 8 + length + (length & 1)
    return False


# DICOM


_COMPRESSED_MESSAGE = (
    "This X-ray is saved in a compressed DICOM format ({name}) that Clearplan can't open. "
    "Export it again from the X-ray software as uncompressed DICOM, or as a JPEG or PNG."
)


def _inspect_dicom(content: bytes, *, max_pixels: int) -> InspectedImage:
    try:
        dataset = pydicom.dcmread(io.BytesIO(content), force=False)
    except (InvalidDicomError, ValueError, EOFError, OSError, KeyError, TypeError) as error:
        raise ImageRejected(DICOM_NOT_READABLE, code="dicom_unreadable") from error
    if "PixelData" not in dataset or "Rows" not in dataset or "Columns" not in dataset:
        raise ImageRejected(DICOM_NO_IMAGE, code="dicom_no_image")
    rows, columns = int(dataset.Rows), int(dataset.Columns)
    if rows <= 0 or columns <= 0:
        raise ImageRejected(DICOM_NO_IMAGE, code="dicom_no_image")
    if rows * columns > max_pixels:
        raise _too_many_pixels(max_pixels)
    transfer_syntax = UID(str(dataset.file_meta.get("TransferSyntaxUID", "")))
    frame = _first_frame(dataset, transfer_syntax)
    try:
        with np.errstate(all="ignore"):
            clean = _render_dicom(frame, dataset)
    except (ValueError, TypeError, AttributeError, KeyError, IndexError, NotImplementedError) as error:
        raise ImageRejected(DICOM_NOT_READABLE, code="dicom_unreadable") from error
    return InspectedImage(
        kind="dicom", format="DICOM", width=clean.width, height=clean.height, original=content, _clean=clean
    )


def _first_frame(dataset: Dataset, transfer_syntax: UID) -> np.ndarray[Any, Any]:
    if not transfer_syntax.is_transfer_syntax:
        raise ImageRejected(DICOM_NOT_READABLE, code="dicom_unreadable")
    compressed = transfer_syntax.is_compressed
    compressed_refusal = ImageRejected(_COMPRESSED_MESSAGE.format(name=transfer_syntax.name), code="dicom_compressed")
    try:
        decoder = get_decoder(transfer_syntax)
    except NotImplementedError as error:
        raise compressed_refusal from error
    if not decoder.is_available:
        raise compressed_refusal
    try:
        # Only the first frame is decoded: a multi-frame file is shown by its first picture.
        return pixel_array(dataset, index=0)
    except Exception as error:
        # A compressed frame that will not decode is most often a codec we only partly support
        # (12-bit or lossless JPEG through Pillow); the same advice fixes both that and damage.
        if compressed:
            raise compressed_refusal from error
        raise ImageRejected(DAMAGED, code="damaged") from error


def _render_dicom(frame: np.ndarray[Any, Any], dataset: Dataset) -> Image.Image:
    photometric = str(dataset.get("PhotometricInterpretation", "MONOCHROME2")).strip().upper()
    if photometric in ("MONOCHROME1", "MONOCHROME2"):
        if frame.ndim != 2:
            raise ValueError("A greyscale frame has one sample per pixel.")
        grey = _window_to_8bit(frame, dataset)
        if photometric == "MONOCHROME1":
            # MONOCHROME1 stores film-style values: the lowest value is white.
            grey = 255 - grey
        return Image.fromarray(grey, mode="L")
    if photometric == "PALETTE COLOR":
        frame = apply_color_lut(frame, dataset)
    if frame.ndim != 3 or frame.shape[2] < 3:
        raise ValueError("A colour frame has three samples per pixel.")
    rgb = frame[:, :, :3]
    if rgb.dtype != np.uint8:
        top = float(2 ** int(dataset.get("BitsStored", 16)) - 1) if photometric != "PALETTE COLOR" else 65535.0
        rgb = np.clip(rgb.astype(np.float64) / top * 255.0, 0, 255).round().astype(np.uint8)
    return Image.fromarray(np.ascontiguousarray(rgb), mode="RGB")


def _window_to_8bit(frame: np.ndarray[Any, Any], dataset: Dataset) -> np.ndarray[Any, Any]:
    values = apply_modality_lut(frame, dataset)
    window = _stored_window(dataset)
    if window is None and dataset.get("VOILUTSequence") and np.issubdtype(values.dtype, np.integer):
        lut_output = apply_voi(values, dataset)
        depth = int(dataset.VOILUTSequence[0].LUTDescriptor[2])
        return _to_uint8(lut_output.astype(np.float64) / (2**depth - 1))
    values = values.astype(np.float64)
    if window is None:
        low, high = (float(v) for v in np.percentile(values, [0.5, 99.5]))
        if high <= low:
            high = low + 1
        return _to_uint8((values - low) / (high - low))
    center, width, function = window
    if function == "SIGMOID":
        return _to_uint8(1.0 / (1.0 + np.exp(-4.0 * (values - center) / width)))
    if function == "LINEAR_EXACT":
        return _to_uint8((values - center) / width + 0.5)
    # DICOM PS3.3 C.11.2.1.2.1: the LINEAR function is offset by half a value and spans width - 1.
    return _to_uint8((values - (center - 0.5)) / max(width - 1, 1e-6) + 0.5)


def _stored_window(dataset: Dataset) -> tuple[float, float, str] | None:
    center = _first_number(dataset.get("WindowCenter"))
    width = _first_number(dataset.get("WindowWidth"))
    if center is None or width is None:
        return None
    function = str(dataset.get("VOILUTFunction", "LINEAR")).strip().upper() or "LINEAR"
    if function not in ("LINEAR", "LINEAR_EXACT", "SIGMOID"):
        function = "LINEAR"
    # A window the standard calls invalid is ignored and the picture's own range used instead.
    if width <= 0 or (function == "LINEAR" and width < 1):
        return None
    return center, width, function


def _first_number(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        if not value:
            return None
        value = value[0]
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _to_uint8(unit: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    return np.asarray(np.clip(unit * 255.0, 0, 255).round(), dtype=np.uint8)


def _comparable(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).casefold().split())
