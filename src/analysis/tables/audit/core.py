"""The audit: read a shared folder's files, build the attacker's integer program, and list what leaks.

:func:`audit` takes the folder's files as ``{relative path: bytes}`` (the command line reads them) and returns an
:class:`AuditResult`. A *leak* is

* a hidden cell whose range over everything the folder prints (and the codebook's relations) lies within
  1..threshold-1: a ``<t`` cell (its marker alone says 1..t-1; the report says whether it is pinned to one value
  or narrowed), or a cell hidden with another marker that is pinned or narrowed into 1..t-1;
* a visible count from 1 to threshold-1 anywhere (tables, figure data, the reliability and row-accounting
  files, notes and the pack's text);
* a reliability row from which a coder's count of a category, or the number of disagreements, comes out within
  1..t-1;
* a number in a table's Markdown, HTML, XLSX sheet or Word table that its CSV does not print there, or a count in
  text that no CSV prints (the integer program reads only the CSVs): the pack's HTML and PDF, the charts' PDFs, the
  findings and data-quality pages in every format (a findings CSV is text: its numbers vouch for nothing), the
  slides and their speaker notes, the Word file's paragraphs, the README;
* a file the audit does not read (a type it does not know, a picture with no PDF of its text): "not covered".

Hidden cells pinned to a value of t or more are listed too (information, not a leak), as are contradictions
between the printed numbers and the relations (they mean the folder, or this audit's reading of it, is wrong).
"""

from __future__ import annotations

import csv
import io
import posixpath
import re
import time
import zipfile
from collections import Counter
from dataclasses import dataclass, field

from ...scheme.codebook import Codebook
from ...scheme.config import StudyConfig
from ...formats.documents import pptx_text
from . import printed
from .agreement import read_reliability
from .model import Builder, Infeasible, Solver, System
from .read import (
    Grid,
    Shown,
    csv_grid,
    docx_grids,
    html_tables,
    markdown_page,
    pdf_text,
    readme_notes,
    shown,
    xlsx_grids,
)
from .register import (
    N_COLUMN,
    OVERALL,
    Interval,
    Key,
    Place,
    Register,
    context,
    read_comparison,
    read_figure,
    read_model,
)
from .text import compare_grids, numbers_in, text_counts

TESTS_SECONDS = 30.0  # time given to the printed tests (beyond it a row adds no constraint: the attack is weaker)
ROW_SECONDS = 2.0  # time given to one row's completions
ROUNDS = 3  # rounds of printed-test constraints (each uses the ranges the previous one left)
_COUNT_COLUMN = re.compile(r"^(?:n|N|count|incidents|observed|reports|people|n_units(?:_all_coders)?|[nN]_\w+|"
                           r"\w+_rows)$")


class UnreadableFolder(ValueError):
    """The folder holds nothing the audit can read as a shared pack."""


@dataclass
class HiddenCell:
    """A count a shared file hides, its range, and what narrows it."""

    key: Key
    places: list[Place]
    marker: str
    small_marker: bool  # printed as '<t'
    linear: tuple[float, float]  # range from the linear relations alone
    final: tuple[float, float]  # range with the printed tests too
    reasons: list[str] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)

    def status(self, t: int) -> str:
        lo, hi = self.final
        if lo == hi:
            return "pinned"
        if self.small_marker:
            return "narrowed" if (lo > 1 or hi < t - 1) else "marked"
        if lo >= 1 and hi <= t - 1:
            return "narrowed"
        return "protected"

    def leak(self, t: int) -> bool:
        lo, hi = self.final
        return lo >= 1 and hi <= t - 1


@dataclass
class Finding:
    kind: str  # hidden | visible | reliability | format | text
    where: str
    message: str
    kinds: list[str] = field(default_factory=list)  # the leak kinds (KINDS) behind it
    cell: HiddenCell | None = None


@dataclass
class AuditResult:
    threshold: int
    hidden: list[HiddenCell]
    findings: list[Finding]
    problems: list[str]
    seconds: float = 0.0
    files: int = 0
    coverage: dict[str, str] = field(default_factory=dict)  # how each file was read (see _Reading.coverage)

    @property
    def leaks(self) -> list[Finding]:
        return self.findings

    @property
    def exit_code(self) -> int:
        """0 when nothing leaks; 1 when something does, or when a problem leaves the audit unable to vouch for a row
        (its printed numbers are left out of the attacker's model, so the ranges may be wider than an attacker's)."""
        return 1 if self.findings or self.problems else 0

    def counts(self) -> dict[str, int]:
        """Summary numbers (distinct counts, not places): the '<t' cells and how many are pinned or narrowed,
        the other hidden cells pinned (to any value) or narrowed into 1..t-1."""
        t = self.threshold
        small = [h for h in self.hidden if h.small_marker]
        other = [h for h in self.hidden if not h.small_marker]
        return {
            "small_cells": len(small),
            "small_pinned": sum(h.status(t) == "pinned" for h in small),
            "small_narrowed": sum(h.status(t) == "narrowed" for h in small),
            "other_hidden": len(other),
            "other_pinned": sum(h.final[0] == h.final[1] for h in other),
            "other_leaking": sum(h.leak(t) for h in other),
            "small_pinned_by_tests": sum(h.status(t) == "pinned" and h.linear[0] != h.linear[1] for h in small),
        }


