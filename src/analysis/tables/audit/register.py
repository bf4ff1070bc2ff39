"""Every count the shared folder prints, named by what it counts (a :class:`Key`), with where it is printed.

A key is ``(population, role, column, level, period)``: ``population`` is ``incidents`` or ``persons`` (or
``generic:<file>`` for a table whose rows the codebook does not describe, such as the public record's), ``role``
None for everyone, ``column`` the derived column (``__N__`` for the population's size), ``level`` a level code,
``yes``/``no``/``unknown``/``-8``/``-9``, ``den`` (the denominator: units with a substantive value), ``outside``
(units outside it) or ``n`` (a number's known values), and ``period`` a period code or ``overall``. The same key
printed in several files is one count.

The before/after tables are read by their labels (:func:`analysis.tables.audit.scheme.variable_specs`); the
population by the footer's ``Population:`` line; the periods by the study configuration's labels. Figure CSVs
are read by their columns (``n_<period>``, ``N_<period>``, ``pct_<period>`` ...).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from ...scheme.codebook import Codebook
from ...scheme.config import StudyConfig
from .read import Grid, Shown, shown, to_int, unquote
from .scheme import KNOWN, MERGED, UNKNOWN, Spec, merged_members, variable_specs

N_COLUMN = "__N__"
OVERALL = "overall"
CLUSTER_PREFIX = "Cluster-robust"


@dataclass(frozen=True)
class Key:
    pop: str
    role: str | None
    column: str
    level: str
    period: str

    def with_period(self, period: str) -> Key:
        return Key(self.pop, self.role, self.column, self.level, period)

    def with_level(self, level: str) -> Key:
        return Key(self.pop, self.role, self.column, level, self.period)


@dataclass(frozen=True)
class Place:
    """Where a number is printed: file, line (or row), column header, and the row's label."""

    path: str
    line: int
    column: str
    row: str

    def __str__(self) -> str:
        return f"{self.path}, line {self.line}, column {self.column!r}, row {self.row!r}"


@dataclass
class Occurrence:
    key: Key
    place: Place
    shown: Shown


@dataclass
class Interval:
    """A printed number as the interval of values that print that way (``0.067`` -> [0.0665, 0.0675])."""

    lo: float
    hi: float
    text: str = ""

    def contains(self, x: float, tol: float = 1e-9) -> bool:
        return self.lo - tol <= x <= self.hi + tol


def printed_interval(text: str, exact: bool = False) -> Interval | None:
    """``0.067`` -> [0.0665, 0.0675]; ``<0.001`` -> [0, 0.001); ``+37.3`` -> [37.25, 37.35]; a full-precision
    figure value (``exact``) -> itself with a relative tolerance of 1e-9."""
    t = unquote(str(text)).replace("%", "").strip()
    if not t or t.lower() in ("nan", "suppressed"):
        return None
    m = re.fullmatch(r"<\s*([0-9.]+)", t)
    if m:
        return Interval(0.0, float(m.group(1)), t)
    try:
        x = float(t)
    except ValueError:
        return None
    if exact:
        tol = 1e-9 * max(1.0, abs(x))
        return Interval(x - tol, x + tol, t)
    digits = len(t.split(".")[1]) if "." in t and "e" not in t.lower() else 0
    h = 0.5 * 10 ** (-digits)
    return Interval(x - h, x + h, t)


