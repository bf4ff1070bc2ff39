"""Tests for analysis.stats.agreement against published worked examples.

Every published number is checked to the precision it was published with
(3 decimals unless stated) and carries a comment naming its source.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from scipy import stats

from analysis.stats import agreement as rs

NAN = np.nan
TOL3 = 5e-4  # "equal to 3 decimals"

# Krippendorff, K. (2011). Computing Krippendorff's Alpha-Reliability.
# Departmental Papers (ASC), Annenberg School for Communication, UPenn:
# the worked example with four observers, 12 units and missing data (the
# paper computes nominal alpha on it and reports the ordinal, interval and
# ratio alphas of the same data).  Observers A-D (rows) x units 1-12 (columns); "." = missing.
# The layout was double-checked against the copy used by the `krippendorff`
# PyPI package (github.com/pln-fing-udelar/fast-krippendorff,
# tests/test_krippendorff.py), which cites the same paper.
KRIPP_2011 = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, NAN, NAN, NAN],  # observer A
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, NAN, 3],  # observer B
    [NAN, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, NAN],  # observer C
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, NAN],  # observer D
]

# Krippendorff (2011), worked example for binary data, two observers, no
# missing data (also in Krippendorff 2004, Content Analysis 2nd ed., ch. 11).
KRIPP_BINARY = [
    [0, 1, 0, 0, 0, 0, 0, 0, 1, 0],  # observer A
    [1, 1, 1, 0, 0, 1, 0, 0, 0, 0],  # observer B
]

# Wikipedia, "Krippendorff's alpha", section "A computational example":
# 3 coders x 15 units with missing data.  Also used in the `krippendorff`
# PyPI package's tests (nominal 0.691358, interval 0.810845).
WIKI_ALPHA = [
    [NAN, NAN, NAN, NAN, NAN, 3, 4, 1, 2, 1, 1, 3, 3, NAN, 3],
    [1, NAN, 2, 1, 3, 3, 4, 3, NAN, NAN, NAN, NAN, NAN, NAN, NAN],
    [NAN, NAN, 2, 1, 3, 4, 4, NAN, 2, 1, 1, 3, 3, NAN, 4],
]


def _expand_table(table):
    """Turn a contingency table of counts into two coders' code sequences."""
    a, b = [], []
    for i, row in enumerate(table):
        for j, count in enumerate(row):
            a += [i] * count
            b += [j] * count
    return a, b


# --------------------------------------------------------------------------
# Krippendorff's alpha: published values
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("level", "published"),
    [
        ("nominal", 0.743),  # Krippendorff (2011), 4 observers x 12 units example
        ("ordinal", 0.815),  # Krippendorff (2011), same data, ordinal metric
        ("interval", 0.849),  # Krippendorff (2011), same data, interval metric
        ("ratio", 0.797),  # Krippendorff (2011), same data, ratio metric
    ],
)
def test_alpha_krippendorff_2011_four_observers(level, published):
    assert rs.krippendorff_alpha(KRIPP_2011, level) == pytest.approx(published, abs=TOL3)


def test_alpha_krippendorff_2011_binary_two_observers():
    # Krippendorff (2011), binary example: alpha = 1 - (n-1) o_01 / (n_0 n_1)
    # = 1 - 19 * 4 / (14 * 6) = 0.095.
    alpha = rs.krippendorff_alpha(KRIPP_BINARY, "nominal")
    assert alpha == pytest.approx(0.095, abs=TOL3)
    assert alpha == pytest.approx(1 - 19 * 4 / (14 * 6), abs=1e-12)


@pytest.mark.parametrize(
    ("level", "published"),
    [
        ("nominal", 0.691),  # Wikipedia "Krippendorff's alpha", computational example
        ("interval", 0.811),  # same page, interval version of the same example
    ],
)
def test_alpha_wikipedia_example(level, published):
    assert rs.krippendorff_alpha(WIKI_ALPHA, level) == pytest.approx(published, abs=TOL3)


# --------------------------------------------------------------------------
# Cohen's kappa: published values
# --------------------------------------------------------------------------


