"""make report / python -m analysis report: the meeting pack, checked as a committee member would receive it."""

from __future__ import annotations

import base64
import io
import os
import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from analysis.cli.app import main
from analysis.report.pack import page_count
from analysis.tables.audit.summary import format_report
from analysis.tables.disclosure import check_no_small_cells

from .conftest import EXAMPLE, write_folder
from .test_audit_disclosure import read

# the public SFPD files the report reads by default (../shared/data/sfpd; CI has them, a bare clone may not)
PUBLIC = (Path(__file__).resolve().parents[2] / "shared" / "data" / "sfpd" / "sfpd_prostitution_daily_2003_2015.csv"
          ).is_file()

THRESHOLD = 5
PERSON_CODE = re.compile(r"SYN-P\d+")
PUBLISHED: dict[str, list] = {}  # run date -> what each call of the publishing step returned (paths) and was given
RESULTS_FILES: list[Path] = []  # the work files of the notebooks' results the report fixture's run wrote
CALLS: dict = {}  # the report fixture's publishing step: what it was given and made, and whether it forked


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    root = tmp_path_factory.mktemp("reports")
    derived = tmp_path_factory.mktemp("derived")
    import analysis.scheme.config as config

    mp = pytest.MonkeyPatch()
    mp.setenv("ANALYSIS_PROJECT_ROOT", str(Path(__file__).resolve().parents[1]))
    mp.setattr(config.Paths, "derived", property(lambda self: derived))
    mp.chdir(EXAMPLE.parents[2])  # as `make report` runs it: from the project root, with a relative data path
    import analysis.report.pipeline as pipeline

    publish = pipeline.publish

    def recording(publication, cfg, protection=None, **kw):
        drawn = kw.pop("charts_drawn")

        def charts_drawn(charts, pngs):
            CALLS["charts_drawn"] = (charts, pngs)
            drawn(charts, pngs)

        files = publish(publication, cfg, protection, charts_drawn=charts_drawn, **kw)
        PUBLISHED.setdefault("2017-11-15", []).append((sorted(files), publication))
        CALLS["publish"] = (publication, cfg, protection, files)
        return files

    mp.setattr(pipeline, "publish", recording)
    import analysis.report.publish as publish_module

    in_child = publish_module.in_child

    def recording_in_child(work):
        forked = in_child(work)
        CALLS.setdefault("forked", []).append(forked.process is not None)
        return forked

    mp.setattr(publish_module, "in_child", recording_in_child)
    write_results = pipeline.write_results

    def recording_results(results, folder):
        path = write_results(results, folder)
        RESULTS_FILES.append(path)
        return path

    mp.setattr(pipeline, "write_results", recording_results)
    out = io.StringIO()
    import contextlib

    with contextlib.redirect_stdout(out):
        code = main(["report", "data/raw/example", "--out", str(root), "--run-date", "2017-11-15", "--n-boot", "200",
                     "--meeting-date", "16 November 2017"])
    mp.undo()
    return root / "2017-11-15", out.getvalue(), code


def test_every_shared_file_came_from_the_one_publishing_step(report):
    folder, _, _ = report
    [(published, publication)] = PUBLISHED["2017-11-15"]  # one call made every shared file
    on_disk = sorted(p.relative_to(folder / "shared").as_posix() for p in _files(folder / "shared"))
    # with the public SFPD files (as in CI): the public tables and series chart are shared too (9 files)
    assert published == on_disk and len(on_disk) == (63 if PUBLIC else 54)
    # every shared table keeps the unsuppressed table it was made from; no note carries a count in its own text
    from analysis.report.publish import ModelTable
    from analysis.tables.compare import ComparisonTable

    assert len(publication.tables) == (12 if PUBLIC else 11)
    assert all(isinstance(t.source, (ComparisonTable, ModelTable)) for t in publication.tables)
    # issue 13: the model's notes say which fit was used and which reports were left out, without counts
    # (issue 11: the model's notes are published only for a model whose estimates are shown, and carry no counts)
    from analysis.report.publish import ModelNote, Note
    from analysis.report.texts import model_note

    model = [model_note(n.label, x) for n in publication.notes if isinstance(n, ModelNote) for x in n.result.notes]
    assert model[0] == ("Model (Correctly identified as trafficking): Reports left out: those with a blank "
                        "correctly_identified.")
    assert model[1].startswith("Model (Correctly identified as trafficking): Fit: Firth's")
    assert not any(re.search(r"\d", text) for text in model)
    plain = [n for n in publication.notes if isinstance(n, Note)]
    assert not any(re.search(r"\d", re.sub(r"\{\w+(:,)?\}", "", n.template)) for n in plain)


def test_the_publishing_step_in_two_processes_makes_what_one_process_makes(report):
    """The report publishes in two processes (the text files and every third chart in a forked one,
    :func:`analysis.report.publish.publish`): the same files, byte for byte and in the same order, and the same
    charts given to notebook 04, as one process makes from the same protection."""
    publication, cfg, protection, files = CALLS["publish"]
    assert CALLS["forked"] == [(os.cpu_count() or 1) > 1]
    from analysis.report.publish import publish

    given = []
    alone = publish(publication, cfg, protection, parallel=False, charts_drawn=lambda c, p: given.append((c, p)))
    assert list(alone) == list(files) and alone == files
    [(charts, pngs)] = given
    forked_charts, forked_pngs = CALLS["charts_drawn"]
    assert list(forked_pngs) == list(pngs) and forked_pngs == pngs and len(pngs) == len(publication.figures)
    assert [(c.name, c.title, c.alt, c.notes) for c in forked_charts] == [(c.name, c.title, c.alt, c.notes)
                                                                          for c in charts]
    for a, b in zip(forked_charts, charts):
        pd.testing.assert_frame_equal(a.data, b.data)


