"""Reading coded workbooks (.xlsx, .xlsm, .ods): every row the coder sees is read, as the coder sees it."""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile

import pandas as pd
import pytest

from analysis.intake.load import load_coded_tables
from analysis.intake.problems import UnusableInputError
from analysis.intake.validate import validate_tables


def build(frames, path, *, dates="cells", edit=None, epoch=None):
    """A workbook with one sheet per table; incident dates as date cells ('cells'), serial numbers in General
    cells ('serial') or text ('text'); ``edit(wb)`` changes it before it is saved."""
    from openpyxl import Workbook
    from openpyxl.utils.datetime import to_excel

    wb = Workbook()
    wb.remove(wb.active)
    if epoch is not None:
        wb.epoch = epoch
    for name, df in frames.items():
        ws = wb.create_sheet(name)
        ws.append(list(df.columns))
        for row in df.itertuples(index=False):
            cells = list(row)
            if name == "incidents":
                k = list(df.columns).index("incident_date")
                d = dt.date.fromisoformat(cells[k])
                if dates == "cells":
                    cells[k] = d
                elif dates == "serial":
                    cells[k] = int(to_excel(d, wb.epoch))
            ws.append(cells)
    if edit:
        edit(wb)
    wb.save(path)
    return path


def rewrite(path, member, fn):
    """Apply ``fn`` to the bytes of one member of the zip at ``path``."""
    z = zipfile.ZipFile(io.BytesIO(path.read_bytes()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in z.infolist():
            data = z.read(info.filename)
            dst.writestr(info, fn(data) if info.filename == member else data)
    path.write_bytes(out.getvalue())


def sheet_member(path, title):
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True)
    try:
        return wb[title]._worksheet_path
    finally:
        wb.close()


def unusable(path):
    with pytest.raises(UnusableInputError) as exc:
        load_coded_tables(path)
    return [(p["rule"], p["message"]) for p in exc.value.problems]


@pytest.mark.parametrize("ref", ["A1:U10", "A1"])
def test_a_stored_dimension_that_understates_the_data_is_not_trusted(frames, tmp_path, ref):
    """Before: 'A1:U10' read 9 reports of 24 without a word; 'A1' gave a traceback."""
    path = build(frames, tmp_path / "coded.xlsx")
    for t in frames:
        rewrite(path, sheet_member(path, t), lambda x: re.sub(rb'<dimension ref="[^"]*" ?/>',
                                                              f'<dimension ref="{ref}"/>'.encode(), x))
    r = validate_tables(load_coded_tables(path))
    assert r.exit_code == 0
    assert r.input_rows == {t: len(df) for t, df in frames.items()}


def test_formula_without_a_saved_value_is_a_located_problem(frames, tmp_path):
    """Before: the cell read as blank, and a blank skipped item became -9 while the coder saw 'yes'."""
    inc = frames["incidents"]
    i = int(inc.index[inc["condoms_mentioned"] == "no"][0])
    col = inc.columns.get_loc("condoms_confiscated") + 1

    def edit(wb):
        wb["incidents"].cell(row=i + 2, column=col, value='=IF(A2<>"","yes","no")')

    path = build(frames, tmp_path / "coded.xlsx", edit=edit)
    r = validate_tables(load_coded_tables(path))
    assert r.rejected["incidents"]["_row"].tolist() == [i + 2]
    [p] = r.errors[r.errors["table"] == "incidents"].to_dict("records")
    assert (p["sheet"], p["row"], p["report_id"], p["variable"], p["value"], p["rule"]) == (
        "incidents", i + 2, inc.loc[i, "report_id"], "condoms_confiscated", '=IF(A2<>"","yes","no")',
        "formula_without_value")
    assert p["message"] == ('this cell holds a formula (=IF(A2<>"","yes","no")) with no saved value, so what it shows '
                            "cannot be read. Open the workbook in Excel or LibreOffice, recalculate and save it, or "
                            "type the value.")


def test_formula_with_a_saved_value_is_read_as_that_value(frames, tmp_path):
    """Decision: a formula's saved result is what the coder sees, so it is what is validated."""
    inc = frames["incidents"]
    col = inc.columns.get_loc("district") + 1
    path = build(frames, tmp_path / "coded.xlsx",
                 edit=lambda wb: wb["incidents"].cell(row=2, column=col, value='=LOWER("MISSION")'))
    from openpyxl.utils import get_column_letter

    ref = f"{get_column_letter(col)}2".encode()
    rewrite(path, sheet_member(path, "incidents"),
            lambda x: re.sub(rb'<c r="' + ref + rb'"([^>]*)><f>(.*?)</f><v ?/>',
                             rb'<c r="' + ref + rb'" t="str"><f>\2</f><v>mission</v>', x))
    r = validate_tables(load_coded_tables(path))
    assert r.exit_code == 0
    assert r.valid["incidents"].loc[0, "district"] == "mission"


@pytest.mark.parametrize("epoch", [None, "1904"])
def test_serial_number_dates_in_general_cells_are_dates(frames, tmp_path, epoch):
    """Before: every date typed into a General-format cell (39850) was rejected."""
    from openpyxl.utils.datetime import CALENDAR_MAC_1904

    path = build(frames, tmp_path / "coded.xlsx", dates="serial",
                 epoch=CALENDAR_MAC_1904 if epoch else None)
    raw = load_coded_tables(path)
    first = raw["incidents"].frame.loc[0, "incident_date"]
    assert first == frames["incidents"].loc[0, "incident_date"]
    r = validate_tables(raw)
    assert r.exit_code == 0
    assert r.valid["incidents"]["incident_date"].tolist() == frames["incidents"]["incident_date"].tolist()


def test_serial_numbers_elsewhere_stay_numbers(frames, tmp_path):
    path = build(frames, tmp_path / "coded.xlsx", dates="serial")
    frame = load_coded_tables(path)["persons"].frame
    assert frame["age"].tolist() == frames["persons"]["age"].tolist()


def test_hidden_rows_are_validated_with_a_warning(frames, tmp_path):
    frames["persons"].loc[3, "age"] = "200"

    def edit(wb):
        for r in (5, 8, 9, 10):
            wb["persons"].row_dimensions[r].hidden = True

    path = build(frames, tmp_path / "coded.xlsx", edit=edit)
    r = validate_tables(load_coded_tables(path))
    assert r.rejected["persons"]["_row"].tolist() == [5]
    [w] = r.problems[r.problems["severity"] == "warning"].to_dict("records")
    assert (w["file"], w["sheet"], w["row"], w["rule"]) == (str(path), "persons", 5, "hidden_rows")
    assert w["message"] == ("row(s) 5, 8-10 of sheet 'persons' are hidden in the workbook; they were read and "
                            "validated like the others. Unhide them (select all, right-click a row number, Unhide) to see them.")


def test_extra_sheets_are_a_warning_but_the_templates_own_sheets_are_not(frames, tmp_path):
    def edit(wb):
        for title in ("read me", "codebook", "lists", "persons (old)"):
            wb.create_sheet(title).append(["anything"])

    path = build(frames, tmp_path / "coded.xlsx", edit=edit)
    r = validate_tables(load_coded_tables(path))
    assert r.exit_code == 0
    [w] = r.problems[r.problems["severity"] == "warning"].to_dict("records")
    assert (w["sheet"], w["rule"]) == ("persons (old)", "extra_sheet")
    assert w["message"] == ("the workbook has sheet(s) 'persons (old)' besides incidents, persons, charges and "
                            "outcomes; they were not read. If they hold coded rows, move the rows to the right sheet.")


def test_xlsm_and_ods_workbooks_are_read(frames, tmp_path):
    """Before: .ods got 'not a folder of CSV files or an .xlsx workbook'."""
    xlsm = build(frames, tmp_path / "coded.xlsm")
    ods = tmp_path / "coded.ods"
    with pd.ExcelWriter(ods, engine="odf") as w:
        for name, df in frames.items():
            df.to_excel(w, sheet_name=name, index=False)
    want = validate_tables(load_coded_tables(build(frames, tmp_path / "coded.xlsx")))
    for path in (xlsm, ods):
        r = validate_tables(load_coded_tables(path))
        assert r.exit_code == 0, path
        for t in frames:
            pd.testing.assert_frame_equal(r.valid[t], want.valid[t])


def test_damaged_workbooks_get_a_message_not_a_traceback(frames, tmp_path):
    path = build(frames, tmp_path / "bad_xml.xlsx")
    rewrite(path, sheet_member(path, "persons"), lambda x: x.replace(b"</sheetData>", b"<row r=")[:-40])
    [(rule, msg)] = unusable(path)
    assert rule == "not_a_table"
    assert msg.startswith(f"{path}: not an Excel workbook that can be read: the file is damaged (")
    assert msg.endswith("); open it in Excel or LibreOffice and save it again as .xlsx")
    # a corrupt member: the compressed bytes of one sheet are overwritten
    path = build(frames, tmp_path / "bad_zip.xlsx")
    data = bytearray(path.read_bytes())
    z = zipfile.ZipFile(io.BytesIO(bytes(data)))
    info = z.getinfo(sheet_member(path, "charges"))
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    data[start + 10 : start + 60] = b"\xff" * 50
    path.write_bytes(bytes(data))
    [(rule, msg)] = unusable(path)
    assert msg.startswith(f"{path}: not an Excel workbook that can be read: the file is damaged (")
    # a truncated file
    short = tmp_path / "short.xlsx"
    short.write_bytes(build(frames, tmp_path / "whole.xlsx").read_bytes()[:3000])
    [(rule, msg)] = unusable(short)
    assert msg.startswith(f"{short}: not an Excel workbook that can be read")


def ole_file(streams: list[str]) -> bytes:
    """The start of an OLE compound file whose directory names ``streams`` (enough for the loader's check)."""
    header = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504
    directory = b"".join(s.encode("utf-16-le").ljust(64, b"\x00") + b"\x00" * 64 for s in streams)
    return header + directory + b"\x00" * 1024


def test_password_protected_and_legacy_workbooks(tmp_path):
    enc = tmp_path / "coded.xlsx"
    enc.write_bytes(ole_file(["Root Entry", "EncryptionInfo", "EncryptedPackage"]))
    assert unusable(enc) == [("not_a_table", f"{enc}: the workbook is password-protected (encrypted), so it cannot be "
                              "read; open it, save an unprotected copy (File > Info > Protect Workbook > Encrypt with "
                              "Password: clear the password) and validate that copy")]
    xls = tmp_path / "coded.xls"
    xls.write_bytes(ole_file(["Root Entry", "Workbook"]))
    assert unusable(xls) == [("not_a_table", f"{xls}: this is an Excel 97-2003 workbook (.xls), which this program does "
                              "not read; open it in Excel or LibreOffice and save it as an Excel Workbook (.xlsx)")]
    empty = tmp_path / "empty.xlsx"
    empty.write_bytes(b"")
    assert unusable(empty) == [("not_a_table", f"{empty}: the file is empty")]
    other = tmp_path / "coded.numbers"
    other.write_bytes(b"x")
    assert unusable(other) == [("not_a_table", f"{other}: not a folder of CSV files or a workbook (.xlsx, .xlsm or "
                                ".ods); give the folder holding incidents.csv, persons.csv and charges.csv, or the "
                                "workbook")]


def test_hidden_rows_of_an_ods_workbook_are_a_warning(frames, tmp_path):
    ods = tmp_path / "coded.ods"
    with pd.ExcelWriter(ods, engine="odf") as w:
        for name, df in frames.items():
            df.to_excel(w, sheet_name=name, index=False)

    def hide_rows_3_and_4_of_charges(xml: bytes) -> bytes:
        head, sep, tail = xml.partition(b'<table:table table:name="charges">')
        parts = tail.split(b"<table:table-row>")
        for k in (3, 4):  # the third and fourth row elements: spreadsheet rows 3 and 4
            parts[k] = b'<table:table-row table:visibility="collapse">' + parts[k]
        return head + sep + b"".join(p if k in (3, 4) else (b"<table:table-row>" + p if k else p)
                                     for k, p in enumerate(parts))

    rewrite(ods, "content.xml", hide_rows_3_and_4_of_charges)
    r = validate_tables(load_coded_tables(ods))
    assert r.exit_code == 0 and r.input_rows["charges"] == len(frames["charges"])
    [w] = r.problems[r.problems["severity"] == "warning"].to_dict("records")
    assert (w["sheet"], w["row"], w["rule"]) == ("charges", 3, "hidden_rows")
    assert w["message"].startswith("row(s) 3-4 of sheet 'charges' are hidden in the workbook;")


def test_ods_cells_reading_na_are_not_blanks(frames, tmp_path):
    """pandas would read a typed 'NA' or 'n/a' as a blank cell, and a blank skipped item as -9."""
    inc = frames["incidents"]
    i = int(inc.index[inc["condoms_mentioned"] == "no"][0])
    inc.loc[i, "condoms_confiscated"] = "NA"
    frames["persons"].loc[0, "age"] = "n/a"
    ods = tmp_path / "coded.ods"
    with pd.ExcelWriter(ods, engine="odf") as w:
        for name, df in frames.items():
            df.to_excel(w, sheet_name=name, index=False)
    r = validate_tables(load_coded_tables(ods))
    got = {(p["table"], p["row"], p["variable"], p["value"], p["rule"]) for p in r.errors.to_dict("records")}
    assert ("incidents", i + 2, "condoms_confiscated", "NA", "skip_logic") in got
    assert ("persons", 2, "age", "n/a", "not_a_whole_number") in got


def test_a_formula_whose_saved_result_is_empty_text_is_a_blank(frames, tmp_path):
    inc = frames["incidents"]
    i = int(inc.index[inc["condoms_mentioned"] == "no"][0])
    col = inc.columns.get_loc("condoms_confiscated") + 1
    path = build(frames, tmp_path / "coded.xlsx",
                 edit=lambda wb: wb["incidents"].cell(row=i + 2, column=col, value='=IF(1=1,"","yes")'))
    from openpyxl.utils import get_column_letter

    ref = f"{get_column_letter(col)}{i + 2}".encode()
    rewrite(path, sheet_member(path, "incidents"),
            lambda x: re.sub(rb'<c r="' + ref + rb'"([^>]*)><f>(.*?)</f><v ?/>',
                             rb'<c r="' + ref + rb'" t="str"><f>\2</f><v></v>', x))
    r = validate_tables(load_coded_tables(path))
    assert r.exit_code == 0
    assert r.valid["incidents"].loc[i, "condoms_confiscated"] == "-9"


def test_two_sheets_for_one_table_are_refused(frames, tmp_path):
    """Otherwise one of them would be read and the other silently ignored."""
    path = build(frames, tmp_path / "coded.xlsx", edit=lambda wb: wb.create_sheet("Persons ").append(["x"]))
    assert unusable(path) == [("duplicate_sheet", f"{path}: the workbook has 2 sheets for the persons table "
                               "('persons', 'Persons '); keep one sheet per table")]
