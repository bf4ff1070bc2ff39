"""Person-level comparisons that allow for people on the same report being alike.

The unit of sampling in the study is the incident *report*; people are listed on reports (one to a handful
each). People on one report share the officers, the operation, the location and the write-up, so their
outcomes (cited or not, screened, charged with selling, ...) are correlated. Treating 1,442 people as 1,442
independent observations overstates the information in the data: confidence intervals are too narrow and
p-values too small by roughly the square root of the design effect.

Defaults for person-level tables (and why)
-----------------------------------------
* The **difference in proportions** is shown with the **cluster-bootstrap percentile interval**
  (:func:`cluster_bootstrap_diff`): reports are resampled with replacement within each period, so the
  interval reflects the real number of independent units (reports) and whatever correlation there is,
  without assuming a model for it (Davison & Hinkley 1997, sec. 3.8; Field & Welsh 2007).
* The **p-value** is the robust (sandwich) Wald p-value of a GEE logistic regression with the report as the
  cluster (:func:`gee_binary_test`; Liang & Zeger 1986).
* The naive p-value (ordinary logistic regression, people treated as independent) is returned beside them,
  and :func:`design_effect` gives the estimated design effect, so a table can say *why* the clustered
  interval is wider: ``width(clustered) ~ sqrt(deff) * width(naive)``.

Report-level tables (one row per report) need none of this: reports were sampled independently, and the
ordinary intervals and tests of :mod:`analysis.stats.inference` apply.

Functions
---------
* :func:`gee_binary_test` -- odds ratio of a 0/1 outcome between two groups, GEE (Binomial family, logit
  link, exchangeable working correlation by default) with robust sandwich standard errors; plus the naive
  independence logistic regression for comparison. statsmodels ``GEE`` and ``GLM``.
* :func:`cluster_bootstrap_diff` -- difference of two proportions with a percentile interval from
  resampling clusters. Vectorised: people are first summed to cluster totals; because the statistic only
  depends on how many times each *kind* of cluster (its size and number of events) is drawn, a resample is
  one multinomial draw over the distinct kinds, which is exactly equivalent to drawing cluster indices
  uniformly with replacement and takes milliseconds even for 100,000 clusters.
* :func:`design_effect` -- 1 + (m - 1) * ICC with the one-way ANOVA estimator of the intraclass
  correlation (Fleiss 1981; Donner 1986; Ridout, Demetrio & Firth 1999), and beside it the empirical design
  effect (cluster variance / binomial variance, Kish 1965). For a table footnote use the empirical one
  (``ci_width_ratio``): the ANOVA ICC also counts as "clustering" any difference between people alone on a
  report and people on larger reports (in this study sellers are usually alone, buyers and third parties
  are not), which does not widen the interval of a pooled proportion.

Sources
-------
* Liang, K.-Y. & Zeger, S. L. (1986). Longitudinal data analysis using generalized linear models.
  *Biometrika* 73, 13-22.
* Davison, A. C. & Hinkley, D. V. (1997). *Bootstrap Methods and their Application*, sec. 3.8
  (resampling hierarchical data: resample the top-level units). Cambridge University Press.
* Field, C. A. & Welsh, A. H. (2007). Bootstrapping clustered data. *JRSS B* 69, 369-390.
* Kish, L. (1965). *Survey Sampling*, sec. 5.4 (design effect 1 + (m - 1) rho). Wiley.
* Kerry, S. M. & Bland, J. M. (2001). Unequal cluster sizes for trials in English and Welsh general
  practice: implications for sample size calculations. *Statistics in Medicine* 20, 377-390.
* Donner, A. (1986). A review of inference procedures for the intraclass correlation coefficient in the
  one-way random effects model. *International Statistical Review* 54, 67-82.
* Ridout, M. S., Demetrio, C. G. B. & Firth, D. (1999). Estimating intraclass correlation for binary data.
  *Biometrics* 55, 137-148 (the ANOVA estimator performs well among 20 estimators compared).
* Fleiss, J. L. (1981). *Statistical Methods for Rates and Proportions* (2nd ed.), ch. 13. Wiley.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import pandas as pd
from scipy import stats as _sps

__all__ = [
    "BOOTSTRAP_SEED",
    "DesignEffect",
    "GEEResult",
    "cluster_bootstrap_diff",
    "cluster_robust_binary_test",
    "design_effect",
    "gee_binary_test",
]

#: Default seed of :func:`cluster_bootstrap_diff`, so a table prints the same interval on every run.
BOOTSTRAP_SEED: int = 20171115

# Largest number of (resample x cluster-kind) cells drawn at once; bounds memory (8 bytes each).
_CHUNK_CELLS = 4_000_000


# --------------------------------------------------------------------------------------------------
# Input preparation
# --------------------------------------------------------------------------------------------------


def _conf(conf: float) -> float:
    conf = float(conf)
    if not 0.0 < conf < 1.0:
        raise ValueError(f"conf must be strictly between 0 and 1 (e.g. 0.95); got {conf}")
    return conf


def _outcome(y: Any) -> pd.Series:
    """0/1 outcome as float with NaN for missing; accepts bool, nullable boolean, 0/1 numbers."""
    s = pd.Series(y).reset_index(drop=True)
    if s.dtype == object:
        s = s.map(lambda v: np.nan if v is None or v is pd.NA else v)
    try:
        f = pd.to_numeric(s, errors="raise").astype("Float64").astype(float)
    except (TypeError, ValueError):
        raise ValueError("the outcome must be 0/1 or True/False (missing allowed)") from None
    bad = f.notna() & ~f.isin([0.0, 1.0])
    if bad.any():
        raise ValueError(f"the outcome must be 0/1 or True/False; found {sorted(f[bad].unique())[:5]}")
    return f


def _levels(group: pd.Series, levels: Sequence[Any] | None) -> tuple[Any, Any]:
    if levels is not None:
        levels = tuple(levels)
        if len(levels) != 2 or levels[0] == levels[1]:
            raise ValueError(f"levels must be two different group values (A, B); got {levels!r}")
        return levels
    if isinstance(group.dtype, pd.CategoricalDtype):
        cats = list(group.cat.categories)
    else:
        cats = sorted(group.dropna().unique().tolist())
    if len(cats) != 2:
        raise ValueError(
            f"the group has {len(cats)} levels ({cats!r}); pass levels=(A, B) to say which two to compare"
        )
    return cats[0], cats[1]


def _prepare(y: Any, group: Any, cluster: Any, levels: Sequence[Any] | None):
    """Aligned arrays: outcome (0/1 float), indicator of group A, cluster codes; rows with any missing or a
    group outside ``levels`` are dropped (their number is returned)."""
    ys = _outcome(y)
    gs = pd.Series(group).reset_index(drop=True)
    cs = pd.Series(cluster).reset_index(drop=True)
    if not (len(ys) == len(gs) == len(cs)):
        raise ValueError(f"y, group and cluster must have the same length; got {len(ys)}, {len(gs)}, {len(cs)}")
    a, b = _levels(gs, levels)
    keep = ys.notna() & gs.isin([a, b]).to_numpy() & cs.notna()
    dropped = int((~keep).sum())
    ya = ys[keep].to_numpy(dtype=float)
    in_a = (gs[keep] == a).to_numpy(dtype=bool)
    codes, _ = pd.factorize(cs[keep], sort=False)
    return ya, in_a, codes, (a, b), dropped


# --------------------------------------------------------------------------------------------------
# GEE
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GEEResult:
    """GEE logistic comparison of a 0/1 outcome between two groups, people clustered in reports.

    ``odds_ratio`` is the odds in group ``levels[0]`` (A) over the odds in ``levels[1]`` (B), with the 95%
    (or ``conf``) Wald interval from the robust sandwich standard error ``se_log_or`` and the robust Wald
    ``p_value``. ``naive_*`` come from ordinary logistic regression that treats people as independent
    (model-based standard error): shown beside the robust ones, never instead of them. ``working_correlation``
    is the estimated exchangeable correlation (0 for the independence structure, NaN when every cluster is a
    single person). Everything is NaN, with ``note`` saying why, when the model cannot be estimated.
    """

    odds_ratio: float
    ci_low: float
    ci_high: float
    p_value: float
    se_log_or: float
    naive_odds_ratio: float
    naive_ci_low: float
    naive_ci_high: float
    naive_p_value: float
    naive_se_log_or: float
    working_correlation: float
    n: int
    n_clusters: int
    events: int
    levels: tuple
    cov_struct: str
    note: str = ""


def _nan_gee(n: int, k: int, events: int, levels: tuple, cov_struct: str, note: str) -> GEEResult:
    nan = math.nan
    return GEEResult(nan, nan, nan, nan, nan, nan, nan, nan, nan, nan, nan, n, k, events, levels, cov_struct, note)


def gee_binary_test(
    y: Any,
    group: Any,
    cluster: Any,
    *,
    levels: Sequence[Any] | None = None,
    cov_struct: str = "exchangeable",
    conf: float = 0.95,
) -> GEEResult:
    """Odds ratio of a 0/1 outcome between two groups with a cluster-robust (GEE) Wald test.

    Model: logit P(y = 1) = b0 + b1 * [group == A], fitted by generalized estimating equations (Liang &
    Zeger 1986) with statsmodels ``GEE`` (``families.Binomial()``, logit link), clusters = ``cluster``
    (the report id), ``cov_struct="exchangeable"`` (default; ``cov_structs.Exchangeable``) or
    ``"independence"``, and the robust sandwich covariance (statsmodels' default ``cov_type="robust"``).
    ``odds_ratio = exp(b1)``; the interval is exp(b1 +/- z * se) with z the normal quantile.

    The naive comparison is statsmodels ``GLM`` (Binomial) on the same rows with the model-based covariance:
    the ordinary logistic regression, whose odds ratio is the plain 2 x 2 odds ratio.

    Which odds ratio is estimated: with the independence structure, the GEE estimate *is* the 2 x 2 odds
    ratio of the pooled people (only the standard error changes). With the exchangeable structure, people
    in large reports are down-weighted, so when report sizes differ the estimate can differ a little from
    the 2 x 2 odds ratio shown in a table; when every cluster is one person both equal the 2 x 2 odds ratio.
    The robust standard error is valid whichever structure is chosen, given enough clusters (say 40+ per
    group; with fewer, use ``cov_type="bias_reduced"`` in statsmodels directly, Mancl & DeRouen 2001).

    Parameters
    ----------
    y : 0/1 or boolean array-like (missing allowed and dropped).
    group : array-like with the group of each person. ``levels=(A, B)`` names the two groups compared
        (rows in other groups are dropped); by default the two categories of a categorical in their
        declared order, else the two sorted values. Odds ratio = odds(A) / odds(B).
    cluster : array-like with the cluster (report id) of each person.
    cov_struct : ``"exchangeable"`` (default) or ``"independence"``.
    conf : confidence level of the intervals.

    Returns a :class:`GEEResult`. Instead of raising, it returns NaNs with a ``note`` when the outcome does
    not vary, a group is empty, or the outcome is all 0 or all 1 in a group (the odds ratio is 0 or
    infinite: report an exact test instead).
    """
    conf = _conf(conf)
    if cov_struct not in ("exchangeable", "independence"):
        raise ValueError(f"cov_struct must be 'exchangeable' or 'independence'; got {cov_struct!r}")
    yv, in_a, codes, levels_, dropped = _prepare(y, group, cluster, levels)
    n, k, events = len(yv), int(codes.max() + 1) if len(codes) else 0, int(yv.sum())
    notes = [f"{dropped} rows with a missing value or another group left out"] if dropped else []
    why = _no_odds_ratio(yv, in_a, levels_)
    if why:
        return _nan_gee(n, k, events, levels_, cov_struct, "; ".join(notes + [why]))
    X = np.column_stack([np.ones(n), in_a.astype(float)])
    z = float(_sps.norm.ppf(0.5 + conf / 2))
    naive, fit = _fit_gee(yv, X, codes, cov_struct, notes)
    b, se = float(fit.params[1]), float(fit.bse[1])
    nb_, nse = float(naive.params[1]), float(naive.bse[1])
    rho = float(np.atleast_1d(fit.cov_struct.dep_params)[0]) if cov_struct == "exchangeable" else 0.0
    if cov_struct == "exchangeable" and k == n:
        rho = math.nan  # no pairs of people in one cluster: the correlation is not estimable (and irrelevant)
    return GEEResult(
        odds_ratio=math.exp(b), ci_low=math.exp(b - z * se), ci_high=math.exp(b + z * se),
        p_value=float(fit.pvalues[1]), se_log_or=se,
        naive_odds_ratio=math.exp(nb_), naive_ci_low=math.exp(nb_ - z * nse), naive_ci_high=math.exp(nb_ + z * nse),
        naive_p_value=float(naive.pvalues[1]), naive_se_log_or=nse,
        working_correlation=rho, n=n, n_clusters=k, events=events, levels=levels_, cov_struct=cov_struct,
        note="; ".join(notes),
    )


def _no_odds_ratio(yv: np.ndarray, in_a: np.ndarray, levels_: tuple) -> str:
    """Why no odds ratio can be estimated (a group is empty; the outcome never, always, or in a group all 0 or
    all 1), or '' when one can."""
    n, events = len(yv), int(yv.sum())
    na, nb = int(in_a.sum()), int((~in_a).sum())
    if na == 0 or nb == 0:
        empty = levels_[0] if na == 0 else levels_[1]
        return f"group {empty!r} has no people with the outcome recorded; no comparison possible"
    if events in (0, n):
        return f"the outcome is {'never' if events == 0 else 'always'} present; no odds ratio"
    ea, eb = int(yv[in_a].sum()), int(yv[~in_a].sum())
    for lev, e, m in ((levels_[0], ea, na), (levels_[1], eb, nb)):
        if e in (0, m):
            return (
                f"the outcome is {'0' if e == 0 else '1'} for every person in group {lev!r} "
                f"({e}/{m}): the odds ratio is {'0' if (e == 0) == (lev == levels_[0]) else 'infinite'}; "
                "use an exact test"
            )
    return ""


def _fit_gee(yv: np.ndarray, X: np.ndarray, codes: np.ndarray, cov_struct: str, notes: list[str]):
    """(the naive logistic GLM, the GEE fit); convergence warnings and a GEE that did not converge become notes."""
    # the modules statsmodels.api gathers these from (importing statsmodels.api loads all of statsmodels: ~0.3 s)
    from statsmodels.genmod import cov_struct as cov_structs
    from statsmodels.genmod.families import Binomial
    from statsmodels.genmod.generalized_estimating_equations import GEE
    from statsmodels.genmod.generalized_linear_model import GLM
    from statsmodels.tools.sm_exceptions import ConvergenceWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        naive = GLM(yv, X, family=Binomial()).fit(tol=1e-12)
        cs = cov_structs.Exchangeable() if cov_struct == "exchangeable" else cov_structs.Independence()
        # statsmodels' GEE expects the rows of a cluster to be contiguous for some structures: sort by cluster
        order = np.argsort(codes, kind="stable")
        fit = GEE(yv[order], X[order], groups=codes[order], family=Binomial(), cov_struct=cs).fit()
    for w in caught:
        if issubclass(w.category, ConvergenceWarning):
            notes.append(f"statsmodels: {w.message}")
    if not getattr(fit, "converged", True):
        notes.append("GEE did not converge; treat the result with caution")
    return naive, fit


# --------------------------------------------------------------------------------------------------
# Cluster bootstrap
# --------------------------------------------------------------------------------------------------


def cluster_robust_binary_test(
    y: Any, group: Any, cluster: Any, *, levels: Sequence[Any] | None = None, conf: float = 0.95
) -> GEEResult:
    """The GEE comparison with an *independence* working correlation, in closed form (fast on any size).

    With one two-level covariate that is constant within clusters (people on a report share its period), the
    GEE estimating equations with independence working correlation are solved by each group's pooled
    proportion ``p_g`` (so the odds ratio is exactly the 2 x 2 table's, i.e. the difference the comparison
    table prints), and the robust sandwich variance of ``logit p_g`` is

        sum_i (y_i. - m_i p_g)^2 / (p_g (1 - p_g) sum_i m_i)^2

    over the clusters i of group g (y_i. events and m_i people in cluster i; Liang & Zeger 1986, with the
    'robust' covariance statsmodels reports, no small-sample correction). The groups share no cluster, so the
    log odds ratio's variance is the sum of the two. When some cluster holds people of both groups this does not
    apply and :func:`gee_binary_test` (statsmodels) is called with ``cov_struct="independence"``.
    This is the default cluster-aware test of :mod:`analysis.tables.compare`: statsmodels' GEE loops over clusters in
    Python, which takes minutes on the 100x benchmark sample, while this takes milliseconds.
    """
    ya, in_a, codes, lv, dropped = _prepare(y, group, cluster, levels)
    n = len(ya)
    if n == 0:
        return _nan_gee(0, 0, 0, lv, "independence", "no rows with an outcome, a group and a cluster")
    k = int(codes.max()) + 1
    clusters_a = np.bincount(codes, weights=in_a.astype(float), minlength=k)
    size = np.bincount(codes, minlength=k).astype(float)
    if np.any((clusters_a > 0) & (clusters_a < size)):
        return gee_binary_test(y, group, cluster, levels=levels, cov_struct="independence", conf=conf)
    events = np.bincount(codes, weights=ya, minlength=k)
    is_a = clusters_a > 0
    z = _sps.norm.ppf(0.5 + _conf(conf) / 2)
    parts = []
    for mask in (is_a, ~is_a):
        m, e = size[mask], events[mask]
        tot, ev = m.sum(), e.sum()
        if tot == 0:
            return _nan_gee(n, k, int(ya.sum()), lv, "independence", "a group has no people")
        p = ev / tot
        if p in (0.0, 1.0):
            return _nan_gee(n, k, int(ya.sum()), lv, "independence",
                            "the outcome is all 0 or all 1 in a group: the odds ratio is 0 or infinite; "
                            "use an exact test")
        var = float(((e - m * p) ** 2).sum()) / (p * (1 - p) * tot) ** 2
        naive = 1.0 / (tot * p * (1 - p))
        parts.append((math.log(p / (1 - p)), var, naive))
    (la, va, na), (lb, vb, nb) = parts
    log_or, se, se_naive = la - lb, math.sqrt(va + vb), math.sqrt(na + nb)
    p_value = float(2 * _sps.norm.sf(abs(log_or) / se)) if se > 0 else float("nan")
    p_naive = float(2 * _sps.norm.sf(abs(log_or) / se_naive))
    note = f"{dropped} row(s) with a missing value left out" if dropped else ""
    return GEEResult(
        odds_ratio=math.exp(log_or), ci_low=math.exp(log_or - z * se), ci_high=math.exp(log_or + z * se),
        p_value=p_value, se_log_or=se,
        naive_odds_ratio=math.exp(log_or), naive_ci_low=math.exp(log_or - z * se_naive),
        naive_ci_high=math.exp(log_or + z * se_naive), naive_p_value=p_naive, naive_se_log_or=se_naive,
        working_correlation=0.0, n=n, n_clusters=k, events=int(ya.sum()), levels=lv, cov_struct="independence",
        note=note,
    )


def _cluster_totals(yv: np.ndarray, in_a: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """Per cluster: [people in A, events in A, people in B, events in B] (k x 4, integers)."""
    k = int(codes.max()) + 1
    out = np.zeros((k, 4), dtype=np.int64)
    out[:, 0] = np.bincount(codes, weights=in_a, minlength=k).astype(np.int64)
    out[:, 1] = np.bincount(codes, weights=yv * in_a, minlength=k).astype(np.int64)
    out[:, 2] = np.bincount(codes, weights=~in_a, minlength=k).astype(np.int64)
    out[:, 3] = np.bincount(codes, weights=yv * ~in_a, minlength=k).astype(np.int64)
    return out


def _resample_sums(totals: np.ndarray, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """Column sums of ``n_boot`` resamples of the rows of ``totals`` (drawn uniformly with replacement, as
    many as there are rows). Rows are collapsed to their distinct values first; the number of times each
    distinct row is drawn is multinomial, which is the same distribution as drawing row indices."""
    kinds, counts = np.unique(totals, axis=0, return_counts=True)
    k = int(counts.sum())
    p = counts / k
    out = np.empty((n_boot, totals.shape[1]), dtype=float)
    chunk = max(1, _CHUNK_CELLS // len(kinds))
    for start in range(0, n_boot, chunk):
        stop = min(n_boot, start + chunk)
        draws = rng.multinomial(k, p, size=stop - start)
        out[start:stop] = draws @ kinds
    return out


def cluster_bootstrap_diff(
    y: Any,
    group: Any,
    cluster: Any,
    n_boot: int = 2000,
    seed: int = BOOTSTRAP_SEED,
    conf: float = 0.95,
    *,
    levels: Sequence[Any] | None = None,
) -> tuple[float, float, float]:
    """Difference of proportions ``p_A - p_B`` with a cluster-bootstrap percentile interval.

    ``p_A`` is the share of people in group A with the outcome (pooled over people, as a table prints it).
    Group A and B are ``levels=(A, B)``; by default the two categories of a categorical in their declared
    order (for ``period`` with categories ``["vice", "svu"]`` that is Vice minus SVU: pass
    ``levels=("svu", "vice")`` for after minus before), else the two sorted values.

    Resampling (Davison & Hinkley 1997, sec. 3.8; Field & Welsh 2007): when every cluster lies in one group
    (people on a report share its period), the clusters of each group are resampled with replacement,
    keeping each group's number of clusters fixed (a stratified cluster bootstrap); the people of a drawn
    cluster come with it. When some clusters hold people of both groups (e.g. comparing sellers and buyers
    listed on the same report), all clusters are resampled together so that the within-report pairing is
    kept; resamples with nobody in a group (possible only then) are discarded. The interval is the
    ``(1 - conf) / 2`` and ``(1 + conf) / 2`` quantiles of the ``n_boot`` resampled differences (percentile
    method).

    Speed: people are summed to cluster totals, and each resample is one multinomial draw over the distinct
    (cluster size, events) kinds -- the same distribution as drawing cluster indices -- so 2,000 resamples
    of 100,000 clusters take well under a second. Deterministic for a given ``seed`` (numpy
    ``default_rng``).

    Returns ``(diff, low, high)``; all NaN when a group has nobody with the outcome recorded. Rows with a
    missing outcome, group or cluster are dropped.
    """
    conf = _conf(conf)
    if int(n_boot) != n_boot or n_boot < 1:
        raise ValueError(f"n_boot must be a positive whole number; got {n_boot!r}")
    yv, in_a, codes, _, _ = _prepare(y, group, cluster, levels)
    if not in_a.any() or in_a.all():
        return (math.nan, math.nan, math.nan)
    totals = _cluster_totals(yv, in_a, codes)
    diff = totals[:, 1].sum() / totals[:, 0].sum() - totals[:, 3].sum() / totals[:, 2].sum()
    rng = np.random.default_rng(seed)
    spans = (totals[:, 0] > 0) & (totals[:, 2] > 0)
    if spans.any():
        sums = _resample_sums(totals, int(n_boot), rng)
    else:
        in_group_a = totals[:, 0] > 0
        sums = _resample_sums(totals[in_group_a], int(n_boot), rng) + _resample_sums(
            totals[~in_group_a], int(n_boot), rng
        )
    with np.errstate(invalid="ignore", divide="ignore"):
        boot = sums[:, 1] / sums[:, 0] - sums[:, 3] / sums[:, 2]
    boot = boot[np.isfinite(boot)]
    if boot.size == 0:
        return (float(diff), math.nan, math.nan)
    alpha = 1.0 - conf
    low, high = np.quantile(boot, [alpha / 2, 1 - alpha / 2])
    return (float(diff), float(low), float(high))


# --------------------------------------------------------------------------------------------------
# Design effect
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DesignEffect:
    """Estimated design effect of a proportion (or of a difference of two) computed from clustered people.

    ``deff = 1 + (cluster_size - 1) * icc`` where ``icc`` is the one-way ANOVA intraclass correlation and
    ``cluster_size`` is the size-weighted mean cluster size sum(m_i^2) / sum(m_i) (equal to the plain mean
    ``mean_cluster_size`` when all clusters have the same size; Kerry & Bland 2001). ``effective_n = n / deff``
    people carry the information of that many independent people.

    ``deff_empirical`` is the design effect measured directly: the cluster (linearisation) variance of the
    proportion(s) divided by the binomial variance (Kish 1965, sec. 8.2). It needs no model for the
    correlation, and it is what the cluster-bootstrap interval reflects, so ``ci_width_ratio`` =
    sqrt(``deff_empirical``) is the expected ratio of the clustered to the naive interval width. The two agree
    when the outcome's mean does not depend on the report's size; when it does (e.g. people alone on a report
    differ from people on large reports) the ANOVA ICC counts that difference as clustering and ``deff`` can
    exceed ``deff_empirical``.
    """

    deff: float
    icc: float
    cluster_size: float
    mean_cluster_size: float
    n: int
    n_clusters: int
    effective_n: float
    deff_empirical: float = math.nan
    note: str = ""

    @property
    def ci_width_ratio(self) -> float:
        """sqrt(deff_empirical): how many times wider a clustered interval is expected to be than a naive one."""
        return math.sqrt(self.deff_empirical) if self.deff_empirical >= 0 else math.nan


def design_effect(y: Any, cluster: Any, group: Any | None = None) -> DesignEffect:
    """Design effect ``1 + (m - 1) * ICC`` of a 0/1 outcome measured on people clustered in reports.

    ICC: the one-way analysis-of-variance estimator (Fleiss 1981, ch. 13; Donner 1986; for binary data
    Ridout, Demetrio & Firth 1999). With k clusters of sizes m_i (N people), cluster means ybar_i and overall
    mean ybar,

        MSB = sum_i m_i (ybar_i - ybar)^2 / (k - 1)                 between-cluster mean square
        MSW = sum_i sum_j (y_ij - ybar_i)^2 / (N - k)               within-cluster mean square
        m0  = (N - sum_i m_i^2 / N) / (k - 1)                       (the mean size when sizes are equal)
        ICC = (MSB - MSW) / (MSB + (m0 - 1) * MSW).

    With ``group`` (e.g. the period) the ICC is the *within-group* one: cluster means are compared with their
    group's mean, MSB has k - G degrees of freedom and m0 = (N - sum_g sum_{i in g} m_i^2 / N_g) / (k - G)
    (clusters are (cluster, group) pairs). Use it for a two-group comparison, so that the group difference
    itself is not counted as clustering.

    m in the design effect: the size-weighted mean cluster size sum m_i^2 / sum m_i. Under an exchangeable
    correlation rho, Var(pooled proportion) = p(1 - p) / N * (1 + (sum m_i^2 / N - 1) rho) exactly, so this is
    the m that makes ``deff`` the variance ratio when report sizes differ (it equals Kerry & Bland's
    (1 + cv^2) * mean size); with equal sizes it is the plain mean size of Kish (1965).

    ``deff_empirical`` (see :class:`DesignEffect`): with cluster totals S_i (events) and m_i (people) and the
    group's pooled proportion p_g, Var_cluster(p_g) = sum_{i in g} (S_i - p_g m_i)^2 / N_g^2 and
    Var_naive(p_g) = p_g (1 - p_g) / N_g; the ratio of their sums over the groups (of the difference, with two
    groups). When clusters are one person each it is exactly 1.

    The ANOVA ICC can be slightly negative (then ``deff < 1``); it is reported as estimated, not truncated.
    When every cluster is one person, ``deff = 1`` and ``icc`` is NaN (not estimable, and irrelevant); when the
    outcome does not vary, ``deff`` and ``icc`` are NaN. Rows with a missing value are dropped.
    """
    ys = _outcome(y)
    cs = pd.Series(cluster).reset_index(drop=True)
    gs = pd.Series(group).reset_index(drop=True) if group is not None else pd.Series(0, index=cs.index)
    if not (len(ys) == len(cs) == len(gs)):
        raise ValueError(f"y, cluster (and group) must have the same length; got {len(ys)}, {len(cs)}, {len(gs)}")
    keep = (ys.notna() & cs.notna() & gs.notna()).to_numpy()
    yv = ys[keep].to_numpy(dtype=float)
    unit = pd.MultiIndex.from_arrays([gs[keep].to_numpy(), cs[keep].to_numpy()])
    codes, uniq = pd.factorize(unit)
    gcodes, _ = pd.factorize(gs[keep])
    n, k = len(yv), len(uniq)
    n_groups = int(gcodes.max() + 1) if n else 0
    nan = math.nan
    if n == 0:
        return DesignEffect(nan, nan, nan, nan, 0, 0, nan, nan, "no observations")
    m = np.bincount(codes).astype(float)
    s = np.bincount(codes, weights=yv)
    s2 = np.bincount(codes, weights=yv * yv)
    unit_group = np.zeros(k, dtype=int)
    unit_group[codes] = gcodes
    n_g = np.bincount(unit_group, weights=m)
    mean_g = np.bincount(unit_group, weights=s) / n_g
    size_w = float((m**2).sum() / n)
    mean_size = float(m.mean())
    # empirical design effect: linearisation (cluster) variance over binomial variance, summed over groups
    resid = s - mean_g[unit_group] * m
    var_cl = np.bincount(unit_group, weights=resid**2) / n_g**2
    var_naive = mean_g * (1 - mean_g) / n_g
    deff_emp = float(var_cl.sum() / var_naive.sum()) if var_naive.sum() > 0 else nan
    if k == n:
        return DesignEffect(1.0, nan, size_w, mean_size, n, k, float(n), deff_emp,
                            "every cluster is one person: no clustering")
    if k - n_groups <= 0:
        return DesignEffect(nan, nan, size_w, mean_size, n, k, nan, deff_emp,
                            "one cluster per group: the ICC is not estimable")
    ybar_i = s / m
    ssb = float((m * (ybar_i - mean_g[unit_group]) ** 2).sum())
    ssw = float((s2 - s**2 / m).sum())
    msb = ssb / (k - n_groups)
    msw = ssw / (n - k)
    m0 = (n - float((m**2 / n_g[unit_group]).sum())) / (k - n_groups)
    denom = msb + (m0 - 1.0) * msw
    if denom <= 0:
        return DesignEffect(nan, nan, size_w, mean_size, n, k, nan, deff_emp,
                            "the outcome does not vary: the ICC is not defined")
    icc = (msb - msw) / denom
    deff = 1.0 + (size_w - 1.0) * icc
    return DesignEffect(float(deff), float(icc), size_w, mean_size, n, k, float(n / deff) if deff > 0 else nan,
                        deff_emp)
