"""Every subcommand on hostile arguments: a message for people naming what is wrong, exit 1 or 2, never a traceback.

The subcommands are discovered from ``build_parser()``: a new command, or a new option of an old one, fails
``test_every_subcommand_and_option_is_covered`` until it is described in COMMANDS below. Each hostile case
replaces one argument of a small valid command line (24 synthetic reports, tiny public files) and runs
``main([...])`` in-process; one subprocess test proves ``python -m analysis`` itself prints no traceback.
"""

from __future__ import annotations

import argparse
import errno
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.cli import data as cli  # the data commands: validate (patched below) and its writer
from analysis.cli.app import build_parser, main

from .conftest import EXAMPLE, write_folder
from .test_public_frame import INCIDENTS

# --- what each argument is ------------------------------------------------------------------------------

CODED = "coded data (folder of CSV files or workbook)"
FILE_IN = "input file"
CONFIG = "study configuration YAML"
DIR_OUT = "output folder"
FILE_OUT = "output file"
NUMBER = "number"
TEXT = "text with a fixed form"
FLAG = "flag (nothing hostile to give)"
LATE = "read only after the long work (report): not run here"


@dataclass
class Cmd:
    base: dict[str, object]  # dest -> a valid value (list for nargs='+'; True for a flag)
    kinds: dict[str, str]  # dest -> one of the kinds above
    bad: dict[str, list[str]] = field(default_factory=dict)  # NUMBER / TEXT dest -> hostile values
    out_suffix: str = ".csv"  # FILE_OUT: the file name ending the command expects


COMMON_BAD = {"max_listed": ["-1"], "n_boot": ["-1", "0"]}

