"""`python -m analysis report` / `make report`: the whole pipeline, into ``reports/<run date>/``.

Stages: validate and derive the coded data -> inter-coder reliability (when a second coding is there) ->
before/after tables and the misclassification model -> the public record (when ../shared/data/sfpd is
there) -> charts -> the meeting pack (one HTML page, one PDF) -> the four notebooks, executed with the same
inputs and exported to HTML. Progress is printed as each stage finishes, with its time.

What is shared and what is not: ``reports/<run date>/shared/`` is the folder to send (suppressed, no
identifiers); its sibling ``reports/<run date>/analyst/`` holds the unsuppressed tables and the executed
notebooks for the statistician and is never sent. The notebooks show problems by table, row, variable and rule
only (no person codes, report ids, coder ids or values typed in), and no file records an absolute local path
(:func:`redact_paths`). Row-level outputs with ids (validation problems, rejected rows, the disagreement list)
stay in ``data/derived/`` on the analyst's machine.

The run is atomic: everything is written into ``<run date>.partial-<pid>/`` beside the target and moved to
``<run date>/`` (replacing an earlier run of that date) only when every stage succeeded. A run that fails or
is stopped (SIGTERM, SIGINT / Ctrl-C) leaves an earlier ``<run date>/`` as it was, stops its notebook workers
and their kernels, and keeps what it had written as ``<run date>.incomplete/`` (replacing an older one) for
finding the error; that folder is never for sharing. Only a SIGKILL can leave a ``*.partial-<pid>`` folder
behind (its notebook workers then stop themselves within a second).
This module is the report command's implementation: it is the one place besides cli.py that writes files.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import signal
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pandas as pd

from ..scheme.codebook import load_codebook
from ..scheme.config import StudyConfig, load_study_config, paths, shown_path

NOTEBOOKS = ("01_coding_quality", "02_before_after_tables", "03_public_incident_trends",
             "04_november_meeting_charts")
RUN_README = """# Meeting pack run {run_date}

| folder | what | send it? |
|---|---|---|
| `shared/` | the meeting pack, charts, tables and notes: small counts suppressed, no identifiers | **yes: send this folder (zip `shared/` only)** |
| `analyst/` | unsuppressed tables and the executed notebooks, for the statistician | **never** |
"""
ANALYST_README = """# analyst/: NEVER SEND THIS FOLDER

For the statistician only. The tables here are **not suppressed**: counts from 1 to {small} are shown as they
are, so they could identify people. Never send, attach, upload or zip this folder; the folder to send is its
sibling `../shared/`.

| path | what |
|---|---|
| `tables/*_full.csv` | the before/after tables in full (every count, the naive and cluster-aware columns) |
| `notebooks/` | the four notebooks executed with the report's inputs (`.ipynb`) and as web pages (`.html`) |
| `stages.json` | how long each stage of the run took |

The notebooks show validation problems by table, row number, variable and rule only: no person codes, report
ids, coder ids or values typed into the coded files, and paths relative to the project (or file names only).
The full problem list, the rejected rows and the disagreement list (with ids) stay in the derived folder on
the analyst's machine (`python -m analysis validate PATH --out ...`).
"""

KEY_INCIDENT_VARIABLES = ["condoms_evidence_any", "phones_seized", "case_from_sting_or_operation",
                          "screened_trafficking", "labelled_trafficking", "correctly_identified", "misclassification",
                          "interpreter_used", "origin"]
KEY_SELLER_VARIABLES = ["trans_woman_of_color", "tay", "minor", "hiv_charge", "outcome", "person_phone_seized"]


@dataclass
class Stage:
    name: str
    seconds: float
    note: str = ""


@dataclass
class ReportResult:
    folder: Path
    stages: list[Stage] = field(default_factory=list)
    exit_code: int = 0
    synthetic: bool = False
    notes: list[str] = field(default_factory=list)

    def breakdown(self) -> str:
        total = sum(s.seconds for s in self.stages)
        lines = [f"  {s.name:<28}{s.seconds:>7.1f} s  {s.note}" for s in self.stages]
        return "\n".join(lines + [f"  {'total':<28}{total:>7.1f} s"])


def _small(n, thr: int) -> str:
    return f"<{thr}" if 0 < n < thr else f"{n:,}"


def model_display(result, thr: int) -> pd.DataFrame:
    """The misclassification model's odds ratios for sharing: n and events shown only when not small."""
    t = result.table
    small = (0 < result.events < thr) or (0 < result.n - result.events < thr)
    out = pd.DataFrame({
        "Term": t["label"],
        "Odds ratio (95% CI)": [f"{o:.2f} ({lo:.2f} to {hi:.2f})" if o == o else "not estimable"
                                for o, lo, hi in zip(t["odds_ratio"], t["ci_low"], t["ci_high"])],
        "p": ["" if p != p else ("<0.001" if p < 0.001 else f"{p:.3f}") for p in t["p_value"]],
    })
    out["Reports (events)"] = "suppressed" if small else f"{result.n:,} ({result.events:,})"
    return out