# --- reading ------------------------------------------------------------------------------------------------------


def _is_comparison(grid: Grid) -> bool:
    return "Variable" in grid.header and any(h.startswith("Overall") for h in grid.header)


@dataclass
class _Page:
    """A page of text with tables in it (findings, data quality, the pack's HTML, a README, the Word tables):
    each table is checked against the CSV that prints it, the rest is checked as text."""

    path: str
    grids: list[Grid]
    lines: list[str] | None = None  # Markdown and Word: the page's lines (a Markdown table's ``span`` is in them)
    html: str | None = None  # HTML: the page's text
    csv_name: str | None = None  # the table CSV of the same name (a table's Markdown or HTML file)


@dataclass
class _Reading:
    reg: Register
    csv: dict[str, Grid] = field(default_factory=dict)
    others: list[Grid] = field(default_factory=list)  # a table's other formats (Markdown, HTML, XLSX sheets)
    pages: list[_Page] = field(default_factory=list)
    paired: list[tuple[Grid, str | None]] = field(default_factory=list)  # every table not a CSV, and its CSV
    texts: list[tuple[str, str]] = field(default_factory=list)
    notes: list[tuple[str, int, str]] = field(default_factory=list)
    reliability: list[tuple[str, Grid]] = field(default_factory=list)
    counts: list[tuple[Place, int]] = field(default_factory=list)  # visible counts of plain data files
    sums: set[int] = field(default_factory=set)
    uncovered: list[tuple[str, str]] = field(default_factory=list)  # files the audit does not read: (path, why)
    loose: list[Grid] = field(default_factory=list)  # a page's tables no CSV prints: their counts are checked
    pictures: list[str] = field(default_factory=list)

    def coverage(self) -> dict[str, str]:
        """How each file was read: ``{path: what}`` (the audit's own account; a file missing here was not given)."""
        out: dict[str, str] = {}
        for path in self.csv:
            out[path] = "table"
        for path, _ in self.texts:
            out[path] = "text"
        tables = Counter(g.path.split("#")[0] for g, _ in self.paired)
        for base, k in tables.items():
            out[base] = ("text and " if base in out else "") + f"{k} table(s) checked against CSVs"
        for path in self.pictures:
            out[path] = "picture (its text: the PDF of the same name)"
        for path, _ in self.uncovered:
            out[path] = "not read"
        return dict(sorted(out.items()))


#: pictures: a chart's image, whose text (title, labels) the PDF of the same name holds and whose data its CSV does
IMAGES = (".png", ".jpg", ".jpeg", ".gif", ".webp")
#: a CSV cell of this many words or more is prose: the CSV is a page of text, not a table of numbers (so is a CSV
#: named findings*)
PROSE_WORDS = 12


def read_folder(files: dict[str, bytes], cb: Codebook, cfg: StudyConfig) -> _Reading:
    """Every file of the shared folder, by what it is (see the module docstring of :mod:`.read`):

    * a CSV: a table (before/after, model, figure data, reliability, row accounting) read into the register, or,
      when a cell holds prose (the findings), a page of text;
    * a Markdown or HTML file with a CSV of the same name: that table's other format; any other (the findings and
      data-quality pages, the pack's HTML, a README): a page, its tables checked against the CSV that prints them
      (same title or same header) and the rest as text;
    * a workbook's sheets and a Word file's tables: a table's other formats (the Word file's other text as text);
    * the slides (text and speaker notes), a PDF's text, a plain text file: text;
    * a picture: covered when the PDF of the same name (its text) is in the folder;
    * anything else is not read, and is listed as such (:attr:`_Reading.uncovered`)."""
    ctx = context(cb, cfg)
    r = _Reading(Register())
    lower = {p.lower() for p in files}
    tables = {p.lower()[:-4]: p for p in files if p.lower().endswith(".csv") and not _prose_file(p, files[p])}
    for path in sorted(files):
        data = files[path]
        low = path.lower()
        stem, ext = posixpath.splitext(low)
        try:
            if ext == ".csv":
                _read_csv(path, data, r, ctx, cb)
            elif ext == ".md":
                if low == "readme.md":
                    r.notes += [(path, k, t) for k, t in readme_notes(data)]
                grids, lines = markdown_page(path, data)
                r.pages.append(_Page(path, grids, lines=lines, csv_name=tables.get(stem)))
            elif ext in (".html", ".htm"):
                grids, text = html_tables(path, data)
                page = _Page(path, [], html=text, csv_name=tables.get(stem))
                for g in grids:
                    if _is_comparison(g) and page.csv_name is None:  # the pack's key tables: no CSV prints them
                        read_comparison(g, r.reg, ctx, standard=False)
                        page.html = _without_tables(page.html, [g])
                    else:
                        page.grids.append(g)
                r.pages.append(page)
            elif ext == ".xlsx":
                r.others += xlsx_grids(path, data)
            elif ext == ".docx":
                grids, lines = docx_grids(path, data)
                r.pages.append(_Page(path, grids, lines=lines))
            elif ext == ".pptx":
                r.texts.append((path, pptx_text(data)))
            elif ext == ".pdf":
                r.texts.append((path, pdf_text(data)))
            elif ext == ".txt":
                r.texts.append((path, data.decode("utf-8")))
            elif ext in IMAGES:
                r.pictures.append(path)
                if stem + ".pdf" not in lower:
                    r.uncovered.append((path, f"a picture with no {path.rsplit('/', 1)[-1].rsplit('.', 1)[0]}.pdf "
                                        "beside it (the audit reads a chart's text from its PDF)"))
            else:
                r.uncovered.append((path, f"a file of a type the audit does not read ({ext or 'no extension'})"))
        except (ValueError, KeyError, IndexError, UnicodeDecodeError, zipfile.BadZipFile) as exc:
            r.reg.problems.append(f"{path}: could not be read ({exc})")
    _pair_tables(r)
    return r


