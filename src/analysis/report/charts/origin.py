"""Chart 2, ``case_origin``: how cases began, as a share of reports, by period: police-initiated and reactive
cases (the codebook's ``origin_group``), each with the kinds of origin in it."""

from __future__ import annotations

import dataclasses
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
    _Row,
    _suppression_note,
    _value_text,
    _wide,
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
    _data_label,
    _fmt_pct,
    _lower_first,
    _page,
    _period_legend,
    _source,
    _text_width_in,
)


def comparisons(tables: dict[str, pd.DataFrame], cfg: StudyConfig, cb: Codebook,
                n_boot: int = 0) -> dict[str, ComparisonTable]:
    """The before/after tables of ``origin`` and of its grouping ``origin_group`` (reports)."""
    inc = tables["incidents"]
    out = {"origin": before_after(inc, "incidents", variables=["origin"], codebook=cb, config=cfg)}
    if "origin_group" in inc:
        out["origin_group"] = before_after(inc, "incidents", variables=["origin_group"], codebook=cb, config=cfg)
    return out


def _grouped_rows(cts: dict[str, ComparisonTable], cb: Codebook, thr: int,
                  protection=None) -> tuple[list[_Row], list[bool], list[_Row]]:
    """The rows in display order (each group of more than one kind, then its kinds), which of them are group
    rows, and the rows of ``origin`` alone. Each value is hidden exactly where the shared before/after table hides
    it (the group rows by the block of ``origin_group``, the kinds by that of ``origin``)."""
    kinds = _protected_rows(cts["origin"], thr, protection)
    if "origin_group" not in cts:
        return kinds, [False] * len(kinds), kinds
    by_code = {r.level: r for r in kinds}
    groups = {r.level: r for r in _protected_rows(cts["origin_group"], thr, protection)}
    rows, is_group = [], []
    for level, members in cb.derived_variable("incidents", "origin_group").members:
        shown = [by_code[m] for m in members if m in by_code]
        if len(members) > 1 and level in groups:
            rows.append(dataclasses.replace(groups[level], label=f"{groups[level].label}, all"))
            is_group.append(True)
        rows += shown
        is_group += [False] * len(shown)
    # a merged row (issue 11: patrol + other, shown together) spans two groups: drawn after them
    rest = [r for r in kinds if r not in rows]
    rows += rest
    is_group += [False] * len(rest)
    return rows, is_group, kinds


def _subtitle(rows: list[_Row], is_group: list[bool], cfg: StudyConfig) -> str:
    """The police-initiated share and, alone, stings on sellers: computed, with nothing hidden shown."""
    a, b = cfg.period_codes
    sub = "Share of each period's reports, by how the case began."
    named = {r.level: r for r, g in zip(rows, is_group) if g}
    named["sting_sellers"] = next((r for r in rows if r.level == "sting_sellers"), None)
    parts = []
    for level, words in (("police_initiated", "Police-initiated (stings, buyer operations, online-ad "
                                              "investigations, massage inspections)"),
                         ("sting_sellers", "stings on sellers alone")):
        r = named.get(level)
        if r is not None and not (r.cells[a].hidden or r.cells[b].hidden):
            parts.append(f"{words}: {_fmt_pct(r.cells[a].pct)} before, {_fmt_pct(r.cells[b].pct)} after")
    return sub + (" " + "; ".join(parts)[0].upper() + "; ".join(parts)[1:] + "." if parts else "")


