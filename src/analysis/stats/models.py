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

Sparse cells, separation and empty cells
----------------------------------------
With few trafficking-labelled reports a cell can have few events, none, or only events. Maximum likelihood then
overstates the odds ratios (small-sample bias) or has no finite estimate at all (separation: software prints ORs
of 1e-9 or 1e12 with enormous intervals). So when any period x unit cell of the model (the period margins for
the crude model) has fewer than :data:`MIN_EVENTS` events or non-events, or the data are separated (checked with
the linear program of Konis 2007, the method of R's ``detectseparation``), the model is fitted by **Firth's
bias-reduced logistic regression** (penalised likelihood, Jeffreys prior; Firth 1993, Heinze & Schemper 2002)
with the maintained package ``firthmodels``: finite estimates, **profile penalised-likelihood** 95% intervals and
penalised likelihood-ratio p-values, what R's ``logistf(pl = TRUE)`` reports (checked against it on the
synthetic example: tests/fixtures/r/firth.csv). The interaction is fitted, not dropped. Otherwise the model is
ordinary maximum likelihood with Wald intervals (statsmodels). :attr:`ModelResult.method` and a note say which
fit was used; the notes never carry counts (the shared outputs are count-free; the cell counts are in
:attr:`ModelResult.cells` for the analyst).

Only what no fit can estimate is dropped: an empty period x unit cell or a factor that does not vary makes the
design rank-deficient, so the interaction is dropped with a note, then the unit term; if even the period term
cannot be estimated (a period without reports) its row is NaN with a note.

Sources
-------
* Agresti, A. (2013). *Categorical Data Analysis* (3rd ed.), sec. 5.4 (Wald intervals for logistic
  parameters), 6.5 (infinite estimates and separation). Wiley.
* Albert, A. & Anderson, J. A. (1984). On the existence of maximum likelihood estimates in logistic
  regression models. *Biometrika* 71, 1-10.
* Konis, K. (2007). *Linear programming algorithms for detecting separated data in binary logistic regression
  models*. DPhil thesis, University of Oxford; implemented in R's ``detectseparation`` (Kosmidis & Schumacher).
