"""The coding template: its content is the codebook's, and a filled-in copy validates cleanly."""

from __future__ import annotations

import datetime as dt
import io
import re

import openpyxl
import pytest

from analysis.cli.app import main
from analysis.coders.template import (
    CODEBOOK_SHEET_COLUMNS,
    PROMPT_LIMIT,
    TITLE_LIMIT,
    template_workbook,
)
from analysis.intake.load import load_coded_tables, tables_from_frames
from analysis.intake.normalise import display_choice
from analysis.intake.validate import validate_tables

DATA_SHEETS = ("incidents", "persons", "charges", "outcomes")
ROWS = 400  # validation rows in the test template (the default, 5000, is the same code with a larger range)


@pytest.fixture(scope="module")
def template_bytes(cb, cfg):
    return template_workbook(cb, cfg, rows=ROWS)


@pytest.fixture(scope="module")
def wb(template_bytes):
    return openpyxl.load_workbook(io.BytesIO(template_bytes))


def validations(ws):
    return list(ws.data_validations.dataValidation)


def validation_at(ws, cell: str):
    found = [dv for dv in validations(ws) if cell in dv.sqref]
    assert len(found) == 1, f"{ws.title}!{cell}: {len(found)} validations"
    return found[0]


def column_letter(cb, table: str, name: str) -> str:
    return openpyxl.utils.get_column_letter(cb.table(table).columns.index(name) + 1)


def range_values(wb, formula: str) -> list:
    m = re.fullmatch(r"'?([^'!]+)'?!\$([A-Z]+)\$(\d+):\$([A-Z]+)\$(\d+)", formula)
    assert m, formula
    sheet, c1, r1, c2, r2 = m.groups()
    assert c1 == c2
    return [c.value for (c,) in wb[sheet][f"{c1}{r1}:{c2}{r2}"]]


def test_sheet_names_and_order(wb):
    assert wb.sheetnames == ["read me", "incidents", "persons", "charges", "outcomes", "codebook", "lists"]
    assert wb["lists"].sheet_state == "hidden"
    assert wb.active.title == "read me"


def test_header_row_is_the_codebook_columns_and_frozen(wb, cb):
    for t in DATA_SHEETS:
        ws = wb[t]
        assert [c.value for c in ws[1]] == cb.table(t).columns
        assert ws.max_row == 1  # nothing but the header
        assert ws.freeze_panes == "B2"


def test_district_drop_down_holds_exactly_the_display_choices(wb, cb):
    dv = validation_at(wb["incidents"], f"{column_letter(cb, 'incidents', 'district')}2")
    assert dv.type == "list"
    assert str(dv.sqref) == "E2:E400"
    assert range_values(wb, dv.formula1) == [
        "bayview = Bayview", "central = Central", "ingleside = Ingleside", "mission = Mission",
        "northern = Northern", "park = Park", "richmond = Richmond", "southern = Southern",
        "taraval = Taraval", "tenderloin = Tenderloin", "-8 = Not documented",
    ]


def test_every_code_variable_has_its_choices_and_missing_codes(wb, cb):
    n = 0
    for t in DATA_SHEETS:
        for v in cb.table(t).variables:
            if v.type != "code":
                continue
            dv = validation_at(wb[t], f"{column_letter(cb, t, v.name)}2")
            expected = [display_choice(c.code, c.label) for c in v.codes] + [
                display_choice(m, cb.missing_labels[m]) for m in v.missing]
            assert dv.type == "list" and range_values(wb, dv.formula1) == expected, v.name
            assert dv.errorStyle == "warning"  # a typed plain code is allowed after a warning
            n += 1
    assert n == sum(v.type == "code" for t in DATA_SHEETS for v in cb.table(t).variables) == 32


def test_skipped_item_list_includes_not_applicable(wb, cb):
    dv = validation_at(wb["incidents"], f"{column_letter(cb, 'incidents', 'condoms_confiscated')}2")
    assert range_values(wb, dv.formula1) == ["yes = Yes", "no = No", "-8 = Not documented", "-9 = Not applicable"]


def test_report_year_lists_the_sampled_years(wb, cb, cfg):
    dv = validation_at(wb["incidents"], "D2")
    assert dv.type == "list" and dv.errorStyle == "stop"
    assert range_values(wb, dv.formula1) == [2009, 2010, 2014, 2015] == list(cfg.sampled_years)


def test_age_is_a_whole_number_in_the_codebook_range_or_minus_8(wb, cb):
    age = cb.variable("persons", "age")
    assert (age.min, age.max, age.missing) == (10, 95, ("-8",))
    dv = validation_at(wb["persons"], "D2")
    assert column_letter(cb, "persons", "age") == "D"
    assert (dv.type, dv.errorStyle, str(dv.sqref)) == ("custom", "stop", "D2:D400")
    assert dv.formula1 == 'IF(ISNUMBER(D2),OR(D2=-8,AND(D2=INT(D2),D2>=10,D2<=95)),D2="-8")'


