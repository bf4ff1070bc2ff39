"""The public record on DuckDB (issue 15): ``scan_public`` gives exactly what the pandas loader's
``select_prostitution(load_public(path))`` gives (rows, values, types, attrs, error messages), on the shared
files, the fixtures and hostile small files; ``public convert`` stores a file as Parquet that every command reads
like the file itself."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from analysis.cli.app import main as run_cli
from analysis.intake.problems import UnusableInputError
from analysis.public import load_public, select_prostitution
from analysis.public.engine import _date_certain, connect, convert, like_pattern, scan_public, shape_pattern
from analysis.public.load import SHARED_FILES

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "public"

DATASF = """IncidntNum,Category,Descript,DayOfWeek,Date,Time,PdDistrict,Resolution,Address,X,Y,Location,PdId
090215742,PROSTITUTION,SOLICITS FOR ACT OF PROSTITUTION,Saturday,02/28/2009,21:10,MISSION,"ARREST, CITED",MISSION ST / 20TH ST,-122.419,37.758,"(37.758, -122.419)",09021574216010
090215742,PROSTITUTION,LOITERING FOR PURPOSE OF PROSTITUTION,Saturday,02/27/2009,21:10,MISSION,"ARREST, CITED",MISSION ST / 20TH ST,-122.419,37.758,"(37.758, -122.419)",09021574216030
100004411, prostitution ,PIMPING,Friday,01/01/2010,23:55,,NONE,100 Block of EDDY ST,-122.41,37.784,"(37.784, -122.41)",10000441116040
140098210,OTHER OFFENSES,HUMAN  TRAFFICKING,Thursday,01/30/2014,9:05,Tenderloin,JUVENILE BOOKED,0 Block of JONES ST,-122.412,37.781,"(37.781, -122.412)",14009821016110
140098211,LARCENY/THEFT,GRAND THEFT FROM PERSON,Thursday,01/30/2014,10:00,SOUTHERN,NONE,800 Block of MARKET ST,-122.407,37.784,"(37.784, -122.407)",14009821106374
140098212,PROSTITUTION,INDECENT EXPOSURE,Thursday,2014-01-31,10:00,SOUTHERN,NONE,800 Block of MARKET ST,-122.407,37.784,"(37.784, -122.407)",14009821206374
"""


def _same(path: Path, **kw) -> pd.DataFrame:
    """scan_public(path) equals the pandas loader's selection, values, dtypes and attrs."""
    want = select_prostitution(load_public(path, **kw))
    got = scan_public(path, **kw)
    pd.testing.assert_frame_equal(got, want)
    for key, value in want.attrs.items():
        assert got.attrs[key] == value, key
    return got


def _errors(path: Path, fn) -> list[tuple]:
    with pytest.raises(UnusableInputError) as exc:
        fn(path)
    return [(p["rule"], p["file"], p.get("row") or None, p.get("variable") or None, p["message"])
            for p in exc.value.problems]


@pytest.mark.parametrize("key", ["incidents", "kaggle", "socrata", "daily"])
def test_shared_files_read_by_the_engine_as_by_pandas(shared_sfpd, key):
    got = _same(shared_sfpd / SHARED_FILES[key])
    assert got.attrs["engine"] == ("pandas" if key == "daily" else "duckdb")


def test_fixtures_read_by_the_engine_as_by_pandas():
    for p in sorted(FIXTURES.glob("*.json")):
        assert _same(p).attrs["engine"] == "duckdb"


def test_small_datasf_file_by_hand(tmp_path):
    p = tmp_path / "datasf.csv"
    p.write_text(DATASF, encoding="utf-8")
    got = _same(p)
    # PROSTITUTION rows (spaces and case as the pandas loader reads them) and HUMAN TRAFFICKING in a description
    assert list(got["source_row"]) == [2, 3, 4, 5, 7]
    assert got.attrs["records"] == 6 and got.attrs["rows_read"] == 6


