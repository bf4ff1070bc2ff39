"""The public record as a monthly series: ``month, incidents``, the input of the interrupted time series.

The model itself is pure numerics and lives in :mod:`analysis.stats.its`; this module knows the standard frame
of :mod:`analysis.public` and its counting rule (:func:`analysis.public.frame.count`).
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from ..intake.problems import UnusableInputError, problem
from .frame import count


def monthly_counts(frame: pd.DataFrame, *, start: str | dt.date | None = None, end: str | dt.date | None = None,
                   drop_incomplete: bool = True) -> pd.DataFrame:
    """``month, incidents``: one row per calendar month from the first to the last month of the data.

    Takes the standard frame of :mod:`analysis.public` (any form, including the daily count tables).
    Counts distinct incident numbers when the source has them (an incident in the month of its earliest
    date), else rows. Months without records count 0. ``drop_incomplete`` drops the last month when the
    data stop before its last day (the data's last date is read as its end: a month with no records at its
    end cannot be told from a month the data do not cover). ``start`` / ``end`` (dates or "YYYY-MM") keep
    the months in between, inclusive.
    """
    if frame.empty:
        raise UnusableInputError([problem("no_rows", "no records to count",
                                          file=frame.attrs.get("source_file", ""))])
    counts = count(frame, ["month"]).set_index("month")["n"]
    last_day = frame["date"].max()
    first, last = frame["month"].min(), frame["month"].max()
    if drop_incomplete and last_day < last + pd.offsets.MonthEnd(0):
        last = last - pd.offsets.MonthBegin(1)
    lo = max(first, _month(start)) if start is not None else first
    hi = min(last, _month(end)) if end is not None else last
    months = pd.date_range(lo, hi, freq="MS")
    if len(months) == 0:
        raise UnusableInputError([problem("no_rows", f"no complete months between {lo:%Y-%m} and {hi:%Y-%m}",
                                          file=frame.attrs.get("source_file", ""))])
    out = pd.DataFrame({"month": months, "incidents": counts.reindex(months, fill_value=0).to_numpy()})
    out["incidents"] = out["incidents"].astype("int64")
    return out


def _month(x) -> pd.Timestamp:
    return pd.Timestamp(str(x) if not isinstance(x, str) or len(x) > 7 else f"{x}-01").to_period("M").to_timestamp()
