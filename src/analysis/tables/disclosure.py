"""Small-cell suppression for tables that leave the project (committee tables, shared CSV files).

Pure functions: DataFrames in, DataFrames and dataclasses out; no file I/O.

The threshold is a setting of the study, not a constant: callers pass
``analysis.scheme.config.load_study_config().suppression_threshold`` (5 in the package's ``study.yaml``).

The rules (:func:`suppress_counts`)
-----------------------------------
1. **Primary suppression.** A count from 1 to ``threshold - 1`` is shown as ``"<{threshold}"`` (``"<5"``).
   Zero is shown: a zero is not a small count of people. With ``totals=True`` the row totals, column
   totals and grand total are cells of the table like any other, so a small total is suppressed too.
2. **Complementary suppression.** A *line* is a row or a column of the displayed table. With totals
   shown, a line includes its total cell, and the totals row and totals column are lines as well; without
   totals the margins are assumed to be known anyway (e.g. from group sizes printed elsewhere), and a
   one-cell line, being its own margin, is not a line. A line holding exactly one hidden cell would give
   that cell away by subtraction, so in every such line one more cell is hidden: the smallest non-zero
   visible cell of the line other than its total (ties: the first in reading order); if there is none,
   the line's total; if there is none either, a zero cell (a last resort). Rows are processed top to
   bottom, then columns left to right, and the pass is repeated until nothing changes. Complementary
   cells are shown as ``"[c]"`` ("confidential", the UK Government Statistical Service's symbol), not as
   ``"<5"``: they are not small counts.
3. **Audit.** The line rule is standard practice but not always enough. Hidden cells can still be pinned
   down by combining several rows and columns with the bounds a reader knows: two ``"<5"`` cells in a
   row whose hidden total is 2 must both be 1; a chain of hidden cells can tie one ``"<5"`` cell to
   another so that one must be 4 and the other 1; a hidden cell can bridge two otherwise separate groups
   of hidden cells. So for every primary cell the range of values consistent with everything visible is
   computed by linear programming (SciPy ``linprog``, HiGHS): every line's sum is known, ``"<5"`` cells
   lie in [1, threshold - 1], ``"[c]"`` cells are at least ``threshold`` (a hidden zero is held at 0).
   If that range holds only one whole number, one more cell is hidden: of the cells rule 2 would pick in
   the cell's row and column (or, when those are all hidden, of all visible non-zero cells), the one that
   frees the cell with the fewest hidden cells overall; then rules 2-3 are repeated. A primary cell that
   no suppression can protect (it is pinned down even with every other cell hidden) is listed in
   ``SuppressedTable.unprotected`` and left as it is; callers should not share such a table but merge
   categories instead. Examples: without totals, the rest of its row and of its column are zeros (the
   known margins give it away); with threshold 3, a row ``1, 1 | total 2`` shows ``<3, <3 | <3``, and
   two cells of at least 1 adding up to at most 2 must both be 1.

What is guaranteed: no visible count is between 1 and ``threshold - 1``; every line has 0 or at least 2
hidden cells (rule 2 can always find a second cell in a line of two or more cells); and no primary cell's
exact value follows from the displayed table and its margins, unless it is listed in ``unprotected``.
Not guaranteed: a minimum width of the range a reader can infer (a hidden cell may still be known to lie
in, say, 1-2), nor optimality (fewest cells hidden). The audit errs on the safe side: it assumes a
reader can tell a hidden zero from a hidden count of ``threshold`` or more, so it may hide a cell more
than strictly needed, or call a cell unprotectable that a reader could not quite pin down. Percentages of hidden cells must be hidden too
(:func:`suppress_percentages`), or the count can be recovered from the percentage and the group size.

Sources: Hundepool, A. et al. (2012). *Statistical Disclosure Control*, ch. 4 (primary and secondary cell
suppression, audit by linear programming). Wiley. Government Analysis Function (UK), *Symbols in tables*
guidance: ``[c]`` for confidential information.
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import linprog

__all__ = [
    "COMPLEMENTARY_MARKER",
    "SuppressedTable",
    "suppress_counts",
    "suppress_percentages",
    "check_no_small_cells",
]

#: How a complementary (secondary) suppression is shown.
COMPLEMENTARY_MARKER: str = "[c]"


@dataclass(frozen=True)
class SuppressedTable:
    """A count table made safe to share, and how it was made so.

    ``display``: strings, ready to write (with a ``Total`` row and column when ``totals=True``).
    ``mask``: True where a cell is hidden; ``primary`` / ``complementary`` split the mask by reason.
    ``counts``: the underlying numbers, same shape as ``display`` (internal use only: never share).
    ``unprotected``: (row, column) labels of primary cells that no suppression could protect (module
    docstring, rule 3); when it is not empty, ``safe`` is False and the table should not be shared.
    ``footnote``: text to print under the table.
    """

    display: pd.DataFrame
    mask: pd.DataFrame
    primary: pd.DataFrame
    complementary: pd.DataFrame
    counts: pd.DataFrame
    threshold: int
    totals: bool
    unprotected: tuple[tuple[Hashable, Hashable], ...] = field(default_factory=tuple)
    footnote: str = ""

    @property
    def safe(self) -> bool:
        """True when every hidden small count is protected (``unprotected`` is empty)."""
        return not self.unprotected

    @property
    def n_primary(self) -> int:
        return int(self.primary.to_numpy().sum())

    @property
    def n_complementary(self) -> int:
        return int(self.complementary.to_numpy().sum())


# --------------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------------


def _threshold(threshold: Any) -> int:
    if isinstance(threshold, bool) or not isinstance(threshold, numbers.Integral) or int(threshold) < 1:
        raise ValueError(
            f"threshold must be a whole number >= 1 (the study configuration's suppression_threshold); "
            f"got {threshold!r}"
        )
    return int(threshold)


def _counts_array(counts: pd.DataFrame) -> np.ndarray:
    if not isinstance(counts, pd.DataFrame):
        raise TypeError(f"counts must be a pandas DataFrame of counts; got {type(counts).__name__}")
    if counts.shape[0] == 0 or counts.shape[1] == 0:
        raise ValueError(f"counts is empty (shape {counts.shape}); nothing to suppress")
    try:
        arr = counts.to_numpy(dtype=float, na_value=np.nan)
    except (TypeError, ValueError):
        raise ValueError("counts must hold numbers only (no text such as '<5': suppress once, last)") from None
    bad = ~np.isfinite(arr) | (arr < 0) | (arr != np.round(arr))
    if bad.any():
        i, j = map(int, np.argwhere(bad)[0])
        raise ValueError(
            f"counts must be non-negative whole numbers; row {counts.index[i]!r}, column "
            f"{counts.columns[j]!r} holds {counts.iat[i, j]!r}"
        )
    return arr.astype(np.int64)


def _total_label(axis: pd.Index, label: str) -> Hashable:
    if isinstance(axis, pd.MultiIndex):
        return (label,) + ("",) * (axis.nlevels - 1)
    return label


def _append_label(axis: pd.Index, label: str) -> pd.Index:
    new = _total_label(axis, label)
    if new in axis:
        raise ValueError(f"counts already has a {label!r} row or column; pass totals=False or rename it")
    if isinstance(axis, pd.MultiIndex):
        return pd.MultiIndex.from_tuples(list(axis) + [new], names=axis.names)
    return pd.Index(list(axis) + [new], name=axis.name)


class _Grid:
    """The displayed grid's values and its lines (rows and columns whose sums a reader knows)."""

    def __init__(self, values: np.ndarray, totals: bool):
        self.values = values
        self.totals = totals
        nr, nc = values.shape
        self.lines: list[tuple[list[tuple[int, int]], tuple[int, int] | None]] = []
        # Each line: (body cells, total cell or None). Without totals, a line's sum is known from outside.
        for i in range(nr):
            cells = [(i, j) for j in range(nc)]
            self._add(cells)
        for j in range(nc):
            cells = [(i, j) for i in range(nr)]
            self._add(cells)

    def _add(self, cells: list[tuple[int, int]]) -> None:
        if self.totals:
            self.lines.append((cells[:-1], cells[-1]))
        elif len(cells) >= 2:  # a one-cell line is its own margin: nothing to protect it with
            self.lines.append((cells, None))