class ReportInterrupted(KeyboardInterrupt):
    """The report was stopped by SIGTERM or SIGINT; ``where`` says what was kept and what was left alone."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum
        self.name = signal.Signals(signum).name
        self.where = ""


@contextmanager
def _stop_on_signals():
    """Turn SIGTERM and SIGINT into :class:`ReportInterrupted` in the main thread, so that the clean-up in
    ``finally`` blocks runs (notebook workers stopped, partial output moved aside); further signals are
    ignored while it runs. Restores the previous handlers afterwards."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum, frame):
        for s in (signal.SIGTERM, signal.SIGINT):
            signal.signal(s, signal.SIG_IGN)
        raise ReportInterrupted(signum)

    previous = {s: signal.signal(s, stop) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


@contextmanager
def _signals_held():
    """SIGTERM and SIGINT wait (pending) until the block is done: for steps that must not be cut in half."""
    blocked = {signal.SIGTERM, signal.SIGINT}
    in_main = threading.current_thread() is threading.main_thread()
    if in_main:
        signal.pthread_sigmask(signal.SIG_BLOCK, blocked)
    try:
        yield
    finally:
        if in_main:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, blocked)


def _move_into_place(work: Path, final: Path) -> None:
    """Replace ``final`` (if any) by the finished ``work`` folder (two renames on the same filesystem)."""
    old = final.with_name(f"{final.name}.replaced-{os.getpid()}")
    if final.exists():
        final.rename(old)
    work.rename(final)
    shutil.rmtree(old, ignore_errors=True)


def _keep_partial(work: Path, kept: Path) -> Path | None:
    """After a failed run: its partial output becomes ``kept`` (replacing an older one), or is removed when the
    run had written nothing. Returns where it was kept."""
    if not work.exists():
        return None
    if not any(p.is_file() for p in work.rglob("*")):
        shutil.rmtree(work, ignore_errors=True)
        return None
    shutil.rmtree(kept, ignore_errors=True)
    work.rename(kept)
    return kept


def run_report(
    data_dir: Path,
    out_root: Path,
    *,
    config_path: str | None = None,
    sfpd_dir: Path | None = None,
    derived_dir: Path | None = None,
    frame_path: str | None = None,
    run_date: str | None = None,
    notebooks: bool = True,
    n_boot: int = 1000,
    force: bool = False,
    progress: Callable[[str], None] = print,
) -> ReportResult:
    """The whole pipeline into ``out_root/<run date>/`` (``shared/`` and ``analyst/``), written atomically:
    see the module docstring. ``force`` overwrites a derived folder made from other inputs."""
    # notebooks run with notebooks/ as their working directory: every input path must be absolute
    data_dir = Path(data_dir).resolve()
    out_root = Path(out_root).resolve()
    run_date = run_date or dt.date.today().isoformat()
    final = out_root / run_date
    work = out_root / f"{run_date}.partial-{os.getpid()}"
    kept = out_root / f"{run_date}.incomplete"
    res = ReportResult(final)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    moved = False
    with _stop_on_signals():
        try:
            _build(work, final, res, data_dir, config_path=config_path, sfpd_dir=sfpd_dir,
                   derived_dir=derived_dir, frame_path=frame_path, run_date=run_date, notebooks=notebooks,
                   n_boot=n_boot, force=force, progress=progress)
            with _signals_held():  # a signal now waits until the finished pack is in place
                _move_into_place(work, final)
                moved = True
            shutil.rmtree(kept, ignore_errors=True)  # an earlier failed run of this date is now out of date
        except BaseException as exc:
            where = _keep_partial(work, kept)
            if moved:
                left = f"{final} had been written in full"
            else:
                left = f"{final} was left as it was" if final.exists() else f"no {final} was written"
            if where is None:
                message = f"{left}."
            else:
                message = f"{left}; what it had written is in {where} (not for sharing; the next run replaces it)."
            if isinstance(exc, NotebookFailed):
                raise NotebookFailed(f"{exc} The executed copies, with the error, are in "
                                     f"{where / 'analyst' / 'notebooks' if where else work}; {message}") from None
            if isinstance(exc, ReportInterrupted):
                exc.where = message
            else:
                progress(f"The report did not finish: {message}")
            raise
    return res


