"""Every supported form of the public SFPD incident data, declared as data: the one place schemas differ.

Each entry of :data:`FORMATS` says how one source form is recognised (``required`` columns: a file is that
form when it has all of them; the form with the most required columns found wins) and how its columns map
onto the standard frame (``columns``: standard name -> source column). The loader (:mod:`.load`) reads this
table and nothing else about the sources; adding a source form is an edit here, not new code.

The standard frame (one row per source record; see :data:`STANDARD_COLUMNS` for each column's meaning):

==================  ==========================================================================================
source_format       key of the source form in :data:`FORMATS`
source_file         file name the record came from
source_row          where it is in that file: the spreadsheet row (header = 1) or the JSON record number (1..)
incident_number     SFPD incident number (IncidntNum / Incident Number / police_rec_num); missing in Kaggle
                    rows and daily count tables
record_id           the source's row id (PdId / Row ID / incident_id), when it has one
date                calendar date of the record, as the source gives it (datetime64, day precision)
time                HH:MM, or "" when the source has no time
year, month         calendar year (int) and first day of the month (datetime64) of ``date``
category            SFPD category, upper case (PROSTITUTION ...); "ALL" for the all-categories daily table
subcategory         2018-present dataset only (upper case), else ""
description         SFPD description (Descript / Incident Description), upper case, spaces collapsed
district            police district as the codebook's code (bayview ... tenderloin); "unknown" when blank
                    or not one of the ten districts; "" when the source has no district at all
resolution          SFPD resolution text, upper case ("" when the source has none)
resolution_group    cited | booked | none | other (see :data:`RESOLUTION_GROUPS`); "" when no resolution
address             block or intersection text
latitude/longitude  WGS84 degrees (float; NaN when missing or unparseable)
n_rows              how many offence rows the record stands for: 1 for row-level sources, the day's count
                    for the daily count tables
==================  ==========================================================================================

Counting unit (``unit``): "incident" when the source has incident numbers (count distinct numbers),
"offence_row" when it has none (Kaggle rows: rows stand in for incidents), "daily_count" for aggregates
(sum ``n_rows``; these are offence rows, not incidents).
"""

from __future__ import annotations

STANDARD_COLUMNS: dict[str, str] = {
    "source_format": "key of the source form (see FORMATS)",
    "source_file": "file name the record came from",
    "source_row": "spreadsheet row (header = 1) or JSON record number",
    "incident_number": "SFPD incident number; <NA> when the source has none",
    "record_id": "the source's row id (PdId, Row ID, incident_id); <NA> when none",
    "date": "calendar date of the record (datetime64, day precision)",
    "time": "HH:MM or empty",
    "year": "calendar year of date",
    "month": "first day of the month of date",
    "category": "SFPD category, upper case",
    "subcategory": "SFPD subcategory (2018-present dataset), upper case, else empty",
    "description": "SFPD description (Descript), upper case, spaces collapsed",
    "district": "codebook district code; 'unknown' when blank or not an SFPD district; empty when the source has none",
    "resolution": "SFPD resolution, upper case; empty when the source has none",
    "resolution_group": "cited | booked | none | other (cited_or_booked, resolved for sources that cannot tell)",
    "address": "block or intersection",
    "latitude": "latitude (float)",
    "longitude": "longitude (float)",
    "n_rows": "offence rows the record stands for (1, or the day's count in a daily table)",
}

# The DataSF tmnf-yvry resource (Socrata). Used by .fetch.
DATASF_DOMAIN = "data.sfgov.org"
DATASF_HISTORICAL_DATASET = "tmnf-yvry"
DATASF_HISTORICAL_YEARS = (2003, 2018)  # tmnf-yvry covers 2003 to May 2018

# Rows of interest: the PROSTITUTION category, or a category / description naming human trafficking.
# The same rule builds the download query (.fetch) and filters a loaded all-categories file (.load).
PROSTITUTION_FILTER = {
    "categories": ["PROSTITUTION"],
    "text_contains": ["HUMAN TRAFFICKING"],  # searched in category and description
}