def _pick(grid: _Grid, hidden: np.ndarray, body: list[tuple[int, int]], total: tuple[int, int] | None):
    """The cell to hide next in a line: smallest visible non-zero body cell, else the total, else a zero."""
    vals = grid.values
    visible = [c for c in body if not hidden[c]]
    nonzero = [c for c in visible if vals[c] > 0]
    if nonzero:
        return min(nonzero, key=lambda c: (vals[c], c))
    if total is not None and not hidden[total] and vals[total] > 0:
        return total
    zeros = [c for c in visible if vals[c] == 0]
    return zeros[0] if zeros else None


def _apply_line_rule(grid: _Grid, hidden: np.ndarray) -> None:
    changed = True
    while changed:
        changed = False
        for body, total in grid.lines:
            cells = body + ([total] if total is not None else [])
            if sum(bool(hidden[c]) for c in cells) == 1:
                pick = _pick(grid, hidden, body, total)
                if pick is not None:
                    hidden[pick] = True
                    changed = True


def _bounds(grid: _Grid, hidden: np.ndarray, primary: np.ndarray, threshold: int) -> dict:
    """Bounds on each hidden cell for the audit: "<t" is 1..t-1 and "[c]" is >= t, as a reader knows.

    A reader knows a "[c]" cell is 0 or >= t, which a linear programme cannot express; a hidden zero is
    therefore fixed at 0. Every bound then contains the true table and lies within what a reader knows,
    so a cell the audit finds free is free for the reader too. (The constraint matrix of a table's row
    and column sums is totally unimodular, so the LP's extreme values are whole numbers.)
    """
    out = {}
    for cell in zip(*np.nonzero(hidden)):
        cell = (int(cell[0]), int(cell[1]))
        if primary[cell]:
            out[cell] = (1.0, float(threshold - 1))
        elif grid.values[cell] >= threshold:
            out[cell] = (float(threshold), None)
        else:  # a zero hidden as a last resort
            out[cell] = (0.0, 0.0)
    return out


