"""Tests of analysis.stats.clustered: GEE test, cluster bootstrap, design effect.

Expected numbers are computed by hand in the tests (2 x 2 odds ratios, Wald intervals, ANOVA ICC arithmetic).
"""

from __future__ import annotations

import math
import time

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from analysis.stats.clustered import cluster_bootstrap_diff, design_effect, gee_binary_test
from analysis.stats.inference import newcombe_diff_ci

Z = norm.ppf(0.975)


def _two_groups(xa: int, na: int, xb: int, nb: int, seed: int = 0):
    """People with the outcome in exact counts: group 'a' has xa of na, 'b' xb of nb, shuffled."""
    rng = np.random.default_rng(seed)
    y = np.r_[np.ones(xa), np.zeros(na - xa), np.ones(xb), np.zeros(nb - xb)]
    g = np.r_[np.full(na, "a"), np.full(nb, "b")]
    perm = rng.permutation(len(y))
    return y[perm], g[perm]


def _wald_diff(xa, na, xb, nb):
    pa, pb = xa / na, xb / nb
    se = math.sqrt(pa * (1 - pa) / na + pb * (1 - pb) / nb)
    return pa - pb, pa - pb - Z * se, pa - pb + Z * se


# --------------------------------------------------------------------------------------------------
# No clustering: every person is their own cluster
# --------------------------------------------------------------------------------------------------


def test_gee_or_equals_2x2_odds_ratio_with_singleton_clusters():
    xa, na, xb, nb = 120, 400, 80, 400
    y, g = _two_groups(xa, na, xb, nb)
    res = gee_binary_test(y, g, np.arange(len(y)), levels=("a", "b"))
    # 2 x 2 odds ratio by hand: (120/280) / (80/320) = 0.428571 / 0.25 = 1.714286
    or_hand = (xa / (na - xa)) / (xb / (nb - xb))
    assert or_hand == pytest.approx(1.7142857142857142)
    assert res.odds_ratio == pytest.approx(or_hand, rel=1e-7)
    assert res.naive_odds_ratio == pytest.approx(or_hand, rel=1e-9)
    # naive Wald interval: exp(log OR +/- z sqrt(1/a + 1/b + 1/c + 1/d))
    se = math.sqrt(1 / xa + 1 / (na - xa) + 1 / xb + 1 / (nb - xb))
    assert res.naive_ci_low == pytest.approx(math.exp(math.log(or_hand) - Z * se), rel=1e-8)
    assert res.naive_ci_high == pytest.approx(math.exp(math.log(or_hand) + Z * se), rel=1e-8)
    # the sandwich variance of a saturated logistic model with singleton clusters equals the model-based one
    assert res.se_log_or == pytest.approx(se, rel=1e-4)
    assert res.p_value == pytest.approx(res.naive_p_value, rel=1e-3)
    assert res.n == 800 and res.n_clusters == 800 and res.events == 200
    assert math.isnan(res.working_correlation)  # no pairs within a cluster
    assert res.note == ""


def test_gee_levels_orient_the_odds_ratio():
    y, g = _two_groups(30, 100, 20, 100)
    ab = gee_binary_test(y, g, np.arange(200), levels=("a", "b"))
    ba = gee_binary_test(y, g, np.arange(200), levels=("b", "a"))
    assert ab.odds_ratio == pytest.approx(1 / ba.odds_ratio, rel=1e-6)
    assert ab.p_value == pytest.approx(ba.p_value, rel=1e-6)
    # default levels: the categories of a categorical in declared order
    cat = pd.Categorical(g, categories=["b", "a"])
    assert gee_binary_test(y, cat, np.arange(200)).levels == ("b", "a")


def test_bootstrap_close_to_wald_and_newcombe_without_clustering():
    xa, na, xb, nb = 600, 1500, 450, 1500  # 0.40 vs 0.30
    y, g = _two_groups(xa, na, xb, nb, seed=1)
    diff, low, high = cluster_bootstrap_diff(y, g, np.arange(len(y)), levels=("a", "b"))
    d, wl, wh = _wald_diff(xa, na, xb, nb)  # 0.1 +/- 1.96 * 0.01732 = (0.0661, 0.1339)
    assert diff == pytest.approx(0.1, abs=1e-12)
    assert (wl, wh) == pytest.approx((0.066053, 0.133947), abs=1e-5)
    assert low == pytest.approx(wl, abs=0.006) and high == pytest.approx(wh, abs=0.006)
    _, nl, nh = newcombe_diff_ci(xa, na, xb, nb)
    assert low == pytest.approx(nl, abs=0.006) and high == pytest.approx(nh, abs=0.006)
    assert (high - low) / (wh - wl) == pytest.approx(1.0, abs=0.08)
    de = design_effect(y, np.arange(len(y)), g)
    assert de.deff == 1.0 and de.deff_empirical == pytest.approx(1.0, abs=1e-12)