COMMANDS: dict[tuple[str, ...], Cmd] = {
    ("validate",): Cmd({"path": "{coded}"},
                       {"path": CODED, "out": DIR_OUT, "config": CONFIG, "max_listed": NUMBER}),
    ("derive",): Cmd({"path": "{coded}", "out": "{tmp}/derived"},
                     {"path": CODED, "out": DIR_OUT, "income_lookup": FILE_IN, "force": FLAG, "config": CONFIG,
                      "max_listed": NUMBER}),
    ("synth",): Cmd({"out": "{tmp}/synth", "reports": "12", "no_xlsx": True},
                    {"out": DIR_OUT, "reports": NUMBER, "seed": NUMBER, "no_xlsx": FLAG, "no_second_coder": FLAG},
                    {"reports": ["0", "-5"], "seed": ["-1"]}),
    ("report",): Cmd({"path": "{coded}", "out": "{tmp}/reports", "derived": "{tmp}/derived",
                      "run_date": "2017-11-15", "no_notebooks": True, "n_boot": "20"},
                     {"path": CODED, "out": DIR_OUT, "derived": DIR_OUT, "force": FLAG, "sfpd_dir": LATE, "frame": LATE, "run_date": TEXT,
                      "n_boot": NUMBER, "no_notebooks": FLAG, "config": CONFIG, "max_listed": NUMBER,
                      "meeting": TEXT, "meeting_date": TEXT, "income_lookup": FILE_IN},
                     {"run_date": ["../escape", "a/b", "/tmp", ".", ""], "meeting": ["", "two\nlines"],
                      "meeting_date": [" ", "x" * 121]}),
    ("tables",): Cmd({"path": "{coded}", "out": "{tmp}/tables", "n_boot": "20"},
                     {"path": CODED, "out": DIR_OUT, "frame": FILE_IN, "n_boot": NUMBER, "config": CONFIG,
                      "max_listed": NUMBER, "income_lookup": FILE_IN}),
    ("questions",): Cmd({"path": "{coded}", "n_boot": "20"},
                        {"path": CODED, "scheme_only": FLAG, "income_lookup": FILE_IN, "frame": FILE_IN,
                         "n_boot": NUMBER, "config": CONFIG, "max_listed": NUMBER}),
    ("template",): Cmd({"out": "{tmp}/template.xlsx", "rows": "3"},
                       {"out": FILE_OUT, "rows": NUMBER, "config": CONFIG}, {"rows": ["1", "-3"]},
                       out_suffix=".xlsx"),
    ("redcap-dictionary",): Cmd({"out": "{tmp}/dictionary.csv"}, {"out": FILE_OUT, "config": CONFIG}),
    ("import-redcap",): Cmd({"export": "{redcap}", "out": "{tmp}/imported"},
                            {"export": FILE_IN, "out": DIR_OUT, "config": CONFIG, "max_listed": NUMBER}),
    ("manual",): Cmd({"out": "{tmp}/codebook.md"}, {"out": FILE_OUT, "check": FLAG}, out_suffix=".md"),
    ("reliability", "sample"): Cmd({"path": "{coded}", "out": "{tmp}/sample.csv", "min": "3"},
                                   {"path": CODED, "fraction": NUMBER, "min": NUMBER, "seed": NUMBER,
                                    "out": FILE_OUT, "config": CONFIG},
                                   {"fraction": ["2", "0", "-0.5", "nan", "inf"], "min": ["-1"], "seed": ["-1"]}),
    ("reliability", "report"): Cmd({"codings": ["{coded}", "{coded2}"], "out": "{tmp}/rel", "n_boot": "20"},
                                   {"codings": CODED, "out": DIR_OUT, "n_boot": NUMBER, "seed": NUMBER,
                                    "config": CONFIG}, {"seed": ["-1"]}),
    ("public", "fetch"): Cmd({"out": "{tmp}/fetched.json", "since": "2011", "until": "2012"},
                             {"out": FILE_OUT, "since": NUMBER, "until": NUMBER, "page_size": NUMBER},
                             {"since": ["1990"], "until": ["2030"], "page_size": ["0", "-1"]}, out_suffix=".json"),
    ("public", "trends"): Cmd({"path": "{daily}", "out": "{tmp}/trends"},
                              {"path": FILE_IN, "out": DIR_OUT, "offset": FILE_IN, "start": TEXT, "end": TEXT,
                               "se": TEXT, "harmonics": NUMBER, "config": CONFIG},
                              {"start": ["2011-13", "junk"], "end": ["junk"], "se": ["bogus"],
                               "harmonics": ["-1", "99"]}),
    ("public", "tables"): Cmd({"path": "{incidents}", "out": "{tmp}/ptables"},
                              {"path": FILE_IN, "out": DIR_OUT, "config": CONFIG}),
    ("public", "frame"): Cmd({"path": "{incidents}", "out": "{tmp}/frame.csv"},
                             {"path": FILE_IN, "out": FILE_OUT, "config": CONFIG}),
    ("public", "convert"): Cmd({"path": "{incidents}", "out": "{tmp}/incidents.parquet"},
                               {"path": FILE_IN, "out": FILE_OUT}, out_suffix=".parquet"),
    ("public", "draw-sample"): Cmd({"frame": "{incidents}", "per_year": "2", "seed": "1", "out": "{tmp}/draw.csv"},
                                   {"frame": FILE_IN, "per_year": NUMBER, "seed": NUMBER, "years": TEXT,
                                    "out": FILE_OUT, "config": CONFIG},
                                   {"per_year": ["0"], "seed": ["-1"], "years": ["abc"]}),
    ("audit-disclosure",): Cmd({"shared_dir": "{coded}"}, {"shared_dir": CODED, "out": FILE_OUT, "config": CONFIG},
                               out_suffix=".txt"),
}
GLOBAL_FLAGS = {"debug"}  # options every subcommand has


def leaf_commands(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()):
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        yield prefix, parser
        return
    for name, sp in subs[0].choices.items():
        yield from leaf_commands(sp, prefix + (name,))


LEAVES = dict(leaf_commands(build_parser()))


def _options(parser) -> dict[str, argparse.Action]:
    return {a.dest: a for a in parser._actions if not isinstance(a, (argparse._HelpAction,))}


