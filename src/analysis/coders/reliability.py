"""Inter-coder reliability of the coding: the double-coding sample, the reliability table, the disagreement list.

Functions take data and return data (no files, no printing); the CLI (:mod:`analysis.cli.reliability`) and
notebook ``01_coding_quality`` do the reading and writing.

Units and values
----------------
* ``incidents`` variables are assessed on reports (keyed by ``report_id``), ``persons`` variables on people
  (keyed by ``person_code``); only units coded by at least two coders enter.
* Charges are assessed per person: for each charge category (``analysis.scheme.charges``, with the category taken for
  the person's role as *that* coder coded it, so 647(b) is buying for a buyer) a 0/1 "this person has a charge in
  this category", plus the whole set of (normalised) statutes as one nominal value. A person with no charge row
  has 0 for every category.
* Variables of level ``none`` in the codebook (ids, coder id) are not assessed.
* Nominal variables: the missing codes ``-8`` / ``-9`` are categories of their own (a coder who writes -8 where
  the other found an answer disagrees). Ordinal and interval variables: ``-8`` / ``-9`` are missing (NaN).
  Ordinal codes are ranked in codebook order; dates are compared as day numbers.
* Multi-select variables get a row for the whole answer (the set of codes as one nominal value) and one row per
  option, coded 1 / 0 (or the missing code when the cell holds -8 / -9). Only options that some coder used on
  the assessed units get a row.

Statistics per row: percent agreement, Cohen's kappa with its 95% CI (exactly two coders, nominal and ordinal
variables; unweighted), Krippendorff's alpha at the codebook's level with a bootstrap 95% CI (any number of
coders), and a flag: ``reliable`` (alpha >= 0.800), ``tentative`` (0.667 <= alpha < 0.800), ``unreliable``
(alpha < 0.667), ``no variation`` (alpha undefined: every value the same), ``not double-coded`` (no unit coded
by two coders). Thresholds: Krippendorff (2004), *Content Analysis* 2nd ed., p. 241.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..scheme.charges import charge_table
from ..scheme.codebook import NOT_APPLICABLE, NOT_DOCUMENTED, Codebook, Variable, load_codebook
from ..scheme.config import StudyConfig, load_study_config
from ..stats.agreement import cohen_kappa_ci, krippendorff_alpha_cis, percent_agreement

MISSING = (NOT_DOCUMENTED, NOT_APPLICABLE)
RELIABLE, TENTATIVE = 0.800, 0.667
#: the columns of interval limits of an agreement coefficient, clipped to [-1, 1] wherever they are shown
INTERVAL_COLUMNS = ("kappa_low", "kappa_high", "alpha_low", "alpha_high")
FLAGS = ("reliable", "tentative", "unreliable", "no variation", "not double-coded")
DEFAULT_SAMPLE_SEED = 20171115
ASSESSED_TABLES = ("incidents", "persons", "charges")
CHARGES_VARIABLE = "statute"
PERSON_LISTED = "person_code"  # disagreement-list variable for a person listed by some coders only

RELIABILITY_COLUMNS = [
    "table", "variable", "option", "label", "level", "n_units", "n_units_all_coders", "percent_agreement",
    "kappa", "kappa_low", "kappa_high", "alpha", "alpha_low", "alpha_high", "flag", "smallest_category",
]
#: The columns of the shared reliability summary (:func:`shared_summary`): no counts, no agreement percentages.
SHARED_COLUMNS = ["table", "variable", "option", "label", "level", "alpha", "alpha_low", "alpha_high", "flag"]
DISAGREEMENT_BASE = ["report_id", "table", "person_code", "variable"]


# --- the double-coding sample ----------------------------------------------------------------------------


def _periods(incidents: pd.DataFrame, cfg: StudyConfig) -> pd.Series:
    year_to_period = cfg.year_to_period
    years = pd.to_numeric(incidents["report_year"].astype(str).str.strip(), errors="coerce")
    period = years.map(lambda y: year_to_period.get(int(y)) if y == y else None)
    bad = incidents.loc[period.isna(), "report_id"].astype(str).tolist()
    if bad:
        shown = ", ".join(bad[:10]) + (f" and {len(bad) - 10} more" if len(bad) > 10 else "")
        raise ValueError(
            f"{len(bad)} report(s) have a report_year outside the sampled years "
            f"({', '.join(map(str, cfg.sampled_years))}): {shown}. Validate the data first and sample from the "
            "valid rows."
        )
    return period


def report_periods(incidents: pd.DataFrame, config: StudyConfig | None = None) -> pd.DataFrame:
    """``report_id`` and ``period`` (from ``report_year`` via the study configuration) for every report."""
    cfg = config or load_study_config()
    return pd.DataFrame({"report_id": incidents["report_id"].astype(str).to_numpy(),
                         "period": _periods(incidents, cfg).to_numpy()})


def _allocate(total: int, sizes: list[int]) -> list[int]:
    """Proportional allocation of ``total`` over strata of ``sizes`` (largest remainder; ties to the first)."""
    n = sum(sizes)
    quotas = [total * s / n for s in sizes]
    alloc = [min(int(math.floor(q)), s) for q, s in zip(quotas, sizes)]
    order = sorted(range(len(sizes)), key=lambda i: (-(quotas[i] - math.floor(quotas[i])), i))
    while sum(alloc) < total:
        for i in order:
            if sum(alloc) < total and alloc[i] < sizes[i]:
                alloc[i] += 1
    return alloc


def double_coding_sample(
    incidents: pd.DataFrame,
    fraction: float = 0.2,
    minimum: int = 50,
    seed: int = DEFAULT_SAMPLE_SEED,
    config: StudyConfig | None = None,
) -> list[str]:
    """Report ids to be coded a second time: a random sample stratified by period, sorted.

    Size: ``ceil(fraction * N)`` reports, but at least ``minimum`` (all N when there are fewer). The size is
    allocated to the periods in proportion to their number of reports (largest remainder), and drawn
    without replacement within each period. The same ids and ``seed`` always give the same sample, whatever
    the row order. Every report must have a sampled ``report_year`` (validate first).
    """
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1]; got {fraction!r}")
    if minimum < 0:
        raise ValueError(f"minimum must be 0 or more; got {minimum!r}")
    cfg = config or load_study_config()
    frame = report_periods(incidents, cfg)
    if frame["report_id"].duplicated().any():
        dups = sorted(set(frame.loc[frame["report_id"].duplicated(), "report_id"]))
        raise ValueError(f"report ids must be unique; repeated: {', '.join(dups[:10])}")
    n = len(frame)
    if n == 0:
        return []
    total = min(n, max(int(minimum), math.ceil(fraction * n - 1e-9)))
    strata = [p for p in cfg.period_codes if (frame["period"] == p).any()]
    ids = [sorted(frame.loc[frame["period"] == p, "report_id"]) for p in strata]
    alloc = _allocate(total, [len(x) for x in ids])
    rng = np.random.default_rng(seed)
    chosen: list[str] = []
    for stratum_ids, k in zip(ids, alloc):
        picks = rng.choice(len(stratum_ids), size=k, replace=False)
        chosen.extend(stratum_ids[i] for i in picks)
    return sorted(chosen)


# --- coder names -----------------------------------------------------------------------------------------


def coder_name(tables: dict[str, pd.DataFrame], fallback: str) -> str:
    """The coder's name for a coding: its ``coder_id`` when every report has the same one, else ``fallback``."""
    ids = set(tables["incidents"]["coder_id"].astype(str)) - {""}
    return ids.pop() if len(ids) == 1 else fallback


