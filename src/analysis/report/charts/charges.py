"""Chart 3, ``charges_by_role``: charge categories by role and period (share of people in the role)."""

from __future__ import annotations

import matplotlib
import pandas as pd

from ...scheme.codebook import Codebook, load_codebook
from ...scheme.config import StudyConfig, load_study_config
from ...tables.compare import ComparisonTable, before_after
from .marks import _bars
from .protect import _protected_rows, _Row, _suppression_note, _value_text, _wide, n_text, protection_for
from .style import (
    _PANEL_HEAD,
    _RC,
    _ROLE_PANEL,
    _ROLE_PLURAL,
    FIGSIZE,
    SIZE,
    Chart,
    _after_name,
    _comparing,
    _data_label,
    _page,
    _panel_title,
    _period_legend,
    _source,
    _text_width_in,
)


def _charge_columns(cb: Codebook, persons: pd.DataFrame) -> list[tuple[str, str, str]]:
    """(category code, label, derived column) in the charge classification's order."""
    declared = {d.name for d in cb.derived.get("persons", ())}
    out = []
    for c in cb.charge_classification["categories"]:
        col = f"charge__{c['code']}"
        if col not in declared:
            col = "hiv_charge" if c["code"] == "hiv" and "hiv_charge" in declared else ""
        if col and col in persons.columns:
            out.append((c["code"], c["label"], col))
    return out


CHARGE_ROLES = ("seller", "buyer", "third_party")


def comparisons(tables: dict[str, pd.DataFrame], cfg: StudyConfig, cb: Codebook,
                n_boot: int = 0) -> dict[str, ComparisonTable]:
    """One before/after table of the charge categories per role of :data:`CHARGE_ROLES` on the reports."""
    per = tables["persons"]
    roles = set(per["role"].astype(str))
    cols = [col for _, _, col in _charge_columns(cb, per)]
    return {r: before_after(per, "persons", role=r, variables=cols, n_boot=n_boot, codebook=cb, config=cfg)
            for r in CHARGE_ROLES if r in roles}


def charges_by_role(tables: dict[str, pd.DataFrame], *, synthetic: bool, config: StudyConfig | None = None,
                    codebook: Codebook | None = None, n_boot: int = 2000,
                    _cts: dict[str, ComparisonTable] | None = None, protection=None) -> Chart:
    """One panel per role: the share of people in the role with at least one charge in each category, by period.

    Categories nobody in these roles was charged with (in either period) are left out and named in a note.
    """
    cfg = config or load_study_config()
    cb = codebook or load_codebook()
    thr = cfg.suppression_threshold
    a, b = cfg.period_codes
    labels = cfg.period_labels
    persons = tables["persons"]
    role_labels = cb.variable("persons", "role").labels
    cats = _charge_columns(cb, persons)
    cts = _cts if _cts is not None else comparisons(tables, cfg, cb, n_boot)
    present = [r for r in CHARGE_ROLES if r in cts]
    protection = protection_for(list(cts.values()), protection, thr, units=tables)
    with matplotlib.rc_context(_RC):
        per_role: dict[str, list[_Row]] = {}
        role_n: dict[str, dict[str, int]] = {}
        for r in present:
            ct = cts[r]
            got = {row.column: row for row in _protected_rows(ct, thr, protection)}
            per_role[r] = [got[col] for _, _, col in cats]
            role_n[r] = ct.group_n
        keep = [i for i, _ in enumerate(cats) if any(per_role[r][i].cells[g].n > 0 for r in present for g in (a, b))]
        dropped = [cats[i][1] for i in range(len(cats)) if i not in keep]
        for r in present:
            per_role[r] = [per_role[r][i] for i in keep]
            for row, i in zip(per_role[r], keep):
                row.label = cats[i][1]
        cats_kept = [cats[i] for i in keep]
        rows_all = [row for r in present for row in per_role[r]]
        title = f"Charges by role, before and after the move to {_after_name(cfg)}"
        sub = "Share of people in each role with at least one charge in the category (a person can have several)."
        notes = _suppression_note(rows_all, thr)
        if dropped:
            notes.append("No one in these roles was charged with: " + ", ".join(d.lower() for d in dropped) + ".")
        laws = [d for d in cfg.policy_dates_for("charges_by_role") if d.date.year <= max(cfg.sampled_years)]
        if laws:
            notes.append("The law changed between the periods: " + "; ".join(
                f"{d.label} ({d.date:%-d %b %Y})" for d in laws) + ". Categories and severities follow the "
                "law on each report's date (codebook charge table).")
        source = _source(tables, cfg, synthetic)
        page = _page(title, sub, notes, source, synthetic, xaxis_in=0.45)
        fig = page.fig
        W, H = FIGSIZE
        label_w = max(_text_width_in(fig, lab, SIZE["label"]) for _, lab, _ in cats_kept) + 0.2
        left = page.left + label_w / W
        gap = 0.035
        width = (0.975 - left - gap * (len(present) - 1)) / max(len(present), 1)
        panel_top = page.top - _PANEL_HEAD / H
        for k, r in enumerate(present):
            x = left + k * (width + gap)
            ax = fig.add_axes((x, page.bottom, width, panel_top - page.bottom))
            _bars(ax, per_role[r], cfg, thr, xmax=130, show_labels=(k == 0), compact=True)
            ax.set_xlim(0, 130)
            ax.set_xticks([0, 50, 100])
            ax.set_xticklabels(["0%", "50%", "100%"])
            ax.spines["bottom"].set_bounds(0, 100)
            _panel_title(fig, x, panel_top + 0.08 / H, _ROLE_PANEL.get(r, _ROLE_PLURAL.get(r, role_labels[r])),
                         f"n = {n_text(cts[r], a, protection)} before, {n_text(cts[r], b, protection)} after")
        _period_legend(page, cfg, {g: labels[g] for g in (a, b)}, kind="bar")
        data = _charges_data(per_role, cats_kept, role_labels, cfg, synthetic)
        alt_parts = []
        for r in present:
            top = [f"{row.label.lower()} {_value_text(row.cells[a], thr, n=False)} before and "
                   f"{_value_text(row.cells[b], thr, n=False)} after"
                   for row in per_role[r] if row.any_hidden or row.cells[a].n or row.cells[b].n]
            alt_parts.append(f"{_ROLE_PLURAL.get(r, role_labels[r]).lower()}: " + ", ".join(top))
        alt = (f"Grouped bars in {len(present)} panels, the share of people in each role charged in each category, "
               f"{_comparing(cfg)}; " + "; ".join(alt_parts) + (" (synthetic data)." if synthetic else "."))
    return Chart("charges_by_role", title, fig, data, alt, sub, source, notes, synthetic)


def _charges_data(per_role: dict[str, list[_Row]], cats: list[tuple[str, str, str]], role_labels: dict[str, str],
                  cfg: StudyConfig, synthetic: bool) -> pd.DataFrame:
    """The chart's CSV: one row per role and charge category, in panel order."""
    a, b = cfg.period_codes
    extra: dict[str, list] = {"role": [], "role_label": [], "category": [], "label": []}
    ordered = []
    for r, rows in per_role.items():
        for (code, lab, _), row in zip(cats, rows):
            extra["role"].append(r)
            extra["role_label"].append(role_labels[r])
            extra["category"].append(code)
            extra["label"].append(lab)
            ordered.append(row)
    data = _wide(ordered, (a, b), cfg.suppression_threshold, extra=extra)
    data.insert(0, "data", _data_label(synthetic))
    return data
