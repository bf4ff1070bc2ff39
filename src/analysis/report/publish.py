"""The one publishing step: everything meant for sharing leaves through :func:`publish`.

The pipeline's stages add items to a :class:`Publication`; :func:`publish` turns the whole set into files
(``{relative path: bytes}``). Nothing else in the package makes a shared file, so the whole shared set is protected
here at once (:func:`protect_publication`): every count any item shows is registered
(:class:`analysis.tables.disclosure.Register`: the tables, the model's cross-tabulation, the charts' data, row
accounting, the cover's counts), the register is protected in one go (optimal secondary suppression over every
relation the codebook makes between them), and then every format of every item is rendered from the one
protection. Each item keeps what its numbers came from:

- :class:`TableItem`: a before/after table (its analyst :class:`~analysis.tables.compare.ComparisonTable`) or the
  misclassification model (:class:`ModelTable`, its :class:`~analysis.stats.models.ModelResult` per outcome), as
  CSV, Markdown and HTML, a sheet of its folder's ``tables.xlsx``, and/or a key table of the meeting pack;
- :class:`FigureItem`: a chart (:class:`~analysis.report.charts.Chart`) as PNG, PDF and the CSV of its data;
- :class:`DataItem`: a data frame as CSV (row accounting, reliability, the public series), with the columns that
  are counts to be shown with the small-cell rule;
- :class:`FindingsItem` / :class:`DataQualityItem`: the findings page (one finding per committee question) and
  the data-quality page, written *from the displayed (suppressed) tables* of this publication
  (:func:`rendered_pages`): ``findings.md``, ``findings.csv``, ``data_quality.md``, ``data_quality.csv``;
- :class:`Note`: a sentence for the pack and the README. A shared note carries no count at all (:func:`publish`
  refuses one with declared :attr:`Note.counts`); the model's notes are made count-free (:func:`model_note`);
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
from typing import TYPE_CHECKING, Callable

import pandas as pd

from ..formats.cells import frame_to_csv
from ..scheme.codebook import Codebook, load_codebook
from ..scheme.config import StudyConfig
from ..tables.compare import ComparisonTable
from ..tables.display import display_table
from ..tables.disclosure import SUPPRESSED, CellKey, Protection, Register, protect_register
from ..tables.disclosure.show import model_prints
from ..tables.export import footer_lines, to_csv, to_html, to_markdown, to_xlsx
from ..tables.standard import SOURCE
from ..stats.forked import Forked, in_child
from .texts import PackText, model_note, shared_readme

if TYPE_CHECKING:  # charts and the pack (matplotlib, the PDF) are imported when a publication has them
    from .charts import Chart
    from .charts.meeting import ChartPlan

SYNTHETIC_SUFFIX = " (SYNTHETIC DATA)"
TEXT_FORMATS = {"csv": to_csv, "md": to_markdown, "html": to_html}


# --- items ----------------------------------------------------------------------------------------------------


@dataclass
class ModelTable:
    """The misclassification model for sharing: (outcome label, ModelResult) per outcome, in table order, and
    (``crude``) the period-only model of each outcome, shown instead when the full model's cross-tabulation has a
    suppressed cell (the crude model's counts are the before/after tables' own)."""

    results: list[tuple[str, object]]
    crude: list[tuple[str, object]] = field(default_factory=list)

    def shown(self, protection: Protection) -> list[tuple[str, object]]:
        """Per outcome, the model whose estimates may be shown (the full one, else the crude one), or the full
        one when neither may (then shown as suppressed)."""
        crude = dict(self.crude)
        out = []
        for label, result in self.results:
            if not model_prints(result, protection) and label in crude and model_prints(crude[label], protection):
                result = crude[label]
            out.append((label, result))
        return out


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
    units: dict | None = field(default=None, repr=False)  # the derived tables the counts come from

    @property
    def name(self) -> str:
        return PurePosixPath(self.path).name

    @property
    def shown_title(self) -> str:
        return self.title + (SYNTHETIC_SUFFIX if self.stamp["synthetic"] else "")


@dataclass
class FigureItem:
    """A chart: ``<folder>/<name>.png``, ``.pdf`` and ``.csv`` (the data behind it), and a page of the pack.

    ``plan`` (:class:`~analysis.report.charts.meeting.ChartPlan`): the chart is drawn by :func:`publish` after the
    whole publication is protected, from the one protection. ``chart``: a chart already drawn (its own counts
    protected together when it was drawn; a notebook's)."""

    chart: Chart | None = None
    folder: str = "figures"  # "" for the top of the shared folder
    plan: ChartPlan | None = None
    units: dict | None = field(default=None, repr=False)  # the derived tables the plan's counts come from
    formats: tuple[str, ...] = ("png", "pdf", "csv")  # the files made (a notebook only showing it: the PNG)

    @property
    def name(self) -> str:
        return self.plan.name if self.plan is not None else self.chart.name

    def path(self, ext: str) -> str:
        return f"{self.folder}/{self.name}.{ext}" if self.folder else f"{self.name}.{ext}"


@dataclass
class DataItem:
    """A data frame shared as CSV at ``path``. ``small_cells``: row accounting's count columns (a row per table;
    rows read = valid + rejected), registered and shown as the protection decides; a frame without them must carry
    no count of people (the public series, the reliability summary)."""

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
class ModelNote:
    """The misclassification model's notes (what was left out or dropped, and why), rendered by :func:`publish`
    without counts, and only for the model whose estimates are shown (:func:`analysis.report.texts.model_note`)."""

    label: str
    result: object  # analysis.stats.models.ModelResult
    crude: object = None  # the period-only model, shown when the full one cannot be

    def texts(self, protection: Protection) -> list[str]:
        if model_prints(self.result, protection):
            return [model_note(self.label, n) for n in self.result.notes]
        if self.crude is not None and model_prints(self.crude, protection):
            return [f"Model ({self.label}): only the period odds ratio is shown (a cell of the period x unit x "
                    "outcome cross-tabulation is suppressed)."] + [model_note(self.label, n) for n in self.crude.notes]
        return [f"Model ({self.label}): estimates not shown: a cell of its cross-tabulation is suppressed."]


@dataclass
class Publication:
    """Everything a run shares, as items (see the module docstring); :func:`publish` makes the files."""

    tables: list[TableItem] = field(default_factory=list)
    figures: list[FigureItem] = field(default_factory=list)
    data: list[DataItem] = field(default_factory=list)
    notes: list[Note | ModelNote] = field(default_factory=list)
    pages: list = field(default_factory=list)  # FindingsItem, DataQualityItem
    pack: PackText | None = None  # with it: meeting_pack.html, meeting_pack.pdf and README.md
    run_date: str = ""
    synthetic: bool = False
    units: dict | None = field(default=None, repr=False)  # the derived tables (else the items' own)
    codebook: Codebook | None = field(default=None, repr=False)

    def add(self, *items) -> None:
        """Add tables, figures, data and notes (each to its list, in the order given)."""
        lists = {TableItem: self.tables, FigureItem: self.figures, DataItem: self.data, Note: self.notes,
                 ModelNote: self.notes, FindingsItem: self.pages, DataQualityItem: self.pages}
        for item in items:
            if type(item) not in lists:
                raise TypeError(f"not an item for publishing: {type(item).__name__}")
            lists[type(item)].append(item)

    def note_texts(self, protection: Protection | None = None) -> list[str]:
        """The notes as shared (a model's notes need the ``protection``)."""
        out = []
        for n in self.notes:
            if isinstance(n, ModelNote):
                if protection is not None:
                    out += n.texts(protection)
            else:
                out.append(n.text)
        return out


# --- protecting the whole publication --------------------------------------------------------------------------

PACK_COUNTS = {"reports": CellKey("rows", None, "incidents", "valid_rows"),
               "people": CellKey("rows", None, "persons", "valid_rows"),
               "valid_rows": CellKey("rows", None, "all", "valid_rows")}


def _units(pub: Publication) -> dict | None:
    if pub.units is not None:
        return pub.units
    for item in [*pub.tables, *pub.figures]:
        if item.units is not None:
            return item.units
    return None


def register_publication(pub: Publication, cfg: StudyConfig) -> Register:
    """Every count the publication shows, in one register (tables, the model, the charts' data, row accounting,
    the cover's counts)."""
    reg = Register(pub.codebook or load_codebook(), cfg, _units(pub))
    for item in pub.tables:
        if isinstance(item.source, ModelTable):
            for _, result in item.source.results + item.source.crude:
                reg.add_model(result, item.path)
        else:
            reg.add_table(item.source, item.path)
    for fig in pub.figures:
        if fig.plan is not None:
            for ct in fig.plan.comparisons:
                reg.add_table(ct, fig.path("csv"))
    for item in pub.data:
        if item.small_cells:
            reg.add_accounting(item.frame, item.path, item.small_cells)
    if pub.pack is not None:
        for name, value in pub.pack.counts.items():
            reg.add_count(PACK_COUNTS[name], value, "meeting_pack")
    for note in pub.notes:
        if isinstance(note, Note) and note.counts:
            raise ValueError(f"a shared note may not carry counts (they cannot be protected there): {note.template!r}")
    return reg


def protect_publication(pub: Publication, cfg: StudyConfig, *, check_ranges: bool = True) -> Protection:
    """The protection of everything ``pub`` shares (:mod:`analysis.tables.disclosure`); with ``check_ranges`` the
    exact check's ranges are computed too (:meth:`Protection.leaks` is then empty when it is safe)."""
    return protect_register(register_publication(pub, cfg), check_ranges=check_ranges)


# --- what is shown -----------------------------------------------------------------------------------------------


def shown_count(protection: Protection, key: CellKey, value: int) -> str:
    """A registered count as shared: with thousands separators, or the marker standing in for it."""
    return f"{value:,}" if protection.shown(key) else SUPPRESSED


def model_display(result, protection: Protection) -> pd.DataFrame:
    """The misclassification model's odds ratios for sharing: estimates only when every cell of its
    cross-tabulation is shown (else they could give a small cell away)."""
    t = result.table
    ok = model_prints(result, protection)
    out = pd.DataFrame({
        "Term": t["label"],
        "Odds ratio (95% CI)": [(f"{o:.2f} ({lo:.2f} to {hi:.2f})" if o == o else "not estimable") if ok
                                else SUPPRESSED for o, lo, hi in zip(t["odds_ratio"], t["ci_low"], t["ci_high"])],
        "p": [("" if p != p else ("<0.001" if p < 0.001 else f"{p:.3f}")) if ok else SUPPRESSED for p in t["p_value"]],
    })
    out["Reports (events)"] = f"{result.n:,} ({result.events:,})" if ok else SUPPRESSED
    return out


def shown_table(item: TableItem, protection: Protection) -> pd.DataFrame:
    """The display table of a table item, as the protection allows."""
    if isinstance(item.source, ModelTable):
        rows = []
        for label, result in item.source.shown(protection):
            md = model_display(result, protection)
            md.insert(0, "Outcome", label)
            rows.append(md)
        return pd.concat(rows, ignore_index=True)
    return display_table(item.source, protection=protection)


def merge_notes(item: TableItem, protection: Protection) -> list[str]:
    """Footer lines saying which levels a table shows together."""
    if isinstance(item.source, ModelTable):
        return []
    pop = protection.register.population_of(item.source)
    out = []
    for col, block in item.source.rows.groupby("column", sort=False):
        labels = dict(zip(block["level"].astype(str), block["level_label"].astype(str)))
        for m in protection.merges_for(pop, col):
            parts = [labels.get(lv, lv) for lv in m.levels]
            out.append(f"{block.iloc[0]['label']}: {', '.join(parts)} are shown together as '{m.label}' (so that "
                       "fewer counts need to be suppressed).")
    return out


def shown_data(item: DataItem, protection: Protection) -> pd.DataFrame:
    if not item.small_cells:
        return item.frame
    out = item.frame.copy()
    for c in item.small_cells:
        out[c] = [shown_count(protection, CellKey("rows", None, str(t), c), int(v))
                  for t, v in zip(item.frame["table"], item.frame[c])]
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
                charts: list[Chart], protection: Protection, findings=None, quality=None, *,
                docx: bytes | None = None) -> None:
    """meeting_pack.html, meeting_pack.pdf, meeting_slides.pptx, tables/tables.docx and README.md, from the
    publication's charts (drawn from the protection; their PNGs already in ``files``), key tables, notes, and the
    findings and data-quality pages (:mod:`analysis.report.findings`) when given. ``docx``: the Word tables when
    they are made already (:func:`_word_tables`)."""
    notes = pub.note_texts(protection)
    from .documents import pdf_pack, slides
    from .pack import Pack, PackTable, html_page

    key = [PackTable(item.shown_title, table, footer) for item, table, footer in shown if item.pack]
    text = pub.pack
    counts = {name: shown_count(protection, PACK_COUNTS[name], value) for name, value in text.counts.items()}
    pack = Pack(text.cover_with(counts), charts, key, text.methods, text.provenance, notes,
                findings=findings, quality=quality)
    pngs = {chart.name: files[fig.path("png")] for fig, chart in zip(pub.figures, charts)}
    _put(files, "meeting_pack.html", html_page(pack, pngs).encode("utf-8"))
    _put(files, "meeting_pack.pdf", pdf_pack(pack, pngs))
    _put(files, "meeting_slides.pptx", slides(pack, pngs))
    _put(files, "tables/tables.docx", docx if docx is not None else _word_tables(pub, shown))
    names = [item.name for item in pub.tables if item.xlsx]
    _put(files, "README.md", shared_readme(pub.run_date, pub.synthetic, names, notes).encode("utf-8"))