# --- unit x coder values ---------------------------------------------------------------------------------


@dataclass
class _Item:
    table: str
    variable: str
    option: str
    label: str
    level: str
    values: pd.DataFrame  # units (index) x coders; None / NaN = not coded or missing


def _ordered_tokens(value: str, var: Variable, sep: str) -> str:
    if value in MISSING:
        return value
    order = {c: i for i, c in enumerate(var.code_values)}
    toks = sorted({t for t in value.split(sep) if t}, key=lambda t: (order.get(t, len(order)), t))
    return sep.join(toks)


def _numeric(value: str, var: Variable) -> float:
    if value is None or value in MISSING or value == "":
        return np.nan
    if var.type == "date":
        return float(dt.date.fromisoformat(value).toordinal())
    if var.codes:  # ordinal codes: rank in codebook order
        ranks = {c: i for i, c in enumerate(var.code_values)}
        return float(ranks[value]) if value in ranks else np.nan
    return float(value)


def _keyed(frame: pd.DataFrame, key: str) -> pd.DataFrame:
    df = frame.astype({key: str}).drop_duplicates(subset=key, keep="first")
    return df.set_index(key)


def _double_coded(frames: dict[str, pd.DataFrame]) -> list[str]:
    counts: dict[str, int] = {}
    for df in frames.values():
        for k in df.index:
            counts[k] = counts.get(k, 0) + 1
    return sorted(k for k, c in counts.items() if c >= 2)


