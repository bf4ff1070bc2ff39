"""Read coded tables from a folder of CSV files or from a workbook (.xlsx, .xlsm, .ods), changing as little as
possible and losing nothing.

Every cell comes back as text exactly as the coder entered it (spreadsheet dates become YYYY-MM-DD, whole
numbers lose Excel's '.0', serial-number dates in date columns become dates), with the file, sheet and row
number the coder sees. Every data row of the input becomes one row of the table: a row the reader cannot take
apart cleanly (a stray double quote, a line break inside a cell, too many or too few cells, a formula with no
saved value) is kept and carries a row problem naming its row and column, which the validator turns into a
rejection with the reason. Whatever makes the input unusable (a missing table, an empty, binary, damaged or
password-protected file, wrong columns) is collected and raised together as :class:`UnusableInputError`.

CSV files may be UTF-8 (with or without BOM), UTF-16 (with BOM) or Windows-1252, separated by ``,`` ``;`` or
tab; the separator is found from the header line (which must hold the codebook's column names), never from
cell text. Anything other than UTF-8 and commas is stated in a warning.
"""

from __future__ import annotations

import csv
import datetime as dt
import difflib
import gc
import io
import re
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..scheme.codebook import TABLES, Codebook, load_codebook
from .problems import UnusableInputError, problem

ROW = "_row"  # the row number the coder sees (header = row 1)

# the coding template's own sheets (see template.py): read by nobody, and not worth a warning
TEMPLATE_SHEETS = ("read me", "codebook", "lists")
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".ods", ".xls")
DELIMITERS = {",": "commas", ";": "semicolons", "\t": "tabs"}
SAVE_AS_CSV = "save it as 'CSV UTF-8 (Comma delimited)' (Excel) or 'Text CSV' with UTF-8 (LibreOffice)"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_LINE_END = re.compile(r"\r\n|\r|\n")


@dataclass
class RawTable:
    """One coded table as entered: text cells, codebook column names, and ``_row``.

    ``row_problems`` are problems of single data rows found while reading (each a dict with ``row``,
    ``variable``, ``rule``, ``message``, ``value``); the validator rejects those rows with the reason.
    ``notes`` are warnings about the file as a whole (problem records), reported with the validation.
    """

    name: str
    frame: pd.DataFrame
    file: str = ""
    sheet: str = ""
    ignored_columns: list[str] = field(default_factory=list)
    blank_rows: int = 0
    too_wide_rows: list[int] = field(default_factory=list)
    row_problems: list[dict] = field(default_factory=list)
    notes: list[dict] = field(default_factory=list)
    absent: bool = False  # an optional table the input does not have (no rows; a note says so)


class NoSavedValue(str):
    """A workbook cell holding a formula whose result was never saved (the text is the formula)."""


@dataclass
class _Record:
    """One record of the input: its first row/line number, its cells, and what was wrong with its form.

    ``issues`` are (cell position, rule, message); ``{col}`` in a message is replaced with the column's name."""

    row: int
    cells: list
    issues: list[tuple[int, str, str]] = field(default_factory=list)


@dataclass
class _Rows:
    """Records as parallel lists (cheap for large files): first row/line number, cells, and the form problems
    of the records that have any (position -> [(cell position, rule, message)])."""

    numbers: list[int] = field(default_factory=list)
    cells: list[list] = field(default_factory=list)
    issues: dict[int, list[tuple[int, str, str]]] = field(default_factory=dict)

    def add(self, rec: _Record) -> None:
        if rec.issues:
            self.issues[len(self.cells)] = rec.issues
        self.numbers.append(rec.row)
        self.cells.append(rec.cells)

    @classmethod
    def of(cls, records: list[_Record]) -> "_Rows":
        rows = cls()
        for r in records:
            rows.add(r)
        return rows


