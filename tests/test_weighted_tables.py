"""Weighted (design-based) before/after tables against R's survey package, and what changed for every table.

The tables of :func:`analysis.tables.compare.before_after` with the fixed frame of tests/fixtures/r/frame.csv
are compared, cell by cell, with the committed output of survey_reference.R (R is not needed): percentages to
1e-6 (as proportions), standard errors to 1e-4 (relative), the Rao-Scott F, its degrees of freedom and p-value
and the rank and t tests to 1e-6 (relative); incident and person tables (everyone, and sellers: a domain of the
whole person design), variables with and without missing data (domain estimates).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from analysis.stats.inference import adjust_pvalues
from analysis.tables.compare import Spec, before_after, sampled_reports

from .conftest import EXAMPLE
from .test_r_fixtures import fixture

EST, SE, STAT = dict(abs=1e-6), dict(rel=1e-4, abs=1e-12), dict(rel=1e-6, abs=1e-300)


@pytest.fixture(scope="module")
def derived(cb, cfg):
    from analysis.derive.variables import derive
    from analysis.intake.load import load_coded_tables
    from analysis.intake.validate import validate_tables

    return derive(validate_tables(load_coded_tables(EXAMPLE)).valid, cb, cfg)


@pytest.fixture(scope="module")
def weighted(derived, cb, cfg):
    """(table, population) -> the weighted table's rows, for the fixture's variables."""
    frame = fixture("frame").set_index("report_year")["frame_reports"].to_dict()
    props, means = fixture("proportions"), fixture("means")
    sampled = sampled_reports(derived["incidents"])
    out = {}
    for table, population in (("incidents", "all"), ("persons", "all"), ("persons", "seller")):
        names = sorted(set(props.loc[(props["table"] == table) & (props["population"] == population), "variable"])
                       | set(means.loc[(means["table"] == table) & (means["population"] == population), "variable"]))
        variables = sorted({v.split("__")[0] for v in names})
        ct = before_after(derived[table], table, role=None if population == "all" else population,
                          variables=variables, frame=frame, sampled=sampled, codebook=cb, config=cfg)
        assert ct.weighted
        out[(table, population)] = ct
    return out


def _row(rows: pd.DataFrame, column: str, level: str | None = None) -> pd.Series:
    r = rows[rows["column"] == column]
    if level is not None:
        r = r[r["level"].astype(str) == level]
    assert len(r) >= 1, (column, level)
    return r.iloc[0]


def test_percentages_ses_and_totals_match_r_survey(weighted):
    props = fixture("proportions")
    assert len(props) == 150
    for _, r in props.iterrows():
        rows = weighted[(r["table"], r["population"])].rows
        row = _row(rows, r["variable"], str(r["level"]))
        g = r["group"]
        where = f"{r['table']}/{r['population']}/{r['variable']}/{r['level']}/{g}"
        assert row[f"pct_{g}"] / 100 == pytest.approx(r["proportion"], **EST), where
        assert row[f"se_{g}"] / 100 == pytest.approx(r["se"], **SE), where
        if r["kind"] == "binary":  # totals in the tables for yes/no rows (categories: tests/test_survey.py)
            assert row[f"total_{g}"] == pytest.approx(r["total"], rel=1e-6), where
            assert row[f"total_se_{g}"] == pytest.approx(r["total_se"], **SE), where
        # the counts shown are the unweighted sample's: n with the level, N in the domain
        assert (row[f"n_{g}"], row[f"N_{g}"]) == (r["n"], r["N"]), where
        assert row[f"N_weighted_{g}"] == pytest.approx(r["N_weighted"], rel=1e-12), where


def test_tests_and_differences_match_r_survey(weighted):
    tests = fixture("tests")
    checked = set()
    for (table, population, variable), t in tests.groupby(["table", "population", "variable"]):
        t = t.set_index("test")
        rows = weighted[(table, population)].rows
        first = rows[rows["column"] == variable].iloc[0]
        if "rao_scott_F" in t.index:  # yes/no and categorical rows: the Rao-Scott F is the table's test
            rs = t.loc["rao_scott_F"]
            assert first["test"] == "Rao-Scott F (design-based)"
            assert (first["statistic"], first["df1"], first["df2"]) == pytest.approx(
                (rs["statistic"], rs["df1"], rs["df2"]), **STAT), variable
            assert first["p_value"] == pytest.approx(rs["p_value"], **STAT), variable
        if "difference_wald_z" in t.index:  # the table's difference is before minus after (vice - svu)
            z = t.loc["difference_wald_z"]
            assert first["diff_pp"] / 100 == pytest.approx(-z["estimate"], **EST), variable
            assert first["diff_se"] / 100 == pytest.approx(z["se"], **SE), variable
        if "svyranktest_wilcoxon" in t.index:  # numbers: the design-based Wilcoxon test; the t-test beside it
            rk, tt = t.loc["svyranktest_wilcoxon"], t.loc["svyttest"]
            assert first["test"] == "Wilcoxon rank test (design-based)"
            assert first["p_value"] == pytest.approx(rk["p_value"], **STAT), variable
            assert first["rank_diff"] == pytest.approx(-rk["estimate"], **EST), variable
            assert first["p_ttest"] == pytest.approx(tt["p_value"], **STAT), variable
            assert first["mean_diff"] == pytest.approx(-tt["estimate"], **EST), variable
        checked.add((table, population, variable))
    assert len(checked) == 28  # incidents 14 (10 yes/no, 2 categorical, 2 numbers); persons 7 each for all, sellers


def test_means_match_r_survey(weighted):
    for _, r in fixture("means").iterrows():
        row = _row(weighted[(r["table"], r["population"])].rows, r["variable"])
        g = r["group"]
        assert row[f"mean_{g}"] == pytest.approx(r["mean"], **EST)
        assert row[f"se_{g}"] == pytest.approx(r["se"], **SE)
        assert row[f"N_{g}"] == r["N"]


def test_variables_with_and_without_missing_data_are_both_checked(weighted):
    props = fixture("proportions")
    with_missing, without = set(), set()
    for (table, population, variable), _ in props.groupby(["table", "population", "variable"]):
        rows = weighted[(table, population)].rows
        has = (rows.loc[rows["column"] == variable, "row_type"] == "missing").any()
        (with_missing if has else without).add((table, population, variable))
    assert {("incidents", "all", "interpreter_mode__in_person"), ("incidents", "all", "correctly_identified"),
            ("persons", "all", "age_group"), ("persons", "seller", "tay")} <= with_missing
    assert {("incidents", "all", "misclassified"), ("persons", "all", "hiv_charge")} <= without


def test_overall_column_is_under_the_same_design_and_the_footer_says_so(weighted):
    ct = weighted[("incidents", "all")]
    row = _row(ct.rows, "screened_trafficking", "yes")
    # R: svymean over the whole design, 0.2622; the pooled unweighted share is 335 / 989 = 33.9%
    assert row["pct_overall"] == pytest.approx(26.221384463249658, abs=1e-4)
    assert (row["n_overall"], row["N_overall"]) == (335, 989)
    assert "Overall column: estimated under the same design as the periods (weighted)" in ct.methods_text()


def test_zero_proportion_row_is_tested_with_rao_scott_not_wald(weighted):
    row = _row(weighted[("persons", "all")].rows, "hiv_charge", "yes")
    assert row["pct_svu"] == 0.0 and row["se_svu"] == 0.0
    assert row["p_value"] == pytest.approx(0.0082760711497176648, rel=1e-6)  # R's svychisq F
    assert row["p_wald"] < 1e-4  # the Wald test divides by an SE of 0 in SVU: shown, not used
    assert "valid also when a period's percentage is 0" in weighted[("persons", "all")].methods_text()


# --- missing data outside denominators and tests, in every row type (weighted or not) -------------------


def test_sellers_age_group_and_tay_give_the_same_share_for_18_24(derived, cb, cfg):
    for frame in (None, fixture("frame").set_index("report_year")["frame_reports"].to_dict()):
        ct = before_after(derived["persons"], "persons", role="seller", variables=["age_group", "tay"], frame=frame,
                          n_boot=20, codebook=cb, config=cfg)
        group, tay = _row(ct.rows, "age_group", "18-24"), _row(ct.rows, "tay", "yes")
        nd = _row(ct.rows, "age_group", "not documented")
        assert nd["row_type"] == "missing" and math.isnan(nd["N_vice"])
        for g in ("vice", "svu", "overall"):
            assert (group[f"n_{g}"], group[f"N_{g}"]) == (tay[f"n_{g}"], tay[f"N_{g}"])
            assert group[f"pct_{g}"] == pytest.approx(tay[f"pct_{g}"], rel=1e-12)
        if frame is None:  # the numbers: 69/400 (17.3%) in both rows, not 69/415 in the age-group row
            assert (group["n_vice"], group["N_vice"]) == (69, 400)


def test_a_row_with_nothing_left_to_test_is_not_in_the_holm_family(derived, cb, cfg):
    # buyers: the income stratum is all "not available" (no income lookup): nothing to test
    ct = before_after(derived["persons"], "persons", role="buyer", n_boot=20, codebook=cb, config=cfg)
    rows = ct.rows
    income = rows[rows["column"] == "income_stratum"]
    assert set(income.loc[income["row_type"] == "level", "n_overall"]) == {0}
    assert income.iloc[0]["test"] == "not tested" and math.isnan(income.iloc[0]["p_value"])
    assert income["q_value"].isna().all()
    tested = rows.dropna(subset=["p_value"]).drop_duplicates("column")
    assert "income_stratum" not in set(tested["column"])
    assert tested["q_value"].to_numpy() == pytest.approx(adjust_pvalues(tested["p_value"].to_numpy(), "holm"))


def test_person_tables_test_every_row_type_with_report_clusters(derived, cb, cfg):
    from analysis.stats.inference import categorical_test, rank_sum_test

    ct = before_after(derived["persons"], "persons", variables=["age_group", "age", "hiv_charge"], n_boot=20,
                      codebook=cb, config=cfg)
    rows = ct.rows
    group, age, hiv = _row(rows, "age_group"), _row(rows, "age"), _row(rows, "hiv_charge", "yes")
    assert group["test"] == "Rao-Scott F (report clusters)" and group["df1"] > 1
    assert age["test"] == "Wilcoxon rank test (report clusters)"
    # the naive tests are kept beside them, and are what the table showed before
    per = derived["persons"]
    levels = [c for c in per["age_group"].cat.categories if c != "not documented"]
    counts = [[int(((per["age_group"] == c) & (per["period"] == p)).sum()) for p in ("vice", "svu")] for c in levels]
    assert group["p_naive"] == pytest.approx(categorical_test(counts).p_value)
    x = pd.to_numeric(per["age"], errors="coerce")
    assert age["p_naive"] == pytest.approx(rank_sum_test(x[per["period"] == "vice"], x[per["period"] == "svu"]).p_value)
    # no HIV charge in SVU (13/718 vs 0/739): the GEE cannot be fitted, so the Rao-Scott F with report clusters, not
    # the naive test of the 2 x 2 counts (which the table showed before)
    assert (hiv["n_vice"], hiv["N_vice"], hiv["n_svu"], hiv["N_svu"]) == (13, 718, 0, 739)
    assert hiv["test"] == "Rao-Scott F (report clusters)" and hiv["df1"] == 1
    assert hiv["test_naive"] == "Pearson's chi-squared"
    assert hiv["p_naive"] == pytest.approx(categorical_test([[13, 0], [705, 739]]).p_value)
    assert "Rows with more than two levels: Rao-Scott F test with report clusters" in ct.methods_text()


# --- Monte Carlo p-values in the adjustment ---------------------------------------------------------------


def test_a_monte_carlo_bound_enters_the_adjustment_flagged(cfg):
    # 12 levels with 3 each: levels 1-6 only before, 7-12 only after. More tables with these margins than are
    # enumerated, so the Monte Carlo p-value; no simulated table is as extreme: p < 1/20001
    levels = [f"l{i}" for i in range(12)]
    df = pd.DataFrame({"period": ["vice"] * 18 + ["svu"] * 18 + ["vice", "svu"] * 10,
                       "x": [c for c in levels for _ in range(3)] + ["l0", "l0"] * 10,
                       "y": ["a"] * 18 + ["b"] * 18 + ["a", "b"] * 10})
    specs = [Spec("x", "X", "category", "x", tuple((c, c) for c in levels)),
             Spec("y", "Y", "category", "y", (("a", "a"), ("b", "b")))]
    ct = before_after(df, specs=specs, population="test", cluster=None, config=cfg)
    x, y = _row(ct.rows, "x"), _row(ct.rows, "y")
    assert x["test"].startswith("Fisher's exact (Monte Carlo") and x["p_bound"]
    assert x["p_value"] == pytest.approx(1 / 20001) and x["p_mc_se"] > 0
    assert not y["p_bound"] and y["q_bound"] and x["q_bound"]
    # the bound enters Holm at its value
    assert [x["q_value"], y["q_value"]] == pytest.approx(adjust_pvalues([1 / 20001, y["p_value"]], "holm"))
    assert "the q-values are upper bounds (q_bound)" in ct.methods_text()


def test_smd_column_is_tableones(derived, cb, cfg):
    from analysis.stats.inference import smd_categorical, smd_proportions, standardized_mean_difference

    inc = derived["incidents"]
    ct = before_after(inc, "incidents", variables=["screened_trafficking", "district", "n_persons"], smd=True,
                      codebook=cb, config=cfg)
    rows = ct.rows
    s, d, n = _row(rows, "screened_trafficking", "yes"), _row(rows, "district"), _row(rows, "n_persons")
    assert s["smd"] == pytest.approx(abs(smd_proportions(s["pct_vice"] / 100, s["pct_svu"] / 100)))
    lv = rows[(rows["column"] == "district") & (rows["row_type"] == "level")]
    assert d["smd"] == pytest.approx(smd_categorical(lv["pct_vice"] / 100, lv["pct_svu"] / 100))
    x = pd.to_numeric(inc["n_persons"]).astype(float)
    assert n["smd"] == pytest.approx(abs(standardized_mean_difference(x[inc["period"] == "vice"],
                                                                      x[inc["period"] == "svu"])))
    assert rows.loc[rows["column"] == "district", "smd"].iloc[1:].isna().all()  # once per variable
    assert "smd" not in before_after(inc, "incidents", variables=["district"], codebook=cb, config=cfg).rows
    # tableone on the same variables (district without its missing level)
    tableone = pytest.importorskip("tableone")
    t1 = pd.DataFrame({"period": inc["period"].astype(str),
                       "district": inc["district"].astype(str).where(inc["district"].astype(str) != "-8"),
                       "n_persons": x})
    t1 = tableone.TableOne(t1, columns=["district", "n_persons"], categorical=["district"], groupby="period",
                           smd=True, include_null=False)
    smd_col = [c for c in t1.tableone.columns if "SMD" in str(c)][0]
    got = t1.tableone[smd_col]
    assert abs(float(got.loc[("n_persons, mean (SD)", "")])) == pytest.approx(n["smd"], abs=0.0015)  # signed there
    assert abs(float(got.loc[("district, n (%)", "bayview")])) == pytest.approx(d["smd"], abs=0.0015)
    assert np.isfinite(d["smd"])


def test_a_number_with_no_values_in_a_period_is_not_tested(cb, cfg):
    df = pd.DataFrame({"period": ["vice"] * 3 + ["svu"] * 3, "x": [1.0, 2.0, 3.0, np.nan, np.nan, np.nan]})
    ct = before_after(df, specs=[Spec("x", "X", "number", "x")], population="test", cluster=None, config=cfg)
    row = _row(ct.rows, "x")
    assert row["test"] == "not tested" and math.isnan(row["p_value"]) and math.isnan(row["q_value"])
    assert row["note"] == "needs values in both groups; got 3 and 0 non-missing"
    assert ct.tests_used == ()
