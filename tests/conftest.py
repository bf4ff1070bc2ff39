"""Shared fixtures: the codebook, the study configuration, and small synthetic coded data; and the guard that
fails the run when any test wrote into the user's folders (data/derived/, reports/)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import pytest

from analysis.coders.synth import generate
from analysis.report.notebooks import skip_slow_imports
from analysis.scheme.codebook import load_codebook
from analysis.scheme.config import load_study_config, paths

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "data" / "raw" / "example"

# --- the user's folders are not the tests' ------------------------------------------------------------------

USER_FOLDERS = (ROOT / "data" / "derived", ROOT / "reports")
_offenders: list[str] = []


def user_folders_state(content: bool = True) -> dict[str, str]:
    """Every file and folder under data/derived/ and reports/: its SHA-256 (``content``) or size and mtime."""
    state = {}
    for top in USER_FOLDERS:
        if not top.exists():
            continue
        for p in sorted(top.rglob("*")):
            key = p.relative_to(ROOT).as_posix()
            if p.is_dir():
                state[key + "/"] = "folder"
            elif content:
                state[key] = hashlib.sha256(p.read_bytes()).hexdigest()
            else:
                st = p.stat()
                state[key] = f"{st.st_size}:{st.st_mtime_ns}"
    return state


def changed_paths(before: dict[str, str], after: dict[str, str]) -> list[str]:
    return sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    """Name the test (with its fixtures) that wrote into the user's folders."""
    before = user_folders_state(content=False)
    yield
    changed = changed_paths(before, user_folders_state(content=False))
    if changed:
        _offenders.append(f"{item.nodeid} ({', '.join(changed[:3])}{' ...' if len(changed) > 3 else ''})")


@pytest.fixture(scope="session", autouse=True)
def user_folders_untouched():
    """Tests never write into the user's data/derived/ or reports/ (a statistician's real derived data and packs
    live there): the bytes of both are the same after the session as before it. Tests write under tmp_path."""
    before = user_folders_state()
    yield
    changed = changed_paths(before, user_folders_state())
    if changed:
        pytest.fail("the tests changed the user's folders (write under tmp_path instead): "
                    + ", ".join(changed[:10]) + (" ..." if len(changed) > 10 else "")
                    + "; written by: " + ("; ".join(_offenders) or "a test that ran last"), pytrace=False)


@pytest.fixture(scope="session")
def cb():
    return load_codebook()


@pytest.fixture(scope="session")
def cfg():
    return load_study_config()


@pytest.fixture(scope="session")
def _small_frames():
    return generate(n_reports=24, seed=7)


@pytest.fixture
def frames(_small_frames):
    """A fresh copy of a small synthetic coding (24 reports) as text frames, safe to modify."""
    return {k: v.copy() for k, v in _small_frames.items()}


def write_folder(frames: dict[str, pd.DataFrame], folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, df in frames.items():
        df.to_csv(folder / f"{name}.csv", index=False, lineterminator="\n")
    return folder


@pytest.fixture
def shared_sfpd():
    d = paths().shared_sfpd
    if not d.is_dir():
        pytest.skip(f"shared SFPD data not found at {d} (it is present in CI)")
    return d


# --- notebooks --------------------------------------------------------------------------------------------

NOTEBOOKS = ROOT / "notebooks"

# nbformat validates through jsonschema, which would build rfc3987-syntax's grammar for seconds (issue 15); the
# notebook workers skip it, and so do the tests that read and run notebooks
skip_slow_imports()


def notebook_text(nb) -> str:
    """Everything a notebook's code cells printed or showed as text; an error's traceback starts 'ERROR'."""
    parts = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream":
                parts.append(out.get("text", ""))
            elif out.get("output_type") == "error":
                parts.append("ERROR " + "\n".join(out.get("traceback", [])))
            elif "data" in out:
                parts.append(out["data"].get("text/plain", ""))
    return "\n".join(parts)


def run_notebook(name: str, **params):
    """Execute notebooks/<name>.ipynb headless, as papermill would: a cell after the parameters cell sets
    ``params``; the working directory is notebooks/."""
    import nbformat
    from nbclient import NotebookClient

    from analysis.report.notebooks import KERNEL_ARGUMENTS

    nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    injected = "\n".join(f"{k} = {v!r}" for k, v in params.items())
    nb.cells.insert(1, nbformat.v4.new_code_cell("# injected parameters\n" + injected))
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS)}},
                   extra_arguments=list(KERNEL_ARGUMENTS)).execute()  # as the report runs them
    return nb


# --- the fast loop: `pytest -m "not slow"` (issue 15) -----------------------------------------------------------

# Tests that execute the notebooks or the whole report (directly or through these module fixtures), and the
# hostile-argument sweep of every command: the `slow` marker, so that `pytest -m "not slow"` is a loop of about a
# minute. `make test` runs them all.
SLOW_FIXTURES = {"report", "planted", "executed"}
SLOW_TESTS = {
    "test_without_a_second_coding_it_validates_the_main_coding_and_says_reliability_needs_one",
    "test_a_failed_run_leaves_the_earlier_pack_and_keeps_its_partial_output",
    "test_a_killed_report_leaves_no_workers_and_no_pack",
}
SLOW_MODULES = {"test_cli_hostile"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        module = item.module.__name__.rsplit(".", 1)[-1] if item.module else ""
        if (SLOW_FIXTURES & set(getattr(item, "fixturenames", ())) or item.originalname in SLOW_TESTS
                or module in SLOW_MODULES):
            item.add_marker(pytest.mark.slow)
