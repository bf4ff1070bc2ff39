"""Optimal secondary suppression on one family of linked counts, and the exact attacker's check.

The numbers only: *atoms* (the counts of each combination of values in each group and period, whole numbers >= 0),
*cells* (each a sum of atoms: every count the shared files print, and the implicit ones), and *blocks* (sets of
atoms whose total is public: the number of reports or people in a period). A reader of the shared files knows every
shown cell's value, that every hidden cell is at least 1 (zeros are shown), the block totals, and any extra upper
bound (``upper``). A *target* is a cell whose value is 1 to threshold - 1: a printed one (hidden: primary
suppression) or an implicit one. It is protected when the reader's range for it includes 0 or a value >= the
threshold, i.e. when some whole-number table consistent with everything shown puts it there (a *certificate*).

Secondary suppression (:func:`protect`): for each target not yet protected, a mixed-integer programme (HiGHS:
:func:`analysis.stats.milp.milp`) finds the cheapest set of further cells to hide together with a certificate:
variables are the certificate's atoms x (integers), a 0/1 y per hideable cell and, for an implicit target, a 0/1 z;
constraints: block totals, each shown cell equal to its value unless hidden (|A_c x - v_c| <= M_c y_c), each hidden
cell >= 1, the target >= threshold (or, implicit, = 0); objective: the hidden cells' cost. This is the disaggregated
form of Fischetti & Salazar-Gonzalez's (2001) model with the integer attacker; targets are taken one at a time (each
solved to optimality given the cells already hidden), a certificate found for one target is re-used for the others
it protects, and a final pass shows again every hidden cell no target needs. *Soft* cells (the committee's key rows)
are kept shown unless a target cannot be protected otherwise. Hiding only ever widens what a reader can infer, so a
certificate stays valid as more cells are hidden.

The check (:func:`audit`) is independent of the search: for each target, the minimum and the maximum of the cell
over every whole-number table consistent with what is shown (two integer programmes).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint

from ...stats.milp import WarmLP, milp, whole_number

TIME_LIMIT = 30.0  # seconds per programme; HiGHS stops with its best solution so far
GAP = 0.5  # relative optimality gap at which a search stops (the check afterwards is exact)
PRUNE_CELLS = 25  # hidden cells tried for showing again, per family (dearest first; a count, not a time, so that
#                   the same inputs always give the same shared files)
STEP = 2  # first look for certificates within STEP x threshold of the true table, cell by cell (much faster)


@dataclass
class Problem:
    """One family's counts: ``A`` (cells x atoms, 0/1), the cells' values, status and cost, the blocks."""

    A: sparse.csr_matrix
    value: np.ndarray  # each cell's true count
    published: np.ndarray  # printed somewhere (else implicit)
    fixed: np.ndarray  # printed and never hidden (zeros; totals a reader knows anyway)
    soft: np.ndarray  # printed, hidden only when nothing else protects a target (key rows)
    cost: np.ndarray  # cost of hiding each cell
    blocks: list[tuple[np.ndarray, int]]  # (atoms, known total)
    atom_ub: np.ndarray  # upper bound of each atom
    upper: dict[int, int] = field(default_factory=dict)  # cell -> a value a reader knows it does not exceed
    threshold: int = 5
    x0: np.ndarray | None = None  # the true atoms (lets the search look near them first)

    @property
    def n_cells(self) -> int:
        return self.A.shape[0]

    @property
    def n_atoms(self) -> int:
        return self.A.shape[1]

    @property
    def primary(self) -> np.ndarray:
        return self.published & (self.value >= 1) & (self.value < self.threshold)

    @property
    def targets(self) -> np.ndarray:
        return (self.value >= 1) & (self.value < self.threshold)

    def cell_ub(self) -> np.ndarray:
        """An upper bound of each cell: the totals of the blocks it touches (atom bounds where no block)."""
        cached = self.__dict__.get("_cell_ub")
        if cached is not None:
            return cached
        ub = np.zeros(self.n_cells)
        in_block = np.zeros(self.n_atoms, dtype=bool)
        A = self.A.tocsc()
        for atoms, total in self.blocks:
            touched = np.asarray(A[:, atoms].sum(axis=1)).ravel() > 0
            ub[touched] += total
            in_block[atoms] = True
        loose = np.where(~in_block)[0]
        if len(loose):
            ub += np.asarray(A[:, loose] @ self.atom_ub[loose]).ravel()
        self.__dict__["_cell_ub"] = ub
        return ub


@dataclass
class Solution:
    hidden: np.ndarray  # per cell
    certificates: dict[int, np.ndarray]  # target -> a table (atoms) putting it at 0 or >= threshold
    unprotected: list[int]  # targets no suppression protects
    used_soft: bool = False

    def reasons(self, problem: Problem) -> dict[int, list[int]]:
        """For each hidden cell that is not a target: the targets whose certificate changes it."""
        out: dict[int, list[int]] = {}
        for t, x in self.certificates.items():
            diff = np.where(np.abs(problem.A @ x - problem.value) > 1e-6)[0]
            for c in diff:
                if self.hidden[c] and not problem.targets[c]:
                    out.setdefault(int(c), []).append(t)
        return out


# --- the programmes ---------------------------------------------------------------------------------------------


class _Rows:
    """Constraint rows built as coordinate triplets (much faster than stacking sparse blocks), turned into one
    compressed-column matrix in canonical order (the matrix HiGHS receives does not depend on how it was built)."""

    def __init__(self, problem: Problem):
        self.problem = problem
        self.r: list[np.ndarray] = []
        self.c: list[np.ndarray] = []
        self.v: list[np.ndarray] = []
        self.lb: list[np.ndarray] = []
        self.ub: list[np.ndarray] = []
        self.n = 0

    def add(self, rows, cols, vals, lb, ub, count: int) -> None:
        """``count`` rows: entries (``rows`` local to them, ``cols``, ``vals``), bounds ``lb``/``ub`` (scalars or
        arrays)."""
        self.r.append(np.asarray(rows, dtype=np.int64) + self.n)
        self.c.append(np.asarray(cols, dtype=np.int64))
        self.v.append(_fill(vals, len(self.r[-1])))
        self.lb.append(_fill(lb, count))
        self.ub.append(_fill(ub, count))
        self.n += count

    def cells(self, idx: np.ndarray, lb, ub) -> None:
        """One row per cell of ``idx``: its atoms (columns 0 .. n_atoms - 1)."""
        rows, cols = _cell_entries(self.problem, idx)
        self.add(rows, cols, 1.0, lb, ub, len(idx))

    def matrix(self, n_cols: int) -> sparse.csc_matrix:
        r = np.concatenate(self.r) if self.r else np.zeros(0, dtype=np.int64)
        c = np.concatenate(self.c) if self.c else np.zeros(0, dtype=np.int64)
        v = np.concatenate(self.v) if self.v else np.zeros(0)
        order = np.lexsort((r, c))
        indptr = np.zeros(n_cols + 1, dtype=np.int64)
        np.cumsum(np.bincount(c, minlength=n_cols), out=indptr[1:])
        return sparse.csc_matrix((v[order], r[order], indptr), shape=(self.n, n_cols))

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        if not self.lb:
            return np.zeros(0), np.zeros(0)
        return np.concatenate(self.lb), np.concatenate(self.ub)


def _fill(values, n: int) -> np.ndarray:
    """``values`` as a float array of length ``n`` (a scalar repeated)."""
    if np.isscalar(values):
        return np.full(n, float(values))
    return np.asarray(values, dtype=float)


def _csr(problem: Problem) -> sparse.csr_matrix:
    cached = problem.__dict__.get("_csr")
    if cached is None:
        cached = problem.__dict__["_csr"] = problem.A.tocsr()
    return cached


def _cell_entries(problem: Problem, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(row within ``idx``, atom) of every entry of the cells ``idx`` (rows of A)."""
    A = _csr(problem)
    idx = np.asarray(idx, dtype=np.int64)
    starts, stops = A.indptr[idx], A.indptr[idx + 1]
    lens = stops - starts
    rows = np.repeat(np.arange(len(idx)), lens)
    offsets = np.repeat(starts - np.concatenate([[0], np.cumsum(lens)[:-1]]), lens) if len(idx) else lens
    return rows, A.indices[np.arange(int(lens.sum())) + offsets]


