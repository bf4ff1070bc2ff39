"""notebooks/05_published_headline.ipynb: saved clean and thin; runs headless on the shipped example and prints each
published statement beside the project's estimate."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from analysis.scheme.published import load_published

from .conftest import notebook_text, run_notebook

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "05_published_headline.ipynb"


def test_saved_clean_thin_with_a_parameters_cell():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    first = nb.cells[0]
    assert first.cell_type == "code" and "parameters" in first.metadata.get("tags", [])
    params: dict = {}
    exec(first.source, params)  # the parameters cell only sets values
    assert params["config_file"] is None and params["data_dir"].endswith("data/raw/example")
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert "def " not in code and "data/raw" not in code and "misclassification_model(" not in code
    assert "H.headline(" in code and "H.format_comparison(" in code  # the numbers come from the package


@pytest.fixture(scope="module")
def text():
    return notebook_text(run_notebook("05_published_headline"))


def test_prints_each_published_statement_beside_the_projects_estimate(text):
    prints_each_published_statement(text)


def test_the_estimates_on_the_example(text):
    shows_the_estimates_on_the_example(text)


def prints_each_published_statement(text: str) -> None:
    """What the notebook shows on the shipped example (standalone, and in the report's copy)."""
    assert "ERROR" not in text and "Traceback" not in text
    assert "SYNTHETIC DATA: these results come from the generated example" in text
    statements = load_published()
    assert len(statements) == 6
    for k, s in enumerate(statements, start=1):
        block = text[text.index(f"{k}. Published ({s.source}):"):]
        lines = block.splitlines()
        assert lines[1] == f"   {s.statement}"
        assert lines[2].startswith("   Project's estimate: ")
        assert lines[3].startswith("   Agrees: ")


def shows_the_estimates_on_the_example(text: str) -> None:
    """The example builds in more screening and SVU's over-labelling of massage inspections and buyer operations."""
    assert ("Project's estimate: screened: Vice 2009/10 83/495 (17%), SVU 2014/15 252/494 (51%); odds ratio SVU vs "
            "Vice 5.17 (95% CI 3.85 to 6.94).\n   Agrees: yes") in text
    # a district cell has 2 reports: Firth's fit, with its profile interval (issue 13), and the estimate says so
    assert ("correctly identified (specialised unit named): Vice 2009/10 28/42 (67%), SVU 2014/15 44/155 (28%); odds "
            "ratio SVU vs Vice 0.20 (95% CI 0.10 to 0.41); Firth's bias-reduced fit (sparse cells).\n"
            "   Agrees: yes") in text
    assert ("95 of the 155 reports labelled trafficking in SVU 2014/15 (specialised unit named) began as "
            "massage-establishment inspection or operation targeting buyers, 10 of them correctly") in text
    # the example does not build in 'no change among incidents with people selling sex', and says so
    assert ("incidents with a person selling sex (specialised unit named): Vice 2009/10 28/36 (78%), SVU 2014/15 "
            "44/104 (42%); odds ratio SVU vs Vice 0.22 (95% CI 0.09 to 0.50); Firth's bias-reduced fit "
            "(sparse cells).\n"
            "   Agrees: no") in text
    assert "SVU 2014/15: 5 of 50 cases the coder assessed as trafficking established began as decoy or sting" in text
    # the trafficking-labelled reports by how the case began: 61 of SVU's from operations targeting buyers, 2 correct
    assert re.search(r"police_initiated\s+Decoy or sting targeting sellers\s+8\s", text)
    assert re.search(r"Operation targeting buyers\s+2\s+61\s", text)