def _sheet_csv(grid: Grid) -> str:
    """The CSV a workbook's sheet is named after: ``tables/tables.xlsx#incidents`` -> ``tables/incidents.csv``."""
    base, sheet = grid.path.split("#", 1)
    return f"{base.rsplit('/', 1)[0]}/{sheet}.csv" if "/" in base else f"{sheet}.csv"


def _csv_for(grid: Grid, csvs: dict[str, Grid], name: str | None) -> str | None:
    """The CSV that prints ``grid``: the one with the same title, else the one with the same header (and as many
    rows, when several have it), else the one of the same name (``name``: a table's Markdown, HTML or sheet)."""
    title = grid.title.strip()
    same = [p for p, g in csvs.items() if title and g.title.strip() == title]
    if len(same) == 1:
        return same[0]
    header = [h.strip() for h in grid.header]
    same = [p for p, g in csvs.items() if [h.strip() for h in g.header] == header]
    rows = [p for p in same if len(csvs[p].rows) == len(grid.rows)]
    if rows or same:
        return (rows or same)[0]
    return name if name in csvs else None


def _pair_tables(r: _Reading) -> None:
    """Each table of another format with its CSV; a page's tables with no CSV stay in its text (a table file's
    with no CSV is listed as not covered)."""
    r.paired = [(g, _csv_for(g, r.csv, _sheet_csv(g))) for g in r.others]
    for page in r.pages:
        kept: list[Grid] = []
        for g in page.grids:
            csv_path = _csv_for(g, r.csv, page.csv_name)
            if csv_path is None:
                kept.append(g)
            else:
                r.paired.append((g, csv_path))
        matched = [g for g in page.grids if g not in kept]
        if page.html is not None:
            r.texts.append((page.path, _without_tables(page.html, matched)))
            continue
        lines = list(page.lines or [])
        for g in matched:
            if g.span:  # a Markdown table: its lines
                for k in range(g.span[0] - 1, g.span[1]):
                    lines[k] = ""
        for g in kept:
            if not g.span:  # a Word table: its rows after the page's text
                lines += ["\t".join(row) for row in [g.header, *g.rows]]
        r.texts.append((page.path, "\n".join(lines)))
        r.loose += kept


def _without_tables(text: str, grids: list[Grid]) -> str:
    """The pack's text with its tables' cells taken out (they are read as tables)."""
    for g in grids:
        for row in g.rows:
            for cell in row:
                if cell:  # the cell as a whole token ('80' is not taken out of '280')
                    before = r"(?<![\w.,])" if cell[0].isalnum() else ""
                    after = r"(?![\w])" if cell[-1].isalnum() else ""
                    text = re.sub(before + re.escape(cell) + after, " ", text, count=1)
    return text


def _read_csv(path: str, data: bytes, r: _Reading, ctx, cb: Codebook) -> None:
    grid = csv_grid(path, data)
    folder = path.split("/")[0] if "/" in path else ""
    if _is_prose(grid) or path.lower().rsplit("/", 1)[-1].startswith("findings"):
        # the findings: a page of text (its numbers are checked, they vouch for nothing)
        r.texts.append((path, _csv_text(data)))
        return
    if _is_comparison(grid):
        r.csv[path] = grid
        read_comparison(grid, r.reg, ctx, standard=folder == "tables")
        return
    if "Outcome" in grid.header:
        r.csv[path] = grid
        read_model(grid, r.reg, ctx)
        return
    if folder == "figures":
        read_figure(path, grid, r.reg, ctx)
    if folder == "reliability":
        r.reliability.append((path, grid))
    for j, h in enumerate(grid.header):
        if not _COUNT_COLUMN.match(h):
            continue
        total = 0
        for i, row in enumerate(grid.rows):
            s = _count_shown(row[j] if j < len(row) else "")
            if s is not None:
                r.counts.append((Place(path, grid.lines[i], h, " ".join(row[:2])), s))
                total += s
        r.sums.add(total)
    r.csv[path] = grid


