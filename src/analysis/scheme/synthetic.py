"""How synthetic data is marked in the data itself: every report id starts with ``SYN-``.

The synthetic example (:mod:`analysis.coders.synth`) writes the mark; every stage that must say SYNTHETIC DATA
(deriving, tables, charts, the pack) reads it from here, so no stage has to import the generator.
"""

from __future__ import annotations

import pandas as pd

SYNTHETIC_PREFIX = "SYN-"


def is_synthetic(incidents: pd.DataFrame) -> bool:
    """True when any report in ``incidents`` is synthetic (so every output must say SYNTHETIC DATA)."""
    return bool(incidents["report_id"].astype(str).str.startswith(SYNTHETIC_PREFIX).any())
