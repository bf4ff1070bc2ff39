"""Executing the five notebooks with the report's inputs (papermill) and exporting each to HTML.

:func:`notebooks_running` starts them in worker processes (a report starts two, or one on a machine with two
processors or fewer: :func:`report_workers`) and lets the report go on (it makes the
pack meanwhile) until it waits for them; :func:`run_notebooks` starts them and waits. The report starts its workers
first (:func:`notebook_workers`), while its own first stages run on one core: each worker imports what it runs
notebooks with, and starts a kernel ahead of its notebook, which imports what the notebooks import (the next kernel
is started as each notebook starts); the notebook then runs in it as in a fresh kernel. A notebook the caller
holds (the report's notebook 04, which shows the pack's charts) is given to the workers last and waits, with its
worker's kernel, until the caller releases it (:meth:`RunningNotebooks.release`). If the run is stopped or
fails, the workers and their kernels are stopped before the block is left; a worker whose report process
disappears (SIGKILL) stops itself and its kernel within a second. Run by the report, each notebook gets the
``results_file`` parameter: the work file of what the report's stages computed, which it shows instead of
computing it again (:func:`analysis.report.pipeline.load_results`). No absolute local path reaches an executed
notebook or its web page: paths are shown as the caller says (:func:`path_replacements`), relative to the project
root, or by name (:func:`redact_paths`).

Files: papermill writes each executed notebook into the folder given when it has run, or when a cell stopped with
an error (so that a failed run keeps it, with the error, for finding the error; not after every cell, which wrote
the whole notebook again each time); the redacted copy and the HTML page are written with
:mod:`analysis.report.output`.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import shutil
import signal
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..scheme.config import paths
from .output import write_text

NOTEBOOKS = ("01_coding_quality", "02_before_after_tables", "03_public_incident_trends",
             "04_november_meeting_charts", "05_published_headline")
# The order the report starts them in, longest first (two workers: the last to end ends soonest); a held notebook
# (the report's 04) after the others.
STARTED_IN = ("04_november_meeting_charts", "03_public_incident_trends", "02_before_after_tables",
              "05_published_headline", "01_coding_quality")


class NotebookFailed(RuntimeError):
    """A notebook of the report stopped with an error (its executed copy, with the error, is kept)."""

    def relocated(self, where: Path | None, work: Path, message: str) -> NotebookFailed:
        """This error once the run folder's partial output was kept (``where``) or removed: the message says
        where the executed copies went (:func:`analysis.report.output.run_folder`)."""
        copies = where / "analyst" / "notebooks" if where else work
        return NotebookFailed(f"{self} The executed copies, with the error, are in {copies}; {message}")


# --- paths in output files ----------------------------------------------------------------------------------

_IMAGE_KEYS = ("image/", "application/pdf")
_DATA_URI = re.compile(r"(data:[\w/+.-]+;base64,[A-Za-z0-9+/=]+)")


def path_replacements(shown: dict[Path, str]) -> list[tuple[str, str]]:
    """(absolute path, how it is shown) pairs for :func:`redact_paths`: the given folders, then the project root
    (paths inside it become relative), the home folder (``~``); longest first, resolved and as given."""
    pairs: dict[str, str] = {}
    root = paths().root
    items = list(shown.items()) + [(root, ".")]
    for p, label in items:
        for form in {str(Path(p)), str(Path(p).resolve())}:
            pairs.setdefault(form + "/", "" if label == "." else label + "/")
            pairs.setdefault(form, label)
    home = str(Path.home())
    if home not in ("/", ""):
        pairs.setdefault(home + "/", "~/")
    return sorted(pairs.items(), key=lambda kv: -len(kv[0]))


def redact_paths(text: str, replacements: list[tuple[str, str]]) -> str:
    """``text`` with every absolute local path from ``replacements`` shown relative (or by name), and any other
    path in the temporary folder reduced to its file name."""
    parts = _DATA_URI.split(text)  # embedded images (base64) are left alone: odd parts
    tmp = re.compile(re.escape(tempfile.gettempdir().rstrip("/")) + r"/[^\s\"'<>()\[\]{},;:\\]*")
    for i in range(0, len(parts), 2):
        for old, new in replacements:
            parts[i] = parts[i].replace(old, new)
        parts[i] = tmp.sub(lambda m: Path(m.group(0)).name, parts[i])
    return "".join(parts)


def _redact_node(node, replacements):
    if isinstance(node, str):
        return redact_paths(node, replacements)
    if isinstance(node, list):
        return [_redact_node(v, replacements) for v in node]
    if isinstance(node, dict):
        return {k: (v if k.startswith(_IMAGE_KEYS) else _redact_node(v, replacements)) for k, v in node.items()}
    return node


# --- executing the notebooks --------------------------------------------------------------------------------


# Imported by jsonschema (through nbformat) for one string format nbformat's schema does not use; building its
# grammar takes seconds (3.4 s on 2 quiet cores, issue 15). A notebook worker imports jsonschema without it.
SKIPPED_IMPORTS = ("rfc3987_syntax",)


def skip_slow_imports() -> None:
    """Make the packages of :data:`SKIPPED_IMPORTS` unimportable in this process (``import`` raises ImportError,
    which jsonschema expects of an optional package) unless already imported."""
    import sys

    for name in SKIPPED_IMPORTS:
        sys.modules.setdefault(name, None)


# What each notebook's kernel runs first: at exit, once the atexit functions registered after it have run, the
# kernel leaves by os._exit, skipping the interpreter's teardown of everything the notebook imported (pandas,
# SciPy, statsmodels, matplotlib, the package): a kernel's shutdown took 1.2-1.8 s of the report's time, and takes
# 0.13 s. (atexit runs the last registered first, so IPython's own end-of-session bookkeeping, registered before,
# is skipped too: it writes the session's end into IPython's history, which nothing reads.) The line leaves no
# name in the notebook's namespace; a notebook opened in JupyterLab runs without it, as always.
KERNEL_FAST_EXIT = "import atexit as _a, os as _o; _a.register(_o._exit, 0); del _a, _o"
KERNEL_ARGUMENTS = (f"--IPKernelApp.exec_lines={KERNEL_FAST_EXIT}",)

# How much lower the notebook workers' (and their kernels') priority is than the report process's (Unix nice): the
# lowest, so that the report process, whose pack is the longest stage, keeps its core (a kernel's own session is
# lowered as well: :func:`_lower_group_priority`).
WORKER_NICENESS = 19


def _worker_init(shared=None, released=None) -> None:
    """In each notebook worker: die at once on SIGTERM (the report stops its workers that way), leave Ctrl-C to
    the report process, and stop (with the kernels) within a second if the report process disappears; skip
    the slow optional imports (:func:`skip_slow_imports`); and yield the processor to the report process (which
    makes the pack meanwhile, the longest stage) by running at a lower priority (:data:`WORKER_NICENESS`, inherited
    by the kernels). With ``shared`` (:func:`notebook_workers`: the workers start before the notebooks are given
    to them) the worker also imports what it runs the notebooks with and starts a kernel ahead
    (:func:`_start_spare`). ``released``: the event a held notebook waits for (:func:`notebooks_running`)."""
    skip_slow_imports()
    try:
        os.nice(WORKER_NICENESS)
    except OSError:  # pragma: no cover - not allowed here: run at the report's priority
        pass
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        _stop_tree([os.getpid()], include_roots=False)
        os._exit(1)

    threading.Thread(target=watch, name="report-parent-watch", daemon=True).start()
    global _RELEASED
    _RELEASED = released
    if shared is not None:
        global _SHARED
        from multiprocessing.util import Finalize

        _SHARED = shared
        Finalize(None, _stop_spares, exitpriority=10)  # (run when the worker leaves: kernels it did not use)
        import papermill  # noqa: F401 - what the worker runs the notebooks with, imported while it waits

        _html_exporter()
        _more_spares(SPARES_AT_START)


def _stop_tree(pids: list[int], include_roots: bool = True, timeout: float = 5.0, processes=()) -> None:
    """Stop the processes ``pids`` (the notebook workers) and all their descendants (the kernels): the workers
    are frozen first so that none starts another kernel, the kernels get SIGTERM, the workers SIGKILL, and
    anything still there after ``timeout`` seconds is killed. ``processes``: the workers' ``multiprocessing``
    objects, which wait for them (reap them) instead of psutil: a worker reaped by psutil stays alive to
    multiprocessing, and the pool's clean-up at exit then waits for it forever (the report did not leave after
    SIGTERM)."""
    import psutil

    def each(procs, action):
        for proc in procs:
            try:
                getattr(proc, action)()
            except psutil.NoSuchProcess:
                pass

    roots = []
    for pid in pids:
        try:
            roots.append(psutil.Process(pid))
        except psutil.NoSuchProcess:
            pass
    if include_roots:
        each(roots, "suspend")
    children = []
    for root in roots:
        try:
            children += root.children(recursive=True)
        except psutil.NoSuchProcess:
            pass
    each(children, "terminate")
    reaped = {p.pid for p in processes}
    procs = children + ([r for r in roots if r.pid not in reaped] if include_roots else [])
    if include_roots:
        each(roots, "kill")
        for process in processes:
            process.join(timeout)
    _, alive = psutil.wait_procs(procs, timeout=timeout)
    each(alive, "kill")
    psutil.wait_procs(alive, timeout=timeout)


# --- kernels started ahead of their notebooks -------------------------------------------------------------------

# What the notebooks import (their first cells, and the package modules their calls import): a kernel started ahead
# of its notebook imports them while it waits (2.2 s of CPU), so that a report's workers do that while the report's
# first stages run on the other core. Not the charts (matplotlib, 0.5 s): only notebooks 03 and 04 draw. Nothing
# else is run ahead: the notebook then runs as in a fresh kernel, with no name left in its namespace and its cells
# numbered from 1, only its first cells quicker.
WARM_IMPORTS = ("pandas", "IPython.display", "analysis.report.pipeline", "analysis.report.publish",
                "analysis.report.output", "analysis.public", "analysis.public.notebook",
                "analysis.stats.its", "analysis.stats.models", "analysis.tables.standard", "analysis.tables.display",
                "analysis.tables.export", "analysis.coders.reliability", "analysis.intake.load")
WARM_UP = ("import importlib as _w\n"
           f"for _m in {WARM_IMPORTS!r}:\n"
           "    try:\n        _w.import_module(_m)\n    except Exception:\n        pass\n"
           "del _w, _m\n"
           "__import__('analysis.report.notebooks', fromlist=['_']).remember_fresh_state(get_ipython())")
# What a worker has a kernel that has run one of its notebooks evaluate before the next one runs in it (the kernel is
# used again instead of starting another: each start imports what the notebooks import again, 2.7 s of CPU). Sent as
# an expression of an execute request (``user_expressions``), which IPython evaluates as it is: a notebook may have
# changed how cells are read (notebook 03 turns every later cell into a comment when the public data is absent).
RESET = "__import__('analysis.report.notebooks', fromlist=['_']).reset_kernel(get_ipython())"
RESET_CHECK = "fresh"  # (the expression's name in the reply: "True" when the kernel is as it was)
# The arguments nbclient starts a notebook's kernel with (it adds IPython's history file in memory).
SPARE_KERNEL_ARGUMENTS = (*KERNEL_ARGUMENTS, "--HistoryManager.hist_file=:memory:")
SPARES_AT_START = 1  # kernels each worker starts ahead as soon as it starts (then each is used again; another is
#                     started only when a notebook stopped with an error in one, or a reset did not give a fresh one)
SPARE_TIMEOUT = 60.0  # seconds a kernel started ahead may take to start and import (papermill's start_timeout)

_SHARED = None  # (lock, notebooks not yet started, kernels started ahead and not yet used): across the workers
_RELEASED = None  # set when the held notebooks may start (RunningNotebooks.release): across the workers
_SPARES: list = []  # this worker's kernels started ahead: (kernel manager, the client that sent the warm-up,
#                     the notebooks' folder, the warm-up's message id)
_FRESH: dict = {}  # in a kernel: what remember_fresh_state() saw


def _fresh_state(shell) -> dict:
    """What a notebook can change in a kernel that :func:`reset_kernel` restores, and the names and cell number."""
    import sys
    import warnings

    return {"names": sorted(shell.user_ns), "count": shell.execution_count, "warnings": list(warnings.filters),
            "cleanup": list(shell.input_transformers_cleanup), "post": list(shell.input_transformers_post),
            "ast": list(shell.ast_transformers), "modules": set(sys.modules)}


def _added_on_import(rule: tuple, modules: set[str]) -> bool:
    """A warnings filter for a warning class of a module imported since the kernel was started ahead: added when
    that module was imported (statsmodels adds five), as it would be in a fresh kernel that imports it, and only
    ever matching that module's own warnings."""
    category = rule[2]
    return getattr(category, "__module__", "builtins") not in modules


