"""Which shared counts are tied together, and what combinations of values are logically possible.

A reader of the shared files knows the codebook: how derived variables are made from coded ones (``from:``), the
skip logic (``show_if``) and the multi-select rules. So counts of variables linked that way cannot be protected one
variable at a time. This module groups the table columns of a population (reports, or people) into *families*:
columns connected by ``from:`` lists, skip logic, the options of one multi-select variable, or a published count
that crosses them (the model's cross-tabulation). Families share nothing but the population's size, so each is
protected on its own.

A family's *combinations* are the tuples of displayed values (:func:`display_frame`) its columns can take together.
They are found by running the project's own validation and derivation on an enumerated grid of source values
(every code and missing code, every age, every set of multi-select options, every role), so the relations are
exactly the codebook's definitions: a combination the validator rejects is impossible, and every derived value is
what :mod:`analysis.derive.variables` makes of it. The charges family (charge categories per person, the HIV
charge, the most serious charge) is enumerated from the charge classification: one person per possible (set of
categories, most serious severity), with a witness set of statutes. Combinations seen in the data are always added
(they are possible by definition); the grid can only add combinations that the codebook allows.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ...derive.variables import SEVERITY_ORDER, derive
from ...scheme.charges import charge_table
from ...scheme.codebook import NOT_APPLICABLE, NOT_DOCUMENTED, TABLES, Codebook, Variable
from ...scheme.config import StudyConfig
from ..compare import Spec, variable_specs

MISSING = (NOT_DOCUMENTED, NOT_APPLICABLE)
TRUE, FALSE, NA = "T", "F", "NA"  # displayed values of a yes/no column (a coded yes/no's missing codes stay as codes)
KNOWN = "known"  # a number column's displayed value when recorded
_MAX_MULTI_CODES = 12  # a multi-select with more options is enumerated by the subsets seen in the data only
_NOT_LINKING = {"role", "report_year"}  # every person carries a role (the protection's groups); period is a block


# --- displayed values -----------------------------------------------------------------------------------------


def display_frame(data: pd.DataFrame, specs: list[Spec]) -> pd.DataFrame:
    """Each unit's value of each table column as the tables count it, as text: a yes/no is ``T``, ``F`` or its
    missing code (``NA`` for a derived or multi-select yes/no); a category its code (``nan`` when blank); a number
    ``known`` or ``NA``."""
    out = {}
    for sp in specs:
        s = data[sp.column]
        if sp.kind == "binary":
            vals = s.astype(object)
            is_t = (vals == sp.true_value).to_numpy(dtype=bool)
            is_f = (vals == sp.false_value).to_numpy(dtype=bool)
            raw = s.astype(str).to_numpy(dtype=object)
            raw[pd.isna(vals).to_numpy()] = NA
            out[sp.column] = np.where(is_t, TRUE, np.where(is_f, FALSE, raw))
        elif sp.kind == "category":
            out[sp.column] = s.astype(str).to_numpy(dtype=object)
        else:
            known = pd.to_numeric(s.astype(object), errors="coerce").notna().to_numpy()
            out[sp.column] = np.where(known, KNOWN, NA)
    return pd.DataFrame(out, index=data.index, dtype=object)


# --- families ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Family:
    """Columns of one table whose counts are tied together, and the coded variables they come from."""

    table: str
    columns: tuple[str, ...]
    sources: tuple[str, ...]  # coded variables of the table, and tokens such as 'charges.statute'

    @property
    def name(self) -> str:
        return self.columns[0]


def _tokens(spec: Spec, table: str, cb: Codebook) -> set[str]:
    coded = {v.name for v in cb.table(table).variables}
    if spec.option_of:
        return {spec.option_of}
    if spec.name in coded:
        return {spec.name}
    try:
        d = cb.derived_variable(table, spec.name)
    except KeyError:
        raise ValueError(f"{table}.{spec.column} is neither a codebook variable nor a declared derived one") from None
    if not d.sources:
        raise ValueError(f"the codebook's derived variable {table}.{d.name} has no `from:` list; disclosure control "
                         "needs it to know which counts are tied together (add the variables it is computed from)")
    return set(d.sources) - _NOT_LINKING


def families(table: str, specs: list[Spec], cb: Codebook, joint: list[tuple[str, ...]] = ()) -> list[Family]:
    """The families of ``specs`` (columns of ``table``): columns connected by their sources, skip logic, the
    options of a multi-select, or a count in ``joint`` that reads several columns at once."""
    parent: dict[str, str] = {}

    def find(a: str) -> str:
        parent.setdefault(a, a)
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    def union(a: str, b: str) -> None:
        parent[find(a)] = find(b)

    col_tokens = {}
    for sp in specs:
        toks = _tokens(sp, table, cb) or {f"column:{sp.column}"}
        col_tokens[sp.column] = toks
        first = next(iter(sorted(toks)))
        for t in toks:
            union(first, t)
    for v in cb.table(table).variables:
        for cond in v.show_if:
            if cond.variable not in _NOT_LINKING and v.name not in _NOT_LINKING:
                union(v.name, cond.variable)
    for cols in joint:
        for a, b in zip(cols, cols[1:]):
            union(next(iter(sorted(col_tokens[a]))), next(iter(sorted(col_tokens[b]))))
    groups: dict[str, list[str]] = {}
    for sp in specs:
        groups.setdefault(find(next(iter(sorted(col_tokens[sp.column])))), []).append(sp.column)
    out = []
    for cols in groups.values():
        toks = sorted({t for c in cols for t in col_tokens[c]})
        root = find(toks[0])
        linked = sorted(t for t in parent if find(t) == root and not t.startswith("column:"))
        out.append(Family(table, tuple(cols), tuple(linked)))
    return out


# --- the grid ---------------------------------------------------------------------------------------------------


def _default_value(v: Variable, row: dict, cfg: StudyConfig, i: int, cb: Codebook) -> str:
    if v.show_if and not all(_holds(row.get(c.variable, ""), c.values, cb) for c in v.show_if):
        return NOT_APPLICABLE
    if v.type == "id":
        return {"report_id": "G0", "person_code": f"GP{i}"}.get(v.name, f"G{i}")
    if v.type == "text":
        return "94103" if v.name == "residence_zip" else "grid"
    if v.type == "date":
        return f"{row.get('report_year', cfg.sampled_years[0])}-06-15"
    if v.type == "integer":
        return str(cfg.sampled_years[0]) if v.allowed_from_config else str(int(v.min))
    if v.type == "statute":
        return "PC 647(b)"
    if v.type == "multi":
        return next(c for c in v.code_values if c not in v.exclusive)
    return v.code_values[0]


def _holds(value: str, wanted: tuple[str, ...], cb: Codebook) -> bool:
    return bool(set(str(value).split(cb.separator)) & set(wanted))


def _domain(v: Variable, cb: Codebook, full_range: bool) -> list[str]:
    miss = list(v.missing)
    if v.type == "code":
        return list(v.code_values) + miss
    if v.type == "multi":
        codes = list(v.code_values)
        subsets = [";".join(c) for k in range(1, len(codes) + 1) for c in itertools.combinations(codes, k)]
        return subsets + miss
    if v.type == "integer":
        if full_range and v.min is not None and v.max is not None:
            return [str(x) for x in range(int(v.min), int(v.max) + 1)] + miss
        return [str(int(v.min))] + miss
    if v.type == "text":
        return ["94103"] + miss
    raise ValueError(f"cannot enumerate {v.table}.{v.name} ({v.type})")


def _rows(table: str, grid: list[dict], cb: Codebook, cfg: StudyConfig, start: int = 0) -> list[dict]:
    out = []
    for k, fixed in enumerate(grid, start=start):
        row: dict[str, str] = {}
        for v in cb.table(table).variables:
            row[v.name] = fixed[v.name] if v.name in fixed else _default_value(v, row, cfg, k, cb)
        out.append(row)
    return out


def _derive_grid(incidents: list[dict], persons: list[dict], charges: list[dict], cb: Codebook,
                 cfg: StudyConfig) -> dict[str, pd.DataFrame]:
    cols = {t: cb.table(t).columns for t in TABLES}
    frames = {"incidents": pd.DataFrame(incidents, columns=cols["incidents"], dtype=object),
              "persons": pd.DataFrame(persons, columns=cols["persons"], dtype=object),
              "charges": pd.DataFrame(charges, columns=cols["charges"], dtype=object)}
    from ...intake.load import tables_from_frames  # here: validation is needed for the grid only
    from ...intake.validate import validate_tables

    result = validate_tables(tables_from_frames(frames, "<grid>", cb), cb, cfg)
    return derive(result.valid, cb, cfg)


def _coded_sources(fam: Family, cb: Codebook) -> list[Variable]:
    names = {v.name: v for v in cb.table(fam.table).variables}
    return [names[s] for s in fam.sources if s in names]


def _full_range(fam: Family, cb: Codebook) -> set[str]:
    """Integer sources that a derived column of the family is computed from: enumerate every value."""
    out = set()
    for d in cb.derived.get(fam.table, ()):
        if d.name in fam.columns:
            out.update(d.sources)
    return out


def _grid_rows(fam: Family, cb: Codebook, cfg: StudyConfig, tag: str) -> list[dict] | None:
    """Coded rows (incidents or persons) covering every combination of the family's coded sources (and every
    role); None when the family cannot be enumerated this way (the charges family, a very large multi-select)."""
    if any(s.startswith("charges.") for s in fam.sources) and fam.table == "persons":
        return None
    sources = _coded_sources(fam, cb)
    if any(v.type == "multi" and len(v.codes) > _MAX_MULTI_CODES for v in sources):
        return None
    wide = _full_range(fam, cb)
    doms = [(v.name, _domain(v, cb, v.name in wide)) for v in sources if v.name != "role"]
    combos = [dict(zip([n for n, _ in doms], vals)) for vals in itertools.product(*[d for _, d in doms])]
    if fam.table == "incidents":
        return _rows("incidents", [dict(c, report_id=f"{tag}-{k}") for k, c in enumerate(combos)], cb, cfg)
    roles = cb.variable("persons", "role").code_values
    grid = [dict(c, role=r) for r in roles for c in combos]
    return _rows("persons", [dict(g, person_code=f"P{tag}-{k}") for k, g in enumerate(grid)], cb, cfg)


def _grid_units_many(fams: list[Family], cb: Codebook, cfg: StudyConfig) -> dict[Family, pd.DataFrame]:
    """Derived grid units for several families at once (one validation and derivation per table)."""
    out: dict[Family, pd.DataFrame] = {}
    for table in ("incidents", "persons"):
        tagged = {}
        rows: list[dict] = []
        for k, fam in enumerate(f for f in fams if f.table == table):
            got = _grid_rows(fam, cb, cfg, f"G{k}")
            if got is None:
                out[fam] = _charge_grid_cached(cb, cfg) if fam.table == "persons" and any(
                    s.startswith("charges.") for s in fam.sources) else pd.DataFrame()
                continue
            tagged[f"G{k}"] = fam
            rows += got
        if not tagged:
            continue
        if table == "incidents":
            units = _derive_grid(rows, [], [], cb, cfg)["incidents"]
            tags = units["report_id"].astype(str).str.split("-").str[0]
        else:
            units = _derive_grid(_rows("incidents", [{}], cb, cfg), rows, [], cb, cfg)["persons"]
            tags = units["person_code"].astype(str).str[1:].str.split("-").str[0]
        for tag, fam in tagged.items():
            out[fam] = units[(tags == tag).to_numpy()].reset_index(drop=True)
    return out


def _charge_grid(cb: Codebook, cfg: StudyConfig) -> pd.DataFrame:
    """One person per role and possible (set of charge categories, most serious severity), with a witness set of
    statutes: every category in the set once, at the highest severity available up to the target, and one at the
    target itself."""
    table = charge_table(cb)
    rank = {s: k for k, s in enumerate(SEVERITY_ORDER)}
    persons, charges = [], []
    k = 0
    for role in cb.variable("persons", "role").code_values:
        by_cat: dict[str, dict[str, str]] = {}
        for st in table.statutes:
            by_cat.setdefault(st.category_for(role), {}).setdefault(st.severity, st.statute)
        cats = sorted(by_cat)
        witnesses: list[list[str]] = [[]]
        for size in range(1, len(cats) + 1):
            for subset in itertools.combinations(cats, size):
                for target in SEVERITY_ORDER[1:]:
                    if not any(target in by_cat[c] for c in subset):
                        continue
                    picks = []
                    for c in subset:
                        ok = [s for s in by_cat[c] if rank[s] <= rank[target]]
                        if not ok:
                            break
                        picks.append(by_cat[c][target] if target in by_cat[c] else by_cat[c][max(ok, key=rank.get)])
                    else:
                        witnesses.append(picks)
        for statutes in witnesses:
            persons.append({"person_code": f"GP{k}", "role": role})
            charges += [{"report_id": "G0", "person_code": f"GP{k}", "statute": s} for s in statutes]
            k += 1
    rows = _rows("persons", persons, cb, cfg)
    inc = _rows("incidents", [{}], cb, cfg)
    return _derive_grid(inc, rows, charges, cb, cfg)["persons"]


# The grids depend on the codebook and the study configuration only (not on the data), so they are computed once
# per (codebook, configuration) a process uses. Keyed by the objects' ids, the entries hold the objects themselves
# so that an id is never reused by another codebook while its entry exists (:func:`_cached`).
_GRID_CACHE: dict[tuple, tuple] = {}
_CHARGE_GRIDS: dict[tuple, tuple] = {}


def _cached(cache: dict, key: tuple, cb: Codebook, cfg: StudyConfig):
    got = cache.get(key)
    if got is None or got[0] is not cb or got[1] is not cfg:
        return None
    return got[2]


def _charge_grid_cached(cb: Codebook, cfg: StudyConfig) -> pd.DataFrame:
    key = (id(cb), id(cfg))
    got = _cached(_CHARGE_GRIDS, key, cb, cfg)
    if got is None:
        got = _charge_grid(cb, cfg)
        _CHARGE_GRIDS[key] = (cb, cfg, got)
    return got


def clear_caches() -> None:
    """Forget the grids computed so far (the benchmark times cold runs, as the pipeline makes them)."""
    _GRID_CACHE.clear()
    _CHARGE_GRIDS.clear()


def possible_combinations(fam: Family, specs: list[Spec], cb: Codebook, cfg: StudyConfig) -> dict[str | None, set]:
    """The displayed-value tuples (over ``fam.columns``) the codebook allows: per role for persons (key: the role
    code), under the key None for reports. Cached per codebook, configuration and family (see
    :func:`prepare_combinations` to compute many at once)."""
    key = (id(cb), id(cfg), fam)
    if _cached(_GRID_CACHE, key, cb, cfg) is None:
        prepare_combinations([fam], specs, cb, cfg)
    return _cached(_GRID_CACHE, key, cb, cfg)


def prepare_combinations(fams: list[Family], specs: list[Spec], cb: Codebook, cfg: StudyConfig) -> None:
    """Compute (and cache) :func:`possible_combinations` for ``fams`` together: one grid per table."""
    todo = [f for f in fams if _cached(_GRID_CACHE, (id(cb), id(cfg), f), cb, cfg) is None]
    if not todo:
        return
    by = {sp.column: sp for sp in specs}
    for fam, units in _grid_units_many(todo, cb, cfg).items():
        out: dict[str | None, set] = {}
        if len(units):
            disp = display_frame(units, [by[c] for c in fam.columns])
            tuples = list(disp.itertuples(index=False, name=None))
            if fam.table == "persons":
                for role, tup in zip(units["role"].astype(str), tuples):
                    out.setdefault(role, set()).add(tup)
            else:
                out[None] = set(tuples)
        _GRID_CACHE[(id(cb), id(cfg), fam)] = (cb, cfg, out)


def table_specs(table: str, data: pd.DataFrame, cb: Codebook) -> list[Spec]:
    """Every column a before/after table of ``table`` can show (:func:`analysis.tables.compare.variable_specs`)."""
    return variable_specs(table, data, cb)
