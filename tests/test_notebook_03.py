"""notebooks/03_public_incident_trends.ipynb: saved clean; runs headless on the real public files with the
expected values (standalone here; the report's executed copy shows the same: tests/test_report.py); without the
data folder it says so and stops without a traceback (the report's copy without the public folder,
tests/test_report.py)."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from .conftest import notebook_text, run_notebook

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOK = NOTEBOOKS / "03_public_incident_trends.ipynb"


def test_notebook_is_saved_clean_with_a_parameters_cell():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    first = nb.cells[0]
    assert first.cell_type == "code" and "parameters" in first.metadata.get("tags", [])
    assert "sfpd_dir = str(paths().shared_sfpd)" in first.source and "out_dir" in first.source
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert "def " not in code and "shared/data" not in code and "statsmodels" not in code  # thin
    md = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    for limitation in ("+12 h", "alternate weeks only", "no PIMPING, PANDERING or HUMAN TRAFFICKING",
                       "neither complete nor random", "2015 incomplete"):
        assert limitation in md


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    from analysis.scheme.config import paths

    d = paths().shared_sfpd
    if not d.is_dir():
        pytest.skip(f"shared SFPD data not found at {d} (it is present in CI)")
    out = tmp_path_factory.mktemp("nb03")
    return run_notebook("03_public_incident_trends", sfpd_dir=str(d), out_dir=str(out)), out


def shows_the_real_files(text: str) -> None:
    """What the notebook shows on the real public files (standalone, and in the report's copy)."""
    assert "ERROR" not in text and "Traceback" not in text
    assert "(5 files present)" in text
    # the sampling frame (PROVENANCE.md: incidents per year in the incident table)
    assert re.search(r"2009\s+vice\s+1136\s+2010\s+vice\s+910\s+2014\s+svu\s+259\s+2015\s+svu\s+216", text)
    assert re.search(r"2015\s+216\s+343\s+46", text)  # incidents, daily rows, Kaggle rows
    # the interrupted time series on the daily table
    assert "155 months 2003-01 to 2015-11; change 2011-10-17 (105 months before, 49 after)" in text
    assert "level_change_rr  0.616 [0.478, 0.795]" in text
    assert "slope_change_rr  0.985 [0.977, 0.994]" in text
    assert re.search(r"\(b\) rows / all rows level_change_rr\s+0.589\s+0.466\s+0.744", text)
    assert re.search(r"\(c\) incidents 2008-2015 level_change_rr\s+0.699\s+0.518\s+0.942", text)
    # before/after shares with n
    assert re.search(r"cited\s+874 \(62.6%\)\s+86 \(36.0%\)", text)
    assert re.search(r"trafficking\s+8 \(0.6%\)\s+30 \(12.6%\)", text)
    assert re.search(r"mission\s+903 \(64.7%\)\s+95 \(39.7%\)", text)
    assert "kaggle: 0 description(s) outside the mapping" in text
    # the comparison-method table: same counts, with its test
    assert "874/1396 (62.6%)" in text and "Holm" in text


def images_shown(nb) -> int:
    return len([o for c in nb.cells if c.cell_type == "code" for o in c.outputs if "image/png" in o.get("data", {})])


def test_notebook_on_the_real_files(executed):
    nb, out = executed
    shows_the_real_files(notebook_text(nb))
    # the figure ships with its data
    assert (out / "its_prostitution_rows.png").stat().st_size > 10_000
    assert (out / "its_prostitution_rows.csv").read_text().startswith("month,observed,fitted,counterfactual")
    assert images_shown(nb) == 2