def _determined_primary(
    grid: _Grid, hidden: np.ndarray, primary: np.ndarray, threshold: int, only: list | None = None
) -> list:
    """Primary cells whose value is the only whole number consistent with the visible table and margins.

    A linear programme per cell: the hidden cells are the unknowns, every line's sum is an equation, the
    bounds are those of :func:`_bounds`. The true table is feasible, so a cell is free as soon as the LP
    can move it by one whole unit either way; it is reported when it cannot. ``only`` limits the check.
    """
    bounds = _bounds(grid, hidden, primary, threshold)
    unknown = list(bounds)
    index = {c: k for k, c in enumerate(unknown)}
    rows, rhs = [], []
    for body, total in grid.lines:
        coef = np.zeros(len(unknown))
        # sum(body) - total = 0 with totals shown; sum(body) = known margin without.
        b = 0.0 if total is not None else float(sum(grid.values[c] for c in body))
        for c, sign in [(c, 1.0) for c in body] + ([(total, -1.0)] if total is not None else []):
            if c in index:
                coef[index[c]] += sign
            else:
                b -= sign * float(grid.values[c])
        if np.any(coef != 0):
            rows.append(coef)
            rhs.append(b)
    if not rows:
        return []
    a_eq, b_eq = np.array(rows), np.array(rhs)
    bnds = [bounds[c] for c in unknown]
    targets = [c for c in unknown if primary[c] and (only is None or c in only)]
    found = []
    for c in targets:
        truth = float(grid.values[c])
        free = False
        for sign in (-1.0, 1.0):  # maximise, then minimise
            obj = np.zeros(len(unknown))
            obj[index[c]] = sign
            res = linprog(obj, A_eq=a_eq, b_eq=b_eq, bounds=bnds, method="highs")
            if res.status == 3:  # unbounded: certainly free
                free = True
            elif res.status == 0:
                value = sign * res.fun
                free = value >= truth + 1 - 1e-7 if sign < 0 else value <= truth - 1 + 1e-7
            if free:
                break
        if not free:
            found.append(c)
    return found


def _audit_pick(grid: _Grid, hidden: np.ndarray, primary: np.ndarray, threshold: int, cell: tuple[int, int]):
    """Extra cell to hide when primary ``cell`` is still determined.

    Candidates: the cell :func:`_pick` would choose in each line through ``cell``; when those lines are
    all hidden already, every visible non-zero cell of the table. The candidate that frees ``cell`` with
    the fewest hidden cells in total (after re-applying the line rule) wins; ties go to the smaller value,
    then to reading order. If none frees it on its own, the same ordering picks one and the caller looks
    again. None when nothing is left to hide.
    """
    picks = []
    for body, total in grid.lines:
        if cell in body or cell == total:
            p = _pick(grid, hidden, body, total)
            if p is not None and p not in picks:
                picks.append(p)
    if not picks:
        picks = [(int(i), int(j)) for i, j in zip(*np.nonzero(~hidden & (grid.values > 0)))]
    if not picks:
        return None
    scored = []
    for p in picks:
        trial = hidden.copy()
        trial[p] = True
        _apply_line_rule(grid, trial)
        still = bool(_determined_primary(grid, trial, primary, threshold, only=[cell]))
        scored.append((still, int(trial.sum()), int(grid.values[p]), p))
    return min(scored)[3]


# --------------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------------


