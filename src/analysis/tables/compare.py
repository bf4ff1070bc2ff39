"""Before/after comparison tables: one call makes the whole table for incidents or for persons.

For each variable, in the codebook's order and with its labels:

* categorical: one row per level, ``n/N (%)`` per period and overall, with the missing-data levels shown as their
  own rows and (by default) outside the denominators and the tests; the test is gtsummary's rule (chi-square
  without continuity correction when every expected count is >= 5, otherwise Fisher's exact);
* yes/no (coded yes/no, derived True/False, and each option of a multi-select field): one row, with the
  difference in percentage points and its 95% Newcombe hybrid score interval;
* numbers: median (IQR) and mean (SD) per period and overall, Wilcoxon rank-sum test;
* p-values adjusted across the table's variables (Holm by default, or Benjamini-Hochberg) as q-values. A row with
  nothing left to test (e.g. every value missing) is "not tested" and is not one of the adjusted p-values.

Missing data: the missing codes of coded variables ("not documented" -8, "not applicable" -9), a derived
True/False left blank ("unknown"), and the levels of derived categories that say why a value is missing
("not documented", "not applicable", "unknown"; the income stratum's "not documented", "not available",
"ZIP not in lookup") are outside the denominators and the tests in every row type, so e.g. the sellers' age-group
row and their TAY row give the same share for 18-24. ``include_missing=True`` puts them back in the denominators.

People on the same report are not independent: person tables (``cluster="report_id"``, the default for
persons) show, for yes/no rows, a cluster-aware difference interval (cluster bootstrap over reports,
:func:`analysis.stats.clustered.cluster_bootstrap_diff`) and a cluster-robust p-value (GEE with an independence
working correlation and sandwich SE, in closed form: :func:`analysis.stats.clustered.cluster_robust_binary_test`) as
the default columns, with the naive ones beside them. Why these are the default: they test exactly the pooled
difference the table prints (an exchangeable working correlation would re-weight people on large reports and
test a slightly different quantity), they stay valid whatever the correlation within reports, and they are fast
enough for any sample. Rows with more than two levels get the Rao-Scott F test and numbers the design-based
Wilcoxon rank test, both with reports as clusters (:mod:`analysis.stats.survey`'s cluster-only design: weights
1, no strata, no finite population correction); so does a yes/no row whose GEE cannot be fitted (a period all 0
or all 1). The naive tests stay beside them (``p_naive``, ``test_naive``).

Sampling weights: give ``frame`` (reports per sampled year in the sampling frame) and the table is
design-based, with one design for the study (:func:`analysis.stats.survey.survey_design`): strata = sampled
year, primary sampling unit = report, finite population correction from the frame, people as elements of their
report (every person on a report carries its weight, frame reports / sampled reports in the year). Every
percentage (the Overall column too), its standard error, interval and estimated total is a Taylor-linearised
domain estimate (the domain of a row: its population, e.g. sellers, and the units where the variable is known),
the differences are design-based contrasts, yes/no and categorical rows are tested with the Rao-Scott F test
(valid also when a period's proportion is 0, where the Wald test of the difference is not) and numbers with the
design-based Wilcoxon rank test. A frame that lacks a sampled year or counts fewer reports than were sampled in a
year is refused (:class:`FrameError`). Without ``frame`` the table is unweighted and says so.

``smd=True`` adds tableone's absolute standardised difference (``smd``, on each variable's first row; for
categorical variables the multivariate one of Yang & Dalton 2012; weighted tables use the design-based
proportions, means and standard deviations).

The analyst's full table stays in :attr:`ComparisonTable.rows`; :func:`display` makes the version for sharing,
with small-cell suppression from :mod:`analysis.tables.disclosure`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Mapping

import numpy as np
import pandas as pd

from ..derive.income import STRATUM_REASONS
from ..scheme.codebook import NOT_APPLICABLE, NOT_DOCUMENTED, Codebook, load_codebook
from ..scheme.config import StudyConfig, load_study_config
from ..stats.inference import (
    adjust_pvalues,
    categorical_test,
    newcombe_diff_ci,
    rank_sum_test,
    smd_categorical,
    smd_from_summaries,
    smd_proportions,
    wilson_ci,
)

MISSING_CODES = (NOT_DOCUMENTED, NOT_APPLICABLE)
#: Levels that say a value is missing (and why): the missing codes of coded variables, and the levels of derived
#: categories ("not documented" age, the income stratum's reasons for having none). Outside denominators and tests.
MISSING_LEVELS = frozenset({*MISSING_CODES, "not documented", "not applicable", "unknown", *STRATUM_REASONS})
CLUSTER_TEST = "Cluster-robust Wald (GEE, independence; report clusters)"
RAO_SCOTT_TEST = "Rao-Scott F (design-based)"
RAO_SCOTT_CLUSTER_TEST = "Rao-Scott F (report clusters)"
RANK_TEST = "Wilcoxon rank test (design-based)"
RANK_CLUSTER_TEST = "Wilcoxon rank test (report clusters)"
# coded variables that are not compared (identifiers, free text, dates, the sampling variable itself)
_NOT_COMPARED_TYPES = {"id", "text", "date", "statute"}
_NOT_COMPARED = {"report_year", "coder_id"}


def is_missing_level(code: object) -> bool:
    """True for a level that records a missing value (see :data:`MISSING_LEVELS`)."""
    return str(code) in MISSING_LEVELS


class FrameError(ValueError):
    """A sampling frame that cannot be used: wrong columns, values that are not whole numbers, a sampled year
    missing from it, or fewer reports in the frame than were sampled in a year."""


def check_frame(frame: Mapping[int, int], sampled: Mapping[int, int], source: str = "sampling frame") -> None:
    """Refuse a frame the sample cannot have been drawn from: every sampled year must be in it, with at least as
    many reports as were sampled that year (``sampled``: reports sampled per year). The message names the year
    and both numbers."""
    for year in sorted(sampled):
        n = int(sampled[year])
        if year not in frame:
            raise FrameError(f"{source}: no count of reports for {year}, where {n} reports were sampled; the frame "
                             f"needs a row for every sampled year")
        N = frame[year]
        if isinstance(N, bool) or not isinstance(N, (int, np.integer)):
            raise FrameError(f"{source}: the count of reports for {year} is {N!r}, not a whole number "
                             f"({n} reports were sampled in {year})")
        if N < n:
            raise FrameError(f"{source}: {year} has {N} reports in the frame but {n} were sampled; a frame counts "
                             f"every report the sample was drawn from, so it cannot have fewer (check the count "
                             f"for {year})")


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
    # the table whose adjustment family this one's q-values are (a chart's rows of a standard table): its
    # printed q is shown, so one row has one q in every file
    q_family: ComparisonTable | None = field(default=None, repr=False, compare=False)

    def methods_text(self) -> str:
        parts = [
            f"Population: {self.population}.",
            "Percentages exclude the missing-data levels ('not documented', 'not applicable', 'unknown'), shown as "
            "their own rows; the tests leave them out too."
            if "missing excluded" in self.notes else "Percentages include 'not documented' and 'not applicable'.",
            "Tests: " + "; ".join(self.tests_used) + ".",
            "Change: after minus before, in percentage points, with 95% "
            + ("design-based intervals (Taylor linearisation, t with the design degrees of freedom)."
               if self.weighted else "Newcombe hybrid score intervals."),
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


def sampled_reports(data: pd.DataFrame, psu: str = "report_id", year: str = "report_year") -> dict[int, int]:
    """Reports sampled per year: the distinct ``psu`` values of each ``year`` in ``data``."""
    return {int(y): int(n) for y, n in data.groupby(data[year].astype(int))[psu].nunique().items()}


def report_weights(year: pd.Series, frame: dict[int, int], sampled: Mapping[int, int] | None = None) -> pd.Series:
    """Each unit's weight: frame reports in its year / reports sampled in its year (``sampled``; by default the
    units in ``year``, right for a table of reports). People carry their report's weight."""
    counts = sampled if sampled is not None else {int(y): int(n) for y, n in year.value_counts().items()}
    check_frame(frame, {int(y): counts[int(y)] for y in year.unique()})
    return year.map(lambda y: frame[int(y)] / counts[int(y)]).astype(float)