def test_only_needed_columns_are_read(tmp_path):
    p = tmp_path / "datasf.csv"
    p.write_text(DATASF, encoding="utf-8")
    got = scan_public(p, needs=("incident_number",))
    assert list(got["incident_number"]) == ["090215742", "090215742", "100004411", "140098210", "140098212"]
    assert set(got["resolution"]) == {""} and set(got["district"]) == {""} and got["latitude"].isna().all()


def test_a_bad_date_in_a_row_of_no_interest_is_still_an_error(tmp_path):
    p = tmp_path / "datasf.csv"
    p.write_text(DATASF.replace("01/30/2014,10:00", "30/01/2014,10:00").replace("23:55", "late"), encoding="utf-8")
    want = _errors(p, load_public)
    assert want == [
        ("bad_date", "datasf.csv", 6, "Date", "'30/01/2014' is not a date (expected MM/DD/YYYY)"),
        ("bad_time", "datasf.csv", 4, "Time", "'late' is not a time (HH:MM)")]
    assert _errors(p, scan_public) == want


def test_what_the_engine_cannot_read_goes_to_pandas(tmp_path):
    p = tmp_path / "datasf.csv"
    p.write_bytes(DATASF.replace("EDDY", "EDDY \u00e9").encode("cp1252"))  # not UTF-8
    assert _same(p).attrs["engine"] == "pandas"
    ragged = tmp_path / "ragged.csv"
    ragged.write_text(DATASF + ",".join("1" * 14) + "\n", encoding="utf-8")
    assert _errors(ragged, scan_public) == _errors(ragged, load_public) == [
        ("not_a_table", "ragged.csv", 8, None, "14 fields where the header has 13; this is not a regular CSV table "
         "(check quoting of values with commas)")]
    short = tmp_path / "short.csv"  # a short row: pandas pads it, so its date is empty
    short.write_text(DATASF + "1,2,3\n\n" + DATASF.splitlines()[1] + "\n", encoding="utf-8")
    assert _errors(short, scan_public) == _errors(short, load_public) == [
        ("bad_date", "short.csv", 8, "Date", "empty is not a date (expected MM/DD/YYYY)")]
    for name, content in [("empty.csv", ""), ("one.json", '{"message": "rate limited"}')]:
        (tmp_path / name).write_text(content, encoding="utf-8")
        assert _errors(tmp_path / name, scan_public) == _errors(tmp_path / name, load_public)


def test_json_records_are_numbered_as_pandas_numbers_them(tmp_path):
    rec = [{"incidntnum": "1", "category": "ASSAULT", "descript": "BATTERY", "date": "2011-01-02T00:00:00.000",
            "pddistrict": "MISSION", "resolution": "NONE"},
           {"incidntnum": "2", "category": "PROSTITUTION", "descript": "PIMPING", "date": "yesterday",
            "pddistrict": "MISSION", "resolution": "NONE"}]
    p = tmp_path / "page.json"
    p.write_text(json.dumps(rec), encoding="utf-8")
    assert _errors(p, scan_public) == _errors(p, load_public) == [
        ("bad_date", "page.json", None, "date", "record 2: 'yesterday' is not a date (expected MM/DD/YYYY)")]


def test_shape_pattern():
    assert shape_pattern("%Y-%m-%d") == "[0-9]{4}\\-(0[1-9]|1[0-2])\\-(0[1-9]|[12][0-9]|3[01])"
    with pytest.raises(ValueError, match="no strict pattern for %j"):
        shape_pattern("%j")


def test_like_pattern():
    assert like_pattern("%m/%d/%Y") == "__/__/____"
    assert like_pattern("%d.%m.%Y") == "__.__.____"
    # not ending in the year (a field before trailing space would pass), variable width, LIKE's own characters
    assert [like_pattern(f) for f in ("%Y-%m-%d", "%m/%d/%Y %H:%M", "%Y-%m-%dT%H:%M:%S.%f", "%m_%d_%Y")] == [None] * 4


