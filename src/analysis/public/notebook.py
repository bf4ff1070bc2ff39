"""Helpers for notebook 03: check the shared data folder and stop the notebook gracefully without it."""

from __future__ import annotations

from pathlib import Path

from .load import SHARED_FILES, shared_folder_problems


def _skip_remaining_cells(reason: str) -> bool:
    """Turn every later cell of the running IPython session into a comment (no code runs, no error)."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - notebooks always have IPython
        return False
    ip = get_ipython()
    if ip is None:
        return False

    def skip(lines: list[str]) -> list[str]:
        return [f"# skipped: {reason}\n"]

    ip.input_transformers_post.append(skip)
    return True


def require_shared_folder(sfpd_dir: str | Path) -> bool:
    """Say which shared files are present; when any is missing, say so and skip the rest of the notebook.

    Returns True when every file is there. In a notebook a missing folder is not an error: the message is
    printed and the remaining cells are skipped (no traceback).
    """
    missing = shared_folder_problems(sfpd_dir)
    if not missing:
        print(f"Shared SFPD data: {Path(sfpd_dir)} ({len(SHARED_FILES)} files present)")
        return True
    print("SHARED DATA NOT FOUND: this notebook needs the public SFPD files (../shared/data/sfpd, see its "
          "PROVENANCE.md).")
    for m in missing:
        print(f"  - {m}")
    print("Set the sfpd_dir parameter (or ANALYSIS_SFPD_DIR) to the folder holding them. The remaining cells "
          "are skipped.")
    _skip_remaining_cells("the shared SFPD data folder is missing")
    return False
