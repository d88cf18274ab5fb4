"""Teeth, surfaces, arches and quadrants: stored one way, typed and shown the clinic's way.

Every tooth is stored as its FDI (ISO 3950) two-digit code, whatever the clinic uses, so
plans, dependency rules ("crown after root canal on the same tooth") and reports compare
like with like. A clinic's `tooth_numbering` ("fdi", "universal" or "palmer") only decides
how a tooth is typed and shown:

- FDI: quadrant digit then tooth digit. Adult teeth 11–18, 21–28, 31–38, 41–48;
  baby teeth 51–55, 61–65, 71–75, 81–85.
- Universal: adult teeth 1–32, starting at the upper right wisdom tooth (1 = FDI 18),
  across to the upper left (16 = FDI 28), down to the lower left (17 = FDI 38) and back
  to the lower right (32 = FDI 48). Baby teeth A–T in the same path (A = FDI 55,
  J = FDI 65, K = FDI 75, T = FDI 85). "#14" and "14" are both accepted.
- Palmer: the quadrant as letters, then the tooth: "UR6", "LLD". The Palmer grid symbol
  (┘└┐┌) is not on a keyboard and reads badly to screen readers, so Clearplan writes the
  quadrant as UR, UL, LL or LR instead, in capitals with no space ("UR6", "ULA"). Typing
  accepts lower case and a space ("ur 6").

Surfaces use the usual single letters, stored canonically:

- M mesial, D distal, L lingual (the tongue or palate side; P "palatal" is read as L);
- the biting surface is O occlusal on back teeth (premolars, molars) and I incisal on
  front teeth (incisors, canines), and the other one does not exist on that tooth;
- the cheek or lip side is B buccal on back teeth and F facial on front teeth. Either
  letter (or V vestibular, or "La" labial) is accepted when typed and stored as the one
  that fits the tooth, so "B" on tooth 11 is stored as F.

Surfaces come back in the conventional order M, O/I, D, B/F, L, so "DOM" is "MOD".

Nothing here touches Django, so forms, services, imports and the API share one set of rules.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import IntEnum, StrEnum


class ToothError(ValueError):
    """Input that is not a tooth, surface, arch or quadrant. `message` is written for the
    person who typed it and can be shown at the field as it stands."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Numbering(StrEnum):
    """The same values as `Clinic.ToothNumbering`."""

    FDI = "fdi"
    UNIVERSAL = "universal"
    PALMER = "palmer"


class Arch(StrEnum):
    UPPER = "upper"
    LOWER = "lower"

    @property
    def label(self) -> str:
        return self.value


class Quadrant(IntEnum):
    """Numbered as the FDI adult quadrants; a baby tooth's quadrant (FDI 5–8) is the same
    part of the mouth, so it maps to the same member."""

    UPPER_RIGHT = 1
    UPPER_LEFT = 2
    LOWER_LEFT = 3
    LOWER_RIGHT = 4

    @property
    def code(self) -> str:
        """The letters used in Palmer notation and on charts: "UR", "UL", "LL", "LR"."""
        return _QUADRANT_CODES[self]

    @property
    def label(self) -> str:
        """Plain words for a page: "upper right"."""
        return self.name.lower().replace("_", " ")

    @property
    def arch(self) -> Arch:
        return Arch.UPPER if self in (Quadrant.UPPER_RIGHT, Quadrant.UPPER_LEFT) else Arch.LOWER


_QUADRANT_CODES = {
    Quadrant.UPPER_RIGHT: "UR",
    Quadrant.UPPER_LEFT: "UL",
    Quadrant.LOWER_LEFT: "LL",
    Quadrant.LOWER_RIGHT: "LR",
}


class ToothKind(StrEnum):
    INCISOR = "incisor"
    CANINE = "canine"
    PREMOLAR = "premolar"
    MOLAR = "molar"


