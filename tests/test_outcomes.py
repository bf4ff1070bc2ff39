"""The prosecution outcomes table (issue 14, item 1): validation by exact message, the optional table, the derived
values by hand, the template and REDCap, the outcomes tables' counts and the committee's vacatur question."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from analysis.derive.variables import derive
from analysis.intake.load import load_coded_tables, tables_from_frames
from analysis.intake.validate import validate_tables
from analysis.scheme.codebook import check_codebook, parse_codebook

from .conftest import EXAMPLE, write_folder

NO_OUTCOMES = (
    "there is no outcomes table. Prosecution outcomes are optional: the other tables were checked without them, "
    "and the analysis leaves them out (its outcomes variables are blank and the outcomes tables are not made). "
    "To add them, put outcomes.csv beside the other tables, or a sheet 'outcomes' in the workbook.")


def run(frames):
    return validate_tables(tables_from_frames(frames, source="test"))


def errors(result, table="outcomes"):
    e = result.errors
    e = e[e["table"] == table]
    return [tuple(r) for r in e[["row", "report_id", "person_code", "variable", "value", "rule",
                                 "message"]].itertuples(index=False)]


# The small synthetic coding (24 reports, seed 7), with its first outcome row made a discharged case (below):
# outcomes row 2 is SYN-P00001 (a buyer on report SYN-0001, incident 2009-12-28) discharged on 2010-01-07; row 5 is
# SYN-P00009 (SYN-0007, incident 2010-08-23) convicted on 2011-02-25; row 13 is SYN-P00022, a completed
# Neighborhood Court referral; rows 3, 19 and 20 have charges filed.
DISCHARGED = {"charges_filed": "no", "filed_statutes": "-9", "disposition": "discharged",
              "disposition_reason": "insufficient_evidence", "disposition_date": "2010-01-07"}


@pytest.fixture
def frames(frames):
    frames["outcomes"].loc[0, list(DISCHARGED)] = list(DISCHARGED.values())  # generated as a pending case
    return frames


def test_the_small_coding_has_valid_outcomes(frames):
    r = run(frames)
    assert r.exit_code == 0
    assert r.accounting().set_index("table").loc["outcomes"].tolist() == [20, 20, 0]
    o = frames["outcomes"]
    assert o.loc[0, ["person_code", "report_id", "disposition_date"]].tolist() == ["SYN-P00001", "SYN-0001",
                                                                                  "2010-01-07"]
    assert o.loc[3, ["person_code", "report_id", "disposition", "disposition_date"]].tolist() == [
        "SYN-P00009", "SYN-0007", "convicted", "2011-02-25"]
    assert o.loc[11, ["person_code", "nc_result"]].tolist() == ["SYN-P00022", "completed"]
    assert o.loc[[1, 17, 18], "charges_filed"].tolist() == ["yes"] * 3


def test_outcome_of_a_person_not_in_the_persons_table(frames):
    frames["outcomes"].loc[0, "person_code"] = "SYN-P99999"
    assert errors(run(frames)) == [(
        2, "SYN-0001", "SYN-P99999", "person_code", "SYN-P99999", "unknown_person",
        "person code 'SYN-P99999' is not in the persons table; add the person or correct the code.")]


def test_outcome_on_another_report_than_the_persons(frames):
    frames["outcomes"].loc[0, "report_id"] = "SYN-0002"
    assert errors(run(frames)) == [(
        2, "SYN-0002", "SYN-P00001", "report_id", "SYN-0002", "person_report_mismatch",
        "person 'SYN-P00001' is on report 'SYN-0001' in the persons table, not 'SYN-0002'; correct one of them.")]


def test_outcome_of_a_rejected_person_is_held_back(frames):
    per = frames["persons"]
    per.loc[per["person_code"] == "SYN-P00001", "age"] = "7"
    assert errors(run(frames)) == [(
        2, "SYN-0001", "SYN-P00001", "person_code", "SYN-P00001", "parent_rejected",
        "person 'SYN-P00001' was rejected (see the persons errors); this outcome is held back until it is fixed.")]


def test_outcome_date_before_the_incident(frames):
    frames["outcomes"].loc[0, "disposition_date"] = "2009-12-01"
    assert errors(run(frames)) == [(
        2, "SYN-0001", "SYN-P00001", "disposition_date", "2009-12-01", "date_before_incident",
        "disposition_date 2009-12-01 is before the incident date 2009-12-28 of report 'SYN-0001'; an outcome comes "
        "after the incident: check both dates.")]


def test_outcome_date_on_the_incident_day_or_years_later_is_valid(frames):
    frames["outcomes"].loc[0, "disposition_date"] = "2009-12-28"
    frames["outcomes"].loc[1, "disposition_date"] = "2017-05-02"  # not limited to the sampled years
    assert run(frames).exit_code == 0


def test_undocumented_incident_date_falls_back_to_the_report_year(frames):
    frames["incidents"].loc[0, "incident_date"] = "-8"
    frames["outcomes"].loc[0, "disposition_date"] = "2008-12-31"
    assert errors(run(frames)) == [(
        2, "SYN-0001", "SYN-P00001", "disposition_date", "2008-12-31", "date_before_incident",
        "disposition_date 2008-12-31 is before 2009, the report year of report 'SYN-0001' (its incident date is "
        "not documented); an outcome comes after the incident: check both dates.")]


def _petition(frames, statute: str, date: str, result: str = "granted"):
    o = frames["outcomes"]
    o.loc[3, ["relief_petition", "relief_statute", "relief_result", "relief_date"]] = ["yes", statute, result, date]


def test_vacatur_before_the_statute_was_in_force(frames):
    _petition(frames, "pc_236_14", "2016-12-31")
    assert errors(run(frames)) == [(
        5, "SYN-0007", "SYN-P00009", "relief_date", "2016-12-31", "before_in_force",
        "relief_date 2016-12-31 is before PC 236.14 came into force (2017-01-01): relief cannot have been granted "
        "under it then. Check the date and relief_statute.")]


@pytest.mark.parametrize("statute,date", [("pc_236_14", "2017-01-01"), ("pc_1203_49", "2015-01-01"),
                                          ("pc_1170_21", "2018-03-01"), ("other", "2011-06-01")])
def test_vacatur_on_or_after_the_statute_came_into_force_is_valid(frames, statute, date):
    _petition(frames, statute, date)
    assert run(frames).exit_code == 0


def test_relief_before_the_conviction(frames):
    _petition(frames, "other", "2011-01-01")  # after the incident (2010-08-23), before the conviction
    assert errors(run(frames)) == [(
        5, "SYN-0007", "SYN-P00009", "relief_date", "2011-01-01", "date_order",
        "relief_date 2011-01-01 is before disposition_date 2011-02-25; relief_date cannot come first: check both "
        "dates.")]


def test_relief_statute_must_be_in_the_list(frames):
    _petition(frames, "pc_1203_4", "2016-01-01")
    assert errors(run(frames)) == [(
        5, "SYN-0007", "SYN-P00009", "relief_statute", "pc_1203_4", "unknown_code",
        "'pc_1203_4' is not a code for relief_statute. Allowed: pc_236_14, pc_1203_49, pc_1170_21, pc_1170_22, "
        "pc_653_29, other; or -8 (not documented), -9 (not applicable). Did you mean 'pc_1203_49' or 'pc_236_14'?")]


def test_skip_logic_of_the_outcome_items(frames):
    o = frames["outcomes"]
    o.loc[0, "nc_result"] = "completed"  # not referred
    o.loc[0, "conviction_statutes"] = "647(b) PC"  # not convicted
    o.loc[0, "relief_petition"] = "no"  # not convicted
    o.loc[11, "nc_result"] = ""  # referred: the result applies
    got = [(e[0], e[3], e[5], e[6]) for e in errors(run(frames))]
    assert got == [
        (2, "nc_result", "skip_logic", "nc_result should be -9 (not applicable) or blank because nc_referred is 'no' "
         "(it applies only when nc_referred is 'yes'); remove 'completed' or correct nc_referred."),
        (2, "conviction_statutes", "skip_logic", "conviction_statutes should be -9 (not applicable) or blank because "
         "disposition is 'discharged' (it applies only when disposition is 'convicted'); remove '647(b) PC' or "
         "correct disposition."),
        (2, "relief_petition", "skip_logic", "relief_petition should be -9 (not applicable) or blank because "
         "disposition is 'discharged' (it applies only when disposition is 'convicted'); remove 'no' or correct "
         "disposition."),
        (13, "nc_result", "required", "nc_result is blank but applies because nc_referred is 'yes': enter a code, or "
         "-8 if the report does not say."),
    ]


def test_consistency_rules(frames):
    o = frames["outcomes"]
    o.loc[11, ["disposition", "disposition_reason"]] = ["discharged", "further_investigation"]  # NC completed
    o.loc[0, ["disposition", "disposition_reason", "conviction_statutes", "relief_petition"]] = [
        "convicted", "-9", "415 PC", "no"]  # charges not filed
    got = [(e[0], e[3], e[5], e[6]) for e in errors(run(frames))]
    assert got == [
        (2, "disposition", "inconsistent", "disposition is 'convicted' but charges_filed is 'no': only a case with "
         "charges filed can be dismissed, convicted or acquitted, so disposition should be 'discharged' or "
         "'diversion_completed' or 'pending'. Correct one of them."),
        (13, "disposition", "inconsistent", "disposition is 'discharged' but nc_result is 'completed': a completed "
         "Neighborhood Court referral closes the case as a completed diversion, so disposition should be "
         "'diversion_completed'. Correct one of them."),
    ]


def test_consistency_is_not_judged_on_missing_codes(frames):
    o = frames["outcomes"]
    o.loc[0, ["charges_filed", "disposition", "disposition_reason", "disposition_date"]] = ["-8", "convicted", "-9",
                                                                                           "2010-02-01"]
    o.loc[0, ["conviction_statutes", "relief_petition"]] = ["-8", "-8"]
    assert run(frames).exit_code == 0


def test_statute_lists(frames):
    o = frames["outcomes"]
    o.loc[1, "filed_statutes"] = "647(b) PC; 999 PC"
    o.loc[17, "filed_statutes"] = "-8; PC 647(b)"
    o.loc[18, "filed_statutes"] = " PC 647b ;148(a)(1) PC ;"
    r = run(frames)
    assert [(e[0], e[3], e[4], e[5], e[6]) for e in errors(r)] == [
        (3, "filed_statutes", "647(b) PC; 999 PC", "unknown_statute", "'999 PC' is not in the charge classification "
         "table. Separate several statutes with ';'. Check what the record says; if it is right, ask the data "
         "manager to add it to the codebook."),
        (19, "filed_statutes", "-8; PC 647(b)", "missing_code_combined",
         "'-8;PC 647(b)': a missing code (-8 or -9) must stand alone in filed_statutes."),
    ]
    valid = r.valid["outcomes"].set_index("_row")
    assert valid.loc[20, "filed_statutes"] == "PC 647b;148(a)(1) PC"


# --- the table is optional --------------------------------------------------------------------------------------


def _without_outcomes(frames):
    return {t: df for t, df in frames.items() if t != "outcomes"}


def test_a_folder_without_outcomes_validates_with_a_note(frames, tmp_path):
    folder = write_folder(_without_outcomes(frames), tmp_path / "coded")
    raw = load_coded_tables(folder)
    assert raw["outcomes"].absent and raw["outcomes"].frame.empty
    r = validate_tables(raw)
    assert r.exit_code == 0 and r.errors.empty
    notes = r.problems[r.problems["severity"] == "note"]
    assert notes[["file", "table", "rule", "message"]].values.tolist() == [
        [str(folder / "outcomes.csv"), "outcomes", "optional_table_absent", NO_OUTCOMES]]
    assert r.summary().splitlines()[-1] == "Note: outcomes.csv: " + NO_OUTCOMES
    assert r.accounting().set_index("table").loc["outcomes"].tolist() == [0, 0, 0]


def test_a_workbook_without_an_outcomes_sheet_validates_with_a_note(frames, tmp_path, cb):
    from analysis.formats.xlsx import tables_to_xlsx

    path = tmp_path / "coded.xlsx"
    path.write_bytes(tables_to_xlsx(_without_outcomes(frames), {}))
    r = validate_tables(load_coded_tables(path))
    assert r.exit_code == 0
    assert r.problems.loc[r.problems["severity"] == "note", "message"].tolist() == [
        NO_OUTCOMES.replace("there is no outcomes table.", "there is no outcomes table (no sheet named 'outcomes' "
                            "in the workbook).")]


def test_a_header_only_outcomes_table_is_noted(frames, tmp_path):
    frames["outcomes"] = frames["outcomes"].iloc[:0]
    r = validate_tables(load_coded_tables(write_folder(frames, tmp_path / "coded")))
    assert r.exit_code == 0
    assert r.problems.loc[r.problems["severity"] == "note", ["rule", "message"]].values.tolist() == [[
        "optional_table_empty", "the outcomes table has no rows. Prosecution outcomes are optional: the analysis "
        "leaves them out (its outcomes variables are blank and the outcomes tables are not made)."]]


def test_without_outcomes_the_outcome_variables_are_blank_and_the_tables_left_out(frames, cb, cfg):
    from analysis.report.pipeline import tables_and_model
    from analysis.report.publish import Note
    from analysis.tables.standard import NO_OUTCOMES_NOTE, outcome_variables

    d = derive(run(_without_outcomes(frames)).valid, cb, cfg)
    per = d["persons"]
    assert d["outcomes"].empty
    for v in outcome_variables(cb):
        if v != "charged_selling":  # from the report's own charges too
            assert per[v].isna().all(), v
    assert per["charged_selling"].tolist() == per["charge__selling"].tolist()
    tables = tables_and_model(d, cb, cfg, {}, n_boot=20, key=False)
    assert not [n for n in tables.names if n.startswith("outcomes")]
    assert [s.template for s in tables.shared if isinstance(s, Note)] == [NO_OUTCOMES_NOTE]
    assert "persons_all" in tables.names


# --- derived values, by hand --------------------------------------------------------------------------------------


def _hand_outcomes(frames):
    cols = list(frames["outcomes"].columns)
    rows = [
        # buyer, First Offender Prostitution Program completed
        ["SYN-P00001", "SYN-0001", "da", "no", "-9", "no", "-9", "first_offender_prostitution_program",
         "diversion_completed", "-9", "2010-03-01", "-9", "-9", "-9", "-9", "-9"],
        # seller: convicted of 647(b), set aside under 1203.49 in 2015; and a failure to appear, dismissed
        ["SYN-P00005", "SYN-0003", "da_and_court", "yes", "647(b) PC", "no", "-9", "none", "convicted", "-9",
         "2009-06-01", "647(b) PC", "yes", "pc_1203_49", "granted", "2015-03-01"],
        ["SYN-P00005", "SYN-0003", "court", "yes", "853.7 PC", "no", "-9", "none", "dismissed",
         "further_investigation", "2009-09-01", "-9", "-9", "-9", "-9", "-9"],
        # seller: Neighborhood Court, discharged without completing
        ["SYN-P00007", "SYN-0005", "da", "no", "-9", "yes", "discharged", "none", "discharged",
         "diversion_not_completed", "2012-08-06", "-9", "-9", "-9", "-9", "-9"],
        # seller: nothing documented
        ["SYN-P00008", "SYN-0006", "da", "-8", "-9", "-8", "-9", "-8", "-8", "-9", "-9", "-9", "-9", "-9", "-9",
         "-9"],
        # seller: convicted of disturbing the peace, dismissed under another statute (not vacatur)
        ["SYN-P00009", "SYN-0007", "da", "yes", "647(b) PC", "no", "-9", "none", "convicted", "-9", "2010-10-01",
         "415 PC", "yes", "other", "granted", "2012-01-01"],
    ]
    frames["outcomes"] = pd.DataFrame(rows, columns=cols)
    return frames


def test_person_level_outcome_variables_by_hand(frames, cb, cfg):
    r = run(_hand_outcomes(frames))
    assert r.exit_code == 0
    per = derive(r.valid, cb, cfg)["persons"].set_index("person_code")
    cols = ["da_outcome_known", "charged_selling", "charged", "nc_referred", "nc_completed", "nc_discharged",
            "diverted_other", "case_result", "closure_reason", "convicted", "relief_petitioned", "vacated"]
    got = per.loc[["SYN-P00001", "SYN-P00005", "SYN-P00007", "SYN-P00008", "SYN-P00009", "SYN-P00002"], cols]
    na = None
    expected = [
        [True, False, False, False, na, na, True, "diversion_completed", na, False, na, na],
        [True, True, True, False, na, na, False, "convicted", na, True, True, True],
        [True, True, False, True, False, True, False, "discharged", "diversion_not_completed", False, na, na],
        [True, True, na, na, na, na, na, "not_documented", na, na, na, na],
        [True, True, True, False, na, na, False, "convicted", na, True, True, False],
        [False, True, na, na, na, na, na, na, na, na, na, na],  # a seller with no outcome row
    ]
    assert [[None if pd.isna(v) else v for v in row] for row in got.astype(object).values.tolist()] == expected


def test_outcome_rows_are_classified_by_hand(frames, cb, cfg):
    out = derive(run(_hand_outcomes(frames)).valid, cb, cfg)["outcomes"]
    got = out[["person_code", "period", "role", "filed_selling", "convicted_selling", "vacated"]].astype(object)
    assert [[None if pd.isna(v) else v for v in row] for row in got.values.tolist()] == [
        ["SYN-P00001", "vice", "buyer", None, None, None],
        ["SYN-P00005", "vice", "seller", True, True, True],
        ["SYN-P00005", "vice", "seller", False, None, None],
        ["SYN-P00007", "vice", "seller", None, None, None],
        ["SYN-P00008", "vice", "seller", None, None, None],
        ["SYN-P00009", "vice", "seller", True, False, False],
    ]
    assert str(out["disposition_date"].dtype).startswith("datetime64")


# --- template, REDCap, manual ---------------------------------------------------------------------------------------


def test_the_template_has_an_outcomes_sheet(cb, cfg):
    from openpyxl import load_workbook

    from analysis.coders.template import template_workbook

    wb = load_workbook(io.BytesIO(template_workbook(cb, cfg, rows=10)))
    ws = wb["outcomes"]
    assert [c.value for c in ws[1]] == cb.table("outcomes").columns
    rules = {str(dv.sqref): dv for dv in ws.data_validations.dataValidation}
    col = {v: chr(65 + k) for k, v in enumerate(cb.table("outcomes").columns)}
    date_rule = rules[f"{col['disposition_date']}2:{col['disposition_date']}10"]
    assert date_rule.formula1 == "IF(ISNUMBER(K2),OR(K2=-8,K2=-9,K2>=DATE(2009,1,1)),OR(K2=\"-8\",K2=\"-9\"))"
    assert rules[f"{col['relief_statute']}2:{col['relief_statute']}10"].type == "list"
    assert ws.column_dimensions[col["filed_statutes"]].number_format == "@"


def test_every_outcome_variable_is_in_the_redcap_dictionary_and_the_manual(cb):
    from analysis.coders.manual import render_manual
    from analysis.coders.redcap_dictionary import data_dictionary, repeating_instruments

    d = data_dictionary(cb)
    form = d[d["Form Name"] == "outcomes"]
    assert form["Variable / Field Name"].tolist() == ["outcome_person_code"] + cb.table("outcomes").columns[2:]
    assert form.set_index("Variable / Field Name").loc["relief_date", "Branching Logic (Show field only if...)"] == (
        "[relief_result] = 'granted'")
    assert form.set_index("Variable / Field Name").loc["disposition_date", "Text Validation Max"] == ""
    assert repeating_instruments(cb).values.tolist()[-1] == ["outcomes", "[outcome_person_code]: [disposition]"]
    manual = render_manual(cb)
    for v in cb.table("outcomes").variables:
        assert f"#### outcomes.{v.name}" in manual
    for d_ in cb.derived["persons"]:
        assert f"| `{d_.name}` |" in manual
    assert "| `pc_236_14` | PC 236.14: vacatur for a trafficking victim (SB 823, from 1 Jan 2017) | 2017-01-01 |" in manual


def test_redcap_round_trip_keeps_the_outcomes(frames, tmp_path, cb):
    from analysis.cli.app import main
    from analysis.coders.redcap_dictionary import data_dictionary, records_export

    export = records_export(frames, data_dictionary(cb), cb)
    assert (export["redcap_repeat_instrument"] == "outcomes").sum() == len(frames["outcomes"])
    export.to_csv(tmp_path / "export.csv", index=False)
    assert main(["import-redcap", str(tmp_path / "export.csv"), "--out", str(tmp_path / "coded")]) == 0
    back = pd.read_csv(tmp_path / "coded" / "outcomes.csv", dtype=str, keep_default_na=False)
    # REDCap exports a field hidden by branching logic as blank; the validator reads it as -9
    assert back.equals(frames["outcomes"].replace("-9", "").reset_index(drop=True))
    a, b = run(frames), validate_tables(load_coded_tables(tmp_path / "coded"))
    assert b.exit_code == 0
    assert a.valid["outcomes"].drop(columns="_row").equals(b.valid["outcomes"].drop(columns="_row"))


def test_an_export_of_a_project_without_outcomes_imports_without_them(frames, cb):
    from analysis.coders.redcap_dictionary import data_dictionary, records_export
    from analysis.intake.redcap_import import import_records

    d = data_dictionary(cb)
    export = records_export(_without_outcomes(frames) | {"outcomes": frames["outcomes"].iloc[:0]},
                            d[d["Form Name"] != "outcomes"], cb)
    tables = import_records(export, cb)
    assert sorted(tables) == ["charges", "incidents", "persons"]
    r = validate_tables(tables_from_frames(tables, source="export.csv"))
    assert r.exit_code == 0
    assert r.problems.loc[r.problems["severity"] == "note", "rule"].tolist() == ["optional_table_absent"]


# --- the codebook ---------------------------------------------------------------------------------------------------


def test_codebook_checks_the_new_fields(cb):
    import copy

    import yaml

    from analysis.scheme.codebook import codebook_path

    doc = yaml.safe_load(codebook_path().read_text(encoding="utf-8"))
    bad = copy.deepcopy(doc)
    out = bad["tables"]["outcomes"]
    relief = next(v for v in out["variables"] if v["name"] == "relief_statute")
    relief["codes"][0]["in_force"] = "2017-13-01"
    out["consistency"][0]["require"]["in"] = ["finished"]
    bad["questions"][0]["variables"].append("persons.no_such_variable")
    assert check_codebook(parse_codebook(bad)) == [
        "outcomes.relief_statute: code 'pc_236_14' has in_force '2017-13-01', not a date YYYY-MM-DD",
        "outcomes: consistency rule value(s) 'finished' are not codes of disposition",
        "question 'vacatur': variable 'persons.no_such_variable' is not a coded or derived variable of the codebook",
    ]
    assert check_codebook(cb) == []
    assert cb.version == "2.0.0"
    assert cb.optional_tables == ("outcomes",)


def test_every_question_names_variables_and_a_standard_table_that_exist(cb):
    from analysis.tables.standard import OUTCOME_TABLES, STANDARD

    tables = {t[0] for t in STANDARD} | {t[0] for t in OUTCOME_TABLES}
    assert [q.id for q in cb.questions][0] == "vacatur"
    for q in cb.questions:
        for ref in q.variables:
            table, _, name = ref.partition(".")
            assert cb.has_variable(table, name), (q.id, ref)
        assert q.table in tables, q.id
    vacatur = cb.questions[0]
    assert (vacatur.asked, vacatur.source, vacatur.table, vacatur.chart) == (
        "How many convictions were vacated?", "Committee agenda, 12 September 2017", "outcomes_all", None)


# --- the example and its outcomes tables --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def example_persons(cb, cfg):
    return derive(validate_tables(load_coded_tables(EXAMPLE)).valid, cb, cfg)["persons"]


def _by_hand():
    """The example's outcome counts straight from the CSV files (pandas only, no analysis code)."""
    read = lambda n: pd.read_csv(EXAMPLE / f"{n}.csv", dtype=str, keep_default_na=False)  # noqa: E731
    inc, per, chg, out = read("incidents"), read("persons"), read("charges"), read("outcomes")
    period = per["report_id"].map(dict(zip(inc["report_id"], inc["report_year"]))).map(
        {"2009": "vice", "2010": "vice", "2014": "svu", "2015": "svu"})
    sellers = per.loc[per["role"] != "buyer", "person_code"]
    selling_charges = chg[chg["statute"].str.replace(" ", "").str.upper().str.contains(r"647\(?B\)?|653\.22")
                          & chg["person_code"].isin(sellers)]
    known = per["person_code"].isin(out["person_code"])
    selling = known & per["person_code"].isin(selling_charges["person_code"])
    referred = per["person_code"].isin(out.loc[out["nc_referred"] == "yes", "person_code"])
    convicted = per["person_code"].isin(out.loc[out["disposition"] == "convicted", "person_code"])
    vac = out[(out["relief_result"] == "granted") & out["relief_statute"].str.startswith("pc_")]
    vacated = per["person_code"].isin(vac["person_code"])
    # a conviction whose petition (or its result) is not documented leaves 'vacated' unknown
    unknown = out[(out["disposition"] == "convicted") & ((out["relief_petition"] == "-8") | (
        (out["relief_petition"] == "yes") & (out["relief_result"] == "-8")))]
    vacated_known = convicted & ~per["person_code"].isin(unknown["person_code"])
    nc = lambda result: per["person_code"].isin(out.loc[out["nc_result"] == result, "person_code"])  # noqa: E731
    count = lambda m: m.groupby(period).sum().to_dict()  # noqa: E731
    return {"known": count(known), "selling": count(selling), "referred": count(selling & referred),
            "completed": count(selling & nc("completed")), "discharged": count(selling & nc("discharged")),
            "convicted": count(known & convicted), "vacated": count(vacated), "vacated_known": count(vacated_known)}


