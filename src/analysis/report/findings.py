"""Findings per committee question, and the data-quality page, built from the published numbers.

The interface between the content (this module) and the documents (the PDF, slides and Word renderers):

- :class:`Finding`: one committee question (``id`` and ``question`` from the codebook's ``questions:``), one or
  two plain ``sentences``, their ``caveats``, the ``chart`` (a :class:`~analysis.report.charts.Chart` name, or
  None) and the ``table`` and ``rows`` (labels of the standard table's rows) that show it;
- :class:`Findings`: the findings in the codebook's order, with ``synthetic`` and ``weighted``;
- :class:`QualityRow` / :class:`DataQuality`: double-coding n (or "suppressed"), alpha with its 95% CI and the
  flag, for every variable behind a finding, and the row accounting.

Every number in a sentence comes from a displayed (published) cell of the before/after table: a suppressed
cell's number is never written; the sentence says the count is too small to show. The wording rules are in
:mod:`analysis.report.wording`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd


@dataclass
class Finding:
    """What the numbers say about one committee question."""

    id: str  # the question's id in the codebook (e.g. "condoms")
    question: str  # the committee's question, in plain words
    sentences: list[str]  # one or two sentences a non-statistician reads correctly
    caveats: list[str] = field(default_factory=list)  # reliability, small / suppressed counts, missing data, ...
    chart: str | None = None  # the chart that shows it (Chart.name), or None
    table: str = ""  # the standard table (file stem, e.g. "incidents", "persons_sellers")
    rows: list[str] = field(default_factory=list)  # the table's row labels behind the sentences
    variables: list[str] = field(default_factory=list)  # table.variable names behind it
    status: str = ""  # "change" | "no clear change" | "suppressed" | "not available" | "described"

    @property
    def text(self) -> str:
        """The sentences as one paragraph."""
        return " ".join(self.sentences)


@dataclass
class Findings:
    """The findings page: one :class:`Finding` per committee question, in the codebook's order."""

    items: list[Finding]
    synthetic: bool = False
    weighted: bool = False
    title: str = "Findings: what changed, question by question"
    intro: str = ""  # one line on how to read the page (direction of change, what "no clear change" means)

    def frame(self) -> pd.DataFrame:
        """One row per question (for findings.csv)."""
        return pd.DataFrame([{"id": f.id, "question": f.question, "finding": f.text,
                              "caveats": "; ".join(f.caveats), "chart": f.chart or "", "table": f.table,
                              "rows": "; ".join(f.rows), "status": f.status} for f in self.items],
                            columns=["id", "question", "finding", "caveats", "chart", "table", "rows", "status"])

    def markdown(self) -> str:
        """The page as Markdown (findings.md)."""
        lines = [f"# {self.title}" + (" (SYNTHETIC DATA)" if self.synthetic else ""), ""]
        if self.intro:
            lines += [self.intro, ""]
        for f in self.items:
            lines += [f"## {f.question}", "", f.text, ""]
            if f.caveats:
                lines += ["Caveats: " + "; ".join(f.caveats) + ".", ""]
            shown = [f"chart: {f.chart}"] if f.chart else []
            if f.table:
                shown.append(f"table: {f.table}" + (f" ({'; '.join(f.rows)})" if f.rows else ""))
            if shown:
                lines += ["Shown in " + ", ".join(shown) + ".", ""]
        return "\n".join(lines).rstrip() + "\n"


def _two(x: float) -> str:
    """Two decimals, never '-0.00'."""
    t = f"{x:.2f}"
    return "0.00" if t == "-0.00" else t


@dataclass
class QualityRow:
    """Reliability of one variable behind a finding."""

    variable: str  # table.variable (or table.variable__option)
    label: str
    questions: list[str]  # ids of the findings it is behind
    n_double_coded: str  # as shown: "40", or "suppressed" / "<5", or "not double-coded"
    alpha: float  # nan when undefined
    alpha_low: float  # clipped to [-1, 1]
    alpha_high: float
    flag: str  # reliable | tentative | unreliable | no variation | not double-coded | not assessed

    @property
    def alpha_text(self) -> str:
        if self.alpha != self.alpha:
            return "not estimable"
        ci = "" if self.alpha_low != self.alpha_low else f" (95% CI {_two(self.alpha_low)} to {_two(self.alpha_high)})"
        return f"{self.alpha:.2f}{ci}"


