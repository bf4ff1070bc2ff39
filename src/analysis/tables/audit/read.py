"""Reading the shared folder as a reader would: tables in every format (Word too), figure data, pages and notes.

Everything here takes the files' bytes (``{path relative to the shared folder: bytes}``) and returns plain data;
the command line reads the folder. Nothing is assumed about the files beyond what they show: a table is a title
line, a header, body rows and footer lines (the layout every format of :mod:`analysis.tables.export` uses), a
hidden cell is any text that is not a number where a count belongs.
"""

from __future__ import annotations

import csv
import html
import io
import logging
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

# a count as printed: 12, 1,234
INT = r"\d{1,3}(?:,\d{3})+|\d+"
_FRACTION = re.compile(rf"^({INT})\s*/\s*({INT})(?:\s*\(\s*([0-9.]+)\s*%\s*\))?$")
_COUNT = re.compile(rf"^({INT})$")
_N_PCT = re.compile(rf"^({INT})\s*\(\s*([0-9.]+)\s*%\s*\)$")
_SUMMARY_N = re.compile(rf"\bn\s*=\s*({INT})\s*$")
_SMALL = re.compile(r"^<\s*(\d+)$")
_MODEL_N = re.compile(rf"^({INT})\s*\(\s*({INT})\s*\)$")


def to_int(text: str) -> int:
    return int(text.replace(",", ""))


@dataclass(frozen=True)
class Shown:
    """What one printed cell says about a count: ``kind`` is ``count`` (``n`` visible), ``hidden`` (a marker in
    a count's place; ``below`` is the threshold of a ``<t`` marker), ``empty`` or ``text``. ``den`` and ``pct``
    (with its number of decimals) when the cell is ``n/N (p%)``."""

    kind: str
    n: int | None = None
    den: int | None = None
    pct: float | None = None
    pct_digits: int | None = None
    marker: str = ""
    below: int | None = None


def unquote(text: str) -> str:
    """A cell as the writer meant it: the CSV formula guard (a leading ') removed, blanks trimmed."""
    text = (text or "").strip()
    return text[1:] if text.startswith("'") else text


def shown(text: str) -> Shown:
    """Read a count cell (``12/483 (2.5%)``, ``308``, ``<5``, ``suppressed``, ``[c]``, ``...; n = 119``)."""
    t = unquote(text)
    if not t:
        return Shown("empty")
    m = _FRACTION.match(t)
    if m:
        pct = m.group(3)
        return Shown("count", to_int(m.group(1)), to_int(m.group(2)), float(pct) if pct else None,
                     _digits(pct) if pct else None)
    m = _COUNT.match(t)
    if m:
        return Shown("count", to_int(m.group(1)))
    m = _N_PCT.match(t)
    if m:
        return Shown("count", to_int(m.group(1)), pct=float(m.group(2)), pct_digits=_digits(m.group(2)))
    m = _SUMMARY_N.search(t)
    if m:
        return Shown("count", to_int(m.group(1)))
    m = _SMALL.match(t)
    if m:
        return Shown("hidden", marker=t, below=int(m.group(1)))
    if re.search(r"\d", t):
        return Shown("text", marker=t)
    return Shown("hidden", marker=t)


def _digits(number: str) -> int:
    return len(number.split(".")[1]) if "." in number else 0


# --- tables ----------------------------------------------------------------------------------------------------


@dataclass
class Grid:
    """A displayed table: ``rows`` are the body's cells as text, ``lines`` where each row is in its file."""

    path: str
    title: str
    header: list[str]
    rows: list[list[str]]
    lines: list[int]
    footer: list[str] = field(default_factory=list)
    span: tuple[int, int] | None = None  # first and last line of the whole table in a page (header to last row)

    def footer_text(self) -> str:
        return " ".join(self.footer)


def csv_grid(path: str, data: bytes) -> Grid:
    """A table file written by :func:`analysis.tables.export.to_csv`: title, header, body, blank line, footer.
    A plain data frame (no title line) is read with its first line as the header."""
    text = data.decode("utf-8-sig")
    reader = csv.reader(io.StringIO(text))
    records = []
    for rec in reader:
        records.append((reader.line_num, [unquote(c) for c in rec]))
    if not records:
        raise ValueError(f"{path}: empty file")
    title = ""
    start = 0
    if len(records[0][1]) == 1 and len(records) > 1 and len(records[1][1]) > 1:
        title, start = records[0][1][0], 1
    header = records[start][1]
    rows, lines, footer = [], [], []
    in_footer = False
    for line, rec in records[start + 1:]:
        if not rec or all(not c for c in rec):
            in_footer = True
            continue
        if in_footer:
            footer.append(",".join(rec))
            continue
        rows.append(rec + [""] * (len(header) - len(rec)))
        lines.append(line)
    return Grid(path, title, header, rows, lines, footer)


