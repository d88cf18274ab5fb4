"""Uploaded images: what is refused, what is cleaned, how X-rays are rendered.

Every picture is drawn here with Pillow, numpy and pydicom; no binary fixtures.
"""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import ExifTags, Image, ImageCms
from pydicom.dataset import FileDataset, FileMetaDataset
from pydicom.encaps import encapsulate
from pydicom.uid import UID, ExplicitVRLittleEndian, JPEGLSLossless, SecondaryCaptureImageStorage, generate_uid

from clearplan.lib.imaging import (
    DERIVATIVE_SIZES,
    ImageRejected,
    clean_image,
    derivatives,
    dicom_identifiers,
    inspect_upload,
    original_for_storage,
    patient_name_matches,
    strip_metadata_bytes,
)

# Helpers: pictures


def _encode(image: Image.Image, image_format: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=image_format, **options)
    return buffer.getvalue()


def _left_red_right_blue(width: int = 200, height: int = 100) -> Image.Image:
    image = Image.new("RGB", (width, height), (220, 30, 30))
    image.paste((30, 30, 220), (width // 2, 0, width, height))
    return image


def _phone_photo_exif() -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6  # the camera was held sideways: turn 90° clockwise to view
    exif[ExifTags.Base.Make] = "PhoneMaker"
    exif[ExifTags.Base.Model] = "Pocket 12"
    exif[ExifTags.IFD.GPSInfo] = {
        ExifTags.GPS.GPSLatitudeRef: "S",
        ExifTags.GPS.GPSLatitude: (33.0, 52.0, 4.0),
        ExifTags.GPS.GPSLongitudeRef: "E",
        ExifTags.GPS.GPSLongitude: (151.0, 12.0, 26.0),
    }
    return exif


def _sideways_phone_jpeg() -> bytes:
    return _encode(
        _left_red_right_blue(),
        "JPEG",
        quality=95,
        exif=_phone_photo_exif(),
        xmp=b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:Description>Practice owner</rdf:Description></x:xmpmeta>',
    )


def _reread(content: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(content))
    image.load()
    return image


def _assert_no_metadata(content: bytes) -> None:
    image = _reread(content)
    assert len(image.getexif()) == 0
    assert not image.getexif().get_ifd(ExifTags.IFD.GPSInfo)
    for key in ("exif", "xmp", "XML:com.adobe.xmp", "icc_profile", "comment"):
        assert key not in image.info


def _pixel(image: Image.Image, x: int, y: int) -> tuple[int, ...]:
    value = image.getpixel((x, y))
    assert isinstance(value, tuple)
    return value


def _grey(image: Image.Image, x: int, y: int) -> int:
    value = image.getpixel((x, y))
    assert isinstance(value, int)
    return value


def _close_to(colour: tuple[int, ...], expected: tuple[int, int, int], tolerance: int = 40) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(colour[:3], expected, strict=True))


def _png_declaring(width: int, height: int) -> bytes:
    """A PNG whose header claims the given size; its image data is a few bytes, as in a real bomb."""

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 1000))
        + chunk(b"IEND", b"")
    )


# Helpers: X-rays


def _dicom(
    pixels: np.ndarray,
    *,
    photometric: str = "MONOCHROME2",
    bits_stored: int = 12,
    frames: int = 1,
    with_preamble: bool = True,
    transfer_syntax: str = ExplicitVRLittleEndian,
    pixel_data: bytes | None = None,
    elements: dict[str, object] | None = None,
) -> bytes:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = SecondaryCaptureImageStorage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = UID(transfer_syntax)
    dataset = FileDataset("xray.dcm", {}, file_meta=meta, preamble=b"\x00" * 128 if with_preamble else None)
    dataset.SOPClassUID = SecondaryCaptureImageStorage
    dataset.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    dataset.Modality = "IO"
    dataset.PatientName = "Citizen^Jane"
    dataset.PatientID = "MRN-4471"
    dataset.StudyDate = "20240105"
    rows, columns = pixels.shape[-3:-1] if photometric == "RGB" else pixels.shape[-2:]
    dataset.Rows, dataset.Columns = rows, columns
    dataset.PhotometricInterpretation = photometric
    if photometric == "RGB":
        dataset.SamplesPerPixel = 3
        dataset.PlanarConfiguration = 0
        dataset.BitsAllocated = dataset.BitsStored = 8
        dataset.HighBit = 7
    else:
        dataset.SamplesPerPixel = 1
        dataset.BitsAllocated = 16
        dataset.BitsStored = bits_stored
        dataset.HighBit = bits_stored - 1
    dataset.PixelRepresentation = 0
    if frames > 1:
        dataset.NumberOfFrames = frames
    for keyword, value in (elements or {}).items():
        setattr(dataset, keyword, value)
    dataset.PixelData = pixel_data if pixel_data is not None else pixels.tobytes()
    buffer = io.BytesIO()
    dataset.save_as(buffer, enforce_file_format=with_preamble)
    return buffer.getvalue()


