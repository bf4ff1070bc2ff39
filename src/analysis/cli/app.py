"""Command line: ``python -m analysis <command> --help``. The parser and :func:`main`.

The command line is a thin adapter: each command group has its module, which parses its arguments, loads the
codebook and the study configuration once, calls the pipeline (:mod:`analysis.report.pipeline`) or a module,
prints, and returns the exit code; :mod:`.console` turns any error into one line for people.

- :mod:`.data`        validate, derive, synth, tables
- :mod:`.coders`      template, redcap-dictionary, import-redcap, manual
- :mod:`.reliability` reliability sample | report
- :mod:`.public`      public fetch | trends | tables | frame | draw-sample
- :mod:`.report`      report (the main job)
- :mod:`.questions`   questions (the committee's questions: coverage and findings)
- :mod:`.audit`       audit-disclosure (attack a shared folder)

Exit codes: 0 success / all rows valid, 1 some rows rejected, 2 unusable input or any other error (one line for
people, never a raw traceback; ``--debug`` or ANALYSIS_DEBUG=1 shows it), 130 interrupted. Nothing outside
``analysis.cli`` imports it (``analysis.__main__`` calls :func:`main`).
"""

from __future__ import annotations

import argparse

from . import audit as cli_audit
from . import coders as cli_coders
from . import data as cli_data
from . import public as cli_public
from . import questions as cli_questions
from . import reliability as cli_reliability
from . import report as cli_report
from .console import handle_error, run_command

# the groups in the order their commands are listed by --help
GROUPS = (cli_data, cli_report, cli_questions, cli_coders, cli_reliability, cli_public, cli_audit)


class _Version(argparse.Action):
    """argparse's ``version`` action, reading the version only when asked for it (reading the installed
    distributions' metadata takes about 0.05 s, at the start of every command otherwise)."""

    def __init__(self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, help=None):
        super().__init__(option_strings=option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser, namespace, values, option_string=None):
        from .. import __version__

        print(f"{parser.prog} {__version__}")  # (on stdout, as argparse's own)
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m analysis",
        description="SFPD prostitution / human-trafficking incident-report study: coding scheme, validation, "
        "derived tables. Exit codes: 0 ok, 1 some rows rejected, 2 unusable input or any other error (one line; "
        "--debug or ANALYSIS_DEBUG=1 adds the traceback), 130 interrupted.",
    )
    p.add_argument("--version", action=_Version, help="show program's version number and exit")
    p.add_argument("--debug", action="store_true", default=False,
                   help="on an error, also print the traceback (or set ANALYSIS_DEBUG=1)")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for group in GROUPS:
        group.add_commands(sub)
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
