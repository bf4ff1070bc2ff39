"""The validator: each class of error by the exact problem it reports, and row accounting."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis.intake.load import load_coded_tables, tables_from_frames
from analysis.intake.problems import UnusableInputError
from analysis.intake.validate import table_schema, validate_tables

from .conftest import ROOT, write_folder


def run(frames):
    return validate_tables(tables_from_frames(frames, source="test"))


def errors(result, rule=None):
    e = result.errors
    if rule:
        e = e[e["rule"] == rule]
    return [tuple(r) for r in e[["table", "row", "report_id", "person_code", "variable", "value", "rule",
                                 "message"]].itertuples(index=False)]


def test_clean_synthetic_sample_is_all_valid(frames):
    r = run(frames)
    assert r.exit_code == 0
    assert r.errors.empty
    assert r.accounting()["rejected_rows"].tolist() == [0, 0, 0, 0]


def test_misspelt_code_is_reported_with_a_suggestion(frames):
    frames["incidents"].loc[0, "district"] = "tenderlion"
    rid = frames["incidents"].loc[0, "report_id"]
    r = run(frames)
    assert errors(r, "unknown_code") == [(
        "incidents", 2, rid, "", "district", "tenderlion", "unknown_code",
        "'tenderlion' is not a code for district. Allowed: bayview, central, ingleside, mission, northern, park, "
        "richmond, southern, taraval, tenderloin; or -8 (not documented). Did you mean 'tenderloin'?",
    )]


def test_out_of_range_and_non_numeric_ages(frames):
    frames["persons"].loc[0, "age"] = "7"
    frames["persons"].loc[1, "age"] = "thirty"
    p0, p1 = frames["persons"].loc[0, "person_code"], frames["persons"].loc[1, "person_code"]
    r = run(frames)
    assert errors(r, "out_of_range") == [(
        "persons", 2, frames["persons"].loc[0, "report_id"], p0, "age", "7", "out_of_range",
        "7 is outside the allowed range 10-95 for age; check the report, or use -8 if it is not documented.",
    )]
    assert errors(r, "not_a_whole_number")[0][3:] == (
        p1, "age", "thirty", "not_a_whole_number", "'thirty' is not a whole number; age needs a whole number or -8.")


def test_dates_outside_the_sampled_years(frames):
    inc = frames["incidents"]
    inc.loc[0, ["incident_date", "report_year"]] = ["2012-03-01", "2012"]
    inc.loc[1, "incident_date"] = "2015-06-01"  # report year is 2009
    r = run(frames)
    got = {(e[1], e[4], e[6]): e[7] for e in errors(r)}
    assert got[(2, "incident_date", "date_outside_sampled_years")] == (
        "2012-03-01 is outside the sampled years (2009, 2010, 2014, 2015); check the date and the report year.")
    assert got[(2, "report_year", "outside_sampled_years")] == (
        "2012 is not a sampled year; report_year must be one of 2009, 2010, 2014, 2015 (study configuration).")
    assert got[(3, "incident_date", "date_year_mismatch")] == (
        "incident date 2015-06-01 is not in report year 2009; correct the date or the year.")


def test_unparseable_date(frames):
    frames["incidents"].loc[2, "incident_date"] = "14th March"
    r = run(frames)
    assert [e[4:] for e in errors(r) if e[0] == "incidents"] == [(
        "incident_date", "14th March", "bad_date", "'14th March' is not a date; write YYYY-MM-DD (or M/D/YYYY, "
        "or a date cell).")]


def test_duplicated_report_ids_reject_every_copy_and_their_people(frames):
    inc = frames["incidents"]
    dup = inc.loc[3, "report_id"]
    inc.loc[4, "report_id"] = dup
    r = run(frames)
    d = errors(r, "duplicate_id")
    assert [(e[1], e[2]) for e in d] == [(5, dup), (6, dup)]
    assert d[0][7] == (f"report id '{dup}' appears 2 times (rows 5, 6); each report id is entered once. Keep one "
                       "row and fix or delete the others.")
    # people on the duplicated report are held back, not silently attached to one copy
    held = r.rejected["persons"]
    assert set(held["report_id"]) >= {dup}


def test_duplicated_person_codes(frames):
    per = frames["persons"]
    per.loc[5, "person_code"] = per.loc[4, "person_code"]
    r = run(frames)
    assert [(e[1], e[4], e[6]) for e in errors(r, "duplicate_id")] == [(6, "person_code", "duplicate_id"),
                                                                     (7, "person_code", "duplicate_id")]


def test_person_whose_report_does_not_exist(frames):
    frames["persons"].loc[0, "report_id"] = "SYN-9999"
    r = run(frames)
    assert errors(r, "unknown_report") == [(
        "persons", 2, "SYN-9999", frames["persons"].loc[0, "person_code"], "report_id", "SYN-9999",
        "unknown_report", "report id 'SYN-9999' is not in the incidents table; add the report or correct the id.")]


def test_charge_of_an_unknown_person_and_unknown_statute(frames):
    frames["charges"].loc[0, "person_code"] = "SYN-P999999"
    frames["charges"].loc[1, "statute"] = "647 f"
    r = run(frames)
    assert errors(r, "unknown_person")[0][4:7] == ("person_code", "SYN-P999999", "unknown_person")
    assert errors(r, "unknown_statute")[0][7] == (
        "statute '647 f' is not in the charge classification table. Close matches: PC 647f, PC 647(f), PC 647(b). "
        "Check what the report says; if it is right, ask the data manager to add it to the codebook.")


def _row_with(inc, col, value):
    return int(inc.index[inc[col] == value][0])


def test_skip_logic_both_directions(frames):
    inc = frames["incidents"]
    i = _row_with(inc, "condoms_mentioned", "no")
    inc.loc[i, "condoms_evidence"] = "yes"  # answered although it does not apply
    j = _row_with(inc, "language_other_than_english", "no")
    inc.loc[j, "language_other_than_english"] = "yes"  # now interpreter_used applies but says -9
    r = run(frames)
    got = sorted((e[1], e[4], e[7]) for e in errors(r, "skip_logic"))
    assert got == sorted([
        (i + 2, "condoms_evidence", "condoms_evidence should be -9 (not applicable) or blank because "
         "condoms_mentioned is 'no' (it applies only when condoms_mentioned is 'yes'); remove 'yes' or correct "
         "condoms_mentioned."),
        (j + 2, "interpreter_used", "interpreter_used is -9 (not applicable) but language_other_than_english is "
         "'yes', so it applies: enter a code, or -8 if the report does not say."),
    ])


def test_blank_in_a_skipped_item_reads_as_not_applicable(frames):
    inc = frames["incidents"]
    i = _row_with(inc, "condoms_mentioned", "no")
    inc.loc[i, ["condoms_confiscated", "condoms_evidence"]] = ""
    r = run(frames)
    assert r.exit_code == 0
    row = r.valid["incidents"].set_index("report_id").loc[inc.loc[i, "report_id"]]
    assert (row["condoms_confiscated"], row["condoms_evidence"]) == ("-9", "-9")


def test_blank_where_the_item_applies_is_an_error(frames):
    inc = frames["incidents"]
    inc.loc[0, "sfpd_label"] = ""
    r = run(frames)
    assert errors(r)[0][4:] == ("sfpd_label", "", "required", "sfpd_label is blank: enter a code.")


def test_missing_code_where_it_is_not_accepted(frames):
    frames["incidents"].loc[0, "sfpd_label"] = "-8"
    frames["incidents"].loc[1, "district"] = "-9"
    r = run(frames)
    msgs = [e[7] for e in errors(r, "missing_code_not_allowed")]
    assert msgs == [
        "-8 (not documented) is not allowed for sfpd_label: choose one of prostitution, trafficking, both.",
        "-9 (not applicable) is not allowed for district: it has no skip logic, so it always applies. Enter a "
        "code, or -8 if the report does not say.",
    ]


def test_multi_select_rules(frames):
    inc = frames["incidents"]
    inc.loc[0, "trafficking_indicators"] = "none;debt_bondage"
    inc.loc[1, "investigating_unit"] = "vice;svy"
    inc.loc[2, "investigating_unit"] = "-8;vice"
    r = run(frames)
    got = {e[6]: e[7] for e in errors(r)}
    assert got["exclusive_option"] == ("'debt_bondage;none': none must stand alone in trafficking_indicators; "
                                       "remove it or the other codes.")
    assert got["unknown_code"].startswith("'svy' is not a code for investigating_unit.")
    assert got["unknown_code"].endswith("Did you mean 'svu'?")
    assert got["missing_code_combined"] == "'-8;vice': a missing code (-8 or -9) must stand alone in investigating_unit."


def test_spreadsheet_spellings_are_accepted(frames):
    inc, per = frames["incidents"], frames["persons"]
    inc.loc[0, "district"] = "Tenderloin"
    inc.loc[1, "district"] = "mission = Mission"
    inc.loc[2, "screened_trafficking"] = " YES "
    inc.loc[3, "incident_date"] = "3/14/2009"
    inc.loc[4, "investigating_unit"] = "SVU, Vice"
    per.loc[0, "age"] = "34.0"
    inc.loc[3, "report_year"] = "2009"
    r = run(frames)
    assert r.exit_code == 0, r.summary()
    v = r.valid["incidents"]
    assert v.loc[0, "district"] == "tenderloin" and v.loc[1, "district"] == "mission"
    assert v.loc[2, "screened_trafficking"] == "yes"
    assert v.loc[3, "incident_date"] == "2009-03-14"
    assert v.loc[4, "investigating_unit"] == "vice;svu"
    assert r.valid["persons"].loc[0, "age"] == "34"


def test_every_problem_is_reported_at_once(frames):
    frames["incidents"].loc[0, "district"] = "x"
    frames["incidents"].loc[1, "origin"] = "y"
    frames["persons"].loc[2, "age"] = "200"
    frames["charges"].loc[3, "statute"] = "zzz"
    r = run(frames)
    rules = sorted(r.errors["rule"])
    assert rules.count("unknown_code") == 2 and "out_of_range" in rules and "unknown_statute" in rules


def test_schema_is_a_pandera_schema_built_from_the_codebook(cb):
    s = table_schema("persons")
    assert list(s.columns) == cb.table("persons").columns
    assert {c.name for c in s.columns["age"].checks} == {"not_a_whole_number", "missing_code_not_allowed",
                                                         "out_of_range"}


# --- file-level problems: the input is unusable --------------------------------------------------------


def unusable(path):
    with pytest.raises(UnusableInputError) as exc:
        load_coded_tables(path)
    return [(p["rule"], p["message"]) for p in exc.value.problems]


def test_wrong_column_name_is_named_with_a_suggestion(frames, tmp_path):
    frames["incidents"] = frames["incidents"].rename(columns={"district": "distrcit"})
    folder = write_folder(frames, tmp_path / "d")
    [(rule, msg)] = unusable(folder)
    assert rule == "missing_column"
    assert msg.startswith("incidents: the header lacks required column(s): district (is 'distrcit' a misspelling "
                          "of it?). The header (row 1) must hold the codebook's column names: report_id, coder_id,")


def test_missing_table(frames, tmp_path):
    folder = write_folder({k: v for k, v in frames.items() if k != "persons"}, tmp_path / "d")
    assert unusable(folder) == [(
        "missing_table", f"{folder}/persons.csv: the persons table is missing; expected persons.csv in {folder} "
        "(found: charges.csv, incidents.csv, outcomes.csv)")]


def test_empty_file(frames, tmp_path):
    folder = write_folder(frames, tmp_path / "d")
    (folder / "charges.csv").write_text("")
    assert unusable(folder) == [("not_a_table", f"{folder}/charges.csv: the file is empty")]


def test_file_that_is_not_a_table(frames, tmp_path):
    folder = write_folder(frames, tmp_path / "d")
    (folder / "incidents.csv").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    (folder / "persons.csv").write_text("Dear coder,\nplease find the persons attached.\n")
    got = unusable(folder)
    assert got[0] == ("not_a_table", f"{folder}/incidents.csv: this is a binary file, not a CSV table")
    assert got[1][0] == "missing_column"
    assert got[1][1].startswith("persons: it does not look like this table at all: none of the expected columns "
                                "is there:")


def test_garbage_workbook_and_missing_sheet(frames, tmp_path):
    bad = tmp_path / "coded.xlsx"
    bad.write_bytes(b"this is not a zip")
    [(rule, msg)] = unusable(bad)
    assert rule == "not_a_table" and msg.startswith(f"{bad}: not an Excel workbook that can be read")
    from analysis.formats.xlsx import tables_to_xlsx

    wb = tmp_path / "two_sheets.xlsx"
    wb.write_bytes(tables_to_xlsx({"incidents": frames["incidents"], "charges": frames["charges"]}))
    assert unusable(wb) == [("missing_table", f"{wb}: the workbook has no sheet named 'persons' (sheets: incidents, "
                                              "charges)")]


def test_no_such_path(tmp_path):
    assert unusable(tmp_path / "nope") == [("not_found", f"{tmp_path / 'nope'}: no such file or folder")]


def test_workbook_errors_name_the_sheet_and_spreadsheet_row(frames, tmp_path, cb):
    from analysis.formats.xlsx import tables_to_xlsx

    frames["persons"].loc[9, "role"] = "byer"
    kinds = {t: {v.name: v.type for v in cb.table(t).variables if v.type in ("date", "integer")} for t in frames}
    wb = tmp_path / "coded.xlsx"
    wb.write_bytes(tables_to_xlsx(frames, kinds))
    r = validate_tables(load_coded_tables(wb))
    per = r.errors[r.errors["table"] == "persons"]
    [e] = per[["file", "sheet", "row", "variable", "value", "rule"]].itertuples(index=False)
    assert tuple(e) == (str(wb), "persons", 11, "role", "byer", "unknown_code")
    assert "Did you mean 'buyer'?" in per.iloc[0]["message"]
    # the person's charges are held back with the reason, not dropped
    held = r.errors[r.errors["table"] == "charges"]
    assert set(held["rule"]) <= {"parent_rejected"}


def test_blank_lines_are_skipped_but_rows_keep_their_numbers(frames, tmp_path):
    folder = write_folder(frames, tmp_path / "d")
    lines = (folder / "incidents.csv").read_text().splitlines()
    lines.insert(3, ",,,,")
    lines[5] = lines[5].replace(",2009,", ",2001,", 1)
    (folder / "incidents.csv").write_text("\n".join(lines) + "\n")
    r = validate_tables(load_coded_tables(folder))
    assert r.input_rows["incidents"] == len(frames["incidents"])
    assert r.sources["incidents"]["blank_rows"] == 1
    assert sorted(set(r.errors[r.errors["table"] == "incidents"]["row"])) == [6]


def test_extra_column_is_ignored_with_a_warning(frames, tmp_path):
    frames["incidents"]["narrative"] = "free text"
    r = validate_tables(load_coded_tables(write_folder(frames, tmp_path / "d")))
    assert r.exit_code == 0
    w = r.problems[r.problems["severity"] == "warning"]
    assert w[["table", "variable", "rule"]].values.tolist() == [["incidents", "narrative", "unknown_column"]]
    assert "narrative" not in r.valid["incidents"].columns


# --- row accounting ------------------------------------------------------------------------------------

_GARBAGE = st.sampled_from(["", "x", "-8", "-9", "yes", "no", "999", "2009-13-45", "vice;none", "none", "SYN-0001",
                            "647(b)", "647 f", "svu", "2014", "seller", " ", "NA"])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_input_rows_equal_valid_plus_rejected(_small_frames, data):
    frames = {k: v.copy() for k, v in _small_frames.items()}
    for _ in range(data.draw(st.integers(0, 12), label="n_edits")):
        t = data.draw(st.sampled_from(list(frames)), label="table")
        df = frames[t]
        i = data.draw(st.integers(0, len(df) - 1), label="row")
        c = data.draw(st.sampled_from(list(df.columns)), label="col")
        df.iloc[i, df.columns.get_loc(c)] = data.draw(_GARBAGE, label="value")
    if data.draw(st.booleans(), label="duplicate a row"):
        frames["persons"] = pd.concat([frames["persons"], frames["persons"].iloc[[0]]], ignore_index=True)
    r = run(frames)
    for t, df in frames.items():
        v, rej = r.valid[t], r.rejected[t]
        assert len(v) + len(rej) == len(df) == r.input_rows[t]
        assert sorted(list(v["_row"]) + list(rej["_row"])) == list(range(2, len(df) + 2))
        assert all(len(reason) > 0 for reason in rej["_reasons"])
    # nothing valid points at something that is not valid
    assert set(r.valid["persons"]["report_id"]) <= set(r.valid["incidents"]["report_id"])
    assert set(r.valid["charges"]["person_code"]) <= set(r.valid["persons"]["person_code"])
    # every rejected row has at least one error naming its row
    for t in frames:
        assert set(r.rejected[t]["_row"]) == set(r.errors[r.errors["table"] == t]["row"])


def test_row_with_more_cells_than_the_header(frames, tmp_path):
    folder = write_folder(frames, tmp_path / "d")
    lines = (folder / "charges.csv").read_text().splitlines()
    lines[2] = lines[2] + ",stray value"
    (folder / "charges.csv").write_text("\n".join(lines) + "\n")
    r = validate_tables(load_coded_tables(folder))
    assert [(e[0], e[1], e[6]) for e in errors(r)] == [("charges", 3, "too_many_cells")]
    assert r.input_rows["charges"] == len(frames["charges"])


def test_header_only_table_is_valid_and_empty(frames, tmp_path):
    frames["charges"] = frames["charges"].iloc[0:0]
    r = validate_tables(load_coded_tables(write_folder(frames, tmp_path / "d")))
    assert r.exit_code == 0 and len(r.valid["charges"]) == 0


# --- values that look right but are not (issue 9) -----------------------------------------------------------


def test_impossible_calendar_date_is_rejected(frames):
    """Before: 2009-02-30 passed validate and crashed derive."""
    frames["incidents"].loc[0, "incident_date"] = "2009-02-30"
    r = run(frames)
    assert [e[4:] for e in errors(r) if e[0] == "incidents"] == [(
        "incident_date", "2009-02-30", "bad_date", "'2009-02-30' is not a real date (there is no such day); check the "
        "date on the report.")]


@pytest.mark.parametrize("date", ["２００９-０６-２８", "٢٠٠٩-٠٦-٢٨", "2009-0６-28"])
def test_dates_with_digits_of_other_scripts_are_rejected(frames, date):
    """Before: full-width and Arabic-Indic digits passed validate and crashed derive."""
    frames["incidents"].loc[1, "incident_date"] = date
    r = run(frames)
    assert [e[4:] for e in errors(r) if e[0] == "incidents"] == [(
        "incident_date", date, "bad_date", f"'{date}' is written with characters that look like digits but are not "
        "the plain digits 0-9 (full-width or another script); retype the date as YYYY-MM-DD.")]


def test_whole_numbers_must_be_ascii_digits(frames):
    frames["persons"].loc[0, "age"] = "３４"
    frames["incidents"].loc[0, "report_year"] = "２００９"
    r = run(frames)
    got = {(e[0], e[4]): (e[6], e[7]) for e in errors(r) if e[6] != "parent_rejected"}
    assert got[("persons", "age")] == ("not_a_whole_number", "'３４' is not a whole number; age needs a whole number or "
                                       "-8. It contains '３' (FULLWIDTH DIGIT THREE, U+FF13), which is not a plain "
                                       "letter, digit or space although it may look like one: retype the value.")
    assert got[("incidents", "report_year")][0] == "not_a_whole_number"


@pytest.mark.parametrize("digits", [19, 400, 5000])
def test_huge_whole_numbers_are_out_of_range_not_a_crash(frames, digits):
    """Before: a 400-digit age raised OverflowError (a traceback, exit 1)."""
    frames["persons"].loc[2, "age"] = "9" * digits
    frames["incidents"].loc[2, "report_year"] = "2" * digits
    r = run(frames)
    got = {(e[0], e[4]): (e[6], e[7]) for e in errors(r) if e[6] != "parent_rejected"}
    shown = "9" * digits if digits <= 40 else "9" * 37 + "..."
    assert got[("persons", "age")] == ("out_of_range", f"{shown} is outside the allowed range 10-95 for age; check "
                                       "the report, or use -8 if it is not documented.")
    assert got[("incidents", "report_year")][0] == "outside_sampled_years"
    assert r.errors[r.errors["variable"] == "age"]["value"].tolist() == ["9" * digits]


def test_coder_id_cannot_start_with_a_dash(frames):
    """A value starting with '-' is a formula to a spreadsheet that opens the derived CSV."""
    frames["incidents"].loc[0, "coder_id"] = "-2-3"
    frames["incidents"].loc[1, "coder_id"] = "_x"
    r = run(frames)
    assert [(e[1], e[4], e[6]) for e in errors(r) if e[0] == "incidents"] == [
        (2, "coder_id", "bad_format"), (3, "coder_id", "bad_format")]
    assert errors(r)[0][7] == ("'-2-3' does not have the form coder_id needs (letters, digits, '-' and '_' only, "
                               "no spaces).")


@pytest.mark.parametrize("value, char", [("tenderlоin", "о"), ("mi\u00a0ssion", "\u00a0"),
                                         ("par\u212a", "\u212a")])  # KELVIN SIGN lower-cases to an ASCII 'k'
def test_look_alike_characters_in_a_code_are_named(frames, value, char):
    import unicodedata

    frames["incidents"].loc[0, "district"] = value
    r = run(frames)
    [e] = [e for e in errors(r) if e[0] == "incidents"]
    assert e[4:7] == ("district", value, "unknown_code")
    assert e[7].endswith(f"It contains '{char}' ({unicodedata.name(char)}, U+{ord(char):04X}), which is not a plain "
                         "letter, digit or space although it may look like one: retype the value.")


def test_derive_runs_on_hostile_but_accepted_values(frames):
    """Whatever validate accepts, derive turns into types without a traceback."""
    from analysis.derive.variables import derive

    inc, per = frames["incidents"], frames["persons"]
    inc.loc[0, ["incident_date", "report_year"]] = ["2/28/2009", "+2009"]
    inc.loc[1, ["incident_date", "report_year"]] = ["2009-06-28 00:00:00", "02009"]
    inc.loc[2, "district"] = "\u00a0Mission = Mission\u00a0"
    inc.loc[3, "investigating_unit"] = " SVU ,  vice "
    per.loc[0, "age"] = "+034.000"
    per.loc[1, "age"] = "-8.0"
    for i, year in ((0, "2009"), (1, "2009")):
        assert inc.loc[i, "report_year"].lstrip("+0") == year
    inc.loc[0, "incident_date"] = "2/28/" + str(int(inc.loc[0, "report_year"]))
    inc.loc[1, "incident_date"] = str(int(inc.loc[1, "report_year"])) + "-06-28 00:00:00"
    r = run(frames)
    assert r.exit_code == 0, r.summary()
    d = derive(r.valid)
    assert d["incidents"]["incident_date"].dt.strftime("%Y-%m-%d").tolist()[:2] == ["2009-02-28", "2009-06-28"]
    assert d["incidents"]["report_year"].tolist()[:2] == [2009, 2009]
    assert d["incidents"].loc[2, "district"] == "mission"
    assert (d["incidents"].loc[3, "investigating_unit__vice"], d["incidents"].loc[3, "investigating_unit__svu"]) == (
        True, True)
    assert d["persons"]["age"].tolist()[:2] == [34, pd.NA]


def test_direct_rule_evaluation_matches_the_pandera_schema(frames, cb, cfg):
    """The validator evaluates the schema's checks directly; both must find the same failing cells."""
    from pandera.errors import SchemaErrors

    from analysis.intake.normalise import normalise_column
    from analysis.intake.validate import _run_column_rules

    inc = frames["incidents"]
    bad = {"district": "x", "incident_date": "2009-02-30", "report_year": "2001", "coder_id": "-1",
           "investigating_unit": "vice;-8", "trafficking_indicators": "none;debt_bondage", "sfpd_label": "-9"}
    for k, (col, value) in enumerate(bad.items()):
        inc.loc[k, col] = value
    df = pd.DataFrame({v.name: normalise_column(v, inc[v.name], cb) for v in cb.table("incidents").variables})
    with pytest.raises(SchemaErrors) as exc:
        table_schema("incidents", cb, cfg).validate(df, lazy=True)
    fc = exc.value.failure_cases
    by_pandera = sorted(zip(fc["index"].astype(int), fc["column"], fc["check"]))
    direct = sorted((i, v, rule) for i, v, rule, _ in _run_column_rules("incidents", df, cb, cfg))
    assert direct == by_pandera
    assert len(direct) >= len(bad)