# --------------------------------------------------------------------------------------------------
# Strong clustering: everyone on a report shares the outcome
# --------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def clustered_data():
    """400 reports of 4 people per group; a report's people all share its outcome (ICC = 1)."""
    rng = np.random.default_rng(11)
    k, m = 400, 4
    ya = rng.random(k) < 0.40
    yb = rng.random(k) < 0.30
    y = np.repeat(np.r_[ya, yb], m).astype(float)
    g = np.repeat(np.r_[np.full(k, "a"), np.full(k, "b")], m)
    cluster = np.repeat(np.arange(2 * k), m)
    return y, g, cluster


def test_design_effect_of_fully_clustered_reports_is_cluster_size(clustered_data):
    y, g, cluster = clustered_data
    de = design_effect(y, cluster, g)
    # within-cluster variation is zero, so MSW = 0 and ICC = MSB / MSB = 1; deff = 1 + (4 - 1) * 1 = 4
    assert de.icc == pytest.approx(1.0)
    assert de.deff == pytest.approx(4.0)
    assert de.deff_empirical == pytest.approx(4.0)
    assert de.ci_width_ratio == pytest.approx(2.0)
    assert de.effective_n == pytest.approx(len(y) / 4)


def test_clustered_interval_wider_by_sqrt_design_effect(clustered_data):
    y, g, cluster = clustered_data
    xa, na = int(y[g == "a"].sum()), int((g == "a").sum())
    xb, nb = int(y[g == "b"].sum()), int((g == "b").sum())
    _, wl, wh = _wald_diff(xa, na, xb, nb)  # treats 3,200 people as independent
    diff, low, high = cluster_bootstrap_diff(y, g, cluster, levels=("a", "b"))
    assert diff == pytest.approx(xa / na - xb / nb)
    ratio = (high - low) / (wh - wl)
    assert 0.85 * 2.0 < ratio < 1.15 * 2.0  # sqrt(deff) = sqrt(4) = 2
    res = gee_binary_test(y, g, cluster, levels=("a", "b"))
    assert 1.8 < res.se_log_or / res.naive_se_log_or < 2.2
    assert res.p_value > res.naive_p_value
    assert res.working_correlation == pytest.approx(1.0, abs=0.01)


def test_clusters_spanning_both_groups_are_resampled_whole():
    # every report has one person of each group with the same outcome: the difference is 0 in every resample
    rng = np.random.default_rng(5)
    shared = (rng.random(300) < 0.4).astype(float)
    y = np.repeat(shared, 2)
    g = np.tile(["a", "b"], 300)
    cluster = np.repeat(np.arange(300), 2)
    assert cluster_bootstrap_diff(y, g, cluster, n_boot=500, levels=("a", "b")) == (0.0, 0.0, 0.0)


# --------------------------------------------------------------------------------------------------
# The bootstrap: determinism, equivalence with index resampling, speed
# --------------------------------------------------------------------------------------------------


def test_bootstrap_is_deterministic_for_a_seed(clustered_data):
    y, g, cluster = clustered_data
    first = cluster_bootstrap_diff(y, g, cluster, n_boot=500, seed=42, levels=("a", "b"))
    again = cluster_bootstrap_diff(y, g, cluster, n_boot=500, seed=42, levels=("a", "b"))
    other = cluster_bootstrap_diff(y, g, cluster, n_boot=500, seed=43, levels=("a", "b"))
    assert first == again
    assert first[0] == other[0] and first[1:] != other[1:]
    flipped = cluster_bootstrap_diff(y, g, cluster, n_boot=500, seed=42, levels=("b", "a"))
    assert flipped[0] == pytest.approx(-first[0])


def test_multinomial_resampling_matches_resampling_cluster_indices():
    """The fast bootstrap has the same distribution as drawing report indices with replacement."""
    rng = np.random.default_rng(8)
    k = 150
    sizes = rng.choice([1, 2, 3, 5], size=2 * k, p=[0.5, 0.3, 0.15, 0.05])
    p_cluster = np.r_[rng.beta(2, 3, k), rng.beta(2, 5, k)]
    cluster = np.repeat(np.arange(2 * k), sizes)
    y = (rng.random(len(cluster)) < np.repeat(p_cluster, sizes)).astype(float)
    g = np.repeat(np.r_[np.full(k, "a"), np.full(k, "b")], sizes)
    diff, low, high = cluster_bootstrap_diff(y, g, cluster, n_boot=4000, seed=1, levels=("a", "b"))
    # slow reference: resample cluster ids within each group, recompute the pooled proportions
    ids = {lev: np.unique(cluster[g == lev]) for lev in ("a", "b")}
    s = np.bincount(cluster, weights=y)
    m = np.bincount(cluster).astype(float)
    ref_rng = np.random.default_rng(2)
    ref = []
    for _ in range(4000):
        da, db = ref_rng.choice(ids["a"], k), ref_rng.choice(ids["b"], k)
        ref.append(s[da].sum() / m[da].sum() - s[db].sum() / m[db].sum())
    rl, rh = np.quantile(ref, [0.025, 0.975])
    assert (high - low) == pytest.approx(rh - rl, rel=0.08)
    assert (low + high) / 2 == pytest.approx((rl + rh) / 2, abs=0.1 * (rh - rl))


