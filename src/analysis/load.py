"""Read coded tables from a folder of CSV files or from an XLSX workbook, changing as little as possible.

Every cell comes back as text exactly as the coder entered it (spreadsheet dates become YYYY-MM-DD, whole
numbers lose Excel's '.0'), with the file, sheet and row number the coder sees. Whatever makes the input
unusable (a missing table, an empty file, something that is not a table, wrong columns) is collected and
raised together as :class:`UnusableInputError`.
"""

from __future__ import annotations

import csv
import datetime as dt
import difflib
import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .codebook import TABLES, Codebook, load_codebook
from .problems import UnusableInputError, problem

ROW = "_row"  # the row number the coder sees (header = row 1)


@dataclass
class RawTable:
    """One coded table as entered: text cells, codebook column names, and ``_row``."""

    name: str
    frame: pd.DataFrame
    file: str = ""
    sheet: str = ""
    ignored_columns: list[str] = field(default_factory=list)
    blank_rows: int = 0
    too_wide_rows: list[int] = field(default_factory=list)


def _norm_header(h: object) -> str:
    s = "" if h is None else str(h)
    return re.sub(r"[\s\-]+", "_", s.strip().lower())


def _cell_text(v: object) -> str:
    if v is None or v is pd.NaT or v is pd.NA or (isinstance(v, float) and v != v):
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


def _grid(records: list[list[str]]) -> pd.DataFrame:
    width = max((len(r) for r in records), default=0)
    return pd.DataFrame([list(r) + [""] * (width - len(r)) for r in records], dtype=object)


def decode_text(data: bytes) -> str:
    """Text of a file saved as UTF-8 (with or without BOM) or, as Excel on Windows saves CSV, Windows-1252."""
    for enc in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")  # pragma: no cover - cp1252 decodes nearly everything


def _read_csv_grid(path: Path) -> pd.DataFrame:
    """Every record of a CSV file as text; position i is spreadsheet row i + 1."""
    data = path.read_bytes()
    if not data.strip():
        raise ValueError("the file is empty")
    if data[:4] == b"PK\x03\x04":
        raise ValueError("this is a zip file (an Excel workbook?), not a CSV file; give the .xlsx file instead")
    if b"\x00" in data[:65536]:
        raise ValueError("this is a binary file, not a CSV table")
    text = decode_text(data)
    sample = text[:4096]
    delim = ","
    if sample.count(";") > sample.count(",") and sample.count(";") > sample.count("\t"):
        delim = ";"
    elif sample.count("\t") > sample.count(","):
        delim = "\t"
    try:  # fast path: pandas' C parser
        grid = pd.read_csv(io.StringIO(text), header=None, dtype=str, keep_default_na=False, na_filter=False,
                           skip_blank_lines=False, sep=delim, engine="c", quotechar='"')
        return grid.fillna("").astype(object)
    except (pd.errors.ParserError, ValueError):
        pass  # ragged rows: the csv module reads them and the validator reports them
    try:
        return _grid(list(csv.reader(io.StringIO(text, newline=""), delimiter=delim)))
    except csv.Error as exc:
        raise ValueError(f"the file is not a readable CSV table ({exc})") from None


def _read_xlsx_sheets(path: Path) -> dict[str, list[list[str]]]:
    import openpyxl  # imported here: only workbook users pay for it

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise ValueError(f"not an Excel workbook that can be read ({type(exc).__name__}: {exc})") from None
    try:
        sheets = {}
        for ws in wb.worksheets:
            sheets[ws.title] = [[_cell_text(v) for v in row] for row in ws.iter_rows(values_only=True)]
        return sheets
    finally:
        wb.close()


