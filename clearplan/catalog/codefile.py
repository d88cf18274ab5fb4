"""Reading a practice's licensed code file: a CSV of codes and their official descriptions.

Practices get these files from their practice-management system or a spreadsheet, so we
accept what those produce: UTF-8 with or without a byte-order mark, UTF-16 ("Unicode text"
from Excel), Windows-1252, commas, semicolons or tabs, and the usual header names. Excel
drops the leading zeros of item numbers (011 becomes 11); matching puts them back.
Nothing here touches the database.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from clearplan.catalog.models import CODE_PATTERN, normalise_code

MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_ROWS = 20_000
MAX_DESCRIPTION = 2000
ACCEPTED_EXTENSIONS = (".csv", ".txt", ".tsv")

# Header names seen in practice-management exports and fund files, simplified to letters and
# digits. Earlier names win when a file has more than one.
CODE_HEADERS = (
    "code",
    "itemcode",
    "itemnumber",
    "itemno",
    "item",
    "procedurecode",
    "cdtcode",
    "adacode",
    "adaitem",
    "adaitemnumber",
    "adaitemcode",
    "servicecode",
    "number",
)
DESCRIPTION_HEADERS = (
    "description",
    "descriptor",
    "itemdescription",
    "proceduredescription",
    "longdescription",
    "fulldescription",
    "servicedescription",
    "desc",
    "title",
    "name",
    "procedure",
)


class CodeFileError(Exception):
    """The file as a whole cannot be read; the message says what to do about it."""


@dataclass(frozen=True)
class CodeRow:
    row: int
    code: str
    description: str


@dataclass(frozen=True)
class RowProblem:
    row: int
    text: str
    problem: str


@dataclass
class CodeFile:
    rows: list[CodeRow] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    encoding: str = "utf-8"


@dataclass(frozen=True)
class PlannedUpdate:
    code: str
    name: str
    old_description: str
    new_description: str
    row: int


@dataclass
class ImportPreview:
    updates: list[PlannedUpdate] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    unknown: list[CodeRow] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    encoding: str = "utf-8"

    @property
    def can_apply(self) -> bool:
        return not self.problems and bool(self.updates)

    def descriptions(self) -> dict[str, str]:
        """code → new description, for the codes that will change."""
        return {update.code: update.new_description for update in self.updates}


def check_name(file_name: str) -> None:
    if not file_name.lower().endswith(ACCEPTED_EXTENSIONS):
        if file_name.lower().endswith((".xlsx", ".xls", ".ods", ".numbers")):
            raise CodeFileError(
                "This is a spreadsheet file. Open it and save it as CSV (in Excel: File → Save As → "
                "CSV UTF-8), then upload the CSV file."
            )
        raise CodeFileError("Choose a CSV file (its name ends in .csv).")


def decode(content: bytes) -> tuple[str, str]:
    """(text, encoding name as staff would know it)."""
    if content.startswith(codecs.BOM_UTF8):
        return content[len(codecs.BOM_UTF8) :].decode("utf-8", errors="strict"), "UTF-8"
    if content.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return content.decode("utf-16"), "UTF-16"
        except UnicodeDecodeError as error:
            raise CodeFileError("The text in this file cannot be read. Save it as CSV UTF-8 and try again.") from error
    if content.startswith(b"PK\x03\x04"):
        raise CodeFileError(
            "This is a spreadsheet or other packed file, not CSV. Open it and save it as CSV "
            "(in Excel: File → Save As → CSV UTF-8), then upload the CSV file."
        )
    if b"\x00" in content:
        raise CodeFileError("This does not look like a CSV file. Choose the CSV export of your code list.")
    try:
        return content.decode("utf-8", errors="strict"), "UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        return content.decode("cp1252", errors="strict"), "Windows-1252"
    except UnicodeDecodeError as error:
        raise CodeFileError("The text in this file cannot be read. Save it as CSV UTF-8 and try again.") from error


def _simplified(header: str) -> str:
    return re.sub(r"[^a-z0-9]", "", header.lower())


def _find_columns(header: list[str]) -> tuple[int, int] | None:
    names = [_simplified(cell) for cell in header]
    code_column = next((names.index(alias) for alias in CODE_HEADERS if alias in names), None)
    if code_column is None:
        # "Code number", "ADA item no." and the like.
        code_column = next((i for i, name in enumerate(names) if "code" in name or name.startswith("item")), None)
    if code_column is None:
        return None
    others = [(i, name) for i, name in enumerate(names) if i != code_column]
    description_column = next(
        (i for alias in DESCRIPTION_HEADERS for i, name in others if name == alias),
        None,
    )
    if description_column is None:
        description_column = next((i for i, name in others if "desc" in name), None)
    if description_column is None:
        return None
    return code_column, description_column


def _delimiter(text: str) -> str:
    """Tab, semicolon (spreadsheets set to European number formats) or comma, from the first line."""
    first_line = next((line for line in text.splitlines() if line.strip()), "")
    if "\t" in first_line:
        return "\t"
    if ";" in first_line and "," not in first_line:
        return ";"
    return ","


def _looks_like_code(value: str) -> bool:
    # Every ADA item number and CDT code has a digit; a header word has none.
    code = normalise_code(value)
    return bool(re.match(CODE_PATTERN, code)) and any(character.isdigit() for character in code)


def _shown(row: list[str]) -> str:
    text = ", ".join(cell.strip() for cell in row)
    return text if len(text) <= 80 else text[:79] + "…"


def read_code_file(content: bytes) -> CodeFile:
    """Every line that names a code and a description, and a problem for every line that cannot be used."""
    if len(content) > MAX_FILE_BYTES:
        raise CodeFileError(
            "This file is larger than 2 MB. A code list is usually much smaller; check it is the right file."
        )
    text, encoding = decode(content)
    if not text.strip():
        raise CodeFileError("This file is empty.")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    parsed = CodeFile(encoding=encoding)
    try:
        rows = list(enumerate(reader, start=1))
    except csv.Error as error:
        raise CodeFileError(f"This file is not laid out as CSV ({error}). Save it as CSV and try again.") from error
    rows = [(number, row) for number, row in rows if any(cell.strip() for cell in row)]
    if not rows:
        raise CodeFileError("This file is empty.")
    if len(rows) > MAX_ROWS:
        raise CodeFileError(f"This file has more than {MAX_ROWS:,} lines; a code list is usually much shorter.")
    first_line, first_row = rows[0]
    columns = _find_columns(first_row)
    if columns is not None:
        rows = rows[1:]
    elif len(first_row) >= 2 and _looks_like_code(first_row[0]):
        columns = (0, 1)  # no header line: code first, description second
    else:
        raise CodeFileError(
            "The first line should name the columns, for example “code,description”. "
            f"Row {first_line} reads “{_shown(first_row)}”."
        )
    code_column, description_column = columns
    first_seen: dict[str, int] = {}
    for number, row in rows:
        code_cell = row[code_column].strip() if len(row) > code_column else ""
        description = " ".join(row[description_column].split()) if len(row) > description_column else ""
        code = normalise_code(code_cell)
        if not code:
            parsed.problems.append(RowProblem(number, _shown(row), "There is no code in this row."))
            continue
        if not re.match(CODE_PATTERN, code):
            parsed.problems.append(
                RowProblem(number, _shown(row), f"“{code_cell}” is not a code: use letters and numbers, such as 011.")
            )
            continue
        if not description:
            parsed.problems.append(RowProblem(number, _shown(row), f"Code {code} has no description."))
            continue
        if len(description) > MAX_DESCRIPTION:
            parsed.problems.append(
                RowProblem(
                    number, _shown(row), f"The description of {code} is longer than {MAX_DESCRIPTION:,} characters."
                )
            )
            continue
        if code in first_seen:
            parsed.problems.append(
                RowProblem(
                    number, _shown(row), f"Code {code} is also on row {first_seen[code]}. Keep one row per code."
                )
            )
            continue
        first_seen[code] = number
        parsed.rows.append(CodeRow(row=number, code=code, description=description))
    return parsed


def matching_code(code: str, known: Iterable[str]) -> str | None:
    """The catalogue's code for a code from the file, allowing for leading zeros a spreadsheet dropped."""
    known_set = set(known)
    if code in known_set:
        return code
    if code.isdigit() and len(code) < 3 and code.zfill(3) in known_set:
        return code.zfill(3)
    return None


def preview_import(parsed: CodeFile, catalogue: Mapping[str, tuple[str, str]]) -> ImportPreview:
    """What applying the file would do. `catalogue` is code → (our name, current licensed description)."""
    preview = ImportPreview(problems=list(parsed.problems), encoding=parsed.encoding)
    claimed: dict[str, int] = {}
    for line in parsed.rows:
        code = matching_code(line.code, catalogue)
        if code is None:
            preview.unknown.append(line)
            continue
        if code in claimed:
            # "11" and "011" in one file both mean item 011.
            preview.problems.append(
                RowProblem(
                    line.row,
                    f"{line.code}, {line.description[:60]}",
                    f"Code {line.code} is the same item as row {claimed[code]}. Keep one row per code.",
                )
            )
            continue
        claimed[code] = line.row
        name, current = catalogue[code]
        if current == line.description:
            preview.unchanged.append(code)
        else:
            preview.updates.append(
                PlannedUpdate(
                    code=code, name=name, old_description=current, new_description=line.description, row=line.row
                )
            )
    preview.problems.sort(key=lambda problem: problem.row)
    return preview