def test_every_subcommand_and_option_is_covered():
    assert set(LEAVES) == set(COMMANDS), "describe the new subcommand's arguments in COMMANDS"
    for name, parser in LEAVES.items():
        assert GLOBAL_FLAGS <= set(_options(parser)), f"{' '.join(name)}: --debug missing"
        dests = set(_options(parser)) - GLOBAL_FLAGS
        assert dests == set(COMMANDS[name].kinds), f"{' '.join(name)}: classify every option in COMMANDS"
        for dest, kind in COMMANDS[name].kinds.items():
            if kind in (NUMBER, TEXT):
                assert COMMANDS[name].bad.get(dest) or COMMON_BAD.get(dest), f"{name} {dest}: no hostile value"


def test_the_covered_list():
    """The subcommands this file covers, spelled out (the report lists them)."""
    assert sorted(" ".join(k) for k in LEAVES) == [
        "audit-disclosure", "derive", "import-redcap", "manual", "public convert", "public draw-sample", "public fetch",
        "public frame", "public tables", "public trends", "questions", "redcap-dictionary", "reliability report",
        "reliability sample",
        "report", "synth", "tables", "template", "validate"]


# --- the inputs, good and hostile -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def good(tmp_path_factory, _small_frames):
    """Small valid inputs every command can run on."""
    from analysis.coders.redcap_dictionary import data_dictionary, records_export
    from analysis.scheme.codebook import load_codebook

    d = tmp_path_factory.mktemp("good")
    frames = {k: v.copy() for k, v in _small_frames.items()}
    write_folder(frames, d / "coded")
    write_folder(frames, d / "coded2")
    cb = load_codebook()
    (d / "redcap.csv").write_bytes(records_export(frames, data_dictionary(cb), cb)
                                   .to_csv(index=False, lineterminator="\n").encode())
    (d / "Incident_table.csv").write_text(INCIDENTS, encoding="utf-8")
    days = pd.date_range("2009-01-01", "2013-12-31", freq="D")
    pd.DataFrame({"i": range(1, len(days) + 1), "Date": days.strftime("%Y-%m-%d"),
                  "Solved": np.where(days >= pd.Timestamp("2011-10-17"), 2, 4), "Not Solved": 0}).to_csv(
        d / "daily.csv", index=False)
    return {"coded": d / "coded", "coded2": d / "coded2", "redcap": d / "redcap.csv",
            "incidents": d / "Incident_table.csv", "daily": d / "daily.csv"}


HOSTILE = {
    CODED: ["missing", "empty-file", "binary-file", "text-file-not-folder", "fake-workbook", "junk-folder",
            "unreadable"],
    FILE_IN: ["missing", "folder-not-file", "empty-file", "binary-file", "garbage-text", "unreadable"],
    CONFIG: ["missing", "folder-not-file", "empty-file", "binary-file", "garbage-text", "unreadable",
             "invalid-yaml", "wrong-yaml"],
    DIR_OUT: ["existing-file", "under-a-file"],
    FILE_OUT: ["existing-folder", "under-a-file", "disk-full"],
}


