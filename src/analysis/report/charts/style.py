"""The charts' house style, shared by every chart: colours, sizes, the 16:9 page, legends, axes and wording.

16:9 (13.33 x 7.5 in), title 26 pt, labels 16 pt and up, Okabe-Ito colours -- before = vermillion ``#D55E00``,
after = blue ``#0072B2`` (vermillion rather than Okabe-Ito orange ``#E69F00`` because on white it has about
3.9:1 contrast instead of 2.2:1, which survives a washed-out projector; the pair stays distinguishable with every
common colour-vision deficiency, and markers differ in shape too), no chart junk, n in every panel, a source line,
and, for synthetic data, a large diagonal "SYNTHETIC DATA" watermark plus the words in the subtitle. One helper,
:func:`_page`, lays out every chart's page. :class:`Chart` is what every chart function returns.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from ... import __version__
from ...scheme.config import StudyConfig

# --- colours and sizes ---------------------------------------------------------------------------------

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


# --- the page ------------------------------------------------------------------------------------------


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


def _blend(ax):
    import matplotlib.transforms as mt

    return mt.blended_transform_factory(ax.transAxes, ax.transData)


def _panel_title(fig: Figure, x: float, y: float, title: str, sub: str) -> None:
    """A panel's name (18 pt) and its n (16 pt) above it, at figure position (x, y) = lower left of the n line."""
    fig.text(x, y, sub, fontsize=SIZE["label"], color=COLORS["muted"], ha="left", va="bottom", gid="panel_n")
    fig.text(x, y + _line_h(SIZE["label"], 1.35) / FIGSIZE[1], title, fontsize=SIZE["panel"], weight="bold",
             ha="left", va="bottom", gid="panel_title")


_PANEL_HEAD = 0.62  # inches above a panel for its name and n


# --- wording -------------------------------------------------------------------------------------------


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


def _after_name(cfg: StudyConfig) -> str:
    """The after-period's unit in a few letters for titles: 'Special Victims Unit' -> 'SVU'."""
    unit = cfg.periods[1].unit or cfg.periods[1].code
    words = unit.split()
    return "".join(w[0].upper() for w in words) if len(words) >= 3 else unit


def _comparing(cfg: StudyConfig) -> str:
    a, b = cfg.period_codes
    return f"comparing {cfg.period_labels[a]} with {cfg.period_labels[b]}"


def _count_word(n: int) -> str:
    words = ("No", "One", "Two", "Three", "Four", "Five", "Six", "Seven", "Eight", "Nine", "Ten")
    return words[n] if 0 <= n < len(words) else str(n)


def _n_text(n: int, thr: int) -> str:
    return f"<{thr}" if 0 < n < thr else f"{n:,}"
