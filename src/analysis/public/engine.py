"""The public record on an embedded analytical engine (DuckDB): a file of any size read once, in the engine.

:func:`scan_public` returns what ``select_prostitution(load_public(path))`` returns (the standard frame of the
PROSTITUTION / human-trafficking records, the same rows, values, types and messages) without building the
standard frame of the whole file. One pass of DuckDB over the file, with only the columns the form maps,

- numbers every record as the pandas loader does (the spreadsheet row, header = 1; the JSON record number),
- counts the records read and the records the form drops (``keep_rows``),
- keeps the rows that *may* be of interest: category or description naming prostitution or trafficking in any
  case, or not plain ASCII (a superset of :func:`analysis.public.load.is_prostitution`), and every row whose date
  or time is not certainly valid (a strict shape per date format, checked by DuckDB's ``try_strptime``; anything
  else is left to the pandas loader to judge),

and the standard frame is then made by the pandas loader (:func:`analysis.public.load.standardise`) from those
rows alone (0.8% of DataSF's historical file): the same code decides every value and every bad date or time,
so a bad date in *any* row, of interest or not, makes the file unusable with its row number, as before.
Whitespace is stripped with Python's own set of whitespace characters, so "certainly valid" means valid to
the pandas loader too. Anything the engine cannot read as the pandas loader would (not UTF-8, ragged rows, JSON
that is not an array of records, columns of no known form, ...) is handed to the pandas loader, which reads
it or says why not, with the same messages as before. Daily count tables (a few thousand rows) are read by
the pandas loader.

:func:`convert` stores a file as Parquet (every column as text, in file order, with its form and kind in the
file's metadata), which :func:`scan_public` and :func:`analysis.public.load.load_public` read like the file
itself: only the columns needed, several times faster than CSV.
The ``--offset`` file of ``public trends`` (every category) is still read by the pandas loader.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from ..intake.problems import UnusableInputError, problem
from .forms import PARQUET_META, detect_format, parquet_info
from .schemas import FORMATS, PROSTITUTION_FILTER

if TYPE_CHECKING:  # pandas and the pandas loader are imported after the scan (pandas loads meanwhile: cli.public)
    import pandas as pd

# Python's whitespace (str.isspace, what str.strip() and str.split() remove): trim(x, WHITESPACE) in SQL is
# x.strip() in Python, so the engine's "certainly valid" is valid to the pandas loader.
WHITESPACE = ("\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007"
              "\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000")
# Years a datetime64[ns] holds (1677-09-21 to 2262-04-11): outside them the pandas loader finds no date.
YEARS = (1678, 2261)
# Each strptime directive as a strict pattern: only shapes the pandas loader certainly reads the same way.
_DIRECTIVES = {"Y": "[0-9]{4}", "m": "(0[1-9]|1[0-2])", "d": "(0[1-9]|[12][0-9]|3[01])", "H": "([01][0-9]|2[0-3])",
               "I": "(0[1-9]|1[0-2])", "M": "[0-5][0-9]", "S": "[0-5][0-9]", "f": "[0-9]{1,6}", "p": "(AM|PM)"}
_TIME_SHAPE = "[0-9]{1,2}:[0-9]{2}(:[0-9]{2})?"  # load._TIME in ASCII digits
ENGINES = ("auto", "pandas")


class EngineCannotRead(Exception):
    """The engine cannot read this file as the pandas loader would: the pandas loader reads it instead."""


# --- SQL pieces ----------------------------------------------------------------------------------------------


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _text(col: str) -> str:
    """A source column as the pandas loader sees it: text, "" when empty or absent."""
    return f"coalesce(CAST({_ident(col)} AS VARCHAR), '')"


def shape_pattern(fmt: str) -> str:
    """The strict pattern of a strptime format, e.g. ``%m/%d/%Y`` -> ``(0[1-9]|1[0-2])/(0[1-9]|...)/[0-9]{4}``."""
    out, i = [], 0
    while i < len(fmt):
        if fmt[i] == "%" and i + 1 < len(fmt):
            code = fmt[i + 1]
            if code not in _DIRECTIVES:
                raise ValueError(f"no strict pattern for %{code} in {fmt!r}")
            out.append(_DIRECTIVES[code])
            i += 2
        else:
            out.append(re.escape(fmt[i]))
            i += 1
    return "".join(out)


_WIDTHS = {"Y": 4, "m": 2, "d": 2, "H": 2, "M": 2, "S": 2}


def like_pattern(fmt: str) -> str | None:
    """The LIKE pattern of a format made of fixed-width numbers and ending in the year, e.g. ``%m/%d/%Y`` ->
    ``__/__/____``; None for any other format."""
    out, i = [], 0
    while i < len(fmt):
        if fmt[i] == "%":
            width = _WIDTHS.get(fmt[i + 1:i + 2])
            if width is None:
                return None
            out.append("_" * width)
            i += 2
        elif fmt[i] in "%_\\":
            return None
        else:
            out.append(fmt[i])
            i += 1
    return "".join(out) if fmt.endswith("%Y") else None


def _shape(col: str, fmt: str) -> str:
    """SQL: the cell has the strict shape of ``fmt``, given that DuckDB reads it with ``fmt``. A regular
    expression in general; for a format of fixed-width numbers ending in the year (DataSF's %m/%d/%Y), a LIKE
    pattern and a digit first, several times cheaper: DuckDB's strptime then reads each field's digits and
    nothing else, except white space before the first field (hence the digit first) and after the year (a year
    of 3 digits or fewer, out of range)."""
    like = like_pattern(fmt)
    if like is None:
        return f"regexp_full_match({col}, {_lit(shape_pattern(fmt))})"
    return f"({col} LIKE {_lit(like)} AND {col} >= '0' AND {col} < ':')"


def _date_certain(col: str, formats: list[str]) -> str:
    """SQL: the cell is certainly a date the pandas loader reads: it has the strict shape of one of ``formats``
    (no surrounding space either: such a cell is left to pandas) and DuckDB reads a date in range with that
    format. (A CASE, not an OR: DuckDB stops at the first shape that matches.)"""
    case = " ".join(f"WHEN {_shape(col, f)} THEN try_strptime({col}, {_lit(f)})" for f in formats)
    return f"coalesce(year(CASE {case} END) BETWEEN {YEARS[0]} AND {YEARS[1]}, false)"


def _time_certain(col: str) -> str:
    return f"({col} = '' OR regexp_full_match({col}, {_lit(_TIME_SHAPE)}))"


def _equals_stripped(col: str, value: str) -> str:
    """SQL: ``col.strip() == value`` in Python (trimming only the cells that hold the value and something else)."""
    return f"({col} = {_lit(value)} OR (contains({col}, {_lit(value)}) AND trim({col}, {_lit(WHITESPACE)}) = {_lit(value)}))"


def _may_be_of_interest(category: str | None, description: str | None) -> str:
    """SQL: a superset of is_prostitution. A cell that is plain ASCII names a phrase after upper-casing and
    collapsing spaces only if it holds each of its words in some case; anything else is left to pandas."""
    if category is None:
        return "true"  # the form's category is a constant or the file name's: judged by pandas

    def names(col: str, phrase: str) -> str:
        return "(" + " AND ".join(f"{col} ILIKE {_lit('%' + w.lower() + '%')}" for w in phrase.split()) + ")"

    tests = [names(category, ph) for ph in PROSTITUTION_FILTER["categories"] + PROSTITUTION_FILTER["text_contains"]]
    tests += [names(description, ph) for ph in PROSTITUTION_FILTER["text_contains"]] if description else []
    tests += [f"strlen({c}) <> length({c})" for c in (category, description) if c]  # not ASCII
    return "(" + " OR ".join(tests) + ")"


# --- reading a file --------------------------------------------------------------------------------------


def connect():
    import duckdb

    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    # (the default, set here because the scan's row numbers rely on it: a table keeps the file's order)
    con.execute("SET preserve_insertion_order = true")
    return con


def sniff(path: Path) -> str | None:
    """"csv", "json" or "parquet": how the engine reads the file; None when only the pandas loader can say
    what it is (empty, binary, zip, JSON that is not an array of records)."""
    with open(path, "rb") as f:
        head = f.read(65536)
    if head[:4] == b"PAR1":
        return "parquet"
    if not head.strip() or head[:4] == b"PK\x03\x04" or b"\x00" in head:
        return None
    text = head.decode("utf-8", errors="ignore").lstrip("\ufeff").lstrip()
    if re.match(r"\[\s*\{", text):
        return "json"
    if text[:1] in ("[", "{"):
        return None
    return "csv"


def _reader(path: Path, kind: str, columns: list[str] | None = None) -> str:
    """The table function reading ``path`` (``columns``: the JSON keys to read, as text)."""
    p = _lit(str(path))
    if kind == "csv":  # no sniffing: DuckDB's sniffer can return no rows, without an error, for a ragged file
        cols = "{" + ", ".join(f"{_lit(c)}: 'VARCHAR'" for c in columns or []) + "}"
        return (f"read_csv({p}, header = true, auto_detect = false, columns = {cols}, delim = ',', quote = '\"', "
                "escape = '\"', strict_mode = true, null_padding = false, skip = 0, comment = '')")
    if kind == "json":
        cols = "{" + ", ".join(f"{_lit(c)}: 'VARCHAR'" for c in columns or []) + "}"
        return f"read_json({p}, format = 'array', records = true, columns = {cols})"
    return f"read_parquet({p}, file_row_number = true)"


def _row_number(kind: str, parquet_kind: str = "csv") -> str:
    """A record's row number in messages (the spreadsheet row, header = 1; or the JSON record number, 1..), from
    the scan's table: Parquet stores it (``file_row_number``); a CSV or JSON record's is its position in the
    table, which keeps the file's order (DuckDB preserves insertion order), so that the file is read in parallel
    (a ``row_number() OVER ()`` would read it on one thread)."""
    if kind == "parquet":
        return f"r + {2 if parquet_kind == 'csv' else 1}"
    return f"rowid + {2 if kind == 'csv' else 1}"


def _columns(con, path: Path, kind: str) -> list[str]:
    """The file's column names (JSON: every key of every record)."""
    if kind == "json":
        rows = con.execute(f"SELECT DISTINCT unnest(json_keys(json)) FROM read_json_objects({_lit(str(path))}, "
                           "format = 'array')").fetchall()
        return [r[0] for r in rows]
    if kind == "csv":  # the header row, as Python's csv module reads it (the reader is told the columns)
        import csv

        with open(path, encoding="utf-8-sig", newline="") as f:
            names = next(csv.reader(f), [])
        if not names or len(set(names)) < len(names):
            raise EngineCannotRead("no header, or a repeated column name")
        return names
    names = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {_reader(path, kind)}").fetchall()]
    return [n for n in names if not (kind == "parquet" and n == "file_row_number")]


# Standard columns the engine always reads: the selection, the dates and times it checks in every row.
ALWAYS_READ = ("category", "description", "date", "datetime", "time")


class _Source:
    """One file as the engine reads it: its kind, form, and the source column of each standard column it reads
    (``needs``: the standard columns wanted besides :data:`ALWAYS_READ`; None: all)."""

    def __init__(self, con, path: Path, format: str | None, needs=None):
        self.path, self.kind = path, sniff(path)
        if self.kind is None:
            raise EngineCannotRead("not a table the engine reads")
        self.parquet_kind, self.name = "csv", path.name
        if self.kind == "parquet":
            self.parquet_kind = parquet_info(path).get("kind", "csv")
        try:
            names = _columns(con, path, self.kind)
        except Exception as exc:  # noqa: BLE001 - any reading error: the pandas loader says what is wrong
            raise EngineCannotRead(str(exc)) from exc
        self.names = names
        clean = {str(n).strip().strip("\ufeff"): n for n in names}
        try:
            self.fmt = format or detect_format(list(clean), path.name)
        except UnusableInputError as exc:
            raise EngineCannotRead(str(exc)) from exc
        if self.fmt not in FORMATS or any(c not in clean for c in FORMATS[self.fmt]["required"]):
            raise EngineCannotRead("not this form")
        if FORMATS[self.fmt].get("counts"):
            raise EngineCannotRead("daily count tables are read by the pandas loader")
        self.spec, self.clean = FORMATS[self.fmt], clean
        self.source_kind = self.parquet_kind if self.kind == "parquet" else self.kind
        read = [std for std in self.spec["columns"] if needs is None or std in needs or std in ALWAYS_READ]
        self.unread = [std for std in self.spec["columns"] if std not in read]
        wanted = [self.spec["columns"][std] for std in read] + list(self.spec.get("keep_rows", {}))
        # {source column as the pandas loader names it: as the engine names it}
        self.mapped = {c: clean[c] for c in dict.fromkeys(wanted) if c in clean}

    def alias(self, std: str) -> str | None:
        """The scan's name (c0, c1 ...) of the source column mapped to standard column ``std``, or None."""
        col = self.spec["columns"].get(std, std)
        return f"c{list(self.mapped).index(col)}" if col in self.mapped else None

    def relation(self) -> str:
        """Every record: the columns read, as text (and ``r``, the stored row number, from Parquet)."""
        reader = _reader(self.path, self.kind, self.names if self.kind == "csv" else list(self.mapped.values()))
        sel = ", ".join(f"{_text(e)} AS c{i}" for i, e in enumerate(self.mapped.values()))
        r = "file_row_number AS r, " if self.kind == "parquet" else ""
        return f"SELECT {r}{sel} FROM {reader}"


# --- the scan ----------------------------------------------------------------------------------------------


def _scan_sql(s: _Source) -> str:
    """One pass over the file, a row per record in file order: ``dropped`` (the form drops it) and ``rec``, the
    columns read as one list, kept only for the records the pandas loader must see (NULL elsewhere: one column of
    NULLs costs little)."""
    spec, a = s.spec, s.alias
    keep = " AND ".join(_equals_stripped(a(c), v) for c, v in spec.get("keep_rows", {}).items()) or "true"
    date_std = "datetime" if "datetime" in spec["columns"] else "date"
    certain = [_date_certain(a(date_std), spec["date_formats"])]
    if date_std == "date" and a("time"):
        certain.append(_time_certain(a("time")))
    interest = _may_be_of_interest(a("category"), a("description"))
    cols = ", ".join(f"c{i}" for i in range(len(s.mapped)))
    return (f"SELECT CASE WHEN {interest} OR NOT ({' AND '.join(certain)}) THEN list_value({cols}) END AS rec, "
            f"NOT ({keep}) AS dropped{', r' if s.kind == 'parquet' else ''} FROM ({s.relation()})")


def _scan_raw(con, s: _Source) -> tuple[pd.DataFrame, int, int]:
    """(the rows the pandas loader must see, as text cells named as the pandas loader names them, with ``r``;
    records read; records dropped)."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE scan AS {_scan_sql(s)}")
    import pandas as pd
    n, dropped = con.execute("SELECT count(*), count(*) FILTER (WHERE dropped) FROM scan").fetchall()[0]
    cols = ", ".join(f"rec[{i + 1}] AS c{i}" for i in range(len(s.mapped)))
    raw = con.execute(f"SELECT {_row_number(s.kind, s.parquet_kind)} AS r, {cols} FROM scan "
                      "WHERE rec IS NOT NULL ORDER BY r").df()
    names = list(s.mapped)
    if raw.empty:
        raw = pd.DataFrame({"r": pd.Series(dtype="int64"), **{c: pd.Series(dtype=object) for c in names}})
    else:
        raw.columns = ["r"] + names
    return raw.reset_index(drop=True), int(n), int(dropped)


def _pandas(path: Path, format: str | None, category: str | None) -> pd.DataFrame:
    """The pandas loader's selection, with the engine's attrs (``records``: records before the selection)."""
    from .load import load_public, select_prostitution

    frame = load_public(path, format=format, category=category)
    out = select_prostitution(frame)
    out.attrs.update({"records": len(frame), "engine": "pandas"})
    return out


def scan_public(path: str | Path, *, format: str | None = None, category: str | None = None,
                engine: str = "auto", needs=None) -> pd.DataFrame:
    """The PROSTITUTION / human-trafficking records of one public SFPD file (any supported form, or a Parquet
    file made by :func:`convert`) as the standard frame: ``select_prostitution(load_public(path))``, read by the
    engine. ``attrs`` as load_public's (``rows_read``: every row of the file), plus ``records`` (records before
    the selection) and ``engine`` ("duckdb" or "pandas": who read it).

    ``needs``: the standard columns the caller uses (None: all). The engine always reads the category,
    description, date and time; a mapped column it was not asked for is left empty ("", <NA>, NaN), as if the
    source had none. ``engine``: "auto" (DuckDB, or the pandas loader for what the engine does not read:
    daily count tables, files that are not UTF-8 or not regular tables), or "pandas" (the pandas loader only).
    """
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {', '.join(ENGINES)}; got {engine!r}")
    p = Path(path)
    if engine == "pandas" or not p.is_file():
        return _pandas(p, format, category)  # (the pandas loader's messages for a missing file or a folder)
    con = connect()
    try:
        s = _Source(con, p, format, needs)
        raw, n, dropped = _scan_raw(con, s)
    except Exception:  # noqa: BLE001 - what the engine cannot read (ragged rows, not UTF-8, daily counts ...)
        return _pandas(p, format, category)  # the pandas loader reads it, or says why not
    finally:
        con.close()
    from .load import is_prostitution, standardise

    frame = standardise(raw.drop(columns="r"), s.fmt, s.name, s.source_kind, category=category, rows=raw["r"])
    out = frame[is_prostitution(frame)].reset_index(drop=True)
    for std in s.unread:  # as if the source had none
        for c in [std] + (["resolution_group"] if std == "resolution" else []):
            out[c] = _empty(c, len(out))
    out.attrs.update(frame.attrs)
    out.attrs.update({"rows_read": n, "rows_dropped": dropped, "records": n - dropped, "engine": "duckdb"})
    return out


def _empty(column: str, n: int):
    """A standard column's values when its source column is not read."""
    import pandas as pd

    if column in ("incident_number", "record_id"):
        return pd.array([pd.NA] * n, dtype="string")
    if column in ("latitude", "longitude"):
        return pd.Series(float("nan"), index=range(n), dtype=float)
    return ""


