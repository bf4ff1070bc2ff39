"""The command line: exit codes, messages for people (never a traceback), outputs, determinism."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest

from analysis.cli.app import main

from .conftest import EXAMPLE, write_folder


@pytest.mark.parametrize("command", ["validate", "derive", "synth", "report", "tables"])
def test_every_command_has_help(command):
    out = subprocess.run([sys.executable, "-m", "analysis", command, "--help"], capture_output=True, text=True)
    assert out.returncode == 0
    assert out.stdout.startswith(f"usage: python -m analysis {command}")


def test_validate_example_exits_0(capsys):
    assert main(["validate", str(EXAMPLE)]) == 0
    assert "No errors: every row is valid." in capsys.readouterr().out


def test_validate_with_rejected_rows_exits_1_and_writes_problems(frames, tmp_path, capsys):
    frames["persons"].loc[0, "age"] = "200"
    folder = write_folder(frames, tmp_path / "in")
    assert main(["validate", str(folder), "--out", str(tmp_path / "out")]) == 1
    out = capsys.readouterr().out
    # the person, and held back with it, their charge and their outcome
    assert "1 error(s) to fix in 1 row(s); 3 row(s) rejected in all (2 held back only because the report or person they belong to was rejected)." in out
    problems = pd.read_csv(tmp_path / "out" / "problems.csv", dtype=str, keep_default_na=False)
    assert problems[["table", "row", "variable", "value", "rule"]].values.tolist()[0] == [
        "persons", "2", "age", "200", "out_of_range"]
    rejected = pd.read_csv(tmp_path / "out" / "rejected" / "persons.csv", dtype=str)
    assert rejected["_row"].tolist() == ["2"] and "age: 200 is outside" in rejected["_reasons"][0]
    acct = pd.read_csv(tmp_path / "out" / "row_accounting.csv")
    assert (acct["input_rows"] == acct["valid_rows"] + acct["rejected_rows"]).all()


def test_unusable_input_exits_2_with_a_message_not_a_traceback(frames, tmp_path):
    folder = write_folder(frames, tmp_path / "in")
    (folder / "persons.csv").unlink()
    out = subprocess.run([sys.executable, "-m", "analysis", "validate", str(folder)], capture_output=True, text=True)
    assert out.returncode == 2
    assert "Traceback" not in out.stderr
    assert f"persons.csv: the persons table is missing; expected persons.csv in {folder}" in out.stderr


def test_bad_config_exits_2(tmp_path, capsys):
    cfg = tmp_path / "study.yaml"
    cfg.write_text("periods: nonsense\n")
    assert main(["validate", str(EXAMPLE), "--config", str(cfg)]) == 2
    assert f"error: {cfg}: study configuration is not valid" in capsys.readouterr().err


def test_missing_income_lookup_exits_2(tmp_path, capsys):
    assert main(["derive", str(EXAMPLE), "--out", str(tmp_path), "--income-lookup", str(tmp_path / "acs.csv")]) == 2
    assert "income lookup file not found" in capsys.readouterr().err


def test_derive_is_deterministic_and_writes_parquet_and_csv(tmp_path, capsys):
    for d in ("a", "b"):
        assert main(["derive", str(EXAMPLE), "--out", str(tmp_path / d)]) == 0
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    for name in ("incidents", "persons", "charges"):
        assert any(str(f) == f"{name}.parquet" for f in files) and any(str(f) == f"{name}.csv" for f in files)
    for f in files:
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes(), f
    out = capsys.readouterr().out
    assert "Buyer income strata: not available (no --income-lookup file given)." in out
    per = pd.read_parquet(tmp_path / "a" / "persons.parquet")
    assert len(per) == len(pd.read_csv(EXAMPLE / "persons.csv"))
    assert str(per["period"].dtype) == "category"


def test_manifest_records_inputs_and_synthetic_flag(tmp_path, capsys):
    import json

    main(["derive", str(EXAMPLE), "--out", str(tmp_path)])
    m = json.loads((tmp_path / "manifest.json").read_text())
    assert m["synthetic_data"] is True
    assert sorted(m["inputs"]) == ["charges.csv", "incidents.csv", "outcomes.csv", "persons.csv"]
    assert m["codebook_version"] == "2.0.0"
    assert m["rows"]["outcomes"] == {"input": 833, "valid": 833, "rejected": 0, "derived": 833}
    assert m["rows"]["incidents"] == {"input": 989, "valid": 989, "rejected": 0, "derived": 989}




# --- the derived folder is someone's work: not overwritten from other inputs without --force ----------------------


def _tree(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_derive_refuses_a_folder_made_from_other_inputs(frames, tmp_path, capsys):
    import json

    out = tmp_path / "derived"
    assert main(["derive", str(EXAMPLE), "--out", str(out)]) == 0
    before = _tree(out)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["input_path"] == "data/raw/example"  # relative to the project root
    folder = write_folder(frames, tmp_path / "other")
    capsys.readouterr()
    assert main(["derive", str(folder), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    h = manifest["inputs"]
    assert err.startswith(
        f"error: {out} holds derived data made from other inputs: data/raw/example (charges.csv sha256 "
        f"{h['charges.csv'][:12]}, incidents.csv sha256 {h['incidents.csv'][:12]}, outcomes.csv sha256 "
        f"{h['outcomes.csv'][:12]}, persons.csv sha256 {h['persons.csv'][:12]}); this run reads {folder} "
        "(charges.csv sha256 ")
    assert err.endswith("Deriving would overwrite it. To keep it, derive into another folder (--out DIR) or move it "
                        "away; to replace it, run again with --force.\n")
    assert _tree(out) == before  # nothing written
    assert main(["derive", str(folder), "--out", str(out), "--force"]) == 0
    assert json.loads((out / "manifest.json").read_text())["input_path"] == str(folder)


def test_derive_refuses_the_same_files_from_another_path(tmp_path, capsys):
    import shutil

    out = tmp_path / "derived"
    copy = shutil.copytree(EXAMPLE, tmp_path / "copy", ignore=shutil.ignore_patterns("*.xlsx", "second_coder"))
    assert main(["derive", str(EXAMPLE), "--out", str(out)]) == 0
    assert main(["derive", str(copy), "--out", str(out)]) == 2
    assert f"error: {out} holds derived data made from other inputs: data/raw/example (" in capsys.readouterr().err


def test_derive_again_from_the_same_inputs_overwrites_with_the_same_bytes(tmp_path):
    out = tmp_path / "derived"
    assert main(["derive", str(EXAMPLE), "--out", str(out)]) == 0
    before = _tree(out)
    # the same folder given as a relative path is the same input
    import os

    cwd = os.getcwd()
    os.chdir(EXAMPLE.parents[2])
    try:
        assert main(["derive", "data/raw/example", "--out", str(out)]) == 0
    finally:
        os.chdir(cwd)
    assert _tree(out) == before


def test_derive_refuses_a_folder_with_files_but_no_manifest(tmp_path, capsys):
    out = tmp_path / "derived"
    (out / "notes").mkdir(parents=True)
    (out / "README.md").write_text("what this folder is\n")  # a README alone is not anyone's work
    assert main(["derive", str(EXAMPLE), "--out", str(out)]) == 0
    (out / "manifest.json").unlink()
    (out / "notes" / "my_analysis.csv").write_text("x\n1\n")
    assert main(["derive", str(EXAMPLE), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err == (f"error: {out} already holds files (charges.csv, charges.parquet, incidents.csv, "
                   "incidents.parquet, notes/my_analysis.csv and 15 more) but no manifest.json, so what they were "
                   "made from is not known; they may be someone's work and this run would overwrite them. To keep "
                   "it, derive into another folder (--out DIR) or move it away; to replace it, run again with "
                   "--force.\n")
    assert main(["derive", str(EXAMPLE), "--out", str(out), "--force"]) == 0
    assert (out / "notes" / "my_analysis.csv").read_text() == "x\n1\n"  # --force overwrites, never deletes


def test_report_refuses_a_derived_folder_from_other_inputs(frames, tmp_path, capsys):
    derived = tmp_path / "derived"
    assert main(["derive", str(write_folder(frames, tmp_path / "other")), "--out", str(derived)]) == 0
    before = _tree(derived)
    capsys.readouterr()
    assert main(["report", str(EXAMPLE), "--out", str(tmp_path / "reports"), "--derived", str(derived),
                 "--no-notebooks"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {derived} holds derived data made from other inputs: {tmp_path / 'other'} (")
    assert "To keep it, derive into another folder (report --derived DIR) or move it away; to replace it, run " \
           "again with --force." in err
    assert _tree(derived) == before
    assert not (tmp_path / "reports").exists() or not any((tmp_path / "reports").iterdir())  # no pack, no temp


@pytest.mark.parametrize("weighted", [True, False])
def test_a_weighted_report_warns_what_its_protection_does_not_cover(weighted, tmp_path, monkeypatch,
                                                                                 capsys):
    """What the protection of the weighted estimates covers and what it does not: a weighted run says so last,
    beside what to share; an unweighted run does not."""
    import types

    import analysis.cli.report as report_cli
    from analysis.tables.compare import weighted_disclosure_warning

    frame = tmp_path / "frame.csv"
    frame.write_text("year,reports\n2009,1468\n2010,1299\n2014,449\n2015,369\n")
    done = types.SimpleNamespace(breakdown=lambda: "", notes=[], synthetic=True, folder=tmp_path / "x", exit_code=0)
    monkeypatch.setattr(report_cli, "_run", lambda *a: done)
    assert main(["report", str(EXAMPLE), "--out", str(tmp_path / "reports"), "--no-notebooks"]
                + (["--frame", str(frame)] if weighted else [])) == 0
    out = capsys.readouterr().out
    warning = weighted_disclosure_warning(5)
    assert warning.startswith("warning: weighted tables (--frame): ") and "from 1 to 4 in a sampled year" in warning
    assert out.endswith("it holds unsuppressed tables.\n" + (warning + "\n" if weighted else ""))


def test_report_reads_the_sampling_frame_before_any_work(tmp_path, capsys):
    assert main(["report", str(EXAMPLE), "--out", str(tmp_path / "reports"), "--derived", str(tmp_path / "derived"),
                 "--frame", str(tmp_path / "frame.csv"), "--no-notebooks"]) == 2
    captured = capsys.readouterr()
    assert f"error: {tmp_path / 'frame.csv'}: sampling frame file not found" in captured.err
    assert "Meeting pack from" not in captured.out
    assert not (tmp_path / "reports").exists() and not (tmp_path / "derived").exists()  # nothing derived, no pack


# --- start-up and exit (issue 15): a command imports pandas only when it needs it, and leaves without teardown --


def _child(code: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True)


def test_start_up_and_the_engine_import_no_pandas():
    """The parser of every command, and the public record's engine, import without pandas (nor numpy): the
    engine's scan starts first and pandas is imported beside it (analysis.cli.public.PANDAS_IMPORTS)."""
    out = _child("import sys\n"
                 "import analysis.cli.app as app\n"
                 "app.build_parser()\n"
                 "import analysis.public.engine, analysis.public.forms\n"
                 "print(sorted(m for m in ('pandas', 'numpy', 'scipy', 'matplotlib') if m in sys.modules))")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_the_version_is_read_only_when_asked_for():
    """Building the parser reads no installed distribution's metadata (about 0.05 s at every command's start);
    ``--version`` reads it, and prints as argparse's own action: on stdout, exit 0."""
    import analysis

    out = _child("import sys\n"
                 "import analysis.cli.app as app\n"
                 "app.build_parser()\n"
                 "print('importlib.metadata' in sys.modules)")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"
    got = subprocess.run([sys.executable, "-m", "analysis", "--version"], capture_output=True, text=True)
    assert (got.returncode, got.stdout, got.stderr) == (0, f"python -m analysis {analysis.__version__}\n", "")


