"""The demo practice's treatment cases: about 150 conversations over the last three months, with
plans, options, the dentist's notes and drawn X-rays and photos.

Everything goes through the plans services, so the demo's plans pass the same checks as a
coordinator's (teeth, surfaces, areas, fees from the schedule) and leave the same audit trail.
A seeded random number generator makes two machines get the same cases; dates are relative to
today in each clinic's time zone, so the demo always looks recent.

Loaded once: an organisation that already has cases gets none.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from clearplan.accounts.models import Clinic, Membership, Organisation, User
from clearplan.catalog.models import Procedure
from clearplan.demo import pictures
from clearplan.demo.pictures import Drawing, ToothOnFilm
from clearplan.lib.teeth import Tooth, format_tooth
from clearplan.patients.models import ADULT_AGE, Patient, clinic_today
from clearplan.plans.image_services import case_image_save_markup, case_image_upload, case_images_choose_for_pack
from clearplan.plans.models import Case, CaseImage, PlanOption, PlanType
from clearplan.plans.services import (
    LineInput,
    case_create,
    case_mark_no_pack,
    line_add,
    option_add,
    option_rename,
    option_set_recommended,
)
from clearplan.plans.tasks import case_image_prepare

SEED = 20240612
TOTAL_CASES = 150
CASES_WITH_IMAGES = 40
DAYS_BACK = 90
DICOM_IMAGES = 2

# How often each kind of conversation happens in the demo, out of 150.
MIX: dict[str, int] = {
    "check_up_fillings": 36,
    "root_canal_crown": 17,
    "missing_tooth": 20,
    "dentures": 7,
    "gum_treatment": 13,
    "whitening": 10,
    "veneers": 8,
    "clear_aligners": 10,
    "childrens_orthodontics": 8,
    "child_check_up": 7,
    "night_guard": 6,
    "follow_up": 8,
}
ELECTIVE_SCENARIOS = ("whitening", "veneers", "clear_aligners")
# Ages (inclusive) of the patients each conversation suits.
AGES: dict[str, tuple[int, int]] = {
    "check_up_fillings": (18, 90),
    "root_canal_crown": (22, 85),
    "missing_tooth": (30, 85),
    "dentures": (58, 95),
    "gum_treatment": (30, 85),
    "whitening": (20, 65),
    "veneers": (20, 60),
    "clear_aligners": (18, 50),
    "childrens_orthodontics": (8, 16),
    "child_check_up": (3, 13),
    "night_guard": (22, 70),
    "follow_up": (18, 90),
}

BACK_TEETH = (14, 15, 16, 17, 24, 25, 26, 27, 34, 35, 36, 37, 44, 45, 46, 47)
FRONT_TEETH = (11, 12, 13, 21, 22, 23, 31, 32, 33, 41, 42, 43)
MOLARS = (16, 17, 26, 27, 36, 37, 46, 47)
BABY_MOLARS = (54, 55, 64, 65, 74, 75, 84, 85)
BACK_SURFACES = ("O", "O", "MO", "DO", "MO", "DO", "MOD", "MOD", "OB", "MODB", "MODBL")
FRONT_SURFACES = ("M", "D", "F", "MF", "DL", "MID", "MIDF")

WORRIES = (
    "Cost a concern — mention the payment plan.",
    "Nervous patient; likes things explained step by step.",
    "Asked about health fund rebates; check their extras limit.",
    "Wants to think it over and talk to their partner.",
    "Keen to get it done before travelling in a few weeks.",
    "Busy at work — prefers early morning appointments.",
    "Had a bad experience elsewhere; take it slowly.",
    "Happy to go ahead; just needs the costs in writing.",
)
# Every procedure the conversations below use (fillings by surface count, front and back teeth).
NEEDED_CODES = frozenset(
    (
        "011",
        "012",
        "013",
        "037",
        "071",
        "114",
        "115",
        "118",
        "119",
        "121",
        "141",
        "161",
        "221",
        "222",
        "311",
        "314",
        "415",
        "416",
        "417",
        "418",
        "613",
        "631",
        "642",
        "643",
        "661",
        "684",
        "688",
        "711",
        "721",
        "722",
        "741",
        "811",
        "821",
        "823",
        "829",
        "871",
        "965",
        "526",
        "521",
        "522",
        "523",
        "524",
        "525",
        "531",
        "532",
        "533",
        "534",
        "535",
    )
)
PLAN_TYPES = {
    "whitening": PlanType.ELECTIVE,
    "veneers": PlanType.ELECTIVE,
    "clear_aligners": PlanType.ELECTIVE,
    "childrens_orthodontics": PlanType.BOTH,
}


@dataclass
class OptionPlan:
    title: str
    summary: str = ""
    lines: list[dict[str, Any]] = field(default_factory=list)
    recommended: bool = False
    no_treatment: bool = False


@dataclass
class ImagePlan:
    kind: str
    caption: str
    draw: Callable[[random.Random], Drawing]
    mark: str = ""  # "circle", "arrow" or "box" around the finding
    colour: str = "yellow"
    dicom: bool = False


@dataclass
class CasePlan:
    scenario: str
    key_points: str
    options: list[OptionPlan]
    images: list[ImagePlan] = field(default_factory=list)
    no_pack: tuple[str, str] | None = None
    dentist: User | None = None

    @property
    def plan_type(self) -> str:
        return PLAN_TYPES.get(self.scenario, PlanType.ORAL_HEALTH)


@dataclass
class Team:
    dentists: list[User]
    hygienists: list[User]
    coordinators: list[User]


def _line(code: str, tooth: int | None = None, surfaces: str = "", area: str = "", **extra: Any) -> dict[str, Any]:
    return {"code": code, "tooth": tooth, "surfaces": surfaces, "area": area, **extra}


def _filling(tooth: int, surfaces: str, **extra: Any) -> dict[str, Any]:
    front = Tooth(tooth).is_anterior
    return _line(f"{52 if front else 53}{len(surfaces)}", tooth, surfaces, **extra)


def _arch(tooth: int) -> str:
    return "upper" if tooth // 10 in (1, 2, 5, 6) else "lower"


def _side(tooth: int) -> str:
    return "right" if tooth // 10 in (1, 4, 5, 8) else "left"


# ---------------------------------------------------------------------------
# Drawings for a case
# ---------------------------------------------------------------------------


def _bitewing_of(
    tooth: int, *, filled: tuple[int, ...] = (), bone_loss: bool = False
) -> Callable[[random.Random], Drawing]:
    """A bitewing of the side `tooth` is on, with decay on it and old fillings on `filled`."""
    right = _side(tooth) == "right"
    upper_quadrant, lower_quadrant = (1, 4) if right else (2, 3)
    # Bitewings are read as if facing the patient: their right side is on the viewer's left.
    positions = (7, 6, 5, 4) if right else (4, 5, 6, 7)

    def draw(rng: random.Random) -> Drawing:
        def row(quadrant: int) -> list[ToothOnFilm]:
            teeth = []
            for position in positions:
                fdi = quadrant * 10 + position
                teeth.append(
                    ToothOnFilm(
                        fdi,
                        width=240 if position >= 6 else 170,
                        roots=2 if position >= 6 else 1,
                        filling=fdi in filled or rng.random() < 0.2,
                        decay=rng.choice(("mesial", "distal")) if fdi == tooth else "",
                    )
                )
            return teeth

        return pictures.bitewing(row(upper_quadrant), row(lower_quadrant), rng, bone_loss=bone_loss)

    return draw


def _periapical_of(
    tooth: int, *, lesion: bool = False, root_filled: bool = False, missing: bool = False, implant: bool = False
) -> Callable[[random.Random], Drawing]:
    quadrant, position = divmod(tooth, 10)
    neighbours = [p for p in (position - 1, position, position + 1) if 1 <= p <= 8][:3]

    def draw(rng: random.Random) -> Drawing:
        teeth = [
            ToothOnFilm(
                quadrant * 10 + p,
                width=240 if p >= 6 else 170,
                roots=2 if p >= 6 else 1,
                filling=p == position and not missing and not implant,
                decay="distal" if p == position and lesion else "",
                lesion=p == position and lesion,
                root_filled=p == position and root_filled,
                crowned=p == position and root_filled,
                missing=p == position and (missing or implant),
            )
            for p in neighbours
        ]
        return pictures.periapical(teeth, rng, upper=quadrant in (1, 2), implant_at=tooth if implant else None)

    return draw


def _photo(**options: Any) -> Callable[[random.Random], Drawing]:
    def draw(rng: random.Random) -> Drawing:
        return pictures.mouth_photo(rng, **options)

    return draw


# ---------------------------------------------------------------------------
# The conversations
# ---------------------------------------------------------------------------


def _check_up_fillings(rng: random.Random, patient: Patient) -> CasePlan:
    teeth = rng.sample(BACK_TEETH, rng.choice((1, 1, 2, 2, 3)))
    if rng.random() < 0.2:
        teeth.append(rng.choice([t for t in FRONT_TEETH if t not in teeth]))
    lines = [_line("011" if rng.random() < 0.15 else "012"), _line("114")]
    found = []
    for tooth in teeth:
        surfaces = rng.choice(BACK_SURFACES if Tooth(tooth).is_posterior else FRONT_SURFACES)
        lines.append(_filling(tooth, surfaces, phase=2 if len(lines) > 3 else 1))
        found.append(f"{tooth} {surfaces}")
    old_amalgam = rng.random() < 0.4
    notes = (
        f"Check-up and clean. Decay {', '.join(found)} on bitewings"
        + (" — under the old amalgam on " + str(teeth[0]) if old_amalgam else "")
        + ". "
        + rng.choice(("Gums healthy.", "Some calculus lower front, bleeding 31–41.", "Gums fine, flossing improving."))
        + " "
        + rng.choice(WORRIES)
    )
    options = [OptionPlan(f"Fillings on {', '.join(str(t) for t in teeth)}", lines=lines, recommended=True)]
    if rng.random() < 0.3:
        options.append(
            OptionPlan(
                "No treatment",
                summary="Small areas of decay usually grow without pain until they reach the nerve; "
                "by then a root canal or removal may be needed instead of a filling.",
                no_treatment=True,
            )
        )
    back = teeth[0]
    images = [
        ImagePlan(
            "xray",
            f"Bitewing, {_side(back)} side: decay on {back}",
            _bitewing_of(back),
            mark=rng.choice(("circle", "arrow")),
        )
    ]
    return CasePlan("check_up_fillings", notes, options, images)


def _root_canal_crown(rng: random.Random, patient: Patient) -> CasePlan:
    tooth = rng.choice((*MOLARS, 14, 15, 24, 25, 34, 35, 44, 45))
    canals = 3 if tooth in MOLARS else rng.choice((1, 2))
    save = [_line("415", tooth), _line("417", tooth)]
    if canals > 1:
        save[1:1] = [_line("416", tooth, quantity=canals - 1)]
        save.append(_line("418", tooth, quantity=canals - 1))
    save.append(_line("631", tooth, note="Protects the tooth until the crown is made."))
    save.append(_line("613", tooth, phase=2, note="About four weeks after the root canal is finished."))
    extraction_code = "314" if tooth in MOLARS else "311"
    cause = rng.choice(
        (
            f"Cracked {tooth}, large amalgam.",
            f"{tooth} sensitive to hot for two weeks, lingering pain at night.",
            f"Deep decay under the old filling on {tooth}, close to the nerve.",
            f"{tooth} broke eating toast on the weekend; tender to bite.",
        )
    )
    notes = (
        f"{cause} X-ray shows a shadow at the root tip. Discussed root canal and crown versus removal. "
        + rng.choice(("Patient keen to keep the tooth; ", "Would rather save it if possible; ", "Unsure; "))
        + rng.choice(WORRIES).lower()
    )
    options = [
        OptionPlan(
            "Option A: save the tooth",
            summary="A root canal treatment removes the infection inside the tooth; a crown then protects it "
            "from breaking.",
            lines=save,
            recommended=True,
        ),
        OptionPlan(
            "Option B: remove the tooth",
            summary="Removing the tooth ends the infection. The gap can be filled later with an implant, a "
            "bridge or a denture.",
            lines=[_line(extraction_code, tooth)],
        ),
    ]
    if rng.random() < 0.4:
        options.append(
            OptionPlan(
                "No treatment",
                summary="The infection is likely to flare up again, sometimes with swelling, and the tooth may "
                "crack further until it cannot be saved.",
                no_treatment=True,
            )
        )
    images = [
        ImagePlan(
            "xray",
            f"X-ray of {tooth}: decay reaching the nerve and a shadow at the root tip",
            _periapical_of(tooth, lesion=True),
            mark="circle",
            colour="red",
        )
    ]
    if rng.random() < 0.5:
        images.append(ImagePlan("photo", "The front teeth today, for comparison after treatment", _photo()))
    return CasePlan("root_canal_crown", notes, options, images)


def _missing_tooth(rng: random.Random, patient: Patient) -> CasePlan:
    tooth = rng.choice((14, 15, 16, 24, 25, 26, 34, 35, 36, 44, 45, 46))
    quadrant, position = divmod(tooth, 10)
    front_neighbour, back_neighbour = quadrant * 10 + position - 1, quadrant * 10 + position + 1
    to_remove = rng.random() < 0.65
    removal = [_line("311", tooth)] if to_remove else []
    later = 2 if to_remove else 1
    implant = [
        *removal,
        _line("684", tooth, phase=later, note="About three months after the tooth is removed, once the bone heals."),
        _line("688", tooth, phase=later + 1),
        _line("661", tooth, phase=later + 1),
    ]
    bridge = [
        *removal,
        _line("643", front_neighbour, phase=later),
        _line("642", tooth, phase=later),
        _line("643", back_neighbour, phase=later),
    ]
    denture_code = "721" if _arch(tooth) == "upper" else "722"
    denture = [*removal, _line(denture_code, area=_arch(tooth), phase=later)]
    options = [
        OptionPlan(
            "Option A: implant",
            summary="A titanium post in the bone replaces the root, with a crown on top. It stands on its own "
            "and feels most like a natural tooth.",
            lines=implant,
        ),
        OptionPlan(
            "Option B: bridge",
            summary="The teeth either side are crowned and hold a false tooth between them. Quicker than an "
            "implant, but the neighbouring teeth are shaped for it.",
            lines=bridge,
        ),
    ]
    if rng.random() < 0.5:
        options.append(
            OptionPlan(
                "Option C: partial denture",
                summary="A removable plate with a false tooth. The lowest cost, taken out to clean.",
                lines=denture,
            )
        )
    if rng.random() < 0.4:
        options.append(
            OptionPlan(
                "No treatment",
                summary="The teeth next to a gap slowly lean into it and the opposite tooth can grow down, "
                "which makes a later implant or bridge harder.",
                no_treatment=True,
            )
        )
    recommended = 1 if rng.random() < 0.25 else 0
    options[recommended].recommended = True
    history = (
        f"{tooth} cracked below the gum line, can't be restored."
        if to_remove
        else f"{tooth} removed about {rng.randint(2, 9)} years ago; {front_neighbour} starting to tip into the gap."
    )
    notes = (
        f"{history} Implant vs bridge vs denture discussed. "
        + rng.choice(
            (
                "Good bone on the X-ray for an implant.",
                f"{front_neighbour} already has a large filling, so a bridge is reasonable.",
                "Non-smoker, healthy gums — good implant candidate.",
            )
        )
        + " "
        + rng.choice(WORRIES)
    )
    images = [
        ImagePlan(
            "xray",
            f"X-ray of {tooth}" + (": crack through the root" if to_remove else ": the gap and the bone available"),
            _periapical_of(tooth, missing=not to_remove, lesion=to_remove),
            mark="circle" if to_remove else "box",
        )
    ]
    if tooth in pictures.UPPER_FRONT + pictures.LOWER_FRONT and not to_remove and rng.random() < 0.7:
        images.append(ImagePlan("photo", f"The gap at {tooth}", _photo(gap=tooth), mark="circle", colour="green"))
    return CasePlan("missing_tooth", notes, options, images)


def _dentures(rng: random.Random, patient: Patient) -> CasePlan:
    loose = rng.sample((17, 27, 16, 26, 12, 22), 2)
    partial = [_line("311", tooth) for tooth in loose] + [_line("721", area="upper", phase=2)]
    full = [_line("311", tooth) for tooth in loose] + [
        _line("711", area="upper", phase=2),
        _line("741", area="upper", phase=3, quantity=2),
    ]
    notes = (
        f"Upper partial denture loose and cracked, over ten years old. {loose[0]} and {loose[1]} mobile, poor "
        "outlook. Wants to chew properly again. "
        + rng.choice(
            (
                "Daughter coming to the next visit.",
                "Pensioner — costs matter.",
                "Wears the denture at night; discussed taking it out.",
            )
        )
    )
    options = [
        OptionPlan(
            "Option A: new partial denture",
            summary="The loose teeth are removed and a new plate fits around the teeth that are still strong.",
            lines=partial,
            recommended=True,
        ),
        OptionPlan(
            "Option B: full upper denture",
            summary="All upper teeth replaced by one plate; simplest to look after, takes a few weeks to get used to.",
            lines=full,
        ),
    ]
    images = [
        ImagePlan(
            "photo",
            "Upper teeth and the old denture's clasps",
            _photo(shade="stained", gap=rng.choice((12, 22))),
            mark="circle",
        )
    ]
    return CasePlan("dentures", notes, options, images)


def _gum_treatment(rng: random.Random, patient: Patient) -> CasePlan:
    teeth = sorted(rng.sample((16, 17, 26, 27, 36, 37, 46, 47, 31, 41, 32, 42), rng.randint(6, 10)))
    lines = (
        [_line("221")]
        + [_line("222", tooth) for tooth in teeth]
        + [
            _line("141"),
            _line("115", phase=2, note="Review of the gums about eight weeks later."),
        ]
    )
    notes = (
        f"Bleeding on probing throughout, 5–6 mm pockets at {', '.join(str(t) for t in teeth[:4])}. "
        "Bone loss on bitewings. "
        + rng.choice(
            (
                "Smoker, ten a day — discussed quitting support.",
                "Type 2 diabetes, last HbA1c 7.9.",
                "Brushes once a day, no flossing.",
            )
        )
        + " Explained this is about keeping the teeth long-term."
    )
    options = [
        OptionPlan(
            "Gum treatment",
            summary="A deep clean below the gum on the affected teeth over two visits, "
            "then a check that the gums have settled.",
            lines=lines,
            recommended=True,
        ),
        OptionPlan(
            "No treatment",
            summary="Gum disease usually progresses without pain; over years teeth can loosen and may be lost.",
            no_treatment=True,
        ),
    ]
    images = [
        ImagePlan(
            "xray", "Bitewing, right side: bone level below the crowns", _bitewing_of(46, bone_loss=True), mark="box"
        ),
        ImagePlan("xray", "Bitewing, left side", _bitewing_of(36, bone_loss=True)),
    ]
    return CasePlan("gum_treatment", notes, options, images)


def _whitening(rng: random.Random, patient: Patient) -> CasePlan:
    take_home = [_line("114"), _line("119", area="upper", phase=2), _line("119", area="lower", phase=2)]
    in_chair = [_line("114")] + [_line("118", tooth, phase=2) for tooth in (13, 12, 11, 21, 22, 23)]
    notes = (
        "Wants a brighter smile "
        + rng.choice(("for a wedding in eight weeks.", "— coffee and tea staining.", "before starting a new job."))
        + " Old composite on 11 won't change colour; may want it replaced afterwards. "
        + rng.choice(("Mild sensitivity on 14/24 — use desensitising gel.", "No sensitivity.", "Cost a concern."))
    )
    options = [
        OptionPlan(
            "Option A: take-home whitening",
            summary="Custom trays worn at home for two to three weeks.",
            lines=take_home,
            recommended=True,
        ),
        OptionPlan(
            "Option B: whitening in the chair",
            summary="One longer visit for a quick result; some sensitivity for a day or two is common.",
            lines=in_chair,
        ),
    ]
    images = [ImagePlan("photo", "Smile today, before whitening", _photo(shade="stained"))]
    return CasePlan("whitening", notes, options, images)


def _veneers(rng: random.Random, patient: Patient) -> CasePlan:
    chipped = rng.choice((11, 21))
    veneers = [_line("526", tooth) for tooth in (12, 11, 21, 22)]
    bonding = [_line("119", area="upper"), _line("119", area="lower"), _filling(chipped, "MI", phase=2)]
    notes = (
        f"Chipped edge on {chipped} " + rng.choice(("(netball).", "(bit a fork).", "years ago, repaired twice.")) + " "
        "Old staining around the composites on 11/21. Wants a natural look, not 'too white'. "
        "Discussed bonding vs veneers; will think about it."
    )
    options = [
        OptionPlan(
            "Option A: four veneers",
            summary="Thin tooth-coloured facings on the four front teeth, made in the chair to match.",
            lines=veneers,
            recommended=True,
        ),
        OptionPlan(
            "Option B: whitening and a repair",
            summary="Whiten first, then rebuild the chipped edge to match the new colour.",
            lines=bonding,
        ),
    ]
    images = [
        ImagePlan("photo", f"The chipped edge on {chipped}", _photo(chipped=chipped), mark="circle", colour="yellow")
    ]
    if rng.random() < 0.5:
        images.append(ImagePlan("photo", "Smile from the front", _photo()))
    return CasePlan("veneers", notes, options, images)


def _clear_aligners(rng: random.Random, patient: Patient) -> CasePlan:
    both = [
        _line("071", area="upper"),
        _line("071", area="lower"),
        _line("829", area="upper", phase=2),
        _line("829", area="lower", phase=2),
        _line("811", area="upper", phase=3),
        _line("811", area="lower", phase=3),
    ]
    upper_only = [_line("071", area="upper"), _line("829", area="upper", phase=2), _line("811", area="upper", phase=3)]
    notes = (
        rng.choice(
            (
                "Crowding lower front, 31/41 overlapping.",
                "Gap between 11 and 21, about 2 mm.",
                "Upper 12 sits behind, crossbite.",
            )
        )
        + " Bite otherwise fine. Scan taken today for the aligner simulation. "
        + rng.choice(
            (
                "Wants it done before a wedding next year.",
                "Happy to wear them 22 hours a day.",
                "Asked about payment over 12 months.",
            )
        )
    )
    options = [
        OptionPlan(
            "Option A: clear aligners, both arches",
            summary="About 12–18 months of aligners, then retainers to hold the result.",
            lines=both,
            recommended=True,
        ),
        OptionPlan(
            "Option B: clear aligners, upper only",
            summary="Straightens the upper teeth only; quicker and lower cost, the lower crowding stays.",
            lines=upper_only,
        ),
    ]
    images = [
        ImagePlan("photo", "Front view: crowding of the front teeth", _photo(crowded=True), mark="arrow", colour="blue")
    ]
    return CasePlan("clear_aligners", notes, options, images)


def _childrens_orthodontics(rng: random.Random, patient: Patient) -> CasePlan:
    guardian = (patient.guardian_name or "Parent").split()[0]
    now = [
        _line("037"),
        _line("071", area="upper"),
        _line("071", area="lower"),
        _line("823", phase=2),
        _line("871", phase=3, quantity=6, note="Every six to eight weeks."),
    ]
    removable = [_line("071", area="upper"), _line("821", area="upper", phase=2), _line("871", phase=3, quantity=4)]
    notes = (
        f"{patient.first_name}, {patient.age}: "
        + rng.choice(
            (
                "upper front teeth stick out, overjet 8 mm, lip trapping.",
                "crossbite on the right side.",
                "crowding, upper canines coming in high.",
            )
        )
        + " Good time to use growth. "
        + f"{guardian} asked about the cost over 18 months. Good brushing."
    )
    options = [
        OptionPlan(
            "Option A: growth-guiding appliance now",
            summary="A removable appliance that guides the jaws while your child is still growing.",
            lines=now,
            recommended=True,
        ),
        OptionPlan(
            "Option B: upper removable brace",
            summary="Moves the upper teeth only; a simpler start, with a review in a year.",
            lines=removable,
        ),
    ]
    images = [ImagePlan("photo", "Front teeth and bite", _photo(crowded=True), mark="arrow", colour="yellow")]
    if rng.random() < 0.5:
        images.append(ImagePlan("xray", "Bitewing, right side", _bitewing_of(46)))
    return CasePlan("childrens_orthodontics", notes, options, images)


def _child_check_up(rng: random.Random, patient: Patient) -> CasePlan:
    lines = [_line("012"), _line("121")]
    if patient.age >= 6:
        lines += [_line("161", 36), _line("161", 46)]
    if patient.age <= 10:
        tooth = rng.choice(BABY_MOLARS)
        lines.append(_filling(tooth, rng.choice(("O", "DO", "MO"))))
        found = f"Small decay on baby tooth {tooth}."
    else:
        found = "No decay."
    sealants = " Sealants for the new molars." if patient.age >= 6 else ""
    guardian = (patient.guardian_name or "Parent").split()[0]
    notes = f"{patient.first_name}'s check-up. {found}{sealants} {guardian} to help with brushing at night."
    return CasePlan("child_check_up", notes, [OptionPlan("Check-up and prevention", lines=lines, recommended=True)])


def _night_guard(rng: random.Random, patient: Patient) -> CasePlan:
    notes = "Worn edges on the lower front teeth, jaw tight in the mornings; partner hears grinding. " + rng.choice(
        ("Small chip 36 MO — watch.", "Headaches most mornings.", "Stressful year at work.")
    )
    options = [
        OptionPlan(
            "Night guard",
            summary="A hard plastic guard worn at night protects the teeth from grinding.",
            lines=[_line("965", area="upper")],
            recommended=True,
        ),
        OptionPlan(
            "No treatment",
            summary="Grinding usually continues; the edges keep wearing and fillings or teeth can crack.",
            no_treatment=True,
        ),
    ]
    images = [ImagePlan("photo", "Worn edges of the front teeth", _photo(worn=True), mark="box", colour="white")]
    return CasePlan("night_guard", notes, options, images)


def _follow_up(rng: random.Random, patient: Patient) -> CasePlan:
    tooth = rng.choice(MOLARS)
    kind = rng.choice(("root_canal", "review", "denture"))
    if kind == "root_canal":
        lines = [_line("417", tooth), _line("418", tooth, quantity=2)]
        notes = f"Second visit of the root canal on {tooth}: canals filled. Planned at the first visit."
        reason = (Case.NoPackReason.PROCEDURAL_FOLLOW_UP, "Second stage of the root canal; costs already agreed.")
    elif kind == "review":
        lines = [_line("013")]
        notes = f"Review of {tooth} after the filling: comfortable, bite fine."
        reason = (Case.NoPackReason.NO_NEW_INFORMATION, f"Check of {tooth}; nothing new to decide.")
    else:
        lines = [_line("741", area="lower")]
        notes = "Lower denture rubbing near 44. Eased the edge."
        reason = (Case.NoPackReason.PROCEDURAL_FOLLOW_UP, "Adjustment of the denture made here last month.")
    return CasePlan("follow_up", notes, [OptionPlan("Follow-up", lines=lines, recommended=True)], no_pack=reason)


SCENARIOS: dict[str, Callable[[random.Random, Patient], CasePlan]] = {
    "check_up_fillings": _check_up_fillings,
    "root_canal_crown": _root_canal_crown,
    "missing_tooth": _missing_tooth,
    "dentures": _dentures,
    "gum_treatment": _gum_treatment,
    "whitening": _whitening,
    "veneers": _veneers,
    "clear_aligners": _clear_aligners,
    "childrens_orthodontics": _childrens_orthodontics,
    "child_check_up": _child_check_up,
    "night_guard": _night_guard,
    "follow_up": _follow_up,
}


# ---------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------


def load_demo_cases(organisation: Organisation) -> int:
    """Add the demo's cases unless the organisation has cases already; returns how many were added."""
    if Case.objects.filter(clinic__organisation=organisation).exists():
        return 0
    procedures = {
        procedure.code: procedure for procedure in Procedure.objects.filter(organisation=organisation).active()
    }
    if not set(procedures) >= NEEDED_CODES:
        # The catalogue has been changed by hand; cases built on missing procedures would be refused.
        return 0
    clinics = list(organisation.clinics.order_by("pk"))
    patients = {
        clinic.pk: list(
            Patient.objects.filter(clinic=clinic).select_related("clinic", "primary_dentist").order_by("pk")
        )
        for clinic in clinics
    }
    total_patients = sum(len(found) for found in patients.values()) or 1
    rng = random.Random(SEED)  # noqa: S311 - repeatable made-up cases, not security
    made: list[tuple[Case, CasePlan]] = []
    with transaction.atomic():
        for clinic in clinics:
            team = _team(clinic)
            if not team.dentists or not team.coordinators or not patients[clinic.pk]:
                continue
            share = round(TOTAL_CASES * len(patients[clinic.pk]) / total_patients)
            scenarios = _scenarios_for(share, rng)
            chosen = _patients_for(scenarios, patients[clinic.pk], rng)
            today = clinic_today(clinic)
            for scenario, patient in zip(scenarios, chosen, strict=True):
                if patient is None:
                    continue
                plan = SCENARIOS[scenario](rng, patient)
                day = today - timedelta(days=min(int(rng.expovariate(1 / 30)), DAYS_BACK - 1))
                made.append((_save(plan, patient=patient, day=day, team=team, procedures=procedures, rng=rng), plan))
        _add_images(made, rng)
    return len(made)


