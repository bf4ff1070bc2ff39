"""Counts in free text (the pack's pages, chart text, notes) and the other formats of a table against its CSV.

The audit's integer program reads the CSV files; these checks make sure that is enough: a table's Markdown,
HTML and XLSX must print the same cells as its CSV, and every count in the pack's text, the charts' text and
the notes must be a number some CSV prints. A count in text is a number in one of the shapes the pack uses for
counts (``n = 479``, ``2 of 4``, ``12/483``, ``989 reports``, ``1,457 people``, ``all 12``, ``16 ... before and
12 after``); years, dates, versions, percentages, p-values and the suppression rule's own numbers are not counts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .read import INT, Grid, to_int, unquote

_UNITS = r"(?:valid\s+)?(?:reports?|people|persons?|charges?|rows?|units?|records?|incidents?|sellers?|buyers?)"
_PATTERNS = [
    re.compile(rf"\bn\s*=\s*({INT})(?![\d.,%])"),
    re.compile(rf"(?<![\w.,/-])({INT})\s+of\s+({INT})(?![\d.,%])"),
    re.compile(rf"(?<![\w.,/-])({INT})\s*/\s*({INT})(?![\w./%-])"),
    re.compile(rf"(?<![\w.,/-])({INT})\s+{_UNITS}\b"),
    re.compile(rf"(?<!or\s)\ball\s+({INT})\b(?![.%]|\s+or\s+all\b)"),  # not 'all 0 or all 1'
    re.compile(rf"(?<![\w.,/-])({INT})\s+(?:before|after)\b"),
]
_NUMBER_TOKEN = re.compile(rf"(?<![\w.])({INT})(?![\w%]|\.\d)")


@dataclass(frozen=True)
class TextCount:
    path: str
    line: int
    value: int
    context: str


def _is_year(text: str) -> bool:
    return "," not in text and len(text) == 4 and 1990 <= int(text) <= 2035


def _year_span(groups: list[str]) -> bool:
    """'2009/10': a year and the next one's last two digits (a period's years, not a count of a total)."""
    return (len(groups) == 2 and _is_year(groups[0]) and len(groups[1]) == 2
            and int(groups[1]) == (int(groups[0]) + 1) % 100)


def text_counts(path: str, text: str) -> list[TextCount]:
    """The counts in a text (see the module docstring), with their line and a little context."""
    out = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        for pat in _PATTERNS:
            for m in pat.finditer(line):
                groups = [g for g in m.groups() if g is not None]
                if all(_is_year(g) for g in groups) or _year_span(groups):
                    continue
                if line[:m.start()].rstrip().endswith("Page"):  # a page number: 'Page 2 of 20'
                    continue
                for g in groups:
                    if _is_year(g) and len(groups) == 1:
                        continue
                    start = max(0, m.start() - 40)
                    out.append(TextCount(path, lineno, to_int(g), line[start:m.end() + 30].strip()))
    seen, unique = set(), []
    for c in out:
        k = (c.line, c.value, c.context)
        if k not in seen:
            seen.add(k)
            unique.append(c)
    return unique


def numbers_in(text: str) -> set[int]:
    """Every whole number standing alone in a text (not part of a decimal, a word or a percentage)."""
    return {to_int(m.group(1)) for m in _NUMBER_TOKEN.finditer(unquote(text))}


@dataclass(frozen=True)
class Mismatch:
    path: str
    line: int
    column: str
    row: str
    shown: str
    csv: str


def compare_grids(other: Grid, csv: Grid) -> list[Mismatch]:
    """Cells of ``other`` (Markdown, HTML or an XLSX sheet) that print a number its CSV does not print there."""
    out = []
    if [h.strip() for h in other.header] != [h.strip() for h in csv.header] or len(other.rows) != len(csv.rows):
        extra = set().union(*[numbers_in(c) for r in other.rows for c in r]) if other.rows else set()
        base = set().union(*[numbers_in(c) for r in csv.rows for c in r]) if csv.rows else set()
        for v in sorted(extra - base):
            out.append(Mismatch(other.path, 0, "", "", str(v), "(the table's layout differs from its CSV)"))
        return out
    for i, (r1, r2) in enumerate(zip(other.rows, csv.rows)):
        for j, (a, b) in enumerate(zip(r1, r2)):
            if unquote(a) == unquote(b):
                continue
            if numbers_in(a) - numbers_in(b) or (numbers_in(a) and _canon(a) != _canon(b)):
                label = " ".join(x for x in r2[:2] if x)
                out.append(Mismatch(other.path, other.lines[i], csv.header[j], label, a, b))
    return out


def _canon(text: str) -> str:
    return re.sub(r"\s+", " ", unquote(text)).strip()
