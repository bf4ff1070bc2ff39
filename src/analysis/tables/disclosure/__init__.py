"""Disclosure control of everything shared: no person can be singled out from the shared files taken together.

Statistical offices protect *linked* tables (tau-Argus's optimal secondary suppression; R's sdcTable
``protectTable(method = "OPT")``; the ONS/Eurostat rules for frequency tables). This package does the same for
the whole shared pack at once:

* :mod:`.register`  the register of every shared count, by what it counts (:class:`~.register.CellKey`): tables
  in every format, chart data, the model's cross-tabulation, row accounting, the pack's cover counts;
* :mod:`.families`  which counts are tied together by the codebook (``from:`` lists of derived variables, skip
  logic, multi-select options), and which combinations of values are possible (the project's own validation and
  derivation run on an enumerated grid);
* :mod:`.engine`    optimal secondary suppression on a family (a mixed-integer programme; HiGHS)
  and the exact check (each small count's minimum and maximum over a reader's integer programme);
* :mod:`.protect`   the whole register: roles, families, merges, costs from the codebook (:class:`~.protect.Protection`);
* :mod:`.show`      what a shared table may print, cell by cell, and which statistics.

The rule (threshold in ``study.yaml``, 5 by default): a count from 1 to threshold - 1 is never printed, and no
combination of everything printed (every table, chart, note; the codebook's definitions; the printed tests) lets a
reader narrow it into 1 .. threshold - 1. Zero is printed. Every hidden count prints as ``suppressed`` (one marker:
a small count and a complementary one look the same); a role's column in a period with fewer than twice the
threshold people prints ``not shown``. A statistic prints only when every count it is computed from prints.

What a reader is assumed to know (and the protection is proved against, :func:`~.protect.check`): every printed
count, the codebook (derived-variable definitions, skip logic, multi-select rules, the charge classification),
that levels add up to the period's N, that the overall column is the sum of the periods, that role tables add up
to the everyone table, that a hidden count is at least 1, and the rule for withheld role columns.
Not covered: numeric summaries (medians, means) are shown only when their n prints, but a median of a small group
is some person's value; the reliability summary is made count-free (:func:`analysis.coders.reliability.shared_summary`).
"""

from __future__ import annotations

import numbers
import re
from typing import Any

import pandas as pd

from .protect import Merge, Protection, check, protect_register
from .register import CellKey, Register
from .show import SUPPRESSED, WITHHELD, apply_merges

__all__ = [
    "CannotProtect",
    "SUPPRESSED",
    "WITHHELD",
    "CellKey",
    "Merge",
    "Protection",
    "Register",
    "apply_merges",
    "check",
    "check_no_small_cells",
    "footer_text",
    "protect_register",
    "protect_tables",
]


class CannotProtect(ValueError):
    """The shared pack cannot be protected: some small count would be printed or could be worked out whatever is
    hidden (a coding too small to share, e.g. a handful of reports a period). Nothing is shared."""


def footer_text(threshold: int, weighted: bool = False) -> str:
    """The suppression line of every shared table's footer (``weighted``: a table weighted to the frame)."""
    return (f"Suppression: '{SUPPRESSED}' marks a count not shown because it could identify a person: a count from "
            f"1 to {threshold - 1}, or one from which such a count could be worked out (with every other shared table "
            f"and chart). Zero is shown. '{WITHHELD}': the role's counts in that period are left out, "
            f"because the role has fewer than {2 * threshold} people then or because its counts would let a small count "
            "elsewhere be worked out. Percentages, differences, tests and q-values are shown only where "
            "every count they are computed from is shown; q-values are adjusted over the tests shown."
            + (f" Weighted: a variable's percentages, change, test and q are shown only where none of its counts is "
               f"from 1 to {threshold - 1} in a sampled year (its counts are then shown as n/N): each year has its "
               "own weight, so the weighted estimates would let such a count be worked out." if weighted else ""))


def protect_tables(tables: list, *, threshold: int | None = None, units: dict | None = None, codebook=None,
                   config=None, check_ranges: bool = True) -> Protection:
    """Protect before/after tables together (a notebook's preview; the pipeline protects the whole publication).

    ``units``: the derived ``incidents`` / ``persons`` tables, so the codebook's relations are used; without them
    each table's variables are protected from its own counts only.
    """
    import dataclasses

    from ...scheme.codebook import load_codebook
    from ...scheme.config import load_study_config

    cfg = config or load_study_config()
    if threshold is not None and threshold != cfg.suppression_threshold:
        cfg = dataclasses.replace(cfg, suppression_threshold=int(threshold))
    reg = Register(codebook or load_codebook(), cfg, units)
    for k, ct in enumerate(tables):
        reg.add_table(ct, f"table {k + 1}")
    return protect_register(reg, check_ranges=check_ranges)


# --- the scanner -----------------------------------------------------------------------------------------------

# A displayed count: "12", "1,234", the n of "12 (3.4%)", or either side of "12/40" or "12 / 40".
_INT = r"\d{1,3}(?:,\d{3})+|\d+"
_PURE = re.compile(rf"^\s*({_INT})\s*$")
_N_PCT = re.compile(rf"^\s*({_INT})\s*\(")
_FRACTION = re.compile(rf"^\s*({_INT})\s*/\s*({_INT})\s*(?:\(|$)")


def _threshold(threshold: Any) -> int:
    if isinstance(threshold, bool) or not isinstance(threshold, numbers.Integral) or int(threshold) < 1:
        raise ValueError(
            f"threshold must be a whole number >= 1 (the study configuration's suppression_threshold); "
            f"got {threshold!r}"
        )
    return int(threshold)


def _visible_counts(value: Any) -> list[int]:
    if isinstance(value, bool) or value is None:
        return []
    if isinstance(value, numbers.Integral):
        return [int(value)]
    if isinstance(value, str):
        for pat in (_FRACTION, _N_PCT, _PURE):
            m = pat.match(value)
            if m:
                return [int(g.replace(",", "")) for g in m.groups()]
    return []  # floats are rates, percentages or p-values, not counts


def check_no_small_cells(display: pd.DataFrame, threshold: int, columns: list | None = None) -> list[tuple]:
    """Visible counts from 1 to ``threshold - 1`` in a displayed table: ``[(row, column, value), ...]``.

    An empty list means the table passes. Meant for tests that scan every shared file. A *count* is an
    integer cell, a string holding only a whole number (``"3"``, ``"1,204"``), the leading number of an
    ``"n (%)"`` string (``"3 (7.5%)"``), or either number of ``"a/b"`` (``"3/40"``). Decimal numbers
    (percentages, rates, p-values) and markers such as ``"suppressed"`` are not counts. ``columns`` limits the
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
