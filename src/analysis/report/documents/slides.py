"""The meeting slides (``meeting_slides.pptx``, python-pptx): a title slide, the findings, then one chart per
slide with its caveats in the speaker notes. 16:9; the synthetic-data banner on every slide when the data are
synthetic."""

from __future__ import annotations

import io
import math

from ...formats.xlsx import deterministic_zip
from ...tables.export import SYNTHETIC_BANNER
from .content import FINDINGS_MISSING, chart_caveats, shown_in, chart_titles

WIDTH_IN, HEIGHT_IN = 13.333, 7.5
FINDINGS_PER_SLIDE = 3
FINDING_LINES = 16  # estimated lines of findings text a slide holds below its title
RED = (0xB0, 0x00, 0x20)


def _text(slide, text: str, left, top, width, height, *, size: int, bold: bool = False, color=None):
    from pptx.dml.color import RGBColor
    from pptx.util import Inches, Pt

    box = slide.shapes.add_textbox(Inches(left), Inches(top), Inches(width), Inches(height))
    frame = box.text_frame
    frame.word_wrap = True
    paragraphs = text if isinstance(text, list) else [text]
    for k, line in enumerate(paragraphs):
        p = frame.paragraphs[0] if k == 0 else frame.add_paragraph()
        p.text = line
        p.font.size = Pt(size)
        p.font.bold = bold
        if color is not None:
            p.font.color.rgb = RGBColor(*color)
    return box


def _banner(slide, synthetic: bool) -> None:
    if not synthetic:
        return
    from pptx.dml.color import RGBColor
    from pptx.enum.shapes import MSO_SHAPE
    from pptx.util import Inches, Pt

    shape = slide.shapes.add_shape(MSO_SHAPE.RECTANGLE, 0, 0, Inches(WIDTH_IN), Inches(0.45))
    shape.fill.solid()
    shape.fill.fore_color.rgb = RGBColor(*RED)
    shape.line.fill.background()
    p = shape.text_frame.paragraphs[0]
    p.text = SYNTHETIC_BANNER
    p.font.size = Pt(16)
    p.font.bold = True
    p.font.color.rgb = RGBColor(0xFF, 0xFF, 0xFF)


def _notes(slide, lines: list[str]) -> None:
    slide.notes_slide.notes_text_frame.text = "\n".join(lines)


def _title_slide(prs, pack) -> None:
    c = pack.cover
    s = prs.slides.add_slide(prs.slide_layouts[6])  # blank
    _banner(s, c.synthetic)
    _text(s, c.title, 0.7, 1.2, 11.9, 2.0, size=34, bold=True)
    meeting = [c.subtitle] + ([c.meeting_date] if getattr(c, "meeting_date", "") else [])
    _text(s, meeting, 0.7, 3.6, 11.9, 1.0, size=22)
    _text(s, [*c.lines, f"Run date: {c.run_date}"], 0.7, 4.9, 11.9, 2.2, size=13, color=(0x44, 0x44, 0x44))
    _notes(s, list(c.lines))


def _lines(text: str, chars_per_line: int) -> int:
    return max(1, math.ceil(len(text) / chars_per_line))


def finding_chunks(items: list, max_lines: int = FINDING_LINES) -> list[list]:
    """The findings in slide-sized groups, in order: as many as fit ``max_lines`` estimated lines (a question
    at 18 pt holds about 90 characters a line, a sentence at 16 pt about 105), at most three a slide."""
    chunks: list[list] = []
    used = 0
    for f in items:
        need = _lines(f.question, 90) + _lines(f.text, 105) + 1
        if chunks and used + need <= max_lines and len(chunks[-1]) < FINDINGS_PER_SLIDE:
            chunks[-1].append(f)
            used += need
        else:
            chunks.append([f])
            used = need
    return chunks


def _finding_slides(prs, pack) -> None:
    from pptx.util import Pt

    items = pack.findings.items if pack.findings is not None else []
    title = pack.findings.title if pack.findings is not None else "Findings"
    titles = chart_titles(pack)
    top = 0.6 if pack.cover.synthetic else 0.3
    if not items:
        s = prs.slides.add_slide(prs.slide_layouts[6])
        _banner(s, pack.cover.synthetic)
        _text(s, title, 0.6, top, 12.1, 0.8, size=28, bold=True)
        _text(s, FINDINGS_MISSING, 0.6, top + 1.0, 12.1, 1.0, size=18)
        return
    for chunk in finding_chunks(items):
        s = prs.slides.add_slide(prs.slide_layouts[6])
        _banner(s, pack.cover.synthetic)
        _text(s, title, 0.6, top, 12.1, 0.8, size=28, bold=True)
        frame = _text(s, "", 0.6, top + 0.9, 12.1, HEIGHT_IN - top - 1.1, size=15).text_frame
        for k, f in enumerate(chunk):  # one text frame: a long question pushes its sentences down, never over them
            q = frame.paragraphs[0] if k == 0 else frame.add_paragraph()
            q.text = f.question
            q.font.size, q.font.bold = Pt(18), True
            if k:
                q.space_before = Pt(14)
            p = frame.add_paragraph()
            p.text = f.text
            p.font.size = Pt(16)
            p.space_before = Pt(3)
        _notes(s, [line for f in chunk for line in
                   [f.question, f.text, *(f"Caveat: {c}" for c in f.caveats), shown_in(f, titles)] if line])


def _chart_slide(prs, chart, png: bytes, synthetic: bool, caveats: list[str]) -> None:
    from pptx.util import Inches

    s = prs.slides.add_slide(prs.slide_layouts[6])
    _banner(s, synthetic)
    top = 0.55 if synthetic else 0.2
    # the PNG is 16:9 with its own title: as large as the slide allows below the banner
    height = HEIGHT_IN - top - 0.1
    width = min(WIDTH_IN - 0.4, height * 16 / 9)
    s.shapes.add_picture(io.BytesIO(png), Inches((WIDTH_IN - width) / 2), Inches(top), Inches(width))
    lines = [chart.title, chart.alt, f"The data behind this chart: figures/{chart.name}.csv."]
    lines += [f"Caveat: {c}" for c in caveats] + [f"Note: {n}" for n in getattr(chart, "notes", [])]
    _notes(s, lines)


def slides(pack, pngs: dict[str, bytes]) -> bytes:
    """The slides as .pptx bytes; ``pngs`` maps each chart's name to its PNG."""
    from pptx import Presentation
    from pptx.util import Inches

    prs = Presentation()
    prs.slide_width, prs.slide_height = Inches(WIDTH_IN), Inches(HEIGHT_IN)
    prs.core_properties.title = pack.cover.title
    prs.core_properties.author = prs.core_properties.last_modified_by = "analysis (SFPD Vice to SVU toolkit)"
    _title_slide(prs, pack)
    _finding_slides(prs, pack)
    caveats = chart_caveats(pack)
    for ch in pack.charts:
        _chart_slide(prs, ch, pngs[ch.name], pack.cover.synthetic, caveats.get(ch.name, []))
    buf = io.BytesIO()
    prs.save(buf)
    return deterministic_zip(buf.getvalue(), stored=(".png",))  # (python-pptx stamps each member with the time)
