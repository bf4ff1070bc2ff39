"""Subcommands for coders and data managers, registered into ``python -m analysis`` (see
:func:`analysis.cli.app.build_parser`).

  template OUT.xlsx                   the coding template workbook, from the codebook
  redcap-dictionary OUT.csv           the REDCap data dictionary (+ OUT_repeating_instruments.csv)
  import-redcap EXPORT.csv [--out D]  a REDCap raw records export -> the three coded tables, validated
  manual [--out docs/codebook.md]     the codebook manual (--check: fail if the file is out of date)

Each command loads the codebook and the study configuration once (:func:`.console.load_scheme`) and passes
them down; the library functions take and return data, and this module writes the files.
"""

from __future__ import annotations

from pathlib import Path

from .console import (
    EXIT_OK,
    EXIT_REJECTED,
    EXIT_UNUSABLE,
    check_output_file,
    load_scheme,
    whole_number,
    write_bytes,
)
from .console import err as _err
from .console import say as _say


def _write(path: Path, data: bytes | str) -> None:
    """Write bytes, or text as UTF-8 with '\\n' line ends; an OSError names the file (output.write_bytes)."""
    write_bytes(path, data if isinstance(data, bytes) else data.encode("utf-8"))


# --- template ------------------------------------------------------------------------------------------


def cmd_template(args) -> int:
    from ..coders.template import template_workbook

    cb, cfg = load_scheme(args)
    out = Path(args.out)
    if out.suffix.lower() != ".xlsx":
        _err(f"error: {out}: the template is an Excel workbook; give a file name ending in .xlsx")
        return EXIT_UNUSABLE
    check_output_file(out)
    _write(out, template_workbook(cb, cfg, rows=args.rows))
    _say(f"Wrote the coding template (codebook {cb.version}, validation on rows 2-{args.rows}) to {out}")
    _say(f"Check a filled-in copy with: python -m analysis validate {out.name}")
    return EXIT_OK


# --- REDCap --------------------------------------------------------------------------------------------


def repeating_path(out: Path) -> Path:
    return out.with_name(f"{out.stem}_repeating_instruments.csv")


def cmd_redcap_dictionary(args) -> int:
    from ..coders.redcap_dictionary import (
        data_dictionary,
        dictionary_csv,
        repeating_instruments,
        setup_notes,
    )

    cb, cfg = load_scheme(args)
    out = Path(args.out)
    check_output_file(out)
    dictionary = data_dictionary(cb, cfg)
    _write(out, dictionary_csv(dictionary))
    rep = repeating_path(out)
    _write(rep, repeating_instruments(cb).to_csv(index=False, lineterminator="\n"))
    forms = dictionary["Form Name"].value_counts(sort=False)
    _say(f"Wrote the REDCap data dictionary (codebook {cb.version}; "
         + ", ".join(f"{f} {n} fields" for f, n in forms.items()) + f") to {out}")
    _say(f"Wrote the repeating-instrument settings to {rep}")
    _say("Set the project up as follows:")
    for k, note in enumerate(setup_notes(cb), start=1):
        _say(f"  {k}. {note}")
    return EXIT_OK


def cmd_import_redcap(args) -> int:
    from ..intake.load import tables_from_frames
    from ..intake.redcap_import import import_records, read_records_csv, unrecognised_columns
    from ..intake.validate import validate_tables
    from .console import write_csv

    cb, cfg = load_scheme(args)
    path = Path(args.export)
    if path.is_dir():
        raise IsADirectoryError(f"{path}: this is a folder; give the REDCap records export, a .csv file")
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file (give the REDCap records export, a .csv file)")
    export = read_records_csv(path.read_bytes(), source=str(path))
    tables = import_records(export, cb, source=str(path))
    ignored = unrecognised_columns(export, cb)
    _say(f"Read {len(export)} rows from the REDCap export {path}: "
         + ", ".join(f"{t} {len(df)}" for t, df in tables.items()))
    if ignored:
        _say(f"Ignored {len(ignored)} column(s) that are not codebook fields: {', '.join(ignored)}")
    if args.out:
        out = Path(args.out)
        for t, df in tables.items():
            write_csv(df, out / f"{t}.csv")
        _say(f"Wrote incidents.csv, persons.csv and charges.csv to {out}")
    result = validate_tables(tables_from_frames(tables, source=str(path), codebook=cb), cb, cfg)
    _say(f"Validated with codebook {cb.version} (rows are numbered per table, header = row 1):")
    _say(result.summary(max_listed=args.max_listed))
    return result.exit_code