def _word_tables(pub: Publication, shown: list[tuple[TableItem, pd.DataFrame, list[str]]]) -> bytes:
    """The pack's ``tables/tables.docx``: every table that has a text format, as shared."""
    from .documents import tables_docx

    docx = [(item.shown_title, table, footer) for item, table, footer in shown if item.formats]
    return tables_docx(docx, title=pub.pack.cover.title, synthetic=pub.synthetic)


def rendered_pages(pub: Publication, shown: list[tuple[TableItem, pd.DataFrame, list[str]]], threshold: int,
                   protection: Protection) -> tuple[object, object]:
    """The :class:`~analysis.report.findings.Findings` and :class:`~analysis.report.findings.DataQuality` of
    the publication (None for a page it does not have), written from ``shown``: the tables exactly as they are
    shared (so a suppressed cell's number never reaches a sentence)."""
    from .findings import build_data_quality, build_findings

    findings = quality = None
    for page in pub.pages:
        if isinstance(page, FindingsItem):
            from ..tables.disclosure.show import apply_merges

            # the tables as shared: levels the protection merged are one row, as in the displayed table
            tables = {item.name: apply_merges(item.source, protection) for item, _, _ in shown
                      if isinstance(item.source, ComparisonTable) and item.xlsx}
            displayed = {item.name: table for item, table, _ in shown if item.name in tables}
            findings = build_findings(page.questions, tables, threshold=threshold, weighted=page.weighted,
                                      synthetic=pub.synthetic, reliability=page.reliability,
                                      income_available=page.income_available, shown=displayed)
        elif isinstance(page, DataQualityItem):
            quality = build_data_quality(page.questions, page.reliability, shown_data(page.accounting, protection),
                                         threshold=threshold, synthetic=pub.synthetic)
    return findings, quality


