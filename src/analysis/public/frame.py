"""Counts from the standard frame: incidents per year (the sampling frame), before/after count tables, and
the stratified random sample of incident numbers a researcher would request from SFPD.

Counting rule, everywhere: a source with incident numbers is counted in *incidents* (distinct incident
numbers; an incident with several offence rows counts once, in the year / month / period of its earliest
date); a source without them (Kaggle rows) is counted in rows; daily count tables in the rows they count.
The count tables are tidy (``period, category, n``) for :mod:`analysis.tables.compare`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..intake.problems import UnusableInputError, problem
from ..scheme.config import StudyConfig, load_study_config
from . import descriptions as D
from .schemas import (
    FORMATS,
    FRAME_OTHER_DESCRIPTIONS,
    RESOLUTION_GROUPS,
    RESOLUTION_TABLE_GROUPS,
    UNKNOWN_DISTRICT,
)

# --- counting -----------------------------------------------------------------------------------------


def has_incident_numbers(frame: pd.DataFrame) -> bool:
    return len(frame) > 0 and bool(frame["incident_number"].notna().all())


def counting_unit(frame: pd.DataFrame) -> str:
    """"incidents" (distinct incident numbers) or "rows" (offence rows: Kaggle rows, daily tables)."""
    return "incidents" if has_incident_numbers(frame) else "rows"


def with_incident_dates(frame: pd.DataFrame) -> pd.DataFrame:
    """Each row dated by its incident's earliest date (``date``, ``year``, ``month`` replaced)."""
    if not has_incident_numbers(frame):
        return frame
    out = frame.copy()
    out["date"] = out.groupby("incident_number")["date"].transform("min")
    out["year"] = out["date"].dt.year.astype("int64")
    out["month"] = out["date"].dt.to_period("M").dt.to_timestamp()
    return out