_PERMANENT_KINDS = {
    1: ToothKind.INCISOR,
    2: ToothKind.INCISOR,
    3: ToothKind.CANINE,
    4: ToothKind.PREMOLAR,
    5: ToothKind.PREMOLAR,
    6: ToothKind.MOLAR,
    7: ToothKind.MOLAR,
    8: ToothKind.MOLAR,
}
# Baby teeth have no premolars: the two back ones are molars that premolars later replace.
_PRIMARY_KINDS = {
    1: ToothKind.INCISOR,
    2: ToothKind.INCISOR,
    3: ToothKind.CANINE,
    4: ToothKind.MOLAR,
    5: ToothKind.MOLAR,
}
_PERMANENT_NAMES = {
    1: "central incisor",
    2: "lateral incisor",
    3: "canine",
    4: "first premolar",
    5: "second premolar",
    6: "first molar",
    7: "second molar",
    8: "wisdom tooth",
}
_PRIMARY_NAMES = {
    1: "baby central incisor",
    2: "baby lateral incisor",
    3: "baby canine",
    4: "first baby molar",
    5: "second baby molar",
}

ALL_PERMANENT: tuple[int, ...] = tuple(q * 10 + position for q in (1, 2, 3, 4) for position in range(1, 9))
ALL_PRIMARY: tuple[int, ...] = tuple(q * 10 + position for q in (5, 6, 7, 8) for position in range(1, 6))
ALL_TEETH: tuple[int, ...] = ALL_PERMANENT + ALL_PRIMARY
_VALID_FDI = frozenset(ALL_TEETH)


def is_valid_fdi(fdi: int) -> bool:
    return fdi in _VALID_FDI


@dataclass(frozen=True, order=True)
class Tooth:
    """One tooth, by its FDI code. `Tooth(36)` checks the code and raises ToothError if
    it is not a tooth."""

    fdi: int

    def __post_init__(self) -> None:
        # bool is an int, and Tooth(True) would otherwise pass for tooth 1 of nothing.
        if isinstance(self.fdi, bool) or not isinstance(self.fdi, int) or self.fdi not in _VALID_FDI:
            raise ToothError(f"{self.fdi!r} is not an FDI tooth code.")

    @property
    def is_primary(self) -> bool:
        return self.fdi >= 51

    @property
    def quadrant(self) -> Quadrant:
        digit = self.fdi // 10
        return Quadrant(digit - 4 if digit > 4 else digit)

    @property
    def position(self) -> int:
        """1 for the central incisor, counting back to 8 (adult) or 5 (baby)."""
        return self.fdi % 10

    @property
    def arch(self) -> Arch:
        return self.quadrant.arch

    @property
    def kind(self) -> ToothKind:
        return (_PRIMARY_KINDS if self.is_primary else _PERMANENT_KINDS)[self.position]

    @property
    def is_anterior(self) -> bool:
        return self.kind in (ToothKind.INCISOR, ToothKind.CANINE)

    @property
    def is_posterior(self) -> bool:
        return not self.is_anterior

    @property
    def description(self) -> str:
        """Plain words for a patient or receptionist: "lower left first molar"."""
        names = _PRIMARY_NAMES if self.is_primary else _PERMANENT_NAMES
        return f"{self.quadrant.label} {names[self.position]}"

    def label(self, system: str) -> str:
        return format_tooth(self.fdi, system)


def _numbering(system: str) -> Numbering:
    try:
        return Numbering(system)
    except ValueError:
        # A wrong system is a programming mistake, not something a user typed.
        raise ValueError(f"Unknown tooth numbering system {system!r}.") from None


# Universal numbering walks the mouth in one path: upper right to upper left, then lower
# left to lower right. Listing the FDI codes in that order gives both directions of the map.
_UNIVERSAL_PERMANENT_PATH = (
    [10 + p for p in range(8, 0, -1)]
    + [20 + p for p in range(1, 9)]
    + [30 + p for p in range(8, 0, -1)]
    + [40 + p for p in range(1, 9)]
)
_UNIVERSAL_PRIMARY_PATH = (
    [50 + p for p in range(5, 0, -1)]
    + [60 + p for p in range(1, 6)]
    + [70 + p for p in range(5, 0, -1)]
    + [80 + p for p in range(1, 6)]
)
_UNIVERSAL_LETTERS = "ABCDEFGHIJKLMNOPQRST"
_UNIVERSAL_TO_FDI: dict[str, int] = {str(number): fdi for number, fdi in enumerate(_UNIVERSAL_PERMANENT_PATH, start=1)}
_UNIVERSAL_TO_FDI.update(zip(_UNIVERSAL_LETTERS, _UNIVERSAL_PRIMARY_PATH, strict=True))
_FDI_TO_UNIVERSAL = {fdi: universal for universal, fdi in _UNIVERSAL_TO_FDI.items()}