def remember_fresh_state(shell) -> None:
    """In a kernel started ahead, once it has imported what the notebooks import (:data:`WARM_UP`): remember what a
    notebook may change beyond its namespace that :func:`reset_kernel` cannot take from defaults."""
    _FRESH.update(_fresh_state(shell))
    _FRESH["dunder"] = {k: v for k, v in shell.user_ns.items() if k.startswith("__") and k.endswith("__")}


def reset_kernel(shell) -> bool:
    """In a kernel that has run one of the report's notebooks: make it as it was before its first notebook
    (:func:`remember_fresh_state`), so that the next notebook runs in it as in a fresh kernel: IPython's reset
    (namespace, history, output cache, cell numbers from 1), and what a notebook changes beyond its namespace:
    how IPython reads cells (input and AST transformers), the warnings filters, pandas' options (notebooks set
    display options), pyplot's open figures. The modules stay loaded (and so do the warnings filters their import
    added). Returns whether the kernel is now as it was (names, cell number, transformers); if not, the worker does
    not use it again (also when a notebook removed a warnings filter)."""
    import sys
    import warnings

    if not _FRESH:
        return False
    shell.reset(new_session=True)
    # what IPython's reset takes away that a new kernel has: the output names its display hook sets ('' until
    # something is shown) and the __main__ module's own (__doc__, __spec__, ...)
    shell.user_ns.update({"_": "", "__": "", "___": "", **_FRESH["dunder"]})
    shell.input_transformers_cleanup[:] = _FRESH["cleanup"]
    shell.input_transformers_post[:] = _FRESH["post"]
    shell.ast_transformers[:] = _FRESH["ast"]
    fresh = _FRESH["warnings"]
    kept = [rule for rule in warnings.filters if rule in fresh or _added_on_import(rule, _FRESH["modules"])]
    filters_kept = [rule for rule in kept if rule in fresh] == fresh
    warnings.filters[:] = kept
    getattr(warnings, "_filters_mutated", lambda: None)()  # (the C module's caches see the change)
    pandas = sys.modules.get("pandas")
    if pandas is not None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # (deprecated options warn when reset)
            pandas.reset_option("all")
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is not None:
        pyplot.close("all")
    now = _fresh_state(shell)
    return (all(now[k] == _FRESH[k] for k in ("names", "cleanup", "post", "ast")) and now["count"] == 1
            and filters_kept)


