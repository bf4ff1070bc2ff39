"""The standard set of before/after tables.

``standard_tables`` makes the incident table, the person tables (everyone, and each role the committee asked
about) and, when the coded data has prosecution outcomes, the outcomes tables (people with an outcome, and
people charged with selling sex). The person tables leave out the outcome variables (the codebook's derived
persons variables with topic ``outcomes``), which the outcomes tables show. Functions take and return data: the
shared files (suppressed, with the footer, in every format) are made by the one publishing step,
:func:`analysis.report.publish.publish`.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ..scheme.codebook import Codebook, load_codebook
from ..scheme.config import StudyConfig, load_study_config
from .compare import ComparisonTable, before_after, variable_specs

# (file name, title, table, role)
STANDARD = (
    ("incidents", "Incident reports, before and after", "incidents", None),
    ("persons_all", "Everyone on the reports, before and after", "persons", None),
    ("persons_sellers", "People selling sex, before and after", "persons", "seller"),
    ("persons_buyers", "Buyers, before and after", "persons", "buyer"),
    ("persons_third_parties", "Third parties / exploiters, before and after", "persons", "third_party"),
    ("persons_trafficking_victims", "Trafficking victims, before and after", "persons", "trafficking_victim"),
)

# (file name, title, population in words, the yes/no variables that pick the people): the outcomes tables
OUTCOMES = "outcomes"  # the topic of the outcome variables in the codebook
OUTCOME_TABLES = (
    ("outcomes_all", "Prosecution outcomes: people with a DA or court outcome, before and after",
     "people with a prosecution outcome (DA or court records)", ("da_outcome_known",)),
    ("outcomes_selling", "Prosecution outcomes: people charged with selling sex, before and after",
     "people charged with selling sex, with a prosecution outcome", ("da_outcome_known", "charged_selling")),
)
NO_OUTCOMES_NOTE = ("Prosecution outcomes: the coded data has no outcome rows (no outcomes table, or none valid), "
                    "so the outcomes tables were left out.")

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
    outcome_vars = set(outcome_variables(cb))
    for name, title, table, role in STANDARD:
        data = derived[table]
        if role is not None and not (data["role"].astype(str) == role).any():
            continue
        specs = [s for s in variable_specs(table, data, cb) if s.name not in outcome_vars]
        ct = before_after(data, table, role=role, frame=frame, n_boot=n_boot, specs=specs, codebook=cb, config=cfg)
        out.append(NamedTable(name, title, ct))
    if has_outcomes(derived["persons"]):
        out += outcome_tables(derived["persons"], frame, n_boot=n_boot, codebook=cb, config=cfg)
    return out


def outcome_variables(cb: Codebook) -> list[str]:
    """The derived persons variables about prosecution outcomes (topic ``outcomes`` in the codebook)."""
    return [d.name for d in cb.derived.get("persons", ()) if d.topic == OUTCOMES]


def has_outcomes(persons: pd.DataFrame) -> bool:
    """Whether any person's prosecution outcome is known (the coded data has valid outcome rows)."""
    return "da_outcome_known" in persons and bool(persons["da_outcome_known"].notna().any())


def outcome_tables(persons: pd.DataFrame, frame: dict[int, int] | None = None, *, n_boot: int = 2000,
                   codebook: Codebook | None = None, config: StudyConfig | None = None) -> list[NamedTable]:
    """The outcomes tables (:data:`OUTCOME_TABLES`): role and the outcome variables, before and after, for the
    people each table is about (a table with no one in it is left out)."""
    cb = codebook or load_codebook()
    out = []
    for name, title, population, picks in OUTCOME_TABLES:
        chosen = pd.Series(True, index=persons.index)
        for col in picks:
            chosen &= persons[col].fillna(False).astype(bool)
        people = persons[chosen]
        if people.empty:
            continue
        variables = ["role"] * (people["role"].astype(str).nunique() > 1) + [
            v for v in outcome_variables(cb) if v not in picks]
        ct = before_after(people, "persons", variables=variables, frame=frame, n_boot=n_boot,
                          population=population, codebook=cb, config=config)
        out.append(NamedTable(name, title, ct))
    return out
