"""Printed statistics as constraints: the completions of a row that reproduce its test, p, q, shares and intervals.

For one variable of one table (:class:`~analysis.tables.audit.register.RowStats`) the unknowns are its cells per
period (a yes/no: the yes count and the denominator; a categorical variable: each substantive level) and the
overall cells. Every whole-number completion within the current ranges (and the table's own sums) is listed
(:func:`solutions`), and kept when the project's own functions give back what the file prints:

* the test's name, by the rule the tables use to pick it (:func:`predicted_test`, the rule of
  :func:`analysis.stats.inference.categorical_test`: Fisher's exact test exactly when an expected count is below
  5), and its p-value (``categorical_test``) to the printed precision; a person table's cluster-robust test
  cannot be recomputed, but it is printed only when neither period's share is 0 or 100%;
* the q-value: Holm and Benjamini-Hochberg adjusted p-values rise with every p of the family, so a completion is
  kept when the printed q lies between the q it gives with the other printed p-values at their lowest and at their
  highest;
* the difference in percentage points and its Newcombe interval (incident tables), the share of each period and
  its Wilson interval (figure data).

The kept completions become one constraint of the integer program: the row's unknowns equal one of them.
"""

from __future__ import annotations

import functools
import math
import time
from dataclasses import dataclass

import numpy as np
from scipy.stats import contingency as _contingency

from ...stats.inference import (
    EXACT_TABLE_LIMIT,
    MIN_EXPECTED,
    MONTE_CARLO_RESAMPLES,
    categorical_test,
    newcombe_diff_ci,
    wilson_ci,
)
from .register import CLUSTER_PREFIX, N_COLUMN, OVERALL, Interval, Key, RowStats

#: Most completions listed for one row; beyond it the row adds no constraint (the attack only gets weaker).
MAX_SOLUTIONS = 20_000
#: A domain this wide (or an unbounded one) after propagation: the row is not enumerated.
UNBOUNDED = 10**7
#: Most completions whose Monte Carlo Fisher p-value is computed (each draws 20000 tables); with more, the row
#: is listed again within tighter ranges, and if there are still more its p-value is not used.
MAX_MONTE_CARLO = 8

FISHER = "Fisher's exact"
CHI2 = "Pearson's chi-squared"
NOT_TESTED = "not tested"
DESIGN_MARK = "(report clusters)"  # design-based tests of the person tables
RAO_SCOTT = "Rao-Scott"
MONTE_CARLO = f"Fisher's exact (Monte Carlo, {MONTE_CARLO_RESAMPLES} resamples)"


def _n_tables_two_columns(row_totals, first_column_total: int, cap: int) -> int:
    """Number of r x 2 tables with the given margins, capped (the count inference.categorical_test makes)."""
    ways = [1] + [0] * first_column_total
    for r_i in row_totals:
        prefix = [0]
        for w in ways:
            prefix.append(prefix[-1] + w)
        ways = [min(prefix[s + 1] - prefix[max(0, s - int(r_i))], cap + 1) for s in range(first_column_total + 1)]
    return ways[first_column_total]


def predicted_test(table: np.ndarray) -> str:
    """The name :func:`analysis.stats.inference.categorical_test` gives ``table``, without computing a p-value."""
    arr = np.asarray(table, dtype=np.int64)
    arr = arr[arr.sum(axis=1) > 0][:, arr.sum(axis=0) > 0] if arr.size else arr
    if arr.ndim != 2 or arr.shape[0] < 2 or arr.shape[1] < 2:
        return NOT_TESTED
    if float(_contingency.expected_freq(arr).min()) >= MIN_EXPECTED:
        return CHI2
    if arr.shape == (2, 2):
        return FISHER
    two = arr if arr.shape[1] == 2 else (arr.T if arr.shape[0] == 2 else None)
    if two is None or _n_tables_two_columns(two.sum(axis=1), int(two[:, 0].sum()), EXACT_TABLE_LIMIT) <= EXACT_TABLE_LIMIT:
        return FISHER
    return MONTE_CARLO


# --- listing completions ---------------------------------------------------------------------------------------


@dataclass
class Linear:
    coefs: dict[int, int]
    lo: float
    hi: float