_PALMER_PRIMARY_LETTERS = "ABCDE"
_CODE_TO_QUADRANT = {code: quadrant for quadrant, code in _QUADRANT_CODES.items()}

_HINTS = {
    Numbering.FDI: "Use 11–48 for adult teeth or 51–85 for baby teeth.",
    Numbering.UNIVERSAL: "Use 1–32 for adult teeth or A–T for baby teeth.",
    Numbering.PALMER: (
        "Use UR, UL, LL or LR and then 1–8 for adult teeth or A–E for baby teeth, for example UR6 or LLD."
    ),
}
_EXAMPLES = {
    Numbering.FDI: "For example 36, or 75 for a baby tooth.",
    Numbering.UNIVERSAL: "For example 19, or K for a baby tooth.",
    Numbering.PALMER: "For example LL6, or LLD for a baby tooth.",
}
_SYSTEM_NAMES = {Numbering.FDI: "FDI", Numbering.UNIVERSAL: "Universal", Numbering.PALMER: "Palmer"}

_FDI_PATTERN = re.compile(r"[0-9]{2}")
_UNIVERSAL_PATTERN = re.compile(r"#?\s*([0-9]{1,2}|[A-Za-z])")
_PALMER_PATTERN = re.compile(r"(UR|UL|LL|LR)\s*([1-8]|[A-E])", re.IGNORECASE | re.ASCII)


def numbering_hint(system: str) -> str:
    """A short hint for a tooth field in the clinic's numbering: "For example 36, or 75
    for a baby tooth."."""
    return _EXAMPLES[_numbering(system)]


def parse_tooth(text: str, system: str) -> Tooth:
    """Read a tooth typed in `system` ("fdi", "universal" or "palmer")."""
    numbering = _numbering(system)
    typed = text.strip()
    if not typed:
        raise ToothError(f"Enter a tooth. {_EXAMPLES[numbering]}")
    fdi: int | None = None
    if numbering is Numbering.FDI:
        if _FDI_PATTERN.fullmatch(typed) and is_valid_fdi(int(typed)):
            fdi = int(typed)
    elif numbering is Numbering.UNIVERSAL:
        match = _UNIVERSAL_PATTERN.fullmatch(typed)
        if match:
            key = match.group(1).upper()
            fdi = _UNIVERSAL_TO_FDI.get(str(int(key)) if key.isdigit() else key)
    else:
        match = _PALMER_PATTERN.fullmatch(typed)
        if match:
            quadrant = _CODE_TO_QUADRANT[match.group(1).upper()]
            tooth = match.group(2).upper()
            if tooth.isdigit():
                fdi = quadrant * 10 + int(tooth)
            else:
                fdi = (quadrant + 4) * 10 + _PALMER_PRIMARY_LETTERS.index(tooth) + 1
    if fdi is None:
        raise ToothError(f"“{typed}” is not a tooth in {_SYSTEM_NAMES[numbering]} numbering. {_HINTS[numbering]}")
    return Tooth(fdi)


def format_tooth(fdi: int, system: str) -> str:
    """Show a stored FDI code in `system`: 36 is "36", "19" or "LL6"."""
    numbering = _numbering(system)
    tooth = Tooth(fdi)
    if numbering is Numbering.FDI:
        return str(tooth.fdi)
    if numbering is Numbering.UNIVERSAL:
        return _FDI_TO_UNIVERSAL[tooth.fdi]
    mark = _PALMER_PRIMARY_LETTERS[tooth.position - 1] if tooth.is_primary else str(tooth.position)
    return f"{tooth.quadrant.code}{mark}"