# --- dated charge rules (issue 14) ------------------------------------------------------------------------


def _charge_on(frames, year_prefix):
    """The first charge on a report whose incident date starts with ``year_prefix``, and its report row."""
    inc, chg = frames["incidents"], frames["charges"]
    rid = next(r for r in chg["report_id"] if inc.loc[inc["report_id"] == r, "incident_date"].iloc[0].startswith(year_prefix))
    return chg.index[chg["report_id"] == rid][0], inc.index[inc["report_id"] == rid][0], rid


def test_a_2017_statute_on_a_2009_report_is_an_error(frames):
    """647(b)(1) exists from 1 January 2017 (SB 420, 2016): on a 2009 report it is a coding error."""
    i, j, rid = _charge_on(frames, "2009")
    frames["charges"].loc[i, "statute"] = "647(b)(1) PC"
    date = frames["incidents"].loc[j, "incident_date"]
    r = run(frames)
    assert errors(r, "statute_not_in_force") == [(
        "charges", i + 2, rid, frames["charges"].loc[i, "person_code"], "statute", "647(b)(1) PC",
        "statute_not_in_force",
        f"'647(b)(1) PC' is charged on a report dated {date} (the incident date), but PC 647(b)(1) exists only from "
        "1 January 2017 (SB 420 (2016) split 647(b) into (b)(1) selling, (b)(2) buying from an adult and (b)(3) "
        "buying from a minor, in force 1 January 2017; before that the charge is written 647(b)). Check the "
        "statute on the report.")]
    assert r.n_rejected == 1


