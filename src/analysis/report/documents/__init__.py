"""The meeting documents made from the pack (:class:`analysis.report.pack.Pack`), as bytes (no file I/O):

- :mod:`.pdf`     ``meeting_pack.pdf``, typeset by Typst (template ``pack.typ``)
- :mod:`.slides`  ``meeting_slides.pptx`` (python-pptx)
- :mod:`.word`    ``tables.docx``: the shared tables (python-docx)
- :mod:`.content` what the three share (column widths, row groups, where a finding is shown)

:func:`document_text` reads the text back out of a .pptx or .docx (slides, notes, tables), so that checks of the
shared folder (disclosure audit, tests) see every number the documents hold.
"""

from __future__ import annotations

import io

from .pdf import pdf_pack
from .slides import slides
from .word import tables_docx

__all__ = ["document_text", "pdf_pack", "slides", "tables_docx"]


def _pptx_text(data: bytes) -> str:
    from pptx import Presentation

    lines = []
    for slide in Presentation(io.BytesIO(data)).slides:
        for shape in slide.shapes:
            if shape.has_text_frame:
                lines.append(shape.text_frame.text)
        if slide.has_notes_slide:
            lines.append(slide.notes_slide.notes_text_frame.text)
    return "\n".join(lines)


def _docx_text(data: bytes) -> str:
    from docx import Document

    doc = Document(io.BytesIO(data))
    lines = [p.text for s in doc.sections for p in s.header.paragraphs]
    lines += [p.text for p in doc.paragraphs]
    for t in doc.tables:
        lines += ["\t".join(c.text for c in row.cells) for row in t.rows]
    return "\n".join(lines)


def document_text(name: str, data: bytes) -> str:
    """The text of a .pptx (slides and speaker notes) or .docx (header, paragraphs, tables)."""
    if name.endswith(".pptx"):
        return _pptx_text(data)
    if name.endswith(".docx"):
        return _docx_text(data)
    raise ValueError(f"{name}: not a .pptx or .docx")
