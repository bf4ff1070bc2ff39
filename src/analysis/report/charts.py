"""Charts for the committee's November meeting: one function per chart, each returning a :class:`Chart`.

Every chart takes data (the derived tables, or an :class:`analysis.stats.its.ITSResult`) and options and returns a
:class:`Chart`: ``name`` (file stem), ``title``, ``fig`` (a matplotlib Figure), ``data`` (the table behind the
chart, already suppressed, without person codes) and ``alt`` (one sentence for screen readers and HTML ``alt``).
No chart function reads or writes files; :func:`save_chart` writes ``<name>.png`` (slides), ``<name>.pdf``
(vector) and ``<name>.csv`` (the data), byte for byte the same on every run. :func:`meeting_charts` makes the set
in meeting order:

1. :func:`key_indicators`  seven indicators the committee asked for, before vs after, with 95% intervals
2. :func:`case_origin`     how cases originated (share of reports), by period
3. :func:`charges_by_role` charge categories by role and period (share of people in the role)
4. :func:`people_by_role`  people by role; trans women of color, transitional-aged youth and minors among
   people selling sex
5. :func:`public_series`   SFPD's public monthly series with the unit change and the interrupted time series
6. :func:`districts`       share of reports per SFPD police district, before vs after

The numbers come from :func:`analysis.tables.compare.before_after` (percentages, Wilson intervals, differences with
their intervals, tests); nothing is re-estimated here.

Style (one helper, :func:`_page`, used by every chart): 16:9 (13.33 x 7.5 in), title 26 pt, labels 16 pt and
up, Okabe-Ito colours -- before = vermillion ``#D55E00``, after = blue ``#0072B2`` (vermillion rather than
Okabe-Ito orange ``#E69F00`` because on white it has about 3.9:1 contrast instead of 2.2:1, which survives a
washed-out projector; the pair stays distinguishable with every common colour-vision deficiency, and markers
differ in shape too), no chart junk, titles in plain words that state the subject (a direction is named only
when it is computed from the data), n in every panel, a source line, and, for synthetic data, a large diagonal
"SYNTHETIC DATA" watermark plus the words in the subtitle.

Small-cell suppression: the same rule as the shared tables (:func:`analysis.tables.compare.display`), cell for cell:
:func:`analysis.tables.compare.protect_block` on each variable's block (levels, 'not documented' rows, the implicit
'No' of a yes/no and the denominators, with the overall column a table reader also sees). A value whose count,
complementary count ('No'), or denominator is hidden is never drawn: the chart shows the words
"suppressed (<5)" (a count from 1 to 4) or "suppressed" (hidden so a small count cannot be worked out) where
the mark would be, and the CSV holds ``<5`` / ``suppressed`` instead of the number. Differences, p- and
q-values of a variable with any hidden cell are left blank.
"""

from __future__ import annotations

import functools
import io
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from .. import __version__
from ..scheme.codebook import Codebook, load_codebook
from ..scheme.config import StudyConfig, load_study_config
from ..tables.compare import ComparisonTable, before_after, protect_block

__all__ = [
    "COLORS", "Chart", "WATERMARK", "case_origin", "chart_files", "charges_by_role", "districts", "key_indicators",
    "meeting_charts", "people_by_role", "public_series", "save_chart",
]

# --- style -----------------------------------------------------------------------------------------------

#: Every colour a chart uses. ``before`` / ``after`` are the two periods (the study configuration's order).
COLORS = {
    "before": "#D55E00",  # Okabe-Ito vermillion
    "after": "#0072B2",  # Okabe-Ito blue
    "ink": "#222222",  # text, the fitted model
    "muted": "#555555",  # secondary text, 'suppressed', the change line
    "grid": "#DDDDDD",
    "connector": "#BBBBBB",  # the line joining before and after in dot plots
    "watermark": "#8A8A8A",
}
WATERMARK = "SYNTHETIC DATA"
SUPPRESSED = "suppressed"
FIGSIZE = (40 / 3, 7.5)  # 16:9: 2400 x 1350 px at 180 dpi
PNG_DPI = 180
_DPI = 100  # the figures' own dpi (layout is in inches; the PNG is rendered at PNG_DPI)
SIZE = {"title": 26, "subtitle": 18, "label": 16, "panel": 18, "note": 14, "source": 13, "watermark": 118}
MARKERS = ("o", "s")  # before, after: shape as well as colour
_RC = {
    "font.family": "DejaVu Sans",
    "font.size": SIZE["label"],
    "axes.labelsize": SIZE["label"],
    "xtick.labelsize": SIZE["label"],
    "ytick.labelsize": SIZE["label"],
    "legend.fontsize": SIZE["label"],
    "text.color": COLORS["ink"],
    "axes.labelcolor": COLORS["ink"],
    "axes.edgecolor": COLORS["muted"],
    "xtick.color": COLORS["ink"],
    "ytick.color": COLORS["ink"],
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.linewidth": 1.0,
    "axes.grid": False,
    "axes.axisbelow": True,
    "figure.facecolor": "white",
    "axes.facecolor": "none",  # transparent: the watermark shows through behind the data
    "savefig.facecolor": "white",
    "pdf.fonttype": 42,  # TrueType in the PDF: text stays text (searchable, editable)
}
SOURCE_CODED = ("coded SFPD incident reports labelled prostitution and/or human trafficking (random sample of "
                "{reports:,} reports, {people:,} people; {years})")
SOURCE_SYNTHETIC = ("SYNTHETIC example data made by analysis.coders.synth in the form of the coded SFPD incident reports "
                    "({reports:,} made-up reports, {people:,} people; {years}), not real reports")
SOURCE_PUBLIC = "SFPD incident data published by DataSF (dataset tmnf-yvry), {what}"
_ROLE_PANEL = {"third_party": "Third parties"}  # where a panel is narrow
_ROLE_PLURAL = {"seller": "People selling sex", "buyer": "Buyers", "third_party": "Third parties / exploiters",
                "trafficking_victim": "Trafficking victims", "witness": "Witnesses", "other": "Others"}


