"""Information loss of a protection, per shared item, and why each larger count was hidden (for the analyst only:
it says which counts are small)."""

from __future__ import annotations

import pandas as pd

from .protect import Protection

SUMMARY_COLUMNS = ["item", "counts", "shown", "suppressed", "suppressed_at_or_above_threshold", "withheld",
                   "merged"]
DETAIL_COLUMNS = ["item", "count", "value", "small", "range_min", "range_max", "protects"]


def information_loss(protection: Protection) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(summary, detail): per shared item, its printed counts by what happened to them; and every suppressed count
    with its value, the exact check's range when it is small, and, when it is not, the small counts it protects."""
    reg = protection.register
    thr = protection.threshold
    rows, detail = [], []
    for item, keys in reg.items.items():
        printed = [k for k in keys if reg.cells[k].published]
        states = [protection.state(k) for k in printed]
        hidden = [k for k, st in zip(printed, states) if st == "hidden"]
        merged = sorted({f"{m.column}: {m.label}" for k in printed for m in protection.merges_for(k.population,
                                                                                               k.column)})
        rows.append({"item": item, "counts": len(printed), "shown": states.count("shown"), "suppressed": len(hidden),
                     "suppressed_at_or_above_threshold": sum(protection.values.get(k, 0) >= thr for k in hidden),
                     "withheld": states.count("withheld"), "merged": "; ".join(merged)})
        for k in hidden:
            value = protection.values.get(k, reg.cells[k].value)
            lo, hi = protection.ranges.get(k, ("", ""))
            detail.append({"item": item, "count": k.describe(), "value": value, "small": 0 < value < thr,
                           "range_min": lo, "range_max": hi,
                           "protects": "; ".join(t.describe() for t in protection.reasons.get(k, []))})
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS), pd.DataFrame(detail, columns=DETAIL_COLUMNS)
