"""Protect the whole register at once: every family of linked counts, with merges, roles and the exact check.

:func:`protect_register` turns a :class:`~.register.Register` into a :class:`Protection`: for every registered count
whether it is shown, hidden (``suppressed``), merged into a wider level, or withheld (a role's column in a period
with too few people to show any of their counts). Steps:

1. **Roles** (people only). A role table's column for a period is published only when the role has at least
   twice the threshold people in that period (fewer: every count in it would be small); otherwise it is withheld
   (printed ``not shown``). The everyone table's role row is protected first (a reader knows a withheld role has
   fewer than twice the threshold people), together with the columns whose possible values depend on the role
   (a buyer's income stratum, 'not applicable' for everyone else; the charges: only a buyer is charged with buying):
   their atoms carry the role as a column, so the role sizes are unknowns tied to those counts as the codebook
   ties them. Then every published (role, period) is a block of known size, and so
   is a withheld one whose size the role row prints: a withheld column is not printed, but a reader has it as the
   everyone table minus the other roles, so its small counts are targets like any implicit count, and the yes/no
   rows its table leaves out (nobody in the role has them) are printed zeros. The other roles (without a table,
   or withheld with their size suppressed) are pooled ('rest'), a block of known size; so families are
   independent.
2. **Families** (:mod:`.families`): for each, the atoms (combinations x groups x periods, counted in the derived
   data), the cells (sums of atoms; cells with the same atoms are one cell, shown or hidden together), and the
   programme of :mod:`.engine`.
3. **Merges** (the codebook's ``disclosure.merges``): each family is protected with and without each declared
   merge of its variables; a merge is used when it leaves fewer cells of at least the threshold hidden.
4. **The check**: :func:`check` computes, independently of the search, every target's range over the reader's
   integer programme.

Costs (the codebook's ``disclosure``): weight x (1 + ln(1 + count)), the weight by the kind of cell (the
committee's key indicators dear, 'not documented', 'not applicable', 'other', 'unknown' cheap), times
``overall_factor`` for the overall column. Key rows whose own counts are at least the threshold in both periods
are kept shown unless nothing else protects a small count.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import sparse

from ..compare import is_missing_level
from ...stats.forked import in_child
from . import engine
from .families import FALSE, KNOWN, NA, TRUE, families, possible_combinations, prepare_combinations
from .register import CODED, N_COLUMN, OVERALL, CellDef, CellKey, Register, displayed

REST = "__rest__"
ALL = "__all__"
ROW_KINDS = ("input_rows", "valid_rows", "rejected_rows")


@dataclass(frozen=True)
class Merge:
    """Levels of a variable shown together as one row (``code``, ``label``)."""

    column: str
    code: str
    label: str
    levels: tuple[str, ...]

    @property
    def key_level(self) -> str:
        return "+".join(self.levels)


@dataclass
class Protection:
    """What may be shown of every registered count, and why (see the module docstring)."""

    threshold: int
    status: dict[CellKey, str] = field(default_factory=dict)  # shown | hidden | merged | withheld
    merges: dict[tuple[str, str], list[Merge]] = field(default_factory=dict)
    withheld: set[tuple[str, str | None, str]] = field(default_factory=set)  # (population, role, period)
    values: dict[CellKey, int] = field(default_factory=dict)
    ranges: dict[CellKey, tuple[int, int]] = field(default_factory=dict)  # the check: targets' (min, max)
    reasons: dict[CellKey, list[CellKey]] = field(default_factory=dict)  # hidden cell >= threshold -> targets
    unprotected: list[CellKey] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    register: Register | None = None

    def state(self, key: CellKey) -> str:
        if key in self.status:
            return self.status[key]
        pop_role_period = (key.population, key.role, key.period)
        if pop_role_period in self.withheld or (key.period == OVERALL and any(
                (key.population, key.role, p) in self.withheld for p in self._periods())):
            return "withheld"
        return "shown" if key.kind in ("N",) and key.role is None else "unknown"

    def _periods(self) -> tuple[str, ...]:
        return self.register.periods if self.register is not None else ()

    def shown(self, key: CellKey) -> bool:
        return self.state(key) == "shown"

    def merges_for(self, population: str, column: str) -> list[Merge]:
        return self.merges.get((population, column), [])

    def leaks(self) -> list[tuple[CellKey, tuple[int, int]]]:
        """Targets the check found unprotected (empty when everything shared is safe)."""
        return [(k, r) for k, r in self.ranges.items() if not engine.is_protected(r, self.threshold)]


# --- costs ------------------------------------------------------------------------------------------------------


class _Costs:
    def __init__(self, register: Register):
        d = register.cb.disclosure
        w = d.get("weights", {})
        self.key_w, self.ordinary_w, self.cheap_w = (float(w.get("key", 40)), float(w.get("ordinary", 4)),
                                                     float(w.get("cheap", 1)))
        self.overall = float(d.get("overall_factor", 0.5))
        self.cheap_levels = {str(x) for x in d.get("cheap_levels", [])}
        self.key = {p: set(v) for p, v in (d.get("key_variables") or {}).items()}
        self.register = register
        self.threshold = register.cfg.suppression_threshold
        # the committee's key-indicator items (the pack's key tables, the key-indicator chart): their rows are the
        # ones kept shown (soft); the same variables elsewhere (e.g. the everyone table) are only dear
        self.headline = {k for item, keys in register.items.items() if _is_key_item(item) for k in keys}

    def variable(self, key: CellKey) -> str:
        spec = self.register.specs(key.population).get(key.column)
        return spec.option_of or spec.name if spec is not None else key.column

    def is_key(self, key: CellKey) -> bool:
        return key.kind == "model" or self.variable(key) in self.key.get(key.population, set())

    def weight(self, key: CellKey) -> float:
        if key.kind in ("missing", "nmiss", "rows") or key.population == "rows":
            w = self.cheap_w
        elif self.is_key(key):
            w = self.key_w
        elif key.kind == "level" and (key.level in self.cheap_levels or
                                      any(lv in self.cheap_levels for lv in key.level.split("+"))):
            w = self.cheap_w
        else:
            w = self.ordinary_w
        return w * (self.overall if key.period == OVERALL else 1.0)

    def cost(self, key: CellKey, value: int) -> float:
        return self.weight(key) * (1.0 + math.log1p(max(value, 0)))

    def soft(self, key: CellKey, cells: dict[CellKey, CellDef]) -> bool:
        """A key row's count whose own counts are at least the threshold in both periods."""
        if key.kind not in ("level", "den") or key.period == OVERALL or not self.is_key(key):
            return False
        if self.headline and key not in self.headline:
            return False
        a, b = self.register.periods
        vals = [cells[key.at(p)].value if key.at(p) in cells else -1 for p in (a, b)]
        return all(v >= self.threshold for v in vals)


