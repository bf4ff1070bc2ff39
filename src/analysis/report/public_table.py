"""The public record's before/after table, in a module of its own so that ``public tables`` imports only what it
needs (not the report pipeline, its charts and notebooks): :func:`public_comparison`, re-exported by
:mod:`analysis.report.pipeline`."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..scheme.codebook import Codebook
from ..scheme.config import StudyConfig
from ..tables.export import provenance
from .publish import TableItem


def public_comparison(compared: list, frame: pd.DataFrame, cb: Codebook, cfg: StudyConfig, hashes: dict[str, str],
                      path: str = "public_before_after") -> TableItem:
    """The public record's before/after table (``compared``: (name, label, period counts) per variable), made
    with the coded data's comparison methods (:func:`analysis.tables.compare.from_counts`), for sharing."""
    from ..public.frame import counting_unit
    from ..tables.compare import from_counts

    ct = from_counts(compared, population=f"SFPD public PROSTITUTION records ({counting_unit(frame)})", config=cfg)
    limitation = frame.attrs.get("limitation", "")
    source = "SFPD public incident data (DataSF tmnf-yvry), file " + Path(str(frame.attrs.get("source_file", ""))).name
    return TableItem(path, "The public record, before and after", ct,
                     ct.methods_text() + (f" Limitation: {limitation}" if limitation else ""),
                     provenance(hashes, cb.version, synthetic=False), source_text=source)