def _gradient(columns: int = 4096, rows: int = 8) -> np.ndarray:
    """Stored values rising from 0 at the left edge to columns - 1 at the right."""
    return np.tile(np.arange(columns, dtype=np.uint16), (rows, 1))


WINDOWED: dict[str, object] = {"WindowCenter": 1000, "WindowWidth": 2000, "RescaleSlope": 1, "RescaleIntercept": -1024}


# Photos


def test_a_sideways_phone_photo_is_turned_upright_and_loses_its_exif_and_gps():
    original = _sideways_phone_jpeg()
    # The test photo really carries what a phone would write.
    assert _reread(original).getexif().get_ifd(ExifTags.IFD.GPSInfo)

    inspected = inspect_upload(original, filename="IMG_2041.jpg")

    assert (inspected.kind, inspected.format) == ("photo", "JPEG")
    assert (inspected.width, inspected.height) == (100, 200)
    upright = clean_image(inspected)
    assert upright.size == (100, 200)
    # The left (red) side of the sensor is the top once the photo is turned clockwise.
    assert _close_to(_pixel(upright, 50, 20), (220, 30, 30))
    assert _close_to(_pixel(upright, 50, 180), (30, 30, 220))
    assert not upright.info
    assert len(upright.getexif()) == 0

    stored = strip_metadata_bytes(inspected)
    assert _reread(stored).format == "JPEG"
    assert _reread(stored).size == (100, 200)
    _assert_no_metadata(stored)
    assert b"PhoneMaker" not in stored
    assert b"Practice owner" not in stored
    assert original_for_storage(inspected) == stored

    for derivative in derivatives(upright).values():
        _assert_no_metadata(derivative.content)


def test_a_photo_with_a_colour_profile_is_stored_in_srgb_without_the_profile():
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    original = _encode(_left_red_right_blue(), "JPEG", quality=95, icc_profile=profile)
    assert "icc_profile" in _reread(original).info

    inspected = inspect_upload(original, filename="photo.jpg")

    stored = strip_metadata_bytes(inspected)
    _assert_no_metadata(stored)
    assert _close_to(_pixel(_reread(stored).convert("RGB"), 10, 10), (220, 30, 30))


def test_a_png_keeps_its_transparency():
    image = Image.new("RGBA", (300, 200), (0, 0, 0, 0))
    image.paste((10, 120, 60, 255), (0, 0, 150, 200))
    inspected = inspect_upload(_encode(image, "PNG"), filename="scan.png")

    assert (inspected.kind, inspected.format, inspected.extension) == ("photo", "PNG", "png")
    clean = clean_image(inspected)
    assert clean.mode == "RGBA"
    assert _pixel(clean, 250, 100)[3] == 0
    assert _pixel(clean, 50, 100) == (10, 120, 60, 255)

    stored = _reread(strip_metadata_bytes(inspected))
    assert (stored.format, stored.mode) == ("PNG", "RGBA")
    thumb = _reread(derivatives(clean)["thumb"].content)
    assert thumb.mode == "RGBA"
    assert _pixel(thumb, 250, 100)[3] == 0


def test_a_palette_png_with_a_transparent_colour_keeps_it_transparent():
    image = Image.new("P", (40, 40), 0)
    image.putpalette([255, 255, 255, 200, 0, 0] + [0] * 762)
    image.paste(1, (0, 0, 20, 40))
    inspected = inspect_upload(_encode(image, "PNG", transparency=0), filename="mark.png")

    clean = clean_image(inspected)
    assert clean.mode == "RGBA"
    assert _pixel(clean, 30, 10)[3] == 0
    assert _pixel(clean, 10, 10) == (200, 0, 0, 255)


def test_a_16_bit_greyscale_png_keeps_its_contrast():
    values = np.tile(np.linspace(0, 65535, 256).astype(np.uint16), (10, 1))
    content = _encode(Image.fromarray(values), "PNG")

    clean = clean_image(inspect_upload(content, filename="xray.png"))

    assert clean.mode == "L"
    assert _grey(clean, 0, 5) == 0
    assert _grey(clean, 255, 5) == 255
    assert 120 <= _grey(clean, 128, 5) <= 135


