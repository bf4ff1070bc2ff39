"""Command line: ``python -m analysis <command> --help``.

Only this module (and the notebooks) read and write files; everything it calls takes and returns data.
Exit codes: 0 success / all rows valid, 1 some rows rejected, 2 unusable input or any other error (one line for
people, never a raw traceback; ``--debug`` or ANALYSIS_DEBUG=1 shows it), 130 interrupted.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pandas as pd

from .. import __version__
from ..scheme.codebook import TABLES, load_codebook
from ..scheme.config import load_study_config, paths
from .console import (
    check_output_folder,
    folder_name,
    handle_error,
    report_unusable,
    run_command,
    whole_number,
    write_csv,
)
from .console import err as _err
from .console import say as _say
from .console import sha256_file as _sha256

EXIT_OK, EXIT_REJECTED, EXIT_UNUSABLE = 0, 1, 2


def input_hashes(path: Path) -> dict[str, str]:
    """SHA-256 of each input file of a coded-data folder or workbook (for the provenance stamp)."""
    return {f.name: _sha256(f) for f in input_files(Path(path))}


def input_files(path: Path) -> list[Path]:
    if path.is_dir():
        return [path / f"{t}.csv" for t in TABLES if (path / f"{t}.csv").exists()]
    return [path] if path.exists() else []


# --- validate ------------------------------------------------------------------------------------------


def _validate(path: Path, config_path: str | None):
    from ..intake.load import load_coded_tables
    from ..intake.validate import validate_tables

    cfg = load_study_config(config_path)
    raw = load_coded_tables(path)
    return validate_tables(raw, load_codebook(), cfg), cfg


def write_validation(result, out: Path) -> None:
    """problems.csv, summary.txt, valid/<table>.csv and rejected/<table>.csv (with reasons) under ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    write_csv(result.problems, out / "problems.csv")
    write_csv(result.accounting(), out / "row_accounting.csv")
    (out / "summary.txt").write_text(result.summary(max_listed=200) + "\n", encoding="utf-8")
    for t in TABLES:
        write_csv(result.valid[t], out / "valid" / f"{t}.csv")
        write_csv(result.rejected[t], out / "rejected" / f"{t}.csv")


_report_unusable = report_unusable  # the name other modules used


def cmd_validate(args) -> int:
    path = Path(args.path)
    result, _ = _validate(path, args.config)
    _say(f"Validated {path} with codebook {load_codebook().version}")
    _say(result.summary(max_listed=args.max_listed))
    if args.out:
        write_validation(result, Path(args.out))
        _say(f"Wrote the problems table, row accounting, valid and rejected rows to {args.out}")
    return result.exit_code


# --- derive --------------------------------------------------------------------------------------------


def _read_income_lookup(path: str | None):
    if not path:
        return None
    from ..derive.income import IncomeLookupError, parse_acs_income

    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"{p}: income lookup file not found")
    table = _read_csv_file(p, "income lookup", IncomeLookupError, keep_default_na=False)
    return parse_acs_income(table, source=str(p))


def _read_csv_file(p: Path, what: str, error: type[Exception], **kw) -> pd.DataFrame:
    """A small CSV given with an option (income lookup, sampling frame), as text; anything that is not a readable
    CSV raises ``error`` with a message naming the file."""
    if p.is_dir():
        raise error(f"{p}: this is a folder; give the {what} file (a CSV file)")
    try:
        return pd.read_csv(p, dtype=str, **kw)
    except UnicodeDecodeError:
        raise error(f"{p}: the {what} file is not text in UTF-8; save it as CSV UTF-8") from None
    except pd.errors.EmptyDataError:
        raise error(f"{p}: the {what} file is empty") from None
    except pd.errors.ParserError as exc:
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise error(f"{p}: the {what} file is not a readable CSV table ({detail})") from None


def write_derived(derived: dict[str, pd.DataFrame], out: Path, manifest: dict) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for name, df in derived.items():
        df.to_parquet(out / f"{name}.parquet", index=False, engine="pyarrow")
        write_csv(df, out / f"{name}.csv")
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def input_path_label(path: Path) -> str:
    """The coded data's location as the manifest records it: relative to the project root when inside it
    (so ``data/raw/example`` and its absolute form are the same input), else the absolute path."""
    p = Path(path).resolve()
    try:
        return p.relative_to(paths().root.resolve()).as_posix()
    except ValueError:
        return str(p)


def build_manifest(path: Path, result, derived, cfg, income_path: str | None) -> dict:
    from ..coders.synth import is_synthetic

    return {
        "synthetic_data": is_synthetic(result.valid["incidents"]) or is_synthetic(result.rejected["incidents"]),
        "codebook_version": load_codebook().version,
        "code_version": __version__,
        "study_config": Path(cfg.source).name,
        "input_path": input_path_label(path),
        "inputs": input_hashes(path),
        "income_lookup": (Path(income_path).name if income_path else None),
        "rows": {t: {"input": result.input_rows[t], "valid": len(result.valid[t]),
                     "rejected": len(result.rejected[t]), "derived": len(derived[t])} for t in TABLES},
    }


