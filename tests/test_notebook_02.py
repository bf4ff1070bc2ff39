"""notebooks/02_before_after_tables.ipynb runs headless on the shipped example and shows the expected results."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from .conftest import notebook_text, run_notebook

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOK = NOTEBOOKS / "02_before_after_tables.ipynb"


def test_saved_clean_with_parameters():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    assert "parameters" in nb.cells[0].metadata.get("tags", [])
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert "data/raw" not in code and "def " not in code


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    out = tmp_path_factory.mktemp("nb02")
    return run_notebook("02_before_after_tables", n_boot=50, out_dir=str(out)), out


def says_synthetic_with_the_tables(text: str) -> None:
    """What the notebook shows on the shipped example (standalone, and in the report's copy: tests/test_report.py)."""
    assert "SYNTHETIC DATA: these results come from the generated example" in text
    assert re.search(r"incidents\s+989\s+989\s+0", text)  # the row accounting: read, valid, rejected
    assert "Screened for trafficking" in text


def shows_the_published_direction(text: str) -> None:
    assert "correctly_identified: correctly_identified ~" in text
    assert "screened_trafficking_yes: screened_trafficking_yes ~" in text


def test_runs_end_to_end_and_says_synthetic(executed):
    nb, out = executed
    says_synthetic_with_the_tables(notebook_text(nb))
    assert (out / "incidents.csv").is_file() and (out / "persons_sellers.html").is_file()


def test_model_shows_the_published_direction(executed):
    nb, _ = executed
    shows_the_published_direction(notebook_text(nb))
