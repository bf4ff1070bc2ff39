"""Statistics for the before/after comparison tables: intervals, tests, effect sizes, p-value adjustment.

Pure functions: they take numbers, arrays or DataFrames and return numbers, dataclasses or arrays. No file
I/O and no printing. Where SciPy or statsmodels already implements a method correctly it is called, not
re-implemented; the docstring of each function says which.

What each function does (the method a statistician would name, with its source)
-------------------------------------------------------------------------------
* :func:`wilson_ci` -- Wilson score interval for one proportion, no continuity correction
  (Wilson 1927; Newcombe 1998a, method 3). statsmodels ``proportion_confint(method="wilson")``.
* :func:`newcombe_diff_ci` -- difference of two independent proportions with Newcombe's hybrid score
  interval (Newcombe 1998b, method 10). statsmodels ``confint_proportions_2indep(method="newcomb")``.
* :func:`categorical_test` -- gtsummary's default rule for a categorical row: Pearson's chi-squared test
  without continuity correction when every expected count is at least 5, otherwise Fisher's exact test.
  SciPy ``chi2_contingency(correction=False)`` and ``fisher_exact``.
* :func:`rank_sum_test` -- Wilcoxon rank-sum / Mann-Whitney U test, two-sided. SciPy ``mannwhitneyu``.
* :func:`rate_ratio` -- ratio of two Poisson rates, exact conditional test and interval (the method of
  R's ``poisson.test`` for two samples). SciPy ``binomtest``.
* :func:`standardized_mean_difference`, :func:`smd_proportions` -- standardized differences as printed by
  tableone (Yang & Dalton 2012; Austin 2009).
* :func:`adjust_pvalues` -- Holm (1979) or Benjamini-Hochberg (1995) adjustment, as R's ``p.adjust`` (equal
  to statsmodels ``multipletests``, checked in the tests).

Fisher's exact test on tables larger than 2 x 2
-----------------------------------------------
SciPy 1.16's ``fisher_exact`` accepts r x c tables, but it does not implement an exact algorithm for them
(R's ``fisher.test`` uses the Mehta-Patel network algorithm): by default it draws a Monte Carlo sample of
tables with the observed margins (``scipy.stats.random_table``) with an unseeded generator, and its
``PermutationMethod`` is exact only when all n! permutations of the observations can be listed (n <= 8 or
so). This module therefore:

1. enumerates every table with the observed margins and sums the probabilities of the tables no more
   probable than the observed one (the same two-sided p-value as R's ``fisher.test``, with R's relative
   tolerance of 1e-7 for ties), when there are at most :data:`EXACT_TABLE_LIMIT` such tables (counted in
   advance for r x 2 tables, the usual before/after layout); the test is then reported as
   ``"Fisher's exact"``;
2. otherwise calls SciPy's ``fisher_exact`` with ``MonteCarloMethod(n_resamples=MONTE_CARLO_RESAMPLES)``;
   it is (1 + number of simulated tables no more probable than the observed) / (1 + resamples), as in R's
   ``fisher.test(simulate.p.value = TRUE)``, and the test is reported as
   ``"Fisher's exact (Monte Carlo, 20000 resamples)"``. The generator's seed is derived from the table itself
   (:func:`table_seed`: :data:`MONTE_CARLO_SEED` and the table's counts), so the p-value is reproducible and
   the p-values of different tables do not share their simulation errors (one shared seed made them
   correlated). The result carries the Monte Carlo standard error ``sqrt(p (1 - p) / B)`` (at most 0.0035 for
   B = 20000; about 0.0015 near p = 0.05). When no simulated table is as extreme as the observed one the
   estimate 1 / (B + 1) is only a bound: the result says ``p_bound`` and the note "p < 1/(B+1)".
   :func:`adjust_pvalues` enters such a bound at its value: Holm's and Benjamini-Hochberg's adjusted p-values
   are non-decreasing in every p-value, so the q-values computed with the bound are upper bounds of the ones the
   exact p-value would give (conservative, never anti-conservative); tables flag them.

Sources
-------
* Wilson, E. B. (1927). Probable inference, the law of succession, and statistical inference. *JASA* 22,
  209-212.
* Newcombe, R. G. (1998a). Two-sided confidence intervals for the single proportion: comparison of seven
  methods. *Statistics in Medicine* 17, 857-872.
* Newcombe, R. G. (1998b). Interval estimation for the difference between independent proportions:
  comparison of eleven methods. *Statistics in Medicine* 17, 873-890.
* Agresti, A. (2007). *An Introduction to Categorical Data Analysis* (2nd ed.), ch. 2. Wiley.
* Fisher, R. A. (1935). *The Design of Experiments*; Mehta, C. R. & Patel, N. R. (1983). A network
  algorithm for performing Fisher's exact test in r x c contingency tables. *JASA* 78, 427-434.
* Sjoberg, D. D. et al. (2021). Reproducible summary tables with the gtsummary package. *The R Journal*
  13(1), 570-580 (default tests of ``add_p``).
* Mann, H. B. & Whitney, D. R. (1947). *Ann. Math. Statist.* 18, 50-60; Wilcoxon, F. (1945).
  *Biometrics Bulletin* 1, 80-83.
* Clopper, C. J. & Pearson, E. S. (1934). *Biometrika* 26, 404-413; Breslow, N. E. & Day, N. E. (1987).
  *Statistical Methods in Cancer Research II*, sec. 2.3 (conditional test for two Poisson rates).
* Austin, P. C. (2009). Balance diagnostics for comparing the distribution of baseline covariates
  between treatment groups in propensity-score matched samples. *Statistics in Medicine* 28, 3083-3107.
* Yang, D. & Dalton, J. E. (2012). A unified approach to measuring the effect size between two groups
  using SAS. SAS Global Forum, paper 335-2012.
* Holm, S. (1979). A simple sequentially rejective multiple test procedure. *Scand. J. Statist.* 6, 65-70.
* Benjamini, Y. & Hochberg, Y. (1995). Controlling the false discovery rate. *JRSS B* 57, 289-300.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats as _sps
from scipy.stats import contingency as _contingency

# statsmodels' intervals are imported where they are used: statsmodels and patsy cost about 0.4 s of CPU to
# import, which the public record's tables (counts and tests, no intervals) never need.

__all__ = [
    "EXACT_TABLE_LIMIT",
    "MONTE_CARLO_RESAMPLES",
    "MONTE_CARLO_SEED",
    "MIN_EXPECTED",
    "TestResult",
    "wilson_ci",
    "newcombe_diff_ci",
    "categorical_test",
    "rank_sum_test",
    "rate_ratio",
    "standardized_mean_difference",
    "smd_proportions",
    "smd_categorical",
    "smd_from_summaries",
    "table_seed",
    "adjust_pvalues",
]

#: gtsummary's rule: chi-squared when every expected count is at least this, otherwise Fisher's exact test.
MIN_EXPECTED: float = 5.0

#: Largest number of tables (with the observed margins) that :func:`categorical_test` enumerates for an
#: exact r x c Fisher test before it switches to the Monte Carlo p-value (about 0.5 s at the limit).
EXACT_TABLE_LIMIT: int = 200_000

#: Number of simulated tables for the Monte Carlo Fisher p-value (R's default is B = 2000).
MONTE_CARLO_RESAMPLES: int = 20_000

#: Base seed of the Monte Carlo Fisher p-value; each table's own seed is derived from it and the table's counts
#: (:func:`table_seed`), so a table prints the same p-value on every run and different tables get different seeds.
MONTE_CARLO_SEED: int = 20171115

# R's fisher.test treats tables whose probability is within a factor 1 + 1e-7 of the observed one as ties.
_FISHER_REL_ERR = 1e-7


@dataclass(frozen=True)
class TestResult:
    """The outcome of a hypothesis test, ready to print in a comparison table.

    ``test`` names the test actually used (e.g. ``"Pearson's chi-squared"``, ``"Fisher's exact"``,
    ``"Fisher's exact (Monte Carlo, 20000 resamples)"``, ``"Wilcoxon rank-sum"``) so a table can footnote
    it. ``statistic`` and ``df`` are NaN when the test has none (Fisher's exact test). ``note`` says why a
    test was chosen or why no p-value could be computed. For a Monte Carlo p-value, ``mc_se`` is its Monte
    Carlo standard error and ``p_bound`` is True when ``p_value`` is the bound 1 / (B + 1) (no simulated table
    as extreme as the observed one: the p-value is below it); otherwise ``mc_se`` is NaN and ``p_bound`` False.
    """

    __test__ = False  # not a pytest test class, despite the name

    test: str
    statistic: float
    df: float
    p_value: float
    note: str = ""
    mc_se: float = math.nan
    p_bound: bool = False


# --------------------------------------------------------------------------------------------------
# Input checks
# --------------------------------------------------------------------------------------------------


def _count(value: Any, name: str) -> int:
    """A non-negative whole number (int, integral float or numpy scalar) as int, else ValueError."""
    try:
        f = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a non-negative whole number; got {value!r}") from None
    if not math.isfinite(f) or f < 0 or f != int(f):
        raise ValueError(f"{name} must be a non-negative whole number; got {value!r}")
    return int(f)


def _conf(conf: float) -> float:
    conf = float(conf)
    if not 0.0 < conf < 1.0:
        raise ValueError(f"conf must be strictly between 0 and 1 (e.g. 0.95); got {conf}")
    return conf


# --------------------------------------------------------------------------------------------------
# Proportions
# --------------------------------------------------------------------------------------------------


def wilson_ci(x: int, n: int, conf: float = 0.95) -> tuple[float, float, float]:
    """Proportion ``x / n`` with its Wilson score interval (no continuity correction).

    Method: Wilson (1927); method 3 of Newcombe (1998a), Statistics in Medicine 17:857-872, whose Table I
    gives e.g. 81/263 -> 0.2553 to 0.3662. Computed by statsmodels
    ``proportion_confint(x, n, alpha=1 - conf, method="wilson")``.

    Returns ``(p, low, high)``; all NaN when ``n == 0``. Raises ValueError unless ``0 <= x <= n`` are
    whole numbers.
    """
    conf = _conf(conf)
    x, n = _count(x, "x"), _count(n, "n")
    if x > n:
        raise ValueError(f"x ({x}) cannot exceed n ({n})")
    if n == 0:
        return (math.nan, math.nan, math.nan)
    from statsmodels.stats.proportion import proportion_confint

    low, high = proportion_confint(x, n, alpha=1.0 - conf, method="wilson")
    return (x / n, min(max(float(low), 0.0), 1.0), min(max(float(high), 0.0), 1.0))


def newcombe_diff_ci(x1: int, n1: int, x2: int, n2: int, conf: float = 0.95) -> tuple[float, float, float]:
    """Difference ``p1 - p2`` of two independent proportions with Newcombe's hybrid score interval.

    Method 10 of Newcombe (1998b), Statistics in Medicine 17:873-890: with Wilson limits (l1, u1) for
    p1 = x1/n1 and (l2, u2) for p2 = x2/n2 (no continuity correction),

        low  = (p1 - p2) - sqrt((p1 - l1)^2 + (u2 - p2)^2)
        high = (p1 - p2) + sqrt((u1 - p1)^2 + (p2 - l2)^2).

    The paper's example 56/70 - 48/80 gives 0.0524 to 0.3339. Computed by statsmodels
    ``confint_proportions_2indep(x1, n1, x2, n2, method="newcomb", compare="diff")``; this is the
    interval gtsummary's ``add_difference`` reports for proportions when asked for Newcombe's method.

    Returns ``(diff, low, high)``; all NaN when ``n1 == 0`` or ``n2 == 0``.
    """
    conf = _conf(conf)
    x1, n1, x2, n2 = _count(x1, "x1"), _count(n1, "n1"), _count(x2, "x2"), _count(n2, "n2")
    if x1 > n1 or x2 > n2:
        raise ValueError(f"a count exceeds its total: x1={x1}, n1={n1}, x2={x2}, n2={n2}")
    if n1 == 0 or n2 == 0:
        return (math.nan, math.nan, math.nan)
    from statsmodels.stats.proportion import confint_proportions_2indep

    low, high = confint_proportions_2indep(
        x1, n1, x2, n2, method="newcomb", compare="diff", alpha=1.0 - conf
    )
    return (x1 / n1 - x2 / n2, max(float(low), -1.0), min(float(high), 1.0))


# --------------------------------------------------------------------------------------------------
# Categorical rows: chi-squared or Fisher
# --------------------------------------------------------------------------------------------------


def _count_table(table: Any) -> np.ndarray:
    arr = table.to_numpy() if hasattr(table, "to_numpy") else np.asarray(table)
    try:
        arr = np.asarray(arr, dtype=float)
    except (TypeError, ValueError):
        raise ValueError("table must hold counts (numbers); it contains values that are not numbers") from None
    if arr.ndim != 2:
        raise ValueError(f"table must be 2-D (rows = levels, columns = groups); got shape {arr.shape}")
    if arr.size and (not np.all(np.isfinite(arr)) or np.any(arr < 0) or np.any(arr != np.round(arr))):
        raise ValueError("table must hold non-negative whole-number counts (no NaN, negatives or fractions)")
    return arr.astype(np.int64)


def _fisher_rxc_enumerated(table: np.ndarray, limit: int) -> float | None:
    """Exact two-sided Fisher p-value of an r x c table by listing every table with its margins.

    p = sum of P(T) over tables T with P(T) <= P(observed) * (1 + 1e-7), where
    P(T) = prod(R_i!) prod(C_j!) / (N! prod(t_ij!)) (Fisher 1935; the statistic and ordering of R's
    fisher.test). Returns None when there are more than ``limit`` tables.
    """
    rows = [int(v) for v in table.sum(axis=1)]
    cols = [int(v) for v in table.sum(axis=0)]
    n = sum(rows)
    lf = [math.lgamma(k + 1.0) for k in range(n + 1)]
    log_k = sum(lf[v] for v in rows) + sum(lf[v] for v in cols) - lf[n]
    obs = sum(lf[int(v)] for v in table.ravel())
    # P(T) <= P(obs) (1 + eps)  <=>  sum log t_ij!  >=  sum log obs_ij!  -  log1p(eps)
    cut = obs - math.log1p(_FISHER_REL_ERR)
    r, c = len(rows), len(cols)
    state = {"count": 0, "p": 0.0}

    class _TooMany(Exception):
        pass

    def fill_column(j: int, i: int, left: int, cap: list[int], acc: float, tail_cap: list[int]) -> None:
        # Distribute what is left of column j's total over rows i..r-1, within the rows' remaining totals.
        if i == r - 1:
            if left > cap[i]:
                return
            cap[i] -= left
            next_column(j + 1, cap, acc + lf[left])
            cap[i] += left
            return
        lo = max(0, left - tail_cap[i + 1])
        hi = min(left, cap[i])
        for k in range(lo, hi + 1):
            cap[i] -= k
            fill_column(j, i + 1, left - k, cap, acc + lf[k], tail_cap)
            cap[i] += k

    def next_column(j: int, cap: list[int], acc: float) -> None:
        if j == c - 1:  # the last column is what remains of each row
            state["count"] += 1
            if state["count"] > limit:
                raise _TooMany
            s = acc + sum(lf[v] for v in cap)
            if s >= cut:
                state["p"] += math.exp(log_k - s)
            return
        tail = [0] * (r + 1)
        for i in range(r - 1, -1, -1):
            tail[i] = tail[i + 1] + cap[i]
        fill_column(j, 0, cols[j], cap, acc, tail)

    try:
        next_column(0, list(rows), 0.0)
    except _TooMany:
        return None
    return min(state["p"], 1.0)


def _n_tables_two_columns(row_totals: np.ndarray, first_column_total: int, cap: int) -> int:
    """Number of r x 2 tables with the given margins (capped at ``cap + 1``): bounded compositions.

    The first column x has 0 <= x_i <= R_i and sum(x) = C_1; counted by dynamic programming over rows.
    """
    ways = [1] + [0] * first_column_total
    for r_i in row_totals:
        r_i = int(r_i)
        prefix = [0]
        for w in ways:
            prefix.append(prefix[-1] + w)
        # new[s] = sum of ways[s - k] for k = 0..r_i
        ways = [min(prefix[s + 1] - prefix[max(0, s - r_i)], cap + 1) for s in range(first_column_total + 1)]
    return ways[first_column_total]


def categorical_test(
    table: Any,
    *,
    exact_limit: int = EXACT_TABLE_LIMIT,
    n_resamples: int = MONTE_CARLO_RESAMPLES,
    seed: int = MONTE_CARLO_SEED,
) -> TestResult:
    """Test of association for an r x c table of counts (rows = levels, columns = groups).

    The rule is gtsummary's default for categorical variables (Sjoberg et al. 2021): Pearson's
    chi-squared test *without* continuity correction when every expected count is at least 5 (SciPy
    ``chi2_contingency(table, correction=False)``; Agresti 2007, sec. 2.4), otherwise Fisher's exact
    test. For a 2 x 2 table Fisher's test is SciPy ``fisher_exact`` (two-sided). For larger tables the
    p-value is exact by enumeration when the table has at most ``exact_limit`` possible tables with its
    margins, and otherwise a seeded Monte Carlo p-value from SciPy ``fisher_exact(method=MonteCarloMethod)``
    with ``n_resamples`` simulated tables (see the module docstring). ``TestResult.test`` names which.

    Rows and columns that are all zero are dropped first (they carry no information and make expected
    counts zero). With fewer than two usable rows or columns there is nothing to test: the p-value is NaN
    and ``note`` says why.
    """
    arr = _count_table(table)
    dropped = []
    if arr.size:
        keep_r, keep_c = arr.sum(axis=1) > 0, arr.sum(axis=0) > 0
        if (~keep_r).any():
            dropped.append(f"{int((~keep_r).sum())} all-zero row(s)")
        if (~keep_c).any():
            dropped.append(f"{int((~keep_c).sum())} all-zero column(s)")
        arr = arr[keep_r][:, keep_c]
    dropped_note = f"dropped {' and '.join(dropped)}" if dropped else ""

    def _note(*parts: str) -> str:
        return "; ".join(p for p in (*parts, dropped_note) if p)

    if arr.ndim != 2 or arr.shape[0] < 2 or arr.shape[1] < 2:
        shape = arr.shape if arr.ndim == 2 else (0, 0)
        return TestResult(
            "not tested", math.nan, math.nan, math.nan,
            _note(f"needs at least 2 non-empty rows and 2 non-empty columns; {shape[0]} x {shape[1]} left"),
        )

    expected = _contingency.expected_freq(arr)
    min_exp = float(expected.min())
    if min_exp >= MIN_EXPECTED:
        res = _sps.chi2_contingency(arr, correction=False)
        return TestResult(
            "Pearson's chi-squared", float(res.statistic), float(res.dof), float(res.pvalue),
            _note(f"all expected counts >= {MIN_EXPECTED:g}"),
        )

    why = f"an expected count is below {MIN_EXPECTED:g} (smallest {min_exp:.2f})"
    if arr.shape == (2, 2):
        res = _sps.fisher_exact(arr, alternative="two-sided")
        return TestResult("Fisher's exact", math.nan, math.nan, float(res.pvalue), _note(why))

    p = None
    two = arr if arr.shape[1] == 2 else (arr.T if arr.shape[0] == 2 else None)
    if two is None or _n_tables_two_columns(two.sum(axis=1), int(two[:, 0].sum()), exact_limit) <= exact_limit:
        p = _fisher_rxc_enumerated(arr, int(exact_limit))  # None if there are too many tables
    if p is not None:
        return TestResult("Fisher's exact", math.nan, math.nan, float(p), _note(why))
    return _fisher_monte_carlo(arr, int(n_resamples), seed, _note(why, f"more than {int(exact_limit)} tables with "
                                                                     "these margins; simulated p-value"))


def table_seed(table: Any, seed: int = MONTE_CARLO_SEED) -> np.random.SeedSequence:
    """The seed of the Monte Carlo p-value of one table: NumPy's ``SeedSequence`` of ``seed`` with the table's
    shape and counts as the spawn key. The same table always gets the same seed (the p-value is reproducible);
    two different tables get independent streams, so their simulation errors are not correlated."""
    arr = _count_table(table)
    return np.random.SeedSequence(int(seed), spawn_key=(*arr.shape, *(int(v) for v in arr.ravel())))


def _fisher_monte_carlo(arr: np.ndarray, n_resamples: int, seed: int, note: str) -> TestResult:
    """SciPy's Monte Carlo Fisher p-value, (1 + k) / (1 + B), with its Monte Carlo SE; a bound when k = 0."""
    method = _sps.MonteCarloMethod(n_resamples=n_resamples, rng=np.random.default_rng(table_seed(arr, seed)))
    p = float(_sps.fisher_exact(arr, method=method).pvalue)
    k = round(p * (n_resamples + 1)) - 1  # simulated tables as extreme as the observed one
    bound = k <= 0
    mc_se = math.sqrt(p * (1.0 - p) / n_resamples)
    parts = [note, f"seed derived from the table (base {seed})", f"Monte Carlo SE {mc_se:.2g}"]
    if bound:
        parts.append(f"no simulated table was as extreme: p < 1/{n_resamples + 1}, entered as 1/{n_resamples + 1} "
                     "in the adjustment (the q-values are upper bounds)")
    return TestResult(f"Fisher's exact (Monte Carlo, {n_resamples} resamples)", math.nan, math.nan, p,
                      "; ".join(x for x in parts if x), mc_se, bound)


# --------------------------------------------------------------------------------------------------
# Continuous rows
# --------------------------------------------------------------------------------------------------


def _finite_1d(x: Any, name: str) -> np.ndarray:
    try:
        if hasattr(x, "to_numpy"):  # pandas: nullable dtypes hold pd.NA, which numpy cannot cast
            x = x.to_numpy(dtype=float, na_value=np.nan)
        arr = np.asarray(x, dtype=float).ravel()
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be numbers (NaN for missing)") from None
    return arr[~np.isnan(arr)]


def rank_sum_test(x: Any, y: Any) -> TestResult:
    """Wilcoxon rank-sum (Mann-Whitney U) test, two-sided, of two independent samples; NaNs dropped.

    SciPy ``mannwhitneyu(x, y, alternative="two-sided")`` with its default ``method="auto"``: the exact
    distribution of U when one sample has at most 8 values and there are no ties, otherwise the normal
    approximation with tie correction and continuity correction (Mann & Whitney 1947; Wilcoxon 1945).
    R's ``wilcox.test`` (used by gtsummary) is exact more often (both samples < 50, no ties), so p-values
    of small tie-free samples can differ in the later digits. ``statistic`` is U for ``x`` (R's W).
    """
    a, b = _finite_1d(x, "x"), _finite_1d(y, "y")
    if a.size == 0 or b.size == 0:
        return TestResult(
            "Wilcoxon rank-sum", math.nan, math.nan, math.nan,
            f"needs values in both groups; got {a.size} and {b.size} non-missing",
        )
    ties = np.unique(np.concatenate([a, b])).size < a.size + b.size
    exact = min(a.size, b.size) <= 8 and not ties  # SciPy 1.16's 'auto' rule (_mwu_choose_method)
    res = _sps.mannwhitneyu(a, b, alternative="two-sided")
    how = "exact distribution of U" if exact else "normal approximation, tie- and continuity-corrected"
    return TestResult("Wilcoxon rank-sum", float(res.statistic), math.nan, float(res.pvalue), how)


# --------------------------------------------------------------------------------------------------
# Rates
# --------------------------------------------------------------------------------------------------


def rate_ratio(x1: int, t1: float, x2: int, t2: float, conf: float = 0.95) -> tuple[float, float, float, float]:
    """Ratio of two Poisson rates (x1/t1) / (x2/t2) with exact conditional interval and p-value.

    Conditional on the total x1 + x2, x1 is binomial with probability pi = t1 R / (t1 R + t2) where R is
    the rate ratio (Breslow & Day 1987, sec. 2.3). The p-value is SciPy ``binomtest(x1, x1 + x2,
    p=t1 / (t1 + t2))`` (two-sided: sum of the probabilities no larger than that of x1, as R's
    ``binom.test``); the interval is the Clopper-Pearson interval (pi_L, pi_U) of that binomial
    (``BinomTestResult.proportion_ci(method="exact")``) mapped to R = pi / (1 - pi) * t2 / t1. This is
    what R's ``poisson.test(c(x1, x2), c(t1, t2))`` reports.

    Returns ``(rr, low, high, p_value)``. ``rr`` is inf when x2 == 0 (and x1 > 0); all NaN when
    x1 == x2 == 0 (no events: nothing to compare).
    """
    conf = _conf(conf)
    x1, x2 = _count(x1, "x1"), _count(x2, "x2")
    t1, t2 = float(t1), float(t2)
    if not (t1 > 0 and t2 > 0 and math.isfinite(t1) and math.isfinite(t2)):
        raise ValueError(f"person-time (or exposure) must be positive and finite; got t1={t1}, t2={t2}")
    if x1 + x2 == 0:
        return (math.nan, math.nan, math.nan, math.nan)
    res = _sps.binomtest(x1, x1 + x2, p=t1 / (t1 + t2), alternative="two-sided")
    ci = res.proportion_ci(confidence_level=conf, method="exact")

    def to_ratio(pi: float) -> float:
        return math.inf if pi >= 1.0 else pi / (1.0 - pi) * t2 / t1

    rr = math.inf if x2 == 0 else (x1 / t1) / (x2 / t2)
    return (rr, to_ratio(float(ci.low)), to_ratio(float(ci.high)), float(res.pvalue))


# --------------------------------------------------------------------------------------------------
# Standardized differences
# --------------------------------------------------------------------------------------------------


def standardized_mean_difference(x: Any, y: Any) -> float:
    """Standardized mean difference (Cohen's d as tableone computes it) of two samples; NaNs dropped.

        d = (mean(x) - mean(y)) / sqrt((s_x^2 + s_y^2) / 2)

    with sample variances (ddof = 1): the denominator is the square root of the average of the two
    variances (Yang & Dalton 2012; Austin 2009, eq. 1), as in tableone's ``_cont_smd`` (Python) and
    ``CreateTableOne(smd = TRUE)`` (R). The sign is kept (x minus y); tableone prints the absolute value.
    NaN when either sample has fewer than 2 values, or when both variances are 0 and the means differ
    (0.0 when both variances are 0 and the means are equal).
    """
    a, b = _finite_1d(x, "x"), _finite_1d(y, "y")
    if a.size < 2 or b.size < 2:
        return math.nan
    diff = float(a.mean() - b.mean())
    pooled = math.sqrt((float(a.var(ddof=1)) + float(b.var(ddof=1))) / 2.0)
    if pooled == 0.0:
        return 0.0 if diff == 0.0 else math.nan
    return diff / pooled


def smd_proportions(p1: float, p2: float) -> float:
    """Standardized difference of two proportions (a binary variable), as in tableone.

        d = (p1 - p2) / sqrt((p1 (1 - p1) + p2 (1 - p2)) / 2)

    (Austin 2009, Statistics in Medicine 28:3083-3107, eq. 2; Yang & Dalton 2012). Signed (p1 minus p2).
    0.0 when p1 == p2 in {0, 1}; NaN when the proportions are 0 and 1 (the denominator is 0) or either is
    NaN.
    """
    p1, p2 = float(p1), float(p2)
    if math.isnan(p1) or math.isnan(p2):
        return math.nan
    if not (0.0 <= p1 <= 1.0 and 0.0 <= p2 <= 1.0):
        raise ValueError(f"proportions must be between 0 and 1; got p1={p1}, p2={p2}")
    denom = math.sqrt((p1 * (1.0 - p1) + p2 * (1.0 - p2)) / 2.0)
    if denom == 0.0:
        return 0.0 if p1 == p2 else math.nan
    return (p1 - p2) / denom


def smd_from_summaries(mean1: float, sd1: float, mean2: float, sd2: float) -> float:
    """The standardized mean difference of :func:`standardized_mean_difference` from summaries (e.g. design-based
    means and standard deviations of a weighted table): ``(mean1 - mean2) / sqrt((sd1^2 + sd2^2) / 2)``.
    Signed; NaN when an input is NaN or both SDs are 0 and the means differ (0.0 when they are equal)."""
    vals = [float(v) for v in (mean1, sd1, mean2, sd2)]
    if any(math.isnan(v) for v in vals):
        return math.nan
    m1, s1, m2, s2 = vals
    pooled = math.sqrt((s1 * s1 + s2 * s2) / 2.0)
    if pooled == 0.0:
        return 0.0 if m1 == m2 else math.nan
    return (m1 - m2) / pooled


def smd_categorical(p1: Any, p2: Any) -> float:
    """Standardized difference of a categorical variable with k levels (Yang & Dalton 2012), as tableone.

    With the level proportions ``p1`` and ``p2`` of the two groups (each summing to 1), drop the first level,
    T = p1 - p2 (k - 1 values) and S = (S1 + S2) / 2 with S_g = diag(p_g) - p_g p_g' (the multinomial
    covariance); d = sqrt(T' S^- T). S^- is the Moore-Penrose inverse, as R's tableone (``MASS::ginv``), so a
    level absent from both groups does not make it fail (Python tableone's ``inv`` returns NaN then, otherwise
    the two agree). Not signed. With two levels it is the absolute value of :func:`smd_proportions` of the
    second level. NaN when a proportion is NaN or there are fewer than 2 levels.
    """
    a, b = np.asarray(p1, dtype=float), np.asarray(p2, dtype=float)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"p1 and p2 must be 1-D and of the same length; got shapes {a.shape} and {b.shape}")
    if a.size < 2 or np.isnan(a).any() or np.isnan(b).any():
        return math.nan
    a, b = a[1:], b[1:]
    cov = [np.diag(p) - np.outer(p, p) for p in (a, b)]
    s = (cov[0] + cov[1]) / 2.0
    t = a - b
    return float(math.sqrt(max(0.0, float(t @ np.linalg.pinv(s) @ t))))


