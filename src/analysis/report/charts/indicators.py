"""Chart 1, ``key_indicators``: the indicators the committee asked for, before vs after, with 95% intervals."""

from __future__ import annotations

import matplotlib
import pandas as pd

from ...scheme.codebook import Codebook, load_codebook
from ...scheme.config import StudyConfig, load_study_config
from ...tables.compare import ComparisonTable, before_after
from .marks import _dot_rows
from .protect import _protected_rows, _Row, _suppression_note, _value_text, _wide, protection_for
from .style import (
    _RC,
    COLORS,
    FIGSIZE,
    SIZE,
    Chart,
    _after_name,
    _blend,
    _clean_axes,
    _comparing,
    _count_word,
    _data_label,
    _lower_first,
    _page,
    _pct_axis,
    _period_legend,
    _short,
    _source,
    _text_width_in,
)

# (table, derived yes/no column, the codebook variable summarised, what the percentage is of). The codebook
# variable gives the same n/N as the derived column and the same rows ('not documented', 'not applicable') as the
# shared before/after tables, so small-cell suppression hides exactly the cells the tables hide.
INDICATORS = (
    ("incidents", "condoms_evidence_any", "condoms_evidence_any", "% of reports"),
    ("incidents", "phones_seized_yes", "phones_seized", "% of reports"),
    ("incidents", "police_initiated", "police_initiated", "% of reports, origin documented"),
    ("incidents", "origin_sting_sellers", "origin_sting_sellers", "% of reports, origin documented"),
    ("incidents", "screened_trafficking_yes", "screened_trafficking", "% of reports"),
    ("incidents", "correctly_identified", "correctly_identified", "% of reports SFPD labelled trafficking"),
    ("incidents", "interpreter_used_yes", "interpreter_used", "% of reports noting a non-English language"),
    ("persons", "hiv_charge", "hiv_charge", "% of people selling sex"),
)


def comparisons(tables: dict[str, pd.DataFrame], cfg: StudyConfig, cb: Codebook,
                n_boot: int = 0) -> dict[str, ComparisonTable]:
    """The before/after tables of :data:`INDICATORS`: ``incidents``, and ``sellers`` (people selling sex)."""
    inc, per = tables["incidents"], tables["persons"]
    roles = set(per["role"].astype(str))
    kw = {"codebook": cb, "config": cfg}
    out: dict[str, ComparisonTable] = {}
    ivars = [var for t, _, var, _ in INDICATORS if t == "incidents" and var in inc]
    out["incidents"] = before_after(inc, "incidents", variables=ivars, **kw)
    pvars = [var for t, _, var, _ in INDICATORS if t == "persons" and var in per]
    if pvars and "seller" in roles:
        out["sellers"] = before_after(per, "persons", role="seller", variables=pvars, n_boot=n_boot, **kw)
    return out


def _indicator_rows(cts: dict[str, ComparisonTable], thr: int, protection=None) -> tuple[list[_Row], list[str]]:
    """The indicators in the order of :data:`INDICATORS` (the tables keep the codebook's order)."""
    got = {r.column: r for key in ("incidents", "sellers") if key in cts
           for r in _protected_rows(cts[key], thr, protection)}
    rows, of = [], []
    for _, _, var, o in INDICATORS:
        if var in got:
            got[var].label = _short(got[var].label)
            rows.append(got[var])
            of.append(o)
    return rows, of


def _change(r: _Row) -> str:
    """'lower after' / 'higher after' when the table's test says so (Holm q < 0.05); computed, never assumed."""
    if r.any_hidden or r.q != r.q:
        return ""
    if r.q < 0.05 and r.diff[0] == r.diff[0] and r.diff[0] != 0:
        return "higher after" if r.diff[0] > 0 else "lower after"  # the change is after minus before
    return "no clear change"


