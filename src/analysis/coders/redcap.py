"""The codebook as a REDCap project, and REDCap record exports back to the three coded tables.

Design (also written into the manual, docs/codebook.md, by :func:`setup_notes`):

* Instruments: ``incidents`` is the main instrument; ``persons`` and ``charges`` are *repeating instruments*
  of the same record (the report). A data dictionary cannot declare an instrument repeating: that is a project
  setting (Project Setup > "Repeating instruments and events"), or an API import of
  :func:`repeating_instruments` (method "Import Repeating Instruments and Events").
* Field names: REDCap field names are unique across the project. The record id field is ``report_id`` (first
  field of the first instrument); ``persons.report_id`` and ``charges.report_id`` *are* the record id, so they
  are not fields. Any other clash is renamed in :data:`RENAMED` (the one place): ``charges.person_code`` is the
  field ``charge_person_code``.
* Codes: the codebook's codes are REDCap raw values as they stand (lowercase letters, digits and underscores,
  or a negative whole number for -8); REDCap accepts letters in raw values, so no numeric re-coding is needed.
  Checkbox options export as ``<field>___<code>``, with REDCap's own rule that '-' becomes '_' (so the -8
  option of ``investigating_unit`` exports as ``investigating_unit____8``).
* Missing codes: -8 (not documented) is an explicit choice of radio and checkbox fields that accept it. For
  text, date and whole-number fields that accept -8 it is the project's *Missing Data Code* ``-8, Not
  documented`` (the 'M' button; REDCap stores the code as the value); every other field carries ``@NOMISSING``.
  -9 (not applicable) is never entered: skip logic is REDCap branching logic, a hidden field stays blank, and
  the validator reads a blank skipped field as -9.
* Options that must stand alone (``none``, -8 in a checkbox field) carry ``@NONEOFTHEABOVE``.
* ``report_year`` (allowed values from the study configuration) is a radio field of the sampled years.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

import pandas as pd

from ..intake.problems import UnusableInputError, problem
from ..scheme.codebook import (
    NOT_APPLICABLE,
    NOT_DOCUMENTED,
    TABLES,
    Codebook,
    Variable,
    load_codebook,
)
from ..scheme.config import StudyConfig, load_study_config

DICTIONARY_COLUMNS = [
    "Variable / Field Name",
    "Form Name",
    "Section Header",
    "Field Type",
    "Field Label",
    "Choices, Calculations, OR Slider Labels",
    "Field Note",
    "Text Validation Type OR Show Slider Number",
    "Text Validation Min",
    "Text Validation Max",
    "Identifier?",
    "Branching Logic (Show field only if...)",
    "Required Field?",
    "Custom Alignment",
    "Question Number (surveys only)",
    "Matrix Group Name",
    "Matrix Ranking?",
    "Field Annotation",
]

MAIN_INSTRUMENT = "incidents"
REPEAT_INSTRUMENT = "redcap_repeat_instrument"
REPEAT_INSTANCE = "redcap_repeat_instance"
# columns REDCap may add to a records export that are not fields
REDCAP_SYSTEM_COLUMNS = {
    REPEAT_INSTRUMENT, REPEAT_INSTANCE, "redcap_event_name", "redcap_data_access_group",
    "redcap_survey_identifier",
}
# the one place where a codebook variable gets a different REDCap field name (names must be unique)
RENAMED = {("charges", "person_code"): "charge_person_code"}
# the repeating instruments' labels in REDCap (piped from their fields)
REPEAT_LABELS = {"persons": "[person_code]", "charges": "[charge_person_code]: [statute]"}

_FIELD_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_RAW_CODE = re.compile(r"^(-?[0-9]+|[a-z0-9_]+)$")


# --- names and codes ---------------------------------------------------------------------------------------


def record_id_field(cb: Codebook) -> str:
    return cb.table(MAIN_INSTRUMENT).key


def is_record_id(var: Variable, cb: Codebook) -> bool:
    """True for the record id itself and for the variables in repeating tables that point at it."""
    rid = record_id_field(cb)
    if var.table == MAIN_INSTRUMENT:
        return var.name == rid
    return var.references == f"{MAIN_INSTRUMENT}.{rid}"


def field_names(cb: Codebook) -> dict[tuple[str, str], str | None]:
    """(table, variable) -> REDCap field name; None for the repeating tables' record id columns.

    Raises ValueError when two variables would share a field name or a name is not a valid REDCap name.
    """
    out: dict[tuple[str, str], str | None] = {}
    seen: dict[str, str] = {}
    problems = []
    for t in TABLES:
        for v in cb.table(t).variables:
            if is_record_id(v, cb) and t != MAIN_INSTRUMENT:
                out[(t, v.name)] = None
                continue
            name = RENAMED.get((t, v.name), v.name)
            if name in seen:
                problems.append(f"{t}.{v.name} and {seen[name]} would both be the REDCap field '{name}'; "
                                "add one of them to RENAMED in redcap.py")
            if not _FIELD_NAME.match(name) or "___" in name:
                problems.append(f"{t}.{v.name}: '{name}' is not a valid REDCap field name (lowercase letters, "
                                "digits and underscores, starting with a letter, never three underscores in a row)")
            seen[name] = f"{t}.{v.name}"
            out[(t, v.name)] = name
    if problems:
        raise ValueError("; ".join(problems))
    return out


def checkbox_column(field: str, code: str) -> str:
    """The export column of one checkbox option: REDCap lower-cases the code and turns '-' into '_'."""
    return f"{field}___{code.lower().replace('-', '_')}"


def _choice_codes(var: Variable, cb: Codebook, cfg: StudyConfig) -> list[tuple[str, str]]:
    """(raw value, label) of a radio or checkbox field, -8 included where the variable accepts it."""
    if var.type == "integer" and var.allowed_from_config == "sampled_years":
        return [(str(y), str(y)) for y in cfg.sampled_years]
    out = [(c.code, c.label) for c in var.codes]
    if NOT_DOCUMENTED in var.missing:
        out.append((NOT_DOCUMENTED, cb.missing_labels[NOT_DOCUMENTED]))
    return out


def field_type(var: Variable) -> str:
    if var.type == "code" or (var.type == "integer" and var.allowed_from_config):
        return "radio"
    if var.type == "multi":
        return "checkbox"
    return "text"


def uses_missing_data_code(var: Variable) -> bool:
    """True when -8 is entered with REDCap's Missing Data Code button (non-coded fields that accept -8)."""
    return field_type(var) == "text" and NOT_DOCUMENTED in var.missing