# --- the table -----------------------------------------------------------------------------------------


def _binary_values(s: pd.Series, spec: Spec) -> tuple[np.ndarray, np.ndarray]:
    """(is_true, is_known) as numpy bool arrays."""
    vals = s.astype(object)
    is_true = (vals == spec.true_value).to_numpy(dtype=bool)
    known = (is_true | (vals == spec.false_value).to_numpy(dtype=bool))
    return is_true, known


@dataclass
class _Groups:
    """Who is compared: the two periods, each unit's period, and the survey design when there is one.

    ``design`` covers all the rows of the data given (every role of a person table, so that a role's table is a
    domain of the whole design); ``in_pop`` says which of them are the table's units (the rows of ``of`` and
    ``masks``) and ``of_all`` is every row's period. ``weighted``: the design has the frame's weights and fpc
    (otherwise it is the cluster-only design of an unweighted person table, or None)."""

    names: tuple[str, ...]
    of: np.ndarray  # each unit's period code, as text
    masks: dict[str, np.ndarray]  # period -> which units are in it
    frame: dict[int, int] | None = None
    design: object = None  # analysis.stats.survey.SurveyDesign
    in_pop: np.ndarray | None = None
    of_all: np.ndarray | None = None
    weighted: bool = False

    def full(self, values: np.ndarray, fill: object) -> np.ndarray:
        """``values`` of the table's units spread over all the rows of the design, ``fill`` for the others."""
        out = np.full(len(self.in_pop), fill, dtype=np.asarray(values).dtype if fill is not None else object)
        out[self.in_pop] = values
        return out


