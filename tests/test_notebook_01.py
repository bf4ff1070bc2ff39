"""notebooks/01_coding_quality.ipynb: saved clean; shows the expected values on the shipped example (checked on the
report's executed copy, tests/test_report.py: :func:`shows_the_example`); run standalone without a second coding it
validates the main coding and says reliability needs one."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pandas as pd

from .conftest import notebook_text, run_notebook

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOK = NOTEBOOKS / "01_coding_quality.ipynb"


def test_notebook_is_saved_clean_with_a_parameters_cell():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    assert nb.nbformat == 4
    first = nb.cells[0]
    assert first.cell_type == "code" and "parameters" in first.metadata.get("tags", [])
    for name in ("data_dir", "second_coder_dir", "n_boot = None", "seed = None"):  # None: the study configuration's
        assert name in first.source
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None
    # thin: only package functions, no paths typed in
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert "data/raw" not in code and "def " not in code


def shows_the_example(text: str) -> None:
    """What the notebook shows on the shipped example (the report's executed copy: tests/test_report.py)."""
    assert "Traceback" not in text
    assert "SYNTHETIC DATA" in text
    # the main coding's row accounting: 989 incident reports, all valid
    assert "Main coding example: 989 incident reports read, 989 valid, 0 rejected" in text
    assert re.search(r"incidents\s+989\s+989\s+0", text)
    assert re.search(r"persons\s+1457\s+1457\s+0", text)
    assert "0 problem(s) found in the main coding" in text
    assert "Second coding second_coder: 198 incident reports read, 198 valid, 0 rejected; 0 problem(s)" in text
    # the second coding has no outcomes table (optional): a note, not a problem
    assert "Note: there is no outcomes table. Prosecution outcomes are optional" in text
    assert "Codings compared: main coding, second coding; 198 double-coded reports" in text  # not by coder id
    # the retraining list holds the variables built to be unreliable / tentative, not the reliable ones
    line = next(x for x in text.splitlines() if x.startswith("Variables to retrain: "))
    retrain = set(line.removeprefix("Variables to retrain: ").split(", "))
    assert {"condoms_evidence", "interpreter_mode", "trafficking_indicators", "origin",
            "trafficking_assessment"} <= retrain
    assert not retrain & {"district", "report_year", "role", "age"}
    assert "incidents.condoms_evidence: alpha 0.618 (unreliable)" in text
    assert "incidents.origin: alpha 0.759 (tentative)" in text
    assert re.search(r"\d+ disagreement\(s\) on \d+ double-coded report\(s\)", text)
    # no person codes in the notebook's outputs
    assert "SYN-P" not in text


def test_without_a_second_coding_it_validates_the_main_coding_and_says_reliability_needs_one(frames, tmp_path):
    """Real data often has no second_coder/ yet: the notebook (and so `make report`) must not fail on it."""
    from .conftest import write_folder

    data = write_folder(frames, tmp_path / "coded")
    nb = run_notebook("01_coding_quality", data_dir=str(data), second_coder_dir=str(data / "second_coder"), n_boot=20)
    text = notebook_text(nb)
    assert "ERROR" not in text and "Traceback" not in text
    assert "Main coding coded: 24 incident reports read, 24 valid, 0 rejected" in text
    assert "0 problem(s) found in the main coding" in text
    assert ("NO SECOND CODING: there is no folder second_coder/ beside the main coding, so inter-coder reliability "
            "cannot be assessed: reliability needs a second coding of the double-coding sample.") in text
    assert "Codings compared" not in text and "Variables to retrain" not in text


def test_the_reports_reliability_named_by_role_is_what_the_notebook_computes_by_hand(frames, cb, cfg, tmp_path):
    """Run by the report, the notebook shows the report's stage 2 with the codings named by role
    (``Reliability.named``); run by hand it computes stage 2 with those names. Both give the same tables."""
    from analysis.intake.load import load_coded_tables
    from analysis.report import pipeline

    from .conftest import write_folder

    main = pipeline.validate_derive(load_coded_tables(write_folder(frames, tmp_path / "main"), cb), cb,
                                    cfg).validation.valid
    inc = frames["incidents"]
    inc.loc[0, "district"] = next(d for d in inc["district"] if d != inc.loc[0, "district"])  # one disagreement
    second = load_coded_tables(write_folder(frames, tmp_path / "second"), cb)
    by_hand = pipeline.reliability(main, second, cb, cfg, n_boot=20, seed=5, names=("main coding", "second coding"))
    report = pipeline.reliability(main, second, cb, cfg, n_boot=20, seed=5)
    assert report.names != by_hand.names  # the report names the codings by coder id
    shown = report.named(("main coding", "second coding"))
    assert shown.names == ("main coding", "second coding")
    pd.testing.assert_frame_equal(shown.table, by_hand.table)
    pd.testing.assert_frame_equal(shown.disagreements, by_hand.disagreements)
    assert list(shown.disagreements.columns[-2:]) == ["main coding", "second coding"]
    assert shown.disagreements[["table", "variable"]].values.tolist() == [["incidents", "district"]]
    assert report.disagreements.columns[-2:].tolist() == list(report.names)  # the report's own is unchanged