@contextmanager
def gc_paused():
    """Pause Python's cyclic garbage collector while millions of short-lived cells are built: it would scan them
    again and again (tripling the time of a large file). Reference counting still frees everything."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _norm_header(h: object) -> str:
    s = "" if h is None else str(h)
    return re.sub(r"[\s\-]+", "_", s.replace("\ufeff", "").strip().lower())


def _cell_text(v: object) -> str:
    if v is None or v is pd.NaT or v is pd.NA or (isinstance(v, float) and v != v):
        return ""
    if isinstance(v, NoSavedValue):
        return ""
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, dt.datetime):
        return v.date().isoformat() if v.time() == dt.time(0) else v.isoformat(sep=" ")
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() else repr(v)
    return str(v)


def column_label(position: int) -> str:
    """'column 22 (V)' for the 0-based cell position 21: how a coder finds a column with no usable header."""
    n, letters = position + 1, ""
    while n:
        n, r = divmod(n - 1, 26)
        letters = chr(65 + r) + letters
    return f"column {position + 1} ({letters})"


def _show(v: object, limit: int = 40) -> str:
    s = str(v).replace("\r", "\\r").replace("\n", "\\n")
    return s if len(s) <= limit else s[: limit - 3] + "..."


def _rows_text(rows: list[int]) -> str:
    """'5, 9-12' for rows [5, 9, 10, 11, 12]."""
    runs: list[list[int]] = []
    for r in sorted(rows):
        if runs and r == runs[-1][1] + 1:
            runs[-1][1] = r
        else:
            runs.append([r, r])
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in runs)


# --- text files --------------------------------------------------------------------------------------------


def decode_bytes(data: bytes) -> tuple[str, str]:
    """Text of a file and the encoding it was read as: UTF-8 (with or without BOM), UTF-16 (with BOM, or plain
    ASCII text without one), else Windows-1252 (how Excel on Windows saves 'CSV'). Raises ValueError, in words
    for a coder, for UTF-32 and for binary data."""
    nul = b"\x00" in data[:4000]
    if data.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")) or (nul and _looks_utf32(data)):
        raise ValueError("the file is saved as UTF-32 text, which this program does not read; open it and "
                         + SAVE_AS_CSV)
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return data[3:].decode("utf-8"), "UTF-8"
        except UnicodeDecodeError:
            data = data[3:]
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            raise ValueError(f"the file starts like UTF-16 text but is damaged; open it and {SAVE_AS_CSV}") from None
        if "\x00" not in text:
            return text, "UTF-16"
    elif nul:
        enc = _utf16_without_bom(data)
        if enc:
            return data.decode(enc), "UTF-16"
    if b"\x00" in data:
        raise ValueError("this is a binary file, not a CSV table")
    for enc, name in (("utf-8", "UTF-8"), ("cp1252", "Windows-1252"), ("latin-1", "Latin-1")):
        try:
            return data.decode(enc), name
        except UnicodeDecodeError:
            continue
    raise AssertionError("latin-1 decodes every byte")  # pragma: no cover


def _looks_utf32(data: bytes) -> bool:
    head = data[:4000]
    n = len(head) // 4 * 4
    if n < 8:
        return False
    quads = [head[i : i + 4] for i in range(0, n, 4)]
    le = sum(q[1:] == b"\x00\x00\x00" for q in quads)
    be = sum(q[:3] == b"\x00\x00\x00" for q in quads)
    return max(le, be) >= 0.9 * len(quads)


def _utf16_without_bom(data: bytes) -> str | None:
    """'utf-16-le' / 'utf-16-be' when the bytes are mostly ASCII text saved as UTF-16 without a BOM."""
    head = data[:4000]
    n = len(head) // 2 * 2
    if n < 8 or len(data) % 2:
        return None
    odd_zero = sum(head[i + 1] == 0 for i in range(0, n, 2))
    even_zero = sum(head[i] == 0 for i in range(0, n, 2))
    for enc, zeros, other in (("utf-16-le", odd_zero, even_zero), ("utf-16-be", even_zero, odd_zero)):
        if zeros >= 0.9 * (n // 2) and other == 0:
            try:
                text = data.decode(enc)
            except UnicodeDecodeError:
                return None
            return enc if "\x00" not in text else None
    return None


def decode_text(data: bytes) -> str:
    """Text of a file saved as UTF-8 (with or without BOM), UTF-16 with BOM, or Windows-1252."""
    try:
        return decode_bytes(data)[0]
    except ValueError:  # UTF-32 or binary: decoded as before, for callers that judge the text themselves
        for enc in ("utf-8-sig", "cp1252"):
            try:
                return data.decode(enc)
            except UnicodeDecodeError:
                continue
        return data.decode("latin-1")


def _split_line(line: str, delim: str) -> list[str]:
    return line.split(delim) if '"' not in line else _lenient(line, delim)


def _detect_delimiter(header_line: str, expected: list[str]) -> str:
    """The delimiter under which the header line holds the most codebook column names (ties: comma first);
    when it holds none under any, the delimiter the header line uses most."""
    want = set(expected)
    scores = {d: len({_norm_header(h) for h in _split_line(header_line, d)} & want) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: scores[d])  # max keeps the first of equals: ',' then ';' then tab
    if scores[best] > 0:
        return best
    counts = {d: header_line.count(d) for d in DELIMITERS}
    most = max(DELIMITERS, key=lambda d: counts[d])
    return most if counts[most] else ","


def _open_quote_after(line: str, delim: str, inside: bool) -> bool:
    """Whether a quoted cell is still open at the end of ``line`` (read the way a CSV reader reads it:
    a double quote opens a quoted cell only at the start of a cell). ``inside``: open at its start."""
    state = 2 if inside else 0  # 0 cell start, 1 unquoted cell, 2 in quotes, 3 quote seen in quotes
    for ch in line:
        if state == 0:
            state = 2 if ch == '"' else 0 if ch == delim else 1
        elif state == 1:
            state = 0 if ch == delim else 1
        elif state == 2:
            state = 3 if ch == '"' else 2
        else:
            state = 2 if ch == '"' else 0 if ch == delim else 1
    return state == 2


def _strict(text: str, delim: str) -> list[list[str]] | None:
    try:
        return list(csv.reader(io.StringIO(text, newline=""), delimiter=delim, strict=True))
    except csv.Error:
        return None


def _lenient(text: str, delim: str) -> list[str]:
    try:
        return next(csv.reader(io.StringIO(text, newline=""), delimiter=delim), [""])
    except csv.Error:  # pragma: no cover - the lenient reader only fails on NUL or a huge field
        return text.split(delim)


def _quote_position(cells: list[str]) -> int:
    """The first cell with an unmatched (or any) double quote: where to point the coder."""
    for k, c in enumerate(cells):
        if c.count('"') % 2:
            return k
    return next((k for k, c in enumerate(cells) if '"' in c), 0)


STRAY_QUOTE = (
    "{col} holds a double quote (\") that is never closed ('{value}'), so a spreadsheet or CSV reader runs the "
    "lines after it into this cell. Delete the stray quote (or add the closing one); this line was read on its "
    "own, and so was every line after it."
)
MISPLACED_QUOTE = (
    "{col} has a double quote (\") where CSV does not allow one ('{value}'). Delete it; a value that needs "
    "quotes is written correctly when the spreadsheet program saves the file."
)
LINE_BREAK = (
    "{col} holds a line break, so this row runs over lines {first}-{last} of the file. A coded value fits on one "
    "line: delete the line break."
)


def _quote_record(lineno: int, line: str, delim: str, width: int, unclosed: bool) -> _Record:
    """A line read on its own because of a quote problem: cells split so they line up best with the header."""
    literal = line.split(delim)
    lenient = _lenient(line, delim)
    if abs(len(lenient) - width) < abs(len(literal) - width):
        cells = lenient
        k = len(cells) - 1 if unclosed else min(_quote_position(literal), len(cells) - 1)
    else:
        cells, k = literal, _quote_position(literal)
    msg = (STRAY_QUOTE if unclosed else MISPLACED_QUOTE).replace("{value}", _show(cells[k]))
    return _Record(lineno, cells, [(k, "stray_quote", msg)])


def _parse_lines(lines: list[str], first: int, delim: str, width: int, out: _Rows) -> None:
    """Records of ``lines`` (line ``first`` onwards): one per line, except a quoted cell that holds a line break
    and closes cleanly in a record of the header's width (it becomes one record, with a problem). A quote that
    would swallow the lines after it is a problem of its own line only. A quoted cell holding both a line break
    and the separator is read line by line (each line rejected with the reason): no coded value holds both,
    but two stray quotes on two rows do."""
    numbers, cells_of = out.numbers, out.cells
    i, n = 0, len(lines)
    while i < n:
        line, lineno = lines[i], first + i
        if '"' not in line:
            numbers.append(lineno)
            cells_of.append(line.split(delim))
            i += 1
            continue
        if not _open_quote_after(line, delim, False):
            parsed = _strict(line, delim)
            if parsed is not None and len(parsed) == 1:
                out.add(_Record(lineno, parsed[0]))
            else:
                out.add(_quote_record(lineno, line, delim, width, unclosed=False))
            i += 1
            continue
        j, inside = i + 1, True
        while j < n and inside:
            inside = _open_quote_after(lines[j], delim, True)
            j += 1
        if not inside:  # the quoted cell closes on line j - 1: a line break inside a cell, or two stray quotes?
            parsed = _strict("\n".join(lines[i:j]), delim)
            cells = parsed[0] if parsed is not None and len(parsed) == 1 else None
            # One record only if it has the header's cells and no cell holding a line break also holds the
            # separator. Two stray quotes that pair up always enclose a separator (they sit in cells of two
            # rows), or, when they enclose none, give a record of 2 x width - 1 cells.
            if cells is not None and len(cells) >= width and not any(cells[width:]) \
                    and not any("\n" in c and delim in c for c in cells):
                issues = [(k, "line_break_in_cell", LINE_BREAK.format(col="{col}", first=lineno, last=first + j - 1))
                          for k, c in enumerate(cells) if "\n" in c]
                out.add(_Record(lineno, cells, issues))
                i = j
                continue
        out.add(_quote_record(lineno, line, delim, width, unclosed=True))
        i += 1


def _read_csv_records(data: bytes, expected: list[str]) -> tuple[_Rows, list[tuple[str, str]]]:
    """Every record of a CSV file with its line number, and notes [(rule, message)] on how it was read.
    Raises ValueError (a message for the coder) when the file is not a CSV table."""
    if not data.strip():
        raise ValueError("the file is empty")
    if data[:4] == b"PK\x03\x04":
        raise ValueError("this is a zip file (an Excel workbook?), not a CSV file; give the .xlsx file instead")
    if data.startswith(_OLE_MAGIC):
        raise ValueError("this is an Excel 97-2003 workbook or another Office file, not a CSV file; open it and "
                         + SAVE_AS_CSV)
    text, encoding = decode_bytes(data)
    if not text.strip():
        raise ValueError("the file is empty")
    lines = _LINE_END.split(text)
    if lines and lines[-1] == "":
        lines.pop()
    notes = []
    if encoding != "UTF-8":
        notes.append(("encoding", f"the file is saved as {encoding} text, not UTF-8; it was read as {encoding}. "
                      f"Check that accented letters look right, and next time {SAVE_AS_CSV}."))
    h = next((k for k, x in enumerate(lines) if x.strip(" \t,;")), None)
    if h is None:
        raise ValueError("the file has no header row (it holds only separators and blank lines)")
    delim = _detect_delimiter(lines[h], expected)
    if delim != ",":
        notes.append(("delimiter", f"the cells are separated by {DELIMITERS[delim]} ('{delim}' rather than ','); "
                      "the file was read that way, because its header row (row "
                      f"{h + 1}) splits into the codebook's column names with it."))
    header = _lenient(lines[h], delim)
    width = len(header)
    while width and not header[width - 1].strip():
        width -= 1
    rows = _Rows(list(range(1, h + 2)), [[""] for _ in range(h)] + [header])  # blank lines above the header
    body = lines[h + 1 :]
    if '"' in text:
        _parse_lines(body, h + 2, delim, max(width, 1), rows)
    else:  # no quote anywhere: every line is one record
        rows.numbers += range(h + 2, h + 2 + len(body))
        rows.cells += [x.split(delim) for x in body]
    return rows, notes


# --- workbooks ---------------------------------------------------------------------------------------------


@dataclass
class _Sheet:
    records: list[_Record]
    hidden_rows: set[int] = field(default_factory=set)


def _workbook_kind(path: Path) -> str:
    """'xlsx' or 'ods' from the file's content; ValueError in words for anything else."""
    with open(path, "rb") as fh:
        head = fh.read(8)
    if not head:
        raise ValueError("the file is empty")
    if head.startswith(_OLE_MAGIC):
        data = path.read_bytes()
        if "EncryptedPackage".encode("utf-16-le") in data:
            raise ValueError("the workbook is password-protected (encrypted), so it cannot be read; open it, save an "
                             "unprotected copy (File > Info > Protect Workbook > Encrypt with Password: clear the "
                             "password) and validate that copy")
        raise ValueError("this is an Excel 97-2003 workbook (.xls), which this program does not read; open it in "
                         "Excel or LibreOffice and save it as an Excel Workbook (.xlsx)")
    if head[:4] != b"PK\x03\x04":
        raise ValueError("not an Excel workbook that can be read (the file is not a zip-based workbook); give "
                         "the .xlsx file as saved by Excel or LibreOffice")
    try:
        with zipfile.ZipFile(path) as z:
            names = set(z.namelist())
            if "mimetype" in names and z.read("mimetype").strip() == b"application/vnd.oasis.opendocument.spreadsheet":
                return "ods"
    except (zipfile.BadZipFile, OSError, ValueError, KeyError, EOFError, NotImplementedError) as exc:
        raise ValueError(f"not an Excel workbook that can be read: the file is damaged ({exc}); open it in Excel or "
                         "LibreOffice and save it again as .xlsx") from None
    if "xl/workbook.xml" not in names:
        raise ValueError("not an Excel workbook that can be read: it is a zip file without a workbook inside; give "
                         "the .xlsx file as saved by Excel or LibreOffice")
    return "xlsx"


