"""The register of everything shared: every published count, by what it counts, and the counts behind statistics.

A count is identified by what it counts, not by the file that shows it (:class:`CellKey`): the population (reports
or people), the role the table is limited to (None: everyone), the column, the kind of count, the level and the
period (or ``overall``). The same count in the incident table, the pack's key table and a chart's CSV is one cell,
so it is shown or hidden the same way everywhere.

Kinds of cell:

* ``N``       the number of units of a table in a period (its top row);
* ``level``   a level of a categorical row, or the 'Yes' of a yes/no row;
* ``den``     the denominator of a row (the units whose value is known);
* ``missing`` a row outside the denominator: a missing code (-8, -9) or 'unknown';
* ``n``       the units with a number recorded (a number row's n);
* ``no``      the 'No' of a yes/no row: not printed, but its denominator minus its 'Yes' (implicit);
* ``nmiss``   the units without a number recorded (implicit: N - n);
* ``model``   a cell of the misclassification model's cross-tabulation (period x unit x outcome), whose odds
              ratios give it away, and the model's reports and events;
* ``rows``    row accounting (rows read, valid, rejected) and the pack cover's counts.

Implicit cells are never printed but follow from printed ones; a small one is protected like a printed one. The
register also keeps, for each shared item, the cells it shows (for the information-loss report).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pandas as pd

from ...scheme.codebook import Codebook
from ...scheme.config import StudyConfig
from ..compare import ComparisonTable, Spec, is_missing_level
from .families import FALSE, KNOWN, NA, TRUE, display_frame, table_specs

OVERALL = "overall"
N_COLUMN = "__N__"
CODED = ("incidents", "persons")  # populations counted from the derived tables


@dataclass(frozen=True)
class CellKey:
    """What a count counts (see the module docstring)."""

    population: str
    role: str | None
    column: str
    kind: str
    level: str = ""
    period: str = ""

    def at(self, period: str) -> CellKey:
        return CellKey(self.population, self.role, self.column, self.kind, self.level, period)

    def describe(self) -> str:
        who = self.population + (f" ({self.role})" if self.role else "")
        what = self.column if self.column != N_COLUMN else "N"
        return f"{who}: {what} {self.kind}{' ' + self.level if self.level else ''}, {self.period}"


@dataclass
class CellDef:
    """A registered count: its key, the displayed columns it reads, whether it is printed, and its value as the
    shared item computed it (checked against the register's own count). ``predicate``: for a cell that is not a
    plain row of a table (the model's), a function of the displayed-value combinations -> which count."""

    key: CellKey
    columns: tuple[str, ...]
    published: bool
    value: int
    predicate: Callable[[pd.DataFrame], np.ndarray] | None = None
    where: set[str] = field(default_factory=set)


@dataclass
class CountBlock:
    """A population known only from tables of counts (the public record): per column, per period, per level."""

    counts: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)  # column -> period -> level -> n
    order: dict[str, list[str]] = field(default_factory=dict)


class Register:
    """Every shared count (:meth:`add_table`, :meth:`add_model`, :meth:`add_accounting`, :meth:`add_count`) and
    the unit-level data to count the combinations behind them (``units``: the derived ``incidents`` and
    ``persons`` tables)."""

    def __init__(self, cb: Codebook, cfg: StudyConfig, units: dict[str, pd.DataFrame] | None = None):
        self.cb, self.cfg = cb, cfg
        self.units = {k: v for k, v in (units or {}).items() if k in CODED}
        self.cells: dict[CellKey, CellDef] = {}
        self.items: dict[str, list[CellKey]] = {}
        self._item_keys: dict[str, set[CellKey]] = {}  # the keys of each item's list, for a fast membership test
        self.blocks: dict[str, CountBlock] = {}
        self._specs: dict[str, dict[str, Spec]] = {}
        self.roles_scoped: set[str] = set()  # roles with role tables or role charts
        # zeros a role table says by leaving a yes/no row out: known to a reader even where the role's column is
        # withheld ('not shown'), since the row's absence shows whatever the column prints
        self.absent_rows: set[CellKey] = set()

    # --- specs and displayed values ---------------------------------------------------------------------------

    def specs(self, population: str) -> dict[str, Spec]:
        if population not in self._specs:
            if population in CODED:
                data = self.require_units(population)
                self._specs[population] = {s.column: s for s in table_specs(population, data, self.cb)}
            else:
                self._specs[population] = {}
        return self._specs[population]

    def require_units(self, population: str) -> pd.DataFrame:
        if population not in self.units:
            raise ValueError(f"disclosure control needs the derived {population} table to protect tables of "
                             f"{population} (Publication.units); none was given")
        return self.units[population]

    @property
    def periods(self) -> tuple[str, str]:
        a, b = self.cfg.period_codes
        return a, b

    # --- adding cells -----------------------------------------------------------------------------------------

    def add(self, cell: CellDef, item: str | None) -> None:
        old = self.cells.get(cell.key)
        if old is None:
            self.cells[cell.key] = cell
            old = cell
        else:
            if old.value != cell.value:
                raise ValueError(f"two shared items give different values for one count ({cell.key.describe()}): "
                                 f"{old.value} and {cell.value}")
            old.published = old.published or cell.published
        if item is not None:
            old.where.add(item)
            keys = self._item_keys.setdefault(item, set())
            self.items.setdefault(item, [])
            if cell.key not in keys:
                keys.add(cell.key)
                self.items[item].append(cell.key)

    def add_table(self, ct: ComparisonTable, item: str | None) -> None:
        """Every count of a before/after table (and its implicit 'No' and number-missing counts)."""
        if isinstance(ct.role, (list, tuple)):
            raise ValueError("disclosure control supports tables of everyone or of one role, not of several roles")
        population = self.population_of(ct)
        role = ct.role if population in CODED else None
        if role is not None:
            self.roles_scoped.add(role)
        a, b = self.periods
        periods = (a, b, OVERALL)
        if population not in CODED:
            self._count_block(population, ct, role)
        for g in periods:
            n = ct.group_n[g] if g != OVERALL else ct.group_n[a] + ct.group_n[b]
            self.add(CellDef(CellKey(population, role, N_COLUMN, "N", "", g), (), True, int(n)), item)
        for col, block in ct.rows.groupby("column", sort=False):
            for cell in self._block_cells(population, role, col, block, periods, ct):
                self.add(cell, item)
        if role is not None and population in CODED:
            self._empty_rows(population, role, ct, item)

    def population_of(self, ct: ComparisonTable) -> str:
        """The register's name for what ``ct`` counts: its codebook table when the derived data is at hand,
        else a population of its own, known only from the table's counts."""
        if ct.table in self.units and self._whole_population(ct):
            return ct.table
        return f"counts:{ct.population}"

    def _whole_population(self, ct: ComparisonTable) -> bool:
        """Whether ``ct`` counts everyone of its table (or of its role) in each period; a table of a subset (the
        outcomes tables: people with a DA or court outcome) is a population of its own, known from its counts."""
        if ct.table not in CODED:
            return False
        role = ct.role if isinstance(ct.role, str) else None
        return all(self._group_size(ct.table, role, g) == int(ct.group_n[g]) for g in self.periods)

    def _block_cells(self, population: str, role: str | None, col: str, block: pd.DataFrame,
                     periods: tuple[str, ...], ct: ComparisonTable) -> list[CellDef]:
        first = block.iloc[0]
        kind = first["kind"]
        spec = self.specs(population).get(col)
        out = []

        def cell(k: str, level: str, g: str, value, published: bool = True) -> CellDef:
            return CellDef(CellKey(population, role, col, k, level, g), (col,), published, int(value))

        rows = {str(r["level"]): r for _, r in block.iterrows()}
        for g in periods:
            if kind == "number":
                n = int(first[f"N_{g}"])
                out.append(cell("n", "", g, n))
                continue
            level_rows = [r for r in rows.values() if r["row_type"] == "level"]
            den = int(level_rows[0][f"N_{g}"]) if level_rows else 0
            if kind == "binary":
                yes = level_rows[0]
                out.append(cell("level", TRUE, g, yes[f"n_{g}"]))
                out.append(cell("no", FALSE, g, den - int(yes[f"n_{g}"]), published=False))
                missing = ([c for c, _ in spec.levels] if spec is not None and spec.levels else ["unknown"])
            else:
                levels = ([c for c, _ in spec.levels if not is_missing_level(c)] if spec is not None
                          else [lv for lv, r in rows.items() if r["row_type"] == "level"])
                for lv in levels:
                    out.append(cell("level", lv, g, rows[lv][f"n_{g}"] if lv in rows else 0))
                missing = ([c for c, _ in spec.levels if is_missing_level(c)] if spec is not None
                           else [lv for lv, r in rows.items() if r["row_type"] == "missing"])
            out.append(cell("den", "", g, den))
            for m in missing:
                out.append(cell("missing", m, g, rows[m][f"n_{g}"] if m in rows else 0))
        if kind == "number":
            out += self._number_missing(population, role, col, block, periods, ct)
        return out

    def _number_missing(self, population, role, col, block, periods, ct) -> list[CellDef]:
        out = []
        a, b = self.periods
        for g in periods:
            total = self._group_size(population, role, g)
            if total is None:
                total = ct.group_n[g] if g != OVERALL else ct.group_n[a] + ct.group_n[b]
            out.append(CellDef(CellKey(population, role, col, "nmiss", "", g), (col,), False,
                               int(total - int(block.iloc[0][f"N_{g}"]))))
        return out

    def _group_size(self, population: str, role: str | None, g: str) -> int | None:
        if population not in CODED:
            return None
        d = self.require_units(population)
        m = np.ones(len(d), dtype=bool)
        if role is not None:
            m &= self._as_text(population, "role") == role
        if g != OVERALL:
            m &= self._as_text(population, "period") == g
        return int(m.sum())

    def _as_text(self, population: str, column: str) -> np.ndarray:
        """A column of the population's units as text (made once: the tables ask for group sizes many times)."""
        cache = self.__dict__.setdefault("_text_columns", {})
        if (population, column) not in cache:
            cache[(population, column)] = self.require_units(population)[column].astype(str).to_numpy()
        return cache[(population, column)]

    def _empty_rows(self, population: str, role: str, ct: ComparisonTable, item: str | None) -> None:
        """A role table leaves out yes/no rows with no one in either period: that says their 'Yes' is 0."""
        d = self.require_units(population)
        in_role = d["role"].astype(str) == role
        shown = set(ct.rows["column"])
        for col, sp in self.specs(population).items():
            if sp.kind != "binary" or col in shown:
                continue
            yes = (d.loc[in_role, col].astype(object) == sp.true_value)
            if yes.any():
                continue
            for g in (*self.periods, OVERALL):
                key = CellKey(population, role, col, "level", TRUE, g)
                self.add(CellDef(key, (col,), True, 0), item)
                self.absent_rows.add(key)

    def _count_block(self, population: str, ct: ComparisonTable, role: str | None) -> None:
        """A table whose units are not at hand: each variable's displayed values and their counts per period, from
        the table itself (a yes/no's 'No' is its denominator minus its 'Yes'; a number's missing, N minus n)."""
        blk = self.blocks.setdefault(population, CountBlock())
        specs = self._specs.setdefault(population, {})
        a, b = self.periods
        for col, block in ct.rows.groupby("column", sort=False):
            if col in blk.counts:
                continue
            first = block.iloc[0]
            kind, label = first["kind"], str(first["label"])
            counts: dict[str, dict[str, int]] = {}
            for g in (a, b):
                n_g = ct.group_n[g]
                if kind == "number":
                    counts[g] = {KNOWN: int(first[f"N_{g}"]), NA: int(n_g - first[f"N_{g}"])}
                    continue
                c: dict[str, int] = {}
                for _, r in block.iterrows():
                    lv = str(r["level"])
                    if kind == "binary" and r["row_type"] == "level":
                        c[TRUE] = int(r[f"n_{g}"])
                        c[FALSE] = int(r[f"N_{g}"]) - int(r[f"n_{g}"])
                    else:
                        c[NA if lv == "unknown" else lv] = int(r[f"n_{g}"])
                counts[g] = c
            blk.counts[col] = counts
            blk.order[col] = list(dict.fromkeys(v for g in (a, b) for v in counts[g]))
            if kind == "number":
                specs[col] = Spec(col, label, "number", col)
            elif kind == "binary":
                miss = tuple((str(r["level"]), str(r["level_label"])) for _, r in block.iterrows()
                             if r["row_type"] == "missing" and str(r["level"]) != "unknown")
                specs[col] = Spec(col, label, "binary", col, miss, TRUE, FALSE)
            else:
                specs[col] = Spec(col, label, "category", col,
                                  tuple((str(r["level"]), str(r["level_label"])) for _, r in block.iterrows()))

    def add_model(self, result, item: str | None, *, published: bool | None = None) -> None:
        """The misclassification model's cross-tabulation: reports and events per period x unit (per period only
        for the crude model, ``outcome ~ period``), whose odds ratios and intervals give them away, and its
        reports and events in all. ``published`` (default: when no cell is from 1 to threshold - 1): whether the
        model's estimates are to be shown; if not, its cells are registered as implicit counts."""
        outcome = result.outcome
        crude = "unit" not in result.formula
        thr = self.cfg.suppression_threshold
        if published is None:
            published = not any(0 < v < thr for r in result.cells.itertuples() for v in (r.events, r.n - r.events))
            if crude:
                per = result.cells.groupby("period", observed=False)[["n", "events"]].sum()
                published = not any(0 < v < thr for r in per.itertuples() for v in (r.events, r.n - r.events))
        col, true_value = _outcome_column(outcome, self.specs("incidents"))
        unit_cols = ("investigating_unit__vice", "investigating_unit__svu", "investigating_unit__district_station",
                     "investigating_unit__other")
        columns = (col,) if crude else unit_cols + (col,)
        name = f"model:{outcome}" + (":crude" if crude else "")

        def unit_of(combos: pd.DataFrame) -> np.ndarray:
            vice, svu, dist, other = ((combos[c] == TRUE).to_numpy() for c in unit_cols)
            spec = vice | svu
            local = ~spec & (dist | other)
            return np.where(spec, "specialised", np.where(local, "district_other", ""))

        def pred(unit: str | None, y: str | None) -> Callable[[pd.DataFrame], np.ndarray]:
            def f(combos: pd.DataFrame) -> np.ndarray:
                u = np.full(len(combos), "all") if crude else unit_of(combos)
                out = (u != "") & combos[col].isin([TRUE, FALSE]).to_numpy()
                if unit is not None:
                    out &= u == unit
                if y is not None:
                    out &= (combos[col] == y).to_numpy()
                return out
            return f

        cells = result.cells
        if crude:
            cells = cells.groupby("period", observed=False, sort=False)[["n", "events"]].sum().reset_index()
            cells["unit"] = "all"
        for r in cells.itertuples():
            for y, value in ((TRUE, r.events), (FALSE, r.n - r.events)):
                key = CellKey("incidents", None, name, "model", f"{r.unit}|{y}", str(r.period))
                self.add(CellDef(key, columns, published, int(value), pred(None if crude else r.unit, y)), item)
        self.add(CellDef(CellKey("incidents", None, name, "model", "n", OVERALL), columns, published,
                         int(result.n), pred(None, None)), item)
        self.add(CellDef(CellKey("incidents", None, name, "model", "events", OVERALL), columns, published,
                         int(result.events), pred(None, TRUE)), item)
        del true_value

    def add_accounting(self, frame: pd.DataFrame, item: str | None, columns: tuple[str, ...]) -> None:
        """Row accounting (rows read, valid and rejected per table): read = valid + rejected."""
        for _, r in frame.iterrows():
            for c in columns:
                self.add(CellDef(CellKey("rows", None, str(r["table"]), c), (), True, int(r[c])), item)

    def add_count(self, key: CellKey, value: int, item: str | None) -> None:
        """A single count shown in text (the pack's cover): it must be one of the register's kinds."""
        self.add(CellDef(key, (), True, int(value)), item)


def _outcome_column(outcome: str, specs: dict[str, Spec]) -> tuple[str, object]:
    if outcome in specs:
        return outcome, True
    base = outcome.removesuffix("_yes")
    if base in specs and specs[base].kind == "binary":
        return base, specs[base].true_value
    raise ValueError(f"the model's outcome {outcome!r} is not a column of the incident tables")


def displayed(register: Register, population: str, columns: list[str]) -> pd.DataFrame:
    """The displayed values of the population's units for ``columns`` (with ``period`` and, for people, ``role``)."""
    d = register.require_units(population)
    specs = register.specs(population)
    out = display_frame(d, [specs[c] for c in columns])
    out["period"] = d["period"].astype(str).to_numpy()
    if population == "persons":
        out["role"] = d["role"].astype(str).to_numpy()
    return out


__all__ = ["CODED", "N_COLUMN", "OVERALL", "CellDef", "CellKey", "Register", "displayed", "NA"]
