"""Loaders of the public SFPD data: every source form into one standard frame; malformed input is a clear error;
the real files' per-year counts match PROVENANCE.md."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from analysis.intake.problems import UnusableInputError
from analysis.public import (
    FORMATS,
    STANDARD_COLUMNS,
    count,
    detect_format,
    load_public,
    load_shared_folder,
    parse_public,
    per_year,
    select_prostitution,
)

DATASF_CSV = """IncidntNum,Category,Descript,DayOfWeek,Date,Time,PdDistrict,Resolution,Address,X,Y,Location,PdId
090215742,PROSTITUTION,SOLICITS FOR ACT OF PROSTITUTION,Saturday,02/28/2009,21:10,MISSION,"ARREST, CITED",MISSION ST / 20TH ST,-122.419,37.758,"(37.758, -122.419)",09021574216010
090215742,PROSTITUTION,LOITERING FOR PURPOSE OF PROSTITUTION,Saturday,02/28/2009,21:10,MISSION,"ARREST, CITED",MISSION ST / 20TH ST,-122.419,37.758,"(37.758, -122.419)",09021574216030
100004411,PROSTITUTION,PIMPING,Friday,01/01/2010,23:55,,NONE,100 Block of EDDY ST,-122.41,37.784,"(37.784, -122.41)",10000441116040
140098210,PROSTITUTION,HUMAN TRAFFICKING,Thursday,01/30/2014,9:05,Tenderloin,JUVENILE BOOKED,0 Block of JONES ST,-122.412,37.781,"(37.781, -122.412)",14009821016110
140098211,LARCENY/THEFT,GRAND THEFT FROM PERSON,Thursday,01/30/2014,10:00,SOUTHERN,NONE,800 Block of MARKET ST,-122.407,37.784,"(37.784, -122.407)",14009821106374
"""


def _csv(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def _messages(exc: pytest.ExceptionInfo) -> list[dict]:
    return exc.value.problems


# --- the standard frame from each form ---------------------------------------------------------------------


def test_datasf_csv_to_the_standard_frame(tmp_path):
    f = load_public(_csv(tmp_path, "datasf.csv", DATASF_CSV))
    assert list(f.columns) == list(STANDARD_COLUMNS)
    assert f.attrs["source_format"] == "datasf_csv" and f.attrs["unit"] == "incident"
    assert f["incident_number"].tolist() == ["090215742", "090215742", "100004411", "140098210", "140098211"]
    assert f["source_row"].tolist() == [2, 3, 4, 5, 6]
    assert f["date"].dt.strftime("%Y-%m-%d").tolist() == ["2009-02-28", "2009-02-28", "2010-01-01", "2014-01-30",
                                                           "2014-01-30"]
    assert f["time"].tolist() == ["21:10", "21:10", "23:55", "09:05", "10:00"]
    # district text -> codebook code, blank -> unknown; resolution -> group
    assert f["district"].tolist() == ["mission", "mission", "unknown", "tenderloin", "southern"]
    assert f["resolution_group"].tolist() == ["cited", "cited", "none", "booked", "none"]
    assert f["latitude"].iloc[0] == pytest.approx(37.758) and f["longitude"].iloc[0] == pytest.approx(-122.419)
    assert f["n_rows"].tolist() == [1] * 5


def test_incidents_counted_once_when_a_report_has_several_offence_rows(tmp_path):
    f = select_prostitution(load_public(_csv(tmp_path, "datasf.csv", DATASF_CSV)))
    assert len(f) == 4  # the theft row is not a prostitution row
    assert per_year(f).values.tolist() == [[2009, 1], [2010, 1], [2014, 1]]
    # an incident is counted in the year of its earliest date even when its rows disagree
    g = f.copy()
    g.loc[1, "date"] = pd.Timestamp("2010-03-01")
    g["year"] = g["date"].dt.year
    assert count(g, ["year"]).values.tolist() == [[2009, 1], [2010, 1], [2014, 1]]


def test_socrata_json_lower_case_names(tmp_path):
    records = [
        {"incidntnum": "110889877", "category": "PROSTITUTION", "descript": "SOLICITS FOR ACT OF PROSTITUTION",
         "dayofweek": "Thursday", "date": "2011-11-03T00:00:00.000", "time": "20:15", "pddistrict": "TENDERLOIN",
         "resolution": "ARREST, CITED", "address": "EDDY ST / JONES ST", "x": "-122.4124", "y": "37.7841",
         "location": {"type": "Point", "coordinates": [-122.4124, 37.7841]}, "pdid": "11088987713060"},
        {"incidntnum": "110889877", "category": "PROSTITUTION", "descript": "LOITERING FOR PURPOSE OF PROSTITUTION",
         "dayofweek": "Thursday", "date": "2011-11-03T00:00:00.000", "time": "20:15", "pddistrict": "TENDERLOIN",
         "resolution": "ARREST, CITED", "address": "EDDY ST / JONES ST", "x": "-122.4124", "y": "37.7841",
         "pdid": "11088987713075"},
    ]
    f = load_public(_csv(tmp_path, "page.json", json.dumps(records)))
    assert f.attrs["source_format"] == "socrata_json"
    assert f["source_row"].tolist() == [1, 2]
    assert f["record_id"].tolist() == ["11088987713060", "11088987713075"]
    assert f["date"].dt.strftime("%Y-%m-%d").unique().tolist() == ["2011-11-03"]
    assert count(f, ["month"])["n"].tolist() == [1]


def test_2018_present_csv(tmp_path):
    text = (
        "Incident Datetime,Incident Date,Incident Time,Incident Year,Incident Day of Week,Report Datetime,Row ID,"
        "Incident ID,Incident Number,CAD Number,Report Type Code,Report Type Description,Filed Online,Incident Code,"
        "Incident Category,Incident Subcategory,Incident Description,Resolution,Intersection,CNN,Police District,"
        "Analysis Neighborhood,Supervisor District,Latitude,Longitude,Point\n"
        "2018/03/01 10:30:00 PM,2018/03/01,22:30,2018,Thursday,2018/03/02 01:00:00 AM,61868716040,618687,180155123,"
        ",II,Initial,,16040,Prostitution,Prostitution,Loitering for Purpose of Prostitution,Cite or Arrest Adult,"
        "EDDY ST \\ JONES ST,,Tenderloin,Tenderloin,6,37.78,-122.41,\n"
        "2019/07/14 01:05:00 AM,2019/07/14,01:05,2019,Sunday,2019/07/14 03:00:00 AM,81234517001,812345,190512345,"
        ",II,Initial,,17001,\"Human Trafficking (A), Commercial Sex Acts\",Human Trafficking,"
        "\"Human Trafficking, Commercial Sex Acts\",Open or Active,,,Out of SF,,,,,\n"
    )
    f = load_public(_csv(tmp_path, "wg3w.csv", text))
    assert f.attrs["source_format"] == "datasf_2018_csv"
    assert f["date"].dt.strftime("%Y-%m-%d").tolist() == ["2018-03-01", "2019-07-14"]
    assert f["time"].tolist() == ["22:30", "01:05"]
    assert f["district"].tolist() == ["tenderloin", "unknown"]
    assert f["resolution_group"].tolist() == ["cited_or_booked", "none"]
    assert f["category"].tolist() == ["PROSTITUTION", "HUMAN TRAFFICKING (A), COMMERCIAL SEX ACTS"]
    assert f["subcategory"].tolist() == ["PROSTITUTION", "HUMAN TRAFFICKING"]
    assert len(select_prostitution(f)) == 2  # the trafficking category counts as well


def test_2018_present_socrata_json(tmp_path):
    rec = [{"incident_datetime": "2018-03-01T22:30:00.000", "incident_number": "180155123",
            "incident_category": "Prostitution", "incident_subcategory": "Prostitution",
            "incident_description": "Loitering for Purpose of Prostitution", "resolution": "Cite or Arrest Adult",
            "police_district": "Tenderloin", "row_id": "61868716040"}]
    f = load_public(_csv(tmp_path, "wg3w.json", json.dumps(rec)))
    assert f.attrs["source_format"] == "socrata_2018_json"
    assert (f["date"].iloc[0], f["time"].iloc[0]) == (pd.Timestamp("2018-03-01"), "22:30")
    assert f["description"].iloc[0] == "LOITERING FOR PURPOSE OF PROSTITUTION"


def test_kaggle_rows_have_no_incident_number_and_count_as_rows(tmp_path):
    text = (
        "Dates,Category,Descript,DayOfWeek,PdDistrict,Resolution,Address,X,Y\n"
        '2015-05-12 19:44:00,PROSTITUTION,ENGAGING IN LEWD CONDUCT - PROSTITUTION RELATED,Tuesday,RICHMOND,"ARREST, BOOKED",500 Block of 14TH AV,-122.47,37.77\n'
        "2015-05-11 12:00:00,PROSTITUTION,HUMAN TRAFFICKING,Monday,BAYVIEW,NONE,200 Block of WILLIAMS AV,-122.39,37.72\n"
        "2015-05-11 12:00:00,PROSTITUTION,HUMAN TRAFFICKING,Monday,BAYVIEW,NONE,200 Block of WILLIAMS AV,-122.39,37.72\n"
    )
    f = load_public(_csv(tmp_path, "train.csv", text))
    assert f.attrs["source_format"] == "kaggle" and f.attrs["unit"] == "offence_row"
    assert f["incident_number"].isna().all()
    assert f["time"].tolist() == ["19:44", "12:00", "12:00"]
    assert per_year(f).values.tolist() == [[2015, 3]]  # duplicate rows cannot be told apart: rows are counted
    assert "Alternate weeks only" in f.attrs["limitation"]


def test_daily_counts_table(tmp_path):
    text = '"i","Date","Solved","Not Solved"\n"1",2009-01-30,3,1\n"2",2009-01-31,0,2\n"3",2009-02-02,5,0\n'
    f = load_public(_csv(tmp_path, "sfpd_prostitution_daily_x.csv", text))
    assert f.attrs["source_format"] == "daily_counts"
    assert len(f) == 6  # a record per day and resolution group
    assert f["category"].unique().tolist() == ["PROSTITUTION"]  # from the file name
    assert f.groupby("resolution_group")["n_rows"].sum().to_dict() == {"none": 3, "resolved": 8}
    assert count(f, ["month"])["n"].tolist() == [6, 5]
    # the column order does not matter; the category can be given
    g = load_public(_csv(tmp_path, "denominator.csv", '"i","Date","Not Solved","Solved"\n"1",2009-01-30,212,87\n'),
                    category="ALL")
    assert g["category"].unique().tolist() == ["ALL"] and int(g["n_rows"].sum()) == 299


def test_incident_table_keeps_san_francisco_and_leading_zeros(tmp_path):
    text = (
        "incident_id,police_dept_id,source_id,user_id,inc_type,latitude,longitude,address,city,state,date,year,time,"
        "description,police_rec_num,sting_strat,avoidance,other,db_added_date\n"
        "2644,2,3,,API,37.787,-122.418,POST ST / LARKIN ST,San Francisco,CA,2008-01-17 00:00:00,2008,04:00,"
        "SOLICITS TO VISIT HOUSE OF PROSTITUTION,080058154,,,,\n"
        "6779,9,11,,API,40.84,-73.90,BRONX,New York,CA,2016-05-14 00:00:00,2016,02:10:00,"
        '"PROSTITUTION, PATRONIZING 4, 3",171612669,,,,\n'
        "3,2,3,,API,37.761,-122.485,2100 Block of JUDAH ST,San Francisco,CA,2016-10-15 00:00:00,2016,13:00,"
        "INMATE/KEEPER OF HOUSE OF PROSTITUTION,150521863,,,,\n"
    )
    f = load_public(_csv(tmp_path, "Incident_table.csv", text))
    assert f.attrs["source_format"] == "incident_table"
    assert f.attrs["rows_read"] == 3 and f.attrs["rows_dropped"] == 1
    assert f["incident_number"].tolist() == ["080058154", "150521863"]
    assert f["source_row"].tolist() == [2, 4]
    assert f["category"].unique().tolist() == ["PROSTITUTION"]
    assert f["district"].unique().tolist() == [""] and f["resolution"].unique().tolist() == [""]


def test_every_format_is_detected_from_its_own_required_columns():
    for key, spec in FORMATS.items():
        assert detect_format(list(spec["required"])) == key


# --- malformed input: each a clear error naming the file and, where it applies, row and column ---------------


def test_wrong_columns(tmp_path):
    p = _csv(tmp_path, "odd.csv", "IncidntNum,Category,Descript,When,Where\n1,PROSTITUTION,PIMPING,x,y\n")
    with pytest.raises(UnusableInputError) as exc:
        load_public(p)
    [prob] = _messages(exc)
    assert prob["rule"] == "wrong_columns" and prob["file"] == "odd.csv"
    assert "Closest: DataSF historical incidents CSV export (tmnf-yvry, 2003 to May 2018), which also needs " \
           "DayOfWeek, Date, Time, PdDistrict, Resolution, Address, X, Y" in prob["message"]
    assert "Columns found: IncidntNum, Category, Descript, When, Where" in prob["message"]


def test_bad_dates_name_row_and_column(tmp_path):
    text = DATASF_CSV.replace("02/28/2009", "2009-28-02", 1).replace("01/01/2010", "", 1)
    with pytest.raises(UnusableInputError) as exc:
        load_public(_csv(tmp_path, "datasf.csv", text))
    probs = _messages(exc)
    assert [(p["rule"], p["file"], p["row"], p["variable"], p["value"]) for p in probs] == [
        ("bad_date", "datasf.csv", 2, "Date", "2009-28-02"), ("bad_date", "datasf.csv", 4, "Date", "")]
    assert probs[0]["message"] == "'2009-28-02' is not a date (expected MM/DD/YYYY)"
    assert probs[1]["message"] == "empty is not a date (expected MM/DD/YYYY)"


def test_bad_dates_in_json_name_the_record(tmp_path):
    rec = [{"incidntnum": "1", "category": "PROSTITUTION", "descript": "PIMPING", "date": "yesterday",
            "pddistrict": "MISSION", "resolution": "NONE"}]
    with pytest.raises(UnusableInputError) as exc:
        load_public(_csv(tmp_path, "page.json", json.dumps(rec)))
    [p] = _messages(exc)
    assert (p["variable"], p["message"]) == ("date", "record 1: 'yesterday' is not a date (expected MM/DD/YYYY)")


def test_bad_time_and_bad_counts(tmp_path):
    with pytest.raises(UnusableInputError) as exc:
        load_public(_csv(tmp_path, "datasf.csv", DATASF_CSV.replace("23:55", "late")))
    assert [(p["rule"], p["row"], p["variable"]) for p in _messages(exc)] == [("bad_time", 4, "Time")]
    with pytest.raises(UnusableInputError) as exc:
        load_public(_csv(tmp_path, "daily.csv", '"i","Date","Solved","Not Solved"\n"1",2009-01-30,3,-1\n'
                                                '"2",2009-01-31,2.5,0\n'))
    assert [(p["rule"], p["row"], p["variable"], p["value"]) for p in _messages(exc)] == [
        ("bad_count", 3, "Solved", "2.5"), ("bad_count", 2, "Not Solved", "-1")]


def test_many_bad_dates_are_summarised(tmp_path):
    rows = "".join(f"2015-13-{d:02d} 10:00:00,PROSTITUTION,PIMPING,Monday,MISSION,NONE,x,1,2\n" for d in range(1, 26))
    with pytest.raises(UnusableInputError) as exc:
        load_public(_csv(tmp_path, "train.csv", "Dates,Category,Descript,DayOfWeek,PdDistrict,Resolution,Address,X,Y\n"
                         + rows))
    probs = _messages(exc)
    assert len(probs) == 21 and probs[-1]["message"] == "5 more row(s) like these"


@pytest.mark.parametrize("content, rule, message", [
    (b"", "empty_file", "the file is empty; expected an SFPD incident table (CSV or JSON)"),
    (b"  \n\n", "empty_file", "the file is empty; expected an SFPD incident table (CSV or JSON)"),
    (b"IncidntNum,Category,Descript,DayOfWeek,Date,Time,PdDistrict,Resolution,Address,X,Y\n", "empty_file",
     "the file has a header but no data rows"),
    (b"[]", "empty_file", "the JSON array has no records"),
    (b'{"error": true, "message": "Invalid SoQL query"}', "not_a_table",
     "the JSON is one object, not an array of records (it says: Invalid SoQL query)"),
    (b"[1, 2, 3]", "not_a_table", "the JSON is not an array of records (objects)"),
    (b"PK\x03\x04rest-of-a-zip", "not_a_table",
     "this is a zip file (an Excel workbook?), not a CSV or JSON table; export it as CSV"),
    (b"\x89PNG\r\n\x1a\n\x00\x00", "not_a_table", "this is a binary file, not a CSV or JSON table"),
])
def test_not_a_table(tmp_path, content, rule, message):
    p = tmp_path / "input.csv"
    p.write_bytes(content)
    with pytest.raises(UnusableInputError) as exc:
        load_public(p)
    [prob] = _messages(exc)
    assert (prob["rule"], prob["file"], prob["message"]) == (rule, "input.csv", message)


def test_ragged_csv_and_plain_text(tmp_path):
    with pytest.raises(UnusableInputError) as exc:
        load_public(_csv(tmp_path, "ragged.csv", "Date,Solved,Not Solved\n2009-01-01,1,2\n2009-01-02,1,2,3\n"))
    [p] = _messages(exc)
    assert (p["row"], p["message"]) == (3, "4 fields where the header has 3; this is not a regular CSV table "
                                           "(check quoting of values with commas)")
    with pytest.raises(UnusableInputError) as exc:
        load_public(_csv(tmp_path, "notes.txt", "just some notes\nnothing tabular here\n"))
    [p] = _messages(exc)
    assert p["rule"] == "wrong_columns" and p["message"].startswith("this does not look like a table (one column only)")


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(UnusableInputError) as exc:
        load_public(tmp_path / "nope.csv")
    assert _messages(exc)[0]["message"] == "file not found"
    with pytest.raises(UnusableInputError) as exc:
        load_public(tmp_path)
    assert _messages(exc)[0]["message"] == "this is a folder; give one data file"


def test_explicit_format_is_checked():
    with pytest.raises(UnusableInputError) as exc:
        parse_public(b"Date,Solved,Not Solved\n2009-01-01,1,2\n", "d.csv", format="kaggle")
    assert _messages(exc)[0]["message"].startswith("not a Kaggle 'San Francisco Crime Classification' training "
                                                   "rows (train.csv): missing Dates, Category")


def test_cli_reports_unusable_input_and_exits_2(tmp_path, capsys):
    from .test_its import run_cli

    p = _csv(tmp_path, "datasf.csv", DATASF_CSV.replace("02/28/2009", "2009-28-02", 1))
    assert run_cli(["public", "trends", str(p), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "datasf.csv, row 2, Date: '2009-28-02' is not a date (expected MM/DD/YYYY)" in err
    assert "Traceback" not in err


# --- the real files (../shared/data/sfpd): per-year counts as in PROVENANCE.md --------------------------------

PROVENANCE_DAILY = {2003: 1952, 2004: 1527, 2005: 1103, 2006: 1290, 2007: 1873, 2008: 1673, 2009: 1468, 2010: 1299,
                    2011: 1094, 2012: 690, 2013: 692, 2014: 449, 2015: 343}
PROVENANCE_DAILY_NONE = {2003: 42, 2004: 43, 2005: 39, 2006: 37, 2007: 37, 2008: 48, 2009: 43, 2010: 89, 2011: 51,
                         2012: 74, 2013: 54, 2014: 52, 2015: 60}
PROVENANCE_ALL = {2003: 148958, 2004: 148073, 2005: 142189, 2006: 137897, 2007: 137632, 2008: 141314, 2009: 139867,
                  2010: 133496, 2011: 132704, 2012: 140865, 2013: 152813, 2014: 150170, 2015: 147516}
PROVENANCE_KAGGLE = {2003: 923, 2004: 721, 2005: 531, 2006: 615, 2007: 949, 2008: 781, 2009: 694, 2010: 702,
                     2011: 603, 2012: 388, 2013: 338, 2014: 193, 2015: 46}
PROVENANCE_INCIDENTS = {2008: 1333, 2009: 1136, 2010: 910, 2011: 675, 2012: 422, 2013: 419, 2014: 259, 2015: 216,
                        2016: 342, 2017: 350, 2018: 36}
PROVENANCE_SOCRATA = {2010: 2, 2011: 238, 2012: 684, 2013: 48, 2016: 2, 2017: 5, 2018: 21}


@pytest.fixture(scope="module")
def real(request):
    from analysis.scheme.config import paths

    d = paths().shared_sfpd
    if not d.is_dir():
        pytest.skip(f"shared SFPD data not found at {d} (it is present in CI)")
    return load_shared_folder(d)


def _years(frame, **filters):
    f = frame
    for k, v in filters.items():
        f = f[f[k] == v]
    return dict(zip(per_year(f)["year"].tolist(), per_year(f)["n"].tolist()))


def test_real_files_are_recognised(shared_sfpd, real):
    assert {k: f.attrs["source_format"] for k, f in real.items()} == {
        "daily": "daily_counts", "daily_all": "daily_counts", "kaggle": "kaggle", "incidents": "incident_table",
        "socrata": "socrata_json"}
    assert {k: f.attrs["rows_read"] for k, f in real.items()} == {
        "daily": 3140, "daily_all": 4732, "kaggle": 7484, "incidents": 6115, "socrata": 1000}


def test_real_daily_tables_per_year_match_provenance(shared_sfpd, real):
    assert _years(real["daily"]) == PROVENANCE_DAILY
    assert _years(real["daily"], resolution_group="none") == PROVENANCE_DAILY_NONE
    assert _years(real["daily_all"]) == PROVENANCE_ALL
    assert int(real["daily_all"]["n_rows"].sum()) == 1_853_494
    assert real["daily"]["date"].max() == pd.Timestamp("2015-12-08")
    assert real["daily_all"]["date"].max() == pd.Timestamp("2015-12-15")


def test_real_row_files_per_year_match_provenance(shared_sfpd, real):
    assert _years(real["kaggle"]) == PROVENANCE_KAGGLE
    assert _years(real["incidents"]) == PROVENANCE_INCIDENTS  # San Francisco only: 6098 incidents
    assert real["incidents"].attrs["rows_dropped"] == 17
    assert real["incidents"]["incident_number"].nunique() == len(real["incidents"]) == 6098
    soc = real["socrata"]
    assert soc.groupby("year").size().to_dict() == PROVENANCE_SOCRATA  # records
    assert (soc["record_id"].nunique(), soc["incident_number"].nunique()) == (1000, 677)


def test_real_incident_table_descriptions_match_provenance(shared_sfpd, real):
    assert real["incidents"]["description"].value_counts().to_dict() == {
        "LOITERING FOR PURPOSE OF PROSTITUTION": 2312, "SOLICITS FOR ACT OF PROSTITUTION": 1942,
        "SOLICITS TO VISIT HOUSE OF PROSTITUTION": 1678, "ENGAGING IN LEWD CONDUCT - PROSTITUTION RELATED": 78,
        "INDECENT EXPOSURE - PROSTITUTION RELATED": 43, "INMATE/KEEPER OF HOUSE OF PROSTITUTION": 40,
        "PLACING WIFE IN HOUSE OF PROSTITUTION": 5}


def test_real_kaggle_target_years_match_provenance(shared_sfpd, real):
    k = real["kaggle"]
    res = count(k, ["year", "resolution"]).set_index(["year", "resolution"])["n"]
    assert [int(res[(y, "ARREST, CITED")]) for y in (2009, 2010, 2014)] == [467, 405, 86]
    assert [int(res[(y, "ARREST, BOOKED")]) for y in (2009, 2010, 2014, 2015)] == [193, 243, 79, 42]
    assert [int(res[(y, "NONE")]) for y in (2009, 2010, 2014, 2015)] == [25, 43, 23, 3]
    dist = count(k[k["year"] == 2009], ["district"]).set_index("district")["n"].to_dict()
    assert dist == {"mission": 485, "central": 62, "northern": 62, "tenderloin": 54, "taraval": 9, "southern": 8,
                    "bayview": 8, "richmond": 4, "ingleside": 2}
    desc = count(k[k["year"] == 2014], ["description"]).set_index("description")["n"]
    assert (desc["LOITERING FOR PURPOSE OF PROSTITUTION"], desc["SOLICITS FOR ACT OF PROSTITUTION"],
            desc["HUMAN TRAFFICKING"]) == (101, 43, 25)


def test_map_values_is_series_map_once_per_distinct_value():
    from analysis.public.load import map_values

    calls = []

    def upper(x):
        calls.append(x)
        return str(x).upper()

    s = pd.Series(["a", "b", "a"] * 30, index=range(100, 190), name="col")
    got = map_values(s, upper)
    pd.testing.assert_series_equal(got, s.map(str.upper))
    assert sorted(calls) == ["a", "b"]  # once per distinct value
    flags = map_values(s, lambda x: x == "a")
    assert flags.dtype == bool and flags.sum() == 60
    with_na = pd.Series(["a", None, float("nan")] * 30)  # missing values: row by row, as Series.map
    pd.testing.assert_series_equal(map_values(with_na, repr), with_na.map(repr))