def _damaged(exc: Exception) -> ValueError:
    return ValueError(f"not an Excel workbook that can be read: the file is damaged ({type(exc).__name__}: "
                      f"{_show(exc, 120)}); open it in Excel or LibreOffice and save it again as .xlsx")


def _read_xlsx_sheets(path: Path) -> tuple[dict[str, _Sheet], dt.datetime]:
    """Every sheet's records (rows as the coder numbers them) and the workbook's date epoch.

    The stored sheet dimension is never trusted: every row in the sheet's XML is read. A formula cell is read
    as its saved value; one with no saved value becomes :class:`NoSavedValue`."""
    import openpyxl
    from openpyxl.worksheet._reader import FORMULA_TAG, VALUE_TAG, WorkSheetParser

    class Parser(WorkSheetParser):
        def parse_cell(self, element):
            cell = super().parse_cell(element)
            if cell["value"] is None and element.find(FORMULA_TAG) is not None:
                # a text result saved as '' (t="str" with a <v>) is a blank; no saved result at all is a problem
                if not (element.get("t") == "str" and element.find(VALUE_TAG) is not None):
                    cell["value"] = NoSavedValue("=" + (element.findtext(FORMULA_TAG) or ""))
            return cell

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - whatever a damaged file raises, the coder gets one message
        raise _damaged(exc) from None
    try:
        sheets = {}
        for ws in wb.worksheets:
            with wb._archive.open(ws._worksheet_path) as src:
                parser = Parser(src, ws._shared_strings, data_only=True, epoch=wb.epoch,
                                date_formats=wb._date_formats, timedelta_formats=wb._timedelta_formats)
                records = []
                for idx, cells in parser.parse():
                    values = {c["column"]: c["value"] for c in cells if c["value"] is not None}
                    width = max(values, default=0)
                    records.append(_Record(idx, [values.get(k) for k in range(1, width + 1)]))
                hidden = {int(r) for r, a in parser.row_dimensions.items() if a.get("hidden") in ("1", "true")}
            sheets[ws.title] = _Sheet(records, hidden)
        return sheets, wb.epoch
    except Exception as exc:  # noqa: BLE001
        raise _damaged(exc) from None
    finally:
        wb.close()