def test_kappa_wikipedia_two_by_two():
    # Wikipedia, "Cohen's kappa", simple worked example: 50 grant proposals,
    # Yes/Yes 20, Yes/No 5, No/Yes 10, No/No 15 -> p_o = 0.7, p_e = 0.5,
    # kappa = 0.4.
    a = ["Yes"] * 25 + ["No"] * 25
    b = ["Yes"] * 20 + ["No"] * 5 + ["Yes"] * 10 + ["No"] * 15
    assert rs.cohen_kappa(a, b) == pytest.approx(0.4, abs=TOL3)
    assert rs.percent_agreement([a, b]) == pytest.approx(0.7, abs=TOL3)


def test_kappa_fleiss_levin_paik_table_18_1():
    # Fleiss, Levin & Paik (2003), Statistical Methods for Rates and
    # Proportions, 3rd ed., Table 18.1: two raters, 100 subjects, diagnoses
    # psychotic / neurotic / organic.  Cell proportions (x100):
    #   [.75 .01 .04; .05 .04 .01; .00 .00 .10]
    # p_o = 0.89, p_e = 0.66, kappa = 0.676.  (The book's standard error for
    # this table was not confirmed in this session and is not asserted here;
    # the SE formula is checked against SAS output below.)
    a, b = _expand_table([[75, 1, 4], [5, 4, 1], [0, 0, 10]])
    assert rs.cohen_kappa(a, b) == pytest.approx(0.676, abs=TOL3)
    assert rs.percent_agreement([a, b]) == pytest.approx(0.89, abs=1e-12)


def test_kappa_ci_sas_proc_freq_output():
    # SAS PROC FREQ "Simple Kappa Coefficient" printout for the 3x3 table
    # [[0, 4, 1], [0, 8, 0], [0, 1, 5]], as reproduced in statsmodels'
    # test suite (statsmodels/stats/tests/test_inter_rater.py, "table10"):
    # Kappa 0.4842, ASE 0.1380, 95% CL 0.2137 .. 0.7547  (4 decimals).
    # SAS's ASE is the Fleiss-Cohen-Everitt (1969) non-null standard error.
    a, b = _expand_table([[0, 4, 1], [0, 8, 0], [0, 1, 5]])
    kappa, low, high = rs.cohen_kappa_ci(a, b, conf=0.95)
    tol4 = 5e-5
    assert kappa == pytest.approx(0.4842, abs=tol4)
    assert low == pytest.approx(0.2137, abs=tol4)
    assert high == pytest.approx(0.7547, abs=tol4)
    se = (high - kappa) / stats.norm.ppf(0.975)
    assert se == pytest.approx(0.1380, abs=tol4)
    assert kappa - low == pytest.approx(high - kappa, abs=1e-12)


# --------------------------------------------------------------------------
# Percent agreement
# --------------------------------------------------------------------------


def test_percent_agreement_pairwise_definition():
    # Unit 1: values 1,1,1 -> 3/3 pairs agree; unit 2: 1,2,2 -> 1/3;
    # unit 3: 2,2 (one missing) -> 1/1; unit 4: a single value -> ignored.
    data = [[1, 1, 2, 5], [1, 2, 2, NAN], [1, 2, NAN, NAN]]
    assert rs.percent_agreement(data) == pytest.approx((1 + 1 / 3 + 1) / 3, abs=1e-12)
    assert math.isnan(rs.percent_agreement([[1, NAN], [NAN, 2]]))


# --------------------------------------------------------------------------
# Sanity properties
# --------------------------------------------------------------------------


def test_kappa_close_to_alpha_for_large_samples():
    # With two coders, no missing data and equal marginals, nominal alpha
    # tends to Scott's pi, which equals Cohen's kappa when the coders'
    # marginals coincide; the two differ by terms of order 1/n and by the
    # gap between the coders' marginals (Krippendorff 2004, ch. 11).
    rng = np.random.default_rng(12345)
    n = 20_000
    truth = rng.choice(4, size=n, p=[0.4, 0.3, 0.2, 0.1])

    def code():
        flip = rng.random(n) < 0.3
        return np.where(flip, rng.choice(4, size=n, p=[0.4, 0.3, 0.2, 0.1]), truth)

    a, b = code(), code()
    kappa = rs.cohen_kappa(a, b)
    alpha = rs.krippendorff_alpha([a, b], "nominal")
    assert 0.3 < kappa < 0.9
    assert alpha == pytest.approx(kappa, abs=0.005)


