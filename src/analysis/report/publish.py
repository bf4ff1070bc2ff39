"""The one publishing step: everything meant for sharing leaves through :func:`publish`.

The pipeline's stages add items to a :class:`Publication`; :func:`publish` turns the whole set into files
(``{relative path: bytes}``), applying the study's small-cell rule as it goes. Nothing else in the package makes a
shared file, so protection of the whole shared set (disclosure control) is built here. Each item keeps what its
numbers came from:

- :class:`TableItem`: a before/after table (its analyst :class:`~analysis.tables.compare.ComparisonTable`) or the
  misclassification model (:class:`ModelTable`, its :class:`~analysis.stats.models.ModelResult` per outcome), as
  CSV, Markdown and HTML, a sheet of its folder's ``tables.xlsx``, and/or a key table of the meeting pack;
- :class:`FigureItem`: a chart (:class:`~analysis.report.charts.Chart`) as PNG, PDF and the CSV of its data;
- :class:`DataItem`: a data frame as CSV (row accounting, reliability, the public series), with the columns that
  are counts to be shown with the small-cell rule;
- :class:`FindingsItem` / :class:`DataQualityItem`: the findings page (one finding per committee question) and
  the data-quality page, written *from the displayed (suppressed) tables* of this publication
  (:func:`rendered_pages`): ``findings.md``, ``findings.csv``, ``data_quality.md``, ``data_quality.csv``;
- :class:`Note`: a sentence for the pack and the README. A note's own text carries no number: every count in it is
  a declared field (:attr:`Note.counts`), with its source;
- :class:`~analysis.report.texts.PackText`: when set, the meeting pack (``meeting_pack.html``, ``meeting_pack.pdf``),
  the slides (``meeting_slides.pptx``), the tables for Word (``tables/tables.docx``) and ``README.md`` are made
  from the publication's charts, key tables, findings and notes (:mod:`analysis.report.documents`).

The analyst's outputs (unsuppressed tables, executed notebooks, stages.json, row-level validation outputs) never
pass through here: :mod:`analysis.report.pipeline` writes them to ``analyst/`` or the derived folder.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

import pandas as pd

from ..formats.cells import frame_to_csv
from ..scheme.config import StudyConfig
from ..tables.compare import ComparisonTable, display_table
from ..tables.export import footer_lines, to_csv, to_html, to_markdown, to_xlsx
from ..tables.standard import SOURCE
from .texts import PackText, shared_readme

if TYPE_CHECKING:  # charts and the pack (matplotlib, the PDF) are imported when a publication has them
    from .charts import Chart

SYNTHETIC_SUFFIX = " (SYNTHETIC DATA)"
TEXT_FORMATS = {"csv": to_csv, "md": to_markdown, "html": to_html}


# --- items ----------------------------------------------------------------------------------------------------


@dataclass
class ModelTable:
    """The misclassification model for sharing: (outcome label, ModelResult) per outcome, in table order."""

    results: list[tuple[str, object]]


@dataclass
class TableItem:
    """A shared table: ``path`` is its file stem relative to the shared folder (``tables/incidents``)."""

    path: str
    title: str  # without the SYNTHETIC DATA suffix (added when the stamp says synthetic)
    source: ComparisonTable | ModelTable  # what the numbers come from (unsuppressed)
    methods: str  # the footer's methods line
    stamp: dict  # provenance (analysis.tables.export.provenance)
    source_text: str = SOURCE  # the footer's "Source:" line
    formats: tuple[str, ...] = ("csv", "md", "html")  # files to write; () for a pack-only table
    xlsx: bool = False  # a sheet (named like the file) of its folder's tables.xlsx
    pack: bool = False  # among the meeting pack's key tables

    @property
    def name(self) -> str:
        return PurePosixPath(self.path).name

    @property
    def shown_title(self) -> str:
        return self.title + (SYNTHETIC_SUFFIX if self.stamp["synthetic"] else "")


@dataclass
class FigureItem:
    """A chart: ``<folder>/<name>.png``, ``.pdf`` and ``.csv`` (the data behind it), and a page of the pack."""

    chart: Chart
    folder: str = "figures"  # "" for the top of the shared folder

    def path(self, ext: str) -> str:
        return f"{self.folder}/{self.chart.name}.{ext}" if self.folder else f"{self.chart.name}.{ext}"


@dataclass
class DataItem:
    """A data frame shared as CSV at ``path``; the columns named in ``small_cells`` are counts shown with the
    small-cell rule (``<5`` for 1 to 4, else with thousands separators)."""

    path: str
    frame: pd.DataFrame
    source: object = None  # what the rows come from, when it is not the frame itself
    small_cells: tuple[str, ...] = ()


@dataclass
class FindingsItem:
    """The findings page: one finding per committee question (``questions``, the codebook's), written from the
    displayed standard tables of the publication (matched by their file name, e.g. ``incidents``)."""

    questions: tuple
    reliability: pd.DataFrame | None = None  # the reliability table (caveats), or None (no second coding)
    weighted: bool = False
    income_available: bool = True  # an income lookup was given


@dataclass
class DataQualityItem:
    """The data-quality page: coder agreement behind every finding, and the row accounting (as shared)."""

    questions: tuple
    reliability: pd.DataFrame | None
    accounting: DataItem


# a number standing alone in a sentence (not part of a word such as 'float64', nor a decimal such as 0.800)
_NUMBER = re.compile(r"(?<![\w.])(\d{1,3}(?:,\d{3})+|\d+)(?!\w|\.\d)")


@dataclass
class Note:
    """A sentence for the shared pack and README. ``template`` is the text with ``{name}`` fields: ``counts``
    (name -> a count, with ``source``, what it was counted from) and ``values`` (name -> text such as a folder
    name). The template itself carries no number: :func:`Note.from_text` turns a sentence with numbers into one
    whose numbers are declared counts."""

    template: str
    counts: dict[str, int] = field(default_factory=dict)
    values: dict[str, str] = field(default_factory=dict)
    source: object = None

    def __post_init__(self):
        found = _NUMBER.search(self.template)
        if found:
            raise ValueError(f"a note for shared files carries the number {found.group(0)} in its text; declare it "
                             f"as a count: {self.template!r}")

    @classmethod
    def from_text(cls, text: str, source: object = None) -> Note:
        """``text`` as a note whose numbers are counts (``c0``, ``c1``, ...) from ``source``."""
        counts: dict[str, int] = {}

        def lift(m: re.Match) -> str:
            name = f"c{len(counts)}"
            counts[name] = int(m.group(0).replace(",", ""))
            return "{" + name + (":,}" if "," in m.group(0) else "}")

        escaped = text.replace("{", "{{").replace("}", "}}")
        return cls(_NUMBER.sub(lift, escaped), counts=counts, source=source)

    @property
    def text(self) -> str:
        return self.template.format(**self.values, **self.counts)


@dataclass
class Publication:
    """Everything a run shares, as items (see the module docstring); :func:`publish` makes the files."""

    tables: list[TableItem] = field(default_factory=list)
    figures: list[FigureItem] = field(default_factory=list)
    data: list[DataItem] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    pages: list = field(default_factory=list)  # FindingsItem, DataQualityItem
    pack: PackText | None = None  # with it: meeting_pack.html, meeting_pack.pdf and README.md
    run_date: str = ""
    synthetic: bool = False

    def add(self, *items) -> None:
        """Add tables, figures, data and notes (each to its list, in the order given)."""
        lists = {TableItem: self.tables, FigureItem: self.figures, DataItem: self.data, Note: self.notes,
                 FindingsItem: self.pages, DataQualityItem: self.pages}
        for item in items:
            if type(item) not in lists:
                raise TypeError(f"not an item for publishing: {type(item).__name__}")
            lists[type(item)].append(item)

    def note_texts(self) -> list[str]:
        return [n.text for n in self.notes]


# --- what is shown -----------------------------------------------------------------------------------------------


def small(n: int, threshold: int) -> str:
    """A count as shared: ``<threshold`` from 1 to threshold - 1, else with thousands separators."""
    return f"<{threshold}" if 0 < n < threshold else f"{n:,}"


def model_display(result, threshold: int) -> pd.DataFrame:
    """The misclassification model's odds ratios for sharing: n and events shown only when not small."""
    t = result.table
    is_small = (0 < result.events < threshold) or (0 < result.n - result.events < threshold)
    out = pd.DataFrame({
        "Term": t["label"],
        "Odds ratio (95% CI)": [f"{o:.2f} ({lo:.2f} to {hi:.2f})" if o == o else "not estimable"
                                for o, lo, hi in zip(t["odds_ratio"], t["ci_low"], t["ci_high"])],
        "p": ["" if p != p else ("<0.001" if p < 0.001 else f"{p:.3f}") for p in t["p_value"]],
    })
    out["Reports (events)"] = "suppressed" if is_small else f"{result.n:,} ({result.events:,})"
    return out


def shown_table(item: TableItem, threshold: int) -> pd.DataFrame:
    """The display table of a table item, suppressed."""
    if isinstance(item.source, ModelTable):
        rows = []
        for label, result in item.source.results:
            md = model_display(result, threshold)
            md.insert(0, "Outcome", label)
            rows.append(md)
        return pd.concat(rows, ignore_index=True)
    return display_table(item.source, threshold=threshold)


def shown_data(item: DataItem, threshold: int) -> pd.DataFrame:
    if not item.small_cells:
        return item.frame
    out = item.frame.copy()
    for c in item.small_cells:
        out[c] = [small(int(v), threshold) for v in item.frame[c]]
    return out


# --- publishing ----------------------------------------------------------------------------------------------


def _put(files: dict[str, bytes], path: str, data: bytes) -> None:
    if path in files:
        raise ValueError(f"two shared items would both be written to {path}")
    files[path] = data


def _folder(path: str) -> str:
    parent = str(PurePosixPath(path).parent)
    return "" if parent == "." else parent + "/"


def _table_files(files: dict[str, bytes], shown: list[tuple[TableItem, pd.DataFrame, list[str]]]) -> None:
    """Each table in its formats, and one tables.xlsx per folder with the tables marked ``xlsx``."""
    sheets: dict[str, dict[str, tuple]] = {}
    for item, table, footer in shown:
        for ext in item.formats:
            _put(files, f"{item.path}.{ext}", TEXT_FORMATS[ext](table, item.shown_title, footer).encode("utf-8"))
        if item.xlsx:
            sheets.setdefault(_folder(item.path), {})[item.name] = (table, item.shown_title, footer)
    for folder, book in sheets.items():
        _put(files, f"{folder}tables.xlsx", to_xlsx(book))


def _pack_files(files: dict[str, bytes], pub: Publication, shown: list[tuple[TableItem, pd.DataFrame, list[str]]],
                findings=None, quality=None) -> None:
    """meeting_pack.html, meeting_pack.pdf, meeting_slides.pptx, tables/tables.docx and README.md, from the
    publication's charts (their PNGs, already in ``files``), key tables, notes, and the findings and data-quality
    pages (:mod:`analysis.report.findings`) when given."""
    notes = pub.note_texts()
    from .documents import pdf_pack, slides, tables_docx
    from .pack import Pack, PackTable, html_page

    key = [PackTable(item.shown_title, table, footer) for item, table, footer in shown if item.pack]
    text = pub.pack
    pack = Pack(text.cover, [f.chart for f in pub.figures], key, text.methods, text.provenance, notes,
                findings=findings, quality=quality)
    pngs = {f.chart.name: files[f.path("png")] for f in pub.figures}
    _put(files, "meeting_pack.html", html_page(pack).encode("utf-8"))
    _put(files, "meeting_pack.pdf", pdf_pack(pack, pngs))
    _put(files, "meeting_slides.pptx", slides(pack, pngs))
    docx = [(item.shown_title, table, footer) for item, table, footer in shown if item.formats]
    _put(files, "tables/tables.docx", tables_docx(docx, title=text.cover.title, synthetic=pub.synthetic))
    names = [item.name for item in pub.tables if item.xlsx]
    _put(files, "README.md", shared_readme(pub.run_date, pub.synthetic, names, notes).encode("utf-8"))


def rendered_pages(pub: Publication, shown: list[tuple[TableItem, pd.DataFrame, list[str]]], threshold: int
                   ) -> tuple[object, object]:
    """The :class:`~analysis.report.findings.Findings` and :class:`~analysis.report.findings.DataQuality` of
    the publication (None for a page it does not have), written from ``shown``: the tables exactly as they are
    shared (so a suppressed cell's number never reaches a sentence)."""
    from .findings import build_data_quality, build_findings

    findings = quality = None
    for page in pub.pages:
        if isinstance(page, FindingsItem):
            tables = {item.name: item.source for item, _, _ in shown
                      if isinstance(item.source, ComparisonTable) and item.xlsx}
            displayed = {item.name: table for item, table, _ in shown if item.name in tables}
            findings = build_findings(page.questions, tables, threshold=threshold, weighted=page.weighted,
                                      synthetic=pub.synthetic, reliability=page.reliability,
                                      income_available=page.income_available, shown=displayed)
        elif isinstance(page, DataQualityItem):
            quality = build_data_quality(page.questions, page.reliability, shown_data(page.accounting, threshold),
                                         threshold=threshold, synthetic=pub.synthetic)
    return findings, quality


def _page_files(files: dict[str, bytes], findings, quality) -> None:
    if findings is not None:
        _put(files, "findings.md", findings.markdown().encode("utf-8"))
        _put(files, "findings.csv", frame_to_csv(findings.frame()).encode("utf-8"))
    if quality is not None:
        _put(files, "data_quality.md", quality.markdown().encode("utf-8"))
        _put(files, "data_quality.csv", frame_to_csv(quality.frame()).encode("utf-8"))


def publish(publication: Publication, cfg: StudyConfig) -> dict[str, bytes]:
    """Every shared file of ``publication``: ``{path relative to the shared folder: bytes}``. Tables are
    suppressed with ``cfg``'s threshold, every table file carries the footer (source, periods, methods,
    suppression rule, provenance); two items may not make the same file."""
    thr = cfg.suppression_threshold
    files: dict[str, bytes] = {}
    shown = [(item, shown_table(item, thr), footer_lines(item.methods, cfg, item.stamp, item.source_text))
             for item in publication.tables]
    _table_files(files, shown)
    for fig in publication.figures:
        from .charts import chart_files

        for ext, data in chart_files(fig.chart).items():
            _put(files, fig.path(ext), data)
    for item in publication.data:
        _put(files, item.path, frame_to_csv(shown_data(item, thr)).encode("utf-8"))
    pages = rendered_pages(publication, shown, thr)
    _page_files(files, *pages)
    if publication.pack is not None:
        _pack_files(files, publication, shown, *pages)
    return files