def _build(work: Path, final: Path, res: ReportResult, data_dir: Path, *, config_path, sfpd_dir, derived_dir,
           frame_path, run_date, notebooks, n_boot, force, progress) -> None:
    from ..cli import app as cli
    from ..coders.synth import is_synthetic
    from ..tables.export import footer_lines, provenance, to_csv, to_html, to_markdown
    from ..tables.standard import SOURCE

    frame_path = str(Path(frame_path).resolve()) if frame_path else None
    config_path = str(Path(config_path).resolve()) if config_path else None
    cfg = load_study_config(config_path)
    cb = load_codebook()
    shared, analyst = work / "shared", work / "analyst"
    derived_dir = Path(derived_dir) if derived_dir else paths().derived
    sfpd_dir = (Path(sfpd_dir) if sfpd_dir is not None else paths().shared_sfpd).resolve()
    steps = 8 if notebooks else 7
    clock = [time.perf_counter()]

    def done(k: int, name: str, note: str = "") -> None:
        now = time.perf_counter()
        seconds, clock[0] = now - clock[0], now
        res.stages.append(Stage(name, seconds, note))
        progress(f"[{k}/{steps}] {name} ({seconds:.1f} s)" + (f": {note}" if note else ""))

    # 1. validate and derive (row-level outputs stay in data/derived)
    result, derived = cli.run_derive(Path(data_dir), derived_dir, config_path, None, force=force,
                                     option="report --derived")
    res.exit_code = result.exit_code
    res.synthetic = is_synthetic(result.valid["incidents"]) or is_synthetic(result.rejected["incidents"])
    stamp = provenance(cli.input_hashes(Path(data_dir)), cb.version, res.synthetic)
    acct = result.accounting()
    thr = cfg.suppression_threshold
    acct_display = acct.copy()
    for c in ("input_rows", "valid_rows", "rejected_rows"):
        acct_display[c] = [_small(int(v), thr) for v in acct[c]]
    cli.write_csv(acct_display, shared / "validation" / "row_accounting.csv")
    done(1, "validate + derive", f"{sum(result.input_rows.values()):,} rows read, {result.n_rejected} rejected")

    # 2. reliability
    second = Path(data_dir) / "second_coder"
    if second.is_dir():
        from ..coders.reliability import coder_name, disagreements, reliability_table
        from ..intake.load import load_coded_tables
        from ..intake.validate import validate_tables

        other = validate_tables(load_coded_tables(second), cb, cfg)
        codings = {coder_name(result.valid, "coder_a"): result.valid, coder_name(other.valid, "coder_b"): other.valid}
        reliability = reliability_table(codings, cb, n_boot=n_boot)
        cli.write_csv(reliability, shared / "reliability" / "reliability.csv")
        cli.write_csv(disagreements(codings, cb), derived_dir / "reliability" / "disagreements.csv")
        flagged = int((reliability["flag"] != "reliable").sum())
        done(2, "reliability", f"{len(reliability)} variables/options, {flagged} below 0.800")
    else:
        res.notes.append(f"Reliability: no second coding found at {shown_path(second)}; skipped.")
        done(2, "reliability", "skipped (no second coding)")

    # 3. tables and the misclassification model
    frame = cli._read_frame(frame_path)
    names = cli.write_tables(derived, shared / "tables", stamp, cfg, frame, n_boot=n_boot,
                             analyst_dir=analyst / "tables")
    from ..stats.models import misclassification_model
    from ..tables.compare import before_after, display
    from .pack import PackTable

    key_tables = []
    key = [("Key indicators: incident reports", before_after(derived["incidents"], "incidents",
                                                             variables=KEY_INCIDENT_VARIABLES, frame=frame,
                                                             codebook=cb, config=cfg))]
    sellers = derived["persons"][derived["persons"]["role"].astype(str) == "seller"]
    if len(sellers):
        key.append(("Key indicators: people selling sex",
                    before_after(derived["persons"], "persons", role="seller", variables=KEY_SELLER_VARIABLES,
                                 frame=frame, n_boot=n_boot, codebook=cb, config=cfg)))
    for title, ct in key:
        shown = display(ct, threshold=thr)
        key_tables.append(PackTable(title + (" (SYNTHETIC DATA)" if res.synthetic else ""), shown,
                                    footer_lines(ct.methods_text(), cfg, stamp, SOURCE)))
    model_rows = []
    for outcome, label in (("correctly_identified", "Correctly identified as trafficking"),
                           ("screened_trafficking_yes", "Screened for trafficking")):
        m = misclassification_model(derived["incidents"], outcome=outcome)
        md = model_display(m, thr)
        md.insert(0, "Outcome", label)
        model_rows.append(md)
        for note in m.notes:
            res.notes.append(f"Model ({label}): {note}")
    models = pd.concat(model_rows, ignore_index=True)
    model_footer = footer_lines("Logistic regression of each outcome on period, investigating unit (specialised "
                                "unit vs district station / other only) and their interaction; Wald 95% CIs "
                                "(analysis.stats.models).", cfg, stamp, SOURCE)
    model_title = "Misclassification model: odds ratios" + (" (SYNTHETIC DATA)" if res.synthetic else "")
    tables_dir = shared / "tables"
    (tables_dir / "misclassification_model.csv").write_text(to_csv(models, model_title, model_footer))
    (tables_dir / "misclassification_model.md").write_text(to_markdown(models, model_title, model_footer))
    (tables_dir / "misclassification_model.html").write_text(to_html(models, model_title, model_footer))
    key_tables.append(PackTable(model_title, models, model_footer))
    done(3, "tables + model", f"{len(names) + 1} tables")

    # 4. the public record
    its_result = None
    if Path(sfpd_dir).is_dir():
        its_result = _public_stage(Path(sfpd_dir), shared / "public", cfg, res)
        done(4, "public record", "interrupted time series and before/after tables")
    else:
        res.notes.append(f"Public record: the SFPD data folder {shown_path(sfpd_dir)} is absent; the public series "
                         "and tables were skipped.")
        done(4, "public record", f"skipped ({shown_path(sfpd_dir)} absent)")

    # 5. charts
    from .charts import meeting_charts, save_chart

    charts = meeting_charts(derived, its_result, synthetic=res.synthetic, config=cfg, n_boot=n_boot)
    for ch in charts:
        save_chart(ch, shared / "figures")
    done(5, "charts", f"{len(charts)} charts")

    # 6. the pack
    from .pack import Cover, Pack, html_page, pdf_pack

    periods = "; ".join(f"{p.label}: {', '.join(map(str, p.years))}" for p in cfg.periods)
    cover = Cover(
        title="Prostitution and trafficking reports before and after SFPD's move from Vice to SVU",
        subtitle="Sex Work and Trafficking Policy Impact Committee, November meeting",
        lines=[cfg.study, f"Periods compared: {periods}.",
               f"Unit change: SFPD's reorganised Special Victims Unit opened {cfg.unit_change_date.isoformat()}.",
               f"Data: {SOURCE}; {sum(len(v) for v in result.valid.values()):,} valid rows "
               f"({len(result.valid['incidents']):,} reports, {len(result.valid['persons']):,} people).",
               "Small numbers are suppressed so that no person can be identified."],
        synthetic=res.synthetic, run_date=run_date)
    methods = [
        "Before/after tables: n/N (%) per period; 'not documented' and 'not applicable' shown separately and left "
        "out of denominators; differences in percentage points with Newcombe 95% intervals; chi-square without "
        "continuity correction or Fisher's exact test (gtsummary's rule); Wilcoxon rank-sum for numbers; "
        "Holm-adjusted q-values.",
        "People on the same report are not independent: person-level yes/no rows use a cluster bootstrap over "
        "reports and a cluster-robust test.",
        ("Weighted to the sampling frame." if frame else "Unweighted: no sampling frame was given."),
        f"Suppression: counts from 1 to {thr - 1} are shown as <{thr}; further cells are hidden so that they "
        "cannot be worked out from totals (checked with a linear-programming audit); charts show such values as "
        "suppressed, never at their value.",
        "Public record: SFPD open data (DataSF tmnf-yvry); interrupted time series with quasi-Poisson regression, "
        "Fourier seasonality and Newey-West errors (Lopez Bernal, Cummins & Gasparrini 2017).",
    ]
    prov = [f"code version {stamp['code_version']}", f"codebook version {stamp['codebook_version']}",
            f"study configuration {Path(cfg.source).name}"] + [f"{k}: sha256 {v}" for k, v in stamp["inputs"].items()]
    pack = Pack(cover, charts, key_tables, methods, prov, res.notes)
    (shared / "meeting_pack.html").write_text(html_page(pack), encoding="utf-8")
    (shared / "meeting_pack.pdf").write_bytes(pdf_pack(pack))
    done(6, "meeting pack", "meeting_pack.html, meeting_pack.pdf")

    # 7. notebooks
    analyst.mkdir(parents=True, exist_ok=True)
    (analyst / "README.md").write_text(ANALYST_README.format(small=thr - 1), encoding="utf-8")
    k = 7
    if notebooks:
        shown = {work: shown_path(final), data_dir: shown_path(data_dir), sfpd_dir: shown_path(sfpd_dir)}
        if frame_path:
            shown[Path(frame_path)] = shown_path(frame_path)
        ran = run_notebooks(Path(data_dir), Path(sfpd_dir), analyst / "notebooks", n_boot=n_boot,
                            frame_path=frame_path, shown=shown)
        done(k, "notebooks", ", ".join(ran))
        k += 1
    (shared / "README.md").write_text(_folder_readme(res, run_date, names), encoding="utf-8")
    (work / "README.md").write_text(RUN_README.format(run_date=run_date), encoding="utf-8")
    done(k, "finish", shown_path(final))
    (analyst / "stages.json").write_text(json.dumps([s.__dict__ for s in res.stages], indent=2) + "\n")


