"""The command line: a thin adapter that parses arguments, calls the pipeline or a module, prints, and maps errors to exit codes. Nothing imports it."""

from .app import main

__all__ = ["main"]