def test_numpy_f2py_runs_only_when_something_of_it_is_used():
    """SciPy's ``from numpy import *`` imports numpy.f2py (numpy.__all__ lists it); after ``import analysis`` that
    import gives the module unexecuted, and it runs in full when used."""
    loaded = "print('numpy.f2py.crackfortran' in sys.modules)\n"
    without = _child("import sys, scipy.sparse\n" + loaded)
    assert without.returncode == 0 and without.stdout.split() == ["True"], without.stderr  # what is avoided
    out = _child("import sys, analysis, scipy.sparse, numpy\n" + loaded +
                 "print('numpy.f2py' in sys.modules)\n"
                 "print(numpy.f2py.get_include().endswith('src'))\n" + loaded)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False", "True", "True", "True"]


def test_the_version_is_read_when_asked_for():
    out = _child("import analysis\n"
                 "print('__version__' in vars(analysis))\n"
                 "from analysis import __version__\n"
                 "import importlib.metadata as m\n"
                 "print(__version__ == m.version('sfpd-vice-svu-analysis'), '__version__' in vars(analysis))\n"
                 "print(hasattr(analysis, 'no_such_name'))")
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False", "True", "True", "False"]


def test_the_public_package_exports_load_on_first_use():
    import analysis.public as public

    assert public.__all__ == [  # what the package exported when it imported every module at once
        "FORMATS", "SHARED_FILES", "STANDARD_COLUMNS", "classify", "compare_years", "count", "counting_unit",
        "describe_sources", "description_counts", "detect_format", "district_counts", "draw_sample",
        "frame_lower_bound", "frame_sizes", "frame_table", "load_public", "load_shared_folder", "mapping_table",
        "monthly_counts", "parse_public", "per_year", "resolution_counts", "sampling_frame", "select_prostitution",
        "share_table", "shared_folder_problems", "unknown_descriptions", "with_shares"]
    assert set(public.__all__) <= set(dir(public))
    assert all(callable(getattr(public, n)) or isinstance(getattr(public, n), (dict, tuple, list))
               for n in public.__all__)
    from analysis.public import FORMATS, detect_format, load_public, monthly_counts  # noqa: F401 - each resolves
    from analysis.public.forms import detect_format as forms_detect
    from analysis.public.load import detect_format as load_detect

    assert detect_format is forms_detect is load_detect  # one function, also where it used to live
    with pytest.raises(AttributeError, match="has no attribute 'no_such_name'"):
        public.no_such_name  # noqa: B018


_RUN_MAIN = ("import atexit, runpy, sys\n"
             "atexit.register(lambda: print('atexit function ran', file=sys.stderr))\n"
             "sys.argv = ['analysis'] + sys.argv[1:]\n"
             "runpy.run_module('analysis', run_name='__main__')\n")


def test_a_command_leaves_with_its_exit_code_after_the_atexit_functions_and_flushed_output(tmp_path):
    bad = tmp_path / "empty.csv"
    bad.write_text("")
    out = _child(_RUN_MAIN, "public", "frame", str(bad))
    assert out.returncode == 2
    assert out.stderr.splitlines()[-1] == "atexit function ran"
    assert "empty.csv" in out.stderr and "Traceback" not in out.stderr
    done = _child(_RUN_MAIN, "manual", "--out", str(tmp_path / "manual.md"))
    assert done.returncode == 0, done.stderr
    assert done.stdout.endswith(f"to {tmp_path / 'manual.md'}\n")  # the last line printed, flushed to the pipe
    assert done.stderr == "atexit function ran\n"
    assert (tmp_path / "manual.md").read_text(encoding="utf-8").startswith("#")
