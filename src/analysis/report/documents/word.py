"""The shared tables as one Word file (``tables.docx``, python-docx) for people who edit in Word: each table
with its title and footer, landscape, 9 pt, the header row repeated on every page, and the synthetic-data
banner in the page header when the data are synthetic."""

from __future__ import annotations

import io

from ...formats.xlsx import deterministic_zip
from ...tables.export import SYNTHETIC_BANNER
from .content import cell_text, column_weights

FONT_PT = 9
TEXT_WIDTH_IN = 11.0 - 2 * 0.6


def _repeat_header(row) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    pr = row._tr.get_or_add_trPr()
    el = OxmlElement("w:tblHeader")
    el.set(qn("w:val"), "true")
    pr.append(el)


def _keep_row_together(row) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    el = OxmlElement("w:cantSplit")
    el.set(qn("w:val"), "true")
    row._tr.get_or_add_trPr().append(el)


def _small(paragraph, text: str, *, bold: bool = False, size: float = FONT_PT) -> None:
    from docx.shared import Pt

    run = paragraph.add_run(text)
    run.font.size = Pt(size)
    run.bold = bold


def _setup(doc, synthetic: bool) -> None:
    from docx.enum.section import WD_ORIENT
    from docx.shared import Inches, Pt, RGBColor

    sec = doc.sections[0]
    sec.orientation = WD_ORIENT.LANDSCAPE
    sec.page_width, sec.page_height = Inches(11), Inches(8.5)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(sec, side, Inches(0.6))
    doc.styles["Normal"].font.size = Pt(10)
    doc.styles["Table Grid"].font.size = Pt(FONT_PT)
    if synthetic:
        p = sec.header.paragraphs[0]
        run = p.add_run(SYNTHETIC_BANNER)
        run.bold = True
        run.font.color.rgb = RGBColor(0xB0, 0x00, 0x20)


def _table(doc, title: str, table, footer: list[str]) -> None:
    from docx.shared import Inches

    doc.add_heading(title, level=2)
    weights = [max(w + 3.0, 15.0) for w in column_weights(table)]  # Word pads cells more than the PDF
    widths = [Inches(TEXT_WIDTH_IN * w / sum(weights)) for w in weights]
    values = [[str(c) for c in table.columns]] + [[cell_text(v) for v in row] for row in table.itertuples(index=False)]
    ncol = len(table.columns)
    t = doc.add_table(rows=len(values), cols=ncol)  # all rows at once: add_row and row.cells are slow
    t.style = "Table Grid"  # its font size (FONT_PT, set once in _setup) is the cells' size
    t.autofit = False
    for column, width in zip(t.columns, widths):  # the grid (LibreOffice reads it) and each cell (Word does)
        column.width = width
    cells = t._cells  # every cell in one pass, row by row
    for r, row_values in enumerate(values):
        for c, value in enumerate(row_values):
            cell = cells[r * ncol + c]
            cell.width = widths[c]
            run = cell.paragraphs[0].add_run(value)
            if r == 0:
                run.bold = True
    _repeat_header(t.rows[0])
    for row in t.rows[1:]:
        _keep_row_together(row)
    for line in footer:
        _small(doc.add_paragraph(), line, size=8.5)


def tables_docx(tables: list[tuple[str, object, list[str]]], *, title: str, synthetic: bool) -> bytes:
    """``tables`` (title, display table, footer lines) as .docx bytes."""
    from docx import Document

    doc = Document()
    doc.core_properties.title = title
    doc.core_properties.author = "analysis (SFPD Vice to SVU toolkit)"
    _setup(doc, synthetic)
    doc.add_heading(title, level=1)
    for k, (name, table, footer) in enumerate(tables):
        if k:
            doc.add_page_break()
        _table(doc, name, table, footer)
    buf = io.BytesIO()
    doc.save(buf)
    return deterministic_zip(buf.getvalue())  # (python-docx stamps each member with the time)
