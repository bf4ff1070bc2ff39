"""make report / python -m analysis report: the meeting pack, checked as a committee member would receive it."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from analysis.cli import main
from analysis.disclosure import check_no_small_cells
from analysis.pack import page_count

from .conftest import EXAMPLE

THRESHOLD = 5
PERSON_CODE = re.compile(r"SYN-P\d+")


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    root = tmp_path_factory.mktemp("reports")
    derived = tmp_path_factory.mktemp("derived")
    import analysis.config as config

    mp = pytest.MonkeyPatch()
    mp.setenv("ANALYSIS_PROJECT_ROOT", str(Path(__file__).resolve().parents[1]))
    mp.setattr(config.Paths, "derived", property(lambda self: derived))
    mp.chdir(EXAMPLE.parents[2])  # as `make report` runs it: from the project root, with a relative data path
    out = io.StringIO()
    import contextlib

    with contextlib.redirect_stdout(out):
        code = main(["report", "data/raw/example", "--out", str(root), "--run-date", "2017-11-15", "--n-boot", "200"])
    mp.undo()
    return root / "2017-11-15", out.getvalue(), code


def test_runs_every_stage_and_reports_progress(report):
    folder, out, code = report
    assert code == 0
    for stage in ("[1/8] validate + derive", "[2/8] reliability", "[3/8] tables + model", "[4/8] public record",
                  "[5/8] charts", "[6/8] meeting pack", "[7/8] notebooks", "[8/8] finish"):
        assert stage in out
    assert "Time by stage:" in out and "NOTE: SYNTHETIC DATA" in out


def test_pack_files(report):
    folder, _, _ = report
    for name in ("meeting_pack.html", "meeting_pack.pdf", "README.md", "tables/tables.xlsx",
                 "tables/incidents.csv", "tables/misclassification_model.csv", "reliability/reliability.csv",
                 "validation/row_accounting.csv", "analyst/README.md"):
        assert (folder / name).is_file(), name
    for nb in ("01_coding_quality", "02_before_after_tables", "03_public_incident_trends",
               "04_november_meeting_charts"):
        assert (folder / "analyst" / "notebooks" / f"{nb}.html").stat().st_size > 10_000, nb


def _charts(folder):
    return sorted(p.stem for p in (folder / "figures").glob("*.png"))


def test_every_chart_has_png_pdf_and_csv(report):
    folder, _, _ = report
    charts = _charts(folder)
    assert len(charts) >= 5
    for c in charts:
        assert (folder / "figures" / f"{c}.pdf").is_file() and (folder / "figures" / f"{c}.csv").is_file()


def test_html_page_embeds_every_chart_and_needs_no_network(report):
    folder, _, _ = report
    page = (folder / "meeting_pack.html").read_text()
    for c in _charts(folder):
        assert f'data-chart="{c}"' in page
    assert page.count('src="data:image/png;base64,') == len(_charts(folder))
    assert not re.search(r'(src|href)="https?://', page)  # self-contained
    assert "SYNTHETIC DATA" in page and "Methods, suppression and provenance" in page


def test_pdf_has_the_expected_pages(report):
    folder, _, _ = report
    pdf = (folder / "meeting_pack.pdf").read_bytes()
    n_charts = len(_charts(folder))
    # cover + one page per chart + at least one page per key table (3 tables) + methods
    assert page_count(pdf) >= 1 + n_charts + 3 + 1
    assert page_count(pdf) <= 1 + n_charts + 12 + 1


def _files(folder):
    return [p for p in folder.rglob("*") if p.is_file()]


def test_no_person_code_anywhere_in_the_report(report):
    folder, _, _ = report
    for f in _files(folder):
        if f.suffix in {".png", ".pdf", ".xlsx"}:
            continue
        assert not PERSON_CODE.search(f.read_text(errors="ignore")), f


def _table_part(text: str) -> pd.DataFrame:
    body = text.split("\n\n")[0]
    return pd.read_csv(io.StringIO(body), skiprows=1, dtype=str, keep_default_na=False)


def test_no_small_count_in_any_shared_table(report):
    folder, _, _ = report
    shared = [f for f in _files(folder) if "analyst" not in f.parts and f.suffix == ".csv"]
    assert len(shared) >= 10
    for f in shared:
        text = f.read_text()
        if f.parent.name == "tables" or f.name == "public_before_after.csv":
            table = _table_part(text)
            cols = [c for c in table.columns if "n/N" in c or c == "Reports (events)"]
        else:
            table = pd.read_csv(f, dtype=str, keep_default_na=False)
            cols = [c for c in table.columns if c in {"n", "n_vice", "n_svu", "count", "incidents", "input_rows",
                                                      "valid_rows", "rejected_rows", "n_units"}]
        assert check_no_small_cells(table, THRESHOLD, columns=cols) == [], f


def test_two_runs_give_identical_tables(report, tmp_path):
    folder, _, _ = report
    import contextlib

    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["report", str(EXAMPLE), "--out", str(tmp_path), "--run-date", "2017-11-15", "--n-boot", "200",
                     "--no-notebooks"]) == 0
    again = tmp_path / "2017-11-15"
    tables = sorted(p.relative_to(folder) for p in (folder / "tables").rglob("*.csv"))
    tables += sorted(p.relative_to(folder) for p in (folder / "figures").glob("*.csv"))
    assert len(tables) >= 10
    for t in tables:
        assert (folder / t).read_bytes() == (again / t).read_bytes(), t


@pytest.mark.skipif(shutil.which("chromium") is None, reason="Chromium is not installed (apt-get install chromium)")
def test_html_page_renders_in_headless_chromium(report, tmp_path):
    folder, _, _ = report
    shot = tmp_path / "pack.png"
    subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1400,3000",
                    f"--screenshot={shot}", (folder / "meeting_pack.html").as_uri()],
                   check=True, capture_output=True, timeout=120)
    assert shot.stat().st_size > 50_000  # a page with charts, not a blank or an error page


def test_a_failing_notebook_is_a_clear_error_not_a_traceback(tmp_path, monkeypatch, capsys):
    import analysis.report as report

    def fail(*args, **kwargs):
        raise report.NotebookFailed("notebook(s) stopped with an error: 01_coding_quality: ValueError: boom (cell 4)")

    monkeypatch.setattr(report, "run_notebooks", fail)
    monkeypatch.setattr(report, "paths", lambda: type("P", (), {"derived": tmp_path / "d", "shared_sfpd": tmp_path / "none",
                                                             "root": EXAMPLE.parents[2]})())
    code = main(["report", str(EXAMPLE), "--out", str(tmp_path), "--n-boot", "20"])
    err = capsys.readouterr().err
    assert code == 2
    assert "error: notebook(s) stopped with an error: 01_coding_quality: ValueError: boom (cell 4)" in err
    assert "Traceback" not in err