# Cells near the shape MM/DD/YYYY: white space where DuckDB's strptime skips it, signs, other digits, 3-digit years.
NEAR_DATES = [" 1/02/2003", "\t1/02/2003", "\n1/02/2003", "1 /02/2003", "01/ 2/2003", "01/2 /2003", "01/02/200 ",
              "01/02/ 003", "+1/02/2003", "-1/02/2003", "01/+2/2003", "01/02/+003", "1e/02/2003", "01/02/2e03",
              "\u06601/02/2003", "13/02/2003", "00/02/2003", "02/30/2003", "01/02/0003", "01/02/1677", "01/01/2262",
              "1/2/2003", "01/02/2003 ", "01/02/2003", "12/31/2261", "01/01/1678"]


def test_the_quick_date_shape_is_the_strict_one():
    """The LIKE pattern (with a digit first) and DuckDB's strptime call a cell certain exactly when the strict
    regular expression and strptime do."""
    con = connect()
    try:
        quick = _date_certain("d", ["%m/%d/%Y"])
        strict = (f"coalesce(year(CASE WHEN regexp_full_match(d, '{shape_pattern('%m/%d/%Y')}') "
                  "THEN try_strptime(d, '%m/%d/%Y') END) BETWEEN 1678 AND 2261, false)")
        got = con.execute(f"SELECT d, {quick}, {strict} FROM unnest(?::VARCHAR[]) AS t(d)", [NEAR_DATES]).fetchall()
    finally:
        con.close()
    assert "LIKE '__/__/____'" in quick
    assert [d for d, q, s in got if q != s] == []
    assert {d for d, q, _ in got if q} == {"01/02/2003", "12/31/2261", "01/01/1678"}


def test_near_dates_in_rows_of_no_interest_are_judged_by_pandas(tmp_path):
    lines = DATASF.splitlines()
    other = lines[5]  # LARCENY/THEFT, 01/30/2014
    p = tmp_path / "datasf.csv"
    p.write_text("\n".join(lines + [other.replace("01/30/2014", d if "\n" not in d else d.replace("\n", " "))
                                    for d in NEAR_DATES]) + "\n", encoding="utf-8")
    want = _errors(p, load_public)
    assert len(want) > 10
    assert _errors(p, scan_public) == want


# --- Parquet ------------------------------------------------------------------------------------------------


def test_convert_keeps_rows_values_and_row_numbers(tmp_path):
    src = tmp_path / "datasf.csv"
    src.write_text(DATASF, encoding="utf-8")
    out = tmp_path / "datasf.parquet"
    assert convert(src, out) == {"format": "datasf_csv", "kind": "csv", "rows": 6, "columns": 13}
    want = load_public(src)
    got = load_public(out)
    pd.testing.assert_frame_equal(got.drop(columns="source_file"), want.drop(columns="source_file"))
    assert set(got["source_file"]) == {"datasf.parquet"}
    scanned = scan_public(out)
    assert scanned.attrs["engine"] == "duckdb"
    pd.testing.assert_frame_equal(scanned, select_prostitution(got))
    # a bad date in the Parquet file is named by its source row, as in the CSV
    bad = tmp_path / "bad.csv"
    bad.write_text(DATASF.replace("01/30/2014,10:00", "30/01/2014,10:00"), encoding="utf-8")
    convert(bad, tmp_path / "bad.parquet")
    assert [e[2:] for e in _errors(tmp_path / "bad.parquet", scan_public)] == [e[2:] for e in _errors(bad, load_public)]


def test_convert_json_and_hostile_input(tmp_path):
    src = FIXTURES / "socrata_tmnf-yvry_2011_2018_limit3_page1.json"
    out = tmp_path / "page.parquet"
    info = convert(src, out)
    assert (info["format"], info["kind"]) == ("socrata_json", "json")
    pd.testing.assert_frame_equal(scan_public(out).drop(columns="source_file"),
                                  scan_public(src).drop(columns="source_file"))
    assert _errors(out, lambda p: convert(p, tmp_path / "again.parquet")) == [
        ("not_a_table", "page.parquet", None, None, "this is already a Parquet file")]
    (tmp_path / "empty.csv").write_text("", encoding="utf-8")
    assert _errors(tmp_path / "empty.csv", lambda p: convert(p, tmp_path / "e.parquet")) == [
        ("empty_file", "empty.csv", None, None, "the file is empty; expected an SFPD incident table (CSV or JSON)")]
    assert not (tmp_path / "e.parquet").exists()