def _rows(problem: Problem, hidden: np.ndarray, cands: np.ndarray, soft_fixed: bool,
          step: float | None = None) -> tuple[_Rows, np.ndarray]:
    """The constraints on one certificate x (columns 0 .. n_atoms - 1) and the 0/1 hide decisions y of the
    candidate cells (columns n_atoms ..): block totals, shown cells at their values, hidden printed cells >= 1,
    each candidate at its value unless hidden (|A_c x - v_c| <= M_c y_c) and >= 1, known upper bounds. With ``step``
    a hidden cell may move at most ``step`` from its value. Returns the rows and the candidates (in column order)."""
    v = problem.value.astype(float)
    m_ub = problem.cell_ub()
    big = np.maximum(v, m_ub - v)
    if step is not None:
        big = np.minimum(big, step)
    out = _Rows(problem)
    n = problem.n_atoms
    for atoms, total in problem.blocks:
        out.add(np.zeros(len(atoms)), atoms, 1.0, total, total, 1)
    shown = problem.published & ~hidden & ~cands  # (a soft candidate is a candidate either way)
    idx = np.where(shown)[0]
    if len(idx):
        out.cells(idx, v[idx], v[idx])
    idx = np.where(problem.published & hidden)[0]
    if len(idx):
        out.cells(idx, 1.0, np.inf)
    cidx = np.where(cands)[0]
    n_y = len(cidx)
    if n_y:
        k = np.arange(n_y)
        rows, cols = _cell_entries(problem, cidx)
        out.add(np.concatenate([rows, k]), np.concatenate([cols, n + k]),
                np.concatenate([np.ones(len(rows)), -big[cidx]]), -np.inf, v[cidx], n_y)
        out.add(np.concatenate([rows, k]), np.concatenate([cols, n + k]),
                np.concatenate([np.ones(len(rows)), big[cidx]]), v[cidx], np.inf, n_y)
        out.add(rows, cols, 1.0, 1.0, np.inf, n_y)
    for c, u in problem.upper.items():
        out.cells(np.array([c]), -np.inf, float(u))
    return out, cidx