def choices_string(pairs: list[tuple[str, str]], where: str = "") -> str:
    """REDCap's ``code, label | code, label`` (raises ValueError for codes or labels REDCap cannot take)."""
    for code, label in pairs:
        if not _RAW_CODE.match(code):
            raise ValueError(f"{where}: code '{code}' cannot be a REDCap raw value (lowercase letters, digits and "
                             "underscores, or a whole number)")
        if "|" in label:
            raise ValueError(f"{where}: the label of '{code}' contains '|', which REDCap uses between choices")
    return " | ".join(f"{code}, {label}" for code, label in pairs)


def branching_logic(var: Variable, cb: Codebook, names: dict[tuple[str, str], str | None]) -> str:
    """The codebook's skip logic as REDCap branching logic."""
    parts = []
    for cond in var.show_if:
        parent = cb.variable(var.table, cond.variable)
        pname = names[(var.table, cond.variable)]
        if parent.type == "multi":
            terms = [f"[{pname}({v})] = '1'" for v in cond.values]
        else:
            terms = [f"[{pname}] = '{v}'" for v in cond.values]
        term = " or ".join(terms)
        parts.append(f"({term})" if len(terms) > 1 and len(var.show_if) > 1 else term)
    return " and ".join(parts)


def _annotation(var: Variable, cb: Codebook) -> str:
    tags = []
    if not uses_missing_data_code(var):
        tags.append("@NOMISSING")
    if var.type == "multi":
        alone = [*var.exclusive, *([NOT_DOCUMENTED] if NOT_DOCUMENTED in var.missing else [])]
        if alone:
            tags.append(f"@NONEOFTHEABOVE='{','.join(alone)}'")
    return " ".join([f"Codebook {cb.version}: {var.table}.{var.name}", *tags])


