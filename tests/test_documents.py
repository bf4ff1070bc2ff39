"""analysis.report.documents: the meeting PDF (Typst), the slides (python-pptx) and the tables for Word
(python-docx), checked on a small pack made here: what a committee member sees on each page, that no text falls
outside the page or its margins, and that a variable's rows never start a page without their label."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from matplotlib.figure import Figure

from analysis.report.charts import Chart
from analysis.report.charts.files import chart_files
from analysis.report.documents import document_text, pdf_pack, slides, tables_docx
from analysis.report.documents.content import column_weights, row_groups
from analysis.report.findings import DataQuality, Finding, Findings, QualityRow
from analysis.report.pack import Cover, Pack, PackTable, page_count
from analysis.tables.export import SYNTHETIC_BANNER

POPPLER = shutil.which("pdftotext") and shutil.which("pdftoppm")
needs_poppler = pytest.mark.skipif(not POPPLER, reason="poppler-utils (pdftotext, pdftoppm) is not installed "
                                   "(apt-get install poppler-utils; .ci/run installs it)")
MARGIN_X = 0.7 * 72  # pack.typ's left and right margins, in points
MIN_WORD_HEIGHT = 9 * 1.1  # a 9 pt word's box (Libertinus: 1.14 x the size); the smallest text allowed is 9 pt


def _chart(name: str, title: str) -> Chart:
    fig = Figure(figsize=(8, 4.5))
    ax = fig.add_subplot()
    ax.bar([0, 1], [17, 51])
    fig.suptitle(title)
    return Chart(name, title, fig, pd.DataFrame({"period": ["before", "after"], "pct": [17, 51]}),
                 alt=f"{title}: bars for before and after")


def _wide_table(groups: int) -> pd.DataFrame:
    """A before/after display table: a variable's label on its first row only, its levels below (the last one
    'Unknown'), long labels, and every column of the real tables."""
    rows = [["N", "", "495", "494", "989", "", "", "", ""]]
    for k in range(groups):
        rows.append([f"Var{k:02d} condoms documented as evidence in the incident report", f"Lev{k:02d}a first level",
                     "227/479 (47.4%)", "103/482 (21.4%)", "330/961 (34.3%)", "+37.3 (+20.8 to +51.1)",
                     "Fisher's exact (Monte Carlo, 20000 resamples)", "<0.001", "0.067"])
        rows.append(["", f"Lev{k:02d}b labelled trafficking, not established", "suppressed", "<5", "9/989 (0.9%)",
                     "", "", "", ""])
        rows.append(["", "Unknown", "16", "12", "28", "", "", "", ""])
    return pd.DataFrame(rows, columns=["Variable", "Level", "Before: Vice (2009-2010), N = 495 n/N (%)",
                                       "After: SVU (2014-2015), N = 494 n/N (%)", "Overall n/N (%)",
                                       "Change, after minus before (percentage points, 95% CI)", "Test", "p", "q"])


FINDINGS = Findings([
    Finding("screened", "Were more reports screened for trafficking?",
            ["Reports screened for trafficking rose from 17% (83 of 495) to 51% (252 of 494): up 34 percentage "
             "points (95% CI 29 to 40); a change this large is very unlikely by chance."],
            caveats=["coders agreed only moderately on this item (alpha 0.62, below 0.667)"],
            chart="screened", table="incidents", rows=["Screened for trafficking"], status="change"),
    Finding("phones", "Were cell phones seized more often?",
            ["Cell phones were seized on 25% of reports before and 45% after: up 20 percentage points (95% CI 14 "
             "to 25)."], chart="phones", table="incidents", rows=["Cell phones seized"], status="change"),
    Finding("language", "Was Language Line used?",
            ["No clear change: the counts are too small to show."], caveats=["suppressed counts"],
            status="suppressed"),
    Finding("hiv", "Were HIV-specific charges brought?", ["No clear change in HIV-specific charges."],
            status="no clear change"),
], synthetic=True, intro="Change is after minus before.")

QUALITY = DataQuality(
    [QualityRow("incidents.screened", "Screened for trafficking", ["screened"], "40", 0.618, 0.41, 0.80,
                "unreliable")],
    pd.DataFrame({"table": ["incidents", "persons"], "input rows": ["989", "1,457"], "valid": ["989", "1,457"],
                  "rejected": ["0", "0"]}), notes=["Double-coded: a random sample of reports."], synthetic=True)


def _pack(*, groups: int = 30, findings=FINDINGS, quality=QUALITY) -> tuple[Pack, dict[str, bytes]]:
    charts = [_chart("screened", "Screened for trafficking, before and after"),
              _chart("phones", "Cell phones seized, before and after")]
    cover = Cover("Prostitution and trafficking reports before and after", "Policy Impact Committee, test meeting",
                  ["A study line.", "Small numbers are suppressed."], synthetic=True, run_date="2017-11-15",
                  meeting_date="16 November 2017")
    tables = [PackTable("Key indicators: incident reports (SYNTHETIC DATA)", _wide_table(groups),
                        [SYNTHETIC_BANNER, "Source: made-up rows.", "Methods: chi-square; Holm q-values."]),
              PackTable("Misclassification model", pd.DataFrame({"Outcome": ["Correct", "Correct"],
                                                                 "Term": ["SVU", "District"],
                                                                 "Odds ratio (95% CI)": ["2.52 (0.09 to 70.57)",
                                                                                         "1.10 (0.50 to 2.40)"]}),
                        ["Model footer."])]
    pack = Pack(cover, charts, tables, ["Methods line one."], ["code version 0.1.0", "incidents.csv: sha256 ab12"],
                ["A note on this run."], findings=findings, quality=quality)
    pngs = {c.name: chart_files(c, dpi=60, formats=("png",))["png"] for c in charts}
    return pack, pngs


@pytest.fixture(scope="module")
def pdf(tmp_path_factory):
    pack, pngs = _pack()
    path = tmp_path_factory.mktemp("pdf") / "pack.pdf"
    path.write_bytes(pdf_pack(pack, pngs))
    return path


def pdf_pages(path: Path) -> list[str]:
    """The text of each page (pdftotext, layout kept)."""
    text = subprocess.run(["pdftotext", "-q", "-layout", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout
    return text.split("\f")[:-1]


_WORD = re.compile(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>')
_PAGE = re.compile(r'<page width="([\d.]+)" height="([\d.]+)">(.*?)</page>', re.S)


def words_outside(path: Path, margin_x: float = 0.0, tolerance: float = 0.5) -> list[str]:
    """Every word (pdftotext -bbox) whose box is not inside its page, less ``margin_x`` points at the left and
    right: 'page k: word (x0, y0, x1, y1)'."""
    bbox = subprocess.run(["pdftotext", "-q", "-bbox", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout
    out = []
    for k, page in enumerate(_PAGE.finditer(bbox), start=1):
        width, height = float(page.group(1)), float(page.group(2))
        for w in _WORD.finditer(page.group(3)):
            x0, y0, x1, y1 = (float(w.group(i)) for i in range(1, 5))
            if (x0 < margin_x - tolerance or x1 > width - margin_x + tolerance or y0 < -tolerance
                    or y1 > height + tolerance):
                out.append(f"page {k}: {w.group(5)} ({x0:.1f}, {y0:.1f}, {x1:.1f}, {y1:.1f})")
    return out


def smallest_word_height(path: Path) -> float:
    bbox = subprocess.run(["pdftotext", "-q", "-bbox", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout
    return min(float(w.group(4)) - float(w.group(2)) for w in _WORD.finditer(bbox))


# --- the PDF -------------------------------------------------------------------------------------------------


@needs_poppler
def test_pdf_cover_contents_and_findings_first_with_page_numbers(pdf):
    pages = pdf_pages(pdf)
    n = len(pages)
    assert n == page_count(pdf.read_bytes())
    for k, page in enumerate(pages, start=1):
        assert f"Page {k} of {n}" in page or k == 1, k  # the cover has no footer
        assert "SYNTHETIC DATA: made from the generated example" in page, k  # on every page, the cover too
    cover = pages[0]
    assert "Policy Impact Committee, test meeting" in cover and "16 November 2017" in cover
    assert "Run date: 2017-11-15" in cover
    contents = pages[1]
    assert [line.strip() for line in contents.splitlines() if line.strip()][1] == "Contents"  # after the banner
    order = ["Findings", "Charts", "Screened for trafficking, before and after", "Key tables",
             "Misclassification model", "Data quality", "Methods and suppression", "Provenance"]
    positions = [contents.index(title) for title in order]
    assert positions == sorted(positions)
    # the findings page comes first after the contents, with each question, its sentence and caveats
    findings = re.sub(r"\s+", " ", pages[2])
    assert "Findings: what changed, question by question" in findings
    assert "Were more reports screened for trafficking?" in findings
    assert "up 34 percentage points (95% CI 29 to 40)" in findings
    assert "Caveats: coders agreed only moderately on this item (alpha 0.62, below 0.667)." in findings
    assert ("Shown in: chart 'Screened for trafficking, before and after', table incidents (Screened for "
            "trafficking).") in findings
    assert "No clear change in HIV-specific charges." in findings
    text = "\n".join(pages)
    assert text.index("Findings: what changed") < text.index("Key tables") < text.index("Data quality: coder")
    assert "0.62 (95% CI 0.41 to 0.80)" in text and "unreliable" in text  # the data-quality table


@needs_poppler
def test_each_chart_page_shows_its_title_once_in_the_picture_and_lists_it_in_the_contents(pdf):
    pages = pdf_pages(pdf)
    phones = "Cell phones seized, before and after"
    assert phones in pages[1]  # the contents
    assert f"Shown in: chart '{phones}'" in pages[2]  # the findings page names it
    # and no other page prints it as text: the chart's picture carries its title (not twice on its page)
    assert [k for k, page in enumerate(pages) if k > 2 and phones in page] == []


@needs_poppler
def test_pdf_text_stays_inside_the_page_and_its_margins_at_9_pt_or_more(pdf):
    assert words_outside(pdf, margin_x=MARGIN_X) == []
    assert smallest_word_height(pdf) >= MIN_WORD_HEIGHT


@needs_poppler
def test_the_checks_find_text_outside_the_margins_and_small_text(tmp_path):
    """The out-of-page check is not vacuous: a word placed past the right margin, and 7 pt text, are found."""
    import typst

    src = tmp_path / "t.typ"
    src.write_text('#set page(width: 300pt, height: 200pt, margin: 50pt)\n#set text(font: "Libertinus Serif")\n'
                   'inside\n#place(dx: 230pt)[outside]\n#text(size: 7pt)[small]\n')
    out = tmp_path / "t.pdf"
    out.write_bytes(typst.compile(str(src), ignore_system_fonts=True))
    found = words_outside(out, margin_x=50)
    assert len(found) == 1 and found[0].startswith("page 1: outsi")  # cut at the page edge
    assert smallest_word_height(out) < MIN_WORD_HEIGHT


@needs_poppler
def test_a_variables_rows_never_start_a_page_without_their_label(pdf):
    pages = pdf_pages(pdf)
    table_pages = [p for p in pages if re.search(r"Lev\d\d", p)]
    assert len(table_pages) >= 3  # the table runs over several pages
    for page in table_pages:
        assert "Variable" in page and "Overall n/N (%)" in page  # the header row on every page
        for k in sorted(set(re.findall(r"Lev(\d\d)", page))):
            assert f"Var{k}" in page, f"Var{k}'s levels on a page without its label"
            assert page.count(f"Lev{k}a") == page.count(f"Lev{k}b") == 1
        first_row = re.search(r"(Var|Lev)(\d\d)", page).group(1)
        assert first_row == "Var"


def test_pdf_is_the_same_bytes_for_the_same_pack():
    pack, pngs = _pack(groups=3)
    assert pdf_pack(pack, pngs) == pdf_pack(pack, pngs)


def test_pdf_without_findings_or_quality_says_so(tmp_path):
    pack, pngs = _pack(groups=2, findings=None, quality=None)
    data = pdf_pack(pack, pngs)
    assert data.startswith(b"%PDF") and page_count(data) >= 7
    if POPPLER:
        path = tmp_path / "p.pdf"
        path.write_bytes(data)
        text = re.sub(r"\s+", " ", "\n".join(pdf_pages(path)))
        assert "Findings per committee question were not produced in this run." in text
        assert "Coder agreement per variable is in reliability/reliability.csv" in text


def test_column_widths_and_row_groups():
    t = pd.DataFrame({"Variable": ["N", "Race", "", "", "Age"], "Level": ["", "White", "Black", "Unknown", ""],
                      "p": ["", "0.5", "", "", "<0.001"]})
    assert row_groups(t) == [[["N", "", ""]], [["Race", "White", "0.5"], ["", "Black", ""], ["", "Unknown", ""]],
                             [["Age", "", "<0.001"]]]
    # a repeated first cell (the model's outcome) also continues its group, and is shown once
    m = pd.DataFrame({"Outcome": ["A", "A", "B"], "Term": ["x", "y", "x"]})
    assert row_groups(m) == [[["A", "x"], ["", "y"]], [["B", "x"]]]
    # short columns get their longest cell (5 + 1 = 6 for Level); long text wraps but keeps its longest word
    w = column_weights(pd.DataFrame({"Level": ["White", "Black"], "Text": ["word " * 20 + "extraordinarily", ""]}))
    assert w == [6.0, 36 * 0.55 + 2.0]


# --- slides and Word ---------------------------------------------------------------------------------------------


def test_slides_title_findings_and_one_picture_per_chart():
    from pptx import Presentation

    pack, pngs = _pack(groups=2)
    prs = Presentation(io.BytesIO(slides(pack, pngs)))
    s = list(prs.slides)
    assert len(s) == 1 + 2 + 2  # title, four findings on two slides (three a slide), two charts
    shapes = [[sh.text_frame.text for sh in slide.shapes if sh.has_text_frame] for slide in s]
    assert all(SYNTHETIC_BANNER in t for t in shapes)
    assert "Policy Impact Committee, test meeting\n16 November 2017" in shapes[0]
    # the findings in order, each question followed by its sentences in one text frame (no overlap)
    assert shapes[1][1:] == ["Findings: what changed, question by question", "\n".join(
        [FINDINGS.items[0].question, FINDINGS.items[0].text, FINDINGS.items[1].question, FINDINGS.items[1].text,
         FINDINGS.items[2].question, FINDINGS.items[2].text])]
    assert shapes[2][2].startswith("Were HIV-specific charges brought?\nNo clear change in HIV-specific charges.")
    pictures = [[sh for sh in slide.shapes if sh.shape_type == 13] for slide in s]  # 13: picture
    assert [len(p) for p in pictures] == [0, 0, 0, 1, 1]
    assert [p[0].image.blob for p in pictures[3:]] == [pngs["screened"], pngs["phones"]]
    notes = s[3].notes_slide.notes_text_frame.text
    assert notes.splitlines()[0] == "Screened for trafficking, before and after"
    assert "Caveat: coders agreed only moderately on this item (alpha 0.62, below 0.667)" in notes
    assert "The data behind this chart: figures/screened.csv." in notes
    assert "Caveat:" not in s[4].notes_slide.notes_text_frame.text  # no caveat on the phones finding
    # every picture inside the slide
    for p in pictures[3:]:
        pic = p[0]
        assert pic.left >= 0 and pic.top >= 0 and pic.left + pic.width <= prs.slide_width
        assert pic.top + pic.height <= prs.slide_height


def test_tables_docx_holds_each_table_with_a_repeating_header():
    from docx import Document

    table = _wide_table(2)
    data = tables_docx([("Table one (SYNTHETIC DATA)", table, ["Footer line one."]),
                        ("Table two", table.iloc[:2], [])], title="Tables", synthetic=True)
    doc = Document(io.BytesIO(data))
    assert [t for t in doc.tables].__len__() == 2
    first = doc.tables[0]
    assert [c.text for c in first.rows[0].cells] == list(table.columns)
    assert [c.text for c in first.rows[2].cells][1:] == list(table.iloc[1])[1:]
    assert first.rows[0]._tr.trPr.xml.count("tblHeader") == 1  # the header row repeats on each page
    assert len(doc.tables[1].rows) == 3
    assert doc.sections[0].header.paragraphs[0].text == SYNTHETIC_BANNER
    assert doc.sections[0].page_width > doc.sections[0].page_height  # landscape
    text = document_text("tables.docx", data)
    assert "Footer line one." in text and "+37.3 (+20.8 to +51.1)" in text and SYNTHETIC_BANNER in text


def test_findings_fill_slides_in_order_without_overflow():
    from analysis.report.documents.slides import finding_chunks

    def f(k, chars):
        return Finding(str(k), f"Question {k}?", ["x" * chars])

    # short findings: three a slide; long ones (7 lines of text each) two a slide; a very long one alone
    assert [[x.id for x in c] for c in finding_chunks([f(k, 100) for k in range(4)])] == [["0", "1", "2"], ["3"]]
    assert [len(c) for c in finding_chunks([f(k, 700) for k in range(3)])] == [1, 1, 1]
    assert [len(c) for c in finding_chunks([f(k, 500) for k in range(4)])] == [2, 2]
    assert [len(c) for c in finding_chunks([f(0, 100), f(1, 3000), f(2, 100)])] == [1, 1, 1]


def test_document_text_reads_slides_and_notes():
    pack, pngs = _pack(groups=2)
    text = document_text("meeting_slides.pptx", slides(pack, pngs))
    assert "up 34 percentage points (95% CI 29 to 40)" in text  # a findings slide
    assert "Caveat: coders agreed only moderately" in text  # speaker notes
    with pytest.raises(ValueError, match=r"^x\.pdf: not a \.pptx or \.docx$"):
        document_text("x.pdf", b"")


# --- the meeting named on the cover ----------------------------------------------------------------------------


def test_meeting_comes_from_the_study_configuration(tmp_path):
    from analysis.report.texts import pack_text
    from analysis.scheme.config import default_config_path, load_study_config

    cfg = load_study_config()
    assert cfg.meeting == "Sex Work and Trafficking Policy Impact Committee, November meeting"
    assert cfg.meeting_date == "November 2017"
    other = tmp_path / "study.yaml"
    text = default_config_path().read_text().split("\nmeeting:")[0]
    other.write_text(text + '\nmeeting:\n  name: "Committee, March meeting"\n  date: "15 March 2018"\n')
    cfg2 = load_study_config(other)
    stamp = {"synthetic": False, "code_version": "0.1.0", "codebook_version": "1.0.0", "inputs": {}}
    t = pack_text(cfg2, stamp, source="coded reports", valid_rows={"incidents": 10, "persons": 12}, weighted=False,
                  run_date="2018-03-01")
    assert (t.cover.subtitle, t.cover.meeting_date) == ("Committee, March meeting", "15 March 2018")
    other.write_text(text)  # a configuration without a meeting: the default wording, no date
    t = pack_text(load_study_config(other), stamp, source="coded reports", valid_rows={"incidents": 10,
                                                                                         "persons": 12},
                  weighted=False, run_date="2018-03-01")
    assert t.cover.subtitle == "Sex Work and Trafficking Policy Impact Committee, November meeting"
    assert t.cover.meeting_date == ""


def test_html_page_shows_the_findings_first_and_the_data_quality():
    from analysis.report.pack import html_page

    pack, _ = _pack(groups=2)
    page = html_page(pack)
    assert page.index('<section id="findings">') < page.index('<section id="charts">') < \
        page.index('<section id="quality">') < page.index('<section id="methods">')
    assert ('<article data-question="screened"><h3>Were more reports screened for trafficking?</h3><p>Reports '
            'screened for trafficking rose from 17% (83 of 495) to 51% (252 of 494)') in page
    assert '<p class="caveats">Caveats: coders agreed only moderately on this item (alpha 0.62, below 0.667).</p>' \
        in page
    assert "0.62 (95% CI 0.41 to 0.80)" in page and "16 November 2017" in page
    pack.findings = pack.quality = None  # a run without them: no empty sections
    page = html_page(pack)
    assert 'id="findings"' not in page and 'id="quality"' not in page


def test_slides_and_word_tables_are_the_same_bytes_whenever_they_are_made(monkeypatch):
    """python-pptx and python-docx stamp each zip member with the clock's time: the files are rewritten with a
    fixed one, so the same pack gives the same bytes on every run (the pictures stored as they are: a PNG is
    compressed already). The slides name the toolkit, not python-pptx's template author, as last modifier."""
    import time
    import zipfile

    pack, pngs = _pack(groups=2)
    table = _wide_table(2)
    made = []
    for clock in (1_500_000_000.0, 1_600_000_007.0):  # two runs years apart
        monkeypatch.setattr(time, "time", lambda clock=clock: clock)
        made.append((slides(pack, pngs), tables_docx([("Table one", table, ["Footer."])], title="Tables",
                                                      synthetic=True)))
    assert made[0] == made[1]
    deck = zipfile.ZipFile(io.BytesIO(made[0][0]))
    media = [i for i in deck.infolist() if i.filename.endswith(".png")]
    assert len(media) == 2 and {i.compress_type for i in media} == {zipfile.ZIP_STORED}
    assert {i.date_time for i in deck.infolist()} == {(2017, 11, 1, 0, 0, 0)}
    core = deck.read("docProps/core.xml").decode()
    assert "<cp:lastModifiedBy>analysis (SFPD Vice to SVU toolkit)</cp:lastModifiedBy>" in core
    assert "Steve Canny" not in core
