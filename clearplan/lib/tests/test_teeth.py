import string
from collections.abc import Callable
from typing import TypeVar

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clearplan.lib.teeth import (
    ALL_PERMANENT,
    ALL_PRIMARY,
    ALL_TEETH,
    Arch,
    Numbering,
    Quadrant,
    Tooth,
    ToothError,
    ToothKind,
    describe_surfaces,
    format_surfaces,
    format_tooth,
    numbering_hint,
    parse_arch,
    parse_quadrant,
    parse_surfaces,
    parse_tooth,
)

SYSTEMS = list(Numbering)
T = TypeVar("T")


def _attempt(call: Callable[[], T]) -> tuple[T | None, str | None]:
    """The answer, or the message a user would see instead."""
    try:
        return call(), None
    except ToothError as error:
        return None, error.message


ANTERIOR = [fdi for fdi in ALL_TEETH if Tooth(fdi).is_anterior]
POSTERIOR = [fdi for fdi in ALL_TEETH if Tooth(fdi).is_posterior]

# FDI, Universal, Palmer, as a dentist would read them off a chart.
KNOWN = [
    (18, "1", "UR8"),
    (11, "8", "UR1"),
    (14, "5", "UR4"),
    (21, "9", "UL1"),
    (26, "14", "UL6"),
    (28, "16", "UL8"),
    (38, "17", "LL8"),
    (36, "19", "LL6"),
    (31, "24", "LL1"),
    (41, "25", "LR1"),
    (46, "30", "LR6"),
    (48, "32", "LR8"),
    (55, "A", "URE"),
    (51, "E", "URA"),
    (61, "F", "ULA"),
    (65, "J", "ULE"),
    (75, "K", "LLE"),
    (71, "O", "LLA"),
    (81, "P", "LRA"),
    (85, "T", "LRE"),
]


# Tooth numbering ---------------------------------------------------------------------------


def test_there_are_32_adult_and_20_baby_teeth() -> None:
    assert len(ALL_PERMANENT) == len(set(ALL_PERMANENT)) == 32
    assert len(ALL_PRIMARY) == len(set(ALL_PRIMARY)) == 20
    assert ALL_PERMANENT[0] == 11
    assert ALL_PERMANENT[-1] == 48
    assert ALL_PRIMARY[0] == 51
    assert ALL_PRIMARY[-1] == 85
    assert all(not Tooth(fdi).is_primary for fdi in ALL_PERMANENT)
    assert all(Tooth(fdi).is_primary for fdi in ALL_PRIMARY)


@pytest.mark.parametrize(("fdi", "universal", "palmer"), KNOWN)
def test_it_shows_each_tooth_in_the_clinics_numbering(fdi: int, universal: str, palmer: str) -> None:
    assert format_tooth(fdi, "fdi") == str(fdi)
    assert format_tooth(fdi, "universal") == universal
    assert format_tooth(fdi, "palmer") == palmer


@pytest.mark.parametrize(("fdi", "universal", "palmer"), KNOWN)
def test_it_reads_each_tooth_typed_in_the_clinics_numbering(fdi: int, universal: str, palmer: str) -> None:
    assert parse_tooth(str(fdi), "fdi").fdi == fdi
    assert parse_tooth(universal, "universal").fdi == fdi
    assert parse_tooth(f"#{universal}", "universal").fdi == fdi
    assert parse_tooth(palmer, "palmer").fdi == fdi
    assert parse_tooth(f"{palmer[:2].lower()} {palmer[2:].lower()}", "palmer").fdi == fdi


@pytest.mark.parametrize(
    ("typed", "system", "fdi"),
    [
        ("  36 ", "fdi", 36),
        ("# 14", "universal", 26),
        (" #k ", "universal", 75),
        ("08", "universal", 11),
        ("UR 6", "palmer", 16),
        ("ur6", "palmer", 16),
        ("Lr\tB", "palmer", 82),
        ("uld", "palmer", 64),
    ],
)
def test_it_tolerates_spaces_case_and_the_hash_sign(typed: str, system: str, fdi: int) -> None:
    assert parse_tooth(typed, system) == Tooth(fdi)