def test_an_undocumented_incident_date_is_judged_by_the_middle_of_the_report_year(frames):
    i, j, rid = _charge_on(frames, "2014")
    frames["charges"].loc[i, "statute"] = "647(b)(2)"
    frames["incidents"].loc[j, "incident_date"] = "-8"
    msg = errors(run(frames), "statute_not_in_force")[0][-1]
    assert msg.startswith("'647(b)(2)' is charged on a report dated 2014-07-01 (1 July of the report year: the "
                          "incident date is not documented), but PC 647(b)(2) exists only from 1 January 2017")


def test_attempts_and_municipal_charges_are_valid(frames):
    i, _, _ = _charge_on(frames, "2014")
    frames["charges"].loc[i, "statute"] = "664/647(b) PC"
    k = frames["charges"].index[-1]
    frames["charges"].loc[k, "statute"] = "SF Police Code 1070"
    r = run(frames)
    assert r.exit_code == 0, r.summary()


# --- race as SFPD recorded it (issue 14) -------------------------------------------------------------------


def _person_on(frames, year_prefix):
    inc, per = frames["incidents"], frames["persons"]
    dates = dict(zip(inc["report_id"], inc["incident_date"]))
    i = next(k for k in per.index if dates[per.loc[k, "report_id"]].startswith(year_prefix))
    return i, dates[per.loc[i, "report_id"]]