* Firth, D. (1993). Bias reduction of maximum likelihood estimates. *Biometrika* 80, 27-38.
* Heinze, G. & Schemper, M. (2002). A solution to the problem of separation in logistic regression. *Statistics
  in Medicine* 21, 2409-2419 (profile penalised-likelihood intervals; R's ``logistf``).
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
    "MIN_EVENTS",
    "FirthFit",
    "OUTCOMES",
    "UNIT_LABELS",
    "ModelResult",
    "firth_logit",
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

#: A cell with fewer events (or non-events) than this makes the model a Firth fit (the notes say "five": they are
#: shared, and carry no numbers).
MIN_EVENTS: int = 5

_FIRTH_TOLERANCES = (1e-8, 1e-6)

METHOD_ML = "maximum likelihood (Wald 95% intervals and p-values)"
METHOD_FIRTH = ("Firth's bias-reduced logistic regression (penalised likelihood; profile penalised-likelihood 95% "
                "intervals and penalised likelihood-ratio p-values)")

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
    ``period_names``: the names used in labels. ``method``: the fit used, :data:`METHOD_ML` or
    :data:`METHOD_FIRTH` (a note says why Firth's).
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
    method: str = METHOD_ML


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


def _describe_cells(cells: pd.DataFrame, pname) -> str:
    """The empty period x unit cells, by name (no counts: the notes are shared)."""
    return "; ".join(f"{pname(r.period)} period x {UNIT_LABELS[r.unit]}" for r in cells.itertuples() if r.n == 0)


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
    ``y ~ period`` (``unit=False``), logit link. ``period`` is the derived period with its declared categories
    (the first, Vice, is the reference); ``unit`` is :func:`unit_type` (reference: the specialised unit). See the
    module docstring for why unit is defined this way and how each term reads.

    The fit: maximum likelihood (``statsmodels.formula.api.glm(..., family=Binomial())``; odds ratios
    exp(coefficient) with Wald intervals exp(b +/- z se) and Wald p-values), or, when a cell of the model has
    fewer than :data:`MIN_EVENTS` events or non-events or the data are separated, Firth's bias-reduced logistic
    regression with profile penalised-likelihood intervals and penalised likelihood-ratio p-values
    (:func:`firth_logit`). ``method`` and a note say which.

    Rows where the outcome, period or unit is missing are left out (a note says so, without counts). Terms
    that no fit can estimate (an empty cell, a factor that does not vary) are dropped with a note: first the
    interaction, then unit; if the period odds ratio itself cannot be estimated (one period has no reports) its
    row is NaN.

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
    pname = (lambda c: (period_names or {}).get(c, _period_name(c)))
    periods = _periods(incidents["period"])
    units = list(UNIT_LABELS)
    df, notes = _model_frame(incidents, outcome, periods, unit)
    n, events = len(df), int(df["y"].sum())
    cells = _cells(df, periods, units)
    names = (pname(periods[0]), pname(periods[1]))
    formula = _estimable_formula(df, cells, outcome, unit=unit, interaction=interaction, pname=pname, notes=notes)
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
    why = _sparse(df, cells, formula)
    if why:
        params, cov, ci, pvals = _fit_firth(formula, df, conf, notes)
        notes.append(f"Fit: Firth's bias-reduced logistic regression with profile penalised-likelihood intervals and "
                     f"penalised likelihood-ratio p-values, because {why}.")
        method = METHOD_FIRTH
    else:
        params, cov, ci, pvals = _fit_ml(formula, df, conf, notes)
        notes.append("Fit: maximum likelihood with Wald intervals and p-values (every cell of the model has at least "
                     "five events and five non-events).")
        method = METHOD_ML
    rows = [{"term": term, "label": labels[formula][term], "odds_ratio": math.exp(float(params[term])),
             "ci_low": math.exp(ci.loc[term, 0]), "ci_high": math.exp(ci.loc[term, 1]), "p_value": float(pvals[term]),
             "n": n, "events": events} for term in params.index if term != "Intercept"]
    table = pd.DataFrame(rows, columns=columns)
    display_formula = formula.replace("y ~", f"{outcome} ~")
    return ModelResult(table, n, events, display_formula, tuple(notes), cells, outcome, tuple(periods),
                       tuple(units), params.copy(), cov.copy(), conf, names, method)


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
    blank = df["y"].isna().to_numpy()
    undocumented = (df["period"].isna() | (df["unit"].isna() if unit else False)).to_numpy()
    if (blank | undocumented).any():  # which reports, not how many: the notes are shared, the counts are in n
        parts = ([f"a blank {outcome}"] if blank.any() else []) + (
            [f"no period{' or unit' if unit else ''} documented"] if (undocumented & ~blank).any() else [])
        notes.append(f"Reports left out: those with {' or '.join(parts)}.")
    df = df[~(blank | undocumented)]
    df = df.reset_index(drop=True)
    df["y"] = df["y"].astype(int)
    return df, notes


def _estimable_formula(df: pd.DataFrame, cells: pd.DataFrame, outcome: str, *, unit: bool, interaction: bool,
                       pname, notes: list[str]) -> str | None:
    """The largest model the data can identify: period * unit -> period + unit -> period (None when not even the
    period term can be estimated). Only a rank-deficient design (an empty cell, a factor that does not vary) drops
    a term; separation does not (Firth's fit has finite estimates then). A note for every model dropped, saying
    why, without counts."""
    import patsy

    candidates = []
    if unit and interaction:
        candidates.append(("y ~ period * unit", "interaction"))
    if unit:
        candidates.append(("y ~ period + unit", "unit"))
    candidates.append(("y ~ period", "period"))
    if len(df) == 0:
        notes.append(f"no reports with {outcome} recorded")
        return None
    for f, kind in candidates:
        X = np.asarray(patsy.dmatrix(f.split("~")[1], df, return_type="matrix"))
        if np.linalg.matrix_rank(X) == X.shape[1]:
            return f
        notes.append(_dropped_note(kind, cells, pname))
    return None


def _dropped_note(kind: str, cells: pd.DataFrame, pname) -> str:
    """Why the interaction, the unit term or the period odds ratio could not be estimated (no counts)."""
    why = "empty cells or a level that does not occur"
    if kind == "interaction":
        empty = _describe_cells(cells, pname)
        return f"interaction period x unit not estimable ({why}{': no reports in ' + empty if empty else ''}); dropped"
    if kind == "unit":
        return f"unit term not estimable ({why}: one unit type has no reports); dropped, period odds ratio is crude"
    return f"period odds ratio not estimable ({why}: a period has no reports)"


def _sparse(df: pd.DataFrame, cells: pd.DataFrame, formula: str) -> str:
    """Why the model needs Firth's fit ('' when it does not): a cell of the model (period x unit, or the periods
    for the crude model) with fewer than MIN_EVENTS events or non-events, or separated data."""
    import patsy

    if "unit" in formula:
        c = cells[cells["n"] > 0]
        where = "a period x unit cell"
    else:
        c = cells.groupby("period", observed=False)[["n", "events"]].sum().reset_index()
        c = c[c["n"] > 0]
        where = "a period"
    few = ((c["events"] < MIN_EVENTS) | (c["n"] - c["events"] < MIN_EVENTS)).any()
    X = np.asarray(patsy.dmatrix(formula.split("~")[1], df, return_type="matrix"))
    if _separated(X, df["y"].to_numpy(dtype=float)):
        return f"the data are separated ({where} with no events or only events)"
    if few:
        return f"{where} has fewer than five events or non-events"
    return ""


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


def _fit_ml(formula: str, df: pd.DataFrame, conf: float, notes: list[str]):
    """Maximum likelihood (statsmodels GLM, Binomial): coefficients, covariance, Wald intervals (log-odds scale,
    columns 0 and 1) and Wald p-values; convergence and separation warnings become notes."""
    # smf.glm is GLM.from_formula (importing statsmodels.api loads all of statsmodels: ~0.3 s)
    from statsmodels.genmod.families import Binomial
    from statsmodels.genmod.generalized_linear_model import GLM
    from statsmodels.tools.sm_exceptions import (
        ConvergenceWarning,
        PerfectSeparationWarning,
    )

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        warnings.simplefilter("always", PerfectSeparationWarning)
        fit = GLM.from_formula(formula, data=df, family=Binomial()).fit(tol=1e-12)
    for w in caught:
        if issubclass(w.category, (ConvergenceWarning, PerfectSeparationWarning)):
            notes.append(f"statsmodels: {w.message}")
    ci = fit.conf_int(alpha=1 - conf)
    ci.columns = [0, 1]
    return fit.params, fit.cov_params(), ci, fit.pvalues


def _fit_firth(formula: str, df: pd.DataFrame, conf: float, notes: list[str]):
    """Firth's fit of the model (:func:`firth_logit`) with statsmodels' term names: coefficients, covariance,
    profile intervals (log-odds scale, columns 0 and 1) and penalised likelihood-ratio p-values."""
    import patsy

    X = patsy.dmatrix(formula.split("~")[1], df, return_type="dataframe")
    fit = firth_logit(X.to_numpy(dtype=float), df["y"].to_numpy(dtype=float), conf=conf)
    notes.extend(fit.notes)
    names = list(X.columns)
    params = pd.Series(fit.coef, index=names)
    return (params, pd.DataFrame(fit.cov, index=names, columns=names),
            pd.DataFrame({0: fit.ci_low, 1: fit.ci_high}, index=names), pd.Series(fit.p_value, index=names))


@dataclass(frozen=True, eq=False)
class FirthFit:
    """Firth's bias-reduced logistic regression: per column of the design, ``coef`` (log-odds), ``se`` and
    ``cov`` (the inverse Fisher information X'WX at the estimate, as logistf and brglm2 report), the profile
    penalised-likelihood interval (``ci_low``, ``ci_high``), the penalised likelihood-ratio test's ``p_value``,
    ``loglik`` (the penalised log-likelihood) and ``notes`` (convergence problems)."""

    coef: np.ndarray
    se: np.ndarray
    cov: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    p_value: np.ndarray
    loglik: float
    notes: tuple[str, ...] = ()


def firth_logit(X: np.ndarray, y: np.ndarray, conf: float = 0.95) -> FirthFit:
    """Firth's logistic regression of 0/1 ``y`` on the design matrix ``X`` (with its intercept column), with
    profile penalised-likelihood intervals and penalised likelihood-ratio p-values: R's ``logistf(pl = TRUE)``.

    Computed by ``firthmodels`` (``FirthLogit``, Newton-Raphson to a gradient and step tolerance of 1e-8, or 1e-6
    if that is not reached, up to 200 iterations; ``lrt()`` and ``conf_int(method="pl")``). Its ``bse`` (from an augmented information matrix)
    is not used: ``se`` and ``cov`` are the inverse of X'WX at the estimate, W = p (1 - p), as logistf and brglm2
    report. Finite for separated data; X must have full column rank.
    """
    from firthmodels.adapters.statsmodels import FirthLogit

    X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=float)
    for tol in _FIRTH_TOLERANCES:  # the tightest tolerance the Newton steps reach (1e-10 can stall on rounding)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            res = FirthLogit(y, X).fit(maxiter=200, gtol=tol, xtol=tol, pl=True)
            ci = res.estimator.conf_int(alpha=1 - conf, method="pl", max_iter=200, tol=tol)
        if res.converged and not np.isnan(np.asarray(res.pvalues, dtype=float)).any():
            break
    notes = tuple(dict.fromkeys(f"firthmodels: {w.message}" for w in caught
                                if "converge" in str(w.message).lower() or "fail" in str(w.message).lower()))
    coef = np.asarray(res.params, dtype=float)
    mu = 1.0 / (1.0 + np.exp(-(X @ coef)))
    cov = np.linalg.inv(X.T @ (X * (mu * (1.0 - mu))[:, None]))
    return FirthFit(coef, np.sqrt(np.diag(cov)), cov, np.asarray(ci[:, 0], dtype=float), np.asarray(ci[:, 1], dtype=float),
                    np.asarray(res.pvalues, dtype=float), float(res.llf), notes)


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