def _more_spares(at_most: int, folder: Path | None = None) -> None:
    """Start up to ``at_most`` kernels ahead (for notebooks of ``folder``: the notebooks folder), as long as the
    workers' spare kernels are fewer than the notebooks not yet started (no kernel is started for nothing,
    whichever worker takes which notebook)."""
    lock, unstarted, spares = _SHARED
    with lock:
        n = max(0, min(at_most, unstarted.value - spares.value))
        spares.value += n
    for _ in range(n):
        try:
            _start_spare(folder)
        except Exception:  # noqa: BLE001 - no kernel ahead: the notebook starts its own (and reports any error)
            with lock:
                spares.value -= 1


def _start_spare(folder: Path | None = None) -> None:
    """A kernel as nbclient starts one for a notebook of ``folder`` (the notebooks folder: same kernel, arguments
    and working folder), sent the imports of :data:`WARM_UP` (silent: no output, no history, no execution count)
    without waiting for them."""
    from jupyter_core.utils import run_sync

    folder = Path(folder or paths().root / "notebooks")
    km = _kernel_ahead_manager()(kernel_name="python3")
    run_sync(km.start_kernel)(extra_arguments=list(SPARE_KERNEL_ARGUMENTS), cwd=str(folder))
    process = getattr(getattr(km, "provisioner", None), "process", None)
    if process is not None:
        _lower_group_priority(process.pid)
    kc = _blocking_client(km)
    msg_id = kc.execute(WARM_UP, silent=True, store_history=False, allow_stdin=False)
    _SPARES.append((km, kc, folder, msg_id))


