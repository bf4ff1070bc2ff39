"""Every wording rule of the findings page, in one place (unit-tested in tests/test_wording.py).

The findings are written from the *displayed* cells of the before/after tables (``n/N (pct%)``, ``<5``,
``suppressed``, the change ``+34.2 (+28.6 to +39.6)``), never from the analyst's unsuppressed numbers: a hidden
cell's number cannot reach a sentence. The rules:

- percentages are whole numbers ("17%"; "under 1%" for a count above zero that rounds to 0%), counts as "83 of
  495"; changes in whole percentage points with their 95% interval, always after minus before ("up 34 percentage
  points (95% CI 29 to 40)");
- a change is *clear* when the table's adjusted p-value (q, the table's one adjustment family) is below 0.05;
  how sure: q < 0.001 "very unlikely by chance", q < 0.05 "unlikely by chance". Anything else is said as plainly:
  "no clear change", with both periods' figures and "a difference this size could easily arise by chance";
- a suppressed cell: the sentence says the count is too small to show and gives no figure for that period, nor a
  change;
- caveats, each a short clause: coder reliability (alpha below 0.667 "unreliable", below 0.800 "tentative", not
  double-coded, not estimable), small counts (a denominator below :data:`SMALL_DENOMINATOR`), the share of
  missing data (:data:`MISSING_SHARE_NOTED` or more), weighted or not.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

CLEAR_Q = 0.05
VERY_CLEAR_Q = 0.001
RELIABLE, TENTATIVE = 0.800, 0.667
SMALL_DENOMINATOR = 30  # a period's denominator below this: "small numbers"
MISSING_SHARE_NOTED = 0.05  # missing data from this share of a period's units is a caveat

_CELL = re.compile(r"^\s*(\d[\d,]*)\s*/\s*(\d[\d,]*)\s*\(\s*([\d.]+)\s*%\s*\)\s*$")
_COUNT = re.compile(r"^\s*(\d[\d,]*)\s*$")
_FRACTION = re.compile(r"^\s*(\d[\d,]*)\s*/\s*(\d[\d,]*)\s*$")  # n/N without its (weighted) percentage
_CHANGE = re.compile(r"^\s*([+-]?[\d.]+)\s*\(\s*([+-]?[\d.]+)\s*to\s*([+-]?[\d.]+)\s*\)\s*$")
_Q = re.compile(r"^\s*(<)?\s*([\d.]+)\s*$")


@dataclass(frozen=True)
class Cell:
    """A displayed cell: ``n`` of ``N`` (``pct`` %), or hidden (``shown`` is then '<5' or 'suppressed')."""

    shown: str
    n: int | None = None
    N: int | None = None
    pct: float | None = None

    @property
    def hidden(self) -> bool:
        """No share can be given: the count is hidden, or shown without its denominator (a hidden total)."""
        return self.n is None or self.N is None or self.pct is None

    @classmethod
    def parse(cls, text: object) -> Cell:
        s = "" if text is None or (isinstance(text, float) and math.isnan(text)) else str(text)
        m = _CELL.match(s)
        if m:
            return cls(s, int(m.group(1).replace(",", "")), int(m.group(2).replace(",", "")), float(m.group(3)))
        m = _COUNT.match(s)
        if m:  # a count with no denominator (a missing-data row)
            return cls(s, int(m.group(1).replace(",", "")))
        m = _FRACTION.match(s)
        if m:  # a weighted table's count whose percentage is withheld
            return cls(s, int(m.group(1).replace(",", "")), int(m.group(2).replace(",", "")))
        return cls(s)

    @property
    def share_withheld(self) -> bool:
        """The count and its denominator are shown, the (weighted) percentage is not."""
        return self.n is not None and self.N is not None and self.pct is None


@dataclass(frozen=True)
class Change:
    """A displayed change, after minus before, in percentage points with its 95% interval."""

    estimate: float
    low: float
    high: float

    @classmethod
    def parse(cls, text: object) -> Change | None:
        m = _CHANGE.match("" if text is None else str(text))
        return cls(*(float(g) for g in m.groups())) if m else None


def parse_q(text: object) -> float | None:
    """A displayed q ('0.041', '<0.001') as a number (the bound for '<'); None when not tested."""
    m = _Q.match("" if text is None else str(text))
    if not m:
        return None
    q = float(m.group(2))
    return math.nextafter(q, 0.0) if m.group(1) else q  # '<0.001': just below the bound


# --- numbers in words ------------------------------------------------------------------------------------


def pct(cell: Cell) -> str:
    """A percentage in whole numbers; 'under 1%' for a count above zero that rounds to 0%, 'over 99%' for one
    below N that rounds to 100%."""
    r = round(cell.pct)
    if r == 0 and cell.n:
        return "under 1%"
    if r == 100 and cell.n != cell.N:
        return "over 99%"
    return f"{r}%"


def share(cell: Cell) -> str:
    """'17% (83 of 495)'."""
    return f"{pct(cell)} ({cell.n:,} of {cell.N:,})"


def points(x: float) -> str:
    """A whole number of percentage points, without a sign ('-0' is '0')."""
    r = round(abs(x))
    return f"{r}"


def signed(x: float) -> str:
    r = round(x)
    return "0" if r == 0 else f"{r:+d}".replace("-", "minus ")


def interval(change: Change, signed_limits: bool = False) -> str:
    """'95% CI 29 to 40' beside 'up/down N points' (limits as sizes); signed limits ('95% CI minus 3 to +7')
    when the interval crosses zero or ``signed_limits``."""
    lo, hi = round(change.low), round(change.high)
    if not signed_limits and (lo >= 0 and hi >= 0 or lo <= 0 and hi <= 0):
        return f"95% CI {abs(lo)} to {abs(hi)}" if lo >= 0 else f"95% CI {abs(hi)} to {abs(lo)}"
    return f"95% CI {signed(change.low)} to {signed(change.high)}"


def q_text(q: float | None) -> str:
    if q is None:
        return "not tested"
    return "q < 0.001" if q < VERY_CLEAR_Q else f"q = {q:.3f}"


def how_sure(q: float | None) -> str:
    """The plain reading of an adjusted p-value."""
    if q is None:
        return "no test was possible"
    if q < VERY_CLEAR_Q:
        return "a change this large is very unlikely by chance"
    if q < CLEAR_Q:
        return "a change this large is unlikely by chance"
    return "a difference this size could easily arise by chance"


def is_clear(q: float | None) -> bool:
    return q is not None and q < CLEAR_Q


# --- the sentences ---------------------------------------------------------------------------------------


def subject(label: str, population: str) -> str:
    """'Among incident reports, "Screened for trafficking"'."""
    return f"Among {population}, \u201c{label}\u201d"


def withheld_sentence(who: str, periods: tuple[str, str], cells: list[tuple[Cell, Cell]]) -> str:
    """A weighted table that shows the counts (n of N in the sample) but not the weighted percentages."""
    parts = []
    for cell, name in zip(cells[0], periods):
        parts.append(f"{cell.n:,} of {cell.N:,} in {name}" if cell.share_withheld else f"too small to show in {name}")
    return (f"{who}: {' and '.join(parts)} in the sample; the weighted percentages are not shown, because with the "
            "sampling weights they would let a count below the threshold in one sampled year be worked out.")


def yes_no_sentence(label: str, population: str, periods: tuple[str, str], before: Cell, after: Cell,
                    change: Change | None, q: float | None) -> tuple[str, str]:
    """The sentence for a yes/no row and its status (change / no clear change / suppressed / not tested).

    ``periods``: how the two periods are named ('Vice 2009-2010', 'SVU 2014-2015')."""
    a_name, b_name = periods
    who = subject(label, population)
    if before.share_withheld or after.share_withheld:
        return withheld_sentence(who, periods, [(before, after)]), "suppressed"
    if before.hidden and after.hidden:
        return (f"{who}: the counts in both periods are too small to show (suppressed under the small-cell rule), "
                "so no figures or change are given.", "suppressed")
    if before.hidden or after.hidden:
        shown, name = (after, b_name) if before.hidden else (before, a_name)
        other = a_name if before.hidden else b_name
        return (f"{who} was {share(shown)} in {name}; the count for {other} is too small to show (suppressed under "
                "the small-cell rule), so no change is given.", "suppressed")
    if before.N == 0 or after.N == 0:
        empty = a_name if before.N == 0 else b_name
        return f"{who}: no {population} in {empty} to compare.", "not tested"
    if before.n == 0 and after.n == 0:
        return (f"{who}: none in either period (0 of {before.N:,} in {a_name}, 0 of {after.N:,} in {b_name}).",
                "no clear change")
    if change is None:
        return (f"{who} was {share(before)} in {a_name} and {share(after)} in {b_name}; no change with an interval "
                "can be given.", "not tested")
    if not is_clear(q):
        return (f"No clear change. {who} was {share(before)} in {a_name} and {share(after)} in {b_name} (change "
                f"{signed(change.estimate)} percentage points, {interval(change, True)}); {how_sure(q)}.",
                "no clear change")
    direction = "rose" if change.estimate > 0 else "fell"
    updown = "up" if change.estimate > 0 else "down"
    return (f"{who} {direction} from {share(before)} in {a_name} to {share(after)} in {b_name}: {updown} "
            f"{points(change.estimate)} percentage points ({interval(change)}); {how_sure(q)}.", "change")


def category_sentence(label: str, population: str, periods: tuple[str, str],
                      levels: list[tuple[str, Cell, Cell]], q: float | None) -> tuple[str, str]:
    """The sentence for a variable with several levels: the test over the levels, and the level that moved most
    (among those with both cells shown). ``levels``: (level label, before, after) of the substantive levels."""
    a_name, b_name = periods
    shown = [(lab, a, b) for lab, a, b in levels if not a.hidden and not b.hidden and a.N and b.N]
    if any(a.share_withheld or b.share_withheld for _, a, b in levels):
        return (f"Among {population}, \u201c{label}\u201d: the counts are shown in the table (in the sample), but "
                "not the weighted percentages, because with the sampling weights they would let a count below the "
                "threshold in one sampled year be worked out.", "suppressed")
    if not shown:
        return (f"Among {population}, \u201c{label}\u201d: the counts are too small to show (suppressed under the "
                "small-cell rule), so no figures are given.", "suppressed")
    lab, a, b = max(shown, key=lambda t: abs(t[2].pct - t[1].pct))
    hidden = len(shown) < len(levels)
    tail = " Some levels are too small to show (suppressed)." if hidden else ""
    if q is None:
        return (f"Among {population}, the most common change in \u201c{label}\u201d was in \u201c{lab}\u201d: "
                f"{share(a)} in {a_name}, {share(b)} in {b_name}; no test was possible.{tail}", "not tested")
    if not is_clear(q):
        return (f"No clear change. Among {population}, \u201c{label}\u201d was distributed much as before "
                f"({q_text(q)}); the largest shift, in \u201c{lab}\u201d, was from {share(a)} in {a_name} to "
                f"{share(b)} in {b_name}, and {how_sure(q)}.{tail}", "no clear change")
    return (f"Among {population}, \u201c{label}\u201d differed between the periods ({q_text(q)}; {how_sure(q)}): the "
            f"largest shift was in \u201c{lab}\u201d, from {share(a)} in {a_name} to {share(b)} in {b_name}.{tail}",
            "change")


def not_available_sentence(label: str, population: str, reason: str) -> str:
    """A question the data cannot answer in this run ('no income lookup was given')."""
    return f"Not available: \u201c{label}\u201d for {population} could not be worked out because {reason}."


# --- caveats -------------------------------------------------------------------------------------------


def reliability_caveat(label: str, alpha: float | None, flag: str) -> str | None:
    """None for a reliable variable (alpha >= 0.800), else the caveat."""
    if flag == "not double-coded":
        return f"\u201c{label}\u201d was not double-coded, so coder agreement is unknown"
    if flag == "no variation" or alpha is None or alpha != alpha:
        return f"coder agreement on \u201c{label}\u201d could not be estimated (no variation in the double-coded sample)"
    if alpha < TENTATIVE:
        return (f"coders agreed poorly on \u201c{label}\u201d (alpha {alpha:.2f}, below {TENTATIVE:.3f}): treat this "
                "finding as unreliable")
    if alpha < RELIABLE:
        return (f"coder agreement on \u201c{label}\u201d is only tentative (alpha {alpha:.2f}, below {RELIABLE:.3f}): "
                "draw tentative conclusions only")
    return None


def missing_caveat(label: str, missing: list[list[Cell]], period_n: tuple, periods: tuple[str, str]) -> str | None:
    """The share of each period's units with no value ('not documented', 'unknown'; ``missing``: the displayed
    missing-data cells per period), when it is :data:`MISSING_SHARE_NOTED` or more in a period; a hidden count
    is said to be suppressed, never shown."""
    parts, hidden = [], False
    for cells, N, name in zip(missing, period_n, periods):
        if not cells or not N:
            continue
        if any(c.n is None for c in cells):
            hidden = True
            continue
        n = sum(c.n for c in cells)
        if n / N >= MISSING_SHARE_NOTED:
            parts.append(f"{round(100 * n / N)}% of {name} ({n:,} of {N:,})")
    if parts:
        return (f"\u201c{label}\u201d is not documented for " + " and ".join(parts)
                + ("; some missing counts are suppressed" if hidden else "") + "; the percentages leave these out")
    if hidden:
        return f"some values of \u201c{label}\u201d are not documented (count suppressed); the percentages leave them out"
    return None


def small_caveat(before: Cell, after: Cell, periods: tuple[str, str]) -> str | None:
    """Small denominators: a few units move the percentage a lot."""
    small = [(c.N, name) for c, name in zip((before, after), periods) if not c.hidden and c.N is not None
             and 0 < c.N < SMALL_DENOMINATOR]
    if not small:
        return None
    return "small numbers (" + ", ".join(f"{N:,} in {name}" for N, name in small) + "): a few cases change the " \
        "percentage a lot"


def suppressed_caveat() -> str:
    return "some counts are too small to show (small-cell rule)"


def weighting_caveat(weighted: bool) -> str:
    return ("percentages weighted to the sampling frame; the counts in brackets are the sampled reports or people "
            "(unweighted), so a percentage is not their ratio" if weighted
            else "unweighted: percentages of the sampled reports (no sampling frame given)")
