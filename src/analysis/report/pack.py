"""The meeting pack: one self-contained HTML page (here) and a PDF, slides and a Word file
(:mod:`analysis.report.documents`), from charts, tables and notes.

Pure assembly: functions take the charts (matplotlib figures with their titles and alt text), the shared
tables (already suppressed display tables with their footers) and the notes, and return the HTML text. :func:`analysis.report.publish.publish` makes the pack from the publication's items, and
:mod:`analysis.report.pipeline` writes the files (through :mod:`analysis.report.output`).
"""

from __future__ import annotations

import base64
import html
import io
from dataclasses import dataclass, field

import pandas as pd

from ..tables.export import SYNTHETIC_BANNER


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
    meeting_date: str = ""  # the meeting the pack is for (the subtitle names it)


@dataclass
class Pack:
    cover: Cover
    charts: list  # analysis.report.charts.Chart (name, title, fig, data, alt)
    tables: list[PackTable]
    methods: list[str]
    provenance: list[str]
    notes: list[str] = field(default_factory=list)  # e.g. what was skipped and why
    findings: object = None  # analysis.report.findings.Findings, when the run made them
    quality: object = None  # analysis.report.findings.DataQuality


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
.caveats{color:var(--muted);font-size:.9rem;margin:.2rem 0}
"""


def _html_findings(pack: Pack) -> list[str]:
    """The findings section: per committee question its sentences, caveats and where it is shown."""
    from .documents.content import chart_titles, shown_in

    f = pack.findings
    if f is None:
        return []
    titles = chart_titles(pack)
    parts = [f'<section id="findings"><h2>{html.escape(f.title)}</h2>']
    if f.intro:
        parts.append(f"<p><em>{html.escape(f.intro)}</em></p>")
    for x in f.items:
        parts.append(f'<article data-question="{html.escape(x.id)}"><h3>{html.escape(x.question)}</h3>'
                     f"<p>{html.escape(x.text)}</p>")
        if x.caveats:
            parts.append(f'<p class="caveats">Caveats: {html.escape("; ".join(x.caveats))}.</p>')
        if shown_in(x, titles):
            parts.append(f'<p class="caveats">{html.escape(shown_in(x, titles))}</p>')
        parts.append("</article>")
    return parts + ["</section>"]


def _html_quality(pack: Pack) -> list[str]:
    """The data-quality section: coder agreement behind the findings, and the row accounting."""
    from ..tables.export import to_html
    from .documents.content import quality_tables

    q = pack.quality
    if q is None:
        return []
    parts = [f'<section id="quality"><h2>{html.escape(q.title)}</h2>']
    parts += [f"<p>{html.escape(n)}</p>" for n in q.notes]
    parts += [to_html(t, title, [], standalone=False) for title, t in quality_tables(q)]
    return parts + ["</section>"]


def html_page(pack: Pack, pngs: dict[str, bytes] | None = None) -> str:
    """The pack as one HTML page: charts embedded as PNG data, tables as HTML; no network needed to view it.

    ``pngs``: each chart's PNG by name, as shared in ``figures/`` (the picture the slides and the PDF show too):
    embedded as they are. Without them each chart is drawn here (a smaller picture)."""
    from ..tables.export import to_html

    c = pack.cover
    parts = []
    if c.synthetic:
        parts.append(f'<div class="synthetic" role="alert">{html.escape(SYNTHETIC_BANNER)}</div>')
    parts.append("<main>")
    parts.append('<header class="cover">')
    parts.append(f"<h1>{html.escape(c.title)}</h1>")
    parts.append(f"<p><strong>{html.escape(c.subtitle)}</strong></p>")
    if c.meeting_date:
        parts.append(f"<p><strong>{html.escape(c.meeting_date)}</strong></p>")
    parts += [f"<p>{html.escape(line)}</p>" for line in c.lines]
    parts.append(f"<p>Run date: {html.escape(c.run_date)}</p>")
    parts.append("</header>")
    parts.append("<nav><h2>Contents</h2><ol>")
    if pack.findings is not None:
        parts.append(f'<li><a href="#findings">{html.escape(pack.findings.title)}</a></li>')
    parts += [f'<li><a href="#chart-{html.escape(ch.name)}">{html.escape(ch.title)}</a></li>' for ch in pack.charts]
    parts += [f'<li><a href="#table-{k}">{html.escape(t.title)}</a></li>' for k, t in enumerate(pack.tables)]
    if pack.quality is not None:
        parts.append(f'<li><a href="#quality">{html.escape(pack.quality.title)}</a></li>')
    parts.append('<li><a href="#methods">Methods, suppression and provenance</a></li></ol></nav>')
    parts += _html_findings(pack)
    parts.append('<section id="charts"><h2>Charts</h2>')
    for ch in pack.charts:
        png = pngs[ch.name] if pngs is not None else _png(ch.fig)
        data = base64.b64encode(png).decode("ascii")
        parts.append(f'<figure id="chart-{html.escape(ch.name)}" data-chart="{html.escape(ch.name)}">'
                     f'<img src="data:image/png;base64,{data}" alt="{html.escape(ch.alt)}">'
                     f"<figcaption>{html.escape(ch.title)}. The data behind this chart: figures/{html.escape(ch.name)}.csv"
                     "</figcaption></figure>")
    parts.append("</section>")
    parts.append('<section id="tables"><h2>Key tables</h2>')
    for k, t in enumerate(pack.tables):
        parts.append(f'<div id="table-{k}">' + to_html(t.table, t.title, t.footer, standalone=False) + "</div>")
    parts.append("</section>")
    parts += _html_quality(pack)
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


def page_count(pdf: bytes) -> int:
    """Number of pages in a PDF (for checks)."""
    import re

    return len(re.findall(rb"/Type\s*/Page(?![s\w])", pdf))
