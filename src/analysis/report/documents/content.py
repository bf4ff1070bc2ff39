"""What the three documents (PDF, slides, Word) share: the pack's parts as plain data.

Nothing here touches a file or draws anything: the functions turn a :class:`~analysis.report.pack.Pack` into
lists and strings that :mod:`.pdf`, :mod:`.slides` and :mod:`.word` lay out.
"""

from __future__ import annotations

import math

import pandas as pd

FINDINGS_MISSING = "Findings per committee question were not produced in this run."
QUALITY_MISSING = ("Coder agreement per variable is in reliability/reliability.csv; rows read, valid and rejected "
                   "are in validation/row_accounting.csv.")


def cell_text(value) -> str:
    """A table cell as shown: blank for missing values, else its text."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value)


def column_weights(table: pd.DataFrame, cap: int = 36, short: int = 24) -> list[float]:
    """Relative column widths: a column whose cells are all short gets its longest cell (no wrapping); a
    column of longer text gets enough for its longest word (a word never breaks) and wraps, so that every
    column fits inside the page."""
    weights = []
    for c in table.columns:
        cells = [cell_text(v) for v in table[c]]
        longest_word = max((len(w) for s in [str(c), *cells] for w in s.split()), default=1)
        longest = max((len(s) for s in cells), default=0)
        wrapped = min(longest, cap) * 0.55 + 2.0
        weights.append(max(longest_word + 1.0, longest + 1.0 if longest <= short else wrapped))
    return weights


def row_groups(table: pd.DataFrame) -> list[list[list[str]]]:
    """The table's rows in groups that belong together: a row whose first cell is blank (or repeats the one
    above) continues the group above, e.g. the levels of one variable. A page break never splits a group."""
    groups: list[list[list[str]]] = []
    last = None
    for row in table.itertuples(index=False):
        cells = [cell_text(v) for v in row]
        if groups and (cells[0] == "" or cells[0] == last):
            groups[-1].append(cells)
        else:
            groups.append([cells])
            last = cells[0]
    for g in groups:  # the label is shown once, spanning the group
        for r in g[1:]:
            r[0] = ""
    return groups


def chart_titles(pack) -> dict[str, str]:
    return {ch.name: ch.title for ch in pack.charts}


def shown_in(finding, titles: dict[str, str]) -> str:
    """Where a finding's numbers are shown: the chart (by its title) and the table rows."""
    parts = []
    if finding.chart:
        parts.append(f"chart '{titles.get(finding.chart, finding.chart)}'")
    if finding.table:
        rows = f" ({'; '.join(finding.rows)})" if finding.rows else ""
        parts.append(f"table {finding.table}{rows}")
    return ("Shown in: " + ", ".join(parts) + ".") if parts else ""


def chart_caveats(pack) -> dict[str, list[str]]:
    """Chart name -> the caveats of the findings it shows (for the speaker notes)."""
    out: dict[str, list[str]] = {}
    findings = pack.findings.items if pack.findings is not None else []
    for f in findings:
        if f.chart:
            out.setdefault(f.chart, []).extend(c for c in f.caveats if c not in out.get(f.chart, []))
    return out


def quality_tables(quality) -> list[tuple[str, pd.DataFrame]]:
    """The data-quality page's tables: coder agreement behind the findings, and the row accounting."""
    if quality is None:
        return []
    agreement = pd.DataFrame(
        [[r.label, ", ".join(r.questions), r.n_double_coded, r.alpha_text, r.flag] for r in quality.rows],
        columns=["Variable", "Behind the finding(s)", "Reports double-coded", "Krippendorff's alpha (95% CI)",
                 "Reliability"])
    return [("Coder agreement behind each finding", agreement), ("Row accounting", quality.accounting)]