def test_a_chart_that_cannot_be_drawn_stops_the_forked_publishing(report, monkeypatch):
    import dataclasses

    import analysis.report.publish as publish_module

    publication, cfg, protection, _ = CALLS["publish"]
    plan = publication.figures[0].plan

    def cannot(protection):
        raise ValueError("no ink")

    figures = [dataclasses.replace(publication.figures[0], plan=dataclasses.replace(plan, draw=cannot)),
               *publication.figures[1:]]
    started = []
    in_child = publish_module.in_child
    monkeypatch.setattr(publish_module, "in_child", lambda work: started.append(in_child(work)) or started[-1])
    with pytest.raises(ValueError, match="no ink"):
        publish_module.publish(dataclasses.replace(publication, figures=figures), cfg, protection)
    [forked] = started
    if (os.cpu_count() or 1) < 2:  # (one processor: the work runs in place, never started)
        assert forked.process is None
    else:  # started, and killed when the chart failed
        assert not forked.process.is_alive() and forked.process.exitcode == -9


def test_runs_every_stage_and_reports_progress(report):
    folder, out, code = report
    assert code == 0
    for stage in ("[1/8] validate + derive", "[2/8] reliability", "[3/8] tables + model", "[4/8] public record",
                  "[5/8] charts", "[6/8] meeting pack", "[7/8] notebooks", "[8/8] finish"):
        assert stage in out
    assert "Time by stage:" in out and "NOTE: SYNTHETIC DATA" in out


def test_pack_files(report):
    folder, _, _ = report
    for name in ("shared/meeting_pack.html", "shared/meeting_pack.pdf", "shared/README.md", "shared/tables/tables.xlsx",
                 "shared/tables/incidents.csv", "shared/tables/misclassification_model.csv",
                 "shared/reliability/reliability.csv", "shared/validation/row_accounting.csv", "analyst/README.md"):
        assert (folder / name).is_file(), name
    for nb in ("01_coding_quality", "02_before_after_tables", "03_public_incident_trends",
               "04_november_meeting_charts", "05_published_headline"):
        assert (folder / "analyst" / "notebooks" / f"{nb}.html").stat().st_size > 10_000, nb


def _charts(folder):
    return sorted(p.stem for p in (folder / "shared" / "figures").glob("*.png"))


def test_every_chart_has_png_pdf_and_csv(report):
    folder, _, _ = report
    charts = _charts(folder)
    assert len(charts) >= 5
    for c in charts:
        figures = folder / "shared" / "figures"
        assert (figures / f"{c}.pdf").is_file() and (figures / f"{c}.csv").is_file()


def test_html_page_embeds_every_chart_and_needs_no_network(report):
    folder, _, _ = report
    page = (folder / "shared" / "meeting_pack.html").read_text()
    for c in _charts(folder):
        assert f'data-chart="{c}"' in page
    assert page.count('src="data:image/png;base64,') == len(_charts(folder))
    # each chart is the shared picture itself (figures/<name>.png, as in the slides and the PDF)
    for c in _charts(folder):
        embedded = re.search(f'data-chart="{c}"><img src="data:image/png;base64,([^"]+)"', page).group(1)
        assert base64.b64decode(embedded) == (folder / "shared" / "figures" / f"{c}.png").read_bytes()
    assert not re.search(r'(src|href)="https?://', page)  # self-contained
    assert "SYNTHETIC DATA" in page and "Methods, suppression and provenance" in page


def test_pdf_has_the_expected_pages(report):
    folder, _, _ = report
    pdf = (folder / "shared" / "meeting_pack.pdf").read_bytes()
    n_charts = len(_charts(folder))
    # cover, contents, findings (up to 3 pages), one page per chart, at least one page per key table (3 tables),
    # data quality (up to 2), methods and provenance (up to 2)
    assert page_count(pdf) >= 2 + 1 + n_charts + 3 + 1 + 1
    assert page_count(pdf) <= 2 + 3 + n_charts + 12 + 2 + 2


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils is not installed (apt-get install "
                    "poppler-utils; .ci/run installs it)")
def test_pdf_has_contents_page_numbers_and_no_text_outside_the_page(report):
    from .test_documents import MARGIN_X, MIN_WORD_HEIGHT, pdf_pages, smallest_word_height, words_outside

    folder, _, _ = report
    path = folder / "shared" / "meeting_pack.pdf"
    pages = pdf_pages(path)
    assert "Sex Work and Trafficking Policy Impact Committee, November meeting" in pages[0]
    assert "16 November 2017" in pages[0]  # --meeting-date, instead of the study configuration's
    assert "Contents" in pages[1] and all(f"Page {k} of {len(pages)}" in p for k, p in enumerate(pages[1:], 2))
    assert words_outside(path, margin_x=MARGIN_X) == []
    assert smallest_word_height(path) >= MIN_WORD_HEIGHT


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils is not installed (apt-get install "
                    "poppler-utils; .ci/run installs it)")
def test_no_pdf_page_holds_only_the_end_of_a_footer(report):
    """A key table whose footer would spill its last lines onto a page of their own is set a little closer, the
    same type sizes (the sellers' key table of the example: its suppression and provenance lines made page 15 of
    20 alone)."""
    from .test_documents import pdf_pages

    folder, _, _ = report
    pages = pdf_pages(folder / "shared" / "meeting_pack.pdf")
    footer_starts = ("Source:", "Periods:", "Population:", "Suppression:", "Provenance:")
    alone = []
    for k, page in enumerate(pages, start=1):
        lines = [ln.strip() for ln in page.splitlines() if ln.strip()]
        body = [ln for ln in lines if not ln.startswith("SYNTHETIC DATA")]  # the banner on every page
        if body and body[0].startswith(footer_starts):
            alone.append((k, body[0][:40]))
    assert alone == []
    sellers = [p for p in pages[2:] if "Key indicators: people selling sex" in p]  # (after the contents)
    assert len(sellers) == 1 and "Provenance: code" in sellers[0]


