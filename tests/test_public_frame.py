"""Descriptions -> groups -> codebook categories; before/after count tables; the sampling frame and the
stratified sample of incident numbers (with the real frame's per-year sizes from PROVENANCE.md)."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis.public import (
    classify,
    description_counts,
    district_counts,
    draw_sample,
    frame_sizes,
    load_public,
    mapping_table,
    parse_public,
    resolution_counts,
    sampling_frame,
    share_table,
    unknown_descriptions,
    with_shares,
)
from analysis.public import descriptions as D

from .test_its import run_cli

KAGGLE = """Dates,Category,Descript,DayOfWeek,PdDistrict,Resolution,Address,X,Y
2009-03-02 21:00:00,PROSTITUTION,SOLICITS FOR ACT OF PROSTITUTION,Monday,MISSION,"ARREST, CITED",a,1,2
2009-03-02 21:05:00,PROSTITUTION,SOLICITS TO VISIT HOUSE OF PROSTITUTION,Monday,MISSION,"ARREST, CITED",a,1,2
2010-06-01 22:00:00,PROSTITUTION,LOITERING FOR PURPOSE OF PROSTITUTION,Tuesday,NORTHERN,"ARREST, BOOKED",b,1,2
2010-06-01 22:10:00,PROSTITUTION,PIMPING,Tuesday,NORTHERN,NONE,b,1,2
2012-01-01 10:00:00,PROSTITUTION,PANDERING,Sunday,CENTRAL,NONE,c,1,2
2014-02-03 20:00:00,PROSTITUTION,HUMAN TRAFFICKING,Monday,SOUTHERN,UNFOUNDED,d,1,2
2014-02-03 20:30:00,PROSTITUTION,LOITERING FOR PURPOSE OF PROSTITUTION,Monday,CENTRAL,JUVENILE BOOKED,d,1,2
2015-01-05 23:00:00,PROSTITUTION,SOLICITS MINOR FOR COMMERCIAL SEX,Monday,OUT OF SF,JUVENILE CITED,e,1,2
"""


@pytest.fixture
def kaggle():
    return parse_public(KAGGLE.encode(), "train.csv")


# --- the description mapping -----------------------------------------------------------------------------


def test_mapping_follows_the_codebook(cb):
    categories = {c["code"] for c in cb.charge_classification["categories"]}
    statutes = {s["statute"]: s for s in cb.charge_classification["statutes"]}
    assert {g["category"] for g in D.GROUPS.values()} <= categories
    assert {g: D.GROUPS[g]["category"] for g in D.GROUPS} == {
        "soliciting": "selling", "loitering": "selling", "pimping_pandering": "third_party",
        "house_of_prostitution": "third_party", "trafficking": "trafficking", "lewd_conduct": "lewd_conduct"}
    for desc, m in D.DESCRIPTIONS.items():
        assert m["group"] in D.GROUPS, desc
        if m["statute"] in statutes:  # where the codebook has the statute, its category agrees
            assert statutes[m["statute"]]["category"] == D.GROUPS[m["group"]]["category"], desc
    # PC 647(b) is a seller's charge in the codebook, with a buyer's category beside it: soliciting covers both
    assert statutes["PC 647(b)"]["by_role"] == {"buyer": "buying"}
    assert "buyer" in D.GROUPS["soliciting"]["note"]


def test_every_description_in_the_real_files_is_mapped(shared_sfpd):
    for name in ("sfpd_prostitution_kaggle_train_rows_2003_2015.csv",
                 "sfpd_prostitution_incidents_dedup_2008_2018.csv", "sfpd_prostitution_socrata_sample.json"):
        f = load_public(shared_sfpd / name)
        assert unknown_descriptions(f).empty, name
    assert len(D.DESCRIPTIONS) == 14


def test_unknown_descriptions_are_reported_not_guessed(kaggle):
    cls = classify(kaggle)
    assert cls["description_group"].tolist() == ["soliciting", "house_of_prostitution", "loitering",
                                                 "pimping_pandering", "pimping_pandering", "trafficking",
                                                 "loitering", ""]
    assert cls["charge_category"].tolist()[-1] == "" and cls["mapped_by"].tolist()[-1] == ""
    assert unknown_descriptions(kaggle).values.tolist() == [["SOLICITS MINOR FOR COMMERCIAL SEX", "PROSTITUTION", 1]]
    table = mapping_table()
    assert table.set_index("description").loc["SOLICITS FOR ACT OF PROSTITUTION", "statute"] == "PC 647(b)"


# --- before / after count tables ---------------------------------------------------------------------------


def test_resolution_counts_by_period(kaggle, cfg):
    t = resolution_counts(kaggle, cfg)
    assert list(t.columns) == ["period", "category", "n"]
    assert t.values.tolist() == [
        ["vice", "cited", 2], ["vice", "booked", 1], ["vice", "none", 1], ["vice", "other", 0],
        ["svu", "cited", 1], ["svu", "booked", 1], ["svu", "none", 0], ["svu", "other", 1]]  # 2012 is no period
    s = with_shares(t)
    assert s.loc[(s["period"] == "vice") & (s["category"] == "cited"), "share"].item() == 0.5
    wide = share_table(t)
    assert wide.loc["cited"].tolist() == ["2 (50.0%)", "1 (33.3%)"] and wide.loc["total"].tolist() == ["4", "3"]


def test_description_and_district_counts(kaggle, cfg):
    g = description_counts(kaggle, cfg).set_index(["period", "category"])["n"]
    assert g["vice"].to_dict() == {"soliciting": 1, "loitering": 1, "pimping_pandering": 1, "house_of_prostitution": 1,
                                   "trafficking": 0, "lewd_conduct": 0, "unmapped": 0}
    assert g["svu"].to_dict() == {"soliciting": 0, "loitering": 1, "pimping_pandering": 0, "house_of_prostitution": 0,
                                  "trafficking": 1, "lewd_conduct": 0, "unmapped": 1}
    c = description_counts(kaggle, cfg, level="charge_category").set_index(["period", "category"])["n"]
    assert c["vice"].to_dict() == {"selling": 2, "buying": 0, "third_party": 2, "trafficking": 0, "hiv": 0,
                                   "lewd_conduct": 0, "other": 0, "unmapped": 0}
    d = district_counts(kaggle, cfg).set_index(["period", "category"])["n"]
    assert d["svu"].to_dict() == {"bayview": 0, "central": 1, "ingleside": 0, "mission": 0, "northern": 0, "park": 0,
                                  "richmond": 0, "southern": 1, "taraval": 0, "tenderloin": 0, "unknown": 1}


def test_incidents_not_rows_when_the_source_has_incident_numbers(cfg):
    text = """IncidntNum,Category,Descript,DayOfWeek,Date,Time,PdDistrict,Resolution,Address,X,Y,Location,PdId
