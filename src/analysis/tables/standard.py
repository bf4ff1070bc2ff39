"""The standard set of before/after tables.

``standard_tables`` makes the incident table and the person tables (everyone, and each role the committee asked
about). Functions take and return data: the shared files (suppressed, with the footer, in every format) are made
by the one publishing step, :func:`analysis.report.publish.publish`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from ..scheme.codebook import Codebook, load_codebook
from ..scheme.config import StudyConfig, load_study_config
from .compare import ComparisonTable, FrameError, before_after, check_frame, sampled_reports

__all__ = ["FrameError", "NamedTable", "SOURCE", "STANDARD", "check_frame", "parse_frame", "standard_tables"]

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


@dataclass
class NamedTable:
    name: str
    title: str
    table: ComparisonTable


def _whole(value) -> int | None:
    """``value`` as a whole number (an int, or text / a float holding one), else None."""
    try:
        f = float(str(value).strip())
    except (TypeError, ValueError):
        return None
    return int(f) if math.isfinite(f) and f == int(f) else None


def parse_frame(frame: pd.DataFrame, source: str = "sampling frame",
                sampled: dict[int, int] | None = None) -> dict[int, int]:
    """A sampling frame given as a table with columns ``year`` and ``reports`` -> {year: reports}.

    Each year once, each count a whole number of at least 1 (a message names the row, the year and the value).
    With ``sampled`` (reports sampled per year) the frame is also checked against the sample
    (:func:`check_frame`): every sampled year present, with no fewer reports than were sampled.
    """
    cols = {c.strip().lower(): c for c in frame.columns}
    if "year" not in cols or "reports" not in cols:
        raise FrameError(f"{source}: needs columns 'year' and 'reports' (found: {', '.join(map(str, frame.columns))})")
    out: dict[int, int] = {}
    for i, (y, n) in enumerate(zip(frame[cols["year"]], frame[cols["reports"]]), start=2):
        year, count = _whole(y), _whole(n)
        if year is None:
            raise FrameError(f"{source}, row {i}: the year must be a whole number (got {y!r})")
        known = f" ({sampled[year]} reports were sampled in {year})" if sampled and year in sampled else ""
        if count is None or count < 1:
            raise FrameError(f"{source}, row {i}: the count of reports for {year} must be a whole number of at least "
                             f"1 (got {n!r}){known}")
        if year in out:
            raise FrameError(f"{source}, row {i}: {year} is given twice ({out[year]} and {count} reports)")
        out[year] = count
    if sampled is not None:
        check_frame(out, sampled, source)
    return out


def standard_tables(derived: dict[str, pd.DataFrame], frame: dict[int, int] | None = None, *,
                    n_boot: int = 2000, codebook: Codebook | None = None,
                    config: StudyConfig | None = None) -> list[NamedTable]:
    cb = codebook or load_codebook()
    cfg = config or load_study_config()
    # reports sampled per year, from the incident table: a person table is a domain of the same design
    sampled = sampled_reports(derived["incidents"]) if frame is not None else None
    out = []
    for name, title, table, role in STANDARD:
        data = derived[table]
        if role is not None and not (data["role"].astype(str) == role).any():
            continue
        ct = before_after(data, table, role=role, frame=frame, sampled=sampled, n_boot=n_boot, codebook=cb,
                          config=cfg)
        out.append(NamedTable(name, title, ct))
    return out