@dataclass
class RowStats:
    """The printed statistics of one variable of one table (or one row of a figure): what a test check needs.

    ``levels``: the substantive level codes of a categorical test table (rows), in order; for a yes/no: ``yes``.
    ``missing``: the level codes of the rows outside the denominator that this table shows. ``absent``: those
    the table would have shown had they been non-zero (so they are zero). ``family``: the q-value family id
    (the table) and ``adjust`` its method."""

    place: Place
    pop: str
    role: str | None
    column: str
    kind: str  # binary | category
    levels: list[str]
    periods: tuple[str, str]
    outside: list[str] = field(default_factory=list)  # levels outside the denominator (missing, unknown)
    test: str = ""
    p: Interval | None = None
    q: Interval | None = None
    diff: tuple[Interval | None, Interval | None, Interval | None] | None = None
    wilson: dict[str, tuple[Interval | None, Interval | None, Interval | None]] = field(default_factory=dict)
    family: str = ""
    adjust: str = "holm"
    exact: bool = False  # full-precision figure values
    persons: bool = False
    weighted: bool = False


@dataclass
class ModelFact:
    """The misclassification model's 'Reports (events)' for an outcome: reports in the model and events."""

    place: Place
    column: str
    n: Shown
    events: Shown


@dataclass
class Register:
    occurrences: list[Occurrence] = field(default_factory=list)
    stats: list[RowStats] = field(default_factory=list)
    zeros: list[tuple[Key, str]] = field(default_factory=list)  # keys zero by the table's construction, and why
    generic_blocks: list[tuple[str, str | None, str, list[str], list[str], bool]] = field(default_factory=list)
    models: list[ModelFact] = field(default_factory=list)
    q_families: dict[str, list[tuple[str, Interval]]] = field(default_factory=dict)  # id -> (column, p) in order
    shares: list[tuple[Key, Key, Interval, Place]] = field(default_factory=list)  # 100 n / den printed
    problems: list[str] = field(default_factory=list)
    specs_by_column: dict[tuple[str, str], Spec] = field(default_factory=dict)
    weighted: list[str] = field(default_factory=list)  # the tables weighted to a sampling frame (their paths)

    visible: dict[Key, int] = field(default_factory=dict)  # keys printed as a number somewhere

    def add(self, key: Key, place: Place, cell: Shown) -> None:
        if cell.kind in ("count", "hidden"):
            self.occurrences.append(Occurrence(key, place, cell))
        if cell.kind == "count":
            self.visible[key] = cell.n


# --- tables ----------------------------------------------------------------------------------------------------


@dataclass
class _Ctx:
    cb: Codebook
    cfg: StudyConfig
    specs: dict[str, dict[str, Spec]]


def population_of(grid: Grid, ctx: _Ctx) -> tuple[str, str | None, bool]:
    """(population, role, from the codebook) from the footer's 'Population:' line (or the title)."""
    m = re.search(r"Population:\s*([^.]*)\.", grid.footer_text())
    text = (m.group(1) if m else grid.title).strip().lower()
    if text == ctx.cb.table("incidents").label.lower():
        return "incidents", None, True
    if text == ctx.cb.table("persons").label.lower():
        return "persons", None, True
    labels = ctx.cb.variable("persons", "role").labels
    for code, lab in labels.items():
        if text == lab.lower():
            return "persons", code, True
    stem = grid.path.split("#")[0].rsplit(".", 1)[0]
    return f"generic:{stem}", None, False


def _period_columns(header: list[str], cfg: StudyConfig) -> dict[int, str]:
    out = {}
    for j, h in enumerate(header):
        for code, lab in cfg.period_labels.items():
            if h.startswith(lab):
                out[j] = code
        if h.startswith("Overall"):
            out[j] = OVERALL
    return out


def _col(header: list[str], name: str) -> int | None:
    return header.index(name) if name in header else None


