"""The notebook workers of the report (issue 15: the quick wins)."""

from __future__ import annotations

import pytest


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


def _namespace_notebook(folder):
    """A notebook that prints its namespace, its first cell's number and whether pandas is loaded."""
    return _two_cell_notebook(folder / "nb.ipynb", (
        "import sys\n"
        "print(sorted(n for n in dir() if not n.startswith('__')), get_ipython().execution_count)\n"
        "print('pandas' in sys.modules, 'analysis.report.pipeline' in sys.modules)"))


def _two_cell_notebook(path, code: str):
    """A notebook at ``path``: a parameters cell (``x = 0``), then ``code``."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    params = nbformat.v4.new_code_cell("x = 0")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell(code)]
    nbformat.write(nb, path)
    return path


def _printed(path):
    import nbformat

    nb = nbformat.read(path, as_version=4)
    return "".join(o.get("text", "") for o in nb.cells[-1].outputs).splitlines()


def test_a_kernel_started_ahead_runs_the_notebook_as_a_fresh_one_with_its_modules_loaded(tmp_path, monkeypatch):
    """Issue 15: a report's worker starts a kernel ahead of its notebook, which imports what the notebooks import
    (WARM_UP). The notebook run in it sees the namespace and cell numbers of a fresh kernel (the control: run the
    same notebook without a kernel ahead), only its modules are loaded; the kernel is shut down afterwards."""
    import multiprocessing

    import psutil

    from analysis.report import notebooks as N

    src = _namespace_notebook(tmp_path)
    out_fresh, out_ahead = tmp_path / "fresh", tmp_path / "ahead"
    out_fresh.mkdir()
    out_ahead.mkdir()
    assert N._run_one(("nb", src, out_fresh, {"x": 7}, [])) == ("nb", "")  # no kernel ahead (not a worker)
    lock = multiprocessing.Lock()
    monkeypatch.setattr(N, "_SHARED", (lock, multiprocessing.Value("i", 1, lock=False),
                                       multiprocessing.Value("i", 0, lock=False)))
    monkeypatch.setattr(N, "_SPARES", [])
    N._more_spares(2, tmp_path)  # one notebook waits: one kernel, not two
    assert len(N._SPARES) == 1 and N._SHARED[2].value == 1
    km = N._SPARES[0][0]
    pid = km.provisioner.process.pid
    assert N._run_one(("nb", src, out_ahead, {"x": 7}, [])) == ("nb", "")
    fresh, ahead = _printed(out_fresh / "nb.ipynb"), _printed(out_ahead / "nb.ipynb")
    assert fresh[0] == ahead[0] and fresh[0].endswith(" 4")  # same names and cell number
    assert "'x'" in fresh[0] and "'_w'" not in ahead[0] and "'_m'" not in ahead[0]
    assert (fresh[1], ahead[1]) == ("False False", "True True")
    assert N._SPARES == [] and (N._SHARED[1].value, N._SHARED[2].value) == (0, 0)
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE


def _state_notebook(folder):
    """A notebook that prints its namespace and first cell's number, a pandas option, whether a warnings filter is
    there, its pyplot figures and IPython's input transformers, then changes them all."""
    return _two_cell_notebook(folder / "state.ipynb", (
        "import sys, warnings\n"
        "import pandas as pd\n"
        "import matplotlib.pyplot as plt\n"
        "print(sorted(dir()), get_ipython().execution_count)\n"
        "print(pd.get_option('display.max_rows'), any(f[2] is UserWarning and f[0] == 'error' "
        "for f in warnings.filters), len(plt.get_fignums()), len(get_ipython().input_transformers_post))\n"
        "pd.set_option('display.max_rows', 3)\n"
        "warnings.simplefilter('error', UserWarning)\n"
        "get_ipython().input_transformers_post.append(lambda lines: lines)  # (as notebook 03 skips its cells)\n"
        "fig = plt.figure()\n"
        "leftover = 1"))