def _solve_target(problem: Problem, target: int, hidden: np.ndarray, *, soft_fixed: bool, integer: bool = False):
    """The cheapest further cells to hide so that ``target`` is protected, with its certificate; None when no
    choice of hideable cells protects it. With ``integer`` False the certificate may be fractional (a reader
    allowed fractions): faster, and :func:`protect` checks the whole-number case afterwards. The search looks
    near the true table first (every atom and hidden cell within STEP x threshold of its value): any certificate
    found there is a certificate, and it is much faster; only when there is none does it look everywhere."""
    if problem.x0 is not None:
        found = _solve_target_in(problem, target, hidden, soft_fixed=soft_fixed, integer=integer,
                                 step=STEP * problem.threshold)
        if found is not None:
            return found
    return _solve_target_in(problem, target, hidden, soft_fixed=soft_fixed, integer=integer, step=None)


def _solve_target_in(problem: Problem, target: int, hidden: np.ndarray, *, soft_fixed: bool, integer: bool,
                     step: float | None):
    t = problem.threshold
    cands = problem.published & ~hidden & ~problem.fixed & (problem.value >= 1)
    if soft_fixed:
        cands &= ~problem.soft
    rows, cidx = _rows(problem, hidden, cands, soft_fixed, step)
    n, n_y = problem.n_atoms, len(cidx)
    implicit = not problem.published[target]
    n_z = 1 if implicit else 0
    r_t, a_t = _cell_entries(problem, np.array([target]))
    if implicit:  # the target is 0 (z = 0) or at least the threshold (z = 1)
        m_ub = problem.cell_ub()[target]
        z = np.array([n + n_y])
        rows.add(np.concatenate([r_t, [0]]), np.concatenate([a_t, z]), np.concatenate([np.ones(len(a_t)), [-float(t)]]),
                 0.0, np.inf, 1)
        rows.add(np.concatenate([r_t, [0]]), np.concatenate([a_t, z]),
                 np.concatenate([np.ones(len(a_t)), [-float(m_ub)]]), -np.inf, 0.0, 1)
    else:
        rows.add(r_t, a_t, 1.0, float(t), np.inf, 1)
    M = rows.matrix(n + n_y + n_z)
    lb, ub = rows.bounds()
    cost = np.zeros(n + n_y + n_z)
    if n_y:
        cost[n:n + n_y] = problem.cost[cidx]
    lo = np.zeros(n + n_y + n_z)
    hi = np.concatenate([problem.atom_ub, np.ones(n_y + n_z)]).astype(float)
    if step is not None:
        lo[:n] = np.maximum(0, problem.x0 - step)
        hi[:n] = np.minimum(problem.atom_ub, problem.x0 + step)
    integrality = np.ones(len(cost))
    if not integer:
        integrality[:n] = 0
    res = milp(cost, constraints=LinearConstraint(M, lb, ub), integrality=integrality,
               bounds=Bounds(lo, hi), options={"time_limit": TIME_LIMIT, "mip_rel_gap": GAP})
    if res.x is None:
        return None
    x = np.round(res.x[:n]).astype(np.int64) if integer else res.x[:n]
    add = np.zeros(problem.n_cells, dtype=bool)
    if n_y:
        add[cidx[np.round(res.x[n:n + n_y]) > 0.5]] = True
    return add, x


