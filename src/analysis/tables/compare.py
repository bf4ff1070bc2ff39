"""Before/after comparison tables: one call makes the whole table for incidents or for persons.

For each variable, in the codebook's order and with its labels:

* categorical: one row per level, ``n/N (%)`` per period and overall, with "not documented" / "not applicable"
  shown as their own rows and (by default) excluded from the denominators; the test is gtsummary's rule
  (chi-square without continuity correction when every expected count is >= 5, otherwise Fisher's exact);
* yes/no (coded yes/no, derived True/False, and each option of a multi-select field): one row, with the
  difference in percentage points and its 95% Newcombe hybrid score interval;
* numbers: median (IQR) and mean (SD) per period, Wilcoxon rank-sum test;
* p-values adjusted across the table's variables (Holm by default, or Benjamini-Hochberg) as q-values.

People on the same report are not independent: person tables (``cluster="report_id"``, the default for
persons) show, for yes/no rows, a cluster-aware difference interval (cluster bootstrap over reports,
:func:`analysis.stats.clustered.cluster_bootstrap_diff`) and a cluster-robust p-value (GEE with an independence
working correlation and sandwich SE, in closed form: :func:`analysis.stats.clustered.cluster_robust_binary_test`) as
the default columns, with the naive ones beside them. Why these are the default: they test exactly the pooled
difference the table prints (an exchangeable working correlation would re-weight people on large reports and
test a slightly different quantity), they stay valid whatever the correlation within reports, and they are fast
enough for any sample. Categorical rows with more than two levels keep the naive test and say so.

Sampling weights: give ``frame`` (reports per sampled year in the sampling frame) and estimates are weighted
to it: each period's proportion is the frame-weighted average of its years' proportions (a stratified
estimator, strata = years), with a stratified standard error and a Wald interval for the difference. Without
``frame`` the table is unweighted and says so.

The analyst's full table stays in :attr:`ComparisonTable.rows`; :func:`display` makes the version for sharing,
with small-cell suppression from :mod:`analysis.tables.disclosure`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats as sps

from ..scheme.codebook import NOT_APPLICABLE, NOT_DOCUMENTED, Codebook, load_codebook
from ..scheme.config import StudyConfig, load_study_config
from ..stats.inference import (
    adjust_pvalues,
    categorical_test,
    newcombe_diff_ci,
    rank_sum_test,
    wilson_ci,
)

MISSING_CODES = (NOT_DOCUMENTED, NOT_APPLICABLE)
CLUSTER_TEST = "Cluster-robust Wald (GEE, independence; report clusters)"
# coded variables that are not compared (identifiers, free text, dates, the sampling variable itself)
_NOT_COMPARED_TYPES = {"id", "text", "date", "statute"}
_NOT_COMPARED = {"report_year", "coder_id"}


@dataclass(frozen=True)
class Spec:
    """How one variable is summarised: its column(s), label, kind and levels in codebook order."""

    name: str
    label: str
    kind: str  # binary | category | number
    column: str
    levels: tuple[tuple[str, str], ...] = ()
    true_value: object = True  # the value counted in a binary row
    false_value: object = False
    option_of: str | None = None  # for the options of a multi-select variable


@dataclass
class ComparisonTable:
    """A before/after table. ``rows`` is the analyst's full table (never share it as is: see :func:`display`)."""

    rows: pd.DataFrame
    population: str
    groups: tuple[str, ...]
    group_labels: dict[str, str]
    group_n: dict[str, int]
    weighted: bool
    clustered: bool
    adjust: str
    tests_used: tuple[str, ...]
    notes: list[str] = field(default_factory=list)
    table: str = ""  # what was counted: 'incidents' or 'persons' (the codebook table); '' for other counts
    role: str | None = None  # persons: the role the table is limited to (None: everyone)

    def methods_text(self) -> str:
        parts = [
            f"Population: {self.population}.",
            "Percentages exclude 'not documented' and 'not applicable', shown as their own rows."
            if "missing excluded" in self.notes else "Percentages include 'not documented' and 'not applicable'.",
            "Tests: " + "; ".join(self.tests_used) + ".",
            "Differences: percentage points with 95% "
            + ("stratified Wald intervals (weighted)." if self.weighted else "Newcombe hybrid score intervals."),
            f"q: p-values adjusted across the table's variables ({'Holm' if self.adjust == 'holm' else 'Benjamini-Hochberg'}).",
        ]
        parts += [n for n in self.notes if n != "missing excluded"]
        return " ".join(parts)


