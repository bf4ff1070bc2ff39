"""Read any supported form of the public SFPD incident data into the standard frame.

``load_public(path)`` reads a file; ``parse_public(data, name)`` does the same from bytes (no file access).
The source form is recognised from the columns (:data:`.schemas.FORMATS`); everything that makes a file
unusable (empty, not a table, columns of no known form, bad dates or times, negative or non-numeric
counts) is collected and raised together as :class:`~analysis.intake.problems.UnusableInputError`, naming the
file and, where it applies, the row and column.
"""

from __future__ import annotations

import io
import json
import re
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from ..intake.problems import UnusableInputError, problem
from .forms import PARQUET_META, detect_format, is_parquet, parquet_info  # noqa: F401 - also read from here
from .schemas import (
    FORMATS,
    PROSTITUTION_FILTER,
    RESOLUTION_MAP,
    STANDARD_COLUMNS,
    UNKNOWN_DISTRICT,
)

MAX_LISTED = 20  # bad cells listed one by one before the rest are summarised
_TIME = re.compile(r"^\d{1,2}:\d{2}(:\d{2})?$")


# --- reading text into a table of strings ---------------------------------------------------------------


def _decode(data: bytes, name: str) -> str:
    for enc in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    raise UnusableInputError([problem("not_a_table", "the file is not text (neither UTF-8 nor Windows-1252)",
                                      file=name)])  # pragma: no cover - cp1252 decodes nearly everything


def read_table(data: bytes, name: str) -> tuple[pd.DataFrame, str]:
    """The file's records as text cells (CSV or JSON array of objects), and "csv" or "json".

    Every cell is a string ("" when empty or absent). Raises UnusableInputError for an empty file, a binary
    file, JSON that is not an array of records, or CSV rows of the wrong width.
    """
    if not data.strip():
        raise UnusableInputError([problem("empty_file", "the file is empty; expected an SFPD incident table "
                                          "(CSV or JSON)", file=name)])
    if data[:4] == b"PK\x03\x04":
        raise UnusableInputError([problem("not_a_table", "this is a zip file (an Excel workbook?), not a CSV or "
                                          "JSON table; export it as CSV", file=name)])
    if b"\x00" in data[:65536]:
        raise UnusableInputError([problem("not_a_table", "this is a binary file, not a CSV or JSON table",
                                          file=name)])
    text = _decode(data, name)
    stripped = text.lstrip()
    doc = None
    if stripped[:1] in ("[", "{"):
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            # "[build-system]" or a CSV whose first header starts with a bracket is not JSON; "{" or "[{" is
            if stripped.startswith("{") or re.match(r"\[\s*\{", stripped):
                raise UnusableInputError([problem(
                    "not_a_table", f"the file starts like JSON but is not valid JSON ({exc.msg} at line "
                    f"{exc.lineno})", file=name)]) from None
    if doc is not None:
        if isinstance(doc, dict):
            msg = doc.get("message") if isinstance(doc.get("message"), str) else None
            raise UnusableInputError([problem(
                "not_a_table", "the JSON is one object, not an array of records"
                + (f" (it says: {msg})" if msg else ""), file=name)])
        if not isinstance(doc, list) or not all(isinstance(r, dict) for r in doc):
            raise UnusableInputError([problem("not_a_table", "the JSON is not an array of records (objects)",
                                              file=name)])
        if not doc:
            raise UnusableInputError([problem("empty_file", "the JSON array has no records", file=name)])
        cols: dict[str, None] = {}
        for r in doc:
            cols.update(dict.fromkeys(r))
        frame = pd.DataFrame([{c: _cell(r.get(c)) for c in cols} for r in doc], columns=list(cols), dtype=object)
        return frame, "json"
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, na_filter=False,
                            skipinitialspace=False, on_bad_lines="error")
    except pd.errors.EmptyDataError:
        raise UnusableInputError([problem("empty_file", "the file has no header row", file=name)]) from None
    except pd.errors.ParserError as exc:
        m = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(exc))
        if m:
            raise UnusableInputError([problem(
                "not_a_table", f"{m.group(3)} fields where the header has {m.group(1)}; "
                "this is not a regular CSV table (check quoting of values with commas)",
                file=name, row=int(m.group(2)))]) from None
        raise UnusableInputError([problem("not_a_table", f"not a CSV table ({exc})", file=name)]) from None
    frame.columns = [str(c).strip().strip("\ufeff") for c in frame.columns]
    if frame.empty:
        raise UnusableInputError([problem("empty_file", "the file has a header but no data rows", file=name)])
    return frame, "csv"


