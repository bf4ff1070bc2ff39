"""Tests for analysis.stats.inference against published values.

Each published number carries a comment naming its source and is checked to the precision the source
gives (4 decimals: TOL4). Where no published number was at hand the value is computed by hand and the
arithmetic is written out next to it.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from analysis.stats.inference import (
    MONTE_CARLO_RESAMPLES,
    TestResult,
    _fisher_rxc_enumerated,
    _n_tables_two_columns,
    adjust_pvalues,
    categorical_test,
    newcombe_diff_ci,
    rank_sum_test,
    rate_ratio,
    smd_categorical,
    smd_from_summaries,
    smd_proportions,
    standardized_mean_difference,
    table_seed,
    wilson_ci,
)

TOL4 = 5e-5  # "equal to 4 decimals"
Z = 1.959963984540054  # standard normal 0.975 quantile; Z**2 = 3.841459


# ------------------------------------------------------------------------------------------------
# Wilson interval
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "x, n, low, high",
    [
        # Newcombe RG (1998). Two-sided confidence intervals for the single proportion: comparison of
        # seven methods. Stat Med 17:857-872, Table I, method 3 (score, no continuity correction).
        # 81/263 and 15/148 also appear as "results reported in Newcombe1998" in the propint R
        # package's tests (github.com/m-Py/propint, tests/testthat/test_Single_Proportion_CI.R).
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        # Same table: 0/20 and 1/29. 0/20 by hand: the upper limit is Z^2 / (n + Z^2)
        # = 3.841459 / 23.841459 = 0.16112. 1/29 by hand: centre (x + Z^2/2) / (n + Z^2)
        # = 2.920730 / 32.841459 = 0.088934, half-width Z sqrt(x (n - x) / n + Z^2 / 4) / (n + Z^2)
        # = 1.959964 * sqrt(0.965517 + 0.960365) / 32.841459 = 0.082822 -> 0.006112 to 0.171756.
        (0, 20, 0.0000, 0.1611),
        (1, 29, 0.0061, 0.1718),
        # By hand, x = n: the lower limit is n / (n + Z^2) = 29 / 32.841459 = 0.88303.
        (29, 29, 0.8830, 1.0000),
    ],
)
def test_wilson_matches_newcombe_1998_table_1(x, n, low, high):
    p, lo, hi = wilson_ci(x, n)
    assert p == pytest.approx(x / n)
    assert lo == pytest.approx(low, abs=TOL4)
    assert hi == pytest.approx(high, abs=TOL4)


def test_wilson_edge_cases():
    assert all(math.isnan(v) for v in wilson_ci(0, 0))
    # 90% interval is narrower than 95%
    _, lo90, hi90 = wilson_ci(81, 263, conf=0.90)
    _, lo95, hi95 = wilson_ci(81, 263)
    assert lo95 < lo90 < hi90 < hi95
    with pytest.raises(ValueError):
        wilson_ci(5, 4)
    with pytest.raises(ValueError):
        wilson_ci(1.5, 4)
    with pytest.raises(ValueError):
        wilson_ci(1, 4, conf=95)


# ------------------------------------------------------------------------------------------------
# Newcombe hybrid score interval for p1 - p2
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "x1, n1, x2, n2, low, high",
    [
        # Newcombe RG (1998). Interval estimation for the difference between independent proportions:
        # comparison of eleven methods. Stat Med 17:873-890, Table II, method 10, examples (a)-(h).
        # (a) and (b) are also checked as the paper's results in propint's tests
        # (github.com/m-Py/propint, tests/testthat/test_Two_Independent_Props_CI.R); the same eight
        # pairs of limits appear in other public test suites that cite the paper.
        (56, 70, 48, 80, 0.0524, 0.3339),  # (a)
        (9, 10, 3, 10, 0.1705, 0.8090),  # (b)
        (6, 7, 2, 7, 0.0582, 0.8062),  # (c), worked by hand in test_newcombe_by_hand_6_of_7_vs_2_of_7
        (5, 56, 0, 29, -0.0381, 0.1926),  # (d)
        # Degenerate examples (zeros) of the same table; worked out by hand in the next test.
        (0, 10, 0, 20, -0.1611, 0.2775),  # (e)
        (0, 10, 0, 10, -0.2775, 0.2775),  # (f)
        (10, 10, 0, 20, 0.6791, 1.0000),  # (g)
        (10, 10, 0, 10, 0.6075, 1.0000),  # (h)
    ],
)
def test_newcombe_matches_newcombe_1998_table_2(x1, n1, x2, n2, low, high):
    d, lo, hi = newcombe_diff_ci(x1, n1, x2, n2)
    assert d == pytest.approx(x1 / n1 - x2 / n2)
    assert lo == pytest.approx(low, abs=TOL4)
    assert hi == pytest.approx(high, abs=TOL4)


def test_newcombe_zero_examples_by_hand():
    # Wilson limits with x = 0: (0, Z^2/(n+Z^2)); with x = n: (n/(n+Z^2), 1).
    u10 = Z**2 / (10 + Z**2)  # 0.27752
    u20 = Z**2 / (20 + Z**2)  # 0.16112
    # (e) 0/10 - 0/20: low = 0 - sqrt(0 + u20^2) = -u20; high = 0 + sqrt(u10^2 + 0) = u10.
    assert newcombe_diff_ci(0, 10, 0, 20)[1:] == pytest.approx((-u20, u10), abs=1e-9)
    # (g) 10/10 - 0/20: low = 1 - sqrt((1 - l1)^2 + u20^2) with 1 - l1 = u10:
    # 1 - sqrt(0.27752^2 + 0.16112^2) = 1 - sqrt(0.077018 + 0.025959) = 1 - 0.32090 = 0.67910.
    assert newcombe_diff_ci(10, 10, 0, 20)[1] == pytest.approx(1 - math.hypot(u10, u20), abs=1e-9)
    # (h) 10/10 - 0/10: 1 - sqrt(2) * 0.27752 = 0.60753.
    assert newcombe_diff_ci(10, 10, 0, 10)[1] == pytest.approx(1 - math.sqrt(2) * u10, abs=1e-9)


def test_newcombe_by_hand_6_of_7_vs_2_of_7():
    # Hand computation of method 10 for Newcombe's example (c), 6/7 - 2/7 (d = 0.571429):
    # Wilson 6/7: (0.486872, 0.974320); Wilson 2/7: (0.082219, 0.641066)
    # low  = 0.571429 - sqrt((0.857143 - 0.486872)^2 + (0.641066 - 0.285714)^2)
    #      = 0.571429 - sqrt(0.137100 + 0.126275) = 0.571429 - 0.513201 = 0.058228
    # high = 0.571429 + sqrt((0.974320 - 0.857143)^2 + (0.285714 - 0.082219)^2)
    #      = 0.571429 + sqrt(0.013731 + 0.041410) = 0.571429 + 0.234821 = 0.806250
    _, l1, u1 = wilson_ci(6, 7)
    _, l2, u2 = wilson_ci(2, 7)
    assert (l1, u1, l2, u2) == pytest.approx((0.486872, 0.974320, 0.082219, 0.641066), abs=1e-6)
    d, lo, hi = newcombe_diff_ci(6, 7, 2, 7)
    assert (d, lo, hi) == pytest.approx((0.571429, 0.058228, 0.806250), abs=1e-6)


def test_newcombe_edge_cases():
    assert all(math.isnan(v) for v in newcombe_diff_ci(0, 0, 3, 10))
    assert all(math.isnan(v) for v in newcombe_diff_ci(3, 10, 0, 0))
    # swapping the groups mirrors the interval
    d, lo, hi = newcombe_diff_ci(56, 70, 48, 80)
    d2, lo2, hi2 = newcombe_diff_ci(48, 80, 56, 70)
    assert (d2, lo2, hi2) == pytest.approx((-d, -hi, -lo))
    with pytest.raises(ValueError):
        newcombe_diff_ci(11, 10, 3, 10)


# ------------------------------------------------------------------------------------------------
# Chi-squared / Fisher chooser
# ------------------------------------------------------------------------------------------------


def test_chi_square_r_documentation_example():
    # R, ?chisq.test, example "From Agresti(2007) p.39": party identification by gender,
    # M <- as.table(rbind(c(762, 327, 468), c(484, 239, 477))); chisq.test(M) prints
    # X-squared = 30.07, df = 2, p-value = 2.954e-07 (no continuity correction for 3 columns).
    # By hand: N = 2757, row totals 1557 / 1200, column totals 1246 / 566 / 945; expected
    # E11 = 1557 * 1246 / 2757 = 703.67, E12 = 319.65, E13 = 533.68, E21 = 542.33, E22 = 246.35,
    # E23 = 411.32; X^2 = 58.33^2/703.67 + 7.35^2/319.65 + 65.68^2/533.68 + 58.33^2/542.33
    #                   + 7.35^2/246.35 + 65.68^2/411.32 = 4.84 + 0.17 + 8.08 + 6.27 + 0.22 + 10.49 = 30.07.
    table = pd.DataFrame(
        [[762, 484], [327, 239], [468, 477]],  # rows = levels (party), columns = groups (gender)
        index=["Democrat", "Independent", "Republican"], columns=["F", "M"],
    )
    res = categorical_test(table)
    assert isinstance(res, TestResult)
    assert res.test == "Pearson's chi-squared"
    assert res.statistic == pytest.approx(30.07, abs=0.005)
    assert res.df == 2
    assert res.p_value == pytest.approx(2.954e-07, rel=5e-4)


def test_chi_square_2x2_has_no_continuity_correction():
    # 2 x 2 with all expected counts >= 5: X^2 = N (ad - bc)^2 / (r1 r2 c1 c2), no Yates correction.
    # [[20, 10], [10, 20]]: N = 60, ad - bc = 300, margins all 30:
    # X^2 = 60 * 90000 / 30^4 = 5400000 / 810000 = 6.6667, p = P(chi2_1 > 6.6667) = 0.009823.
    res = categorical_test([[20, 10], [10, 20]])
    assert res.test == "Pearson's chi-squared"
    assert res.statistic == pytest.approx(6.6667, abs=TOL4)
    assert res.p_value == pytest.approx(0.009823, abs=5e-7)


def test_fisher_tea_tasting():
    # R, ?fisher.test, Agresti (1990, p. 61f; 2002, p. 91) Fisher's Tea Drinker:
    # TeaTasting <- matrix(c(3, 1, 1, 3), nrow = 2); fisher.test(TeaTasting, alternative = "greater")
    # "=> p = 0.2429". By hand: hypergeometric with all margins 4, N = 8, C(8,4) = 70 tables;
    # P(x = 3) = C(4,3) C(4,1) / 70 = 16/70, P(x = 4) = 1/70, so one-sided p = 17/70 = 0.2429; the
    # distribution is symmetric, so two-sided p = 34/70 = 0.4857.
    res = categorical_test([[3, 1], [1, 3]])
    assert res.test == "Fisher's exact"
    assert res.p_value == pytest.approx(0.4857, abs=TOL4)
    assert res.p_value == pytest.approx(34 / 70)
    assert math.isnan(res.statistic) and math.isnan(res.df)
    assert "below 5" in res.note
    assert sps.fisher_exact([[3, 1], [1, 3]], alternative="greater").pvalue == pytest.approx(0.2429, abs=TOL4)


def test_fisher_job_satisfaction_r_x_c():
    # R, ?fisher.test, "A r x c table Agresti (2002, p. 57) Job Satisfaction":
    # Job <- matrix(c(1,2,1,0, 3,3,6,1, 10,10,14,9, 6,7,12,11), 4, 4); fisher.test(Job)  # 0.7827
    # The table has more possible tables than the enumeration limit (full enumeration, run once
    # outside the test suite, took 3.5 minutes and gave 0.782685), so the seeded Monte Carlo p-value
    # is used; its standard error is sqrt(0.78 * 0.22 / 20000) = 0.0029, so it must be within 0.01.
    job = np.array([[1, 2, 1, 0], [3, 3, 6, 1], [10, 10, 14, 9], [6, 7, 12, 11]]).T  # income x satisfaction
    res = categorical_test(job)
    assert res.test == f"Fisher's exact (Monte Carlo, {MONTE_CARLO_RESAMPLES} resamples)"
    assert res.p_value == pytest.approx(0.7827, abs=0.01)
    assert categorical_test(job).p_value == res.p_value  # the table's own seed: same p-value every time
    # its Monte Carlo standard error, sqrt(p (1 - p) / B), is in the result; the p-value is not a bound
    assert res.mc_se == pytest.approx(math.sqrt(res.p_value * (1 - res.p_value) / MONTE_CARLO_RESAMPLES), rel=1e-12)
    assert res.mc_se == pytest.approx(0.0029, abs=0.0002) and not res.p_bound
    assert "seed derived from the table" in res.note and f"Monte Carlo SE {res.mc_se:.2g}" in res.note


def test_monte_carlo_seed_is_derived_from_each_table():
    job = np.array([[1, 2, 1, 0], [3, 3, 6, 1], [10, 10, 14, 9], [6, 7, 12, 11]]).T
    other = job.copy()
    other[0, 0] += 1
    same = table_seed(job).generate_state(4).tolist()
    assert table_seed(job.copy()).generate_state(4).tolist() == same  # reproducible
    assert table_seed(other).generate_state(4).tolist() != same  # another table, another stream
    assert table_seed(job.T).generate_state(4).tolist() != same  # the shape is part of the key
    # one shared seed gave every table the same random stream: the p-values' simulation errors were correlated
    # (the first simulated tables of two tables with the same margins were the same tables)
    assert table_seed(job, seed=1).generate_state(4).tolist() != same


def test_monte_carlo_p_below_its_resolution_is_a_bound():
    # the identity table is the most extreme with its margins: no simulated table is as extreme, so
    # (1 + 0) / (B + 1) is an upper bound, reported as such (forced onto the Monte Carlo path with exact_limit=1)
    res = categorical_test([[10, 0, 0], [0, 10, 0], [0, 0, 10]], exact_limit=1, n_resamples=2000)
    assert res.test == "Fisher's exact (Monte Carlo, 2000 resamples)"
    assert res.p_value == pytest.approx(1 / 2001, rel=1e-12) and res.p_bound
    assert "p < 1/2001" in res.note
    assert res.mc_se == pytest.approx(math.sqrt((1 / 2001) * (2000 / 2001) / 2000), rel=1e-9)
    # an exact test is never a bound and has no Monte Carlo error
    exact = categorical_test([[10, 0], [0, 10]])
    assert not exact.p_bound and math.isnan(exact.mc_se)


def test_fisher_r_x_c_exact_by_hand():
    # 2 x 3 table [[2, 1, 0], [0, 1, 2]]: row totals 3, 3; column totals 2, 2, 2; N = 6.
    # P(T) = 3! 3! 2! 2! 2! / (6! prod t_ij!) = 288 / 720 / prod t_ij! = 0.4 / prod t_ij!.
    # Tables: first row a permutation of (2, 1, 0) (6 tables, prod t_ij! = 2 * 2 = 4, P = 0.1 each) or
    # (1, 1, 1) (1 table, P = 0.4); total 6 * 0.1 + 0.4 = 1. The observed P = 0.1, so
    # p = P(T <= 0.1) = 0.6; for [[1, 1, 1], [1, 1, 1]] p = 1.
    res = categorical_test([[2, 1, 0], [0, 1, 2]])
    assert res.test == "Fisher's exact"
    assert res.p_value == pytest.approx(0.6, abs=1e-12)
    assert _fisher_rxc_enumerated(np.array([[1, 1, 1], [1, 1, 1]]), 100) == pytest.approx(1.0)


def test_fisher_enumeration_agrees_with_scipy():
    rng = np.random.default_rng(2017)
    # 2 x 2: the enumeration reproduces SciPy's exact fisher_exact.
    for _ in range(40):
        t = rng.integers(1, 9, size=(2, 2))
        assert _fisher_rxc_enumerated(t, 10**6) == pytest.approx(sps.fisher_exact(t).pvalue, abs=1e-12)
    # r x c with N = 6: SciPy's PermutationMethod lists all 6! = 720 pairings, so it is exact too.
    for t in ([[2, 0, 1], [0, 2, 1]], [[1, 2], [2, 0], [0, 1]], [[3, 0], [0, 2], [1, 0]]):
        t = np.array(t)
        exact = sps.fisher_exact(t, method=sps.PermutationMethod(n_resamples=10**4)).pvalue
        assert _fisher_rxc_enumerated(t, 10**6) == pytest.approx(exact, abs=1e-12)


def test_counting_r_x_2_tables():
    # Row totals 3, 2, 4 and first-column total 5: first columns (x1, x2, x3) with x1 <= 3, x2 <= 2,
    # x3 <= 4 and x1 + x2 + x3 = 5. Listing by x1: x1 = 0 -> (x2, x3) in {(1,4), (2,3)}: 2; x1 = 1 -> 3;
    # x1 = 2 -> 3; x1 = 3 -> 3 (x2 = 0..2). Total 11.
    assert _n_tables_two_columns(np.array([3, 2, 4]), 5, cap=10**6) == 11
    assert _n_tables_two_columns(np.array([3, 2, 4]), 5, cap=4) == 5  # capped at cap + 1


def test_chooser_switches_on_the_smallest_expected_count():
    # [[5, 5], [5, 5]]: every expected count is exactly 5 -> chi-squared (X^2 = 0, p = 1).
    res = categorical_test([[5, 5], [5, 5]])
    assert res.test == "Pearson's chi-squared" and res.p_value == pytest.approx(1.0)
    assert "expected counts >= 5" in res.note
    # [[5, 4], [5, 5]]: row totals 9, 10, column totals 10, 9, N = 19; the smallest expected count is
    # 9 * 9 / 19 = 4.26 < 5 -> Fisher's exact, and the note says so.
    res = categorical_test([[5, 4], [5, 5]])
    assert res.test == "Fisher's exact"
    assert "smallest 4.26" in res.note
    # A 3 x 2 table with one expected count below 5 -> Fisher (enumerated: few tables).
    res = categorical_test(pd.DataFrame({"vice": [30, 20, 1], "svu": [25, 28, 3]}))
    assert res.test == "Fisher's exact"


def test_chooser_drops_empty_rows_and_columns():
    # An all-zero level (row) or group (column) is dropped before the expected counts are computed.
    with_empty = categorical_test([[20, 10, 0], [10, 20, 0], [0, 0, 0]])
    plain = categorical_test([[20, 10], [10, 20]])
    assert with_empty.test == plain.test and with_empty.p_value == plain.p_value
    assert "dropped 1 all-zero row(s) and 1 all-zero column(s)" in with_empty.note
    # Fewer than 2 usable rows or columns: nothing to test.
    for table in ([[5, 7]], [[5], [7]], [[0, 0], [3, 4]], [[0, 0], [0, 0]]):
        res = categorical_test(table)
        assert res.test == "not tested" and math.isnan(res.p_value) and "at least 2" in res.note
    with pytest.raises(ValueError, match="non-negative whole-number"):
        categorical_test([[1, -1], [2, 3]])
    with pytest.raises(ValueError, match="non-negative whole-number"):
        categorical_test([[1.5, 1], [2, 3]])


# ------------------------------------------------------------------------------------------------
# Rank-sum test
# ------------------------------------------------------------------------------------------------


def test_rank_sum_r_documentation_example_exact():
    # R, ?wilcox.test, Hollander & Wolfe (1973, p. 69): permeability constants x (at term) and y
    # (12-26 weeks). wilcox.test(x, y, alternative = "g") gives W = 35, p-value = 0.1272; U is
    # symmetric so the two-sided p-value is 2 * 0.1272 = 0.2544. No ties and n_y = 5 <= 8, so SciPy
    # also uses the exact distribution.
    x = [0.80, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46]
    y = [1.15, 0.88, 0.90, 0.74, 1.21]
    res = rank_sum_test(x, y)
    assert res.statistic == 35
    assert res.p_value == pytest.approx(0.2544, abs=TOL4)
    assert "exact" in res.note and res.test == "Wilcoxon rank-sum"


def test_rank_sum_with_ties_normal_approximation():
    # R output published on endmemo.com/r/wilcoxon.php: wilcox.test(x, y) with ties ->
    # "Wilcoxon rank sum test with continuity correction ... W = 51.5, p-value = 0.5966".
    x = [1, 5, 9, 24, 56, 21, 3, 7, 21, 4]
    y = [12, 15, 5, 9, 9, 14, 56, 22, 3, 7, 32, 5]
    res = rank_sum_test(x, y)
    assert res.statistic == 51.5
    assert res.p_value == pytest.approx(0.5966, abs=TOL4)
    assert "normal approximation" in res.note


def test_rank_sum_drops_missing_values():
    x = [0.80, 0.83, np.nan, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46]
    y = pd.Series([1.15, 0.88, None, 0.90, 0.74, 1.21], dtype="Float64")
    assert rank_sum_test(x, y).p_value == pytest.approx(0.2544, abs=TOL4)
    res = rank_sum_test([np.nan], [1.0, 2.0])
    assert math.isnan(res.p_value) and "both groups" in res.note


# ------------------------------------------------------------------------------------------------
# Rate ratio
# ------------------------------------------------------------------------------------------------


def test_rate_ratio_r_poisson_test_example():
    # R, ?poisson.test: "eba1977, compare Fredericia to other three cities for ages 55-59":
    # poisson.test(c(11, 6+8+7), c(800, 1083+1050+878)) prints p-value = 0.07967,
    # 95 percent CI 0.8584264 4.2772659, rate ratio 1.971488.
    # By hand: rr = (11/800) / (21/3011) = 0.01375 / 0.0069744 = 1.971488; conditional on 32 events,
    # x1 ~ Binomial(32, 800/3811 = 0.20992) under H0.
    rr, lo, hi, p = rate_ratio(11, 800, 21, 1083 + 1050 + 878)
    assert rr == pytest.approx(1.971488, abs=5e-7)
    assert lo == pytest.approx(0.8584264, abs=5e-8)
    assert hi == pytest.approx(4.2772659, abs=5e-8)
    assert p == pytest.approx(0.07967, abs=5e-6)


def test_rate_ratio_zero_counts_by_hand():
    # x1 = 0, x2 = 3, t1 = 10, t2 = 5: rr = 0, lower limit 0. Under H0 x1 ~ Bin(3, 10/15 = 2/3):
    # P(0) = (1/3)^3 = 1/27 = 0.037037 is the smallest probability (P(1) = 6/27, P(2) = 12/27,
    # P(3) = 8/27), so the two-sided p-value is 1/27.
    rr, lo, hi, p = rate_ratio(0, 10, 3, 5)
    assert rr == 0 and lo == 0 and p == pytest.approx(1 / 27)
    # Clopper-Pearson upper limit for 0/3 is 1 - 0.025^(1/3) = 0.707598; rr upper = pi/(1-pi) * 5/10.
    pu = 1 - 0.025 ** (1 / 3)
    assert hi == pytest.approx(pu / (1 - pu) * 0.5, rel=1e-9)
    rr, lo, hi, p = rate_ratio(3, 10, 0, 5)
    assert rr == math.inf and hi == math.inf and lo > 0
    assert all(math.isnan(v) for v in rate_ratio(0, 10, 0, 5))
    with pytest.raises(ValueError):
        rate_ratio(1, 0, 1, 5)


# ------------------------------------------------------------------------------------------------
# Standardized differences
# ------------------------------------------------------------------------------------------------


def test_smd_continuous_by_hand():
    # x = 1..5: mean 3, sample variance 2.5; y = 2, 4, 6, 8: mean 5, sample variance 6.6667.
    # d = (3 - 5) / sqrt((2.5 + 6.6667) / 2) = -2 / sqrt(4.58333) = -2 / 2.140872 = -0.934199.
    assert standardized_mean_difference([1, 2, 3, 4, 5], [2, 4, 6, 8]) == pytest.approx(-0.934199, abs=1e-6)
    assert standardized_mean_difference([2, 4, 6, 8], [1, 2, 3, 4, 5]) == pytest.approx(0.934199, abs=1e-6)
    with_nan = standardized_mean_difference([1, 2, np.nan, 3, 4, 5], [2, 4, 6, 8])
    assert with_nan == pytest.approx(-0.934199, abs=1e-6)
    assert math.isnan(standardized_mean_difference([1], [2, 3]))
    assert standardized_mean_difference([2, 2], [2, 2]) == 0.0


def test_smd_categorical_by_hand_and_against_tableone():
    # two levels: the binary SMD of the second level, unsigned
    assert smd_categorical([0.7, 0.3], [0.8, 0.2]) == pytest.approx(abs(smd_proportions(0.3, 0.2)), rel=1e-12)
    # three levels by hand (Yang & Dalton 2012): drop level 1; T = (0.3 - 0.2, 0.2 - 0.3) = (0.1, -0.1);
    # S = ([[.21, -.06], [-.06, .16]] + [[.16, -.06], [-.06, .21]]) / 2 = [[.185, -.06], [-.06, .185]];
    # det S = .185^2 - .06^2 = .030625; T' adj(S) T = .185 (.01 + .01) - 2 (.06)(.01) = .0025;
    # T' S^-1 T = .0025 / .030625 = 4 / 49, so d = 2 / 7
    assert smd_categorical([0.5, 0.3, 0.2], [0.5, 0.2, 0.3]) == pytest.approx(2 / 7, rel=1e-12)
    # tableone (Python) on the same proportions
    tableone = pytest.importorskip("tableone")
    from tableone.statistics import Statistics

    got = Statistics()._cat_smd(prop1=[0.5, 0.3, 0.2], prop2=[0.4, 0.35, 0.25], n1=100, n2=100)[0]
    assert smd_categorical([0.5, 0.3, 0.2], [0.4, 0.35, 0.25]) == pytest.approx(got, rel=1e-12)
    # a level absent from both groups: the generalised inverse (R tableone) still gives the two-level answer
    assert smd_categorical([0.7, 0.3, 0.0], [0.8, 0.2, 0.0]) == pytest.approx(abs(smd_proportions(0.3, 0.2)))
    assert math.isnan(smd_categorical([1.0], [1.0]))


def test_smd_from_summaries():
    assert smd_from_summaries(3.0, 1.0, 2.0, 1.0) == pytest.approx(1.0)
    assert smd_from_summaries(2.0, 1.0, 3.0, math.sqrt(7)) == pytest.approx(-1 / 2)  # sqrt((1 + 7) / 2) = 2
    assert smd_from_summaries(1.0, 0.0, 1.0, 0.0) == 0.0 and math.isnan(smd_from_summaries(1.0, 0.0, 2.0, 0.0))


def test_smd_binary_by_hand():
    # Austin (2009) eq. 2: d = (p1 - p2) / sqrt((p1 (1 - p1) + p2 (1 - p2)) / 2).
    # p1 = 0.3, p2 = 0.2: (0.1) / sqrt((0.21 + 0.16) / 2) = 0.1 / sqrt(0.185) = 0.1 / 0.430116 = 0.232495.
    assert smd_proportions(0.3, 0.2) == pytest.approx(0.232495, abs=1e-6)
    assert smd_proportions(0.2, 0.3) == pytest.approx(-0.232495, abs=1e-6)
    # p1 = 0.5, p2 = 0: 0.5 / sqrt(0.25 / 2) = 0.5 / 0.353553 = 1.414214.
    assert smd_proportions(0.5, 0.0) == pytest.approx(math.sqrt(2), abs=1e-9)
    assert smd_proportions(0.0, 0.0) == 0.0
    assert math.isnan(smd_proportions(1.0, 0.0))
    with pytest.raises(ValueError):
        smd_proportions(1.2, 0.1)


# ------------------------------------------------------------------------------------------------
# Multiple comparisons
# ------------------------------------------------------------------------------------------------

# Benjamini & Hochberg (1995), JRSS B 57:289-300, section 4: the 15 p-values of the Neuhaus et al.
# trial (also in SciPy's false_discovery_control documentation). The paper: at q = 0.05 the
# step-up procedure rejects the four smallest (0.0095 <= 4/15 * 0.05 = 0.01333; 0.0201 > 0.01667).
BH_1995 = [0.0001, 0.0004, 0.0019, 0.0095, 0.0201, 0.0278, 0.0298, 0.0344,
           0.0459, 0.3240, 0.4262, 0.5719, 0.6528, 0.7590, 1.000]


def test_bh_on_the_benjamini_hochberg_1995_example():
    q = adjust_pvalues(BH_1995, "bh")
    assert (q <= 0.05).sum() == 4 and (q[:4] <= 0.05).all()
    # By hand: q_(i) = min_{j >= i} p_(j) * 15 / j.
    # q_(1) = min(0.0001*15, 0.0004*15/2, 0.0019*15/3, ...) = min(0.0015, 0.003, 0.0095, ...) = 0.0015
    # q_(4) = min(0.0095*15/4 = 0.035625, 0.0201*3 = 0.0603, ...) = 0.035625
    # q_(5) = min(0.0603, 0.0278*2.5 = 0.0695, 0.0298*15/7 = 0.063857, 0.0344*15/8 = 0.0645,
    #             0.0459*15/9 = 0.0765, ...) = 0.0603
    # q_(15) = 1.0
    assert q[0] == pytest.approx(0.0015)
    assert q[3] == pytest.approx(0.035625)
    assert q[4] == pytest.approx(0.0603)
    assert q[14] == pytest.approx(1.0)
    np.testing.assert_allclose(q, sps.false_discovery_control(BH_1995, method="bh"))


def test_holm_by_hand():
    # Holm (1979): sorted p_(i) times (m - i + 1), running maximum, capped at 1.
    # p = 0.01, 0.04, 0.03, 0.005 (m = 4). Sorted: 0.005 * 4 = 0.02, 0.01 * 3 = 0.03,
    # 0.03 * 2 = 0.06, 0.04 * 1 = 0.04 -> running max 0.06. Back in input order: 0.03, 0.06, 0.06, 0.02.
    np.testing.assert_allclose(adjust_pvalues([0.01, 0.04, 0.03, 0.005], "holm"), [0.03, 0.06, 0.06, 0.02])
    # BH on the same: sorted 0.005*4/1 = 0.02, 0.01*4/2 = 0.02, 0.03*4/3 = 0.04, 0.04*4/4 = 0.04.
    np.testing.assert_allclose(adjust_pvalues([0.01, 0.04, 0.03, 0.005], "bh"), [0.02, 0.04, 0.04, 0.02])
    # On the BH 1995 p-values Holm rejects three at 0.05: 0.0019 * 13 = 0.0247, 0.0095 * 12 = 0.114.
    h = adjust_pvalues(BH_1995, "holm")
    assert (h <= 0.05).sum() == 3
    assert h[2] == pytest.approx(0.0247) and h[3] == pytest.approx(0.114)


def test_adjust_pvalues_nan_pass_through_and_are_not_counted():
    out = adjust_pvalues([0.01, np.nan, 0.04, 0.03, 0.005], "holm")
    assert math.isnan(out[1])
    np.testing.assert_allclose(out[[0, 2, 3, 4]], [0.03, 0.06, 0.06, 0.02])  # m = 4, not 5
    assert np.isnan(adjust_pvalues([np.nan, np.nan], "bh")).all()
    assert adjust_pvalues([], "bh").shape == (0,)
    with pytest.raises(ValueError, match="holm"):
        adjust_pvalues([0.1], "bonferroni")
    with pytest.raises(ValueError):
        adjust_pvalues([1.2], "holm")