# Surfaces -------------------------------------------------------------------------------


class Surface(StrEnum):
    MESIAL = "M"
    OCCLUSAL = "O"
    INCISAL = "I"
    DISTAL = "D"
    BUCCAL = "B"
    FACIAL = "F"
    LINGUAL = "L"

    @property
    def label(self) -> str:
        """The surface's name in lower case, e.g. mesial."""
        return self.name.lower()


# The conventional charting order; O and I never occur together, nor B and F.
_SURFACE_ORDER = {"M": 0, "O": 1, "I": 1, "D": 2, "B": 3, "F": 3, "L": 4}

# What each typed letter means before the tooth is known: the cheek or lip side is one
# surface whatever it is called, and so is the tongue or palate side.
_FACIAL_SIDE = "facial side"
_LETTERS: dict[str, str] = {
    "M": "M",
    "O": "O",
    "I": "I",
    "D": "D",
    "L": "L",
    "P": "L",
    "B": _FACIAL_SIDE,
    "F": _FACIAL_SIDE,
    "V": _FACIAL_SIDE,
}
_WORDS: dict[str, str] = {
    "mesial": "M",
    "occlusal": "O",
    "incisal": "I",
    "distal": "D",
    "lingual": "L",
    "palatal": "L",
    "buccal": _FACIAL_SIDE,
    "facial": _FACIAL_SIDE,
    "labial": _FACIAL_SIDE,
    "vestibular": _FACIAL_SIDE,
}
_SEPARATORS = re.compile(r"[\s,;/+.\-]+")


def _surface_named(letter: str) -> str:
    """The name with its letter, e.g. mesial (M)."""
    return f"{Surface(letter).label} ({letter})"


def _surfaces_of(tooth: Tooth) -> tuple[str, ...]:
    return ("M", "I", "D", "F", "L") if tooth.is_anterior else ("M", "O", "D", "B", "L")


def _surface_list_for(tooth: Tooth) -> str:
    named = [_surface_named(letter) for letter in _surfaces_of(tooth)]
    return ", ".join(named[:-1]) + " or " + named[-1]


def _read_tokens(text: str) -> list[tuple[str, str]]:
    """(as typed, meaning) for each surface in `text`, in the order typed.

    A whole word ("mesial", "Buccal") is one surface. Otherwise each letter is one surface,
    except the two-letter chart abbreviations "La" (labial, in any case, since A is no
    surface) and "Li" (lingual, written exactly so: "LI" is lingual and incisal).
    """
    found: list[tuple[str, str]] = []
    for token in _SEPARATORS.split(text.strip()):
        if not token:
            continue
        if token.lower() in _WORDS:
            found.append((token, _WORDS[token.lower()]))
            continue
        index = 0
        while index < len(token):
            pair = token[index : index + 2]
            if pair.upper() == "LA":
                found.append((pair, _FACIAL_SIDE))
                index += 2
                continue
            if pair == "Li":
                found.append((pair, "L"))
                index += 2
                continue
            letter = token[index]
            # Only ASCII: "ı".upper() is "I", and a stray Turkish letter should not become incisal.
            meaning = _LETTERS.get(letter.upper()) if letter.isascii() else None
            if meaning is None:
                raise ToothError(f"“{letter}” is not a tooth surface.")
            found.append((letter, meaning))
            index += 1
    return found