def read_comparison(grid: Grid, reg: Register, ctx: _Ctx, *, standard: bool) -> None:
    """A before/after table (any format's grid): every count, the N row, the tests of each variable.
    ``standard``: a table with every variable of its population (so a missing row it lacks is zero, and in a
    one-role table a yes/no it lacks has no 'yes' in either period)."""
    pop, role, known = population_of(grid, ctx)
    periods = _period_columns(grid.header, ctx.cfg)
    if len(periods) != 3 or "Variable" not in grid.header:
        reg.problems.append(f"{grid.path}: not read as a before/after table (no period columns)")
        return
    pcodes = tuple(ctx.cfg.period_codes)
    specs = ctx.specs.get(pop, {}) if known else {}
    adjust = "bh" if "Benjamini" in grid.footer_text() else "holm"
    weighted = "Weighted to the sampling frame" in grid.footer_text()
    jv, jl = grid.header.index("Variable"), _col(grid.header, "Level")
    jt, jp, jq = _col(grid.header, "Test"), _col(grid.header, "p"), _col(grid.header, "q")
    jd = next((j for j, h in enumerate(grid.header) if h.startswith(("Difference", "Change"))), None)
    family: list[tuple[str, Interval]] = []
    reg.q_families[grid.path] = family
    blocks: list[tuple[str, list[tuple[int, list[str]]]]] = []
    n_shares = len(reg.shares)
    for i, row in enumerate(grid.rows):
        if row[jv] == "N" and i == 0:
            for j, g in periods.items():
                reg.add(Key(pop, role, N_COLUMN, "", g), Place(grid.path, grid.lines[i], grid.header[j], "N"),
                        shown(row[j]))
            continue
        if row[jv]:
            blocks.append((row[jv], []))
        if blocks:
            blocks[-1][1].append((i, row))
    seen_columns = set()
    for label, rows in blocks:
        spec = specs.get(label)
        if spec is None:
            if known:
                reg.problems.append(f"{grid.path}, line {grid.lines[rows[0][0]]}: variable {label!r} is not in the "
                                    "codebook; read as a table of its own")
            spec = Spec(label, label, "category", pop, {}, ())
            _generic_block(grid, reg, pop, role, label, rows, periods, jl)
        else:
            seen_columns.add(spec.column)
            reg.specs_by_column[(pop, spec.column)] = spec
            _spec_block(grid, reg, pop, role, spec, rows, periods, jl)
        first_i, first = rows[0]
        p_text = first[jp] if jp is not None else ""
        p = printed_interval(p_text)
        if p is not None:
            family.append((spec.column, p))
        test_text = first[jt] if jt is not None else ""
        if test_text and shown(test_text).kind == "hidden":
            test_text = ""  # the test is suppressed: its name says nothing
        if spec.kind in ("binary", "category") and (p is not None or test_text):
            st = RowStats(Place(grid.path, grid.lines[first_i], "Test/p", label), pop, role, spec.column, spec.kind,
                          _test_levels(spec, rows, jl) if spec.kind == "category" else ["yes"], pcodes,
                          test=first[jt] if jt is not None else "", p=p,
                          q=printed_interval(first[jq]) if jq is not None else None, family=grid.path, adjust=adjust,
                          persons=pop == "persons", weighted=weighted, outside=_outside(spec))
            if spec.kind == "binary" and jd is not None and first[jd]:
                st.diff = _diff(first[jd])
            reg.stats.append(st)
    if weighted:  # weighted percentages are not n / den
        del reg.shares[n_shares:]
        reg.weighted.append(grid.path)
    if standard and known:
        _absent_rows(reg, pop, role, specs, seen_columns, blocks, pcodes, jl, grid.path)


def _outside(spec: Spec) -> list[str]:
    """The levels of a variable outside its denominator ('-8', '-9', 'unknown'); none for the role."""
    if spec.column == "role" or not spec.substantive:
        return []
    return [lev for lev in dict.fromkeys(spec.levels.values()) if lev not in spec.substantive]


def _test_levels(spec: Spec, rows, jl) -> list[str]:
    """The rows of a categorical variable's test table: its substantive levels (all of them, shown or not), a
    merged level printed by the table standing for its levels (the test is then computed on the merged table)."""
    merged = [spec.levels[r[jl]] for _, r in rows if jl is not None and merged_members(spec.levels.get(r[jl], ""))]
    members = {m for lev in merged for m in merged_members(lev)}
    return [c for c in spec.substantive if c not in members] + [m for m in merged if set(merged_members(m)) <= set(
        spec.substantive)]