def _values(problem: Problem, x: np.ndarray) -> np.ndarray:
    """Every cell's value in the table ``x`` (A x; kept for each certificate, which never changes once made)."""
    cache = problem.__dict__.setdefault("_values", {})
    got = cache.get(id(x))
    if got is None or got[0] is not x:
        got = cache[id(x)] = (x, _csr(problem) @ x)
    return got[1]


def _protects(problem: Problem, x: np.ndarray, target: int, integer: bool = True) -> bool:
    if integer and not _integral(x):
        return False
    val = float(_values(problem, x)[target])
    return val >= problem.threshold - 1e-6 or (not problem.published[target] and abs(val) < 1e-6)


def score(problem: Problem, hidden: np.ndarray, unprotected: list[int]) -> tuple[int, int]:
    """(targets left unprotected, printed cells of at least the threshold hidden): how a choice of merges is
    judged. Both only grow while :func:`protect` works through the targets (before pruning)."""
    big = hidden & problem.published & (problem.value >= problem.threshold)
    return len(unprotected), int(big.sum())


def protect(problem: Problem, *, prune: bool = True, give_up_at: tuple[int, int] | None = None) -> Solution | None:
    """Hide the printed targets and the cheapest further cells so every target is protected (module docstring).

    First every target is protected against a reader allowed fractions (fast linear relaxations of the
    certificate); then (after the optional pruning pass) each target is checked with whole numbers and, where the
    fractional certificate does not carry over, protected again with a whole-number certificate.

    ``give_up_at``: stop (return None) as soon as :func:`score` reaches it; the score only grows, so the finished
    solution would have scored at least as much (used to drop a merge that cannot beat the best one so far)."""
    hidden = problem.primary.copy()
    certs: dict[int, np.ndarray] = {}
    unprotected: list[int] = []
    used_soft = False
    targets = sorted(np.where(problem.targets)[0], key=lambda c: (not problem.published[c], -problem.value[c]))
    for tgt in targets:
        if give_up_at is not None and score(problem, hidden, unprotected) >= give_up_at:
            return None
        found, soft = _protect_one(problem, tgt, hidden, certs, integer=False)
        used_soft |= soft
        if found is None:
            unprotected.append(int(tgt))
            continue
        add, x = found
        hidden |= add
        certs[int(tgt)] = x
    sol = Solution(hidden, certs, unprotected, used_soft)
    if prune:
        finish(problem, sol)
    return sol