def _text_values(frames: dict[str, pd.DataFrame], units: list[str], column: str) -> pd.DataFrame:
    """Units x coders of text values; None where a coder did not code the unit."""
    cols = {}
    for name, df in frames.items():
        s = df[column].reindex(units)
        cols[name] = [None if (v is None or v != v) else str(v) for v in s.tolist()]
    return pd.DataFrame(cols, index=pd.Index(units, dtype=object), dtype=object)


def _map_values(raw: pd.DataFrame, func) -> pd.DataFrame:
    return pd.DataFrame({c: [func(v) for v in raw[c].tolist()] for c in raw.columns}, index=raw.index,
                        dtype=object)


def _variable_items(table: str, var: Variable, raw: pd.DataFrame, cb: Codebook) -> list[_Item]:
    """The items of one codebook variable from its raw text values (units x coders, None = not coded)."""
    if var.level == "nominal":
        vals = _map_values(raw, lambda v: None if v is None else
                           (_ordered_tokens(v, var, cb.separator) if var.type == "multi" else v))
    else:
        vals = _map_values(raw, lambda v: _numeric(v, var)).astype(float)
    items = [_Item(table, var.name, "", var.label, var.level, vals)]
    if var.type == "multi":
        used = set()
        for col in raw.columns:
            for v in raw[col].dropna():
                if str(v) not in MISSING:
                    used.update(t for t in str(v).split(cb.separator) if t)
        labels = var.labels
        for code in var.code_values:
            if code not in used:
                continue

            def opt(v, code=code):
                if v is None:
                    return None
                v = str(v)
                if v in MISSING:
                    return v
                return "1" if code in v.split(cb.separator) else "0"

            items.append(_Item(table, var.name, code, f"{var.label}: {labels[code]}", "nominal",
                               _map_values(raw, opt)))
    return items


def _charge_sets(codings: dict[str, dict[str, pd.DataFrame]], units: list[str], cb: Codebook):
    """Per coder: person_code -> (set of normalised statutes, set of categories), for coded persons only."""
    table = charge_table(cb)
    classified: dict[str, object] = {}  # statute text -> table.classify(text): the same few texts recur

    def classify(text: str):
        if text not in classified:
            classified[text] = table.classify(text)
        return classified[text]

    out = {}
    for name, tables in codings.items():
        persons = _keyed(tables["persons"], "person_code")
        roles = persons["role"].astype(str).to_dict()
        sets = {p: (set(), set()) for p in units if p in roles}
        for p, statute in zip(tables["charges"]["person_code"].astype(str), tables["charges"]["statute"]):
            if p not in sets:
                continue
            st = classify(str(statute))
            if st is None:  # not in the classification table: keep the text, no category
                sets[p][0].add(str(statute).strip())
                continue
            sets[p][0].add(st.statute)
            sets[p][1].add(st.category_for(roles[p]))
        out[name] = sets
    return out