def case_origin(tables: dict[str, pd.DataFrame], *, synthetic: bool, config: StudyConfig | None = None,
                codebook: Codebook | None = None, _cts: dict[str, ComparisonTable] | None = None,
                protection=None) -> Chart:
    """Grouped bars: how cases began, as a share of reports with the origin documented, by period. Police-initiated
    and reactive cases (the codebook's ``origin_group``) are shown as a whole (bold) above the kinds of origin in
    them, so that a shift between kinds (street stings to online-ad investigations) is not read as fewer
    operations. 'Not documented' is left out of the shares and counted in a note."""
    cfg = config or load_study_config()
    cb = codebook or load_codebook()
    thr = cfg.suppression_threshold
    a, b = cfg.period_codes
    labels = cfg.period_labels
    cts = _cts if _cts is not None else comparisons(tables, cfg, cb)
    protection = protection_for(list(cts.values()), protection, thr, units=tables)
    with matplotlib.rc_context(_RC):
        rows, is_group, kinds = _grouped_rows(cts, cb, thr, protection)
        label = cb.variable("incidents", "origin").label
        sub = _subtitle(rows, is_group, cfg)
        title = f"How cases began, before and after the move to {_after_name(cfg)}"
        nd = _outside_note(kinds, cfg, thr, "reports", "Origin not documented")
        notes = _suppression_note(rows, thr) + ([nd] if nd else [])
        if any(is_group):
            notes.append("Police-initiated: police set the contact up (stings, buyer operations, online-ad "
                         "investigations, massage inspections); reactive: police responded (a tip, a victim coming "
                         "forward, patrol).")
        source = _source(tables, cfg, synthetic)
        page = _page(title, sub, notes, source, synthetic, xaxis_in=0.45)
        fig = page.fig
        label_w = max(_text_width_in(fig, r.label, SIZE["label"], "bold" if g else "normal")
                      for r, g in zip(rows, is_group)) + 0.2
        left = page.left + label_w / FIGSIZE[0]
        ax = fig.add_axes((left, page.bottom, 0.95 - left, page.top - page.bottom))
        top_pct = max([r.cells[g].pct for r in rows for g in (a, b) if not r.cells[g].hidden] or [0])
        xmax = 100 if top_pct > 80 else max(30, math.ceil((top_pct + 10) / 10) * 10)
        _bars(ax, rows, cfg, thr, xmax=xmax)
        for tick, g in zip(ax.get_yticklabels(), is_group):
            if g:
                tick.set_fontweight("bold")
        ax.set_xlim(0, xmax)
        ax.xaxis.set_major_locator(matplotlib.ticker.MultipleLocator(10 if xmax <= 60 else 25))
        ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:.0f}%"))
        Ns = {g: kinds[0].cells[g] for g in (a, b)}
        n_lab = {g: f"{labels[g]}, n = " + (Ns[g].word if Ns[g].den_hidden else f"{int(Ns[g].N):,}") + " reports"
                 for g in (a, b)}
        _period_legend(page, cfg, n_lab, kind="bar")
        data = _data(rows, is_group, kinds, cfg, thr, cb, synthetic)
        vals = [f"{_lower_first(r.label)} {_value_text(r.cells[a], thr, n=False)} before and "
                f"{_value_text(r.cells[b], thr, n=False)} after" for r in rows]
        alt = (f"Grouped bar chart of {_lower_first(label)} as a share of reports, {_comparing(cfg)}: "
               + "; ".join(vals) + (" (synthetic data)." if synthetic else "."))
    return Chart("case_origin", title, fig, data, alt, sub, source, notes, synthetic)


def _data(rows: list[_Row], is_group: list[bool], kinds: list[_Row], cfg: StudyConfig, thr: int, cb: Codebook,
          synthetic: bool) -> pd.DataFrame:
    """The chart's CSV: the group rows (variable origin_group), then every kind of origin with the 'not documented'
    count (variable origin)."""
    a, b = cfg.period_codes
    data = _category_data(kinds, cfg, thr, "origin", cb.missing_labels.get("-8", "Not documented"), synthetic)
    groups = [r for r, g in zip(rows, is_group) if g]
    if not groups:
        return data
    head = _wide(groups, (a, b), thr, ci=False, stats=False,
                 extra={"level": [r.level for r in groups], "label": [r.label for r in groups]})
    head.insert(0, "variable", "origin_group")
    head.insert(0, "data", _data_label(synthetic))
    return pd.concat([head, data], ignore_index=True)
