"""The report's words, as data: the pack's cover, methods and provenance (:func:`pack_text`), and the three
READMEs of a run folder (:func:`run_readme`, :func:`analyst_readme`, :func:`shared_readme`).

Nothing here computes a number or touches a file: each function takes what it needs to say and returns text or
a small dataclass. The counts the cover quotes are kept beside its lines (:attr:`PackText.counts`), and the lines
that quote them as templates, so that the publishing step registers every count it shares and prints each as the
protection decides (:meth:`PackText.cover_with`). :func:`model_note` says what a model note says without its counts.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..scheme.config import StudyConfig

if TYPE_CHECKING:  # the pack module imports matplotlib: only when a pack is made
    from .pack import Cover

TITLE = "Prostitution and trafficking reports before and after SFPD's move from Vice to SVU"
SUBTITLE = "Sex Work and Trafficking Policy Impact Committee, November meeting"

RUN_README = """# Meeting pack run {run_date}

| folder | what | send it? |
|---|---|---|
| `shared/` | the meeting pack, charts, tables and notes: small counts suppressed, no identifiers | **yes: send this folder (zip `shared/` only)** |
| `analyst/` | unsuppressed tables and the executed notebooks, for the statistician | **never** |
"""

ANALYST_README = """# analyst/: NEVER SEND THIS FOLDER

For the statistician only. The tables here are **not suppressed**: counts from 1 to {small} are shown as they
are, so they could identify people. Never send, attach, upload or zip this folder; the folder to send is its
sibling `../shared/`.

| path | what |
|---|---|
| `tables/*_full.csv` | the before/after tables in full (every count, the naive and cluster-aware columns) |
| `notebooks/` | the five notebooks executed with the report's inputs (`.ipynb`) and as web pages (`.html`) |
| `stages.json` | how long each stage of the run took |

The notebooks show validation problems by table, row number, variable and rule only: no person codes, report
ids, coder ids or values typed into the coded files, and paths relative to the project (or file names only).
The full problem list, the rejected rows and the disagreement list (with ids) stay in the derived folder on
the analyst's machine (`python -m analysis validate PATH --out ...`).
"""

METHODS_TABLES = (
    "Before/after tables: n/N (%) per period; 'not documented' and 'not applicable' shown separately and left "
    "out of denominators; differences in percentage points with Newcombe 95% intervals; chi-square without "
    "continuity correction or Fisher's exact test (gtsummary's rule); Wilcoxon rank-sum for numbers; "
    "Holm-adjusted q-values.")
METHODS_CLUSTERS = ("People on the same report are not independent: person-level yes/no rows use a cluster "
                    "bootstrap over reports and a cluster-robust test.")
METHODS_WEIGHTED = (
    "Weighted to the sampling frame. Each sampled year has its own weight, so a variable's weighted percentages, "
    "change and test are shown only where none of its counts is from 1 to {small} in a sampled year; otherwise its "
    "counts are shown as n/N.")
METHODS_UNWEIGHTED = "Unweighted: no sampling frame was given."
METHODS_SUPPRESSION = (
    "Suppression: no count from 1 to {small} is shown, and further counts are hidden ('suppressed') so that none "
    "can be worked out from everything shared together (every table, chart and note, with the codebook's "
    "definitions of derived variables): chosen by an integer programme that hides as little as possible (counts of "
    "the committee's key indicators last), and checked with an exact integer-programming audit. Rare levels of "
    "some variables are shown together where that hides less. Percentages, differences, tests and model estimates "
    "are shown only where every count they are computed from is shown. Charts show hidden values as 'suppressed', "
    "never at their value.")
METHODS_PUBLIC = (
    "Public record: SFPD open data (DataSF tmnf-yvry); interrupted time series with quasi-Poisson regression, "
    "Fourier seasonality and Newey-West errors (Lopez Bernal, Cummins & Gasparrini 2017).")


@dataclass
class PackText:
    """What the pack says besides its charts and tables: the cover, the methods and the provenance lines, and
    the counts the cover quotes (name -> count)."""

    cover: Cover
    methods: list[str]
    provenance: list[str]
    counts: dict[str, int] = field(default_factory=dict)
    cover_template: list[str] = field(default_factory=list)  # the cover's lines with {name} for each count

    def cover_with(self, shown: dict[str, str]) -> Cover:
        """The cover with each count as shared (``shown``: name -> text, e.g. '989' or 'suppressed')."""
        if not self.cover_template:
            return self.cover
        return dataclasses.replace(self.cover, lines=[line.format(**shown) for line in self.cover_template])


def pack_text(cfg: StudyConfig, stamp: dict, *, source: str, valid_rows: dict[str, int], weighted: bool,
              run_date: str) -> PackText:
    """The pack's cover, methods and provenance for a run on coded data described by ``source``, with
    ``valid_rows`` (table -> valid rows) and the provenance ``stamp``; ``weighted`` when a sampling frame
    weighted the tables."""
    from .pack import Cover

    periods = "; ".join(f"{p.label}: {', '.join(map(str, p.years))}" for p in cfg.periods)
    counts = {"valid_rows": sum(valid_rows.values()), "reports": valid_rows["incidents"],
              "people": valid_rows["persons"]}
    fixed = [cfg.study, f"Periods compared: {periods}.",
             f"Unit change: SFPD's reorganised Special Victims Unit opened {cfg.unit_change_date.isoformat()}."]
    template = [line.replace("{", "{{").replace("}", "}}") for line in fixed] + [
        "Data: " + source.replace("{", "{{").replace("}", "}}") + "; {valid_rows} valid rows ({reports} reports, "
        "{people} people).",
        "Small numbers are suppressed so that no person can be identified."]
    cover = Cover(title=TITLE, subtitle=cfg.meeting or SUBTITLE,
                  lines=[line.format(**{k: f"{v:,}" for k, v in counts.items()}) for line in template],
                  synthetic=bool(stamp["synthetic"]), run_date=run_date, meeting_date=cfg.meeting_date)
    thr = cfg.suppression_threshold
    methods = [METHODS_TABLES, METHODS_CLUSTERS,
               METHODS_WEIGHTED.format(small=thr - 1) if weighted else METHODS_UNWEIGHTED,
               METHODS_SUPPRESSION.format(small=thr - 1, threshold=thr), METHODS_PUBLIC]
    provenance = ([f"code version {stamp['code_version']}", f"codebook version {stamp['codebook_version']}",
                   f"study configuration {Path(cfg.source).name}"]
                  + [f"{k}: sha256 {v}" for k, v in stamp["inputs"].items()])
    return PackText(cover, methods, provenance, counts, template)


def run_readme(run_date: str) -> str:
    """The run folder's README: which of its two folders to send."""
    return RUN_README.format(run_date=run_date)