def _read_ods_sheets(path: Path) -> tuple[dict[str, _Sheet], dt.datetime]:
    try:
        # na_filter=False: a cell reading 'NA', 'n/a' or 'null' is what the coder typed, not a blank
        book = pd.read_excel(path, sheet_name=None, header=None, engine="odf", dtype=object, na_filter=False)
    except ImportError:
        raise ValueError("reading an .ods workbook needs the odfpy package (pip install odfpy); or open it in "
                         "LibreOffice and save it as .xlsx") from None
    except Exception as exc:  # noqa: BLE001
        raise _damaged(exc) from None
    try:
        hidden = _ods_hidden_rows(path)
    except Exception as exc:  # noqa: BLE001
        raise _damaged(exc) from None
    sheets = {}
    for title, df in book.items():
        rows = [_Record(k + 1, list(r)) for k, r in enumerate(df.itertuples(index=False, name=None))]
        sheets[str(title)] = _Sheet(rows, hidden.get(str(title), set()))
    return sheets, dt.datetime(1899, 12, 30)


def _ods_hidden_rows(path: Path) -> dict[str, set[int]]:
    """Row numbers (as LibreOffice shows them) of the hidden or filtered-out rows of each sheet of an .ods file."""
    from defusedxml.ElementTree import iterparse  # odfpy's own dependency: there whenever .ods can be read

    ns = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
    hidden: dict[str, set[int]] = {}
    sheet, row, depth = None, 0, 0
    with zipfile.ZipFile(path) as z, z.open("content.xml") as f:
        for event, el in iterparse(f, events=("start", "end")):
            if el.tag == ns + "table":
                depth += 1 if event == "start" else -1
                if event == "start" and depth == 1:
                    sheet, row = el.get(ns + "name", ""), 0
                    hidden.setdefault(sheet, set())
            elif el.tag == ns + "table-row" and event == "end" and depth == 1:
                repeat = int(el.get(ns + "number-rows-repeated", "1"))
                if el.get(ns + "visibility", "visible") != "visible" and repeat <= 10_000:
                    hidden[sheet].update(range(row + 1, row + repeat + 1))
                row += repeat
                el.clear()
    return hidden