# --------------------------------------------------------------------------------------------------
# Multiple comparisons
# --------------------------------------------------------------------------------------------------

_ADJUST_METHODS = {"holm": "holm", "bh": "fdr_bh"}


def _holm(p: np.ndarray) -> np.ndarray:
    """Holm's step-down adjustment (R: ``pmin(1, cummax((n - i + 1) * p[o]))[order(o)]``)."""
    n = len(p)
    o = np.argsort(p, kind="mergesort")
    adj = np.minimum(1.0, np.maximum.accumulate((n - np.arange(n)) * p[o]))
    out = np.empty(n)
    out[o] = adj
    return out


def _bh(p: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg's step-up adjustment (R: ``pmin(1, cummin(n / i * p[o]))[order(o)]``, i descending)."""
    n = len(p)
    o = np.argsort(p, kind="mergesort")[::-1]
    adj = np.minimum(1.0, np.minimum.accumulate(n / np.arange(n, 0, -1) * p[o]))
    out = np.empty(n)
    out[o] = adj
    return out


def adjust_pvalues(p: Any, method: str = "holm") -> np.ndarray:
    """Adjusted p-values: Holm (1979) step-down or Benjamini-Hochberg (1995) step-up (gtsummary's add_q).

    Computed here as R's ``p.adjust(p, "holm" | "BH")`` computes them (the same values as statsmodels'
    ``multipletests``, which calls ``gc.collect()`` on every call: about 0.5 s each, issue 15). NaN p-values (rows that were not tested) pass through as NaN
    and are not counted among the tests. Returns a float array of the input's shape.
    """
    key = str(method).lower()
    if key not in _ADJUST_METHODS:
        raise ValueError(f"method must be 'holm' or 'bh' (Benjamini-Hochberg); got {method!r}")
    arr = np.asarray(p, dtype=float)
    flat = arr.ravel()
    out = np.full(flat.shape, np.nan)
    ok = ~np.isnan(flat)
    if np.any((flat[ok] < 0) | (flat[ok] > 1)):
        raise ValueError("p-values must be between 0 and 1 (or NaN for rows that were not tested)")
    if ok.any():
        out[ok] = _holm(flat[ok]) if key == "holm" else _bh(flat[ok])
    return out.reshape(arr.shape)