def _csv_text(data: bytes) -> str:
    """A CSV as text: each record's cells joined by ' | ' on the line where the record ends in the file."""
    lines: list[str] = []
    reader = csv.reader(io.StringIO(data.decode("utf-8-sig")))
    for rec in reader:
        lines += [""] * (reader.line_num - len(lines))
        lines[reader.line_num - 1] = " | ".join(" ".join(c.split()) for c in rec)
    return "\n".join(lines)


def _prose_file(path: str, data: bytes) -> bool:
    if path.lower().rsplit("/", 1)[-1].startswith("findings"):
        return True
    try:
        return _is_prose(csv_grid(path, data))
    except (ValueError, UnicodeDecodeError, csv.Error):
        return False  # reported when the file is read


def _is_prose(grid: Grid) -> bool:
    if _is_comparison(grid) or "Outcome" in grid.header or grid.path.startswith("figures/"):
        return False
    return any(len(cell.split()) >= PROSE_WORDS for row in grid.rows for cell in row)


def _count_shown(text: str) -> int | None:
    t = text.strip().replace(",", "")
    return int(t) if t.isdigit() else None


# --- the integer program --------------------------------------------------------------------------------------------


def _zero_floor(reg_files: dict[str, Grid]) -> int:
    """1 when the shared files say zero is always shown (so a hidden count is at least 1), else 0."""
    for g in reg_files.values():
        if re.search(r"[Zz]ero is (?:not suppressed|always shown|shown)", g.footer_text()):
            return 1
    return 0


def _whole_column_markers(reg_files: dict[str, Grid]) -> frozenset[str]:
    """Markers the footers explain as a whole column left out (a role's column in a period: "'not shown': the
    role's counts in that period are left out ..."). Such a column hides its zeros too, so "zero is shown" does
    not make its cells at least 1: a reader knows only that they are 0 or more (reading them as >= 1 would pin
    cells a real reader cannot: issue 11, the 24-report coding). The column's size is not bounded either: the
    footer says a role is left out when it is small *or* when its counts would give others away."""
    whole = r"'([^']+)': the role(?:'s counts in that period are left out| has fewer than)"
    out = set()
    for g in reg_files.values():
        out |= {m.strip().lower() for m in re.findall(whole, g.footer_text())}
    return frozenset(out)


def build(reading: _Reading, cb: Codebook, cfg: StudyConfig, floor: int, zero_ok: frozenset = frozenset()
          ) -> tuple[System, Builder, dict]:
    """The system of everything the folder prints: occurrences, zeros, shares, generic blocks, the model's n."""
    t = cfg.suppression_threshold
    whole_column = _whole_column_markers(reading.csv)
    system = System()
    b = Builder(cb, cfg, system)
    reg = reading.reg
    for pop, role, col, levels, outside, clear in reg.generic_blocks:
        b.add_generic_block(pop, role, col, levels, outside, clear)
    hidden: dict[Key, list] = {}
    for occ in reg.occurrences:
        coefs, const = b.expr(occ.key)
        s = occ.shown
        if s.kind == "count":
            system.add(coefs, s.n - const, s.n - const, f"{occ.place}: {s.n}")
        elif s.kind == "hidden":
            small = s.below is not None
            zero = occ.key in zero_ok or s.marker.strip().lower() in whole_column
            lo, hi = (1, (s.below or t) - 1) if small else (0 if zero else floor, float("inf"))
            system.add(coefs, lo - const, hi - const, f"{occ.place}: {s.marker}")
            hidden.setdefault(occ.key, []).append(occ)
    for key, why in reg.zeros:
        coefs, const = b.expr(key)
        system.add(coefs, -const, -const, why)
    for n_key, den_key, iv, place in reg.shares:
        (nc, n0), (dc, d0) = b.expr(n_key), b.expr(den_key)
        # lo <= 100 n / den <= hi  <=>  100 n - hi den <= 0 <= 100 n - lo den (den > 0)
        for bound, sense in ((iv.hi, "hi"), (iv.lo, "lo")):
            coefs = {k: 100 * v for k, v in nc.items()}
            for k, v in dc.items():
                coefs[k] = coefs.get(k, 0.0) - bound * v
            const = 100 * n0 - bound * d0
            if sense == "hi":
                system.add(coefs, -float("inf"), -const + 1e-7, f"{place}: share <= {iv.hi:g}%")
            else:
                system.add(coefs, -const - 1e-7, float("inf"), f"{place}: share >= {iv.lo:g}%")
    for fact in reg.models:
        _model_fact(fact, b, system)
    return system, b, hidden