class DerivedFolderInUse(Exception):
    """The derived folder holds data made from other inputs, or files of unknown origin: not overwritten
    without --force."""


# files a derived folder may hold without being anyone's work
_NOT_WORK = {"README.md"}


def _describe_inputs(label: str | None, hashes: dict) -> str:
    files = ", ".join(f"{name} sha256 {h[:12]}" for name, h in sorted(hashes.items())) or "no input files"
    return f"{label or 'an unrecorded path'} ({files})"


def check_derived_folder(out: Path, path: Path, *, force: bool = False, option: str = "--out") -> None:
    """Refuse to overwrite a derived folder made from other inputs (its manifest.json names other input
    files or another input path) or holding files without a manifest, unless ``force``. An absent or empty
    folder, or one made from the same inputs (a rerun gives the same bytes), is fine.
    ``option`` is the command-line option that chooses another folder (named in the message)."""
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


def run_derive(path: Path, out: Path, config_path: str | None, income_path: str | None, *, force: bool = False,
               option: str = "--out"):
    """Validate and derive ``path`` into ``out`` (refused, before anything is written, when ``out`` holds
    derived data from other inputs: see :func:`check_derived_folder`)."""
    from ..derive.variables import derive

    check_derived_folder(out, path, force=force, option=option)
    result, cfg = _validate(path, config_path)
    lookup = _read_income_lookup(income_path)
    derived = derive(result.valid, load_codebook(), cfg, lookup)
    write_validation(result, out / "validation")
    write_derived(derived, out, build_manifest(path, result, derived, cfg, income_path))
    return result, derived


def cmd_derive(args) -> int:
    path, out = Path(args.path), Path(args.out)
    try:
        result, derived = run_derive(path, out, args.config, args.income_lookup, force=args.force)
    except DerivedFolderInUse as exc:
        _err(f"error: {exc}")
        return EXIT_UNUSABLE
    _say(f"Validated {path}:")
    _say(result.summary(max_listed=args.max_listed))
    if not args.income_lookup:
        _say("Buyer income strata: not available (no --income-lookup file given).")
    _say(f"Wrote derived tables ({', '.join(f'{k} {len(v)} rows' for k, v in derived.items())}) to {out}")
    return result.exit_code


# --- synth ---------------------------------------------------------------------------------------------


def cmd_synth(args) -> int:
    from ..coders.synth import generate
    from ..formats.xlsx import tables_to_xlsx

    frames = generate(n_reports=args.reports, seed=args.seed)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for name, df in frames.items():
        write_csv(df, out / f"{name}.csv")
    if not args.no_second_coder:
        from ..coders.second_coder import second_coder_example

        for name, df in second_coder_example(frames, seed=args.seed).items():
            write_csv(df, out / "second_coder" / f"{name}.csv")
    if not args.no_xlsx:
        cb = load_codebook()
        kinds = {t: {v.name: v.type for v in cb.table(t).variables if v.type in ("date", "integer")} for t in TABLES}
        (out / "example_workbook.xlsx").write_bytes(tables_to_xlsx(frames, kinds))
    _say(f"Wrote SYNTHETIC example ({', '.join(f'{k} {len(v)} rows' for k, v in frames.items())}) to {out}")
    return EXIT_OK


# --- report --------------------------------------------------------------------------------------------


def cmd_report(args) -> int:
    from ..report.run import ReportInterrupted, run_report

    out = Path(args.out) if args.out else paths().reports
    for folder in (out, Path(args.derived) if args.derived else None):
        if folder is not None:
            check_output_folder(folder)  # before the long work, not after it
    _say(f"Meeting pack from {args.path} into {out}/<run date>/")
    try:
        res = run_report(Path(args.path), out, config_path=args.config,
                         sfpd_dir=Path(args.sfpd_dir) if args.sfpd_dir else None,
                         derived_dir=Path(args.derived) if args.derived else None, frame_path=args.frame,
                         run_date=args.run_date, notebooks=not args.no_notebooks, n_boot=args.n_boot,
                         force=args.force, progress=_say)
    except DerivedFolderInUse as exc:
        _err(f"error: {exc}")
        return EXIT_UNUSABLE
    except ReportInterrupted as exc:
        _err(f"error: the report was stopped ({exc.name}) before it finished; {exc.where}")
        return 128 + exc.signum
    _say("Time by stage:")
    _say(res.breakdown())
    for note in res.notes:
        _say(f"note: {note}")
    if res.synthetic:
        _say("NOTE: SYNTHETIC DATA. The pack says so on every page and chart.")
    _say(f"Open {res.folder / 'shared' / 'meeting_pack.html'} or {res.folder / 'shared' / 'meeting_pack.pdf'}")
    _say(f"To share: send {res.folder / 'shared'} (zip that folder only). Never send {res.folder / 'analyst'}: "
         "it holds unsuppressed tables.")
    return res.exit_code