def test_bootstrap_is_fast_on_100000_reports():
    rng = np.random.default_rng(0)
    k = 100_000
    sizes = rng.choice([1, 2, 3], size=k, p=[0.6, 0.3, 0.1])
    cluster = np.repeat(np.arange(k), sizes)
    g = np.repeat(np.where(rng.random(k) < 0.5, "vice", "svu"), sizes)
    y = rng.random(len(cluster)) < 0.3
    assert len(y) > 140_000
    t = time.perf_counter()
    diff, low, high = cluster_bootstrap_diff(y, g, cluster, n_boot=2000, levels=("svu", "vice"))
    assert time.perf_counter() - t < 10.0
    assert low < diff < high


# --------------------------------------------------------------------------------------------------
# Design effect: hand-computed ANOVA ICC
# --------------------------------------------------------------------------------------------------


def test_design_effect_tiny_example_by_hand():
    # clusters: A = [1, 1], B = [0, 0], C = [1, 0, 1]; N = 7, k = 3, ybar = 4/7
    y = [1, 1, 0, 0, 1, 0, 1]
    cluster = ["A", "A", "B", "B", "C", "C", "C"]
    # SSB = 2(1 - 4/7)^2 + 2(0 - 4/7)^2 + 3(2/3 - 4/7)^2 = 18/49 + 32/49 + 12/441 = 22/21; MSB = (22/21)/2 = 11/21
    # SSW = 0 + 0 + (2 - 2^2/3) = 2/3;  MSW = (2/3) / (7 - 3) = 1/6
    # m0 = (7 - (4 + 4 + 9)/7) / 2 = 16/7
    # ICC = (11/21 - 1/6) / (11/21 + (16/7 - 1) * 1/6) = (15/42) / (31/42) = 15/31
    # size-weighted mean size = 17/7;  deff = 1 + (17/7 - 1) * 15/31 = 367/217
    de = design_effect(y, cluster)
    assert de.icc == pytest.approx(15 / 31)
    assert de.cluster_size == pytest.approx(17 / 7)
    assert de.mean_cluster_size == pytest.approx(7 / 3)
    assert de.deff == pytest.approx(367 / 217)
    # empirical: residuals S_i - p m_i = 6/7, -8/7, 2/7; sum of squares 104/49; / N^2 -> 104/2401
    # binomial variance p(1-p)/N = 12/343; ratio = 104/84 = 26/21
    assert de.deff_empirical == pytest.approx(26 / 21)
    assert (de.n, de.n_clusters) == (7, 3)


def test_design_effect_within_groups_does_not_count_the_group_difference():
    # group a: 10 reports each [1, 1, 1, 0]; group b: 10 reports each [1, 0, 0, 0]
    y = np.r_[np.tile([1, 1, 1, 0], 10), np.tile([1, 0, 0, 0], 10)]
    g = np.repeat(["a", "b"], 40)
    cluster = np.repeat(np.arange(20), 4)
    # pooled: SSB = 80 * 0.25^2 = 5, MSB = 5/19; SSW = 20 * (3 - 9/4) = 15, MSW = 15/60 = 1/4; m0 = 4
    # ICC = (5/19 - 1/4) / (5/19 + 3/4) = (1/76) / (77/76) = 1/77
    assert design_effect(y, cluster).icc == pytest.approx(1 / 77)
    # within groups every report equals its group's mean: MSB = 0, ICC = -MSW / ((4 - 1) MSW) = -1/3
    within = design_effect(y, cluster, g)
    assert within.icc == pytest.approx(-1 / 3)
    assert within.deff == pytest.approx(0.0)
    # identical reports: each report's residual S_i - p m_i is 0, so no cluster variance at all
    assert within.deff_empirical == pytest.approx(0.0)


# --------------------------------------------------------------------------------------------------
# Graceful fall-backs and missing values
# --------------------------------------------------------------------------------------------------