def _cell(v: object) -> str:
    if v is None:
        return ""
    if isinstance(v, (dict, list)):
        return json.dumps(v, sort_keys=True)
    return str(v)


# --- format detection -------------------------------------------------------------------------------------


# --- parsing cells ----------------------------------------------------------------------------------------


def _where(kind: str, row: int) -> str:
    return f"record {row}" if kind == "json" else f"row {row}"


def _parse_dates(values: pd.Series, formats: list[str]) -> pd.Series:
    out = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
    s = values.str.strip()
    for f in formats:
        todo = out.isna() & (s != "")
        if not todo.any():
            break
        out[todo] = pd.to_datetime(s[todo], format=f, errors="coerce")
    return out


def _bad_cells(rows: pd.Series, values: pd.Series, column: str, kind: str, name: str, rule: str,
               what: str) -> list[dict]:
    """One problem per bad cell (the first MAX_LISTED), then one for the rest. CSV problems carry the
    spreadsheet row; JSON problems name the record in the message."""
    probs = []
    for r, v in list(zip(rows, values))[:MAX_LISTED]:
        shown = f"'{v}'" if v != "" else "empty"
        lead = f"record {int(r)}: " if kind == "json" else ""
        probs.append(problem(rule, f"{lead}{shown} is not {what}", file=name,
                             row=None if kind == "json" else int(r), variable=column, value=str(v)))
    if len(rows) > MAX_LISTED:
        probs.append(problem(rule, f"{len(rows) - MAX_LISTED} more row(s) like these", file=name,
                             variable=column))
    return probs


@lru_cache(maxsize=1)
def _districts() -> dict[str, str]:
    from ..scheme.codebook import load_codebook

    var = load_codebook().variable("incidents", "district")
    return {c.label.upper(): c.code for c in var.codes}


def district_code(text: object) -> str:
    """SFPD district text (MISSION, Mission ...) -> codebook code; "unknown" for blank or anything else."""
    key = " ".join(str(text or "").upper().split())
    if not key:  # (no district is labelled blank: the codebook is not needed to say so)
        return UNKNOWN_DISTRICT
    return _districts().get(key, UNKNOWN_DISTRICT)


def resolution_group(text: str) -> str:
    t = " ".join(str(text or "").upper().split())
    return "" if not t else RESOLUTION_MAP.get(t, "other")


def map_values(s: pd.Series, func) -> pd.Series:
    """``s.map(func)``, calling ``func`` once per distinct value (a column of a few hundred distinct values in
    many thousand rows). A column with missing values is mapped row by row, as ``s.map(func)`` would."""
    if len(s) < 64 or s.isna().any():
        return s.map(func)
    codes, uniques = pd.factorize(s, use_na_sentinel=False)
    values = pd.Series(uniques, dtype=s.dtype).map(func)
    return pd.Series(values.to_numpy()[codes], index=s.index, name=s.name)


def _upper(s: pd.Series) -> pd.Series:
    return map_values(s, lambda x: " ".join(str(x).upper().split()))


def _float(s: pd.Series) -> pd.Series:
    return pd.to_numeric(s.str.strip(), errors="coerce").astype(float)


# --- the standard frame -----------------------------------------------------------------------------------


def _category_from_name(name: str) -> str:
    low = Path(name).name.lower()
    if "all_categories" in low or "all-categories" in low:
        return "ALL"
    if "prostitution" in low:
        return "PROSTITUTION"
    return ""