def test_slides_hold_one_picture_per_chart_and_the_docx_every_shared_table(report):
    from docx import Document
    from pptx import Presentation

    folder, _, _ = report
    shared = folder / "shared"
    prs = Presentation(shared / "meeting_slides.pptx")
    pictures = [[sh for sh in s.shapes if sh.shape_type == 13] for s in prs.slides]
    charts = _charts(folder)
    assert sum(len(p) for p in pictures) == len(charts) and max(len(p) for p in pictures) == 1
    shown = [p[0].image.blob for p in pictures if p]
    assert shown == [(shared / "figures" / f"{c}.png").read_bytes() for c in
                     [s.notes_slide.notes_text_frame.text.split("figures/")[1].split(".csv")[0]
                      for s, p in zip(prs.slides, pictures) if p]]
    doc = Document(shared / "tables" / "tables.docx")
    [(_, publication)] = PUBLISHED["2017-11-15"]
    assert len(doc.tables) == len([t for t in publication.tables if t.formats]) == (10 if PUBLIC else 9)  # tables/, public/
    # the Word table holds the same cells as the shared CSV
    incidents = _table_part((shared / "tables" / "incidents.csv").read_text())
    first = [[c.text for c in row.cells] for row in doc.tables[0].rows]
    assert first[0] == list(incidents.columns) and first[1:] == incidents.values.tolist()


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
    shared = [f for f in _files(folder / "shared") if f.suffix == ".csv"]
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

    with contextlib.redirect_stdout(io.StringIO()):  # its own derived folder: never the user's data/derived
        assert main(["report", str(EXAMPLE), "--out", str(tmp_path), "--derived", str(tmp_path / "derived"),
                     "--run-date", "2017-11-15", "--n-boot", "200", "--no-notebooks"]) == 0
    again = tmp_path / "2017-11-15"
    tables = sorted(p.relative_to(folder) for p in (folder / "shared" / "tables").rglob("*.csv"))
    tables += sorted(p.relative_to(folder) for p in (folder / "shared" / "figures").glob("*.csv"))
    assert len(tables) >= 10
    for t in tables:
        assert (folder / t).read_bytes() == (again / t).read_bytes(), t
    # without the notebooks, the stage times are written too (the benchmark reads them): every stage but theirs
    import json

    names = [s["name"] for s in json.loads((folder / "analyst" / "stages.json").read_text())]
    assert [s["name"] for s in json.loads((again / "analyst" / "stages.json").read_text())] == [
        n for n in names if not n.startswith("notebooks")] and len(names) == 8


# --- the disclosure audit of the shared folder the report made (tests/test_audit_disclosure.py attacks others) ---


@pytest.fixture(scope="module")
def example_audit(report, cb, cfg):
    """The audit of this run's shared folder: what `make report` shares, the public record's files included where
    the public SFPD files are (as in CI)."""
    from analysis.tables.audit.core import audit

    return audit(read(report[0] / "shared"), cb, cfg)


def test_protected_example_output_hides_cells_and_shows_the_key_rows(example_audit, report):
    """The protected report of the example (issue 11 landed; the leaks of the unprotected outputs are the six
    constructed folders of tests/test_audit_disclosure.py): cells are hidden, none shown as '<5', and the
    committee's misclassification row (15/495 -> 115/494) and interpreter use (34/68 -> 66/103) are printed."""
    r = example_audit
    example_shared = report[0] / "shared"
    assert r.exit_code == 0 and r.counts()["small_pinned"] == 0
    text = (example_shared / "tables" / "incidents.csv").read_text(encoding="utf-8")
    assert "<5" not in text
    assert ',"Labelled trafficking, not established",15/495 (3.0%),115/494 (23.3%),' in text
    assert "Interpreter or Language Line used,,34/68 (50.0%),66/103 (64.1%)," in text


def test_protected_example_output_leaks_nothing(example_audit):
    assert example_audit.findings == [], format_report(example_audit)
    # and every row's printed statistics are reproduced by some completion, so each binds the attacker's model
    assert example_audit.problems == [], format_report(example_audit)


def test_the_example_audit_reads_every_shared_file(example_audit, report):
    """Every file of the shared folder is read (issue 11 item 1): the findings and data-quality pages, the slides and
    their notes, and each Word table against its CSV; a chart's picture is covered by its PDF; nothing is left."""
    files = read(report[0] / "shared")
    cov = example_audit.coverage
    assert set(cov) == set(files) and "not read" not in cov.values()
    assert {cov[p] for p in ("findings.md", "findings.csv", "meeting_slides.pptx", "meeting_pack.pdf")} == {"text"}
    assert cov["data_quality.md"] == "text and 2 table(s) checked against CSVs"  # agreement, row accounting
    # the Word file holds every table: the nine of tables/, and the public record's before/after where it is shared
    tables = [p for p in files if p.endswith(".csv")
              and (p.startswith("tables/") or p == "public/public_before_after.csv")]
    assert len(tables) == (10 if PUBLIC else 9)
    assert cov["tables/tables.docx"] == f"text and {len(tables)} table(s) checked against CSVs"
    assert {cov[p] for p in files if p.endswith(".png")} == {"picture (its text: the PDF of the same name)"}


@pytest.mark.skipif(shutil.which("chromium") is None, reason="Chromium is not installed (apt-get install chromium)")
def test_html_page_renders_in_headless_chromium(report, tmp_path):
    folder, _, _ = report
    shot = tmp_path / "pack.png"
    subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1400,3000",
                    f"--screenshot={shot}", (folder / "shared" / "meeting_pack.html").as_uri()],
                   check=True, capture_output=True, timeout=120)
    assert shot.stat().st_size > 50_000  # a page with charts, not a blank or an error page


