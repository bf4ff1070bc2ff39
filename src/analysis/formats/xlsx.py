"""Write tables to an Excel workbook, byte for byte the same for the same input."""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from typing import TYPE_CHECKING

from .cells import formula_like

if TYPE_CHECKING:
    import pandas as pd

FIXED_TIME = dt.datetime(2017, 11, 1, 0, 0, 0)
_MODIFIED = re.compile(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)")


def deterministic_zip(data: bytes, stored: tuple[str, ...] = ()) -> bytes:
    """Rewrite a zip (an .xlsx, .pptx or .docx) with fixed timestamps and order, so equal content gives equal
    bytes. Members whose names end in ``stored`` (pictures that are compressed already: ".png") are stored as they
    are rather than deflated again, which would take time for nothing."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            zi = zipfile.ZipInfo(info.filename, date_time=FIXED_TIME.timetuple()[:6])
            zi.compress_type = zipfile.ZIP_STORED if info.filename.lower().endswith(stored) else zipfile.ZIP_DEFLATED
            zi.external_attr = 0o600 << 16
            content = src.read(info.filename)
            if info.filename == "docProps/core.xml":  # openpyxl stamps the save time here
                content = _MODIFIED.sub(rb"\g<1>" + FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%SZ").encode() + rb"\g<2>", content)
            dst.writestr(zi, content)
    return out.getvalue()


def append_row(ws, values: list) -> None:
    """``ws.append(values)``, with every formula-like text value (:func:`analysis.formats.cells.formula_like`) made
    a text cell: data type 's' and Excel's quote-prefix style, value unchanged. Without this openpyxl stores
    ``=HYPERLINK(...)`` as a live formula, and Excel re-reads ``-2-3`` as one when the cell is edited."""
    ws.append(values)
    flagged = [j for j, v in enumerate(values, start=1) if formula_like(v)]
    if not flagged:
        return
    # the row append just wrote (ws.max_row scans every cell: quadratic over a sheet)
    row = ws._current_row
    for j in flagged:
        cell = ws.cell(row=row, column=j)
        cell.data_type = "s"
        cell.quotePrefix = True


def _cell(value: str, kind: str):
    if value == "" or value is None:
        return None
    if kind == "date":
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return value
    if kind == "integer":
        try:
            return int(value)
        except ValueError:
            return value
    return value


def tables_to_xlsx(frames: dict[str, pd.DataFrame], kinds: dict[str, dict[str, str]] | None = None) -> bytes:
    """One sheet per table, header in row 1, frozen. ``kinds[table][column]`` = 'date' or 'integer' writes
    those text values as real date / number cells, the way a spreadsheet program stores them."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    kinds = kinds or {}
    wb = Workbook()
    wb.remove(wb.active)
    for name, df in frames.items():
        ws = wb.create_sheet(name)
        cols = list(df.columns)
        append_row(ws, cols)
        for c in ws[1]:
            c.font = Font(bold=True)
        ws.freeze_panes = "A2"
        k = kinds.get(name, {})
        col_kinds = [k.get(c, "text") for c in cols]
        for row in df.itertuples(index=False):
            append_row(ws, [_cell(v, kind) for v, kind in zip(row, col_kinds)])
        for j, kind in enumerate(col_kinds, start=1):
            if kind == "date":
                for (cell,) in ws.iter_rows(min_row=2, min_col=j, max_col=j):
                    cell.number_format = "yyyy-mm-dd"
    wb.properties.creator = "analysis"
    wb.properties.created = FIXED_TIME
    wb.properties.modified = FIXED_TIME
    buf = io.BytesIO()
    wb.save(buf)
    return deterministic_zip(buf.getvalue())
