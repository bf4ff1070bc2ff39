"""The one place in :mod:`analysis.report` that touches the file system.

- writing: :func:`write_bytes`, :func:`write_text`, :func:`write_csv`, :func:`write_files` (a ``{relative path:
  bytes}`` mapping such as :func:`analysis.report.publish.publish` returns), and the derived folder's files
  (:func:`write_validation`, :func:`write_derived`);
- reading what the provenance stamp and the manifest record: :func:`input_hashes`, :func:`sha256_file`;
- the derived-folder check (:func:`check_derived_folder`): a folder made from other inputs is not overwritten
  without ``force``;
- the atomic run folder (:func:`run_folder`): everything is written into ``<run date>.partial-<pid>/`` beside the
  target and moved to ``<run date>/`` (replacing an earlier run of that date) only when the whole run succeeded.
  A run that fails or is stopped (SIGTERM, SIGINT / Ctrl-C) leaves an earlier ``<run date>/`` as it was and keeps
  what it had written as ``<run date>.incomplete/`` (replacing an older one) for finding the error; that folder is
  never for sharing. Only a SIGKILL can leave a ``*.partial-<pid>`` folder behind.

Every other module of the report takes and returns data; the pipeline (:mod:`analysis.report.pipeline`) and the
command line call these functions to write it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator

from ..formats.cells import frame_to_csv
from ..scheme.codebook import TABLES
from ..scheme.config import paths

if TYPE_CHECKING:  # (pandas is imported by who makes the frames: a command's start-up needs none)
    import pandas as pd

# --- writing files ------------------------------------------------------------------------------------------


def _named(exc: OSError, path: Path) -> OSError:
    """``exc`` with ``path`` as its file name when it has none (an error at flush or close carries none)."""
    if exc.filename is None and exc.errno is not None:
        return type(exc)(exc.errno, exc.strerror, str(path))
    return exc


def write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path``, making its parent folders; an OSError always names the file."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
    except OSError as exc:
        named = _named(exc, path)
        if named is exc:
            raise
        raise named from exc


def write_text(path: Path, text: str) -> None:
    """Write ``text`` as UTF-8, exactly as given (no newline translation), like :func:`write_bytes`."""
    write_bytes(path, text.encode("utf-8"))


def write_csv(df: pd.DataFrame, path: Path) -> None:
    """CSV as every output of this project writes it (no index, '\\n' line ends, formula-like text cells quoted
    so a spreadsheet shows them as text: :func:`analysis.formats.cells.frame_to_csv`), parent folders made."""
    write_text(path, frame_to_csv(df))


def write_files(folder: Path, files: dict[str, bytes]) -> list[Path]:
    """Write each ``{relative path: bytes}`` under ``folder`` (sorted by path); returns the paths written."""
    written = []
    for rel in sorted(files):
        target = Path(folder) / rel
        write_bytes(target, files[rel])
        written.append(target)
    return written


# --- what the inputs were ------------------------------------------------------------------------------------


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def input_files(path: Path) -> list[Path]:
    """The input files of a coded-data folder (its ``<table>.csv`` files) or the workbook itself."""
    path = Path(path)
    if path.is_dir():
        return [path / f"{t}.csv" for t in TABLES if (path / f"{t}.csv").exists()]
    return [path] if path.exists() else []


def input_hashes(path: Path) -> dict[str, str]:
    """SHA-256 of each input file of a coded-data folder or workbook (for the provenance stamp)."""
    return {f.name: sha256_file(f) for f in input_files(Path(path))}


def source_hashes(frame: pd.DataFrame) -> dict[str, str]:
    """``{file name: SHA-256}`` of the file a public-record frame was read from (``attrs['source_file']``), or
    ``{}`` when it was not read from a file."""
    source = Path(str(frame.attrs.get("source_file", "")))
    return {source.name: sha256_file(source)} if source.is_file() else {}


def input_path_label(path: Path) -> str:
    """The coded data's location as the manifest records it: relative to the project root when inside it
    (so ``data/raw/example`` and its absolute form are the same input), else the absolute path."""
    p = Path(path).resolve()
    try:
        return p.relative_to(paths().root.resolve()).as_posix()
    except ValueError:
        return str(p)


# --- the derived folder --------------------------------------------------------------------------------------


class DerivedFolderInUse(Exception):
    """The derived folder holds data made from other inputs, or files of unknown origin: not overwritten
    without --force."""


# files a derived folder may hold without being anyone's work
_NOT_WORK = {"README.md"}


def _describe_inputs(label: str | None, hashes: dict) -> str:
    files = ", ".join(f"{name} sha256 {h[:12]}" for name, h in sorted(hashes.items())) or "no input files"
    return f"{label or 'an unrecorded path'} ({files})"


def check_derived_folder(out: Path, path: Path, *, force: bool = False, option: str = "--out") -> None:
    """Refuse to overwrite a derived folder made from other inputs than the coded data at ``path`` (its
    manifest.json names other input files or another input path) or holding files without a manifest, unless
    ``force``. An absent or empty folder, or one made from the same inputs (a rerun gives the same bytes), is
    fine. ``option`` is the command-line option that chooses another folder (named in the message)."""
    out = Path(out)
    if force or not out.is_dir():
        return
    todo = (f"To keep it, derive into another folder ({option} DIR) or move it away; to replace it, run again "
            "with --force.")
    manifest = out / "manifest.json"
    if not manifest.is_file():
        files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*")
                       if p.is_file() and p.name not in _NOT_WORK and not p.name.startswith("."))
        if not files:
            return
        shown = ", ".join(files[:5]) + (f" and {len(files) - 5} more" if len(files) > 5 else "")
        raise DerivedFolderInUse(
            f"{out} already holds files ({shown}) but no manifest.json, so what they were made from is not "
            f"known; they may be someone's work and this run would overwrite them. {todo}")
    try:
        old = json.loads(manifest.read_text(encoding="utf-8"))
        old_inputs, old_path = dict(old["inputs"]), old.get("input_path")
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        raise DerivedFolderInUse(
            f"{manifest} cannot be read, so what {out} was made from is not known; this run would overwrite "
            f"it. {todo}") from None
    inputs, label = input_hashes(path), input_path_label(path)
    if old_inputs == inputs and (old_path is None or old_path == label):
        return
    raise DerivedFolderInUse(
        f"{out} holds derived data made from other inputs: {_describe_inputs(old_path, old_inputs)}; this run "
        f"reads {_describe_inputs(label, inputs)}. Deriving would overwrite it. {todo}")


def write_validation(result, out: Path) -> None:
    """problems.csv, row_accounting.csv, summary.txt, valid/<table>.csv and rejected/<table>.csv (with reasons)
    under ``out``: the row-level outputs, with ids, for the analyst's machine only."""
    Path(out).mkdir(parents=True, exist_ok=True)
    write_csv(result.problems, out / "problems.csv")
    write_csv(result.accounting(), out / "row_accounting.csv")
    write_text(out / "summary.txt", result.summary(max_listed=200) + "\n")
    for t in TABLES:
        write_csv(result.valid[t], out / "valid" / f"{t}.csv")
        write_csv(result.rejected[t], out / "rejected" / f"{t}.csv")