@pytest.mark.slow  # a whole report
def test_a_failing_notebook_is_a_clear_error_not_a_traceback(frames, tmp_path, monkeypatch, capsys):
    import contextlib

    import analysis.report.pipeline as pipeline
    from analysis.report.notebooks import NotebookFailed

    class Failing:
        started, seconds = 0.0, 0.0

        def release(self):  # (notebook 04 waits for the pack's charts)
            pass

        def wait(self):
            raise NotebookFailed("notebook(s) stopped with an error: 01_coding_quality: ValueError: boom (cell 4)")

    monkeypatch.setattr(pipeline, "notebooks_running", lambda *a, **kw: contextlib.nullcontext(Failing()))
    data = write_folder(frames, tmp_path / "coded")  # a small coding (24 reports): the error is the same
    code = main(["report", str(data), "--out", str(tmp_path), "--derived", str(tmp_path / "d"),
                 "--sfpd-dir", str(tmp_path / "none"), "--n-boot", "20"])
    err = capsys.readouterr().err
    assert code == 2
    assert "error: notebook(s) stopped with an error: 01_coding_quality: ValueError: boom (cell 4)" in err
    assert "Traceback" not in err


def test_notebooks_get_the_reports_inputs_and_configuration(tmp_path):
    """Each notebook gets the report's inputs and study configuration, and defines every parameter it is given in
    its parameters cell (papermill would warn and the notebook would ignore it)."""
    import nbformat

    from analysis.report.notebooks import NOTEBOOKS, notebook_parameters

    params = notebook_parameters(tmp_path / "data", tmp_path / "sfpd", tmp_path / "scratch", n_boot=600,
                                 frame_path="frame.csv", config_file="my_study.yaml", results_file="results.pickle")
    assert list(params) == list(NOTEBOOKS)
    assert {p["config_file"] for p in params.values()} == {"my_study.yaml"}
    assert {p["results_file"] for p in params.values()} == {"results.pickle"}  # each shows the report's results
    assert params["01_coding_quality"]["second_coder_dir"] == str(tmp_path / "data" / "second_coder")
    # the same bootstrap resamples everywhere: a rerun of a notebook gives the pack's numbers
    assert params["01_coding_quality"]["n_boot"] == 600 and params["04_november_meeting_charts"]["n_boot"] == 600
    assert params["02_before_after_tables"]["out_dir"] is None and params["02_before_after_tables"]["frame_file"] == \
        "frame.csv"
    assert params["04_november_meeting_charts"]["out_dir"] is None  # the report writes the charts itself
    assert params["03_public_incident_trends"]["out_dir"] is None  # writes files only when given out_dir (f1a76eb)
    assert params["05_published_headline"] == {"data_dir": str(tmp_path / "data"), "config_file": "my_study.yaml",
                                               "results_file": "results.pickle"}
    root = Path(__file__).resolve().parents[1] / "notebooks"
    for name, given in params.items():
        first = nbformat.read(root / f"{name}.ipynb", as_version=4).cells[0]
        defined: dict = {}
        exec(first.source, defined)
        assert set(given) <= set(defined), name


# --- what may be shared, what must not, and what no file may hold ----------------------------------------------


def _pdf_text(path: Path) -> str:
    """A PDF's text as the disclosure audit reads it: pdftotext when installed, else pypdf (the meeting pack's glyph
    numbers turned back into text either way)."""
    from analysis.tables.audit.read import pdf_text

    return pdf_text(path.read_bytes())


def readable_text(folder: Path) -> dict[Path, str]:
    """Every file of a report run as text a reader (or a zip of it) exposes: CSV, Markdown, JSON and HTML as
    they are (without embedded base64 images), notebooks without image outputs, PDFs through pdftotext, XLSX
    as their XML, slides and Word files through their text. Only PNG images are left out."""
    import json
    import zipfile

    texts = {}
    for f in _files(folder):
        if f.suffix == ".png":
            continue
        if f.suffix == ".pdf":
            texts[f] = _pdf_text(f)
        elif f.suffix in {".pptx", ".docx"}:  # slides with their speaker notes; Word tables
            from analysis.report.documents import document_text

            texts[f] = document_text(f.name, f.read_bytes())
        elif f.suffix == ".xlsx":
            with zipfile.ZipFile(f) as z:
                texts[f] = "\n".join(z.read(n).decode("utf-8", "replace") for n in z.namelist())
        elif f.suffix == ".ipynb":
            nb = json.loads(f.read_text())
            for cell in nb["cells"]:
                for out in cell.get("outputs", []):
                    for key in [k for k in out.get("data", {}) if k.startswith("image/")]:
                        del out["data"][key]
            texts[f] = json.dumps(nb)
        else:
            texts[f] = re.sub(r"data:image/[a-z+]+;base64,[A-Za-z0-9+/=]+", "", f.read_text(errors="replace"))
    return texts


def local_paths() -> list[str]:
    """The absolute local paths no output may record: the checkout, the home folder, the temporary folder."""
    import tempfile

    from analysis.scheme.config import paths

    root = Path(__file__).resolve().parents[1]
    return [str(root), str(Path.home()) + "/", tempfile.gettempdir().rstrip("/") + "/", str(paths().shared_sfpd)]


def test_shared_and_analyst_are_siblings_and_say_what_to_send(report):
    folder, out, _ = report
    assert sorted(p.name for p in folder.iterdir()) == ["README.md", "analyst", "shared"]
    assert sorted(p.name for p in folder.parent.iterdir()) == ["2017-11-15"]  # no temporary folder left behind
    shared = (folder / "shared" / "README.md").read_text()
    assert shared.startswith("# Meeting pack, 2017-11-15: this is the folder to send")
    assert "`shared/` is the folder to send or publish (zip this folder only)" in shared
    assert "Its sibling `analyst/` holds unsuppressed tables: never send it." in shared
    analyst = (folder / "analyst" / "README.md").read_text()
    assert analyst.startswith("# analyst/: NEVER SEND THIS FOLDER")
    assert "counts from 1 to 4 are shown as they\nare" in analyst
    assert "**yes: send this folder (zip `shared/` only)**" in (folder / "README.md").read_text()
    # zipping shared/ cannot include the unsuppressed tables or the notebooks
    assert not [p for p in _files(folder / "shared") if "_full" in p.name or p.suffix == ".ipynb"]
    assert not [p for p, t in readable_text(folder / "shared").items() if "NOT_FOR_SHARING" in t]
    assert len(list((folder / "analyst" / "tables").glob("*_full.csv"))) == 8
    assert (folder / "analyst" / "stages.json").is_file()
    assert f"To share: send {folder / 'shared'} (zip that folder only). Never send {folder / 'analyst'}" in out