def test_a_worker_runs_its_next_notebook_in_the_same_kernel_reset_as_a_fresh_one(tmp_path, monkeypatch):
    """Issue 15: a worker's kernel that has run a notebook to its end runs the worker's next notebook (starting
    another kernel imports what the notebooks import again: 2.7 s of CPU a notebook), reset first (RESET): the
    second notebook sees what it sees in a fresh kernel (the control: the same notebook without a kernel ahead):
    the namespace and cell numbers, pandas' options, the warnings filters, no pyplot figure, though the first
    changed them all. With nothing left to run, the kernel is shut down. Without the reset the test fails."""
    import multiprocessing

    import psutil

    from analysis.report import notebooks as N

    src = _state_notebook(tmp_path)
    outs = [tmp_path / name for name in ("fresh", "first", "second", "noreset")]
    for out in outs:
        out.mkdir()
    assert N._run_one(("state", src, outs[0], {"x": 7}, [])) == ("state", "")  # no kernel ahead: the control

    def shared(notebooks: int):
        monkeypatch.setattr(N, "_SHARED", (multiprocessing.Lock(), multiprocessing.Value("i", notebooks, lock=False),
                                           multiprocessing.Value("i", 0, lock=False)))
        monkeypatch.setattr(N, "_SPARES", [])
        N._more_spares(1, tmp_path)
        return N._SPARES[0][0].provisioner.process.pid

    pid = shared(2)
    assert N._run_one(("state", src, outs[1], {"x": 7}, [])) == ("state", "")
    assert len(N._SPARES) == 1 and N._SPARES[0][0].provisioner.process.pid == pid  # kept, no other started
    assert N._run_one(("state", src, outs[2], {"x": 7}, [])) == ("state", "")
    fresh, first, second = (_printed(out / "state.ipynb") for out in outs[:3])
    assert fresh == first == second and fresh[0].endswith(" 4") and fresh[1].startswith("60 False 0 ")
    assert N._SPARES == [] and (N._SHARED[1].value, N._SHARED[2].value) == (0, 0)
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE

    # the control: the kernel used again as the first notebook left it (the inline backend closes figures itself)
    monkeypatch.setattr(N, "RESET", "True")
    shared(2)
    N._run_one(("state", src, outs[3], {"x": 7}, []))
    N._run_one(("state", src, outs[3], {"x": 7}, []))
    noreset = _printed(outs[3] / "state.ipynb")
    transformers = int(fresh[1].split()[-1])
    assert "'leftover'" in noreset[0] and noreset[1] == f"3 True 0 {transformers + 1}"

    # a kernel the reset does not make as it was is not used again: the next notebook runs in another, fresh one
    monkeypatch.setattr(N, "RESET", "False")
    pid = shared(2)
    N._run_one(("state", src, outs[3], {"x": 7}, []))
    N._run_one(("state", src, outs[3], {"x": 7}, []))
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    assert _printed(outs[3] / "state.ipynb") == fresh
    N._stop_spares()


def test_workers_start_no_more_kernels_ahead_than_notebooks_and_stop_them_when_left(tmp_path):
    """The report's workers start kernels ahead before any notebook is given to them, no more than there are
    notebooks; left without running any, the workers and those kernels are stopped."""
    import time
    from pathlib import Path

    import psutil

    from analysis.report.notebooks import notebook_workers

    with notebook_workers(workers=2, notebooks=1) as workers:
        processes = workers.processes()
        deadline = time.monotonic() + 60
        kernels = []
        while time.monotonic() < deadline:
            pids = workers.pids()
            kernels = [c for p in pids if psutil.pid_exists(p) for c in psutil.Process(p).children(recursive=True)]
            if len(pids) == 2 and kernels:
                time.sleep(1.0)  # (the other worker would have started its kernel by now)
                kernels = [c for p in pids for c in psutil.Process(p).children(recursive=True)]
                break
            time.sleep(0.1)
        assert len(kernels) == 1 and "ipykernel" in " ".join(kernels[0].cmdline())
        assert all(psutil.Process(p).nice() == 19 for p in pids) and kernels[0].nice() == 19
        group = Path(f"/proc/{kernels[0].pid}/autogroup")  # (Linux: the kernel's own session, lowered too)
        if group.exists():
            assert group.read_text().split()[-2:] == ["nice", "19"]
    gone, alive = psutil.wait_procs([psutil.Process(p) for p in pids if psutil.pid_exists(p)] + kernels, timeout=10)
    assert alive == []
    assert len(processes) == 2 and not any(p.is_alive() for p in processes)


def test_stopped_workers_are_reaped_by_multiprocessing():
    """Workers stopped by _stop_tree are waited for through their multiprocessing objects: one reaped by psutil
    stays alive to multiprocessing (the control), and the process pool's clean-up at exit then waits for it
    forever (a report stopped by SIGTERM while another process kept the machine busy did not leave)."""
    import multiprocessing
    import time

    from analysis.report.notebooks import _stop_tree

    ctx = multiprocessing.get_context("fork")
    ours, control = ctx.Process(target=time.sleep, args=(60,)), ctx.Process(target=time.sleep, args=(60,))
    ours.start()
    control.start()
    _stop_tree([ours.pid], processes=[ours])
    _stop_tree([control.pid])
    assert not ours.is_alive() and ours.exitcode == -9
    assert control.is_alive()  # reaped by psutil: multiprocessing cannot tell (the fault this avoids)