@dataclass
class Chart:
    """One chart: what :func:`save_chart` writes and what the meeting pack embeds."""

    name: str  # file stem
    title: str
    fig: Figure
    data: pd.DataFrame  # the numbers behind the chart, suppressed, no person codes
    alt: str  # one sentence describing the chart
    subtitle: str = ""
    source: str = ""
    notes: list[str] = field(default_factory=list)
    synthetic: bool = False


def _period_colors(cfg: StudyConfig) -> dict[str, str]:
    a, b = cfg.period_codes
    return {a: COLORS["before"], b: COLORS["after"]}


def _period_markers(cfg: StudyConfig) -> dict[str, str]:
    a, b = cfg.period_codes
    return {a: MARKERS[0], b: MARKERS[1]}


@functools.lru_cache(maxsize=1)
def _measuring_renderer():
    from matplotlib.backends.backend_agg import RendererAgg

    return RendererAgg(10, 10, _DPI)


@functools.lru_cache(maxsize=4096)
def _measure(text: str, size: float, weight: str) -> float:
    prop = FontProperties(family=_RC["font.family"], size=size, weight=weight)
    w, _, _ = _measuring_renderer().get_text_width_height_descent(text, prop, ismath=False)
    return w / _DPI


def _text_width_in(fig: Figure, text: str, size: float, weight: str = "normal") -> float:
    """The width of ``text`` in inches, as drawn in the house font (cached: layout measures a lot)."""
    return _measure(text, float(size), weight)


def _wrap(fig: Figure, text: str, size: float, width_in: float, weight: str = "normal") -> list[str]:
    """Greedy word wrap by measured width (so long titles never run off the slide)."""
    lines: list[str] = []
    for para in text.split("\n"):
        cur = ""
        for word in para.split():
            trial = f"{cur} {word}".strip()
            if cur and _text_width_in(fig, trial, size, weight) > width_in:
                lines.append(cur)
                cur = word
            else:
                cur = trial
        lines.append(cur)
    return lines


@dataclass
class _Page:
    fig: Figure
    top: float  # figure fraction: the top of the plotting area
    bottom: float  # figure fraction: the bottom of the plotting area (x tick labels go below it)
    legend_y: float  # figure fraction: where a legend row starts (upper edge)
    left: float = 0.035
    right: float = 0.97


def _line_h(size: float, spacing: float = 1.3) -> float:
    return size * spacing / 72  # inches


_SYNTHETIC_LINE = WATERMARK + ": a generated example, not real reports."


def _page(title: str, subtitle: str, notes: list[str], source: str, synthetic: bool, *, legend: bool = True,
          xaxis_in: float = 0.55, synthetic_line: str = _SYNTHETIC_LINE) -> _Page:
    """A blank 16:9 chart page in the house style: title, subtitle, legend row, notes, source, watermark.

    The plotting area lies between ``top`` and ``bottom``; ``xaxis_in`` inches are left under it for the x
    tick labels (and axis label).
    """
    fig = Figure(figsize=FIGSIZE, dpi=_DPI, facecolor="white")
    FigureCanvasAgg(fig)
    W, H = FIGSIZE
    x0 = 0.035
    width = (1 - 2 * x0) * W
    y = 0.30  # inches from the top
    for line in _wrap(fig, title, SIZE["title"], width, "bold"):
        fig.text(x0, 1 - y / H, line, fontsize=SIZE["title"], weight="bold", va="top", ha="left",
                 color=COLORS["ink"], gid="title")
        y += _line_h(SIZE["title"], 1.2)
    y += 0.06
    sub_lines = []
    if synthetic:
        sub_lines.append((synthetic_line, "bold"))
    sub_lines += [(ln, "normal") for ln in _wrap(fig, subtitle, SIZE["subtitle"], width)] if subtitle else []
    for line, weight in sub_lines:
        fig.text(x0, 1 - y / H, line, fontsize=SIZE["subtitle"], weight=weight, va="top", ha="left",
                 color=COLORS["ink"] if weight == "bold" else COLORS["muted"], gid="subtitle")
        y += _line_h(SIZE["subtitle"])
    legend_y = 1 - (y + 0.06) / H
    if legend:
        y += 0.52
    top = 1 - (y + 0.12) / H
    # footer, from the bottom up: source, then notes
    yb = 0.16
    lines = _wrap(fig, source, SIZE["source"], width)
    fig.text(x0, yb / H, "\n".join(lines), fontsize=SIZE["source"], va="bottom", ha="left", color=COLORS["muted"],
             linespacing=1.25, gid="source")
    yb += len(lines) * _line_h(SIZE["source"], 1.25) + 0.04
    for note in reversed(notes):
        lines = _wrap(fig, note, SIZE["note"], width)
        fig.text(x0, yb / H, "\n".join(lines), fontsize=SIZE["note"], va="bottom", ha="left", color=COLORS["ink"],
                 linespacing=1.25, gid="note")
        yb += len(lines) * _line_h(SIZE["note"], 1.25)
    bottom = (yb + 0.1 + xaxis_in) / H
    if synthetic:
        # behind the data (axes are transparent) and the text, so it marks the chart without hiding anything
        fig.text(0.5, 0.47, WATERMARK, fontsize=SIZE["watermark"], weight="bold", rotation=24, ha="center",
                 va="center", color=COLORS["watermark"], alpha=0.2, zorder=-1, gid="watermark")
    return _Page(fig=fig, top=top, bottom=bottom, legend_y=legend_y)


def _period_legend(page: _Page, cfg: StudyConfig, labels: dict[str, str], *, kind: str = "marker") -> None:
    """The legend row under the subtitle: one entry per period, in the period's colour."""
    colors, markers = _period_colors(cfg), _period_markers(cfg)
    handles = []
    for g in cfg.period_codes:
        if kind == "bar":
            handles.append(Patch(facecolor=colors[g], edgecolor=colors[g], label=labels[g]))
        else:
            handles.append(Line2D([], [], color=colors[g], marker=markers[g], ms=11, lw=3, label=labels[g]))
    page.fig.legend(handles=handles, loc="upper left", bbox_to_anchor=(page.left + 0.002, page.legend_y),
                    ncol=len(handles), frameon=False, fontsize=SIZE["label"], handlelength=1.6,
                    columnspacing=2.2, borderaxespad=0, borderpad=0)


