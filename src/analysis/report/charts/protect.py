"""The protected rows: what a chart may show of a before/after table, cell for cell the shared tables' rule.

:func:`analysis.tables.compare.protect_block` is applied to each variable's block (levels, 'not documented' rows,
the implicit 'No' of a yes/no and the denominators, with the overall column a table reader also sees). A value
whose count, complementary count ('No'), or denominator is hidden is never drawn: the chart shows the words
"suppressed (<5)" (a count from 1 to 4) or "suppressed" (hidden so a small count cannot be worked out) where the
mark would be, and the CSV holds ``<5`` / ``suppressed`` instead of the number. Differences, p- and q-values of a
variable with any hidden cell are left blank.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ...scheme.config import StudyConfig
from ...tables.compare import ComparisonTable, protect_block
from .style import SUPPRESSED, _data_label, _fmt_pct


@dataclass
class _Cell:
    n: int
    N: float
    pct: float
    lo: float
    hi: float
    hidden: bool  # the value (share) cannot be shown
    small: bool  # the count itself is 1 .. threshold-1
    count_hidden: bool  # the count cannot be shown
    den_hidden: bool

    def mark(self, thr: int) -> str:
        return f"{SUPPRESSED} (<{thr})" if self.small else SUPPRESSED


@dataclass
class _Row:
    column: str
    level: str
    label: str
    cells: dict[str, _Cell]
    any_hidden: bool
    diff: tuple[float, float, float] = (math.nan, math.nan, math.nan)
    p: float = math.nan
    q: float = math.nan
    test: str = ""
    outside: dict[str, tuple[int, bool]] = field(default_factory=dict)  # period -> (count outside N, hidden)


def _num(x) -> float:
    try:
        return float(x)
    except (TypeError, ValueError):
        return math.nan


def _protected_rows(ct: ComparisonTable, thr: int) -> list[_Row]:
    """The rows of a comparison table with what the shared table hides (the rule of compare.display)."""
    a, b = ct.groups
    out: list[_Row] = []
    for col, block in ct.rows.groupby("column", sort=False):
        shown = list(block.itertuples(index=False))
        first = shown[0]
        if first.kind == "number":
            continue
        counts = [[int(getattr(x, f"n_{a}")), int(getattr(x, f"n_{b}"))] for x in shown]
        kinds = ["missing" if x.row_type == "missing" else "level" for x in shown]
        binary = first.kind == "binary"
        if binary:
            counts.append([int(getattr(first, f"N_{a}")) - int(getattr(first, f"n_{a}")),
                           int(getattr(first, f"N_{b}")) - int(getattr(first, f"n_{b}"))])
            kinds.append("implicit")
        hidden = protect_block(np.array(counts, dtype=np.int64), kinds, thr)
        k = len(kinds)
        den_hidden = hidden[k]
        outside = {}
        for j, g in enumerate((a, b)):
            miss = [i for i, t in enumerate(kinds) if t == "missing"]
            outside[g] = (sum(counts[i][j] for i in miss), bool(any(hidden[i, j] for i in miss)))
        level_rows = [i for i, t in enumerate(kinds) if t == "level"]
        for i in level_rows:
            x = shown[i]
            cells = {}
            for j, g in enumerate((a, b)):
                n = int(getattr(x, f"n_{g}"))
                cnt_hidden = bool(hidden[i, j])
                val_hidden = cnt_hidden or bool(den_hidden[j]) or (binary and bool(hidden[k - 1, j]))
                cells[g] = _Cell(n=n, N=_num(getattr(x, f"N_{g}")), pct=_num(getattr(x, f"pct_{g}", math.nan)),
                                 lo=_num(getattr(x, f"ci_low_{g}", math.nan)),
                                 hi=_num(getattr(x, f"ci_high_{g}", math.nan)),
                                 hidden=val_hidden, small=0 < n < thr, count_hidden=cnt_hidden,
                                 den_hidden=bool(den_hidden[j]))
            row = _Row(column=col, level=str(x.level), label=str(x.label if binary else x.level_label), cells=cells,
                       any_hidden=bool(hidden.any()), outside=outside)
            if binary and not row.any_hidden:
                row.diff = (_num(getattr(x, "diff_pp", math.nan)), _num(getattr(x, "diff_low", math.nan)),
                            _num(getattr(x, "diff_high", math.nan)))
                row.p, row.q = _num(getattr(x, "p_value", math.nan)), _num(getattr(x, "q_value", math.nan))
                row.test = x.test if isinstance(getattr(x, "test", ""), str) else ""
            out.append(row)
    return out


def _cell_values(c: _Cell, thr: int, *, ci: bool = True) -> dict[str, object]:
    """The CSV cells of one period: numbers, or '<5' / 'suppressed' where hidden."""
    if c.count_hidden:
        n: object = f"<{thr}" if c.small else SUPPRESSED
    else:
        n = c.n
    d = {"n": n, "N": SUPPRESSED if c.den_hidden else (int(c.N) if c.N == c.N else "")}
    keys = ("pct", "ci_low", "ci_high") if ci else ("pct",)
    vals = {"pct": c.pct, "ci_low": c.lo, "ci_high": c.hi}
    for k in keys:
        d[k] = SUPPRESSED if c.hidden else ("" if vals[k] != vals[k] else float(vals[k]))
    return d


def _wide(rows: list[_Row], groups: tuple[str, ...], thr: int, *, ci: bool = True, stats: bool = True,
          extra: dict[str, list] | None = None) -> pd.DataFrame:
    recs = []
    for i, r in enumerate(rows):
        rec: dict[str, object] = {}
        for k, v in (extra or {}).items():
            rec[k] = v[i]
        for g in groups:
            for k, v in _cell_values(r.cells[g], thr, ci=ci).items():
                rec[f"{k}_{g}"] = v
        if stats:
            blank = r.any_hidden
            for k, v in zip(("diff_pp", "diff_low", "diff_high"), r.diff):
                rec[k] = "" if blank or v != v else float(v)
            rec["p_value"] = "" if blank or r.p != r.p else float(r.p)
            rec["q_value"] = "" if blank or r.q != r.q else float(r.q)
            rec["test"] = "" if blank else r.test
        recs.append(rec)
    return pd.DataFrame(recs)


def _suppression_note(rows: list[_Row], thr: int) -> list[str]:
    if any(r.any_hidden for r in rows):
        return [f"Suppressed: counts from 1 to {thr - 1}, and values that would let them be worked out, are not "
                "shown (the shared tables' rule)."]
    return []


def _outside_note(rows: list[_Row], cfg: StudyConfig, thr: int, unit: str, what: str) -> str:
    """'Not documented: 16 reports before and 12 after, left out of the shares.' with suppression."""
    a, b = cfg.period_codes
    if not rows:
        return ""
    shown = []
    for g in (a, b):
        n, hidden = rows[0].outside.get(g, (0, False))
        shown.append((f"<{thr}" if 0 < n < thr else SUPPRESSED) if hidden else f"{n:,}")
    if all(rows[0].outside.get(g, (0, False))[0] == 0 for g in (a, b)):
        return ""
    return f"{what}: {shown[0]} {unit} before and {shown[1]} after, left out of the shares."


def _value_text(c: _Cell, thr: int, *, n: bool = True) -> str:
    if c.hidden:
        return c.mark(thr)
    if not (c.N == c.N and c.N > 0):
        return "no one in this period"
    return f"{_fmt_pct(c.pct)} ({c.n:,}/{int(c.N):,})" if n else _fmt_pct(c.pct)


def _category_data(rows: list[_Row], cfg: StudyConfig, thr: int, variable: str, missing_label: str,
                   synthetic: bool) -> pd.DataFrame:
    """The CSV of a categorical chart: one row per level, then the 'not documented' row (counts only)."""
    a, b = cfg.period_codes
    data = _wide(rows, (a, b), thr, ci=False, stats=False,
                 extra={"level": [r.level for r in rows], "label": [r.label for r in rows]})
    nd_row: dict[str, object] = {"level": "-8", "label": missing_label}
    for g in (a, b):
        n, hidden = rows[0].outside[g]
        nd_row.update({f"n_{g}": (f"<{thr}" if 0 < n < thr else SUPPRESSED) if hidden else n, f"N_{g}": "",
                       f"pct_{g}": ""})
    if any(rows[0].outside[g][0] for g in (a, b)):
        data = pd.concat([data, pd.DataFrame([nd_row])], ignore_index=True)
    data.insert(0, "variable", variable)
    data.insert(0, "data", _data_label(synthetic))
    return data


def _largest_shift(rows: list[_Row], cfg: StudyConfig) -> _Row | None:
    """The level whose share moved most between the periods (both values visible): a computed fact."""
    a, b = cfg.period_codes
    vis = [r for r in rows if not (r.cells[a].hidden or r.cells[b].hidden)]
    return max(vis, key=lambda r: abs(r.cells[a].pct - r.cells[b].pct)) if vis else None