def _interrupted_at_shutdown(manager_class, tmp_path) -> bool:
    """Whether a kernel of ``manager_class`` gets SIGINT when it is shut down: the kernel is made to record a
    SIGINT in a file (its idle handler, restored after each message, is replaced by one that writes the file)."""
    import time

    from jupyter_core.utils import run_sync

    mark = tmp_path / f"{manager_class.__name__}.interrupted"
    km = manager_class(kernel_name="python3")
    run_sync(km.start_kernel)(cwd=str(tmp_path))
    kc = km.client()
    kc.start_channels()
    try:
        run_sync(kc.wait_for_ready)(timeout=60)
        code = ("import signal\nk = get_ipython().kernel\n"
                f"k.post_handler_hook = lambda: signal.signal(signal.SIGINT, lambda *a: open({str(mark)!r}, 'w').close())")
        run_sync(kc.execute_interactive)(code, timeout=60)
        run_sync(km.shutdown_kernel)()
        time.sleep(0.2)
    finally:
        kc.stop_channels()
        if run_sync(km.is_alive)():
            run_sync(km.shutdown_kernel)(now=True)
    return mark.exists()


def test_a_kernel_started_ahead_is_shut_down_without_an_interrupt(tmp_path):
    """jupyter_client interrupts a kernel before asking it to shut down; a kernel started ahead (lowest priority)
    was often still finishing its last message then, and ipykernel printed 'ERROR | KeyboardInterrupt caught in
    kernel' into the report's output. Its manager asks it to shut down without the interrupt (the control:
    jupyter_client's manager interrupts it)."""
    from jupyter_client.manager import AsyncKernelManager

    from analysis.report import notebooks as N

    assert _interrupted_at_shutdown(AsyncKernelManager, tmp_path)
    assert not _interrupted_at_shutdown(N._kernel_ahead_manager(), tmp_path)


def test_a_held_notebook_is_given_last_and_waits_for_its_release_and_its_files(tmp_path, monkeypatch):
    """The report's notebook 04 waits for the pack's charts: it is given to the workers last (both workers run the
    others meanwhile), waits until released, and is then given each parameter whose file was written; a notebook
    released without its file runs without it."""
    import threading
    import time
    from concurrent.futures import Future

    import papermill

    from analysis.report import notebooks as N

    submitted, executed = [], []

    class Pool:
        def submit(self, fn, job):
            submitted.append(job)
            done = Future()
            done.set_result((job[0], ""))
            return done

    released = threading.Event()
    workers = N.NotebookWorkers(Pool(), released)
    charts = tmp_path / "charts.pickle"
    with N.notebooks_running(tmp_path, tmp_path, tmp_path / "out", n_boot=10, workers=workers,
                             held={"04_november_meeting_charts": {"charts_file": str(charts)}}) as running:
        assert [job[0] for job in submitted] == [*N.STARTED_IN[1:], N.STARTED_IN[0]]  # (04 last)
        assert submitted[-1][5] == {"charts_file": str(charts)} and all(job[5] is None for job in submitted[:-1])
        assert not released.is_set()
        running.release()
        assert released.is_set()
        assert running.wait() == list(N.NOTEBOOKS)

    monkeypatch.setattr(papermill, "execute_notebook", lambda src, dst, parameters, **kw: executed.append(parameters))
    monkeypatch.setattr(N, "_RELEASED", threading.Event())
    name, src, out, params, replacements, held = submitted[-1]
    run = threading.Thread(target=N._run_one, args=((name, src, tmp_path, params, replacements, held),))
    run.start()
    time.sleep(0.3)
    assert executed == []  # waiting for its release
    charts.write_bytes(b"charts")
    N._RELEASED.set()
    run.join(10)
    assert executed == [{**params, "charts_file": str(charts)}]
    charts.unlink()  # released without the file: its own parameters only
    N._run_one((name, src, tmp_path, params, replacements, held))
    assert executed[1] == params and "charts_file" not in params


@pytest.mark.parametrize("cpus, workers", [(None, 1), (1, 1), (2, 1), (3, 2), (8, 2)])
def test_a_report_starts_one_notebook_worker_on_two_processors_and_two_on_more(monkeypatch, cpus, workers):
    from analysis.report import notebooks as N

    monkeypatch.setattr(N.os, "cpu_count", lambda: cpus)
    assert N.report_workers() == workers
