"""Formula-safe outputs (OWASP CSV injection): a value a coder typed never becomes a formula in a spreadsheet."""

from __future__ import annotations

import csv
import io
import zipfile

import openpyxl
import pandas as pd
import pytest

from analysis.cli.app import main
from analysis.cli.console import write_csv
from analysis.formats.cells import formula_like, formula_safe, formula_safe_frame, frame_to_csv, is_plain_number
from analysis.formats.xlsx import tables_to_xlsx
from analysis.tables.export import to_csv, to_xlsx

from .conftest import EXAMPLE, write_folder

HYPERLINK = '=HYPERLINK("http://x","click")'
DDE = "=cmd|' /C calc'!A0"


@pytest.mark.parametrize("value", [
    "-8", "-9", "-3.5", "+1", "8", "0", ".5", "-.5", "-5.", "-1e5", "+2.5E-3",  # plain numbers
    "-18.8 (-35.0 to +3.8)", "+0.0 (-5.5 to +10.2)",  # an estimate with its interval, as the tables write it
    "", "abc", "SYN-0001", " =1", "'=1", "2009-02-30", "a=1",  # not starting with a trigger
])
def test_left_alone(value):
    assert formula_safe(value) == value
    assert not formula_like(value)


@pytest.mark.parametrize("value", [
    "=1", "-8+1", "-2-3", "+1+1", "--8", "-8 ", "-inf", "-nan", "-1,000", "-１",  # not plain (ASCII) numbers
    HYPERLINK, DDE, "@SUM(A1)", "\t=1", "\tx", "\r=1", "=", "-", "+", "@",
    "-1 (=A1 to 2)", "-1 (-2 to 3) =1", "-1 (-2 to 3)\n",  # near the estimate shape, but not it
])
def test_quoted(value):
    assert formula_safe(value) == "'" + value
    assert formula_like(value)


def test_only_text_is_ever_changed():
    for v in (-8, -3.5, None, float("nan"), pd.NA, pd.Timestamp("2009-01-01")):
        assert formula_safe(v) is v
    assert is_plain_number("-8") and not is_plain_number("-8+1")


def test_frame_returned_as_is_when_nothing_to_quote():
    df = pd.DataFrame({"report_id": ["SYN-0001", "SYN-0002"], "count": [-9, 3], "x": ["-9", None]})
    assert formula_safe_frame(df) is df


def test_frame_quotes_text_cells_categories_and_column_names_only():
    df = pd.DataFrame({"a": ["-2-3", "-8", None], "n": [-1, -2, -3],
                       "c": pd.Categorical(["=1", "ok", "=1"]), "=head": ["x", "y", "z"]})
    out = formula_safe_frame(df)
    assert out is not df and df["a"].tolist() == ["-2-3", "-8", None]  # the input is not modified
    assert out["a"].tolist() == ["'-2-3", "-8", None]
    assert out["n"].tolist() == [-1, -2, -3]
    assert out["c"].tolist() == ["'=1", "ok", "'=1"]
    assert list(out.columns) == ["a", "n", "c", "'=head"]


def test_csv_text_is_pandas_text_when_nothing_needs_quoting():
    persons = pd.read_csv(EXAMPLE / "persons.csv", dtype=str, keep_default_na=False)
    assert frame_to_csv(persons) == persons.to_csv(index=False, lineterminator="\n")
    assert frame_to_csv(persons).encode() == (EXAMPLE / "persons.csv").read_bytes()


def test_carriage_returns_are_quoted_so_the_row_stays_whole():
    df = pd.DataFrame({"a": ["\r=1", "x\ry", 'q"\r\nz', "plain"], "b": [1, 2, 3, 4]})
    text = frame_to_csv(df)
    assert text == 'a,b\n"\'\r=1",1\n"x\ry",2\n"q""\r\nz",3\nplain,4\n'
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows == [["a", "b"], ["'\r=1", "1"], ["x\ry", "2"], ['q"\r\nz', "3"], ["plain", "4"]]


