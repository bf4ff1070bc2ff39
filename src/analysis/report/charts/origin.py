"""Chart 2, ``case_origin``: how cases originated, as a share of reports, by period."""

from __future__ import annotations

import math

import matplotlib
import pandas as pd

from ...scheme.codebook import Codebook, load_codebook
from ...scheme.config import StudyConfig, load_study_config
from ...tables.compare import ComparisonTable, before_after
from .marks import _bars
from .protect import (
    _category_data,
    _largest_shift,
    _outside_note,
    _protected_rows,
    _suppression_note,
    _value_text,
    protection_for,
)
from .style import (
    _RC,
    FIGSIZE,
    SIZE,
    SUPPRESSED,
    Chart,
    _after_name,
    _comparing,
    _fmt_pct,
    _lower_first,
    _page,
    _period_legend,
    _source,
    _text_width_in,
)


def comparisons(tables: dict[str, pd.DataFrame], cfg: StudyConfig, cb: Codebook,
                n_boot: int = 0) -> dict[str, ComparisonTable]:
    """The before/after table of ``origin`` (reports)."""
    return {"origin": before_after(tables["incidents"], "incidents", variables=["origin"], codebook=cb, config=cfg)}


def case_origin(tables: dict[str, pd.DataFrame], *, synthetic: bool, config: StudyConfig | None = None,
                codebook: Codebook | None = None, _cts: dict[str, ComparisonTable] | None = None,
                protection=None) -> Chart:
    """Grouped bars: how cases originated, as a share of reports with the origin documented, by period
    ('not documented' left out of the shares and counted in a note)."""
    cfg = config or load_study_config()
    cb = codebook or load_codebook()
    thr = cfg.suppression_threshold
    a, b = cfg.period_codes
    labels = cfg.period_labels
    cts = _cts if _cts is not None else comparisons(tables, cfg, cb)
    protection = protection_for(list(cts.values()), protection, thr, units=tables)
    with matplotlib.rc_context(_RC):
        rows = _protected_rows(cts["origin"], thr, protection)
        label = cb.variable("incidents", "origin").label
        sub = "Share of each period's reports, by how the case began."
        m = _largest_shift(rows, cfg)
        if m is not None:
            sub += (f" Largest shift: {_lower_first(m.label)}, {_fmt_pct(m.cells[a].pct)} of reports before and "
                    f"{_fmt_pct(m.cells[b].pct)} after.")
        title = f"How cases began, before and after the move to {_after_name(cfg)}"
        nd = _outside_note(rows, cfg, thr, "reports", "Origin not documented")
        notes = _suppression_note(rows, thr) + ([nd] if nd else [])
        source = _source(tables, cfg, synthetic)
        page = _page(title, sub, notes, source, synthetic, xaxis_in=0.45)
        fig = page.fig
        label_w = max(_text_width_in(fig, r.label, SIZE["label"]) for r in rows) + 0.2
        left = page.left + label_w / FIGSIZE[0]
        ax = fig.add_axes((left, page.bottom, 0.95 - left, page.top - page.bottom))
        top_pct = max([r.cells[g].pct for r in rows for g in (a, b) if not r.cells[g].hidden] or [0])
        xmax = 100 if top_pct > 80 else max(30, math.ceil((top_pct + 10) / 10) * 10)
        _bars(ax, rows, cfg, thr, xmax=xmax)
        ax.set_xlim(0, xmax)
        ax.xaxis.set_major_locator(matplotlib.ticker.MultipleLocator(10 if xmax <= 60 else 25))
        ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:.0f}%"))
        Ns = {g: rows[0].cells[g] for g in (a, b)}
        n_lab = {g: f"{labels[g]}, n = " + (Ns[g].word if Ns[g].den_hidden else f"{int(Ns[g].N):,}") + " reports"
                 for g in (a, b)}
        _period_legend(page, cfg, n_lab, kind="bar")
        data = _category_data(rows, cfg, thr, "origin", cb.missing_labels.get("-8", "Not documented"), synthetic)
        vals = [f"{_lower_first(r.label)} {_value_text(r.cells[a], thr, n=False)} before and "
                f"{_value_text(r.cells[b], thr, n=False)} after" for r in rows]
        alt = (f"Grouped bar chart of {_lower_first(label)} as a share of reports, {_comparing(cfg)}: "
               + "; ".join(vals) + (" (synthetic data)." if synthetic else "."))
    return Chart("case_origin", title, fig, data, alt, sub, source, notes, synthetic)