# --- which variables, in which order -------------------------------------------------------------------


def variable_specs(table: str, data: pd.DataFrame, codebook: Codebook | None = None,
                   variables: list[str] | None = None) -> list[Spec]:
    """The rows of a table for ``table`` ('incidents' or 'persons'), in codebook order (coded, then derived)."""
    cb = codebook or load_codebook()
    specs: list[Spec] = []
    for v in cb.table(table).variables:
        if v.type in _NOT_COMPARED_TYPES or v.name in _NOT_COMPARED:
            continue
        if v.type != "multi" and v.name not in data.columns:
            continue
        missing = tuple((m, cb.missing_labels[m]) for m in v.missing)
        if v.type == "code" and set(v.code_values) == {"yes", "no"}:
            specs.append(Spec(v.name, v.label, "binary", v.name, missing, "yes", "no"))
        elif v.type == "code":
            specs.append(Spec(v.name, v.label, "category", v.name, tuple((c.code, c.label) for c in v.codes) + missing))
        elif v.type == "multi":
            for c in v.codes:
                col = f"{v.name}__{c.code}"
                if col in data.columns:
                    specs.append(Spec(col, f"{v.label}: {c.label}", "binary", col, option_of=v.name))
        elif v.type == "integer":
            specs.append(Spec(v.name, v.label, "number", v.name))
    for d in cb.derived.get(table, ()):
        if d.name == "period" or d.name not in data.columns:
            continue
        if d.kind == "binary":
            specs.append(Spec(d.name, d.label, "binary", d.name))
        elif d.kind == "category":
            levels = tuple((c.code, c.label) for c in d.levels)
            if not levels:
                col = data[d.name]
                cats = col.cat.categories if isinstance(col.dtype, pd.CategoricalDtype) else sorted(col.dropna().unique())
                levels = tuple((str(c), str(c).replace("_", " ")) for c in cats)
            specs.append(Spec(d.name, d.label, "category", d.name, levels))
        else:
            specs.append(Spec(d.name, d.label, "number", d.name))
    if variables is not None:
        wanted = {v: i for i, v in enumerate(variables)}
        specs = [s for s in specs if s.name in wanted or s.option_of in wanted]
        missing = [v for v in variables if not any(s.name == v or s.option_of == v for s in specs)]
        if missing:
            raise KeyError(f"not variables of the {table} table: {', '.join(missing)}")
    return specs


# --- weights -------------------------------------------------------------------------------------------


def _stratified(y: np.ndarray, year: np.ndarray, frame: dict[int, int]) -> tuple[float, float]:
    """Frame-weighted proportion over year strata and its standard error (with finite-population correction)."""
    total = sum(frame[int(h)] for h in np.unique(year))
    p, var = 0.0, 0.0
    for h in np.unique(year):
        yh = y[year == h]
        nh, Nh = len(yh), frame[int(h)]
        Wh = Nh / total
        ph = yh.mean()
        p += Wh * ph
        if nh > 1:
            var += Wh**2 * ph * (1 - ph) / (nh - 1) * max(0.0, 1 - nh / Nh)
    return p, math.sqrt(var)


def report_weights(year: pd.Series, frame: dict[int, int]) -> pd.Series:
    """Each unit's weight: frame reports in its year / sampled reports in its year."""
    counts = year.value_counts()
    missing = sorted(set(counts.index) - set(frame))
    if missing:
        raise ValueError(f"the sampling frame has no count for year(s) {', '.join(map(str, missing))}")
    return year.map(lambda y: frame[y] / counts[y]).astype(float)


# --- the table -----------------------------------------------------------------------------------------