def _public_stage(sfpd_dir: Path, out: Path, cfg: StudyConfig, res: ReportResult):
    from ..cli.public import write_public_comparison
    from ..public import (
        description_counts,
        district_counts,
        frame_sizes,
        load_shared_folder,
        resolution_counts,
    )
    from ..stats import its

    out.mkdir(parents=True, exist_ok=True)
    files = load_shared_folder(sfpd_dir)
    result = None
    if "daily" in files:
        monthly = its.monthly_counts(files["daily"])
        result = its.fit_its(monthly, cfg.unit_change_date)
        monthly.to_csv(out / "monthly_counts.csv", index=False, lineterminator="\n")
        result.summary.to_csv(out / "its_summary.csv", index=False, lineterminator="\n")
    if "kaggle" in files:
        compared = [("resolution", "Resolution", resolution_counts(files["kaggle"], cfg)),
                    ("description_group", "Offence description", description_counts(files["kaggle"], cfg)),
                    ("district", "District", district_counts(files["kaggle"], cfg))]
        write_public_comparison(compared, files["kaggle"], cfg, out)
    if "incidents" in files:
        frame_sizes(files["incidents"], cfg).to_csv(out / "sampling_frame.csv", index=False, lineterminator="\n")
    missing = [k for k in ("daily", "kaggle", "incidents") if k not in files]
    if missing:
        res.notes.append(f"Public record: file(s) for {', '.join(missing)} not found in {shown_path(sfpd_dir)}.")
    return result


