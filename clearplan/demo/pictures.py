"""Drawn pictures for the demo's cases: stylised X-rays and mouth photos, made with Pillow.

They only need to read as "a bitewing", "an X-ray of one tooth" or "a smile" at a glance in the
case page and the pack: nobody real is pictured. Each drawing also says where its finding is
(as fractions of the picture, like the image markup), so the demo can circle the right spot.

One DICOM file is built with pydicom from a drawn X-ray, so the demo shows an X-ray exactly as
imaging software exports it: 16-bit greyscale with its own display window.
"""

from __future__ import annotations

import io
import random
from dataclasses import dataclass, field
from datetime import date
from functools import cache

import numpy as np
from PIL import Image, ImageDraw, ImageFilter
from pydicom.dataset import FileDataset, FileMetaDataset
from pydicom.uid import UID, ExplicitVRLittleEndian, generate_uid

BITEWING_SIZE = (1200, 800)
PERIAPICAL_SIZE = (760, 1000)
PHOTO_SIZE = (1200, 800)
# Digital Intra-Oral X-Ray Image Storage, For Presentation.
INTRA_ORAL_XRAY_SOP_CLASS = UID("1.2.840.10008.5.1.4.1.1.1.3")

Box = tuple[float, float, float, float]  # centre x, centre y, width, height, as fractions


@dataclass
class Drawing:
    image: Image.Image
    # Where the finding is on each tooth drawn, by FDI code.
    teeth: dict[int, Box] = field(default_factory=dict)
    # The spot worth pointing at (decay, a shadow at a root tip, a chip), when there is one.
    finding: Box | None = None

    def jpeg(self, quality: int = 86) -> bytes:
        buffer = io.BytesIO()
        self.image.save(buffer, format="JPEG", quality=quality)
        return buffer.getvalue()


def _fraction(box: tuple[float, float, float, float], size: tuple[int, int]) -> Box:
    left, top, right, bottom = box
    width, height = size
    return (
        round((left + right) / 2 / width, 4),
        round((top + bottom) / 2 / height, 4),
        round((right - left) / width, 4),
        round((bottom - top) / height, 4),
    )


def _film(image: Image.Image, rng: random.Random, *, blur: float, grain: float) -> Image.Image:
    """Soften the drawing and add sensor grain and darker corners, so it looks captured, not drawn."""
    softened = image.filter(ImageFilter.GaussianBlur(blur))
    noise, shade = _grain_and_shade(image.size, image.mode, grain)
    grainy = Image.blend(softened, noise, 0.06)
    return Image.composite(grainy, Image.new(image.mode, image.size, 0), shade)


@cache
def _grain_and_shade(size: tuple[int, int], mode: str, grain: float) -> tuple[Image.Image, Image.Image]:
    # Made once per picture size: the same grain on every picture goes unnoticed and saves seconds per load.
    noise = Image.effect_noise(size, grain)
    if mode != "L":
        noise = Image.merge("RGB", (noise, noise, noise))
    shade = Image.radial_gradient("L").resize(size).point(lambda value: 255 - int(value * 0.55))
    return noise, shade


# ---------------------------------------------------------------------------
# X-rays
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ToothOnFilm:
    fdi: int
    width: int
    roots: int
    filling: bool = False
    decay: str = ""  # "mesial" or "distal": the dark patch the dentist found
    root_filled: bool = False
    crowned: bool = False
    lesion: bool = False  # a shadow at the root tip
    missing: bool = False