@functools.cache
def _kernel_ahead_manager():
    """The kernel manager of a kernel started ahead: jupyter_client's, except that shutting the kernel down does
    not interrupt it first. jupyter_client sends SIGINT before asking a kernel to shut down, in case it is busy;
    a kernel started ahead runs at the lowest priority in its own session, so it was often still finishing the
    message it had just answered (nbclient's last ``kernel_info_request``) when the signal came, and ipykernel
    printed ``ERROR | KeyboardInterrupt caught in kernel`` into the report's output (2-3 times a run). Shut down
    when asked, or killed at once (``now``), it has nothing to interrupt: a notebook has run to its end or stopped
    on an error, and a kernel not used is killed."""
    import signal as signals

    from jupyter_client.manager import AsyncKernelManager

    class KernelAhead(AsyncKernelManager):
        async def shutdown_kernel(self, now: bool = False, restart: bool = False) -> None:
            if restart or not self.owns_kernel:
                return await super().shutdown_kernel(now=now, restart=restart)
            self.shutting_down = True
            if self.has_kernel:
                if now:
                    await self.signal_kernel(signals.SIGKILL)
                else:
                    await self.request_shutdown()
                await self.finish_shutdown()  # (waits for it to leave: killed if it takes too long)
            await self.cleanup_resources()

    return KernelAhead


