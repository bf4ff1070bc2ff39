"""The meeting's set of charts, in meeting order, with every chart's numbers computed before any figure is drawn.

:func:`chart_plans` gives each chart as a :class:`ChartPlan` (its before/after tables, and a function drawing it
with a protection), so the publishing step can register every count the charts show, protect everything shared at
once, and only then draw the charts; :func:`meeting_charts` draws them at once (a notebook, or a test).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import pandas as pd

from ...scheme.codebook import Codebook, load_codebook
from ...scheme.config import StudyConfig, load_study_config
from ...tables.compare import ComparisonTable
from . import charges, district, indicators, origin, people
from .charges import charges_by_role
from .district import districts
from .indicators import key_indicators
from .origin import case_origin
from .people import people_by_role
from .series import public_series
from .style import Chart

#: Each chart of the coded sample -> the function giving the before/after tables it needs.
COMPARISONS = {
    "key_indicators": indicators.comparisons,
    "case_origin": origin.comparisons,
    "charges_by_role": charges.comparisons,
    "people_by_role": people.comparisons,
    "districts": district.comparisons,
}


def _comparisons(name: str, tables: dict[str, pd.DataFrame], cfg: StudyConfig, cb: Codebook,
                 n_boot: int) -> dict[str, ComparisonTable]:
    """Every before/after table chart ``name`` needs, by key.

    :func:`meeting_charts` computes these for all charts before it draws any figure: the tests inside
    ``before_after`` (statsmodels' multiple-testing step runs the garbage collector) get slower with every live
    figure.
    """
    if name not in COMPARISONS:
        raise ValueError(f"no chart named {name!r}")
    return COMPARISONS[name](tables, cfg, cb, n_boot)


#: (chart, its table's key) -> the standard table (analysis.tables.standard.STANDARD) whose q-values it shows
Q_FAMILY = {("key_indicators", "incidents"): "incidents", ("key_indicators", "sellers"): "persons_sellers",
            ("case_origin", "origin"): "incidents", ("districts", "district"): "incidents",
            ("people_by_role", "roles"): "persons_all", ("people_by_role", "sellers"): "persons_sellers",
            ("charges_by_role", "seller"): "persons_sellers", ("charges_by_role", "buyer"): "persons_buyers",
            ("charges_by_role", "third_party"): "persons_third_parties",
            ("charges_by_role", "trafficking_victim"): "persons_trafficking_victims"}


def same_q(ct: ComparisonTable, standard: ComparisonTable) -> ComparisonTable:
    """``ct`` with the q-values of the standard table its rows come from (one adjustment family per table: the
    same q in the chart as in every table file); a variable not tested there has none."""
    import dataclasses

    q = standard.rows.drop_duplicates("column").set_index("column")["q_value"]
    rows = ct.rows.copy()
    rows["q_value"] = [q.get(c, float("nan")) if p == p else float("nan")
                       for c, p in zip(rows["column"], rows.get("p_value", pd.Series(float("nan"), index=rows.index)))]
    return dataclasses.replace(ct, rows=rows, q_family=standard)


@dataclass
class ChartPlan:
    """A chart before it is drawn: its name, the before/after tables whose counts it shows, and how to draw it
    given the publication's protection (:mod:`analysis.tables.disclosure`)."""

    name: str
    comparisons: list[ComparisonTable]
    draw: Callable[[object], Chart]


CODED_CHARTS = ("key_indicators", "case_origin", "charges_by_role", "people_by_role", "districts")


def chart_comparisons(tables: dict[str, pd.DataFrame], *, config: StudyConfig | None = None, n_boot: int = 2000,
                      codebook: Codebook | None = None) -> dict[str, dict[str, ComparisonTable]]:
    """The before/after tables of every chart of the coded sample (chart name -> key -> table), each with its own
    q-values: what :func:`chart_plans` computes first (given to it as ``comparisons``, they are not computed
    again)."""
    cfg = config or load_study_config()
    cb = codebook or load_codebook()
    return {name: _comparisons(name, tables, cfg, cb, n_boot) for name in CODED_CHARTS}


def chart_plans(tables: dict[str, pd.DataFrame], its_result=None, *, synthetic: bool,
                config: StudyConfig | None = None, n_boot: int = 2000,
                codebook: Codebook | None = None,
                standard: dict[str, ComparisonTable] | None = None,
                comparisons: dict[str, dict[str, ComparisonTable]] | None = None) -> list[ChartPlan]:
    """Every chart for the meeting as a :class:`ChartPlan`, in meeting order (numbers computed now, figures when
    drawn). Without ``its_result`` (no public data) the public-series chart is left out; the caller says so. With
    ``standard`` (the standard tables by name) each chart shows the q-values of the standard table its rows come
    from (:data:`Q_FAMILY`). ``comparisons``: :func:`chart_comparisons` of the same tables, computed before."""
    cfg = config or load_study_config()
    cb = codebook or load_codebook()
    coded = CODED_CHARTS
    # all numbers first, then figures
    cts = comparisons or chart_comparisons(tables, config=cfg, n_boot=n_boot, codebook=cb)
    if standard:
        cts = {name: {key: (same_q(ct, standard[Q_FAMILY[(name, key)]])
                            if Q_FAMILY.get((name, key)) in standard else ct) for key, ct in got.items()}
               for name, got in cts.items()}
    kw = {"synthetic": synthetic, "config": cfg, "codebook": cb}
    draw = {
        "key_indicators": lambda p: key_indicators(tables, n_boot=n_boot, _cts=cts["key_indicators"], protection=p,
                                                   **kw),
        "case_origin": lambda p: case_origin(tables, _cts=cts["case_origin"], protection=p, **kw),
        "charges_by_role": lambda p: charges_by_role(tables, n_boot=n_boot, _cts=cts["charges_by_role"],
                                                     protection=p, **kw),
        "people_by_role": lambda p: people_by_role(tables, n_boot=n_boot, _cts=cts["people_by_role"], protection=p,
                                                   **kw),
        "districts": lambda p: districts(tables, _cts=cts["districts"], protection=p, **kw),
    }
    plans = [ChartPlan(name, list(cts[name].values()), draw[name]) for name in coded[:4]]
    if its_result is not None:
        plans.append(ChartPlan("public_series", [], lambda p: public_series(its_result, synthetic=synthetic,
                                                                            config=cfg)))
    plans.append(ChartPlan("districts", list(cts["districts"].values()), draw["districts"]))
    return plans


def meeting_charts(tables: dict[str, pd.DataFrame], its_result=None, *, synthetic: bool,
                   config: StudyConfig | None = None, n_boot: int = 2000,
                   codebook: Codebook | None = None, protection=None,
                   standard: dict[str, ComparisonTable] | None = None,
                   comparisons: dict[str, dict[str, ComparisonTable]] | None = None) -> list[Chart]:
    """Every chart for the meeting, in meeting order, drawn now. Without ``protection`` the charts' counts are
    protected together (with the codebook's relations), as the publishing step would protect them with the
    tables. Without ``its_result`` (no public data) the public-series chart is left out; the caller says so.
    ``comparisons``: the charts' before/after tables computed before (:func:`chart_comparisons`)."""
    cfg = config or load_study_config()
    plans = chart_plans(tables, its_result, synthetic=synthetic, config=cfg, n_boot=n_boot, codebook=codebook,
                        standard=standard, comparisons=comparisons)
    if protection is None:
        from ...tables.disclosure import protect_tables

        protection = protect_tables([ct for p in plans for ct in p.comparisons], units=tables,
                                    codebook=codebook, config=cfg, check_ranges=False)
    return [p.draw(protection) for p in plans]