class NotebookFailed(RuntimeError):
    """A notebook of the report stopped with an error (its executed copy, with the error, is kept)."""


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


def _worker_init() -> None:
    """In each notebook worker: die at once on SIGTERM (the report stops its workers that way), leave Ctrl-C to
    the report process, and stop (with the kernels) within a second if the report process disappears."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        _stop_tree([os.getpid()], include_roots=False)
        os._exit(1)

    threading.Thread(target=watch, name="report-parent-watch", daemon=True).start()


def _stop_tree(pids: list[int], include_roots: bool = True, timeout: float = 5.0) -> None:
    """Stop the processes ``pids`` (the notebook workers) and all their descendants (the kernels): the workers
    are frozen first so that none starts another kernel, the kernels get SIGTERM, the workers SIGKILL, and
    anything still there after ``timeout`` seconds is killed."""
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
    procs = children + (roots if include_roots else [])
    if include_roots:
        each(roots, "kill")
    _, alive = psutil.wait_procs(procs, timeout=timeout)
    each(alive, "kill")
    psutil.wait_procs(alive, timeout=timeout)


def _run_one(args) -> tuple[str, str]:
    import nbformat
    import papermill as pm
    from nbconvert import HTMLExporter

    name, src, dst_dir, params, replacements = args
    dst = dst_dir / f"{name}.ipynb"
    error = ""
    try:
        pm.execute_notebook(str(src), str(dst), parameters=params, kernel_name="python3", cwd=str(src.parent),
                            progress_bar=False, log_output=False)
    except pm.PapermillExecutionError as exc:
        error = f"{exc.ename}: {exc.evalue} (cell {exc.exec_count})"
    if dst.exists():
        # no absolute local path in the executed notebook or its web page
        nb = nbformat.from_dict(_redact_node(nbformat.read(dst, as_version=4), replacements))
        nbformat.write(nb, dst)
        body, _ = HTMLExporter(template_name="lab").from_notebook_node(nb, resources={"metadata": {"name": name}})
        (dst_dir / f"{name}.html").write_text(redact_paths(body, replacements), encoding="utf-8")
    return name, redact_paths(error, replacements)


def run_notebooks(data_dir: Path, sfpd_dir: Path, out: Path, *, n_boot: int, frame_path: str | None = None,
                  workers: int = 2, shown: dict[Path, str] | None = None) -> list[str]:
    """Execute the four notebooks with the report's inputs (papermill) and export each to HTML. Absolute
    local paths in their outputs are shown as ``shown`` says (and relative to the project root, or by name).
    If the run is stopped or fails, the workers and their kernels are stopped before this returns."""
    from concurrent.futures import ProcessPoolExecutor

    out.mkdir(parents=True, exist_ok=True)
    nb_dir = paths().root / "notebooks"
    scratch = out / "scratch"
    replacements = path_replacements(dict(shown or {}))
    params = {
        "01_coding_quality": {"data_dir": str(data_dir), "second_coder_dir": str(data_dir / "second_coder"),
                              "n_boot": min(n_boot, 500)},
        "02_before_after_tables": {"data_dir": str(data_dir), "frame_file": frame_path, "out_dir": None,
                                   "n_boot": n_boot},
        "03_public_incident_trends": {"sfpd_dir": str(sfpd_dir), "out_dir": str(scratch / "03")},
        "04_november_meeting_charts": {"data_dir": str(data_dir), "sfpd_dir": str(sfpd_dir),
                                       "out_dir": str(scratch / "04"), "n_boot": n_boot},
    }
    jobs = [(name, nb_dir / f"{name}.ipynb", out, params[name], replacements) for name in NOTEBOOKS]
    pool = ProcessPoolExecutor(max_workers=workers, initializer=_worker_init)
    finished = False
    try:
        futures = [pool.submit(_run_one, job) for job in jobs]  # (not pool.map: see below)
        results = [f.result() for f in futures]
        finished = True
    finally:
        if finished:
            pool.shutdown()
        else:  # stopped (signal) or failed: the workers and their kernels go with the report
            pids = [p.pid for p in list((getattr(pool, "_processes", None) or {}).values())]
            # the pool cancels what has not started itself; cancelling futures here as well (as pool.map's
            # clean-up does) races with the pool's own clean-up (InvalidStateError in its thread)
            pool.shutdown(wait=False, cancel_futures=True)
            _stop_tree(pids)
    shutil.rmtree(scratch, ignore_errors=True)  # the notebooks' own files duplicate the report's figures
    failed = [f"{name}: {error}" for name, error in results if error]
    if failed:
        raise NotebookFailed("notebook(s) stopped with an error: " + "; ".join(failed) + ".")
    return [name for name, _ in results]


def _folder_readme(res: ReportResult, run_date: str, names: list[str]) -> str:
    lines = [f"# Meeting pack, {run_date}: this is the folder to send", ""]
    if res.synthetic:
        lines += ["**SYNTHETIC DATA: made from the generated example, not from real reports.**", ""]
    lines += [
        "`shared/` is the folder to send or publish (zip this folder only). Everything in it applies small-cell "
        "suppression and carries no identifiers. Its sibling `analyst/` holds unsuppressed tables: never send it.",
        "",
        "| path | what |", "|---|---|",
        "| `meeting_pack.html` | the pack as one self-contained web page (charts embedded; no network needed) |",
        "| `meeting_pack.pdf` | the same as a PDF: cover, charts, key tables, methods and provenance |",
        "| `figures/` | each chart as PNG (slides) and PDF (vector), with the data behind it as CSV of the same name |",
        "| `tables/` | the before/after tables (" + ", ".join(names) + ") and the misclassification model, as "
        "CSV, Markdown and HTML, and all of them in `tables.xlsx` |",
        "| `reliability/reliability.csv` | inter-coder reliability per variable |",
        "| `public/` | the public record: monthly counts, interrupted time series, before/after table, frame |",
        "| `validation/row_accounting.csv` | rows read, valid and rejected per table |",
    ]
    if res.notes:
        lines += ["", "## Notes", ""] + [f"- {n}" for n in res.notes]
    return "\n".join(lines) + "\n"