# --- tables --------------------------------------------------------------------------------------------


def _read_frame(path: str | None):
    if not path:
        return None
    from ..tables.standard import FrameError, parse_frame

    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"{p}: sampling frame file not found")
    return parse_frame(_read_csv_file(p, "sampling frame", FrameError), source=str(p))


def write_tables(derived, out: Path, stamp: dict, cfg, frame=None, n_boot: int = 2000,
                 analyst_dir: Path | None = None) -> list[str]:
    """The standard before/after tables: shared (suppressed) CSV, Markdown, HTML and one XLSX; the analyst's
    full tables in ``analyst_dir`` (default OUT/analyst; never for sharing)."""
    analyst_dir = analyst_dir or out / "analyst"
    from ..tables.export import to_xlsx
    from ..tables.standard import render, standard_tables

    out.mkdir(parents=True, exist_ok=True)
    sheets, names = {}, []
    for nt in standard_tables(derived, frame, n_boot=n_boot, config=cfg):
        shown, texts, footer = render(nt, stamp, cfg)
        for ext, text in texts.items():
            (out / f"{nt.name}.{ext}").write_text(text, encoding="utf-8")
        sheets[nt.name] = (shown, nt.title + (" (SYNTHETIC DATA)" if stamp["synthetic"] else ""), footer)
        full = nt.table.rows.copy()
        full.insert(0, "NOT_FOR_SHARING", "analyst table: unsuppressed")
        write_csv(full, analyst_dir / f"{nt.name}_full.csv")
        names.append(nt.name)
    (out / "tables.xlsx").write_bytes(to_xlsx(sheets))
    return names


def cmd_tables(args) -> int:
    from ..coders.synth import is_synthetic
    from ..derive.variables import derive
    from ..tables.export import provenance

    path, out = Path(args.path), Path(args.out)
    result, cfg = _validate(path, args.config)
    frame = _read_frame(args.frame)
    derived = derive(result.valid, load_codebook(), cfg)
    stamp = provenance(input_hashes(path), load_codebook().version,
                       is_synthetic(result.valid["incidents"]))
    names = write_tables(derived, out, stamp, cfg, frame, n_boot=args.n_boot)
    _say(f"Validated {path}: {sum(len(v) for v in result.valid.values())} valid rows, {result.n_rejected} rejected.")
    _say(f"Wrote {len(names)} tables ({', '.join(names)}) as CSV, Markdown, HTML and tables.xlsx to {out}; "
         f"the analyst's unsuppressed tables are in {out / 'analyst'} (not for sharing).")
    _say("Weighted to the sampling frame." if frame else "Unweighted (no --frame given).")
    if stamp["synthetic"]:
        _say("NOTE: SYNTHETIC DATA.")
    return result.exit_code


