"""What every command-line module shares: printing for people, loading the codebook and the study configuration
once, checking option values, and turning any error into one line for people (never a raw traceback). Files
are written with :mod:`analysis.report.output` (``write_csv`` and friends are re-exported here).

Exit codes: 0 success / all rows valid, 1 some rows rejected, 2 unusable input or any error (argparse's usage
errors are 2 as well), 130 interrupted (Ctrl-C). ``--debug`` or ``ANALYSIS_DEBUG=1`` adds the traceback.
"""

from __future__ import annotations

import argparse
import errno
import math
import os
import re
import sys
import traceback
from pathlib import Path

from ..report.output import sha256_file, write_bytes, write_csv, write_text  # noqa: F401 - for the commands
from ..scheme.codebook import Codebook, load_codebook
from ..scheme.config import StudyConfig, load_study_config

EXIT_OK, EXIT_REJECTED, EXIT_UNUSABLE = 0, 1, 2
EXIT_INTERRUPTED = 130
DEBUG_ENV = "ANALYSIS_DEBUG"
BUG_HINT = ("This is a bug; please report it with the command you ran (add --debug, or set "
            f"{DEBUG_ENV}=1, to see where it happened).")


def say(msg: str = "") -> None:
    print(msg, flush=True)


def err(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def load_scheme(args: argparse.Namespace) -> tuple[Codebook, StudyConfig]:
    """The codebook and the study configuration (``--config``, else the package's), loaded once per command and
    passed down."""
    cfg = load_study_config(getattr(args, "config", None))
    return load_codebook(), cfg


def common_options(sp: argparse.ArgumentParser) -> None:
    """``--config`` and ``--max-listed``, for the commands that validate coded data."""
    sp.add_argument("--config", help="study configuration YAML (default: the package's study.yaml)")
    sp.add_argument("--max-listed", type=whole_number(0), default=25, help="errors to list on screen (default 25)")


# --- option values (argparse types: a bad value is a usage error naming the option, before any work) ------


def whole_number(minimum: int, maximum: int | None = None):
    """An argparse type: a whole number from ``minimum`` (to ``maximum``)."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number; got {text!r}") from None
        if value < minimum or (maximum is not None and value > maximum):
            span = f"from {minimum} to {maximum}" if maximum is not None else f"at least {minimum}"
            raise argparse.ArgumentTypeError(f"must be {span}; got {value}")
        return value
    parse.__name__ = "whole number"
    return parse


def share(text: str) -> float:
    """An argparse type: a number greater than 0 and at most 1."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number; got {text!r}") from None
    if not (math.isfinite(value) and 0 < value <= 1):
        raise argparse.ArgumentTypeError(f"must be greater than 0 and at most 1; got {text}")
    return value


def folder_name(text: str) -> str:
    """An argparse type: one plain folder name (no path separator, not '.' or '..'), e.g. a run date."""
    if not text or text in (".", "..") or "/" in text or "\\" in text or text != text.strip() or "\0" in text:
        raise argparse.ArgumentTypeError(f"must be one plain folder name such as 2017-11-15 (no '/'); got {text!r}")
    return text


def year_month(text: str) -> str:
    """An argparse type: a month written YYYY-MM."""
    m = re.fullmatch(r"([0-9]{4})-([0-9]{2})", text)
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise argparse.ArgumentTypeError(f"expected a month written YYYY-MM, such as 2011-10; got {text!r}")
    return text


def check_output_file(path: Path) -> None:
    """Refuse, before any work, an output file that is a folder or whose folder is a file."""
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(path))
            break


# --- errors for people ------------------------------------------------------------------------------------