def write_derived(derived: dict[str, pd.DataFrame], out: Path, manifest: dict) -> None:
    """Each derived table as Parquet and CSV, and ``manifest.json`` (what they were made from)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for name, df in derived.items():
        df.to_parquet(out / f"{name}.parquet", index=False, engine="pyarrow")
        write_csv(df, out / f"{name}.csv")
    write_text(out / "manifest.json", json.dumps(manifest, indent=2, sort_keys=True) + "\n")


# --- the atomic run folder -----------------------------------------------------------------------------------


class ReportInterrupted(KeyboardInterrupt):
    """The report was stopped by SIGTERM or SIGINT; ``where`` says what was kept and what was left alone."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum
        self.name = signal.Signals(signum).name
        self.where = ""


@contextmanager
def stop_on_signals():
    """Turn SIGTERM and SIGINT into :class:`ReportInterrupted` in the main thread, so that the clean-up in
    ``finally`` blocks runs (notebook workers stopped, partial output moved aside); further signals are
    ignored while it runs. Restores the previous handlers afterwards. (:func:`run_folder` uses it; the report
    command too, from when it starts its notebook workers, before any run folder.)"""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum, frame):
        for s in (signal.SIGTERM, signal.SIGINT):
            signal.signal(s, signal.SIG_IGN)
        raise ReportInterrupted(signum)

    previous = {s: signal.signal(s, stop) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


@contextmanager
def _signals_held():
    """SIGTERM and SIGINT wait (pending) until the block is done: for steps that must not be cut in half."""
    blocked = {signal.SIGTERM, signal.SIGINT}
    in_main = threading.current_thread() is threading.main_thread()
    if in_main:
        signal.pthread_sigmask(signal.SIG_BLOCK, blocked)
    try:
        yield
    finally:
        if in_main:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, blocked)