def _diff(text: str) -> tuple[Interval | None, Interval | None, Interval | None]:
    m = re.fullmatch(r"\s*'?([+-]?[0-9.]+)\s*\(\s*([+-]?[0-9.]+)\s*to\s*([+-]?[0-9.]+)\s*\)\s*", text)
    if not m:
        return (None, None, None)
    return tuple(printed_interval(g) for g in m.groups())


def _level_code(spec: Spec, label: str, first: bool) -> str | None:
    if spec.kind == "binary" and first and label == "":
        return "yes"
    return spec.levels.get(label)


def _spec_block(grid: Grid, reg: Register, pop, role, spec: Spec, rows, periods, jl) -> None:
    """The counts of one codebook variable: each level (and its denominator), missing rows, a number's n."""
    for k, (i, row) in enumerate(rows):
        label = row[jl] if jl is not None else ""
        if spec.kind == "number":
            level = "n"
        else:
            level = _level_code(spec, label, k == 0)
            if level is None:
                reg.problems.append(f"{grid.path}, line {grid.lines[i]}: level {label!r} of {spec.label!r} is not in "
                                    "the codebook")
                continue
        row_label = f"{spec.label}: {label}" if label else spec.label
        for j, g in periods.items():
            cell = shown(row[j])
            place = Place(grid.path, grid.lines[i], grid.header[j], row_label)
            key = Key(pop, role, spec.column, level, g)
            if spec.kind == "number" and cell.kind == "empty":
                cell = Shown("count", 0)  # compare.display prints nothing for a period with no values
            reg.add(key, place, cell)
            if cell.kind == "count" and cell.den is not None:
                reg.add(key.with_level("den"), place, Shown("count", cell.den))
            if cell.pct is not None:
                h = 0.5 * 10 ** (-(cell.pct_digits or 0))
                reg.shares.append((key, key.with_level("den"), Interval(cell.pct - h, cell.pct + h), place))


_OUTSIDE_LABELS = {"not documented", "not applicable", "unknown"}
IMPLICIT_NO = "(no)"  # a yes/no's 'No' in a table the codebook does not describe


def _generic_block(grid: Grid, reg: Register, pop, role, label, rows, periods, jl) -> None:
    """A variable the codebook does not describe: its levels as printed, related only by the table's own
    arithmetic (every unit has one level; rows with a denominator are inside it, 'Not documented' / 'Not
    applicable' / 'Unknown' rows with plain counts outside; when a row is neither, the denominator is not used)."""
    levels, outside, clear = [], [], True
    binary = jl is not None and rows and rows[0][1][jl] == ""  # a yes/no: its yes row, then rows outside it
    if binary:
        levels.append(IMPLICIT_NO)  # never printed: the denominator less the yes
    for k, (i, row) in enumerate(rows):
        lev = row[jl] if jl is not None else ""
        cells = {g: shown(row[j]) for j, g in periods.items()}
        if (binary and k == 0) or any(c.den is not None for c in cells.values()):
            levels.append(lev)
        else:
            outside.append(lev)
            clear = clear and lev.lower() in _OUTSIDE_LABELS
        for j, g in periods.items():
            place = Place(grid.path, grid.lines[i], grid.header[j], f"{label}: {lev}")
            key = Key(pop, role, label, lev, g)
            reg.add(key, place, cells[g])
            if cells[g].kind == "count" and cells[g].den is not None:
                reg.add(key.with_level("den"), place, Shown("count", cells[g].den))
    reg.generic_blocks.append((pop, role, label, levels, outside, clear))