@pytest.mark.parametrize("level", rs.LEVELS)
def test_alpha_perfect_agreement_is_one(level):
    data = [[1, 2, 3, 4, 5], [1, 2, 3, 4, 5], [1, 2, NAN, 4, 5]]
    assert rs.krippendorff_alpha(data, level) == 1.0


def test_kappa_perfect_agreement_is_one():
    assert rs.cohen_kappa([1, 2, 3, 1], [1, 2, 3, 1]) == 1.0
    assert rs.cohen_kappa_ci([1, 2, 3, 1], [1, 2, 3, 1]) == (1.0, 1.0, 1.0)


@pytest.mark.parametrize("level", rs.LEVELS)
def test_alpha_no_variation_is_nan(level):
    assert math.isnan(rs.krippendorff_alpha([[2, 2, 2], [2, 2, NAN]], level))
    # no unit with two values: alpha undefined too
    assert math.isnan(rs.krippendorff_alpha([[1, NAN], [NAN, 2]], level))


def test_kappa_undefined_is_nan():
    assert math.isnan(rs.cohen_kappa(["x", "x"], ["x", "x"]))
    assert all(math.isnan(v) for v in rs.cohen_kappa_ci(["x", "x"], ["x", "x"]))


def test_bad_level_raises_with_message():
    msg = "level must be one of 'nominal', 'ordinal', 'interval', 'ratio'; got 'circular'"
    with pytest.raises(ValueError, match=re.escape(msg)):
        rs.krippendorff_alpha(KRIPP_2011, level="circular")
    with pytest.raises(ValueError, match=re.escape(msg)):
        rs.krippendorff_alpha_ci(KRIPP_2011, level="circular")


def test_non_2d_input_raises():
    with pytest.raises(ValueError, match=re.escape("data must be a 2-D coders x units array")):
        rs.krippendorff_alpha([1, 2, 3])
    with pytest.raises(ValueError, match=re.escape("data must be a 2-D coders x units array")):
        rs.krippendorff_alpha(np.zeros((2, 3, 4)))
    with pytest.raises(ValueError, match=re.escape("data must be a 2-D coders x units array")):
        rs.percent_agreement([[1, 2], [1]])  # ragged


def test_non_numeric_labels_rejected_for_metric_levels():
    with pytest.raises(ValueError, match=re.escape("level='interval' requires numeric values")):
        rs.krippendorff_alpha([["a", "b"], ["a", "c"]], "interval")
    with pytest.raises(ValueError, match=re.escape("level='ratio' requires non-negative values")):
        rs.krippendorff_alpha([[-1, 2], [1, 2]], "ratio")


def test_kappa_input_validation():
    with pytest.raises(ValueError, match=re.escape("a and b must have the same length")):
        rs.cohen_kappa([1, 2, 3], [1, 2])
    with pytest.raises(ValueError, match=re.escape("a must be 1-D")):
        rs.cohen_kappa([[1, 2]], [1, 2])


# --------------------------------------------------------------------------
# Missing values
# --------------------------------------------------------------------------


def test_missing_none_and_nan_equivalent_and_strings():
    as_none = [[None if (isinstance(v, float) and math.isnan(v)) else v for v in row] for row in KRIPP_2011]
    labels = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five"}
    as_str = [[None if v is None else labels[int(v)] for v in row] for row in as_none]
    as_str_nan = [[NAN if v is None else v for v in row] for row in as_str]
    expected = rs.krippendorff_alpha(KRIPP_2011, "nominal")
    assert rs.krippendorff_alpha(as_none, "nominal") == pytest.approx(expected, abs=1e-12)
    assert rs.krippendorff_alpha(as_str, "nominal") == pytest.approx(expected, abs=1e-12)
    assert rs.krippendorff_alpha(as_str_nan, "nominal") == pytest.approx(expected, abs=1e-12)
    obj = np.array(as_str, dtype=object)
    assert rs.krippendorff_alpha(obj, "nominal") == pytest.approx(expected, abs=1e-12)
    for level in ("ordinal", "interval", "ratio"):
        assert rs.krippendorff_alpha(as_none, level) == pytest.approx(
            rs.krippendorff_alpha(KRIPP_2011, level), abs=1e-12
        )
    assert rs.percent_agreement(as_str) == pytest.approx(rs.percent_agreement(KRIPP_2011), abs=1e-12)