def make_hostile(kind: str, case: str, zoo: Path, suffix: str) -> tuple[str, str]:
    """Make the hostile input ``case`` under ``zoo``: (the argument's value, what the message must name)."""
    zoo.mkdir(exist_ok=True)
    if case == "missing":
        return str(zoo / "does_not_exist"), "does_not_exist"
    if case == "empty-file":
        (zoo / "empty.csv").write_bytes(b"")
        return str(zoo / "empty.csv"), "empty.csv"
    if case == "binary-file":
        (zoo / "binary.bin").write_bytes(bytes(range(256)) * 8)
        return str(zoo / "binary.bin"), "binary.bin"
    if case == "text-file-not-folder":
        (zoo / "notes.txt").write_text("just some notes\n")
        return str(zoo / "notes.txt"), "notes.txt"
    if case == "garbage-text":
        (zoo / "garbage.csv").write_text('this;is\n"not, a table\n\x01\x02,,,\n')
        return str(zoo / "garbage.csv"), "garbage.csv"
    if case == "fake-workbook":
        (zoo / "fake.xlsx").write_text("not really a workbook\n")
        return str(zoo / "fake.xlsx"), "fake.xlsx"
    if case in ("junk-folder", "folder-not-file"):
        junk = zoo / "junk_dir"
        junk.mkdir()
        (junk / "incidents.csv").write_bytes(b"\x00\xff\xfe junk")
        (junk / "persons.csv").write_bytes(b"")
        (junk / "readme.txt").write_text("nothing here\n")
        return str(junk), "junk_dir"
    if case == "invalid-yaml":
        (zoo / "bad.yaml").write_text("periods: [unclosed\n  - x: {\n")
        return str(zoo / "bad.yaml"), "bad.yaml"
    if case == "wrong-yaml":
        (zoo / "wrong.yaml").write_text("periods: nonsense\n")
        return str(zoo / "wrong.yaml"), "wrong.yaml"
    if case == "unreadable":
        if kind == CODED:  # a folder whose incidents.csv cannot be read
            write_folder({"incidents": pd.DataFrame({"a": ["1"]})}, zoo / "locked_folder")
            locked, value = zoo / "locked_folder" / "incidents.csv", zoo / "locked_folder"
        else:
            locked = value = zoo / "locked.csv"
            locked.write_text("year,reports\n2009,1\n")
        locked.chmod(0)
        try:
            locked.read_bytes()
        except PermissionError:
            return str(value), locked.name
        pytest.skip("this user (root?) can read a file with mode 000")
    if case == "existing-file":
        (zoo / "existing_file.txt").write_text("keep me\n")
        return str(zoo / "existing_file.txt"), "existing_file.txt"
    if case == "under-a-file":
        (zoo / "existing_file.txt").write_text("keep me\n")
        sub = "sub" if kind == DIR_OUT else f"x{suffix}"
        return str(zoo / "existing_file.txt" / sub), "existing_file.txt"
    if case == "existing-folder":
        (zoo / f"existing_dir{suffix}").mkdir()
        return str(zoo / f"existing_dir{suffix}"), f"existing_dir{suffix}"
    if case == "disk-full":
        if not Path("/dev/full").exists():
            pytest.skip("no /dev/full on this system")
        return "/dev/full", "/dev/full"
    raise AssertionError(case)


def argv_for(name: tuple[str, ...], values: dict[str, object]) -> list[str]:
    parser = LEAVES[name]
    argv = list(name)
    for dest, action in _options(parser).items():
        if dest not in values:
            continue
        v = values[dest]
        if not action.option_strings:
            argv += v if isinstance(v, list) else [v]
        elif isinstance(action, argparse._StoreTrueAction):
            argv += [action.option_strings[-1]] if v else []
        else:
            argv += [action.option_strings[-1]] + (v if isinstance(v, list) else [v])
    return argv


def _cases():
    for name, cmd in COMMANDS.items():
        for dest, kind in cmd.kinds.items():
            if kind in (NUMBER, TEXT):
                for v in cmd.bad.get(dest, COMMON_BAD.get(dest, [])):
                    yield pytest.param(name, dest, kind, v, id=f"{'-'.join(name)}--{dest}={v or 'EMPTY'}")
            elif kind in HOSTILE:
                for case in HOSTILE[kind]:
                    yield pytest.param(name, dest, kind, case, id=f"{'-'.join(name)}--{dest}-{case}")


class _DidWork(BaseException):
    """Raised if a report case gets past its early checks (it would run the whole pipeline)."""


def _offline(monkeypatch):
    """No network (``public fetch`` gets an empty page at once, so it goes on to write) and no debug output."""
    import io

    from analysis.public import fetch

    monkeypatch.setattr(fetch, "_default_opener", lambda request, timeout: io.BytesIO(b"[]"))
    monkeypatch.delenv("ANALYSIS_DEBUG", raising=False)