def test_a_webp_photo_is_accepted_and_kept_as_webp():
    content = _encode(_left_red_right_blue(), "WEBP", quality=90, exif=_phone_photo_exif())
    inspected = inspect_upload(content, filename="photo.webp")

    assert (inspected.kind, inspected.format, inspected.content_type) == ("photo", "WEBP", "image/webp")
    assert (inspected.width, inspected.height) == (100, 200)
    stored = strip_metadata_bytes(inspected)
    assert _reread(stored).format == "WEBP"
    _assert_no_metadata(stored)


def test_a_lossless_webp_screenshot_stays_lossless():
    rng = np.random.default_rng(7)
    screenshot = Image.fromarray(rng.integers(0, 256, (60, 80, 3), dtype=np.uint8), mode="RGB")
    inspected = inspect_upload(_encode(screenshot, "WEBP", lossless=True), filename="scan.webp")

    stored = _reread(strip_metadata_bytes(inspected)).convert("RGB")

    assert np.array_equal(np.asarray(stored), np.asarray(screenshot))


def test_a_phone_jpeg_with_a_second_embedded_picture_is_an_ordinary_photo():
    main = _left_red_right_blue(400, 300)
    preview = Image.new("RGB", (40, 30), (0, 255, 0))
    buffer = io.BytesIO()
    main.save(buffer, format="MPO", save_all=True, append_images=[preview])
    assert Image.open(io.BytesIO(buffer.getvalue())).format == "MPO"

    inspected = inspect_upload(buffer.getvalue(), filename="IMG_0001.jpg")

    assert (inspected.format, inspected.width, inspected.height) == ("JPEG", 400, 300)
    assert _close_to(_pixel(clean_image(inspected), 10, 10), (220, 30, 30))


def test_a_photo_is_identified_by_its_content_not_its_name():
    inspected = inspect_upload(_encode(_left_red_right_blue(), "PNG"), filename="photo.jpg")

    assert inspected.format == "PNG"


def test_a_stream_is_read_like_bytes():
    inspected = inspect_upload(io.BytesIO(_encode(_left_red_right_blue(), "PNG")), filename="photo.png")

    assert (inspected.width, inspected.height) == (200, 100)


# Refusals


def _refusal(data: bytes | io.BytesIO, filename: str = "upload.jpg", **limits: int) -> ImageRejected:
    with pytest.raises(ImageRejected) as caught:
        inspect_upload(data, filename=filename, **limits)
    return caught.value


def test_a_text_file_named_like_a_photo_is_refused():
    refusal = _refusal(b"Dear Dr Patel,\nPlease find the referral attached.\n", filename="xray.jpg")

    assert refusal.code == "not_an_image"
    assert refusal.message == (
        "This file isn't a picture Clearplan can read. Upload a JPEG, PNG, WebP or DICOM (.dcm) file."
    )


def test_an_empty_file_is_refused():
    assert _refusal(b"").code == "empty"


