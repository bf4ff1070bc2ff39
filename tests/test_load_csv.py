"""Reading coded CSV files: no row is lost or misread, whatever the coder's editor did to the file."""

from __future__ import annotations

import pytest

from analysis.intake.load import load_coded_tables
from analysis.intake.problems import UnusableInputError
from analysis.intake.validate import validate_tables

from .conftest import write_folder


def lines_of(folder, table):
    return (folder / f"{table}.csv").read_text().splitlines()


def put_lines(folder, table, lines, ending="\n"):
    (folder / f"{table}.csv").write_text(ending.join(lines) + ending, newline="")


def errs(r, table=None):
    e = r.errors if table is None else r.errors[r.errors["table"] == table]
    return [tuple(x) for x in e[["table", "row", "variable", "rule"]].itertuples(index=False)]


def unusable(path):
    with pytest.raises(UnusableInputError) as exc:
        load_coded_tables(path)
    return [(p["rule"], p["message"]) for p in exc.value.problems]


# --- quotes and line breaks --------------------------------------------------------------------------------


def test_stray_quote_before_the_last_cell_loses_no_row(frames, tmp_path):
    """Before: the quote swallowed every later line into one cell; 1 row was read instead of 29."""
    folder = write_folder(frames, tmp_path / "d")
    lines = lines_of(folder, "persons")
    head, _, last = lines[1].rpartition(",")
    lines[1] = f'{head},"{last}'
    put_lines(folder, "persons", lines)
    r = validate_tables(load_coded_tables(folder))
    n = len(frames["persons"])
    assert r.input_rows["persons"] == n == len(r.valid["persons"]) + len(r.rejected["persons"])
    assert list(r.rejected["persons"]["_row"]) == [2]
    [p] = r.errors[(r.errors["table"] == "persons") & (r.errors["rule"] == "stray_quote")].to_dict("records")
    assert (p["file"], p["row"], p["variable"], p["value"]) == (str(folder / "persons.csv"), 2, "person_phone_seized",
                                                                 f'"{last}')
    assert p["message"] == (
        f"person_phone_seized holds a double quote (\") that is never closed ('\"{last}'), so a spreadsheet or CSV "
        "reader runs the lines after it into this cell. Delete the stray quote (or add the closing one); this line "
        "was read on its own, and so was every line after it.")
    # every other person is valid, and so are the charges of everyone but the person on row 2
    assert len(r.valid["persons"]) == n - 1


def test_stray_quote_at_the_start_of_a_middle_cell(frames, tmp_path):
    folder = write_folder(frames, tmp_path / "d")
    lines = lines_of(folder, "incidents")
    cells = lines[5].split(",")
    cells[4] = '"' + cells[4]  # district
    lines[5] = ",".join(cells)
    put_lines(folder, "incidents", lines)
    r = validate_tables(load_coded_tables(folder))
    assert r.input_rows["incidents"] == len(frames["incidents"])
    got = errs(r, "incidents")
    assert ("incidents", 6, "district", "stray_quote") in got
    assert {row for _, row, _, _ in got} == {6}


def test_two_stray_quotes_that_pair_up_still_give_two_rows(frames, tmp_path):
    """An opening quote on one line and a closing one on the next would make one cell of two rows."""
    folder = write_folder(frames, tmp_path / "d")
    lines = lines_of(folder, "charges")
    head, _, last = lines[2].rpartition(",")
    lines[2] = f'{head},"{last}'
    lines[3] = lines[3] + '"'
    put_lines(folder, "charges", lines)
    r = validate_tables(load_coded_tables(folder))
    assert r.input_rows["charges"] == len(frames["charges"])
    assert r.rejected["charges"]["_row"].tolist() == [3, 4]
    assert errs(r, "charges") == [("charges", 3, "statute", "stray_quote"),
                                  ("charges", 3, "statute", "unknown_statute"),
                                  ("charges", 4, "statute", "unknown_statute")]


def test_line_break_inside_a_quoted_cell_is_one_rejected_row(frames, tmp_path):
    folder = write_folder(frames, tmp_path / "d")
    lines = lines_of(folder, "incidents")
    cells = lines[3].split(",")
    cells[1] = f'"{cells[1]}\nsecond line"'  # coder_id
    lines[3] = ",".join(cells)
    put_lines(folder, "incidents", lines)
    r = validate_tables(load_coded_tables(folder))
    assert r.input_rows["incidents"] == len(frames["incidents"])
    [p] = r.errors[r.errors["rule"] == "line_break_in_cell"].to_dict("records")
    assert (p["row"], p["variable"]) == (4, "coder_id")
    assert p["message"] == ("coder_id holds a line break, so this row runs over lines 4-5 of the file. A coded value "
                            "fits on one line: delete the line break.")
    # the rows after it keep the line numbers an editor shows
    assert r.rejected["incidents"]["_row"].tolist() == [4]
    assert r.valid["incidents"]["_row"].tolist()[2:4] == [6, 7]