def _no_deriving(monkeypatch):
    """The report (and tables with a bad output folder) is only run with arguments that fail before any work:
    deriving would be a test failure."""
    from analysis.derive import variables as derive

    def did_work(*a, **k):
        raise _DidWork("the command ran past its argument checks")

    monkeypatch.setattr(derive, "derive", did_work)


def run(argv: list[str], capsys) -> tuple[int, str, str]:
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's own usage errors
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def _flag(name: tuple[str, ...], dest: str) -> str:
    """How a message names an option: its flag (``--n-boot``)."""
    return _options(LEAVES[name])[dest].option_strings[-1]


@pytest.mark.parametrize(("name", "dest", "kind", "value"), list(_cases()))
def test_hostile_argument(name, dest, kind, value, good, tmp_path, capsys, monkeypatch):
    cmd = COMMANDS[name]
    _offline(monkeypatch)
    if name == ("report",) or (name == ("tables",) and kind == DIR_OUT):  # refused before any work
        _no_deriving(monkeypatch)
    fill = {k: str(v) for k, v in good.items()} | {"tmp": str(tmp_path)}
    base = {d: ([x.format(**fill) for x in v] if isinstance(v, list) else v.format(**fill) if isinstance(v, str)
                else v) for d, v in cmd.base.items()}
    if kind in (NUMBER, TEXT):
        bad, must_name = value, _flag(name, dest)
    else:
        bad, must_name = make_hostile(kind, value, tmp_path / "zoo", cmd.out_suffix)
    values = dict(base)
    if isinstance(base.get(dest), list):  # nargs='+': the first good value, then the hostile one
        values[dest] = [base[dest][0], bad]
    else:
        values[dest] = bad
    argv = argv_for(name, values)
    code, out, err = run(argv, capsys)
    where = f"python -m analysis {' '.join(argv)}"
    assert "Traceback" not in err + out, f"{where}\n{err}"
    assert code in (1, 2), f"{where}: exit {code}\n{err}"
    assert must_name in err, f"{where}: the message does not name {must_name!r}:\n{err}"
    if err.startswith("error: "):  # our own message (not argparse's usage, not a list of input problems)
        assert err.count("\n") == 1, f"{where}: not one line:\n{err}"


# --- the error handler itself ---------------------------------------------------------------------------


def test_out_that_is_an_existing_file_in_a_subprocess(good, tmp_path):
    """The defect as a user meets it: ``validate ... --out some_file.txt`` printed a FileExistsError traceback."""
    target = tmp_path / "some_file.txt"
    target.write_text("keep me\n")
    env = {k: v for k, v in os.environ.items() if k != "ANALYSIS_DEBUG"}
    res = subprocess.run([sys.executable, "-m", "analysis", "validate", str(good["coded"]), "--out", str(target)],
                         capture_output=True, text=True, env=env)
    assert res.returncode == 2
    assert "Traceback" not in res.stderr
    assert res.stderr.strip().splitlines()[-1] == (
        f"error: {target} (from --out) is a file, but a folder is needed here; give a folder "
        "(or move the file away)")
    assert target.read_text() == "keep me\n"


def test_unexpected_error_is_one_line_and_says_it_is_a_bug(monkeypatch, capsys):
    def boom(args):
        raise ZeroDivisionError("division by zero")

    monkeypatch.delenv("ANALYSIS_DEBUG", raising=False)
    monkeypatch.setattr(cli, "cmd_validate", boom)
    code, out, err = run(["validate", str(EXAMPLE)], capsys)
    assert code == 2
    assert err == ("error: unexpected ZeroDivisionError: division by zero. This is a bug; please report it with "
                   "the command you ran (add --debug, or set ANALYSIS_DEBUG=1, to see where it happened).\n")