def standardise(raw: pd.DataFrame, fmt: str, name: str, kind: str = "csv", category: str | None = None,
                keep_raw: bool = False, rows=None) -> pd.DataFrame:
    """The standard frame from a table of text cells in source form ``fmt`` (a key of FORMATS).

    Rows the form does not keep are dropped (and counted in ``attrs``); every bad date, time or count is
    collected and raised together as UnusableInputError; a daily count table becomes one record per day and
    resolution group. ``rows``: where each row of ``raw`` is in its file (spreadsheet row or JSON record
    number), when ``raw`` is not the whole file in order (the engine passes the rows it kept).
    """
    spec = FORMATS[fmt]
    raw = raw.reset_index(drop=True)
    if rows is None:
        rows = pd.Series(np.arange(len(raw)) + (1 if kind == "json" else 2), index=raw.index)
    else:
        rows = pd.Series(np.asarray(rows, dtype="int64"), index=raw.index)
    keep = pd.Series(True, index=raw.index)
    for col, value in spec.get("keep_rows", {}).items():
        keep &= raw[col].str.strip() == value
    dropped = int((~keep).sum())
    raw, rows = raw[keep], rows[keep]
    get = _getter(raw, spec["columns"])
    probs: list[dict] = []
    date, time = _dates_and_times(raw, rows, get, spec, kind, name, probs)
    counts = {}
    for group, src in spec.get("counts", {}).items():
        num = pd.to_numeric(raw[src].str.strip(), errors="coerce")
        nbad = num.isna() | (num < 0) | (num != num.round())
        if nbad.any():
            probs += _bad_cells(rows[nbad], raw[src][nbad], src, kind, name, "bad_count",
                                "a whole number of 0 or more")
        counts[group] = num
    if probs:
        raise UnusableInputError(probs)
    out = _standard_frame(raw, rows, get, date, time, fmt, name, category)
    if keep_raw:
        for c in raw.columns:
            out[f"raw_{c}"] = raw[c].to_numpy()
    if counts:  # a daily count table: one record per day and resolution group
        parts = []
        for group, num in counts.items():
            part = out.copy()
            part["resolution_group"] = group
            part["n_rows"] = num.astype("int64").to_numpy()
            parts.append(part)
        out = pd.concat(parts).sort_values(["date", "resolution_group"], kind="stable")
    out = out.reset_index(drop=True)
    out["n_rows"] = out["n_rows"].astype("int64")
    out.attrs.update({"source_format": fmt, "source_file": Path(name).name, "label": spec["label"],
                      "unit": spec["unit"], "limitation": spec["limitation"], "rows_read": int(len(keep)),
                      "rows_dropped": dropped,
                      "rows_dropped_reason": ", ".join(f"{c} is not {v!r}" for c, v in spec.get("keep_rows", {}).items())})
    return out[list(STANDARD_COLUMNS) + [c for c in out.columns if c.startswith("raw_")]]


def _getter(raw: pd.DataFrame, cols: dict[str, str]):
    """``get(standard name)``: the source column mapped to it, as text ('' when the form or file lacks it)."""

    def get(std: str) -> pd.Series:
        src = cols.get(std)
        if src is None or src not in raw.columns:
            return pd.Series("", index=raw.index, dtype=object)
        return raw[src].astype(str)

    return get


def _dates_and_times(raw: pd.DataFrame, rows: pd.Series, get, spec: dict, kind: str, name: str,
                     probs: list[dict]) -> tuple[pd.Series, pd.Series]:
    """(date, time as HH:MM or '') of every row, from one date-and-time column or a date and a time column; a
    problem in ``probs`` for every cell that is not one."""
    cols = spec["columns"]
    example = spec["date_formats"][0].replace("%Y", "YYYY").replace("%m", "MM").replace("%d", "DD").replace(
        "%H", "HH").replace("%M", "MM").replace("%S", "SS").replace("%I", "HH").replace("%p", "AM")
    if "datetime" in cols:
        src = cols["datetime"]
        stamp = _parse_dates(get("datetime"), spec["date_formats"])
        bad = stamp.isna()
        if bad.any():
            probs += _bad_cells(rows[bad], get("datetime")[bad], src, kind, name, "bad_date",
                                f"a date and time (expected {example})")
        return stamp.dt.normalize(), stamp.dt.strftime("%H:%M").fillna("")
    src = cols["date"]
    stamp = _parse_dates(get("date"), spec["date_formats"])
    bad = stamp.isna()
    if bad.any():
        probs += _bad_cells(rows[bad], get("date")[bad], src, kind, name, "bad_date",
                            f"a date (expected {example})")
    time = get("time").str.strip()
    if "time" in cols and cols["time"] in raw.columns:
        tbad = (time != "") & ~map_values(time, lambda t: bool(_TIME.match(t)))
        if tbad.any():
            probs += _bad_cells(rows[tbad], time[tbad], cols["time"], kind, name, "bad_time", "a time (HH:MM)")
        time = map_values(time, lambda t: t[:5].zfill(5) if t else "")
    return stamp.dt.normalize(), time


