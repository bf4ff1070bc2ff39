"""Subcommand registered into ``python -m analysis`` (see :func:`analysis.cli.app.build_parser`):
``audit-disclosure``.

    python -m analysis audit-disclosure SHARED_DIR [--out FILE.txt] [--config FILE]

Reads only the shared folder (every table format, figure data, the pack's text, the reliability summary, the
public tables) and the public codebook, and says which hidden cells an attacker can pin or narrow into 1..t-1,
and which counts from 1 to t-1 are printed (:mod:`analysis.tables.audit`). Exit codes: 0 nothing leaks, 1 leaks
found (or problems: printed numbers the audit cannot reproduce, so it cannot vouch for them), 2 the folder cannot
be read.
"""

from __future__ import annotations

from pathlib import Path

from .console import EXIT_UNUSABLE, check_output_file, err, load_scheme, say, write_text

def read_shared_folder(folder: Path) -> dict[str, bytes]:
    """``{path relative to the folder (with /): bytes}`` of every file under ``folder``: the audit decides what
    each is (a chart's picture is covered by its PDF; a file it does not read is a finding, never skipped)."""
    out = {}
    for p in sorted(folder.rglob("*")):
        if p.is_file():
            out[p.relative_to(folder).as_posix()] = p.read_bytes()
    return out


def cmd_audit(args) -> int:
    from ..tables.audit.core import UnreadableFolder, audit
    from ..tables.audit.summary import format_report

    folder = Path(args.shared_dir)
    if not folder.exists():
        err(f"error: {folder}: no such folder (give the shared folder of a report run: REPORTS/<date>/shared)")
        return EXIT_UNUSABLE
    if not folder.is_dir():
        err(f"error: {folder}: not a folder (give the shared folder of a report run: REPORTS/<date>/shared)")
        return EXIT_UNUSABLE
    if args.out:
        check_output_file(Path(args.out))
    cb, cfg = load_scheme(args)
    files = read_shared_folder(folder)
    try:
        result = audit(files, cb, cfg)
    except UnreadableFolder as exc:
        err(" ".join(f"error: {folder}: {exc}".split()))
        return EXIT_UNUSABLE
    text = format_report(result, str(folder))
    say(text.rstrip("\n"))
    if args.out:
        write_text(Path(args.out), text)
        say(f"Wrote the audit to {args.out}")
    return result.exit_code


def add_commands(sub) -> None:
    """Register this module's subcommand on the argparse sub-parsers object ``sub``."""
    a = sub.add_parser("audit-disclosure", help="attack a shared folder: can any count below the threshold be "
                       "worked out?",
                       description="Read a report's shared folder (and the public codebook) as an outsider would, "
                       "build every linear relation between the published numbers, add the printed tests, and "
                       "prove with an integer program each hidden cell's smallest and largest possible value. Lists "
                       "every hidden cell that can be narrowed into 1..threshold-1 (file, line, column, row, range, "
                       "why) and every printed count below the threshold. Exit 0 nothing leaks, 1 leaks found "
                       "(or printed numbers it cannot reproduce, so cannot vouch for), 2 the folder cannot be read.")
    a.add_argument("shared_dir", metavar="SHARED_DIR", help="the shared folder of a report run (OUT/<date>/shared)")
    a.add_argument("--out", help="also write the audit to this text file")
    a.add_argument("--config", help="study configuration YAML (default: the package's study.yaml)")
    a.set_defaults(func=cmd_audit)