def count(frame: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """``by`` + ``n``: distinct incidents per group when the frame has incident numbers, else summed rows.

    With incident numbers an incident is counted once per group it falls in (once per year; once per
    description when counting descriptions, so description shares can add to more than 1).
    """
    return _count_dated(with_incident_dates(frame), by)


def _count_dated(f: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """:func:`count` of a frame :func:`with_incident_dates` has dated (or a part of one holding whole incidents)."""
    if f.empty:
        return pd.DataFrame({**{b: pd.Series(dtype=object) for b in by}, "n": pd.Series(dtype="int64")})
    if has_incident_numbers(f):
        out = f.groupby(by, as_index=False, observed=True)["incident_number"].nunique()
        out = out.rename(columns={"incident_number": "n"})
    else:
        out = f.groupby(by, as_index=False, observed=True)["n_rows"].sum().rename(columns={"n_rows": "n"})
    out["n"] = out["n"].astype("int64")
    return out


def per_year(frame: pd.DataFrame) -> pd.DataFrame:
    """``year, n`` for every year in the frame."""
    return count(frame, ["year"]).sort_values("year").reset_index(drop=True)


# --- the sampling frame -------------------------------------------------------------------------------


def sampling_frame(frame: pd.DataFrame, config: StudyConfig | None = None,
                   years: tuple[int, ...] | None = None) -> pd.DataFrame:
    """One row per incident of the sampled years: incident_number, year, period, date, description.

    ``frame`` must have incident numbers (the incident table, a DataSF export or the Socrata JSON). An
    incident with several rows keeps its earliest date and the description of its first row.
    """
    cfg = config or load_study_config()
    if not has_incident_numbers(frame):
        src = frame.attrs.get("source_file", "the data")
        raise UnusableInputError([problem(
            "no_incident_numbers", "a sampling frame needs incident numbers; this source has none "
            f"({FORMATS.get(frame.attrs.get('source_format', ''), {}).get('label', 'unknown form')})", file=src)])
    yrs = tuple(years) if years else cfg.sampled_years
    f = with_incident_dates(frame).sort_values(["incident_number", "date", "time", "source_row"], kind="stable")
    first = f.drop_duplicates("incident_number")
    first = first[first["year"].isin(yrs)]
    out = first[["incident_number", "year", "date", "description"]].copy()
    out["period"] = out["year"].map(cfg.year_to_period).fillna("")
    return out[["incident_number", "year", "period", "date", "description"]].sort_values(
        ["year", "incident_number"]).reset_index(drop=True)


def frame_sizes(frame: pd.DataFrame, config: StudyConfig | None = None) -> pd.DataFrame:
    """Incidents per sampled year: ``year, period, n`` (the denominators of the coded sample's weights)."""
    cfg = config or load_study_config()
    sf = sampling_frame(frame, cfg)
    sizes = sf.groupby("year").size().reindex(list(cfg.sampled_years), fill_value=0)
    return pd.DataFrame({"year": sizes.index.astype("int64"),
                         "period": [cfg.year_to_period[y] for y in sizes.index],
                         "n": sizes.to_numpy().astype("int64")})


def frame_lower_bound(frame: pd.DataFrame) -> str:
    """Why the frame's incidents per year are only a lower bound ("" when its source form keeps every
    prostitution and human-trafficking description): the incident table holds only descriptions containing
    "PROST", without human trafficking, pimping and pandering (issue 14)."""
    forms = set(frame["source_format"]) if len(frame) else {frame.attrs.get("source_format", "")}
    return "; ".join(FORMATS[f]["frame_lower_bound"] for f in sorted(forms)
                     if FORMATS.get(f, {}).get("frame_lower_bound"))


def frame_table(frame: pd.DataFrame, config: StudyConfig | None = None) -> pd.DataFrame:
    """:func:`frame_sizes` with what each year's count holds: ``trafficking_pimping_pandering`` (incidents with a
    description naming human trafficking, pimping or pandering, counted in ``n``) and ``bound`` ("complete", or
    "lower bound: ..." when the source leaves those incidents out: :func:`frame_lower_bound`)."""
    cfg = config or load_study_config()
    out = frame_sizes(frame, cfg)
    f = with_incident_dates(frame)
    text = f["description"].fillna("").astype(str).str.upper()
    other = f[text.str.contains("|".join(FRAME_OTHER_DESCRIPTIONS), regex=True)]
    per = other.groupby("year")["incident_number"].nunique() if len(other) else pd.Series(dtype="int64")
    out["trafficking_pimping_pandering"] = out["year"].map(per).fillna(0).astype("int64")
    reason = frame_lower_bound(frame)
    out["bound"] = f"lower bound: {reason}" if reason else "complete"
    return out


def draw_sample(sframe: pd.DataFrame, per_year: int, seed: int) -> pd.DataFrame:
    """A reproducible stratified random sample: ``per_year`` incidents from each year of ``sframe``
    (all of them when a year has fewer). The same frame, size and seed give the same sample.

    Returns the sampled rows of ``sframe`` with ``draw`` (1.. within the year, in the order drawn) and
    ``year_frame_n`` (incidents in that year's frame), sorted by year and draw.
    """
    if per_year < 1:
        raise ValueError(f"per_year must be at least 1; got {per_year}")
    rng = np.random.default_rng(seed)
    parts = []
    for year, grp in sframe.sort_values(["year", "incident_number"]).groupby("year", sort=True):
        k = min(per_year, len(grp))
        idx = rng.choice(len(grp), size=k, replace=False)
        part = grp.iloc[idx].copy()
        part["draw"] = np.arange(1, k + 1)
        part["year_frame_n"] = len(grp)
        parts.append(part)
    if not parts:
        return sframe.head(0).assign(draw=pd.Series(dtype="int64"), year_frame_n=pd.Series(dtype="int64"))
    return pd.concat(parts).reset_index(drop=True)


# --- before / after count tables --------------------------------------------------------------------------


def _periods(frame: pd.DataFrame, cfg: StudyConfig) -> pd.DataFrame:
    """The rows of the incidents dated in a study period: each dated by its incident, with ``period``."""
    f = with_incident_dates(frame)
    f = f.assign(period=f["year"].map(cfg.year_to_period))
    return f[f["period"].notna()]


def _tidy(f: pd.DataFrame, column: str, levels: list[str], cfg: StudyConfig,
          extra_last: tuple[str, ...] = ()) -> pd.DataFrame:
    """``period, category, n`` of ``f``, a frame :func:`_periods` has dated (whole incidents: an incident's rows
    share its date, so its period)."""
    counts = _count_dated(f, ["period", column]) if len(f) else pd.DataFrame(columns=["period", column, "n"])
    counts = counts.rename(columns={column: "category"})
    present = [c for c in counts["category"].unique() if c not in levels]
    cats = list(levels) + sorted(c for c in present if c not in extra_last) + [c for c in extra_last if c in present]
    grid = pd.MultiIndex.from_product([list(cfg.period_codes), cats], names=["period", "category"])
    out = counts.set_index(["period", "category"])["n"].reindex(grid, fill_value=0).reset_index()
    out["n"] = out["n"].astype("int64")
    return out


def _require(frame: pd.DataFrame, column: str, what: str) -> None:
    if len(frame) and (frame[column] == "").all():
        src = frame.attrs.get("source_file", "the data")
        raise UnusableInputError([problem("no_column", f"this source has no {what} "
                                          f"({FORMATS.get(frame['source_format'].iloc[0], {}).get('label', '')})",
                                          file=src, variable=column)])


# The count tables, by name: (the standard column they need, what it is called in a message, and the level of
# :func:`description_counts`, for the description tables).
COUNT_TABLES = {"resolution": ("resolution_group", "resolution", None),
                "description_group": ("description", "description", "group"),
                "charge_category": ("description", "description", "charge_category"),
                "description": ("description", "description", "description"),
                "district": ("district", "police district", None)}


def _count_table(name: str, frame: pd.DataFrame, dated: pd.DataFrame, cfg: StudyConfig) -> pd.DataFrame:
    """Count table ``name`` of ``frame``, from ``dated``: its rows in a study period (:func:`_periods`), and
    classified (:func:`~analysis.public.descriptions.classify`) for the description tables."""
    column, what, level = COUNT_TABLES[name]
    _require(frame, column, what)
    if name == "resolution":
        return _tidy(dated, "resolution_group", list(RESOLUTION_TABLE_GROUPS), cfg,
                     extra_last=tuple(g for g in RESOLUTION_GROUPS if g not in RESOLUTION_TABLE_GROUPS))
    if name == "district":
        from .load import _districts

        return _tidy(dated, "district", list(_districts().values()), cfg, extra_last=(UNKNOWN_DISTRICT,))
    if level == "group":
        key, levels = dated["description_group"].replace("", "unmapped"), list(D.GROUP_ORDER)
    elif level == "charge_category":
        from ..scheme.codebook import load_codebook

        key = dated["charge_category"].replace("", "unmapped")
        levels = [c["code"] for c in load_codebook().charge_classification["categories"]]
    elif level == "description":
        key, levels = dated["description"], []
    else:
        raise ValueError(f"level must be group, charge_category or description; got {level!r}")
    return _tidy(dated.assign(key=key), "key", levels, cfg, extra_last=("unmapped",))


def resolution_counts(frame: pd.DataFrame, config: StudyConfig | None = None) -> pd.DataFrame:
    """``period, category, n``: records by resolution group (cited, booked, none, other) per period.

    With the Kaggle rows (alternate weeks only) these are rows in the covered weeks: use the shares, not
    the totals.
    """
    cfg = config or load_study_config()
    return _count_table("resolution", frame, _periods(frame, cfg), cfg)


def description_counts(frame: pd.DataFrame, config: StudyConfig | None = None,
                       level: str = "group") -> pd.DataFrame:
    """``period, category, n``: the description mix per period.

    ``level``: "group" (public groups: soliciting, loitering, ...; "unmapped" for descriptions not in the
    mapping), "charge_category" (the codebook's categories), or "description" (SFPD text as is).
    """
    cfg = config or load_study_config()
    _require(frame, "description", "description")
    name = {"group": "description_group"}.get(level, level)
    if name not in COUNT_TABLES or COUNT_TABLES[name][2] != level:
        raise ValueError(f"level must be group, charge_category or description; got {level!r}")
    return _count_table(name, frame, D.classify(_periods(frame, cfg)), cfg)


def district_counts(frame: pd.DataFrame, config: StudyConfig | None = None) -> pd.DataFrame:
    """``period, category, n``: records by police district (codebook codes; "unknown" last) per period."""
    cfg = config or load_study_config()
    return _count_table("district", frame, _periods(frame, cfg), cfg)


def count_tables(frame: pd.DataFrame, config: StudyConfig | None = None,
                 names: tuple[str, ...] = tuple(COUNT_TABLES)) -> dict[str, pd.DataFrame | UnusableInputError]:
    """The count tables ``names`` (of :data:`COUNT_TABLES`) of one frame, each as its own function gives it
    (:func:`resolution_counts`, :func:`description_counts` at each level, :func:`district_counts`), from one
    dating and one classification of the frame's incidents. A table the source cannot give is, in its place,
    the :class:`UnusableInputError` its function raises."""
    cfg = config or load_study_config()
    dated = _periods(frame, cfg)
    if any(COUNT_TABLES[n][2] for n in names):
        dated = D.classify(dated)
    out: dict[str, pd.DataFrame | UnusableInputError] = {}
    for name in names:
        try:
            out[name] = _count_table(name, frame, dated, cfg)
        except UnusableInputError as exc:
            out[name] = exc
    return out


def with_shares(counts: pd.DataFrame) -> pd.DataFrame:
    """A tidy count table with ``share`` (n / the period's total) and ``period_n`` added."""
    out = counts.copy()
    out["period_n"] = out.groupby("period")["n"].transform("sum").astype("int64")
    out["share"] = (out["n"] / out["period_n"]).where(out["period_n"] > 0)
    return out


def share_table(counts: pd.DataFrame, digits: int = 1) -> pd.DataFrame:
    """Wide, for reading: one row per category, per period "n (share%)", and the period totals last."""
    s = with_shares(counts)
    s["cell"] = [f"{n} ({100 * sh:.{digits}f}%)" if pd.notna(sh) else f"{n}" for n, sh in zip(s["n"], s["share"])]
    wide = s.pivot(index="category", columns="period", values="cell")
    order = list(dict.fromkeys(counts["category"]))
    wide = wide.reindex(order)[list(dict.fromkeys(counts["period"]))]
    totals = s.groupby("period", sort=False)["period_n"].first()
    wide.loc["total"] = [str(int(totals[p])) for p in wide.columns]
    wide.columns.name = None
    wide.index.name = "category"
    return wide


# --- overviews for the notebook -------------------------------------------------------------------------


def describe_sources(frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per loaded file: name, file, form, records, rows dropped, first and last date, counting unit."""
    rows = []
    for key, f in frames.items():
        a = f.attrs
        rows.append({"name": key, "file": a.get("source_file", ""), "form": a.get("source_format", ""),
                     "records": len(f), "rows_dropped": a.get("rows_dropped", 0),
                     "first_date": f["date"].min().strftime("%Y-%m-%d") if len(f) else "",
                     "last_date": f["date"].max().strftime("%Y-%m-%d") if len(f) else "",
                     "counted_in": counting_unit(f)})
    return pd.DataFrame(rows)


def compare_years(frames: dict[str, pd.DataFrame], years: tuple[int, ...]) -> pd.DataFrame:
    """Counts per year side by side: one row per year, one column per source (in that source's unit)."""
    out = pd.DataFrame({"year": list(years)})
    for key, f in frames.items():
        n = per_year(f).set_index("year")["n"]
        out[f"{key} ({counting_unit(f)})"] = [int(n.get(y, 0)) for y in years]
    return out
