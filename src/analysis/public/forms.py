"""Which form a public SFPD file is, without reading it into a frame: the form its columns match
(:func:`detect_format`), and what a Parquet file made by ``public convert`` records about its source
(:data:`PARQUET_META`, :func:`parquet_info`). No pandas here: the engine's scan (:mod:`.engine`) starts before
pandas is imported, and pandas loads meanwhile.
"""

from __future__ import annotations

from pathlib import Path

from ..intake.problems import UnusableInputError, problem
from .schemas import FORMATS


def detect_format(columns: list[str], name: str = "") -> str:
    """The key of the source form whose required columns are all present (the most specific one wins)."""
    have = set(columns)
    matches = [k for k, f in FORMATS.items() if set(f["required"]) <= have]
    if matches:
        return max(matches, key=lambda k: len(FORMATS[k]["required"]))
    # the closest form, for the message
    best = max(FORMATS, key=lambda k: len(set(FORMATS[k]["required"]) & have) / len(FORMATS[k]["required"]))
    missing = [c for c in FORMATS[best]["required"] if c not in have]
    shown = ", ".join(columns[:15]) + (" ..." if len(columns) > 15 else "")
    if len(columns) <= 1:
        lead = "this does not look like a table (one column only)"
    else:
        lead = "the columns match no supported SFPD data form"
    raise UnusableInputError([problem(
        "wrong_columns",
        f"{lead}. Closest: {FORMATS[best]['label']}, which also needs {', '.join(missing)}. "
        f"Columns found: {shown}. Supported: " + "; ".join(f["label"] for f in FORMATS.values()),
        file=name)])


# Keys of a converted file's metadata: the form, and whether its rows are spreadsheet rows ("csv", header = 1)
# or JSON records.
PARQUET_META = {"format": "analysis.public.format", "kind": "analysis.public.kind",
                "source_file": "analysis.public.source_file"}


def is_parquet(path: Path) -> bool:
    with open(path, "rb") as f:
        return f.read(4) == b"PAR1"


def parquet_info(path: Path) -> dict[str, str]:
    """What :data:`PARQUET_META` records in a Parquet file ({} for a Parquet file made elsewhere), by short key."""
    import duckdb

    con = duckdb.connect()
    try:
        rows = con.execute("SELECT decode(key), decode(value) FROM parquet_kv_metadata(?)", [str(path)]).fetchall()
    except duckdb.Error as exc:
        raise UnusableInputError([problem("not_a_table", f"not a readable Parquet file ({exc})",
                                          file=path.name)]) from None
    finally:
        con.close()
    keys = {v: k for k, v in PARQUET_META.items()}
    return {keys[k]: v for k, v in rows if k in keys}