def test_no_absolute_local_path_in_any_file(report):
    folder, _, _ = report
    texts = readable_text(folder)
    assert "SYNTHETIC DATA" in texts[folder / "shared" / "meeting_pack.pdf"]  # the PDF's text is read
    nb = texts[folder / "analyst" / "notebooks" / "01_coding_quality.ipynb"]
    assert 'data_dir = \\"data/raw/example\\"' in nb  # the parameters, relative to the project root
    for f, text in texts.items():
        for local in local_paths():
            assert local not in text, (f, local)


def _executed(folder: Path, name: str):
    import nbformat

    return nbformat.read(folder / "analyst" / "notebooks" / f"{name}.ipynb", as_version=4)


RESULTS_NOTE = ("Shown from the report's run of {date}: the results its pipeline stages computed, read from its work "
                "file, not computed again here")


def test_each_notebook_showed_the_reports_results_with_the_standalone_numbers(report):
    """Issue 15: the report executes each notebook once, and each shows what the report's stages computed, read
    from a work file in a temporary folder of its own (removed after the notebooks; never in the run folder),
    with the numbers the notebook shows run standalone (the checks of tests/test_notebook_0*.py)."""
    import tempfile

    from analysis.report.notebooks import NOTEBOOKS

    from . import test_notebook_01, test_notebook_02, test_notebook_03, test_notebook_04, test_notebook_05
    from .conftest import notebook_text

    folder, _, _ = report
    [work_file] = RESULTS_FILES  # written once, for all five
    assert work_file.parent.parent == Path(tempfile.gettempdir()) and not work_file.parent.exists()
    assert not [p for p in _files(folder) if p.suffix == work_file.suffix]
    for name in NOTEBOOKS:
        nb = _executed(folder, name)
        [injected] = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
        assert f'results_file = "{work_file.name}"' in injected.source, name  # the temporary folder by name only
        text = notebook_text(nb)
        assert RESULTS_NOTE.format(date="2017-11-15") in text, name
        assert "ERROR" not in text and "Traceback" not in text, name
    test_notebook_01.shows_the_example(notebook_text(_executed(folder, "01_coding_quality")))
    text = notebook_text(_executed(folder, "02_before_after_tables"))
    test_notebook_02.says_synthetic_with_the_tables(text)
    test_notebook_02.shows_the_published_direction(text)
    if PUBLIC:
        nb = _executed(folder, "03_public_incident_trends")
        test_notebook_03.shows_the_real_files(notebook_text(nb))
        assert test_notebook_03.images_shown(nb) == 2
    test_notebook_04.shows_the_charts_numbers(_executed(folder, "04_november_meeting_charts"), PUBLIC)
    text = notebook_text(_executed(folder, "05_published_headline"))
    test_notebook_05.prints_each_published_statement(text)
    test_notebook_05.shows_the_estimates_on_the_example(text)


def test_notebook_04_shows_the_packs_own_charts(report):
    """Run by the report, notebook 04 shows the charts as the pack shares them: the very PNGs of shared/figures/,
    and the key indicators' numbers of the pack's CSV. It used to draw and protect the charts on its own, and so
    showed q-values the pack did not share (police-initiated cases: q = 0.135 in the notebook, 1.0 in the
    pack: the pack's protection leaves suppressed rows out of the Holm family)."""
    folder, _, _ = report
    nb = _executed(folder, "04_november_meeting_charts")
    [injected] = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert 'charts_file = "shared_charts.pickle"' in injected.source  # the temporary folder by name only
    shown = sorted(base64.b64decode(o["data"]["image/png"]) for c in nb.cells if c.cell_type == "code"
                   for o in c.get("outputs", []) if "image/png" in o.get("data", {}))
    assert shown == sorted(p.read_bytes() for p in (folder / "shared" / "figures").glob("*.png"))
    key = pd.read_csv(folder / "shared" / "figures" / "key_indicators.csv").set_index("indicator")
    [table] = [o["data"]["text/html"] for o in nb.cells[-1].outputs if "text/html" in o.get("data", {})]
    row = re.search(r"<td>police_initiated</td>(.*?)</tr>", table, re.S).group(1)
    cells = re.findall(r"<td>([^<]*)</td>", row)
    assert float(cells[-3]) == pytest.approx(key.loc["police_initiated", "q_value"], rel=1e-6)
    assert key.loc["police_initiated", "q_value"] == 1.0  # (the pack's value on the example)


def test_stage_times_add_up_with_the_notebooks_in_parallel_with_the_pack(report):
    import json

    folder, out, _ = report
    stages = json.loads((folder / "analyst" / "stages.json").read_text())
    assert [s["name"] for s in stages] == ["validate + derive", "reliability", "tables + model", "public record",
                                           "charts", "meeting pack", "notebooks (in parallel with the pack)",
                                           "finish"]
    notebooks = stages[6]
    match = re.fullmatch(r"01_coding_quality, 02_before_after_tables, 03_public_incident_trends, "
                         r"04_november_meeting_charts, 05_published_headline; (\d+\.\d) s from start to end, "
                         r"(\d+\.\d) s of it while the pack was made", notebooks["note"])
    assert match, notebooks["note"]
    in_all, during = map(float, match.groups())
    assert during <= in_all
    # the stage's own time is the wait after the pack: the notebooks' time not spent while the pack was made
    assert abs(notebooks["seconds"] - (in_all - during)) < 0.5
    total = re.search(r"total\s+(\d+\.\d) s", out)
    assert total and abs(float(total.group(1)) - sum(s["seconds"] for s in stages)) < 0.1