def _standard_frame(raw: pd.DataFrame, rows: pd.Series, get, date: pd.Series, time: pd.Series, fmt: str,
                    name: str, category: str | None) -> pd.DataFrame:
    """The standard columns of every kept row (one record per row; ``n_rows`` 1)."""
    spec = FORMATS[fmt]
    cols = spec["columns"]
    n = len(raw)
    cat = spec.get("constants", {}).get("category")
    if cat is None and "category" not in cols:
        cat = category if category is not None else _category_from_name(name)
    out = pd.DataFrame({
        "source_format": fmt,
        "source_file": Path(name).name,
        "source_row": rows.astype("int64").to_numpy(),
        "incident_number": get("incident_number").str.strip().replace("", pd.NA).astype("string")
        if "incident_number" in cols else pd.array([pd.NA] * n, dtype="string"),
        "record_id": get("record_id").str.strip().replace("", pd.NA).astype("string")
        if "record_id" in cols else pd.array([pd.NA] * n, dtype="string"),
        "date": date.to_numpy(),
        "time": time.to_numpy(),
    }, index=raw.index)
    out["year"] = out["date"].dt.year.astype("int64")
    out["month"] = out["date"].dt.to_period("M").dt.to_timestamp()
    out["category"] = cat if cat is not None else _upper(get("category"))
    out["subcategory"] = _upper(get("subcategory"))
    out["description"] = _upper(get("description"))
    if "district" in cols:
        out["district"] = map_values(get("district"), district_code)
    else:
        out["district"] = ""
    out["resolution"] = _upper(get("resolution"))
    out["resolution_group"] = map_values(out["resolution"], resolution_group)
    out["address"] = get("address").str.strip()
    out["latitude"] = _float(get("latitude"))
    out["longitude"] = _float(get("longitude"))
    out["n_rows"] = 1
    return out


def parse_public(data: bytes, name: str, *, format: str | None = None, category: str | None = None,
                 keep_raw: bool = False) -> pd.DataFrame:
    """The standard frame from the bytes of a file called ``name`` (form detected unless ``format`` given)."""
    raw, kind = read_table(data, name)
    return _parse_raw(raw, kind, name, format=format, category=category, keep_raw=keep_raw)


def _parse_raw(raw: pd.DataFrame, kind: str, name: str, *, format: str | None, category: str | None,
               keep_raw: bool) -> pd.DataFrame:
    if format is None:
        fmt = detect_format(list(raw.columns), name)
    else:
        if format not in FORMATS:
            raise ValueError(f"unknown format {format!r}; one of {', '.join(FORMATS)}")
        missing = [c for c in FORMATS[format]["required"] if c not in raw.columns]
        if missing:
            raise UnusableInputError([problem("wrong_columns", f"not a {FORMATS[format]['label']}: missing "
                                              f"{', '.join(missing)}", file=name)])
        fmt = format
    return standardise(raw, fmt, name, kind, category=category, keep_raw=keep_raw)


