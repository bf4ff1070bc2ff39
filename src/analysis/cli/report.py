"""``python -m analysis report`` / ``make report``: the main job (:func:`analysis.report.pipeline.run`).

Parses the arguments, refuses unusable output folders and reads the sampling frame before the long work, loads
the codebook and the study configuration once, runs the pipeline with progress on screen, and says what to
send (``shared/``) and what never to send (``analyst/``). Exit codes: 0 all rows valid, 1 some rows rejected (the
pack is made from the valid ones), 2 an error, 128 + the signal number when stopped by SIGTERM or SIGINT.
"""

from __future__ import annotations

from pathlib import Path

from ..report.output import ReportInterrupted
from ..scheme.config import paths
from .console import check_output_folder, common_options, folder_name, load_scheme, whole_number
from .console import err as _err
from .console import say as _say
from .data import read_frame


def cmd_report(args) -> int:
    from ..report import pipeline

    cb, cfg = load_scheme(args)
    out = Path(args.out) if args.out else paths().reports
    for folder in (out, Path(args.derived) if args.derived else None):
        if folder is not None:
            check_output_folder(folder)  # before the long work, not after it
    inputs = pipeline.RunInputs(
        data_dir=Path(args.path), sfpd_dir=Path(args.sfpd_dir) if args.sfpd_dir else paths().shared_sfpd,
        derived_dir=Path(args.derived) if args.derived else paths().derived,
        frame=read_frame(args.frame), frame_path=Path(args.frame) if args.frame else None)
    _say(f"Meeting pack from {args.path} into {out}/<run date>/")
    try:
        res = pipeline.run(inputs, out, cb, cfg, run_date=args.run_date, notebooks=not args.no_notebooks,
                           n_boot=args.n_boot, force=args.force, progress=_say)
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
    r.add_argument("--derived", help="folder for the derived data and row-level validation outputs "
                   "(default data/derived)")
    r.add_argument("--force", action="store_true",
                   help="overwrite the derived folder even when it was made from other inputs")
    r.add_argument("--sfpd-dir", help="folder of the public SFPD files (default ../shared/data/sfpd)")
    r.add_argument("--frame", help="sampling frame CSV (year, reports): weight the tables to it")
    r.add_argument("--run-date", type=folder_name, help="name of the run folder (default: today, YYYY-MM-DD)")
    r.add_argument("--n-boot", type=whole_number(1), default=1000, help="bootstrap resamples (default 1000)")
    r.add_argument("--no-notebooks", action="store_true", help="skip executing the notebooks")
    common_options(r)
    r.set_defaults(func=cmd_report)