PLANTED = "SECRET-NARRATIVE"


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    """The report on a copy of the example with planted bad rows: free text typed into coded cells (main and
    second coding, and a statute), and a rejected person (age 200); no public data folder."""
    base = tmp_path_factory.mktemp("planted")
    data = base / "coded"
    shutil.copytree(EXAMPLE, data, ignore=shutil.ignore_patterns("*.xlsx"))
    inc = pd.read_csv(data / "incidents.csv", dtype=str, keep_default_na=False)
    inc.loc[inc["report_id"] == "SYN-0002", "origin"] = PLANTED
    inc.to_csv(data / "incidents.csv", index=False, lineterminator="\n")
    per = pd.read_csv(data / "persons.csv", dtype=str, keep_default_na=False)
    per.loc[per["person_code"] == "SYN-P00001", "age"] = "200"
    per.to_csv(data / "persons.csv", index=False, lineterminator="\n")
    chg = pd.read_csv(data / "charges.csv", dtype=str, keep_default_na=False)
    chg.loc[len(chg) - 1, "statute"] = PLANTED + "-3"
    chg.to_csv(data / "charges.csv", index=False, lineterminator="\n")
    second = pd.read_csv(data / "second_coder" / "incidents.csv", dtype=str, keep_default_na=False)
    second.loc[0, "origin"] = PLANTED + "-2"
    second.to_csv(data / "second_coder" / "incidents.csv", index=False, lineterminator="\n")
    coders = set(inc["coder_id"]) | set(second["coder_id"])
    out = io.StringIO()
    import contextlib

    with contextlib.redirect_stdout(out):
        code = main(["report", str(data), "--out", str(base / "reports"), "--derived", str(base / "derived"),
                     "--sfpd-dir", str(base / "no_sfpd"), "--run-date", "2017-11-16", "--n-boot", "20"])
    return base / "reports" / "2017-11-16", out.getvalue(), code, coders, base


@pytest.mark.slow
def test_no_id_value_or_local_path_in_any_file_when_rows_are_rejected(planted):
    folder, out, code, coders, base = planted
    assert code == 1  # rows were rejected, the pack was made from the valid ones
    assert "[1/8] validate + derive" in out and "rejected" in out
    texts = readable_text(folder)
    assert len(texts) > 40 and {"shared", "analyst"} <= {p.relative_to(folder).parts[0] for p in texts}
    nb01 = texts[folder / "analyst" / "notebooks" / "01_coding_quality.html"]
    # the problems are shown by table, row number, variable and rule ...
    assert "out_of_range" in nb01, nb01[-3000:]
    assert "Main coding coded: 989 incident reports read, 988 valid, 1 rejected" in nb01
    # ... and no file of either folder holds an id, a coder id, the text typed in or a local path
    for f, text in texts.items():
        assert PLANTED not in text, f
        assert not re.search(r"SYN-P?\d{4,5}", text), (f, re.search(r"SYN-P?\d{4,5}", text))
        for coder in coders:
            assert not re.search(rf"\b{re.escape(coder)}\b", text), (f, coder)
        for local in local_paths() + [str(base)]:
            assert local not in text, (f, local)
    # the row-level lists with ids stay in the derived folder, on the analyst's machine
    problems = pd.read_csv(base / "derived" / "validation" / "problems.csv", dtype=str, keep_default_na=False)
    assert PLANTED in set(problems["value"]) and "SYN-0002" in set(problems["report_id"])


@pytest.mark.slow
def test_notebook_03_without_the_public_folder_says_so_and_stops_gracefully(planted):
    """Run by the report without the public SFPD folder, notebook 03 says so and skips the rest: no error, and no
    cell after the check runs."""
    from analysis.scheme.config import shown_path

    from .conftest import notebook_text

    folder, _, _, _, base = planted
    nb = _executed(folder, "03_public_incident_trends")
    text = notebook_text(nb)
    assert "SHARED DATA NOT FOUND" in text
    assert f"the shared SFPD data folder {shown_path(base / 'no_sfpd')} was not found" in text
    assert "ERROR" not in text and "Traceback" not in text
    code = [c for c in nb.cells if c.cell_type == "code"]
    check = next(k for k, c in enumerate(code) if any("SHARED DATA NOT FOUND" in o.get("text", "") for o in c.outputs))
    assert code[check + 1:] and all(c.outputs == [] for c in code[check + 1:])  # nothing after the check ran


# --- an atomic report: all of it, or the earlier one untouched --------------------------------------------------


def _fake_build(write: bool, fail: Exception | None):
    def build(work):
        if write:
            (work / "shared").mkdir()
            (work / "shared" / "meeting_pack.html").write_text("new pack")
        if fail:
            raise fail
    return build


def _run_in_folder(out_root, build, progress):
    """A run's work inside the atomic run folder, as :func:`analysis.report.pipeline.run` does it."""
    from analysis.report import output

    with output.run_folder(out_root, "2017-11-15", progress) as work:
        build(work)


def test_a_failed_run_leaves_the_earlier_pack_and_keeps_its_partial_output(tmp_path):
    final = tmp_path / "2017-11-15"
    (final / "shared").mkdir(parents=True)
    (final / "shared" / "meeting_pack.html").write_text("earlier pack")
    said = []
    with pytest.raises(FileNotFoundError):
        _run_in_folder(tmp_path, _fake_build(True, FileNotFoundError("frame.csv: not found")), said.append)
    assert (final / "shared" / "meeting_pack.html").read_text() == "earlier pack"
    kept = tmp_path / "2017-11-15.incomplete"
    assert (kept / "shared" / "meeting_pack.html").read_text() == "new pack"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2017-11-15", "2017-11-15.incomplete"]  # no temp folder
    assert said == [f"The report did not finish: {final} was left as it was; what it had written is in {kept} "
                    "(not for sharing; the next run replaces it)."]

    # a run that fails before writing anything leaves nothing behind (and the earlier incomplete one)
    with pytest.raises(ValueError):
        _run_in_folder(tmp_path, _fake_build(False, ValueError("bad input")), said.append)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2017-11-15", "2017-11-15.incomplete"]
    assert said[-1] == f"The report did not finish: {final} was left as it was."

    # a run that succeeds replaces the earlier pack as a whole and removes the incomplete one
    _run_in_folder(tmp_path, _fake_build(True, None), said.append)
    assert (final / "shared" / "meeting_pack.html").read_text() == "new pack"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2017-11-15"]