def test_write_csv_quotes_tab_and_cr_cells(tmp_path):
    write_csv(pd.DataFrame({"v": ["\tcalc", "\rcalc", "-9"]}), tmp_path / "x.csv")
    assert (tmp_path / "x.csv").read_bytes() == b"v\n'\tcalc\n\"'\rcalc\"\n-9\n"


# --- the validation outputs coders open in Excel ---------------------------------------------------------


def _cells(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def test_problems_and_rejected_rows_show_typed_formulas_as_text(frames, tmp_path, capsys):
    inc, per = frames["incidents"], frames["persons"]
    inc.loc[0, "district"] = HYPERLINK
    inc.loc[2, "location_type"] = DDE
    per.loc[1, "age"] = "@SUM(A1)"
    per.loc[2, "age"] = "-8+1"
    folder = write_folder(frames, tmp_path / "in")
    assert main(["validate", str(folder), "--out", str(tmp_path / "out")]) == 1
    problems = _cells(tmp_path / "out" / "problems.csv")
    header = problems[0]
    values = {r[header.index("variable")]: r[header.index("value")] for r in problems[1:]}
    assert values["district"] == "'" + HYPERLINK
    assert values["location_type"] == "'" + DDE
    assert values["age"] in ("'@SUM(A1)", "'-8+1")
    assert sorted(r[header.index("value")] for r in problems[1:] if r[header.index("variable")] == "age") == [
        "'-8+1", "'@SUM(A1)"]
    # the rejected rows: the typed value with a ' in front, everything else as it was
    rejected = _cells(tmp_path / "out" / "rejected" / "incidents.csv")
    col = rejected[0].index("district")
    assert "'" + HYPERLINK in [r[col] for r in rejected[1:]]
    assert not any(c.startswith(("=", "@", "+")) for r in rejected for c in r)
    # -8 / -9, the missing codes, stay plain numbers
    valid = _cells(tmp_path / "out" / "valid" / "incidents.csv")
    assert "-9" in [c for r in valid for c in r]
    assert not any(c.startswith("'") for r in valid for c in r)


def test_a_coder_id_like_minus_2_minus_3_is_rejected_and_shown_as_text(frames, tmp_path, capsys):
    """A coder id must start with a letter or digit, so '-2-3' never reaches the derived tables; the rejected rows
    a coder opens to fix it show it as text, not as the formula -2-3 = -5."""
    frames["incidents"]["coder_id"] = "-2-3"
    folder = write_folder(frames, tmp_path / "in")
    assert main(["derive", str(folder), "--out", str(tmp_path / "d")]) == 1
    assert len(pd.read_parquet(tmp_path / "d" / "incidents.parquet")) == 0
    rejected = _cells(tmp_path / "d" / "validation" / "rejected" / "incidents.csv")
    col = rejected[0].index("coder_id")
    assert {r[col] for r in rejected[1:]} == {"'-2-3"}


def test_import_redcap_output_is_formula_safe(frames, tmp_path, capsys):
    from analysis.coders.redcap_dictionary import data_dictionary, records_export
    from analysis.scheme.codebook import load_codebook

    cb = load_codebook()
    frames["incidents"].loc[:, "coder_id"] = "@me"
    export = tmp_path / "export.csv"
    export.write_text(records_export(frames, data_dictionary(cb), cb).to_csv(index=False, lineterminator="\n"))
    assert main(["import-redcap", str(export), "--out", str(tmp_path / "o")]) in (0, 1)
    rows = _cells(tmp_path / "o" / "incidents.csv")
    assert {r[rows[0].index("coder_id")] for r in rows[1:]} == {"'@me"}


# --- shared tables and workbooks ---------------------------------------------------------------------------


def test_shared_table_csv_quotes_labels_but_not_estimates():
    table = pd.DataFrame({"Variable": ["District", ""], "Level": [HYPERLINK, "-1 mission"],
                          "Difference, pp (95% CI)": ["-18.8 (-35.0 to +3.8)", "+4.1 (-0.8 to +9.0)"]})
    text = to_csv(table, "Title", ["Source: x."])
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[2] == ["District", "'" + HYPERLINK, "-18.8 (-35.0 to +3.8)"]
    assert rows[3] == ["", "'-1 mission", "+4.1 (-0.8 to +9.0)"]


def _xml(data: bytes) -> str:
    z = zipfile.ZipFile(io.BytesIO(data))
    return "".join(z.read(n).decode("utf-8") for n in z.namelist() if n.startswith("xl/worksheets/"))


def test_workbook_cells_are_text_not_formulas():
    df = pd.DataFrame({"value": [HYPERLINK, DDE, "-2-3", "-8", "@SUM(A1)", "ok"]})
    data = tables_to_xlsx({"disagreements": df})
    assert "<f>" not in _xml(data)
    ws = openpyxl.load_workbook(io.BytesIO(data))["disagreements"]
    cells = [ws.cell(r, 1) for r in range(2, 8)]
    assert [c.value for c in cells] == df["value"].tolist()
    assert all(c.data_type == "s" for c in cells)
    assert [c.quotePrefix for c in cells] == [True, True, True, False, True, False]


def test_workbook_of_shared_tables_is_text_not_formulas():
    table = pd.DataFrame({"Level": [HYPERLINK, "x"], "Difference": ["-18.8 (-35.0 to +3.8)", "=1+1"]})
    data = to_xlsx({"t": (table, "=title", ["Source: x."])})
    assert "<f>" not in _xml(data)
    ws = openpyxl.load_workbook(io.BytesIO(data))["t"]
    assert (ws["A1"].value, ws["A1"].data_type) == ("=title", "s")
    assert (ws["A4"].value, ws["A4"].data_type, ws["A4"].quotePrefix) == (HYPERLINK, "s", True)
    assert (ws["B4"].value, ws["B4"].quotePrefix) == ("-18.8 (-35.0 to +3.8)", False)
    assert (ws["B5"].value, ws["B5"].data_type, ws["B5"].quotePrefix) == ("=1+1", "s", True)


def test_reliability_disagreements_workbook_keeps_a_typed_formula_as_text(tmp_path, capsys):
    from analysis.cli.reliability import disagreements_xlsx

    data = disagreements_xlsx(pd.DataFrame({"report_id": ["SYN-0001"], "coder_a": [HYPERLINK], "coder_b": ["-9"]}))
    assert "<f>" not in _xml(data)
    ws = openpyxl.load_workbook(io.BytesIO(data))["disagreements"]
    assert (ws["B2"].value, ws["B2"].data_type, ws["C2"].value) == (HYPERLINK, "s", "-9")


def test_each_distinct_value_is_checked_once_and_an_unhashable_cell_still_is(monkeypatch):
    """A text column of many rows holds few distinct values: each is checked once, not once a row. A value that
    cannot be hashed (a list) makes the column checked row by row, and a used category holding a carriage return
    quotes the file as a text cell would."""
    from analysis.formats import cells

    checked = []
    like = cells.formula_like
    monkeypatch.setattr(cells, "formula_like", lambda v: checked.append(v) or like(v))
    df = pd.DataFrame({"code": ["-8", "1", "x"] * 1000, "n": range(3000)})
    assert formula_safe_frame(df) is df
    assert sorted(checked) == ["-8", "1", "code", "n", "x"]  # 3 checks for 3,000 cells, and the 2 column names
    out = formula_safe_frame(pd.DataFrame({"code": ["-8", "1", "=2"] * 1000}))
    assert out["code"].tolist()[:3] == ["-8", "1", "'=2"] and out["code"].tolist().count("'=2") == 1000
    checked.clear()
    mixed = pd.DataFrame({"v": [["=1"], "=2", "x"]})
    assert formula_safe_frame(mixed)["v"].tolist() == [["=1"], "'=2", "x"] and checked[:2] == [["=1"], "=2"]
    cat = pd.DataFrame({"c": pd.Categorical(["a\rb", "x"] * 2, categories=["a\rb", "x", "unused\r"])})
    assert frame_to_csv(cat) == 'c\n"a\rb"\nx\n"a\rb"\nx\n'
    unused = pd.DataFrame({"c": pd.Categorical(["x", "y"], categories=["x", "y", "unused\r"])})
    assert frame_to_csv(unused) == unused.to_csv(index=False, lineterminator="\n")
