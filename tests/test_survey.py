"""analysis.stats.survey: the study's design (strata = year, PSU = report, fpc from the frame) and its estimators.

Small designs worked by hand, the design errors, empty PSUs, and every value R's survey package computed for
the synthetic example (tests/fixtures/r/, made by survey_reference.R; R is not needed here): point estimates to
1e-6, standard errors to 1e-4 (relative), test statistics and p-values to 1e-6 (relative).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from analysis.stats.survey import (
    DesignError,
    category_summary,
    number_summary,
    proportion_summary,
    survey_design,
    weighted_midrank_scores,
)

from .test_r_fixtures import FIXTURES, fixture

GROUPS = ("vice", "svu")
EST, SE, STAT = dict(abs=1e-6), dict(rel=1e-4, abs=1e-12), dict(rel=1e-6, abs=1e-300)


# --- by hand ------------------------------------------------------------------------------------------------


def test_stratified_proportion_and_its_standard_error_by_hand():
    # two strata (years), one row per PSU (report). 2009: 4 of 100 frame reports sampled, y = 1,1,0,0;
    # 2010: 6 of 300 sampled, y = 1,0,0,0,0,0. Weights 25 and 50.
    y = np.array([1, 1, 0, 0, 1, 0, 0, 0, 0, 0], dtype=float)
    year = np.array([2009] * 4 + [2010] * 6)
    d = survey_design([f"r{i}" for i in range(10)], year, population={2009: 100, 2010: 300})
    assert d.weight.tolist() == [25.0] * 4 + [50.0] * 6
    res = proportion_summary(d, y, np.array(["vice"] * 10), ("vice", "svu"))
    # p = (25 * 2 + 50 * 1) / 400 = 0.25 = 0.25 * 2/4 + 0.75 * 1/6
    # var = sum_h W_h^2 (1 - n_h/N_h) p_h (1 - p_h) / (n_h - 1)
    #     = 0.25^2 * 0.96 * 0.25 / 3 + 0.75^2 * 0.98 * (5/36) / 5 = 0.005 + 0.0153125 = 0.0203125
    assert res.by["vice"].estimate == pytest.approx(0.25, rel=1e-14)
    assert res.by["vice"].se == pytest.approx(math.sqrt(0.0203125), rel=1e-12)
    assert res.by["overall"].estimate == pytest.approx(0.25, rel=1e-14)
    # total: 25 * 2 + 50 * 1 = 100 frame reports with y = 1; var = sum_h N_h^2 (1 - f_h) s_h^2 / n_h
    # = 100^2 * 0.96 * (1/3) / 4 + 300^2 * 0.98 * (1/6) / 6 = 800 + 2450 = 3250
    assert res.by["vice"].total == pytest.approx(100.0, rel=1e-14)
    assert res.by["vice"].total_se == pytest.approx(math.sqrt(3250), rel=1e-12)
    assert res.by["vice"].n == 10 and res.by["vice"].n_weighted == pytest.approx(400.0)


def test_a_domain_keeps_the_whole_design():
    # the same sample; y known only on the first 3 reports of 2009 and the first 2 of 2010 (a domain).
    # Ratio estimator: p = sum w y / sum w over the domain = (25 * 2 + 50 * 1) / (25 * 3 + 50 * 2) = 100 / 175.
    # Linearised: z_i = w_i (y_i - p) / 175 in the domain, 0 outside; var = sum_h (1 - f_h) n_h / (n_h - 1) *
    # sum_i (z_hi - mean_h z)^2 over *all* n_h PSUs of the stratum (domain members or not).
    y = np.array([1, 1, 0, np.nan, 1, 0, np.nan, np.nan, np.nan, np.nan])
    year = np.array([2009] * 4 + [2010] * 6)
    d = survey_design([f"r{i}" for i in range(10)], year, population={2009: 100, 2010: 300})
    res = proportion_summary(d, y, np.array(["vice"] * 10), ("vice", "svu"))
    p = 100 / 175
    w = np.array([25.0] * 4 + [50.0] * 6)
    z = np.where(np.isnan(y), 0.0, w * (np.nan_to_num(y) - p) / 175)
    var = 0.0
    for h, n, N in ((2009, 4, 100), (2010, 6, 300)):
        zh = z[year == h]
        var += (1 - n / N) * n / (n - 1) * ((zh - zh.mean()) ** 2).sum()
    assert res.by["vice"].estimate == pytest.approx(p, rel=1e-14)
    assert res.by["vice"].se == pytest.approx(math.sqrt(var), rel=1e-12)
    assert res.by["vice"].n == 5


def test_people_are_elements_of_their_report():
    # two reports in one stratum (of 10 in the frame), the first with 3 people (y 1, 1, 0), the second with 1
    # (y 0). Weights 10 / 2 = 5 for everyone. p = 2/4. Cluster totals of z = w (y - p) / 20: report 1:
    # 5 (0.5 + 0.5 - 0.5) / 20 = 0.125, report 2: 5 (-0.5) / 20 = -0.125; var = (1 - 2/10) * 2/1 * 2 * 0.125^2.
    d = survey_design(["a", "a", "a", "b"], [2009] * 4, population={2009: 10})
    res = proportion_summary(d, np.array([1.0, 1.0, 0.0, 0.0]), np.array(["vice"] * 4), ("vice", "svu"))
    assert res.by["vice"].estimate == pytest.approx(0.5)
    assert res.by["vice"].se == pytest.approx(math.sqrt(0.8 * 2 * 2 * 0.125**2), rel=1e-12)


def test_a_sampled_report_without_rows_is_an_empty_psu():
    # a person table leaves out a sampled report with no people: declared in `sampled`, it counts as a zero in
    # the variance exactly as a report whose rows are all outside the domain
    y = np.array([1.0, 0.0, 1.0, 1.0, 0.0, np.nan])
    psu = ["a", "a", "b", "c", "d", "e"]
    year = [2009] * 6
    with_row = survey_design(psu, year, population={2009: 20})
    without = survey_design(psu[:5], year[:5], population={2009: 20}, sampled={2009: 5})
    g = np.array(["vice"] * 6)
    one = proportion_summary(with_row, y, g, GROUPS).by["vice"]
    two = proportion_summary(without, y[:5], g[:5], GROUPS).by["vice"]
    assert (one.estimate, one.se) == pytest.approx((two.estimate, two.se), rel=1e-14)
    assert without.weight.tolist() == [4.0] * 5  # 20 frame reports / 5 sampled, not / 4 present


def test_unweighted_cluster_design_has_weights_one_and_no_fpc():
    d = survey_design(["a", "a", "b", "c"])
    assert d.weight.tolist() == [1.0] * 4 and d.pop_psus is None and not d.weighted
    res = proportion_summary(d, np.array([1.0, 1.0, 0.0, 0.0]), np.array(["vice"] * 4), GROUPS)
    # p = 0.5; report totals of y - p: 1, -0.5, -0.5 (divided by 4); var = 3/2 * sum (z - 0)^2
    assert res.by["vice"].estimate == 0.5
    assert res.by["vice"].se == pytest.approx(math.sqrt(1.5 * (0.25**2 + 0.125**2 + 0.125**2)), rel=1e-12)


def test_design_errors_name_the_stratum_and_both_numbers():
    psu, year = [f"r{i}" for i in range(5)], [2015] * 5
    with pytest.raises(DesignError, match="stratum 2015: 4 PSUs in the population, fewer than the 5 sampled") as e:
        survey_design(psu, year, population={2015: 4})
    assert (e.value.stratum, e.value.population, e.value.sampled) == (2015, 4, 5)
    with pytest.raises(DesignError, match=r"stratum 2015: no population count \(5 PSUs sampled\)"):
        survey_design(psu, year, population={2014: 10})
    with pytest.raises(DesignError, match="stratum 2015: 5 PSUs in the data but only 3 sampled"):
        survey_design(psu, year, population={2015: 10}, sampled={2015: 3})
    survey_design(psu, year, population={2015: 5})  # a census of the stratum is allowed (fpc 0)


def test_weighted_midrank_scores_are_r_svyranktest_scores():
    # values 3, 1, 3, 2 with weights 1, 2, 1, 4: sorted 1 (w 2), 2 (w 4), 3 (w 1), 3 (w 1); cumsum - w/2:
    # 1, 4, 6.5, 7.5; the tied 3s get (6.5 + 7.5) / 2 = 7; divided by the total weight 8
    got = weighted_midrank_scores(np.array([3.0, 1.0, 3.0, 2.0]), np.array([1.0, 2.0, 1.0, 4.0]))
    assert got.tolist() == pytest.approx([7 / 8, 1 / 8, 7 / 8, 4 / 8])


def test_a_group_with_no_domain_member_is_not_tested():
    d = survey_design(["a", "b", "c", "d"])
    res = proportion_summary(d, np.array([1.0, 0.0, np.nan, np.nan]), np.array(["vice", "vice", "svu", "svu"]),
                             GROUPS)
    assert math.isnan(res.by["svu"].estimate) and math.isnan(res.test.p_value)
    assert res.test.note == "no one in the domain in one of the groups"
    single = category_summary(d, np.array(["x", "x", "x", None], dtype=object),
                              np.array(["vice", "vice", "svu", "svu"]), GROUPS, ["x", "y"])
    assert single.test.note == "a single level in the domain" and math.isnan(single.test.f)


# --- against R's survey package --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def example():
    """The derived example and its designs as the R script builds them (frame.csv; persons: reports as PSUs)."""
    from analysis.derive.variables import derive
    from analysis.intake.load import load_coded_tables
    from analysis.intake.validate import validate_tables

    from .conftest import EXAMPLE

    derived = derive(validate_tables(load_coded_tables(EXAMPLE)).valid)
    inc, per = derived["incidents"], derived["persons"]
    frame = fixture("frame").set_index("report_year")["frame_reports"].to_dict()
    sampled = inc.groupby(inc["report_year"].astype(int))["report_id"].nunique().to_dict()
    designs = {
        "incidents": survey_design(inc["report_id"].to_numpy(), inc["report_year"].astype(int).to_numpy(),
                                   population=frame),
        "persons": survey_design(per["report_id"].to_numpy(), per["report_year"].astype(int).to_numpy(),
                                 population=frame, sampled=sampled),
    }
    return {"incidents": inc, "persons": per}, designs


MISSING = {"-8", "-9", "not documented", "not applicable", "unknown", "", "<NA>", "nan", "None"}


def _in_population(df, population):
    return (df["role"].astype(str) == "seller").to_numpy() if population == "seller" else np.ones(len(df), bool)


def _binary(df, variable, population):
    v = df[variable].astype(object).astype(str)
    y = np.where(v.isin(["yes", "True"]), 1.0, np.where(v.isin(["no", "False"]), 0.0, np.nan))
    y[~_in_population(df, population)] = np.nan
    return y


def _tests(table, population, variable):
    t = fixture("tests")
    return t[(t["table"] == table) & (t["population"] == population) & (t["variable"] == variable)].set_index("test")


def test_proportions_totals_and_tests_match_r_survey(example):
    data, designs = example
    props = fixture("proportions")
    checked = 0
    for (table, population, variable, kind), rows in props.groupby(["table", "population", "variable", "kind"]):
        df, design = data[table], designs[table]
        group = df["period"].astype(str).to_numpy()
        if kind == "binary":
            res = proportion_summary(design, _binary(df, variable, population), group, GROUPS)
            get = (lambda r: res.by[r["group"]])
        else:
            v = df[variable].astype(object).astype(str)
            vals = np.where(v.isin(MISSING) | ~_in_population(df, population), None, v).astype(object)
            res = category_summary(design, vals, group, GROUPS, sorted(rows["level"].astype(str).unique()))
            get = (lambda r: res.by[(r["group"], str(r["level"]))])
        for _, r in rows.iterrows():
            e = get(r)
            where = f"{table}/{population}/{variable}/{r['level']}/{r['group']}"
            assert e.estimate == pytest.approx(r["proportion"], **EST), where
            assert e.se == pytest.approx(r["se"], **SE), where
            assert e.total == pytest.approx(r["total"], rel=1e-6), where
            assert e.total_se == pytest.approx(r["total_se"], **SE), where
            assert e.n == r["N"] and e.n_weighted == pytest.approx(r["N_weighted"], rel=1e-12), where
            checked += 1
        tests = _tests(table, population, variable)
        rs = tests.loc["rao_scott_F"]
        assert (res.test.f, res.test.df1, res.test.df2) == pytest.approx((rs["statistic"], rs["df1"], rs["df2"]), **STAT)
        assert res.test.p_value == pytest.approx(rs["p_value"], **STAT)
        first = tests.loc["rao_scott_chisq"]
        assert (res.test.chisq, res.test.chisq_p) == pytest.approx((first["statistic"], first["p_value"]), **STAT)
        assert res.test.pearson == pytest.approx(tests.loc["pearson_unadjusted", "statistic"], **STAT)
        if kind == "binary":  # R's difference is svu - vice; ours is the table's first group minus the second
            z = tests.loc["difference_wald_z"]
            assert -res.difference.estimate == pytest.approx(z["estimate"], **EST)
            assert res.difference.se == pytest.approx(z["se"], **SE)
    assert checked == 150


def test_means_t_tests_and_rank_tests_match_r_survey(example):
    data, designs = example
    for (table, population, variable), rows in fixture("means").groupby(["table", "population", "variable"]):
        df = data[table]
        x = pd.to_numeric(df[variable], errors="coerce").astype(float).to_numpy()
        x[~_in_population(df, population)] = np.nan
        res = number_summary(designs[table], x, df["period"].astype(str).to_numpy(), GROUPS)
        for _, r in rows.iterrows():
            m = res.means[r["group"]]
            assert (m.estimate, m.n) == (pytest.approx(r["mean"], **EST), r["N"])
            assert m.se == pytest.approx(r["se"], **SE)
        tests = _tests(table, population, variable)
        for name, d in (("svyttest", res.mean_test), ("svyranktest_wilcoxon", res.rank_test)):
            r = tests.loc[name]
            assert -d.estimate == pytest.approx(r["estimate"], **EST), (variable, name)
            assert d.se == pytest.approx(r["se"], **SE), (variable, name)
            assert (d.statistic, d.df) == pytest.approx((-r["statistic"], r["df2"]), **STAT), (variable, name)
            assert d.p_value == pytest.approx(r["p_value"], **STAT), (variable, name)


def test_zero_proportion_keeps_a_valid_rao_scott_test(example):
    # hiv_charge: no SVU person has one. The Wald z of the difference divides by an SE that is 0 in SVU
    # (R: p = 3.0e-5); the Rao-Scott F (R: 0.0083) stays valid, and is the test the tables report.
    data, designs = example
    per = data["persons"]
    res = proportion_summary(designs["persons"], _binary(per, "hiv_charge", "all"), per["period"].astype(str).to_numpy(),
                             GROUPS)
    assert res.by["svu"].estimate == 0.0 and res.by["svu"].se == 0.0
    assert res.test.p_value == pytest.approx(0.0082760711497176648, rel=1e-6)
    assert res.difference.p_value < 1e-4  # the Wald t, not used for the table's test
    assert (FIXTURES / "tests.csv").exists()