def _binary_values(s: pd.Series, spec: Spec) -> tuple[np.ndarray, np.ndarray]:
    """(is_true, is_known) as numpy bool arrays."""
    vals = s.astype(object)
    is_true = (vals == spec.true_value).to_numpy(dtype=bool)
    known = (is_true | (vals == spec.false_value).to_numpy(dtype=bool))
    return is_true, known


@dataclass
class _Groups:
    """Who is compared: the two periods, each unit's period, and (with a sampling frame) weights and years."""

    names: tuple[str, ...]
    of: np.ndarray  # each unit's period code, as text
    masks: dict[str, np.ndarray]  # period -> which units are in it
    frame: dict[int, int] | None = None
    weights: np.ndarray | None = None
    years: np.ndarray | None = None


def before_after(
    data: pd.DataFrame,
    table: str = "incidents",
    *,
    role: str | list[str] | None = None,
    variables: list[str] | None = None,
    group: str = "period",
    include_missing: bool = False,
    frame: dict[int, int] | None = None,
    cluster: str | None = "auto",
    adjust: str = "holm",
    n_boot: int = 2000,
    seed: int = 20171115,
    specs: list[Spec] | None = None,
    population: str | None = None,
    codebook: Codebook | None = None,
    config: StudyConfig | None = None,
) -> ComparisonTable:
    """The before/after table for derived ``incidents`` or ``persons`` (optionally people in ``role``).

    ``specs`` (with ``population``) summarises variables that are not in the codebook, e.g. the public record's
    (see :func:`from_counts`); by default the variables come from the codebook via :func:`variable_specs`.
    The work is in steps: who is compared (:func:`_population`, :func:`_groups`), which rows
    (:func:`_table_specs`), counting and testing each variable (:func:`_number_rows`, :func:`_binary_rows`,
    :func:`_category_rows`) and assembling the table (:func:`_assemble`).
    """
    cb = codebook or load_codebook()
    cfg = config or load_study_config()
    if adjust not in {"holm", "bh"}:
        raise ValueError("adjust must be 'holm' or 'bh'")
    d, population = _population(data, table, role, population, cb)
    if cluster == "auto":
        cluster = "report_id" if table == "persons" else None
    grp = _groups(d, group, cfg, frame)
    specs = _table_specs(d, table, role, variables, specs, cb)
    rows: list[dict] = []
    var_p: dict[str, float] = {}
    tests_used: list[str] = []
    for spec in specs:
        s = d[spec.column]
        base = {"variable": spec.option_of or spec.name, "column": spec.column, "label": spec.label,
                "kind": spec.kind}
        if spec.kind == "number":
            part, test, p = _number_rows(s, base, grp)
        elif spec.kind == "binary":
            clusters = None if cluster is None else d[cluster].to_numpy()
            part, test, p = _binary_rows(spec, s, base, grp, clusters, n_boot, seed)
        else:
            part, test, p = _category_rows(spec, s, base, grp, include_missing)
        tests_used.append(test)
        var_p[spec.column] = p
        rows += part
    clustered = cluster is not None and any(spec.kind == "binary" for spec in specs)
    ct = _assemble(rows, var_p, tests_used, population=population, grp=grp, cfg=cfg, adjust=adjust,
                   include_missing=include_missing, cluster=cluster, clustered=clustered)
    ct.table, ct.role = table, role  # what was counted: disclosure control needs it
    return ct


# --- who is compared, and which rows -----------------------------------------------------------------------


def _population(data: pd.DataFrame, table: str, role: str | list[str] | None, population: str | None,
                cb: Codebook) -> tuple[pd.DataFrame, str]:
    """The units of the table (people in ``role`` when given) and the words that name them."""
    d = data
    population = population or cb.table(table).label.lower()
    if role is not None:
        roles = [role] if isinstance(role, str) else list(role)
        labels = cb.variable("persons", "role").labels
        unknown = [r for r in roles if r not in labels]
        if unknown:
            raise ValueError(f"unknown role(s) {', '.join(unknown)}; roles are {', '.join(labels)}")
        d = d[d["role"].astype(str).isin(roles)]
        population = " and ".join(labels[r].lower() for r in roles)
    return d, population