def _grid_to_table(
    name: str, grid: pd.DataFrame, codebook: Codebook, file: str, sheet: str, problems: list[dict]
) -> RawTable | None:
    where = {"file": file, "sheet": sheet, "table": name}
    grid = grid.reset_index(drop=True)
    grid.columns = range(grid.shape[1])
    blank = (grid == "").all(axis=1) if grid.shape[1] else pd.Series(True, index=grid.index)
    if blank.all():
        problems.append(problem("empty_table", f"{name}: the table is empty (no header row)", **where))
        return None
    start = int(blank.idxmin())  # the first non-blank record is the header
    header = [_norm_header(h) for h in grid.iloc[start]]
    body = grid.iloc[start + 1 :]
    # drop trailing unnamed columns that are empty everywhere (spreadsheets often leave them)
    width = len(header)
    while width and header[width - 1] == "" and (body[width - 1] == "").all():
        width -= 1
    header = header[:width]
    expected = codebook.table(name).columns
    missing = [c for c in expected if c not in header]
    unknown = [h for h in header if h not in expected]
    dups = sorted({h for h in header if h and header.count(h) > 1})
    header_row = start + 1
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
    ignored = [h for h in header if h and h not in expected]
    body_blank = blank.iloc[start + 1 :]
    # values under no header (an unnamed column, or past the header's end) are row errors, never dropped
    headless = [i for i, h in enumerate(header) if not h] + list(range(width, grid.shape[1]))
    too_wide = (body[headless] != "").any(axis=1) if headless else pd.Series(False, index=body.index)
    rows = body[~body_blank]
    frame = pd.DataFrame({h: rows[i].to_numpy(dtype=object) for i, h in enumerate(header) if h in expected})
    frame = frame[expected]
    frame[ROW] = (rows.index.to_numpy() + 1).astype("int64")
    wide_rows = [int(i) + 1 for i in too_wide[too_wide & ~body_blank].index]
    return RawTable(name, frame, file, sheet, ignored, int(body_blank.sum()), wide_rows)


def load_coded_tables(path: str | Path, codebook: Codebook | None = None) -> dict[str, RawTable]:
    """Read the three coded tables from ``path``: a folder of ``<table>.csv`` files or an ``.xlsx`` workbook.

    Raises :class:`UnusableInputError` listing every problem that stops validation.
    """
    cb = codebook or load_codebook()
    path = Path(path)
    problems: list[dict] = []
    tables: dict[str, RawTable] = {}
    if not path.exists():
        raise UnusableInputError([problem("not_found", f"{path}: no such file or folder", file=str(path))])
    if path.is_dir():
        for name in TABLES:
            f = path / f"{name}.csv"
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
                grid = _read_csv_grid(f)
            except (ValueError, OSError) as exc:
                problems.append(problem("not_a_table", f"{f}: {exc}", file=str(f), table=name))
                continue
            t = _grid_to_table(name, grid, cb, str(f), "", problems)
            if t is not None:
                tables[name] = t
    elif path.suffix.lower() in {".xlsx", ".xlsm"}:
        try:
            sheets = _read_xlsx_sheets(path)
        except ValueError as exc:
            raise UnusableInputError([problem("not_a_table", f"{path}: {exc}", file=str(path))]) from None
        by_lower = {s.strip().lower(): s for s in sheets}
        for name in TABLES:
            sheet = by_lower.get(name)
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
            t = _grid_to_table(name, _grid(sheets[sheet]), cb, str(path), sheet, problems)
            if t is not None:
                tables[name] = t
    elif path.suffix.lower() == ".csv":
        raise UnusableInputError(
            [
                problem(
                    "not_a_table",
                    f"{path}: give the folder holding incidents.csv, persons.csv and charges.csv, not one file",
                    file=str(path),
                )
            ]
        )
    else:
        raise UnusableInputError(
            [
                problem(
                    "not_a_table",
                    f"{path}: not a folder of CSV files or an .xlsx workbook",
                    file=str(path),
                )
            ]
        )
    if problems:
        raise UnusableInputError(problems)
    return tables


def tables_from_frames(
    frames: dict[str, pd.DataFrame], source: str = "<memory>", codebook: Codebook | None = None
) -> dict[str, RawTable]:
    """Wrap in-memory frames (e.g. a REDCap import) as raw tables, with the same header checks as files.

    Row numbers are counted as in a spreadsheet of the frame (header = row 1).
    """
    cb = codebook or load_codebook()
    problems: list[dict] = []
    out = {}
    for name in TABLES:
        if name not in frames:
            problems.append(problem("missing_table", f"{source}: the {name} table is missing", file=source, table=name))
            continue
        df = frames[name]
        body = pd.DataFrame({i: df[c].map(_cell_text) for i, c in enumerate(df.columns)}, dtype=object)
        header = pd.DataFrame([[str(c) for c in df.columns]], dtype=object)
        t = _grid_to_table(name, pd.concat([header, body], ignore_index=True), cb, source, name, problems)
        if t is not None:
            out[name] = t
    if problems:
        raise UnusableInputError(problems)
    return out