def test_misplaced_quote_in_a_closed_cell(frames, tmp_path):
    folder = write_folder(frames, tmp_path / "d")
    lines = lines_of(folder, "incidents")
    cells = lines[1].split(",")
    cells[4] = '"mission"x'
    lines[1] = ",".join(cells)
    put_lines(folder, "incidents", lines)
    r = validate_tables(load_coded_tables(folder))
    assert ("incidents", 2, "district", "stray_quote") in errs(r, "incidents")
    assert r.input_rows["incidents"] == len(frames["incidents"])


# --- ragged rows and columns with no name -----------------------------------------------------------------


def test_value_past_the_header_names_its_column(frames, tmp_path):
    folder = write_folder(frames, tmp_path / "d")
    lines = lines_of(folder, "charges")
    lines[2] = lines[2] + ",stray value"
    put_lines(folder, "charges", lines)
    r = validate_tables(load_coded_tables(folder))
    [p] = r.errors.to_dict("records")
    assert (p["row"], p["variable"], p["value"], p["rule"]) == (3, "column 4 (D)", "stray value", "too_many_cells")
    assert p["message"] == ("there is a value ('stray value') in column 4 (D), which has no header: the row has more "
                            "cells than the header has names. Move it into the right column or delete it.")


def test_value_under_an_empty_header_cell_names_its_column(frames, tmp_path):
    df = frames["persons"]
    df.insert(3, "", "")
    df.iloc[4, 3] = "oops"
    r = validate_tables(load_coded_tables(write_folder(frames, tmp_path / "d")))
    [p] = r.errors[r.errors["table"] == "persons"].to_dict("records")
    assert (p["row"], p["variable"], p["value"], p["rule"]) == (6, "column 4 (D)", "oops", "no_header")
    assert p["message"] == ("there is a value ('oops') in column 4 (D), whose header cell is empty. Write the column's "
                            "codebook name in the header, or move the value into the right column.")


def test_row_with_too_few_cells(frames, tmp_path):
    folder = write_folder(frames, tmp_path / "d")
    lines = lines_of(folder, "incidents")
    lines[2] = lines[2].rsplit(",", 3)[0]  # the last three cells are gone
    put_lines(folder, "incidents", lines)
    r = validate_tables(load_coded_tables(folder))
    [p] = r.errors[r.errors["rule"] == "too_few_cells"].to_dict("records")
    assert (p["row"], p["variable"]) == (3, "interpreter_used")
    assert p["message"] == (
        "the row has 19 cells but the header has 22 names, so interpreter_used and the cells after it are missing: "
        "a separator is missing or two cells ran together, and values may be in the wrong columns. "
        "Check the row against the header.")


# --- delimiters ----------------------------------------------------------------------------------------------


def test_semicolons_in_a_cell_do_not_change_the_delimiter(frames, tmp_path):
    """Before: the sniffer counted ';' in the cell text, split the file on ';' and refused the whole table."""
    frames["incidents"].loc[0, "coder_id"] = ";" * 3000
    r = validate_tables(load_coded_tables(write_folder(frames, tmp_path / "d")))
    assert r.input_rows["incidents"] == len(frames["incidents"])
    assert errs(r, "incidents") == [("incidents", 2, "coder_id", "bad_format")]
    assert r.problems[r.problems["rule"] == "delimiter"].empty


@pytest.mark.parametrize("sep, word", [(";", "semicolons"), ("\t", "tabs")])
def test_semicolon_and_tab_files_are_read_with_a_warning(frames, tmp_path, sep, word):
    folder = tmp_path / "d"
    folder.mkdir()
    for name, df in frames.items():
        df.to_csv(folder / f"{name}.csv", index=False, sep=sep if name == "persons" else ",", lineterminator="\n")
    r = validate_tables(load_coded_tables(folder))
    assert r.exit_code == 0 and r.input_rows["persons"] == len(frames["persons"])
    [w] = r.problems[r.problems["severity"] == "warning"].to_dict("records")
    assert (w["file"], w["row"], w["rule"]) == (str(folder / "persons.csv"), 1, "delimiter")
    assert w["message"] == (f"the cells are separated by {word} ('{sep}' rather than ','); the file was read that "
                            "way, because its header row (row 1) splits into the codebook's column names with it.")


# --- encodings ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding, note", [("utf-8-sig", None), ("utf-16", "UTF-16"), ("utf-16-le", "UTF-16"),
                                            ("utf-16-be", "UTF-16"), ("cp1252", "Windows-1252")])