# --- manual --------------------------------------------------------------------------------------------


def default_manual_path() -> Path:
    from ..scheme.config import paths

    return paths().root / "docs" / "codebook.md"


def cmd_manual(args) -> int:
    from ..coders.manual import render_manual
    from ..scheme.codebook import load_codebook

    cb = load_codebook()  # the manual needs no study configuration
    out = Path(args.out) if args.out else default_manual_path()
    if not args.check:
        check_output_file(out)
    text = render_manual(cb)
    if args.check:
        current = out.read_text(encoding="utf-8") if out.exists() else None
        if current == text:
            _say(f"{out} is up to date with codebook {cb.version}")
            return EXIT_OK
        _say(f"{out} is out of date with the codebook: run python -m analysis manual")
        return EXIT_REJECTED
    _write(out, text)
    _say(f"Wrote the codebook manual (codebook {cb.version}) to {out}")
    return EXIT_OK


# --- registration ----------------------------------------------------------------------------------------


def add_commands(sub) -> None:
    """Register this module's subcommands on the argparse sub-parsers object ``sub``."""
    from ..coders.template import DEFAULT_ROWS

    t = sub.add_parser(
        "template", help="write the coding template workbook (.xlsx) from the codebook",
        description="Write the coding template: sheets incidents, persons and charges with the codebook's "
        "columns, drop-downs of 'code = label' choices, date and whole-number checks, input messages with each "
        "variable's label and definition, a 'read me' sheet and a 'codebook' sheet.")
    t.add_argument("out", help="the workbook to write (.xlsx)")
    t.add_argument("--rows", type=whole_number(2), default=DEFAULT_ROWS,
                   help=f"last row that gets data validation (default {DEFAULT_ROWS}; the header is row 1)")
    t.add_argument("--config", help="study configuration YAML (sampled years; default: the package's study.yaml)")
    t.set_defaults(func=cmd_template)

    d = sub.add_parser(
        "redcap-dictionary", help="write the REDCap data dictionary (.csv) from the codebook",
        description="Write the codebook as a REDCap data dictionary (incidents the main instrument, persons and "
        "charges repeating instruments), plus OUT_repeating_instruments.csv, and print how to set up the project.")
    d.add_argument("out", help="the data dictionary to write (.csv)")
    d.add_argument("--config", help="study configuration YAML (sampled years; default: the package's study.yaml)")
    d.set_defaults(func=cmd_redcap_dictionary)

    i = sub.add_parser(
        "import-redcap", help="turn a REDCap raw records export into the three coded tables, and validate them",
        description="Read a REDCap records export (CSV, raw data, variable names as headers) of a project made "
        "from the redcap-dictionary output, rebuild incidents, persons and charges, validate them, and with "
        "--out write incidents.csv, persons.csv and charges.csv. Exit codes: 0 all valid, 1 some rows rejected, "
        "2 not a usable export.")
    i.add_argument("export", help="the REDCap records export (.csv)")
    i.add_argument("--out", help="folder for incidents.csv, persons.csv and charges.csv")
    i.add_argument("--config", help="study configuration YAML (default: the package's study.yaml)")
    i.add_argument("--max-listed", type=whole_number(0), default=25, help="errors to list on screen (default 25)")
    i.set_defaults(func=cmd_import_redcap)

    m = sub.add_parser(
        "manual", help="write the codebook manual (docs/codebook.md) from the codebook",
        description="Render the codebook as Markdown: conventions, every variable by table, skip logic, decision "
        "rules, the charge classification table and REDCap notes.")
    m.add_argument("--out", help="file to write (default docs/codebook.md in the project)")
    m.add_argument("--check", action="store_true", help="write nothing; exit 1 if the file is out of date")
    m.set_defaults(func=cmd_manual)