# --- the data dictionary -----------------------------------------------------------------------------------


def data_dictionary(codebook: Codebook | None = None, config: StudyConfig | None = None) -> pd.DataFrame:
    """The REDCap data dictionary: one row per field, the 18 columns of :data:`DICTIONARY_COLUMNS`."""
    cb = codebook or load_codebook()
    cfg = config or load_study_config()
    names = field_names(cb)
    years = cfg.sampled_years
    rows = []
    for t in TABLES:
        table = cb.table(t)
        first = True
        for v in table.variables:
            name = names[(t, v.name)]
            if name is None:
                continue
            row = dict.fromkeys(DICTIONARY_COLUMNS, "")
            ftype = field_type(v)
            note = v.definition
            if uses_missing_data_code(v):
                note += " Not documented: use the M button (missing data code -8)."
            row.update({
                "Variable / Field Name": name,
                "Form Name": t,
                "Section Header": table.description if first else "",
                "Field Type": ftype,
                "Field Label": v.label,
                "Field Note": note,
                "Identifier?": "y" if v.identifier else "",
                "Branching Logic (Show field only if...)": branching_logic(v, cb, names),
                "Required Field?": "y" if v.required else "",
                "Field Annotation": _annotation(v, cb),
            })
            if ftype in {"radio", "checkbox"}:
                pairs = _choice_codes(v, cb, cfg)
                row["Choices, Calculations, OR Slider Labels"] = choices_string(pairs, f"{t}.{v.name}")
            elif v.type == "date":
                row["Text Validation Type OR Show Slider Number"] = "date_ymd"
                row["Text Validation Min"] = f"{min(years)}-01-01"
                row["Text Validation Max"] = f"{max(years)}-12-31"
            elif v.type == "integer":
                row["Text Validation Type OR Show Slider Number"] = "integer"
                row["Text Validation Min"] = f"{v.min:g}"
                row["Text Validation Max"] = f"{v.max:g}"
            rows.append(row)
            first = False
    return pd.DataFrame(rows, columns=DICTIONARY_COLUMNS)


def dictionary_csv(dictionary: pd.DataFrame) -> str:
    """The dictionary as the CSV text REDCap's Data Dictionary upload takes."""
    return dictionary.to_csv(index=False, lineterminator="\n")


def repeating_instruments(codebook: Codebook | None = None) -> pd.DataFrame:
    """The repeating-instrument settings (form_name, custom_form_label), as the REDCap API imports them."""
    cb = codebook or load_codebook()
    fields = {n for n in field_names(cb).values() if n}
    forms = [t for t in TABLES if t != MAIN_INSTRUMENT]
    for t in forms:
        unknown = set(re.findall(r"\[([^\]]+)\]", REPEAT_LABELS.get(t, ""))) - fields
        if unknown:
            raise ValueError(f"REPEAT_LABELS['{t}'] pipes unknown field(s) {', '.join(sorted(unknown))}")
    return pd.DataFrame({"form_name": forms, "custom_form_label": [REPEAT_LABELS.get(t, "") for t in forms]})