def _clean_axes(ax, *, grid_axis: str = "x") -> None:
    ax.spines["left"].set_visible(False)
    ax.tick_params(axis="y", length=0)
    ax.tick_params(axis="x", colors=COLORS["ink"], labelsize=SIZE["label"])
    if grid_axis:
        ax.grid(axis=grid_axis, color=COLORS["grid"], lw=1)


def _pct_axis(ax, hi: float = 100.0) -> None:
    ax.set_xlim(0, hi)
    ticks = [t for t in (0, 25, 50, 75, 100) if t <= hi]
    ax.set_xticks(ticks)
    ax.set_xticklabels([f"{t}%" for t in ticks])


def _fmt_pct(x: float) -> str:
    return f"{x:.0f}%" if x >= 1 or x == 0 else f"{x:.1f}%"


def _short(label: str) -> str:
    """A codebook label without a trailing parenthetical, e.g. '... evidence (all reports)' -> '... evidence'."""
    return re.sub(r"\s*\([^)]*\)\s*$", "", label)


def _lower_first(label: str) -> str:
    return label[0].lower() + label[1:] if len(label) > 1 and label[1].islower() else label


def _source(tables: dict[str, pd.DataFrame], cfg: StudyConfig, synthetic: bool) -> str:
    years = "; ".join(f"{p.unit or p.code} {'-'.join(map(str, (min(p.years), max(p.years))))}" for p in cfg.periods)
    fmt = SOURCE_SYNTHETIC if synthetic else SOURCE_CODED
    text = fmt.format(reports=len(tables["incidents"]), people=len(tables["persons"]), years=years)
    return f"Source: {text}. Analysis: sfpd-vice-svu-analysis {__version__} (analysis.report.charts)."


def _data_label(synthetic: bool) -> str:
    return WATERMARK if synthetic else "coded SFPD incident reports"


# --- suppression ---------------------------------------------------------------------------------------


@dataclass
class _Cell:
    n: int
    N: float
    pct: float
    lo: float
    hi: float
    hidden: bool  # the value (share) cannot be shown
    small: bool  # the count itself is 1 .. threshold-1
    count_hidden: bool  # the count cannot be shown
    den_hidden: bool

    def mark(self, thr: int) -> str:
        return f"{SUPPRESSED} (<{thr})" if self.small else SUPPRESSED


@dataclass
class _Row:
    column: str
    level: str
    label: str
    cells: dict[str, _Cell]
    any_hidden: bool
    diff: tuple[float, float, float] = (math.nan, math.nan, math.nan)
    p: float = math.nan
    q: float = math.nan
    test: str = ""
    outside: dict[str, tuple[int, bool]] = field(default_factory=dict)  # period -> (count outside N, hidden)


def _num(x) -> float:
    try:
        return float(x)
    except (TypeError, ValueError):
        return math.nan


def _protected_rows(ct: ComparisonTable, thr: int) -> list[_Row]:
    """The rows of a comparison table with what the shared table hides (the rule of compare.display)."""
    a, b = ct.groups
    out: list[_Row] = []
    for col, block in ct.rows.groupby("column", sort=False):
        shown = list(block.itertuples(index=False))
        first = shown[0]
        if first.kind == "number":
            continue
        counts = [[int(getattr(x, f"n_{a}")), int(getattr(x, f"n_{b}"))] for x in shown]
        kinds = ["missing" if x.row_type == "missing" else "level" for x in shown]
        binary = first.kind == "binary"
        if binary:
            counts.append([int(getattr(first, f"N_{a}")) - int(getattr(first, f"n_{a}")),
                           int(getattr(first, f"N_{b}")) - int(getattr(first, f"n_{b}"))])
            kinds.append("implicit")
        hidden = protect_block(np.array(counts, dtype=np.int64), kinds, thr)
        k = len(kinds)
        den_hidden = hidden[k]
        outside = {}
        for j, g in enumerate((a, b)):
            miss = [i for i, t in enumerate(kinds) if t == "missing"]
            outside[g] = (sum(counts[i][j] for i in miss), bool(any(hidden[i, j] for i in miss)))
        level_rows = [i for i, t in enumerate(kinds) if t == "level"]
        for i in level_rows:
            x = shown[i]
            cells = {}
            for j, g in enumerate((a, b)):
                n = int(getattr(x, f"n_{g}"))
                cnt_hidden = bool(hidden[i, j])
                val_hidden = cnt_hidden or bool(den_hidden[j]) or (binary and bool(hidden[k - 1, j]))
                cells[g] = _Cell(n=n, N=_num(getattr(x, f"N_{g}")), pct=_num(getattr(x, f"pct_{g}", math.nan)),
                                 lo=_num(getattr(x, f"ci_low_{g}", math.nan)),
                                 hi=_num(getattr(x, f"ci_high_{g}", math.nan)),
                                 hidden=val_hidden, small=0 < n < thr, count_hidden=cnt_hidden,
                                 den_hidden=bool(den_hidden[j]))
            row = _Row(column=col, level=str(x.level), label=str(x.label if binary else x.level_label), cells=cells,
                       any_hidden=bool(hidden.any()), outside=outside)
            if binary and not row.any_hidden:
                row.diff = (_num(getattr(x, "diff_pp", math.nan)), _num(getattr(x, "diff_low", math.nan)),
                            _num(getattr(x, "diff_high", math.nan)))
                row.p, row.q = _num(getattr(x, "p_value", math.nan)), _num(getattr(x, "q_value", math.nan))
                row.test = x.test if isinstance(getattr(x, "test", ""), str) else ""
            out.append(row)
    return out


def _cell_values(c: _Cell, thr: int, *, ci: bool = True) -> dict[str, object]:
    """The CSV cells of one period: numbers, or '<5' / 'suppressed' where hidden."""
    if c.count_hidden:
        n: object = f"<{thr}" if c.small else SUPPRESSED
    else:
        n = c.n
    d = {"n": n, "N": SUPPRESSED if c.den_hidden else (int(c.N) if c.N == c.N else "")}
    keys = ("pct", "ci_low", "ci_high") if ci else ("pct",)
    vals = {"pct": c.pct, "ci_low": c.lo, "ci_high": c.hi}
    for k in keys:
        d[k] = SUPPRESSED if c.hidden else ("" if vals[k] != vals[k] else float(vals[k]))
    return d