@pytest.mark.parametrize("how", ["flag-first", "flag-last", "env"])
def test_debug_shows_the_traceback(how, monkeypatch, capsys):
    def boom(args):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(cli, "cmd_validate", boom)
    argv = ["validate", str(EXAMPLE)]
    if how == "env":
        monkeypatch.setenv("ANALYSIS_DEBUG", "1")
    else:
        monkeypatch.delenv("ANALYSIS_DEBUG", raising=False)
        argv = ["--debug"] + argv if how == "flag-first" else argv + ["--debug"]
    code, out, err = run(argv, capsys)
    assert code == 2
    assert err.startswith("Traceback (most recent call last):") and 'raise ZeroDivisionError("division by zero")' in err
    assert err.endswith("error: unexpected ZeroDivisionError: division by zero. This is a bug; please report it "
                        "with the command you ran (add --debug, or set ANALYSIS_DEBUG=1, to see where it happened).\n")


def test_a_missing_package_is_an_install_problem_not_a_bug(monkeypatch, capsys):
    def missing(args):
        raise ModuleNotFoundError("No module named 'scipy'", name="scipy")

    monkeypatch.delenv("ANALYSIS_DEBUG", raising=False)
    monkeypatch.setattr(cli, "cmd_validate", missing)
    code, _, err = run(["validate", str(EXAMPLE)], capsys)
    assert code == 2
    assert err == ("error: a package this command needs is missing or broken (No module named 'scipy'); run "
                   "`make setup` in the project folder (or pip install -r requirements.txt)\n")


def test_keyboard_interrupt_exits_130(monkeypatch, capsys):
    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "cmd_validate", interrupted)
    code, out, err = run(["validate", str(EXAMPLE)], capsys)
    assert code == 130
    assert err == "Interrupted (Ctrl-C); files written so far may be incomplete: run the command again.\n"


@pytest.mark.parametrize(("exc", "message"), [
    (OSError(errno.ENOSPC, "No space left on device"),
     "error: no space left on the disk while writing to {out} (--out); free some space or write somewhere else"),
    (OSError(errno.EACCES, "Permission denied"),
     "error: permission denied while writing to {out} (--out); check you may write there, or choose another place"),
])
def test_os_error_without_a_file_name_names_the_output(exc, message, monkeypatch, tmp_path, capsys):
    """An error raised while a file is flushed carries no file name; the message then names the --out folder."""
    def fail(result, out):
        raise exc

    monkeypatch.setattr(cli, "write_validation", fail)
    out = tmp_path / "v"
    code, _, err = run(["validate", str(EXAMPLE), "--out", str(out)], capsys)
    assert code == 2
    assert err.splitlines()[-1] == message.format(out=out)


@pytest.mark.parametrize(("err_no", "expected"), [
    (errno.ENOSPC, "error: {p}: no space left on the disk; free some space or write somewhere else"),
    (errno.EACCES, "error: {p}: permission denied; check you may read or write it, or choose another place"),
    (errno.EISDIR, "error: {p} is a folder, but a file is needed here; give the name of a file"),
    (errno.ENOTDIR, "error: {p}: part of this path is a file, not a folder; give a path inside a folder"),
    (errno.EROFS, "error: {p}: the disk is read-only; write somewhere else"),
    (errno.ENOENT, "error: {p}: no such file or folder; check the path"),
])
def test_os_errors_name_the_path(err_no, expected, monkeypatch, tmp_path, capsys):
    p = tmp_path / "x.csv"

    def fail(args):
        raise OSError(err_no, os.strerror(err_no), str(p))

    monkeypatch.setattr(cli, "cmd_validate", fail)
    code, _, err = run(["validate", str(EXAMPLE)], capsys)
    assert code == 2
    assert err.splitlines()[-1] == expected.format(p=p)


def test_usage_errors_keep_argparse_exit_2(capsys):
    code, _, err = run(["validate"], capsys)
    assert code == 2 and "the following arguments are required: path" in err
    code, _, err = run(["nonsense-command"], capsys)
    assert code == 2 and "invalid choice: 'nonsense-command'" in err