def test_a_truncated_jpeg_is_refused_as_damaged():
    rng = np.random.default_rng(1)
    noise = Image.fromarray(rng.integers(0, 256, (300, 400, 3), dtype=np.uint8), mode="RGB")
    whole = _encode(noise, "JPEG", quality=90)

    refusal = _refusal(whole[: len(whole) // 2])

    assert refusal.code == "damaged"
    assert "damaged or incomplete" in refusal.message


def test_a_png_declaring_50000_by_50000_pixels_is_refused_before_it_is_unpacked():
    refusal = _refusal(_png_declaring(50_000, 50_000), filename="bomb.png")

    assert refusal.code == "too_many_pixels"
    assert refusal.message.startswith("This image is too large to open safely.")


def test_an_image_over_the_pixel_limit_is_refused():
    content = _encode(Image.new("RGB", (500, 500), (200, 200, 200)), "PNG")

    refusal = _refusal(content, filename="big.png", max_pixels=100_000)

    assert refusal.code == "too_many_pixels"
    assert "under 0.1 million pixels" in refusal.message


def test_a_file_over_the_size_limit_is_refused_with_both_sizes():
    thirty_one_megabytes = b"\xff\xd8\xff" + b"\x00" * (31 * 1024 * 1024 - 3)

    for data in (thirty_one_megabytes, io.BytesIO(thirty_one_megabytes)):
        refusal = _refusal(data)
        assert refusal.code == "too_large"
        assert refusal.message == "This file is 31 MB; the limit is 25 MB."


def test_a_file_just_over_the_limit_never_reads_as_equal_to_it():
    refusal = _refusal(b"\x00" * (1024 * 1024 + 1), max_bytes=1024 * 1024)

    assert refusal.message == "This file is 1.1 MB; the limit is 1 MB."


def test_an_animated_webp_is_refused():
    frames = [Image.new("RGB", (50, 50), colour) for colour in ((255, 0, 0), (0, 0, 255))]
    content = _encode(frames[0], "WEBP", save_all=True, append_images=frames[1:], duration=100, loop=0)

    refusal = _refusal(content, filename="smile.webp")

    assert refusal.code == "animated"
    assert refusal.message.startswith("This is an animation")


def test_an_animated_png_is_refused():
    frames = [Image.new("RGB", (50, 50), colour) for colour in ((255, 0, 0), (0, 0, 255))]
    content = _encode(frames[0], "PNG", save_all=True, append_images=frames[1:], duration=100)

    assert _refusal(content, filename="smile.png").code == "animated"


def test_an_animated_gif_is_refused_naming_what_it_is():
    frames = [Image.new("P", (50, 50), index) for index in (1, 2)]
    content = _encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100)

    refusal = _refusal(content, filename="smile.gif")

    assert refusal.code == "not_an_image"
    assert refusal.message.startswith("This is a GIF file")


def test_an_iphone_heic_photo_is_refused_with_advice():
    heic_start = struct.pack(">I", 24) + b"ftypheic" + b"\x00\x00\x00\x00mif1heic" + b"\x00" * 100

    refusal = _refusal(heic_start, filename="IMG_5001.HEIC")

    assert "HEIC" in refusal.message
    assert "Export it as a JPEG" in refusal.message


# X-rays


def test_a_dicom_xray_is_windowed_using_its_own_window_and_rescale():
    content = _dicom(_gradient(), elements=WINDOWED)

    inspected = inspect_upload(content, filename="IMG0001")

    assert (inspected.kind, inspected.format, inspected.extension) == ("dicom", "DICOM", "dcm")
    assert (inspected.width, inspected.height) == (4096, 8)
    picture = clean_image(inspected)
    assert picture.mode == "L"
    row = np.asarray(picture)[4]
    # Stored value v means v - 1024 after rescale; the window spans 0 to 2000 after rescale.
    assert row[500] == 0  # -524: below the window
    assert row[1023] == 0  # -1: just below
    assert row[3100] == 255  # 2076: above the window
    assert 126 <= row[2024] <= 129  # 1000: the centre is mid-grey
    assert row.min() == 0
    assert row.max() == 255
    assert np.all(np.diff(row.astype(int)) >= 0)


def test_a_dicom_window_with_several_values_uses_the_first():
    several = {"WindowCenter": [1000, 300], "WindowWidth": [2000, 600], "RescaleSlope": 1, "RescaleIntercept": -1024}
    content = _dicom(_gradient(), elements=several)

    row = np.asarray(clean_image(inspect_upload(content, filename="x.dcm")))[4]

    assert 126 <= row[2024] <= 129


def test_a_monochrome1_xray_renders_inverted():
    content = _dicom(_gradient(), photometric="MONOCHROME1", elements=WINDOWED)

    row = np.asarray(clean_image(inspect_upload(content, filename="x.dcm")))[4]

    assert row[500] == 255
    assert row[3100] == 0
    assert 126 <= row[2024] <= 129


def test_a_dicom_without_a_window_is_stretched_over_its_own_values_ignoring_stray_pixels():
    pixels = np.tile(np.arange(1000, 1100, dtype=np.uint16), (100, 1))
    pixels[0, 0] = 4095  # a single hot pixel must not squash the rest into black
    content = _dicom(pixels)

    picture = np.asarray(clean_image(inspect_upload(content, filename="x.dcm")))

    assert picture[50, 0] == 0
    assert picture[50, 99] == 255
    assert 110 <= picture[50, 50] <= 145


def test_a_multi_frame_dicom_shows_its_first_frame():
    rising = _gradient(256, 16)
    falling = rising[:, ::-1].copy()
    content = _dicom(np.stack([rising, falling]), frames=2)

    picture = np.asarray(clean_image(inspect_upload(content, filename="x.dcm")))

    assert picture.shape == (16, 256)
    assert picture[8, 0] < picture[8, 255]


def test_an_rgb_dicom_keeps_its_colours():
    pixels = np.zeros((20, 30, 3), dtype=np.uint8)
    pixels[:, :15] = (200, 40, 40)
    pixels[:, 15:] = (40, 40, 200)
    content = _dicom(pixels, photometric="RGB")

    picture = clean_image(inspect_upload(content, filename="photo.dcm"))

    assert picture.mode == "RGB"
    assert _pixel(picture, 2, 2) == (200, 40, 40)
    assert _pixel(picture, 25, 2) == (40, 40, 200)


def test_a_dicom_original_is_kept_byte_for_byte():
    content = _dicom(_gradient(), elements=WINDOWED)
    inspected = inspect_upload(io.BytesIO(content), filename="x.dcm")

    assert original_for_storage(inspected) == content
    with pytest.raises(ValueError, match="exactly as uploaded"):
        strip_metadata_bytes(inspected)


def test_a_dicom_without_pixel_data_is_refused():
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = SecondaryCaptureImageStorage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    dataset = FileDataset("report.dcm", {}, file_meta=meta, preamble=b"\x00" * 128)
    dataset.SOPClassUID = SecondaryCaptureImageStorage
    dataset.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    dataset.PatientName = "Citizen^Jane"
    buffer = io.BytesIO()
    dataset.save_as(buffer, enforce_file_format=True)

    refusal = _refusal(buffer.getvalue(), filename="report.dcm")

    assert refusal.code == "dicom_no_image"
    assert "no picture in it" in refusal.message


def test_a_dicom_in_a_compression_clearplan_cannot_decode_is_refused_with_export_advice():
    content = _dicom(
        _gradient(64, 8), transfer_syntax=JPEGLSLossless, pixel_data=encapsulate([b"\xff\xd8\xff\xf7 not really"])
    )

    refusal = _refusal(content, filename="x.dcm")

    assert refusal.code == "dicom_compressed"
    assert "JPEG-LS Lossless" in refusal.message
    assert "uncompressed DICOM, or as a JPEG or PNG" in refusal.message


def test_a_dicom_with_missing_pixel_bytes_is_refused_as_damaged():
    content = _dicom(_gradient(64, 64), pixel_data=_gradient(64, 8).tobytes())

    assert _refusal(content, filename="x.dcm").code == "damaged"


def test_a_dicom_without_its_file_header_is_refused():
    content = _dicom(_gradient(64, 8), with_preamble=False)

    refusal = _refusal(content, filename="x.dcm")

    assert refusal.code == "not_an_image"
    assert refusal.message.startswith("This DICOM file isn't one Clearplan can read.")


def test_a_dicom_over_the_pixel_limit_is_refused_before_decoding():
    refusal = _refusal(_dicom(_gradient(), elements=WINDOWED), filename="x.dcm", max_pixels=10_000)

    assert refusal.code == "too_many_pixels"


def test_dicom_identifiers_are_read_for_checking_the_patient():
    content = _dicom(_gradient(64, 8))

    identifiers = dicom_identifiers(content)

    assert identifiers == {"PatientName": "Citizen^Jane", "PatientID": "MRN-4471", "StudyDate": "20240105"}
    assert patient_name_matches(identifiers["PatientName"], given_name="jane", family_name="CITIZEN")
    assert not patient_name_matches(identifiers["PatientName"], given_name="John", family_name="Citizen")


def test_patient_names_match_ignoring_accents_and_extra_name_parts():
    assert patient_name_matches("Müller^José^A^Dr", given_name="Jose", family_name="Muller")
    assert not patient_name_matches("Müller", given_name="Jose", family_name="Muller")


# Web sizes


def test_web_sizes_are_webp_and_fit_their_longest_side():
    picture = Image.new("RGB", (4000, 2500), (120, 90, 80))

    made = derivatives(picture)

    assert list(made) == list(DERIVATIVE_SIZES)
    expected = {"thumb": (320, 200), "medium": (960, 600), "large": (1920, 1200)}
    for name, derivative in made.items():
        reread = _reread(derivative.content)
        assert reread.format == "WEBP"
        assert (derivative.width, derivative.height) == expected[name] == reread.size
        assert derivative.content_type == "image/webp"


def test_web_sizes_never_enlarge_a_small_picture():
    picture = Image.new("L", (500, 700), 128)

    made = derivatives(picture)

    assert (made["thumb"].width, made["thumb"].height) == (229, 320)
    assert (made["medium"].width, made["medium"].height) == (500, 700)
    assert (made["large"].width, made["large"].height) == (500, 700)
    assert picture.size == (500, 700)


def test_an_xray_gets_web_sizes_too():
    picture = clean_image(inspect_upload(_dicom(_gradient(), elements=WINDOWED), filename="x.dcm"))

    made = derivatives(picture)

    assert (made["large"].width, made["large"].height) == (1920, 4)
    assert _reread(made["thumb"].content).format == "WEBP"