def _wide(rows: list[_Row], groups: tuple[str, ...], thr: int, *, ci: bool = True, stats: bool = True,
          extra: dict[str, list] | None = None) -> pd.DataFrame:
    recs = []
    for i, r in enumerate(rows):
        rec: dict[str, object] = {}
        for k, v in (extra or {}).items():
            rec[k] = v[i]
        for g in groups:
            for k, v in _cell_values(r.cells[g], thr, ci=ci).items():
                rec[f"{k}_{g}"] = v
        if stats:
            blank = r.any_hidden
            for k, v in zip(("diff_pp", "diff_low", "diff_high"), r.diff):
                rec[k] = "" if blank or v != v else float(v)
            rec["p_value"] = "" if blank or r.p != r.p else float(r.p)
            rec["q_value"] = "" if blank or r.q != r.q else float(r.q)
            rec["test"] = "" if blank else r.test
        recs.append(rec)
    return pd.DataFrame(recs)


def _suppression_note(rows: list[_Row], thr: int) -> list[str]:
    if any(r.any_hidden for r in rows):
        return [f"Suppressed: counts from 1 to {thr - 1}, and values that would let them be worked out, are not "
                "shown (the shared tables' rule)."]
    return []


def _outside_note(rows: list[_Row], cfg: StudyConfig, thr: int, unit: str, what: str) -> str:
    """'Not documented: 16 reports before and 12 after, left out of the shares.' with suppression."""
    a, b = cfg.period_codes
    if not rows:
        return ""
    shown = []
    for g in (a, b):
        n, hidden = rows[0].outside.get(g, (0, False))
        shown.append((f"<{thr}" if 0 < n < thr else SUPPRESSED) if hidden else f"{n:,}")
    if all(rows[0].outside.get(g, (0, False))[0] == 0 for g in (a, b)):
        return ""
    return f"{what}: {shown[0]} {unit} before and {shown[1]} after, left out of the shares."


def _draw_suppressed(ax, x: float, y: float, text: str, **kw) -> None:
    """The word 'suppressed' where a mark would be (never the mark itself)."""
    ax.text(x, y, text, fontsize=SIZE["label"], style="italic", color=COLORS["muted"], va="center", ha="left",
            gid="suppressed", **kw)


def _after_name(cfg: StudyConfig) -> str:
    """The after-period's unit in a few letters for titles: 'Special Victims Unit' -> 'SVU'."""
    unit = cfg.periods[1].unit or cfg.periods[1].code
    words = unit.split()
    return "".join(w[0].upper() for w in words) if len(words) >= 3 else unit


def _comparing(cfg: StudyConfig) -> str:
    a, b = cfg.period_codes
    return f"comparing {cfg.period_labels[a]} with {cfg.period_labels[b]}"


def _value_text(c: _Cell, thr: int, *, n: bool = True) -> str:
    if c.hidden:
        return c.mark(thr)
    if not (c.N == c.N and c.N > 0):
        return "no one in this period"
    return f"{_fmt_pct(c.pct)} ({c.n:,}/{int(c.N):,})" if n else _fmt_pct(c.pct)


def _blend(ax):
    import matplotlib.transforms as mt

    return mt.blended_transform_factory(ax.transAxes, ax.transData)


def _dot_rows(ax, rows: list[_Row], cfg: StudyConfig, thr: int, *, offset: float = 0.2) -> None:
    """Dot-and-interval rows: per row one point and 95% interval per period (before above after), the value
    with n/N in a column right of the axes; hidden values as the word 'suppressed', never as a mark."""
    a, b = cfg.period_codes
    colors, markers = _period_colors(cfg), _period_markers(cfg)
    tf = _blend(ax)
    off = {a: -offset, b: offset}
    for i, r in enumerate(rows):
        if i:
            ax.axhline(i - 0.5, color=COLORS["grid"], lw=1, zorder=0)
        for g in (a, b):
            c = r.cells[g]
            y = i + off[g]
            col = COLORS["muted"]
            if c.hidden:
                _draw_suppressed(ax, 1, y, c.mark(thr))  # said once, where the mark would be
                continue
            if c.N == c.N and c.N > 0:
                ax.plot([c.lo, c.hi], [y, y], color=colors[g], lw=3.5, solid_capstyle="butt", zorder=2,
                        gid=f"ci_{g}", clip_on=False)
                ax.plot([c.pct], [y], marker=markers[g], ms=12, color=colors[g], mec="white", mew=1.2, ls="none",
                        zorder=3, gid=f"point_{g}", clip_on=False)
                col = colors[g]
            ax.text(1.02, y, _value_text(c, thr), transform=tf, ha="left", va="center", fontsize=SIZE["label"],
                    color=col, gid=f"value_{g}")
    ax.set_ylim(len(rows) - 0.5, -0.5)


def _panel_title(fig: Figure, x: float, y: float, title: str, sub: str) -> None:
    """A panel's name (18 pt) and its n (16 pt) above it, at figure position (x, y) = lower left of the n line."""
    fig.text(x, y, sub, fontsize=SIZE["label"], color=COLORS["muted"], ha="left", va="bottom", gid="panel_n")
    fig.text(x, y + _line_h(SIZE["label"], 1.35) / FIGSIZE[1], title, fontsize=SIZE["panel"], weight="bold",
             ha="left", va="bottom", gid="panel_title")


_PANEL_HEAD = 0.62  # inches above a panel for its name and n


def _count_word(n: int) -> str:
    words = ("No", "One", "Two", "Three", "Four", "Five", "Six", "Seven", "Eight", "Nine", "Ten")
    return words[n] if 0 <= n < len(words) else str(n)


def _n_text(n: int, thr: int) -> str:
    return f"<{thr}" if 0 < n < thr else f"{n:,}"


# --- 1. key indicators -----------------------------------------------------------------------------------