def test_phone_count_accepts_minus_8_and_minus_9(wb, cb):
    assert column_letter(cb, "incidents", "phones_seized_count") == "R"
    dv = validation_at(wb["incidents"], "R2")
    assert dv.formula1 == ('IF(ISNUMBER(R2),OR(R2=-8,R2=-9,AND(R2=INT(R2),R2>=1,R2<=50)),'
                           'OR(R2="-8",R2="-9"))')


def test_incident_date_must_fall_in_the_sampled_years_or_be_minus_8(wb):
    dv = validation_at(wb["incidents"], "C2")
    assert (dv.type, dv.errorStyle) == ("custom", "stop")
    assert dv.formula1 == (
        "IF(ISNUMBER(C2),OR(C2=-8,AND(C2>=DATE(2009,1,1),C2<=DATE(2010,12,31)),"
        'AND(C2>=DATE(2014,1,1),C2<=DATE(2015,12,31))),C2="-8")'
    )
    assert wb["incidents"].column_dimensions["C"].number_format == "yyyy-mm-dd"


def test_header_cells_and_data_cells_carry_label_and_definition(wb, cb):
    for t in DATA_SHEETS:
        ws = wb[t]
        for v in cb.table(t).variables:
            letter = column_letter(cb, t, v.name)
            head = validation_at(ws, f"{letter}1")
            assert head.showInputMessage and head.type is None
            assert head.promptTitle == (v.label if len(v.label) <= TITLE_LIMIT else head.promptTitle)
            assert head.prompt.startswith(v.definition[:60])
            data = validation_at(ws, f"{letter}2")
            assert data.showInputMessage and data.promptTitle == head.promptTitle
        for dv in validations(ws):
            assert len(dv.promptTitle) <= TITLE_LIMIT and len(dv.prompt) <= PROMPT_LIMIT
            assert dv.errorTitle is None or len(dv.errorTitle) <= TITLE_LIMIT
            assert dv.error is None or len(dv.error) <= PROMPT_LIMIT
    long = validation_at(wb["incidents"], "L1")  # "Coder's assessment of trafficking": 33 characters
    assert long.promptTitle == "Coder's assessment of…"


def test_multi_select_columns_list_their_codes_in_the_input_message(wb, cb):
    ws = wb["incidents"]
    for name in ("investigating_unit", "trafficking_indicators", "interpreter_mode"):
        v = cb.variable("incidents", name)
        dv = validation_at(ws, f"{column_letter(cb, 'incidents', name)}2")
        assert dv.type is None  # no drop-down: Excel picks one value
        assert dv.prompt.startswith("Codes separated by ';': " + "; ".join(v.code_values) + ".")
    assert "-8 must stand alone" in validation_at(ws, "H2").prompt
    assert "none must stand alone" in validation_at(ws, "K2").prompt


def test_read_me_explains_how_to_code(wb):
    text = "\n".join(str(c.value) for (c,) in wb["read me"].iter_rows(max_col=1) if c.value)
    assert text.startswith("SFPD prostitution and human-trafficking incident reports: coding scheme\n")
    for needle in (
        "codebook version 2.0.0",
        "NEVER ENTER NAMES",
        "-8 = Not documented: The report does not say.",
        "-9 = Not applicable: The item does not apply because of an earlier answer (skip logic)",
        "incidents.condoms_confiscated (Condoms confiscated): only when condoms_mentioned is 'yes' (Yes); "
        "otherwise leave blank or write -9.",
        "persons.residence_zip (Residence ZIP code): only when role is 'buyer' (Buyer)",
        "written in one cell as codes separated by semicolons, in any order, e.g. `vice;svu`.",
        "The separator is ';'.",
        "Sheet 'persons': One row per person listed on a report",
        "each charge of each person on its own row in 'charges'",
        "647(f) (public intoxication) and 647f (HIV-specific felony) are different charges",
        "python -m analysis validate",
    ):
        assert needle in text, needle


def test_codebook_sheet_lists_every_variable(wb, cb):
    rows = [[c.value for c in r] for r in wb["codebook"].iter_rows()]
    assert tuple(rows[0]) == CODEBOOK_SHEET_COLUMNS
    assert [(r[0], r[1]) for r in rows[1:]] == [(t, v.name) for t in DATA_SHEETS for v in cb.table(t).variables]
    row = dict(zip(CODEBOOK_SHEET_COLUMNS, next(r for r in rows if r[1] == "condoms_confiscated")))
    assert row == {
        "table": "incidents", "name": "condoms_confiscated", "label": "Condoms confiscated", "type": "code",
        "required": "yes", "codes": "yes = Yes\nno = No", "missing codes": "-8 = Not documented\n-9 = Not applicable",
        "range or format": None,
        "skip logic": "only when condoms_mentioned is 'yes' (Yes); otherwise leave blank or write -9",
        "definition": "Condoms were taken from a person or the scene by police.",
        "rules": "- yes if condoms were seized, booked or taken; no if the report says they were left or returned.\n"
                 "- -8 if condoms are mentioned but the report does not say what happened to them.",
    }
    age = dict(zip(CODEBOOK_SHEET_COLUMNS, next(r for r in rows if r[1] == "age")))
    assert age["range or format"] == "a whole number from 10 to 95"


