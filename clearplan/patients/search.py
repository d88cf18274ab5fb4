"""Reading names and search boxes the way a receptionist means them.

Names are stored exactly as typed (Zoë, O'Brien, Nguyễn, Smith-Jones, Tūī). Alongside each
patient we keep a folded copy: lower case, accents removed, apostrophes dropped and hyphenated
names indexed both joined and in parts. A search is folded the same way, so "zoe" finds Zoë,
"obrien" and "o'brien" find O'Brien and "jones" finds Smith-Jones.

Everything here is plain Python, no database.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date

# Letters that Unicode does not decompose into a base letter and an accent.
_LETTER_FOLDS = str.maketrans(
    {
        "đ": "d",
        "Đ": "d",
        "ð": "d",
        "Ð": "d",
        "ø": "o",
        "Ø": "o",
        "ł": "l",
        "Ł": "l",
        "æ": "ae",
        "Æ": "ae",
        "œ": "oe",
        "Œ": "oe",
        "þ": "th",
        "Þ": "th",
        "ı": "i",
    }
)
# Straight and curly apostrophes, the grave and acute accents people type instead, and the
# ʻokina / modifier letters used in Pacific names.
_APOSTROPHES = re.compile(r"['’‘`´ʻʼʹ]")
_HYPHENS = re.compile(r"[-‐‑‒–—]")
_NOT_WORD = re.compile(r"[^\w\s-]")


def fold(text: str) -> str:
    """Lower case, without accents or apostrophes; hyphens and spaces are kept as written."""
    decomposed = unicodedata.normalize("NFKD", text)
    without_marks = "".join(char for char in decomposed if not unicodedata.combining(char))
    folded = without_marks.translate(_LETTER_FOLDS).casefold()
    folded = _APOSTROPHES.sub("", folded)
    folded = _HYPHENS.sub("-", folded)
    folded = _NOT_WORD.sub(" ", folded).replace("_", " ")
    return " ".join(folded.split())


_WORD_JOINERS = re.compile(r"[-‐‑‒–—'’‘`´ʻʼʹ]")


def _name_tokens(name: str) -> list[str]:
    """A word as a whole, and its parts when it is joined by a hyphen or an apostrophe."""
    tokens: list[str] = []
    for word in name.split():
        joined = fold(word).replace("-", "")
        if joined:
            tokens.append(joined)
        parts = [fold(part) for part in _WORD_JOINERS.split(word)]
        if len(parts) > 1:
            # One-letter parts ("O" of O'Brien) would match nearly every search.
            tokens.extend(part for part in parts if len(part) > 1)
    return tokens


def search_text_for(*, first_name: str, last_name: str, preferred_name: str = "") -> str:
    """The folded words a patient can be found by, last name first so the column also sorts
    by last name: "Smith-Jones", "Zoë" → "smithjones smith jones zoe"."""
    words: list[str] = []
    for name in (last_name, first_name, preferred_name):
        for token in _name_tokens(name):
            if token not in words:
                words.append(token)
    return " ".join(words)


def name_key(*, first_name: str, last_name: str) -> tuple[str, str]:
    """Two names are the same for duplicate checks when these keys are equal."""
    return (
        fold(first_name).replace("-", "").replace(" ", ""),
        fold(last_name).replace("-", "").replace(" ", ""),
    )


def query_name_words(query: str) -> list[str]:
    """Words of a search, each matched against the start of a stored word."""
    return [word.replace("-", "") for word in fold(query).split() if word.replace("-", "")]


# ---------------------------------------------------------------------------
# What kind of thing was typed into the search box
# ---------------------------------------------------------------------------

_DATE_WITH_SEPARATORS = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_PHONE_LIKE = re.compile(r"^\+?[\d\s().\-]+$")
MIN_PHONE_DIGITS = 6


@dataclass(frozen=True)
class PatientQuery:
    """A search box's text, read as every kind of thing it could be."""

    text: str
    name_words: list[str] = field(default_factory=list)
    date_of_birth: date | None = None
    phone_digits: str = ""
    email: str = ""

    @property
    def is_empty(self) -> bool:
        return not self.text


def parse_date(text: str, *, month_first: bool) -> date | None:
    """DD/MM/YYYY (or MM/DD/YYYY where the clinic writes dates that way) or YYYY-MM-DD."""
    text = text.strip()
    iso = _ISO_DATE.match(text)
    if iso:
        year, month, day = (int(part) for part in iso.groups())
    else:
        local = _DATE_WITH_SEPARATORS.match(text)
        if not local:
            return None
        first, second, year = (int(part) for part in local.groups())
        month, day = (first, second) if month_first else (second, first)
    try:
        return date(year, month, day)
    except ValueError:
        return None


def parse_query(text: str, *, month_first: bool, phone_digits: str = "") -> PatientQuery:
    """`phone_digits` is the caller's reading of a phone number (it knows the clinic's country);
    without it, a long run of digits is matched as typed, minus a leading trunk zero."""
    text = " ".join(text.split())[:200]
    if not text:
        return PatientQuery(text="")
    if "@" in text and " " not in text:
        return PatientQuery(text=text, email=text)
    day = parse_date(text, month_first=month_first)
    if day is not None:
        return PatientQuery(text=text, date_of_birth=day)
    if _PHONE_LIKE.match(text):
        digits = re.sub(r"\D", "", text)
        if len(digits) >= MIN_PHONE_DIGITS:
            return PatientQuery(text=text, phone_digits=phone_digits or digits.lstrip("0"))
        # A short number is most likely a practice-management ID, matched separately.
        return PatientQuery(text=text)
    return PatientQuery(text=text, name_words=query_name_words(text))
