"""What a shared table may print, cell by cell, from the protected register.

Every shared number is a registered count or a statistic of registered counts. A count prints when the register
says it is shown; a hidden one prints as ``suppressed`` (one uniform marker: a reader cannot tell a small count
from a complementary one); the column of a role in a period with too few people prints ``not shown``. A statistic
prints only when every count it is computed from prints:

* a percentage and its interval: the count and its denominator;
* a difference (and its interval) of a yes/no row: the 'Yes' and the denominator in both periods;
* a test, its name and its p-value: every count of the variable's row block in both periods (levels and
  denominators; for a number, its n in both periods);
* a q-value: adjusted over the tests the table prints (the family is the printed tests, so a published q can be
  reproduced from the published p-values);
* the misclassification model's estimates: every cell of its cross-tabulation.

Merged levels (:class:`~.protect.Merge`) replace their levels in every table: the merged row's count is the sum,
its percentage the sum of the percentages, and a categorical test is recomputed on the merged table.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from ...stats.inference import adjust_pvalues, categorical_test
from ..compare import ComparisonTable
from .families import FALSE, TRUE
from .protect import Merge, Protection
from .register import CODED, N_COLUMN, OVERALL, CellKey, displayed

SUPPRESSED = "suppressed"
WITHHELD = "not shown"


def scope(ct: ComparisonTable, protection: Protection) -> tuple[str, str | None]:
    """(population, role) of a table's cells in ``protection``'s register."""
    pop = protection.register.population_of(ct)
    return pop, (ct.role if pop in CODED else None)


def apply_merges(ct: ComparisonTable, protection: Protection) -> ComparisonTable:
    """``ct`` with every merge the protection chose: merged levels as one row (first level's place), its count,
    denominator and percentage summed, the categorical test recomputed on the merged levels."""
    pop, _ = scope(ct, protection)
    rows = ct.rows
    if not any(protection.merges_for(pop, c) for c in rows["column"].unique()):
        return ct
    a, b = ct.groups
    out = []
    for col, block in rows.groupby("column", sort=False):
        merges = protection.merges_for(pop, col)
        if not merges:
            out.append(block)
            continue
        out.append(_merge_block(block, merges, (a, b)))
    new = dataclasses.replace(ct, rows=pd.concat(out, ignore_index=True))
    return new


def _merge_block(block: pd.DataFrame, merges: list[Merge], groups: tuple[str, str]) -> pd.DataFrame:
    periods = groups + (OVERALL,)
    records = block.to_dict("records")
    first_of = {m.levels[0]: m for m in merges}
    merged_levels = {lv for m in merges for lv in m.levels}
    out = []
    for r in records:
        lv = str(r["level"])
        if lv in first_of:
            m = first_of[lv]
            parts = [x for x in records if str(x["level"]) in m.levels]
            new = dict(r, level=m.key_level, level_label=m.label)
            for g in periods:
                new[f"n_{g}"] = sum(int(x[f"n_{g}"]) for x in parts)
                new[f"pct_{g}"] = sum(float(x.get(f"pct_{g}", np.nan)) for x in parts)
            out.append(new)
        elif lv not in merged_levels:
            out.append(dict(r))
    out[0]["label"] = records[0]["label"]
    for k in ("test", "p_value", "note", "q_value"):
        if k in records[0]:
            out[0][k] = records[0][k]
    substantive = [r for r in out if r["row_type"] == "level"]
    if substantive and isinstance(records[0].get("test"), str):
        t = categorical_test(np.array([[int(r[f"n_{g}"]) for g in groups] for r in substantive]))
        out[0]["test"], out[0]["p_value"] = t.test, t.p_value
    return pd.DataFrame(out)


class Shown:
    """Look-ups for one table: which counts and statistics print."""

    def __init__(self, ct: ComparisonTable, protection: Protection):
        self.ct, self.protection = ct, protection
        self.population, self.role = scope(ct, protection)

    def key(self, column: str, kind: str, level: str, period: str) -> CellKey:
        return CellKey(self.population, self.role, column, kind, level, period)

    def state(self, column: str, kind: str, level: str, period: str) -> str:
        return self.protection.state(self.key(column, kind, level, period))

    def marker(self, column: str, kind: str, level: str, period: str) -> str | None:
        """None when the count prints, else the text that stands in for it."""
        st = self.state(column, kind, level, period)
        if st == "shown":
            return None
        return WITHHELD if st == "withheld" else SUPPRESSED

    def n_marker(self, period: str) -> str | None:
        return self.marker(N_COLUMN, "N", "", period)

    def row_level(self, row) -> tuple[str, str]:
        """(kind, level) of a row's count in the register."""
        if row["row_type"] == "missing":
            return "missing", str(row["level"])
        if row["kind"] == "binary":
            return "level", TRUE
        return "level", str(row["level"])

    def block_prints(self, block: pd.DataFrame, periods: tuple[str, ...]) -> bool:
        """Every count the block's test or difference is computed from prints, in ``periods``."""
        col = block.iloc[0]["column"]
        kind = block.iloc[0]["kind"]
        for g in periods:
            if kind == "number":
                if self.marker(col, "n", "", g) is not None:
                    return False
                continue
            if self.marker(col, "den", "", g) is not None:
                return False
            for _, r in block.iterrows():
                if r["row_type"] != "level":
                    continue
                k, lv = self.row_level(r)
                if self.marker(col, k, lv, g) is not None:
                    return False
        return True

    def tests(self) -> dict[str, bool]:
        """column -> whether its test prints (in a weighted table, only where :meth:`weighted_prints`)."""
        a, b = self.ct.groups
        return {col: self.block_prints(block, (a, b)) and self.weighted_prints(col)
                for col, block in self.ct.rows.groupby("column", sort=False)}

    def weighted_prints(self, column: str) -> bool:
        """Whether a weighted table may print its estimates of ``column`` (percentages, change, test, q): only when
        none of the counts behind them is from 1 to t-1 in any sampled year. Each year has its own weight, so a
        weighted percentage narrows how a period's count splits between its years, which no table shows and the
        protection of the counts per period does not cover (with the frame and the reports sampled per year a
        reader can work such a count out). Its counts still print, as n/N. An unweighted table: always."""
        if not self.ct.weighted:
            return True
        cache = self.__dict__.setdefault("_weighted", {})
        if column not in cache:
            cache[column] = self._no_small_count_in_a_year(column)
        return cache[column]

    def _no_small_count_in_a_year(self, column: str) -> bool:
        reg = self.protection.register
        if self.population not in reg.units or column not in reg.specs(self.population):
            return False  # no units to count by year (not a table of reports or people): not printed
        units = reg.require_units(self.population)
        values = displayed(reg, self.population, [column])
        keep = np.ones(len(units), dtype=bool)
        if self.role is not None:
            keep = values["role"].to_numpy() == str(self.role)
        if not keep.any():  # no unit to count (a role no one has): not printed, rather than nothing to object to
            return False
        years = units["report_year"].astype(str).to_numpy()[keep]
        counts = pd.crosstab(years, values[column].astype(str).to_numpy()[keep]).to_numpy()
        return not ((counts > 0) & (counts < reg.cfg.suppression_threshold)).any()

    def q_values(self, allowed: dict[str, bool] | None = None) -> dict[str, float]:
        """q-values adjusted over the printed tests only (table order); ``allowed``: :meth:`tests`, when made."""
        allowed = self.tests() if allowed is None else allowed
        cols, ps = [], []
        for col, block in self.ct.rows.groupby("column", sort=False):
            p = block.iloc[0].get("p_value", np.nan)
            if allowed[col] and pd.notna(p):
                cols.append(col)
                ps.append(float(p))
        if not ps:
            return {}
        return dict(zip(cols, adjust_pvalues(np.array(ps), method=self.ct.adjust)))


def model_prints(result, protection: Protection) -> bool:
    """Every cell of the model's cross-tabulation (and its reports and events) prints."""
    crude = "unit" not in result.formula
    name = f"model:{result.outcome}" + (":crude" if crude else "")
    cells = [(("all" if crude else r.unit), str(r.period)) for r in result.cells.itertuples()]
    keys = [CellKey("incidents", None, name, "model", f"{u}|{y}", p) for u, p in dict.fromkeys(cells)
            for y in (TRUE, FALSE)]
    keys += [CellKey("incidents", None, name, "model", k, OVERALL) for k in ("n", "events")]
    return all(protection.state(k) == "shown" for k in keys)


__all__ = ["SUPPRESSED", "WITHHELD", "Shown", "apply_merges", "model_prints", "scope", "FALSE"]