def _serial_date(v: float, epoch: dt.datetime) -> str | None:
    """A spreadsheet serial number (days since the workbook's epoch) as a date, or None when it cannot be one."""
    from openpyxl.utils.datetime import from_excel

    if not 1 <= v < 2958466:
        return None
    try:
        d = from_excel(v, epoch)
    except (OverflowError, ValueError):  # pragma: no cover - the range check keeps it in bounds
        return None
    return _cell_text(d) if isinstance(d, dt.datetime) else None


# --- one table ---------------------------------------------------------------------------------------------


def _column(values: tuple) -> np.ndarray:
    """One column's cells as an object array. In a long column, equal values share one string, and the strings
    of a column of mostly different values (ids) are made anew one after another, so they sit together in
    memory: read row by row they are scattered, which makes every later step on the column (validation,
    derivation) about a third slower and the table twice as large."""
    arr = np.empty(len(values), dtype=object)
    arr[:] = values
    if len(values) >= 2000:
        codes, uniques = pd.factorize(arr, use_na_sentinel=False)
        if len(uniques) < len(values) // 2:  # a coded column: a few values, each held once
            return uniques[codes]
        joined = "\x00".join(values)
        if joined.count("\x00") == len(values) - 1:  # no cell holds the separator
            arr[:] = joined.split("\x00")
    return arr


@dataclass
class _Header:
    """A table's header row: its row number, the names up to the last non-blank one, and where the codebook's
    columns are."""

    row: int
    names: list[str]
    pos: dict[str, int]  # codebook column -> position
    unnamed: list[int]  # positions with an empty header cell

    @property
    def width(self) -> int:
        return len(self.names)

    @property
    def last_coded(self) -> int:
        """A row must reach the last codebook column."""
        return max(self.pos.values())

    def colname(self, k: int) -> str:
        return self.names[k] if k < self.width and self.names[k] else column_label(k)