def parse_surfaces(text: str, tooth: Tooth, *, system: str = Numbering.FDI) -> tuple[str, ...]:
    """Read surfaces typed for `tooth` ("MOD", "m o d", "M,O,D", "DOM") and return the
    canonical letters in charting order, e.g. ("M", "O", "D"). Blank text is no surfaces.

    `system` is the clinic's numbering, used only to name the tooth in messages.
    """
    name = f"tooth {format_tooth(tooth.fdi, system)}"
    try:
        typed = _read_tokens(text)
    except ToothError as error:
        raise ToothError(f"{error.message} For {name} use {_surface_list_for(tooth)}.") from None
    chosen: dict[str, str] = {}
    for as_typed, meaning in typed:
        letter = meaning
        if meaning == _FACIAL_SIDE:
            letter = "F" if tooth.is_anterior else "B"
        elif meaning == "O" and tooth.is_anterior:
            raise ToothError(f"Occlusal (O) is not a surface of {name}, a front tooth: use incisal (I).")
        elif meaning == "I" and tooth.is_posterior:
            raise ToothError(f"Incisal (I) is not a surface of {name}, a back tooth: use occlusal (O).")
        if letter in chosen:
            earlier = chosen[letter]
            if earlier.upper() == as_typed.upper():
                named = _surface_named(letter)
                raise ToothError(f"{named[:1].upper()}{named[1:]} is listed twice. List each surface once.")
            raise ToothError(
                f"“{earlier}” and “{as_typed}” are both the {_surface_named(letter)} surface of {name}. "
                "List each surface once."
            )
        chosen[letter] = as_typed
    return tuple(sorted(chosen, key=_SURFACE_ORDER.__getitem__))


def _checked_surfaces(surfaces: Iterable[str]) -> list[str]:
    letters = list(surfaces)
    for letter in letters:
        if letter not in _SURFACE_ORDER:
            raise ValueError(f"{letter!r} is not a canonical surface letter.")
    if len(set(letters)) != len(letters):
        raise ValueError(f"Surfaces {letters!r} repeat a letter.")
    return sorted(letters, key=_SURFACE_ORDER.__getitem__)


def format_surfaces(surfaces: Iterable[str]) -> str:
    """Canonical letters as charted: ("D", "O", "M") is "MOD"."""
    return "".join(_checked_surfaces(surfaces))


def describe_surfaces(surfaces: Iterable[str]) -> str:
    """Plain words for a page: ("M", "O", "D") is "mesial, occlusal and distal"."""
    words = [Surface(letter).label for letter in _checked_surfaces(surfaces)]
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


# Arches and quadrants --------------------------------------------------------------------

_ARCH_WORDS = {
    "upper": Arch.UPPER,
    "u": Arch.UPPER,
    "top": Arch.UPPER,
    "maxilla": Arch.UPPER,
    "maxillary": Arch.UPPER,
    "lower": Arch.LOWER,
    "l": Arch.LOWER,
    "bottom": Arch.LOWER,
    "mandible": Arch.LOWER,
    "mandibular": Arch.LOWER,
}


def parse_arch(text: str) -> Arch:
    """Read an arch: upper, lower, U, L (and maxillary, mandibular, top, bottom), in any case."""
    typed = text.strip()
    if not typed:
        raise ToothError("Choose the upper or lower arch.")
    arch = _ARCH_WORDS.get(typed.lower())
    if arch is None:
        raise ToothError(f"“{typed}” is not an arch. Use upper (U) or lower (L).")
    return arch


_QUADRANT_WORDS = {
    "upper right": Quadrant.UPPER_RIGHT,
    "upper left": Quadrant.UPPER_LEFT,
    "lower left": Quadrant.LOWER_LEFT,
    "lower right": Quadrant.LOWER_RIGHT,
}


def parse_quadrant(text: str) -> Quadrant:
    """1–4 (or a baby tooth's 5–8, the same four parts of the mouth), "Q1", "UR", "UL",
    "LL", "LR" or "upper right" to a Quadrant."""
    typed = text.strip()
    if not typed:
        raise ToothError("Choose a quadrant: upper right, upper left, lower left or lower right.")
    key = " ".join(typed.lower().replace("-", " ").split())
    if key.startswith("q") and key[1:].strip().isdigit():
        key = key[1:].strip()
    if key.isascii() and key.isdigit() and 1 <= int(key) <= 8:
        number = int(key)
        return Quadrant(number - 4 if number > 4 else number)
    if key.upper() in _CODE_TO_QUADRANT:
        return _CODE_TO_QUADRANT[key.upper()]
    if key in _QUADRANT_WORDS:
        return _QUADRANT_WORDS[key]
    raise ToothError(
        f"“{typed}” is not a quadrant. Use 1–4 or UR (upper right), UL (upper left), LL (lower left) "
        "or LR (lower right)."
    )
