"""The codebook as a REDCap project: the data dictionary, the repeating-instrument settings and the set-up notes.

Design (also written into the manual, docs/codebook.md, by :func:`setup_notes`):

* Instruments and field names (shared with the import, :mod:`analysis.intake.redcap_import`) are
  :mod:`analysis.scheme.redcap_fields`: ``persons``, ``charges`` and ``outcomes`` are repeating instruments of
  the report (:func:`repeating_instruments` sets that through the API), and any clash of names is renamed in
  one place.
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

import re

import pandas as pd

from ..scheme.codebook import NOT_APPLICABLE, NOT_DOCUMENTED, TABLES, Codebook, Variable, load_codebook
from ..scheme.config import StudyConfig, load_study_config
from ..scheme.redcap_fields import (
    MAIN_INSTRUMENT,
    REPEAT_INSTANCE,
    REPEAT_INSTRUMENT,
    checkbox_column,
    field_names,
    in_words,
    record_id_field,
)

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
# the repeating instruments' labels in REDCap (piped from their fields)
REPEAT_LABELS = {"persons": "[person_code]", "charges": "[charge_person_code]: [statute]",
                 "outcomes": "[outcome_person_code]: [disposition]"}

_RAW_CODE = re.compile(r"^(-?[0-9]+|[a-z0-9_]+)$")


# --- fields and choices ------------------------------------------------------------------------------------


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
            elif v.type == "date":  # a date that follows the incident may fall in any later year: no maximum
                row["Text Validation Type OR Show Slider Number"] = "date_ymd"
                row["Text Validation Min"] = f"{min(years)}-01-01"
                row["Text Validation Max"] = "" if v.not_before else f"{max(years)}-12-31"
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
        f"Make {in_words([f'`{t}`' for t in repeating])} repeating instruments: Project Setup > Enable optional "
        "modules > Repeating instruments and events > tick "
        + in_words([f"`{t}` (custom label `{REPEAT_LABELS[t]}`)" for t in repeating])
        + ". A data dictionary cannot say this. The `redcap-dictionary` command also writes "
        "`<name>_repeating_instruments.csv`, which sets the same through the API method 'Import Repeating "
        "Instruments and Events'.",
        f"Add the missing data code `{NOT_DOCUMENTED}, {cb.missing_labels[NOT_DOCUMENTED]}` (Project Setup > "
        "Additional customizations > Missing Data Codes). It is used only where a text, date or number field accepts -8 ("
        + ", ".join(f"`{m}`" for m in mdc) + "); every other field has `@NOMISSING`, and coded fields list -8 "
        "(Not documented) as a choice.",
        "-9 (not applicable) is never entered: branching logic hides a skipped field, its export is blank, and "
        "the validator reads a blank skipped field as -9.",
        "Field names are unique across a REDCap project: "
        + in_words([f"`{t}.{rid}`" for t in repeating]) + " are the record id, not fields"
        + (f"; {'; '.join(renamed)}" if renamed else "") + ".",
        f"{in_words([f'`{t}`' for t in cb.optional_tables])} may stay empty: coded data without them is analysed "
        "without them (the import leaves such a table out when the export has none of its fields).",
        "Codes are REDCap raw values as they stand (lowercase letters, digits and underscores; -8). Checkbox "
        "options export as `<field>___<code>`, REDCap turning '-' into '_' (the -8 option is `<field>____8`). "
        "Options that must stand alone carry `@NONEOFTHEABOVE`.",
        "Export the records as CSV, raw data, variable names as headers (not labels), all instruments; then run "
        "`python -m analysis import-redcap EXPORT.csv --out FOLDER`.",
    ]


# --- a records export, as REDCap would give it (to test the import) ----------------------------------------


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
