"""The marks several charts share: dot-and-interval rows, grouped bars, and the word 'suppressed' where a mark
would be (a hidden value is never drawn as a mark)."""

from __future__ import annotations

from ...scheme.config import StudyConfig
from .protect import _Cell, _Row, _value_text
from .style import COLORS, SIZE, SUPPRESSED, _blend, _clean_axes, _fmt_pct, _period_colors, _period_markers


def _draw_suppressed(ax, x: float, y: float, text: str, **kw) -> None:
    """The word 'suppressed' where a mark would be (never the mark itself)."""
    ax.text(x, y, text, fontsize=SIZE["label"], style="italic", color=COLORS["muted"], va="center", ha="left",
            gid="suppressed", **kw)


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