def test_it_describes_the_tooth() -> None:
    molar = Tooth(36)
    assert molar.quadrant is Quadrant.LOWER_LEFT
    assert molar.position == 6
    assert molar.arch == "lower"
    assert molar.kind == "molar"
    assert molar.is_posterior
    assert not molar.is_anterior
    assert not molar.is_primary
    assert molar.description == "lower left first molar"
    assert molar.label("palmer") == "LL6"

    assert Tooth(14).kind is ToothKind.PREMOLAR
    assert Tooth(13).kind is ToothKind.CANINE
    assert Tooth(13).is_anterior
    assert Tooth(22).kind is ToothKind.INCISOR
    assert Tooth(18).description == "upper right wisdom tooth"

    baby_canine = Tooth(53)
    assert baby_canine.is_primary
    assert baby_canine.quadrant is Quadrant.UPPER_RIGHT
    assert baby_canine.arch is Arch.UPPER
    assert baby_canine.position == 3
    assert baby_canine.is_anterior
    assert baby_canine.description == "upper right baby canine"
    # Baby teeth have no premolars: 4 and 5 are molars.
    assert Tooth(84).kind is ToothKind.MOLAR
    assert Tooth(84).quadrant is Quadrant.LOWER_RIGHT
    assert Tooth(85).description == "lower right second baby molar"


UNIVERSAL_RANGE = "Use 1–32 for adult teeth or A–T for baby teeth."


@pytest.mark.parametrize(
    ("typed", "system", "message"),
    [
        ("19", "fdi", "“19” is not a tooth in FDI numbering. Use 11–48 for adult teeth or 51–85 for baby teeth."),
        ("56", "fdi", "“56” is not a tooth in FDI numbering. Use 11–48 for adult teeth or 51–85 for baby teeth."),
        ("UR6", "fdi", "“UR6” is not a tooth in FDI numbering. Use 11–48 for adult teeth or 51–85 for baby teeth."),
        ("33", "universal", "“33” is not a tooth in Universal numbering. " + UNIVERSAL_RANGE),
        ("U", "universal", "“U” is not a tooth in Universal numbering. " + UNIVERSAL_RANGE),
        (
            "UR9",
            "palmer",
            "“UR9” is not a tooth in Palmer numbering. Use UR, UL, LL or LR and then 1–8 for adult teeth "
            "or A–E for baby teeth, for example UR6 or LLD.",
        ),
        (
            "36",
            "palmer",
            "“36” is not a tooth in Palmer numbering. Use UR, UL, LL or LR and then 1–8 for adult teeth "
            "or A–E for baby teeth, for example UR6 or LLD.",
        ),
        ("  ", "fdi", "Enter a tooth. For example 36, or 75 for a baby tooth."),
        ("", "palmer", "Enter a tooth. For example LL6, or LLD for a baby tooth."),
    ],
)
def test_it_refuses_a_tooth_that_does_not_exist_and_says_what_to_type(typed: str, system: str, message: str) -> None:
    with pytest.raises(ToothError) as caught:
        parse_tooth(typed, system)
    assert caught.value.message == message
    assert str(caught.value) == message


def test_a_hint_shows_an_example_in_the_clinics_numbering() -> None:
    assert numbering_hint("universal") == "For example 19, or K for a baby tooth."


def test_an_unknown_numbering_system_is_a_programming_error_not_a_users_mistake() -> None:
    with pytest.raises(ValueError, match="Unknown tooth numbering") as caught:
        parse_tooth("36", "iso")
    assert not isinstance(caught.value, ToothError)


@pytest.mark.parametrize("code", [0, 10, 19, 49, 50, 56, 86, 99, 111, -11])
def test_a_stored_code_that_is_not_a_tooth_cannot_become_a_tooth(code: int) -> None:
    with pytest.raises(ToothError):
        Tooth(code)
    with pytest.raises(ToothError):
        format_tooth(code, "fdi")


@given(fdi=st.sampled_from(ALL_TEETH), system=st.sampled_from(SYSTEMS))
def test_every_tooth_reads_back_as_itself_in_every_system(fdi: int, system: Numbering) -> None:
    assert parse_tooth(format_tooth(fdi, system), system).fdi == fdi


def _scramble_case(data: st.DataObject, text: str) -> str:
    return "".join(char.upper() if data.draw(st.booleans()) else char.lower() for char in text)


