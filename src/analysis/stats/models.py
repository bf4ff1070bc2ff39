"""The misclassification models: did SFPD identify and screen for trafficking differently after Vice -> SVU?

The published study (DOMAIN.md; NCJ 254004) reported that SFPD screened more reports for trafficking in
2014/15 than in 2009/10, but that SVU's odds of *correctly* identifying a case as trafficking fell. This module
fits the two logistic regressions behind those statements, on the report-level table from
:func:`analysis.derive.variables.derive`:

* ``correctly_identified`` -- among reports SFPD labelled trafficking (or both), the coder assessed trafficking
  as established (the other reports are blank and left out);
* ``screened_trafficking_yes`` -- the report documents screening for trafficking (all reports; blank when not
  documented, left out).

Reports are the sampled units, so an ordinary (independent-observation) logistic regression is right here;
for person-level outcomes see :mod:`analysis.stats.clustered`.

Why "unit" is not simply Vice vs SVU
------------------------------------
The investigating unit named on a report is almost a copy of the period: Vice worked prostitution in
2009/10 and SVU in 2014/15, so "Vice named" and "SVU named" are each (nearly) the same column as the period,
and a model with both cannot be estimated (perfect collinearity). The question that *can* be asked is
whether the change between periods is the specialised unit's doing or city-wide. So the unit term is

    unit = "specialised"     the period's specialised unit is named (Vice or SVU; with or without a
                             district station)
           "district_other"  no specialised unit named: a district station and/or another unit only

(:func:`unit_type`; reports whose unit is not documented are left out). Then ``outcome ~ period * unit``
(logit link, statsmodels formula API, ``smf.glm(..., family=Binomial())``) has four cells:

    Vice period x specialised (= Vice)        SVU period x specialised (= SVU)
    Vice period x district/other only         SVU period x district/other only

and its terms read

* ``period``: SVU period vs Vice period among reports naming the specialised unit, i.e. SVU vs Vice -- the
  headline odds ratio;
* ``unit``: district station / other only vs the specialised unit, in the Vice period;
* ``period:unit``: ratio of odds ratios -- how much the period change differs for reports without a
  specialised unit. Near 1: the change happened across SFPD, not only where SVU worked.

With ``interaction=False`` the model is ``period + unit`` (the period OR adjusted for unit); with
``unit=False`` it is ``period`` alone (the crude 2 x 2 odds ratio, what the published abstract describes).
The model is saturated with the interaction, so its predicted probabilities (:func:`predicted_probabilities`)
are the observed cell proportions.

Separation and empty cells
--------------------------
With few trafficking-labelled reports, a cell can be empty or have no events (or only events). Then a
maximum-likelihood odds ratio is infinite or not identified and software prints nonsense (ORs of 1e-9 or
1e12 with enormous intervals). Before fitting, the design is checked for rank (empty cells, a factor that
does not vary) and for complete or quasi-complete separation with the linear program of Konis (2007, the
method of R's ``detectseparation``); if the interaction cannot be estimated it is dropped with a note, then the
unit term, and if even the period term cannot be estimated its row is NaN with a note. Bias-reduced (Firth)
logistic regression would give finite estimates, but statsmodels 0.14 does not provide it; the cell counts
(:attr:`ModelResult.cells`) are always returned so an exact analysis can be run by hand.

Sources
-------
* Agresti, A. (2013). *Categorical Data Analysis* (3rd ed.), sec. 5.4 (Wald intervals for logistic
  parameters), 6.5 (infinite estimates and separation). Wiley.
* Albert, A. & Anderson, J. A. (1984). On the existence of maximum likelihood estimates in logistic
  regression models. *Biometrika* 71, 1-10.
* Konis, K. (2007). *Linear programming algorithms for detecting separated data in binary logistic regression
  models*. DPhil thesis, University of Oxford; implemented in R's ``detectseparation`` (Kosmidis & Schumacher).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Mapping

import numpy as np
import pandas as pd
from scipy import stats as _sps

__all__ = [
    "OUTCOMES",
    "UNIT_LABELS",
    "ModelResult",
    "misclassification_model",
    "predicted_probabilities",
    "unit_type",
]

#: The outcomes the model is meant for: column -> readable name (for labels and notes).
OUTCOMES: dict[str, str] = {
    "correctly_identified": "correctly identified as trafficking (of reports SFPD labelled trafficking)",
    "screened_trafficking_yes": "screened for trafficking",
}

#: Levels of :func:`unit_type`, reference first.
UNIT_LABELS: dict[str, str] = {
    "specialised": "specialised unit named (Vice or SVU)",
    "district_other": "district station / other unit only",
}

_UNIT_COLUMNS = ("investigating_unit__vice", "investigating_unit__svu", "investigating_unit__district_station",
                 "investigating_unit__other")


def unit_type(incidents: pd.DataFrame) -> pd.Categorical:
    """The unit term of the model: ``"specialised"`` when Vice or SVU is named among the investigating units,
    ``"district_other"`` when only a district station and/or another unit is, missing when the unit is not
    documented (-8). Categories in that order (the specialised unit is the reference)."""
    missing = [c for c in _UNIT_COLUMNS if c not in incidents.columns]
    if missing:
        raise ValueError(f"the incidents table lacks {missing}; pass the derived incidents table (analysis.derive.variables)")
    flags = {c: incidents[c].astype("boolean") for c in _UNIT_COLUMNS}
    vice, svu, dist, other = (flags[c] for c in _UNIT_COLUMNS)
    specialised = (vice.fillna(False) | svu.fillna(False)).to_numpy(dtype=bool)
    local = (dist.fillna(False) | other.fillna(False)).to_numpy(dtype=bool)
    out = np.where(specialised, "specialised", np.where(local, "district_other", None))
    return pd.Categorical(out, categories=list(UNIT_LABELS))


@dataclass(frozen=True, eq=False)
class ModelResult:
    """A fitted misclassification model, ready for a table.

    ``table``: one row per model term except the intercept, columns ``term`` (statsmodels' name), ``label``
    (readable), ``odds_ratio``, ``ci_low``, ``ci_high`` (Wald, ``conf`` level), ``p_value`` (Wald), ``n``
    (reports in the model), ``events``. ``n`` and ``events``: reports in the model and those with the outcome.
    ``formula``: the formula actually fitted (after any term was dropped). ``notes``: what was left out and
    why. ``cells``: observed reports and events in each period x unit cell (all four, even empty ones).
    ``params`` / ``cov``: log-odds coefficients and their covariance (for :func:`predicted_probabilities`).
    ``period_names``: the names used in labels.
    """

    table: pd.DataFrame
    n: int
    events: int
    formula: str
    notes: tuple[str, ...]
    cells: pd.DataFrame
    outcome: str
    periods: tuple[str, str]
    units: tuple[str, str]
    params: pd.Series = field(repr=False)
    cov: pd.DataFrame = field(repr=False)
    conf: float = 0.95
    period_names: tuple[str, str] = ("", "")


def _period_name(code: str) -> str:
    return code.upper() if len(code) <= 3 else code.capitalize()


def _separated(X: np.ndarray, y: np.ndarray) -> bool:
    """True when the 0/1 data ``y`` on design ``X`` are completely or quasi-completely separated, i.e. the
    logistic MLE has an infinite coefficient (Albert & Anderson 1984). Konis (2007) primal linear program:
    maximise sum_i s_i x_i'b subject to s_i x_i'b >= 0 for all i and -1 <= b <= 1, with s_i = 2 y_i - 1;
    separation exists iff the maximum is positive. Solved on the distinct (x, y) rows (scipy ``linprog``,
    HiGHS). Call only with a full-rank X (a rank-deficient X is a different problem, checked separately)."""
    from scipy.optimize import linprog

    rows = np.unique(np.column_stack([X, y]), axis=0)
    Xs, s = rows[:, :-1], 2.0 * rows[:, -1] - 1.0
    A = -(s[:, None] * Xs)
    res = linprog(c=A.sum(axis=0), A_ub=A, b_ub=np.zeros(len(A)), bounds=[(-1.0, 1.0)] * X.shape[1], method="highs")
    if res.status != 0:  # pragma: no cover - the LP is bounded and feasible (b = 0)
        return True
    return -res.fun > 1e-7 * max(1.0, np.abs(Xs).sum())


def _cells(df: pd.DataFrame, periods, units) -> pd.DataFrame:
    rows = []
    for p in periods:
        for u in units:
            sub = df.loc[(df["period"] == p) & (df["unit"] == u), "y"]
            n, e = len(sub), int(sub.sum())
            rows.append({"period": p, "unit": u, "n": n, "events": e, "observed": e / n if n else math.nan})
    return pd.DataFrame(rows)


def _describe_cells(cells: pd.DataFrame, what: str, pname) -> str:
    bad = []
    for r in cells.itertuples():
        where = f"{pname(r.period)} period x {UNIT_LABELS[r.unit]}"
        if r.n == 0:
            bad.append(f"{where}: no reports")
        elif r.events == 0:
            bad.append(f"{where}: 0 of {r.n} {what}")
        elif r.events == r.n:
            bad.append(f"{where}: all {r.n} {what}")
    return "; ".join(bad)


def misclassification_model(
    incidents: pd.DataFrame,
    outcome: str = "correctly_identified",
    interaction: bool = True,
    *,
    unit: bool = True,
    conf: float = 0.95,
    period_names: Mapping[str, str] | None = None,
) -> ModelResult:
    """Logistic regression of a report-level 0/1 outcome on period, unit type and their interaction.

    Model: ``y ~ period * unit`` (``interaction=True``), ``y ~ period + unit`` (``interaction=False``) or
    ``y ~ period`` (``unit=False``), fitted with ``statsmodels.formula.api.glm(..., family=Binomial())``
    (logit link, maximum likelihood). ``period`` is the derived period with its declared categories (the first,
    Vice, is the reference); ``unit`` is :func:`unit_type` (reference: the specialised unit). Odds ratios are
    exp(coefficient) with Wald intervals exp(b +/- z se), z the normal quantile for ``conf``, and Wald
    p-values. See the module docstring for why unit is defined this way and how each term reads.

    Rows where the outcome, period or unit is missing are left out (counted in ``notes``). Terms that cannot
    be estimated (empty cells, a factor that does not vary, separation) are dropped with a note instead of
    printing nonsense: first the interaction, then unit; if the period odds ratio itself cannot be estimated
    (one period has no reports, or all or none of its reports have the outcome) its row is NaN.

    ``period_names`` maps period codes to names for labels (default: ``svu`` -> ``SVU``, ``vice`` -> ``Vice``).

    Returns a :class:`ModelResult`.
    """
    if outcome not in incidents.columns:
        raise ValueError(f"the incidents table has no column {outcome!r}; expected one of {sorted(OUTCOMES)}")
    if "period" not in incidents.columns:
        raise ValueError("the incidents table has no 'period' column; pass the derived incidents table")
    conf = float(conf)
    if not 0.0 < conf < 1.0:
        raise ValueError(f"conf must be strictly between 0 and 1; got {conf}")
    what = {"correctly_identified": "correctly identified", "screened_trafficking_yes": "screened"}.get(
        outcome, f"with {outcome}")
    pname = (lambda c: (period_names or {}).get(c, _period_name(c)))
    periods = _periods(incidents["period"])
    units = list(UNIT_LABELS)
    df, notes = _model_frame(incidents, outcome, periods, unit)
    n, events = len(df), int(df["y"].sum())
    cells = _cells(df, periods, units)
    names = (pname(periods[0]), pname(periods[1]))
    formula = _estimable_formula(df, cells, outcome, unit=unit, interaction=interaction, what=what, pname=pname,
                                 notes=notes)
    columns = ["term", "label", "odds_ratio", "ci_low", "ci_high", "p_value", "n", "events"]
    labels = _term_labels(periods, units, pname)
    if formula is None:
        p_term = f"period[T.{periods[1]}]"
        table = pd.DataFrame([{"term": p_term, "label": labels["y ~ period"][p_term], "odds_ratio": math.nan,
                               "ci_low": math.nan, "ci_high": math.nan, "p_value": math.nan, "n": n,
                               "events": events}], columns=columns)
        empty = pd.Series(dtype=float)
        return ModelResult(table, n, events, f"{outcome} ~ period (not estimable)", tuple(notes), cells, outcome,
                           tuple(periods), tuple(units), empty, pd.DataFrame(), conf, names)
    fit = _fit_logit(formula, df, notes)
    z = float(_sps.norm.ppf(0.5 + conf / 2))
    rows = []
    for term in fit.params.index:
        if term == "Intercept":
            continue
        b, se = float(fit.params[term]), float(fit.bse[term])
        rows.append({"term": term, "label": labels[formula][term], "odds_ratio": math.exp(b),
                     "ci_low": math.exp(b - z * se), "ci_high": math.exp(b + z * se),
                     "p_value": float(fit.pvalues[term]), "n": n, "events": events})
    table = pd.DataFrame(rows, columns=columns)
    display_formula = formula.replace("y ~", f"{outcome} ~")
    return ModelResult(table, n, events, display_formula, tuple(notes), cells, outcome, tuple(periods),
                       tuple(units), fit.params.copy(), fit.cov_params().copy(), conf, names)


def _periods(period: pd.Series) -> list:
    """The two periods, in their declared order (sorted when the column is not categorical)."""
    periods = (list(period.cat.categories) if isinstance(period.dtype, pd.CategoricalDtype)
               else sorted(period.dropna().unique().tolist()))
    if len(periods) != 2:
        raise ValueError(f"the period must have exactly two levels; got {periods!r}")
    return periods


def _model_frame(incidents: pd.DataFrame, outcome: str, periods: list, unit: bool) -> tuple[pd.DataFrame, list[str]]:
    """``y, period, unit`` for the reports with the outcome, period (and unit) recorded; a note on the rest."""
    try:
        y = pd.to_numeric(incidents[outcome].astype("Float64"), errors="raise")
    except (TypeError, ValueError):
        raise ValueError(f"{outcome!r} must be a yes/no (True/False or 0/1) column") from None
    if (y.notna() & ~y.isin([0.0, 1.0])).any():
        raise ValueError(f"{outcome!r} must be a yes/no (True/False or 0/1) column; found other values")
    df = pd.DataFrame({
        "y": y.to_numpy(dtype=float, na_value=np.nan),
        "period": pd.Categorical(incidents["period"].astype(object), categories=periods),
        "unit": unit_type(incidents),
    })
    notes: list[str] = []
    n_all = len(df)
    not_applicable = int(df["y"].isna().sum())
    df = df.dropna(subset=["y", "period"] + (["unit"] if unit else []))
    left_out = n_all - len(df)
    if left_out:
        parts = [f"{not_applicable} blank {outcome}"] if not_applicable else []
        if left_out > not_applicable:
            parts.append(f"{left_out - not_applicable} with no period{' or unit' if unit else ''} documented")
        notes.append(f"{left_out} of {n_all} reports left out ({', '.join(parts)})")
    df = df.reset_index(drop=True)
    df["y"] = df["y"].astype(int)
    return df, notes


def _estimable_formula(df: pd.DataFrame, cells: pd.DataFrame, outcome: str, *, unit: bool, interaction: bool,
                       what: str, pname, notes: list[str]) -> str | None:
    """The largest estimable model: period * unit -> period + unit -> period (None when not even the period
    term can be estimated). A note in ``notes`` for every model dropped, saying why."""
    import patsy

    candidates = []
    if unit and interaction:
        candidates.append(("y ~ period * unit", "interaction"))
    if unit:
        candidates.append(("y ~ period + unit", "unit"))
    candidates.append(("y ~ period", "period"))
    if len(df) == 0:
        notes.append(f"no reports with {outcome} recorded")
        candidates = []
    for f, kind in candidates:
        X = np.asarray(patsy.dmatrix(f.split("~")[1], df, return_type="matrix"))
        full_rank = np.linalg.matrix_rank(X) == X.shape[1]
        sep = full_rank and _separated(X, df["y"].to_numpy(dtype=float))
        if full_rank and not sep:
            return f
        why = "empty cells or a level that does not occur" if not full_rank else "separation (a cell or margin with no events or only events)"
        notes.append(_dropped_note(kind, why, cells, what, pname))
    return None


def _dropped_note(kind: str, why: str, cells: pd.DataFrame, what: str, pname) -> str:
    """Why the interaction, the unit term or the period odds ratio could not be estimated, with the counts."""
    if kind == "interaction":
        bad = _describe_cells(cells, what, pname)
        return f"interaction period x unit not estimable ({why}{': ' + bad if bad else ''}); dropped"
    if kind == "unit":
        counts = cells.groupby("unit", observed=False)[["n", "events"]].sum()
        desc = "; ".join(f"{UNIT_LABELS[u]}: " + (f"{int(r.events)} of {int(r.n)} {what}" if r.n else "no reports")
                         for u, r in counts.iterrows())
        return f"unit term not estimable ({why}: {desc}); dropped, period odds ratio is crude"
    counts = cells.groupby("period", observed=False)[["n", "events"]].sum()
    desc = "; ".join(f"{pname(p)}: " + (f"{int(r.events)} of {int(r.n)} {what}" if r.n else "no reports")
                     for p, r in counts.iterrows())
    return f"period odds ratio not estimable ({why}: {desc}); use an exact test on the cell counts"


def _term_labels(periods: list, units: list, pname) -> dict[str, dict[str, str]]:
    """formula -> statsmodels term -> the readable label of its odds ratio."""
    p_term = f"period[T.{periods[1]}]"
    u_term = f"unit[T.{units[1]}]"
    p_label_ref = f"{pname(periods[1])} period vs {pname(periods[0])} period"
    return {
        "y ~ period * unit": {
            p_term: f"{p_label_ref}, reports naming the specialised unit ({pname(periods[1])} vs {pname(periods[0])})",
            u_term: f"{UNIT_LABELS[units[1]].capitalize()} vs {UNIT_LABELS[units[0]]}, {pname(periods[0])} period",
            f"{p_term}:{u_term}": (f"Interaction (ratio of odds ratios): period change for "
                                   f"{UNIT_LABELS[units[1]]} relative to specialised-unit reports"),
        },
        "y ~ period + unit": {
            p_term: f"{p_label_ref}, adjusted for unit",
            u_term: f"{UNIT_LABELS[units[1]].capitalize()} vs {UNIT_LABELS[units[0]]}, adjusted for period",
        },
        "y ~ period": {p_term: f"{p_label_ref} (crude)"},
    }


def _fit_logit(formula: str, df: pd.DataFrame, notes: list[str]):
    """The logistic regression (statsmodels GLM, Binomial); its convergence and separation warnings become notes."""
    import statsmodels.api as sm
    import statsmodels.formula.api as smf
    from statsmodels.tools.sm_exceptions import (
        ConvergenceWarning,
        PerfectSeparationWarning,
    )

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        warnings.simplefilter("always", PerfectSeparationWarning)
        fit = smf.glm(formula, data=df, family=sm.families.Binomial()).fit(tol=1e-12)
    for w in caught:
        if issubclass(w.category, (ConvergenceWarning, PerfectSeparationWarning)):
            notes.append(f"statsmodels: {w.message}")
    return fit


def predicted_probabilities(result: ModelResult) -> pd.DataFrame:
    """Model-predicted probability of the outcome in each period x unit cell, beside the observed share.

    Columns: ``period``, ``unit``, ``label`` (readable), ``n``, ``events``, ``observed`` (events / n),
    ``predicted`` with ``ci_low`` / ``ci_high`` (Wald interval on the log-odds scale, transformed back, so it
    stays inside 0-1). With the interaction the model is saturated and ``predicted == observed``; without it
    the predictions are smoothed by the model. Cells with no reports, or a model that could not be estimated,
    have NaN predictions.
    """
    cells = result.cells.copy()
    periods, units = result.periods, result.units
    p_term, u_term = f"period[T.{periods[1]}]", f"unit[T.{units[1]}]"
    z = float(_sps.norm.ppf(0.5 + result.conf / 2))
    pred, lo, hi, labels = [], [], [], []
    params = result.params
    for r in cells.itertuples():
        name = dict(zip(periods, result.period_names)).get(r.period) or _period_name(r.period)
        labels.append(f"{name} period, {UNIT_LABELS[r.unit]}")
        if params.empty or r.n == 0:
            pred.append(math.nan), lo.append(math.nan), hi.append(math.nan)
            continue
        x = pd.Series(0.0, index=params.index)
        x["Intercept"] = 1.0
        ip, iu = float(r.period == periods[1]), float(r.unit == units[1])
        for term, val in ((p_term, ip), (u_term, iu), (f"{p_term}:{u_term}", ip * iu)):
            if term in x.index:
                x[term] = val
        eta = float(x @ params)
        se = math.sqrt(float(x @ result.cov.loc[params.index, params.index] @ x))
        expit = lambda v: 1.0 / (1.0 + math.exp(-v))  # noqa: E731
        pred.append(expit(eta)), lo.append(expit(eta - z * se)), hi.append(expit(eta + z * se))
    cells.insert(2, "label", labels)
    cells["predicted"], cells["ci_low"], cells["ci_high"] = pred, lo, hi
    return cells