def solutions(domains: list[tuple[int, int]], constraints: list[Linear], limit: int = MAX_SOLUTIONS):
    """Every whole-number point within ``domains`` that satisfies ``constraints``; None beyond ``limit``.
    Depth-first, smallest domain first, with interval propagation after every choice."""
    out: list[tuple[int, ...]] = []

    def propagate(lo: list[int], hi: list[int]) -> bool:
        for _ in range(20):
            changed = False
            for c in constraints:
                smin = sum(v * (lo[k] if v > 0 else hi[k]) for k, v in c.coefs.items())
                smax = sum(v * (hi[k] if v > 0 else lo[k]) for k, v in c.coefs.items())
                if smin > c.hi or smax < c.lo:
                    return False
                for k, v in c.coefs.items():
                    rest_min = smin - v * (lo[k] if v > 0 else hi[k])
                    rest_max = smax - v * (hi[k] if v > 0 else lo[k])
                    if v > 0:
                        nlo, nhi = math.ceil((c.lo - rest_max) / v - 1e-9), math.floor((c.hi - rest_min) / v + 1e-9)
                    else:
                        nlo, nhi = math.ceil((c.hi - rest_min) / v - 1e-9), math.floor((c.lo - rest_max) / v + 1e-9)
                    if nlo > lo[k]:
                        lo[k], changed = nlo, True
                    if nhi < hi[k]:
                        hi[k], changed = nhi, True
                    if lo[k] > hi[k]:
                        return False
            if not changed:
                return True
        return True

    class _TooMany(Exception):
        pass

    def go(lo: list[int], hi: list[int]) -> None:
        if not propagate(lo, hi):
            return
        free = [k for k in range(len(lo)) if lo[k] < hi[k]]
        if not free:
            out.append(tuple(lo))
            if len(out) > limit:
                raise _TooMany
            return
        k = min(free, key=lambda i: hi[i] - lo[i])
        for v in range(lo[k], hi[k] + 1):
            nlo, nhi = list(lo), list(hi)
            nlo[k] = nhi[k] = v
            go(nlo, nhi)

    lo0 = [int(a) for a, _ in domains]
    hi0 = [int(min(b, UNBOUNDED)) for _, b in domains]
    if not propagate(lo0, hi0):
        return []
    if any(h >= UNBOUNDED for h in hi0):
        return None
    try:
        go(lo0, hi0)
    except _TooMany:
        return None
    return out


# --- the row's unknowns ------------------------------------------------------------------------------------------


def row_keys(st: RowStats) -> tuple[list[Key], list[tuple[dict[Key, int], str]]]:
    """The keys of a row's completion and the sums that tie them (as ``{key: coef} = 0`` with a label)."""
    a, b = st.periods
    keys: list[Key] = []
    sums: list[tuple[dict[Key, int], str]] = []

    def k(level: str, period: str) -> Key:
        return Key(st.pop, st.role, st.column, level, period)

    def n(period: str) -> Key:
        return Key(st.pop, st.role, N_COLUMN, "", period)

    for lev in st.levels + ["den"] + st.outside:
        for g in (a, b, OVERALL):
            keys.append(k(lev, g))
        sums.append(({k(lev, a): 1, k(lev, b): 1, k(lev, OVERALL): -1}, f"{lev}: overall = before + after"))
    keys += [n(a), n(b), n(OVERALL)]
    sums.append(({n(a): 1, n(b): 1, n(OVERALL): -1}, "N: overall = before + after"))
    for g in (a, b, OVERALL):
        if st.kind == "category":
            coefs = {k(lev, g): 1 for lev in st.levels}
            coefs[k("den", g)] = -1
            sums.append((coefs, f"levels add up to the denominator ({g})"))
        coefs = {k(lev, g): 1 for lev in st.outside}
        coefs[k("den", g)] = 1
        coefs[n(g)] = -1
        sums.append((coefs, f"the denominator and the rows outside it add up to N ({g})"))
    return keys, sums


def check_keys(st: RowStats) -> set[Key]:
    """The keys :func:`check` reads: 'yes' and the denominator of a yes/no row, or each level of a categorical one,
    in the two periods. The row's other keys (the Overall column, the rows outside the denominator, N) are tied to
    these only by sums the attacker's linear system already holds, so listing the completions over these alone and
    adding the ones that reproduce the row gives the same ranges, without listing every split of the rows outside
    the denominator (thousands of completions, all printing the same numbers)."""
    a, b = st.periods
    levels = ["yes", "den"] if st.kind == "binary" else st.levels
    return {Key(st.pop, st.role, st.column, lev, g) for lev in levels for g in (a, b)}