@given(
    data=st.data(),
    fdi=st.sampled_from(ALL_TEETH),
    system=st.sampled_from(SYSTEMS),
    before=st.text(alphabet=" \t\n\u00a0", max_size=3),
    after=st.text(alphabet=" \t\n\u00a0", max_size=3),
)
def test_reading_a_tooth_ignores_case_and_surrounding_space(
    data: st.DataObject, fdi: int, system: Numbering, before: str, after: str
) -> None:
    shown = format_tooth(fdi, system)
    if system is Numbering.PALMER:
        shown = shown[:2] + data.draw(st.sampled_from(["", " ", "  "])) + shown[2:]
    if system is Numbering.UNIVERSAL:
        shown = data.draw(st.sampled_from(["", "#", "# "])) + shown
    typed = before + _scramble_case(data, shown) + after
    assert parse_tooth(typed, system).fdi == fdi


def _assert_refused(typed: str, system: str) -> None:
    with pytest.raises(ToothError) as caught:
        parse_tooth(typed, system)
    assert caught.value.message.strip()
    assert typed.strip() in caught.value.message


@given(number=st.integers(min_value=-1000, max_value=1000).filter(lambda n: n not in ALL_TEETH))
def test_every_number_that_is_not_an_fdi_tooth_is_refused(number: int) -> None:
    _assert_refused(str(number), "fdi")


@given(number=st.integers(min_value=-1000, max_value=1000).filter(lambda n: not 1 <= n <= 32))
def test_every_number_outside_1_to_32_is_refused_in_universal(number: int) -> None:
    _assert_refused(str(number), "universal")
    _assert_refused(f"#{number}", "universal")


@given(letter=st.characters().filter(lambda c: not c.isspace() and c.upper() not in "ABCDEFGHIJKLMNOPQRST0123456789"))
def test_every_letter_outside_a_to_t_is_refused_in_universal(letter: str) -> None:
    _assert_refused(letter, "universal")


@given(
    quadrant=st.sampled_from(["UR", "UL", "LL", "LR"]),
    mark=st.sampled_from(["0", "9", "10", *"FGHIJKLMNOPQRSTUVWXYZ"]),
)
def test_every_tooth_mark_outside_1_to_8_and_a_to_e_is_refused_in_palmer(quadrant: str, mark: str) -> None:
    _assert_refused(quadrant + mark, "palmer")


@given(
    quadrant=st.text(alphabet=string.ascii_uppercase, min_size=1, max_size=2).filter(
        lambda q: q not in {"UR", "UL", "LL", "LR"}
    ),
    mark=st.sampled_from(["1", "6", "8", "A", "E"]),
)
def test_every_quadrant_other_than_ur_ul_ll_lr_is_refused_in_palmer(quadrant: str, mark: str) -> None:
    _assert_refused(quadrant + mark, "palmer")


@given(typed=st.text(max_size=8), system=st.sampled_from(SYSTEMS))
def test_any_typing_gives_a_tooth_or_a_message(typed: str, system: Numbering) -> None:
    tooth, message = _attempt(lambda: parse_tooth(typed, system))
    if tooth is None:
        assert message
        assert message.strip()
    else:
        assert tooth.fdi in ALL_TEETH


# Surfaces ----------------------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["MOD", "m o d", "M,O,D", "DOM", "d, m, o", "M-O-D", "mesial occlusal distal"])
def test_it_reads_surfaces_in_any_order_and_returns_them_in_charting_order(typed: str) -> None:
    assert parse_surfaces(typed, Tooth(36)) == ("M", "O", "D")


@pytest.mark.parametrize(
    ("typed", "fdi", "surfaces"),
    [
        ("B", 11, ("F",)),
        ("F", 36, ("B",)),
        ("V", 36, ("B",)),
        ("La", 21, ("F",)),
        ("MLa", 36, ("M", "B")),
        ("P", 16, ("L",)),
        ("Li", 33, ("L",)),
        ("LI", 33, ("I", "L")),
        ("MIDFL", 13, ("M", "I", "D", "F", "L")),
        ("lbdom", 46, ("M", "O", "D", "B", "L")),
        ("buccal", 11, ("F",)),
        ("", 36, ()),
        (" , ", 36, ()),
    ],
)
def test_it_stores_the_cheek_and_tongue_sides_as_the_letter_that_fits_the_tooth(
    typed: str, fdi: int, surfaces: tuple[str, ...]
) -> None:
    assert parse_surfaces(typed, Tooth(fdi)) == surfaces