def before_after(
    data: pd.DataFrame,
    table: str = "incidents",
    *,
    role: str | list[str] | None = None,
    variables: list[str] | None = None,
    group: str = "period",
    include_missing: bool = False,
    frame: dict[int, int] | None = None,
    sampled: Mapping[int, int] | None = None,
    cluster: str | None = "auto",
    adjust: str = "holm",
    n_boot: int = 2000,
    seed: int | None = None,
    smd: bool = False,
    specs: list[Spec] | None = None,
    population: str | None = None,
    codebook: Codebook | None = None,
    config: StudyConfig | None = None,
) -> ComparisonTable:
    """The before/after table for derived ``incidents`` or ``persons`` (optionally people in ``role``).

    ``frame`` (reports per year in the sampling frame) makes the table design-based (see the module
    docstring); ``sampled`` (reports sampled per year) is needed only when ``data`` leaves out sampled reports
    (a person table whose reports do not all list a person): by default it is counted from ``data``. ``smd``
    adds the standardised-difference column.

    ``specs`` (with ``population``) summarises variables that are not in the codebook, e.g. the public record's
    (see :func:`from_counts`); by default the variables come from the codebook via :func:`variable_specs`.
    The work is in steps: who is compared (:func:`_population`, :func:`_groups`, :func:`_design`), which rows
    (:func:`_table_specs`), counting and testing each variable (:func:`_number_rows`, :func:`_binary_rows`,
    :func:`_category_rows`) and assembling the table (:func:`_assemble`).
    """
    cb = codebook or load_codebook()
    cfg = config or load_study_config()
    seed = cfg.bootstrap_seed if seed is None else seed
    if adjust not in {"holm", "bh"}:
        raise ValueError("adjust must be 'holm' or 'bh'")
    d, population, in_pop = _population(data, table, role, population, cb)
    if cluster == "auto":
        cluster = "report_id" if table == "persons" else None
    grp = _groups(d, group, cfg)
    _design(grp, data, in_pop, group, frame, sampled, cluster)
    specs = [_income_spec(sp, d, cfg) if sp.name == "income_stratum" else sp
             for sp in _table_specs(d, table, role, variables, specs, cb)]
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
        if smd:
            part[0]["smd"] = _smd(spec, part, grp)
        tests_used.append(test)
        var_p[spec.column] = p
        rows += part
    clustered = cluster is not None and bool(specs)
    ct = _assemble(rows, var_p, tests_used, population=population, grp=grp, cfg=cfg, adjust=adjust,
                   include_missing=include_missing, cluster=cluster, clustered=clustered)
    ct.table, ct.role = table, role  # what was counted: disclosure control needs it
    return ct


# --- who is compared, and which rows -----------------------------------------------------------------------