def _move_into_place(work: Path, final: Path) -> None:
    """Replace ``final`` (if any) by the finished ``work`` folder (two renames on the same filesystem)."""
    old = final.with_name(f"{final.name}.replaced-{os.getpid()}")
    if final.exists():
        final.rename(old)
    work.rename(final)
    shutil.rmtree(old, ignore_errors=True)


def _keep_partial(work: Path, kept: Path) -> Path | None:
    """After a failed run: its partial output becomes ``kept`` (replacing an older one), or is removed when the
    run had written nothing. Returns where it was kept."""
    if not work.exists():
        return None
    if not any(p.is_file() for p in work.rglob("*")):
        shutil.rmtree(work, ignore_errors=True)
        return None
    shutil.rmtree(kept, ignore_errors=True)
    work.rename(kept)
    return kept


def run_folder_paths(out_root: Path, run_date: str) -> tuple[Path, Path, Path]:
    """(final, work, kept): ``<run date>/``, ``<run date>.partial-<pid>/`` and ``<run date>.incomplete/``."""
    out_root = Path(out_root)
    return (out_root / run_date, out_root / f"{run_date}.partial-{os.getpid()}",
            out_root / f"{run_date}.incomplete")


def _failure_message(final: Path, where: Path | None, moved: bool) -> str:
    if moved:
        left = f"{final} had been written in full"
    else:
        left = f"{final} was left as it was" if final.exists() else f"no {final} was written"
    if where is None:
        return f"{left}."
    return f"{left}; what it had written is in {where} (not for sharing; the next run replaces it)."


@contextmanager
def run_folder(out_root: Path, run_date: str, progress: Callable[[str], None] = print) -> Iterator[Path]:
    """The atomic run folder: yields the temporary folder to write into; see the module docstring.

    On failure the error is raised again: a :class:`ReportInterrupted` gets ``where`` (what was kept, what was
    left alone), an error with a ``relocated(where, work, message)`` method is replaced by what it returns (so
    that its message names where the partial output went), and any other error is raised as it is after
    ``progress`` said where the partial output went."""
    final, work, kept = run_folder_paths(out_root, run_date)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    moved = False
    with stop_on_signals():
        try:
            yield work
            with _signals_held():  # a signal now waits until the finished run is in place
                _move_into_place(work, final)
                moved = True
            shutil.rmtree(kept, ignore_errors=True)  # an earlier failed run of this date is now out of date
        except BaseException as exc:
            where = _keep_partial(work, kept)
            message = _failure_message(final, where, moved)
            relocated = getattr(exc, "relocated", None)
            if callable(relocated):
                raise relocated(where, work, message) from None
            if isinstance(exc, ReportInterrupted):
                exc.where = message
            else:
                progress(f"The report did not finish: {message}")
            raise
