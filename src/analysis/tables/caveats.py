"""Caveats that travel with a variable: a table (or chart) that shows the variable repeats the codebook's
``caveat`` for it in its methods text, e.g. that race as SFPD recorded it is not comparable between 2009/10 and
2014/15 (race_recorded, race_ethnicity, trans_woman_of_color)."""

from __future__ import annotations

from ..scheme.codebook import Codebook
from .compare import ComparisonTable


def variable_caveats(variables, table: str, cb: Codebook) -> list[str]:
    """The distinct caveats of ``variables`` (coded or derived variables of ``table``), in codebook order."""
    wanted = set(variables)
    found = [v.caveat for v in cb.table(table).variables if v.name in wanted and v.caveat]
    found += [d.caveat for d in cb.derived.get(table, ()) if d.name in wanted and d.caveat]
    return list(dict.fromkeys(found))


def add_caveats(ct: ComparisonTable, table: str, cb: Codebook) -> ComparisonTable:
    """``ct`` with the caveats of the variables it shows added to its notes (and so to its methods text and
    every footer made from it). Returns the same table."""
    shown = ct.rows["variable"].unique().tolist() if "variable" in ct.rows else []
    ct.notes += [c for c in variable_caveats(shown, table, cb) if c not in ct.notes]
    return ct