def _population(data: pd.DataFrame, table: str, role: str | list[str] | None, population: str | None,
                cb: Codebook) -> tuple[pd.DataFrame, str, np.ndarray]:
    """The units of the table (people in ``role`` when given), the words that name them, and which rows of
    ``data`` they are."""
    d = data
    population = population or cb.table(table).label.lower()
    in_pop = np.ones(len(data), dtype=bool)
    if role is not None:
        roles = [role] if isinstance(role, str) else list(role)
        labels = cb.variable("persons", "role").labels
        unknown = [r for r in roles if r not in labels]
        if unknown:
            raise ValueError(f"unknown role(s) {', '.join(unknown)}; roles are {', '.join(labels)}")
        in_pop = data["role"].astype(str).isin(roles).to_numpy()
        d = data[in_pop]
        population = " and ".join(labels[r].lower() for r in roles)
    return d, population, in_pop


def _groups(d: pd.DataFrame, group: str, cfg: StudyConfig) -> _Groups:
    """The two periods of the study configuration and each unit's period."""
    groups = tuple(g for g in cfg.period_codes)
    if len(groups) != 2:
        raise ValueError("a before/after table needs exactly two periods in the study configuration")
    g_of = d[group].astype(str).to_numpy()
    return _Groups(names=groups, of=g_of, masks={g: g_of == g for g in groups})


def _design(grp: _Groups, data: pd.DataFrame, in_pop: np.ndarray, group: str, frame: dict[int, int] | None,
            sampled: Mapping[int, int] | None, cluster: str | None) -> None:
    """The survey design over all the rows of ``data``: the study's (strata = year, PSU = report, fpc from
    ``frame``) when a frame is given, checked against the reports sampled (:func:`check_frame`); else the
    cluster-only design of a person table (weights 1, report clusters); else none."""
    from ..stats.survey import survey_design

    grp.in_pop, grp.of_all = in_pop, data[group].astype(str).to_numpy()
    if frame is not None:
        psu = cluster or "report_id"
        missing = [c for c in (psu, "report_year") if c not in data.columns]
        if missing:
            raise ValueError(f"a weighted table needs the columns {', '.join(missing)} (the design's PSU and strata)")
        counts = dict(sampled) if sampled is not None else sampled_reports(data, psu)
        check_frame(frame, counts)
        grp.frame, grp.weighted = frame, True
        grp.design = survey_design(data[psu].astype(str).to_numpy(), data["report_year"].astype(int).to_numpy(),
                                   population={int(y): int(n) for y, n in frame.items()}, sampled=counts)
    elif cluster is not None:
        grp.design = survey_design(data[cluster].astype(str).to_numpy())


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


INCOME_REASON_LABELS = {"zip_not_in_lookup": "ZIP not in lookup", "not_documented": "Not documented",
                        "not_available": "Not available (no income lookup given)", "not_applicable": "Not applicable"}


def _income_spec(spec: Spec, d: pd.DataFrame, cfg: StudyConfig) -> Spec:
    """The buyer income stratum with the study configuration's labels; when no income lookup was given (every
    value 'not_available' or 'not_applicable') one 'not available' row and no test."""
    from ..derive.income import NOT_APPLICABLE, NOT_AVAILABLE, NOT_DOCUMENTED

    labels = {**dict(zip(cfg.income_codes, cfg.income_labels)), **INCOME_REASON_LABELS}
    values = set(d[spec.column].astype(str)) - {NOT_APPLICABLE, "nan"}
    if NOT_AVAILABLE in values and values <= {NOT_AVAILABLE, NOT_DOCUMENTED}:  # no lookup was given
        # 'not applicable' (people who are not buyers) stays a row where there are such people: every count the
        # codebook defines is shown or protected (analysis.tables.disclosure)
        codes = (NOT_AVAILABLE, NOT_DOCUMENTED) + ((NOT_APPLICABLE,) if (d[spec.column].astype(str) == NOT_APPLICABLE)
                                                    .any() else ())
        return Spec(spec.name, spec.label, spec.kind, spec.column, tuple((c, labels[c]) for c in codes))
    return Spec(spec.name, spec.label, spec.kind, spec.column,
                tuple((code, labels.get(code, lab)) for code, lab in spec.levels))


# --- counting and testing, one variable at a time ----------------------------------------------------------


def _set_test(row: dict, test: str, p_value: float, note: str = "", **extra) -> None:
    """The row's test: ``test`` with its p-value, or 'not tested' when there is no p-value."""
    row.update(test=test if p_value == p_value else "not tested", p_value=p_value, note=note, **extra)


