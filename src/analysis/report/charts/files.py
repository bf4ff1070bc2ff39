"""A chart's files: ``<name>.png`` (slides), ``<name>.pdf`` (vector) and ``<name>.csv`` (its data), the same bytes
on every run."""

from __future__ import annotations

import contextlib
import io
import threading
from pathlib import Path

import matplotlib
import pandas as pd

from .style import _RC, PNG_DPI, Chart


# A chart's PDF embeds a subset of each font it uses (pdf.fonttype 42: the text stays text). matplotlib makes the
# subset with fontTools, keeping the font's substitution and positioning tables (GSUB, GPOS, GDEF); a PDF never uses
# them (matplotlib has already placed every glyph, with its own kerning), and subsetting DejaVu Sans's took most of
# the time a chart's PDF took (about 0.1-0.2 s a font, 2 or 3 fonts a chart, every run). The same subset without
# them: the same glyphs, metrics, character map and names, so the same text, searchable and editable.
_LAYOUT_TABLES = ["GSUB", "GPOS", "GDEF"]
# the tables matplotlib's own subsetting drops (matplotlib 3.10, backends/_backend_pdf_ps.py)
_MPL_DROPPED = ["FFTM", "PfEd", "BDF", "meta", "MERG", "TSIV", "Zapf", "bdat", "bloc", "cidg", "fdsc", "feat", "fmtx",
                "fond", "just", "kerx", "ltag", "morx", "trak", "xref"]
_SAVING_PDF = threading.Lock()  # one PDF save at a time swaps matplotlib's subsetting


def _glyphs_subset(fontfile: str, characters: str):
    """matplotlib's ``_backend_pdf_ps.get_glyphs_subset`` (the same options) without the layout tables."""
    from fontTools import subset

    options = subset.Options(glyph_names=True, recommended_glyphs=True)
    options.drop_tables += _MPL_DROPPED + _LAYOUT_TABLES
    if fontfile.endswith(".ttc"):
        options.font_number = 0
    font = subset.load_font(fontfile, options)
    subsetter = subset.Subsetter(options=options)
    subsetter.populate(text=characters)
    subsetter.subset(font)
    return font


@contextlib.contextmanager
def _lean_pdf_fonts():
    """While a PDF is saved: fonts subset by :func:`_glyphs_subset`."""
    from matplotlib.backends import _backend_pdf_ps

    with _SAVING_PDF:
        original = _backend_pdf_ps.get_glyphs_subset
        _backend_pdf_ps.get_glyphs_subset = _glyphs_subset
        try:
            yield
        finally:
            _backend_pdf_ps.get_glyphs_subset = original


# zlib's level for a chart's PNG: 3 rather than Pillow's default 6 makes the six meeting charts' PNGs about a quarter
# quicker (1.43 -> 1.10 s) and, on these flat-colour charts, slightly smaller (2,683 -> 2,554 KB); the same pixels.
PNG_COMPRESSION = 3


def _csv_bytes(data: pd.DataFrame) -> bytes:
    return data.to_csv(index=False, lineterminator="\n").encode("utf-8")


def chart_files(chart: Chart, *, dpi: int = PNG_DPI,
                formats: tuple[str, ...] = ("png", "pdf", "csv")) -> dict[str, bytes]:
    """``{'png': ..., 'pdf': ..., 'csv': ...}``: the chart's files as bytes (no file I/O).

    Deterministic: the PNG carries fixed metadata (the title; no software version), the PDF no creation date or
    producer, and the CSV is written with fixed line endings and full float precision (numbers round-trip)."""
    unknown = set(formats) - {"png", "pdf", "csv"}
    if unknown:
        raise ValueError(f"unknown format(s) {', '.join(sorted(unknown))}; use png, pdf, csv")
    out = {}
    with matplotlib.rc_context(_RC):
        if "png" in formats:
            buf = io.BytesIO()
            chart.fig.savefig(buf, format="png", dpi=dpi, metadata={"Title": chart.title, "Software": None},
                              facecolor="white", pil_kwargs={"compress_level": PNG_COMPRESSION})
            out["png"] = buf.getvalue()
        if "pdf" in formats:
            buf = io.BytesIO()
            with _lean_pdf_fonts():
                chart.fig.savefig(buf, format="pdf", metadata={"Title": chart.title, "Creator": "analysis.report.charts",
                                                                "Producer": None, "CreationDate": None},
                                  facecolor="white")
            out["pdf"] = buf.getvalue()
    if "csv" in formats:
        out["csv"] = _csv_bytes(chart.data)
    return out


def save_chart(chart: Chart, out_dir: str | Path, *, dpi: int = PNG_DPI) -> list[Path]:
    """Write ``<name>.png`` (slides, 16:9), ``<name>.pdf`` (vector) and ``<name>.csv`` (the data behind it)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for ext, data in chart_files(chart, dpi=dpi).items():
        p = out / f"{chart.name}.{ext}"
        p.write_bytes(data)
        written.append(p)
    return written