def protect_cells(
    values: np.ndarray,
    lines: list[tuple[list[tuple[int, int]], tuple[int, int] | None]],
    threshold: int = 5,
    *,
    audit: bool = True,
) -> tuple[np.ndarray, np.ndarray, list[tuple[int, int]]]:
    """The suppression rules on any grid of counts whose *lines* a reader knows.

    ``values``: a 2-D array of whole numbers (every cell that is shown or can be derived). ``lines``: each is
    ``(body cells, total cell)`` meaning the body cells add up to the total cell, or ``(body cells, None)``
    meaning they add up to a number known from elsewhere. :func:`suppress_counts` uses the rows and columns of
    a table with its margins; a table with nested totals (e.g. a denominator that leaves out 'not documented'
    rows) passes its own lines. Returns ``(hidden, primary, unprotected)``: the mask of hidden cells, the
    primary (small) cells, and primary cells no suppression can protect (the caller must not share them as
    they are: merge categories or hide the whole table).
    """
    t = _threshold(threshold)
    values = np.asarray(values, dtype=np.int64)
    grid = _Grid.__new__(_Grid)
    grid.values, grid.totals, grid.lines = values, True, list(lines)
    primary = (values >= 1) & (values < t)
    hidden = primary.copy()
    unprotected: list[tuple[int, int]] = []
    if audit and primary.any():
        # Cells pinned down even if every other cell were hidden: no suppression can protect them.
        unprotected = _determined_primary(grid, np.ones_like(hidden), primary, t)
    while True:
        _apply_line_rule(grid, hidden)
        if not audit or not primary.any():
            break
        leaks = [c for c in _determined_primary(grid, hidden, primary, t) if c not in unprotected]
        if not leaks:
            break
        pick = _audit_pick(grid, hidden, primary, t, leaks[0])
        if pick is None:  # only visible zeros left, and hiding a zero does not help
            unprotected.append(leaks[0])
            continue
        hidden[pick] = True  # then re-run the line rule before looking again
    return hidden, primary, unprotected


def suppress_counts(
    counts: pd.DataFrame,
    threshold: int = 5,
    totals: bool = True,
    *,
    total_label: str = "Total",
    complementary_marker: str = COMPLEMENTARY_MARKER,
    audit: bool = True,
) -> SuppressedTable:
    """Hide small counts, and enough other cells that they cannot be worked out, for a shared table.

    ``counts``: a DataFrame of non-negative whole numbers (rows = levels, columns = groups).
    ``threshold``: counts 1 .. threshold-1 are hidden and shown as ``"<{threshold}"``; pass the study
    configuration's ``suppression_threshold``. ``totals``: add a ``total_label`` row and column (margins
    and grand total), which are suppressed by the same rules. ``audit``: run the linear-programming check
    (rule 3 of the module docstring); leave it on except to demonstrate the plain line rule.

    Returns a :class:`SuppressedTable`. The rules are in the module docstring.
    """
    t = _threshold(threshold)
    if not complementary_marker or _visible_counts(complementary_marker) or complementary_marker == f"<{t}":
        raise ValueError(
            f"complementary_marker must be a non-empty text that is neither a number nor '<{t}'; "
            f"got {complementary_marker!r}"
        )
    vals = _counts_array(counts)
    index, columns = counts.index, counts.columns
    if totals:
        nr, nc = vals.shape
        ext = np.zeros((nr + 1, nc + 1), dtype=np.int64)
        ext[:nr, :nc] = vals
        ext[:nr, nc] = vals.sum(axis=1)
        ext[nr, :nc] = vals.sum(axis=0)
        ext[nr, nc] = vals.sum()
        vals = ext
        index, columns = _append_label(index, total_label), _append_label(columns, total_label)

    hidden, primary, unprotected = protect_cells(vals, _Grid(vals, totals).lines, t, audit=audit)
    complementary = hidden & ~primary

    shown = np.empty(vals.shape, dtype=object)
    for i in range(vals.shape[0]):
        for j in range(vals.shape[1]):
            if primary[i, j]:
                shown[i, j] = f"<{t}"
            elif complementary[i, j]:
                shown[i, j] = complementary_marker
            else:
                shown[i, j] = str(int(vals[i, j]))

    def frame(a: np.ndarray) -> pd.DataFrame:
        return pd.DataFrame(a, index=index, columns=columns)

    notes = []
    if primary.any():
        notes.append(f"<{t}: a count from 1 to {t - 1}, not shown to protect the people counted.")
    if complementary.any():
        notes.append(
            f"{complementary_marker}: not shown so that a count below {t} cannot be worked out from the "
            "other cells and totals."
        )
    return SuppressedTable(
        display=frame(shown),
        mask=frame(hidden.copy()),
        primary=frame(primary.copy()),
        complementary=frame(complementary),
        counts=frame(vals.copy()),
        threshold=t,
        totals=bool(totals),
        unprotected=tuple((index[i], columns[j]) for i, j in unprotected),
        footnote=" ".join(notes),
    )


