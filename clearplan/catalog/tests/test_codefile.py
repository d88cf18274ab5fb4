"""Reading a practice's licensed code file as practices actually produce it."""

from __future__ import annotations

import codecs

import pytest

from clearplan.catalog.codefile import (
    MAX_FILE_BYTES,
    CodeFileError,
    check_name,
    preview_import,
    read_code_file,
)

CATALOGUE = {
    "011": ("Full check-up, new patient", ""),
    "012": ("Regular check-up", "Old wording"),
    "532": ("Tooth-coloured filling, back tooth, two surfaces", ""),
    "D0120": ("Regular check-up", ""),
}


def lines_of(parsed):
    return [(line.row, line.code, line.description) for line in parsed.rows]


def test_a_plain_utf8_file_with_a_header_is_read():
    parsed = read_code_file(b"code,description\n011,Licensed words one\n012,Licensed words two\n")
    assert lines_of(parsed) == [(2, "011", "Licensed words one"), (3, "012", "Licensed words two")]
    assert parsed.problems == []
    assert parsed.encoding == "UTF-8"


def test_a_byte_order_mark_from_excel_does_not_spoil_the_first_header():
    parsed = read_code_file(codecs.BOM_UTF8 + "Code,Description\n011,Examen complète – détaillé\n".encode())
    assert lines_of(parsed) == [(2, "011", "Examen complète – détaillé")]


def test_a_windows_1252_file_is_read_with_its_dashes_and_accents():
    content = "Item Number,Item Description\n011,Oral examination – comprehensive café\n".encode("cp1252")
    parsed = read_code_file(content)
    assert lines_of(parsed) == [(2, "011", "Oral examination – comprehensive café")]
    assert parsed.encoding == "Windows-1252"


def test_excel_unicode_text_is_utf16_with_tabs():
    content = "Code\tDescription\nD0120\tPeriodic evaluation\n".encode("utf-16")
    parsed = read_code_file(content)
    assert lines_of(parsed) == [(2, "D0120", "Periodic evaluation")]


def test_semicolon_separated_files_are_read():
    parsed = read_code_file(b"ADA item;Descriptor\n011;Words, with a comma\n")
    assert lines_of(parsed) == [(2, "011", "Words, with a comma")]


def test_quoted_descriptions_with_commas_and_line_breaks_are_kept_whole():
    parsed = read_code_file(b'code,description\n011,"First part, second part\nthird part"\n012,Next\n')
    assert lines_of(parsed) == [(2, "011", "First part, second part third part"), (3, "012", "Next")]


def test_other_columns_are_ignored_and_the_description_column_is_found_by_name():
    parsed = read_code_file(b"Fee,Short name,Item code,Long description\n95,Exam,011,The long licensed text\n")
    assert lines_of(parsed) == [(2, "011", "The long licensed text")]


def test_a_file_without_a_header_line_is_read_as_code_then_description():
    parsed = read_code_file(b"011,Licensed words\nd0120,Other words\n")
    assert lines_of(parsed) == [(1, "011", "Licensed words"), (2, "D0120", "Other words")]


def test_a_header_that_names_no_code_column_is_explained():
    with pytest.raises(CodeFileError, match="The first line should name the columns"):
        read_code_file(b"Fee,Words\n95,Exam\n")


def test_blank_rows_are_skipped_and_row_numbers_still_match_the_spreadsheet():
    parsed = read_code_file(b"code,description\n\n011,One\n,\n012,Two\n")
    assert [line.row for line in parsed.rows] == [3, 5]


def test_bad_rows_are_reported_with_their_row_numbers():
    content = b"code,description\n011,Fine\n,No code here\n012,\nnot a code!,Words\n" + b"532," + b"x" * 2001 + b"\n"
    parsed = read_code_file(content)
    assert lines_of(parsed) == [(2, "011", "Fine")]
    assert [(problem.row, problem.problem) for problem in parsed.problems] == [
        (3, "There is no code in this row."),
        (4, "Code 012 has no description."),
        (5, "“not a code!” is not a code: use letters and numbers, such as 011."),
        (6, "The description of 532 is longer than 2,000 characters."),
    ]


def test_a_code_listed_twice_is_a_problem_on_the_second_row():
    parsed = read_code_file(b"code,description\n011,First\n012,Other\n011,Second\n")
    assert [(problem.row, problem.problem) for problem in parsed.problems] == [
        (4, "Code 011 is also on row 2. Keep one row per code.")
    ]


@pytest.mark.parametrize("name", ["codes.xlsx", "codes.XLS", "codes.numbers"])
def test_spreadsheet_files_are_refused_with_how_to_save_as_csv(name):
    with pytest.raises(CodeFileError, match="save it as CSV"):
        check_name(name)


def test_other_files_are_refused():
    with pytest.raises(CodeFileError, match="Choose a CSV file"):
        check_name("codes.pdf")
    check_name("Codes.CSV")


def test_a_workbook_renamed_to_csv_is_recognised():
    with pytest.raises(CodeFileError, match="not CSV"):
        read_code_file(b"PK\x03\x04" + b"\x00" * 40)


def test_binary_content_is_refused():
    with pytest.raises(CodeFileError, match="does not look like a CSV file"):
        read_code_file(b"\x89PNG\r\n\x1a\n\x00\x00\x00")


def test_text_that_is_neither_utf8_nor_windows_1252_is_refused():
    with pytest.raises(CodeFileError, match="cannot be read"):
        read_code_file(b"code,description\n011,\x81\x8d\x8f\n")


def test_an_empty_file_is_refused():
    with pytest.raises(CodeFileError, match="empty"):
        read_code_file(b"\n  \n")


def test_a_file_over_two_megabytes_is_refused():
    with pytest.raises(CodeFileError, match="larger than 2 MB"):
        read_code_file(b"a" * (MAX_FILE_BYTES + 1))


# ---------- Preview against the catalogue ----------


def test_the_preview_sorts_codes_into_updated_unchanged_and_unknown():
    parsed = read_code_file(b"code,description\n011,New words\n012,Old wording\n999,Not ours\n")
    preview = preview_import(parsed, CATALOGUE)
    assert [(update.code, update.new_description) for update in preview.updates] == [("011", "New words")]
    assert preview.unchanged == ["012"]
    assert [line.code for line in preview.unknown] == ["999"]
    assert preview.can_apply
    assert preview.descriptions() == {"011": "New words"}


def test_leading_zeros_dropped_by_a_spreadsheet_are_put_back():
    preview = preview_import(read_code_file(b"code,description\n11,Words\n"), CATALOGUE)
    assert preview.descriptions() == {"011": "Words"}


def test_the_same_item_with_and_without_its_leading_zero_is_a_duplicate():
    preview = preview_import(read_code_file(b"code,description\n011,Words\n11,Other words\n"), CATALOGUE)
    assert [(problem.row, problem.problem) for problem in preview.problems] == [
        (3, "Code 11 is the same item as row 2. Keep one row per code.")
    ]
    assert not preview.can_apply


def test_a_file_with_any_bad_line_cannot_be_applied():
    preview = preview_import(read_code_file(b"code,description\n011,Words\n012,\n"), CATALOGUE)
    assert preview.updates
    assert preview.problems
    assert not preview.can_apply
