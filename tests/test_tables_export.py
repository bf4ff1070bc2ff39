"""The standard tables as shared files: footer, formats, no small cells, no identifiers; weights from a frame."""

from __future__ import annotations

import io

import openpyxl
import pandas as pd
import pytest

from analysis.cli.app import main
from analysis.tables.compare import weighted_disclosure_warning
from analysis.tables.disclosure import check_no_small_cells
from analysis.tables.standard import parse_frame

from .conftest import EXAMPLE

COUNT_COLUMNS = [2, 3, 4]  # the two periods and overall


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    out = tmp_path_factory.mktemp("tables")
    assert main(["tables", str(EXAMPLE), "--out", str(out), "--n-boot", "200"]) == 0
    return out


def test_every_standard_table_in_every_format(written):
    names = ["incidents", "persons_all", "persons_sellers", "persons_buyers", "persons_third_parties",
             "persons_trafficking_victims", "outcomes_all", "outcomes_selling"]
    for n in names:
        for ext in ("csv", "md", "html"):
            assert (written / "shared" / f"{n}.{ext}").is_file(), f"{n}.{ext}"
        assert (written / "analyst" / f"{n}_full.csv").is_file()
    wb = openpyxl.load_workbook(written / "shared" / "tables.xlsx")
    assert wb.sheetnames == names
    assert wb["incidents"]["A1"].value == "Incident reports, before and after (SYNTHETIC DATA)"


def _shared_csv(path):
    text = path.read_text()
    body = text.split("\n\n")[0]  # title line, then the table, then a blank line and the footer
    return pd.read_csv(io.StringIO(body), skiprows=1, dtype=str, keep_default_na=False), text


def test_shared_files_have_no_small_counts_and_no_person_codes(written):
    for f in sorted((written / "shared").glob("*.csv")):
        table, text = _shared_csv(f)
        cols = [table.columns[i] for i in COUNT_COLUMNS]
        assert check_no_small_cells(table, 5, columns=cols) == [], f.name
        assert "SYN-P" not in text and "SYN-0" not in text, f.name
    for f in list((written / "shared").glob("*.md")) + list((written / "shared").glob("*.html")):
        assert "SYN-P" not in f.read_text(), f.name


def test_footer_says_synthetic_source_periods_tests_suppression_and_provenance(written):
    _, text = _shared_csv(written / "shared" / "incidents.csv")
    footer = text.split("\n\n", 1)[1]
    assert footer.startswith("\"SYNTHETIC DATA: made from the generated example, not from real reports.\"\n")
    assert "Periods: Before: Vice (2009-2010): report years 2009, 2010; After: SVU (2014-2015): report years 2014, 2015." in footer
    assert "Tests: Pearson's chi-squared" in footer
    assert "Suppression: 'suppressed' marks a count not shown because it could identify a person: a count from 1 to 4" in footer
    assert "<5" not in text
    import hashlib

    sha = hashlib.sha256((EXAMPLE / "incidents.csv").read_bytes()).hexdigest()[:12]
    assert f"incidents.csv sha256:{sha}" in footer and "codebook 2.0.0" in footer
    html = (written / "shared" / "incidents.html").read_text()
    assert '<div class="synthetic">SYNTHETIC DATA' in html


def test_shared_and_analyst_tables_are_siblings(written):
    """OUT/shared is the folder to send; the unsuppressed tables are beside it, never inside it."""
    assert sorted(p.name for p in written.iterdir()) == ["analyst", "shared"]
    assert sorted(p.name for p in (written / "shared").iterdir() if p.is_dir()) == []
    assert not [p for p in (written / "shared").rglob("*") if "_full" in p.name or "NOT_FOR_SHARING" in p.read_text(
        errors="ignore")]


def test_analyst_tables_are_marked_not_for_sharing(written):
    full = pd.read_csv(written / "analyst" / "incidents_full.csv")
    assert (full["NOT_FOR_SHARING"] == "analyst table: unsuppressed").all()


@pytest.mark.slow  # the weighted tables command
def test_frame_weights_the_tables(tmp_path, capsys):
    frame = tmp_path / "frame.csv"
    frame.write_text("year,reports\n2009,1468\n2010,1299\n2014,449\n2015,369\n")
    assert main(["tables", str(EXAMPLE), "--out", str(tmp_path / "w"), "--frame", str(frame), "--n-boot", "50"]) == 0
    out = capsys.readouterr().out
    assert "Weighted to the sampling frame." in out
    assert weighted_disclosure_warning(5) + "\n" in out  # the splits between years are not protected
    text = (tmp_path / "w" / "shared" / "incidents.csv").read_text()
    assert "Weighted to the sampling frame (reports per sampled year: 2009 1,468, 2010 1,299, 2014 449, 2015 369)." in text
    # a variable with a count from 1 to 4 in a sampled year shows its counts as n/N, without the weighted
    # percentages, change and test (Ingleside: 4 of the 11 reports of 2009-2010 are from 2009; with the weights its
    # 2.2% said 1 to 4); one without keeps them
    assert "SFPD district,Bayview,12/483,16/482,28/965,,suppressed,suppressed,suppressed\n" in text
    assert ",Ingleside,11/483,11/482,22/965,,,,\n" in text
    assert "Interpreter or Language Line used,,34/68,66/103,100/171,suppressed,suppressed,suppressed,suppressed\n" in text
    assert ("Screened for trafficking,,83/495 (16.8%),252/494 (50.8%),335/989 (24.6%),+34.0 (+29.9 to +38.1),"
            "Rao-Scott F (design-based),<0.001,<0.001\n") in text
    assert ("Weighted: a variable's percentages, change, test and q are shown only where none of its counts is from 1 "
            "to 4 in a sampled year (its counts are then shown as n/N)") in text


def test_bad_frame_is_a_clear_error(tmp_path, capsys):
    frame = tmp_path / "frame.csv"
    frame.write_text("yr,n\n2009,1\n")
    assert main(["tables", str(EXAMPLE), "--out", str(tmp_path / "w"), "--frame", str(frame)]) == 2
    assert "needs columns 'year' and 'reports'" in capsys.readouterr().err
    with pytest.raises(ValueError, match="row 3: the year must be a whole number"):
        parse_frame(pd.DataFrame({"year": ["2009", "x"], "reports": ["1", "2"]}))
