"""The attacker's integer program: every printed count as a linear expression over the atoms, and exact ranges.

Unknowns (all whole numbers >= 0): for each population, role and period, the size N and, for each family of the
codebook (:func:`analysis.tables.audit.scheme.families`), the number of units in each atom; the option counts of
multi-select variables; and, for tables the codebook does not describe, one unknown per printed level. A key
(:class:`~analysis.tables.audit.register.Key`) is a sum of unknowns; the overall column is the sum of the periods
and the everyone table the sum of the roles. Constraints: each family's atoms add up to N; the multi-select
projection; everything the shared files print (a visible count is an equality, ``<t`` is 1..t-1, another marker
is 0 or more (1 or more when the files say zero is always shown), a printed share ``100 n / den`` rounds to what is
printed); and the printed tests (:mod:`analysis.tables.audit.printed`) as a choice among the completions that
reproduce them. A cell's range is its minimum and maximum over the whole-number solutions: HiGHS
(:func:`analysis.stats.milp.milp`), one connected component of the constraint graph at a time after fixing what the
equations fix.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import Bounds, LinearConstraint
from scipy.sparse import csr_matrix

from ...scheme.codebook import Codebook
from ...scheme.config import StudyConfig
from ...stats.milp import WarmLP, milp, whole_number
from .register import IMPLICIT_NO, N_COLUMN, OVERALL, Key
from .scheme import KNOWN, Family, Multi, Spec, families, family_of, merged_members, variable_specs

BIG = 10_000_000


@dataclass
class Constraint:
    coefs: dict[int, float]
    lo: float
    hi: float
    why: str


@dataclass
class System:
    """Unknowns (name, bounds, whole number) and linear constraints ``lo <= sum(coef * x) <= hi``."""

    names: list[str] = field(default_factory=list)
    lb: list[float] = field(default_factory=list)
    ub: list[float] = field(default_factory=list)
    integer: list[bool] = field(default_factory=list)
    rows: list[Constraint] = field(default_factory=list)

    def var(self, name: str, lb: float = 0.0, ub: float = BIG, integer: bool = True) -> int:
        self.names.append(name)
        self.lb.append(lb)
        self.ub.append(ub)
        self.integer.append(integer)
        return len(self.names) - 1

    def add(self, coefs: dict[int, float], lo: float, hi: float, why: str) -> None:
        coefs = {k: v for k, v in coefs.items() if v}
        self.rows.append(Constraint(coefs, lo, hi, why))


Expr = tuple[dict[int, float], float]


def _plus(*exprs: Expr, scale: float = 1.0) -> Expr:
    out: dict[int, float] = defaultdict(float)
    const = 0.0
    for coefs, c in exprs:
        for k, v in coefs.items():
            out[k] += scale * v
        const += scale * c
    return dict(out), const


def _minus(a: Expr, b: Expr) -> Expr:
    return _plus(a, _plus(b, scale=-1.0))


class Builder:
    """Keys as expressions over the system's unknowns, made as they are asked for."""

    def __init__(self, cb: Codebook, cfg: StudyConfig, system: System):
        self.system = system
        self.periods = tuple(cfg.period_codes)
        self.fams = families(cb, cfg)
        self.fam_of = {pop: family_of(f) for pop, f in self.fams.items()}
        self.specs: dict[str, dict[str, Spec]] = {
            pop: {s.column: s for s in specs.values()} for pop, specs in variable_specs(cb, cfg).items()}
        self.roles = {"incidents": (None,), "persons": tuple(cb.variable("persons", "role").code_values)}
        self._n: dict[tuple, int] = {}
        self._atoms: dict[tuple, list[tuple[dict, int]]] = {}
        self._opts: dict[tuple, dict[str, int]] = {}
        self._generic: dict[tuple, int] = {}
        self.generic_blocks: dict[tuple, tuple[list[str], list[str], bool]] = {}

    # --- unknowns --------------------------------------------------------------------------------------------

    def n_var(self, pop: str, role: str | None, period: str) -> int:
        k = (pop, role, period)
        if k not in self._n:
            self._n[k] = self.system.var(f"N[{pop},{role},{period}]")
        return self._n[k]

    def atoms(self, pop: str, fam: Family, role: str | None, period: str) -> list[tuple[dict, int]]:
        k = (pop, fam.name, role, period)
        if k not in self._atoms:
            out = []
            for a in fam.atoms_for(role):
                desc = ",".join(f"{c}={v}" for c, v in a.items())
                out.append((a, self.system.var(f"atom[{pop},{fam.name},{role},{period}:{desc}]")))
            self._atoms[k] = out
            coefs = {v: 1.0 for _, v in out}
            coefs[self.n_var(pop, role, period)] = -1.0
            self.system.add(coefs, 0, 0, f"{pop} {fam.name} ({role or 'all'}, {period}): atoms add up to N")
        return self._atoms[k]

    def crossed(self, pop: str, fam: Family, role, period) -> dict[tuple[str, object, object], int]:
        """The unknowns of a :class:`~analysis.tables.audit.scheme.Cross` family: ('a', a), ('b', b) and
        ('ab', s, b) for the special values s of A."""
        k = (pop, fam.name, role, period)
        if k not in self._atoms:
            cr = fam.cross
            atoms = fam.atoms_for(role)
            a_values = list(dict.fromkeys(at[cr.a] for at in atoms))
            b_values = list(dict.fromkeys(at[cr.b] for at in atoms))
            v: dict = {}
            for a in a_values:
                v[("a", a, None)] = self.system.var(f"cross[{pop},{fam.name},{role},{period}:{cr.a}={a}]")
            for b in b_values:
                v[("b", b, None)] = self.system.var(f"cross[{pop},{fam.name},{role},{period}:{cr.b}={b}]")
            for s in cr.special:
                for b in b_values:
                    v[("ab", s, b)] = self.system.var(f"cross[{pop},{fam.name},{role},{period}:{s} x {b}]")
            self._atoms[k] = v
            n = self.n_var(pop, role, period)
            where = f"{pop} {fam.name} ({role or 'all'}, {period})"
            self.system.add({**{v[("a", a, None)]: 1.0 for a in a_values}, n: -1.0}, 0, 0, f"{where}: add up to N")
            self.system.add({**{v[("b", b, None)]: 1.0 for b in b_values}, n: -1.0}, 0, 0, f"{where}: add up to N")
            for s in cr.special:
                self.system.add({**{v[("ab", s, b)]: 1.0 for b in b_values}, v[("a", s, None)]: -1.0}, 0, 0,
                                f"{where}: {s} by {cr.b} adds up to {s}")
            for b in b_values:
                self.system.add({**{v[("ab", s, b)]: 1.0 for s in cr.special}, v[("b", b, None)]: -1.0}, -math.inf, 0,
                                f"{where}: {cr.b} = {b} holds the special cells")
        return self._atoms[k]

    def _crossed_expr(self, key: Key, fam: Family, spec, r, p) -> dict[int, float]:
        cr = fam.cross
        v = self.crossed(key.pop, fam, r, p)
        if key.column == cr.a:
            return {x: 1.0 for (kind, a, _), x in v.items() if kind == "a" and matches(spec, key.level, a)}
        if key.column == cr.b:
            return {x: 1.0 for (kind, b, _), x in v.items() if kind == "b" and matches(spec, key.level, b)}
        out: dict[int, float] = {}
        atoms = fam.atoms_for(r)
        for at in atoms:
            if not matches(spec, key.level, at.get(key.column)):
                continue
            if at[cr.a] in cr.special:
                out[v[("ab", at[cr.a], at[cr.b])]] = 1.0
            else:
                out[v[("a", at[cr.a], None)]] = 1.0  # the same for every B (checked in scheme._crossed)
        return out

    def _known(self, pop: str, fam: Family, multi: Multi, role, period) -> dict[int, float]:
        return {v: 1.0 for a, v in self.atoms(pop, fam, role, period) if a.get(multi.name) == KNOWN}

    def options(self, pop: str, fam: Family, multi: Multi, role, period) -> dict[str, int]:
        """The option counts of a multi-select variable, tied to its known count (see scheme.Multi)."""
        k = (pop, multi.name, role, period)
        if k not in self._opts:
            opts = {o: self.system.var(f"option[{pop},{multi.name}__{o},{role},{period}]") for o in multi.options}
            self._opts[k] = opts
            known = self._known(pop, fam, multi, role, period)
            excl = {opts[e]: 1.0 for e in multi.exclusive}
            rest = [o for o in multi.options if o not in multi.exclusive]
            # w = known - sum(exclusive) units have at least one of the other options, each option at most w
            w = _minus((known, 0.0), (excl, 0.0))
            if excl:
                self.system.add(_minus(w, ({}, 0.0))[0], 0, math.inf, f"{multi.name}: exclusive options <= known")
            for o in rest:
                self.system.add(_minus(w, ({opts[o]: 1.0}, 0.0))[0], 0, math.inf,
                                f"{multi.name}__{o} <= answers with another option")
            self.system.add(_minus(({opts[o]: 1.0 for o in rest}, 0.0), w)[0], 0, math.inf,
                            f"{multi.name}: every answer has at least one option")
        return self._opts[k]

    # --- keys ------------------------------------------------------------------------------------------------

    def _cells(self, key: Key) -> list[tuple[str | None, str]]:
        roles = (key.role,) if key.role is not None else self.roles.get(key.pop, (None,))
        periods = self.periods if key.period == OVERALL else (key.period,)
        return [(r, p) for r in roles for p in periods]

    def expr(self, key: Key) -> Expr:
        if key.pop.startswith("generic:"):
            return self._generic_expr(key)
        out: dict[int, float] = defaultdict(float)
        if key.column == N_COLUMN or (key.column == "role" and key.pop == "persons"):
            for r, p in self._cells(key):
                if key.column == "role" and key.level not in (r, "den"):
                    continue  # a role table's units all have its role; 'outside' the roles: nobody
                out[self.n_var(key.pop, r, p)] += 1.0
            return dict(out), 0.0
        fam_multi = self.fam_of.get(key.pop, {}).get(key.column)
        if fam_multi is None:
            return self._free(key)
        fam, multi = fam_multi
        spec = self.specs.get(key.pop, {}).get(key.column)
        for r, p in self._cells(key):
            if multi is not None:
                part = self._option_expr(key, fam, multi, r, p)
            elif fam.cross is not None:
                part = (self._crossed_expr(key, fam, spec, r, p), 0.0)
            else:
                part = ({v: 1.0 for a, v in self.atoms(key.pop, fam, r, p) if matches(spec, key.level,
                                                                                     a.get(key.column))}, 0.0)
            for k, v in part[0].items():
                out[k] += v
        return dict(out), 0.0

    def _option_expr(self, key: Key, fam: Family, multi: Multi, r, p) -> Expr:
        option = key.column.split("__", 1)[1]
        c = self.options(key.pop, fam, multi, r, p)[option]
        known = (self._known(key.pop, fam, multi, r, p), 0.0)
        n = ({self.n_var(key.pop, r, p): 1.0}, 0.0)
        if key.level == "yes":
            return {c: 1.0}, 0.0
        if key.level == "no":
            return _minus(known, ({c: 1.0}, 0.0))
        if key.level == "den":
            return known
        return _minus(n, known)  # unknown / outside

    def _free(self, key: Key) -> Expr:
        """A key the codebook relates to nothing: one unknown per period (overall is their sum)."""
        out = {}
        for r, p in self._cells(key):
            k = (key.pop, r, key.column, key.level, p)
            if k not in self._generic:
                self._generic[k] = self.system.var(f"free[{k}]")
            out[self._generic[k]] = 1.0
        return out, 0.0

    def _generic_expr(self, key: Key) -> Expr:
        if key.column == N_COLUMN:
            return {self.n_var(key.pop, key.role, p): 1.0 for _, p in self._cells(key)}, 0.0
        block = self.generic_blocks.get((key.pop, key.role, key.column))
        if key.level == "den" and block is not None and block[2]:
            return _plus(*[self._free(key.with_level(lev)) for lev in block[0]])
        return self._free(key)

    def add_generic_block(self, pop: str, role, column: str, levels: list[str], outside: list[str],
                          clear: bool) -> None:
        """Every unit has at most one level: the printed levels (inside and outside the denominator) add up to at
        most N; exactly N for a yes/no (its 'Unknown' row is printed), not for a category, whose blank values (e.g.
        a reason that applies only to some results) have no row."""
        self.generic_blocks[(pop, role, column)] = (levels, outside, clear)
        binary = IMPLICIT_NO in levels
        for p in self.periods:
            parts = [self._free(Key(pop, role, column, lev, p)) for lev in levels + outside]
            total = _minus(_plus(*parts), ({self.n_var(pop, role, p): 1.0}, 0.0))
            self.system.add(total[0], -float("inf") if not binary else -total[1], -total[1],
                            f"{pop} {column} ({p}): levels add up to " + ("N" if binary else "at most N"))


