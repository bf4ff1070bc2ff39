"""notebooks/04_november_meeting_charts.ipynb: saved clean and thin; runs headless on the shipped example, writes
every chart's PNG, PDF and CSV and shows the key numbers."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pandas as pd
import pytest

from .conftest import notebook_text, run_notebook

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOK = NOTEBOOKS / "04_november_meeting_charts.ipynb"
CHARTS = ["key_indicators", "case_origin", "charges_by_role", "people_by_role", "public_series", "districts"]


def test_saved_clean_thin_with_a_parameters_cell():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    first = nb.cells[0]
    assert first.cell_type == "code" and "parameters" in first.metadata.get("tags", [])
    for name in ("data_dir = str(paths().example)", "sfpd_dir = str(paths().shared_sfpd)", "out_dir", "n_boot"):
        assert name in first.source
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert "def " not in code and "data/raw" not in code and "shared/data" not in code
    assert "savefig" not in code and "subplots" not in code  # drawing and files belong to analysis.report.charts


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    from analysis.scheme.config import paths

    out = tmp_path_factory.mktemp("nb04") / "charts"
    nb = run_notebook("04_november_meeting_charts", out_dir=str(out), n_boot=50)
    public = (paths().shared_sfpd / "sfpd_prostitution_daily_2003_2015.csv").is_file()
    return nb, out, public


def shows_the_charts_numbers(nb, public: bool) -> None:
    """What the notebook shows on the shipped example (standalone, and in the report's copy)."""
    text = notebook_text(nb)
    assert "ERROR" not in text and "Traceback" not in text
    if public:
        assert "level_change_rr  0.616 [0.478, 0.795]" in text
        assert "5. public_series: SFPD's public prostitution records per month, 2003-2015" in text
    assert "SYNTHETIC DATA" in text
    assert "989 reports, 1,457 people" in text
    assert "1. key_indicators: Eight indicators, before and after the move to SVU" in text
    assert "condoms photographed or documented 44% before and 4% after" in text  # the chart's alt text
    assert "210" in text and "Condoms photographed or documented" in text  # the data behind chart 1
    images = sum(1 for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
                 if "image/png" in o.get("data", {}))
    assert images == (len(CHARTS) if public else len(CHARTS) - 1)  # each chart shown, as its slide PNG
    assert "SYN-P" not in text  # no person codes


def test_runs_and_writes_every_chart(executed):
    nb, out, public = executed
    text = notebook_text(nb)
    assert "ERROR" not in text and "Traceback" not in text
    names = CHARTS if public else [c for c in CHARTS if c != "public_series"]
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{n}.{e}" for n in names for e in ("png", "pdf", "csv"))
    for n in names:
        assert (out / f"{n}.png").stat().st_size > 50_000 and (out / f"{n}.pdf").read_bytes().startswith(b"%PDF")
    key = pd.read_csv(out / "key_indicators.csv", dtype=str, keep_default_na=False).set_index("indicator")
    condoms = key.loc["condoms_evidence_any", ["n_vice", "N_vice", "n_svu", "N_svu"]].tolist()
    assert condoms == ["210", "481", "17", "459"]
    if public:
        assert "level_change_rr  0.616 [0.478, 0.795]" in text
        assert "5. public_series: SFPD's public prostitution records per month, 2003-2015" in text


def test_shows_the_charts_and_the_numbers(executed):
    nb, _, public = executed
    shows_the_charts_numbers(nb, public)


def test_by_default_it_only_shows_the_charts():
    """Run interactively, the notebook writes no files (it used to write into the user's reports/charts)."""
    nb = nbformat.read(NOTEBOOK, as_version=4)
    source = nb.cells[0].source
    assert "reports" not in source
    params: dict = {}
    exec(source, params)  # the parameters cell only sets values
    assert params["out_dir"] is None
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert "if out_dir:" in code and "save_chart" not in code