def test_units_with_single_value_are_dropped():
    # Krippendorff (2011): units with fewer than two values are unpairable
    # and do not affect alpha (unit 12 of the example is one such unit).
    extra = [row + [7 if i == 0 else NAN] for i, row in enumerate(KRIPP_2011)]
    for level in rs.LEVELS:
        assert rs.krippendorff_alpha(extra, level) == pytest.approx(
            rs.krippendorff_alpha(KRIPP_2011, level), abs=1e-12
        )


def test_kappa_drops_incomplete_pairs():
    a = ["Y", "N", None, "Y", NAN, "N", "Y"]
    b = ["Y", "Y", "N", NAN, "N", "N", "Y"]
    complete_a = ["Y", "N", "N", "Y"]
    complete_b = ["Y", "Y", "N", "Y"]
    assert rs.cohen_kappa(a, b) == pytest.approx(rs.cohen_kappa(complete_a, complete_b), abs=1e-12)
    assert rs.cohen_kappa(a, b) == pytest.approx(0.5, abs=1e-12)  # p_o=.75, p_e=.5


# --------------------------------------------------------------------------
# Bootstrap CI
# --------------------------------------------------------------------------


@pytest.mark.parametrize("level", rs.LEVELS)
def test_alpha_bootstrap_ci(level):
    alpha, low, high = rs.krippendorff_alpha_ci(KRIPP_2011, level, n_boot=500, seed=7)
    assert alpha == rs.krippendorff_alpha(KRIPP_2011, level)
    assert low <= alpha <= high
    assert -1.0 < low < high <= 1.0
    again = rs.krippendorff_alpha_ci(KRIPP_2011, level, n_boot=500, seed=7)
    assert again == (alpha, low, high)  # exact reproducibility for a seed
    other = rs.krippendorff_alpha_ci(KRIPP_2011, level, n_boot=500, seed=8)
    assert other[0] == alpha
    assert other[1:] != (low, high)


def test_alpha_bootstrap_ci_argument_checks():
    with pytest.raises(ValueError, match=re.escape("n_boot must be a positive integer")):
        rs.krippendorff_alpha_ci(KRIPP_2011, n_boot=0)
    with pytest.raises(ValueError, match=re.escape("conf must be strictly between 0 and 1")):
        rs.krippendorff_alpha_ci(KRIPP_2011, conf=95)


def test_kappa_ci_narrows_with_conf():
    a, b = _expand_table([[20, 5], [10, 15]])
    k90 = rs.cohen_kappa_ci(a, b, conf=0.90)
    k99 = rs.cohen_kappa_ci(a, b, conf=0.99)
    assert k99[1] < k90[1] < k90[0] < k90[2] < k99[2]


# --------------------------------------------------------------------------
# Cross-check against an independent slow implementation
# --------------------------------------------------------------------------


def _slow_alpha(data, level):
    """Straightforward pure-Python Krippendorff's alpha (double loops over values).

    D_o = (1/n) Sum_u Sum_{i != j in u} delta(v_i, v_j) / (m_u - 1)
    D_e = 1/(n(n-1)) Sum_{p != q over all pairable values} delta(v_p, v_q)
    """

    def missing(v):
        return v is None or (isinstance(v, float) and math.isnan(v))

    units = []
    for u in range(len(data[0])):
        vals = [row[u] for row in data if not missing(row[u])]
        if len(vals) >= 2:
            units.append(vals)
    pool = [v for vals in units for v in vals]
    n = len(pool)
    counts = {}
    for v in pool:
        counts[v] = counts.get(v, 0) + 1

    def delta(c, k):
        if level == "nominal":
            return 0.0 if c == k else 1.0
        if level == "interval":
            return (c - k) ** 2
        if level == "ratio":
            return 0.0 if c + k == 0 else ((c - k) / (c + k)) ** 2
        lo, hi = min(c, k), max(c, k)  # ordinal, straight from the definition
        between = sum(cnt for g, cnt in counts.items() if lo <= g <= hi)
        return (between - (counts[c] + counts[k]) / 2) ** 2

    d_o = 0.0
    for vals in units:
        m = len(vals)
        for i in range(m):
            for j in range(m):
                if i != j:
                    d_o += delta(vals[i], vals[j]) / (m - 1)
    d_o /= n
    d_e = 0.0
    for p in range(n):
        for q in range(n):
            if p != q:
                d_e += delta(pool[p], pool[q])
    d_e /= n * (n - 1)
    return 1.0 - d_o / d_e