def _records_to_table(
    name: str,
    records: _Rows,
    codebook: Codebook,
    file: str,
    sheet: str,
    problems: list[dict],
    *,
    short_rows: bool = False,
    text_cells: bool = False,
    epoch: dt.datetime | None = None,
    hidden_rows: set[int] | None = None,
    notes: list[tuple[str, str]] = (),
) -> RawTable | None:
    """The table held in ``records`` (header = first non-blank record), or None after adding the header's
    problems to ``problems``. ``short_rows``: a row with fewer cells than the header is a problem (CSV).
    ``text_cells``: every cell is already text (CSV, frames), so none needs converting. ``records`` is consumed
    (its cells are cleared once the columns are built)."""
    where = {"file": file, "sheet": sheet, "table": name}
    all_cells, issues = records.cells, records.issues

    def blank(i: int) -> bool:
        if i in issues:
            return False
        if text_cells:
            return not "".join(all_cells[i]).strip()
        return all(not isinstance(c, NoSavedValue) and _cell_text(c).strip() == "" for c in all_cells[i])

    start = next((i for i in range(len(all_cells)) if not blank(i)), None)
    if start is None:
        problems.append(problem("empty_table", f"{name}: the table is empty (no header row)", **where))
        return None
    hdr = _read_header(name, all_cells[start], records.numbers[start], codebook, where, problems)
    if hdr is None:
        return None
    expected = codebook.table(name).columns
    width, last_coded = hdr.width, hdr.last_coded
    index = [i for i in range(start + 1, len(all_cells)) if not blank(i)]
    n_blank = len(all_cells) - start - 1 - len(index)
    if text_cells:
        data = [all_cells[i] for i in index]
    else:
        data = _as_text([all_cells[i] for i in index], hdr, codebook.table(name), epoch)
    numbers = [records.numbers[i] for i in index]

    # rows whose form needs a closer look: read with a problem, cells under no header, too few cells, formulas
    def needs_look(j: int) -> bool:
        c = data[j]
        return (index[j] in issues or (len(c) > width and any(c[width:])) or (short_rows and len(c) <= last_coded)
                or any(k < len(c) and c[k] for k in hdr.unnamed)
                or (not text_cells and any(isinstance(v, NoSavedValue) for v in all_cells[index[j]])))

    look = {j: (numbers[j], data[j], all_cells[index[j]], issues.get(index[j], []))
            for j in range(len(data)) if needs_look(j)}
    size = last_coded + 1
    fixed = [c if len(c) == size else (c + [""] * (size - len(c)) if len(c) < size else c[:size]) for c in data]
    del data
    all_cells.clear()  # the rows are consumed: from here on each column is held once, as an array
    by_position = list(zip(*fixed)) if fixed else [()] * size
    del fixed
    frame = pd.DataFrame({h: _column(by_position[hdr.pos[h]]) for h in expected}, columns=expected)
    del by_position
    frame[ROW] = np.array(numbers, dtype="int64")

    row_problems = _form_problems(look.values(), hdr, short_rows)
    wide_rows = sorted({p["row"] for p in row_problems if p["rule"] in ("too_many_cells", "no_header")})
    table_notes = _table_notes(notes, hdr.row, numbers, hidden_rows, sheet, where)
    ignored = [h for h in hdr.names if h and h not in expected]
    return RawTable(name, frame, file, sheet, ignored, n_blank, wide_rows, row_problems, table_notes)


def _as_text(rows: list[list], hdr: _Header, table, epoch: dt.datetime | None) -> list[list[str]]:
    """Workbook rows as text (:func:`_cell_text`); with the workbook's ``epoch``, a serial number in a date column
    becomes a date."""
    kinds = {v.name: v.type for v in table.variables}
    col_kind = [kinds.get(h, "") for h in hdr.names]
    width = hdr.width

    def text(v: object, k: int) -> str:
        if epoch is not None and k < width and col_kind[k] == "date" and isinstance(v, (int, float)) \
                and not isinstance(v, bool):
            d = _serial_date(v, epoch)
            if d is not None:
                return d
        return _cell_text(v)

    return [[text(v, k) for k, v in enumerate(r)] for r in rows]


def _read_header(name: str, cells: list, header_row: int, codebook: Codebook, where: dict,
                 problems: list[dict]) -> _Header | None:
    """The header of table ``name``, or None after adding to ``problems`` what makes it unusable (a column
    twice, a codebook column missing)."""
    header = [_norm_header(_cell_text(h)) for h in cells]
    width = len(header)
    while width and header[width - 1] == "":
        width -= 1
    header = header[:width]
    expected = codebook.table(name).columns
    missing = [c for c in expected if c not in header]
    unknown = [h for h in header if h not in expected]
    dups = sorted({h for h in header if h and header.count(h) > 1})
    if dups:
        problems.append(
            problem(
                "duplicate_column",
                f"{name}: column(s) {', '.join(dups)} appear more than once in the header (row {header_row}); "
                "keep one of each",
                row=header_row,
                variable=", ".join(dups),
                **where,
            )
        )
    if missing:
        hints = []
        for m in missing:
            close = difflib.get_close_matches(m, [u for u in unknown if u], n=1, cutoff=0.6)
            hints.append(f"{m} (is '{close[0]}' a misspelling of it?)" if close else m)
        found = [h for h in header if h in expected]
        what = (
            "it does not look like this table at all: none of the expected columns is there"
            if not found
            else "the header lacks required column(s)"
        )
        problems.append(
            problem(
                "missing_column",
                f"{name}: {what}: {'; '.join(hints)}. The header (row {header_row}) must hold the codebook's "
                f"column names: {', '.join(expected)}",
                row=header_row,
                variable=", ".join(missing),
                **where,
            )
        )
    if missing or dups:
        return None
    return _Header(row=header_row, names=header, pos={h: k for k, h in enumerate(header) if h in expected},
                   unnamed=[k for k in range(width) if not header[k]])