def suppress_percentages(
    pct_table: pd.DataFrame,
    mask: pd.DataFrame,
    hidden: str = "",
    fmt: str = "{:.1f}",
) -> pd.DataFrame:
    """Percentages as display strings, blanked where the underlying count is hidden.

    ``pct_table``: numbers (or strings already formatted); ``mask``: the ``SuppressedTable.mask`` of the
    counts behind them (it may have an extra Total row/column; labels are matched, not positions).
    Hidden cells become ``hidden`` (``""`` by default; ``"suppressed"`` reads well in a CSV). Numbers are
    formatted with ``fmt``; NaN becomes ``""``. Every row and column label of ``pct_table`` must be in
    ``mask``, so that a percentage can never be shown for a cell the mask does not know about.
    """
    if not isinstance(pct_table, pd.DataFrame) or not isinstance(mask, pd.DataFrame):
        raise TypeError("pct_table and mask must both be pandas DataFrames")
    missing_r = [r for r in pct_table.index if r not in mask.index]
    missing_c = [c for c in pct_table.columns if c not in mask.columns]
    if missing_r or missing_c:
        raise ValueError(
            f"the mask does not cover the percentage table: rows {missing_r!r}, columns {missing_c!r} are "
            "missing from it; build the mask from the same counts"
        )
    m = mask.loc[pct_table.index, pct_table.columns].to_numpy(dtype=bool)
    out = np.empty(pct_table.shape, dtype=object)
    for i in range(pct_table.shape[0]):
        for j in range(pct_table.shape[1]):
            v = pct_table.iat[i, j]
            if m[i, j]:
                out[i, j] = hidden
            elif isinstance(v, str):
                out[i, j] = v
            elif v is None or (isinstance(v, (float, np.floating)) and math.isnan(v)) or v is pd.NA:
                out[i, j] = ""
            else:
                out[i, j] = fmt.format(v)
    return pd.DataFrame(out, index=pct_table.index, columns=pct_table.columns)


# A displayed count: "12", "1,234", the n of "12 (3.4%)", or either side of "12/40" or "12 / 40".
_INT = r"\d{1,3}(?:,\d{3})+|\d+"
_PURE = re.compile(rf"^\s*({_INT})\s*$")
_N_PCT = re.compile(rf"^\s*({_INT})\s*\(")
_FRACTION = re.compile(rf"^\s*({_INT})\s*/\s*({_INT})\s*(?:\(|$)")


def _visible_counts(value: Any) -> list[int]:
    if isinstance(value, (bool, np.bool_)) or value is None:
        return []
    if isinstance(value, numbers.Integral):
        return [int(value)]
    if isinstance(value, str):
        for pat in (_FRACTION, _N_PCT, _PURE):
            m = pat.match(value)
            if m:
                return [int(g.replace(",", "")) for g in m.groups()]
    return []  # floats are rates, percentages or p-values, not counts


def check_no_small_cells(
    display: pd.DataFrame, threshold: int, columns: list[Hashable] | None = None
) -> list[tuple[Hashable, Hashable, Any]]:
    """Visible counts from 1 to ``threshold - 1`` in a displayed table: ``[(row, column, value), ...]``.

    An empty list means the table passes. Meant for tests that scan every shared file. A *count* is an
    integer cell, a string holding only a whole number (``"3"``, ``"1,204"``), the leading number of an
    ``"n (%)"`` string (``"3 (7.5%)"``), or either number of ``"a/b"`` (``"3/40"``). Decimal numbers
    (percentages, rates, p-values) and markers such as ``"<5"`` are not counts. ``columns`` limits the
    scan (e.g. to leave out a column of years or ranks).
    """
    t = _threshold(threshold)
    if not isinstance(display, pd.DataFrame):
        raise TypeError(f"display must be a pandas DataFrame; got {type(display).__name__}")
    cols = list(display.columns) if columns is None else list(columns)
    unknown = [c for c in cols if c not in display.columns]
    if unknown:
        raise ValueError(f"columns not in the table: {unknown!r}")
    found = []
    for j, col in enumerate(display.columns):
        if col not in cols:
            continue
        for i, row in enumerate(display.index):
            value = display.iat[i, j]
            if any(1 <= n < t for n in _visible_counts(value)):
                found.append((row, col, value))
    return found