def _random_reliability_data(rng, n_coders, n_units, continuous):
    if continuous:
        truth = rng.normal(10, 3, size=n_units)
        data = np.abs(truth + rng.normal(0, 1.5, size=(n_coders, n_units)))
        data = np.round(data, 2)
    else:
        truth = rng.integers(0, 6, size=n_units)
        noise = rng.integers(-1, 2, size=(n_coders, n_units)) * (rng.random((n_coders, n_units)) < 0.4)
        data = np.clip(truth + noise, 0, 5).astype(float)
    data[rng.random(data.shape) < 0.3] = np.nan
    return data


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("level", ["nominal", "interval", "ordinal", "ratio"])
def test_alpha_matches_slow_reference(seed, level):
    rng = np.random.default_rng(seed)
    for continuous in (False, True):
        if continuous and level == "nominal":
            continue
        data = _random_reliability_data(rng, n_coders=4, n_units=25, continuous=continuous)
        rows = [[None if np.isnan(v) else float(v) for v in row] for row in data]
        fast = rs.krippendorff_alpha(data, level)
        slow = _slow_alpha(rows, level)
        assert fast == pytest.approx(slow, abs=1e-10)


def test_alpha_matches_slow_reference_on_published_example():
    rows = [[None if isinstance(v, float) and math.isnan(v) else v for v in row] for row in KRIPP_2011]
    for level in rs.LEVELS:
        assert rs.krippendorff_alpha(KRIPP_2011, level) == pytest.approx(_slow_alpha(rows, level), abs=1e-10)


def test_nominal_alpha_on_100k_random_units_is_chance_level():
    # speed is measured in bench/, not here
    rng = np.random.default_rng(0)
    data = rng.integers(0, 5, size=(2, 100_000)).astype(float)
    data[0, rng.random(100_000) < 0.1] = np.nan
    assert abs(rs.krippendorff_alpha(data, "nominal")) < 0.05  # independent random codes


# --------------------------------------------------------------------------
# The vectorised bootstrap (issue 15): the same resamples as a loop over them
# --------------------------------------------------------------------------


def _loop_bootstrap(data, level, n_boot, seed):
    """The bootstrap as it was written before issue 15: one resample at a time, each drawing its N unit
    indices with rng.integers(0, N, size=N) and recomputing alpha from the units' multiplicities."""
    p, level = rs._prepare_alpha(data, level)
    rng = np.random.default_rng(seed)
    N = p.n_units
    return np.array([rs._alpha_core(p, level, np.bincount(rng.integers(0, N, size=N), minlength=N).astype(float))
                     for _ in range(n_boot)])


@pytest.mark.parametrize("level", rs.LEVELS)
def test_alpha_bootstrap_ci_is_unchanged_for_the_seed(level):
    # Computed with the per-resample loop of the version before issue 15 (n_boot=500, seed=7): the
    # vectorised bootstrap draws the same resamples, so the interval is the same.
    before = {
        "nominal": (0.743421052631579, 0.4110510025924556, 1.0),
        "ordinal": (0.8153875037548814, 0.4746356978343932, 1.0),
        "interval": (0.8491071428571428, 0.45400294148401765, 1.0),
        "ratio": (0.7974027747116121, 0.4431986881338792, 1.0),
    }[level]
    got = rs.krippendorff_alpha_ci(KRIPP_2011, level, n_boot=500, seed=7)
    assert got == pytest.approx(before, abs=1e-12)