def load_public(path: str | Path, *, format: str | None = None, category: str | None = None,
                keep_raw: bool = False) -> pd.DataFrame:
    """Read one public SFPD file (any supported form, or a Parquet file made by ``public convert``) into the
    standard frame.

    ``category`` sets the category of a daily count table (default: from the file name, "ALL" for
    ``..all_categories..``, "PROSTITUTION" for ``..prostitution..``). ``keep_raw`` adds every source column
    as ``raw_<name>``. The frame's ``attrs`` hold the form, its label, counting unit and limitation.
    """
    p = Path(path)
    if not p.exists():
        raise UnusableInputError([problem("missing_file", "file not found", file=str(p))])
    if p.is_dir():
        raise UnusableInputError([problem("not_a_table", "this is a folder; give one data file", file=str(p))])
    if is_parquet(p):
        raw, kind = read_parquet_cells(p)
        return _parse_raw(raw, kind, p.name, format=format, category=category, keep_raw=keep_raw)
    return parse_public(p.read_bytes(), p.name, format=format, category=category, keep_raw=keep_raw)


# --- Parquet (python -m analysis public convert) ------------------------------------------------------------

def read_parquet_cells(path: Path) -> tuple[pd.DataFrame, str]:
    """A Parquet file's records as text cells ("" when empty), in file order, and "csv" or "json" (how its rows
    are numbered: a converted file keeps its source's)."""
    import duckdb

    kind = parquet_info(path).get("kind", "csv")
    con = duckdb.connect()
    try:
        names = [r[0] for r in con.execute("DESCRIBE SELECT * FROM read_parquet(?)", [str(path)]).fetchall()]
        cols = ", ".join("coalesce(CAST(\"" + n.replace('"', '""') + "\" AS VARCHAR), '')" for n in names)
        frame = con.execute(f"SELECT {cols} FROM read_parquet(?, file_row_number = true) ORDER BY file_row_number",
                            [str(path)]).df() if names else pd.DataFrame()
    finally:
        con.close()
    frame.columns = [str(c).strip() for c in names]
    frame = frame.astype(object)
    if frame.empty:
        raise UnusableInputError([problem("empty_file", "the file has a header but no data rows", file=path.name)])
    return frame, kind


# --- selections -------------------------------------------------------------------------------------------


def is_prostitution(frame: pd.DataFrame) -> pd.Series:
    """Rows of the PROSTITUTION category or naming human trafficking (the rule of PROSTITUTION_FILTER)."""
    cat = frame["category"].fillna("")
    hit = cat.isin(PROSTITUTION_FILTER["categories"])
    for text in PROSTITUTION_FILTER["text_contains"]:
        hit |= cat.str.contains(text, regex=False) | frame["description"].fillna("").str.contains(text, regex=False)
    return hit


def select_prostitution(frame: pd.DataFrame) -> pd.DataFrame:
    """The prostitution / trafficking rows of a row-level frame; daily count tables are returned unchanged."""
    if (frame["source_format"] == "daily_counts").all():
        return frame
    out = frame[is_prostitution(frame)].reset_index(drop=True)
    out.attrs.update(frame.attrs)
    return out


# --- the shared folder --------------------------------------------------------------------------------

# The five public files of ../shared/data/sfpd (PROVENANCE.md), by the short name the notebook uses.
SHARED_FILES = {
    "daily": "sfpd_prostitution_daily_2003_2015.csv",
    "daily_all": "sfpd_all_categories_daily_2003_2015.csv",
    "kaggle": "sfpd_prostitution_kaggle_train_rows_2003_2015.csv",
    "incidents": "sfpd_prostitution_incidents_dedup_2008_2018.csv",
    "socrata": "sfpd_prostitution_socrata_sample.json",
}


def shared_folder_problems(folder: str | Path) -> list[str]:
    """What is missing from the shared SFPD folder, in words ([] when every file is there)."""
    d = Path(folder)
    if not d.is_dir():
        return [f"the shared SFPD data folder {d} was not found (set ANALYSIS_SFPD_DIR or pass its path)"]
    return [f"{d / f} is missing" for f in SHARED_FILES.values() if not (d / f).exists()]


def load_shared_folder(folder: str | Path) -> dict[str, pd.DataFrame]:
    """The five public files of the shared folder as standard frames, keyed as in :data:`SHARED_FILES`."""
    missing = shared_folder_problems(folder)
    if missing:
        raise UnusableInputError([problem("missing_file", m, file=str(folder)) for m in missing])
    return {k: load_public(Path(folder) / f) for k, f in SHARED_FILES.items()}
