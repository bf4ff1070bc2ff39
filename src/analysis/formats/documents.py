"""The text of Office documents (.pptx slides and notes, .docx paragraphs and tables), read from their bytes.

The meeting documents (:mod:`analysis.report.documents`) write these files; the disclosure audit
(:mod:`analysis.tables.audit`) and the tests read them back, so that every number they hold is seen. This module
imports nothing from the project, so any layer may use it.

* :func:`pptx_text`: every slide's text (text boxes, placeholders, tables and grouped shapes, in slide order),
  each slide followed by its speaker notes.
* :func:`docx_blocks`: a Word file's page headers and footers, then its body in order: paragraphs (``kind``
  ``"paragraph"``, with their style, e.g. ``Heading 2``) and tables (``kind`` ``"table"``, each row a list of its
  cells' text; a merged cell is given once).
* :func:`document_text`: the text of either, one line per paragraph or table row (cells joined by a tab).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

__all__ = ["Block", "docx_blocks", "docx_text", "document_text", "pptx_text"]


def _shape_lines(shape) -> list[str]:
    """The text of one slide shape: its text frame, its table's rows, or the shapes of a group."""
    from pptx.shapes.group import GroupShape

    lines: list[str] = []
    if isinstance(shape, GroupShape):
        for sub in shape.shapes:
            lines += _shape_lines(sub)
        return lines
    if shape.has_text_frame:
        lines.append(shape.text_frame.text)
    if getattr(shape, "has_table", False):  # a graphic frame holding a table
        for row in shape.table.rows:
            lines.append("\t".join(cell.text for cell in row.cells))
    return lines


def pptx_text(data: bytes) -> str:
    """The slides' text and speaker notes of a .pptx, slide by slide (see the module docstring)."""
    from pptx import Presentation

    lines: list[str] = []
    for slide in Presentation(io.BytesIO(data)).slides:
        for shape in slide.shapes:
            lines += _shape_lines(shape)
        if slide.has_notes_slide:
            lines.append(slide.notes_slide.notes_text_frame.text)
    return "\n".join(lines)


@dataclass
class Block:
    """One piece of a Word file: a paragraph (``text``, ``style``) or a table (``rows`` of cell texts)."""

    kind: str  # paragraph | table | header | footer
    text: str = ""
    style: str = ""
    rows: list[list[str]] = field(default_factory=list)


def _table_rows(table) -> list[list[str]]:
    """Each row's cells as text, read from the XML (python-docx's ``row.cells`` is slow on long tables): a cell
    spanning several columns is given once, a cell's paragraphs are joined by a newline."""
    from docx.oxml.ns import qn

    w_p, w_t = qn("w:p"), qn("w:t")
    return [["\n".join("".join(t.text or "" for t in p.iter(w_t)) for p in tc.iter(w_p)) for tc in tr.tc_lst]
            for tr in table._tbl.tr_lst]


def docx_blocks(data: bytes) -> list[Block]:
    """A .docx as its page headers and footers, then its body's paragraphs and tables in order."""
    from docx import Document
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    doc = Document(io.BytesIO(data))
    out: list[Block] = []
    for section in doc.sections:
        for kind, part in (("header", section.header), ("footer", section.footer)):
            if part.is_linked_to_previous and section is not doc.sections[0]:
                continue
            out += [Block(kind, p.text) for p in part.paragraphs if p.text.strip()]
            out += [Block("table", rows=_table_rows(t)) for t in part.tables]
    for item in doc.iter_inner_content():
        if isinstance(item, Paragraph):
            out.append(Block("paragraph", item.text, item.style.name if item.style is not None else ""))
        elif isinstance(item, Table):
            out.append(Block("table", rows=_table_rows(item)))
    return out


def docx_text(data: bytes) -> str:
    """The text of a .docx: page headers and footers, paragraphs, and tables (one line a row, tab-separated)."""
    lines = []
    for b in docx_blocks(data):
        if b.kind == "table":
            lines += ["\t".join(r) for r in b.rows]
        else:
            lines.append(b.text)
    return "\n".join(lines)


def document_text(name: str, data: bytes) -> str:
    """The text of a .pptx (slides and speaker notes) or .docx (header, paragraphs, tables)."""
    if name.lower().endswith(".pptx"):
        return pptx_text(data)
    if name.lower().endswith(".docx"):
        return docx_text(data)
    raise ValueError(f"{name}: not a .pptx or .docx")