@pytest.mark.parametrize(
    ("typed", "fdi", "system", "message"),
    [
        ("MOD", 11, "fdi", "Occlusal (O) is not a surface of tooth 11, a front tooth: use incisal (I)."),
        ("O", 11, "universal", "Occlusal (O) is not a surface of tooth 8, a front tooth: use incisal (I)."),
        ("MI", 36, "palmer", "Incisal (I) is not a surface of tooth LL6, a back tooth: use occlusal (O)."),
        ("MM", 36, "fdi", "Mesial (M) is listed twice. List each surface once."),
        ("M, m", 36, "fdi", "Mesial (M) is listed twice. List each surface once."),
        (
            "BV",
            36,
            "fdi",
            "“B” and “V” are both the buccal (B) surface of tooth 36. List each surface once.",
        ),
        (
            "LP",
            21,
            "fdi",
            "“L” and “P” are both the lingual (L) surface of tooth 21. List each surface once.",
        ),
        (
            "MX",
            36,
            "fdi",
            "“X” is not a tooth surface. For tooth 36 use mesial (M), occlusal (O), distal (D), buccal (B) "
            "or lingual (L).",
        ),
        (
            "top",
            11,
            "fdi",
            "“t” is not a tooth surface. For tooth 11 use mesial (M), incisal (I), distal (D), facial (F) "
            "or lingual (L).",
        ),
    ],
)
def test_it_refuses_surfaces_the_tooth_does_not_have_and_says_which_it_does(
    typed: str, fdi: int, system: str, message: str
) -> None:
    with pytest.raises(ToothError) as caught:
        parse_surfaces(typed, Tooth(fdi), system=system)
    assert caught.value.message == message


def test_surfaces_are_shown_as_letters_or_plain_words() -> None:
    assert format_surfaces(("D", "O", "M")) == "MOD"
    assert format_surfaces(()) == ""
    assert describe_surfaces(("M", "O", "D")) == "mesial, occlusal and distal"
    assert describe_surfaces(("F", "I")) == "incisal and facial"
    assert describe_surfaces(("L",)) == "lingual"
    with pytest.raises(ValueError, match="canonical"):
        format_surfaces(("P",))
    with pytest.raises(ValueError, match="repeat"):
        format_surfaces(("M", "M"))


def _surfaces_of(fdi: int) -> list[str]:
    return ["M", "I", "D", "F", "L"] if Tooth(fdi).is_anterior else ["M", "O", "D", "B", "L"]


@st.composite
def tooth_and_surfaces(draw: st.DrawFn) -> tuple[Tooth, list[str]]:
    fdi = draw(st.sampled_from(ALL_TEETH))
    surfaces = draw(st.lists(st.sampled_from(_surfaces_of(fdi)), unique=True))
    return Tooth(fdi), surfaces


@given(data=st.data(), chosen=tooth_and_surfaces())
def test_surface_order_and_separators_do_not_matter(data: st.DataObject, chosen: tuple[Tooth, list[str]]) -> None:
    tooth, surfaces = chosen
    canonical = parse_surfaces("".join(surfaces), tooth)
    assert sorted(canonical) == sorted(surfaces)
    shuffled = data.draw(st.permutations(surfaces))
    separator = data.draw(st.sampled_from(["", " ", ",", ", ", "/", "+"]))
    assert parse_surfaces(separator.join(shuffled), tooth) == canonical
    assert parse_surfaces(_scramble_case(data, format_surfaces(canonical)), tooth) == canonical


@given(data=st.data(), chosen=tooth_and_surfaces())
def test_reading_surfaces_again_changes_nothing(data: st.DataObject, chosen: tuple[Tooth, list[str]]) -> None:
    tooth, surfaces = chosen
    # Type the cheek and tongue sides under any of their names, as people do.
    aliases = {"B": ["B", "F", "V"], "F": ["F", "B", "La"], "L": ["L", "P"]}
    typed = " ".join(data.draw(st.sampled_from(aliases.get(letter, [letter]))) for letter in surfaces)
    once = parse_surfaces(typed, tooth)
    assert parse_surfaces(format_surfaces(once), tooth) == once
    assert set(once) <= set(_surfaces_of(tooth.fdi))