def _team(clinic: Clinic) -> Team:
    memberships = list(clinic.memberships.select_related("user").order_by("pk"))
    practitioners = [m for m in memberships if m.role == Membership.Role.PRACTITIONER]
    coordinators = [m.user for m in memberships if m.role == Membership.Role.COORDINATOR] or [
        m.user for m in memberships if m.role == Membership.Role.MANAGER
    ]
    return Team(
        dentists=[m.user for m in practitioners if m.clinical_role == Membership.ClinicalRole.DENTIST],
        hygienists=[
            m.user
            for m in practitioners
            if m.clinical_role in (Membership.ClinicalRole.HYGIENIST, Membership.ClinicalRole.ORAL_HEALTH_THERAPIST)
        ],
        coordinators=coordinators,
    )


def _scenarios_for(count: int, rng: random.Random) -> list[str]:
    """`count` conversations in the proportions of MIX, every kind at least once."""
    total = sum(MIX.values())
    wanted = {name: max(1, int(count * weight / total)) for name, weight in MIX.items()}
    by_share = sorted(MIX, key=lambda name: -(count * MIX[name] / total - wanted[name]))
    index = 0
    while sum(wanted.values()) < count:
        wanted[by_share[index % len(by_share)]] += 1
        index += 1
    scenarios = [name for name, times in wanted.items() for _ in range(times)]
    rng.shuffle(scenarios)
    return scenarios


