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


def test_a_notebook_that_stops_with_an_error_is_kept_with_the_error_and_its_page(tmp_path):
    """The report's notebooks are written when they have run, not after every cell (issue 15), so the copy of one
    that stops with an error must still be written, with the error, and exported: the analyst finds the error
    there."""
    import nbformat

    from analysis.report.notebooks import _run_one

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    params = nbformat.v4.new_code_cell("x = 0")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell("print('before', x)"),
                nbformat.v4.new_code_cell("raise ValueError('boom')"), nbformat.v4.new_code_cell("print('after')")]
    src = tmp_path / "nb.ipynb"
    nbformat.write(nb, src)
    out = tmp_path / "out"
    out.mkdir()
    name, error = _run_one(("nb", src, out, {"x": 7}, []))
    assert (name, error) == ("nb", "ValueError: boom (cell 4)")  # papermill adds the injected parameters cell
    kept = nbformat.read(out / "nb.ipynb", as_version=4)
    texts = [o.get("text", "") + o.get("evalue", "") for c in kept.cells if c.cell_type == "code" for o in c.outputs]
    assert "before 7\n" in texts and "boom" in texts and "after\n" not in texts
    assert "ValueError" in (out / "nb.html").read_text(encoding="utf-8")


def test_a_notebook_kernel_leaves_without_teardown_and_without_a_trace_in_the_namespace(tmp_path):
    """KERNEL_ARGUMENTS (what the report's and the tests' kernels start with) make a kernel leave by os._exit after
    the notebook: an object's finaliser, which the interpreter's teardown would run, does not run; the atexit
    functions registered in the notebook do; and the line leaves no name behind. Without the arguments the
    finaliser runs (the control: this test can fail)."""
    import pytest

    pytest.importorskip("jupyter_client")
    from jupyter_client.manager import start_new_kernel

    from analysis.report.notebooks import KERNEL_ARGUMENTS

    def run(extra: list[str], tag: str) -> list[str]:
        km, kc = start_new_kernel(kernel_name="python3", extra_arguments=extra)
        seen = []
        try:
            kc.execute_interactive(
                "import atexit\n"
                f"class Mark:\n    def __del__(self):\n        open(r'{tmp_path}/{tag}-teardown', 'w').close()\n"
                "mark = Mark()\n"
                f"atexit.register(lambda: open(r'{tmp_path}/{tag}-atexit', 'w').close())\n"
                "print(sorted(n for n in dir() if n in ('_a', '_o', 'os')))",
                timeout=60, output_hook=lambda msg: seen.append(msg["content"].get("text", "")))
        finally:
            kc.stop_channels()
            km.shutdown_kernel(now=False)
        return sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(tag)) + ["".join(seen).strip()]

    assert run(list(KERNEL_ARGUMENTS), "fast") == ["fast-atexit", "[]"]
    assert run([], "plain") == ["plain-atexit", "plain-teardown", "[]"]