def _charge_items(codings, units: list[str], cb: Codebook) -> list[_Item]:
    var = cb.variable("charges", CHARGES_VARIABLE)
    sets = _charge_sets(codings, units, cb)
    idx = pd.Index(units, dtype=object)
    whole = pd.DataFrame(
        {name: [("; ".join(sorted(s[p][0])) or "none") if p in s else None for p in units]
         for name, s in sets.items()}, index=idx)
    items = [_Item("charges", var.name, "", "Charges per person (set of normalised statutes)", var.level, whole)]
    categories = charge_table(cb).categories
    used = {c for s in sets.values() for _, cats in s.values() for c in cats}
    for code, label in categories.items():
        if code not in used:
            continue
        vals = pd.DataFrame(
            {name: [("1" if code in s[p][1] else "0") if p in s else None for p in units]
             for name, s in sets.items()}, index=idx)
        items.append(_Item("charges", var.name, code, f"Charge category: {label}", "nominal", vals))
    return items


def _items(codings: dict[str, dict[str, pd.DataFrame]], cb: Codebook) -> list[_Item]:
    if len(codings) < 2:
        raise ValueError(f"reliability needs at least two codings; got {len(codings)}")
    items: list[_Item] = []
    person_units: list[str] = []
    for table in ("incidents", "persons"):
        key = cb.table(table).key
        frames = {name: _keyed(t[table], key) for name, t in codings.items()}
        units = _double_coded(frames)
        if table == "persons":
            person_units = units
        for var in cb.table(table).variables:
            if var.level == "none":
                continue
            items.extend(_variable_items(table, var, _text_values(frames, units, var.name), cb))
    items.extend(_charge_items(codings, person_units, cb))
    return items


# --- the reliability table -------------------------------------------------------------------------------


def reliability_flag(alpha: float, n_units: int | None = None) -> str:
    """reliable / tentative / unreliable / no variation (alpha undefined) / not double-coded (no units)."""
    if n_units == 0:
        return "not double-coded"
    if alpha is None or (isinstance(alpha, float) and math.isnan(alpha)):
        return "no variation"
    if alpha >= RELIABLE:
        return "reliable"
    if alpha >= TENTATIVE:
        return "tentative"
    return "unreliable"


def _matrix(values: pd.DataFrame, numeric: bool) -> np.ndarray:
    if numeric:
        return values.to_numpy(dtype=float).T
    arr = values.to_numpy(dtype=object).T.copy()
    if arr.size:
        arr[pd.isna(arr)] = None
    return arr.reshape(values.shape[1], values.shape[0])


def _item_data(item: _Item) -> tuple[np.ndarray, int, int]:
    """The item's coders x units matrix, its units with values from at least two coders, and from all."""
    data = _matrix(item.values, item.level in ("interval", "ordinal"))
    n_present = (~pd.isna(data)).sum(axis=0) if data.size else np.zeros(0, dtype=int)
    n_units = int((n_present >= 2).sum())
    n_all = int((n_present == data.shape[0]).sum()) if data.size else 0
    return data, n_units, n_all


def _row(item: _Item, data: np.ndarray, n_units: int, n_all: int, alpha_ci: tuple[float, float, float],
         conf: float) -> dict:
    nan = float("nan")
    pct = kappa = k_lo = k_hi = nan
    alpha, a_lo, a_hi = alpha_ci if n_units else (nan, nan, nan)
    if n_units:
        pct = 100.0 * percent_agreement(data)
        if data.shape[0] == 2 and item.level in ("nominal", "ordinal"):
            a, b = data[0], data[1]
            kappa, k_lo, k_hi = cohen_kappa_ci(a, b, conf=conf)
    return {
        "table": item.table, "variable": item.variable, "option": item.option, "label": item.label,
        "level": item.level, "n_units": n_units, "n_units_all_coders": n_all, "percent_agreement": pct,
        "kappa": kappa, "kappa_low": k_lo, "kappa_high": k_hi,
        "alpha": alpha, "alpha_low": a_lo, "alpha_high": a_hi, "flag": reliability_flag(alpha, n_units),
        "smallest_category": _smallest_category(item.values, item.level),
    }