def setup_notes(codebook: Codebook | None = None) -> list[str]:
    """How to set the REDCap project up around the dictionary (printed by the command, written in the manual)."""
    cb = codebook or load_codebook()
    names = field_names(cb)
    rid = record_id_field(cb)
    repeating = [t for t in TABLES if t != MAIN_INSTRUMENT]
    renamed = [f"`{t}.{v}` is the field `{n}`" for (t, v), n in names.items() if n is not None and n != v]
    mdc = [f"{t}.{v.name}" for t in TABLES for v in cb.table(t).variables if uses_missing_data_code(v)]
    return [
        f"Upload the dictionary (Project Setup > Data Dictionary). `{rid}` is the record id and must stay the "
        f"first field; `{MAIN_INSTRUMENT}` is the main instrument (one per report).",
        f"Make {' and '.join(f'`{t}`' for t in repeating)} repeating instruments: Project Setup > Enable optional "
        "modules > Repeating instruments and events > tick "
        + " and ".join(f"`{t}` (custom label `{REPEAT_LABELS[t]}`)" for t in repeating)
        + ". A data dictionary cannot say this. The `redcap-dictionary` command also writes "
        "`<name>_repeating_instruments.csv`, which sets the same through the API method 'Import Repeating "
        "Instruments and Events'.",
        f"Add the missing data code `{NOT_DOCUMENTED}, {cb.missing_labels[NOT_DOCUMENTED]}` (Project Setup > "
        "Additional customizations > Missing Data Codes). It is used only where a text, date or number field accepts -8 ("
        + ", ".join(f"`{m}`" for m in mdc) + "); every other field has `@NOMISSING`, and coded fields list -8 "
        "(Not documented) as a choice.",
        "-9 (not applicable) is never entered: branching logic hides a skipped field, its export is blank, and "
        "the validator reads a blank skipped field as -9.",
        f"Field names are unique across a REDCap project: `persons.{rid}` and `charges.{rid}` are the record id, "
        "not fields" + (f"; {'; '.join(renamed)}" if renamed else "") + ".",
        "Codes are REDCap raw values as they stand (lowercase letters, digits and underscores; -8). Checkbox "
        "options export as `<field>___<code>`, REDCap turning '-' into '_' (the -8 option is `<field>____8`). "
        "Options that must stand alone carry `@NONEOFTHEABOVE`.",
        "Export the records as CSV, raw data, variable names as headers (not labels), all instruments; then run "
        "`python -m analysis import-redcap EXPORT.csv --out FOLDER`.",
    ]


# --- records exports ---------------------------------------------------------------------------------------


def read_records_csv(data: bytes, source: str = "<export>") -> pd.DataFrame:
    """Read a REDCap records export (CSV) as text; raises UnusableInputError when it is not a readable CSV."""
    if not data.strip():
        raise UnusableInputError([problem(
            "not_a_table", "the file is empty; export the records from REDCap as CSV (raw data)", file=source)])
    if data[:4] == b"PK\x03\x04" or b"\x00" in data[:65536]:
        raise UnusableInputError([problem(
            "not_a_table", "this is not a CSV file; export the records from REDCap as 'CSV / "
            "Microsoft Excel (raw data)'", file=source)])
    from ..intake.load import decode_text

    text = decode_text(data)
    try:
        return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, na_filter=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise UnusableInputError([problem(
            "not_a_table", f"not a readable CSV table ({exc})", file=source)]) from None


@dataclass(frozen=True)
class _Column:
    table: str
    variable: Variable
    field: str


def _layout(cb: Codebook) -> list[_Column]:
    names = field_names(cb)
    return [_Column(t, v, names[(t, v.name)]) for t in TABLES for v in cb.table(t).variables
            if names[(t, v.name)] is not None]


def unrecognised_columns(export: pd.DataFrame, codebook: Codebook | None = None) -> list[str]:
    """Export columns that are neither codebook fields nor REDCap's own columns (ignored by the import)."""
    cb = codebook or load_codebook()
    known = set(REDCAP_SYSTEM_COLUMNS) | {f"{t}_complete" for t in TABLES}
    for col in _layout(cb):
        if col.variable.type == "multi":
            known |= {checkbox_column(col.field, c) for c in [*col.variable.code_values, NOT_DOCUMENTED,
                                                               NOT_APPLICABLE]}
        else:
            known.add(col.field)
    return [c for c in export.columns if c not in known]


