"""A REDCap raw records export back to the coded tables (text, codebook columns), ready to validate.

The project is the one made from the codebook's REDCap dictionary (:mod:`analysis.coders.redcap_dictionary`);
the field names, the record id and the checkbox columns are :mod:`analysis.scheme.redcap_fields`. A value of -9
is never exported: a field hidden by branching logic is blank, and the validator reads a blank skipped field
as -9.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import pandas as pd

from ..scheme.codebook import NOT_APPLICABLE, NOT_DOCUMENTED, TABLES, Codebook, Variable, load_codebook
from ..scheme.redcap_fields import (
    MAIN_INSTRUMENT,
    REDCAP_SYSTEM_COLUMNS,
    REPEAT_INSTANCE,
    REPEAT_INSTRUMENT,
    checkbox_column,
    field_names,
    in_words,
    record_id_field,
)
from .problems import UnusableInputError, problem


def read_records_csv(data: bytes, source: str = "<export>") -> pd.DataFrame:
    """Read a REDCap records export (CSV) as text; raises UnusableInputError when it is not a readable CSV."""
    if not data.strip():
        raise UnusableInputError([problem(
            "not_a_table", "the file is empty; export the records from REDCap as CSV (raw data)", file=source)])
    if data[:4] == b"PK\x03\x04" or b"\x00" in data[:65536]:
        raise UnusableInputError([problem(
            "not_a_table", "this is not a CSV file; export the records from REDCap as 'CSV / "
            "Microsoft Excel (raw data)'", file=source)])
    from .load import decode_text

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
    """The coded tables (text, codebook columns) from a REDCap raw records export (without ``outcomes`` when the
    export has none of its fields: a project made from an earlier codebook).

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
    needed: dict[str, list[str]] = {t: [] for t in TABLES}
    for col in layout:
        if col.variable.type == "multi":
            needed[col.table] += [checkbox_column(col.field, c) for c in col.variable.code_values]
        else:
            needed[col.table].append(col.field)
    absent_by_table = {t: [n for n in needed[t] if n not in cols] for t in TABLES}
    # an optional table with none of its fields in the export is left out (a project made before it existed)
    left_out = {t for t in cb.optional_tables if needed[t] and absent_by_table[t] == needed[t]}
    absent = [f for t in TABLES if t not in left_out for f in absent_by_table[t]]
    if absent:
        raise UnusableInputError([problem(
            "missing_column", f"the export lacks field(s) {', '.join(absent)}. Export all instruments "
            "and fields (raw data), from a project built from this codebook's REDCap dictionary.",
            variable=", ".join(absent), **where)])
    instrument = export[REPEAT_INSTRUMENT].astype(str).str.strip()
    repeating = [t for t in TABLES if t != MAIN_INSTRUMENT and t not in left_out]
    unknown = sorted(set(instrument) - {"", *repeating})
    if unknown:
        raise UnusableInputError([problem(
            "not_a_redcap_export", f"unknown repeating instrument(s) {', '.join(unknown)}; expected "
            f"{in_words(repeating)}.", **where)])
    out = {}
    for t in (t for t in TABLES if t not in left_out):
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
