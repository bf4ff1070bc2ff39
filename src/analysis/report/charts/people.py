"""Chart 4, ``people_by_role``: people by role; trans women of color, transitional-aged youth and minors among
people selling sex."""

from __future__ import annotations

import matplotlib
import pandas as pd

from ...scheme.codebook import Codebook, load_codebook
from ...scheme.config import StudyConfig, load_study_config
from ...tables.caveats import variable_caveats
from ...tables.compare import ComparisonTable, before_after
from .marks import _bars, _dot_rows
from .protect import _protected_rows, _Row, _suppression_note, _value_text, _wide, n_text, protection_for
from .style import (
    _PANEL_HEAD,
    _RC,
    _ROLE_PLURAL,
    FIGSIZE,
    SIZE,
    Chart,
    _after_name,
    _clean_axes,
    _comparing,
    _data_label,
    _lower_first,
    _Page,
    _page,
    _panel_title,
    _period_legend,
    _source,
    _text_width_in,
)

SELLER_GROUPS = ("trans_woman_of_color", "tay", "minor")


def _label(cb: Codebook, table: str, name: str) -> str:
    try:
        return cb.derived_variable(table, name).label
    except KeyError:
        return cb.variable(table, name).label


def comparisons(tables: dict[str, pd.DataFrame], cfg: StudyConfig, cb: Codebook,
                n_boot: int = 0) -> dict[str, ComparisonTable]:
    """The before/after tables of ``roles`` (everyone) and, when anyone sold sex, ``sellers`` (:data:`SELLER_GROUPS`)."""
    per = tables["persons"]
    kw = {"codebook": cb, "config": cfg}
    out = {"roles": before_after(per, "persons", variables=["role"], **kw)}
    if "seller" in set(per["role"].astype(str)):
        out["sellers"] = before_after(per, "persons", role="seller", variables=list(SELLER_GROUPS), n_boot=n_boot,
                                      **kw)
    return out


def people_by_role(tables: dict[str, pd.DataFrame], *, synthetic: bool, config: StudyConfig | None = None,
                   codebook: Codebook | None = None, n_boot: int = 2000,
                   _cts: dict[str, ComparisonTable] | None = None, protection=None) -> Chart:
    """Two panels: people on the reports by role (counts), and, among people selling sex, the share who are
    trans women of color, transitional-aged youth (the configured age range) and minors, with 95% intervals
    and n/N."""
    cfg = config or load_study_config()
    cb = codebook or load_codebook()
    thr = cfg.suppression_threshold
    a, b = cfg.period_codes
    labels = cfg.period_labels
    cts = _cts if _cts is not None else comparisons(tables, cfg, cb, n_boot)
    protection = protection_for(list(cts.values()), protection, thr, units=tables)
    with matplotlib.rc_context(_RC):
        role_rows = _protected_rows(cts["roles"], thr, protection)
        for r in role_rows:
            r.label = _ROLE_PLURAL.get(r.level, r.label)
        group_rows = _seller_rows(cts, cb, cfg, protection)
        title = f"Who was on the reports, before and after the move to {_after_name(cfg)}"
        sub = ("Left: people on the reports by role. Right: among people selling sex, the share who are trans women "
               "of color, transitional-aged youth and minors (dots; lines: 95% confidence interval).")
        notes = _suppression_note(role_rows + group_rows, thr) + [
            "Right: percentages leave out people whose gender identity, race/ethnicity or age was not recorded."]
        notes += variable_caveats([r.column for r in group_rows], "persons", cb)
        source = _source(tables, cfg, synthetic)
        page = _page(title, sub, notes, source, synthetic, xaxis_in=0.45)
        panel_top = page.top - _PANEL_HEAD / FIGSIZE[1]
        _role_panel(page, panel_top, role_rows, cts["roles"], cfg, protection)
        if group_rows:
            _seller_panel(page, panel_top, group_rows, cts["sellers"], cfg, protection)
        _period_legend(page, cfg, {g: labels[g] for g in (a, b)}, kind="bar")
        data = _people_data(role_rows, group_rows, cfg, synthetic)
        alt_roles = ", ".join(
            f"{r.label.lower()} " + " and ".join(
                r.cells[g].mark() if r.cells[g].count_hidden else f"{r.cells[g].n:,}" for g in (a, b))
            for r in role_rows)
        alt_groups = ", ".join(
            f"{_lower_first(r.label)} {_value_text(r.cells[a], thr, n=False)} and "
            f"{_value_text(r.cells[b], thr, n=False)}" for r in group_rows)
        alt = (f"Two panels {_comparing(cfg)} (before and after): people on the reports by role, {alt_roles}; among "
               f"people selling sex, {alt_groups}" + (" (synthetic data)." if synthetic else "."))
    return Chart("people_by_role", title, page.fig, data, alt, sub, source, notes, synthetic)