@dataclass
class DataQuality:
    """The data-quality page: reliability of every variable behind a finding, and the row accounting."""

    rows: list[QualityRow]
    accounting: pd.DataFrame  # table, input rows, valid, rejected (counts as shown, small-cell rule applied)
    notes: list[str] = field(default_factory=list)
    synthetic: bool = False
    title: str = "Data quality: coder agreement and row accounting"

    def frame(self) -> pd.DataFrame:
        """One row per variable (for data_quality.csv)."""
        return pd.DataFrame([{"variable": r.variable, "label": r.label, "questions": "; ".join(r.questions),
                              "double_coded_n": r.n_double_coded, "alpha": r.alpha_text, "flag": r.flag}
                             for r in self.rows],
                            columns=["variable", "label", "questions", "double_coded_n", "alpha", "flag"])

    def markdown(self) -> str:
        from ..tables.export import to_markdown

        lines = [f"# {self.title}" + (" (SYNTHETIC DATA)" if self.synthetic else ""), ""]
        lines += [n + "\n" for n in self.notes]
        lines.append(to_markdown(self.frame(), "Coder agreement (Krippendorff's alpha) behind each finding", []))
        lines.append(to_markdown(self.accounting, "Row accounting", []))
        return "\n".join(lines).rstrip() + "\n"


# --- building the findings from the displayed tables ---------------------------------------------------------

#: the coded variables a derived variable is made from (its coder agreement is theirs)
DERIVED_FROM = {
    "incidents.condoms_evidence_any": ("incidents.condoms_mentioned", "incidents.condoms_evidence"),
    "incidents.correctly_identified": ("incidents.sfpd_label", "incidents.trafficking_assessment"),
    "incidents.misclassification": ("incidents.sfpd_label", "incidents.trafficking_assessment"),
    "incidents.misclassified": ("incidents.sfpd_label", "incidents.trafficking_assessment"),
    "incidents.labelled_trafficking": ("incidents.sfpd_label",),
    "incidents.assessed_trafficking": ("incidents.trafficking_assessment",),
    "incidents.case_from_sting_or_operation": ("incidents.origin",),
    "persons.trans_woman_of_color": ("persons.gender_identity", "persons.race_ethnicity"),
    "persons.tay": ("persons.age",),
    "persons.minor": ("persons.age",),
    "persons.age_group": ("persons.age",),
    "persons.income_stratum": ("persons.residence_zip",),
    "persons.hiv_charge": ("charges.statute__hiv",),
    "persons.charge__selling": ("charges.statute__selling",),
    "persons.charge__buying": ("charges.statute__buying",),
    "persons.charge__third_party": ("charges.statute__third_party",),
    "persons.charge__trafficking": ("charges.statute__trafficking",),
    "persons.most_serious_charge": ("charges.statute",),
}
#: derived yes/no variables whose blanks are outside the population by definition, not missing data
BLANK_BY_DESIGN = frozenset({"correctly_identified"})
#: the levels that are missing data (counted in the missing-data share); 'not applicable' (skip logic) is not
MISSING_DATA_LEVELS = frozenset({"-8", "not documented", "not_documented", "unknown", "zip_not_in_lookup"})


@dataclass
class ShownRow:
    """One row of a displayed table, with what it is (from the analyst's row it was made from)."""

    column: str
    variable: str
    label: str
    level: str
    level_label: str
    kind: str
    row_type: str
    cells: tuple  # (before, after) wording.Cell
    change: object  # wording.Change or None
    q: float | None
    shown: dict  # the displayed row