def test_the_example_has_the_published_shape(example_persons):
    # published (companion report on prosecutorial outcomes): DA outcomes for 816 people; 474 (58%) charged with
    # selling sex; 36% of those referred to Neighborhood Court, more in 2014/15; 60% of referrals completed, 39%
    # discharged
    hand = _by_hand()
    assert hand == {"known": {"svu": 459, "vice": 357}, "selling": {"svu": 240, "vice": 234},
                    "referred": {"svu": 158, "vice": 13}, "completed": {"svu": 93, "vice": 10},
                    "discharged": {"svu": 64, "vice": 3}, "convicted": {"svu": 53, "vice": 64},
                    "vacated": {"svu": 2, "vice": 6}, "vacated_known": {"svu": 52, "vice": 62}}
    total = {k: sum(v.values()) for k, v in hand.items()}
    assert (total["known"], total["selling"], total["referred"]) == (816, 474, 171)
    assert round(100 * 474 / 816) == 58 and round(100 * 171 / 474) == 36
    assert (total["completed"], total["discharged"]) == (103, 67)
    assert (round(100 * 103 / 171), round(100 * 67 / 171)) == (60, 39)
    assert hand["referred"]["svu"] / hand["selling"]["svu"] > hand["referred"]["vice"] / hand["selling"]["vice"]
    # the same through the derived per-person variables
    known = example_persons["da_outcome_known"].fillna(False).astype(bool)
    selling = known & example_persons["charged_selling"].fillna(False).astype(bool)
    referred = selling & example_persons["nc_referred"].fillna(False).astype(bool)
    assert (int(known.sum()), int(selling.sum()), int(referred.sum())) == (816, 474, 171)
    assert int(example_persons.loc[referred, "nc_completed"].sum()) == 103
    assert int(example_persons.loc[referred, "nc_discharged"].sum()) == 67