def _absent_rows(reg: Register, pop, role, specs: dict[str, Spec], seen: set[str], blocks, pcodes, jl, path) -> None:
    """What a full table says by not printing a row: a missing-code row is printed when anyone has it, and a
    one-role table leaves out a yes/no nobody in the role has (analysis.tables.compare)."""
    shown_levels: dict[str, set[str]] = {}
    for label, rows in blocks:
        spec = specs.get(label)
        if spec is None:
            continue
        shown_levels[spec.column] = {_level_code(spec, r[jl] if jl is not None else "", k == 0) for k, (_, r) in
                                     enumerate(rows)}
    for spec in specs.values():
        if spec.column in shown_levels:
            if spec.kind in ("binary", "category"):
                for lev in spec.levels.values():
                    if merged_members(lev) is not None:
                        continue  # a merged level is printed only when the merge is used
                    if lev not in spec.substantive and lev not in shown_levels[spec.column]:
                        for g in pcodes:
                            reg.zeros.append((Key(pop, role, spec.column, lev, g), f"{path}: no {lev!r} row"))
        elif role is not None and spec.kind == "binary" and spec.column != "role":
            for g in pcodes:
                reg.zeros.append((Key(pop, role, spec.column, "yes", g),
                                  f"{path}: the one-role table leaves out {spec.label!r} (nobody in either period)"))


# --- the model table -----------------------------------------------------------------------------------------------


def read_model(grid: Grid, reg: Register, ctx: _Ctx) -> None:
    """The misclassification model: per outcome, reports in the model and events ('205 (75)')."""
    jo, jr = _col(grid.header, "Outcome"), next((j for j, h in enumerate(grid.header) if h.startswith("Reports")),
                                                 None)
    if jo is None or jr is None:
        return
    done = set()
    specs = ctx.specs["incidents"]
    for i, row in enumerate(grid.rows):
        label = row[jo]
        if label in done or label not in specs:
            continue
        done.add(label)
        text = unquote(row[jr])
        m = re.fullmatch(r"\s*(\d[\d,]*)\s*\(\s*(\d[\d,]*)\s*\)\s*", text)
        place = Place(grid.path, grid.lines[i], grid.header[jr], label)
        if m:
            n, e = Shown("count", to_int(m.group(1))), Shown("count", to_int(m.group(2)))
        else:
            n = e = shown(text) if text else Shown("empty")
        reg.models.append(ModelFact(place, specs[label].column, n, e))


# --- figures -------------------------------------------------------------------------------------------------------


def _figure_key(path: str, rec: dict[str, str], ctx: _Ctx) -> tuple[str, str | None, str, str] | None:
    """(population, role, column, level) of one figure row, from its columns."""
    inc, per = ctx.specs["incidents"], ctx.specs["persons"]
    inc_cols = {s.column for s in inc.values()}
    per_cols = {s.column for s in per.values()}
    if "indicator" in rec:
        col = rec["indicator"]
        of = rec.get("of", "").lower()
        if col in per_cols and col not in inc_cols:
            role = next((c for c, lab in ctx.cb.variable("persons", "role").labels.items()
                         if _plural(lab.lower()) in of or lab.lower() in of), None)
            return "persons", role, col, "yes"
        return "incidents", None, col, "yes"
    if "panel" in rec and "group" in rec:
        if "by role" in rec["panel"]:
            return "persons", None, "role", rec["group"]
        role = next((c for c, lab in ctx.cb.variable("persons", "role").labels.items()
                     if _plural(lab.lower()) in rec["panel"].lower()), None)
        return "persons", role, rec["group"], "yes"
    if "role" in rec and "category" in rec:
        col = "hiv_charge" if rec["category"] == "hiv" else f"charge__{rec['category']}"
        return "persons", rec["role"], col, "yes"
    if "variable" in rec and "level" in rec:
        lev = rec["level"]
        pop = "incidents" if rec["variable"] in inc_cols else "persons"
        spec = ctx.specs[pop]
        col = rec["variable"]
        sub = next((s for s in spec.values() if s.column == col), None)
        if sub is not None and "+" in lev and set(lev.split("+")) <= set(sub.substantive):
            lev = MERGED + lev  # levels shown together (the codebook's disclosure merges)
        elif sub is not None and lev not in sub.substantive:
            lev = "outside"
        return pop, None, col, lev
    return None


