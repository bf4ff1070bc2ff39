"""The meeting documents made from the pack (:class:`analysis.report.pack.Pack`), as bytes (no file I/O):

- :mod:`.pdf`     ``meeting_pack.pdf``, typeset by Typst (template ``pack.typ``)
- :mod:`.slides`  ``meeting_slides.pptx`` (python-pptx)
- :mod:`.word`    ``tables.docx``: the shared tables (python-docx)
- :mod:`.content` what the three share (column widths, row groups, where a finding is shown)

:func:`document_text` (from :mod:`analysis.formats.documents`, where the disclosure audit reads it too) gives the
text back out of a .pptx or .docx (slides, notes, tables), so that checks of the shared folder see every number
the documents hold.
"""

from __future__ import annotations

from ...formats.documents import document_text
from .pdf import pdf_pack
from .slides import slides
from .word import tables_docx

__all__ = ["document_text", "pdf_pack", "slides", "tables_docx"]