def _model_fact(fact, b: Builder, system: System) -> None:
    """The model's reports and events: the outcome's denominator and yes count, less reports whose unit is not
    documented (at most the investigating unit's 'Unknown' count)."""
    if fact.n.kind != "count":
        return
    den = b.expr(Key("incidents", None, fact.column, "den", OVERALL))
    yes = b.expr(Key("incidents", None, fact.column, "yes", OVERALL))
    unit_unknown = b.expr(Key("incidents", None, "investigating_unit__vice", "unknown", OVERALL))
    u = system.var(f"model[{fact.column}] reports left out")
    e = system.var(f"model[{fact.column}] events left out")
    coefs = dict(den[0])
    coefs[u] = coefs.get(u, 0) - 1
    system.add(coefs, fact.n.n - den[1], fact.n.n - den[1], f"{fact.place}: {fact.n.n} reports in the model")
    uu = {k: -v for k, v in unit_unknown[0].items()}
    uu[u] = 1.0
    system.add(uu, -float("inf"), unit_unknown[1], f"{fact.place}: reports left out have no unit documented")
    system.add({e: 1.0, u: -1.0}, -float("inf"), 0, f"{fact.place}: events left out <= reports left out")
    if fact.events.kind == "count":
        coefs = dict(yes[0])
        coefs[e] = coefs.get(e, 0) - 1
        system.add(coefs, fact.events.n - yes[1], fact.events.n - yes[1], f"{fact.place}: {fact.events.n} events")


# --- printed statistics -------------------------------------------------------------------------------------------


def _ranges(solver: Solver, b: Builder, keys, out: dict) -> dict:
    """Exact ranges of ``keys`` (added to ``out``)."""
    for k in keys:
        if k not in out:
            out[k] = solver.range(b.expr(k))
    return out


def _domain(key: Key, expr, solver: Solver, ranges: dict, visible: dict) -> tuple[float, float]:
    """A range that contains every value ``key`` can take: its printed value, its value when the equations fix
    it, its exact range when it is a hidden cell, else anything (the row's sums bound it)."""
    if key in visible:
        return visible[key], visible[key]
    if _fixed(expr, solver):
        v = expr[1] + sum(c * solver.fixed[k] for k, c in expr[0].items())
        return v, v
    return ranges.get(key, (0, float("inf")))


def _tight(domain: tuple[float, float], expr, solver: Solver) -> tuple[float, float]:
    """``domain`` narrowed to the linear relaxation's range of ``expr`` (which contains every whole-number value)."""
    if domain[0] == domain[1]:
        return domain
    lo, hi = solver.range(expr, relaxed=True)
    return max(lo, domain[0]), min(hi, domain[1])


def _stats_round(reg: Register, system: System, b: Builder, solver: Solver, ranges: dict, done: dict,
                 applied: dict, deadline: float, skipped: set) -> list[int]:
    """One round: each row's completions within the current ranges, filtered by what it prints; the kept ones
    become a constraint. Returns the unknowns of the constraints added (to find the ranges they may change)."""
    touched: list[int] = []
    for idx, st in enumerate(reg.stats):
        keys, sums = printed.row_keys(st)
        needed = printed.check_keys(st)
        keys = [k for k in keys if k in needed]
        sums = [(coefs, label) for coefs, label in sums if set(coefs) <= needed]
        if not any(k in ranges for k in keys):
            continue  # nothing hidden that the row's statistics read
        exprs = {k: b.expr(k) for k in keys}
        domains = [_domain(k, exprs[k], solver, ranges, reg.visible) for k in keys]
        sig = tuple(domains)
        if done.get(idx) == sig:
            continue
        done[idx] = sig
        index = {k: i for i, k in enumerate(keys)}
        cons = [printed.Linear({index[k]: v for k, v in coefs.items()}, 0, 0) for coefs, _ in sums]
        sols = printed.solutions(domains, cons)
        try:
            kept = _keep_in_time(st, keys, sols, exprs, cons, domains, reg, solver, deadline)
        except printed.OutOfTime:
            skipped.add(idx)
            continue
        sols = kept[1] if kept is not None else sols
        kept = kept[0] if kept is not None else None
        if sols is None:  # the attacker could use the row; this audit did not: it cannot vouch for it
            reg.problems.append(f"{st.place}: the printed tests were not used (more than "
                                f"{printed.MAX_SOLUTIONS:,} completions of the hidden cells they read)")
            continue
        if not sols:
            reg.problems.append(f"{st.place}: the row's cells admit no completion")
            continue
        if not kept:
            reg.problems.append(f"{st.place}: no completion reproduces what is printed ({len(sols)} tried)")
            continue
        if len(kept) == len(sols):
            continue
        free = [i for i in range(len(keys)) if len({s[i] for s in sols}) > 1]
        options = sorted({tuple(s[i] for i in free) for s in kept})
        why = f"{st.place}: printed {st.test or 'values'}" + (f", p {st.p.text}" if st.p else "")
        _add_choice(system, [exprs[keys[i]] for i in free], options, why)
        for i in free:
            touched += list(exprs[keys[i]][0])
        applied[idx] = (len(sols), len(kept))
    return touched


def _keep_in_time(st, keys, sols, exprs, cons, domains, reg: Register, solver: Solver, deadline: float):
    """(kept completions, completions listed) of a row; raises printed.OutOfTime when the time is spent."""
    now = time.perf_counter()
    if now > deadline:
        raise printed.OutOfTime
    deadline = min(deadline, now + ROW_SECONDS)  # one costly row does not starve the others
    kept = printed.keep(st, keys, sols, reg.q_families, tighter=True, deadline=deadline) if sols else sols
    if kept is None:  # too many completions: list them again within the linear relaxation's ranges
        domains = [_tight(d, exprs[k], solver) for k, d in zip(keys, domains)]
        sols = printed.solutions(domains, cons)
        kept = printed.keep(st, keys, sols, reg.q_families, deadline=deadline) if sols else sols
    return kept, sols


