"""The codebook's names in REDCap, shared by both directions: the data dictionary made from the codebook
(:mod:`analysis.coders.redcap_dictionary`) and the import of a records export (:mod:`analysis.intake.redcap_import`).

* Instruments: ``incidents`` is the main instrument; ``persons``, ``charges`` and ``outcomes`` are *repeating
  instruments* of the same record (the report). A data dictionary cannot declare an instrument repeating: that is a project
  setting (Project Setup > "Repeating instruments and events"), or an API import of
  :func:`analysis.coders.redcap_dictionary.repeating_instruments` (method "Import Repeating Instruments and
  Events").
* Field names: REDCap field names are unique across the project. The record id field is ``report_id`` (first
  field of the first instrument); the ``report_id`` of the repeating tables *is* the record id, so it is not a
  field. Any other clash is renamed in :data:`RENAMED` (the one place): ``charges.person_code`` is the field
  ``charge_person_code``, ``outcomes.person_code`` the field ``outcome_person_code``.
* Checkbox options export as ``<field>___<code>``, with REDCap's own rule that '-' becomes '_' (so the -8
  option of ``investigating_unit`` exports as ``investigating_unit____8``).

How codes, missing codes and skip logic become choices, missing data codes and branching logic is written in
:mod:`analysis.coders.redcap_dictionary` (and into the manual, docs/codebook.md, by its ``setup_notes``).
"""

from __future__ import annotations

import re

from .codebook import TABLES, Codebook, Variable

MAIN_INSTRUMENT = "incidents"
REPEAT_INSTRUMENT = "redcap_repeat_instrument"
REPEAT_INSTANCE = "redcap_repeat_instance"
# columns REDCap may add to a records export that are not fields
REDCAP_SYSTEM_COLUMNS = {
    REPEAT_INSTRUMENT, REPEAT_INSTANCE, "redcap_event_name", "redcap_data_access_group",
    "redcap_survey_identifier",
}
# the one place where a codebook variable gets a different REDCap field name (names must be unique)
RENAMED = {("charges", "person_code"): "charge_person_code", ("outcomes", "person_code"): "outcome_person_code"}

_FIELD_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


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
                                "add one of them to RENAMED in scheme/redcap_fields.py")
            if not _FIELD_NAME.match(name) or "___" in name:
                problems.append(f"{t}.{v.name}: '{name}' is not a valid REDCap field name (lowercase letters, "
                                "digits and underscores, starting with a letter, never three underscores in a row)")
            seen[name] = f"{t}.{v.name}"
            out[(t, v.name)] = name
    if problems:
        raise ValueError("; ".join(problems))
    return out


def in_words(items: list[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def checkbox_column(field: str, code: str) -> str:
    """The export column of one checkbox option: REDCap lower-cases the code and turns '-' into '_'."""
    return f"{field}___{code.lower().replace('-', '_')}"
