"""Chart 6, ``districts``: the share of reports per SFPD police district, before vs after."""

from __future__ import annotations

import math

import matplotlib
import pandas as pd

from ...scheme.codebook import Codebook, load_codebook
from ...scheme.config import StudyConfig, load_study_config
from ...tables.compare import ComparisonTable, before_after
from .marks import _draw_suppressed
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
    COLORS,
    FIGSIZE,
    SIZE,
    SUPPRESSED,
    Chart,
    _after_name,
    _blend,
    _clean_axes,
    _comparing,
    _fmt_pct,
    _page,
    _period_colors,
    _period_legend,
    _period_markers,
    _source,
    _text_width_in,
)


def comparisons(tables: dict[str, pd.DataFrame], cfg: StudyConfig, cb: Codebook,
                n_boot: int = 0) -> dict[str, ComparisonTable]:
    """The before/after table of ``district`` (reports)."""
    return {"district": before_after(tables["incidents"], "incidents", variables=["district"], codebook=cb,
                                     config=cfg)}


def _boundary_note(cfg: StudyConfig) -> list[str]:
    """The redrawing of district boundaries within the sampled years (study configuration, ``affects:
    districts``): a district is not the same area in every year."""
    years = cfg.sampled_years
    out = []
    for d in cfg.policy_dates_for("districts"):
        if years[0] <= d.date.year <= years[-1]:
            out.append(f"{d.label}, {d.date:%B %Y}{' (day unconfirmed)' if not d.confirmed else ''}: reports after "
                       "it use the new lines, so a district's share is not for the same area in every year.")
    return out


def districts(tables: dict[str, pd.DataFrame], *, synthetic: bool, config: StudyConfig | None = None,
              codebook: Codebook | None = None, _cts: dict[str, ComparisonTable] | None = None,
              protection=None) -> Chart:
    """Dot plot: the share of reports in each SFPD police district, before vs after. Districts are ordered by
    their share over both periods, computed from visible counts only; districts with a hidden value go last."""
    cfg = config or load_study_config()
    cb = codebook or load_codebook()
    thr = cfg.suppression_threshold
    a, b = cfg.period_codes
    labels = cfg.period_labels
    colors, markers = _period_colors(cfg), _period_markers(cfg)
    cts = _cts if _cts is not None else comparisons(tables, cfg, cb)
    protection = protection_for(list(cts.values()), protection, thr, units=tables)
    with matplotlib.rc_context(_RC):
        rows = _protected_rows(cts["district"], thr, protection)
        vis = [r for r in rows if not (r.cells[a].hidden or r.cells[b].hidden)]
        vis.sort(key=lambda r: -(r.cells[a].n + r.cells[b].n))
        rows = vis + [r for r in rows if r not in vis]
        title = f"Reports by SFPD district, before and after the move to {_after_name(cfg)}"
        sub = "Each district's share of the period's reports."
        m = _largest_shift(rows, cfg)
        if m is not None:
            sub += (f" Largest shift: {m.label}, {_fmt_pct(m.cells[a].pct)} before and "
                    f"{_fmt_pct(m.cells[b].pct)} after.")
        nd = _outside_note(rows, cfg, thr, "reports", "District not documented")
        notes = _suppression_note(rows, thr) + ([nd] if nd else []) + _boundary_note(cfg)
        source = _source(tables, cfg, synthetic)
        page = _page(title, sub, notes, source, synthetic, xaxis_in=0.45)
        fig = page.fig
        W = FIGSIZE[0]
        lw = max(_text_width_in(fig, r.label, SIZE["label"]) for r in rows) + 0.25
        left = page.left + lw / W
        col_w = max(_text_width_in(fig, _value_text(r.cells[g], thr, n=False), SIZE["label"])
                    for r in rows for g in (a, b)) + 0.35
        col_w = max(col_w, _text_width_in(fig, "before", SIZE["label"]) + 0.35)
        right = 0.975 - 2 * col_w / W
        ax = fig.add_axes((left, page.bottom, right - left, page.top - page.bottom))
        _clean_axes(ax)
        top_pct = max([r.cells[g].pct for r in vis for g in (a, b)] or [10])
        xmax = max(10, math.ceil((top_pct + 3) / 10) * 10)
        ax.set_xlim(0, xmax)
        ax.xaxis.set_major_locator(matplotlib.ticker.MultipleLocator(10 if xmax <= 60 else 25))
        ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:.0f}%"))
        ax.set_ylim(len(rows) - 0.5, -0.5)
        ax.set_yticks(range(len(rows)))
        ax.set_yticklabels([r.label for r in rows], fontsize=SIZE["label"])
        tf = _blend(ax)
        ax_w = (right - left) * W
        x_col = {a: 1 + 0.3 / ax_w, b: 1 + (col_w + 0.3) / ax_w}
        for g, word in ((a, "before"), (b, "after")):
            ax.text(x_col[g], -0.5, word, transform=tf, ha="left", va="bottom", fontsize=SIZE["label"],
                    color=COLORS["muted"], gid="column_head")
        for i, r in enumerate(rows):
            ca, cb_ = r.cells[a], r.cells[b]
            if not (ca.hidden or cb_.hidden):
                ax.plot([ca.pct, cb_.pct], [i, i], color=COLORS["connector"], lw=3, zorder=1, gid="connector")
            else:
                _draw_suppressed(ax, xmax * 0.01, i, "suppressed (see right)")
            for g in (a, b):
                c = r.cells[g]
                col = COLORS["muted"]
                if not c.hidden:
                    # before drawn larger, under after: equal shares still show both colours
                    ax.plot([c.pct], [i], marker=markers[g], ms=16 if g == a else 11, color=colors[g], mec="white",
                            mew=1.2, ls="none", zorder=3 if g == a else 4, gid=f"point_{g}", clip_on=False)
                    col = colors[g]
                ax.text(x_col[g], i, _value_text(c, thr, n=False), transform=tf, ha="left", va="center",
                        fontsize=SIZE["label"], color=col, gid=f"value_{g}")
        N = {g: rows[0].cells[g] for g in (a, b)}
        n_lab = {g: f"{labels[g]}, n = " + (N[g].word if N[g].den_hidden else f"{int(N[g].N):,}") + " reports"
                 for g in (a, b)}
        _period_legend(page, cfg, n_lab)
        data = _category_data(rows, cfg, thr, "district", cb.missing_labels.get("-8", "Not documented"), synthetic)
        vals = [f"{r.label} {_value_text(r.cells[a], thr, n=False)} and {_value_text(r.cells[b], thr, n=False)}"
                for r in rows]
        alt = (f"Dot plot of the share of reports per SFPD police district, {_comparing(cfg)}: " + "; ".join(vals)
               + (" (synthetic data)." if synthetic else "."))
    return Chart("districts", title, fig, data, alt, sub, source, notes, synthetic)