def _groups(d: pd.DataFrame, group: str, cfg: StudyConfig, frame: dict[int, int] | None) -> _Groups:
    """The two periods of the study configuration, each unit's period, and the frame weights when given."""
    groups = tuple(g for g in cfg.period_codes)
    if len(groups) != 2:
        raise ValueError("a before/after table needs exactly two periods in the study configuration")
    g_of = d[group].astype(str).to_numpy()
    out = _Groups(names=groups, of=g_of, masks={g: g_of == g for g in groups})
    if frame is not None:
        year = d["report_year"].astype(int)
        out.frame = frame
        out.weights = report_weights(year, frame).to_numpy()
        out.years = year.to_numpy()
    return out


def _table_specs(d: pd.DataFrame, table: str, role: str | list[str] | None, variables: list[str] | None,
                 specs: list[Spec] | None, cb: Codebook) -> list[Spec]:
    """The variables summarised, in order: ``specs`` as given, else the codebook's (:func:`variable_specs`)."""
    specs = specs if specs is not None else variable_specs(table, d, cb, variables)
    if role is not None and variables is None:
        # in a table of one role, drop what is empty by construction: the role itself, the buyers-only income
        # stratum for other roles, and yes/no rows with no one in either period
        def empty(sp: Spec) -> bool:
            if sp.name == "role":
                return d["role"].astype(str).nunique() <= 1
            if sp.name == "income_stratum":
                return not (d["role"].astype(str) == "buyer").any()
            if sp.kind == "binary":
                return not (d[sp.column].astype(object) == sp.true_value).any()
            return False

        specs = [sp for sp in specs if not empty(sp)]
    return specs


# --- counting and testing, one variable at a time ----------------------------------------------------------


def _number_rows(s: pd.Series, base: dict, grp: _Groups) -> tuple[list[dict], str, float]:
    """A number: median (IQR) and mean (SD) per period and overall; the Wilcoxon rank-sum test."""
    groups, in_g = grp.names, grp.masks
    x = pd.to_numeric(s, errors="coerce").astype(float).to_numpy()
    row = dict(base, level="", level_label="", row_type="summary")
    for g in groups + ("overall",):
        vals = x[in_g[g]] if g != "overall" else x
        vals = vals[~np.isnan(vals)]
        row[f"N_{g}"] = len(vals)
        row[f"n_{g}"] = np.nan
        row[f"median_{g}"], row[f"q1_{g}"], row[f"q3_{g}"] = (
            (np.median(vals), *np.percentile(vals, [25, 75])) if len(vals) else (np.nan,) * 3)
        row[f"mean_{g}"] = vals.mean() if len(vals) else np.nan
        row[f"sd_{g}"] = vals.std(ddof=1) if len(vals) > 1 else np.nan
    t = rank_sum_test(x[in_g[groups[0]]], x[in_g[groups[1]]])
    row.update(test=t.test, p_value=t.p_value, note=t.note)
    return [row], t.test, t.p_value


def _binary_rows(spec: Spec, s: pd.Series, base: dict, grp: _Groups, clusters: np.ndarray | None, n_boot: int,
                 seed: int) -> tuple[list[dict], str, float]:
    """A yes/no: the 'Yes' row (counts, difference, test; cluster-aware with ``clusters``), then the rows
    outside the denominator."""
    is_true, known = _binary_values(s, spec)
    row = _binary_counts(is_true, known, base, grp)
    _binary_test(row, grp)
    if clusters is not None:
        row.update(_clustered_binary(is_true, known, grp.of, clusters, grp.names, n_boot, seed))
        row["p_naive"], row["diff_low_naive"], row["diff_high_naive"] = (
            row["p_value"], row.get("diff_low", np.nan), row.get("diff_high", np.nan))
        row["test_naive"] = row["test"]
        if not np.isnan(row.get("p_cluster", np.nan)):
            row["p_value"], row["test"] = row["p_cluster"], CLUSTER_TEST
        if not np.isnan(row.get("diff_low_cluster", np.nan)):
            row["diff_low"], row["diff_high"] = row["diff_low_cluster"], row["diff_high_cluster"]
    return [row, *_outside_rows(spec, s, known, base, grp)], row["test"], row["p_value"]