def _form_problems(look, hdr: _Header, short_rows: bool) -> list[dict]:
    """The row problems of the rows whose form needed a closer look (``(row number, cells as text, cells as
    read, reading issues)`` each): reading issues, formulas without a saved value, values under no header, too
    many or (``short_rows``) too few cells."""
    width = hdr.width
    row_problems: list[dict] = []
    for number, cells, raw_cells, rec_issues in look:

        def add(k: int, rule: str, message: str, value: str) -> None:
            row_problems.append({"row": number, "variable": hdr.colname(k), "rule": rule, "message": message,
                                 "value": value})

        for k, rule, msg in rec_issues:
            add(k, rule, msg.replace("{col}", hdr.colname(k)), cells[k] if k < len(cells) else "")
        for k, v in enumerate(raw_cells):
            if isinstance(v, NoSavedValue):
                add(k, "formula_without_value",
                    f"this cell holds a formula ({_show(v, 60)}) with no saved value, so what it shows cannot be "
                    "read. Open the workbook in Excel or LibreOffice, recalculate and save it, or type the value.",
                    str(v))
        for k in hdr.unnamed:
            if k < len(cells) and cells[k] != "":
                add(k, "no_header", f"there is a value ('{_show(cells[k])}') in {column_label(k)}, whose header cell "
                    "is empty. Write the column's codebook name in the header, or move the value into the right "
                    "column.", cells[k])
        extra = [k for k in range(width, len(cells)) if cells[k] != ""]
        if extra:
            k = extra[0]
            more = f" (and {len(extra) - 1} more cell(s) after it)" if len(extra) > 1 else ""
            add(k, "too_many_cells", f"there is a value ('{_show(cells[k])}') in {column_label(k)}, which has no "
                f"header{more}: the row has more cells than the header has names. Move it into the right column or "
                "delete it.", cells[k])
        if short_rows and len(cells) <= hdr.last_coded and not rec_issues:
            k = min(p for p in hdr.pos.values() if p >= len(cells))
            add(k, "too_few_cells", f"the row has {len(cells)} cells but the header has {width} names, so "
                f"{hdr.names[k]} and the cells after it are missing: a separator is missing or two cells ran "
                "together, and values may be in the wrong columns. Check the row against the header.", "")
    return row_problems


def _table_notes(notes: list[tuple[str, str]], header_row: int, numbers: list[int], hidden_rows: set[int] | None,
                 sheet: str, where: dict) -> list[dict]:
    """Warnings about the table as a whole: the reader's notes (separator, encoding) and hidden rows."""
    table_notes = [problem(rule, msg, severity="warning", row=header_row if rule == "delimiter" else None, **where)
                   for rule, msg in notes]
    hidden = sorted(set(numbers) & (hidden_rows or set()))
    if hidden:
        table_notes.append(problem(
            "hidden_rows",
            f"row(s) {_rows_text(hidden)} of sheet '{sheet}' are hidden in the workbook; they were read and "
            "validated like the others. Unhide them (select all, right-click a row number, Unhide) to see them.",
            severity="warning", row=hidden[0], **where))
    return table_notes


# --- the tables ----------------------------------------------------------------------------------------------


def absent_table(name: str, cb: Codebook, file: str = "", sheet: str = "", where: str = "") -> RawTable:
    """An optional table the input does not have: no rows, the codebook's columns, and a note saying what that
    means (``where``: where it was looked for, in words)."""
    frame = pd.DataFrame({c: pd.Series([], dtype=object) for c in cb.table(name).columns})
    frame[ROW] = np.array([], dtype="int64")
    label = cb.table(name).label
    note = problem(
        "optional_table_absent",
        f"there is no {name} table{f' ({where})' if where else ''}. {label} are optional: the other tables were "
        f"checked without them, and the analysis leaves them out (its {name} variables are blank and the {name} "
        f"tables are not made). To add them, put {name}.csv beside the other tables, or a sheet '{name}' in the "
        "workbook.",
        severity="note", file=file, sheet=sheet, table=name)
    return RawTable(name, frame, file, sheet, notes=[note], absent=True)


def _unusable(path: Path, message: str) -> UnusableInputError:
    return UnusableInputError([problem("not_a_table", f"{path}: {message}", file=str(path))])


def _load_folder(path: Path, cb: Codebook, problems: list[dict]) -> dict[str, RawTable]:
    tables: dict[str, RawTable] = {}
    for name in TABLES:
        f = path / f"{name}.csv"
        if not f.exists() and name in cb.optional_tables:
            tables[name] = absent_table(name, cb, str(f))
            continue
        if not f.exists():
            others = sorted(p.name for p in path.glob("*.csv"))
            problems.append(
                problem(
                    "missing_table",
                    f"{f}: the {name} table is missing; expected {name}.csv in {path}"
                    + (f" (found: {', '.join(others)})" if others else ""),
                    file=str(f),
                    table=name,
                )
            )
            continue
        try:
            if f.is_dir():
                raise ValueError("this is a folder, not a CSV file")
            records, notes = _read_csv_records(f.read_bytes(), cb.table(name).columns)
        except (ValueError, OSError) as exc:
            problems.append(problem("not_a_table", f"{f}: {exc}", file=str(f), table=name))
            continue
        t = _records_to_table(name, records, cb, str(f), "", problems, short_rows=True, text_cells=True, notes=notes)
        if t is not None:
            tables[name] = t
    return tables


