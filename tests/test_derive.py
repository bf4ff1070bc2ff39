"""Derived tables: values computed by hand on small inputs, settings from the study configuration."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

from analysis.derive.income import parse_acs_income
from analysis.derive.variables import derive
from analysis.intake.load import tables_from_frames
from analysis.intake.validate import validate_tables


def _tables(incidents, persons, charges):
    cols = {
        "incidents": ["report_id", "coder_id", "incident_date", "report_year", "district", "location_type",
                      "sfpd_label", "investigating_unit", "origin", "screened_trafficking", "trafficking_indicators",
                      "trafficking_assessment", "condoms_mentioned", "condoms_confiscated", "condoms_photographed",
                      "condoms_evidence",
                      "phones_seized", "phones_seized_count", "language_other_than_english", "interpreter_used",
                      "interpreter_mode", "minors_involved"],
    }
    return {
        "incidents": pd.DataFrame(incidents, columns=cols["incidents"]),
        "persons": pd.DataFrame(persons, columns=["person_code", "report_id", "role", "age", "gender_identity",
                                                  "race_recorded", "race_ethnicity", "residence_zip", "limited_english",
                                                  "person_interpreter_used", "outcome", "person_phone_seized"]),
        "charges": pd.DataFrame(charges, columns=["report_id", "person_code", "statute"]),
    }


INCIDENTS = [
    # R1: Vice, prostitution label, coder says established (under-labelled), condoms as evidence, 2 phones
    ["R1", "c1", "2009-02-01", "2009", "tenderloin", "street", "prostitution", "vice", "sting_sellers", "no",
     "third_party_control;debt_bondage", "established", "yes", "yes", "no", "yes", "yes", "2", "no", "-9", "-9", "no"],
    # R2: SVU, labelled trafficking, coder says none (over-labelled), interpreter used
    ["R2", "c1", "2014-05-05", "2014", "mission", "massage_establishment", "trafficking", "svu;district_station",
     "massage_inspection", "yes", "none", "none", "no", "-9", "-9", "-9", "no", "-9", "yes", "yes", "language_line",
     "no"],
    # R3: SVU, labelled both, established (correct), origin not documented
    ["R3", "c2", "2015-12-31", "2015", "-8", "hotel_motel", "both", "svu", "-8", "yes", "minor_in_commercial_sex",
     "established", "yes", "-8", "no", "no", "yes", "-8", "no", "-9", "-9", "yes"],
]
PERSONS = [
    ["P1", "R1", "seller", "23", "trans_female", "B", "black", "-9", "no", "-9", "cited", "yes"],
    ["P2", "R1", "buyer", "45", "male", "W", "white", "94110", "no", "-9", "cited", "no"],
    ["P3", "R2", "seller", "17", "female", "C", "asian", "-9", "yes", "yes", "referred", "no"],
    ["P4", "R3", "third_party", "-8", "trans_female", "W", "white", "-9", "no", "-9", "booked", "-8"],
    ["P5", "R3", "buyer", "60", "-8", "-8", "-8", "-8", "-8", "-9", "cited", "no"],
    ["P6", "R3", "trafficking_victim", "24", "trans_female", "X", "-8", "-9", "no", "-9", "none", "no"],
]
CHARGES = [
    ["R1", "P1", "647(b) PC"],
    ["R1", "P1", "647f"],
    ["R1", "P2", "647(b)"],
    ["R3", "P4", "266h"],
    ["R3", "P4", "236.1 PC"],
    ["R3", "P5", "647(f)"],
]


@pytest.fixture
def derived(cb, cfg):
    r = validate_tables(tables_from_frames(_tables(INCIDENTS, PERSONS, CHARGES)))
    assert r.exit_code == 0, r.summary()
    return derive(r.valid, cb, cfg)


def test_period_from_report_year(derived):
    assert derived["incidents"]["period"].astype(str).tolist() == ["vice", "svu", "svu"]
    assert derived["persons"]["period"].astype(str).tolist() == ["vice", "vice", "svu", "svu", "svu", "svu"]


def test_misclassification_both_directions(derived):
    inc = derived["incidents"]
    assert inc["misclassification"].astype(str).tolist() == ["under_labelled", "over_labelled", "agree"]
    assert inc["correctly_identified"].tolist() == [pd.NA, False, True]
    assert inc["labelled_trafficking"].tolist() == [False, True, True]


def test_incident_indicators(derived):
    inc = derived["incidents"]
    assert inc["condoms_evidence_any"].tolist() == [True, False, False]
    assert inc["phones_seized_count"].tolist() == [2, pd.NA, pd.NA]
    assert inc["police_initiated"].tolist() == [True, True, pd.NA]
    assert inc["origin_sting_sellers"].tolist() == [True, False, pd.NA]
    assert inc["origin_group"].astype(str).tolist() == ["police_initiated", "police_initiated", "-8"]
    assert inc["investigating_unit__district_station"].tolist() == [False, True, False]
    assert inc["interpreter_used_yes"].tolist() == [pd.NA, True, pd.NA]
    assert inc["n_persons"].tolist() == [2, 1, 3] and inc["n_charges"].tolist() == [3, 0, 3]
    assert str(inc["district"].iloc[2]) == "-8"


def test_age_minor_tay_and_trans_women_of_color(derived):
    per = derived["persons"].set_index("person_code")
    assert per["age_group"].astype(str).to_dict() == {
        "P1": "18-24", "P2": "45-54", "P3": "10-17", "P4": "not documented", "P5": "55+", "P6": "18-24"}
    assert per["minor"].tolist() == [False, False, True, pd.NA, False, False]
    assert per["tay"].tolist() == [True, False, False, pd.NA, False, True]
    # trans female and not white -> True; trans female and white -> False; race not documented -> unknown
    assert per["trans_woman_of_color"].tolist() == [True, False, False, False, pd.NA, pd.NA]


def test_tay_range_is_a_setting(cb, cfg):
    r = validate_tables(tables_from_frames(_tables(INCIDENTS, PERSONS, CHARGES)))
    wide = dataclasses.replace(cfg, tay_age_range=(16, 24))
    per = derive(r.valid, cb, wide)["persons"]
    assert per["tay"].tolist() == [True, False, True, pd.NA, False, True]


def test_charges_classified_by_role_and_hiv(derived):
    chg = derived["charges"]
    assert chg["statute"].tolist() == ["PC 647(b)", "PC 647f", "PC 647(b)", "PC 266h", "PC 236.1", "PC 647(f)"]
    assert chg["charge_category"].astype(str).tolist() == ["selling", "hiv", "buying", "third_party", "trafficking",
                                                           "other"]
    per = derived["persons"].set_index("person_code")
    assert per["hiv_charge"].tolist() == [True, False, False, False, False, False]
    assert per.loc["P5", "charge__other"] and not per.loc["P5", "hiv_charge"]  # 647(f) is not HIV
    assert per["most_serious_charge"].astype(str).tolist() == ["felony", "misdemeanor", "none", "felony",
                                                               "misdemeanor", "none"]
    assert per["n_charges"].tolist() == [2, 1, 0, 2, 1, 0]


def test_income_strata_not_available_without_lookup(derived):
    per = derived["persons"].set_index("person_code")
    assert per["income_stratum"].astype(str).to_dict() == {
        "P1": "not_applicable", "P2": "not_available", "P3": "not_applicable", "P4": "not_applicable",
        "P5": "not_documented", "P6": "not_applicable"}


ACS = """GEO_ID,NAME,B19013_001E,B19013_001M
Geography,Geographic Area Name,Estimate!!Median household income in the past 12 months,Margin of Error
860Z200US94110,ZCTA5 94110,"97,000","4,212"
860Z200US94102,ZCTA5 94102,31000,2000
860Z200US94027,ZCTA5 94027,250000+,**
860Z200US94128,ZCTA5 94128,-,**
"""


def test_income_strata_from_an_acs_table(cb, cfg, tmp_path):
    (tmp_path / "acs.csv").write_text(ACS)
    lookup = parse_acs_income(pd.read_csv(tmp_path / "acs.csv", dtype=str, keep_default_na=False))
    assert lookup.set_index("zip")["median_income"].to_dict() == pytest.approx(
        {"94110": 97000.0, "94102": 31000.0, "94027": 250000.0, "94128": float("nan")}, nan_ok=True)
    persons = [p[:] for p in PERSONS]
    persons[4][7] = "94027"  # P5 a buyer from a high-income ZIP
    persons.append(["P7", "R2", "buyer", "30", "male", "K", "asian", "94102", "no", "-9", "cited", "no"])
    persons.append(["P8", "R2", "buyer", "30", "male", "K", "asian", "94128", "no", "-9", "cited", "no"])
    r = validate_tables(tables_from_frames(_tables(INCIDENTS, persons, CHARGES)))
    per = derive(r.valid, cb, cfg, lookup)["persons"].set_index("person_code")
    assert per.loc[["P2", "P5", "P7", "P8"], "income_stratum"].astype(str).tolist() == [
        "middle", "high", "low", "zip_not_in_lookup"]


def test_income_lookup_in_the_wrong_layout_is_a_clear_error():
    from analysis.derive.income import IncomeLookupError

    with pytest.raises(IncomeLookupError, match="not an ACS median household income table; expected a ZIP column"):
        parse_acs_income(pd.DataFrame({"a": ["1"], "b": ["2"]}), source="x.csv")


def test_synthetic_flag(derived, frames, cb, cfg):
    assert not derived["incidents"]["synthetic"].any()
    r = validate_tables(tables_from_frames(frames))
    assert derive(r.valid, cb, cfg)["persons"]["synthetic"].all()


def test_every_declared_derived_variable_is_made(derived, cb):
    for table, ds in cb.derived.items():
        cols = set(derived[table].columns)
        assert [d.name for d in ds if d.name not in cols] == [], table


# --- issue 14: origin groups, condoms, dated charges ---------------------------------------------------------


def test_origin_groups_say_what_they_mean(cb, cfg):
    """Police-initiated: sting on sellers, buyer operation, online-ad investigation, massage inspection; reactive:
    tip, victim came forward, patrol (the codebook's origin_group); stings on sellers also alone."""
    codes = ["sting_sellers", "operation_buyers", "online_ad", "massage_inspection", "tip", "victim_came_forward",
             "patrol", "other", "-8"]
    incidents = []
    for k, code in enumerate(codes):
        row = list(INCIDENTS[1])
        row[0], row[8] = f"R{k}", code
        incidents.append(row)
    r = validate_tables(tables_from_frames(_tables(incidents, [], [])))
    inc = derive(r.valid, cb, cfg)["incidents"]
    assert inc["origin_group"].astype(str).tolist() == ["police_initiated"] * 4 + ["reactive"] * 3 + ["other", "-8"]
    assert inc["police_initiated"].tolist() == [True] * 4 + [False] * 4 + [pd.NA]
    assert inc["origin_sting_sellers"].tolist() == [True] + [False] * 7 + [pd.NA]


@pytest.mark.parametrize("confiscated, photographed, evidence, any_evidence, any_action", [
    ("no", "yes", "no", True, True),      # a photograph alone is documentation (the 2013 bulletin ended it too)
    ("no", "no", "yes", True, True),
    ("yes", "no", "no", False, True),     # confiscated only: not documented as evidence, but a police action
    ("no", "no", "no", False, False),
    ("no", "-8", "no", pd.NA, pd.NA),     # none yes, one not documented: unknown
    ("-8", "no", "yes", True, True),
])
def test_condoms_photographed_is_its_own_item(cb, cfg, confiscated, photographed, evidence, any_evidence,
                                              any_action):
    row = list(INCIDENTS[0])
    row[13], row[14], row[15] = confiscated, photographed, evidence
    r = validate_tables(tables_from_frames(_tables([row, INCIDENTS[1]], [], [])))
    inc = derive(r.valid, cb, cfg)["incidents"]
    assert inc["condoms_evidence_any"].tolist() == [any_evidence, False]  # R2 does not mention condoms: no
    assert inc["condoms_any_police_action"].tolist() == [any_action, False]
    assert inc["condoms_photographed_yes"].tolist()[1] is pd.NA


def test_charge_severity_follows_the_incident_date_and_attempts_are_marked(cb, cfg):
    """H&S 11350 on 2014-05-05 (before Proposition 47) is a felony, on 2015-12-31 a misdemeanour."""
    charges = CHARGES + [["R2", "P3", "H&S 11350"], ["R3", "P6", "11350"], ["R3", "P6", "664/647(b) PC"],
                         ["R1", "P2", "664/647(b)"]]
    r = validate_tables(tables_from_frames(_tables(INCIDENTS, PERSONS, charges)))
    assert r.exit_code == 0, r.summary()
    chg = derive(r.valid, cb, cfg)["charges"]
    new = chg.iloc[-4:]
    assert new["statute"].tolist() == ["HS 11350", "HS 11350", "PC 664/647(b)", "PC 664/647(b)"]
    assert new["severity"].astype(str).tolist() == ["felony", "misdemeanor", "misdemeanor", "misdemeanor"]
    assert new["attempt"].tolist() == [False, False, True, True]
    assert new["charge_category"].astype(str).tolist() == ["other", "other", "selling", "buying"]
    assert new["charge_date"].dt.strftime("%Y-%m-%d").tolist() == ["2014-05-05", "2015-12-31", "2015-12-31",
                                                                   "2009-02-01"]
    assert chg.loc[chg["statute"] == "PC 236.1", "statute_title"].iloc[0].startswith(
        "Human trafficking (as rewritten by Proposition 35")