def _plural(label: str) -> str:
    """'person selling sex' -> 'people selling sex'; 'buyer' -> 'buyers'."""
    if label.startswith("person "):
        return "people " + label[len("person "):]
    return label + "s"


def read_figure(path: str, grid: Grid, reg: Register, ctx: _Ctx) -> None:
    """A figure's data: counts per period (``n_<p>``, ``N_<p>``), shares and intervals, differences and tests."""
    pcodes = tuple(ctx.cfg.period_codes)
    header = grid.header
    if not any(h == f"n_{g}" for h in header for g in pcodes):
        return
    for i, row in enumerate(grid.rows):
        rec = dict(zip(header, row))
        where = _figure_key(path, rec, ctx)
        if where is None:
            continue
        pop, role, col, level = where
        label = rec.get("label") or rec.get("group") or col
        by_role = col == "role"
        for g in pcodes:
            n_cell = shown(rec.get(f"n_{g}", ""))
            place = Place(path, grid.lines[i], f"n_{g}", label)
            key = Key(pop, None if by_role else role, col, level, g)
            reg.add(key, place, n_cell)
            den_text = rec.get(f"N_{g}", "")
            if den_text:
                den_key = Key(pop, None, N_COLUMN, "", g) if by_role else key.with_level("den")
                reg.add(den_key, Place(path, grid.lines[i], f"N_{g}", label), shown(den_text))
            pct = printed_interval(rec.get(f"pct_{g}", ""), exact=True)
            if pct is not None:
                den_key = Key(pop, None, N_COLUMN, "", g) if by_role else key.with_level("den")
                reg.shares.append((key, den_key, pct, Place(path, grid.lines[i], f"pct_{g}", label)))
        printed_stats = [rec.get(k, "") for k in ("p_value", "test", "diff_pp", f"ci_low_{pcodes[0]}",
                                                    f"ci_low_{pcodes[1]}")]
        if all(not t or shown(t).kind == "hidden" for t in printed_stats):
            continue  # nothing printed about the row's test or intervals
        if level == "yes" and not by_role and ("p_value" in rec or "ci_low_" + pcodes[0] in rec):
            spec = next((s for s in ctx.specs[pop].values() if s.column == col), None)
            st = RowStats(Place(path, grid.lines[i], "p_value", label), pop, role, col, "binary", ["yes"], pcodes,
                          test="" if shown(rec.get("test", "") or "0").kind == "hidden" else rec.get("test", ""),
                          p=printed_interval(rec.get("p_value", ""), exact=True),
                          family=f"{path}:{pop}:{role}", exact=True, persons=pop == "persons",
                          outside=_outside(spec) if spec else [])
            st.diff = tuple(printed_interval(rec.get(k, ""), exact=True) for k in ("diff_pp", "diff_low", "diff_high"))
            for g in pcodes:
                st.wilson[g] = tuple(printed_interval(rec.get(f"{k}_{g}", ""), exact=True)
                                     for k in ("pct", "ci_low", "ci_high"))
            reg.stats.append(st)


def context(cb: Codebook, cfg: StudyConfig) -> _Ctx:
    return _Ctx(cb, cfg, variable_specs(cb, cfg))


def is_number(x) -> bool:
    try:
        return not math.isnan(float(x))
    except (TypeError, ValueError):
        return False


__all__ = ["Key", "Place", "Occurrence", "Register", "RowStats", "Interval", "ModelFact", "read_comparison",
           "read_model", "read_figure", "context", "printed_interval", "N_COLUMN", "OVERALL", "KNOWN", "UNKNOWN",
           "CLUSTER_PREFIX", "is_number"]