def _lower_group_priority(pid: int) -> None:
    """Give the kernel ``pid`` the workers' priority in full. jupyter_client starts each kernel in a session of its
    own, and where Linux groups processes by session for scheduling (autogroup), a process's nice value counts only
    within its session: each kernel then had as much processor time as the whole report (the report process had
    40-70% of a core while kernels started). The session's own nice value is set instead (raising it needs no
    privilege); elsewhere nothing is done."""
    try:
        with open(f"/proc/{pid}/autogroup", "w") as f:
            f.write(str(WORKER_NICENESS))
    except OSError:  # not Linux, or no autogroup: the nice value inherited from the worker is what counts
        pass


def _blocking_client(km):
    """A client of the kernel of ``km`` with its shell channel open, which the worker waits on without an event
    loop (an asynchronous client's channel belongs to the event loop it was opened in: once papermill has run a
    notebook in the worker, with a loop of its own, the replies to such a client were never received)."""
    import zmq
    from jupyter_client.blocking import BlockingKernelClient

    kc = BlockingKernelClient(**km.get_connection_info(session=True), connection_file=km.connection_file, parent=km,
                              context=zmq.Context.instance())  # (the process's: not closed with the client)
    kc.start_channels(shell=True, iopub=False, stdin=False, hb=False, control=False)
    return kc


