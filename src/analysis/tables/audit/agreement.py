"""What a shared reliability table gives away: each coder's count of a yes/no, from n, agreement, kappa and alpha.

For a two-category item coded by two coders on ``n`` units, percent agreement gives the number of disagreements
``d = n (1 - agreement)``; Cohen's kappa is a function of ``d`` and the two coders' counts ``a``, ``b`` of the
category (``p_e = (a b + (n - a)(n - b)) / n^2``) and Krippendorff's alpha (nominal, two coders, no missing
values) of ``d`` and ``a + b`` (``alpha = 1 - (2n - 1) d / ((a + b)(2n - a - b))``). Every pair (a, b) from 0 to
n is tried (vectorised) and the pairs that give the printed kappa and alpha are kept: usually one pair, up to the
coders' order. Items with more than two categories (or whose missing codes make them so) are not attempted.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ...scheme.codebook import Codebook
from .read import Grid, unquote


@dataclass
class CoderCounts:
    line: int
    label: str
    n: int
    disagreements: int | None
    low: tuple[int, int] | None  # range of the smaller coder count over the matching pairs
    high: tuple[int, int] | None  # range of the larger one
    pairs: int


def _float(text: str) -> float:
    try:
        return float(unquote(text))
    except ValueError:
        return math.nan


def binary_item(cb: Codebook, table: str, variable: str, option: str) -> bool:
    """True when the item has exactly two possible values (0/1 or yes/no) for every unit."""
    if table == "charges":
        return bool(option)
    try:
        var = cb.variable(table, variable)
    except KeyError:
        return False
    if var.missing:
        return False
    if option:
        return var.type == "multi"
    return var.type == "code" and set(var.code_values) == {"yes", "no"}


def coder_counts(n: int, agreement: float, kappa: float, alpha: float) -> tuple[int | None, list[tuple[int, int]]]:
    """(disagreements, the (a, b) pairs with a <= b that give the printed kappa and alpha)."""
    d_real = n * (1 - agreement / 100.0)
    d = int(round(d_real))
    if abs(d - d_real) > 1e-6 or n <= 0:
        return None, []
    a = np.arange(n + 1)[:, None].astype(float)
    b = np.arange(n + 1)[None, :].astype(float)
    n11 = (a + b - d) / 2
    ok = (n11 >= 0) & (n11 == np.floor(n11)) & (a - n11 >= 0) & (b - n11 >= 0) & (n - n11 - (a - n11) - (b - n11) >= 0)
    ok &= a <= b
    po = (n - d) / n
    with np.errstate(divide="ignore", invalid="ignore"):
        pe = (a * b + (n - a) * (n - b)) / n**2
        kap = (po - pe) / (1 - pe)
        n1 = a + b
        alp = 1 - (2 * n - 1) * d / (n1 * (2 * n - n1))
    if not math.isnan(kappa):
        ok &= np.isclose(kap, kappa, rtol=1e-9, atol=1e-12)
    else:
        ok &= ~np.isfinite(kap)
    if not math.isnan(alpha):
        ok &= np.isclose(alp, alpha, rtol=1e-9, atol=1e-12)
    ia, ib = np.nonzero(ok)
    return d, [(int(x), int(y)) for x, y in zip(ia, ib)]


def read_reliability(grid: Grid, cb: Codebook) -> list[CoderCounts]:
    """Per two-category row of a reliability table: the disagreements and each coder's count, when printed."""
    h = {name: j for j, name in enumerate(grid.header)}
    need = ("table", "variable", "n_units", "percent_agreement")
    if any(c not in h for c in need):
        return []
    out = []
    for i, row in enumerate(grid.rows):
        table, var = row[h["table"]], row[h["variable"]]
        option = row[h["option"]] if "option" in h else ""
        n_text = unquote(row[h["n_units"]]).replace(",", "")
        if not n_text.isdigit():
            continue
        n = int(n_text)
        agreement = _float(row[h["percent_agreement"]])
        if math.isnan(agreement) or n == 0:
            continue
        label = row[h["label"]] if "label" in h else var
        kappa = _float(row[h["kappa"]]) if "kappa" in h else math.nan
        alpha = _float(row[h["alpha"]]) if "alpha" in h else math.nan
        d_real = n * (1 - agreement / 100.0)
        d = int(round(d_real)) if abs(d_real - round(d_real)) < 1e-6 else None
        if not binary_item(cb, table, var, option) or ("kappa" not in h and "alpha" not in h):
            out.append(CoderCounts(grid.lines[i], label, n, d, None, None, 0))
            continue
        d, pairs = coder_counts(n, agreement, kappa, alpha)
        if not pairs:
            out.append(CoderCounts(grid.lines[i], label, n, d, None, None, 0))
            continue
        # (a, b) and (n - b, n - a) print the same (the two categories swapped): keep the rarer category's counts
        pairs = [p for p in pairs if p[0] + p[1] <= n] or pairs
        lows = [p[0] for p in pairs]
        highs = [p[1] for p in pairs]
        out.append(CoderCounts(grid.lines[i], label, n, d, (min(lows), max(lows)), (min(highs), max(highs)),
                               len(pairs)))
    return out