def import_records(
    export: pd.DataFrame, codebook: Codebook | None = None, source: str = "<export>"
) -> dict[str, pd.DataFrame]:
    """The three coded tables (text, codebook columns) from a REDCap raw records export.

    Checkbox fields (``<field>___<code>`` columns of 0/1) become ``code;code`` cells in codebook order; a field
    hidden by branching logic is blank (the validator reads a blank skipped field as -9). Rows keep the
    export's order. Raises UnusableInputError when the export is not a raw records export of this project.
    """
    cb = codebook or load_codebook()
    rid = record_id_field(cb)
    cols = [str(c) for c in export.columns]
    where = {"file": source}
    if rid not in cols:
        rid_label = cb.table(MAIN_INSTRUMENT).variable(rid).label
        label_export = bool({"Record ID", "Repeat Instrument", rid_label} & set(cols))
        hint = (" The header holds field labels: export again with 'raw data' and variable names as headers."
                if label_export else
                f" A REDCap records export of this project starts with the record id column '{rid}'.")
        raise UnusableInputError([problem(
            "not_a_redcap_export", f"there is no record id column '{rid}' in the header "
            f"({', '.join(cols[:6])}{'...' if len(cols) > 6 else ''}).{hint}", variable=rid, **where)])
    missing_sys = [c for c in (REPEAT_INSTRUMENT, REPEAT_INSTANCE) if c not in cols]
    if missing_sys:
        raise UnusableInputError([problem(
            "not_a_redcap_export", f"the {'columns' if len(missing_sys) > 1 else 'column'} "
            f"{' and '.join(missing_sys)} {'are' if len(missing_sys) > 1 else 'is'} missing, so the "
            "people and charges cannot be told apart from the reports. Export all instruments of a project where "
            "persons and charges are repeating instruments (see docs/codebook.md, REDCap).", **where)])
    layout = _layout(cb)
    absent = []
    for col in layout:
        if col.variable.type == "multi":
            need = [checkbox_column(col.field, c) for c in col.variable.code_values]
            absent += [n for n in need if n not in cols]
        elif col.field not in cols:
            absent.append(col.field)
    if absent:
        raise UnusableInputError([problem(
            "missing_column", f"the export lacks field(s) {', '.join(absent)}. Export all instruments "
            "and fields (raw data), from a project built from this codebook's REDCap dictionary.",
            variable=", ".join(absent), **where)])
    instrument = export[REPEAT_INSTRUMENT].astype(str).str.strip()
    repeating = [t for t in TABLES if t != MAIN_INSTRUMENT]
    unknown = sorted(set(instrument) - {"", *repeating})
    if unknown:
        raise UnusableInputError([problem(
            "not_a_redcap_export", f"unknown repeating instrument(s) {', '.join(unknown)}; expected "
            f"{' and '.join(repeating)}.", **where)])
    out = {}
    for t in TABLES:
        rows = export[instrument == ("" if t == MAIN_INSTRUMENT else t)]
        frame = {}
        for v in cb.table(t).variables:
            col = next((c for c in layout if c.table == t and c.variable.name == v.name), None)
            if col is None:  # the record id of a repeating table
                frame[v.name] = rows[rid].astype(str).str.strip().to_numpy()
            elif v.type == "multi":
                frame[v.name] = _join_checkboxes(rows, col, cb)
            else:
                frame[v.name] = rows[col.field].astype(str).str.strip().to_numpy()
        out[t] = pd.DataFrame(frame, columns=cb.table(t).columns, dtype=object).reset_index(drop=True)
    return out


