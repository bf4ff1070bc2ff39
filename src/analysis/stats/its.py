"""Interrupted time series: a segmented Poisson regression with seasonality, on a monthly series.

The model (Lopez Bernal, Cummins & Gasparrini 2017, Int J Epidemiol 46:348-355, "Interrupted time series
regression for the evaluation of public health interventions: a tutorial"):

    log E[y_t] = b0 + b1*time_t + b2*level_t + b3*slope_t + sum_k (s_k sin(2 pi k m_t/12) + c_k cos(...))
                 [+ log(offset_t)]

- ``time`` = 1, 2, ... n (months); ``m`` = calendar month (1-12); ``harmonics`` sin/cos pairs (default 2,
  as the tutorial's ``harmonic(month, 2, 12)``);
- ``level`` = the share of the month on or after the change date (0 before, 1 after; a fraction in the
  month the change falls in);
- ``slope`` = months elapsed from the change date to the end of the month (0 before), so exp(b2) is the
  rate ratio of the step at the change itself and exp(b3) the change in the monthly trend. For a change on
  the first of a month this is the tutorial's ``I(time - t0):smokban``.

Overdispersion: **quasi-Poisson**. Coefficients are the Poisson maximum-likelihood estimates; the dispersion
is Pearson's chi-square / (n - p), always reported. Standard errors (``se``):

- ``"hac"`` (default): Newey-West heteroscedasticity- and autocorrelation-consistent sandwich (Bartlett
  kernel, ``maxlags`` default floor(4 (n/100)^(2/9))). The sandwich does not depend on the dispersion, so it
  is robust to overdispersion and to residual autocorrelation.
- ``"quasi"``: model-based errors scaled by the dispersion (the tutorial's ``family=quasipoisson``).
- ``"model"``: plain Poisson errors (dispersion fixed at 1).

95% CIs are Wald intervals on the log scale, exponentiated.

Pure numerics: the monthly series comes from :func:`analysis.public.monthly.monthly_counts` (the public record)
or any table with a ``month`` column and counts. A series that cannot be modelled raises :class:`SeriesError`.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

SE_TYPES = ("hac", "quasi", "model")
SUMMARY_COLUMNS = ["term", "estimate", "ci_low", "ci_high"]
TERMS = {
    "level_change_rr": "rate ratio of the step at the change date",
    "slope_change_rr": "ratio of the monthly trend after to the trend before (per month)",
    "pre_trend_rr": "monthly trend before the change (rate ratio per month)",
    "post_trend_rr": "monthly trend after the change (rate ratio per month)",
    "dispersion": "Pearson chi-square / residual df (1 = Poisson)",
    "n_months": "months in the series",
    "hac_maxlags": "Newey-West lags (HAC errors only)",
}


# --- errors and the monthly counts (moved) ------------------------------------------------------------


class SeriesError(ValueError):
    """The monthly series cannot be modelled (gaps, too few months on a side of the change, bad counts).

    The message is written for people; ``rule`` names the check (``its_months``, ``its_range``,
    ``its_counts``, ``its_offset``) and ``variable`` the column it is about.
    """

    def __init__(self, rule: str, message: str, *, variable: str = ""):
        self.rule = rule
        self.variable = variable
        super().__init__(message)


# --- design -----------------------------------------------------------------------------------------------


def harmonics(month_of_year: np.ndarray, pairs: int, period: int = 12) -> pd.DataFrame:
    """Fourier terms: ``sin1, cos1, sin2, cos2, ...`` of the calendar month (tsModel's ``harmonic``)."""
    cols = {}
    m = np.asarray(month_of_year, dtype=float)
    for k in range(1, pairs + 1):
        cols[f"sin{k}"] = np.sin(2 * np.pi * k * m / period)
        cols[f"cos{k}"] = np.cos(2 * np.pi * k * m / period)
    return pd.DataFrame(cols)


def design(months: pd.Series, change_date: dt.date, *, n_harmonics: int = 2, level_change: bool = True,
           slope_change: bool = True) -> pd.DataFrame:
    """The regression design for month-start dates ``months``: const, time, level, slope, harmonics."""
    m = pd.DatetimeIndex(pd.to_datetime(months)).to_period("M").to_timestamp()
    change = pd.Timestamp(change_date)
    days = m.days_in_month.to_numpy().astype(float)
    month_end = (m + pd.offsets.MonthBegin(1))  # the first day of the next month
    after_days = np.clip((month_end - change).days.to_numpy().astype(float), 0, days)
    level = after_days / days
    # months elapsed from the change to the end of each month
    k = np.arange(len(m))
    change_idx = (change.year - m[0].year) * 12 + (change.month - m[0].month)
    change_pos = change_idx + (change.day - 1) / change.days_in_month
    slope = np.clip(k + 1 - change_pos, 0, None)
    X = pd.DataFrame({"const": 1.0, "time": k + 1.0})
    if level_change:
        X["level"] = level
    if slope_change:
        X["slope"] = slope
    if n_harmonics:
        X = pd.concat([X, harmonics(m.month.to_numpy(), n_harmonics)], axis=1)
    return X


def default_maxlags(n: int) -> int:
    """Newey-West (1994) rule of thumb: floor(4 (n/100)^(2/9))."""
    return int(math.floor(4 * (n / 100) ** (2 / 9)))


# --- fit ----------------------------------------------------------------------------------------------


@dataclass
class ITSResult:
    summary: pd.DataFrame  # term, estimate, ci_low, ci_high
    series: pd.DataFrame  # month, observed, fitted, counterfactual, level, slope (and offset)
    change_date: dt.date
    se: str
    dispersion: float
    maxlags: int | None
    n_harmonics: int
    params: pd.Series
    cov: pd.DataFrame
    notes: list[str] = field(default_factory=list)

    def rr(self, term: str) -> tuple[float, float, float]:
        """(estimate, ci_low, ci_high) of a summary term."""
        row = self.summary.set_index("term").loc[term]
        return float(row["estimate"]), float(row["ci_low"]), float(row["ci_high"])


def fit_its(monthly: pd.DataFrame, change_date: dt.date, *, count: str = "incidents", offset: str | None = None,
            n_harmonics: int = 2, se: str = "hac", maxlags: int | None = None, level_change: bool = True,
            slope_change: bool = True, alpha: float = 0.05) -> ITSResult:
    """Segmented quasi-Poisson regression of ``monthly[count]`` on time, the change and seasonality.

    ``monthly`` has a ``month`` column (month-start dates, consecutive) and the count column; ``offset``
    names a column of exposures (e.g. all-category incidents, or population) entered as log(offset).
    ``change_date`` is the study configuration's ``unit_change_date``. Returns the rate ratios with CIs
    (``summary``) and the fitted and counterfactual (no change: level and slope terms set to 0) series.
    Raises :class:`SeriesError` when the series cannot be modelled.
    """
    if se not in SE_TYPES:
        raise ValueError(f"se must be one of {', '.join(SE_TYPES)}; got {se!r}")
    df = monthly.sort_values("month").reset_index(drop=True)
    months, n_before, n_after = _check_months(df, change_date)
    change = pd.Timestamp(change_date)
    y = pd.to_numeric(df[count], errors="coerce")
    if y.isna().any() or (y < 0).any():
        raise SeriesError("its_counts", f"{count} must be counts of 0 or more", variable=count)
    X = design(months, change_date, n_harmonics=n_harmonics, level_change=level_change, slope_change=slope_change)
    off = None
    if offset is not None:
        o = pd.to_numeric(df[offset], errors="coerce")
        if o.isna().any() or (o <= 0).any():
            raise SeriesError("its_offset", f"offset {offset} must be positive in every month", variable=offset)
        off = np.log(o.to_numpy(dtype=float))
    res, dispersion, lags = _fit_poisson(y, X, off, se, maxlags)
    params, cov = res.params, pd.DataFrame(res.cov_params(), index=X.columns, columns=X.columns)
    rows = _rate_ratios(X.columns, params, cov, alpha, level_change=level_change, slope_change=slope_change)
    rows.append(("dispersion", dispersion, math.nan, math.nan))
    rows.append(("n_months", float(len(y)), math.nan, math.nan))
    if lags is not None:
        rows.append(("hac_maxlags", float(lags), math.nan, math.nan))
    summary = pd.DataFrame(rows, columns=SUMMARY_COLUMNS)
    series = _fitted_series(months, y, X, params, off, level_change=level_change, slope_change=slope_change)
    if offset is not None:
        series["offset"] = df[offset].to_numpy()
    notes = [f"{len(y)} months {months[0]:%Y-%m} to {months[-1]:%Y-%m}; change {change.date()} "
             f"({n_before} months before, {n_after} after)",
             f"quasi-Poisson, {n_harmonics} harmonic pair(s), "
             + {"hac": f"Newey-West HAC errors ({lags} lags)", "quasi": "quasi-Poisson model-based errors",
                "model": "Poisson model-based errors"}[se] + f"; dispersion {dispersion:.2f}"]
    return ITSResult(summary=summary, series=series, change_date=change.date(), se=se, dispersion=dispersion,
                     maxlags=lags, n_harmonics=n_harmonics, params=params, cov=cov, notes=notes)


def _check_months(df: pd.DataFrame, change_date: dt.date) -> tuple[pd.DatetimeIndex, int, int]:
    """The months (consecutive, else SeriesError) and the whole months before and after the change (3 or more
    on each side, else SeriesError)."""
    months = pd.DatetimeIndex(pd.to_datetime(df["month"])).to_period("M").to_timestamp()
    expected = pd.date_range(months[0], periods=len(months), freq="MS")
    if not (months == expected).all():
        raise SeriesError("its_months", "the months are not consecutive (one row per month without gaps is needed)",
                          variable="month")
    change = pd.Timestamp(change_date)
    n_before = int((months + pd.offsets.MonthBegin(1) <= change).sum())
    n_after = int((months >= change).sum())
    if n_before < 3 or n_after < 3:
        raise SeriesError(
            "its_range", f"the change date {change.date()} needs at least 3 whole months on each side of it; "
            f"the series runs {months[0]:%Y-%m} to {months[-1]:%Y-%m} ({n_before} before, {n_after} after)",
            variable="month")
    return months, n_before, n_after


def _fit_poisson(y: pd.Series, X: pd.DataFrame, off: np.ndarray | None, se: str, maxlags: int | None):
    """The Poisson GLM with the errors ``se`` asks for: (fit, Pearson dispersion, Newey-West lags or None)."""
    # the GLM module alone, not statsmodels.api (which imports every model: a third of a second more)
    from statsmodels.genmod.families import Poisson
    from statsmodels.genmod.generalized_linear_model import GLM

    model = GLM(y.to_numpy(dtype=float), X, family=Poisson(), offset=off)
    base = model.fit()
    dispersion = float(base.pearson_chi2 / base.df_resid)
    lags = None
    if se == "hac":
        lags = default_maxlags(len(y)) if maxlags is None else int(maxlags)
        res = model.fit(cov_type="HAC", cov_kwds={"maxlags": lags})
    elif se == "quasi":
        res = model.fit(scale="X2")
    else:
        res = base
    return res, dispersion, lags


def _rate_ratios(columns: pd.Index, params: pd.Series, cov: pd.DataFrame, alpha: float, *, level_change: bool,
                 slope_change: bool) -> list[tuple[str, float, float, float]]:
    """(term, rate ratio, CI low, CI high) of the change (level, slope) and of the trends before and after."""
    from scipy import stats

    z = stats.norm.ppf(1 - alpha / 2)

    def ratio(vec: dict[str, float]) -> tuple[float, float, float]:
        w = pd.Series(0.0, index=columns)
        for k, v in vec.items():
            w[k] = v
        est = float(w @ params)
        sd = float(np.sqrt(w @ cov @ w))
        return math.exp(est), math.exp(est - z * sd), math.exp(est + z * sd)

    rows = []
    if level_change:
        rows.append(("level_change_rr", *ratio({"level": 1})))
    if slope_change:
        rows.append(("slope_change_rr", *ratio({"slope": 1})))
    rows.append(("pre_trend_rr", *ratio({"time": 1})))
    if slope_change:
        rows.append(("post_trend_rr", *ratio({"time": 1, "slope": 1})))
    return rows


def _fitted_series(months: pd.DatetimeIndex, y: pd.Series, X: pd.DataFrame, params: pd.Series,
                   off: np.ndarray | None, *, level_change: bool, slope_change: bool) -> pd.DataFrame:
    """Observed, fitted and counterfactual (the level and slope terms set to 0) counts per month."""
    Xc = X.copy()
    for c in ("level", "slope"):
        if c in Xc:
            Xc[c] = 0.0
    lin_off = off if off is not None else 0.0
    return pd.DataFrame({
        "month": months,
        "observed": y.to_numpy(dtype="int64") if (y == y.round()).all() else y.to_numpy(),
        "fitted": np.exp(X.to_numpy() @ params.to_numpy() + lin_off),
        "counterfactual": np.exp(Xc.to_numpy() @ params.to_numpy() + lin_off),
        "level": X["level"] if level_change else 0.0,
        "slope": X["slope"] if slope_change else 0.0,
    })


def add_offset(monthly: pd.DataFrame, exposure: pd.DataFrame, name: str = "offset") -> pd.DataFrame:
    """``monthly`` with the exposure counts of ``exposure`` (``month, incidents``) as column ``name``.

    Raises SeriesError when the exposure does not cover every month of the series.
    """
    e = exposure.set_index("month")["incidents"]
    out = monthly.copy()
    out[name] = out["month"].map(e)
    missing = out.loc[out[name].isna(), "month"]
    if len(missing):
        raise SeriesError(
            "its_offset", f"the offset series does not cover {len(missing)} month(s) of the counts "
            f"({missing.min():%Y-%m} to {missing.max():%Y-%m})", variable=name)
    return out


def format_summary(result: ITSResult, digits: int = 3) -> str:
    """The rate ratios as text lines: ``term  estimate [ci_low, ci_high]``."""
    lines = []
    for _, r in result.summary.iterrows():
        if pd.isna(r["ci_low"]):
            val = f"{r['estimate']:.{digits}f}" if r["term"] == "dispersion" else f"{int(r['estimate'])}"
            lines.append(f"{r['term']:<16} {val}")
        else:
            lines.append(f"{r['term']:<16} {r['estimate']:.{digits}f} [{r['ci_low']:.{digits}f}, {r['ci_high']:.{digits}f}]")
    return "\n".join(lines)


def plot_its(result: ITSResult, ax=None, *, title: str = "", ylabel: str = "incidents per month",
             change_label: str = "unit change"):
    """Observed counts, the fitted model and the counterfactual, with the change date marked."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(10, 4.5))
    s = result.series
    ax.plot(s["month"], s["observed"], "o", ms=3, color="0.45", label="observed")
    ax.plot(s["month"], s["fitted"], "-", color="tab:blue", lw=1.6, label="fitted (segmented model)")
    post = s["level"] > 0
    ax.plot(s["month"][post], s["counterfactual"][post], "--", color="tab:red", lw=1.6,
            label="counterfactual (no change)")
    ax.axvline(pd.Timestamp(result.change_date), color="k", lw=1, ls=":")
    ax.annotate(f"{change_label}\n{result.change_date:%d %b %Y}", xy=(pd.Timestamp(result.change_date), 0.97),
                xycoords=("data", "axes fraction"), ha="left", va="top", fontsize=8, xytext=(4, 0),
                textcoords="offset points")
    ax.set_ylabel(ylabel)
    ax.set_ylim(bottom=0)
    if title:
        ax.set_title(title)
    ax.legend(loc="lower left", fontsize=8, frameon=False)
    return ax.figure


def summary_table(results: dict[str, ITSResult], terms: tuple[str, ...] = ("level_change_rr", "slope_change_rr",
                                                                          "pre_trend_rr", "post_trend_rr")) -> pd.DataFrame:
    """Several fits side by side: model, term, estimate, ci_low, ci_high, plus each model's dispersion."""
    parts = []
    for name, res in results.items():
        s = res.summary[res.summary["term"].isin(terms)].copy()
        s.insert(0, "model", name)
        s["dispersion"] = res.dispersion
        s["months"] = len(res.series)
        parts.append(s)
    return pd.concat(parts, ignore_index=True)
