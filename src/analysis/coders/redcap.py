"""REDCap, both directions: the names this module had before the split, re-exported from their new places.

- :mod:`analysis.scheme.redcap_fields`       the codebook's field names in REDCap (shared by both directions)
- :mod:`analysis.coders.redcap_dictionary`   the data dictionary, repeating instruments, set-up notes
- :mod:`analysis.intake.redcap_import`       a records export back to the three coded tables

Kept so the command line keeps working until it imports from the new places (branch i10-pipeline).
"""

from __future__ import annotations

from ..intake.redcap_import import import_records, read_records_csv, unrecognised_columns
from ..scheme.redcap_fields import (
    MAIN_INSTRUMENT,
    REDCAP_SYSTEM_COLUMNS,
    RENAMED,
    REPEAT_INSTANCE,
    REPEAT_INSTRUMENT,
    checkbox_column,
    field_names,
    is_record_id,
    record_id_field,
)
from .redcap_dictionary import (
    DICTIONARY_COLUMNS,
    REPEAT_LABELS,
    branching_logic,
    choices_string,
    data_dictionary,
    dictionary_csv,
    field_type,
    records_export,
    repeating_instruments,
    setup_notes,
    uses_missing_data_code,
)

__all__ = [
    "DICTIONARY_COLUMNS", "MAIN_INSTRUMENT", "REDCAP_SYSTEM_COLUMNS", "RENAMED", "REPEAT_INSTANCE",
    "REPEAT_INSTRUMENT", "REPEAT_LABELS", "branching_logic", "checkbox_column", "choices_string",
    "data_dictionary", "dictionary_csv", "field_names", "field_type", "import_records", "is_record_id",
    "read_records_csv", "record_id_field", "records_export", "repeating_instruments", "setup_notes",
    "unrecognised_columns", "uses_missing_data_code",
]
