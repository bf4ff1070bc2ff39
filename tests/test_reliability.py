"""Tests for analysis.coders.reliability (double-coding sample, reliability table, disagreement list), the second
synthetic coder (analysis.coders.second_coder) and the ``reliability`` CLI commands.

Published numbers embedded as coded variables:
* Krippendorff (2011), *Computing Krippendorff's Alpha-Reliability*, binary example (two observers, ten units):
  A = 0 1 0 0 0 0 0 0 1 0, B = 1 1 1 0 0 1 0 0 0 0 -> nominal alpha = 0.095.
  By hand: n = 20 values, o_01 = 4, n_0 = 14, n_1 = 6: alpha = 1 - 19 * 4 / (14 * 6) = 0.0952;
  agreement 6/10; kappa = (0.6 - 0.56) / (1 - 0.56) = 0.0909.
* Wikipedia, "Cohen's kappa", worked example: 50 proposals, both yes 20, A yes / B no 5, A no / B yes 10, both no 15
  -> kappa = 0.4 (p_o = 0.7, p_e = 0.5). Krippendorff's alpha by hand on the same data:
  n = 100, o_yn = 15, n_yes = 55, n_no = 45: alpha = 1 - 99 * 15 / (55 * 45) = 0.4.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

from analysis.cli.app import main
from analysis.coders import second_coder as synth_recode
from analysis.coders.reliability import (
    DISAGREEMENT_BASE,
    RELIABILITY_COLUMNS,
    coder_name,
    disagreement_counts,
    disagreements,
    double_coding_sample,
    needs_retraining,
    reliability_flag,
    reliability_table,
    report_periods,
)
from analysis.coders.second_coder import ERROR_RATES, second_coder_example, second_coding
from analysis.coders.synth import generate
from analysis.intake.load import load_coded_tables, tables_from_frames
from analysis.intake.validate import validate_tables
from analysis.scheme.config import load_study_config, paths
from analysis.stats.agreement import cohen_kappa, krippendorff_alpha

EXAMPLE = paths().example
SECOND = EXAMPLE / "second_coder"
TABLES = ("incidents", "persons", "charges")


def valid(frames: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Validate text frames; fail the test unless every row is valid."""
    res = validate_tables(tables_from_frames({t: frames[t].drop(columns="_row", errors="ignore") for t in TABLES}))
    assert res.exit_code == 0, res.summary()
    return res.valid