class _HTMLTables(HTMLParser):
    """Every <table> (header and body cells as text) with the <h3> before it and the footer list after it, and
    the page's text without scripts, styles and images."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tables: list[dict] = []
        self.text: list[str] = []
        self._heading = ""
        self._in_h3 = False
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self._table: dict | None = None
        self._skip = 0
        self._footer: list[str] | None = None
        self._li: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in ("style", "script"):
            self._skip += 1
        elif tag == "h3":
            self._in_h3, self._heading = True, ""
        elif tag == "table":
            self._table = {"title": self._heading.strip(), "header": [], "rows": [], "footer": []}
        elif tag == "tr" and self._table is not None:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
        elif tag == "ul" and "footer" in (a.get("class") or "") and self.tables:
            self._footer = self.tables[-1]["footer"]
        elif tag == "li" and self._footer is not None:
            self._li = []
        elif tag in ("br", "p", "li", "tr", "div", "h1", "h2", "h3"):
            self.text.append("\n")

    def handle_endtag(self, tag):
        if tag in ("style", "script"):
            self._skip = max(0, self._skip - 1)
        elif tag == "h3":
            self._in_h3 = False
        elif tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None and self._table is not None:
            if not self._table["header"] and not self._table["rows"]:
                self._table["header"] = self._row
            else:
                self._table["rows"].append(self._row)
            self._row = None
        elif tag == "table" and self._table is not None:
            self.tables.append(self._table)
            self._table = None
        elif tag == "li" and self._li is not None and self._footer is not None:
            self._footer.append(" ".join("".join(self._li).split()))
            self._li = None
        elif tag == "ul":
            self._footer = None
        self.text.append(" ")

    def handle_data(self, data):
        if self._skip:
            return
        self.text.append(data)
        if self._in_h3:
            self._heading += data
        if self._cell is not None:
            self._cell.append(data)
        if self._li is not None:
            self._li.append(data)


def html_tables(path: str, data: bytes) -> tuple[list[Grid], str]:
    """The tables of an HTML file (``path#table-k``) and its visible text (images' data left out)."""
    text = re.sub(r"data:image/[a-z+]+;base64,[A-Za-z0-9+/=]+", "", data.decode("utf-8", "replace"))
    p = _HTMLTables()
    p.feed(text)
    p.close()
    grids = [Grid(f"{path}#table-{k}", t["title"], t["header"], t["rows"], list(range(1, len(t["rows"]) + 1)),
                  t["footer"]) for k, t in enumerate(p.tables)]
    return grids, html.unescape("".join(p.text))


def _markdown_cells(line: str) -> list[str]:
    return [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]


def markdown_page(path: str, data: bytes) -> tuple[list[Grid], list[str]]:
    """A Markdown page (findings, data quality, a README): each of its tables (``path#table-k``, titled by the
    heading above it, ``span`` its lines) and all its lines (the tables' lines too, numbered from 1)."""
    lines = data.decode("utf-8").splitlines()
    grids: list[Grid] = []
    heading, k = "", 0
    while k < len(lines):
        ln = lines[k]
        if ln.startswith("#"):
            heading = ln.lstrip("#").strip()
        if not ln.startswith("|"):
            k += 1
            continue
        start, header, rows, nums = k, _markdown_cells(ln), [], []
        k += 1
        while k < len(lines) and lines[k].startswith("|"):
            cells = _markdown_cells(lines[k])
            if not set("".join(cells)) <= set("-: "):
                rows.append(cells)
                nums.append(k + 1)
            k += 1
        grids.append(Grid(f"{path}#table-{len(grids)}", heading, header, rows, nums, [], (start + 1, k)))
    return grids, lines


def docx_grids(path: str, data: bytes) -> tuple[list[Grid], list[str]]:
    """The tables of a Word file (``path#table-k``: titled by the paragraph above, the first row its header, the
    paragraphs after it its footer) and its other text (page headers and footers, paragraphs), one line each."""
    from ...formats.documents import docx_blocks

    grids: list[Grid] = []
    text: list[str] = []
    title, after_table = "", False
    for b in docx_blocks(data):
        if b.kind == "table":
            rows = [[" ".join(c.split()) for c in r] for r in b.rows]
            if rows:
                grids.append(Grid(f"{path}#table-{len(grids)}", title, rows[0], rows[1:],
                                  list(range(2, len(rows) + 1))))
                after_table = True
            continue
        text.append(b.text)
        if b.kind != "paragraph" or not b.text.strip():
            continue
        if b.style.startswith(("Heading", "Title")):
            title, after_table = b.text.strip(), False
        elif after_table:
            grids[-1].footer.append(b.text)
    return grids, text


def markdown_grid(path: str, data: bytes) -> Grid:
    """A table written by :func:`analysis.tables.export.to_markdown`."""
    lines = data.decode("utf-8").splitlines()
    title = next((ln[4:] for ln in lines if ln.startswith("### ")), "")
    rows, nums, header, footer = [], [], None, []
    for k, ln in enumerate(lines, start=1):
        if ln.startswith("|"):
            cells = [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", ln.strip())[1:-1]]
            if header is None:
                header = cells
            elif set("".join(cells)) <= set("-: "):
                continue
            else:
                rows.append(cells)
                nums.append(k)
        elif ln.startswith("- ") and header is not None:
            footer.append(ln[2:])
    return Grid(path, title, header or [], rows, nums, footer)


def xlsx_grids(path: str, data: bytes) -> list[Grid]:
    """Each sheet of a workbook written by :func:`analysis.tables.export.to_xlsx` (``path#sheet``)."""
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    out = []
    for ws in wb.worksheets:
        values = [["" if v is None else str(v) for v in row] for row in ws.iter_rows(values_only=True)]
        if len(values) < 3:
            continue
        title = values[0][0] if values[0] else ""
        header = [h for h in values[2]]
        width = len([h for h in header if h])
        rows, nums, footer = [], [], []
        in_footer = False
        for k, row in enumerate(values[3:], start=4):
            if not any(row):
                in_footer = True
                continue
            if in_footer:
                footer.append(row[0])
            else:
                rows.append([_xlsx_text(v) for v in row[:width]])
                nums.append(k)
        out.append(Grid(f"{path}#{ws.title}", title, header[:width], rows, nums, footer))
    wb.close()
    return out


def _xlsx_text(v: str) -> str:
    """A workbook value as the CSV writes it (whole numbers stored as numbers come back as '12' or '12.0')."""
    if re.fullmatch(r"-?\d+\.0", v):
        return v[:-2]
    return v


# --- text -------------------------------------------------------------------------------------------------------


def pdf_text(data: bytes) -> str:
    """A PDF's text in reading order. With poppler's ``pdftotext`` (as CI has it), its text; without it, pypdf's in
    layout mode, which reads the same words. A typeset PDF (the meeting pack, made by Typst) draws glyph numbers
    that only each font's map turns back into text: both readers apply it, so the audit reads the same numbers on
    a machine without poppler (the strings in the page streams would be glyph numbers, not text)."""
    import shutil
    import subprocess

    exe = shutil.which("pdftotext")
    if exe:
        done = subprocess.run([exe, "-q", "-enc", "UTF-8", "-", "-"], input=data, capture_output=True, timeout=300)
        if done.returncode == 0:
            return done.stdout.decode("utf-8", "replace")
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    log = logging.getLogger("pypdf")  # its warnings about a damaged file: the audit's own message says it
    level = log.level
    log.setLevel(logging.ERROR)
    try:
        pages = PdfReader(io.BytesIO(data)).pages
        return "\n".join(page.extract_text(extraction_mode="layout") for page in pages)
    except PyPdfError as exc:  # the audit reports the file as not read
        raise ValueError(f"not a readable PDF: {exc}") from None
    finally:
        log.setLevel(level)


def readme_notes(data: bytes) -> list[tuple[int, str]]:
    """The bullet lines under '## Notes' in the shared README (line number, text)."""
    out, inside = [], False
    for k, line in enumerate(data.decode("utf-8", "replace").splitlines(), start=1):
        if line.startswith("## "):
            inside = line.strip().lower() == "## notes"
            continue
        if inside and line.startswith("- "):
            out.append((k, line[2:].strip()))
    return out