def _binary_counts(is_true: np.ndarray, known: np.ndarray, base: dict, grp: _Groups) -> dict:
    """The 'Yes' row's n, N and percentage per period and overall: Wilson intervals, or frame-weighted."""
    row = dict(base, level="yes", level_label="Yes", row_type="level")
    for g in grp.names + ("overall",):
        m = grp.masks[g] if g != "overall" else np.ones(len(is_true), bool)
        n, N = int((is_true & m & known).sum()), int((known & m).sum())
        row[f"n_{g}"], row[f"N_{g}"] = n, N
        if grp.weights is not None and g != "overall" and N:
            p, se = _stratified(is_true[m & known].astype(float), grp.years[m & known], grp.frame)
            row[f"pct_{g}"], row[f"se_{g}"] = 100 * p, 100 * se
        else:
            row[f"pct_{g}"] = 100 * n / N if N else np.nan
            _, lo, hi = wilson_ci(n, N) if N else (np.nan, np.nan, np.nan)
            row[f"ci_low_{g}"], row[f"ci_high_{g}"] = 100 * lo, 100 * hi
    return row


def _binary_test(row: dict, grp: _Groups) -> None:
    """Adds the difference (pp, 95% CI) and the test to the 'Yes' row: stratified z with weights, else the
    Newcombe interval and the 2 x 2 test."""
    a, b = grp.names
    if grp.weights is not None:
        diff = row[f"pct_{a}"] - row[f"pct_{b}"]
        se = math.hypot(row.get(f"se_{a}", np.nan), row.get(f"se_{b}", np.nan))
        row.update(diff_pp=diff, diff_low=diff - 1.959964 * se, diff_high=diff + 1.959964 * se)
        p_val = 2 * sps.norm.sf(abs(diff) / se) if se > 0 else np.nan
        row.update(test="Stratified z-test (weighted)", p_value=p_val)
        return
    if row[f"N_{a}"] and row[f"N_{b}"]:
        diff, lo, hi = newcombe_diff_ci(row[f"n_{a}"], row[f"N_{a}"], row[f"n_{b}"], row[f"N_{b}"])
        row.update(diff_pp=100 * diff, diff_low=100 * lo, diff_high=100 * hi)
    tab = np.array([[row[f"n_{a}"], row[f"n_{b}"]],
                    [row[f"N_{a}"] - row[f"n_{a}"], row[f"N_{b}"] - row[f"n_{b}"]]])
    t = categorical_test(tab)
    row.update(test=t.test, p_value=t.p_value, note=t.note)


def _outside_rows(spec: Spec, s: pd.Series, known: np.ndarray, base: dict, grp: _Groups) -> list[dict]:
    """The rows outside a yes/no's denominator: each missing code of a coded variable, or 'unknown'."""
    raw = s.astype(object).to_numpy()
    outside = [(c, lab, raw == c) for c, lab in spec.levels] or [("unknown", "Unknown", ~known)]
    rows = []
    for code, lab, mask in outside:
        n_out = {g: int((mask & (grp.masks[g] if g != "overall" else True)).sum()) for g in grp.names + ("overall",)}
        if n_out["overall"]:
            urow = dict(base, level=code, level_label=lab, row_type="missing")
            for g in grp.names + ("overall",):
                urow[f"n_{g}"], urow[f"N_{g}"] = n_out[g], np.nan
            rows.append(urow)
    return rows


