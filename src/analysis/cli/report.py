"""``python -m analysis report`` / ``make report``: the main job (:func:`analysis.report.pipeline.run`).

Parses the arguments, refuses unusable output folders and reads the sampling frame before the long work, loads
the codebook and the study configuration once, runs the pipeline with progress on screen, and says what to
send (``shared/``) and what never to send (``analyst/``). Exit codes: 0 all rows valid, 1 some rows rejected (the
pack is made from the valid ones), 2 an error, 128 + the signal number when stopped by SIGTERM or SIGINT.
"""

from __future__ import annotations

import contextlib
import dataclasses
from pathlib import Path

from ..report.output import ReportInterrupted, stop_on_signals
from ..scheme.config import paths
from .console import check_output_folder, common_options, folder_name, load_scheme, whole_number
from .console import err as _err
from .console import say as _say
from .data import read_frame, read_income_lookup


def cmd_report(args) -> int:
    cb, cfg = load_scheme(args)
    if args.meeting or args.meeting_date:  # this run's meeting, instead of the study configuration's
        cfg = dataclasses.replace(cfg, meeting=args.meeting or cfg.meeting,
                                  meeting_date=args.meeting_date or cfg.meeting_date)
    out = Path(args.out) if args.out else paths().reports
    for folder in (out, Path(args.derived) if args.derived else None):
        if folder is not None:
            check_output_folder(folder)  # before the long work, not after it
    frame, income_lookup = read_frame(args.frame), read_income_lookup(args.income_lookup)
    # the notebook workers start now: they import what they run notebooks with, and start their kernels, while this
    # process imports the pipeline (one core each); the pipeline lets them go, or stops them if the run fails
    from ..report.notebooks import notebook_workers, report_workers

    try:
        # (a signal from now on stops the workers too: before the run folder is made, nothing was written)
        with stop_on_signals(), (notebook_workers(report_workers()) if not args.no_notebooks
                                 else contextlib.nullcontext()) as workers:
            res = _run(args, cb, cfg, out, workers, frame, income_lookup)
    except ReportInterrupted as exc:
        _err(f"error: the report was stopped ({exc.name}) before it finished; {exc.where or 'nothing was written.'}")
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
    if frame:  # last, beside what to share
        from ..tables.compare import weighted_disclosure_warning

        _say(weighted_disclosure_warning(cfg.suppression_threshold))
    return res.exit_code


def _run(args, cb, cfg, out: Path, workers, frame, income_lookup):
    from ..report import pipeline

    inputs = pipeline.RunInputs(
        data_dir=Path(args.path), sfpd_dir=Path(args.sfpd_dir) if args.sfpd_dir else paths().shared_sfpd,
        derived_dir=Path(args.derived) if args.derived else paths().derived,
        frame=frame, frame_path=Path(args.frame) if args.frame else None, income_lookup=income_lookup,
        income_lookup_name=Path(args.income_lookup).name if args.income_lookup else None)
    _say(f"Meeting pack from {args.path} into {out}/<run date>/")
    if not args.income_lookup:
        _say("Buyer income strata: not available (no --income-lookup file given).")
    return pipeline.run(inputs, out, cb, cfg, run_date=args.run_date, notebooks=not args.no_notebooks,
                        n_boot=args.n_boot, force=args.force, progress=_say, workers=workers)


def _one_line(text: str) -> str:
    """A meeting's name or date for the cover: one line of 1 to 120 characters."""
    import argparse

    if not text.strip() or "\n" in text or "\r" in text or len(text) > 120:
        raise argparse.ArgumentTypeError(f"{text!r}: give one line of 1 to 120 characters")
    return text.strip()


def add_commands(sub) -> None:
    """Register ``report`` on the argparse sub-parsers object ``sub``."""
    r = sub.add_parser("report", help="the main job: the whole pipeline and the meeting pack",
                       description="Validate and derive PATH (default: the bundled synthetic example), then "
                       "reliability, the before/after tables, the public record, the charts, the meeting pack "
                       "(HTML and PDF) and the five notebooks, into OUT/<run date>/: shared/ is the folder to "
                       "send, analyst/ (unsuppressed tables, executed notebooks) is never sent. The run is written "
                       "to a temporary folder and moved into place only when every stage succeeded.")
    r.add_argument("path", nargs="?", default=str(paths().example), help="coded data (default data/raw/example)")
    r.add_argument("--out", help="reports folder (default reports/)")
    r.add_argument("--meeting", type=_one_line, help="the meeting the pack is for, as its cover names it (default: the study "
                   "configuration's meeting.name)")
    r.add_argument("--meeting-date", type=_one_line, help="the meeting's date as the cover shows it, e.g. '16 November 2017' "
                   "(default: the study configuration's meeting.date)")
    r.add_argument("--derived", help="folder for the derived data and row-level validation outputs "
                   "(default data/derived)")
    r.add_argument("--force", action="store_true",
                   help="overwrite the derived folder even when it was made from other inputs")
    r.add_argument("--sfpd-dir", help="folder of the public SFPD files (default ../shared/data/sfpd)")
    r.add_argument("--frame", help="sampling frame CSV (year, reports): weight the tables to it")
    r.add_argument("--run-date", type=folder_name, help="name of the run folder (default: today, YYYY-MM-DD)")
    r.add_argument("--income-lookup", help="ACS median household income by ZIP (table B19013 CSV) for the buyers' "
                   "income strata; without it the strata are 'not available'")
    r.add_argument("--n-boot", type=whole_number(1), default=None,
                   help="bootstrap resamples (default: the study configuration's bootstrap.resamples)")
    r.add_argument("--no-notebooks", action="store_true", help="skip executing the notebooks")
    common_options(r)
    r.set_defaults(func=cmd_report)
