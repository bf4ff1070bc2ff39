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
        ci = "" if self.alpha_low != self.alpha_low else f" (95% CI {self.alpha_low:.2f} to {self.alpha_high:.2f})"
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