# (table, derived yes/no column, the codebook variable summarised, what the percentage is of). The codebook
# variable gives the same n/N as the derived column and the same rows ('not documented', 'not applicable') as the
# shared before/after tables, so small-cell suppression hides exactly the cells the tables hide.
INDICATORS = (
    ("incidents", "condoms_evidence_any", "condoms_evidence_any", "% of reports"),
    ("incidents", "phones_seized_yes", "phones_seized", "% of reports"),
    ("incidents", "case_from_sting_or_operation", "case_from_sting_or_operation", "% of reports, origin documented"),
    ("incidents", "screened_trafficking_yes", "screened_trafficking", "% of reports"),
    ("incidents", "correctly_identified", "correctly_identified", "% of reports SFPD labelled trafficking"),
    ("incidents", "interpreter_used_yes", "interpreter_used", "% of reports noting a non-English language"),
    ("persons", "hiv_charge", "hiv_charge", "% of people selling sex"),
)


def _label(cb: Codebook, table: str, name: str) -> str:
    try:
        return cb.derived_variable(table, name).label
    except KeyError:
        return cb.variable(table, name).label


def _indicator_rows(cts: dict[str, ComparisonTable], thr: int) -> tuple[list[_Row], list[str]]:
    """The indicators in the order of :data:`INDICATORS` (the tables keep the codebook's order)."""
    got = {r.column: r for key in ("incidents", "sellers") if key in cts for r in _protected_rows(cts[key], thr)}
    rows, of = [], []
    for _, _, var, o in INDICATORS:
        if var in got:
            got[var].label = _short(got[var].label)
            rows.append(got[var])
            of.append(o)
    return rows, of


def _comparisons(name: str, tables: dict[str, pd.DataFrame], cfg: StudyConfig, cb: Codebook,
                 n_boot: int) -> dict[str, ComparisonTable]:
    """Every before/after table chart ``name`` needs, by key.

    :func:`meeting_charts` computes these for all charts before it draws any figure: the tests inside
    ``before_after`` (statsmodels' multiple-testing step runs the garbage collector) get slower with every live
    figure.
    """
    inc, per = tables["incidents"], tables["persons"]
    roles = set(per["role"].astype(str))
    kw = {"codebook": cb, "config": cfg}
    out: dict[str, ComparisonTable] = {}
    if name == "key_indicators":
        ivars = [var for t, _, var, _ in INDICATORS if t == "incidents" and var in inc]
        out["incidents"] = before_after(inc, "incidents", variables=ivars, **kw)
        pvars = [var for t, _, var, _ in INDICATORS if t == "persons" and var in per]
        if pvars and "seller" in roles:
            out["sellers"] = before_after(per, "persons", role="seller", variables=pvars, n_boot=n_boot, **kw)
    elif name in ("case_origin", "districts"):
        var = {"case_origin": "origin", "districts": "district"}[name]
        out[var] = before_after(inc, "incidents", variables=[var], **kw)
    elif name == "charges_by_role":
        cols = [col for _, _, col in _charge_columns(cb, per)]
        for r in CHARGE_ROLES:
            if r in roles:
                out[r] = before_after(per, "persons", role=r, variables=cols, n_boot=n_boot, **kw)
    elif name == "people_by_role":
        out["roles"] = before_after(per, "persons", variables=["role"], **kw)
        if "seller" in roles:
            out["sellers"] = before_after(per, "persons", role="seller", variables=list(SELLER_GROUPS),
                                          n_boot=n_boot, **kw)
    else:
        raise ValueError(f"no chart named {name!r}")
    return out


def _change(r: _Row) -> str:
    """'lower after' / 'higher after' when the table's test says so (Holm q < 0.05); computed, never assumed."""
    if r.any_hidden or r.q != r.q:
        return ""
    if r.q < 0.05 and r.diff[0] == r.diff[0] and r.diff[0] != 0:
        return "lower after" if r.diff[0] > 0 else "higher after"
    return "no clear change"