def key_indicators(tables: dict[str, pd.DataFrame], *, synthetic: bool, config: StudyConfig | None = None,
                   codebook: Codebook | None = None, n_boot: int = 2000,
                   _cts: dict[str, ComparisonTable] | None = None, protection=None) -> Chart:
    """Dot-and-interval chart: eight indicators before vs after, each with its 95% Wilson interval and n/N.

    Condoms photographed or documented as evidence, phones seized, case police-initiated (stings, buyer
    operations, online-ad investigations, massage inspections) and, on its own, from a sting on sellers, screened
    for trafficking,
    correctly identified as trafficking (of reports SFPD labelled trafficking), interpreter used (of reports
    noting a language other than English) and HIV-specific charges (people selling sex). A column on the right
    says 'lower after' / 'higher after' where the before/after table's test finds a difference (Holm-adjusted
    q < 0.05), 'no clear change' otherwise.
    """
    cfg = config or load_study_config()
    cb = codebook or load_codebook()
    thr = cfg.suppression_threshold
    a, b = cfg.period_codes
    labels = cfg.period_labels
    cts = _cts if _cts is not None else comparisons(tables, cfg, cb, n_boot)
    protection = protection_for(list(cts.values()), protection, thr, units=tables)
    with matplotlib.rc_context(_RC):
        rows, of = _indicator_rows(cts, thr, protection)
        changes = [_change(r) for r in rows]
        title = f"{_count_word(len(rows))} indicators, before and after the move to {_after_name(cfg)}"
        n_low, n_high = changes.count("lower after"), changes.count("higher after")
        subtitle = ("Dots: percentage in each period; lines: 95% confidence interval. "
                    f"Lower after the move: {n_low}; higher: {n_high} (difference beyond chance, Holm-adjusted "
                    "q < 0.05).")
        notes = _suppression_note(rows, thr) + [
            "Percentages leave out reports where the item was not documented or does not apply."]
        source = _source(tables, cfg, synthetic)
        page = _page(title, subtitle, notes, source, synthetic, xaxis_in=0.45)
        fig = page.fig
        W = FIGSIZE[0]
        label_w = max(max(_text_width_in(fig, r.label, SIZE["label"], "bold") for r in rows),
                      max(_text_width_in(fig, o, SIZE["label"]) for o in of)) + 0.25
        num_w = max(_text_width_in(fig, _value_text(r.cells[g], thr), SIZE["label"]) for r in rows
                    for g in (a, b)) + 0.35
        chg_w = max(_text_width_in(fig, t, SIZE["label"]) for t in ("no clear change", *changes)) + 0.1
        left = page.left + label_w / W
        right = 0.975 - (num_w + chg_w) / W
        ax = fig.add_axes((left, page.bottom, right - left, page.top - page.bottom))
        _clean_axes(ax)
        _pct_axis(ax)
        ax.set_yticks([])
        _dot_rows(ax, rows, cfg, thr, offset=0.21)
        tf = _blend(ax)
        x_chg = 1 + (num_w + 0.05) / ((right - left) * W)
        import matplotlib.transforms as mt

        lab_tf = mt.offset_copy(tf, fig=fig, x=-12, units="points")  # clear of a marker sitting at 0%
        for i, (r, o, chg) in enumerate(zip(rows, of, changes)):
            ax.text(0, i - 0.03, r.label, transform=lab_tf, ha="right", va="bottom", fontsize=SIZE["label"],
                    weight="bold", gid="row_label")
            ax.text(0, i + 0.03, o, transform=lab_tf, ha="right", va="top", fontsize=SIZE["label"],
                    color=COLORS["muted"], gid="row_label")
            if chg:
                ax.text(x_chg, i, chg, transform=tf, ha="left", va="center", fontsize=SIZE["label"],
                        color=COLORS["ink"] if chg != "no clear change" else COLORS["muted"],
                        weight="bold" if chg != "no clear change" else "normal", gid="change")
        ax.text(1.02, -0.5, "% (n/N)", transform=tf, ha="left", va="bottom", fontsize=SIZE["label"],
                color=COLORS["muted"], gid="column_head")
        ax.text(x_chg, -0.5, "Change", transform=tf, ha="left", va="bottom", fontsize=SIZE["label"],
                color=COLORS["muted"], gid="column_head")
        _period_legend(page, cfg, {g: labels[g] for g in (a, b)})
        derived = {var: col for _, col, var, _ in INDICATORS}
        data = _wide(rows, (a, b), thr, extra={
            "indicator": [r.column for r in rows], "derived_column": [derived[r.column] for r in rows],
            "label": [r.label for r in rows], "of": [o.removeprefix("% of ") for o in of]})
        data["change"] = changes
        data.insert(0, "data", _data_label(synthetic))
        alt_parts = [f"{_lower_first(r.label)} {_value_text(r.cells[a], thr, n=False)} before and "
                     f"{_value_text(r.cells[b], thr, n=False)} after" for r in rows]
        alt = (f"Dot chart with 95% intervals of {len(rows)} indicators, {_comparing(cfg)}: " + "; ".join(alt_parts)
               + (" (synthetic data)." if synthetic else "."))
    return Chart("key_indicators", title, fig, data, alt, subtitle, source, notes, synthetic)