def _draw_tooth(
    draw: ImageDraw.ImageDraw,
    tooth: ToothOnFilm,
    *,
    left: int,
    biting_edge: int,
    towards_root: int,
    crown_height: int,
    root_length: int,
    rng: random.Random,
) -> tuple[tuple[float, float, float, float], tuple[float, float, float, float] | None]:
    """Draw one tooth with its roots pointing `towards_root` (+1 down, -1 up). Returns the crown's
    box and the finding's box."""
    right = left + tooth.width
    neck = biting_edge + towards_root * crown_height
    top, bottom = sorted((biting_edge, neck))
    crown = (left, top, right, bottom)
    if tooth.missing:
        return crown, None
    # Roots first, so the crown sits over them.
    root_end = neck + towards_root * root_length
    spans = (
        [(left + 18, right - 18)]
        if tooth.roots == 1
        else [(left + 12, left + tooth.width // 2 - 6), (left + tooth.width // 2 + 6, right - 12)]
    )
    finding = None
    for index, (root_left, root_right) in enumerate(spans):
        middle = (root_left + root_right) / 2 + (index * 2 - 1) * 10 * (tooth.roots > 1)
        tip = (middle, root_end + rng.randint(-20, 10) * towards_root)
        draw.polygon([(root_left, neck), (root_right, neck), (tip[0] + 10, tip[1]), (tip[0] - 10, tip[1])], fill=150)
        canal = 235 if tooth.root_filled else 92
        draw.line([((root_left + root_right) / 2, neck), tip], fill=canal, width=7 if tooth.root_filled else 5)
        if tooth.lesion and index == 0:
            radius = 38
            draw.ellipse((tip[0] - radius, tip[1] - radius, tip[0] + radius, tip[1] + radius), fill=40)
            finding = (tip[0] - radius * 1.6, tip[1] - radius * 1.6, tip[0] + radius * 1.6, tip[1] + radius * 1.6)
    # Crown: enamel rim, dentine inside, the pulp chamber towards the roots.
    draw.rounded_rectangle(crown, radius=tooth.width // 5, fill=205)
    draw.rounded_rectangle((left + 16, top + 16, right - 16, bottom - 16), radius=tooth.width // 6, fill=160)
    pulp_top = neck - towards_root * crown_height // 3
    pulp = sorted((pulp_top, neck))
    draw.rounded_rectangle(
        (left + tooth.width * 0.32, pulp[0], right - tooth.width * 0.32, pulp[1]),
        radius=12,
        fill=235 if tooth.root_filled else 95,
    )
    if tooth.crowned:
        draw.rounded_rectangle(crown, radius=tooth.width // 5, outline=250, width=22)
        draw.rectangle((left + 6, biting_edge - 14, right - 6, biting_edge + 14), fill=250)
    if tooth.filling:
        depth = crown_height // 3
        edge = biting_edge + towards_root * depth
        draw.rounded_rectangle(
            (left + tooth.width * 0.25, min(biting_edge, edge), right - tooth.width * 0.25, max(biting_edge, edge)),
            radius=10,
            fill=252,
        )
    if tooth.decay:
        at_left = tooth.decay == "mesial"
        x = left + 6 if at_left else right - 6
        y = biting_edge + towards_root * crown_height * 0.45
        size = 34
        draw.ellipse((x - size, y - size, x + size, y + size), fill=70)
        finding = (x - size * 1.8, y - size * 1.8, x + size * 1.8, y + size * 1.8)
    return crown, finding


def bitewing(
    teeth_upper: list[ToothOnFilm], teeth_lower: list[ToothOnFilm], rng: random.Random, *, bone_loss: bool = False
) -> Drawing:
    """A bitewing: the back teeth of one side, upper row biting onto the lower row."""
    size = BITEWING_SIZE
    image = Image.new("L", size, 22)
    draw = ImageDraw.Draw(image)
    middle = size[1] // 2
    crest = 120 if bone_loss else 175
    # Bone around the roots, with the fine texture of trabecular bone.
    draw.rectangle((0, 0, size[0], middle - crest), fill=78)
    draw.rectangle((0, middle + crest, size[0], size[1]), fill=78)
    for _ in range(260):
        x, y = (
            rng.randint(0, size[0]),
            rng.choice([rng.randint(0, middle - crest), rng.randint(middle + crest, size[1])]),
        )
        radius = rng.randint(4, 14)
        draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=rng.randint(60, 96))
    drawing = Drawing(image)
    for row, towards_root, teeth in ((0, -1, teeth_upper), (1, 1, teeth_lower)):
        left = 120 + row * 40
        for tooth in teeth:
            crown, finding = _draw_tooth(
                draw,
                tooth,
                left=left,
                biting_edge=middle - 12 if towards_root < 0 else middle + 12,
                towards_root=towards_root,
                crown_height=175,
                root_length=300,
                rng=rng,
            )
            drawing.teeth[tooth.fdi] = _fraction(crown, size)
            if finding is not None:
                drawing.finding = _fraction(finding, size)
            left += tooth.width + 14
    if bone_loss:
        # Horizontal bone loss reads as the bone edge sitting well back from the crowns.
        for y in (middle - crest, middle + crest):
            draw.line((0, y, size[0], y), fill=60, width=10)
    drawing.image = _sensor(_film(image, rng, blur=2.2, grain=40), radius=60)
    return drawing


def periapical(teeth: list[ToothOnFilm], rng: random.Random, *, upper: bool, implant_at: int | None = None) -> Drawing:
    """An X-ray of two or three teeth from crown to root tip, upright as dentists read them."""
    size = PERIAPICAL_SIZE
    image = Image.new("L", size, 24)
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 300, size[0], size[1]), fill=84)
    for _ in range(220):
        x, y = rng.randint(0, size[0]), rng.randint(300, size[1])
        radius = rng.randint(5, 16)
        draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=rng.randint(64, 104))
    drawing = Drawing(image)
    total = sum(tooth.width for tooth in teeth) + 16 * (len(teeth) - 1)
    left = (size[0] - total) // 2
    for tooth in teeth:
        crown, finding = _draw_tooth(
            draw, tooth, left=left, biting_edge=90, towards_root=1, crown_height=230, root_length=520, rng=rng
        )
        drawing.teeth[tooth.fdi] = _fraction(crown, size)
        if finding is not None:
            drawing.finding = _fraction(finding, size)
        if tooth.fdi == implant_at:
            # An implant: a bright threaded post in the bone, a crown on top.
            centre = left + tooth.width / 2
            for y in range(360, 780, 34):
                draw.rectangle((centre - 48, y, centre + 48, y + 20), fill=248)
            draw.rectangle((centre - 38, 330, centre + 38, 790), fill=240)
            draw.rounded_rectangle((left + 8, 90, left + tooth.width - 8, 330), radius=40, fill=230)
            drawing.finding = _fraction((centre - 90, 300, centre + 90, 820), size)
        left += tooth.width + 16
    picture = _sensor(_film(image, rng, blur=2.0, grain=36), radius=50)
    if upper:
        picture = picture.transpose(Image.Transpose.FLIP_TOP_BOTTOM)
        drawing.teeth = {fdi: (x, 1 - y, w, h) for fdi, (x, y, w, h) in drawing.teeth.items()}
        if drawing.finding is not None:
            found_x, found_y, found_width, found_height = drawing.finding
            drawing.finding = (found_x, 1 - found_y, found_width, found_height)
    drawing.image = picture
    return drawing


def _sensor(image: Image.Image, *, radius: int) -> Image.Image:
    """Digital sensors have rounded corners; outside them the picture is black."""
    mask = Image.new("L", image.size, 0)
    ImageDraw.Draw(mask).rounded_rectangle((0, 0, image.size[0] - 1, image.size[1] - 1), radius=radius, fill=255)
    return Image.composite(image, Image.new("L", image.size, 0), mask)


def dicom_from(drawing: Drawing, *, family_name: str, given_name: str, patient_id: str, study_date: date) -> bytes:
    """The X-ray as a DICOM file as intra-oral sensors export it: 12 bits stored in 16, MONOCHROME2,
    with the display window the sensor software chose, and the patient's name in the header."""
    grey = np.asarray(drawing.image.convert("L"), dtype=np.uint16)
    # Spread the 8-bit picture over 12 bits, offset and a little wider than the window shows.
    values = (grey * 14 + 300).astype(np.uint16)
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = INTRA_ORAL_XRAY_SOP_CLASS
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    dataset = FileDataset("xray.dcm", {}, file_meta=meta, preamble=b"\x00" * 128)
    dataset.SOPClassUID = INTRA_ORAL_XRAY_SOP_CLASS
    dataset.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    dataset.StudyInstanceUID = generate_uid()
    dataset.SeriesInstanceUID = generate_uid()
    dataset.Modality = "IO"
    dataset.PatientName = f"{family_name}^{given_name}"
    dataset.PatientID = patient_id
    dataset.StudyDate = study_date.strftime("%Y%m%d")
    dataset.Manufacturer = "Clearplan demo"
    dataset.Rows, dataset.Columns = values.shape
    dataset.PhotometricInterpretation = "MONOCHROME2"
    dataset.SamplesPerPixel = 1
    dataset.BitsAllocated = 16
    dataset.BitsStored = 12
    dataset.HighBit = 11
    dataset.PixelRepresentation = 0
    dataset.WindowCenter = 2000
    dataset.WindowWidth = 3400
    dataset.PixelData = values.tobytes()
    buffer = io.BytesIO()
    dataset.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


# ---------------------------------------------------------------------------
# Photos
# ---------------------------------------------------------------------------

# From the viewer's left: the patient's right side first.
UPPER_FRONT = (15, 14, 13, 12, 11, 21, 22, 23, 24, 25)
LOWER_FRONT = (45, 44, 43, 42, 41, 31, 32, 33, 34, 35)
_UPPER_WIDTHS = {1: 118, 2: 92, 3: 88, 4: 76, 5: 70}
_LOWER_WIDTHS = {1: 70, 2: 74, 3: 80, 4: 76, 5: 72}

SHADES = {
    "natural": (236, 229, 210),
    "stained": (214, 192, 146),
    "white": (246, 244, 238),
}


def mouth_photo(
    rng: random.Random,
    *,
    shade: str = "natural",
    chipped: int | None = None,
    gap: int | None = None,
    crowded: bool = False,
    inflamed_gums: bool = False,
    worn: bool = False,
) -> Drawing:
    """A front view of the teeth with the lips held back, as taken with cheek retractors."""
    size = PHOTO_SIZE
    image = Image.new("RGB", size, (62, 22, 28))
    draw = ImageDraw.Draw(image)
    centre = size[0] // 2
    gum = (214, 112, 124)
    margin = (196, 58, 72) if inflamed_gums else (204, 96, 110)
    draw.ellipse((40, -260, size[0] - 40, 345), fill=gum)
    draw.ellipse((60, 445, size[0] - 60, 1050), fill=gum)
    drawing = Drawing(image)
    base = SHADES[shade]
    for fdi_row, widths, gum_line, edge, towards in (
        (LOWER_FRONT, _LOWER_WIDTHS, 600, 400, -1),
        (UPPER_FRONT, _UPPER_WIDTHS, 210, 420, 1),
    ):
        total = sum(widths[fdi % 10] for fdi in fdi_row)
        x = centre - total / 2
        for fdi in fdi_row:
            width = widths[fdi % 10]
            distance = abs(x + width / 2 - centre) / centre
            # The arch curves away: side teeth sit higher (or lower) and look narrower.
            curve = distance**2 * 120
            near, far = gum_line + towards * curve * 0.4, edge - towards * curve
            if crowded and fdi % 10 in (1, 2) and rng.random() < 0.7:
                shift = rng.randint(-22, 22)
                near, far = near + shift * 0.3, far + shift
            top, bottom = sorted((near, far))
            box = (x + 4, top, x + width - 4, bottom)
            drawing.teeth[fdi] = _fraction(box, size)
            if fdi != gap:
                variation = rng.randint(-8, 4) - int(distance * 22)
                colour = tuple(max(0, min(255, channel + variation)) for channel in base)
                draw.rounded_rectangle(box, radius=int(width * 0.3), fill=colour)
                # Shine on the enamel, and the warmer colour near the gum.
                draw.ellipse(
                    (x + width * 0.3, top + (bottom - top) * 0.25, x + width * 0.5, top + (bottom - top) * 0.55),
                    fill=tuple(min(255, channel + 12) for channel in colour),
                )
                neck = top if towards > 0 else bottom - 18
                draw.rounded_rectangle(
                    (x + 8, neck, x + width - 8, neck + 18), radius=8, fill=tuple(c - 16 for c in colour)
                )
                draw.line((x + 6, near, x + width - 6, near), fill=margin, width=10 if inflamed_gums else 6)
                if fdi == chipped:
                    corner_x = x + width - 4 if fdi // 10 in (1, 4) else x + 4
                    step = -width * 0.45 if fdi // 10 in (1, 4) else width * 0.45
                    draw.polygon(
                        [(corner_x, far), (corner_x + step, far), (corner_x, far - towards * 48)], fill=(62, 22, 28)
                    )
                    drawing.finding = _fraction((x - 20, far - 90, x + width + 20, far + 40), size)
                if worn and fdi % 10 in (1, 2, 3):
                    worn_edge = sorted((far - towards * 12, far))
                    draw.rectangle((x + 4, worn_edge[0], x + width - 4, worn_edge[1]), fill=(205, 186, 140))
            elif gap is not None:
                drawing.finding = _fraction((x - 20, top - 20, x + width + 20, bottom + 20), size)
            x += width - (10 if crowded else 0)
    if crowded:
        drawing.finding = drawing.finding or _fraction((centre - 160, 380, centre + 160, 620), size)
    if worn:
        drawing.finding = drawing.finding or _fraction((centre - 200, 340, centre + 200, 520), size)
    # Lips held back by the retractors.
    draw.ellipse((-200, -520, size[0] + 200, 110), fill=(186, 84, 96))
    draw.ellipse((-200, 700, size[0] + 200, 1320), fill=(186, 84, 96))
    drawing.image = _film(image, rng, blur=1.4, grain=30)
    return drawing