def _page_files(files: dict[str, bytes], findings, quality) -> None:
    if findings is not None:
        _put(files, "findings.md", findings.markdown().encode("utf-8"))
        _put(files, "findings.csv", frame_to_csv(findings.frame()).encode("utf-8"))
    if quality is not None:
        _put(files, "data_quality.md", quality.markdown().encode("utf-8"))
        _put(files, "data_quality.csv", frame_to_csv(quality.frame()).encode("utf-8"))


def _chart_files(chart: Chart, formats: tuple[str, ...]) -> dict[str, bytes]:
    from .charts import chart_files  # (matplotlib: imported when a publication has charts)

    return chart_files(chart, formats=formats) if formats else {}


def publish(publication: Publication, cfg: StudyConfig, protection: Protection | None = None, *,
            charts_drawn: Callable[[list[Chart], dict[str, bytes]], None] | None = None,
            parallel: bool = True) -> dict[str, bytes]:
    """Every shared file of ``publication``: ``{path relative to the shared folder: bytes}``. The whole publication
    is protected at once (``protection``, else :func:`protect_publication`), then every format of every item is
    rendered from that one protection: tables (with the footer: source, periods, methods, suppression rule,
    merged levels, provenance), charts (drawn now, from their plans), data, the pack and the README. Two items may
    not make the same file.

    ``charts_drawn``: called as soon as the charts are drawn and their PNGs made (before the pack is rendered),
    with the charts as shared and ``{path: PNG}``; the report starts the notebook that shows them then
    (:func:`analysis.report.pipeline.write_shared_charts`).

    With ``parallel``, a publication with both tables and charts has its tables, data, pages and Word tables, and
    every :data:`CHARTS_APART`-th chart, rendered in a forked process (:func:`analysis.stats.forked.in_child`)
    while this one draws and renders the other charts: the same files, in the same order, as one process makes
    (``parallel=False``, or where processes cannot be forked)."""
    if protection is None:
        protection = protect_publication(publication, cfg, check_ranges=False)
    figures = publication.figures
    forked = parallel and bool(publication.tables) and bool(figures)
    apart = [i for i in range(len(figures)) if forked and i % CHARTS_APART == CHARTS_APART - 1]
    work = lambda: (_text_files(publication, cfg, protection),  # noqa: E731
                    {i: _chart_alone(figures[i], protection) for i in apart})
    text = in_child(work) if forked else Forked(work)
    charts: dict[int, Chart] = {}
    drawn: dict[int, dict[str, bytes]] = {}
    try:
        # the charts first (their PNGs are what charts_drawn is given); the files are put in the order of the items
        for i, fig in enumerate(figures):
            if i not in apart:
                charts[i] = fig.plan.draw(protection) if fig.plan is not None else fig.chart
                drawn[i] = _chart_files(charts[i], tuple(e for e in fig.formats if e == "png"))
        if not apart:
            _charts_drawn(charts_drawn, figures, charts, drawn)
        for i, chart in charts.items():
            drawn[i].update(_chart_files(chart, tuple(e for e in figures[i].formats if e != "png")))
    except BaseException:
        text.stop()
        raise
    made_text, alone = text()
    for i, (chart, made) in alone.items():
        charts[i], drawn[i] = chart, made
    if apart:
        _charts_drawn(charts_drawn, figures, charts, drawn)
    chart_list = [charts[i] for i in range(len(figures))]
    shown = [(item, table, footer) for item, (table, footer) in zip(publication.tables, made_text.shown)]
    files: dict[str, bytes] = {}
    for path, data in made_text.tables.items():
        _put(files, path, data)
    for i, fig in enumerate(figures):
        made = drawn[i]
        for ext in ("png", "pdf", "csv"):  # (chart_files' order)
            if ext in made:
                _put(files, fig.path(ext), made[ext])
    for made in (made_text.data, made_text.pages):
        for path, data in made.items():
            _put(files, path, data)
    if publication.pack is not None:
        _pack_files(files, publication, shown, chart_list, protection, *made_text.rendered, docx=made_text.docx)
    return files