def shown_rows(ct, shown: pd.DataFrame) -> list[ShownRow]:
    """The displayed table ``shown`` (:func:`analysis.tables.compare.display`: a top row of N, then one row per
    analyst row) matched to the analyst rows of ``ct`` for what each row is. The numbers come from ``shown``."""
    from .wording import Cell, Change, parse_q

    body = shown.iloc[1:].reset_index(drop=True)
    if len(body) != len(ct.rows):
        raise ValueError(f"the displayed table has {len(body)} rows, its source {len(ct.rows)}")
    cols = list(shown.columns)
    before_col, after_col, change_col, q_col = cols[2], cols[3], cols[5], cols[-1]
    out = []
    q_of: dict[str, float | None] = {}
    for (_, src), (_, row) in zip(ct.rows.iterrows(), body.iterrows()):
        q = parse_q(row[q_col])
        if q is not None:
            q_of[src["column"]] = q
        out.append(ShownRow(src["column"], src["variable"], str(src["label"]), str(src.get("level", "")),
                            str(src.get("level_label", "")),
                            src["kind"], src["row_type"], (Cell.parse(row[before_col]), Cell.parse(row[after_col])),
                            Change.parse(row[change_col]), None, row.to_dict()))
    for r in out:  # a variable's q is on its first row
        r.q = q_of.get(r.column)
    return out


def _period_names(ct) -> tuple[str, str]:
    """'Vice (2009-2010)' from 'Before: Vice (2009-2010)'."""
    return tuple(str(ct.group_labels[g]).split(": ", 1)[-1] for g in ct.groups)


def _period_n(shown: pd.DataFrame) -> tuple[int | None, int | None]:
    from .wording import Cell

    top = shown.iloc[0]
    cells = [Cell.parse(top.iloc[2]), Cell.parse(top.iloc[3])]
    return tuple(c.n for c in cells)


@dataclass
class _Part:
    sentence: str
    status: str
    rows: list[str]
    caveats: list[str]


def _variable_part(column: str, rows: list[ShownRow], population: str, periods: tuple[str, str],
                   period_n: tuple, label_override: str | None = None) -> _Part:
    from . import wording as w

    mine = [r for r in rows if r.column == column] or [r for r in rows if r.variable == column]
    if not mine:
        return _Part("", "missing", [], [])
    first = mine[0]
    label = label_override or first.label
    caveats = []
    levels = [r for r in mine if r.row_type == "level"]
    missing = [r for r in mine if r.row_type == "missing"]
    if first.kind == "binary":
        before, after = levels[0].cells
        sentence, status = w.yes_no_sentence(label, population, periods, before, after, levels[0].change, first.q)
        row_labels = [label]
        small = w.small_caveat(before, after, periods)
        if small:
            caveats.append(small)
    elif first.kind == "category":
        lv = [(r.level_label, *r.cells) for r in levels]
        sentence, status = w.category_sentence(label, population, periods, lv, first.q)
        row_labels = [f"{label}: {r.level_label}" for r in levels]
    else:
        return _Part(f"Among {population}, \u201c{label}\u201d is summarised in the table (median and mean per "
                     "period).", "described", [label], [])
    if status == "suppressed" or any(c.hidden and c.shown for r in levels for c in r.cells):
        caveats.append(w.suppressed_caveat())
    if first.column not in BLANK_BY_DESIGN:
        caveats.append(w.missing_caveat(label, [[r.cells[j] for r in missing if r.level in MISSING_DATA_LEVELS]
                                                for j in range(2)], period_n, periods))
    return _Part(sentence, status, row_labels, [c for c in caveats if c])


STATUS_ORDER = ("change", "no clear change", "not tested", "described", "suppressed", "not available", "missing")