def _patients_for(scenarios: list[str], patients: list[Patient], rng: random.Random) -> list[Patient | None]:
    """A suitable patient for each conversation: of the right age, preferring someone without a case yet."""
    ages = {patient.pk: patient.age for patient in patients}
    used: set[int] = set()
    chosen: list[Patient | None] = []
    # The rarer kinds choose first, so the few children are not all taken by check-ups.
    order = sorted(range(len(scenarios)), key=lambda i: (AGES[scenarios[i]][1] - AGES[scenarios[i]][0], i))
    picks: dict[int, Patient | None] = {}
    for index in order:
        low, high = AGES[scenarios[index]]
        suitable = [patient for patient in patients if low <= ages[patient.pk] <= high]
        if scenarios[index] in ("childrens_orthodontics", "child_check_up"):
            suitable = [patient for patient in suitable if ages[patient.pk] < ADULT_AGE and patient.guardian_name]
        fresh = [patient for patient in suitable if patient.pk not in used]
        pick = rng.choice(fresh or suitable) if suitable else None
        if pick is not None:
            used.add(pick.pk)
        picks[index] = pick
    for index in range(len(scenarios)):
        chosen.append(picks[index])
    return chosen


def _save(
    plan: CasePlan,
    *,
    patient: Patient,
    day: date,
    team: Team,
    procedures: dict[str, Procedure],
    rng: random.Random,
) -> Case:
    clinic = patient.clinic
    dentist = patient.primary_dentist if patient.primary_dentist in team.dentists else rng.choice(team.dentists)
    if plan.scenario == "gum_treatment" and team.hygienists and rng.random() < 0.5:
        dentist = rng.choice(team.hygienists)
    coordinator = rng.choice(team.coordinators)
    case = case_create(
        patient=patient,
        dentist=dentist,
        coordinator=coordinator,
        conversation_date=day,
        plan_type=plan.plan_type,
        key_points=plan.key_points,
        by=coordinator,
    )
    system = clinic.tooth_numbering
    for position, option_plan in enumerate(plan.options):
        if position == 0:
            option = case.options.get()
            option = option_rename(option=option, title=option_plan.title, summary=option_plan.summary, by=coordinator)
        elif option_plan.no_treatment:
            option = option_add(case=case, kind=PlanOption.Kind.NO_TREATMENT, by=coordinator)
            option = option_rename(option=option, title=option.title, summary=option_plan.summary, by=coordinator)
        else:
            option = option_add(case=case, title=option_plan.title, by=coordinator)
            option = option_rename(option=option, title=option.title, summary=option_plan.summary, by=coordinator)
        if option_plan.recommended and position > 0:
            option_set_recommended(option=option, by=coordinator)
        for line in option_plan.lines:
            line_add(
                option=option,
                data=LineInput(
                    procedure=procedures[line["code"]],
                    tooth=format_tooth(line["tooth"], system) if line["tooth"] else "",
                    surfaces=line["surfaces"],
                    area=line["area"],
                    quantity=line.get("quantity", 1),
                    phase=line.get("phase", 1),
                    note=line.get("note", ""),
                ),
                by=coordinator,
            )
    if plan.no_pack is not None:
        reason, note = plan.no_pack
        case = case_mark_no_pack(case=case, reason=reason, note=note, by=coordinator)
    return case


