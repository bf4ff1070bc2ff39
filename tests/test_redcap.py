"""REDCap: the data dictionary from the codebook, and a records export back to valid coded tables."""

from __future__ import annotations

import dataclasses
import io

import pandas as pd
import pytest

from analysis.cli.app import main
from analysis.coders.redcap_dictionary import (
    branching_logic,
    data_dictionary,
    dictionary_csv,
    records_export,
    repeating_instruments,
)
from analysis.coders.synth import generate
from analysis.intake.load import tables_from_frames
from analysis.intake.problems import UnusableInputError
from analysis.intake.redcap_import import import_records, read_records_csv, unrecognised_columns
from analysis.intake.validate import validate_tables
from analysis.scheme.codebook import Condition, Variable
from analysis.scheme.redcap_fields import checkbox_column, field_names

TABLES = ("incidents", "persons", "charges", "outcomes")
HEADER = [
    "Variable / Field Name", "Form Name", "Section Header", "Field Type", "Field Label",
    "Choices, Calculations, OR Slider Labels", "Field Note", "Text Validation Type OR Show Slider Number",
    "Text Validation Min", "Text Validation Max", "Identifier?", "Branching Logic (Show field only if...)",
    "Required Field?", "Custom Alignment", "Question Number (surveys only)", "Matrix Group Name",
    "Matrix Ranking?", "Field Annotation",
]


@pytest.fixture(scope="module")
def dd(cb, cfg):
    return data_dictionary(cb, cfg)


def row(dd, field: str) -> dict:
    hits = dd[dd["Variable / Field Name"] == field]
    assert len(hits) == 1, field
    return hits.iloc[0].to_dict()


def blank_except(**given) -> dict:
    out = dict.fromkeys(HEADER, "")
    out.update(given)
    return out


# --- the dictionary -----------------------------------------------------------------------------------------


def test_dictionary_has_the_18_redcap_columns_in_order(dd):
    assert list(dd.columns) == HEADER
    csv_header = dictionary_csv(dd).splitlines()[0]
    assert pd.read_csv(io.StringIO(csv_header)).columns.tolist() == HEADER


def test_fields_record_id_first_unique_names_and_forms(dd, cb):
    names = dd["Variable / Field Name"].tolist()
    assert names[0] == "report_id" and dd["Form Name"].iloc[0] == "incidents"
    assert len(names) == len(set(names)) == 50
    assert dd["Form Name"].drop_duplicates().tolist() == ["incidents", "persons", "charges", "outcomes"]
    persons = dd.loc[dd["Form Name"] == "persons", "Variable / Field Name"].tolist()
    charges = dd.loc[dd["Form Name"] == "charges", "Variable / Field Name"].tolist()
    assert persons == [c for c in cb.table("persons").columns if c != "report_id"]
    assert charges == ["charge_person_code", "statute"]
    assert field_names(cb)[("charges", "person_code")] == "charge_person_code"
    assert field_names(cb)[("outcomes", "person_code")] == "outcome_person_code"
    assert field_names(cb)[("outcomes", "report_id")] is None
    assert field_names(cb)[("persons", "report_id")] is None


def test_condoms_confiscated_row(dd):
    assert row(dd, "condoms_confiscated") == blank_except(**{
        "Variable / Field Name": "condoms_confiscated",
        "Form Name": "incidents",
        "Field Type": "radio",
        "Field Label": "Condoms confiscated",
        "Choices, Calculations, OR Slider Labels": "yes, Yes | no, No | -8, Not documented",
        "Field Note": "Condoms were taken from a person or the scene by police.",
        "Branching Logic (Show field only if...)": "[condoms_mentioned] = 'yes'",
        "Required Field?": "y",
        "Field Annotation": "Codebook 2.0.0: incidents.condoms_confiscated @NOMISSING",
    })