def _category_rows(spec: Spec, s: pd.Series, base: dict, grp: _Groups,
                   include_missing: bool) -> tuple[list[dict], str, float]:
    """A categorical variable: one row per level (missing codes as their own rows when anyone has them), the
    test (over the substantive levels) on the first row."""
    groups, in_g, weights = grp.names, grp.masks, grp.weights
    vals = s.astype(str).to_numpy()
    codes = [c for c, _ in spec.levels]
    substantive = [c for c in codes if c not in MISSING_CODES]
    counts = {c: {g: int(((vals == c) & in_g[g]).sum()) for g in groups} for c in codes}
    denom = {g: sum(counts[c][g] for c in (codes if include_missing else substantive)) for g in groups}
    wden = {}
    if weights is not None:
        for g in groups:
            m = in_g[g] & np.isin(vals, codes if include_missing else substantive)
            wden[g] = weights[m].sum()
    t = categorical_test(np.array([[counts[c][g] for g in groups] for c in substantive]))
    rows = []
    for c, lab in spec.levels:
        if c in MISSING_CODES and sum(counts[c].values()) == 0:
            continue
        is_missing = c in MISSING_CODES
        row = dict(base, level=c, level_label=lab, row_type="missing" if is_missing else "level")
        for g in groups:
            row[f"n_{g}"] = counts[c][g]
            if is_missing and not include_missing:
                row[f"N_{g}"], row[f"pct_{g}"] = np.nan, np.nan
                continue
            row[f"N_{g}"] = denom[g]
            if weights is not None:
                row[f"pct_{g}"] = 100 * weights[in_g[g] & (vals == c)].sum() / wden[g] if wden[g] else np.nan
            else:
                row[f"pct_{g}"] = 100 * counts[c][g] / denom[g] if denom[g] else np.nan
        row["n_overall"] = sum(counts[c].values())
        row["N_overall"] = sum(denom.values()) if not (is_missing and not include_missing) else np.nan
        row["pct_overall"] = (100 * row["n_overall"] / row["N_overall"]
                              if row["N_overall"] == row["N_overall"] and row["N_overall"] else np.nan)
        if not rows:
            row.update(test=t.test, p_value=t.p_value, note=t.note)
        rows.append(row)
    return rows, t.test, t.p_value


# --- assembling the table ----------------------------------------------------------------------------------


def _assemble(rows: list[dict], var_p: dict[str, float], tests_used: list[str], *, population: str, grp: _Groups,
              cfg: StudyConfig, adjust: str, include_missing: bool, cluster: str | None,
              clustered: bool) -> ComparisonTable:
    """The rows as one frame with q-values over the variable-level p-values (in table order), and the notes."""
    out = pd.DataFrame(rows)
    keys = list(var_p)
    q = adjust_pvalues(np.array([var_p[k] for k in keys], dtype=float), method=adjust)
    qmap = dict(zip(keys, q))
    out["q_value"] = [qmap[c] if (pd.notna(p) and c in qmap) else np.nan
                      for c, p in zip(out["column"], out.get("p_value", pd.Series(np.nan, index=out.index)))]
    uniq_tests = tuple(dict.fromkeys(t for t in tests_used if isinstance(t, str) and t and t != "not tested"))
    return ComparisonTable(
        rows=out,
        population=population,
        groups=grp.names,
        group_labels=cfg.period_labels,
        group_n={g: int(grp.masks[g].sum()) for g in grp.names},
        weighted=grp.weights is not None,
        clustered=clustered,
        adjust=adjust,
        tests_used=uniq_tests,
        notes=_table_notes(grp.frame if grp.weights is not None else None, include_missing, cluster, clustered),
    )


def _table_notes(frame: dict[int, int] | None, include_missing: bool, cluster: str | None,
                 clustered: bool) -> list[str]:
    """What the table's methods say beyond the tests: missing codes, weights, clusters."""
    notes = [] if include_missing else ["missing excluded"]
    if frame is not None:
        notes.append("Weighted to the sampling frame (reports per sampled year: "
                     + ", ".join(f"{y} {n:,}" for y, n in sorted(frame.items())) + ").")
        if cluster is not None:
            notes.append("Person tables: percentages weighted; intervals and tests are unweighted and cluster-aware.")
    else:
        notes.append("Unweighted: no sampling frame given.")
    if clustered:
        notes.append("Yes/no rows: 95% interval from a cluster bootstrap over reports and a cluster-robust Wald "
                     "p-value (GEE, independence working correlation, sandwich SE), because people on the same "
                     "report are not independent; naive values in p_naive / diff_*_naive. Rows with more than two "
                     "levels: naive tests. Where the cluster-robust test cannot be computed (an outcome all 0 or "
                     "all 1 in a period) the naive test is shown.")
    return notes


