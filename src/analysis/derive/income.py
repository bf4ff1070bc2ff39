"""Buyer income strata from the residence ZIP code, through a US Census ACS median-household-income table.

The user supplies the table (ACS table B19013 for ZIP Code Tabulation Areas, downloaded from
data.census.gov, or the older American FactFinder layout). Without it, every buyer's stratum is
``not_available``; that is said once, not treated as an error.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from ..scheme.config import StudyConfig

NOT_AVAILABLE = "not_available"
NOT_DOCUMENTED = "not_documented"
NOT_IN_LOOKUP = "zip_not_in_lookup"
NOT_APPLICABLE = "not_applicable"
STRATUM_REASONS = (NOT_IN_LOOKUP, NOT_DOCUMENTED, NOT_AVAILABLE, NOT_APPLICABLE)

# (zip column candidates, income column candidates), newest layout first
_ZIP_COLUMNS = ["NAME", "GEO_ID", "GEO.id2", "GEO.display-label", "zip", "ZIP", "zcta"]
_INCOME_COLUMNS = ["B19013_001E", "HD01_VD01", "median_household_income", "median_income"]


class IncomeLookupError(ValueError):
    """The income lookup table is not in a layout this module understands."""


def _zip_of(value: object) -> str | None:
    m = re.search(r"(\d{5})\s*$", str(value).strip())
    return m.group(1) if m else None


def _income_of(value: object) -> float:
    s = str(value).strip().replace(",", "").replace("$", "")
    if s.endswith("+"):  # '250,000+' top-coded
        s = s[:-1]
    if s.endswith("-") and s[:-1].isdigit():  # '2,500-' bottom-coded
        s = s[:-1]
    try:
        return float(s)
    except ValueError:
        return np.nan  # '-', '**', '(X)', 'N': no estimate


def parse_acs_income(frame: pd.DataFrame, source: str = "income lookup") -> pd.DataFrame:
    """ZIP -> median household income from an ACS B19013 table (read with ``dtype=str``).

    Returns columns ``zip`` and ``median_income`` (NaN where the ACS has no estimate).
    """
    zcol = next((c for c in _ZIP_COLUMNS if c in frame.columns), None)
    icol = next((c for c in _INCOME_COLUMNS if c in frame.columns), None)
    if zcol is None or icol is None:
        raise IncomeLookupError(
            f"{source}: not an ACS median household income table; expected a ZIP column "
            f"({' / '.join(_ZIP_COLUMNS)}) and an income column ({' / '.join(_INCOME_COLUMNS)}), "
            f"found: {', '.join(map(str, frame.columns))}"
        )
    zips = frame[zcol].map(_zip_of)
    income = frame[icol].map(_income_of)
    out = pd.DataFrame({"zip": zips, "median_income": income})
    out = out[out["zip"].notna()].drop_duplicates("zip", keep="first").reset_index(drop=True)
    if out.empty:
        raise IncomeLookupError(f"{source}: no row has a five-digit ZIP code in column {zcol!r}")
    return out


def income_stratum(
    zips: pd.Series, roles: pd.Series, lookup: pd.DataFrame | None, cfg: StudyConfig
) -> pd.Series:
    """Income stratum code for each person: a stratum for buyers with a known ZIP, otherwise why not."""
    out = pd.Series(NOT_APPLICABLE, index=zips.index, dtype=object)
    buyer = roles == "buyer"
    out[buyer] = NOT_AVAILABLE if lookup is None else NOT_IN_LOOKUP
    out[buyer & (zips == "-8")] = NOT_DOCUMENTED
    if lookup is None:
        return out
    income = zips.map(dict(zip(lookup["zip"], lookup["median_income"])))
    known = buyer & income.notna()
    bins = [-np.inf, *cfg.income_breaks, np.inf]
    strata = pd.cut(income[known], bins=bins, labels=list(cfg.income_codes), right=False)
    out[known] = strata.astype(object)
    return out