def _seller_rows(cts: dict[str, ComparisonTable], cb: Codebook, cfg: StudyConfig, protection) -> list[_Row]:
    """The rows of :data:`SELLER_GROUPS` among people selling sex (labelled)."""
    if "sellers" not in cts:
        return []
    lo_age, hi_age = cfg.tay_age_range
    got = {r.column: r for r in _protected_rows(cts["sellers"], cfg.suppression_threshold, protection)}
    names = {"trans_woman_of_color": _label(cb, "persons", "trans_woman_of_color"),
             "tay": f"{_label(cb, 'persons', 'tay')} ({lo_age}-{hi_age})",
             "minor": _label(cb, "persons", "minor")}
    group_rows = []
    for col in SELLER_GROUPS:
        if col in got:
            got[col].label = names[col]
            group_rows.append(got[col])
    return group_rows


def _role_panel(page: _Page, panel_top: float, role_rows: list[_Row], ct: ComparisonTable, cfg: StudyConfig,
                protection) -> None:
    """The left panel: everyone on the reports, by role (counts)."""
    thr = cfg.suppression_threshold
    a, b = cfg.period_codes
    fig = page.fig
    W, H = FIGSIZE
    x1 = page.left
    lw = max(_text_width_in(fig, r.label, SIZE["label"]) for r in role_rows) + 0.2
    l1 = x1 + lw / W
    ax1 = fig.add_axes((l1, page.bottom, 0.45 - l1, panel_top - page.bottom))
    xmax = max([r.cells[g].n for r in role_rows for g in (a, b) if not r.cells[g].count_hidden] or [1]) * 1.2
    _bars(ax1, role_rows, cfg, thr, value="n", xmax=xmax)
    ax1.set_xlim(0, xmax)
    ax1.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(4, integer=True))
    ax1.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:,.0f}"))
    _panel_title(fig, x1, panel_top + 0.08 / H, "Everyone on the reports, by role",
                 f"n = {n_text(ct, a, protection)} people before, {n_text(ct, b, protection)} after")


def _seller_panel(page: _Page, panel_top: float, group_rows: list[_Row], ct: ComparisonTable, cfg: StudyConfig,
                  protection) -> None:
    """The right panel: shares among people selling sex, with 95% intervals."""
    import textwrap

    thr = cfg.suppression_threshold
    a, b = cfg.period_codes
    fig = page.fig
    W, H = FIGSIZE
    x2 = 0.51
    wrapped = [textwrap.fill(r.label, 17) for r in group_rows]
    gw = max(_text_width_in(fig, ln, SIZE["label"]) for w in wrapped for ln in w.split("\n")) + 0.2
    l2 = x2 + gw / W
    nw = max(_text_width_in(fig, _value_text(r.cells[g], thr), SIZE["label"]) for r in group_rows
             for g in (a, b)) + 0.3
    ax2 = fig.add_axes((l2, page.bottom, 0.975 - nw / W - l2, panel_top - page.bottom))
    _clean_axes(ax2)
    hi = max([r.cells[g].hi for r in group_rows for g in (a, b) if not r.cells[g].hidden] or [10])
    ax2.set_xlim(0, 50 if hi < 45 else 100)
    ax2.set_xticks([0, 25, 50] if hi < 45 else [0, 25, 50, 75, 100])
    ax2.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:.0f}%"))
    _dot_rows(ax2, group_rows, cfg, thr, offset=0.17)
    ax2.set_yticks(range(len(group_rows)))
    ax2.set_yticklabels(wrapped, fontsize=SIZE["label"])
    _panel_title(fig, x2, panel_top + 0.08 / H, "Among people selling sex",
                 f"n = {n_text(ct, a, protection)} before, {n_text(ct, b, protection)} after")


def _people_data(role_rows: list[_Row], group_rows: list[_Row], cfg: StudyConfig, synthetic: bool) -> pd.DataFrame:
    """The chart's CSV: the role counts, then the shares among people selling sex."""
    thr = cfg.suppression_threshold
    a, b = cfg.period_codes
    d1 = _wide(role_rows, (a, b), thr, ci=False, stats=False,
               extra={"panel": ["everyone, by role"] * len(role_rows), "group": [r.level for r in role_rows],
                      "label": [r.label for r in role_rows]})
    parts = [d1]
    if group_rows:
        parts.append(_wide(group_rows, (a, b), thr, extra={
            "panel": ["people selling sex"] * len(group_rows), "group": [r.column for r in group_rows],
            "label": [r.label for r in group_rows]}))
    data = pd.concat(parts, ignore_index=True)
    order = ["panel", "group", "label"] + [f"{k}_{g}" for g in (a, b)
                                           for k in ("n", "N", "pct", "ci_low", "ci_high")]
    order = [c for c in order if c in data.columns]
    data = data[order + [c for c in data.columns if c not in order]]
    data.insert(0, "data", _data_label(synthetic))
    return data
