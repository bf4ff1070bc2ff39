"""The attacker reads every file of the shared folder (issue 11, items 1 and 5): the findings and data-quality
pages, the slides with their speaker notes, the Word tables, and says so when a file is of a type it does not read.

Each test builds a small shared folder in ``tmp_path`` around one before/after table (``tables/incidents.csv``),
hides a small count in one place only, and checks the exact finding; the same folder without the small count
audits clean (so each test can fail). The real report of the example is audited in test_audit_disclosure.py
(its module fixture builds the report once).
"""

from __future__ import annotations

import io

import pandas as pd
import pytest

from analysis.cli.app import main
from analysis.formats.documents import docx_blocks, document_text, pptx_text
from analysis.report.documents import document_text as reexported
from analysis.report.documents import tables_docx
from analysis.tables.audit.core import FORMAT, TEXT, audit
from analysis.tables.audit.read import csv_grid

from .test_audit_disclosure import BEFORE, HEADER, INCIDENTS_N, read, table_csv, write

TITLE = "Incident reports"
ROWS = [INCIDENTS_N, ["Screened for trafficking", "", "suppressed", "30/494 (6.1%)", "suppressed"]]
FINDING = ("Among incident reports, 6% were screened for trafficking (30 of 494) in SVU (2014-2015); the count "
           "of the 495 reports in Vice (2009-2010) is suppressed.")


def folder_with(tmp_path, extra: dict[str, str | bytes]):
    """The one-table shared folder plus ``extra`` files (text or bytes)."""
    folder = write(tmp_path / "shared", {"tables/incidents.csv": table_csv(TITLE, "Incident reports", ROWS,
                                                                                  " Zero is shown.")})
    for rel, content in extra.items():
        p = folder / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return folder


def findings_of(folder, cb, cfg):
    result = audit(read(folder), cb, cfg)
    return result, [(f.kind, f.where, f.message, f.kinds) for f in result.findings]


def findings_csv(text: str) -> str:
    return ("id,question,finding,caveats\n"
            f'screening,Are trafficking cases screened?,"{text}",unweighted: percentages of the sampled reports\n')


def typeset_pdf(text: str) -> bytes:
    """A one-page PDF of ``text`` typeset as the meeting pack is (Typst draws glyph numbers, not characters)."""
    import tempfile
    from pathlib import Path

    import typst

    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "page.typ").write_text(text.replace("#", "\\#"), encoding="utf-8")
        return typst.compile(str(Path(tmp) / "page.typ"), root=tmp, ignore_system_fonts=True)


def slides_pptx(notes: str) -> bytes:
    from pptx import Presentation
    from pptx.util import Inches

    prs = Presentation()
    s = prs.slides.add_slide(prs.slide_layouts[6])
    s.shapes.add_textbox(Inches(1), Inches(1), Inches(8), Inches(2)).text_frame.text = FINDING
    s.notes_slide.notes_text_frame.text = notes
    buf = io.BytesIO()
    prs.save(buf)
    return buf.getvalue()


def word_tables(folder, change: tuple[int, int, str] | None = None) -> bytes:
    """tables.docx as the report writes it, from the folder's incidents.csv (``change``: row, column, text)."""
    grid = csv_grid("tables/incidents.csv", (folder / "tables" / "incidents.csv").read_bytes())
    df = pd.DataFrame(grid.rows, columns=grid.header)
    if change:
        df.iat[change[0], change[1]] = change[2]
    return tables_docx([(TITLE, df, grid.footer)], title="Tables", synthetic=False)


# --- the clean folder: every document type, nothing leaks ---------------------------------------------------------


def test_a_folder_with_every_document_type_and_no_small_count_audits_clean(tmp_path, cb, cfg):
    folder = folder_with(tmp_path, {
        "findings.md": f"# Findings\n\n## Are trafficking cases screened?\n\n{FINDING}\n",
        "findings.csv": findings_csv(FINDING),
        "data_quality.md": "# Data quality\n\nKrippendorff's alpha: 0.800 or more is reliable (Krippendorff 2004).\n",
        "meeting_slides.pptx": slides_pptx("Caveat: percentages leave out the reports where it is not documented."),
        "figures/key_indicators.png": b"\x89PNG", "figures/key_indicators.pdf": typeset_pdf(FINDING)})
    (folder / "tables" / "tables.docx").write_bytes(word_tables(folder))
    result, found = findings_of(folder, cb, cfg)
    assert found == [] and result.exit_code == 0
    assert result.coverage == {
        "data_quality.md": "text", "figures/key_indicators.pdf": "text",
        "figures/key_indicators.png": "picture (its text: the PDF of the same name)", "findings.csv": "text",
        "findings.md": "text", "meeting_slides.pptx": "text", "tables/incidents.csv": "table",
        "tables/tables.docx": "text and 1 table(s) checked against CSVs"}