def _warmed(kc, msg_id: str, timeout: float) -> bool:
    """Wait until the kernel has run what was sent to it (the imports, or the reset after a notebook), so that it is
    done before the notebook's first cell, which another client sends; False if it has not replied within
    ``timeout`` seconds, or if a reset did not make it as it was before its first notebook."""
    import queue

    deadline = time.monotonic() + timeout
    while True:
        try:
            msg = kc.get_shell_msg(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            return False
        if msg["parent_header"].get("msg_id") == msg_id:
            checked = msg["content"].get("user_expressions", {})
            return RESET_CHECK not in checked or checked[RESET_CHECK].get("data", {}).get("text/plain") == "True"


def _take_spare(folder: Path):
    """A kernel started ahead for the notebook of ``folder`` this worker starts now, as (kernel manager, client),
    or None (the notebook starts its own); and the next one started ahead if a notebook is still waiting."""
    if _SHARED is None:
        return None
    lock, unstarted, spares = _SHARED
    with lock:
        unstarted.value -= 1
        spare = next((s for s in _SPARES if s[2] == Path(folder)), None)
        if spare is not None:
            _SPARES.remove(spare)
            spares.value -= 1
    if spare is None:
        _more_spares(1)  # (for the next notebook: this one starts its own)
        return None
    km, kc, _, msg_id = spare
    if not _warmed(kc, msg_id, SPARE_TIMEOUT):  # no answer, or not reset as it was: the notebook starts its own
        _stop_kernel(km, kc, now=True)
        _more_spares(1)
        return None
    return km, kc


def _give_back(km, kc, folder: Path) -> None:
    """A kernel that has run a notebook to its end: reset (:data:`RESET`, not waited for here) and kept as this
    worker's kernel ahead if a notebook not yet started needs one, else shut down."""
    lock, unstarted, spares = _SHARED
    with lock:
        keep = unstarted.value > spares.value
        if keep:
            spares.value += 1
    if not keep:
        _stop_kernel(km, kc)
        return
    try:
        # a new client: the notebook's client had the same identity as the one the kernel was started with (the
        # kernel manager's session), so the kernel now sends that identity's replies to where that client was
        kc.stop_channels()
        kc = _blocking_client(km)
        msg_id = kc.execute("", silent=True, store_history=False, allow_stdin=False,
                            user_expressions={RESET_CHECK: RESET})
    except Exception:  # noqa: BLE001 - gone: the next notebook starts another kernel
        with lock:
            spares.value -= 1
        _stop_kernel(km, kc, now=True)
        _more_spares(1)
        return
    _SPARES.append((km, kc, Path(folder), msg_id))


@functools.cache
def _engine() -> str:
    """The name of the papermill engine that runs a notebook in a kernel started ahead: papermill's own (nbclient),
    except that its client shuts that kernel down afterwards and closes its channels, as it does with a kernel it
    starts (nbclient leaves a kernel it is given running, and its client's channels open); with ``keep_kernel``
    (an engine argument) it closes only its channels, and leaves the kernel running for the next notebook."""
    from jupyter_core.utils import run_sync
    from papermill.clientwrap import PapermillNotebookClient
    from papermill.engines import NBClientEngine, papermill_engines
    from papermill.log import logger
    from papermill.utils import merge_kwargs, remove_args

    class Client(PapermillNotebookClient):
        def __init__(self, nb_man, km=None, keep_kernel=False, **kw):
            super().__init__(nb_man, km=km, **kw)
            self.owns_km = True
            self.keep_kernel = keep_kernel

        async def _async_cleanup_kernel(self) -> None:
            if not self.keep_kernel:
                return await super()._async_cleanup_kernel()
            # the kernel is used again (the worker resets it): only this client's channels are closed
            if getattr(self, "kc", None) is not None:
                self.kc.stop_channels()
                self.kc = None

        _cleanup_kernel = run_sync(_async_cleanup_kernel)  # (what papermill's execute calls)

    class Engine(NBClientEngine):
        @classmethod
        def execute_managed_notebook(cls, nb_man, kernel_name, log_output=False, stdout_file=None, stderr_file=None,
                                     start_timeout=60, execution_timeout=None, **kwargs):
            # (NBClientEngine.execute_managed_notebook of papermill 2.6, with the client above)
            kwargs = remove_args(["input_path"], **kwargs)
            safe_kwargs = remove_args(["timeout", "startup_timeout"], **kwargs)
            final_kwargs = merge_kwargs(safe_kwargs, timeout=execution_timeout or kwargs.get("timeout"),
                                        startup_timeout=start_timeout, kernel_name=kernel_name, log=logger,
                                        log_output=log_output, stdout_file=stdout_file, stderr_file=stderr_file)
            return Client(nb_man, **final_kwargs).execute()

    papermill_engines.register("analysis-kernel-ahead", Engine)
    return "analysis-kernel-ahead"


def _stop_kernel(km, kc, now: bool = False) -> None:
    """Shut a kernel started ahead down, as nbclient shuts down the kernels it starts."""
    from jupyter_core.utils import run_sync

    try:
        kc.stop_channels()
        if run_sync(km.is_alive)():
            run_sync(km.shutdown_kernel)(now=now)
        else:
            run_sync(km.cleanup_resources)()
    except Exception:  # noqa: BLE001 - already gone: nothing to shut down
        pass


def _stop_spares() -> None:
    while _SPARES:
        _stop_kernel(*_SPARES.pop()[:2], now=True)


@functools.cache
def _html_exporter():
    """One HTML exporter per worker (JupyterLab's look), validating the notebook once after its preprocessors, not
    after each of them (nbconvert's ``optimistic_validation``: the same page; each validation compiled the schema
    again, most of an export's time)."""
    from nbconvert import HTMLExporter

    return HTMLExporter(template_name="lab", optimistic_validation=True)


def _run_one(args) -> tuple[str, str]:
    import nbformat
    import papermill as pm

    name, src, dst_dir, params, replacements, *held = args
    if held and held[0]:  # a held notebook: its worker keeps its kernel ahead until the notebook is released
        if _RELEASED is not None:
            _RELEASED.wait()
        params = {**params, **{k: path for k, path in held[0].items() if Path(path).is_file()}}
    dst = dst_dir / f"{name}.ipynb"
    error = ""
    spare = _take_spare(src.parent)
    ran = False
    try:
        pm.execute_notebook(str(src), str(dst), parameters=params, kernel_name="python3", cwd=str(src.parent),
                            progress_bar=False, log_output=False, request_save_on_cell_execute=False,
                            extra_arguments=list(KERNEL_ARGUMENTS),
                            **({"engine_name": _engine(), "km": spare[0], "keep_kernel": True} if spare else {}))
        ran = True
    except pm.PapermillExecutionError as exc:
        error = f"{exc.ename}: {exc.evalue} (cell {exc.exec_count})"
    finally:
        if spare is not None:
            if ran:  # the kernel runs the worker's next notebook (reset first), or is shut down
                _give_back(*spare, src.parent)
            else:  # stopped with an error, or did not start: not used again
                _stop_kernel(*spare)
                _more_spares(1)
    if dst.exists():
        # no absolute local path in the executed notebook or its web page
        nb = nbformat.from_dict(_redact_node(nbformat.read(dst, as_version=4), replacements))
        text = nbformat.writes(nb)
        write_text(dst, text if text.endswith("\n") else text + "\n")  # as nbformat.write writes it
        body, _ = _html_exporter().from_notebook_node(nb, resources={"metadata": {"name": name}})
        write_text(dst_dir / f"{name}.html", redact_paths(body, replacements))
    return name, redact_paths(error, replacements)


def notebook_parameters(data_dir: Path, sfpd_dir: Path, scratch: Path, *, n_boot: int,
                        frame_path: str | None = None, config_file: str | None = None,
                        results_file: str | None = None) -> dict[str, dict]:
    """Each notebook's parameters for a report run: the report's inputs (absolute paths: the notebooks run in
    notebooks/), its study configuration (``None``: the package's), the work file of the report's results
    (``results_file``: shown instead of computed again; ``None``: computed from the inputs), and where notebook 03
    may write its own figures (``scratch``, removed afterwards; notebook 04 only shows its charts: the report
    writes them, and gives it the pack's own as ``charts_file`` when it starts it)."""
    common = {"config_file": config_file, "results_file": results_file}
    return {
        "01_coding_quality": {"data_dir": str(data_dir), "second_coder_dir": str(data_dir / "second_coder"),
                              "n_boot": n_boot, **common},
        "02_before_after_tables": {"data_dir": str(data_dir), "frame_file": frame_path, "out_dir": None,
                                   "n_boot": n_boot, **common},
        "03_public_incident_trends": {"sfpd_dir": str(sfpd_dir), "out_dir": None, **common},
        "04_november_meeting_charts": {"data_dir": str(data_dir), "sfpd_dir": str(sfpd_dir), "out_dir": None,
                                       "n_boot": n_boot, **common},
        "05_published_headline": {"data_dir": str(data_dir), **common},
    }


@dataclass
class RunningNotebooks:
    """The notebooks executing in worker processes (:func:`notebooks_running`): :meth:`wait` for them."""

    started: float  # time.perf_counter() when they were started
    workers: NotebookWorkers | None = None  # (told when every notebook has run)
    futures: list = field(default_factory=list)
    ended: list[float] = field(default_factory=list)  # time.perf_counter() as each one finished
    finished: bool = field(default=False, init=False)

    def add(self, future) -> None:
        future.add_done_callback(lambda _: self.ended.append(time.perf_counter()))
        self.futures.append(future)

    def release(self) -> None:
        """Let the held notebooks start (:func:`notebooks_running`'s ``held``): the files they wait for are
        written (each parameter whose file exists is given to the notebook)."""
        if self.workers is not None and self.workers.released is not None:
            self.workers.released.set()

    @property
    def seconds(self) -> float:
        """From their start until the last one finished."""
        return max(self.ended, default=self.started) - self.started

    def wait(self) -> list[str]:
        """Wait until every notebook has run; their names. Raises :class:`NotebookFailed` naming each notebook
        that stopped with an error (after all have run: the executed copies, with the errors, are kept). A
        notebook still held is let start now (without the files that were not written)."""
        self.release()
        results = sorted((f.result() for f in self.futures), key=lambda r: NOTEBOOKS.index(r[0]))
        self.finished = True
        if self.workers is not None:
            self.workers.finished = True
        failed = [f"{name}: {error}" for name, error in results if error]
        if failed:
            raise NotebookFailed("notebook(s) stopped with an error: " + "; ".join(failed) + ".")
        return [name for name, _ in results]


class NotebookWorkers:
    """The worker processes that execute a run's notebooks (:func:`notebook_workers`), started before the notebooks
    are given to them (:func:`notebooks_running`)."""

    def __init__(self, pool, released=None):
        self.pool = pool
        self.released = released  # (an event: the held notebooks may start)
        self.finished = False  # every notebook given to them has run (set by RunningNotebooks.wait)
        self.closed = False

    def close(self) -> None:
        """Let the workers go if every notebook given to them has run; otherwise (stopped by a signal, failed, or
        left without waiting) stop them and their kernels. Once: a second call does nothing."""
        if self.closed:
            return
        self.closed = True
        if self.finished:
            self.pool.shutdown()
        else:  # the workers and their kernels go with the report
            processes = self.processes()
            # the pool cancels what has not started itself; cancelling futures here as well (as pool.map's
            # clean-up does) races with the pool's own clean-up (InvalidStateError in its thread)
            self.pool.shutdown(wait=False, cancel_futures=True)
            _stop_tree([p.pid for p in processes], processes=processes)

    def processes(self) -> list:
        """The worker processes (``multiprocessing`` objects)."""
        return list((getattr(self.pool, "_processes", None) or {}).values())

    def pids(self) -> list[int]:
        return [p.pid for p in self.processes()]


def _ready() -> None:
    """A task that does nothing: given to the pool so that its workers start (and start their kernels) now."""


def report_workers() -> int:
    """How many notebook workers a report starts: two, or one on a machine with two processors or fewer. There the
    report process and the helpers it forks keep one processor busy, and the notebooks fill the time the other has
    free: a second worker ended them no sooner (interleaved runs on 2 cores: the same 15.7-17.0 s at 1x, 79-81 s at
    100x) for 3-4 s more processor time (its own imports and kernel)."""
    return 2 if (os.cpu_count() or 1) > 2 else 1


@contextlib.contextmanager
def notebook_workers(workers: int = 2, notebooks: int = len(NOTEBOOKS)):
    """Start the notebook workers now, before their notebooks are known: each imports what it runs notebooks with
    and starts a kernel ahead (:func:`_start_spare`; in all, no more than ``notebooks`` kernels), so that a report
    gets that done while its first stages run in its own process (they use one core). Yields a
    :class:`NotebookWorkers` for :func:`notebooks_running`. When the block is left, the workers are let go if
    every notebook given to them has run; otherwise (stopped by a signal, failed, or left without waiting) they
    and their kernels are stopped before the block is left."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    ctx = multiprocessing.get_context()
    shared = (ctx.Lock(), ctx.Value("i", notebooks, lock=False), ctx.Value("i", 0, lock=False))
    released = ctx.Event()
    pool = ProcessPoolExecutor(max_workers=workers, initializer=_worker_init, initargs=(shared, released),
                               mp_context=ctx)
    handle = NotebookWorkers(pool, released)
    try:
        for _ in range(workers):
            pool.submit(_ready)
        yield handle
    finally:
        handle.close()


@contextlib.contextmanager
def notebooks_running(data_dir: Path, sfpd_dir: Path, out: Path, *, n_boot: int, frame_path: str | None = None,
                      config_file: str | None = None, workers: int | NotebookWorkers = 2,
                      shown: dict[Path, str] | None = None, results_file: str | None = None,
                      held: dict[str, dict[str, str]] | None = None):
    """Start executing the five notebooks with the report's inputs (papermill) into ``out``, each exported to
    HTML, and yield a :class:`RunningNotebooks` while they run: the caller goes on with its own work and waits
    for them before leaving the block. ``workers``: how many worker processes to start, or the workers started
    before (:func:`notebook_workers`). ``results_file``: the report's results for the notebooks to show
    (:func:`analysis.report.pipeline.write_results`). Absolute local paths in their outputs are shown as
    ``shown`` says (and relative to the project root, or by name). If the block is left before every notebook
    has run (stopped by a signal, or failed), the workers and their kernels are stopped before it is left.
    ``held``: ``{notebook: {parameter: file}}``, notebooks that wait until the caller releases them
    (:meth:`RunningNotebooks.release`, or when it waits) and are then given each parameter whose file exists (the
    report's notebook 04 waits for the pack's charts). A held notebook is given to the workers last, so that both
    run the others meanwhile (given first, it kept one worker waiting while the other ran the four others in
    turn: they ended after the pack)."""
    with contextlib.ExitStack() as stack:
        if not isinstance(workers, NotebookWorkers):
            workers = stack.enter_context(notebook_workers(workers))
        out.mkdir(parents=True, exist_ok=True)
        nb_dir = paths().root / "notebooks"
        scratch = out / "scratch"
        stack.callback(shutil.rmtree, scratch, ignore_errors=True)  # the notebooks' own files: the report's figures
        replacements = path_replacements(dict(shown or {}))
        params = notebook_parameters(data_dir, sfpd_dir, scratch, n_boot=n_boot, frame_path=frame_path,
                                     config_file=config_file, results_file=results_file)
        held = held or {}
        order = [n for n in STARTED_IN if n not in held] + [n for n in STARTED_IN if n in held]
        jobs = [(name, nb_dir / f"{name}.ipynb", out, params[name], replacements, held.get(name)) for name in order]
        running = RunningNotebooks(time.perf_counter(), workers=workers)
        for job in jobs:
            running.add(workers.pool.submit(_run_one, job))  # (not pool.map: see notebook_workers)
        yield running


def run_notebooks(data_dir: Path, sfpd_dir: Path, out: Path, *, n_boot: int, frame_path: str | None = None,
                  config_file: str | None = None, workers: int = 2, shown: dict[Path, str] | None = None,
                  results_file: str | None = None) -> list[str]:
    """Execute the five notebooks (:func:`notebooks_running`) and wait for them; their names."""
    with notebooks_running(data_dir, sfpd_dir, out, n_boot=n_boot, frame_path=frame_path, config_file=config_file,
                           workers=workers, shown=shown, results_file=results_file) as running:
        return running.wait()