# --- parser --------------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m analysis",
        description="SFPD prostitution / human-trafficking incident-report study: coding scheme, validation, "
        "derived tables. Exit codes: 0 ok, 1 some rows rejected, 2 unusable input or any other error (one line; "
        "--debug or ANALYSIS_DEBUG=1 adds the traceback), 130 interrupted.",
    )
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    p.add_argument("--debug", action="store_true", default=False,
                   help="on an error, also print the traceback (or set ANALYSIS_DEBUG=1)")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def common(sp):
        sp.add_argument("--config", help="study configuration YAML (default: the package's study.yaml)")
        sp.add_argument("--max-listed", type=whole_number(0), default=25, help="errors to list on screen (default 25)")

    v = sub.add_parser("validate", help="check coded tables against the codebook",
                       description="Check coded tables (a folder with incidents.csv, persons.csv, charges.csv, "
                       "or an .xlsx workbook with those sheets) and report every problem with file, sheet, row, "
                       "report id, person code, variable, value, rule and how to fix it.")
    v.add_argument("path", help="folder of CSV files or .xlsx workbook")
    v.add_argument("--out", help="folder for problems.csv, summary.txt, valid/ and rejected/ rows")
    common(v)
    v.set_defaults(func=cmd_validate)

    d = sub.add_parser("derive", help="validate, then write derived analysis tables",
                       description="Validate the coded tables, then write derived tables (Parquet and CSV) from "
                       "the valid rows, with the validation outputs in OUT/validation.")
    d.add_argument("path", help="folder of CSV files or .xlsx workbook")
    d.add_argument("--out", default=str(paths().derived), help="output folder (default data/derived)")
    d.add_argument("--income-lookup", help="ACS median household income by ZIP (table B19013 CSV)")
    d.add_argument("--force", action="store_true",
                   help="overwrite OUT even when its manifest.json says it was made from other inputs, or it "
                   "holds files without a manifest")
    common(d)
    d.set_defaults(func=cmd_derive)

    s = sub.add_parser("synth", help="generate the synthetic example sample",
                       description="Generate the SYNTHETIC example sample from the codebook with a fixed seed "
                       "(byte for byte the same for the same arguments).")
    s.add_argument("--out", default=str(paths().example), help="output folder (default data/raw/example)")
    s.add_argument("--reports", type=whole_number(1), default=989, help="number of reports (default 989)")
    s.add_argument("--seed", type=whole_number(0), default=20171115, help="random seed (default 20171115)")
    s.add_argument("--no-xlsx", action="store_true", help="skip the filled-in workbook")
    s.add_argument("--no-second-coder", action="store_true",
                   help="skip the second coder's file for the double-coded subset (second_coder/)")
    s.set_defaults(func=cmd_synth)

    r = sub.add_parser("report", help="the main job: the whole pipeline and the meeting pack",
                       description="Validate and derive PATH (default: the bundled synthetic example), then "
                       "reliability, the before/after tables, the public record, the charts, the meeting pack "
                       "(HTML and PDF) and the four notebooks, into OUT/<run date>/: shared/ is the folder to "
                       "send, analyst/ (unsuppressed tables, executed notebooks) is never sent. The run is written "
                       "to a temporary folder and moved into place only when every stage succeeded.")
    r.add_argument("path", nargs="?", default=str(paths().example), help="coded data (default data/raw/example)")
    r.add_argument("--out", help="reports folder (default reports/)")
    r.add_argument("--derived", help="folder for the derived data and row-level validation outputs "
                   "(default data/derived)")
    r.add_argument("--force", action="store_true",
                   help="overwrite the derived folder even when it was made from other inputs")
    r.add_argument("--sfpd-dir", help="folder of the public SFPD files (default ../shared/data/sfpd)")
    r.add_argument("--frame", help="sampling frame CSV (year, reports): weight the tables to it")
    r.add_argument("--run-date", type=folder_name, help="name of the run folder (default: today, YYYY-MM-DD)")
    r.add_argument("--n-boot", type=whole_number(1), default=1000, help="bootstrap resamples (default 1000)")
    r.add_argument("--no-notebooks", action="store_true", help="skip executing the notebooks")
    common(r)
    r.set_defaults(func=cmd_report)

    tb = sub.add_parser("tables", help="the before/after comparison tables (incidents; people by role)",
                        description="Validate and derive PATH, then write the before/after tables for sharing "
                        "(small cells suppressed) as CSV, Markdown, HTML and XLSX, with the analyst's full "
                        "tables in OUT/analyst.")
    tb.add_argument("path", nargs="?", default=str(paths().example), help="coded data (default: the example)")
    tb.add_argument("--out", default=str(paths().derived / "tables"), help="output folder (default data/derived/tables)")
    tb.add_argument("--frame", help="sampling frame CSV with columns year, reports: weight estimates to it")
    tb.add_argument("--n-boot", type=whole_number(1), default=2000,
                    help="cluster-bootstrap resamples for person tables")
    common(tb)
    tb.set_defaults(func=cmd_tables)

    # commands owned by other modules: each module's add_commands(sub) registers its own subcommands
    from . import coders as cli_coders
    from . import public as cli_public
    from . import reliability as cli_reliability

    cli_coders.add_commands(sub)
    cli_reliability.add_commands(sub)
    cli_public.add_commands(sub)
    _add_debug_everywhere(p)
    return p


def _add_debug_everywhere(parser: argparse.ArgumentParser) -> None:
    """``--debug`` after the subcommand too (``python -m analysis validate X --debug``)."""
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    for sp in (subs[0].choices.values() if subs else []):
        if not any(isinstance(a, argparse._SubParsersAction) for a in sp._actions):
            sp.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                            help="on an error, also print the traceback (or set ANALYSIS_DEBUG=1)")
        _add_debug_everywhere(sp)


def main(argv: list[str] | None = None) -> int:
    """``python -m analysis``: every error is one line for people and exit 2 (argparse's usage errors too);
    Ctrl-C is exit 130. The traceback is shown only with ``--debug`` or ANALYSIS_DEBUG=1."""
    try:
        parser = build_parser()
    except (Exception, KeyboardInterrupt) as exc:  # noqa: BLE001 - not even here a traceback
        return handle_error(exc)
    args = parser.parse_args(argv)  # a usage error exits 2 with argparse's message, as always
    return run_command(args, parser)
