"""The notebook workers of the report (issue 15: the quick wins)."""

from __future__ import annotations


def test_notebook_workers_import_jsonschema_without_rfc3987_syntax():
    """Issue 15: jsonschema's optional rfc3987-syntax costs seconds in every notebook worker; nbformat still
    validates notebooks without it."""
    import subprocess
    import sys

    code = ("import sys; from analysis.report.notebooks import skip_slow_imports; skip_slow_imports(); "
            "import nbformat; nb = nbformat.v4.new_notebook(); nbformat.validate(nb); "
            "print(sys.modules['rfc3987_syntax'], 'jsonschema' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["None", "True"]