def copy_of(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    return {t: df.copy() for t, df in tables.items()}


def row(table: pd.DataFrame, variable: str, option: str = "") -> pd.Series:
    hit = table[(table["variable"] == variable) & (table["option"] == option)]
    assert len(hit) == 1, f"{variable}:{option} -> {len(hit)} rows"
    return hit.iloc[0]


@pytest.fixture(scope="module")
def ten():
    return valid(generate(10, seed=7))


@pytest.fixture(scope="module")
def fifty():
    return valid(generate(50, seed=11))


# --- published examples as coded variables ----------------------------------------------------------------


def test_krippendorff_binary_example_as_a_coded_variable(ten):
    a, b = copy_of(ten), copy_of(ten)
    yes_no = {0: "no", 1: "yes"}
    a["incidents"]["screened_trafficking"] = [yes_no[x] for x in [0, 1, 0, 0, 0, 0, 0, 0, 1, 0]]
    b["incidents"]["screened_trafficking"] = [yes_no[x] for x in [1, 1, 1, 0, 0, 1, 0, 0, 0, 0]]
    b["incidents"]["coder_id"] = "coder_b"
    t = reliability_table({"A": valid(a), "B": valid(b)}, n_boot=50, seed=1)
    r = row(t, "screened_trafficking")
    assert r["table"] == "incidents" and r["level"] == "nominal" and r["label"] == "Screened for trafficking"
    assert r["n_units"] == 10 and r["n_units_all_coders"] == 10
    assert r["percent_agreement"] == pytest.approx(60.0)
    assert round(r["alpha"], 3) == 0.095  # Krippendorff (2011)
    assert r["alpha"] == pytest.approx(1 - 19 * 4 / (14 * 6), abs=1e-12)
    assert r["kappa"] == pytest.approx((0.6 - 0.56) / 0.44, abs=1e-12)
    assert r["kappa_low"] < r["kappa"] < r["kappa_high"]
    assert r["alpha_low"] <= r["alpha"] <= r["alpha_high"]
    assert r["flag"] == "unreliable"
    # everything else was copied: perfect agreement wherever there is variation
    other = t[(t["variable"] != "screened_trafficking") & t["alpha"].notna()]
    assert (other["alpha"] == 1.0).all() and (other["flag"] == "reliable").all()


def test_cohen_kappa_wikipedia_example_as_a_coded_variable(fifty):
    a, b = copy_of(fifty), copy_of(fifty)
    pairs = [("yes", "yes")] * 20 + [("yes", "no")] * 5 + [("no", "yes")] * 10 + [("no", "no")] * 15
    a["incidents"]["minors_involved"] = [p[0] for p in pairs]
    b["incidents"]["minors_involved"] = [p[1] for p in pairs]
    t = reliability_table({"A": valid(a), "B": valid(b)}, n_boot=50, seed=1)
    r = row(t, "minors_involved")
    assert r["kappa"] == pytest.approx(0.4, abs=1e-12)  # Wikipedia, "Cohen's kappa"
    assert r["alpha"] == pytest.approx(1 - 99 * 15 / (55 * 45), abs=1e-12)  # = 0.4 by hand
    assert r["percent_agreement"] == pytest.approx(70.0)
    # Fleiss-Cohen-Everitt CI, symmetric around kappa
    assert r["kappa_high"] - r["kappa"] == pytest.approx(r["kappa"] - r["kappa_low"])
    assert 0.1 < r["kappa_low"] < 0.4 < r["kappa_high"] < 0.7
    assert r["flag"] == "unreliable"


def test_kappa_only_for_two_coders_alpha_for_three(ten):
    a, b, c = copy_of(ten), copy_of(ten), copy_of(ten)
    a["incidents"]["screened_trafficking"] = ["yes"] * 5 + ["no"] * 5
    b["incidents"]["screened_trafficking"] = ["yes"] * 5 + ["no"] * 5
    c["incidents"]["screened_trafficking"] = ["yes"] * 4 + ["no"] * 6
    t = reliability_table({"A": valid(a), "B": valid(b), "C": valid(c)}, n_boot=20)
    r = row(t, "screened_trafficking")
    assert math.isnan(r["kappa"]) and math.isnan(r["kappa_low"])
    data = [["yes"] * 5 + ["no"] * 5, ["yes"] * 5 + ["no"] * 5, ["yes"] * 4 + ["no"] * 6]
    assert r["alpha"] == pytest.approx(krippendorff_alpha(data, "nominal"), abs=1e-12)
    # unit 5: one disagreeing pair of three
    assert r["percent_agreement"] == pytest.approx(100 * (9 + 1 / 3) / 10)


# --- flags, levels and missing codes ----------------------------------------------------------------------


@pytest.mark.parametrize("alpha, flag", [
    (1.0, "reliable"), (0.800, "reliable"), (0.7999, "tentative"), (0.667, "tentative"),
    (0.6669, "unreliable"), (-0.2, "unreliable"), (float("nan"), "no variation"),
])
def test_reliability_flag_thresholds(alpha, flag):
    assert reliability_flag(alpha) == flag


def test_flags_in_the_table(ten):
    a, b = copy_of(ten), copy_of(ten)
    for t in (a, b):
        t["incidents"]["sfpd_label"] = "prostitution"  # no variation at all
    b["incidents"].loc[0, "district"] = "park" if a["incidents"].loc[0, "district"] != "park" else "taraval"
    t = reliability_table({"A": valid(a), "B": valid(b)}, n_boot=20)
    assert row(t, "sfpd_label")["flag"] == "no variation" and math.isnan(row(t, "sfpd_label")["alpha"])
    assert row(t, "district")["alpha"] < 1 and row(t, "district")["flag"] in ("reliable", "tentative", "unreliable")
    assert row(t, "district")["flag"] == reliability_flag(row(t, "district")["alpha"])
    # ids, the coder id and persons' report_id (level none) are not assessed
    assert not set(t["variable"]) & {"report_id", "coder_id", "person_code"}
    assert list(t.columns) == RELIABILITY_COLUMNS
    flagged = needs_retraining(t)
    assert set(flagged["flag"]) <= {"tentative", "unreliable", "no variation"}
    assert "sfpd_label" in set(flagged["variable"])


def test_no_overlap_means_not_double_coded(ten):
    a = copy_of(ten)
    b = valid(generate(3, seed=99))
    b["incidents"]["report_id"] = ["OTHER-1", "OTHER-2", "OTHER-3"]  # nothing in common (validation not needed)
    b["persons"]["person_code"] = [f"OTHER-P{i}" for i in range(len(b["persons"]))]
    t = reliability_table({"A": a, "B": b}, n_boot=5)
    assert (t["n_units"] == 0).all() and (t["flag"] == "not double-coded").all()


def test_missing_codes_are_categories_for_nominal_and_missing_for_interval(ten):
    a, b = copy_of(ten), copy_of(ten)
    a["incidents"]["district"] = ["mission"] * 5 + ["central"] * 5
    b["incidents"]["district"] = ["-8"] + ["mission"] * 4 + ["central"] * 5
    a["persons"]["age"] = [str(20 + i) for i in range(len(a["persons"]))]
    b["persons"]["age"] = ["-8"] + [str(20 + i) for i in range(1, len(b["persons"]))]
    t = reliability_table({"A": valid(a), "B": valid(b)}, n_boot=20)
    d = row(t, "district")
    assert d["n_units"] == 10 and d["percent_agreement"] == pytest.approx(90.0)
    assert d["alpha"] == pytest.approx(krippendorff_alpha(
        [["mission"] * 5 + ["central"] * 5, ["-8"] + ["mission"] * 4 + ["central"] * 5], "nominal"))
    age = row(t, "age")
    n_people = len(a["persons"])
    assert age["level"] == "interval" and age["n_units"] == n_people - 1 and age["n_units_all_coders"] == n_people - 1
    assert age["alpha"] == pytest.approx(1.0) and math.isnan(age["kappa"])


def test_ordinal_assessment_uses_codebook_order(ten):
    a, b = copy_of(ten), copy_of(ten)
    a["incidents"]["trafficking_assessment"] = ["established"] * 3 + ["indicators_not_established"] * 3 + ["none"] * 4
    b["incidents"]["trafficking_assessment"] = (["established"] * 2 + ["indicators_not_established"] * 4
                                                + ["none"] * 4)
    t = reliability_table({"A": valid(a), "B": valid(b)}, n_boot=20)
    r = row(t, "trafficking_assessment")
    assert r["level"] == "ordinal"
    ranks = {"established": 0, "indicators_not_established": 1, "none": 2}
    data = [[ranks[v] for v in a["incidents"]["trafficking_assessment"]],
            [ranks[v] for v in b["incidents"]["trafficking_assessment"]]]
    assert r["alpha"] == pytest.approx(krippendorff_alpha(data, "ordinal"), abs=1e-12)
    assert r["kappa"] == pytest.approx(cohen_kappa(*data), abs=1e-12)


# --- multi-select options and charge categories -----------------------------------------------------------


def test_multi_select_rows_per_option(ten):
    a, b = copy_of(ten), copy_of(ten)
    a["incidents"]["investigating_unit"] = ["vice", "vice;district_station", "svu", "-8", "svu",
                                            "vice", "svu;district_station", "vice", "svu", "vice"]
    b["incidents"]["investigating_unit"] = ["vice;district_station", "vice", "svu", "svu", "svu",
                                            "vice", "svu;district_station", "vice", "svu", "district_station"]
    t = reliability_table({"A": valid(a), "B": valid(b)}, n_boot=20)
    options = t.loc[t["variable"] == "investigating_unit", "option"].tolist()
    assert options == ["", "vice", "svu", "district_station"]  # codebook order; 'other' unused -> no row
    ds = row(t, "investigating_unit", "district_station")
    assert ds["label"] == "Investigating unit(s): District station" and ds["level"] == "nominal"
    a_ds = ["0", "1", "0", "-8", "0", "0", "1", "0", "0", "0"]
    b_ds = ["1", "0", "0", "0", "0", "0", "1", "0", "0", "1"]
    assert ds["percent_agreement"] == pytest.approx(60.0)
    assert ds["alpha"] == pytest.approx(krippendorff_alpha([a_ds, b_ds], "nominal"), abs=1e-12)
    assert ds["kappa"] == pytest.approx(cohen_kappa(a_ds, b_ds), abs=1e-12)
    vice = row(t, "investigating_unit", "vice")
    a_v = ["1", "1", "0", "-8", "0", "1", "0", "1", "0", "1"]
    b_v = ["1", "1", "0", "0", "0", "1", "0", "1", "0", "0"]
    assert vice["alpha"] == pytest.approx(krippendorff_alpha([a_v, b_v], "nominal"), abs=1e-12)
    whole = row(t, "investigating_unit")
    assert whole["percent_agreement"] == pytest.approx(60.0)


def _charge_case():
    """Two reports; report 1: a seller and a buyer, report 2: a seller."""
    inc = generate(2, seed=3)["incidents"]
    per = pd.DataFrame([
        {"person_code": "P1", "report_id": inc.loc[0, "report_id"], "role": "seller", "age": "30",
         "gender_identity": "female", "race_recorded": "W", "race_ethnicity": "white",
         "residence_zip": "-9", "limited_english": "no",
         "person_interpreter_used": "-9", "outcome": "cited", "person_phone_seized": "no"},
        {"person_code": "P2", "report_id": inc.loc[0, "report_id"], "role": "buyer", "age": "45",
         "gender_identity": "male", "race_recorded": "C", "race_ethnicity": "asian",
         "residence_zip": "94110", "limited_english": "no",
         "person_interpreter_used": "-9", "outcome": "cited", "person_phone_seized": "no"},
        {"person_code": "P3", "report_id": inc.loc[1, "report_id"], "role": "seller", "age": "25",
         "gender_identity": "female", "race_recorded": "B", "race_ethnicity": "black",
         "residence_zip": "-9", "limited_english": "no",
         "person_interpreter_used": "-9", "outcome": "booked", "person_phone_seized": "no"},
    ])
    r1, r2 = inc.loc[0, "report_id"], inc.loc[1, "report_id"]
    chg_a = pd.DataFrame([(r1, "P1", "647(b) PC"), (r1, "P2", "647(b) PC"), (r2, "P3", "PC 653.22"),
                          (r2, "P3", "647(f) PC")], columns=["report_id", "person_code", "statute"])
    chg_b = pd.DataFrame([(r1, "P1", "PC 647(b)"), (r1, "P2", "647b"), (r2, "P3", "653.22 PC"),
                          (r2, "P3", "647f PC")], columns=["report_id", "person_code", "statute"])
    a = valid({"incidents": inc, "persons": per, "charges": chg_a})
    inc_b = inc.copy()
    inc_b["coder_id"] = "coder_b"
    b = valid({"incidents": inc_b, "persons": per, "charges": chg_b})
    return a, b, r1, r2


def test_charge_categories_per_person():
    a, b, _, _ = _charge_case()
    t = reliability_table({"A": a, "B": b}, n_boot=20)
    charges = t[t["table"] == "charges"]
    # respellings are not disagreements; 647(b) of a buyer is buying; 647(f) vs 647f is other vs hiv
    assert charges["option"].tolist() == ["", "selling", "buying", "hiv", "other"]
    assert (charges["n_units"] == 3).all()
    assert row(charges, "statute", "selling")["percent_agreement"] == pytest.approx(100.0)
    assert row(charges, "statute", "buying")["percent_agreement"] == pytest.approx(100.0)
    hiv = row(charges, "statute", "hiv")
    assert hiv["label"] == "Charge category: HIV-specific"
    assert hiv["percent_agreement"] == pytest.approx(100 * 2 / 3)
    assert hiv["alpha"] == pytest.approx(krippendorff_alpha([["0", "0", "0"], ["0", "0", "1"]], "nominal"))
    assert row(charges, "statute", "other")["percent_agreement"] == pytest.approx(100 * 2 / 3)


# --- the disagreement list --------------------------------------------------------------------------------


def test_disagreement_list_exact(ten):
    a, b = copy_of(ten), copy_of(ten)
    inc_a = a["incidents"]
    ids = inc_a["report_id"].tolist()
    b["incidents"] = b["incidents"][b["incidents"]["report_id"].isin(ids[:3])].reset_index(drop=True)
    b["persons"] = b["persons"][b["persons"]["report_id"].isin(ids[:3])].reset_index(drop=True)
    b["charges"] = b["charges"][b["charges"]["report_id"].isin(ids[:3])].reset_index(drop=True)
    b["incidents"]["coder_id"] = "kb"
    # report 2: district and the origin differ
    b["incidents"].loc[1, "district"] = "park" if inc_a.loc[1, "district"] != "park" else "taraval"
    b["incidents"].loc[1, "origin"] = "tip" if inc_a.loc[1, "origin"] != "tip" else "patrol"
    # first person on report 1: age one year off
    p = b["persons"].index[b["persons"]["report_id"] == ids[0]][0]
    pcode = b["persons"].loc[p, "person_code"]
    a["persons"].loc[a["persons"]["person_code"] == pcode, "age"] = "30"
    b["persons"].loc[p, "age"] = "31"
    # a report only coded by A differs from nothing: not listed
    a["incidents"].loc[5, "district"] = "-8"
    a, b = valid(a), valid(b)
    got = disagreements({"ka": a, "kb": b})
    expected = pd.DataFrame([
        {"report_id": ids[0], "table": "persons", "person_code": pcode, "variable": "age", "ka": "30", "kb": "31"},
        {"report_id": ids[1], "table": "incidents", "person_code": "", "variable": "district",
         "ka": inc_a.loc[1, "district"], "kb": b["incidents"].loc[1, "district"]},
        {"report_id": ids[1], "table": "incidents", "person_code": "", "variable": "origin",
         "ka": inc_a.loc[1, "origin"], "kb": b["incidents"].loc[1, "origin"]},
    ], columns=DISAGREEMENT_BASE + ["ka", "kb"])
    pd.testing.assert_frame_equal(got, expected)
    counts = disagreement_counts(got)
    assert counts.to_dict("records") == [
        {"table": "incidents", "variable": "district", "disagreements": 1},
        {"table": "incidents", "variable": "origin", "disagreements": 1},
        {"table": "persons", "variable": "age", "disagreements": 1},
    ]


def test_disagreements_on_charges_and_people_listed_by_one_coder():
    a, b, r1, r2 = _charge_case()
    b["persons"] = b["persons"][b["persons"]["person_code"] != "P2"].reset_index(drop=True)
    b["charges"] = b["charges"][b["charges"]["person_code"] != "P2"].reset_index(drop=True)
    got = disagreements({"A": a, "B": b})
    assert got.to_dict("records") == [
        {"report_id": r1, "table": "persons", "person_code": "P2", "variable": "person_code",
         "A": "listed", "B": "not listed"},
        {"report_id": r2, "table": "charges", "person_code": "P3", "variable": "statute",
         "A": "PC 647(f); PC 653.22", "B": "PC 647f; PC 653.22"},
    ]


def test_disagreements_empty_when_codings_agree(ten):
    got = disagreements({"A": ten, "B": copy_of(ten)})
    assert got.empty and list(got.columns) == DISAGREEMENT_BASE + ["A", "B"]


def test_coder_name(ten):
    assert coder_name(ten, "folder") == "folder"  # synth_a/b/c: several coders
    one = copy_of(ten)
    one["incidents"]["coder_id"] = "jd"
    assert coder_name(one, "folder") == "jd"


# --- the double-coding sample ------------------------------------------------------------------------------


def _reports(n_vice: int, n_svu: int) -> pd.DataFrame:
    years = [2009, 2010] * (n_vice // 2) + [2009] * (n_vice % 2) + [2014, 2015] * (n_svu // 2) + [2015] * (n_svu % 2)
    return pd.DataFrame({"report_id": [f"R{i:04d}" for i in range(len(years))], "report_year": [str(y) for y in years]})


def test_sample_size_allocation_and_reproducibility():
    inc = _reports(300, 100)
    ids = double_coding_sample(inc, fraction=0.2, minimum=50, seed=5)
    assert len(ids) == 80 and ids == sorted(ids) and len(set(ids)) == 80
    per = report_periods(inc).set_index("report_id").loc[ids, "period"]
    assert (per == "vice").sum() == 60 and (per == "svu").sum() == 20
    # same seed, any row order -> same sample; another seed -> another sample
    shuffled = inc.sample(frac=1, random_state=1).reset_index(drop=True)
    assert double_coding_sample(shuffled, fraction=0.2, minimum=50, seed=5) == ids
    assert double_coding_sample(inc, fraction=0.2, minimum=50, seed=6) != ids


def test_sample_minimum_and_take_all():
    inc = _reports(70, 30)
    ids = double_coding_sample(inc, fraction=0.2, minimum=50, seed=1)  # 20 < 50 -> 50
    per = report_periods(inc).set_index("report_id").loc[ids, "period"]
    assert len(ids) == 50 and (per == "vice").sum() == 35 and (per == "svu").sum() == 15
    small = _reports(20, 10)
    assert double_coding_sample(small, fraction=0.2, minimum=50, seed=1) == sorted(small["report_id"])
    assert len(double_coding_sample(_reports(7, 6), fraction=0.5, minimum=0, seed=1)) == 7  # ceil(6.5)


def test_sample_of_the_example_and_bad_years():
    inc = load_coded_tables(EXAMPLE)["incidents"].frame
    ids = double_coding_sample(inc, fraction=0.2, minimum=50, seed=20171115)
    per = report_periods(inc).set_index("report_id").loc[ids, "period"]
    assert len(ids) == 198 and (per == "vice").sum() == 99 and (per == "svu").sum() == 99
    bad = _reports(10, 10)
    bad.loc[3, "report_year"] = "2012"
    with pytest.raises(ValueError, match="R0003"):
        double_coding_sample(bad, config=load_study_config())


# --- the second synthetic coder -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def example_frames():
    return generate(989, 20171115)


@pytest.fixture(scope="module")
def second_example(example_frames):
    return second_coder_example(example_frames, seed=20171115)


def test_shipped_second_coder_files_equal_a_fresh_regeneration(second_example, tmp_path):
    for name in TABLES:
        fresh = tmp_path / f"{name}.csv"
        second_example[name].to_csv(fresh, index=False, lineterminator="\n")
        assert (SECOND / f"{name}.csv").read_bytes() == fresh.read_bytes(), name


def test_shipped_second_coder_files_validate():
    res = validate_tables(load_coded_tables(SECOND))
    assert res.exit_code == 0, res.summary()
    assert len(res.valid["incidents"]) == 198 and set(res.valid["incidents"]["coder_id"]) == {"synth_b2"}


def test_second_coding_is_deterministic_and_covers_the_reports(example_frames):
    ids = double_coding_sample(example_frames["incidents"], seed=3)[:40]
    one = second_coding(example_frames, ids, seed=9)
    two = second_coding(example_frames, ids, seed=9)
    other = second_coding(example_frames, ids, seed=10)
    for t in TABLES:
        pd.testing.assert_frame_equal(one[t], two[t])
    assert not one["incidents"].equals(other["incidents"])
    assert sorted(one["incidents"]["report_id"]) == sorted(ids)
    persons = example_frames["persons"]
    assert sorted(one["persons"]["person_code"]) == sorted(persons.loc[persons["report_id"].isin(ids), "person_code"])
    assert set(one["incidents"]["coder_id"]) == {"synth_b2"}
    assert set(second_coding(example_frames, ids[:2], seed=9, coder_id="kb")["incidents"]["coder_id"]) == {"kb"}
    with pytest.raises(ValueError, match="NOPE"):
        second_coding(example_frames, ["NOPE"], seed=1)


@pytest.mark.parametrize("seed", [1, 2])
def test_second_coding_always_valid(seed):
    frames = generate(300, seed=seed)
    ids = frames["incidents"]["report_id"].tolist()  # every report, so every path is exercised
    valid(second_coding(frames, ids, seed=seed))


def test_error_rates_are_documented():
    lines = [line.strip() for line in synth_recode.__doc__.splitlines()]

    def documented(var: str, rate: float) -> bool:
        return any(line.split()[:1] == [var] and f" {rate:.2f}" in line for line in lines)

    for var, rate in ERROR_RATES.items():
        assert documented(var, rate), var
    block = " ".join(lines[next(i for i, x in enumerate(lines) if x.startswith("trafficking_assessment")):][:3])
    for code, rate in synth_recode.ASSESSMENT_RATES.items():
        assert f"{code} -> " in block and f"{rate:.2f}" in block, code
    assert documented("trafficking_indicators", synth_recode.INDICATOR_NONE_TO_ONE)


@pytest.fixture(scope="module")
def example_reliability():
    codings = {"example": validate_tables(load_coded_tables(EXAMPLE)).valid,
               "synth_b2": validate_tables(load_coded_tables(SECOND)).valid}
    return reliability_table(codings, n_boot=1)


def test_built_in_reliability_on_the_shipped_example(example_reliability):
    t = example_reliability
    alpha = {v: row(t, v)["alpha"] for v in ("report_year", "district", "origin", "trafficking_assessment",
                                            "condoms_evidence", "interpreter_mode", "trafficking_indicators")}
    assert row(t, "report_year")["n_units"] == 198
    for v in ("report_year", "district"):
        assert alpha[v] > 0.95 and row(t, v)["flag"] == "reliable", v
    for v in ("origin", "trafficking_assessment"):
        assert 0.667 <= alpha[v] < 0.8 and row(t, v)["flag"] == "tentative", v
    for v in ("condoms_evidence", "interpreter_mode", "trafficking_indicators"):
        assert alpha[v] < 0.667 and row(t, v)["flag"] == "unreliable", v
    ind = t[(t["variable"] == "trafficking_indicators") & (t["option"] != "") & (t["option"] != "none")]
    assert (ind["alpha"] < 0.667).sum() >= 6
    # the values reported in the module docstring
    assert round(alpha["report_year"], 2) == 0.99 and round(alpha["district"], 2) == 0.98
    assert round(alpha["origin"], 2) == 0.76 and round(alpha["trafficking_assessment"], 2) == 0.78
    assert round(alpha["condoms_evidence"], 2) == 0.62 and round(alpha["interpreter_mode"], 2) == 0.52
    assert round(alpha["trafficking_indicators"], 2) == 0.42


# --- the CLI ---------------------------------------------------------------------------------------------


def test_cli_sample(tmp_path, capsys):
    out = tmp_path / "sample.csv"
    rc = main(["reliability", "sample", str(EXAMPLE), "--fraction", "0.2", "--min", "50", "--seed", "20171115",
               "--out", str(out)])
    assert rc == 0
    df = pd.read_csv(out, dtype=str)
    assert list(df.columns) == ["report_id", "period"]
    inc = load_coded_tables(EXAMPLE)["incidents"].frame
    assert df["report_id"].tolist() == double_coding_sample(inc, 0.2, 50, seed=20171115)
    assert df["period"].value_counts().to_dict() == {"vice": 99, "svu": 99}
    text = capsys.readouterr().out
    assert "198 of 989" in text and "SYNTHETIC DATA" in text
    # no --out: the list goes to stdout
    assert main(["reliability", "sample", str(EXAMPLE), "--min", "5", "--fraction", "0.01"]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[0] == "report_id,period" and len(printed) == 1 + 10


def test_cli_report_writes_the_files(tmp_path, capsys):
    out = tmp_path / "rel"
    rc = main(["reliability", "report", str(EXAMPLE), str(SECOND), "--out", str(out), "--n-boot", "20",
               "--seed", "1"])
    assert rc == 0
    rel = pd.read_csv(out / "reliability.csv", keep_default_na=False, na_values=[""])
    assert list(rel.columns) == RELIABILITY_COLUMNS
    dis = pd.read_csv(out / "disagreements.csv", dtype=str, keep_default_na=False)
    assert list(dis.columns) == DISAGREEMENT_BASE + ["example", "synth_b2"]  # folder name, then coder_id
    assert len(dis) > 100 and (dis["example"] != dis["synth_b2"]).all()
    from openpyxl import load_workbook

    wb = load_workbook(out / "disagreements.xlsx")
    ws = wb["disagreements"]
    assert ws.freeze_panes == "A2"
    assert [c.value for c in ws[1]] == DISAGREEMENT_BASE + ["example", "synth_b2"]
    assert ws.max_row == len(dis) + 1
    text = capsys.readouterr().out
    assert "SYNTHETIC DATA" in text and "condoms_evidence" in text and "unreliable" in text
    assert "Flagged" in text


def test_cli_report_errors(tmp_path, capsys):
    assert main(["reliability", "report", str(EXAMPLE), "--out", str(tmp_path)]) == 2
    assert main(["reliability", "report", str(EXAMPLE), str(tmp_path / "nope"), "--out", str(tmp_path)]) == 2
    assert "nope" in capsys.readouterr().err