def test_checkbox_rows_with_options_that_stand_alone(dd):
    r = row(dd, "investigating_unit")
    assert r["Field Type"] == "checkbox"
    assert r["Choices, Calculations, OR Slider Labels"] == (
        "vice, Vice | svu, Special Victims Unit (SVU) | district_station, District station | other, Other unit | "
        "-8, Not documented")
    assert r["Field Annotation"] == "Codebook 2.0.0: incidents.investigating_unit @NOMISSING @NONEOFTHEABOVE='-8'"
    r = row(dd, "trafficking_indicators")
    assert r["Field Annotation"].endswith("@NONEOFTHEABOVE='none'")
    assert r["Choices, Calculations, OR Slider Labels"].endswith("earnings_handed_over, Earnings or quota handed to "
                                                                 "a third party | none, None")
    r = row(dd, "interpreter_mode")
    assert r["Branching Logic (Show field only if...)"] == "[interpreter_used] = 'yes'"
    assert "-9" not in r["Choices, Calculations, OR Slider Labels"]  # a hidden field stays blank
    assert r["Choices, Calculations, OR Slider Labels"].endswith(
        "other, Other (family member, bystander, app) | -8, Not documented")


def test_text_date_and_integer_rows(dd):
    assert row(dd, "report_id") == blank_except(**{
        "Variable / Field Name": "report_id", "Form Name": "incidents",
        "Section Header": "One row per incident report in the sample.", "Field Type": "text",
        "Field Label": "Report id",
        "Field Note": "The study's id for the incident report, as given on the sample list.",
        "Identifier?": "y", "Required Field?": "y",
        "Field Annotation": "Codebook 2.0.0: incidents.report_id @NOMISSING",
    })
    d = row(dd, "incident_date")
    assert (d["Field Type"], d["Text Validation Type OR Show Slider Number"], d["Text Validation Min"],
            d["Text Validation Max"], d["Identifier?"]) == ("text", "date_ymd", "2009-01-01", "2015-12-31", "y")
    assert d["Field Annotation"] == "Codebook 2.0.0: incidents.incident_date"  # -8 via the missing data code
    assert d["Field Note"].endswith("Not documented: use the M button (missing data code -8).")
    a = row(dd, "age")
    assert (a["Field Type"], a["Text Validation Type OR Show Slider Number"], a["Text Validation Min"],
            a["Text Validation Max"], a["Form Name"]) == ("text", "integer", "10", "95", "persons")
    p = row(dd, "phones_seized_count")
    assert (p["Text Validation Min"], p["Text Validation Max"], p["Branching Logic (Show field only if...)"]) == (
        "1", "50", "[phones_seized] = 'yes'")
    y = row(dd, "report_year")
    assert (y["Field Type"], y["Choices, Calculations, OR Slider Labels"]) == (
        "radio", "2009, 2009 | 2010, 2010 | 2014, 2014 | 2015, 2015")
    z = row(dd, "residence_zip")
    assert (z["Identifier?"], z["Branching Logic (Show field only if...)"], z["Form Name"]) == (
        "y", "[role] = 'buyer'", "persons")
    c = row(dd, "charge_person_code")
    assert (c["Form Name"], c["Field Label"], c["Section Header"], c["Identifier?"]) == (
        "charges", "Person code", "One row per charge per person, as written on the report.", "y")


def test_identifier_and_required_flags_follow_the_codebook(dd, cb):
    names = field_names(cb)
    for t in TABLES:
        for v in cb.table(t).variables:
            f = names[(t, v.name)]
            if f is None:
                continue
            r = row(dd, f)
            assert r["Identifier?"] == ("y" if v.identifier else ""), f
            assert r["Required Field?"] == ("y" if v.required else ""), f


def test_branching_logic_for_a_checkbox_parent_and_several_values(cb):
    names = field_names(cb)
    v = Variable(name="x", label="x", type="code", table="incidents",
                 show_if=(Condition("investigating_unit", ("svu", "vice")),))
    assert branching_logic(v, cb, names) == "[investigating_unit(svu)] = '1' or [investigating_unit(vice)] = '1'"
    v = Variable(name="x", label="x", type="code", table="incidents",
                 show_if=(Condition("district", ("mission", "central")), Condition("phones_seized", ("yes",))))
    assert branching_logic(v, cb, names) == (
        "([district] = 'mission' or [district] = 'central') and [phones_seized] = 'yes'")