@pytest.mark.parametrize("level", rs.LEVELS)
def test_vectorised_bootstrap_replicates_equal_the_loop(level, monkeypatch):
    rng = np.random.default_rng(11)
    data = _random_reliability_data(rng, n_coders=3, n_units=40, continuous=level != "nominal")
    p, lev = rs._prepare_alpha(data, level)
    plan = rs._BootPlan(p, lev, rs._alpha_core(p, lev))
    monkeypatch.setattr(rs, "_BOOT_BLOCK", p.n_units * 7)  # blocks of 7 resamples: 60 = 8 blocks + 4
    blocks = list(rs._multiplicities(p.n_units, 60, np.random.default_rng(5)))
    assert [start for start, _ in blocks] == [0, 7, 14, 21, 28, 35, 42, 49, 56]
    fast = np.concatenate([plan.alphas(m) for _, m in blocks])
    assert fast == pytest.approx(_loop_bootstrap(data, level, 60, 5), abs=1e-12, nan_ok=True)


def test_alpha_ci_equals_the_percentiles_of_the_loop():
    data = _random_reliability_data(np.random.default_rng(4), n_coders=2, n_units=30, continuous=False)
    boots = _loop_bootstrap(data, "ordinal", 200, 9)
    boots = boots[~np.isnan(boots)]
    alpha, low, high = rs.krippendorff_alpha_ci(data, "ordinal", n_boot=200, conf=0.9, seed=9)
    assert alpha == rs.krippendorff_alpha(data, "ordinal")
    assert (low, high) == pytest.approx(tuple(np.quantile(boots, [0.05, 0.95])), abs=1e-12)


def test_alpha_cis_equal_one_at_a_time():
    rng = np.random.default_rng(2)
    a = _random_reliability_data(rng, n_coders=2, n_units=30, continuous=False)
    b = _random_reliability_data(rng, n_coders=2, n_units=30, continuous=False)
    datasets = [a, KRIPP_2011, b, WIKI_ALPHA, [["x", "x"], ["x", "x"]]]  # the last: no variation
    levels = ["nominal", "interval", "ordinal", "nominal", "nominal"]
    batch = rs.krippendorff_alpha_cis(datasets, levels, n_boot=100, seed=3)
    single = [rs.krippendorff_alpha_ci(d, lev, n_boot=100, seed=3) for d, lev in zip(datasets, levels)]
    assert batch[:4] == single[:4]
    assert all(math.isnan(v) for v in batch[4]) and all(math.isnan(v) for v in single[4])
    # a Generator moves on: the matrices draw one after the other, as successive calls would
    g1, g2 = np.random.default_rng(8), np.random.default_rng(8)
    batch = rs.krippendorff_alpha_cis([a, b], "nominal", n_boot=50, seed=g1)
    assert batch == [rs.krippendorff_alpha_ci(a, n_boot=50, seed=g2), rs.krippendorff_alpha_ci(b, n_boot=50, seed=g2)]
    with pytest.raises(ValueError, match=re.escape("levels must be one level or one per dataset; got 1 for 2")):
        rs.krippendorff_alpha_cis([a, b], ["nominal"])


def test_object_input_fast_path_reads_missing_values_as_before():
    for cells in ([["a", None, "b"], [np.nan, "b", "b"]],
                  [[1, None, 2.5], [np.float32("nan"), np.int64(3), True]],
                  [[None, None, None], [None, np.nan, None]],
                  [["x", 1, None], [2, "x", 3]]):
        arr = np.asarray(cells, dtype=object)
        fast = rs._object_missing_fast(arr)
        assert fast is not None
        missing = rs._is_missing_vec(arr)
        present = arr[~missing]
        assert fast[0].tolist() == missing.tolist()
        assert fast[1] == (present.size == 0 or bool(rs._is_real_vec(present).all()))
    # anything else goes the general way, and still counts as missing
    import pandas as pd

    assert rs._object_missing_fast(np.asarray([["a", pd.NA]], dtype=object)) is None
    assert rs.percent_agreement(np.asarray([["a", pd.NA, "b"], ["a", "b", "c"]], dtype=object)) == 0.5


def test_labels_are_coded_in_sorted_order():
    distinct, codes = rs._encode(np.asarray(["b", "a", "c", "a"], dtype=object), numeric=False)
    assert distinct.tolist() == ["a", "b", "c"] and codes.tolist() == [1, 0, 2, 0]
    distinct, codes = rs._encode(np.asarray(["b", 1, "b"], dtype=object), numeric=False)  # not orderable
    assert distinct.tolist() == ["b", 1] and codes.tolist() == [0, 1, 0]