def check_output_folder(path: Path) -> None:
    """Refuse, before any work, an output folder that is a file or lies under a file."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(path))
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(path))
            break


def _option_names(parser: argparse.ArgumentParser | None, args: argparse.Namespace) -> dict[str, str]:
    """dest -> how the user gave it (``--out``, or a positional's name) for the subcommand that ran."""
    leaf = _leaf(parser, getattr(args, "func", None)) if parser is not None else None
    if leaf is None:
        return {}
    return {a.dest: (a.option_strings[-1] if a.option_strings else (a.metavar or a.dest).upper())
            for a in leaf._actions if not isinstance(a, argparse._HelpAction)}


def _leaf(parser: argparse.ArgumentParser, func) -> argparse.ArgumentParser | None:
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        return parser if parser.get_default("func") is func else None
    for sp in subs[0].choices.values():
        found = _leaf(sp, func)
        if found is not None:
            return found
    return None


def _option_for(path: str, args: argparse.Namespace, names: dict[str, str]) -> str:
    """The option whose value is ``path``, lies inside it or holds it (``--out`` for OUT/2017-11-15), or ''."""
    p = os.path.normpath(path)
    for dest, value in vars(args).items():
        for v in value if isinstance(value, list) else [value]:
            if isinstance(v, str) and v and dest in names:
                v = os.path.normpath(v)
                if p == v or p.startswith(v.rstrip(os.sep) + os.sep) or v.startswith(p.rstrip(os.sep) + os.sep):
                    return names[dest]
    return ""


_OS_MESSAGES = {
    errno.ENOENT: "{p}{src}: no such file or folder; check the path",
    errno.EACCES: "{p}{src}: permission denied; check you may read or write it, or choose another place",
    errno.EPERM: "{p}{src}: permission denied; check you may read or write it, or choose another place",
    errno.ENOSPC: "{p}{src}: no space left on the disk; free some space or write somewhere else",
    errno.EDQUOT: "{p}{src}: disk quota exceeded; free some space or write somewhere else",
    errno.EROFS: "{p}{src}: the disk is read-only; write somewhere else",
    errno.EISDIR: "{p}{src} is a folder, but a file is needed here; give the name of a file",
    errno.ENOTDIR: "{p}{src}: part of this path is a file, not a folder; give a path inside a folder",
    errno.EEXIST: "{p}{src} is a file, but a folder is needed here; give a folder (or move the file away)",
    errno.ENAMETOOLONG: "{p}{src}: the name is too long; choose a shorter path",
    errno.EMFILE: "{p}{src}: too many files open at once; close other programs and run the command again",
}
_NO_NAME_MESSAGES = {
    errno.ENOSPC: "no space left on the disk while writing to {p}{src}; free some space or write somewhere else",
    errno.EDQUOT: "disk quota exceeded while writing to {p}{src}; free some space or write somewhere else",
    errno.EACCES: "permission denied while writing to {p}{src}; check you may write there, or choose another place",
    errno.EPERM: "permission denied while writing to {p}{src}; check you may write there, or choose another place",
    errno.EROFS: "the disk is read-only; {p}{src} cannot be written; write somewhere else",
}


def describe_os_error(exc: OSError, args: argparse.Namespace | None = None,
                      parser: argparse.ArgumentParser | None = None) -> str:
    """One line naming the path (or, when the error names none, the command's ``--out``) and what to do."""
    if exc.errno is None:  # raised by our own code with a message for people
        return str(exc)
    names = _option_names(parser, args) if args is not None else {}
    if exc.filename is not None:
        p = str(exc.filename)
        opt = _option_for(p, args, names) if args is not None else ""
        text = _OS_MESSAGES.get(exc.errno, "{p}{src}: {strerror}").format(
            p=p, strerror=exc.strerror, src=f" (from {opt})" if opt else "")
        if exc.filename2 is not None:
            text += f" (and {exc.filename2})"
        return text
    out = getattr(args, "out", None) if args is not None else None
    if out and exc.errno in _NO_NAME_MESSAGES:
        return _NO_NAME_MESSAGES[exc.errno].format(p=out, src=f" ({names.get('out', '--out')})")
    return f"{exc.strerror or exc} (while reading or writing files)"


def report_unusable(exc) -> int:
    """Every problem that makes the input unusable, one per line, naming file, sheet, row and column."""
    from ..intake.problems import problems_frame
    from ..intake.validate import describe_problem

    err("The input cannot be validated:")
    for _, p in problems_frame(exc.problems).iterrows():
        err("  " + describe_problem(p))
    return EXIT_UNUSABLE


def _known_errors() -> tuple[type[BaseException], ...]:
    """The project's errors whose message is already written for people."""
    from ..derive.income import IncomeLookupError
    from ..public.fetch import FetchError
    from ..report.output import DerivedFolderInUse
    from ..scheme.config import ConfigError
    from ..stats.its import SeriesError
    from ..tables.disclosure import CannotProtect
    from ..tables.standard import FrameError

    known: list[type[BaseException]] = [ConfigError, IncomeLookupError, FrameError, FetchError, DerivedFolderInUse,
                                        SeriesError, CannotProtect]
    try:
        from ..report.notebooks import NotebookFailed
    except ImportError:  # pragma: no cover - the report's extras are not installed
        pass
    else:
        known.append(NotebookFailed)
    return tuple(known)


def _one_line(text: str) -> str:
    """A message on one line: line breaks and the indentation after them become one space."""
    return re.sub(r"\s*\n\s*", " ", text.strip())


def debug_wanted(args: argparse.Namespace | None = None) -> bool:
    return bool(getattr(args, "debug", False)) or os.environ.get(DEBUG_ENV, "") not in ("", "0")


def handle_error(exc: BaseException, args: argparse.Namespace | None = None,
                 parser: argparse.ArgumentParser | None = None) -> int:
    """Print one line for people about ``exc`` (the traceback first with --debug) and return the exit code."""
    from ..intake.problems import UnusableInputError

    if debug_wanted(args):
        traceback.print_exception(exc, file=sys.stderr)
        sys.stderr.flush()
    if isinstance(exc, KeyboardInterrupt):
        err("Interrupted (Ctrl-C); files written so far may be incomplete: run the command again.")
        return EXIT_INTERRUPTED
    if isinstance(exc, UnusableInputError):
        return report_unusable(exc)
    if isinstance(exc, OSError) and exc.errno == errno.EPIPE and exc.filename is None:
        try:  # the program reading our output (e.g. `| head`) stopped: say nothing more on stdout
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        return EXIT_UNUSABLE
    if isinstance(exc, _known_errors()):
        from ..scheme.config import ConfigError

        hint = (". Check the file given with --config (the package's study.yaml shows every setting), or leave "
                "--config out"
                if isinstance(exc, ConfigError) and getattr(args, "config", None) else "")
        err(f"error: {_one_line(str(exc))}{hint}")
    elif isinstance(exc, OSError):
        err(f"error: {describe_os_error(exc, args, parser)}")
    elif isinstance(exc, MemoryError):
        err("error: out of memory; close other programs, or give a smaller input")
    elif isinstance(exc, ImportError):
        err(f"error: a package this command needs is missing or broken ({_one_line(str(exc))}); run `make setup` "
            "in the project folder (or pip install -r requirements.txt)")
    else:
        detail = str(exc).strip().splitlines()
        err(f"error: unexpected {type(exc).__name__}" + (f": {detail[0]}" if detail else "") + f". {BUG_HINT}")
    return EXIT_UNUSABLE


def run_command(args: argparse.Namespace, parser: argparse.ArgumentParser | None = None) -> int:
    """Run the subcommand ``args.func(args)``: every error becomes one line for people and exit 2, Ctrl-C 130."""
    try:
        return args.func(args)
    except (Exception, KeyboardInterrupt) as exc:  # noqa: BLE001 - nothing may reach the user as a traceback
        return handle_error(exc, args, parser)