def from_counts(
    variables: list[tuple[str, str, pd.DataFrame]],
    population: str,
    *,
    level_labels: dict[str, dict[str, str]] | None = None,
    adjust: str = "holm",
    config: StudyConfig | None = None,
) -> ComparisonTable:
    """A before/after table from tidy counts, with exactly the methods of :func:`before_after`.

    ``variables``: ``(name, label, counts)`` with ``counts`` columns ``period``, ``category``, ``n`` (e.g. the
    public record's resolution, description and district counts). Levels keep the order they have in
    ``counts``; q-values are adjusted across all the variables. The period N at the top is the first variable's.
    """
    cfg = config or load_study_config()
    parts = []
    for name, label, counts in variables:
        cats = [str(c) for c in dict.fromkeys(counts["category"])]
        rep = counts.loc[counts.index.repeat(counts["n"].astype(int).to_numpy())]
        df = pd.DataFrame({"period": rep["period"].astype(str).to_numpy(), name: rep["category"].astype(str).to_numpy()})
        labels = (level_labels or {}).get(name, {})
        spec = Spec(name, label, "category", name, tuple((c, labels.get(c, c.replace("_", " "))) for c in cats))
        parts.append(before_after(df, specs=[spec], population=population, cluster=None, adjust=adjust, config=cfg))
    rows = pd.concat([p.rows for p in parts], ignore_index=True)
    first = rows.drop_duplicates("column")
    q = adjust_pvalues(first["p_value"].to_numpy(dtype=float), method=adjust)
    qmap = dict(zip(first["column"], q))
    rows["q_value"] = [qmap[c] if pd.notna(p) else np.nan for c, p in zip(rows["column"], rows["p_value"])]
    return ComparisonTable(
        rows=rows, population=population, groups=parts[0].groups, group_labels=parts[0].group_labels,
        group_n=parts[0].group_n, weighted=False, clustered=False, adjust=adjust,
        tests_used=tuple(dict.fromkeys(t for p in parts for t in p.tests_used)),
        notes=["missing excluded", "Counts from the public record; see its limitation."],
    )


def _clustered_binary(is_true, known, g_of, clusters, groups, n_boot, seed) -> dict:
    from ..stats.clustered import cluster_bootstrap_diff, cluster_robust_binary_test

    m = known & np.isin(g_of, groups)
    y = is_true[m].astype(float)
    grp = pd.Categorical(g_of[m], categories=list(groups))
    cl = clusters[m]
    out = {}
    try:
        diff, lo, hi = cluster_bootstrap_diff(y, grp, cl, n_boot=n_boot, seed=seed, levels=groups)
        out.update(diff_low_cluster=100 * lo, diff_high_cluster=100 * hi)
    except ValueError:
        out.update(diff_low_cluster=np.nan, diff_high_cluster=np.nan)
    res = cluster_robust_binary_test(y, grp, cl, levels=groups)
    out["p_cluster"] = getattr(res, "p_value", np.nan)
    return out


# --- the shared version --------------------------------------------------------------------------------


def _fmt_pct(x: float) -> str:
    return "" if x != x else f"{x:.1f}%"


def _fmt_p(p: float) -> str:
    if p != p:
        return ""
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def _fmt_num(x: float) -> str:
    return "" if x != x else f"{x:.1f}"


def display(ct: ComparisonTable, suppress: bool = True, threshold: int | None = None, *,
            protection=None) -> pd.DataFrame:
    """The table as strings for sharing: ``n/N (%)`` per period and overall, difference (95% CI), test, p, q.

    With ``suppress`` (the default) the counts and statistics print as the protection of the whole shared register
    decides (:mod:`analysis.tables.disclosure`): a hidden count prints ``suppressed``; a role's column in a period
    with too few people ``not shown``; a count whose denominator is hidden prints without it; a difference, test,
    p or q prints only when every count it is computed from prints, and q is adjusted over the printed tests;
    merged levels print as one row. ``protection`` is the publication's
    (:func:`analysis.report.publish.protect_publication`); without it the table is protected on its own, from its
    counts alone (a preview: the shared files are protected together, with the codebook's relations).
    """
    if not suppress:
        return _display_rows(ct, None)
    if protection is None:
        from .disclosure import protect_tables

        protection = protect_tables([ct], threshold=threshold)
    return _display_rows(ct, protection)