def _is_key_item(item: str) -> bool:
    """A shared item of the committee's key indicators (``tables/key_0``, ``figures/key_indicators.csv``)."""
    name = item.rsplit("/", 1)[-1]
    return name.startswith("key_")


# --- one family as a problem ----------------------------------------------------------------------------------------


@dataclass
class _Family:
    population: str
    columns: tuple[str, ...]
    cells: list[CellDef]
    groups: dict[str, list[str]]  # period -> group names
    members: dict[str, tuple[str, ...]]  # group -> roles in it (persons)
    cache: dict = field(default_factory=dict, repr=False, compare=False)  # the atoms, the same for every merge


def _cell_mask(cell: CellDef, combos: pd.DataFrame, merges: dict[str, list[Merge]], register: Register) -> np.ndarray:
    """Which combinations a cell counts."""
    if cell.predicate is not None:
        return cell.predicate(combos)
    key = cell.key
    if not cell.columns:
        return np.ones(len(combos), dtype=bool)
    col = key.column
    vals = combos[col].to_numpy(dtype=object)
    spec = register.specs(key.population).get(col)
    if key.kind == "level":
        for m in merges.get(col, []):
            if key.level == m.key_level:
                return np.isin(vals, list(m.levels))
        return vals == key.level
    if key.kind == "no":
        return vals == FALSE
    if key.kind == "den":
        if spec is not None and spec.kind == "binary":
            return np.isin(vals, [TRUE, FALSE])
        levels = [c for c, _ in spec.levels if not is_missing_level(c)] if spec is not None else []
        return np.isin(vals, levels)
    if key.kind == "missing":
        if key.level == "unknown" and (spec is None or spec.kind == "binary"):
            return ~np.isin(vals, [TRUE, FALSE])
        if key.level == "unknown":  # a category's 'unknown' row (a table known only from its counts: NA)
            return np.isin(vals, ["unknown", NA])
        return vals == key.level
    if key.kind == "n":
        return vals == KNOWN
    if key.kind == "nmiss":
        return vals != KNOWN
    raise ValueError(f"cannot count {key.describe()}")


def _merged_cells(fam: _Family, merges: dict[str, list[Merge]]) -> list[CellDef]:
    """The family's cells with ``merges`` applied: merged levels' own cells become implicit, and each merge adds
    its merged level's cells."""
    out, added = [], {}
    for c in fam.cells:
        m = next((m for m in merges.get(c.key.column, []) if c.key.kind == "level" and c.key.level in m.levels), None)
        if m is None:
            out.append(c)
            continue
        out.append(CellDef(c.key, c.columns, False, c.value, c.predicate, set(c.where)))
        mk = CellKey(c.key.population, c.key.role, c.key.column, "level", m.key_level, c.key.period)
        if mk not in added:
            added[mk] = CellDef(mk, c.columns, c.published, 0, None, set())
        added[mk].value += c.value
        added[mk].where |= c.where
        added[mk].published = added[mk].published or c.published
    return out + list(added.values())