def _fixed(expr, solver: Solver) -> bool:
    return all(k in solver.fixed for k in expr[0])


def _add_choice(system: System, exprs, options, why: str) -> None:
    """The keys' values are one of ``options``: a binary switch per option, exactly one on."""
    z = [system.var(f"choice[{why}]#{i}", 0, 1) for i in range(len(options))]
    system.add({v: 1.0 for v in z}, 1, 1, why)
    for j, (coefs, const) in enumerate(exprs):
        row = dict(coefs)
        for i, opt in enumerate(options):
            row[z[i]] = row.get(z[i], 0.0) - opt[j]
        system.add(row, -const, -const, why)


# --- the audit -------------------------------------------------------------------------------------------------------


def _linear_ranges(reading: _Reading, cb: Codebook, cfg: StudyConfig, floor: int, problems: list[str]):
    """The system, its solver and the hidden cells' ranges from the linear relations. When the files say zero is
    never hidden (``floor`` 1) but the numbers then contradict each other (a hidden cell must be 0), the claim is
    false: the cells are read as 0 or more, and the contradictions are listed as problems."""
    zero_ok: frozenset = frozenset()
    if floor:  # first the cells the presolve finds must be 0 (a hidden zero), then, if need be, every cell
        system, b, hidden = build(reading, cb, cfg, floor)
        solver = Solver(system)
        marker_rows = {f"{o.place}: {o.shown.marker}": o.key for o in reading.reg.occurrences
                       if o.shown.kind == "hidden" and o.shown.below is None}
        zero_ok = frozenset(marker_rows[w] for w in marker_rows
                            if any(p.startswith(f"contradiction: {w} (") for p in solver.problems))
        if zero_ok:
            problems.append(f"the files say zero is never hidden, but {len(zero_ok)} hidden cell(s) must be 0 "
                            "(read as 0 or more): " + "; ".join(sorted(w for w, k in marker_rows.items()
                                                                       if k in zero_ok))[:600])
    system, b, hidden = build(reading, cb, cfg, floor, zero_ok)
    solver = Solver(system)
    linear: dict = {}
    try:
        if floor and solver.problems:
            raise Infeasible("a hidden cell must be 0")
        _ranges(solver, b, list(hidden), linear)
    except Infeasible as exc:
        if not floor:
            raise
        problems += [p for p in solver.problems if p not in problems]
        problems.append(f"the files say zero is never hidden, but the printed numbers then contradict each other "
                        f"({exc}): every hidden cell is read as 0 or more")
        return _linear_ranges(reading, cb, cfg, 0, problems)
    problems += [p for p in solver.problems if p not in problems]
    return system, b, hidden, solver, linear


def audit(files: dict[str, bytes], cb: Codebook, cfg: StudyConfig) -> AuditResult:
    """Audit a shared folder's files (``{path relative to the folder: bytes}``). See the module docstring."""
    start = time.perf_counter()
    if not any(p.lower().endswith(".csv") for p in files):
        raise UnreadableFolder("no CSV file: this is not a shared folder of the report (tables/*.csv, figures/*.csv)")
    t = cfg.suppression_threshold
    reading = read_folder(files, cb, cfg)
    reg = reading.reg
    unread = [p for p in reg.problems if ": could not be read (" in p]
    if unread:  # the audit cannot vouch for a file it cannot read
        raise UnreadableFolder(" ".join(f"{p}." for p in unread[:3]) + (f" ({len(unread) - 3} more)" if
                                                                         len(unread) > 3 else ""))
    floor = _zero_floor(reading.csv)
    problems = list(reg.problems)
    unproven = ""
    try:
        system, b, hidden, solver, linear = _linear_ranges(reading, cb, cfg, floor, problems)
    except Infeasible as exc:
        problems.append(f"the printed numbers contradict the codebook's relations ({exc}); ranges not computed")
        system, b, hidden = build(reading, cb, cfg, 0)
        linear = {k: (0.0, float("inf")) for k in hidden}
        solver = None
        unproven = str(exc)
    final = dict(linear)
    skipped: set = set()
    try:
        done: dict = {}
        applied: dict = {}
        deadline = time.perf_counter() + TESTS_SECONDS
        for _ in range(ROUNDS if solver is not None else 0):
            touched = _stats_round(reg, system, b, solver, final, done, applied, deadline, skipped)
            if not touched:
                break
            was_fixed = set(solver.fixed)
            solver = Solver(system)
            problems += [p for p in solver.problems if p not in problems]
            dirty = {solver.comp.get(k) for k in touched} - {None}
            newly = set(solver.fixed) - was_fixed
            for k in list(final):
                if any(v in newly or solver.comp.get(v) in dirty for v in b.expr(k)[0]):
                    final[k] = solver.range(b.expr(k))
    except Infeasible as exc:
        problems.append(f"the printed tests contradict the relations ({exc}); the ranges from the linear relations "
                        "alone are reported")
        final = dict(linear)
    if skipped:
        problems.append(f"the printed tests of {len(skipped)} row(s) were not used (more than {ROW_SECONDS:g} s for "
                        f"a row, or the {TESTS_SECONDS:g} s for all tests spent): " + "; ".join(str(reg.stats[i].place) for i in sorted(skipped)[:5]))
    problems += [p for p in reg.problems if p not in problems]
    weighted = sorted(set(reg.weighted))
    if weighted:  # a channel this audit does not model: it cannot vouch for these tables
        problems.append(f"{', '.join(weighted)}: weighted to the sampling frame: the weighted percentages, intervals "
                        "and tests also depend on how each period's counts split between its sampled years, which "
                        "this audit does not attack (README: Sampling weights)")
    keys_of: dict[str, Key] = {}
    for occ in reg.occurrences:
        keys_of.setdefault(f"{occ.place}: {occ.shown.n if occ.shown.kind == 'count' else occ.shown.marker}", occ.key)
    cells = [_hidden_cell(k, occs, linear[k], final[k], system, b, t, keys_of) for k, occs in hidden.items()]
    findings = _findings(cells, reading, t, cb)
    if unproven:  # nothing is proved safe: the audit fails
        findings.insert(0, Finding("unproven", "the whole folder", "the printed numbers contradict the codebook's "
                                   f"relations ({unproven}); no hidden cell's range could be computed", [FORMAT]))
    return AuditResult(t, cells, findings, problems, time.perf_counter() - start, len(files), reading.coverage())


