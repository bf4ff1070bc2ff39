"""Design-based estimates for the study's sample: strata = sampled year, primary sampling unit = report.

The study drew a random sample of incident reports within each year (the strata), from a sampling frame of the
reports SFPD filed that year. Every person (and every charge) on a sampled report is in the data: people are
*elements within their report*, not sampled units of their own. So one design serves every table:

* strata: the sampled years; primary sampling units (PSUs): the reports;
* weights: frame reports / sampled reports in the year (the same for every person on a report);
* finite population correction: ``1 - n_h / N_h`` from the frame (``N_h`` reports in the frame, ``n_h`` sampled);
* variance: Taylor linearisation with the ultimate-cluster estimator (R's ``survey`` with
  ``svydesign(ids = ~report_id, strata = ~report_year, fpc = ~frame_reports, weights = ...)``); no second-stage
  term, because every person on a sampled report is observed (a census within the PSU);
* domains (subpopulations: "people selling sex", "reports where an interpreter was used", the rows where a
  yes/no is known): the whole design is kept for the variance and a PSU with no member in the domain counts as
  a zero (R's ``subset()`` of a design); design degrees of freedom are R's ``degf`` of the domain.

Without a frame (an unweighted table) the same estimators run on the *cluster-only* design: weight 1 for
everyone, reports as clusters, no strata and no finite population correction. That is what the person tables
use for cluster-aware tests of rows with more than two levels (Rao-Scott) and of numbers (a design-based
rank test), because people on one report are not independent.

The numbers come from `svy <https://svylab.com/docs/svy>`_ (0.35, a maintained design-based library validated
against R's ``survey``): means and proportions (``estimation.mean``), totals (``estimation.total``),
quantiles (``estimation.quantile``, Woodruff), contrasts of domain estimates (``Estimate.contrast``),
two-way tables with the Rao-Scott tests (``categorical.tabulate``) and the design-based t-test
(``categorical.ttest``). Checked against R's survey 4.1.1 on the synthetic example (tests/fixtures/r/): point
estimates to 1e-10 and standard errors to 1e-10 or better. Three things are done here rather than in svy:

* p-values are recomputed with SciPy from svy's statistic and degrees of freedom (svy rounds very small
  p-values to 0.0);
* the rank test is R's ``svyranktest(test = "wilcoxon")``: the weighted mid-rank of each domain member
  (``sum of the weights below + half its own``, ties averaged), divided by the domain's weighted size, compared
  between the groups with the design-based t-test (svy's own ``ranktest`` leaves out the finite population
  correction);
* differences are always "first group minus second group" (svy's two-group t-test subtracts in its own order).

svy needs the domain given with ``where=`` (a null outside the domain), not by dropping rows: dropping rows
changes the design, and with ``drop_nulls`` alone the Rao-Scott F was up to 45% off R. Every function here
takes arrays of the data's length with NaN / None outside the domain.

Sources
-------
* Lumley, T. (2010). *Complex Surveys: A Guide to Analysis Using R*. Wiley (ch. 2-3: strata, clusters, fpc,
  domains; sec. 6.2: Rao-Scott tests).
* Rao, J. N. K. & Scott, A. J. (1984). On chi-squared tests for multiway contingency tables with cell
  proportions estimated from survey data. *Annals of Statistics* 12, 46-60.
* Lumley, T. & Scott, A. J. (2013). Two-sample rank tests under complex sampling. *Biometrika* 100, 831-842.
* Woodruff, R. S. (1952). Confidence intervals for medians and other position measures. *JASA* 47, 635-646.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np
from scipy import stats as _sps

__all__ = [
    "DesignError",
    "Difference",
    "Estimate",
    "RaoScott",
    "SurveyDesign",
    "category_summary",
    "number_summary",
    "logit_interval",
    "proportion_summary",
    "rank_test",
    "rao_scott_test",
    "survey_design",
    "weighted_midrank_scores",
]

OVERALL = "overall"

# column names of the design in the frame handed to svy
_STRATUM, _PSU, _WEIGHT, _POP = "__stratum", "__psu", "__weight", "__pop_psus"


class DesignError(ValueError):
    """A design that cannot be built: a stratum missing from the population counts, or fewer population PSUs
    than sampled ones. ``stratum``, ``population`` and ``sampled`` say which and how many."""

    def __init__(self, message: str, stratum: Any = None, population: Any = None, sampled: Any = None):
        super().__init__(message)
        self.stratum, self.population, self.sampled = stratum, population, sampled


@dataclass(frozen=True, eq=False)
class SurveyDesign:
    """A stratified (or unstratified) cluster sample: per data row its stratum, PSU and weight; per stratum the
    PSUs sampled and (for the fpc) in the population. Made by :func:`survey_design`.

    ``n`` is the number of data rows. PSUs that were sampled but have no row in the data (a report listing no
    people, in a person table) are kept as empty PSUs: they add rows outside every domain, so they count as
    zeros in the variance as R's ``survey`` counts them.
    """

    n: int
    stratum: np.ndarray | None
    psu: np.ndarray
    weight: np.ndarray
    pop_psus: np.ndarray | None
    sampled: dict = field(default_factory=dict)  # stratum -> PSUs sampled
    population: dict | None = None  # stratum -> PSUs in the population
    _frame: Any = field(default=None, repr=False)  # the polars frame of the design columns (with empty PSUs)

    @property
    def weighted(self) -> bool:
        return self.population is not None

    def _data(self, columns: Mapping[str, np.ndarray]):
        """The design frame with ``columns`` added (each of length ``n``; null in the empty-PSU rows)."""
        import polars as pl

        pad = len(self._frame) - self.n
        extra = []
        for name, values in columns.items():
            v = np.asarray(values)
            if v.dtype.kind == "f":
                s = pl.Series(name, np.concatenate([v, np.full(pad, np.nan)]), nan_to_null=True)
            else:
                s = pl.Series(name, [None if x is None else str(x) for x in v] + [None] * pad, dtype=pl.Utf8)
            extra.append(s)
        return self._frame.with_columns(extra)

    def _sample(self, columns: Mapping[str, np.ndarray]):
        import svy

        design = svy.Design(stratum=_STRATUM if self.stratum is not None else None, psu=_PSU, wgt=_WEIGHT,
                            pop_size=_POP if self.pop_psus is not None else None)
        return svy.Sample(self._data(columns), design)


def survey_design(psu: Any, stratum: Any = None, *, population: Mapping | None = None,
                  sampled: Mapping | None = None) -> SurveyDesign:
    """The design of a stratified cluster sample, for the estimators of this module.

    ``psu``: each data row's primary sampling unit (a report id). ``stratum``: each row's stratum (the sampled
    year), or None for an unstratified sample. ``population``: PSUs in the population per stratum (the frame's
    reports per year): the weights are ``population[h] / sampled[h]`` and the variance has the finite population
    correction ``1 - sampled[h] / population[h]``; without it every weight is 1 and there is no fpc (the
    cluster-only design of an unweighted table). ``sampled``: PSUs sampled per stratum, when more were sampled
    than appear in these rows (a person table whose data leave out reports with no people); by default the
    distinct PSUs of each stratum in the data.

    Raises :class:`DesignError` when a stratum has no population count, or fewer population PSUs than sampled
    ones (R's ``survey``: "FPC implies >100% sampling in some strata"), naming the stratum and both numbers.
    """
    import polars as pl

    psu = np.asarray(psu, dtype=object)
    n = len(psu)
    h = np.zeros(n, dtype=np.int64) if stratum is None else np.asarray(stratum)
    if len(h) != n:
        raise ValueError(f"stratum and psu must have the same length; got {len(h)} and {n}")
    if n and any(p is None or (isinstance(p, float) and math.isnan(p)) for p in psu):
        raise ValueError("every row needs a primary sampling unit (PSU); some are missing")
    strata = list(dict.fromkeys(h.tolist()))
    present = {s: len(set(psu[h == s].tolist())) for s in strata}
    sampled_h = dict(present)
    if sampled is not None:
        for s in strata:
            if s not in sampled:
                raise DesignError(f"stratum {s}: no count of sampled PSUs given", s, None, present[s])
            if int(sampled[s]) < present[s]:
                raise DesignError(f"stratum {s}: {present[s]} PSUs in the data but only {int(sampled[s])} sampled",
                                  s, None, int(sampled[s]))
            sampled_h[s] = int(sampled[s])
    pop_h = None
    if population is not None:
        pop_h = {}
        for s in strata:
            if s not in population:
                raise DesignError(f"stratum {s}: no population count ({sampled_h[s]} PSUs sampled)", s, None,
                                  sampled_h[s])
            N = population[s]
            if not isinstance(N, (int, np.integer)) or isinstance(N, bool) or N < sampled_h[s]:
                raise DesignError(f"stratum {s}: {N} PSUs in the population, fewer than the {sampled_h[s]} sampled",
                                  s, N, sampled_h[s])
            pop_h[s] = int(N)
    # the empty PSUs: sampled but without a row here
    pad_h, pad_psu = [], []
    for s in strata:
        for i in range(sampled_h[s] - present[s]):
            pad_h.append(s)
            pad_psu.append(f"__empty_psu_{s}_{i}")
    all_h = np.concatenate([h, np.asarray(pad_h, dtype=h.dtype)]) if pad_h else h
    all_psu = np.concatenate([psu, np.asarray(pad_psu, dtype=object)]) if pad_psu else psu
    if pop_h is not None:
        w = np.array([pop_h[s] / sampled_h[s] for s in all_h.tolist()], dtype=float)
        pop = np.array([float(pop_h[s]) for s in all_h.tolist()], dtype=float)
    else:
        w, pop = np.ones(len(all_h)), None
    cols = {_PSU: pl.Series(_PSU, [str(p) for p in all_psu], dtype=pl.Utf8), _WEIGHT: pl.Series(_WEIGHT, w)}
    if stratum is not None:
        cols[_STRATUM] = pl.Series(_STRATUM, [str(s) for s in all_h.tolist()], dtype=pl.Utf8)
    if pop is not None:
        cols[_POP] = pl.Series(_POP, pop)
    frame = pl.DataFrame(cols)
    return SurveyDesign(n=n, stratum=None if stratum is None else h, psu=psu, weight=w[:n], pop_psus=None if pop is None else pop[:n],
                        sampled=sampled_h, population=pop_h, _frame=frame)


# --- results ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Estimate:
    """A design-based estimate in one domain: ``estimate`` (a mean or proportion), its ``se``, the 95% interval
    (``low``, ``high``: for proportions the logit interval of :func:`logit_interval`, for means svy's t interval,
    both with the domain's degrees of freedom), ``df``, ``n`` (data rows in the domain), ``n_weighted`` (sum of
    the weights), and for proportions the estimated ``total`` (frame units with the level) and its ``total_se``."""

    estimate: float
    se: float
    low: float = math.nan
    high: float = math.nan
    df: float = math.nan
    n: int = 0
    n_weighted: float = math.nan
    total: float = math.nan
    total_se: float = math.nan


NAN_ESTIMATE = Estimate(math.nan, math.nan)


@dataclass(frozen=True)
class Difference:
    """``first - second`` of two domain estimates (or of two groups' mean rank scores): the estimate, its
    design-based SE, 95% interval (t with ``df``), the t statistic and its two-sided p-value."""

    estimate: float
    se: float
    low: float
    high: float
    statistic: float
    df: float
    p_value: float


NAN_DIFFERENCE = Difference(*(math.nan,) * 7)


@dataclass(frozen=True)
class RaoScott:
    """Rao-Scott tests of independence of a row variable and the groups in a two-way design-based table.

    ``f``, ``df1``, ``df2``, ``p_value``: the second-order (Satterthwaite) F test, R's ``svychisq(statistic =
    "F")``, the test the tables report. ``chisq``, ``chisq_df``, ``chisq_p``: the first-order corrected
    chi-square (Pearson's X^2 divided by the mean generalised design effect). ``pearson``: the unadjusted X^2 of
    the weighted table scaled to the domain's size (not design-based; for reference)."""

    f: float
    df1: float
    df2: float
    p_value: float
    chisq: float
    chisq_df: float
    chisq_p: float
    pearson: float
    note: str = ""


def _not_tested(why: str) -> RaoScott:
    return RaoScott(*(math.nan,) * 8, note=why)


# --- svy calls ------------------------------------------------------------------------------------------------


def _rows(result) -> list[dict]:
    return list(result.to_polars().iter_rows(named=True))


def _estimate(r: dict | None) -> Estimate:
    if r is None:
        return NAN_ESTIMATE
    return Estimate(float(r["est"]), float(r["se"]), float(r["lci"]), float(r["uci"]), float(r["df"]), int(r["n"]))


def _domain(col: str):
    import svy

    return svy.col(col).is_not_null()


def _by_group(result, group_col: str) -> dict:
    return {str(r[group_col]): r for r in _rows(result)}


def _weighted_sizes(design: SurveyDesign, domain: np.ndarray, group: np.ndarray, groups: Sequence[str]) -> dict:
    out = {g: float(design.weight[domain & (group == g)].sum()) for g in groups}
    out[OVERALL] = float(design.weight[domain].sum())
    return out


def _difference(est_by, group_col: str, first: str, second: str) -> Difference:
    """``first - second`` of a by-group result, by svy's contrast (t on the design df)."""
    import svy

    if set(est_by.keys()) != {first, second}:
        return NAN_DIFFERENCE
    c = _rows(est_by.contrast(svy.estd(first) - svy.estd(second)))[0]
    se = float(c["se"])
    t = float(c["est"]) / se if se > 0 else math.nan
    df = float(c["df"])
    p = float(2 * _sps.t.sf(abs(t), df)) if se > 0 else math.nan
    return Difference(float(c["est"]), se, float(c["lci"]), float(c["uci"]), t, df, p)


def _rao_scott(sample, row_col: str, group_col: str) -> RaoScott:
    import svy

    return _rao_scott_stats(sample.categorical.tabulate(row_col, group_col, where=[svy.col(row_col).is_not_null()]))


def _rao_scott_stats(tab) -> RaoScott:
    """The Rao-Scott tests of a two-way svy table, p-values recomputed with SciPy (svy rounds tiny ones to 0)."""
    f, c = tab.stats.f, tab.stats.chisq
    F, df1, df2 = float(f.value), float(f.df_num), float(f.df_den)
    if not all(map(math.isfinite, (F, df1, df2))) or df1 <= 0 or df2 <= 0:
        return _not_tested("the design-based table has no variation to test")
    adj = F * float(c.df)
    return RaoScott(F, df1, df2, float(_sps.f.sf(F, df1, df2)), adj, float(c.df), float(_sps.chi2.sf(adj, c.df)),
                    float(c.value))


def logit_interval(p: float, se: float, df: float, conf: float = 0.95) -> tuple[float, float]:
    """The logit interval of a design-based proportion, svy's ``prop`` default and R's ``svyciprop(method =
    "logit")``: ``expit(logit(p) +/- t_df se / (p (1 - p)))`` (the delta-method SE on the logit scale). It stays
    inside 0-1, where the Wald interval of a small proportion does not. NaN when p is 0 or 1 (no interval on
    the logit scale) or the SE or df is not finite."""
    if not all(map(math.isfinite, (p, se, df))) or not 0.0 < p < 1.0 or df <= 0:
        return (math.nan, math.nan)
    half = float(_sps.t.ppf(0.5 + conf / 2, df)) * se / (p * (1.0 - p))
    lg = math.log(p / (1.0 - p))
    expit = (lambda v: 1.0 / (1.0 + math.exp(-v)))
    return (expit(lg - half), expit(lg + half))


def _testable(values: np.ndarray, group: np.ndarray, domain: np.ndarray, groups: Sequence[str]) -> str:
    """Why a two-way table of ``values`` by ``group`` within the domain cannot be tested ('' when it can)."""
    present = [g for g in groups if (domain & (group == g)).any()]
    if len(present) < 2:
        return "no one in the domain in one of the groups"
    if len(set(values[domain].tolist())) < 2:
        return "a single level in the domain"
    return ""


# --- the three kinds of row ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProportionSummary:
    """A yes/no in its domain: per group and overall (:data:`OVERALL`), the difference ``groups[0] - groups[1]``
    and the Rao-Scott test of the 2 x 2 design-based table."""

    by: dict[str, Estimate]
    difference: Difference
    test: RaoScott


def proportion_summary(design: SurveyDesign, y: Any, group: Any, groups: Sequence[str]) -> ProportionSummary:
    """Design-based proportion of a 0/1 outcome ``y`` (NaN outside the domain: the rows where it is unknown or
    that are not in the table's population) in each of ``groups`` (``group`` per row) and overall; totals;
    the difference ``groups[0] - groups[1]`` (svy contrast of the domain means, R's ``svycontrast`` of
    ``svyby``) and the Rao-Scott tests (R's ``svychisq``) of y by group within the domain. The Rao-Scott F is
    the test to report: it stays valid when a group's proportion is 0 or 1, where the Wald test of the
    difference divides by a standard error that is 0 in that group."""
    y = np.asarray(y, dtype=float)
    group = np.asarray(group).astype(str)
    a, b = groups
    domain = ~np.isnan(y)
    s = design._sample({"y": y, "ys": np.where(domain, np.where(y == 1, "1", "0"), None).astype(object),
                        "g": np.where(domain, group, None).astype(object)})
    if not domain.any():
        return ProportionSummary({g: NAN_ESTIMATE for g in (*groups, OVERALL)}, NAN_DIFFERENCE,
                                 _not_tested("no one in the domain"))
    by_res = s.estimation.mean("y", by="g", where=_domain("y"))
    by = _by_group(by_res, "g")
    tot = _by_group(s.estimation.total("y", by="g", where=_domain("y")), "g")
    ov = _rows(s.estimation.mean("y", where=_domain("y")))[0]
    ov_tot = _rows(s.estimation.total("y", where=_domain("y")))[0]
    sizes = _weighted_sizes(design, domain, group, groups)
    out = {}
    for g, r, t in [(g, by.get(g), tot.get(g)) for g in groups] + [(OVERALL, ov, ov_tot)]:
        e = _estimate(r)
        low, high = logit_interval(e.estimate, e.se, e.df)
        out[g] = Estimate(e.estimate, e.se, low, high, e.df, e.n, sizes[g],
                          float(t["est"]) if t else math.nan, float(t["se"]) if t else math.nan)
    why = _testable(y, group, domain, groups)
    test = _not_tested(why) if why else _rao_scott(s, "ys", "g")
    return ProportionSummary(out, _difference(by_res, "g", a, b), test)


def rao_scott_test(design: SurveyDesign, values: Any, group: Any, groups: Sequence[str]) -> RaoScott:
    """Only the Rao-Scott tests of ``values`` (None / NaN outside the domain; any levels) by group within the
    domain: what a table needs when it reports counts and tests with the design (the cluster-only design of an
    unweighted person table)."""
    vals = np.array([None if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)
                     for v in np.asarray(values, dtype=object)], dtype=object)
    group = np.asarray(group).astype(str)
    domain = np.array([v is not None for v in vals], dtype=bool)
    why = _testable(vals, group, domain, groups)
    if why:
        return _not_tested(why)
    return _rao_scott(design._sample({"v": vals, "g": np.where(domain, group, None).astype(object)}), "v", "g")


@dataclass(frozen=True)
class CategorySummary:
    """A categorical variable in its domain: ``by[(group, level)]`` (group in ``groups`` or :data:`OVERALL`) and
    the Rao-Scott test of the levels by group."""

    by: dict[tuple[str, str], Estimate]
    test: RaoScott


def category_summary(design: SurveyDesign, values: Any, group: Any, groups: Sequence[str],
                     levels: Sequence[str], *, totals: bool = True) -> CategorySummary:
    """Design-based share of each of ``levels`` (``values`` per row, None outside the domain) in each group and
    overall, with totals, and the Rao-Scott tests of the levels by group: R's ``svymean`` / ``svytotal`` of the
    level indicators by group on the domain, and ``svychisq``; through svy's ``tabulate`` (column shares of the
    two-way table, which are the domain shares by group with their SEs and logit intervals; one-way tables of
    counts for the totals) and ``estimation.prop`` (the overall shares). A level no one in a group has is 0 with
    SE 0; a group with no one in the domain is NaN. ``totals=False`` leaves the totals out (NaN): on a large
    sample the count tables cost more than everything else together."""
    import svy

    vals = np.array([None if v is None else str(v) for v in np.asarray(values, dtype=object)], dtype=object)
    group = np.asarray(group).astype(str)
    domain = np.array([v is not None for v in vals], dtype=bool)
    levels = [str(c) for c in levels]
    if not domain.any():
        return CategorySummary({(g, c): NAN_ESTIMATE for g in (*groups, OVERALL) for c in levels},
                               _not_tested("no one in the domain"))
    s = design._sample({"v": vals, "g": np.where(domain, group, None).astype(object)})
    where = [_domain("v")]
    present = [g for g in groups if (domain & (group == g)).any()]
    why = _testable(vals, group, domain, groups)
    shares: dict[tuple[str, str], dict] = {}
    if not why:
        two = s.categorical.tabulate("v", "g", share_of="col", where=where)
        shares = {(str(r["g"]), str(r["v"])): r for r in _rows(two)}
        test = _rao_scott_stats(two)
    else:
        test = _not_tested(why)
        for g in present:
            shares.update({(g, str(r["v"])): r for r in _rows(s.categorical.tabulate(
                "v", where=where + [svy.col("g") == g]))})
    shares.update({(OVERALL, str(r["v"])): r for r in _rows(s.estimation.prop("v", where=where))})
    counts: dict[tuple[str, str], dict] = {}
    if totals:
        counts = {(OVERALL, str(r["v"])): r for r in _rows(s.categorical.tabulate("v", units="count", where=where))}
        for g in present:
            counts.update({(g, str(r["v"])): r for r in _rows(s.categorical.tabulate(
                "v", units="count", where=where + [svy.col("g") == g]))})
    sizes = _weighted_sizes(design, domain, group, groups)
    n_in = {g: int((domain & (group == g)).sum()) for g in groups}
    n_in[OVERALL] = int(domain.sum())
    out = {}
    for g in (*groups, OVERALL):
        for c in levels:
            if g != OVERALL and g not in present:
                out[(g, c)] = NAN_ESTIMATE
                continue
            r, tt = shares.get((g, c)), counts.get((g, c))
            est, se = (float(r["est"]), float(r["se"])) if r else (0.0, 0.0)
            low, high = (float(r["lci"]), float(r["uci"])) if r else (math.nan, math.nan)
            tot = ((float(tt["est"]), float(tt["se"])) if tt else (0.0, 0.0)) if totals else (math.nan, math.nan)
            out[(g, c)] = Estimate(est, se, low, high, math.nan, n_in[g], sizes[g], *tot)
    return CategorySummary(out, test)


@dataclass(frozen=True)
class NumberSummary:
    """A number in its domain: per group and overall the design-based mean (``means``), the quartiles
    (``quartiles[g] = (q1, median, q3)``, Woodruff) and the standard deviation of the population values
    (``sd``, R's ``svyvar``); the difference in means ``groups[0] - groups[1]`` with the design-based t-test
    (``mean_test``, R's ``svyttest``) and the design-based Wilcoxon rank test (``rank_test``, R's
    ``svyranktest``: the difference is in mean rank score, a share of the domain)."""

    means: dict[str, Estimate]
    quartiles: dict[str, tuple[float, float, float]]
    sd: dict[str, float]
    mean_test: Difference
    rank_test: Difference


def weighted_midrank_scores(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """R's ``svyranktest`` scores: for each value, the weights of the smaller values plus half the weights of
    its own value (mid-rank with ties averaged, in weight units), divided by the total weight."""
    order = np.argsort(x, kind="mergesort")
    xs, ws = x[order], w[order]
    cum = np.cumsum(ws) - ws / 2
    # ties: average of cum over each run of equal values (R's ave(cumsum(w) - w/2, factor(y)))
    _, start, counts = np.unique(xs, return_index=True, return_counts=True)
    sums = np.add.reduceat(cum, start)
    avg = np.repeat(sums / counts, counts)
    out = np.empty_like(avg)
    out[order] = avg
    return out / w.sum()


def rank_test(design: SurveyDesign, x: Any, group: Any, groups: Sequence[str]) -> Difference:
    """Only the design-based Wilcoxon rank test of :func:`number_summary` (``groups[0] - groups[1]`` in mean
    rank score): what a table needs when it shows unweighted summaries and tests with the cluster-only design."""
    x = np.asarray(x, dtype=float)
    group = np.asarray(group).astype(str)
    domain = ~np.isnan(x)
    if sum((domain & (group == g)).any() for g in groups) < 2:
        return NAN_DIFFERENCE
    score = np.full(len(x), np.nan)
    score[domain] = weighted_midrank_scores(x[domain], design.weight[domain])
    return _ttest(design._sample({"r": score, "g": np.where(domain, group, None).astype(object)}), "r", *groups)


def number_summary(design: SurveyDesign, x: Any, group: Any, groups: Sequence[str]) -> NumberSummary:
    """Design-based summary of a number ``x`` (NaN outside the domain) by group: see :class:`NumberSummary`."""
    x = np.asarray(x, dtype=float)
    group = np.asarray(group).astype(str)
    a, b = groups
    domain = ~np.isnan(x)
    empty = NumberSummary({g: NAN_ESTIMATE for g in (*groups, OVERALL)},
                          {g: (math.nan,) * 3 for g in (*groups, OVERALL)}, {g: math.nan for g in (*groups, OVERALL)},
                          NAN_DIFFERENCE, NAN_DIFFERENCE)
    if not domain.any():
        return empty
    score = np.full(len(x), np.nan)
    score[domain] = weighted_midrank_scores(x[domain], design.weight[domain])
    s = design._sample({"x": x, "r": score, "g": np.where(domain, group, None).astype(object)})
    where = _domain("x")
    by_res = s.estimation.mean("x", by="g", where=where)
    by = _by_group(by_res, "g")
    means = {g: _estimate(by.get(g)) for g in groups}
    means[OVERALL] = _estimate(_rows(s.estimation.mean("x", where=where))[0])
    quartiles, sd = {}, {}
    q_by = [_by_group(q, "g") for q in s.estimation.quantile("x", p=(0.25, 0.5, 0.75), by="g", where=where)]
    q_ov = [_rows(q)[0] for q in s.estimation.quantile("x", p=(0.25, 0.5, 0.75), where=where)]
    for g in groups:
        quartiles[g] = tuple(float(q[g]["est"]) if g in q else math.nan for q in q_by)
    quartiles[OVERALL] = tuple(float(q["est"]) for q in q_ov)
    for g in (*groups, OVERALL):
        m = domain & ((group == g) if g != OVERALL else True)
        sd[g] = _population_sd(x[m], design.weight[m])
    present = [g for g in groups if (domain & (group == g)).any()]
    if len(present) < 2:
        return NumberSummary(means, quartiles, sd, NAN_DIFFERENCE, NAN_DIFFERENCE)
    return NumberSummary(means, quartiles, sd, _ttest(s, "x", a, b), _ttest(s, "r", a, b))


def _ttest(sample, col: str, first: str, second: str) -> Difference:
    """svy's design-based two-group t-test of ``col`` within its domain (R's ``svyttest``: df = the domain's
    design df - 1), as ``first - second`` whatever order svy takes the groups in."""
    import polars as pl

    res = sample.categorical.ttest(col, group="g", where=[_domain(col)])
    r = _rows(res)[0]
    if {str(v) for v in res.groups.levels} != {first, second}:
        return NAN_DIFFERENCE
    # svy 0.35 reports levels[1] - levels[0]; the sign is taken from the weighted means themselves, so that a
    # change in svy's order cannot flip it silently
    data = sample._data.filter(pl.col(col).is_not_null())
    m = {g: np.average(data.filter(pl.col("g") == g)[col].to_numpy(),
                       weights=data.filter(pl.col("g") == g)[_WEIGHT].to_numpy()) for g in (first, second)}
    wanted = float(m[first] - m[second])
    sign = 1.0 if abs(float(r["diff"]) - wanted) <= abs(float(r["diff"]) + wanted) else -1.0
    est, se, df = sign * float(r["diff"]), float(r["se"]), float(r["df"])
    lo, hi = sorted((sign * float(r["lci"]), sign * float(r["uci"])))
    t = est / se if se > 0 else math.nan
    return Difference(est, se, lo, hi, t, df, float(2 * _sps.t.sf(abs(t), df)) if se > 0 else math.nan)


def _population_sd(x: np.ndarray, w: np.ndarray) -> float:
    """The population standard deviation estimated from a weighted sample, as R's ``svyvar``:
    ``n / (n - 1) * sum w (x - mean)^2 / sum w``."""
    n = len(x)
    if n < 2 or w.sum() <= 0:
        return math.nan
    m = float(np.average(x, weights=w))
    return math.sqrt(n / (n - 1) * float(np.sum(w * (x - m) ** 2)) / float(w.sum()))