def _display_rows(ct: ComparisonTable, protection) -> pd.DataFrame:
    """The display of :func:`display` (``protection`` None: everything prints)."""
    from .disclosure.show import SUPPRESSED, Shown, apply_merges

    shown = None
    if protection is not None:
        ct = apply_merges(ct, protection)
        shown = Shown(ct, protection)
    a, b = ct.groups
    periods = (a, b, "overall")
    tests = shown.tests() if shown else {}
    qs = shown.q_values() if shown else {}

    def mark(col, kind, level, g):
        return shown.marker(col, kind, level, g) if shown else None

    out_rows = []
    for col, block in ct.rows.groupby("column", sort=False):
        first = block.iloc[0]
        test_ok = tests.get(col, True) if shown else True
        test = first.get("test", "")
        test = test if isinstance(test, str) else ""
        p_txt = _fmt_p(first.get("p_value", np.nan)) if test_ok else (SUPPRESSED if test else "")
        q_raw = qs.get(col, np.nan) if shown else first.get("q_value", np.nan)
        q_txt = _fmt_p(q_raw) if test_ok else (SUPPRESSED if test else "")
        test_txt = test if test_ok else (SUPPRESSED if test else "")
        if first["kind"] == "number":
            cells = []
            for g in periods:
                N = first[f"N_{g}"]
                m = mark(col, "n", "", g)
                if m is not None:
                    cells.append(m)
                elif not N:
                    cells.append("")
                else:
                    cells.append(f"median {_fmt_num(first[f'median_{g}'])} (IQR {_fmt_num(first[f'q1_{g}'])}-"
                                 f"{_fmt_num(first[f'q3_{g}'])}); mean {_fmt_num(first[f'mean_{g}'])} "
                                 f"(SD {_fmt_num(first[f'sd_{g}'])}); n = {int(N)}")
            out_rows.append([first["label"], "", *cells, "", test_txt, p_txt, q_txt])
            continue
        for i, x in enumerate(block.to_dict("records")):
            kind, level = shown.row_level(x) if shown else ("", "")
            cells = []
            for g in periods:
                n = x[f"n_{g}"]
                m = mark(col, kind, level, g)
                if m is not None:
                    cells.append(m)
                elif x["row_type"] == "missing" or mark(col, "den", "", g) is not None:
                    cells.append(f"{int(n)}")
                else:
                    cells.append(f"{int(n)}/{int(x[f'N_{g}'])} ({_fmt_pct(x.get(f'pct_{g}', np.nan))})")
            diff = ""
            if x["kind"] == "binary" and x["row_type"] == "level" and pd.notna(x.get("diff_pp", np.nan)):
                diff = (f"{x['diff_pp']:+.1f} ({x['diff_low']:+.1f} to {x['diff_high']:+.1f})"
                        if test_ok else SUPPRESSED)
            label = x["label"] if i == 0 else ""
            lvl = "" if x["kind"] == "binary" and x["row_type"] == "level" else x["level_label"]
            first_row = i == 0
            out_rows.append([label, lvl, *cells, diff, test_txt if first_row else "",
                             p_txt if first_row else "", q_txt if first_row else ""])
    header = ["Variable", "Level", f"{ct.group_labels[a]} n/N (%)", f"{ct.group_labels[b]} n/N (%)",
              "Overall n/N (%)", "Difference, pp (95% CI)", "Test", "p", "q"]
    df = pd.DataFrame(out_rows, columns=header)
    # every table states its denominators: the number of reports / people per period
    ns = [ct.group_n[a], ct.group_n[b], ct.group_n[a] + ct.group_n[b]]
    top = ["N", "", *[(shown.n_marker(g) or f"{n:,}") if shown else f"{n:,}" for g, n in zip(periods, ns)],
           "", "", "", ""]
    return pd.concat([pd.DataFrame([top], columns=header), df], ignore_index=True)
