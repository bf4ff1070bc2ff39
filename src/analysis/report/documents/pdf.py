"""The meeting pack as a PDF, typeset by Typst (the ``typst`` package bundles the compiler; no system library,
no network): cover, contents, page numbers, findings first, then the charts, the key tables (wrapped, inside
the margins, the header row repeated, a variable's rows never split over two pages), data quality, methods and
provenance, with the synthetic-data banner on every page when the data are synthetic.

Why Typst: WeasyPrint needs the Pango system libraries, which a fresh machine lacks; tables drawn with
matplotlib (the earlier PDF) cut labels, print at 7 pt and run past the page. Typst lays out real tables with
text wrapping and repeated headers, and its embedded fonts (Libertinus Serif) make the output the same on every
machine: system fonts are ignored.
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from importlib import resources
from pathlib import Path

from ...tables.export import SYNTHETIC_BANNER
from .content import (FINDINGS_MISSING, QUALITY_MISSING, chart_titles, column_weights, quality_tables, row_groups,
                      shown_in)

FONT = "Libertinus Serif"  # embedded in Typst


def _table(title: str, table, footer: list[str]) -> dict:
    return {"title": title, "columns": [str(c) for c in table.columns], "widths": column_weights(table),
            "groups": row_groups(table), "footer": [line for line in footer if line != SYNTHETIC_BANNER]}


def _findings(pack) -> dict:
    f = pack.findings
    if f is None:
        return {"title": "Findings", "intro": "", "items": [], "missing": [FINDINGS_MISSING]}
    titles = chart_titles(pack)
    return {"title": f.title, "intro": f.intro, "missing": [],
            "items": [{"question": x.question, "text": x.text, "caveats": list(x.caveats),
                       "shown": shown_in(x, titles)} for x in f.items]}


def _quality(pack) -> dict:
    q = pack.quality
    if q is None:
        return {"title": "Data quality", "notes": [QUALITY_MISSING], "tables": []}
    return {"title": q.title, "notes": list(q.notes),
            "tables": [_table(title, t, []) for title, t in quality_tables(q)]}


def pack_data(pack, chart_files: dict[str, str]) -> dict:
    """Everything the Typst template (pack.typ) prints, as JSON-ready data; ``chart_files`` maps a chart's
    name to its image file (relative to the template)."""
    c = pack.cover
    return {
        "title": c.title, "author": "analysis (SFPD Vice to SVU toolkit)",
        "meeting": c.subtitle, "meeting_date": getattr(c, "meeting_date", "") or "",
        "run_date": c.run_date, "cover_lines": list(c.lines),
        "synthetic": bool(c.synthetic), "banner": SYNTHETIC_BANNER,
        "footer_left": c.subtitle + (" · SYNTHETIC DATA" if c.synthetic else ""),
        "findings": _findings(pack),
        "charts": [{"file": chart_files[ch.name], "title": ch.title, "alt": ch.alt,
                    "lines": [f"The data behind this chart: figures/{ch.name}.csv."]} for ch in pack.charts],
        "tables": [_table(t.title, t.table, t.footer) for t in pack.tables],
        "quality": _quality(pack),
        "methods": list(pack.methods), "notes": list(pack.notes), "provenance": list(pack.provenance),
    }


def _timestamp(run_date: str) -> dt.datetime:
    """The PDF's creation date: the run date (so that two runs of one date give the same file)."""
    try:
        day = dt.date.fromisoformat(run_date)
    except ValueError:
        day = dt.date(2000, 1, 1)
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.timezone.utc)


def template() -> str:
    return (resources.files("analysis.report.documents") / "pack.typ").read_text(encoding="utf-8")


def pdf_pack(pack, pngs: dict[str, bytes]) -> bytes:
    """The pack as PDF bytes; ``pngs`` maps each chart's name to its PNG (the figures/<name>.png shared)."""
    import typst

    files = {ch.name: f"chart-{k}.png" for k, ch in enumerate(pack.charts)}
    with tempfile.TemporaryDirectory(prefix="pack-typst-") as tmp:  # the compiler reads its inputs from a folder
        root = Path(tmp)
        (root / "pack.typ").write_text(template(), encoding="utf-8")
        (root / "data.json").write_text(json.dumps(pack_data(pack, files)), encoding="utf-8")
        for name, file in files.items():
            (root / file).write_bytes(pngs[name])
        return typst.compile(str(root / "pack.typ"), root=str(root), ignore_system_fonts=True,
                             timestamp=_timestamp(pack.cover.run_date))