def check(st: RowStats, values: dict[Key, int], families: dict[str, list[tuple[str, Interval]]],
          budget: dict[str, int]) -> bool:
    """Whether a completion reproduces everything the row prints (see the module docstring). ``budget`` counts
    the expensive p-values left to compute; when it runs out the p-value is not checked (the completion is kept)."""
    a, b = st.periods
    if st.weighted:
        return True
    if st.kind == "binary":
        y = {g: values[Key(st.pop, st.role, st.column, "yes", g)] for g in (a, b)}
        d = {g: values[Key(st.pop, st.role, st.column, "den", g)] for g in (a, b)}
        if any(y[g] > d[g] for g in (a, b)):
            return False
        if not _wilson_ok(st, y, d):
            return False
        if not _diff_ok(st, y, d):
            return False
        table = np.array([[y[a], y[b]], [d[a] - y[a], d[b] - y[b]]])
        if st.test.startswith(CLUSTER_PREFIX):
            return all(0 < y[g] < d[g] for g in (a, b))
    else:
        table = np.array([[values[Key(st.pop, st.role, st.column, lev, g)] for g in (a, b)] for lev in st.levels])
    return _test_ok(st, table, families, budget)


def _wilson_ok(st: RowStats, y: dict, d: dict) -> bool:
    for g, (pct, lo, hi) in st.wilson.items():
        if d[g] == 0:
            if pct is not None or lo is not None:
                return False
            continue
        p, wl, wh = wilson_ci(y[g], d[g])
        for iv, v in ((pct, 100 * p), (lo, 100 * wl), (hi, 100 * wh)):
            if iv is not None and not iv.contains(v, 1e-7):
                return False
    return True


def _diff_ok(st: RowStats, y: dict, d: dict) -> bool:
    if not st.diff or all(x is None for x in st.diff):
        return True
    a, b = st.periods
    if d[a] == 0 or d[b] == 0:
        return False
    pp, lo, hi = st.diff
    # every change is printed as after minus before: the interval of before minus after, negated and its limits
    # swapped (as analysis.tables.compare prints it)
    if pp is not None and not pp.contains(100 * (y[b] / d[b] - y[a] / d[a]), 1e-7):
        return False
    if not st.persons and (lo is not None or hi is not None):
        _, nl, nh = newcombe_diff_ci(y[a], d[a], y[b], d[b])
        if lo is not None and not lo.contains(-100 * nh, 1e-7):
            return False
        if hi is not None and not hi.contains(-100 * nl, 1e-7):
            return False
    return True


def _test_ok(st: RowStats, table: np.ndarray, families, budget: dict[str, int]) -> bool:
    printed = st.test.strip()
    if DESIGN_MARK in printed:
        # a design-based test (report clusters) needs the rows' reports: not recomputed. A yes/no row falls back
        # to the Rao-Scott F test exactly when the GEE cannot be fitted (a period all 0 or all 1).
        if st.kind == "binary" and printed.startswith(RAO_SCOTT):
            a, b = table[0], table[0] + table[1]
            return any(a[j] == 0 or a[j] == b[j] for j in range(2))
        return True
    name = predicted_test(table)
    if printed and printed != name:
        return False
    if name == NOT_TESTED:
        return st.p is None
    if st.p is None and st.q is None:
        return True
    if name == MONTE_CARLO:
        if "mc" not in budget:  # the first pass: keep it for the second, when few are left
            budget["deferred"] = budget.get("deferred", 0) + 1
            return True
        if budget["mc"] <= 0:
            return True
        budget["mc"] -= 1
    p = _p_value(tuple(map(tuple, table.tolist())), name)
    if st.p is not None and not st.p.contains(p, 1e-12):
        return False
    return _q_ok(st, p, families)


@functools.lru_cache(maxsize=50_000)
def _p_value(table: tuple, name: str) -> float:
    """:func:`analysis.stats.inference.categorical_test`'s p-value, once per table (tables recur across files).
    An exact Fisher test of an r x 2 table (r > 2) is computed by :func:`fisher_rx2`, the same sum vectorised."""
    arr = np.array(table, dtype=np.int64)
    if name == FISHER and arr.shape != (2, 2):
        arr = arr[arr.sum(axis=1) > 0][:, arr.sum(axis=0) > 0]
        if arr.shape[1] == 2 and arr.shape[0] > 2:
            return fisher_rx2(arr)
    return categorical_test(arr).p_value