def _add_images(cases: list[tuple[Case, CasePlan]], rng: random.Random) -> None:
    """Pictures for about 40 cases: every kind with pictures gets some, the rest chosen at random.
    The first X-ray of the first root canal cases arrives as DICOM, as imaging software exports it."""
    with_pictures = [(case, plan) for case, plan in cases if plan.images]
    first_of_each: dict[str, tuple[Case, CasePlan]] = {}
    for case, plan in with_pictures:
        first_of_each.setdefault(plan.scenario, (case, plan))
    firsts = list(first_of_each.values())
    others = [item for item in with_pictures if item not in firsts]
    chosen = firsts + rng.sample(others, max(0, min(len(others), CASES_WITH_IMAGES - len(firsts))))
    dicom_left = DICOM_IMAGES
    for case, plan in sorted(chosen, key=lambda item: item[0].pk):
        stored = []
        for number, image_plan in enumerate(plan.images[:3]):
            as_dicom = image_plan.kind == "xray" and number == 0 and plan.scenario == "root_canal_crown"
            as_dicom = as_dicom and dicom_left > 0
            dicom_left -= as_dicom
            stored.append(_upload(case, image_plan, rng=rng, as_dicom=as_dicom))
        case_images_choose_for_pack(
            case=case,
            chosen=[(image, None) for image in stored],
            confirmed=False,
            by=case.coordinator or case.dentist,
            request=None,
        )


