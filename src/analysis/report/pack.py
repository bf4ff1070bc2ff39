"""The November meeting pack: one self-contained HTML page and one PDF, from charts, tables and notes.

Pure assembly: functions take the charts (matplotlib figures with their titles and alt text), the shared
tables (already suppressed display tables with their footers) and the notes, and return the HTML text or the
PDF bytes. :func:`analysis.report.publish.publish` makes the pack from the publication's items, and
:mod:`analysis.report.pipeline` writes the files (through :mod:`analysis.report.output`).
"""

from __future__ import annotations

import base64
import html
import io
import textwrap
from dataclasses import dataclass, field

import pandas as pd
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from ..tables.export import SYNTHETIC_BANNER

PAGE = (11.0, 8.5)  # US letter, landscape
ROWS_PER_TABLE_PAGE = 22


@dataclass
class PackTable:
    title: str
    table: pd.DataFrame  # display strings, suppressed
    footer: list[str]


@dataclass
class Cover:
    title: str
    subtitle: str
    lines: list[str]  # study, periods, data source...
    synthetic: bool
    run_date: str


@dataclass
class Pack:
    cover: Cover
    charts: list  # analysis.report.charts.Chart (name, title, fig, data, alt)
    tables: list[PackTable]
    methods: list[str]
    provenance: list[str]
    notes: list[str] = field(default_factory=list)  # e.g. what was skipped and why


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight", metadata={"Software": None})
    return buf.getvalue()


_CSS = """
:root{--ink:#111;--muted:#444;--line:#ddd;--warn:#b00020}
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;color:var(--ink);margin:0;line-height:1.45}
main{max-width:72rem;margin:0 auto;padding:1.5rem 2rem 4rem}
.synthetic{background:var(--warn);color:#fff;font-weight:800;letter-spacing:.04em;padding:.8rem 1.2rem;font-size:1.25rem;text-align:center}
header.cover{border-bottom:3px solid var(--ink);padding:2rem 0 1.5rem;margin-bottom:2rem}
header.cover h1{font-size:2.2rem;margin:.2rem 0}
header.cover p{margin:.3rem 0;color:var(--muted);font-size:1.05rem}
nav ol{columns:2;font-size:.95rem}
section{margin:2.5rem 0}
figure{margin:0 0 2.5rem}
figure img{width:100%;height:auto;border:1px solid var(--line)}
figcaption{color:var(--muted);font-size:.9rem;margin-top:.4rem}
table.compare{border-collapse:collapse;font-size:.85rem;width:100%}
table.compare th,table.compare td{border-bottom:1px solid var(--line);padding:.25rem .5rem;text-align:left;vertical-align:top}
table.compare th{background:#f3f3f3;position:sticky;top:0}
ul.footer{font-size:.82rem;color:var(--muted)}
.notes li{margin:.3rem 0}
"""


def html_page(pack: Pack) -> str:
    """The pack as one HTML page: charts embedded as PNG data, tables as HTML; no network needed to view it."""
    from ..tables.export import to_html

    c = pack.cover
    parts = []
    if c.synthetic:
        parts.append(f'<div class="synthetic" role="alert">{html.escape(SYNTHETIC_BANNER)}</div>')
    parts.append("<main>")
    parts.append('<header class="cover">')
    parts.append(f"<h1>{html.escape(c.title)}</h1>")
    parts.append(f"<p><strong>{html.escape(c.subtitle)}</strong></p>")
    parts += [f"<p>{html.escape(line)}</p>" for line in c.lines]
    parts.append(f"<p>Run date: {html.escape(c.run_date)}</p>")
    parts.append("</header>")
    parts.append("<nav><h2>Contents</h2><ol>")
    parts += [f'<li><a href="#chart-{html.escape(ch.name)}">{html.escape(ch.title)}</a></li>' for ch in pack.charts]
    parts += [f'<li><a href="#table-{k}">{html.escape(t.title)}</a></li>' for k, t in enumerate(pack.tables)]
    parts.append('<li><a href="#methods">Methods, suppression and provenance</a></li></ol></nav>')
    parts.append('<section id="charts"><h2>Charts</h2>')
    for ch in pack.charts:
        data = base64.b64encode(_png(ch.fig)).decode("ascii")
        parts.append(f'<figure id="chart-{html.escape(ch.name)}" data-chart="{html.escape(ch.name)}">'
                     f'<img src="data:image/png;base64,{data}" alt="{html.escape(ch.alt)}">'
                     f"<figcaption>{html.escape(ch.title)}. The data behind this chart: figures/{html.escape(ch.name)}.csv"
                     "</figcaption></figure>")
    parts.append("</section>")
    parts.append('<section id="tables"><h2>Key tables</h2>')
    for k, t in enumerate(pack.tables):
        parts.append(f'<div id="table-{k}">' + to_html(t.table, t.title, t.footer, standalone=False) + "</div>")
    parts.append("</section>")
    parts.append('<section id="methods"><h2>Methods, suppression and provenance</h2><ul class="notes">')
    parts += [f"<li>{html.escape(m)}</li>" for m in pack.methods + pack.notes]
    parts.append("</ul><h3>Provenance</h3><ul class=\"notes\">")
    parts += [f"<li><code>{html.escape(p)}</code></li>" for p in pack.provenance]
    parts.append("</ul></section></main>")
    if c.synthetic:
        parts.append(f'<div class="synthetic">{html.escape(SYNTHETIC_BANNER)}</div>')
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{html.escape(c.title)}</title><style>{_CSS}</style></head><body>\n"
            + "\n".join(parts) + "\n</body></html>\n")