def build_findings(questions, tables: dict, *, threshold: int, weighted: bool = False, synthetic: bool = False,
                   reliability: pd.DataFrame | None = None, income_available: bool = True,
                   shown: dict | None = None) -> Findings:
    """One :class:`Finding` per committee question (``questions``: the codebook's), from the standard tables
    (``tables``: name -> :class:`~analysis.tables.compare.ComparisonTable`) as displayed with the small-cell rule
    (``shown``: name -> the displayed frame, else made here with ``threshold``). ``reliability``: the
    reliability table (its flags add caveats); ``income_available``: an income lookup was given."""
    from ..tables.display import display_table
    from . import wording as w

    shown = dict(shown or {})
    items = []
    for q in questions:
        parts, caveats, rows_used = [], [], []
        table_of = {}
        for var in q.variables:
            t, _, col = var.partition(".")
            table_of[var] = "incidents" if t == "incidents" else (q.table if q.table.startswith(("persons", "outcomes"))
                                                                   else "persons_all")
        for var in q.variables[:2]:
            name = table_of[var]
            col = var.partition(".")[2]
            ct = tables.get(name)
            if ct is None:
                parts.append(_Part(w.not_available_sentence(col.replace("_", " "), q.population,
                                                            f"there are no {q.population} in the data"),
                                   "not available", [], []))
                continue
            if name not in shown:
                shown[name] = display_table(ct, threshold=threshold)
            rows = shown_rows(ct, shown[name])
            if col == "income_stratum" and not income_available:
                label = next((r.label for r in rows if r.column == col), "Buyer income stratum")
                parts.append(_Part(w.not_available_sentence(label, q.population, "no income lookup (ACS B19013 "
                                                            "by ZIP code) was given; run with --income-lookup"),
                                   "not available", [label], []))
                continue
            # the question's population for its own table; a variable of another table has that table's
            population = q.population if name == table_of[q.variables[0]] else ct.population
            part = _variable_part(col, rows, population, _period_names(ct), _period_n(shown[name]))
            if part.status == "missing":
                continue
            parts.append(part)
        parts = [p for p in parts if p.sentence]
        for p in parts:
            rows_used += p.rows
            caveats += p.caveats
        if reliability is not None:
            for var in q.variables:
                for src in DERIVED_FROM.get(var, (var,)):
                    rel = reliability_of(reliability, src)
                    if rel is not None:
                        cav = w.reliability_caveat(rel["label"], rel["alpha"], rel["flag"])
                        if cav:
                            caveats.append(cav)
        caveats.append(w.weighting_caveat(weighted))
        status = min((p.status for p in parts), key=STATUS_ORDER.index) if parts else "not available"
        items.append(Finding(q.id, q.asked, [p.sentence for p in parts] or [
            w.not_available_sentence(q.id, q.population, "none of its variables is in the data")],
            list(dict.fromkeys(caveats)), q.chart, next(iter(table_of.values()), q.table) if q.variables else q.table,
            rows_used, list(q.variables), status))
    intro = ("Each finding compares the two periods, change = after minus before in percentage points with its 95% "
             "interval. A change is called clear when the table's adjusted p-value (q) is below 0.05; otherwise it "
             "says 'no clear change'. Suppressed counts (small-cell rule) are never given.")
    return Findings(items, synthetic=synthetic, weighted=weighted, intro=intro)


def reliability_of(table: pd.DataFrame, var: str) -> dict | None:
    """The reliability table's row for ``table.variable`` (or ``table.variable__option``): label, n, alpha with
    its interval, flag; None when the variable is not in the table."""
    t, _, col = var.partition(".")
    name, _, option = col.partition("__")
    if table is None or table.empty:
        return None
    opt = table["option"].fillna("").astype(str) if "option" in table.columns else pd.Series("", index=table.index)
    hit = table[(table["table"] == t) & (table["variable"] == name) & (opt.isin([option, "nan"] if not option
                                                                                else [option]))]
    if hit.empty:
        return None
    r = hit.iloc[0]
    return {"label": str(r["label"]), "n": int(r["n_units"]) if pd.notna(r["n_units"]) else 0,
            "alpha": float(r["alpha"]) if pd.notna(r["alpha"]) else math.nan,
            "low": float(r["alpha_low"]) if pd.notna(r["alpha_low"]) else math.nan,
            "high": float(r["alpha_high"]) if pd.notna(r["alpha_high"]) else math.nan, "flag": str(r["flag"])}