# --- Parquet --------------------------------------------------------------------------------------------------


def convert(path: str | Path, out: str | Path, *, format: str | None = None) -> dict:
    """Store one public SFPD file as Parquet at ``out``: every column as text ("" read as NULL), in file order,
    with the form, the kind of row numbers and the source file's name in the file's metadata, so that
    :func:`scan_public` and :func:`analysis.public.load.load_public` read it as they read the file itself (the
    same rows, values, row numbers in messages). Returns ``{"format", "kind", "rows", "columns"}``.

    A file the engine does not read (not UTF-8, ragged rows, not a table ...) is read by the pandas loader,
    which stores it or says why not (UnusableInputError), with the same messages as ``load_public``. A daily
    count table is stored too (it is read by the pandas loader afterwards).
    """
    p, o = Path(path), Path(out)
    if not p.exists():
        raise UnusableInputError([problem("missing_file", "file not found", file=str(p))])
    if p.is_dir():
        raise UnusableInputError([problem("not_a_table", "this is a folder; give one data file", file=str(p))])
    import shutil
    import tempfile

    con = connect()
    work = tempfile.TemporaryDirectory(prefix="analysis-convert-")
    tmp = Path(work.name) / "out.parquet"  # written whole, then copied: never a half-written OUT
    try:
        if sniff(p) == "parquet":
            raise UnusableInputError([problem("not_a_table", "this is already a Parquet file", file=p.name)])
        try:
            s = _Source(con, p, format, needs=None)
            reader = _reader(p, s.kind, s.names)
            sel = ", ".join(f"CAST({_ident(n)} AS VARCHAR) AS {_ident(c)}" for c, n in s.clean.items())
            rel, fmt, kind = f"SELECT {sel} FROM {reader}", s.fmt, s.kind
            _copy(con, rel, tmp, fmt, kind, p.name)
            n = con.execute(f"SELECT count(*) FROM read_parquet({_lit(str(tmp))})").fetchone()[0]
            if n == 0:
                raise EngineCannotRead("no data rows")  # the pandas loader's message
        except (EngineCannotRead, duckdb_error()):
            from .load import read_table

            raw, kind = read_table(p.read_bytes(), p.name)  # the pandas loader's reading and messages
            fmt = format or detect_format(list(raw.columns), p.name)
            con.register("raw_cells", raw.replace("", None))
            _copy(con, "SELECT * FROM raw_cells", tmp, fmt, kind, p.name)
            n = len(raw)
        ncols = len(con.execute(f"DESCRIBE SELECT * FROM read_parquet({_lit(str(tmp))})").fetchall())
        o.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(tmp, o)
    finally:
        con.close()
        work.cleanup()
    return {"format": fmt, "kind": kind, "rows": int(n), "columns": ncols}


def duckdb_error():
    import duckdb

    return duckdb.Error


def _copy(con, relation: str, out: Path, fmt: str, kind: str, source: str) -> None:
    meta = {PARQUET_META["format"]: fmt, PARQUET_META["kind"]: kind, PARQUET_META["source_file"]: source}
    kv = "{" + ", ".join(f"{_lit(k)}: {_lit(v)}" for k, v in meta.items()) + "}"
    con.execute(f"COPY ({relation}) TO {_lit(str(out))} (FORMAT parquet, COMPRESSION zstd, KV_METADATA {kv})")