def key_indicators(tables: dict[str, pd.DataFrame], *, synthetic: bool, config: StudyConfig | None = None,
                   codebook: Codebook | None = None, n_boot: int = 2000,
                   _cts: dict[str, ComparisonTable] | None = None) -> Chart:
    """Dot-and-interval chart: seven indicators before vs after, each with its 95% Wilson interval and n/N.

    Condoms documented as evidence, phones seized, case from a sting or operation, screened for trafficking,
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
    cts = _cts if _cts is not None else _comparisons("key_indicators", tables, cfg, cb, n_boot)
    with matplotlib.rc_context(_RC):
        rows, of = _indicator_rows(cts, thr)
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


# --- grouped horizontal bars (case origin, charges, people) -----------------------------------------------


def _bars(ax, rows: list[_Row], cfg: StudyConfig, thr: int, *, value: str = "pct", xmax: float = 100.0,
          show_labels: bool = True, compact: bool = False) -> None:
    """Two bars per row (before above after), value at the bar's end. A hidden value is drawn as the word
    'suppressed', never as a bar; a row with nothing in either period says 'none' once."""
    a, b = cfg.period_codes
    colors = _period_colors(cfg)
    h = 0.36
    off = {a: -h / 2 - 0.02, b: h / 2 + 0.02}

    def hidden(c: _Cell) -> bool:
        return c.hidden if value == "pct" else c.count_hidden

    for i, r in enumerate(rows):
        ca, cb_ = r.cells[a], r.cells[b]
        if hidden(ca) and hidden(cb_):
            same = ca.mark(thr) == cb_.mark(thr)
            text = (SUPPRESSED if compact else f"{ca.mark(thr)} in both periods" if same
                    else f"{ca.mark(thr)} before, {cb_.mark(thr)} after")
            _draw_suppressed(ax, xmax * 0.01, i, text)
            continue
        if ca.n == 0 and cb_.n == 0 and not (hidden(ca) or hidden(cb_)):
            ax.text(xmax * 0.01, i, "none", fontsize=SIZE["label"], color=COLORS["muted"], va="center", ha="left",
                    gid="none")
            continue
        for g in (a, b):
            c = r.cells[g]
            y = i + off[g]
            if hidden(c):
                _draw_suppressed(ax, xmax * 0.01, y, c.mark(thr))
                continue
            v = c.pct if value == "pct" else c.n
            if v != v:
                continue
            ax.barh(y, v, height=h, color=colors[g], edgecolor="none", zorder=2, gid=f"bar_{g}")
            text = _fmt_pct(v) if value == "pct" else f"{int(v):,}"
            ax.text(v + xmax * 0.012, y, text, va="center", ha="left", fontsize=SIZE["label"], color=colors[g],
                    gid=f"value_{g}")
    ax.set_ylim(len(rows) - 0.5, -0.5)
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels([r.label for r in rows] if show_labels else [""] * len(rows), fontsize=SIZE["label"])
    _clean_axes(ax)


def _category_data(rows: list[_Row], cfg: StudyConfig, thr: int, variable: str, missing_label: str,
                   synthetic: bool) -> pd.DataFrame:
    """The CSV of a categorical chart: one row per level, then the 'not documented' row (counts only)."""
    a, b = cfg.period_codes
    data = _wide(rows, (a, b), thr, ci=False, stats=False,
                 extra={"level": [r.level for r in rows], "label": [r.label for r in rows]})
    nd_row: dict[str, object] = {"level": "-8", "label": missing_label}
    for g in (a, b):
        n, hidden = rows[0].outside[g]
        nd_row.update({f"n_{g}": (f"<{thr}" if 0 < n < thr else SUPPRESSED) if hidden else n, f"N_{g}": "",
                       f"pct_{g}": ""})
    if any(rows[0].outside[g][0] for g in (a, b)):
        data = pd.concat([data, pd.DataFrame([nd_row])], ignore_index=True)
    data.insert(0, "variable", variable)
    data.insert(0, "data", _data_label(synthetic))
    return data


def _largest_shift(rows: list[_Row], cfg: StudyConfig) -> _Row | None:
    """The level whose share moved most between the periods (both values visible): a computed fact."""
    a, b = cfg.period_codes
    vis = [r for r in rows if not (r.cells[a].hidden or r.cells[b].hidden)]
    return max(vis, key=lambda r: abs(r.cells[a].pct - r.cells[b].pct)) if vis else None


# --- 2. case origin ------------------------------------------------------------------------------------


def case_origin(tables: dict[str, pd.DataFrame], *, synthetic: bool, config: StudyConfig | None = None,
                codebook: Codebook | None = None, _cts: dict[str, ComparisonTable] | None = None) -> Chart:
    """Grouped bars: how cases originated, as a share of reports with the origin documented, by period
    ('not documented' left out of the shares and counted in a note)."""
    cfg = config or load_study_config()
    cb = codebook or load_codebook()
    thr = cfg.suppression_threshold
    a, b = cfg.period_codes
    labels = cfg.period_labels
    cts = _cts if _cts is not None else _comparisons("case_origin", tables, cfg, cb, 0)
    with matplotlib.rc_context(_RC):
        rows = _protected_rows(cts["origin"], thr)
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
        n_lab = {g: f"{labels[g]}, n = " + (SUPPRESSED if Ns[g].den_hidden else f"{int(Ns[g].N):,}") + " reports"
                 for g in (a, b)}
        _period_legend(page, cfg, n_lab, kind="bar")
        data = _category_data(rows, cfg, thr, "origin", cb.missing_labels.get("-8", "Not documented"), synthetic)
        vals = [f"{_lower_first(r.label)} {_value_text(r.cells[a], thr, n=False)} before and "
                f"{_value_text(r.cells[b], thr, n=False)} after" for r in rows]
        alt = (f"Grouped bar chart of {_lower_first(label)} as a share of reports, {_comparing(cfg)}: "
               + "; ".join(vals) + (" (synthetic data)." if synthetic else "."))
    return Chart("case_origin", title, fig, data, alt, sub, source, notes, synthetic)


# --- 3. charges by role -------------------------------------------------------------------------------


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


def charges_by_role(tables: dict[str, pd.DataFrame], *, synthetic: bool, config: StudyConfig | None = None,
                    codebook: Codebook | None = None, n_boot: int = 2000,
                    _cts: dict[str, ComparisonTable] | None = None) -> Chart:
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
    cts = _cts if _cts is not None else _comparisons("charges_by_role", tables, cfg, cb, n_boot)
    present = [r for r in CHARGE_ROLES if r in cts]
    with matplotlib.rc_context(_RC):
        per_role: dict[str, list[_Row]] = {}
        role_n: dict[str, dict[str, int]] = {}
        for r in present:
            ct = cts[r]
            got = {row.column: row for row in _protected_rows(ct, thr)}
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
            ns = role_n[r]
            _panel_title(fig, x, panel_top + 0.08 / H, _ROLE_PANEL.get(r, _ROLE_PLURAL.get(r, role_labels[r])),
                         f"n = {_n_text(ns[a], thr)} before, {_n_text(ns[b], thr)} after")
        _period_legend(page, cfg, {g: labels[g] for g in (a, b)}, kind="bar")
        extra: dict[str, list] = {"role": [], "role_label": [], "category": [], "label": []}
        ordered = []
        for r in present:
            for (code, lab, _), row in zip(cats_kept, per_role[r]):
                extra["role"].append(r)
                extra["role_label"].append(role_labels[r])
                extra["category"].append(code)
                extra["label"].append(lab)
                ordered.append(row)
        data = _wide(ordered, (a, b), thr, extra=extra)
        data.insert(0, "data", _data_label(synthetic))
        alt_parts = []
        for r in present:
            top = [f"{row.label.lower()} {_value_text(row.cells[a], thr, n=False)} before and "
                   f"{_value_text(row.cells[b], thr, n=False)} after"
                   for row in per_role[r] if row.any_hidden or row.cells[a].n or row.cells[b].n]
            alt_parts.append(f"{_ROLE_PLURAL.get(r, role_labels[r]).lower()}: " + ", ".join(top))
        alt = (f"Grouped bars in {len(present)} panels, the share of people in each role charged in each category, "
               f"{_comparing(cfg)}; " + "; ".join(alt_parts) + (" (synthetic data)." if synthetic else "."))
    return Chart("charges_by_role", title, fig, data, alt, sub, source, notes, synthetic)


# --- 4. people by role --------------------------------------------------------------------------------


SELLER_GROUPS = ("trans_woman_of_color", "tay", "minor")


def people_by_role(tables: dict[str, pd.DataFrame], *, synthetic: bool, config: StudyConfig | None = None,
                   codebook: Codebook | None = None, n_boot: int = 2000,
                   _cts: dict[str, ComparisonTable] | None = None) -> Chart:
    """Two panels: people on the reports by role (counts), and, among people selling sex, the share who are
    trans women of color, transitional-aged youth (the configured age range) and minors, with 95% intervals
    and n/N."""
    import textwrap

    cfg = config or load_study_config()
    cb = codebook or load_codebook()
    thr = cfg.suppression_threshold
    a, b = cfg.period_codes
    labels = cfg.period_labels
    lo_age, hi_age = cfg.tay_age_range
    cts = _cts if _cts is not None else _comparisons("people_by_role", tables, cfg, cb, n_boot)
    with matplotlib.rc_context(_RC):
        ct_roles = cts["roles"]
        role_rows = _protected_rows(ct_roles, thr)
        for r in role_rows:
            r.label = _ROLE_PLURAL.get(r.level, r.label)
        group_rows: list[_Row] = []
        seller_n = {a: 0, b: 0}
        if "sellers" in cts:
            ct_s = cts["sellers"]
            got = {r.column: r for r in _protected_rows(ct_s, thr)}
            names = {"trans_woman_of_color": _label(cb, "persons", "trans_woman_of_color"),
                     "tay": f"{_label(cb, 'persons', 'tay')} ({lo_age}-{hi_age})",
                     "minor": _label(cb, "persons", "minor")}
            for col in SELLER_GROUPS:
                if col in got:
                    got[col].label = names[col]
                    group_rows.append(got[col])
            seller_n = ct_s.group_n
        title = f"Who was on the reports, before and after the move to {_after_name(cfg)}"
        sub = ("Left: people on the reports by role. Right: among people selling sex, the share who are trans women "
               "of color, transitional-aged youth and minors (dots; lines: 95% confidence interval).")
        notes = _suppression_note(role_rows + group_rows, thr) + [
            "Right: percentages leave out people whose gender identity, race/ethnicity or age was not recorded."]
        source = _source(tables, cfg, synthetic)
        page = _page(title, sub, notes, source, synthetic, xaxis_in=0.45)
        fig = page.fig
        W, H = FIGSIZE
        panel_top = page.top - _PANEL_HEAD / H
        # left panel: counts by role
        x1 = page.left
        lw = max(_text_width_in(fig, r.label, SIZE["label"]) for r in role_rows) + 0.2
        l1 = x1 + lw / W
        ax1 = fig.add_axes((l1, page.bottom, 0.45 - l1, panel_top - page.bottom))
        xmax = max([r.cells[g].n for r in role_rows for g in (a, b) if not r.cells[g].count_hidden] or [1]) * 1.2
        _bars(ax1, role_rows, cfg, thr, value="n", xmax=xmax)
        ax1.set_xlim(0, xmax)
        ax1.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(4, integer=True))
        ax1.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:,.0f}"))
        gn = ct_roles.group_n
        _panel_title(fig, x1, panel_top + 0.08 / H, "Everyone on the reports, by role",
                     f"n = {_n_text(gn[a], thr)} people before, {_n_text(gn[b], thr)} after")
        # right panel: shares among people selling sex
        if group_rows:
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
                         f"n = {_n_text(seller_n[a], thr)} before, {_n_text(seller_n[b], thr)} after")
        _period_legend(page, cfg, {g: labels[g] for g in (a, b)}, kind="bar")
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
        alt_roles = ", ".join(
            f"{r.label.lower()} " + " and ".join(
                r.cells[g].mark(thr) if r.cells[g].count_hidden else f"{r.cells[g].n:,}" for g in (a, b))
            for r in role_rows)
        alt_groups = ", ".join(
            f"{_lower_first(r.label)} {_value_text(r.cells[a], thr, n=False)} and "
            f"{_value_text(r.cells[b], thr, n=False)}" for r in group_rows)
        alt = (f"Two panels {_comparing(cfg)} (before and after): people on the reports by role, {alt_roles}; among "
               f"people selling sex, {alt_groups}" + (" (synthetic data)." if synthetic else "."))
    return Chart("people_by_role", title, fig, data, alt, sub, source, notes, synthetic)


# --- 5. public series ---------------------------------------------------------------------------------


def public_series(result, *, synthetic: bool, config: StudyConfig | None = None,
                  measure: str = "records per month",
                  what: str = "daily counts of PROSTITUTION offence rows") -> Chart:
    """The public monthly series with the unit change marked, the fitted segmented model and the counterfactual.

    ``result`` is :func:`analysis.stats.its.fit_its` fitted at the study configuration's ``unit_change_date`` (a
    mismatch is an error: the line would be drawn at one date and the model fitted at another). The subtitle
    gives the level-change rate ratio with its 95% CI. The sampled years of each period are shaded. The public
    counts are published aggregates, not people in the sample, so they are not suppressed.
    """
    import matplotlib.dates as mdates
    from matplotlib.legend_handler import HandlerTuple

    cfg = config or load_study_config()
    a, b = cfg.period_codes
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
                 "seasonality and Newey-West errors."]
        source = (f"Source: {SOURCE_PUBLIC.format(what=what)}, {first:%b %Y} to {last:%b %Y}. "
                  f"Analysis: sfpd-vice-svu-analysis {__version__} (analysis.stats.its, analysis.report.charts).")
        page = _page(title, sub, notes, source, synthetic, xaxis_in=0.45,
                     synthetic_line=WATERMARK + " in this pack's coded sample; this public series is real SFPD data.")
        fig = page.fig
        left = page.left + 0.85 / FIGSIZE[0]
        ax = fig.add_axes((left, page.bottom, 0.97 - left, page.top - page.bottom))
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
        ax.text(change + pd.Timedelta(days=40), ymax * 0.985, f"{_after_name(cfg)} opens\n{change:%-d %b %Y}",
                ha="left", va="top", fontsize=SIZE["label"], color=COLORS["ink"], gid="change_label")
        ax.set_ylim(0, ymax)
        ax.set_xlim(first - pd.Timedelta(days=20), last + pd.Timedelta(days=40))
        ax.xaxis.set_major_locator(mdates.YearLocator(2 if (last.year - first.year) > 8 else 1))
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y"))
        ax.set_ylabel(measure[:1].upper() + measure[1:], fontsize=SIZE["label"])
        ax.tick_params(axis="y", labelsize=SIZE["label"])
        obs = (Line2D([], [], color=pc[a], marker="o", ls="none", ms=9),
               Line2D([], [], color=pc[b], marker="s", ls="none", ms=9))
        handles = [obs, Line2D([], [], color=COLORS["ink"], lw=2.8), Line2D([], [], color=COLORS["ink"], lw=2.4,
                                                                                 ls="--")]
        names = [f"Observed, before / after ({len(s)} months, {total:,} records)", "Fitted model",
                 "No-change projection"]
        fig.legend(handles, names, loc="upper left", bbox_to_anchor=(page.left + 0.002, page.legend_y), ncol=3,
                   frameon=False, fontsize=SIZE["label"], handlelength=2.2, columnspacing=1.8, borderaxespad=0,
                   borderpad=0, handletextpad=0.5, handler_map={tuple: HandlerTuple(ndivide=None, pad=0.4)})
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
               f"{rr:.2f} times the earlier trend's prediction (95% CI {lo:.2f} to {hi:.2f}).")
    return Chart("public_series", title, fig, data, alt, sub, source, notes, synthetic)


# --- 6. districts -------------------------------------------------------------------------------------


def districts(tables: dict[str, pd.DataFrame], *, synthetic: bool, config: StudyConfig | None = None,
              codebook: Codebook | None = None, _cts: dict[str, ComparisonTable] | None = None) -> Chart:
    """Dot plot: the share of reports in each SFPD police district, before vs after. Districts are ordered by
    their share over both periods, computed from visible counts only; districts with a hidden value go last."""
    cfg = config or load_study_config()
    cb = codebook or load_codebook()
    thr = cfg.suppression_threshold
    a, b = cfg.period_codes
    labels = cfg.period_labels
    colors, markers = _period_colors(cfg), _period_markers(cfg)
    cts = _cts if _cts is not None else _comparisons("districts", tables, cfg, cb, 0)
    with matplotlib.rc_context(_RC):
        rows = _protected_rows(cts["district"], thr)
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
        notes = _suppression_note(rows, thr) + ([nd] if nd else [])
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
        n_lab = {g: f"{labels[g]}, n = " + (SUPPRESSED if N[g].den_hidden else f"{int(N[g].N):,}") + " reports"
                 for g in (a, b)}
        _period_legend(page, cfg, n_lab)
        data = _category_data(rows, cfg, thr, "district", cb.missing_labels.get("-8", "Not documented"), synthetic)
        vals = [f"{r.label} {_value_text(r.cells[a], thr, n=False)} and {_value_text(r.cells[b], thr, n=False)}"
                for r in rows]
        alt = (f"Dot plot of the share of reports per SFPD police district, {_comparing(cfg)}: " + "; ".join(vals)
               + (" (synthetic data)." if synthetic else "."))
    return Chart("districts", title, fig, data, alt, sub, source, notes, synthetic)


# --- the set, and files -----------------------------------------------------------------------------------


def meeting_charts(tables: dict[str, pd.DataFrame], its_result=None, *, synthetic: bool,
                   config: StudyConfig | None = None, n_boot: int = 2000,
                   codebook: Codebook | None = None) -> list[Chart]:
    """Every chart for the meeting, in meeting order. Without ``its_result`` (no public data) the public-series
    chart is left out; the caller says so."""
    cfg = config or load_study_config()
    cb = codebook or load_codebook()
    coded = ("key_indicators", "case_origin", "charges_by_role", "people_by_role", "districts")
    cts = {name: _comparisons(name, tables, cfg, cb, n_boot) for name in coded}  # all numbers first, then figures
    kw = {"synthetic": synthetic, "config": cfg, "codebook": cb}
    charts = [
        key_indicators(tables, n_boot=n_boot, _cts=cts["key_indicators"], **kw),
        case_origin(tables, _cts=cts["case_origin"], **kw),
        charges_by_role(tables, n_boot=n_boot, _cts=cts["charges_by_role"], **kw),
        people_by_role(tables, n_boot=n_boot, _cts=cts["people_by_role"], **kw),
    ]
    if its_result is not None:
        charts.append(public_series(its_result, synthetic=synthetic, config=cfg))
    charts.append(districts(tables, _cts=cts["districts"], **kw))
    return charts


def _csv_bytes(data: pd.DataFrame) -> bytes:
    return data.to_csv(index=False, lineterminator="\n").encode("utf-8")


def chart_files(chart: Chart, *, dpi: int = PNG_DPI,
                formats: tuple[str, ...] = ("png", "pdf", "csv")) -> dict[str, bytes]:
    """``{'png': ..., 'pdf': ..., 'csv': ...}``: the chart's files as bytes (no file I/O).

    Deterministic: the PNG carries fixed metadata (the title; no software version), the PDF no creation date or
    producer, and the CSV is written with fixed line endings and full float precision (numbers round-trip)."""
    unknown = set(formats) - {"png", "pdf", "csv"}
    if unknown:
        raise ValueError(f"unknown format(s) {', '.join(sorted(unknown))}; use png, pdf, csv")
    out = {}
    with matplotlib.rc_context(_RC):
        if "png" in formats:
            buf = io.BytesIO()
            chart.fig.savefig(buf, format="png", dpi=dpi, metadata={"Title": chart.title, "Software": None},
                              facecolor="white")
            out["png"] = buf.getvalue()
        if "pdf" in formats:
            buf = io.BytesIO()
            chart.fig.savefig(buf, format="pdf", metadata={"Title": chart.title, "Creator": "analysis.report.charts",
                                                            "Producer": None, "CreationDate": None},
                              facecolor="white")
            out["pdf"] = buf.getvalue()
    if "csv" in formats:
        out["csv"] = _csv_bytes(chart.data)
    return out


def save_chart(chart: Chart, out_dir: str | Path, *, dpi: int = PNG_DPI) -> list[Path]:
    """Write ``<name>.png`` (slides, 16:9), ``<name>.pdf`` (vector) and ``<name>.csv`` (the data behind it)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for ext, data in chart_files(chart, dpi=dpi).items():
        p = out / f"{chart.name}.{ext}"
        p.write_bytes(data)
        written.append(p)
    return written