@given(fdi=st.sampled_from(POSTERIOR), others=st.lists(st.sampled_from(["M", "D", "B", "L"]), unique=True))
def test_no_back_tooth_has_an_incisal_surface(fdi: int, others: list[str]) -> None:
    with pytest.raises(ToothError, match=r"Incisal \(I\) is not a surface"):
        parse_surfaces("".join([*others, "I"]), Tooth(fdi))


@given(fdi=st.sampled_from(ANTERIOR), others=st.lists(st.sampled_from(["M", "D", "F", "L"]), unique=True))
def test_no_front_tooth_has_an_occlusal_surface(fdi: int, others: list[str]) -> None:
    with pytest.raises(ToothError, match=r"Occlusal \(O\) is not a surface"):
        parse_surfaces("".join([*others, "O"]), Tooth(fdi))


@given(typed=st.text(max_size=10), fdi=st.sampled_from(ALL_TEETH))
def test_any_surface_typing_gives_surfaces_of_that_tooth_or_a_message(typed: str, fdi: int) -> None:
    surfaces, message = _attempt(lambda: parse_surfaces(typed, Tooth(fdi)))
    if surfaces is None:
        assert message
        assert message.strip()
    else:
        assert set(surfaces) <= set(_surfaces_of(fdi))
        assert len(set(surfaces)) == len(surfaces)


# Arches and quadrants ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "arch"),
    [("upper", Arch.UPPER), (" Upper ", Arch.UPPER), ("U", Arch.UPPER), ("lower", Arch.LOWER), ("l", Arch.LOWER)],
)
def test_it_reads_an_arch(typed: str, arch: Arch) -> None:
    assert parse_arch(typed) is arch


@pytest.mark.parametrize(
    ("typed", "message"),
    [("middle", "“middle” is not an arch. Use upper (U) or lower (L)."), ("", "Choose the upper or lower arch.")],
)
def test_it_refuses_an_arch_that_does_not_exist(typed: str, message: str) -> None:
    with pytest.raises(ToothError) as caught:
        parse_arch(typed)
    assert caught.value.message == message


@pytest.mark.parametrize(
    ("typed", "quadrant"),
    [
        ("1", Quadrant.UPPER_RIGHT),
        ("5", Quadrant.UPPER_RIGHT),
        ("UR", Quadrant.UPPER_RIGHT),
        ("q2", Quadrant.UPPER_LEFT),
        ("ul", Quadrant.UPPER_LEFT),
        ("6", Quadrant.UPPER_LEFT),
        ("3", Quadrant.LOWER_LEFT),
        ("7", Quadrant.LOWER_LEFT),
        (" LL ", Quadrant.LOWER_LEFT),
        ("4", Quadrant.LOWER_RIGHT),
        ("8", Quadrant.LOWER_RIGHT),
        ("lower-right", Quadrant.LOWER_RIGHT),
    ],
)
def test_it_reads_a_quadrant_including_a_baby_teeth_quadrant(typed: str, quadrant: Quadrant) -> None:
    assert parse_quadrant(typed) is quadrant


@pytest.mark.parametrize("typed", ["0", "9", "UX", "middle", "12"])
def test_it_refuses_a_quadrant_that_does_not_exist(typed: str) -> None:
    with pytest.raises(ToothError) as caught:
        parse_quadrant(typed)
    assert caught.value.message == (
        f"“{typed}” is not a quadrant. Use 1–4 or UR (upper right), UL (upper left), LL (lower left) "
        "or LR (lower right)."
    )


def test_quadrants_know_their_arch_and_letters() -> None:
    assert [q.code for q in Quadrant] == ["UR", "UL", "LL", "LR"]
    assert [q.arch for q in Quadrant] == [Arch.UPPER, Arch.UPPER, Arch.LOWER, Arch.LOWER]
    assert Quadrant.LOWER_RIGHT.label == "lower right"
    assert all(Tooth(fdi).quadrant.arch is Tooth(fdi).arch for fdi in ALL_TEETH)


@given(typed=st.text(max_size=8))
def test_any_quadrant_or_arch_typing_gives_an_answer_or_a_message(typed: str) -> None:
    quadrant, quadrant_message = _attempt(lambda: parse_quadrant(typed))
    assert quadrant is not None or (quadrant_message is not None and quadrant_message.strip())
    arch, arch_message = _attempt(lambda: parse_arch(typed))
    assert arch is not None or (arch_message is not None and arch_message.strip())