def _combos(register: Register, fam: _Family) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(combinations: one row per atom with ``period``, ``group`` and the family's columns; and their counts)."""
    cols = list(fam.columns)
    pop = fam.population
    if pop in CODED:
        cache = _population_cache(register, pop)
        units = _displayed_columns(register, pop, cols)
        if pop == "persons":
            grp = np.full(len(units), REST, dtype=object)
            for p, names in fam.groups.items():
                for g in names:
                    if g != REST:
                        grp[((units["period"] == p) & (units["role"] == g)).to_numpy()] = g
            units["group"] = grp if fam.members else ALL
        else:
            units["group"] = ALL
        observed = units.groupby(["period", "group"] + cols, sort=False).size().rename("count").reset_index()
        specs = register.specs(pop)
        if pop == "persons" and "role" in cols and len(cols) > 1:  # the role with the families that depend on it
            possible = {None: _with_role(register, cache["families"], cols)}
        else:
            fam_obj = next(f for f in cache["families"] if set(cols) <= set(f.columns)) if cols else None
            possible = (possible_combinations(fam_obj, list(specs.values()), register.cb, register.cfg)
                        if fam_obj is not None else {})
            if fam_obj is not None and tuple(cols) != fam_obj.columns:
                idx = [fam_obj.columns.index(c) for c in cols]
                possible = {k: {tuple(t[i] for i in idx) for t in v} for k, v in possible.items()}
    else:
        blk = register.blocks[pop]
        rows = []
        for col in cols:
            for p, levels in blk.counts[col].items():
                for lv, n in levels.items():
                    rows.append({"period": p, "group": ALL, col: lv, "count": n})
        observed = pd.DataFrame(rows)
        possible = {None: {(lv,) for lv in blk.order[cols[0]]}} if cols else {}
        if not rows:
            observed = pd.DataFrame(columns=["period", "group", *cols, "count"])
    atoms = []
    for p, names in fam.groups.items():
        for g in names:
            if pop == "persons" and fam.members:
                roles = fam.members[g] if g != REST else fam.members.get(f"{REST}:{p}", ())
                ks = set().union(*[possible.get(r, set()) for r in roles]) if roles else set()
            else:
                ks = set().union(*possible.values()) if possible else set()
            seen = observed[(observed["period"] == p) & (observed["group"] == g)]
            ks |= set(seen[cols].itertuples(index=False, name=None)) if cols else set()
            if not cols:
                ks = {()}
            for k in sorted(ks, key=str):
                atoms.append((p, g) + tuple(k))
    combos = pd.DataFrame(atoms, columns=["period", "group"] + cols)
    counts = combos.merge(observed, on=["period", "group"] + cols, how="left")["count"].fillna(0).astype(np.int64)
    return combos, counts


def _with_role(register: Register, fams, cols: list[str]) -> set[tuple]:
    """The possible tuples over ``cols`` ('role' and the columns of families whose possible values depend on the
    role): for each role, every combination of its possible values in each of those families."""
    specs = list(register.specs("persons").values())
    subs = []
    for f in fams:
        sc = [c for c in cols if c != "role" and c in f.columns]
        if sc:
            idx = [f.columns.index(c) for c in sc]
            poss = possible_combinations(f, specs, register.cb, register.cfg)
            subs.append((sc, {r: {tuple(t[i] for i in idx) for t in v} for r, v in poss.items()}))
    out = set()
    for role in register.cb.variable("persons", "role").code_values:
        partial = [{"role": str(role)}]
        for sc, poss in subs:
            partial = [{**d, **dict(zip(sc, t))} for d in partial for t in poss.get(str(role), set())]
        out |= {tuple(d[c] for c in cols) for d in partial}
    return out


def _role_dependent(register: Register, cells: list[CellDef]) -> tuple[str, ...]:
    """The published columns of people whose possible values depend on the role (e.g. a buyer's income stratum,
    'not applicable' for everyone else; a buying charge, only buyers'): their counts are sums of role sizes (or
    bounded by them), so they are protected together with the role row (:func:`_protect_roles`)."""
    cache = _population_cache(register, "persons")
    specs = list(register.specs("persons").values())
    used = {col for c in cells for col in c.columns}
    out: list[str] = []
    for f in cache["families"]:
        if "role" in f.columns or not used & set(f.columns):
            continue
        poss = possible_combinations(f, specs, register.cb, register.cfg)
        if len({frozenset(v) for v in poss.values()}) > 1:
            out += [c for c in f.columns if c in used]
    return tuple(out)


def _population_cache(register: Register, pop: str) -> dict:
    """The population's displayed values (every column) and its families over every column, computed once."""
    cache = register.__dict__.setdefault("_protect_cache", {})
    if pop not in cache:
        specs = register.specs(pop)
        fams = families(pop, list(specs.values()), register.cb, _joint(register, pop))
        # grids only for the families with a small count (the others have nothing to protect and are never built;
        # any other family asked for later gets its grid then)
        thr = register.cfg.suppression_threshold
        used = {col for c in register.cells.values() if c.key.population == pop and 0 < c.value < thr
                for col in c.columns}
        prepare_combinations([f for f in fams if used & set(f.columns)], list(specs.values()), register.cb,
                             register.cfg)
        cache[pop] = {"families": fams, "columns": {}}
    return cache[pop]


def _displayed_columns(register: Register, pop: str, cols: list[str]) -> pd.DataFrame:
    """The units' displayed values of ``cols`` (with ``period`` and, for people, ``role``): each column made once
    (:func:`.register.displayed`, column by column: only the columns of families that are built)."""
    made = _population_cache(register, pop)["columns"]
    want = list(dict.fromkeys(cols))
    todo = [c for c in want if c not in made]
    if todo or not made:
        got = displayed(register, pop, todo)
        for c in got.columns:
            made.setdefault(c, got[c].to_numpy())
    extra = [c for c in ("period", "role") if c in made]
    return pd.DataFrame({c: made[c] for c in dict.fromkeys(want + extra)})


def _joint(register: Register, population: str) -> list[tuple[str, ...]]:
    return sorted({c.columns for c in register.cells.values() if c.key.population == population and c.predicate
                   is not None})


def _build(register: Register, fam: _Family, merges: dict[str, list[Merge]], costs: _Costs,
           fixed_keys: set[CellKey], upper: dict[CellKey, int]):
    """The family's :class:`engine.Problem` and, for each of its cells, the register keys it stands for."""
    if "combos" not in fam.cache:  # the atoms do not depend on the merges tried
        fam.cache["combos"] = _combos(register, fam)
    combos, counts_s = fam.cache["combos"]
    counts = counts_s.to_numpy()
    cells = _merged_cells(fam, merges)
    periods = combos["period"].to_numpy()
    groups = combos["group"].to_numpy()
    sets: dict[bytes, int] = {}
    members: list[list[CellDef]] = []
    rows = []
    for c in cells:
        m = _cell_mask(c, combos, merges, register)
        if c.key.period != OVERALL:
            m = m & (periods == c.key.period)
        if c.key.role is not None and fam.members:
            m = m & (groups == c.key.role)
        elif c.key.role is not None and "role" in combos.columns:  # the role is a column (the role family)
            m = m & (combos["role"].to_numpy(dtype=object) == c.key.role)
        value = int(counts[m].sum())
        if value != c.value:
            raise AssertionError(f"the register counts {value} for {c.key.describe()}, the shared item {c.value}")
        sig = np.packbits(m).tobytes()
        if sig not in sets:
            sets[sig] = len(rows)
            rows.append(m)
            members.append([])
        members[sets[sig]].append(c)
    n_atoms = len(combos)
    A = sparse.csr_matrix(np.array(rows, dtype=np.int8)) if rows else sparse.csr_matrix((0, n_atoms))
    blocks = []
    for p, names in fam.groups.items():
        for g in names:
            atoms = np.where((periods == p) & (groups == g))[0]
            blocks.append((atoms, int(counts[atoms].sum())))
    block_sets = [np.zeros(n_atoms, dtype=bool) for _ in blocks]
    for bs, (atoms, _) in zip(block_sets, blocks):
        bs[atoms] = True
    value = np.array([ms[0].value for ms in members], dtype=np.int64)
    published = np.array([any(c.published for c in ms) for ms in members])
    whole = np.array([_union_of_blocks(r, block_sets) for r in rows], dtype=bool)
    fixed = published & ((value == 0) | whole | np.array([any(c.key in fixed_keys for c in ms) for ms in members]))
    soft = np.array([any(costs.soft(c.key, register.cells) for c in ms) for ms in members])
    cost = np.array([max(costs.cost(c.key, c.value) for c in ms) for ms in members])
    ub = np.zeros(n_atoms)
    for atoms, total in blocks:
        ub[atoms] = total
    problem = engine.Problem(A, value, published, fixed, soft & ~fixed, cost, blocks, ub,
                             {i: upper[c.key] for i, ms in enumerate(members) for c in ms if c.key in upper},
                             register.cfg.suppression_threshold, counts.astype(float))
    return _reduce(problem), members


def _union_of_blocks(mask: np.ndarray, blocks: list[np.ndarray]) -> bool:
    if not mask.any():
        return True
    return all((mask & b).sum() in (0, b.sum()) for b in blocks) and bool(blocks)


def _reduce(problem: engine.Problem) -> engine.Problem:
    """Atoms of one block counted by exactly the same cells are interchangeable: one variable each."""
    A = problem.A.tocsc()
    block_of = np.full(problem.n_atoms, -1)
    for k, (atoms, _) in enumerate(problem.blocks):
        block_of[atoms] = k
    keys = {}
    groups = []
    for j in range(problem.n_atoms):
        sig = (block_of[j], tuple(A.indices[A.indptr[j]:A.indptr[j + 1]]))
        if sig not in keys:
            keys[sig] = len(groups)
            groups.append([])
        groups[keys[sig]].append(j)
    if len(groups) == problem.n_atoms:
        return problem
    P = sparse.csr_matrix((np.ones(problem.n_atoms), (np.arange(problem.n_atoms),
                                                      [keys[(block_of[j], tuple(A.indices[A.indptr[j]:A.indptr[j + 1]]))]
                                                       for j in range(problem.n_atoms)])),
                          shape=(problem.n_atoms, len(groups)))
    new_a = (problem.A @ P).tocsr()
    new_a.data[:] = 1
    blocks = []
    for k, (atoms, total) in enumerate(problem.blocks):
        blocks.append((np.array([g for g, members in enumerate(groups) if block_of[members[0]] == k]), total))
    ub = np.array([problem.atom_ub[members].sum() if block_of[members[0]] < 0 else problem.atom_ub[members[0]]
                   for members in groups])
    x0 = None if problem.x0 is None else np.array([problem.x0[members].sum() for members in groups])
    return engine.Problem(new_a, problem.value, problem.published, problem.fixed, problem.soft, problem.cost,
                          blocks, ub, problem.upper, problem.threshold, x0)


# --- the whole register ----------------------------------------------------------------------------------------------


def _declared_merges(register: Register, population: str, columns: tuple[str, ...]) -> list[Merge]:
    decl = ((register.cb.disclosure.get("merges") or {}).get(population) or {})
    out = []
    for col in columns:
        spec = register.specs(population).get(col)
        if spec is None or col not in decl:
            continue
        codes = [c for c, _ in spec.levels]
        for m in decl[col]:
            levels = tuple(str(x) for x in m["levels"])
            if all(lv in codes for lv in levels) and len(levels) >= 2:
                out.append(Merge(col, str(m["code"]), str(m["label"]), levels))
    return out


def _useful_merges(register: Register, fam: _Family, options: list[Merge]) -> list[Merge]:
    """The declared merges that join at least one level holding a small count."""
    thr = register.cfg.suppression_threshold
    small = {(c.key.column, c.key.level) for c in fam.cells if c.key.kind == "level" and 0 < c.value < thr}
    return [m for m in options if any((m.column, lv) in small for lv in m.levels)]


def _score(problem: engine.Problem, sol: engine.Solution) -> tuple[int, float]:
    big = sol.hidden & problem.published & (problem.value >= problem.threshold)
    return int(big.sum()), float(problem.cost[sol.hidden & ~problem.targets].sum())


# Populations protected in a second process while this one protects the others (the people: most of the work, the
# gender x race family above all), where processes can be forked and there is more than one processor
# (analysis.stats.forked.in_child).
APART = ("persons",)


def protect_register(register: Register, *, check_ranges: bool = True, parallel: bool = True) -> Protection:
    """Protect every count of ``register`` at once (module docstring); with ``check_ranges`` run the exact check.

    The populations are independent (each its own families): with ``parallel``, those of :data:`APART` are
    protected in a forked process while this one does the rest, and the results are put together in the order
    the populations are registered, so the protection is the same as one process makes."""
    thr = register.cfg.suppression_threshold
    costs = _Costs(register)
    by_pop: dict[str, list[CellDef]] = {}
    for c in register.cells.values():
        by_pop.setdefault(c.key.population, []).append(c)

    def one(pop: str) -> Protection:
        prot = Protection(thr, register=register)
        cells = by_pop[pop]
        if pop == "rows":
            _protect_rows(register, cells, prot, costs, check_ranges)
        elif pop == "persons":
            _protect_persons(register, cells, prot, costs, check_ranges)
        else:
            groups = {p: [ALL] for p in register.periods}
            _protect_population(register, pop, cells, groups, {}, prot, costs, set(), {}, check_ranges)
        return prot

    apart = [p for p in APART if p in by_pop] if parallel and len(by_pop) > 1 else []
    waiting = {pop: in_child(lambda pop=pop: dataclasses.replace(one(pop), register=None)) for pop in apart}
    try:
        parts = {pop: one(pop) for pop in by_pop if pop not in waiting}
    except BaseException:
        for forked in waiting.values():
            forked.stop()
        raise
    parts.update({pop: result() for pop, result in waiting.items()})
    prot = Protection(thr, register=register)
    for pop in by_pop:
        part = parts[pop]
        prot.status.update(part.status)
        prot.merges.update(part.merges)
        prot.withheld |= part.withheld
        prot.values.update(part.values)
        prot.ranges.update(part.ranges)
        prot.reasons.update(part.reasons)
        prot.unprotected += part.unprotected
        prot.notes += part.notes
    return prot


def _family_list(register: Register, population: str, cells: list[CellDef]) -> list[tuple[tuple[str, ...], list]]:
    """The population's cells by family (N cells by themselves)."""
    n_cells = [c for c in cells if c.key.column == N_COLUMN]
    rest = [c for c in cells if c.key.column != N_COLUMN]
    out = [((), n_cells)] if n_cells else []
    if population in CODED:
        specs = register.specs(population)
        used = sorted({col for c in rest for col in c.columns})
        fams = families(population, [specs[c] for c in used], register.cb, _joint(register, population))
        for f in fams:
            out.append((f.columns, [c for c in rest if set(c.columns) <= set(f.columns)]))
    else:
        for col in dict.fromkeys(c.key.column for c in rest):
            out.append(((col,), [c for c in rest if c.key.column == col]))
    return out


def _protect_population(register, pop, cells, groups, members, prot, costs, fixed_keys, upper, check_ranges):
    for columns, fcells in _family_list(register, pop, cells):
        if not columns:  # the tables' N: the sample's size per period, shown unless one is from 1 to threshold - 1
            small = any(0 < c.value < register.cfg.suppression_threshold for c in fcells)
            for c in fcells:  # (then every N of the population is hidden: overall = before + after)
                prot.status[c.key], prot.values[c.key] = ("hidden" if small else "shown"), c.value
            continue
        fam = _Family(pop, columns, fcells, groups, members)
        _protect_family(register, fam, prot, costs, fixed_keys | {c.key for c in fcells if c.key.column == N_COLUMN},
                        upper, check_ranges)


def _protect_family(register, fam: _Family, prot: Protection, costs: _Costs, fixed_keys, upper, check_ranges,
                    ) -> list[CellKey]:
    """Protect one family (trying its declared merges); record the outcome in ``prot``; return unprotected keys."""
    thr = register.cfg.suppression_threshold
    if not any(0 < c.value < thr for c in fam.cells):  # nothing small to protect: every printed count is shown
        for c in fam.cells:
            prot.status[c.key] = "shown" if c.published else _unpublished_state(prot, c.key)
            prot.values[c.key] = c.value
        return []
    options = _useful_merges(register, fam, _declared_merges(register, fam.population, fam.columns))

    def attempt(chosen: list[Merge], give_up_at: tuple[int, int] | None = None):
        by_col: dict[str, list[Merge]] = {}
        for m in chosen:
            by_col.setdefault(m.column, []).append(m)
        problem, members = _build(register, fam, by_col, costs, fixed_keys, upper)
        sol = engine.protect(problem, prune=False, give_up_at=give_up_at)
        if sol is None:
            return None
        return (len(sol.unprotected),) + _score(problem, sol) + (len(chosen),), by_col, problem, members, sol

    best = attempt([])
    chosen: list[Merge] = []
    for m in options:  # greedy: keep each declared merge that leaves fewer cells >= threshold hidden
        if best[0][:2] == (0, 0):
            break
        if any(set(m.levels) & set(o.levels) for o in chosen if o.column == m.column):
            continue
        # a trial is dropped as soon as it cannot leave fewer unprotected or fewer cells >= threshold hidden
        trial = attempt(chosen + [m], give_up_at=best[0][:2])
        if trial is not None and trial[0][:2] < best[0][:2]:
            best, chosen = trial, chosen + [m]
    _, by_col, problem, members, sol = best
    engine.finish(problem, sol)
    for col, ms in by_col.items():
        prot.merges[(fam.population, col)] = ms
    _record(prot, problem, members, sol, check_ranges)
    return [c.key for i in sol.unprotected for c in members[i]]


def _record(prot: Protection, problem: engine.Problem, members, sol: engine.Solution, check_ranges: bool) -> None:
    merged = {(k.population, k.column) for k in prot.status}  # noqa: F841 - kept for clarity
    for i, ms in enumerate(members):
        for c in ms:
            if not c.published:
                state = _unpublished_state(prot, c.key)
            else:
                state = "hidden" if sol.hidden[i] else "shown"
            prot.status[c.key] = state
            prot.values[c.key] = c.value
    for i, targets in sol.reasons(problem).items():
        for c in members[i]:
            prot.reasons[c.key] = [members[t][0].key for t in targets]
    for i in sol.unprotected:
        prot.unprotected += [c.key for c in members[i]]
    if check_ranges and problem.targets.any():
        for i, rng in engine.audit(problem, sol.hidden).items():
            for c in members[i]:
                prot.ranges[c.key] = rng


def _unpublished_state(prot: Protection, key: CellKey) -> str:
    """A count no shared file prints: a level merged into a wider one, or an implicit count."""
    merged = key.kind == "level" and any(key.level in m.levels for m in prot.merges_for(key.population, key.column))
    return "merged" if merged else "implicit"


def _role_sizes(register: Register) -> dict[tuple[str, str], int]:
    d = register.require_units("persons")
    sizes = d.groupby([d["role"].astype(str), d["period"].astype(str)], observed=True).size()
    return {(str(r), str(p)): int(n) for (r, p), n in sizes.items()}


def _protect_persons(register: Register, cells: list[CellDef], prot: Protection, costs: _Costs,
                     check_ranges: bool) -> None:
    """Roles first (which role columns are published), then every other family of people."""
    thr = register.cfg.suppression_threshold
    wide = 2 * thr
    sizes = _role_sizes(register)
    a, b = register.periods
    roles = list(register.cb.variable("persons", "role").code_values)
    published = {(r, p) for r in register.roles_scoped for p in (a, b) if sizes.get((r, p), 0) >= wide}
    role_cells = [c for c in cells if c.key.column in ("role", N_COLUMN)]
    other = [c for c in cells if c.key.column not in ("role", N_COLUMN)]
    dep = _role_dependent(register, other)
    dep_cells = [c for c in other if c.columns and set(c.columns) <= set(dep)]
    other = [c for c in other if not (c.columns and set(c.columns) <= set(dep))]
    while True:
        trial = Protection(thr, register=register)
        unprotected = _protect_roles(register, role_cells, published, trial, costs, wide, check_ranges, dep,
                                     dep_cells)
        if not unprotected or not published:
            break
        published.discard(min(published, key=lambda rp: (sizes.get(rp, 0), rp)))
    prot.status.update(trial.status)
    prot.values.update(trial.values)
    prot.ranges.update(trial.ranges)
    prot.reasons.update(trial.reasons)
    prot.unprotected += trial.unprotected
    for r in register.roles_scoped:
        for p in (a, b):
            if (r, p) not in published:
                prot.withheld.add(("persons", r, p))
    # A withheld role column whose role size the everyone table prints is a group of its own: a reader has its
    # counts as the everyone table minus the other roles, and knows the yes/no rows its table leaves out (nobody
    # in the role: 0). A withheld role whose size is not printed (from 1 to threshold - 1, or hidden to protect
    # one) is pooled with the roles without a table ('rest'): its size is not known, so neither are its counts.
    def own(r: str, p: str) -> bool:
        return (r, p) in published or (r in register.roles_scoped and trial.status.get(
            CellKey("persons", None, "role", "level", r, p)) == "shown")

    groups = {p: [r for r in roles if own(r, p)] + [REST] for p in (a, b)}
    members: dict[str, tuple[str, ...]] = {r: (r,) for r in roles}
    for p in (a, b):
        members[f"{REST}:{p}"] = tuple(r for r in roles if not own(r, p))

    def is_withheld(key: CellKey) -> bool:
        return key.role is not None and not all(
            (key.role, p) in published for p in ((a, b) if key.period == OVERALL else (key.period,)))

    keep = []
    for c in other:
        k = c.key
        if not is_withheld(k):
            keep.append(c)
        elif all(own(k.role, p) for p in ((a, b) if k.period == OVERALL else (k.period,))):
            # printed 'not shown': unknown to a reader (a target when small), unless a left-out row's zero
            keep.append(CellDef(k, c.columns, k in register.absent_rows, c.value, c.predicate, set(c.where)))
        else:
            prot.status[k] = "withheld"
            prot.values[k] = c.value
    _protect_population(register, "persons", keep, groups, members, prot, costs, set(), {}, check_ranges)
    for k in prot.status:  # (merged levels' cells too)
        if k.population == "persons" and k.column not in ("role", N_COLUMN) and is_withheld(k):
            prot.status[k] = "withheld"


def _protect_roles(register, role_cells, published, prot, costs, wide, check_ranges, dep=(), dep_cells=()
                   ) -> list[CellKey]:
    """The role family: the everyone table's role rows and the role tables' N. Published (role, period) N are
    shown; a withheld one is known to be below ``wide``.

    With it, the columns whose possible values depend on the role (``dep``, :func:`_role_dependent`) and their
    counts (``dep_cells``): the role is then a column of the family's atoms, so the role sizes are unknowns the
    reader ties to those counts exactly as the codebook does (e.g. the everyone table's 'Buyer income stratum: Not
    applicable' is everyone but the buyers: with the sellers' N it gives the other roles' sizes together; issue
    11, the 80-report subsample of seed 11, where it gave third parties and trafficking victims after as 1..4).
    A withheld role's counts of these columns are implicit (targets when small), except the rows its table
    leaves out (printed zeros)."""
    a, b = register.periods
    cells, fixed, upper = [], set(), {}
    for c in dep_cells:
        k = c.key
        if k.role is not None and not all((k.role, p) in published for p in ((a, b) if k.period == OVERALL
                                                                               else (k.period,))):
            c = CellDef(k, c.columns, k in register.absent_rows, c.value, c.predicate, set(c.where))
        cells.append(c)
    for c in role_cells:
        k = c.key
        if k.column == N_COLUMN and k.role is not None:
            per = (a, b) if k.period == OVERALL else (k.period,)
            if not all((k.role, p) in published for p in per):
                prot.status[k] = "withheld"
                prot.values[k] = c.value
                continue
            pred = _role_predicate(k.role)
            c = CellDef(k, ("role",), True, c.value, pred, set(c.where))
            fixed.add(k)
        elif k.column == N_COLUMN:
            c = CellDef(k, (), True, c.value, None, set(c.where))
            fixed.add(k)
        cells.append(c)
    sizes = _role_sizes(register)
    keys = {c.key for c in cells}
    for r in register.roles_scoped:
        for p in (a, b):
            if (r, p) not in published:
                k = CellKey("persons", None, "role", "level", r, p)
                if k not in keys:
                    cells.append(CellDef(k, ("role",), False, sizes.get((r, p), 0)))
                if sizes.get((r, p), 0) < wide:
                    # a reader may take a withheld role to be below ``wide`` (safe to assume: it holds). A role of
                    # ``wide`` or more withheld to protect others gets no such bound: it would not hold, and a
                    # programme the true table does not satisfy proves nothing
                    upper[k] = wide - 1
    groups = {p: [ALL] for p in (a, b)}
    fam = _Family("persons", ("role",) + tuple(dep), cells, groups, {})
    return _protect_family(register, fam, prot, costs, fixed, upper, check_ranges)


def _role_predicate(role: str):
    def f(combos: pd.DataFrame) -> np.ndarray:
        return (combos["role"] == role).to_numpy()
    return f


def _protect_rows(register: Register, cells: list[CellDef], prot: Protection, costs: _Costs,
                  check_ranges: bool) -> None:
    """Row accounting and the cover's counts: per table, rows read = valid + rejected."""
    counts: dict[tuple[str, str], int] = {}
    for c in cells:
        t, kind = c.key.column, c.key.kind
        if kind == "valid_rows" and t != "all":
            counts[(t, "valid")] = c.value
        elif kind == "rejected_rows":
            counts[(t, "rejected")] = c.value
    for c in cells:  # an 'all' that is not the sum of the tables' valid rows shown: a count of its own
        if c.key.kind == "valid_rows" and c.key.column == "all" and c.value != sum(
                v for (_, s), v in counts.items() if s == "valid"):
            counts[("all", "own")] = c.value
    atoms = sorted(counts)
    index = {a: i for i, a in enumerate(atoms)}
    rows, members = [], []
    fixed = []
    for c in cells:
        t, kind = c.key.column, c.key.kind
        m = np.zeros(len(atoms), dtype=bool)
        if kind == "input_rows":
            m[[index[x] for x in ((t, "valid"), (t, "rejected")) if x in index]] = True
        elif kind == "valid_rows" and t == "all" and ("all", "own") in index:
            m[index[("all", "own")]] = True
        elif kind == "valid_rows":
            m[[i for (tt, s), i in index.items() if s == "valid" and (t == "all" or tt == t)]] = True
        elif kind == "rejected_rows":
            m[index[(t, "rejected")]] = True
        if int(np.array([counts[x] for x in atoms])[m].sum()) != c.value:
            raise AssertionError(f"row accounting does not add up for {c.key.describe()}")
        rows.append(m)
        members.append([c])
        fixed.append(kind == "valid_rows" and t in CODED)
    value = np.array([c.value for c in cells], dtype=np.int64)
    big = float(max(value.max(initial=0), 1) * 10)
    problem = engine.Problem(sparse.csr_matrix(np.array(rows, dtype=np.int8)), value,
                             np.ones(len(cells), dtype=bool), np.array(fixed) | (value == 0),
                             np.zeros(len(cells), dtype=bool), np.array([costs.cost(c.key, c.value) for c in cells]),
                             [], np.full(len(atoms), big), {}, register.cfg.suppression_threshold)
    sol = engine.protect(problem)
    _record(prot, problem, members, sol, check_ranges)


def check(protection: Protection) -> list[tuple[CellKey, tuple[int, int]]]:
    """The exact check's findings: every target whose range a reader can narrow into 1 .. threshold - 1."""
    return protection.leaks()


__all__ = ["Merge", "Protection", "check", "protect_register", "NA"]