140000001,PROSTITUTION,PIMPING,Monday,01/06/2014,10:00,SOUTHERN,"ARREST, BOOKED",a,1,2,,1
140000001,PROSTITUTION,PANDERING,Monday,01/06/2014,10:00,SOUTHERN,"ARREST, BOOKED",a,1,2,,2
140000001,PROSTITUTION,HUMAN TRAFFICKING,Monday,01/06/2014,10:00,SOUTHERN,"ARREST, BOOKED",a,1,2,,3
140000002,PROSTITUTION,LOITERING FOR PURPOSE OF PROSTITUTION,Monday,01/06/2014,11:00,MISSION,"ARREST, CITED",b,1,2,,4
"""
    f = parse_public(text.encode(), "datasf.csv")
    r = resolution_counts(f, cfg).set_index(["period", "category"])["n"]
    assert (r["svu", "booked"], r["svu", "cited"]) == (1, 1)  # one incident each, not 3 + 1 rows
    g = description_counts(f, cfg).set_index(["period", "category"])["n"]
    assert (g["svu", "pimping_pandering"], g["svu", "trafficking"], g["svu", "loitering"]) == (1, 1, 1)


def test_a_source_without_the_column_is_a_clear_error(cfg):
    text = '"i","Date","Solved","Not Solved"\n"1",2009-01-30,3,1\n'
    f = parse_public(text.encode(), "daily.csv")
    from analysis.intake.problems import UnusableInputError

    with pytest.raises(UnusableInputError, match="this source has no police district"):
        district_counts(f, cfg)


# --- the sampling frame and the sample -----------------------------------------------------------------------

INCIDENTS = "incident_id,police_dept_id,source_id,user_id,inc_type,latitude,longitude,address,city,state,date,year,time,description,police_rec_num,sting_strat,avoidance,other,db_added_date\n" + "".join(
    f"{i},2,3,,API,37.7,-122.4,x,San Francisco,CA,{y}-0{1 + i % 9}-1{i % 10} 00:00:00,{y},10:00,"
    f"LOITERING FOR PURPOSE OF PROSTITUTION,{str(y)[2:]}{i:07d},,,,\n"
    for y, n in ((2009, 12), (2010, 3), (2011, 5), (2014, 8), (2015, 1)) for i in range(n))


def test_sampling_frame_and_sizes(cfg):
    f = parse_public(INCIDENTS.encode(), "Incident_table.csv")
    sf = sampling_frame(f, cfg)
    assert sf["year"].value_counts().sort_index().to_dict() == {2009: 12, 2010: 3, 2014: 8, 2015: 1}
    assert set(sf["period"]) == {"vice", "svu"}
    assert frame_sizes(f, cfg).values.tolist() == [[2009, "vice", 12], [2010, "vice", 3], [2014, "svu", 8],
                                                   [2015, "svu", 1]]


def test_draw_sample_is_stratified_and_reproducible(cfg):
    sf = sampling_frame(parse_public(INCIDENTS.encode(), "Incident_table.csv"), cfg)
    a = draw_sample(sf, per_year=5, seed=11)
    assert a.groupby("year").size().to_dict() == {2009: 5, 2010: 3, 2014: 5, 2015: 1}  # all, when fewer
    assert a["incident_number"].is_unique and set(a["incident_number"]) <= set(sf["incident_number"])
    assert a.groupby("year")["draw"].apply(list).to_dict()[2009] == [1, 2, 3, 4, 5]
    b = draw_sample(sf.sample(frac=1, random_state=3), per_year=5, seed=11)  # the frame's row order is irrelevant
    assert a["incident_number"].tolist() == b["incident_number"].tolist()
    c = draw_sample(sf, per_year=5, seed=12)
    assert a["incident_number"].tolist() != c["incident_number"].tolist()
    with pytest.raises(ValueError, match="per_year must be at least 1"):
        draw_sample(sf, per_year=0, seed=1)


def test_draw_sample_command(tmp_path, capsys):
    src = tmp_path / "Incident_table.csv"
    src.write_text(INCIDENTS, encoding="utf-8")
    out = tmp_path / "request.csv"
    assert run_cli(["public", "draw-sample", str(src), "--per-year", "4", "--seed", "2017", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "  2009: 4 of 12" in text and "  2015: 1 of 1  (fewer incidents than requested: all taken)" in text
    first = pd.read_csv(out, dtype=str)
    assert list(first.columns) == ["year", "period", "draw", "incident_number", "date", "description", "year_frame_n"]
    assert first["year"].value_counts().to_dict() == {"2009": 4, "2010": 3, "2014": 4, "2015": 1}
    assert run_cli(["public", "draw-sample", str(src), "--per-year", "4", "--seed", "2017", "--out",
                    str(tmp_path / "again.csv")]) == 0
    assert (tmp_path / "again.csv").read_bytes() == out.read_bytes()
    assert run_cli(["public", "draw-sample", str(src), "--per-year", "2", "--seed", "1", "--years", "2011",
                    "--out", str(tmp_path / "y.csv")]) == 0
    assert pd.read_csv(tmp_path / "y.csv")["year"].tolist() == [2011, 2011]


def test_frame_needs_incident_numbers(tmp_path, capsys):
    src = tmp_path / "train.csv"
    src.write_text(KAGGLE, encoding="utf-8")
    assert run_cli(["public", "draw-sample", str(src), "--per-year", "4", "--seed", "1", "--out",
                    str(tmp_path / "x.csv")]) == 2
    assert "a sampling frame needs incident numbers; this source has none" in capsys.readouterr().err


def test_real_sampling_frame_matches_provenance(shared_sfpd, cfg, tmp_path, capsys):
    f = load_public(shared_sfpd / "sfpd_prostitution_incidents_dedup_2008_2018.csv")
    assert frame_sizes(f, cfg).values.tolist() == [[2009, "vice", 1136], [2010, "vice", 910], [2014, "svu", 259],
                                                   [2015, "svu", 216]]
    src = str(shared_sfpd / "sfpd_prostitution_incidents_dedup_2008_2018.csv")
    assert run_cli(["public", "frame", src]) == 0
    out = capsys.readouterr().out
    for line in ("  2008: 1333", "  2009: 1136  <- sampled (vice)", "  2010: 910  <- sampled (vice)",
                 "  2014: 259  <- sampled (svu)", "  2015: 216  <- sampled (svu)", "  2018: 36"):
        assert line in out
    assert run_cli(["public", "draw-sample", src, "--per-year", "250", "--seed", "2017", "--out",
                    str(tmp_path / "s.csv")]) == 0
    s = pd.read_csv(tmp_path / "s.csv", dtype={"incident_number": str})
    assert s.groupby("year").size().to_dict() == {2009: 250, 2010: 250, 2014: 250, 2015: 216}
    assert s["incident_number"].str.len().eq(9).all()  # leading zeros kept


def test_real_before_after_tables(shared_sfpd, cfg):
    k = load_public(shared_sfpd / "sfpd_prostitution_kaggle_train_rows_2003_2015.csv")
    r = resolution_counts(k, cfg).set_index(["period", "category"])["n"]
    # Kaggle rows (alternate weeks): cited = ARREST, CITED + JUVENILE CITED; booked likewise
    assert r.to_dict() == {("vice", "cited"): 874, ("vice", "booked"): 447, ("vice", "none"): 68,
                           ("vice", "other"): 7, ("svu", "cited"): 86, ("svu", "booked"): 121, ("svu", "none"): 26,
                           ("svu", "other"): 6}
    g = description_counts(k, cfg).set_index(["period", "category"])["n"]
    assert (g["vice", "house_of_prostitution"], g["svu", "trafficking"], g["svu", "loitering"]) == (459, 30, 122)
    d = district_counts(k, cfg).set_index(["period", "category"])["n"]
    assert (d["vice", "mission"], d["svu", "mission"], d["svu", "central"]) == (903, 95, 72)
    i = load_public(shared_sfpd / "sfpd_prostitution_incidents_dedup_2008_2018.csv")
    gi = description_counts(i, cfg).groupby("period")["n"].sum().to_dict()
    assert gi == {"vice": 1136 + 910, "svu": 259 + 216}  # one description per incident


def test_tables_command(tmp_path, capsys):
    src = tmp_path / "train.csv"
    src.write_text(KAGGLE, encoding="utf-8")
    assert run_cli(["public", "tables", str(src), "--out", str(tmp_path / "t")]) == 0
    out = capsys.readouterr().out
    assert "SOLICITS MINOR FOR COMMERCIAL SEX (PROSTITUTION): 1 record(s)" in out  # reported, not guessed
    assert sorted(p.name for p in (tmp_path / "t").iterdir()) == [
        "charge_category_by_period.csv", "description_by_period.csv", "description_group_by_period.csv",
        "district_by_period.csv", "public_before_after.csv", "public_before_after.html", "public_before_after.md",
        "resolution_by_period.csv"]
    # the before/after table is made with the coded data's methods (analysis.tables.compare), suppressed for sharing
    md = (tmp_path / "t" / "public_before_after.md").read_text()
    assert "| Resolution |" in md and ("Suppression: 'suppressed' marks a count not shown because it could identify "
                                       "a person: a count from 1 to 4, or one from which such a count could be "
                                       "worked out") in md
    assert "<5" not in md  # one marker for every hidden count (issue 11)
    res = pd.read_csv(tmp_path / "t" / "resolution_by_period.csv")
    assert list(res.columns) == ["period", "category", "n", "period_n", "share"]
    assert res.iloc[0].tolist() == ["vice", "cited", 2, 4, 0.5]
    # a source without resolution or district: the tables it can give, and why not the others
    inc = tmp_path / "Incident_table.csv"
    inc.write_text(INCIDENTS, encoding="utf-8")
    assert run_cli(["public", "tables", str(inc), "--out", str(tmp_path / "u")]) == 0
    out = capsys.readouterr().out
    assert "resolution: not available (this source has no resolution" in out
    assert sorted(p.name for p in (tmp_path / "u").iterdir()) == [
        "charge_category_by_period.csv", "description_by_period.csv", "description_group_by_period.csv",
        "public_before_after.csv", "public_before_after.html", "public_before_after.md"]


# --- issue 14: the frame holds trafficking, pimping and pandering, or says it is a lower bound --------------

DATASF_FRAME = """IncidntNum,Category,Descript,DayOfWeek,Date,Time,PdDistrict,Resolution,Address,X,Y,Location,PdId
090000001,PROSTITUTION,SOLICITS FOR ACT OF PROSTITUTION,Monday,03/02/2009,21:10,MISSION,NONE,A,-122.4,37.7,"(1, 2)",1
090000002,PROSTITUTION,PIMPING,Monday,03/02/2009,21:10,MISSION,NONE,A,-122.4,37.7,"(1, 2)",2
090000002,PROSTITUTION,PANDERING,Monday,03/02/2009,21:10,MISSION,NONE,A,-122.4,37.7,"(1, 2)",3
140000003,PROSTITUTION,"HUMAN TRAFFICKING, COMMERCIAL SEX ACTS",Monday,03/03/2014,9:05,TENDERLOIN,NONE,A,-122.4,37.7,"(1, 2)",4
140000004,OTHER OFFENSES,HUMAN TRAFFICKING,Monday,03/03/2014,9:05,TENDERLOIN,NONE,A,-122.4,37.7,"(1, 2)",5
140000005,PROSTITUTION,SOLICITS TO VISIT HOUSE OF PROSTITUTION,Monday,03/03/2014,9:05,TENDERLOIN,NONE,A,-122.4,37.7,"(1, 2)",6
120000006,PROSTITUTION,PIMPING,Monday,03/05/2012,9:05,TENDERLOIN,NONE,A,-122.4,37.7,"(1, 2)",7
"""


def test_frame_counts_trafficking_pimping_and_pandering_when_the_file_has_them(cfg, tmp_path, capsys):
    from analysis.public import frame_table, select_prostitution

    f = select_prostitution(parse_public(DATASF_FRAME.encode(), "datasf.csv"))
    t = frame_table(f, cfg)
    # 2009: 2 incidents, one of them pimping and pandering; 2014: 3, two of them human trafficking
    assert t[["year", "n", "trafficking_pimping_pandering", "bound"]].values.tolist() == [
        [2009, 2, 1, "complete"], [2010, 0, 0, "complete"], [2014, 3, 2, "complete"], [2015, 0, 0, "complete"]]
    src = tmp_path / "datasf.csv"
    src.write_text(DATASF_FRAME, encoding="utf-8")
    assert run_cli(["public", "frame", str(src)]) == 0
    out = capsys.readouterr().out
    assert "  The sampled years' counts include 3 incident(s) described as human trafficking, pimping or pandering" in out
    assert "LOWER BOUND" not in out


def test_frame_from_the_incident_table_says_it_is_a_lower_bound(cfg, tmp_path, capsys):
    from analysis.public import frame_table

    t = frame_table(parse_public(INCIDENTS.encode(), "Incident_table.csv"), cfg)
    assert t[["year", "n", "trafficking_pimping_pandering"]].values.tolist() == [
        [2009, 12, 0], [2010, 3, 0], [2014, 8, 0], [2015, 1, 0]]
    assert set(t["bound"]) == {"lower bound: this file has only descriptions containing 'PROST': human-trafficking, "
                               "pimping and pandering incidents are not in it, so its incidents per year are a lower "
                               "bound of the sampling frame"}
    src = tmp_path / "Incident_table.csv"
    src.write_text(INCIDENTS, encoding="utf-8")
    assert run_cli(["public", "frame", str(src)]) == 0
    assert "  LOWER BOUND: this file has only descriptions containing 'PROST'" in capsys.readouterr().out


def test_count_tables_are_each_tables_own_function_from_one_dating(kaggle, cfg, monkeypatch):
    from analysis.intake.problems import UnusableInputError
    from analysis.public import frame as F

    alone = {"resolution": resolution_counts(kaggle, cfg), "description_group": description_counts(kaggle, cfg),
             "charge_category": description_counts(kaggle, cfg, level="charge_category"),
             "description": description_counts(kaggle, cfg, level="description"),
             "district": district_counts(kaggle, cfg)}
    dated = []
    real = F.with_incident_dates
    monkeypatch.setattr(F, "with_incident_dates", lambda f: dated.append(len(f)) or real(f))
    together = F.count_tables(kaggle, cfg)
    assert list(together) == list(alone)
    for name, table in alone.items():
        pd.testing.assert_frame_equal(together[name], table, obj=name)
    assert dated == [len(kaggle)]  # dated once for the five tables, not once each
    d = together["district"].set_index(["period", "category"])["n"]
    assert (d["vice", "mission"], d["svu", "southern"], d["svu", "unknown"]) == (2, 1, 1)  # OUT OF SF: unknown

    daily = parse_public(b'"i","Date","Solved","Not Solved"\n"1",2009-01-30,3,1\n', "daily.csv")
    made = F.count_tables(daily, cfg)
    with pytest.raises(UnusableInputError) as alone_error:
        district_counts(daily, cfg)
    assert isinstance(made["district"], UnusableInputError)
    assert str(made["district"]) == str(alone_error.value)
    assert "this source has no police district" in str(made["district"])
    pd.testing.assert_frame_equal(made["resolution"], resolution_counts(daily, cfg))
