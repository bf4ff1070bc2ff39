"""The standard set of before/after tables.

``standard_tables`` makes the incident table and the person tables (everyone, and each role the committee asked
about). Functions take and return data: the shared files (suppressed, with the footer, in every format) are made
by the one publishing step, :func:`analysis.report.publish.publish`.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ..scheme.codebook import Codebook, load_codebook
from ..scheme.config import StudyConfig, load_study_config
from .caveats import add_caveats
from .compare import ComparisonTable, before_after

# (file name, title, table, role)
STANDARD = (
    ("incidents", "Incident reports, before and after", "incidents", None),
    ("persons_all", "Everyone on the reports, before and after", "persons", None),
    ("persons_sellers", "People selling sex, before and after", "persons", "seller"),
    ("persons_buyers", "Buyers, before and after", "persons", "buyer"),
    ("persons_third_parties", "Third parties / exploiters, before and after", "persons", "third_party"),
    ("persons_trafficking_victims", "Trafficking victims, before and after", "persons", "trafficking_victim"),
)

SOURCE = "coded SFPD incident reports labelled prostitution and/or human trafficking (random sample)"


class FrameError(ValueError):
    """A sampling-frame table that cannot be used (wrong columns, values that are not whole numbers)."""


@dataclass
class NamedTable:
    name: str
    title: str
    table: ComparisonTable


def parse_frame(frame: pd.DataFrame, source: str = "sampling frame") -> dict[int, int]:
    """A sampling frame given as a table with columns ``year`` and ``reports`` -> {year: reports}."""
    cols = {c.strip().lower(): c for c in frame.columns}
    if "year" not in cols or "reports" not in cols:
        raise FrameError(f"{source}: needs columns 'year' and 'reports' (found: {', '.join(map(str, frame.columns))})")
    out = {}
    for i, (y, n) in enumerate(zip(frame[cols["year"]], frame[cols["reports"]]), start=2):
        try:
            out[int(y)] = int(n)
        except (TypeError, ValueError):
            raise FrameError(f"{source}, row {i}: year and reports must be whole numbers (got {y!r}, {n!r})") from None
    return out


def standard_tables(derived: dict[str, pd.DataFrame], frame: dict[int, int] | None = None, *,
                    n_boot: int = 2000, codebook: Codebook | None = None,
                    config: StudyConfig | None = None) -> list[NamedTable]:
    cb = codebook or load_codebook()
    cfg = config or load_study_config()
    out = []
    for name, title, table, role in STANDARD:
        data = derived[table]
        if role is not None and not (data["role"].astype(str) == role).any():
            continue
        ct = add_caveats(before_after(data, table, role=role, frame=frame, n_boot=n_boot, codebook=cb, config=cfg),
                         table, cb)
        out.append(NamedTable(name, title, ct))
    return out