def _upload(case: Case, image_plan: ImagePlan, *, rng: random.Random, as_dicom: bool) -> CaseImage:
    by = case.coordinator or case.dentist
    drawing = image_plan.draw(rng)
    patient = case.patient
    if as_dicom:
        content = pictures.dicom_from(
            drawing,
            family_name=patient.last_name,
            given_name=patient.first_name,
            patient_id=patient.pms_id or str(patient.public_id)[:8],
            study_date=case.conversation_date,
        )
        name = "xray.dcm"
    else:
        content, name = drawing.jpeg(), "picture.jpg"
    result = case_image_upload(
        case=case,
        file=SimpleUploadedFile(name, content),
        kind=CaseImage.Kind.XRAY if image_plan.kind == "xray" else CaseImage.Kind.PHOTO,
        caption=image_plan.caption,
        by=by,
        request=None,
    )
    image = result.image
    assert image is not None
    # The web sizes are made now rather than by the worker, so the demo shows pictures straight away.
    case_image_prepare.call(image_id=str(image.public_id))
    if image_plan.mark and drawing.finding is not None:
        case_image_save_markup(image=image, markup=[_mark(image_plan, drawing.finding)], by=by, request=None)
    return image


def _mark(image_plan: ImagePlan, finding: tuple[float, float, float, float]) -> dict[str, Any]:
    x, y, width, height = finding

    def inside(value: float) -> float:
        return round(min(max(value, 0.0), 1.0), 4)

    if image_plan.mark == "circle":
        return {
            "type": "circle",
            "colour": image_plan.colour,
            "cx": inside(x),
            "cy": inside(y),
            "rx": inside(width / 2),
            "ry": inside(height / 2),
        }
    if image_plan.mark == "box":
        left, top = inside(x - width / 2), inside(y - height / 2)
        return {
            "type": "box",
            "colour": image_plan.colour,
            "x": left,
            "y": top,
            "w": inside(min(width, 1 - left)),
            "h": inside(min(height, 1 - top)),
        }
    # An arrow from below and to the right, its head at the edge of what it points at.
    head_x, head_y = x + width * 0.4, y + height * 0.4
    return {
        "type": "arrow",
        "colour": image_plan.colour,
        "x1": inside(head_x + 0.14),
        "y1": inside(head_y + 0.14),
        "x2": inside(head_x),
        "y2": inside(head_y),
    }