# --- a small count in one place only ------------------------------------------------------------------------------


def test_a_small_count_in_the_findings_text_is_found_in_every_format(tmp_path, cb, cfg):
    leak = FINDING + " Among them, 3 of 30 screened in SVU were minors."
    folder = folder_with(tmp_path, {"findings.md": f"# Findings\n\n## Are trafficking cases screened?\n\n{leak}\n",
                                    "findings.csv": findings_csv(leak)})
    result, found = findings_of(folder, cb, cfg)
    context = "(2009-2010) is suppressed. Among them, 3 of 30 screened in SVU were minors."  # 40 before, 30 after
    assert found == [("text", "findings.csv, line 2", f"count 3 in text: {context!r}", [TEXT]),
                     ("text", "findings.md, line 5", f"count 3 in text: {context!r}", [TEXT])]
    assert result.exit_code == 1


@pytest.mark.parametrize("reader", ["pdftotext", "pypdf"])
def test_a_small_count_in_a_typeset_pdf_is_found_with_or_without_poppler(reader, tmp_path, cb, cfg, monkeypatch):
    """The pack's PDF holds glyph numbers that only its fonts' maps turn back into text: read with poppler's pdftotext
    where it is installed, else with pypdf, the count is found either way (reading the page streams' strings, as a
    machine without poppler once did, found '3' nowhere and reported garbage)."""
    import shutil

    if reader == "pdftotext" and shutil.which("pdftotext") is None:
        pytest.skip("poppler-utils is not installed (apt-get install poppler-utils; .ci/run installs it)")
    if reader == "pypdf":
        which = shutil.which
        monkeypatch.setattr(shutil, "which", lambda name, *a, **kw: None if name == "pdftotext" else which(name))
    leak = "Among them, 3 of 30 screened in SVU were minors."
    folder = folder_with(tmp_path, {"meeting_pack.pdf": typeset_pdf(leak)})
    _, found = findings_of(folder, cb, cfg)
    assert found == [("text", "meeting_pack.pdf, line 1", f"count 3 in text: {leak!r}", [TEXT])]