def test_a_doj_letter_on_a_2010_report_is_a_warning_and_the_row_is_kept(frames):
    """D (Cambodian) is a California DOJ letter; SFPD's own system before September 2012 had only W, B, C, O."""
    i, date = _person_on(frames, "2010")
    frames["persons"].loc[i, ["race_recorded", "race_ethnicity"]] = ["D", "asian"]
    r = run(frames)
    assert r.exit_code == 0 and r.errors.empty
    warn = r.problems[r.problems["severity"] == "warning"]
    person = frames["persons"].loc[i, "person_code"]
    assert [tuple(x) for x in warn[["table", "row", "person_code", "variable", "value", "rule", "message"]]
            .itertuples(index=False)] == [(
        "persons", i + 2, person, "race_recorded", "D", "race_letter_not_in_use",
        f"race letter 'D' (Cambodian) is not in the list SFPD used on {date} (SFPD's own arrest system (1972) "
        "before September 2012: W, B, C, O; in use before 1 September 2012, the day unconfirmed). Check the "
        "report: keep the letter as written and code race_ethnicity from what the report supports.")]
    assert [ln for ln in r.summary().splitlines() if ln.startswith("Warning: ")][0].endswith(
        f"person {person}, race_recorded: " + warn["message"].iloc[0])
    assert person in set(r.valid["persons"]["person_code"])


