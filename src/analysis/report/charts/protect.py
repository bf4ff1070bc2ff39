"""The protected rows: what a chart may show of a before/after table, taken from the protected register.

A chart never decides its own suppression: every count it draws is a registered count
(:mod:`analysis.tables.disclosure`), and the chart shows it, hides it or says 'not shown' exactly as the shared
tables do (``protection``, the publication's; a chart drawn on its own is protected with its own tables). A value
whose count or denominator is hidden is never drawn: the chart shows the word "suppressed" where the mark would be
(or "not shown" for a role's column with too few people), and the CSV holds that word instead of the number.
Differences, p- and q-values are shown only where the table prints them; merged levels are one row.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd

from ...scheme.config import StudyConfig
from ...tables.compare import ComparisonTable
from ...tables.disclosure.show import SUPPRESSED as _HIDDEN
from ...tables.disclosure.show import WITHHELD, Shown, apply_merges
from .style import SUPPRESSED, _data_label, _fmt_pct


@dataclass
class _Cell:
    n: int
    N: float
    pct: float
    lo: float
    hi: float
    hidden: bool  # the value (share) cannot be shown
    count_hidden: bool  # the count cannot be shown
    den_hidden: bool
    word: str = SUPPRESSED  # what stands in for a hidden value ('suppressed' or 'not shown')

    def mark(self, thr: int | None = None) -> str:
        return self.word


@dataclass
class _Row:
    column: str
    level: str
    label: str
    cells: dict[str, _Cell]
    any_hidden: bool  # its statistics (difference, test) are not shown
    diff: tuple[float, float, float] = (math.nan, math.nan, math.nan)
    p: float = math.nan
    q: float = math.nan
    test: str = ""
    outside: dict[str, tuple[int, bool, str]] = field(default_factory=dict)  # period -> (count, hidden, word)


def _num(x) -> float:
    try:
        return float(x)
    except (TypeError, ValueError):
        return math.nan


def protection_for(cts: list[ComparisonTable], protection, threshold: int | None = None, units=None):
    """The publication's protection, or (a chart drawn on its own) one made for its own tables."""
    if protection is not None:
        return protection
    from ...tables.disclosure import protect_tables

    return protect_tables(cts, threshold=threshold, units=units, check_ranges=False)


def _protected_rows(ct: ComparisonTable, thr: int, protection=None) -> list[_Row]:
    """The rows of a comparison table with what the shared tables print of them."""
    protection = protection_for([ct], protection, thr)
    family = ct.q_family
    ct = apply_merges(ct, protection)
    shown = Shown(ct, protection)
    tests = shown.tests()
    qs = shown.q_values()
    if family is not None:  # the q the standard table prints (one adjustment family per table, one q per row)
        try:
            qs = Shown(apply_merges(family, protection), protection).q_values()
        except KeyError:  # the standard table is not in this protection (a chart protected on its own)
            pass
    a, b = ct.groups
    out: list[_Row] = []
    for col, block in ct.rows.groupby("column", sort=False):
        rows = block.to_dict("records")
        first = rows[0]
        if first["kind"] == "number":
            continue
        binary = first["kind"] == "binary"
        outside = {}
        for g in (a, b):
            miss = [r for r in rows if r["row_type"] == "missing"]
            marks = [shown.marker(col, "missing", str(r["level"]), g) for r in miss]
            word = next((m for m in marks if m), "")
            outside[g] = (sum(int(r[f"n_{g}"]) for r in miss), any(marks), word)
        for x in rows:
            if x["row_type"] != "level":
                continue
            kind, level = shown.row_level(x)
            cells = {}
            for g in (a, b):
                cm = shown.marker(col, kind, level, g)
                dm = shown.marker(col, "den", "", g)
                cells[g] = _Cell(n=int(x[f"n_{g}"]), N=_num(x.get(f"N_{g}")), pct=_num(x.get(f"pct_{g}", math.nan)),
                                 lo=_num(x.get(f"ci_low_{g}", math.nan)), hi=_num(x.get(f"ci_high_{g}", math.nan)),
                                 hidden=cm is not None or dm is not None, count_hidden=cm is not None,
                                 den_hidden=dm is not None, word=_word(cm or dm))
            ok = tests.get(col, False)
            row = _Row(column=col, level=str(x["level"]), label=str(x["label"] if binary else x["level_label"]),
                       cells=cells, any_hidden=not ok, outside=outside)
            if binary and ok:
                row.diff = (_num(x.get("diff_pp", math.nan)), _num(x.get("diff_low", math.nan)),
                            _num(x.get("diff_high", math.nan)))
                row.p, row.q = _num(first.get("p_value", math.nan)), _num(qs.get(col, math.nan))
                row.test = first["test"] if isinstance(first.get("test", ""), str) else ""
            out.append(row)
    return out