_MISSING_ROWS = {"-8", "-9", "unknown", "outside", "not documented", "not applicable"}

#: The leak kinds of issue 11 (and the audit's own), in the order the report lists them.
RELATED = "related rows (derived variables)"
ROLES = "role tables vs the everyone table"
N_ROWS = "N and n rows"
TESTS = "printed tests and statistics"
TEXT = "counts in notes and text"
RELIABILITY = "reliability figures"
TOTALS = "a variable's own totals"
VISIBLE = "visible small counts"
FORMAT = "numbers outside the CSVs"
MARKER = "the '<t' marker itself (1..t-1)"
KINDS = (RELATED, ROLES, N_ROWS, TESTS, TEXT, RELIABILITY, TOTALS, VISIBLE, FORMAT, MARKER)


def _hidden_cell(key: Key, occs, lin, fin, system: System, b: Builder, t: int, keys_of: dict) -> HiddenCell:
    small = any(o.shown.below is not None for o in occs)
    cell = HiddenCell(key, [o.place for o in occs], occs[0].shown.marker, small, lin, fin)
    if fin[0] == fin[1] or (fin[0] >= 1 and fin[1] <= t - 1) or (small and (fin[0] > 1 or fin[1] < t - 1)):
        cell.reasons, cell.kinds = _reasons(key, system, b, lin != fin, keys_of)
    return cell


def _reasons(key: Key, system: System, b: Builder, tests: bool, keys_of: dict) -> tuple[list[str], list[str]]:
    """The printed numbers that share unknowns with the cell (fewest unknowns first), and the kinds of relation
    they are: another variable of the cell's family (related rows), another role or the everyone table (role
    tables), an N row or a number's n (N and n rows), the variable's own other cells (its totals); and the
    printed tests when they narrowed the cell further than the linear relations."""
    coefs, _ = b.expr(key)
    mine = set(coefs)
    near = set(mine)  # the cell's unknowns and those of its families' sums to N (the N itself too)
    for row in system.rows:
        if row.why.endswith("add up to N") and mine & set(row.coefs):
            near |= set(row.coefs)
    rows = []
    for row in system.rows:
        if row.why.startswith("choice[") or not (near & set(row.coefs)) or row.why not in keys_of:
            continue
        other = keys_of[row.why]
        if other == key:
            continue
        rows.append((len(row.coefs), row.why, other, bool(mine & set(row.coefs))))
    rows.sort(key=lambda r: r[:2])
    kinds: set[str] = set()
    for _, _, other, direct in rows:
        if other.column == N_COLUMN:
            if direct:  # the N row itself (every family adds up to N: only a direct tie counts)
                kinds.add(N_ROWS)
        elif other.level == "n" or (other.level == "den" and key.level in _MISSING_ROWS):
            kinds.add(N_ROWS)  # a number's n, or a denominator next to the N: the missing rows are N - n
        elif other.role != key.role:
            kinds.add(ROLES)
        elif other.column != key.column:
            kinds.add(RELATED)
        else:
            kinds.add(TOTALS)
    reasons = list(dict.fromkeys(w for _, w, _, _ in rows))[:8]
    if tests:
        kinds.add(TESTS)
        reasons = sorted(_choice_whys(system, mine))[:4] + reasons
    return reasons, [k for k in KINDS if k in kinds]


def _choice_whys(system: System, mine: set[int]) -> set[str]:
    """The printed tests whose kept completions constrain one of ``mine``."""
    return {r.why for r in system.rows if "printed" in r.why and mine & set(r.coefs)}