def fisher_rx2(table: np.ndarray) -> float:
    """Fisher's exact p-value of an r x 2 table: the probabilities of every table with its margins that is no more
    probable than it (R's relative tolerance of 1e-7 for ties), as ``inference._fisher_rxc_enumerated`` sums
    them, but listing the tables row by row with numpy (``tests/test_audit_disclosure.py`` checks the two agree)."""
    rows = table.sum(axis=1).astype(int)
    c1 = int(table[:, 0].sum())
    n = int(rows.sum())
    lf = np.array([math.lgamma(k + 1.0) for k in range(n + 1)])
    sums = np.zeros(1, dtype=np.int64)
    logw = np.zeros(1)
    rest = np.concatenate([np.cumsum(rows[::-1])[::-1][1:], [0]])
    for r_i, left in zip(rows, rest):
        ks = np.arange(r_i + 1)
        s2 = (sums[:, None] + ks[None, :]).ravel()
        w2 = (logw[:, None] + (-lf[ks] - lf[r_i - ks])[None, :]).ravel()
        ok = (s2 <= c1) & (s2 + left >= c1)
        sums, logw = s2[ok], w2[ok]
    # log P(T) = sum log R_i! + log C1! + log C2! - log N! - sum log t_ij! (both columns: t_i2 = R_i - t_i1)
    const = float(lf[rows].sum() + lf[c1] + lf[n - c1] - lf[n])
    logp = const + logw
    obs = const + float(sum(-lf[int(a)] - lf[int(b)] for a, b in table))
    keep_ = logp <= obs + math.log1p(1e-7)
    return min(float(np.exp(logp[keep_]).sum()), 1.0)


def _q_ok(st: RowStats, p: float, families) -> bool:
    if st.q is None or st.family not in families:
        return True
    fam = families[st.family]
    idx = [i for i, (col, _) in enumerate(fam) if col == st.column]
    if not idx:
        return True
    i = idx[0]
    low = np.array([iv.lo if j != i else p for j, (_, iv) in enumerate(fam)])
    high = np.array([min(iv.hi, 1.0) if j != i else p for j, (_, iv) in enumerate(fam)])
    q_lo = float(adjusted(np.clip(low, 0, 1), st.adjust)[i])
    q_hi = float(adjusted(np.clip(high, 0, 1), st.adjust)[i])
    return q_lo <= st.q.hi + 1e-12 and q_hi >= st.q.lo - 1e-12


def adjusted(p: np.ndarray, method: str) -> np.ndarray:
    """Holm or Benjamini-Hochberg adjusted p-values: the values of
    :func:`analysis.stats.inference.adjust_pvalues` (a test checks that they agree), in plain numpy (this is
    called for every completion, and statsmodels' ``multipletests`` runs the garbage collector each time)."""
    p = np.asarray(p, dtype=float)
    m = len(p)
    order = np.argsort(p, kind="mergesort")
    ps = p[order]
    if method == "bh":
        q = np.minimum.accumulate((ps * m / np.arange(1, m + 1))[::-1])[::-1]
    else:
        q = np.maximum.accumulate(ps * (m - np.arange(m)))
    out = np.empty(m)
    out[order] = np.minimum(q, 1.0)
    return out


class OutOfTime(Exception):
    """The time given to the printed tests is spent (the row adds no constraint: the attack only gets weaker)."""


def _checked(st: RowStats, keys, sols, families, budget, deadline: float | None) -> list[tuple[int, ...]]:
    out = []
    for i, s in enumerate(sols):
        if deadline is not None and i % 32 == 0 and time.perf_counter() > deadline:
            raise OutOfTime
        if check(st, dict(zip(keys, s)), families, budget):
            out.append(s)
    return out


def keep(st: RowStats, keys: list[Key], sols: list[tuple[int, ...]], families, tighter=None,
         deadline: float | None = None) -> list[tuple[int, ...]] | None:
    """The completions that reproduce what the row prints: every check but a Monte Carlo Fisher p-value first;
    that one then only when few completions are left (:data:`MAX_MONTE_CARLO`), else it is not used; or None
    when that is so and ``tighter`` says tighter ranges could be had (the caller lists the completions again)."""
    first: dict[str, int] = {}
    kept = _checked(st, keys, sols, families, first, deadline)
    if not first.get("deferred") or not kept:
        return kept
    if len(kept) > MAX_MONTE_CARLO and tighter is not None:
        return None  # the caller may list the completions again within tighter ranges
    budget = {"mc": MAX_MONTE_CARLO if len(kept) <= MAX_MONTE_CARLO else 0}
    return _checked(st, keys, kept, families, budget, deadline)