def test_gee_returns_nan_with_note_when_not_estimable():
    cl = np.arange(8)
    g = np.array(list("aaaabbbb"))
    constant = gee_binary_test(np.zeros(8), g, cl, levels=("a", "b"))
    assert math.isnan(constant.odds_ratio) and math.isnan(constant.p_value) and "never" in constant.note
    empty = gee_binary_test([1, 0, 1, 0], ["a"] * 4, range(4), levels=("a", "b"))
    assert math.isnan(empty.p_value) and "'b'" in empty.note
    separated = gee_binary_test([0, 0, 0, 0, 1, 0, 1, 1], g, cl, levels=("a", "b"))
    assert math.isnan(separated.odds_ratio)
    assert "0 for every person in group 'a'" in separated.note and "exact test" in separated.note
    with pytest.raises(ValueError, match="levels"):
        gee_binary_test([0, 1, 1], ["a", "b", "c"], [1, 2, 3])
    assert all(math.isnan(v) for v in cluster_bootstrap_diff([1, 0, 1], ["a"] * 3, [1, 2, 3], levels=("a", "b")))


def test_missing_values_are_dropped_and_counted():
    y = pd.array([True, False, None, True, False, True, None, False], dtype="boolean")
    g = pd.Categorical(list("aaaabbbb"), categories=["a", "b"])
    res = gee_binary_test(y, g, range(8))
    assert res.n == 6 and "2 rows" in res.note
    diff, _, _ = cluster_bootstrap_diff(y, g, range(8), n_boot=50)
    assert diff == pytest.approx(2 / 3 - 1 / 3)
    with pytest.raises(ValueError, match="0/1"):
        gee_binary_test([0, 2, 1], ["a", "b", "a"], [1, 2, 3])


# --------------------------------------------------------------------------------------------------
# The synthetic example: people on the same report
# --------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def persons():
    from analysis.derive.variables import derive
    from analysis.intake.load import load_coded_tables
    from analysis.intake.validate import validate_tables

    from .conftest import EXAMPLE

    return derive(validate_tables(load_coded_tables(EXAMPLE)).valid)["persons"]


def test_synthetic_selling_charge_person_level(persons):
    y, g, c = persons["charge__selling"], persons["period"], persons["report_id"]
    res = gee_binary_test(y, g, c, levels=("svu", "vice"))
    assert res.n == len(persons) and res.n_clusters == persons["report_id"].nunique()
    assert res.odds_ratio < 1 and res.ci_high < 1  # fewer selling charges per person after the change
    assert res.se_log_or >= res.naive_se_log_or * 0.99
    diff, low, high = cluster_bootstrap_diff(y, g, c, levels=("svu", "vice"))
    assert low < diff < high < 0
    de = design_effect(y, c, g)
    assert de.deff_empirical > 1.0 and de.n_clusters == persons["report_id"].nunique()


# --- the closed-form GEE (independence) used by the comparison tables -------------------------------------


def _clustered_sample(seed=3, k=300):
    rng = np.random.default_rng(seed)
    sizes = rng.integers(1, 5, size=k)
    cluster = np.repeat(np.arange(k), sizes)
    group = np.where(cluster < k // 2, "vice", "svu")
    report_effect = rng.normal(0, 1.0, size=k)[cluster]
    y = (rng.random(len(cluster)) < 1 / (1 + np.exp(-(-0.5 + 0.6 * (group == "vice") + report_effect)))).astype(float)
    return y, pd.Categorical(group, categories=["vice", "svu"]), cluster


def test_closed_form_equals_statsmodels_gee_independence():
    from analysis.stats.clustered import cluster_robust_binary_test

    y, group, cluster = _clustered_sample()
    fast = cluster_robust_binary_test(y, group, cluster, levels=("vice", "svu"))
    slow = gee_binary_test(y, group, cluster, levels=("vice", "svu"), cov_struct="independence")
    assert fast.odds_ratio == pytest.approx(slow.odds_ratio, rel=1e-8)
    assert fast.se_log_or == pytest.approx(slow.se_log_or, rel=1e-6)
    assert fast.p_value == pytest.approx(slow.p_value, rel=1e-5)
    assert fast.naive_se_log_or == pytest.approx(slow.naive_se_log_or, rel=1e-6)
    # the odds ratio is the plain 2 x 2 one
    a = y[np.asarray(group) == "vice"]
    b = y[np.asarray(group) == "svu"]
    assert fast.odds_ratio == pytest.approx((a.mean() / (1 - a.mean())) / (b.mean() / (1 - b.mean())))


def test_closed_form_reports_a_degenerate_group():
    from analysis.stats.clustered import cluster_robust_binary_test

    r = cluster_robust_binary_test([1, 1, 0, 0], ["a", "a", "b", "b"], [1, 2, 3, 4], levels=("a", "b"))
    assert math.isnan(r.p_value) and "all 0 or all 1" in r.note