# Descriptions of the sampling frame beyond "PROST" (issue 14): counted apart, so the frame says what it holds.
FRAME_OTHER_DESCRIPTIONS = ("HUMAN TRAFFICKING", "PIMPING", "PANDERING")

_DATASF_DATE_FORMATS = ["%m/%d/%Y", "%Y-%m-%d", "%Y-%m-%dT%H:%M:%S.%f", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"]
_2018_DATETIME_FORMATS = [
    "%Y/%m/%d %I:%M:%S %p", "%Y/%m/%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S.%f", "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M:%S", "%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y %H:%M",
]

FORMATS: dict[str, dict] = {
    "datasf_csv": {
        "label": "DataSF historical incidents CSV export (tmnf-yvry, 2003 to May 2018)",
        "required": ["IncidntNum", "Category", "Descript", "DayOfWeek", "Date", "Time", "PdDistrict",
                     "Resolution", "Address", "X", "Y"],
        "columns": {"incident_number": "IncidntNum", "record_id": "PdId", "category": "Category",
                    "description": "Descript", "date": "Date", "time": "Time", "district": "PdDistrict",
                    "resolution": "Resolution", "address": "Address", "longitude": "X", "latitude": "Y"},
        "date_formats": _DATASF_DATE_FORMATS,
        "unit": "incident",
        "limitation": "One row per offence code: count distinct IncidntNum for incidents.",
    },
    "socrata_json": {
        "label": "DataSF Socrata API / JSON export of tmnf-yvry (lower-case field names)",
        "required": ["incidntnum", "category", "descript", "date", "pddistrict", "resolution"],
        "columns": {"incident_number": "incidntnum", "record_id": "pdid", "category": "category",
                    "description": "descript", "date": "date", "time": "time", "district": "pddistrict",
                    "resolution": "resolution", "address": "address", "longitude": "x", "latitude": "y"},
        "date_formats": _DATASF_DATE_FORMATS,
        "unit": "incident",
        "limitation": "One row per offence code: count distinct incidntnum for incidents.",
    },
    "datasf_2018_csv": {
        "label": "DataSF incident reports 2018 to present (wg3w-h783) CSV export",
        "required": ["Incident Datetime", "Incident Date", "Incident Number", "Incident Category",
                     "Incident Subcategory", "Incident Description", "Resolution", "Police District"],
        "columns": {"incident_number": "Incident Number", "record_id": "Row ID", "category": "Incident Category",
                    "subcategory": "Incident Subcategory", "description": "Incident Description",
                    "datetime": "Incident Datetime", "district": "Police District", "resolution": "Resolution",
                    "address": "Intersection", "latitude": "Latitude", "longitude": "Longitude"},
        "date_formats": _2018_DATETIME_FORMATS,
        "unit": "incident",
        "limitation": "From 2018, another records system with other categories and resolutions: not directly "
                      "comparable with tmnf-yvry (2003 to May 2018).",
    },
    "socrata_2018_json": {
        "label": "DataSF incident reports 2018 to present (wg3w-h783), Socrata API / JSON field names",
        "required": ["incident_datetime", "incident_number", "incident_category", "incident_description",
                     "resolution", "police_district"],
        "columns": {"incident_number": "incident_number", "record_id": "row_id", "category": "incident_category",
                    "subcategory": "incident_subcategory", "description": "incident_description",
                    "datetime": "incident_datetime", "district": "police_district", "resolution": "resolution",
                    "address": "intersection", "latitude": "latitude", "longitude": "longitude"},
        "date_formats": _2018_DATETIME_FORMATS,
        "unit": "incident",
        "limitation": "From 2018, another records system with other categories and resolutions: not directly "
                      "comparable with tmnf-yvry (2003 to May 2018).",
    },
    "kaggle": {
        "label": "Kaggle 'San Francisco Crime Classification' training rows (train.csv)",
        "required": ["Dates", "Category", "Descript", "DayOfWeek", "PdDistrict", "Resolution", "Address", "X", "Y"],
        "columns": {"category": "Category", "description": "Descript", "datetime": "Dates",
                    "district": "PdDistrict", "resolution": "Resolution", "address": "Address",
                    "longitude": "X", "latitude": "Y"},
        "date_formats": ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%m/%d/%Y %H:%M"],
        "unit": "offence_row",
        "limitation": "Alternate weeks only (Kaggle's training split, about half of each year; 2015 only "
                      "5 Jan-13 May): use for within-year shares, never as totals. No incident number: rows "
                      "stand in for incidents.",
    },
    "daily_counts": {
        "label": "Daily counts of DataSF rows (Date, Solved, Not Solved)",
        "required": ["Date", "Solved", "Not Solved"],
        "columns": {"date": "Date"},
        "counts": {"resolved": "Solved", "none": "Not Solved"},
        "date_formats": ["%Y-%m-%d", "%m/%d/%Y"],
        "unit": "daily_count",
        "limitation": "Counts of offence rows, not incidents. Dates are shifted by +12 h (date D covers D-1 "
                      "12:00 to D 11:59). Days with no rows may be absent (read as 0). No description, "
                      "district or location.",
    },
    "incident_table": {
        "label": "One row per SF prostitution incident (Safework-Project incidents table, 2008 to May 2018)",
        "required": ["police_rec_num", "date", "time", "description", "city"],
        "columns": {"incident_number": "police_rec_num", "record_id": "incident_id", "date": "date", "time": "time",
                    "description": "description", "address": "address", "latitude": "latitude",
                    "longitude": "longitude"},
        "constants": {"category": "PROSTITUTION"},
        "keep_rows": {"city": "San Francisco"},
        "frame_lower_bound": "this file has only descriptions containing 'PROST': human-trafficking, pimping and "
                             "pandering incidents are not in it, so its incidents per year are a lower bound of "
                             "the sampling frame",
        "date_formats": ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d"],
        "unit": "incident",
        "limitation": "One row per incident with only its first description; only descriptions containing "
                      "'PROST' (no PIMPING, PANDERING or HUMAN TRAFFICKING); no district and no resolution; "
                      "2008 to 12 May 2018; New York rows from another feed are dropped (city filter).",
    },
}

# Resolution text -> group. Anything not listed is "other". Declared groups, in table order.
RESOLUTION_GROUPS: dict[str, str] = {
    "cited": "Cited (arrest, cited; juvenile cited)",
    "booked": "Booked (arrest, booked; juvenile booked)",
    "none": "No resolution (NONE)",
    "other": "Other (unfounded, located, exceptional clearance, prosecuted elsewhere, refused, ...)",
    "cited_or_booked": "Cited or arrested, not told apart (2018-present dataset only)",
    "resolved": "Any resolution other than NONE (daily count tables only)",
}
RESOLUTION_MAP: dict[str, str] = {
    "ARREST, CITED": "cited",
    "JUVENILE CITED": "cited",
    "ARREST, BOOKED": "booked",
    "JUVENILE BOOKED": "booked",
    "NONE": "none",
    # the 2018-present dataset
    "OPEN OR ACTIVE": "none",
    "CITE OR ARREST ADULT": "cited_or_booked",
    "CITE OR ARREST JUVENILE": "cited_or_booked",
}
# The groups of the before/after resolution table (tmnf-yvry row-level sources).
RESOLUTION_TABLE_GROUPS = ("cited", "booked", "none", "other")

# District text as SFPD writes it -> codebook district code: the codebook's ten districts, matched on
# their label in upper case. Anything else (blank, OUT OF SF, ...) is "unknown".
UNKNOWN_DISTRICT = "unknown"