def matches(spec: Spec | None, level: str, value) -> bool:
    """Whether an atom's value of a column counts in a key's level (see register.Key)."""
    if level in ("den", "outside"):
        inside = _in_den(spec, value)
        return inside if level == "den" else not inside
    if level == "n":
        return value == KNOWN
    if spec is not None and spec.kind == "binary" and not spec.coded:
        return {"yes": value is True, "no": value is False, "unknown": value is None}.get(level, False)
    members = merged_members(level)
    if members is not None:
        return value in members
    return value == level


def _in_den(spec: Spec | None, value) -> bool:
    if spec is None:
        return value is not None
    if spec.kind == "number":
        return value == KNOWN
    if spec.kind == "binary" and not spec.coded:
        return value is True or value is False
    return value in spec.substantive


# --- solving -----------------------------------------------------------------------------------------------------


class Infeasible(Exception):
    """The printed numbers and the relations admit no whole-number solution (``why``: the constraints involved)."""


class Solver:
    """Exact ranges of linear expressions over a :class:`System`, component by component."""

    def __init__(self, system: System):
        self.s = system
        n = len(system.names)
        self.fixed: dict[int, float] = {}
        self.problems: list[str] = []
        lb = np.array(system.lb, dtype=float)
        ub = np.array(system.ub, dtype=float)
        self.lb, self.ub = lb, ub
        for k in range(n):
            if lb[k] == ub[k]:
                self.fixed[k] = lb[k]
        self._presolve()
        parent = list(range(n))

        def find(x):
            while parent[x] != x:
                parent[x] = parent[parent[x]]
                x = parent[x]
            return x

        for row in system.rows:
            free = [k for k in row.coefs if k not in self.fixed]
            for a, b in zip(free, free[1:]):
                ra, rb = find(a), find(b)
                if ra != rb:
                    parent[ra] = rb
        self.comp = {k: find(k) for k in range(n) if k not in self.fixed}
        members: dict[int, list[int]] = defaultdict(list)
        for k, c in self.comp.items():
            members[c].append(k)
        self.members = dict(members)
        rows_of: dict[int, list[int]] = defaultdict(list)
        for i, row in enumerate(system.rows):
            free = [k for k in row.coefs if k not in self.fixed]
            if free:
                rows_of[self.comp[free[0]]].append(i)
            else:
                val = sum(v * self.fixed[k] for k, v in row.coefs.items())
                if not (row.lo - 1e-6 <= val <= row.hi + 1e-6):
                    self.problems.append(f"contradiction: {row.why} (value {val:g}, allowed {row.lo:g}..{row.hi:g})")
        self.rows_of = dict(rows_of)
        self._cache: dict[int, tuple] = {}
        self.witness: dict[int, list[np.ndarray]] = defaultdict(list)
        self._stacks: dict[int, np.ndarray] = {}  # the witnesses of a component as one array (made when asked)
        self._lps: dict[int, WarmLP] = {}

    def _presolve(self) -> None:
        """Fix what the constraints fix, until nothing changes: an equation with one unknown left determines it,
        and a sum of unknowns (all >= 0, positive coefficients) that must be 0 makes each of them 0; such a sum's
        upper limit also bounds each of its unknowns."""
        changed = True
        while changed:
            changed = False
            for row in self.s.rows:
                free = [k for k in row.coefs if k not in self.fixed]
                if not free:
                    continue
                if all(row.coefs[k] > 0 and self.lb[k] >= 0 for k in free) and row.hi < math.inf:
                    room = row.hi - sum(v * self.fixed[j] for j, v in row.coefs.items() if j in self.fixed)
                    for k in free:
                        cap = math.floor(room / row.coefs[k] + 1e-9)
                        if cap < self.ub[k]:
                            self.ub[k] = max(cap, self.lb[k]) if cap >= self.lb[k] else cap
                            changed = True
                        if self.ub[k] <= self.lb[k]:
                            if self.ub[k] < self.lb[k]:
                                self.problems.append(f"contradiction: {row.why} leaves no room for {self.s.names[k]}")
                                self.ub[k] = self.lb[k]
                            self.fixed[k] = self.lb[k]
                    if any(k in self.fixed for k in free):
                        free = [k for k in free if k not in self.fixed]
                if row.lo != row.hi or len(free) != 1:
                    continue
                k = free[0]
                val = (row.lo - sum(v * self.fixed[j] for j, v in row.coefs.items() if j != k)) / row.coefs[k]
                if abs(val - round(val)) < 1e-9:
                    val = float(round(val))
                if self.s.integer[k] and abs(val - round(val)) > 1e-9 or val < self.lb[k] - 1e-9 or val > self.ub[k] + 1e-9:
                    self.problems.append(f"contradiction: {row.why} makes {self.s.names[k]} = {val:g}")
                    continue
                self.fixed[k] = val
                changed = True

    def _component(self, c: int):
        if c not in self._cache:
            cols = self.members[c]
            index = {k: i for i, k in enumerate(cols)}
            data, ri, ci, lo, hi = [], [], [], [], []
            for r, i in enumerate(self.rows_of.get(c, [])):
                row = self.s.rows[i]
                shift = sum(v * self.fixed[k] for k, v in row.coefs.items() if k in self.fixed)
                for k, v in row.coefs.items():
                    if k not in self.fixed:
                        data.append(v)
                        ri.append(r)
                        ci.append(index[k])
                lo.append(row.lo - shift)
                hi.append(row.hi - shift)
            nrows = len(lo)
            a = csr_matrix((data, (ri, ci)), shape=(max(nrows, 1), len(cols)))
            if nrows == 0:
                lo, hi = [-np.inf], [np.inf]
            cons = LinearConstraint(a, np.array(lo, dtype=float), np.array(hi, dtype=float))
            integ = np.array([1 if self.s.integer[k] else 0 for k in cols])
            bounds = Bounds(self.lb[cols], self.ub[cols])
            self._cache[c] = (cols, index, cons, integ, bounds)
        return self._cache[c]

    def optimise(self, c: int, coefs: dict[int, float], sense: int, relaxed: bool = False) -> float:
        """min (sense 1) or max (sense -1) of sum(coefs * x) over component ``c``: over whole numbers, or over
        real numbers (``relaxed``: a bound on the whole-number optimum, much faster)."""
        cols, index, cons, integ, bounds = self._component(c)
        if not relaxed:
            known = self._attained(c, index, coefs, sense)
            if known is not None:
                return known
        obj = np.zeros(len(cols))
        for k, v in coefs.items():
            obj[index[k]] = sense * v
        res = self._warm(c).solve(obj)  # the linear relaxation, from the last solve's basis
        if res.status == 0 and relaxed:
            return float(sense * res.fun)
        x = whole_number(res.x, integ) if res.status == 0 else None
        if x is not None:  # (the whole-number optimum, without a search)
            self.witness[c].append(x)
            return float(sense * (obj @ x))
        res = milp(obj, integrality=np.zeros_like(integ) if relaxed else integ, bounds=bounds, constraints=cons,
                   options={"disp": False, "presolve": True})
        if res.status == 2:
            raise Infeasible(f"component of {self.s.names[cols[0]]}")
        if res.status == 3 or res.x is None:
            return -sense * math.inf
        if not relaxed:
            self.witness[c].append(res.x)
        return float(sense * res.fun)

    def _warm(self, c: int) -> WarmLP:
        """Component ``c``'s linear relaxation, kept between solves (:class:`~analysis.stats.milp.WarmLP`)."""
        if c not in self._lps:
            _, _, cons, _, bounds = self._component(c)
            self._lps[c] = WarmLP(bounds, cons)
        return self._lps[c]

    def _attained(self, c: int, index: dict[int, int], coefs: dict[int, float], sense: int) -> float | None:
        """The optimum without solving, when a solution found before (a whole-number solution: it is possible)
        already reaches the bound the unknowns' own bounds give (nothing can go beyond it): else None."""
        found = self.witness.get(c)
        if not found:
            return None
        keys = list(coefs)
        v = np.array([coefs[k] for k in keys])
        # min (sense 1): each unknown at its lower bound where its coefficient is positive; max: the other way
        low = (v > 0) == (sense > 0)
        ends = np.where(low, self.lb[keys], self.ub[keys])
        if not np.all(np.isfinite(ends)):
            return None
        bound = float(v @ ends)
        stack = self._stacks.get(c)
        if stack is None or len(stack) != len(found):
            stack = self._stacks[c] = np.array(found)
        values = stack[:, [index[k] for k in keys]] @ v
        return bound if np.any(np.abs(values - bound) < 1e-6) else None

    def range(self, expr: Expr, relaxed: bool = False) -> tuple[float, float]:
        """(min, max) of ``expr`` over the whole-number solutions; with ``relaxed``, bounds that contain them
        (the linear relaxation's, rounded inwards)."""
        coefs, const = expr
        lo = hi = const
        by_comp: dict[int, dict[int, float]] = defaultdict(dict)
        for k, v in coefs.items():
            if k in self.fixed:
                lo += v * self.fixed[k]
                hi += v * self.fixed[k]
            else:
                by_comp[self.comp[k]][k] = v
        for c, part in by_comp.items():
            lo += self.optimise(c, part, 1, relaxed)
            hi += self.optimise(c, part, -1, relaxed)
        if relaxed:
            return (math.ceil(lo - 1e-6) if not math.isinf(lo) else lo), (math.floor(hi + 1e-6) if not math.isinf(hi) else hi)
        return _whole(lo), _whole(hi)

    def seen(self, expr: Expr) -> set[float]:
        """Values ``expr`` takes in the solutions found so far (each a proof that the value is possible)."""
        coefs, const = expr
        base = const + sum(v * self.fixed[k] for k, v in coefs.items() if k in self.fixed)
        by_comp: dict[int, dict[int, float]] = defaultdict(dict)
        for k, v in coefs.items():
            if k not in self.fixed:
                by_comp[self.comp[k]][k] = v
        if not by_comp:
            return {base}
        if len(by_comp) > 1:
            return set()
        (c, part), = by_comp.items()
        cols, index, *_ = self._component(c)
        out = set()
        for x in self.witness.get(c, []):
            out.add(_whole(base + sum(v * x[index[k]] for k, v in part.items())))
        return out


def _whole(x: float) -> float:
    if math.isinf(x):
        return x
    r = round(x)
    return float(r) if abs(x - r) < 1e-6 else x
