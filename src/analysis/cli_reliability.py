"""Subcommands registered into ``python -m analysis`` (see cli.build_parser)."""

from __future__ import annotations


def add_commands(sub) -> None:
    """Register this module's subcommands on the argparse sub-parsers object ``sub``."""