def _findings(cells: list[HiddenCell], reading: _Reading, t: int, cb: Codebook) -> list[Finding]:
    out: list[Finding] = []
    for c in cells:
        if not c.leak(t):
            continue
        lo, hi = c.final
        value = f"= {lo:g}" if lo == hi else f"in {lo:g}..{hi:g}"
        how = "pinned" if lo == hi else ("narrowed" if c.status(t) == "narrowed" else "shown as " + c.marker)
        kinds = list(c.kinds) or [MARKER]
        if c.small_marker and how == "shown as " + c.marker:
            kinds = [MARKER]
        reasons = ("; from: " + "; ".join(c.reasons[:6])) if c.reasons and kinds != [MARKER] else ""
        out.append(Finding("hidden", str(c.places[0]), f"hidden cell {_key_text(c.key)} {value} ({how}; marker "
                           f"{c.marker!r})" + reasons, kinds, c))
    for occ in reading.reg.occurrences:
        s = occ.shown
        if s.kind == "count" and 1 <= s.n < t:
            out.append(Finding("visible", str(occ.place), f"visible count {s.n} ({_key_text(occ.key)})", [VISIBLE]))
        if s.kind == "count" and s.den is not None and 1 <= s.den < t:
            out.append(Finding("visible", str(occ.place), f"visible denominator {s.den} ({_key_text(occ.key)})",
                               [N_ROWS]))
    for place, n in reading.counts:
        if 1 <= n < t:
            out.append(Finding("visible", str(place), f"visible count {n}", [VISIBLE]))
    for path, grid in reading.reliability:
        for rc in read_reliability(grid, cb):
            where = f"{path}, line {rc.line}, row {rc.label!r}"
            if rc.disagreements is not None and 1 <= rc.disagreements < t:
                out.append(Finding("reliability", where, f"n_units x percent agreement gives {rc.disagreements} "
                                   "disagreement(s)", [RELIABILITY]))
            for name, rng in (("one coder", rc.low), ("the other coder", rc.high)):
                if rng and 1 <= rng[0] and rng[1] < t:
                    out.append(Finding("reliability", where, f"kappa and alpha give {name}'s count of the rarer category as "
                                       + (f"{rng[0]}" if rng[0] == rng[1] else f"{rng[0]}..{rng[1]}"), [RELIABILITY]))
    out += _text_findings(reading, t)
    return out


def _key_text(key: Key) -> str:
    who = key.pop + (f" ({key.role})" if key.role else "")
    col = "N" if key.column == N_COLUMN else key.column
    lev = f" = {key.level}" if key.level else ""
    return f"[{who}: {col}{lev}, {key.period}]"


def _text_findings(reading: _Reading, t: int) -> list[Finding]:
    """Counts in text that no CSV prints, small counts in text, and table formats that differ from their CSV."""
    out = []
    csv_numbers: set[int] = set(reading.sums)
    for g in reading.csv.values():
        for row in g.rows:
            for cell in row:
                csv_numbers |= numbers_in(cell)
    for path, text in reading.texts:
        for c in text_counts(path, text):
            where = f"{path}, line {c.line}"
            if 1 <= c.value < t:
                out.append(Finding("text", where, f"count {c.value} in text: {c.context!r}", [TEXT]))
            elif c.value not in csv_numbers:
                out.append(Finding("format", where, f"number {c.value} is in no CSV: {c.context!r}", [FORMAT]))
    for other, csv_path in reading.paired:
        if csv_path is None:
            out.append(Finding("format", other.path, "a table with no CSV of the same name: not covered by the audit",
                               [FORMAT]))
            continue
        stem = csv_path[:-4]
        for m in compare_grids(other, reading.csv[csv_path]):
            if not m.line and int(m.shown) in csv_numbers and not 1 <= int(m.shown) < t:
                continue  # a page laid out unlike its CSV, whose numbers every CSV of the folder covers: checked
                # as counts against the register there
            out.append(Finding("format", f"{m.path}, line {m.line}, column {m.column!r}, row {m.row!r}",
                               f"prints {m.shown!r} where {stem}.csv prints {m.csv!r}", [FORMAT]))
    for g in reading.loose:  # a page's table that no CSV prints: its counts are counts in text
        for row, line in zip(g.rows, g.lines):
            for j, cell in enumerate(row):
                s = shown(cell)
                where = f"{g.path}, line {line}, column {g.header[j] if j < len(g.header) else j + 1!r}"
                for n in ([s.n, s.den] if s.kind == "count" else []):
                    if n is not None and 1 <= n < t:
                        out.append(Finding("text", where, f"count {n} in a table no CSV prints: {cell!r}", [TEXT]))
                    elif n is not None and n not in csv_numbers:
                        out.append(Finding("format", where, f"number {n} is in no CSV: {cell!r}", [FORMAT]))
    for path, why in reading.uncovered:
        out.append(Finding("format", path, f"{why}: not covered by the audit", [FORMAT]))
    return out


__all__ = ["audit", "AuditResult", "HiddenCell", "Finding", "UnreadableFolder", "Shown", "Interval"]