# With parallel publishing, every CHARTS_APART-th chart is drawn and rendered in the forked process, with the text
# files (about as much work as two charts): the two processes then take about as long.
CHARTS_APART = 3


def _chart_alone(fig: FigureItem, protection: Protection) -> tuple[Chart, dict[str, bytes]]:
    """A chart drawn and rendered in every format of ``fig`` (in another process): the chart as shared, without
    its figure, and its files."""
    import dataclasses

    chart = fig.plan.draw(protection) if fig.plan is not None else fig.chart
    made = _chart_files(chart, tuple(e for e in ("png", "pdf", "csv") if e in fig.formats))
    return dataclasses.replace(chart, fig=None), made


def _charts_drawn(callback, figures: list[FigureItem], charts: dict[int, Chart], drawn: dict[int, dict[str, bytes]]
                  ) -> None:
    if callback is not None:
        callback([charts[i] for i in range(len(figures))],
                 {fig.path("png"): drawn[i]["png"] for i, fig in enumerate(figures) if "png" in drawn[i]})


@dataclass
class _TextFiles:
    """What :func:`publish` renders from the protection alone (no chart): each table as shown
    (``shown``: its data frame and footer, in the publication's order), the tables', data items' and pages' files,
    the pages themselves (findings, data quality) and, with a pack, the Word tables."""

    shown: list[tuple[pd.DataFrame, list[str]]]
    tables: dict[str, bytes]
    data: dict[str, bytes]
    rendered: tuple[object, object]
    pages: dict[str, bytes]
    docx: bytes | None


def _text_files(publication: Publication, cfg: StudyConfig, protection: Protection) -> _TextFiles:
    shown = [(item, shown_table(item, protection),
              footer_lines(item.methods, cfg, item.stamp, item.source_text, getattr(item.source, "weighted", False))
              + merge_notes(item, protection))
             for item in publication.tables]
    tables: dict[str, bytes] = {}
    _table_files(tables, shown)
    data: dict[str, bytes] = {}
    for item in publication.data:
        _put(data, item.path, frame_to_csv(shown_data(item, protection)).encode("utf-8"))
    rendered = rendered_pages(publication, shown, cfg.suppression_threshold, protection)
    pages: dict[str, bytes] = {}
    _page_files(pages, *rendered)
    docx = _word_tables(publication, shown) if publication.pack is not None else None
    return _TextFiles([(table, footer) for _, table, footer in shown], tables, data, rendered, pages, docx)