def _word(marker: str | None) -> str:
    return WITHHELD if marker == WITHHELD else SUPPRESSED if marker in (_HIDDEN, None) else marker


def n_text(ct: ComparisonTable, g: str, protection=None) -> str:
    """A chart panel's n for period ``g``: the table's N as the shared table prints it."""
    protection = protection_for([ct], protection)
    m = Shown(ct, protection).n_marker(g)
    return _word(m) if m else f"{ct.group_n[g]:,}"


def _cell_values(c: _Cell, thr: int, *, ci: bool = True) -> dict[str, object]:
    """The CSV cells of one period: numbers, or the word standing in for them where hidden."""
    n: object = c.word if c.count_hidden else c.n
    d = {"n": n, "N": c.word if c.den_hidden else (int(c.N) if c.N == c.N else "")}
    keys = ("pct", "ci_low", "ci_high") if ci else ("pct",)
    vals = {"pct": c.pct, "ci_low": c.lo, "ci_high": c.hi}
    for k in keys:
        d[k] = c.word if c.hidden else ("" if vals[k] != vals[k] else float(vals[k]))
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
                rec[k] = SUPPRESSED if blank else ("" if v != v else float(v))
            rec["p_value"] = SUPPRESSED if blank else ("" if r.p != r.p else float(r.p))
            rec["q_value"] = SUPPRESSED if blank else ("" if r.q != r.q else float(r.q))
            rec["test"] = SUPPRESSED if blank else r.test
        recs.append(rec)
    return pd.DataFrame(recs)


def _suppression_note(rows: list[_Row], thr: int) -> list[str]:
    notes = []
    if any(c.hidden and c.word == SUPPRESSED for r in rows for c in r.cells.values()) or any(
            r.any_hidden for r in rows):
        notes.append("Suppressed: values not shown because they could identify a person (a count below "
                     f"{thr}, or one from which such a count could be worked out; the shared tables' rule).")
    if any(c.word == WITHHELD for r in rows for c in r.cells.values()):
        notes.append(f"Not shown: a role's counts left out in that period (fewer than {2 * thr} people, or counts "
                     "that would let a small count elsewhere be worked out).")
    return notes


def _outside_note(rows: list[_Row], cfg: StudyConfig, thr: int, unit: str, what: str) -> str:
    """'Not documented: 16 reports before and 12 after, left out of the shares.' as the tables print it."""
    a, b = cfg.period_codes
    if not rows:
        return ""
    shown = []
    for g in (a, b):
        n, hidden, word = rows[0].outside.get(g, (0, False, ""))
        shown.append((word or SUPPRESSED) if hidden else f"{n:,}")
    if all(rows[0].outside.get(g, (0, False, ""))[0] == 0 for g in (a, b)):
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
        n, hidden, word = rows[0].outside[g]
        nd_row.update({f"n_{g}": (word or SUPPRESSED) if hidden else n, f"N_{g}": "", f"pct_{g}": ""})
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