def test_a_field_name_clash_is_refused(cb):
    persons = cb.table("persons")
    clash = tuple(dataclasses.replace(v, name="district") if v.name == "role" else v for v in persons.variables)
    other = dataclasses.replace(cb, tables={**cb.tables, "persons": dataclasses.replace(persons, variables=clash)})
    with pytest.raises(ValueError, match="persons.district and incidents.district would both be the REDCap field "
                                         "'district'; add one of them to RENAMED"):
        field_names(other)


def test_repeating_instruments_settings(cb):
    assert repeating_instruments(cb).to_dict("records") == [
        {"form_name": "persons", "custom_form_label": "[person_code]"},
        {"form_name": "charges", "custom_form_label": "[charge_person_code]: [statute]"},
        {"form_name": "outcomes", "custom_form_label": "[outcome_person_code]: [disposition]"},
    ]


# --- the round trip ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def synthetic():
    return generate(n_reports=40, seed=11)


@pytest.fixture(scope="module")
def export_csv(synthetic, dd, cb):
    return records_export(synthetic, dd, cb).to_csv(index=False, lineterminator="\n").encode("utf-8")


def test_export_looks_like_a_redcap_raw_export(export_csv, synthetic):
    ex = read_records_csv(export_csv)
    assert ex.columns[:3].tolist() == ["report_id", "redcap_repeat_instrument", "redcap_repeat_instance"]
    assert checkbox_column("investigating_unit", "-8") == "investigating_unit____8"
    assert {"investigating_unit____8", "trafficking_indicators___none", "incidents_complete",
            "charge_person_code", "outcome_person_code", "outcomes_complete"} <= set(ex.columns)
    assert "person_code" in ex.columns and "report_id" == ex.columns[0]
    assert ex["redcap_repeat_instrument"].value_counts().to_dict() == {
        "": 40, "persons": len(synthetic["persons"]), "charges": len(synthetic["charges"]),
        "outcomes": len(synthetic["outcomes"])}
    first_person = ex[ex["redcap_repeat_instrument"] == "persons"].iloc[0]
    assert (first_person["redcap_repeat_instance"], first_person["district"]) == ("1", "")
    assert unrecognised_columns(ex) == []


def test_round_trip_dictionary_export_import_validate(export_csv, synthetic, cb):
    imported = import_records(read_records_csv(export_csv, "export.csv"), cb, "export.csv")
    # cell for cell the coded tables, with REDCap's blank for a hidden (skipped) field
    for t in TABLES:
        assert imported[t].equals(synthetic[t].replace("-9", "")), t
    result = validate_tables(tables_from_frames(imported, source="export.csv"))
    assert result.exit_code == 0, result.summary()
    original = validate_tables(tables_from_frames(synthetic, source="synthetic"))
    for t in TABLES:
        assert len(result.valid[t]) == len(synthetic[t])
        assert result.valid[t].equals(original.valid[t]), t
    skipped = synthetic["incidents"]["interpreter_used"] == "-9"
    assert skipped.any() and (result.valid["incidents"].loc[skipped, "interpreter_used"] == "-9").all()


def test_import_ignores_extra_columns_and_reads_missing_codes(export_csv, cb):
    ex = read_records_csv(export_csv)
    ex["coder_notes"] = ""
    first = ex.index[ex["redcap_repeat_instrument"] == ""][0]
    ex.loc[first, [c for c in ex.columns if c.startswith("investigating_unit___")]] = "0"
    ex.loc[first, "investigating_unit____8"] = "1"
    ex.loc[first, "incident_date"] = "-8"
    assert unrecognised_columns(ex, cb) == ["coder_notes"]
    got = import_records(ex, cb)["incidents"].iloc[0]
    assert (got["investigating_unit"], got["incident_date"]) == ("-8", "-8")


def problems_of(exc) -> list[tuple[str, str]]:
    return [(p["rule"], p["message"]) for p in exc.value.problems]


