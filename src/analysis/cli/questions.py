"""``python -m analysis questions``: the committee's questions and what answers each.

For every question of the codebook's ``questions:`` section: its wording, the variables that answer it, the rows
of its standard table, the chart, and the findings line, written from the coded data at PATH (default the
synthetic example) exactly as the report writes it (the displayed, suppressed tables). ``--scheme-only`` prints
the coverage from the codebook alone (no data read). Exit 0 when every question is covered (a variable, table
rows and a finding), 1 when one is not.
"""

from __future__ import annotations

from pathlib import Path

from ..scheme.config import paths
from .console import EXIT_OK, EXIT_REJECTED, common_options, load_scheme, whole_number
from .console import say as _say
from .data import read_frame, read_income_lookup


def cmd_questions(args) -> int:
    from ..report.findings import coverage_lines

    cb, cfg = load_scheme(args)
    findings = None
    if not args.scheme_only:
        from ..report.pipeline import findings_for_data

        lookup = read_income_lookup(args.income_lookup)
        findings = findings_for_data(Path(args.path), cb, cfg, frame=read_frame(args.frame), income_lookup=lookup,
                                     n_boot=args.n_boot if args.n_boot is not None else cfg.bootstrap_resamples)
        _say(f"Committee questions, answered from {args.path}" + (" (SYNTHETIC DATA)" if findings.synthetic else "")
             + ":")
    else:
        _say("Committee questions in the codebook (--scheme-only: no data read):")
    lines, uncovered = coverage_lines(cb, findings)
    for line in lines:
        _say(line)
    if uncovered:
        _say(f"Not covered: {', '.join(uncovered)}")
        return EXIT_REJECTED
    _say(f"All {len(cb.questions)} questions have variables" + (", table rows and a finding." if findings else "."))
    return EXIT_OK


def add_commands(sub) -> None:
    """Register ``questions`` on the argparse sub-parsers object ``sub``."""
    q = sub.add_parser("questions", help="the committee's questions: variables, table rows, chart, finding",
                       description="For every committee question in the codebook: the variables that answer it, "
                       "its table rows, its chart and its findings line (from the coded data at PATH, as the "
                       "report writes it). Exit 1 when a question has no variable, no table row or no finding.")
    q.add_argument("path", nargs="?", default=str(paths().example), help="coded data (default data/raw/example)")
    q.add_argument("--scheme-only", action="store_true", help="only the codebook's coverage; read no data")
    q.add_argument("--income-lookup", help="ACS median household income by ZIP (table B19013 CSV)")
    q.add_argument("--frame", help="sampling frame CSV (year, reports): weight the tables to it")
    q.add_argument("--n-boot", type=whole_number(1), default=None,
                   help="bootstrap resamples (default: the study configuration's)")
    common_options(q)
    q.set_defaults(func=cmd_questions)