def test_cases_not_referred_are_mostly_discharged_or_dismissed_for_lack_of_evidence():
    out = pd.read_csv(EXAMPLE / "outcomes.csv", dtype=str, keep_default_na=False)
    first = out.drop_duplicates("person_code")  # each person's case from the report (a second case is a FTA)
    not_referred = first[first["nc_referred"] == "no"]
    closed = not_referred["disposition"].isin(["discharged", "dismissed"])
    assert (len(not_referred), int(closed.sum())) == (645, 382)  # 59%
    reasons = not_referred.loc[closed, "disposition_reason"].value_counts()
    assert reasons.index[:2].tolist() == ["insufficient_evidence", "further_investigation"]
    assert int(reasons.iloc[:2].sum()) == 267  # 70% of them


def test_the_outcomes_tables_count_what_the_files_hold(example_persons, cb, cfg):
    from analysis.tables.standard import outcome_tables

    tables = {nt.name: nt.table.rows for nt in outcome_tables(example_persons, n_boot=20, codebook=cb, config=cfg)}
    assert list(tables) == ["outcomes_all", "outcomes_selling"]
    hand = _by_hand()

    def yes(rows, variable):
        r = rows[(rows["variable"] == variable) & (rows["level"] == "yes")].iloc[0]
        return {"vice": (r["n_vice"], r["N_vice"]), "svu": (r["n_svu"], r["N_svu"])}

    sel = tables["outcomes_selling"]
    assert yes(sel, "nc_referred") == {p: (hand["referred"][p], hand["selling"][p]) for p in ("vice", "svu")}
    assert yes(sel, "nc_referred") == {"vice": (13, 234), "svu": (158, 240)}  # 171 of 474 (36%), as published
    assert yes(sel, "nc_completed") == {"vice": (10, 13), "svu": (93, 158)}  # 103 of 171 (60%)
    assert yes(sel, "nc_discharged") == {"vice": (3, 13), "svu": (64, 158)}  # 67 of 171 (39%)
    everyone = tables["outcomes_all"]
    assert yes(everyone, "charged_selling") == {p: (hand["selling"][p], hand["known"][p]) for p in ("vice", "svu")}
    assert yes(everyone, "charged_selling") == {"vice": (234, 357), "svu": (240, 459)}  # 474 of 816 (58%)
    # the committee's question: convictions vacated, of the people convicted
    assert yes(everyone, "vacated") == {p: (hand["vacated"][p], hand["vacated_known"][p]) for p in ("vice", "svu")}
    assert "da_outcome_known" not in set(everyone["variable"])
    assert "charged_selling" not in set(sel["variable"])