def test_encodings_are_read_with_a_note_when_not_utf8(frames, tmp_path, encoding, note):
    folder = write_folder(frames, tmp_path / "d")
    if encoding == "cp1252":
        frames["charges"].loc[0, "statute"] = "647(b) PC é"  # not UTF-8 once saved as Windows-1252
    text = frames["charges"].to_csv(index=False, lineterminator="\n")
    data = text.encode(encoding)
    if encoding in ("utf-16-le", "utf-16-be"):
        data = ("\ufeff" + text).encode(encoding)  # with a byte-order mark, as Windows saves it
    (folder / "charges.csv").write_bytes(data)
    r = validate_tables(load_coded_tables(folder))
    assert r.input_rows["charges"] == len(frames["charges"])
    warns = r.problems[r.problems["rule"] == "encoding"]["message"].tolist()
    if note is None:
        assert warns == [] and r.exit_code == 0
    else:
        assert warns == [f"the file is saved as {note} text, not UTF-8; it was read as {note}. Check that accented "
                         "letters look right, and next time save it as 'CSV UTF-8 (Comma delimited)' (Excel) or "
                         "'Text CSV' with UTF-8 (LibreOffice)."]
    if encoding == "cp1252":
        assert r.rejected["charges"]["statute"].tolist() == ["647(b) PC é"]


def test_utf32_and_binary_files_get_a_clear_message(frames, tmp_path):
    folder = write_folder(frames, tmp_path / "d")
    (folder / "persons.csv").write_bytes((folder / "persons.csv").read_text().encode("utf-32"))
    (folder / "charges.csv").write_bytes(bytes(range(256)) * 4)
    got = unusable(folder)
    assert got == [
        ("not_a_table", f"{folder}/persons.csv: the file is saved as UTF-32 text, which this program does not read; "
         "open it and save it as 'CSV UTF-8 (Comma delimited)' (Excel) or 'Text CSV' with UTF-8 (LibreOffice)"),
        ("not_a_table", f"{folder}/charges.csv: this is a binary file, not a CSV table"),
    ]


def test_whitespace_only_file_is_empty(frames, tmp_path):
    folder = write_folder(frames, tmp_path / "d")
    (folder / "incidents.csv").write_bytes(b"\n \r\n\t\n")
    assert unusable(folder) == [("not_a_table", f"{folder}/incidents.csv: the file is empty")]


@pytest.mark.parametrize("ending", ["\r\n", "\r"])
def test_windows_and_old_mac_line_endings(frames, tmp_path, ending):
    folder = write_folder(frames, tmp_path / "d")
    for t in frames:
        put_lines(folder, t, lines_of(folder, t), ending)
    r = validate_tables(load_coded_tables(folder))
    assert r.exit_code == 0
    assert r.accounting()["valid_rows"].tolist() == [len(frames[t]) for t in ("incidents", "persons", "charges",
                                                                                   "outcomes")]


def test_a_row_with_many_cells_past_the_header_is_one_problem(frames, tmp_path):
    folder = write_folder(frames, tmp_path / "d")
    lines = lines_of(folder, "charges")
    lines[1] = lines[1] + ",x" * 500
    put_lines(folder, "charges", lines)
    r = validate_tables(load_coded_tables(folder))
    [p] = r.errors.to_dict("records")
    assert (p["row"], p["variable"], p["rule"]) == (2, "column 4 (D)", "too_many_cells")
    assert p["message"] == ("there is a value ('x') in column 4 (D), which has no header (and 499 more cell(s) after "
                            "it): the row has more cells than the header has names. Move it into the right column or "
                            "delete it.")


def test_a_file_of_separators_only_has_no_header(frames, tmp_path):
    folder = write_folder(frames, tmp_path / "d")
    (folder / "persons.csv").write_text(",,,\n;;\n")
    assert unusable(folder) == [("not_a_table", f"{folder}/persons.csv: the file has no header row (it holds only "
                                 "separators and blank lines)")]


def test_a_huge_quoted_cell_is_a_problem_not_a_crash(frames, tmp_path):
    """Cells past the csv module's field size limit (128 KiB) are read, not a csv.Error."""
    folder = write_folder(frames, tmp_path / "d")
    lines = lines_of(folder, "charges")
    lines[1] = lines[1] + ',"' + "x" * 200_000 + '"'
    put_lines(folder, "charges", lines)
    inc = lines_of(folder, "incidents")
    inc[0] = inc[0] + ',"' + "y" * 200_000 + '"'
    put_lines(folder, "incidents", inc)
    r = validate_tables(load_coded_tables(folder))
    assert r.input_rows == {t: len(df) for t, df in frames.items()}
    assert errs(r) == [("charges", 2, "column 4 (D)", "stray_quote"), ("charges", 2, "column 4 (D)", "too_many_cells")]
    assert r.problems[r.problems["severity"] == "warning"]["rule"].tolist() == ["unknown_column"]


def test_the_garbage_collector_is_running_again_after_a_load(frames, tmp_path):
    import gc

    folder = write_folder(frames, tmp_path / "d")
    (folder / "charges.csv").write_bytes(b"\x00binary")
    with pytest.raises(UnusableInputError):
        load_coded_tables(folder)
    assert gc.isenabled()
    validate_tables(load_coded_tables(write_folder(frames, tmp_path / "e")))
    assert gc.isenabled()
