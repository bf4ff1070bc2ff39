"""Subcommands registered into ``python -m analysis`` (see :func:`analysis.cli.app.build_parser`): ``public
fetch|trends|tables|frame|draw-sample``, for the public SFPD record (DataSF open data).

    python -m analysis public fetch --since 2009 --until 2015 OUT.json
    python -m analysis public trends PATH [--offset ALL_CATEGORIES_FILE] [--start YYYY-MM] [--end YYYY-MM] --out DIR
    python -m analysis public tables PATH --out DIR
    python -m analysis public frame PATH [--out FILE.csv]
    python -m analysis public draw-sample FRAME --per-year N --seed S --out FILE.csv

PATH is any supported file (DataSF CSV or Socrata JSON, the 2018-present CSV, Kaggle rows, a daily count
table, the one-row-per-incident table); its form is recognised from the columns.
Exit codes as elsewhere: 0 ok, 2 unusable input (or no network for ``fetch``).
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import TYPE_CHECKING

from ..scheme.config import load_study_config
from .console import EXIT_OK, EXIT_UNUSABLE, check_output_file, load_scheme, whole_number, write_text, year_month
from .console import err as _err
from .console import say as _say
from .console import write_csv as _write_csv

if TYPE_CHECKING:  # (pandas is imported where it is used: a command's start-up imports none)
    import pandas as pd

MAX_HARMONICS = 5  # monthly data: a 6th sin/cos pair has sin6 = 0, and more pairs repeat the first ones


# The standard columns each command uses besides the category, description, date and time (which the engine
# always reads): what the engine reads of a big file.
TRENDS_NEEDS = ("incident_number",)
TABLES_NEEDS = ("incident_number", "district", "resolution")
FRAME_NEEDS = ("incident_number",)


# What each command imports after the file is read: imported meanwhile, in a thread beside the engine's scan.
# (With the scan on one thread, row_number() OVER (), such a thread slowed it by half; the scan now runs on every
# core and the thread gains: public tables on the 2.1M-row file 2.93 -> 2.64 s, trends 2.18 -> 2.08 s, min of 4.)
# pandas first: nothing a command imports before its scan imports pandas (the CLI's start-up, the engine), so
# its 0.5 s of importing runs beside DuckDB's reading too (tests/test_cli.py checks the start-up imports none).
PANDAS_IMPORTS = ("pandas", "analysis.public.load", "analysis.public.frame")
TRENDS_IMPORTS = ("statsmodels.genmod.generalized_linear_model", "statsmodels.genmod.families", "scipy.stats")
TABLES_IMPORTS = ("scipy.stats", "analysis.report.public_table", "analysis.report.publish", "analysis.tables.compare")


@contextlib.contextmanager
def _imported_meanwhile(modules: tuple[str, ...]):
    """Import ``modules`` in a background thread while the block runs (the engine's scan); wait for it after. A
    module that fails to import here is imported again where it is used, which reports the error."""
    import importlib
    import threading

    def work() -> None:
        for name in modules:
            try:
                importlib.import_module(name)
            except Exception:  # noqa: BLE001 - reported where the module is used
                return

    thread = threading.Thread(target=work, name="import-meanwhile", daemon=True)
    thread.start()
    try:
        yield
    finally:
        thread.join()


def _config(args):
    """The study configuration (``--config``, else the package's); the commands that need no codebook skip it."""
    return load_study_config(getattr(args, "config", None))


def _load(path: str, prostitution_only: bool = True, needs: tuple[str, ...] | None = None,
          meanwhile: tuple[str, ...] = ()) -> pd.DataFrame:
    """The file's standard frame: its prostitution / human-trafficking records, read by the engine (DuckDB: any
    size; pandas and the modules ``meanwhile`` are imported while it reads), or every record
    (``prostitution_only`` False: the pandas loader)."""
    if prostitution_only:
        import duckdb  # noqa: F401 - here, before the import thread starts: the engine's start is not kept waiting

        from ..public.engine import scan_public

        with _imported_meanwhile(PANDAS_IMPORTS + meanwhile):
            frame = scan_public(path, needs=needs)
        records = frame.attrs["records"]
    else:
        from ..public.load import load_public

        frame = load_public(path)
        records = len(frame)
    a = dict(frame.attrs)
    _say(f"{Path(path).name}: {a['label']}; {a['rows_read']} row(s) read"
         + (f", {a['rows_dropped']} dropped ({a['rows_dropped_reason']})" if a["rows_dropped"] else ""))
    if prostitution_only and len(frame) < records:
        _say(f"  kept the {len(frame)} prostitution / human-trafficking record(s) of {records}")
    _say(f"  Limitation: {a['limitation']}")
    return frame


def _report_unknown(frame: pd.DataFrame) -> None:
    from ..public.descriptions import unknown_descriptions

    unk = unknown_descriptions(frame)
    if len(unk):
        _say(f"  {len(unk)} description(s) not in the mapping (reported, not guessed; add them to "
             "analysis/public/descriptions.py):")
        for _, r in unk.head(20).iterrows():
            _say(f"    {r['description']} ({r['category']}): {r['n']} record(s)")


# --- fetch ------------------------------------------------------------------------------------------------


def cmd_fetch(args) -> int:
    from ..public.fetch import FetchError, fetch_rows, page_url

    out = Path(args.out)
    try:
        first = page_url(args.since, args.until, args.page_size, 0)
    except ValueError as exc:
        _err(f"error: {exc}")
        return EXIT_UNUSABLE
    check_output_file(out)  # before the download, not after it
    _say(f"Querying DataSF (dataset tmnf-yvry) for prostitution and human-trafficking rows, "
         f"{args.since}-{args.until}:")
    _say(f"  {first}")
    try:
        rows = fetch_rows(args.since, args.until, page_size=args.page_size, progress=lambda m: _say("  " + m))
    except FetchError as exc:
        _err(f"error: {exc}")
        return EXIT_UNUSABLE
    if out.suffix.lower() == ".csv":
        import pandas as pd

        flat = pd.DataFrame([{k: (json.dumps(v) if isinstance(v, (dict, list)) else v) for k, v in r.items()}
                             for r in rows])
        _write_csv(flat, out)
    else:
        write_text(out, json.dumps(rows, ensure_ascii=False) + "\n")
    n_inc = len({r.get("incidntnum") for r in rows})
    _say(f"Wrote {len(rows)} row(s) ({n_inc} distinct incident number(s)) to {out}")
    return EXIT_OK


# --- trends -------------------------------------------------------------------------------------------


def run_trends(path: str, out: Path, cfg, *, offset_path: str | None = None, start: str | None = None,
               end: str | None = None, se: str = "hac", n_harmonics: int = 2):
    frame = _load(path, needs=TRENDS_NEEDS, meanwhile=TRENDS_IMPORTS)
    from ..public.frame import counting_unit
    from ..public.monthly import monthly_counts
    from ..stats import its

    if (frame["source_format"] == "kaggle").any():
        _say("  WARNING: Kaggle rows cover alternate weeks only; monthly counts are about half the real "
             "totals and noisier. Prefer the daily counts table or a DataSF export.")
    monthly = monthly_counts(frame, start=start, end=end)
    unit = "incidents" if counting_unit(frame) == "incidents" else "offence rows"
    offset = None
    if offset_path:
        exposure = monthly_counts(_load(offset_path, prostitution_only=False), start=start, end=end)
        monthly = its.add_offset(monthly, exposure)
        offset = "offset"
    result = its.fit_its(monthly, cfg.unit_change_date, offset=offset, se=se, n_harmonics=n_harmonics)
    out.mkdir(parents=True, exist_ok=True)
    _write_csv(monthly[["month", "incidents"]].assign(month=monthly["month"].dt.strftime("%Y-%m")),
               out / "monthly_counts.csv")
    _write_csv(result.summary, out / "its_summary.csv")
    series = result.series.assign(month=result.series["month"].dt.strftime("%Y-%m"))
    _write_csv(series, out / "its_fitted.csv")
    return monthly, result, unit


def cmd_trends(args) -> int:
    out = Path(args.out)
    cfg = _config(args)
    monthly, result, unit = run_trends(args.path, out, cfg, offset_path=args.offset, start=args.start, end=args.end,
                                       se=args.se, n_harmonics=args.harmonics)
    from ..stats.its import format_summary  # (after the scan: it imports pandas, which loads beside the scan)

    _say(f"Monthly counts ({unit}): {len(monthly)} months, {monthly['month'].min():%Y-%m} to "
         f"{monthly['month'].max():%Y-%m}, {int(monthly['incidents'].sum())} in all")
    for note in result.notes:
        _say(f"  {note}")
    _say("Interrupted time series (rate ratios, 95% CI):")
    for line in format_summary(result).splitlines():
        _say("  " + line)
    _say(f"Wrote monthly_counts.csv, its_summary.csv and its_fitted.csv to {out}")
    return EXIT_OK


# --- tables -------------------------------------------------------------------------------------------


def cmd_tables(args) -> int:
    from ..intake.problems import UnusableInputError

    cb, cfg = load_scheme(args)
    frame = _load(args.path, needs=TABLES_NEEDS, meanwhile=TABLES_IMPORTS)
    from ..public import frame as F

    _report_unknown(frame)
    out = Path(args.out)
    written, made = [], {}
    for name, table in F.count_tables(frame, cfg).items():
        if isinstance(table, UnusableInputError):
            _say(f"  {name}: not available ({table})")
            continue
        made[name] = table
        _write_csv(F.with_shares(table), out / f"{name}_by_period.csv")
        written.append(f"{name}_by_period.csv")
        _say(f"{name} by period ({F.counting_unit(frame)}):")
        _say(F.share_table(table).to_string())
    available = {w.removesuffix("_by_period.csv") for w in written}
    compared = [(name, label, made[name]) for name, label in
                (("resolution", "Resolution"), ("description_group", "Offence description"), ("district", "District"))
                if name in available]
    if compared:
        written += write_public_comparison(compared, frame, cb, cfg, out)
    _say(f"Wrote {', '.join(written)} to {out}" if written else "No table could be made from this source.")
    return EXIT_OK if written else EXIT_UNUSABLE


def write_public_comparison(compared, frame: pd.DataFrame, cb, cfg, out: Path) -> list[str]:
    """The before/after table of the public record (:func:`analysis.report.pipeline.public_comparison`),
    suppressed and with the footer, as CSV, Markdown and HTML: published and written into ``out``."""
    from ..report.output import source_hashes, write_files
    from ..report.public_table import public_comparison
    from ..report.publish import Publication, publish

    pub = Publication()
    pub.add(public_comparison(compared, frame, cb, cfg, source_hashes(frame)))
    files = publish(pub, cfg)
    write_files(out, files)
    return list(files)  # csv, md, html


# --- frame and draw-sample ------------------------------------------------------------------------------


def cmd_frame(args) -> int:
    if args.out:
        check_output_file(Path(args.out))
    cfg = _config(args)
    frame = _load(args.path, needs=FRAME_NEEDS)
    from ..public.frame import frame_lower_bound, frame_table, per_year, sampling_frame

    sizes = per_year(frame)
    _say(f"Incidents per year ({len(frame)} record(s)):")
    for _, r in sizes.iterrows():
        mark = f"  <- sampled ({cfg.year_to_period[r['year']]})" if r["year"] in cfg.year_to_period else ""
        _say(f"  {r['year']}: {r['n']}{mark}")
    reason = frame_lower_bound(frame)
    if reason:
        _say(f"  LOWER BOUND: {reason}")
    elif len(frame):
        other = frame_table(frame, cfg)
        _say(f"  The sampled years' counts include {int(other['trafficking_pimping_pandering'].sum())} incident(s) "
             "described as human trafficking, pimping or pandering")
    if args.out:
        _write_csv(sampling_frame(frame, cfg).assign(date=lambda d: d["date"].dt.strftime("%Y-%m-%d")),
                   Path(args.out))
        _say(f"Wrote the sampling frame (one row per incident of the sampled years) to {args.out}")
    return EXIT_OK


def cmd_draw_sample(args) -> int:
    check_output_file(Path(args.out))
    cfg = _config(args)
    years = tuple(args.years) if args.years else None
    frame = _load(args.frame, needs=FRAME_NEEDS)
    from ..public.frame import draw_sample, sampling_frame

    sf = sampling_frame(frame, cfg, years=years)
    sample = draw_sample(sf, args.per_year, args.seed)
    _say(f"Stratified random sample, {args.per_year} per year, seed {args.seed}:")
    for year in (years or cfg.sampled_years):
        got = sample[sample["year"] == year]
        n_frame = int((sf["year"] == year).sum())
        short = "  (fewer incidents than requested: all taken)" if 0 < n_frame < args.per_year else ""
        _say(f"  {year}: {len(got)} of {n_frame}{short}")
    out = sample.assign(date=sample["date"].dt.strftime("%Y-%m-%d"))[
        ["year", "period", "draw", "incident_number", "date", "description", "year_frame_n"]]
    _write_csv(out, Path(args.out))
    _say(f"Wrote {len(out)} incident number(s) to {args.out}")
    return EXIT_OK


# --- convert --------------------------------------------------------------------------------------------


def cmd_convert(args) -> int:
    from ..public.engine import convert

    out = Path(args.out)
    check_output_file(out)
    info = convert(args.path, out)
    _say(f"Wrote {info['rows']} row(s), {info['columns']} column(s) of {Path(args.path).name} "
         f"({info['format']}) to {out}; give it to trends, tables, frame or draw-sample like the file itself")
    return EXIT_OK


# --- parser ---------------------------------------------------------------------------------------------


def _add_convert(psub) -> None:
    cv = psub.add_parser("convert", help="store a downloaded file as Parquet, for repeated runs",
                         description="Store PATH (any supported public SFPD file) as Parquet: every column as "
                         "text, in file order, with its form in the file's metadata. The other public commands "
                         "read OUT as they read PATH (same rows, values and row numbers in messages), reading "
                         "only the columns they need.")
    cv.add_argument("path", help="any supported public SFPD file")
    cv.add_argument("out", metavar="OUT", help="the Parquet file to write (e.g. incidents.parquet)")
    cv.set_defaults(func=cmd_convert)


def add_commands(sub) -> None:
    """Register ``public`` and its subcommands on the argparse sub-parsers object ``sub``."""
    from ..public.schemas import DATASF_HISTORICAL_YEARS  # (not from .fetch, which imports urllib, http, ssl)
    from ..scheme.config import paths

    FIRST_YEAR, LAST_YEAR = DATASF_HISTORICAL_YEARS

    pub = sub.add_parser("public", help="the public SFPD record: download, monthly trends, before/after tables",
                         description="Work with SFPD's public incident data (DataSF): download it, fit the "
                         "interrupted time series at the unit change, make before/after count tables, count "
                         "the sampling frame and draw a sample of incident numbers.")
    psub = pub.add_subparsers(dest="public_command", required=True, metavar="SUBCOMMAND")

    def common(sp):
        sp.add_argument("--config", help="study configuration YAML (default: the package's study.yaml)")

    f = psub.add_parser("fetch", help="download prostitution / trafficking rows from DataSF (needs internet)",
                        description="Page through DataSF's historical SFPD incidents (Socrata dataset "
                        "tmnf-yvry, 2003 to May 2018) for rows of category PROSTITUTION or mentioning HUMAN "
                        "TRAFFICKING, and write them to OUT (.json, or .csv).")
    f.add_argument("out", metavar="OUT", help="output file (.json or .csv)")
    f.add_argument("--since", type=whole_number(FIRST_YEAR, LAST_YEAR), required=True,
                   help=f"first year ({FIRST_YEAR} or later)")
    f.add_argument("--until", type=whole_number(FIRST_YEAR, LAST_YEAR), required=True,
                   help=f"last year ({LAST_YEAR} or earlier)")
    f.add_argument("--page-size", type=whole_number(1), default=50_000, help="rows per request (default 50000)")
    f.set_defaults(func=cmd_fetch)

    t = psub.add_parser("trends", help="monthly counts and the interrupted time series at the unit change",
                        description="Monthly counts from PATH and a segmented quasi-Poisson regression with "
                        "seasonality and Newey-West errors, interrupted at the study's unit_change_date. Writes "
                        "monthly_counts.csv (month, incidents), its_summary.csv (term, estimate, ci_low, "
                        "ci_high) and its_fitted.csv (observed, fitted and counterfactual series).")
    t.add_argument("path", help="any supported public SFPD file")
    t.add_argument("--out", default=str(paths().derived / "public_trends"),
                   help="output folder (default data/derived/public_trends)")
    t.add_argument("--offset", help="a file of all-category counts (e.g. the all-categories daily table) "
                   "used as log offset")
    t.add_argument("--start", type=year_month, help="first month (YYYY-MM)")
    t.add_argument("--end", type=year_month, help="last month (YYYY-MM)")
    t.add_argument("--se", choices=["hac", "quasi", "model"], default="hac",
                   help="standard errors: hac (Newey-West, default), quasi (quasi-Poisson), model (Poisson)")
    t.add_argument("--harmonics", type=whole_number(0, MAX_HARMONICS), default=2,
                   help=f"pairs of Fourier terms for seasonality, 0 to {MAX_HARMONICS} (default 2)")
    common(t)
    t.set_defaults(func=cmd_trends)

    tb = psub.add_parser("tables", help="before/after count tables (resolution, description, district)",
                         description="Counts per study period by resolution group, description group, codebook "
                         "charge category, description and district (period, category, n, period_n, share).")
    tb.add_argument("path", help="any supported public SFPD file")
    tb.add_argument("--out", default=str(paths().derived / "public_tables"),
                    help="output folder (default data/derived/public_tables)")
    common(tb)
    tb.set_defaults(func=cmd_tables)

    fr = psub.add_parser("frame", help="incidents per year: the sampling frame",
                         description="Count incidents per year (distinct incident numbers) and, with --out, "
                         "write one row per incident of the sampled years.")
    fr.add_argument("path", help="a public file with incident numbers (e.g. the one-row-per-incident table)")
    fr.add_argument("--out", help="CSV file for the sampling frame")
    common(fr)
    fr.set_defaults(func=cmd_frame)

    _add_convert(psub)

    d = psub.add_parser("draw-sample", help="a reproducible stratified random sample of incident numbers",
                        description="Draw N incidents per year (stratified by year; all of a year's incidents "
                        "when it has fewer) from FRAME with a fixed seed, to request the reports from SFPD.")
    d.add_argument("frame", metavar="FRAME", help="a public file with incident numbers")
    d.add_argument("--per-year", type=whole_number(1), required=True, help="incidents to draw per year")
    d.add_argument("--seed", type=whole_number(0), required=True, help="random seed; keep it with the list")
    d.add_argument("--years", type=int, nargs="+", help="years to sample (default: the study's sampled years)")
    d.add_argument("--out", required=True, help="CSV file for the sample")
    common(d)
    d.set_defaults(func=cmd_draw_sample)


def main(argv: list[str] | None = None) -> int:
    """``public`` alone, with the same error handling as ``python -m analysis`` (for use before wiring)."""
    import argparse

    from .console import run_command

    p = argparse.ArgumentParser(prog="python -m analysis")
    add_commands(p.add_subparsers(dest="command", required=True, metavar="COMMAND"))
    args = p.parse_args(argv)
    return run_command(args, p)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