def test_the_same_letter_is_in_use_on_a_2014_report(frames):
    i, _ = _person_on(frames, "2014")
    frames["persons"].loc[i, ["race_recorded", "race_ethnicity"]] = ["d", "asian"]
    r = run(frames)
    assert r.problems[r.problems["rule"] == "race_letter_not_in_use"].empty


def test_a_letter_in_no_list_is_an_error(frames):
    i, _ = _person_on(frames, "2014")
    frames["persons"].loc[i, "race_recorded"] = "Q"
    assert errors(run(frames), "unknown_code")[0][-1].startswith("'Q' is not a code for race_recorded. Allowed: a, b")


def test_the_change_date_is_a_setting(frames, cfg):
    import dataclasses
    import datetime as dt

    i, _ = _person_on(frames, "2010")
    frames["persons"].loc[i, ["race_recorded", "race_ethnicity"]] = ["H", "hispanic_latino"]
    early = dataclasses.replace(cfg, race_recording_change_date=dt.date(2008, 1, 1))
    assert validate_tables(tables_from_frames(frames, source="test"), config=early).problems.empty
    assert not run(frames).problems.query("rule == 'race_letter_not_in_use'").empty


def test_validating_imports_no_pandera():
    """pandera (about half a second of CPU to import) is imported by table_schema alone: the validator runs the
    same checks without it, and neither the pipeline nor a notebook kernel that imports it loads pandera."""
    import subprocess
    import sys

    code = ("import sys\n"
            "from analysis.intake.load import load_coded_tables\n"
            "from analysis.intake.validate import validate_tables\n"
            "import analysis.report.pipeline\n"
            "from tests.conftest import EXAMPLE\n"
            "result = validate_tables(load_coded_tables(EXAMPLE))\n"
            "print(len(result.problems), 'pandera' in sys.modules)\n"
            "from analysis.intake.validate import table_schema\n"
            "table_schema('persons')\n"
            "print('pandera' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["0", "False", "True"]