def _processes_of(marker: str) -> list[str]:
    """Processes (other than this one) whose environment carries ``marker``, or whose command line names
    papermill or the marker: 'pid: command line'."""
    import psutil

    found = []
    for proc in psutil.process_iter(["pid", "cmdline"]):
        if proc.pid == os.getpid():
            continue
        try:
            cmd = " ".join(proc.info["cmdline"] or [])
            env = proc.environ()
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
        if env.get("REPORT_TEST_MARKER") == marker or marker in cmd or "papermill" in cmd:
            found.append(f"{proc.pid}: {cmd}")
    return found


def test_the_command_starts_the_notebook_workers_before_it_imports_the_pipeline(tmp_path):
    """`python -m analysis report` starts its notebook workers first (they import what they run notebooks with, and
    start their kernels, while the report process imports the pipeline) and hands them to the pipeline; with
    --no-notebooks it starts none."""
    import sys
    import textwrap

    code = textwrap.dedent("""
        import contextlib, os, sys
        import analysis.report.notebooks as N

        @contextlib.contextmanager
        def workers(*args, **kw):
            print("pipeline imported:", "analysis.report.pipeline" in sys.modules, flush=True)
            os._exit(0)
            yield

        def run(*args, workers, **kw):
            print("the pipeline is given:", workers, flush=True)
            os._exit(0)

        N.notebook_workers = workers
        if "--no-notebooks" in sys.argv:
            import analysis.report.pipeline as P

            P.run = run
        from analysis.cli.app import main
        main(["report", "data/raw/example", "--out", sys.argv[1], "--derived", sys.argv[2], *sys.argv[3:]])
    """)
    root = Path(__file__).resolve().parents[1]
    argv = [sys.executable, "-c", code, str(tmp_path / "out"), str(tmp_path / "derived")]
    out = subprocess.run(argv, capture_output=True, text=True, cwd=root, timeout=300)
    assert out.stdout == "pipeline imported: False\n", out.stderr
    out = subprocess.run(argv + ["--no-notebooks"], capture_output=True, text=True, cwd=root, timeout=300)
    assert out.stdout.endswith("the pipeline is given: None\n"), out.stderr


def test_a_run_that_fails_stops_the_workers_it_was_given_before_it_leaves_its_run_folder(tmp_path, monkeypatch):
    """Workers started by the command are the pipeline's to stop: a run that fails stops them while its run folder
    is still there (the kernels write into it), as it stops the workers it starts itself."""
    from analysis.report import output, pipeline
    from analysis.scheme.codebook import load_codebook
    from analysis.scheme.config import load_study_config

    seen = []

    class Workers:
        def close(self):
            seen.append(sorted(p.name for p in (tmp_path / "out").iterdir()))

    def stage(r):
        raise ValueError("stage 1 failed")

    monkeypatch.setattr(pipeline, "_stage_derive", stage)
    inputs = pipeline.RunInputs(data_dir=EXAMPLE, sfpd_dir=tmp_path / "no_sfpd", derived_dir=tmp_path / "derived")
    with pytest.raises(ValueError, match="stage 1 failed"):
        pipeline.run(inputs, tmp_path / "out", load_codebook(), load_study_config(), run_date="2017-11-15",
                     progress=lambda _: None, workers=Workers())
    _, work, _ = output.run_folder_paths(tmp_path / "out", "2017-11-15")
    assert seen == [[work.name]] and not work.exists()