def test_the_bytes_are_deterministic(template_bytes, cb, cfg):
    assert template_workbook(cb, cfg, rows=ROWS) == template_bytes


# --- filling the template the way a spreadsheet program stores the cells -------------------------------------


def spreadsheet_value(var, value: str, row: int, cb):
    """What a spreadsheet stores for ``value`` typed or picked in ``var``'s column in data row ``row``."""
    if value == "-9" and row % 4 == 1:
        return None  # a skipped item left blank
    if var.type == "date" and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return dt.datetime.fromisoformat(value)
    if var.type == "integer" or (var.name == "residence_zip" and row % 2 == 0):
        return int(value) if re.fullmatch(r"-?\d+", value) else value
    if var.type == "code" and row % 2 == 0:  # picked from the drop-down
        label = cb.missing_labels.get(value) or var.labels.get(value)
        return display_choice(value, label) if label else value  # a wrong code is typed, not picked
    return value or None


def fill_template(template: bytes, frames, cb) -> bytes:
    wb = openpyxl.load_workbook(io.BytesIO(template))
    for t in DATA_SHEETS:
        ws = wb[t]
        variables = cb.table(t).variables
        for i, rec in enumerate(frames[t].itertuples(index=False)):
            for j, (var, value) in enumerate(zip(variables, rec), start=1):
                cell = ws.cell(row=i + 2, column=j, value=spreadsheet_value(var, value, i, cb))
                if isinstance(cell.value, dt.datetime):
                    cell.number_format = "yyyy-mm-dd"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_filled_template_validates_and_equals_the_coding(template_bytes, frames, cb, tmp_path):
    path = tmp_path / "filled.xlsx"
    path.write_bytes(fill_template(template_bytes, frames, cb))
    # the file really holds what a spreadsheet would: date cells, numbers, display forms, blanks
    check = openpyxl.load_workbook(path)
    assert isinstance(check["incidents"]["C2"].value, dt.datetime)
    assert isinstance(check["persons"]["D2"].value, int) and isinstance(check["incidents"]["D2"].value, int)
    assert check["incidents"]["E2"].value.endswith(" = " + cb.variable("incidents", "district").labels.get(
        frames["incidents"].loc[0, "district"], "Not documented"))
    assert check["incidents"]["E3"].value == frames["incidents"].loc[1, "district"]
    assert check["incidents"]["N3"].value is None or frames["incidents"].loc[1, "condoms_confiscated"] != "-9"

    result = validate_tables(load_coded_tables(path))
    assert result.exit_code == 0, result.summary()
    assert result.errors.empty
    expected = validate_tables(tables_from_frames(frames, source="frames"))
    for t in DATA_SHEETS:
        assert len(result.valid[t]) == len(frames[t]) > 0
        assert result.valid[t].equals(expected.valid[t]), t


def test_filled_template_with_one_wrong_code_gives_exactly_that_error(template_bytes, frames, cb, tmp_path):
    persons = frames["persons"]
    charged = set(frames["charges"]["person_code"])
    i = next(k for k in range(len(persons)) if persons.loc[k, "person_code"] not in charged)
    persons.loc[i, "gender_identity"] = "femal"
    path = tmp_path / "wrong.xlsx"
    path.write_bytes(fill_template(template_bytes, frames, cb))
    result = validate_tables(load_coded_tables(path))
    assert result.exit_code == 1
    got = result.errors[["sheet", "row", "variable", "value", "rule"]].to_dict("records")
    assert got == [{"sheet": "persons", "row": i + 2, "variable": "gender_identity", "value": "femal",
                    "rule": "unknown_code"}]
    assert result.accounting()["rejected_rows"].tolist() == [0, 1, 0, 0]


def test_template_command_writes_the_same_bytes(tmp_path, cb, cfg, capsys):
    out = tmp_path / "sub" / "template.xlsx"
    assert main(["template", str(out), "--rows", str(ROWS)]) == 0
    assert out.read_bytes() == template_workbook(cb, cfg, rows=ROWS)
    assert "Wrote the coding template (codebook 2.0.0, validation on rows 2-400)" in capsys.readouterr().out
    assert main(["template", str(tmp_path / "template.csv")]) == 2
    assert "give a file name ending in .xlsx" in capsys.readouterr().err
