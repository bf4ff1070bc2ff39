"""A chart's files: ``<name>.png`` (slides), ``<name>.pdf`` (vector) and ``<name>.csv`` (its data), the same bytes
on every run."""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib
import pandas as pd

from .style import _RC, PNG_DPI, Chart


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
                              facecolor="white")
            out["png"] = buf.getvalue()
        if "pdf" in formats:
            buf = io.BytesIO()
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