@pytest.mark.slow
@pytest.mark.parametrize("when", ["running", "ahead"])
def test_a_killed_report_leaves_no_workers_and_no_pack(frames, tmp_path, when):
    """SIGTERM while the notebooks run (beside the pack, issue 15): the workers and their kernels go with the
    report, no final folder appears, the partial output is kept as <date>.incomplete and the exit code says
    SIGTERM. The same when it comes before the notebooks were given to the workers, whose kernels started ahead
    are running ("ahead")."""
    import signal
    import sys
    import time
    import uuid

    data = write_folder(frames, tmp_path / "coded")
    out = tmp_path / "reports"
    marker = f"kill-test-{uuid.uuid4().hex}"
    env = dict(os.environ, PYTHONUNBUFFERED="1", REPORT_TEST_MARKER=marker)
    proc = subprocess.Popen([sys.executable, "-m", "analysis", "report", str(data), "--out", str(out),
                             "--derived", str(tmp_path / "derived"), "--sfpd-dir", str(tmp_path / "no_sfpd"),
                             "--run-date", "2017-11-15", "--n-boot", "20"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    import threading

    said: list[str] = []  # the progress lines so far
    errors: list[str] = []
    readers = [threading.Thread(target=lambda f=f, to=to: to.extend(iter(f.readline, "")), daemon=True)
               for f, to in ((proc.stdout, said), (proc.stderr, errors))]
    for reader in readers:
        reader.start()
    try:
        deadline = time.monotonic() + 240  # about 15 s on an idle 2-core machine; over a minute when it is busy
        kernels = []
        while time.monotonic() < deadline and proc.poll() is None:
            kernels = [p for p in _processes_of(marker) if "ipykernel" in p]
            # kernels start ahead with the report; the notebooks are given to them after stage 5 (the charts)
            if kernels and (when == "ahead" or any(line.startswith("[5/8] charts") for line in said)):
                break
            time.sleep(0.2)
        assert kernels, "the notebooks did not start within 240 s"
        packed = any(line.startswith("[6/8] meeting pack") for line in said)  # (usually not yet)
        workers = [p for p in _processes_of(marker) if not p.startswith(f"{proc.pid}:") and "ipykernel" not in p]
        assert workers  # the notebook workers are running
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)
        for reader in readers:
            reader.join(timeout=20)
        err = "".join(errors)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 128 + signal.SIGTERM
    if when == "ahead":
        assert "Traceback" not in err and "error: the report was stopped (SIGTERM) before it finished" in err
        assert _processes_of(marker) == []  # no worker, no kernel
        assert not (out / "2017-11-15").exists()
        return
    kept = out / "2017-11-15.incomplete"
    assert (f"error: the report was stopped (SIGTERM) before it finished; no {out / '2017-11-15'} was written; "
            f"what it had written is in {kept} (not for sharing; the next run replaces it).") in err
    assert "Traceback" not in err
    assert _processes_of(marker) == []  # no worker, no kernel, nothing still writing
    assert sorted(p.name for p in out.iterdir()) == ["2017-11-15.incomplete"]
    assert (kept / "analyst" / "tables" / "incidents_full.csv").is_file()  # written before the notebooks started
    if packed:  # the pack, when it was made before SIGTERM, is kept too
        assert (kept / "shared" / "meeting_pack.pdf").is_file()
    time.sleep(1.5)  # and nothing is written after the report has gone
    assert sorted(p.name for p in out.iterdir()) == ["2017-11-15.incomplete"]


def _shared_table(path: Path) -> list[dict]:
    """A shared table CSV read back: the rows between the title line and the blank line before the footer."""
    import csv

    lines = path.read_text(encoding="utf-8").splitlines()
    body = lines[1:lines.index("")]
    return list(csv.DictReader(io.StringIO("\n".join(body))))


def test_tables_charts_and_findings_agree_one_direction_one_q(report):
    """Issue 12: read back from the shared files, the incident table, the key-indicators chart, the pack's key
    table and the findings give the same numbers, change = after minus before, and one q per row."""
    import pandas as pd

    from analysis.scheme.codebook import load_codebook

    folder, _, _ = report
    shared = folder / "shared"
    change = "Change, after minus before (percentage points)"
    tables = {name: _shared_table(shared / "tables" / f"{name}.csv") for name in ("incidents", "persons_sellers")}
    for rows in tables.values():
        assert change in rows[0] and "N = " in list(rows[0])[2]  # N in the column headers
        labels = [r["Variable"] for r in rows if r["Variable"]]
        assert len(labels) == len(set(labels))  # labels unique within a table
    by_label = {(name, r["Variable"]): r for name, rows in tables.items() for r in rows if r["Variable"]}
    cb = load_codebook()
    chart = pd.read_csv(shared / "figures" / "key_indicators.csv", dtype=str, keep_default_na=False)
    compared = 0
    for _, c in chart[chart["q_value"] != ""].iterrows():
        name = "persons_sellers" if c["indicator"] == "hiv_charge" else "incidents"
        label = next((d.label for t in ("incidents", "persons") for d in cb.derived[t] if d.name == c["indicator"]),
                     None) or cb.variable("incidents", c["indicator"]).label
        row = by_label[(name, label)]
        q = float(c["q_value"])
        assert row["q"] == ("<0.001" if q < 0.001 else f"{q:.3f}"), label  # the same q in chart and table
        assert row[change].split(" ")[0] == f"{float(c['diff_pp']):+.1f}", label  # after minus before in both
        if c["change"] in ("higher after", "lower after"):  # a clear change is named by its sign
            assert (float(c["diff_pp"]) > 0) == (c["change"] == "higher after"), label
        compared += 1
    assert compared >= 5
    screened = by_label[("incidents", "Screened for trafficking")]
    assert screened[change].startswith("+")  # screening rose: the change is positive
    # the pack's key table is rows of the standard table: its q-values are the standard table's
    [(_, publication)] = PUBLISHED["2017-11-15"]
    items = {item.path: item.source for item in publication.tables}
    key, full = items["tables/key_0"].rows, items["tables/incidents"].rows
    merged = key.merge(full, on=["column", "level"], suffixes=("_key", "_full"))
    assert len(merged) == len(key)
    assert merged["q_value_key"].equals(merged["q_value_full"])
    # every 'a of N' of a finding is a shown cell 'a/N' of a shared table; findings and data quality are shared
    found = pd.read_csv(shared / "findings.csv", dtype=str, keep_default_na=False)
    assert list(found["id"]) == [q.id for q in cb.questions]
    all_tables = "".join(p.read_text(encoding="utf-8") for p in (shared / "tables").glob("*.csv"))
    pairs = [(a, n) for text in found["finding"] for a, n in re.findall(r"(\d[\d,]*) of (\d[\d,]*)", text)]
    assert pairs and all(f"{a.replace(',', '')}/{n.replace(',', '')} (" in all_tables for a, n in pairs)
    assert (shared / "findings.md").is_file() and (shared / "data_quality.csv").is_file()


def test_the_shared_model_note_does_not_say_a_cell_is_below_five():
    """issue 11: 'a cell has fewer than five events' says that some cell is 0 to 4; the shared note says 'sparse'."""
    from analysis.report.texts import model_note

    note = model_note("Screened for trafficking", "Fit: Firth's bias-reduced logistic regression with profile "
                      "penalised-likelihood intervals and penalised likelihood-ratio p-values, because a period x unit "
                      "cell has fewer than five events or non-events.")
    assert note == ("Model (Screened for trafficking): Fit: Firth's bias-reduced logistic regression with profile "
                    "penalised-likelihood intervals and penalised likelihood-ratio p-values, because a period x unit "
                    "cell is sparse (few events or non-events).")