def _rao_scott_into(row: dict, rs, name: str) -> None:
    """The Rao-Scott F test (:class:`analysis.stats.survey.RaoScott`) as the row's test, or 'not tested'."""
    if rs.p_value != rs.p_value:
        _set_test(row, "not tested", math.nan, rs.note)
        return
    _set_test(row, name, rs.p_value, f"F = {rs.f:.4g} on {rs.df1:.4g} and {rs.df2:.4g} df",
              statistic=rs.f, df1=rs.df1, df2=rs.df2)


def _number_rows(s: pd.Series, base: dict, grp: _Groups) -> tuple[list[dict], str, float]:
    """A number: median (IQR) and mean (SD) per period and overall; the Wilcoxon rank-sum test. With a frame the
    summaries and the test are design-based; in a person table without one the test is the rank test with
    report clusters (the naive one in ``p_naive``)."""
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
    _set_test(row, t.test, t.p_value, t.note)
    if grp.design is None:
        return [row], row["test"], row["p_value"]
    from ..stats.survey import number_summary, rank_test

    if grp.weighted:
        res = number_summary(grp.design, grp.full(x, np.nan), grp.of_all, groups)
        for g in groups + ("overall",):
            m = res.means[g]
            row[f"mean_{g}"], row[f"se_{g}"], row[f"sd_{g}"] = m.estimate, m.se, res.sd[g]
            row[f"q1_{g}"], row[f"median_{g}"], row[f"q3_{g}"] = res.quartiles[g]
        mt, rt = res.mean_test, res.rank_test
        row.update(mean_diff=mt.estimate, mean_diff_low=mt.low, mean_diff_high=mt.high, p_ttest=mt.p_value)
    else:
        row.update(p_naive=t.p_value, test_naive=t.test)
        rt = rank_test(grp.design, grp.full(x, np.nan), grp.of_all, groups)
    name = RANK_TEST if grp.weighted else RANK_CLUSTER_TEST
    _set_test(row, name, rt.p_value, "" if rt.p_value == rt.p_value else "needs values in both periods",
              statistic=rt.statistic, df2=rt.df, rank_diff=rt.estimate)
    return [row], row["test"], row["p_value"]


def _binary_rows(spec: Spec, s: pd.Series, base: dict, grp: _Groups, clusters: np.ndarray | None, n_boot: int,
                 seed: int) -> tuple[list[dict], str, float]:
    """A yes/no: the 'Yes' row (counts, difference, test; design-based with a frame, cluster-aware with
    ``clusters``), then the rows outside the denominator."""
    is_true, known = _binary_values(s, spec)
    row = _binary_counts(is_true, known, base, grp)
    if grp.weighted:
        _binary_design(row, is_true, known, grp)
    else:
        _binary_test(row, grp)
        if clusters is not None:
            _binary_clustered(row, is_true, known, grp, clusters, n_boot, seed)
    return [row, *_outside_rows(spec, s, known, base, grp)], row["test"], row["p_value"]


def _binary_clustered(row: dict, is_true: np.ndarray, known: np.ndarray, grp: _Groups, clusters: np.ndarray,
                      n_boot: int, seed: int) -> None:
    """The cluster bootstrap interval and the GEE test as the row's; where the GEE cannot be fitted (a period all
    0 or all 1) the Rao-Scott F test with report clusters. The naive ones move to ``*_naive``."""
    row.update(_clustered_binary(is_true, known, grp.of, clusters, grp.names, n_boot, seed))
    row["p_naive"], row["diff_low_naive"], row["diff_high_naive"] = (
        row["p_value"], row.get("diff_low", np.nan), row.get("diff_high", np.nan))
    row["test_naive"] = row["test"]
    if not np.isnan(row.get("p_cluster", np.nan)):
        row["p_value"], row["test"] = row["p_cluster"], CLUSTER_TEST
    elif grp.design is not None and row["N_overall"]:
        from ..stats.survey import rao_scott_test

        y = grp.full(np.where(known, np.where(is_true, "yes", "no"), None).astype(object), None)
        rs = rao_scott_test(grp.design, y, grp.of_all, grp.names)
        if rs.p_value == rs.p_value:
            _rao_scott_into(row, rs, RAO_SCOTT_CLUSTER_TEST)
    if not np.isnan(row.get("diff_low_cluster", np.nan)):
        row["diff_low"], row["diff_high"] = row["diff_low_cluster"], row["diff_high_cluster"]


