"""The published headline, reproduced with its cause: each published statement beside the project's estimate.

The study's published finding (RTI International, NCJ 254004, August 2018; :mod:`analysis.scheme.published`) is
that SFPD screened more reports for trafficking in 2014/15 but that SVU's odds of correctly identifying a case as
trafficking fell, "largely" because SVU labelled massage-establishment inspections and operations targeting buyers as
trafficking, and that among incidents with people selling sex SVU showed no change; the committee's September 2017
minutes add that no trafficking case came from a sting. :func:`headline` computes, from the derived tables:

* ``labelled_by_origin``: the reports SFPD labelled trafficking, by how the case began (origin and its group:
  police-initiated or reactive), period and investigating unit (specialised unit vs district station / other only,
  :func:`analysis.stats.models.unit_type`), with how many the coder assessed as trafficking established;
* the correct-identification model (:func:`analysis.stats.models.misclassification_model`, period x unit) on all
  trafficking-labelled reports, on those of incidents with a person selling sex (a seller or a trafficking victim),
  and without the reports that began as massage inspections or buyer operations; the screening model (crude);
* ``established_origin``: how the cases the coder assessed as trafficking established began, by period;
* ``comparison``: one row per published statement: the statement, its source, the project's estimate in words and
  whether the estimate agrees (``yes`` / ``no`` / ``not shown``: the 95% interval includes no change /
  ``cannot tell``: not estimable), by the rule of the statement's ``claim``.

Nothing here writes files or prints; :func:`format_comparison` gives the text notebook 05 prints.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats as sps

from ..scheme.codebook import NOT_DOCUMENTED, Codebook, load_codebook
from ..scheme.config import StudyConfig, load_study_config
from ..scheme.published import Statement, load_published
from ..stats.inference import wilson_ci
from ..stats.models import METHOD_FIRTH, UNIT_LABELS, ModelResult, misclassification_model, unit_type

#: The estimates a published statement can be tested by (``estimate`` in published.yaml).
ESTIMATES = {
    "screened": "screened for trafficking, all reports: period odds ratio (crude)",
    "correct_specialised": "correctly identified, reports SFPD labelled trafficking naming the specialised unit "
                           "(SVU vs Vice): period odds ratio of the period x unit model",
    "correct_district_other": "correctly identified, reports naming only a district station or another unit: period "
                              "odds ratio of the same model (period term times interaction)",
    "correct_specialised_without": "as correct_specialised, leaving out the reports that began as the statement's "
                                   "origins",
    "correct_specialised_sellers": "as correct_specialised, incidents with a person selling sex (a seller or a "
                                   "trafficking victim on the report)",
    "established_origin": "how the cases the coder assessed as trafficking established began",
}
SELLING_ROLES = ("seller", "trafficking_victim")


@dataclass
class Estimate:
    """An odds ratio (period: after vs before) for one unit type, with the cells behind it and a note."""

    odds_ratio: float
    ci_low: float
    ci_high: float
    cells: pd.DataFrame  # period, unit, n, events, observed
    note: str = ""


@dataclass
class Headline:
    labelled_by_origin: pd.DataFrame
    established_origin: pd.DataFrame
    models: dict[str, ModelResult]
    comparison: pd.DataFrame
    estimates: dict[str, object] = field(default_factory=dict)
    period_names: dict[str, str] = field(default_factory=dict)


def period_names(cfg: StudyConfig) -> dict[str, str]:
    """'vice' -> 'Vice 2009/10', 'svu' -> 'SVU 2014/15' (the unit in a few letters, and the years)."""
    out = {}
    for p in cfg.periods:
        words = (p.unit or p.code).split()
        unit = "".join(w[0].upper() for w in words) if len(words) >= 3 else (p.unit or p.code)
        years = sorted(p.years)
        out[p.code] = f"{unit} {years[0]}/{str(years[-1])[-2:]}" if len(years) > 1 else f"{unit} {years[0]}"
    return out


def selling_incidents(incidents: pd.DataFrame, persons: pd.DataFrame, roles=SELLING_ROLES) -> pd.Series:
    """For each report: whether a person selling sex (role seller or trafficking victim) is on it."""
    ids = set(persons.loc[persons["role"].astype(str).isin(roles), "report_id"])
    return incidents["report_id"].isin(ids)


# --- the tables ---------------------------------------------------------------------------------------------


def labelled_by_origin(incidents: pd.DataFrame, cb: Codebook, cfg: StudyConfig) -> pd.DataFrame:
    """Reports SFPD labelled trafficking by how the case began, period and unit: ``labelled`` (reports),
    ``correct`` (of them, assessed established), ``pct_of_labelled`` (share of the period and unit's labelled
    reports) and ``pct_correct``. One row per origin (with its group) and period x unit, then 'all units'."""
    inc = incidents[incidents["labelled_trafficking"].astype(bool)].copy()
    unit = pd.Series(unit_type(inc), index=inc.index).astype(object).fillna("not documented")
    origin_var = cb.variable("incidents", "origin")
    labels = dict(origin_var.labels, **{NOT_DOCUMENTED: cb.missing_labels[NOT_DOCUMENTED]})
    group_of = cb.derived_variable("incidents", "origin_group").group_of()
    units = list(UNIT_LABELS) + ["not documented", "all units"]
    rows = []
    for p in cfg.period_codes:
        in_p = inc["period"].astype(str) == p
        for u in units:
            sel = in_p if u == "all units" else in_p & (unit == u)
            total = int(sel.sum())
            if u == "not documented" and total == 0:
                continue
            for code in list(origin_var.code_values) + [NOT_DOCUMENTED]:
                m = sel & (inc["origin"].astype(str) == code)
                n, k = int(m.sum()), int(inc.loc[m, "assessed_trafficking"].astype(bool).sum())
                rows.append({"period": p, "unit": u, "origin_group": group_of.get(code, NOT_DOCUMENTED),
                             "origin": code, "origin_label": labels[code], "labelled": n, "correct": k,
                             "pct_of_labelled": 100 * n / total if total else math.nan,
                             "pct_correct": 100 * k / n if n else math.nan})
    return pd.DataFrame(rows)


def established_origin(incidents: pd.DataFrame, cb: Codebook, cfg: StudyConfig) -> pd.DataFrame:
    """How the cases the coder assessed as trafficking established began: one row per origin, columns ``n_<period>``
    and ``pct_<period>`` (share of the period's established cases), with the origin's group."""
    est = incidents[incidents["assessed_trafficking"].astype(bool)]
    origin_var = cb.variable("incidents", "origin")
    labels = dict(origin_var.labels, **{NOT_DOCUMENTED: cb.missing_labels[NOT_DOCUMENTED]})
    group_of = cb.derived_variable("incidents", "origin_group").group_of()
    rows = []
    for code in list(origin_var.code_values) + [NOT_DOCUMENTED]:
        row = {"origin": code, "origin_label": labels[code], "origin_group": group_of.get(code, NOT_DOCUMENTED)}
        for p in cfg.period_codes:
            in_p = est["period"].astype(str) == p
            n = int((in_p & (est["origin"].astype(str) == code)).sum())
            row[f"n_{p}"], row[f"pct_{p}"] = n, (100 * n / int(in_p.sum()) if in_p.sum() else math.nan)
        rows.append(row)
    return pd.DataFrame(rows)


# --- the estimates -------------------------------------------------------------------------------------------


def period_odds_ratio(result: ModelResult, unit: str = "specialised") -> Estimate:
    """The period odds ratio (after vs before) for ``unit`` from a period x unit model. For the reference unit
    (the specialised unit) it is the model's period term, with the model's own interval (Wald for a
    maximum-likelihood fit, profile penalised likelihood for Firth's: :func:`analysis.stats.models.
    misclassification_model`). For ``district_other`` it is the period term times the interaction, with the Wald
    interval of the sum of the two log-odds coefficients (from the fit's covariance, also for Firth's fit; a note
    says so). Without the interaction (dropped as not estimable) the period odds ratio is common to both units and
    the note says so. The note also names the fit (the model's own notes on it are long)."""
    p_term = f"period[T.{result.periods[1]}]"
    cells = result.cells[result.cells["unit"] == unit] if "unit" in result.cells else result.cells
    # the model's population and fit are said once, shortly; the other notes (terms dropped) are caveats
    notes = [n for n in result.notes if not n.startswith(("Reports left out", "Fit:"))]
    if result.method == METHOD_FIRTH:
        notes.append("Firth's bias-reduced fit (sparse cells)")
    nan = Estimate(math.nan, math.nan, math.nan, cells, "; ".join(notes))
    if result.params.empty or p_term not in result.params.index:
        return nan
    i_term = f"{p_term}:unit[T.{result.units[1]}]"
    if unit == result.units[0] or i_term not in result.params.index:
        row = result.table.set_index("term").loc[p_term]
        note = ("interaction not estimable: the period odds ratio is common to both units"
                if unit != result.units[0] else "")
        return Estimate(float(row["odds_ratio"]), float(row["ci_low"]), float(row["ci_high"]), cells,
                        "; ".join([n for n in (note, *notes) if n]))
    x = pd.Series(0.0, index=result.params.index)
    x[p_term] = x[i_term] = 1.0
    b = float(x @ result.params)
    se = math.sqrt(float(x @ result.cov.loc[x.index, x.index] @ x))
    z = float(sps.norm.ppf(0.5 + result.conf / 2))
    note = "Wald interval of the period and interaction terms' sum"
    return Estimate(math.exp(b), math.exp(b - z * se), math.exp(b + z * se), cells,
                    "; ".join([note, *notes]))


def _period_cells(incidents: pd.DataFrame, column: str, cfg: StudyConfig) -> pd.DataFrame:
    """Reports with ``column`` recorded (n) and true (events) per period."""
    y = incidents[column].astype("boolean")
    rows = [{"period": p, "n": int(y[incidents["period"].astype(str) == p].notna().sum()),
             "events": int(y[incidents["period"].astype(str) == p].fillna(False).sum())} for p in cfg.period_codes]
    return pd.DataFrame(rows)


def _shares(cells: pd.DataFrame, names: dict[str, str], what: str) -> str:
    parts = []
    for r in cells.groupby("period", sort=False)[["n", "events"]].sum().itertuples():
        p = wilson_ci(int(r.events), int(r.n))[0] if r.n else math.nan
        parts.append(f"{names.get(r.Index, r.Index)} {int(r.events)}/{int(r.n)}"
                     + (f" ({100 * p:.0f}%)" if r.n else " (no reports)"))
    return f"{what} " + ", ".join(parts)


def _or_text(e: Estimate, names: dict[str, str], periods) -> str:
    if math.isnan(e.odds_ratio):
        return "odds ratio not estimable" + (f" ({e.note})" if e.note else "")
    a, b = (names.get(p, p) for p in periods)
    return (f"odds ratio {b.split()[0]} vs {a.split()[0]} {e.odds_ratio:.2f} (95% CI {e.ci_low:.2f} to "
            f"{e.ci_high:.2f})" + (f"; {e.note}" if e.note else ""))


def _direction(e: Estimate, claim: str) -> str:
    """yes / no / not shown / cannot tell, for a claim higher, lower or no_change."""
    if math.isnan(e.odds_ratio) or math.isnan(e.ci_low):
        return "cannot tell"
    above, below = e.ci_low > 1, e.ci_high < 1
    if claim == "no_change":
        return "no" if (above or below) else "yes"
    wanted, opposite = (above, below) if claim == "higher" else (below, above)
    return "yes" if wanted else ("no" if opposite else "not shown")


def _models(incidents: pd.DataFrame, persons: pd.DataFrame, statements: tuple[Statement, ...],
            names: dict[str, str]) -> tuple[dict[str, ModelResult], tuple[str, ...]]:
    """The screening model and the correct-identification models: all reports, incidents with a person selling
    sex, and without the origins the explained_by statement names."""
    left_out = next((s.origins for s in statements if s.claim == "explained_by"), ())
    selling = selling_incidents(incidents, persons)
    models = {
        "screened": misclassification_model(incidents, "screened_trafficking_yes", unit=False, period_names=names),
        "correct": misclassification_model(incidents, "correctly_identified", period_names=names),
        "correct_sellers": misclassification_model(incidents[selling], "correctly_identified", period_names=names),
    }
    if left_out:
        keep = ~incidents["origin"].astype(str).isin(left_out)
        models["correct_without"] = misclassification_model(incidents[keep], "correctly_identified",
                                                            period_names=names)
    return models, left_out


def headline(tables: dict[str, pd.DataFrame], codebook: Codebook | None = None, config: StudyConfig | None = None,
             statements: tuple[Statement, ...] | None = None) -> Headline:
    """The headline analysis on the derived tables (``incidents``, ``persons``): see the module docstring."""
    cb = codebook or load_codebook()
    cfg = config or load_study_config()
    statements = statements if statements is not None else load_published()
    inc, per = tables["incidents"], tables["persons"]
    names = period_names(cfg)
    short = {p: n.split()[0] for p, n in names.items()}
    models, left_out = _models(inc, per, statements, short)
    est_origin = established_origin(inc, cb, cfg)
    by_origin = labelled_by_origin(inc, cb, cfg)
    estimates: dict[str, object] = {
        "screened": period_odds_ratio(models["screened"], models["screened"].units[0]),
        "correct_specialised": period_odds_ratio(models["correct"], "specialised"),
        "correct_district_other": period_odds_ratio(models["correct"], "district_other"),
        "correct_specialised_sellers": period_odds_ratio(models["correct_sellers"], "specialised"),
        "established_origin": est_origin,
    }
    if "correct_without" in models:
        estimates["correct_specialised_without"] = period_odds_ratio(models["correct_without"], "specialised")
    estimates["screened"].cells = _period_cells(inc, "screened_trafficking_yes", cfg)
    words = {c.code: c.label[0].lower() + c.label[1:] for c in cb.variable("incidents", "origin").codes}
    rows = [_compare(s, estimates, by_origin, names, cfg, words) for s in statements]
    comparison = pd.DataFrame(rows, columns=["id", "statement", "source", "claim", "estimate", "agrees"])
    return Headline(by_origin, est_origin, models, comparison, estimates, names)


def _compare(s: Statement, estimates: dict, by_origin: pd.DataFrame, names: dict[str, str], cfg: StudyConfig,
             words: dict[str, str]) -> dict:
    """One statement: the project's estimate in words, and whether it agrees with the claim."""
    periods = cfg.period_codes
    origins = " or ".join(words.get(o, o) for o in s.origins)
    base = {"id": s.id, "statement": s.statement, "source": s.source, "claim": s.claim}
    if s.estimate not in estimates:
        return dict(base, estimate=f"no estimate {s.estimate!r} (see analysis.tables.headline.ESTIMATES)",
                    agrees="cannot tell")
    if s.claim == "none_from":
        return dict(base, **_none_from(s, estimates[s.estimate], names, periods, origins))
    e = estimates[s.estimate]
    what = {"screened": "screened:", "correct_specialised": "correctly identified (specialised unit named):",
            "correct_district_other": "correctly identified (district station / other unit only):",
            "correct_specialised_sellers": "correctly identified, incidents with a person selling sex "
                                           "(specialised unit named):",
            "correct_specialised_without": f"without them, correctly identified (specialised unit named):"
                                           }[s.estimate]
    text = _shares(e.cells, names, what) + "; " + _or_text(e, names, periods)
    if s.claim == "explained_by":
        whole = estimates["correct_specialised"]
        share = _origin_share(by_origin, s.origins, periods[1], origins, names)
        text = f"{share}; with them, {_or_text(whole, names, periods)}; " + text
        agrees = _explained(whole, e)
    else:
        agrees = _direction(e, s.claim)
    return dict(base, estimate=text + ".", agrees=agrees)


def _origin_share(by_origin: pd.DataFrame, codes: tuple[str, ...], period: str, origins: str,
                  names: dict[str, str]) -> str:
    """'95 of the 155 reports SVU 2014/15 labelled trafficking (specialised unit) began as ..., 10 of them correct'."""
    sel = by_origin[(by_origin["period"] == period) & (by_origin["unit"] == "specialised")]
    part = sel[sel["origin"].isin(codes)]
    return (f"{int(part['labelled'].sum())} of the {int(sel['labelled'].sum())} reports labelled trafficking in "
            f"{names.get(period, period)} (specialised unit named) began as {origins}, "
            f"{int(part['correct'].sum())} of them correctly")


def _explained(whole: Estimate, without: Estimate) -> str:
    """yes when the fall (95% CI below 1 with every report) is no longer shown without the origins named."""
    if any(math.isnan(v) for v in (whole.ci_high, without.ci_low, without.ci_high)):
        return "cannot tell"
    if whole.ci_high >= 1:
        return "not shown"  # no fall to explain
    return "no" if without.ci_high < 1 else "yes"


def _none_from(s: Statement, table: pd.DataFrame, names: dict[str, str], periods, origins: str) -> dict:
    """Established cases that began as ``s.origins`` (none, says the statement), and from tips or victims."""
    parts, total_from = [], 0
    for p in periods:
        n_all = int(table[f"n_{p}"].sum())
        n_from = int(table.loc[table["origin"].isin(s.origins), f"n_{p}"].sum())
        reactive = int(table.loc[table["origin"].isin(["tip", "victim_came_forward"]), f"n_{p}"].sum())
        total_from += n_from
        parts.append(f"{names.get(p, p)}: {n_from} of {n_all} cases the coder assessed as trafficking established "
                     f"began as {origins}, {reactive} with a tip or a victim coming forward")
    return {"estimate": "; ".join(parts) + ".", "agrees": "yes" if total_from == 0 else "no"}


def format_comparison(h: Headline) -> str:
    """Each published statement beside the project's estimate, numbered, as notebook 05 prints it."""
    lines = []
    for k, r in enumerate(h.comparison.itertuples(index=False), start=1):
        lines += [f"{k}. Published ({r.source}):", f"   {r.statement}",
                  f"   Project's estimate: {r.estimate}", f"   Agrees: {r.agrees}", ""]
    return "\n".join(lines).rstrip("\n")


def origin_summary(h: Headline) -> pd.DataFrame:
    """``labelled_by_origin`` for all units, one row per origin: labelled and correct per period."""
    t = h.labelled_by_origin[h.labelled_by_origin["unit"] == "all units"]
    wide = t.pivot_table(index=["origin_group", "origin_label"], columns="period",
                         values=["labelled", "correct"], aggfunc="sum", sort=False)
    wide.columns = [f"{v}_{p}" for v, p in wide.columns]
    return wide[[c for p in t["period"].unique() for c in (f"labelled_{p}", f"correct_{p}")]].astype(np.int64)