def finish(problem: Problem, sol: Solution) -> Solution:
    """Show again the hidden cells no target needs, then make every certificate whole-numbered."""
    _prune(problem, sol)
    _whole_numbers(problem, sol)
    return sol


def _protect_one(problem: Problem, tgt: int, hidden: np.ndarray, certs: dict, *, integer: bool):
    """A certificate for ``tgt``: one already found, or the cheapest new cells to hide (soft cells only when
    nothing else works). Returns ((cells to add, certificate) or None, whether soft cells were opened)."""
    reuse = next((x for x in certs.values() if _protects(problem, x, tgt, integer)), None)
    if reuse is not None:
        return (np.zeros(problem.n_cells, dtype=bool), reuse), False
    found = _solve_target(problem, tgt, hidden, soft_fixed=True, integer=integer)
    if found is None and problem.soft.any():
        found = _solve_target(problem, tgt, hidden, soft_fixed=False, integer=integer)
        return found, found is not None
    return found, False


def _whole_numbers(problem: Problem, sol: Solution) -> None:
    """Give every target a whole-number certificate, hiding more where a fractional one does not carry over."""
    for tgt in sorted(sol.certificates):
        x = sol.certificates[tgt]
        if _integral(x) and _protects(problem, x, tgt, True):
            continue
        found, soft = _protect_one(problem, tgt, sol.hidden,
                                   {k: v for k, v in sol.certificates.items() if _integral(v)}, integer=True)
        sol.used_soft |= soft
        if found is None:
            del sol.certificates[tgt]
            sol.unprotected.append(int(tgt))
            continue
        sol.hidden |= found[0]
        sol.certificates[tgt] = found[1]


def _integral(x: np.ndarray) -> bool:
    return bool(np.all(np.abs(x - np.round(x)) < 1e-6))


def _prune(problem: Problem, sol: Solution) -> None:
    """Show again each hidden non-target cell (dearest first) when every target keeps a certificate without it."""
    secondary = [c for c in np.where(sol.hidden & ~problem.targets)[0]]
    # Whole-number certificates found so far, for any target: one that is still consistent with what would be shown
    # and protects a target answers for it without a programme. Whether a cell is shown again does not depend on
    # which certificate answers (only on whether one exists), so the shared files are the same either way.
    pool = _Pool(problem, [x for x in sol.certificates.values() if _integral(x)])
    for c in sorted(secondary, key=lambda c: (-problem.cost[c], c))[:PRUNE_CELLS]:
        trial = sol.hidden.copy()
        trial[c] = False
        new_certs = {}
        ok = True
        usable = None
        for tgt, x in sol.certificates.items():
            if abs(float(_values(problem, x)[c]) - problem.value[c]) < 1e-6:
                continue  # this certificate does not need the cell
            integer = _integral(x)
            found = None
            if integer:
                if usable is None:
                    usable = pool.consistent(trial)
                found = pool.protecting(tgt, usable)
            if found is None:
                found = _feasible(problem, tgt, trial, integer=integer)
                if found is None:
                    ok = False
                    break
                if integer:
                    pool.add(found)
                    usable = None
            new_certs[tgt] = found
        if ok:
            sol.hidden = trial
            sol.certificates.update(new_certs)


class _Pool:
    """Whole-number certificates (tables of the family's atoms) and every cell's value in each."""

    def __init__(self, problem: Problem, tables: list[np.ndarray]):
        self.problem = problem
        self.tables: list[np.ndarray] = []
        self.values = np.zeros((problem.n_cells, 0))
        for x in tables:
            self.add(x)

    def add(self, x: np.ndarray) -> None:
        self.tables.append(x)
        self.values = np.column_stack([self.values, _values(self.problem, x)])

    def consistent(self, hidden: np.ndarray) -> np.ndarray:
        """Which tables a reader cannot rule out when exactly ``hidden`` is hidden: shown cells at their values,
        hidden printed cells at least 1, the known upper bounds, the block totals and the atoms' bounds."""
        p, V = self.problem, self.values
        ok = np.ones(V.shape[1], dtype=bool)
        shown = p.published & ~hidden
        ok &= np.all(np.abs(V[shown] - p.value[shown, None]) < 1e-6, axis=0)
        ok &= np.all(V[p.published & hidden] >= 1 - 1e-6, axis=0)
        for c, u in p.upper.items():
            ok &= V[c] <= u + 1e-6
        for i in np.where(ok)[0]:
            x = self.tables[i]
            ok[i] = bool(np.all(x >= -1e-6) and np.all(x <= p.atom_ub + 1e-6)
                         and all(abs(float(x[atoms].sum()) - total) < 1e-6 for atoms, total in p.blocks))
        return ok

    def protecting(self, target: int, usable: np.ndarray) -> np.ndarray | None:
        """The first usable table that protects ``target``, or None."""
        for i in np.where(usable)[0]:
            if _protects(self.problem, self.tables[i], target, True):
                return self.tables[i]
        return None