def _binary_counts(is_true: np.ndarray, known: np.ndarray, base: dict, grp: _Groups) -> dict:
    """The 'Yes' row's n, N and percentage per period and overall, with Wilson intervals."""
    row = dict(base, level="yes", level_label="Yes", row_type="level")
    for g in grp.names + ("overall",):
        m = grp.masks[g] if g != "overall" else np.ones(len(is_true), bool)
        n, N = int((is_true & m & known).sum()), int((known & m).sum())
        row[f"n_{g}"], row[f"N_{g}"] = n, N
        row[f"pct_{g}"] = 100 * n / N if N else np.nan
        _, lo, hi = wilson_ci(n, N) if N else (np.nan, np.nan, np.nan)
        row[f"ci_low_{g}"], row[f"ci_high_{g}"] = 100 * lo, 100 * hi
    return row


def _binary_design(row: dict, is_true: np.ndarray, known: np.ndarray, grp: _Groups) -> None:
    """Design-based percentages (periods and overall: domain estimates with SE, logit interval and total), the
    difference (contrast of the domain estimates) and the Rao-Scott F test of the 'Yes' row."""
    from ..stats.survey import proportion_summary

    y = grp.full(np.where(known, is_true.astype(float), np.nan), np.nan)
    res = proportion_summary(grp.design, y, grp.of_all, grp.names)
    for g in grp.names + ("overall",):
        e = res.by[g]
        row.update({f"pct_{g}": 100 * e.estimate, f"se_{g}": 100 * e.se, f"ci_low_{g}": 100 * e.low,
                    f"ci_high_{g}": 100 * e.high, f"total_{g}": e.total, f"total_se_{g}": e.total_se,
                    f"N_weighted_{g}": e.n_weighted})
    d = res.difference
    row.update(diff_pp=100 * d.estimate, diff_low=100 * d.low, diff_high=100 * d.high, diff_se=100 * d.se,
               p_wald=d.p_value)
    _rao_scott_into(row, res.test, RAO_SCOTT_TEST)


def _binary_test(row: dict, grp: _Groups) -> None:
    """Adds the difference (pp, Newcombe 95% CI) and the 2 x 2 test to the 'Yes' row."""
    a, b = grp.names
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
    """A categorical variable: one row per level (missing-data levels as their own rows when anyone has them,
    outside the denominators unless ``include_missing``), the test over the substantive levels on the first row:
    gtsummary's rule, the Rao-Scott F test with report clusters in a person table, design-based with a frame."""
    groups, in_g = grp.names, grp.masks
    vals = s.astype(str).to_numpy()
    codes = [c for c, _ in spec.levels]
    substantive = [c for c in codes if not is_missing_level(c)]
    in_denominator = codes if include_missing else substantive
    counts = {c: {g: int(((vals == c) & in_g[g]).sum()) for g in groups} for c in codes}
    denom = {g: sum(counts[c][g] for c in in_denominator) for g in groups}
    # the count test (gtsummary's rule): the table's test without a design, the naive one beside the cluster test
    t = None if grp.weighted else categorical_test(
        np.array([[counts[c][g] for g in groups] for c in substantive], dtype=np.int64).reshape(-1, 2)
        if substantive else np.zeros((0, 2), dtype=np.int64))
    design, design_test = _category_design(vals, in_denominator, substantive, grp)
    rows = []
    for c, lab in spec.levels:
        is_missing = is_missing_level(c)
        if is_missing and sum(counts[c].values()) == 0:
            continue
        row = dict(base, level=c, level_label=lab, row_type="missing" if is_missing else "level")
        outside = is_missing and not include_missing
        for g in groups:
            row[f"n_{g}"] = counts[c][g]
            row[f"N_{g}"] = np.nan if outside else denom[g]
            row[f"pct_{g}"] = np.nan if outside or not denom[g] else 100 * counts[c][g] / denom[g]
        row["n_overall"] = sum(counts[c].values())
        row["N_overall"] = np.nan if outside else sum(denom.values())
        row["pct_overall"] = (100 * row["n_overall"] / row["N_overall"]
                              if row["N_overall"] == row["N_overall"] and row["N_overall"] else np.nan)
        if grp.weighted and not outside:
            for g in groups + ("overall",):
                e = design.by[(g, c)]
                row.update({f"pct_{g}": 100 * e.estimate, f"se_{g}": 100 * e.se, f"N_weighted_{g}": e.n_weighted})
        if not rows and design_test is None:
            row.update(test=t.test, p_value=t.p_value, note=t.note)
            if t.mc_se == t.mc_se:
                row.update(p_mc_se=t.mc_se, p_bound=t.p_bound)
        elif not rows:
            if t is not None:
                row.update(p_naive=t.p_value, test_naive=t.test)
            _rao_scott_into(row, design_test, RAO_SCOTT_TEST if grp.weighted else RAO_SCOTT_CLUSTER_TEST)
        rows.append(row)
    if not rows:
        return rows, "not tested", math.nan
    return rows, rows[0]["test"], rows[0]["p_value"]