def analyst_readme(threshold: int) -> str:
    """analyst/README.md: never send this folder, and what is in it."""
    return ANALYST_README.format(small=threshold - 1)


SHARED_FILES_TABLE = [
    "| path | what |", "|---|---|",
    "| `meeting_pack.html` | the pack as one self-contained web page (charts embedded; no network needed) |",
    "| `meeting_pack.pdf` | the pack for print: cover, contents, findings, charts, key tables, data quality, methods "
    "and provenance |",
    "| `meeting_slides.pptx` | slides: the findings, then one chart per slide (caveats in the speaker notes) |",
    "| `figures/` | each chart as PNG (slides) and PDF (vector), with the data behind it as CSV of the same name |",
    "| `tables/` | the before/after tables ({names}) and the misclassification model, as CSV, Markdown and HTML, "
    "and all of them in `tables.xlsx` and `tables.docx` (Word) |",
    "| `reliability/reliability.csv` | inter-coder reliability per variable: Krippendorff's alpha with its 95% "
    "interval and a flag (no counts; suppressed where few units were double-coded) |",
    "| `public/` | the public record: monthly counts, interrupted time series, before/after table, frame |",
    "| `validation/row_accounting.csv` | rows read, valid and rejected per table |",
]


def shared_readme(run_date: str, synthetic: bool, table_names: list[str], notes: list[str]) -> str:
    """shared/README.md: this is the folder to send, what each file is, and the run's notes."""
    lines = [f"# Meeting pack, {run_date}: this is the folder to send", ""]
    if synthetic:
        lines += ["**SYNTHETIC DATA: made from the generated example, not from real reports.**", ""]
    lines += [
        "`shared/` is the folder to send or publish (zip this folder only). Everything in it applies small-cell "
        "suppression and carries no identifiers. Its sibling `analyst/` holds unsuppressed tables: never send it.",
        "",
    ]
    lines += [line.format(names=", ".join(table_names)) for line in SHARED_FILES_TABLE]
    if notes:
        lines += ["", "## Notes", ""] + [f"- {n}" for n in notes]
    return "\n".join(lines) + "\n"


_DETAIL = re.compile(r"\s*\([^()]*\d[^()]*\)")  # a parenthesis holding a number


def model_note(label: str, note: str) -> str:
    """A note of the misclassification model for sharing, without its counts: 'Model (x): reports left out:
    those with no value for the outcome, period or unit.' The counts stay in the analyst's model output."""
    if re.match(r"^\d+ of \d+ reports left out", note):
        text = "reports with no value for the outcome, or no period or unit documented, are left out"
    else:
        text = _DETAIL.sub("", note)
        text = re.sub(r":[^;()]*\d[^;()]*", "", text)
        # 'fewer than five' would say that some cell is 0 to 4 (issue 11): the shared note says only 'sparse'
        text = re.sub(r"has fewer than (five|\d+) events or non-events", "is sparse (few events or non-events)",
                      text)
        if re.search(r"\d", text):
            text = "a term could not be estimated and was dropped (see the analyst's model output)"
    return f"Model ({label}): {text.strip()}"