def _smallest_category(values: pd.DataFrame, level: str) -> float:
    """The fewest times any one value was given by one coder among the units coded by two or more (NaN for
    interval variables, whose values are not categories)."""
    if level == "interval" or values.empty:
        return float("nan")
    present = values.notna()
    units = present.sum(axis=1) >= 2
    counts = [int(n) for c in values.columns for n in values.loc[units & present[c], c].astype(str).value_counts()]
    return float(min(counts)) if counts else float("nan")


def shared_summary(table: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """The reliability table for sharing: Krippendorff's alpha with its 95% interval (3 decimals) and the flag
    only. No units, agreement percentages or kappa (percent agreement x units gives the disagreements, and kappa
    with the marginals each coder's counts). A row is suppressed (every value 'suppressed') when fewer than twice
    the threshold units were double-coded, or when some value of the variable was given fewer than ``threshold``
    times by one coder among them (alpha could then hint at a small count)."""
    out = table[[c for c in SHARED_COLUMNS if c in table.columns]].copy()
    for c in ("alpha", "alpha_low", "alpha_high"):
        out[c] = [("" if v != v else f"{v:.3f}") for v in table[c]]
    small = (table["n_units"].between(1, 2 * threshold - 1)
             | (table["smallest_category"] < threshold)).to_numpy()
    for c in ("alpha", "alpha_low", "alpha_high", "flag"):
        out[c] = out[c].astype(object)
        out.loc[small, c] = "suppressed"
    return out.reset_index(drop=True)


def reliability_table(
    codings: dict[str, dict[str, pd.DataFrame]],
    codebook: Codebook | None = None,
    n_boot: int = 1000,
    seed: int = DEFAULT_SAMPLE_SEED,
    conf: float = 0.95,
) -> pd.DataFrame:
    """One row per assessed variable (and per used option of multi-select variables and charge category).

    ``codings`` maps a coder's name to that coder's validated tables (``ValidationResult.valid``: a dict of
    ``incidents`` / ``persons`` / ``charges`` text frames). Columns: see :data:`RELIABILITY_COLUMNS`;
    ``percent_agreement`` is in percent (0-100), ``n_units`` counts the units with values from at least two
    coders and ``n_units_all_coders`` those with values from every coder. The bootstrap for alpha's interval
    (``n_boot`` resamples of units) uses ``seed``, so the table is the same for the same input.
    """
    cb = codebook or load_codebook()
    items = _items(codings, cb)
    prepared = [_item_data(item) for item in items]
    # alpha and its bootstrap CI for every item at once: items on the same units share the resamples
    assessed = [i for i, (_, n_units, _) in enumerate(prepared) if n_units]
    cis = dict(zip(assessed, krippendorff_alpha_cis([prepared[i][0] for i in assessed],
                                                   [items[i].level for i in assessed],
                                                   n_boot=n_boot, conf=conf, seed=seed)))
    nan = (float("nan"),) * 3
    rows = [_row(item, *prep, cis.get(i, nan), conf) for i, (item, prep) in enumerate(zip(items, prepared))]
    return pd.DataFrame(rows, columns=RELIABILITY_COLUMNS)


def needs_retraining(table: pd.DataFrame) -> pd.DataFrame:
    """The rows of a reliability table whose flag is not ``reliable``, least reliable first."""
    out = table[table["flag"] != "reliable"]
    return out.sort_values(["alpha", "table", "variable", "option"], na_position="last").reset_index(drop=True)


# --- the disagreement list -------------------------------------------------------------------------------


def disagreements(codings: dict[str, dict[str, pd.DataFrame]], codebook: Codebook | None = None) -> pd.DataFrame:
    """Every value on which the coders of a double-coded unit differ, for the reconciliation meeting.

    Columns: ``report_id``, ``table``, ``person_code`` (blank for incidents), ``variable`` and one column per
    coder with the value as coded (multi-select answers in codebook order; charges: the person's normalised
    statutes joined by '; ', or ``none``). A blank value means that coder did not code the unit. A person
    listed on a double-coded report by some coders only appears as variable ``person_code`` with ``listed`` /
    ``not listed``. Sorted by report, table, person, then codebook order.
    """
    cb = codebook or load_codebook()
    names = list(codings)
    if len(names) < 2:
        raise ValueError(f"disagreements need at least two codings; got {len(names)}")
    clash = [n for n in names if n in DISAGREEMENT_BASE]
    if clash:
        raise ValueError(f"coder name(s) {', '.join(clash)} clash with the list's own columns; rename the coder")
    records: list[dict] = []
    t_order = {t: i for i, t in enumerate(ASSESSED_TABLES)}

    def add(report_id, table, person, variable, order, vals: dict):
        present = {v for v in vals.values() if v is not None}
        if len(present) > 1:
            rec = {"report_id": report_id, "table": table, "person_code": person, "variable": variable,
                   "_order": order}
            rec.update({n: ("" if vals.get(n) is None else vals[n]) for n in names})
            records.append(rec)

    inc = {n: _keyed(t["incidents"], "report_id") for n, t in codings.items()}
    inc_units = _double_coded(inc)
    for order, var in enumerate(cb.table("incidents").variables):
        if var.level == "none":
            continue
        raw = _text_values(inc, inc_units, var.name)
        for rid, *row in zip(raw.index, *(raw[n].tolist() for n in names)):
            vals = {n: (None if v is None else
                        _ordered_tokens(str(v), var, cb.separator) if var.type == "multi" else str(v))
                    for n, v in zip(names, row)}
            add(rid, "incidents", "", var.name, order, vals)

    per = {n: _keyed(t["persons"], "person_code") for n, t in codings.items()}
    per_units = _double_coded(per)
    report_of: dict[str, str] = {}
    for df in per.values():
        for p, r in df["report_id"].astype(str).items():
            report_of.setdefault(p, r)
    # people listed by some coders only, on reports that several coders coded
    inc_double, per_double = set(inc_units), set(per_units)
    for p in sorted(report_of):
        if p in per_double or report_of[p] not in inc_double:
            continue
        coded_report = {n for n in names if report_of[p] in inc[n].index}
        vals = {n: ("listed" if p in per[n].index else "not listed") for n in coded_report}
        add(report_of[p], "persons", p, PERSON_LISTED, -1, vals)
    for order, var in enumerate(cb.table("persons").variables):
        if var.level == "none":
            continue
        raw = _text_values(per, per_units, var.name)
        for p, *row in zip(raw.index, *(raw[n].tolist() for n in names)):
            add(report_of[p], "persons", p, var.name, order, {n: (None if v is None else str(v))
                                                              for n, v in zip(names, row)})
    sets = _charge_sets(codings, per_units, cb)
    for p in per_units:
        vals = {n: (("; ".join(sorted(sets[n][p][0])) or "none") if p in sets[n] else None) for n in names}
        add(report_of[p], "charges", p, CHARGES_VARIABLE, 0, vals)

    out = pd.DataFrame(records, columns=DISAGREEMENT_BASE + ["_order"] + names)
    if out.empty:
        return out.drop(columns="_order")
    out["_t"] = out["table"].map(t_order)
    out = out.sort_values(["report_id", "_t", "person_code", "_order"], kind="stable")
    return out.drop(columns=["_order", "_t"]).reset_index(drop=True)


def disagreement_counts(disagreement_list: pd.DataFrame) -> pd.DataFrame:
    """Number of disagreements per table and variable (no ids), most first."""
    if disagreement_list.empty:
        return pd.DataFrame(columns=["table", "variable", "disagreements"])
    counts = disagreement_list.groupby(["table", "variable"], sort=False).size().rename("disagreements")
    return counts.reset_index().sort_values(["disagreements", "table", "variable"],
                                            ascending=[False, True, True]).reset_index(drop=True)


def clip_intervals(table: pd.DataFrame) -> pd.DataFrame:
    """A copy of the reliability table for display with kappa's and alpha's interval limits clipped to [-1, 1]
    (a bootstrap or normal-approximation limit can fall outside the coefficient's range)."""
    out = table.copy()
    for c in INTERVAL_COLUMNS:
        if c in out.columns:
            out[c] = out[c].astype(float).clip(-1.0, 1.0)
    return out