def clip(x: float, low: float = -1.0, high: float = 1.0) -> float:
    """An agreement coefficient's interval limit clipped to its range (nan stays nan)."""
    return x if x != x else min(max(x, low), high)


def build_data_quality(questions, reliability: pd.DataFrame | None, accounting: pd.DataFrame, *, threshold: int,
                       synthetic: bool = False) -> DataQuality:
    """The data-quality page: for every variable behind a finding (derived ones through the coded variables they
    are made from, :data:`DERIVED_FROM`), the double-coded n (small-cell rule), alpha with its 95% CI clipped to
    [-1, 1], the flag; and the row accounting (``accounting``: as shared)."""
    behind: dict[str, list[str]] = {}
    for q in questions:
        for var in q.variables:
            for src in DERIVED_FROM.get(var, (var,)):
                behind.setdefault(src, [])
                if q.id not in behind[src]:
                    behind[src].append(q.id)
    rows, notes = [], []
    for var, qids in behind.items():
        rel = reliability_of(reliability, var) if reliability is not None else None
        if rel is None:
            kind = "not assessed" if reliability is None else "not double-coded"
            rows.append(QualityRow(var, var.partition(".")[2].replace("__", ": ").replace("_", " "), qids,
                                   kind, math.nan, math.nan, math.nan, kind))
            continue
        n = rel["n"]
        rows.append(QualityRow(var, rel["label"], qids, f"<{threshold}" if 0 < n < threshold else f"{n:,}",
                               rel["alpha"], clip(rel["low"]), clip(rel["high"]), rel["flag"]))
    if reliability is None:
        notes.append("No second coding was found, so coder agreement could not be assessed.")
    else:
        flagged = [r for r in rows if r.flag not in ("reliable",)]
        notes.append("Krippendorff's alpha: 0.800 or more is reliable, 0.667 to 0.800 tentative, below 0.667 "
                     "unreliable (Krippendorff 2004). Intervals are bootstrap 95% CIs, clipped to the range of alpha.")
        if flagged:
            notes.append("Flagged (below 0.800 or not assessable): " + ", ".join(r.label for r in flagged) + ".")
    return DataQuality(rows, accounting, notes, synthetic)


# --- the findings of a coded data folder, and the coverage of the questions -------------------------------------


def coverage_lines(cb, findings: Findings | None = None) -> tuple[list[str], list[str]]:
    """The coverage of the codebook's questions, as lines for the screen: question -> variables -> table rows ->
    chart -> findings line; and the ids of the questions not covered (no known variable, or with ``findings``: no
    table row or no finding)."""
    from ..scheme.codebook import question_variable_known

    by_id = {f.id: f for f in findings.items} if findings is not None else {}
    lines, uncovered = [], []
    for k, q in enumerate(cb.questions, start=1):
        known = [v for v in q.variables if question_variable_known(cb, *v.partition(".")[::2])]
        lines.append(f"{k}. [{q.id}] {q.asked}")
        lines.append(f"   population: {q.population}")
        lines.append("   variables:  " + (", ".join(q.variables) or "NONE"))
        f = by_id.get(q.id)
        ok = bool(known) and len(known) == len(q.variables)
        if findings is not None:
            rows = "; ".join(f.rows) if f and f.rows else "NONE"
            lines.append(f"   table rows: {q.table}: {rows}")
        else:
            lines.append(f"   table:      {q.table}")
        lines.append(f"   chart:      {q.chart or '(none: the table shows it)'}")
        if findings is not None:
            if f is None or not f.sentences:
                lines.append("   finding:    NONE")
                ok = False
            else:
                lines.append(f"   finding:    [{f.status}] {f.text}")
                if f.caveats:
                    lines.append(f"   caveats:    {'; '.join(f.caveats)}")
            ok = ok and bool(f and f.rows)
        if not ok:
            uncovered.append(q.id)
    return lines, uncovered
