"""Chart 5, ``public_series``: SFPD's public monthly series with the unit change, the interrupted time series and
the policy dates of the study configuration (condom policy, Propositions 35 and 47, AB 336, the 2015 redistricting)
as numbered dotted lines."""

from __future__ import annotations

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.lines import Line2D

from ... import __version__
from ...scheme.config import StudyConfig, load_study_config
from .style import (
    _RC,
    COLORS,
    FIGSIZE,
    SIZE,
    SOURCE_PUBLIC,
    WATERMARK,
    Chart,
    _after_name,
    _clean_axes,
    _Page,
    _page,
    _period_colors,
)


def public_series(result, *, synthetic: bool, config: StudyConfig | None = None,
                  measure: str = "records per month",
                  what: str = "daily counts of PROSTITUTION offence rows") -> Chart:
    """The public monthly series with the unit change marked, the fitted segmented model and the counterfactual.

    ``result`` is :func:`analysis.stats.its.fit_its` fitted at the study configuration's ``unit_change_date`` (a
    mismatch is an error: the line would be drawn at one date and the model fitted at another). The subtitle
    gives the level-change rate ratio with its 95% CI. The sampled years of each period are shaded. The public
    counts are published aggregates, not people in the sample, so they are not suppressed.
    """
    cfg = config or load_study_config()
    change = pd.Timestamp(cfg.unit_change_date)
    if pd.Timestamp(result.change_date) != change:
        raise ValueError(f"the model was fitted at {result.change_date}, but the study configuration's "
                         f"unit_change_date is {cfg.unit_change_date}: refit with the configured date")
    s = result.series
    rr, lo, hi = result.rr("level_change_rr")
    months = pd.to_datetime(s["month"])
    with matplotlib.rc_context(_RC):
        first, last = months.min(), months.max()
        total = int(np.round(s["observed"].sum()))
        title, sub, notes, source = _series_words(cfg, (rr, lo, hi), first, last, what)
        page = _page(title, sub, notes, source, synthetic, xaxis_in=0.45,
                     synthetic_line=WATERMARK + " in this pack's coded sample; this public series is real SFPD data.")
        fig = page.fig
        left = page.left + 0.85 / FIGSIZE[0]
        ax = fig.add_axes((left, page.bottom, 0.97 - left, page.top - page.bottom))
        post = _draw_series(ax, s, months, cfg, measure)
        _series_legend(page, cfg, len(s), total)
        cf = s["counterfactual"].to_numpy(dtype=float)
        data = pd.DataFrame({
            "data": "SFPD public incident data (DataSF tmnf-yvry)",
            "month": months.dt.strftime("%Y-%m").to_numpy(),
            "observed": s["observed"].to_numpy(),
            "fitted": s["fitted"].to_numpy(dtype=float),
            "counterfactual": [float(v) if p else "" for v, p in zip(cf, post)],
            "after_change": post,
        })
        alt = (f"Line chart of SFPD's public prostitution {measure} from {first:%B %Y} to {last:%B %Y}, with the "
               f"unit change on {change:%-d %B %Y} marked; the fitted model puts the level at the change at "
               f"{rr:.2f} times the earlier trend's prediction (95% CI {lo:.2f} to {hi:.2f})."
               + "".join(f" {d.label} on {d.date:%-d %B %Y}." for d in _policy_dates(cfg, first, last)))
    return Chart("public_series", title, fig, data, alt, sub, source, notes, synthetic)


def _series_words(cfg: StudyConfig, level: tuple[float, float, float], first: pd.Timestamp, last: pd.Timestamp,
                  what: str) -> tuple[str, str, list[str], str]:
    """Title, subtitle (the level change in words, from its rate ratio and CI), notes and source line."""
    rr, lo, hi = level
    change = pd.Timestamp(cfg.unit_change_date)
    title = f"SFPD's public prostitution records per month, {first.year}-{last.year}"
    if lo > 1:
        step = f"{(rr - 1) * 100:.0f}% above"
    elif hi < 1:
        step = f"{(1 - rr) * 100:.0f}% below"
    else:
        step = "not clearly different from"
    sub = (f"At the unit change the level was {step} what the earlier trend predicts: rate ratio {rr:.2f} "
           f"(95% CI {lo:.2f} to {hi:.2f}).")
    notes = [f"Vertical line: {_after_name(cfg)} opened {change:%-d %B %Y} (the study configuration's "
             "unit_change_date" + ("; when prostitution work formally left Vice is unconfirmed)" if not
                                   cfg.unit_change_date_confirmed else ")")
             + ". Shaded: the years of the coded sample. Model: segmented quasi-Poisson regression with "
             "seasonality and Newey-West errors."] + _policy_note(cfg, first, last)
    source = (f"Source: {SOURCE_PUBLIC.format(what=what)}, {first:%b %Y} to {last:%b %Y}. "
              f"Analysis: sfpd-vice-svu-analysis {__version__} (analysis.stats.its, analysis.report.charts).")
    return title, sub, notes, source


def _policy_dates(cfg: StudyConfig, first: pd.Timestamp, last: pd.Timestamp) -> tuple:
    """The study configuration's policy dates that affect this chart and fall within the series."""
    return tuple(d for d in cfg.policy_dates_for("public_series") if first <= pd.Timestamp(d.date) <= last)