def test_cli_convert_then_frame(tmp_path, capsys):
    src = tmp_path / "datasf.csv"
    src.write_text(DATASF, encoding="utf-8")
    assert run_cli(["public", "convert", str(src), str(tmp_path / "d.parquet")]) == 0
    assert "Wrote 6 row(s), 13 column(s) of datasf.csv (datasf_csv)" in capsys.readouterr().out
    assert run_cli(["public", "frame", str(src), "--out", str(tmp_path / "a.csv")]) == 0
    a = capsys.readouterr().out
    assert run_cli(["public", "frame", str(tmp_path / "d.parquet"), "--out", str(tmp_path / "b.csv")]) == 0
    b = capsys.readouterr().out
    assert "kept the 5 prostitution / human-trafficking record(s) of 6" in a
    assert a.replace("datasf.csv", "X").replace("a.csv", "Y") == b.replace("d.parquet", "X").replace("b.csv", "Y")
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()



def test_commands_import_what_they_need_while_the_engine_reads():
    """``public trends`` and ``public tables`` import their later modules during the scan (issue 15): after the
    block the modules are imported; a module that cannot be imported stops nothing there (it is imported again,
    and fails with its own error, where it is used)."""
    import sys

    from analysis.cli.public import TABLES_IMPORTS, TRENDS_IMPORTS, _imported_meanwhile

    ran = []
    with _imported_meanwhile(("no_such_module_for_the_test", "json")):
        ran.append(True)
    assert ran == [True] and "no_such_module_for_the_test" not in sys.modules
    with _imported_meanwhile(("colorsys",)):
        pass
    assert "colorsys" in sys.modules
    assert "statsmodels.genmod.generalized_linear_model" in TRENDS_IMPORTS and "scipy.stats" in TABLES_IMPORTS


def test_a_file_read_on_every_core_keeps_its_row_numbers(tmp_path):
    """The scan reads a large file on several threads (issue 15) and numbers its rows by the scan table's order:
    the kept rows carry their spreadsheet rows (header = 1), known here by construction, in file order."""
    lines = DATASF.splitlines()
    header, other, kept = lines[0], lines[5], lines[1]  # a theft row and a PROSTITUTION row
    rows = [other] * 400_000  # about 60 MB: read in parallel
    where = [3, 123_457, 250_001, 399_998]  # data-row indexes (spreadsheet row = index + 2)
    for i in where:
        rows[i] = kept.replace("090215742", f"{i:09d}")
    path = tmp_path / "big.csv"
    path.write_text("\n".join([header] + rows) + "\n", encoding="utf-8")
    got = scan_public(path, needs=("incident_number",))
    assert got.attrs["engine"] == "duckdb" and got.attrs["rows_read"] == 400_000
    assert list(got["source_row"]) == [i + 2 for i in where]
    assert list(got["incident_number"]) == [f"{i:09d}" for i in where]


@pytest.mark.parametrize("command", ["trends", "tables", "frame"])
def test_no_command_imports_pandas_before_its_file_is_read(command, tmp_path):
    """Each public command reaches the file without pandas: pandas (about half a second) is imported beside the
    engine's scan, not before it (``public trends`` imported it first, for the summary's format)."""
    import subprocess
    import sys

    src = tmp_path / "datasf.csv"
    src.write_text(DATASF, encoding="utf-8")
    code = ("import sys\n"
            "import analysis.cli.public as P\n"
            "def _load(*a, **k):\n"
            "    print('pandas' in sys.modules, flush=True)\n"
            "    raise SystemExit(0)\n"
            "P._load = _load\n"
            "from analysis.cli.app import main\n"
            "main(sys.argv[1:])\n")
    out = tmp_path / ("f.csv" if command == "frame" else "out")
    got = subprocess.run([sys.executable, "-c", code, "public", command, str(src), "--out", str(out)],
                         capture_output=True, text=True)
    assert got.returncode == 0, got.stderr
    assert got.stdout.strip() == "False"