def _category_design(vals: np.ndarray, in_denominator: list[str], substantive: list[str], grp: _Groups):
    """With a design: the design-based shares of the levels in the denominators (weighted tables only) and the
    Rao-Scott test over the substantive levels (the missing-data levels are never tested)."""
    if grp.design is None:
        return None, None
    from ..stats.survey import category_summary, rao_scott_test

    def domain(levels):
        return grp.full(np.where(np.isin(vals, levels), vals, None).astype(object), None)

    # totals only for yes/no rows: a category's count tables cost more than its shares and test together
    est = category_summary(grp.design, domain(in_denominator), grp.of_all, grp.names, in_denominator,
                           totals=False) if grp.weighted else None
    if est is not None and list(in_denominator) == list(substantive):
        return est, est.test
    return est, rao_scott_test(grp.design, domain(substantive), grp.of_all, grp.names)


def _smd(spec: Spec, part: list[dict], grp: _Groups) -> float:
    """tableone's absolute standardised difference of one variable, from its rows (weighted estimates in a
    weighted table)."""
    a, b = grp.names
    if not part:
        return math.nan
    first = part[0]
    if spec.kind == "number":  # means and SDs: sample ones (ddof 1, as tableone), or design-based when weighted
        return abs(smd_from_summaries(first[f"mean_{a}"], first[f"sd_{a}"], first[f"mean_{b}"], first[f"sd_{b}"]))
    if spec.kind == "binary":
        return abs(smd_proportions(first[f"pct_{a}"] / 100, first[f"pct_{b}"] / 100))
    levels = [r for r in part if r["row_type"] == "level"]
    return smd_categorical([r[f"pct_{a}"] / 100 for r in levels], [r[f"pct_{b}"] / 100 for r in levels])


# --- assembling the table ----------------------------------------------------------------------------------


def _assemble(rows: list[dict], var_p: dict[str, float], tests_used: list[str], *, population: str, grp: _Groups,
              cfg: StudyConfig, adjust: str, include_missing: bool, cluster: str | None,
              clustered: bool) -> ComparisonTable:
    """The rows as one frame with q-values over the variable-level p-values (in table order; rows not tested
    are not in the family), and the notes. A Monte Carlo p-value that is a bound enters at its value; the
    q-values are then upper bounds (``q_bound``)."""
    out = pd.DataFrame(rows)
    _after_minus_before(out)
    _unique_labels(out)
    keys = list(var_p)
    q = adjust_pvalues(np.array([var_p[k] for k in keys], dtype=float), method=adjust)
    qmap = dict(zip(keys, q))
    p_col = out.get("p_value", pd.Series(np.nan, index=out.index))
    out["q_value"] = [qmap[c] if (pd.notna(p) and c in qmap) else np.nan for c, p in zip(out["column"], p_col)]
    bound = False
    if "p_bound" in out.columns:
        out["p_bound"] = out["p_bound"].eq(True)
        bound = bool(out["p_bound"].any())
        out["q_bound"] = out["q_value"].notna() & bound
    uniq_tests = tuple(dict.fromkeys(t for t in tests_used if isinstance(t, str) and t and t != "not tested"))
    return ComparisonTable(
        rows=out,
        population=population,
        groups=grp.names,
        group_labels=cfg.period_labels,
        group_n={g: int(grp.masks[g].sum()) for g in grp.names},
        weighted=grp.weighted,
        clustered=clustered,
        adjust=adjust,
        tests_used=uniq_tests,
        notes=_table_notes(grp.frame if grp.weighted else None, include_missing, cluster, clustered, bound),
    )


