"""Commands on the coded data, registered into ``python -m analysis`` (see :func:`analysis.cli.app.build_parser`):

  validate PATH [--out DIR]          check coded tables against the codebook
  derive PATH [--out DIR]            validate, then write the derived tables (pipeline stage 1)
  synth [--out DIR]                  the synthetic example
  tables PATH [--out DIR]            the before/after tables: OUT/shared (suppressed), OUT/analyst (full)

Each command parses its arguments, loads the codebook and the study configuration once, calls the pipeline
(:mod:`analysis.report.pipeline`) or a module, prints, and returns the exit code. The pipeline and the
libraries it needs are imported when a command runs, so that ``--help`` and the other commands start fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ..report.output import input_hashes, write_files, write_validation
from ..scheme.codebook import TABLES, load_codebook
from ..scheme.config import paths
from .console import EXIT_OK, check_output_folder, common_options, load_scheme, whole_number, write_bytes, write_csv
from .console import say as _say

if TYPE_CHECKING:  # (pandas is imported where it is used: a command's start-up imports none)
    import pandas as pd

# --- option files: read here, passed down as data ---------------------------------------------------------------


def _read_csv_file(p: Path, what: str, error: type[Exception], **kw) -> pd.DataFrame:
    """A small CSV given with an option (income lookup, sampling frame), as text; anything that is not a readable
    CSV raises ``error`` with a message naming the file."""
    import pandas as pd

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


def read_income_lookup(path: str | None):
    """The ACS income lookup given with ``--income-lookup`` (parsed), or None."""
    if not path:
        return None
    from ..derive.income import IncomeLookupError, parse_acs_income

    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"{p}: income lookup file not found")
    table = _read_csv_file(p, "income lookup", IncomeLookupError, keep_default_na=False)
    return parse_acs_income(table, source=str(p))


def read_frame(path: str | None) -> dict[int, int] | None:
    """The sampling frame given with ``--frame`` ({year: reports}), or None."""
    if not path:
        return None
    from ..tables.standard import FrameError, parse_frame

    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"{p}: sampling frame file not found")
    return parse_frame(_read_csv_file(p, "sampling frame", FrameError, keep_default_na=False), source=str(p))


# --- the commands --------------------------------------------------------------------------------------------


def cmd_validate(args) -> int:
    from ..intake.load import load_coded_tables
    from ..intake.validate import validate_tables

    cb, cfg = load_scheme(args)
    path = Path(args.path)
    result = validate_tables(load_coded_tables(path, cb), cb, cfg)
    _say(f"Validated {path} with codebook {cb.version}")
    _say(result.summary(max_listed=args.max_listed))
    if args.out:
        write_validation(result, Path(args.out))
        _say(f"Wrote the problems table, row accounting, valid and rejected rows to {args.out}")
    return result.exit_code


def cmd_derive(args) -> int:
    from ..report import pipeline

    cb, cfg = load_scheme(args)
    path, out = Path(args.path), Path(args.out)
    lookup = read_income_lookup(args.income_lookup)
    derived = pipeline.derive_into(path, out, cb, cfg, income_lookup=lookup, force=args.force,
                                   income_lookup_name=Path(args.income_lookup).name if args.income_lookup else None)
    _say(f"Validated {path}:")
    _say(derived.validation.summary(max_listed=args.max_listed))
    if not args.income_lookup:
        _say("Buyer income strata: not available (no --income-lookup file given).")
    _say(f"Wrote derived tables ({', '.join(f'{k} {len(v)} rows' for k, v in derived.tables.items())}) to {out}")
    return derived.validation.exit_code


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
        write_bytes(out / "example_workbook.xlsx", tables_to_xlsx(frames, kinds))
    _say(f"Wrote SYNTHETIC example ({', '.join(f'{k} {len(v)} rows' for k, v in frames.items())}) to {out}")
    return EXIT_OK


def cmd_tables(args) -> int:
    from ..intake.load import load_coded_tables
    from ..report import pipeline
    from ..report.publish import Publication, publish
    from ..tables.compare import weighted_disclosure_warning
    from ..tables.export import provenance
    from ..tables.standard import NO_OUTCOMES_NOTE, has_outcomes

    cb, cfg = load_scheme(args)
    path, out = Path(args.path), Path(args.out)
    check_output_folder(out)  # before the work (validation, tables, protection), not after it
    frame = read_frame(args.frame)
    lookup = read_income_lookup(args.income_lookup)
    derived = pipeline.validate_derive(load_coded_tables(path, cb), cb, cfg, lookup)
    stamp = provenance(input_hashes(path), cb.version, derived.synthetic)
    n_boot = args.n_boot if args.n_boot is not None else cfg.bootstrap_resamples
    tables = pipeline.tables_and_model(derived.tables, cb, cfg, stamp, frame=frame, n_boot=n_boot, folder="",
                                       key=False)
    pub = Publication(synthetic=derived.synthetic)
    pub.add(*tables.standard_shared())
    shared, analyst = out / "shared", out / "analyst"
    write_files(shared, publish(pub, cfg))
    write_files(analyst, pipeline.analyst_tables(tables.standard, folder=""))
    result = derived.validation
    _say(f"Validated {path}: {sum(len(v) for v in result.valid.values())} valid rows, {result.n_rejected} rejected.")
    _say(f"Wrote {len(tables.names)} tables ({', '.join(tables.names)}) as CSV, Markdown, HTML and tables.xlsx to "
         f"{shared}; the analyst's unsuppressed tables are in {analyst} (never for sharing).")
    _say("Weighted to the sampling frame." if frame else "Unweighted (no --frame given).")
    if frame:
        _say(weighted_disclosure_warning(cfg.suppression_threshold))
    if not has_outcomes(derived.tables["persons"]):
        _say(NO_OUTCOMES_NOTE)
    if lookup is None:
        _say("Buyer income strata: not available (no --income-lookup file given).")
    if stamp["synthetic"]:
        _say("NOTE: SYNTHETIC DATA.")
    return result.exit_code


# --- registration ------------------------------------------------------------------------------------------


def add_commands(sub) -> None:
    """Register validate, derive, synth and tables on the argparse sub-parsers object ``sub``."""
    v = sub.add_parser("validate", help="check coded tables against the codebook",
                       description="Check coded tables (a folder with incidents.csv, persons.csv, charges.csv, "
                       "or an .xlsx workbook with those sheets) and report every problem with file, sheet, row, "
                       "report id, person code, variable, value, rule and how to fix it.")
    v.add_argument("path", help="folder of CSV files or .xlsx workbook")
    v.add_argument("--out", help="folder for problems.csv, summary.txt, valid/ and rejected/ rows")
    common_options(v)
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
    common_options(d)
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

    tb = sub.add_parser("tables", help="the before/after comparison tables (incidents; people by role)",
                        description="Validate and derive PATH, then write the before/after tables for sharing "
                        "(small cells suppressed) as CSV, Markdown, HTML and XLSX into OUT/shared, and the "
                        "analyst's full, unsuppressed tables into its sibling OUT/analyst (never for sharing).")
    tb.add_argument("path", nargs="?", default=str(paths().example), help="coded data (default: the example)")
    tb.add_argument("--out", default=str(paths().derived / "tables"),
                    help="output folder (default data/derived/tables): OUT/shared and OUT/analyst")
    tb.add_argument("--frame", help="sampling frame CSV with columns year, reports: weight estimates to it")
    tb.add_argument("--income-lookup", help="ACS median household income by ZIP (table B19013 CSV) for the buyers' "
                    "income strata; without it the strata are 'not available'")
    tb.add_argument("--n-boot", type=whole_number(1), default=None,
                    help="cluster-bootstrap resamples for person tables (default: the study configuration's "
                    "bootstrap.resamples)")
    common_options(tb)
    tb.set_defaults(func=cmd_tables)