def _feasible(problem: Problem, target: int, hidden: np.ndarray, *, integer: bool) -> np.ndarray | None:
    """A certificate for ``target`` with exactly ``hidden`` hidden (no further cells), or None."""
    frozen = Problem(problem.A, problem.value, problem.published, problem.fixed | ~hidden, problem.soft,
                     problem.cost, problem.blocks, problem.atom_ub, problem.upper, problem.threshold, problem.x0)
    frozen.__dict__["_cell_ub"] = problem.cell_ub()
    frozen.__dict__["_csr"] = _csr(problem)
    found = _solve_target(frozen, target, hidden, soft_fixed=True, integer=integer)
    return None if found is None or found[0].any() else found[1]


# --- the exact check ------------------------------------------------------------------------------------------------


def audit(problem: Problem, hidden: np.ndarray, *, full: bool = False) -> dict[int, tuple[int, int]]:
    """For each target: (min, max) of its value over every whole-number table consistent with what is shown
    (shown cells at their values, hidden printed cells >= 1, block totals, known upper bounds). The maximum is
    computed first; the minimum only when the maximum is below the threshold or with ``full`` (else the minimum
    reported is the smallest value a reader knows anyway: 1 for a printed cell, 0 for an implicit one)."""
    cands = np.zeros(problem.n_cells, dtype=bool)
    rows, _ = _rows(problem, hidden, cands, soft_fixed=True)
    lb, ub = rows.bounds()
    cons = LinearConstraint(rows.matrix(problem.n_atoms), lb, ub)
    bounds = Bounds(np.zeros(problem.n_atoms), problem.atom_ub.astype(float))
    relaxed = WarmLP(bounds, cons)
    out = {}
    for tgt in np.where(problem.targets)[0]:
        a = problem.A[[tgt]].toarray().ravel()
        ends = {}
        for sign in (-1.0, 1.0):  # maximum, then minimum
            if sign > 0 and not full and ends[-1.0] >= problem.threshold:
                ends[sign] = 1 if problem.published[tgt] else 0
                continue
            res = relaxed.solve(sign * a)  # the linear relaxation, from the last solve's basis
            x = whole_number(res.x) if res.status == 0 else None
            if x is not None:  # a whole-number table: the whole-number optimum
                ends[sign] = int(round(float(a @ x)))
                continue
            res = milp(sign * a, constraints=cons, integrality=np.ones(problem.n_atoms), bounds=bounds,
                       options={"time_limit": TIME_LIMIT})
            if res.status == 2:  # HiGHS's presolve can call a feasible programme infeasible (the true table is a
                #                  solution): solve it again without (issue 11, the role family of seed 424242)
                res = milp(sign * a, constraints=cons, integrality=np.ones(problem.n_atoms), bounds=bounds,
                           options={"time_limit": TIME_LIMIT, "presolve": False})
            if res.x is None or res.status != 0:
                raise RuntimeError(f"the exact check could not solve a range ({res.message})")
            ends[sign] = int(round(float(a @ res.x)))
        out[int(tgt)] = (ends[1.0], ends[-1.0])
    return out


def is_protected(range_: tuple[int, int], threshold: int) -> bool:
    lo, hi = range_
    return lo <= 0 or hi >= threshold