# --- PDF -----------------------------------------------------------------------------------------------


def _text_page(title: str, lines: list[str], synthetic: bool, *, big: bool = False):
    fig = Figure(figsize=PAGE)
    y = 0.9
    if synthetic:
        fig.text(0.5, 0.96, SYNTHETIC_BANNER, ha="center", va="top", fontsize=14, color="white", weight="bold",
                 bbox={"facecolor": "#b00020", "edgecolor": "none", "pad": 6})
        y = 0.86
    for line in textwrap.wrap(title, width=52 if big else 70):
        fig.text(0.06, y, line, fontsize=26 if big else 20, weight="bold", va="top")
        y -= 0.075 if big else 0.06
    y -= 0.03
    for line in lines:
        for wrapped in textwrap.wrap(line, width=110 if not big else 90) or [""]:
            if y < 0.05:
                break
            fig.text(0.06, y, wrapped, fontsize=13 if big else 10.5, va="top")
            y -= 0.045 if big else 0.032
        y -= 0.01
    return fig


def _table_pages(t: PackTable, synthetic: bool):
    df = t.table
    pages = []
    for start in range(0, max(len(df), 1), ROWS_PER_TABLE_PAGE):
        chunk = df.iloc[start: start + ROWS_PER_TABLE_PAGE]
        fig = Figure(figsize=PAGE)
        top = 0.93
        if synthetic:
            fig.text(0.5, 0.985, SYNTHETIC_BANNER, ha="center", va="top", fontsize=11, color="white", weight="bold",
                     bbox={"facecolor": "#b00020", "edgecolor": "none", "pad": 4})
            top = 0.9
        suffix = "" if start == 0 else " (continued)"
        fig.text(0.03, top, t.title + suffix, fontsize=15, weight="bold", va="top")
        ax = fig.add_axes([0.02, 0.1, 0.96, top - 0.15])
        ax.axis("off")
        chars = _column_chars(df)
        widths = [c / sum(chars) for c in chars]
        cells = [[textwrap.shorten(str(v), ch, placeholder="…") for v, ch in zip(row, chars)]
                 for row in chunk.itertuples(index=False)]
        tab = ax.table(cellText=cells or [[""] * len(df.columns)], colWidths=widths,
                       colLabels=[textwrap.fill(str(c), max(6, ch)) for c, ch in zip(df.columns, chars)],
                       loc="upper left", cellLoc="left")
        tab.auto_set_font_size(False)
        tab.set_fontsize(7)
        tab.scale(1, 1.3)
        for (r, _), cell in tab.get_celld().items():
            if r == 0:
                cell.set_height(cell.get_height() * 2.2)
                cell.set_text_props(weight="bold")
        foot = " ".join(t.footer[1:3] if synthetic else t.footer[:2])
        fig.text(0.03, 0.03, textwrap.fill(foot, 190), fontsize=6.5, va="bottom", color="#333")
        pages.append(fig)
    return pages


def _column_chars(df: pd.DataFrame, cap: int = 30) -> list[int]:
    """Characters to give each column: its longest cell, at most ``cap`` (longer text is shortened with '…').
    At 7 pt a landscape page holds about 190 characters, so the columns are sized in proportion to these."""
    return [min(max([len(str(v)) for v in df[c]] + [6]) + 1, cap) for c in df.columns]


def pdf_pack(pack: Pack) -> bytes:
    """The pack as one PDF: cover, one page per chart, the key tables, methods and provenance."""
    buf = io.BytesIO()
    c = pack.cover
    figures = [_text_page(c.title, [c.subtitle, *c.lines, f"Run date: {c.run_date}"], c.synthetic, big=True)]
    figures += [ch.fig for ch in pack.charts]
    for t in pack.tables:
        figures += _table_pages(t, c.synthetic)
    figures.append(_text_page("Methods, suppression and provenance", pack.methods + pack.notes + pack.provenance,
                              c.synthetic))
    with PdfPages(buf, metadata={"Title": c.title, "Creator": "analysis", "CreationDate": None}) as pdf:
        for fig in figures:
            pdf.savefig(fig)
    return buf.getvalue()


def page_count(pdf: bytes) -> int:
    """Number of pages in a PDF written by :func:`pdf_pack` (for checks)."""
    import re

    return len(re.findall(rb"/Type\s*/Page(?![s\w])", pdf))