def _join_checkboxes(rows: pd.DataFrame, col: _Column, cb: Codebook) -> list[str]:
    options = [*col.variable.code_values, NOT_DOCUMENTED, NOT_APPLICABLE]
    present = [(code, checkbox_column(col.field, code)) for code in options
               if checkbox_column(col.field, code) in rows.columns]
    ticked = {code: rows[c].astype(str).str.strip() == "1" for code, c in present}
    out = []
    for i in range(len(rows)):
        out.append(cb.separator.join(code for code, _ in present if ticked[code].iat[i]))
    return out


def records_export(frames: dict[str, pd.DataFrame], dictionary: pd.DataFrame,
                   codebook: Codebook | None = None) -> pd.DataFrame:
    """Build the raw records export REDCap would give for coded tables entered in a project made from
    ``dictionary`` (used to test the import; tables as text, canonical codes).

    Columns: the fields in dictionary order (checkbox fields as one 0/1 column per choice), the repeat columns
    after the record id, and ``<form>_complete`` after each form's fields. One row per report (the main
    instrument) followed by its persons then its charges, numbered from 1 within the report. A value of -9 is
    a field hidden by branching logic: blank (checkboxes 0). -8 in a text/date/number field is the missing
    data code, stored as -8.
    """
    cb = codebook or load_codebook()
    names = field_names(cb)
    rid = record_id_field(cb)
    var_of = {n: (t, v) for (t, v), n in names.items() if n is not None}
    columns: list[str] = []
    spec: list[tuple[str, str, str, str | None]] = []  # (column, table, variable, checkbox code)
    forms: list[str] = []
    for _, d in dictionary.iterrows():
        field, form = d["Variable / Field Name"], d["Form Name"]
        if forms and forms[-1] != form:
            columns.append(f"{forms[-1]}_complete")
            spec.append((columns[-1], forms[-1], "", None))
        if not forms or forms[-1] != form:
            forms.append(form)
        t, v = var_of[field]
        if d["Field Type"] == "checkbox":
            for choice in d["Choices, Calculations, OR Slider Labels"].split(" | "):
                code = choice.split(",", 1)[0].strip()
                columns.append(checkbox_column(field, code))
                spec.append((columns[-1], t, v, code))
        else:
            columns.append(field)
            spec.append((field, t, v, None))
        if field == rid:
            columns += [REPEAT_INSTRUMENT, REPEAT_INSTANCE]
            spec += [(REPEAT_INSTRUMENT, "", "", None), (REPEAT_INSTANCE, "", "", None)]
    columns.append(f"{forms[-1]}_complete")
    spec.append((columns[-1], forms[-1], "", None))

    def row_for(table: str, values: dict, instance: int | None) -> list[str]:
        out = []
        for column, t, v, code in spec:
            if column == rid:
                out.append(values[rid])
            elif column == REPEAT_INSTRUMENT:
                out.append("" if table == MAIN_INSTRUMENT else table)
            elif column == REPEAT_INSTANCE:
                out.append("" if instance is None else str(instance))
            elif t != table:
                out.append("")
            elif v == "":  # <form>_complete
                out.append("2")
            elif code is not None:
                ticked = values[v].split(cb.separator) if values[v] not in ("", NOT_APPLICABLE) else []
                out.append("1" if code in ticked else "0")
            else:
                out.append("" if values[v] == NOT_APPLICABLE else values[v])
        return out

    by_report: dict[str, dict[str, list[dict]]] = {t: {} for t in TABLES if t != MAIN_INSTRUMENT}
    for t in by_report:
        for rec in frames[t].to_dict("records"):
            by_report[t].setdefault(rec[rid], []).append(rec)
    rows = []
    for rec in frames[MAIN_INSTRUMENT].to_dict("records"):
        rows.append(row_for(MAIN_INSTRUMENT, rec, None))
        for t, groups in by_report.items():
            for k, child in enumerate(groups.get(rec[rid], []), start=1):
                rows.append(row_for(t, child, k))
    return pd.DataFrame(rows, columns=columns, dtype=object)