def _load_workbook(path: Path, cb: Codebook, problems: list[dict]) -> dict[str, RawTable]:
    try:
        kind = _workbook_kind(path)
        sheets, epoch = _read_ods_sheets(path) if kind == "ods" else _read_xlsx_sheets(path)
    except (ValueError, OSError) as exc:
        raise _unusable(path, str(exc)) from None
    by_lower = {s.strip().lower(): s for s in sheets}
    tables: dict[str, RawTable] = {}
    for name in TABLES:
        sheet = by_lower.get(name)
        same = [s for s in sheets if s.strip().lower() == name]
        if len(same) > 1:
            problems.append(
                problem(
                    "duplicate_sheet",
                    f"{path}: the workbook has {len(same)} sheets for the {name} table "
                    f"({', '.join(repr(s) for s in same)}); keep one sheet per table",
                    file=str(path),
                    table=name,
                )
            )
            continue
        if sheet is None and name in cb.optional_tables:
            tables[name] = absent_table(name, cb, str(path), where=f"no sheet named '{name}' in the workbook")
            continue
        if sheet is None:
            problems.append(
                problem(
                    "missing_table",
                    f"{path}: the workbook has no sheet named '{name}' (sheets: {', '.join(sheets)})",
                    file=str(path),
                    table=name,
                )
            )
            continue
        s = sheets[sheet]
        t = _records_to_table(name, _Rows.of(s.records), cb, str(path), sheet, problems, epoch=epoch,
                              hidden_rows=s.hidden_rows)
        if t is not None:
            tables[name] = t
    extra = [s for s in sheets if s.strip().lower() not in (*TABLES, *TEMPLATE_SHEETS)]
    if extra and tables:
        first = next(iter(tables.values()))
        first.notes.append(problem(
            "extra_sheet",
            f"the workbook has sheet(s) {', '.join(repr(s) for s in extra)} besides {', '.join(TABLES[:-1])} and "
            f"{TABLES[-1]}; they were not read. If they hold coded rows, move the rows to the right sheet.",
            severity="warning", file=str(path), sheet=extra[0]))
    return tables


def load_coded_tables(path: str | Path, codebook: Codebook | None = None) -> dict[str, RawTable]:
    """Read the coded tables from ``path``: a folder of ``<table>.csv`` files or a workbook (``.xlsx``,
    ``.xlsm`` or ``.ods``) with one sheet per table. An optional table (outcomes) that is not there comes back
    as an empty table marked ``absent``, with a note.

    Raises :class:`UnusableInputError` listing every problem that stops validation.
    """
    cb = codebook or load_codebook()
    path = Path(path)
    problems: list[dict] = []
    if not path.exists():
        raise UnusableInputError([problem("not_found", f"{path}: no such file or folder", file=str(path))])
    if path.is_dir():
        with gc_paused():
            tables = _load_folder(path, cb, problems)
    elif path.suffix.lower() in WORKBOOK_SUFFIXES:
        with gc_paused():
            tables = _load_workbook(path, cb, problems)
    elif path.suffix.lower() == ".csv":
        raise _unusable(path, "give the folder holding incidents.csv, persons.csv and charges.csv, not one file")
    else:
        raise _unusable(path, "not a folder of CSV files or a workbook (.xlsx, .xlsm or .ods); give the folder "
                        "holding incidents.csv, persons.csv and charges.csv, or the workbook")
    if problems:
        raise UnusableInputError(problems)
    return tables


def tables_from_frames(
    frames: dict[str, pd.DataFrame], source: str = "<memory>", codebook: Codebook | None = None
) -> dict[str, RawTable]:
    """Wrap in-memory frames (e.g. a REDCap import) as raw tables, with the same header checks as files. An
    optional table not in ``frames`` is absent (empty, with a note).

    Row numbers are counted as in a spreadsheet of the frame (header = row 1).
    """
    cb = codebook or load_codebook()
    problems: list[dict] = []
    out = {}
    for name in TABLES:
        if name not in frames and name in cb.optional_tables:
            out[name] = absent_table(name, cb, source, where=f"not in {source}")
            continue
        if name not in frames:
            problems.append(problem("missing_table", f"{source}: the {name} table is missing", file=source, table=name))
            continue
        df = frames[name]
        with gc_paused():
            records = _Rows(list(range(1, len(df) + 2)), [[str(c) for c in df.columns]]
                            + [[_cell_text(v) for v in row] for row in df.itertuples(index=False, name=None)])
            t = _records_to_table(name, records, cb, source, name, problems, text_cells=True)
        if t is not None:
            out[name] = t
    if problems:
        raise UnusableInputError(problems)
    return out