def test_bad_exports_are_unusable_with_a_clear_message(export_csv, cb):
    ex = read_records_csv(export_csv)
    with pytest.raises(UnusableInputError) as exc:
        import_records(ex.rename(columns={"report_id": "Record ID"}), cb, "e.csv")
    assert problems_of(exc) == [("not_a_redcap_export", (
        "there is no record id column 'report_id' in the header (Record ID, redcap_repeat_instrument, "
        "redcap_repeat_instance, coder_id, incident_date, report_year...). The header holds field labels: export "
        "again with 'raw data' and variable names as headers."))]
    with pytest.raises(UnusableInputError) as exc:
        import_records(ex.drop(columns=["report_id"]), cb)
    assert "A REDCap records export of this project starts with the record id column 'report_id'." in \
        problems_of(exc)[0][1]
    with pytest.raises(UnusableInputError) as exc:
        import_records(ex.drop(columns=["redcap_repeat_instrument", "redcap_repeat_instance"]), cb)
    assert problems_of(exc)[0][1].startswith("the columns redcap_repeat_instrument and redcap_repeat_instance are "
                                             "missing, so the people and charges cannot be told apart")
    with pytest.raises(UnusableInputError) as exc:
        import_records(ex.drop(columns=["age", "investigating_unit___svu"]), cb)
    assert problems_of(exc)[0] == ("missing_column", (
        "the export lacks field(s) investigating_unit___svu, age. Export all instruments and fields (raw data), "
        "from a project built from this codebook's REDCap dictionary."))
    bad = ex.copy()
    bad.loc[1, "redcap_repeat_instrument"] = "people"
    with pytest.raises(UnusableInputError) as exc:
        import_records(bad, cb)
    assert problems_of(exc) == [("not_a_redcap_export", "unknown repeating instrument(s) people; expected persons, "
                                                        "charges and outcomes.")]
    with pytest.raises(UnusableInputError) as exc:
        read_records_csv(b"PK\x03\x04 zip", "e.xlsx")
    assert problems_of(exc)[0][1].startswith("this is not a CSV file")
    with pytest.raises(UnusableInputError) as exc:
        read_records_csv(b"  \n", "e.csv")
    assert exc.value.problems[0]["file"] == "e.csv" and "empty" in problems_of(exc)[0][1]


# --- the commands -----------------------------------------------------------------------------------------


def test_redcap_dictionary_command(tmp_path, dd, capsys):
    out = tmp_path / "sfpd_dictionary.csv"
    assert main(["redcap-dictionary", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == dictionary_csv(dd)
    assert (tmp_path / "sfpd_dictionary_repeating_instruments.csv").read_text(encoding="utf-8") == (
        "form_name,custom_form_label\npersons,[person_code]\ncharges,[charge_person_code]: [statute]\n"
        "outcomes,[outcome_person_code]: [disposition]\n")
    said = capsys.readouterr().out
    assert "incidents 22 fields, persons 11 fields, charges 2 fields, outcomes 15 fields" in said
    assert "Make `persons`, `charges` and `outcomes` repeating instruments" in said
    assert "missing data code `-8, Not documented`" in said


def test_import_redcap_command(tmp_path, export_csv, synthetic, capsys):
    export = tmp_path / "export.csv"
    export.write_bytes(export_csv)
    out = tmp_path / "tables"
    assert main(["import-redcap", str(export), "--out", str(out)]) == 0
    for t in TABLES:
        back = pd.read_csv(out / f"{t}.csv", dtype=str, keep_default_na=False)
        assert back.equals(synthetic[t].replace("-9", "")), t
    assert "No errors: every row is valid." in capsys.readouterr().out
    bad = tmp_path / "bad.csv"
    bad.write_text("record_id,name\n1,x\n", encoding="utf-8")
    assert main(["import-redcap", str(bad)]) == 2
    assert "there is no record id column 'report_id'" in capsys.readouterr().err
    assert main(["import-redcap", str(tmp_path / "missing.csv")]) == 2