def test_a_pdf_that_cannot_be_read_stops_the_audit(tmp_path, capsys):
    """A PDF no reader can open is not taken as a page without text: the audit cannot vouch for it."""
    folder = folder_with(tmp_path, {"meeting_pack.pdf": b"%PDF-1.4\n%%EOF\n"})
    assert main(["audit-disclosure", str(folder)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {folder}: meeting_pack.pdf: could not be read (not a readable PDF: ")
    assert err.count("\n") == 1 and "Traceback" not in err


def test_the_findings_csv_vouches_for_no_number(tmp_path, cb, cfg):
    """A count only the findings print (in two formats) is in no table's CSV: the findings CSV is text."""
    leak = "Among incident reports, 412 reports mention a hotel."
    folder = folder_with(tmp_path, {"findings.md": f"# Findings\n\n{leak}\n", "findings.csv": findings_csv(leak)})
    _, found = findings_of(folder, cb, cfg)
    assert found == [("format", "findings.csv, line 2", "number 412 is in no CSV: 'ses screened? | Among incident "
                      "reports, 412 reports mention a hotel. | unweighted'", [FORMAT]),
                     ("format", "findings.md, line 3", f"number 412 is in no CSV: {leak!r}", [FORMAT])]


def test_a_small_count_in_a_slides_speaker_note_is_found(tmp_path, cb, cfg):
    note = "Caveat: only 2 people were screened by the Language Line."
    folder = folder_with(tmp_path, {"meeting_slides.pptx": slides_pptx(note)})
    assert pptx_text((folder / "meeting_slides.pptx").read_bytes()).splitlines() == [FINDING, note]
    _, found = findings_of(folder, cb, cfg)
    assert found == [("text", "meeting_slides.pptx, line 2", f"count 2 in text: {note[:-6]!r}", [TEXT])]


def test_a_small_count_in_a_word_table_cell_is_found_against_its_csv(tmp_path, cb, cfg):
    folder = folder_with(tmp_path, {})
    (folder / "tables" / "tables.docx").write_bytes(word_tables(folder, change=(1, 2, "3/495 (0.6%)")))
    _, found = findings_of(folder, cb, cfg)
    assert found == [("format", f"tables/tables.docx#table-0, line 3, column {BEFORE!r}, row 'Screened for "
                      "trafficking'", "prints '3/495 (0.6%)' where tables/incidents.csv prints 'suppressed'", [FORMAT])]


def test_a_small_count_in_the_data_quality_page_is_found_and_its_tables_are_checked(tmp_path, cb, cfg):
    page = ("# Data quality\n\nFlagged: Condoms confiscated (double-coded: 4 reports).\n\n### Row accounting\n\n"
            "| table | input_rows | valid_rows | rejected_rows |\n|---|---|---|---|\n| incidents | 989 | 987 | 2 |\n")
    folder = folder_with(tmp_path, {"data_quality.md": page, "validation/row_accounting.csv":
                                    "table,input_rows,valid_rows,rejected_rows\nincidents,989,989,0\n"})
    _, found = findings_of(folder, cb, cfg)
    assert found == [
        ("text", "data_quality.md, line 3", "count 4 in text: 'ged: Condoms confiscated (double-coded: 4 reports).'",
         [TEXT]),
        ("format", "data_quality.md#table-0, line 9, column 'valid_rows', row 'incidents 989'",
         "prints '987' where validation/row_accounting.csv prints '989'", [FORMAT]),
        ("format", "data_quality.md#table-0, line 9, column 'rejected_rows', row 'incidents 989'",
         "prints '2' where validation/row_accounting.csv prints '0'", [FORMAT])]


def test_a_pages_table_no_csv_prints_has_its_counts_checked(tmp_path, cb, cfg):
    page = "# Data quality\n\n| variable | double_coded_n |\n|---|---|\n| Condoms confiscated | 3 |\n"
    folder = folder_with(tmp_path, {"data_quality.md": page})
    _, found = findings_of(folder, cb, cfg)
    assert found == [("text", "data_quality.md#table-0, line 5, column 'double_coded_n'",
                      "count 3 in a table no CSV prints: '3'", [TEXT])]


# --- a file the audit does not read --------------------------------------------------------------------------------


def test_a_file_of_a_type_the_audit_does_not_read_is_a_finding(tmp_path, cb, cfg):
    folder = folder_with(tmp_path, {"figures/key_indicators.svg": "<svg><text>3 people</text></svg>",
                                    "figures/districts.png": b"\x89PNG", "extra.zip": b"PK\x05\x06" + bytes(18)})
    _, found = findings_of(folder, cb, cfg)
    assert found == [
        ("format", "extra.zip", "a file of a type the audit does not read (.zip): not covered by the audit",
         [FORMAT]),
        ("format", "figures/districts.png", "a picture with no districts.pdf beside it (the audit reads a chart's "
         "text from its PDF): not covered by the audit", [FORMAT]),
        ("format", "figures/key_indicators.svg", "a file of a type the audit does not read (.svg): not covered by "
         "the audit", [FORMAT])]


def test_the_command_reads_every_file_it_is_given(tmp_path, capsys):
    """The command passes pictures and archives to the audit too (it used to skip them unread)."""
    folder = folder_with(tmp_path, {"extra.zip": b"PK\x05\x06" + bytes(18)})
    assert main(["audit-disclosure", str(folder)]) == 1
    out = capsys.readouterr().out
    assert "extra.zip" in out and "not covered by the audit" in out


# --- the readers, one layer down ---------------------------------------------------------------------------------


def test_document_readers_live_in_formats_and_report_re_exports_them(tmp_path):
    assert reexported is document_text
    folder = folder_with(tmp_path, {})
    data = word_tables(folder)
    blocks = docx_blocks(data)
    tables = [b for b in blocks if b.kind == "table"]
    assert len(tables) == 1 and tables[0].rows[0] == HEADER and tables[0].rows[1] == INCIDENTS_N + ["", "", ""]
    assert [b.text for b in blocks if b.kind == "paragraph"][:2] == ["Tables", TITLE]
    assert document_text("tables.docx", data).splitlines()[:3] == ["Tables", TITLE, "\t".join(HEADER)]
    with pytest.raises(ValueError, match=r"^x\.pdf: not a \.pptx or \.docx$"):
        document_text("x.pdf", b"")


def test_a_slide_table_and_a_grouped_text_box_are_read():
    from pptx import Presentation
    from pptx.util import Inches

    prs = Presentation()
    s = prs.slides.add_slide(prs.slide_layouts[6])
    group = s.shapes.add_group_shape()
    group.shapes.add_textbox(Inches(1), Inches(1), Inches(3), Inches(1)).text_frame.text = "grouped: 2 of 9"
    table = s.shapes.add_table(1, 2, Inches(1), Inches(3), Inches(4), Inches(1)).table
    table.cell(0, 0).text, table.cell(0, 1).text = "Minors", "3"
    buf = io.BytesIO()
    prs.save(buf)
    assert pptx_text(buf.getvalue()).splitlines() == ["grouped: 2 of 9", "Minors\t3"]