def weighted_disclosure_warning(threshold: int) -> str:
    """What a weighted run tells the analyst (never shared): what the protection of the weighted estimates covers,
    and what it does not."""
    return ("warning: weighted tables (--frame): each sampled year has its own weight, so a weighted percentage "
            "narrows how a period's counts split between its years. A variable's weighted percentages, change and "
            f"test are shown only where none of its counts is from 1 to {threshold - 1} in a sampled year (else n/N "
            "only); relations between variables within one year are not protected, and audit-disclosure does not "
            "attack the weighted estimates. Check the weighted shared tables before they leave the analyst "
            "(README: Sampling weights).")


#: the change columns of a yes/no row, as (estimate, low, high) triples
_CHANGE_COLUMNS = (("diff_pp", "diff_low", "diff_high"), (None, "diff_low_naive", "diff_high_naive"),
                   (None, "diff_low_cluster", "diff_high_cluster"))
#: the one direction of every change in tables, charts and text
CHANGE_HEADER = "Change, after minus before (percentage points)"


def _unique_labels(out: pd.DataFrame) -> None:
    """Labels unique within a table: a label that two variables share gets its column name in brackets (on the
    later ones), so no two rows of different variables read the same."""
    if out.empty or "label" not in out.columns:
        return
    first_col: dict[str, str] = {}
    for col, label in out.drop_duplicates("column")[["column", "label"]].itertuples(index=False):
        if label in first_col and first_col[label] != col:
            out.loc[out["column"] == col, "label"] = f"{label} ({col})"
        else:
            first_col.setdefault(label, col)


def _after_minus_before(out: pd.DataFrame) -> None:
    """Every change as after minus before (the tests and interval methods compute before minus after): the
    estimate negated, the limits swapped and negated."""
    for est, low, high in _CHANGE_COLUMNS:
        if est is not None and est in out.columns:
            out[est] = -out[est].astype(float)
        if low in out.columns and high in out.columns:
            out[low], out[high] = -out[high].astype(float), -out[low].astype(float)


def _table_notes(frame: dict[int, int] | None, include_missing: bool, cluster: str | None, clustered: bool,
                 bound: bool = False) -> list[str]:
    """What the table's methods say beyond the tests: missing data, the design, clusters, Monte Carlo bounds."""
    notes = [] if include_missing else ["missing excluded"]
    notes.append("A row with nothing left to test is not tested and is not among the adjusted p-values.")
    if frame is not None:
        notes.append("Weighted to the sampling frame (reports per sampled year: "
                     + ", ".join(f"{y} {n:,}" for y, n in sorted(frame.items())) + ").")
        notes.append("Design: strata = sampled year, primary sampling unit = report, finite population correction "
                     "from the frame" + ("; people are elements of their report and carry its weight (frame "
                                         "reports / sampled reports in the year)" if cluster is not None else "")
                     + ". Percentages, standard errors, intervals and (for yes/no rows) totals are "
                     "Taylor-linearised domain estimates (svy); each row's domain is the units where the variable is "
                     "known. Yes/no and "
                     "categorical rows: Rao-Scott F test (valid also when a period's percentage is 0); numbers: "
                     "design-based mean and quartiles, Wilcoxon rank test (design-based).")
        notes.append("Overall column: estimated under the same design as the periods (weighted), not the pooled "
                     "unweighted sample.")
    else:
        notes.append("Unweighted: no sampling frame given.")
        if clustered:
            notes.append("Yes/no rows: 95% interval from a cluster bootstrap over reports and a cluster-robust Wald "
                         "p-value (GEE, independence working correlation, sandwich SE), because people on the same "
                         "report are not independent; naive values in p_naive / diff_*_naive. Where the GEE cannot "
                         "be fitted (an outcome all 0 or all 1 in a period) the Rao-Scott F test with report "
                         "clusters. Rows with more than two levels: Rao-Scott F test with report clusters; numbers: "
                         "Wilcoxon rank test with report clusters (design-based, weights 1); naive tests in "
                         "p_naive / test_naive.")
    if bound:
        notes.append("A Monte Carlo p-value with no simulated table as extreme as the observed one is below "
                     "1/(B+1): it enters the adjustment at 1/(B+1), so the q-values are upper bounds (q_bound).")
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