def _policy_note(cfg: StudyConfig, first: pd.Timestamp, last: pd.Timestamp) -> list[str]:
    """'Dotted lines: 1 = 12 Jul 2012, condom memo (day unconfirmed); ...' (numbered as drawn)."""
    dates = _policy_dates(cfg, first, last)
    if not dates:
        return []
    return ["Dotted lines, policy dates (study configuration): " + "; ".join(
        f"{k} {d.date:%-d %b %Y} {d.short}{'' if d.confirmed else ' (day unconfirmed)'}"
        for k, d in enumerate(dates, start=1)) + "."]


def _draw_series(ax, s: pd.DataFrame, months: pd.Series, cfg: StudyConfig, measure: str) -> np.ndarray:
    """The shaded sample years, the observed months (by period), the fitted model, the no-change projection and
    the change line. Returns which months are after the change."""
    import matplotlib.dates as mdates

    a, b = cfg.period_codes
    change = pd.Timestamp(cfg.unit_change_date)
    first, last = months.min(), months.max()
    _clean_axes(ax, grid_axis="y")
    pc = _period_colors(cfg)
    ymax = float(max(s["observed"].max(), s["fitted"].max(), s["counterfactual"].max())) * 1.18
    for p in cfg.periods:
        x0, x1 = pd.Timestamp(f"{min(p.years)}-01-01"), pd.Timestamp(f"{max(p.years) + 1}-01-01")
        if x1 > first and x0 < last:
            x0, x1 = max(x0, first), min(x1, last + pd.offsets.MonthBegin(1))
            ax.axvspan(x0, x1, color=pc[p.code], alpha=0.10, lw=0, zorder=0, gid=f"sample_{p.code}")
            ax.text(x0 + (x1 - x0) / 2, ymax * 0.985, f"sample\n{min(p.years)}-{max(p.years)}", ha="center",
                    va="top", fontsize=SIZE["label"], color=pc[p.code], gid="sample_label")
    before = (months < change).to_numpy()
    ax.plot(months[before], s["observed"][before], "o", ms=5.5, color=pc[a], zorder=3, gid="observed_before")
    ax.plot(months[~before], s["observed"][~before], "s", ms=5.5, color=pc[b], zorder=3, gid="observed_after")
    ax.plot(months, s["fitted"], "-", color=COLORS["ink"], lw=2.8, zorder=4, gid="fitted")
    post = (s["level"] > 0).to_numpy()
    ax.plot(months[post], s["counterfactual"][post], "--", color=COLORS["ink"], lw=2.4, zorder=4,
            gid="counterfactual")
    ax.axvline(change, color=COLORS["muted"], lw=2, zorder=1, gid="unit_change")
    tf = ax.get_xaxis_transform()  # x in dates, y as a fraction of the axes
    for k, d in enumerate(_policy_dates(cfg, first, last), start=1):
        x = pd.Timestamp(d.date)
        y = (0.60, 0.68, 0.76)[(k - 1) % 3]  # staggered: dates a few months apart do not overlap
        ax.axvline(x, ymax=y - 0.01, color=COLORS["muted"], lw=1.2, ls=":", zorder=1, gid="policy_date")
        ax.text(x, y, str(k), transform=tf, ha="center", va="bottom", fontsize=SIZE["label"],
                color=COLORS["ink"], gid="policy_label")
    ax.text(change + pd.Timedelta(days=40), ymax * 0.985, f"{_after_name(cfg)} opens\n{change:%-d %b %Y}",
            ha="left", va="top", fontsize=SIZE["label"], color=COLORS["ink"], gid="change_label")
    ax.set_ylim(0, ymax)
    ax.set_xlim(first - pd.Timedelta(days=20), last + pd.Timedelta(days=40))
    ax.xaxis.set_major_locator(mdates.YearLocator(2 if (last.year - first.year) > 8 else 1))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y"))
    ax.set_ylabel(measure[:1].upper() + measure[1:], fontsize=SIZE["label"])
    ax.tick_params(axis="y", labelsize=SIZE["label"])
    return post


def _series_legend(page: _Page, cfg: StudyConfig, n_months: int, total: int) -> None:
    """The legend row: observed (before / after markers together), fitted model, no-change projection."""
    from matplotlib.legend_handler import HandlerTuple

    a, b = cfg.period_codes
    pc = _period_colors(cfg)
    obs = (Line2D([], [], color=pc[a], marker="o", ls="none", ms=9),
           Line2D([], [], color=pc[b], marker="s", ls="none", ms=9))
    handles = [obs, Line2D([], [], color=COLORS["ink"], lw=2.8), Line2D([], [], color=COLORS["ink"], lw=2.4,
                                                                             ls="--")]
    names = [f"Observed, before / after ({n_months} months, {total:,} records)", "Fitted model",
             "No-change projection"]
    page.fig.legend(handles, names, loc="upper left", bbox_to_anchor=(page.left + 0.002, page.legend_y), ncol=3,
                    frameon=False, fontsize=SIZE["label"], handlelength=2.2, columnspacing=1.8, borderaxespad=0,
                    borderpad=0, handletextpad=0.5, handler_map={tuple: HandlerTuple(ndivide=None, pad=0.4)})
