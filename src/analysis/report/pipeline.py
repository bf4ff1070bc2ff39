"""The pipeline: one function per stage, and :func:`run`, the main job (``python -m analysis report``).

Stages (each takes data and the loaded :class:`~analysis.scheme.codebook.Codebook` and
:class:`~analysis.scheme.config.StudyConfig`, and returns data; ``shared`` lists what it adds to the
:class:`~analysis.report.publish.Publication`):

1. :func:`validate_derive`   coded tables -> :class:`Derived` (validation result, derived tables, synthetic flag)
2. :func:`reliability`       the main and a second coding -> :class:`Reliability` (table, disagreement list)
3. :func:`tables_and_model`  derived tables -> :class:`Tables` (standard and key tables, the model)
4. :func:`public_record`     the public SFPD files -> :class:`PublicRecord` (series, ITS, before/after table)
5. :func:`charts`            derived tables (and the ITS) -> the meeting charts
6. :func:`pack_text` and :func:`~analysis.report.publish.publish`: the pack, and every shared file
7. notebooks                 :func:`analysis.report.notebooks.notebooks_running`, in parallel with stage 6

The notebooks show what stages 1 to 5 computed instead of computing it again: :func:`run` keeps each stage's
result in a :class:`NotebookResults`, writes it to a work file in a temporary folder of its own (never in the
shared or analyst folders: it holds row-level data; removed when the notebooks are done), and gives each notebook
its path as the ``results_file`` parameter; a notebook reads it with :func:`load_results`. Run by hand
(``results_file = None``), a notebook computes everything from the raw data, by the same stages. Notebook 04
shows the pack's own charts (drawn from the protection of everything shared, so with the pack's suppression and
q-values): it is started as soon as stage 6 has drawn them (:func:`write_shared_charts`, its ``charts_file``).

:func:`run` chains them into ``<out>/<run date>/``: ``shared/`` (what :func:`~analysis.report.publish.publish`
returns, nothing else) and ``analyst/`` (unsuppressed tables, executed notebooks, stages.json); the row-level
outputs (validation problems, rejected rows, the disagreement list) go to the derived folder. It writes only through
:mod:`analysis.report.output` (the atomic run folder, the derived-folder check). Progress is reported as each
stage finishes, with its time. The ``derive`` and ``tables`` commands and the notebooks call the same stages.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import pickle
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Callable

import pandas as pd

from .. import __version__
from ..coders.reliability import DEFAULT_SAMPLE_SEED
from ..derive import variables as derive_module
from ..formats.cells import frame_to_csv
from ..intake.load import load_coded_tables
from ..intake.validate import ValidationResult, validate_tables
from ..scheme.codebook import TABLES, Codebook
from ..scheme.config import StudyConfig, shown_path
from ..tables.export import provenance
from ..tables.standard import NO_OUTCOMES_NOTE, SOURCE, NamedTable, has_outcomes, standard_tables
from . import output
from .notebooks import notebook_workers, notebooks_running, report_workers
from .public_table import public_comparison  # noqa: F401 - here since issue 15: light to import for `public tables`
from .publish import (
    DataItem,
    DataQualityItem,
    FigureItem,
    FindingsItem,
    ModelNote,
    ModelTable,
    Note,
    Publication,
    TableItem,
    protect_publication,
    publish,
)
from .texts import analyst_readme, pack_text, run_readme

KEY_INCIDENT_VARIABLES = ["condoms_evidence_any", "condoms_any_police_action", "phones_seized", "police_initiated",
                          "origin_sting_sellers", "screened_trafficking", "labelled_trafficking",
                          "correctly_identified", "misclassification", "interpreter_used", "origin", "origin_group"]
KEY_SELLER_VARIABLES = ["trans_woman_of_color", "tay", "minor", "hiv_charge", "outcome", "person_phone_seized"]
MODEL_OUTCOMES = (("correctly_identified", "Correctly identified as trafficking"),
                  ("screened_trafficking_yes", "Screened for trafficking"))
MODEL_METHODS = ("Logistic regression of each outcome on period, investigating unit (specialised unit vs district "
                 "station / other only) and their interaction: maximum likelihood with Wald 95% CIs, or, where a cell "
                 "has fewer than five events or non-events or is separated, Firth's bias-reduced logistic regression "
                 "with profile penalised-likelihood 95% CIs; each model's note says which (analysis.stats.models).")
ACCOUNTING_COUNTS = ("input_rows", "valid_rows", "rejected_rows")
NOT_FOR_SHARING = "analyst table: unsuppressed"


# --- 1. validate and derive -------------------------------------------------------------------------------------


@dataclass
class Derived:
    """Stage 1: the validation result, the derived tables and whether the data is the synthetic example."""

    validation: ValidationResult
    tables: dict[str, pd.DataFrame]
    synthetic: bool
    shared: list = field(default_factory=list)  # the row accounting (counts with the small-cell rule)


def is_synthetic_coding(result: ValidationResult) -> bool:
    """The coded data is the synthetic example (its valid or rejected report ids say so)."""
    from ..scheme.synthetic import is_synthetic

    return is_synthetic(result.valid["incidents"]) or is_synthetic(result.rejected["incidents"])


def validate_derive(coded: dict, cb: Codebook, cfg: StudyConfig, income_lookup: pd.DataFrame | None = None
                    ) -> Derived:
    """Validate the coded tables (as :func:`analysis.intake.load.load_coded_tables` returns them) and derive the
    analysis tables from the valid rows."""
    result = validate_tables(coded, cb, cfg)
    tables = derive_module.derive(result.valid, cb, cfg, income_lookup)
    accounting = DataItem("validation/row_accounting.csv", result.accounting(), source=result,
                          small_cells=ACCOUNTING_COUNTS)
    return Derived(result, tables, is_synthetic_coding(result), [accounting])


def manifest(derived: Derived, cb: Codebook, cfg: StudyConfig, *, inputs: dict[str, str], input_path: str,
             income_lookup_name: str | None = None) -> dict:
    """The derived folder's manifest.json: what it was made from (input hashes and path, codebook, code and
    study configuration) and the rows read, valid, rejected and derived per table."""
    result = derived.validation
    return {
        "synthetic_data": derived.synthetic,
        "codebook_version": cb.version,
        "code_version": __version__,
        "study_config": Path(cfg.source).name,
        "input_path": input_path,
        "inputs": inputs,
        "income_lookup": income_lookup_name,
        "rows": {t: {"input": result.input_rows[t], "valid": len(result.valid[t]),
                     "rejected": len(result.rejected[t]), "derived": len(derived.tables[t])} for t in TABLES},
    }


def derive_into(path: Path, folder: Path, cb: Codebook, cfg: StudyConfig, *, income_lookup=None,
                income_lookup_name: str | None = None, force: bool = False, option: str = "--out",
                check: bool = True) -> Derived:
    """Stage 1 on the coded data at ``path``, written into the derived folder ``folder`` (derived tables as
    Parquet and CSV, manifest.json, and the row-level validation outputs in ``validation/``). A folder made from
    other inputs is refused before anything is read or written (``check``; see
    :func:`analysis.report.output.check_derived_folder`)."""
    path, folder = Path(path), Path(folder)
    if check:
        output.check_derived_folder(folder, path, force=force, option=option)
    derived = validate_derive(load_coded_tables(path, cb), cb, cfg, income_lookup)
    output.write_validation(derived.validation, folder / "validation")
    output.write_derived(derived.tables, folder, manifest(
        derived, cb, cfg, inputs=output.input_hashes(path), input_path=output.input_path_label(path),
        income_lookup_name=income_lookup_name))
    return derived


# --- 2. reliability -------------------------------------------------------------------------------------------


@dataclass
class Reliability:
    """Stage 2: the second coding's validation, the reliability table and the disagreement list (with ids: for
    the derived folder, never shared)."""

    second: ValidationResult
    table: pd.DataFrame
    disagreements: pd.DataFrame
    names: tuple[str, str]  # how the main and the second coding are named (the disagreement list's columns)
    shared: list = field(default_factory=list)

    @property
    def flagged(self) -> int:
        """Variables/options below 0.800 (or undefined)."""
        return int((self.table["flag"] != "reliable").sum())

    def named(self, names: tuple[str, str]) -> Reliability:
        """The same result with the codings called ``names`` (the disagreement list's coder columns renamed), as
        :func:`reliability` gives it with ``names``: the names label the codings and change no number."""
        renamed = self.disagreements.rename(columns=dict(zip(self.names, names)))
        return dataclasses.replace(self, disagreements=renamed, names=tuple(names))


def reliability(main: dict[str, pd.DataFrame], second: dict, cb: Codebook, cfg: StudyConfig, *, n_boot: int = 1000,
                seed: int = DEFAULT_SAMPLE_SEED, names: tuple[str, str] | None = None) -> Reliability:
    """Inter-coder reliability of the main coding's valid rows (``main``) and a second coding of the
    double-coded sample (``second``, coded tables as read). The codings are named ``names``, or by their coder
    ids when those are single-valued (else ``coder_a`` / ``coder_b``; the second gets ``_2`` when both would
    have the same name)."""
    from ..coders.reliability import clip_intervals, coder_name, disagreements, reliability_table, shared_summary

    other = validate_tables(second, cb, cfg)
    names = names or (coder_name(main, "coder_a"), coder_name(other.valid, "coder_b"))
    if names[0] == names[1]:  # one coder id on both codings: still two codings
        names = (names[0], f"{names[1]}_2")
    codings = {names[0]: main, names[1]: other.valid}
    table = reliability_table(codings, cb, n_boot=n_boot, seed=seed)
    shared = shared_summary(clip_intervals(table), cfg.suppression_threshold)
    return Reliability(other, table, disagreements(codings, cb), names,
                       [DataItem("reliability/reliability.csv", shared, source=table)])


# --- 3. tables and the model ------------------------------------------------------------------------------------


@dataclass
class Tables:
    """Stage 3: the standard before/after tables, the pack's key tables and the misclassification model."""

    standard: list[NamedTable]
    key: list[tuple[str, object]] = field(default_factory=list)  # (title, ComparisonTable)
    models: list[tuple[str, object]] = field(default_factory=list)  # (outcome label, ModelResult)
    shared: list = field(default_factory=list)

    @property
    def names(self) -> list[str]:
        return [nt.name for nt in self.standard]

    def standard_shared(self, folder: str | None = None) -> list[TableItem]:
        """The shared items of the standard tables only (what the ``tables`` command shares); with ``folder``,
        placed in that folder of the shared files instead ("": at its top)."""
        items = [item for item in self.shared if isinstance(item, TableItem) and item.xlsx]
        if folder is None:
            return items
        prefix = f"{folder}/" if folder else ""
        return [dataclasses.replace(item, path=prefix + item.name) for item in items]


def key_rows(ct, variables: list[str], table_name: str):
    """The rows of ``variables`` from a standard table, as a table of its own with the standard table's q-values
    (one adjustment family per table: the same q in every file made from it)."""
    import dataclasses

    rows = ct.rows[ct.rows["variable"].isin(variables) | ct.rows["column"].isin(variables)].reset_index(drop=True)
    note = (f"Key rows of the table '{table_name}': q-values are those of that table (adjusted across all its "
            "variables), the same in every file made from it.")
    return dataclasses.replace(ct, rows=rows, notes=[*ct.notes, note])


def _key_tables(standard: list[NamedTable]) -> list[tuple[str, object]]:
    by_name = {nt.name: nt.table for nt in standard}
    key = [("Key indicators: incident reports", key_rows(by_name["incidents"], KEY_INCIDENT_VARIABLES, "incidents"))]
    if "persons_sellers" in by_name:
        key.append(("Key indicators: people selling sex",
                    key_rows(by_name["persons_sellers"], KEY_SELLER_VARIABLES, "persons_sellers")))
    return key


def tables_and_model(derived: dict[str, pd.DataFrame], cb: Codebook, cfg: StudyConfig, stamp: dict, *,
                     frame: dict[int, int] | None = None, n_boot: int = 2000, folder: str = "tables",
                     key: bool = True) -> Tables:
    """The standard tables (shared as CSV, Markdown, HTML and ``<folder>/tables.xlsx``) and, with ``key``, the
    pack's key tables and the misclassification model (shared as files and in the pack), with ``stamp`` (the
    provenance) in every footer."""
    from ..stats.models import misclassification_model

    prefix = f"{folder}/" if folder else ""
    result = Tables(standard_tables(derived, frame, n_boot=n_boot, codebook=cb, config=cfg))
    result.shared = [TableItem(prefix + nt.name, nt.title, nt.table, nt.table.methods_text(), stamp, xlsx=True,
                               units=derived) for nt in result.standard]
    if not has_outcomes(derived["persons"]):
        result.shared.append(Note(NO_OUTCOMES_NOTE))
    if not key:
        return result
    result.key = _key_tables(result.standard)
    result.shared += [TableItem(f"{prefix}key_{k}", title, ct, ct.methods_text(), stamp, formats=(), pack=True,
                                units=derived) for k, (title, ct) in enumerate(result.key)]
    result.models = [(label, misclassification_model(derived["incidents"], outcome=outcome))
                     for outcome, label in MODEL_OUTCOMES]
    crude = [(label, misclassification_model(derived["incidents"], outcome=outcome, unit=False))
             for outcome, label in MODEL_OUTCOMES]
    result.shared.append(TableItem(prefix + "misclassification_model", "Misclassification model: odds ratios",
                                   ModelTable(result.models, crude), MODEL_METHODS, stamp, pack=True, units=derived))
    result.shared += [ModelNote(label, m, c) for (label, m), (_, c) in zip(result.models, crude)]
    return result


def analyst_tables(standard: list[NamedTable], folder: str = "tables") -> dict[str, bytes]:
    """The standard tables in full (every count, unsuppressed; marked NOT_FOR_SHARING), for ``analyst/``."""
    files = {}
    for nt in standard:
        full = nt.table.rows.copy()
        full.insert(0, "NOT_FOR_SHARING", NOT_FOR_SHARING)
        files[(f"{folder}/" if folder else "") + f"{nt.name}_full.csv"] = frame_to_csv(full).encode("utf-8")
    return files


# --- the findings of a coded data folder (the questions command) ------------------------------------------


def findings_for_data(path, cb, cfg, *, frame: dict[int, int] | None = None, income_lookup=None,
                      n_boot: int | None = None):
    """The findings (:class:`~analysis.report.findings.Findings`) of the coded data at ``path`` as the report
    writes them: validate and derive, the standard tables, reliability when ``path/second_coder`` exists, and the
    findings from the tables as displayed (``python -m analysis questions``)."""
    from .publish import rendered_pages, shown_table

    path = Path(path)
    n_boot = n_boot or cfg.bootstrap_resamples
    derived = validate_derive(load_coded_tables(path, cb), cb, cfg, income_lookup)
    stamp = {"inputs": {}, "codebook_version": cb.version, "code_version": "", "synthetic": derived.synthetic}
    tables = tables_and_model(derived.tables, cb, cfg, stamp, frame=frame, n_boot=n_boot, key=False)
    rel = None
    if (path / "second_coder").is_dir():
        rel = reliability(derived.validation.valid, load_coded_tables(path / "second_coder", cb), cb, cfg,
                          n_boot=n_boot, seed=cfg.bootstrap_seed).table
    pub = Publication(synthetic=derived.synthetic)
    pub.add(*tables.standard_shared(), FindingsItem(cb.questions, rel, weighted=frame is not None,
                                                    income_available=income_lookup is not None))
    protection = protect_publication(pub, cfg, check_ranges=False)
    shown = [(item, shown_table(item, protection), []) for item in pub.tables]
    findings, _ = rendered_pages(pub, shown, cfg.suppression_threshold, protection)
    return findings


# --- 4. the public record ---------------------------------------------------------------------------------------


@dataclass
class PublicRecord:
    """Stage 4: the monthly series and its interrupted time series (when the daily file is there), and the files
    of the shared folder that were missing."""

    its: object = None  # analysis.stats.its.ITSResult
    missing: list[str] = field(default_factory=list)
    shared: list = field(default_factory=list)


def public_record(files: dict[str, pd.DataFrame], cb: Codebook, cfg: StudyConfig, *,
                  kaggle_hashes: dict[str, str] | None = None, folder: str = "public") -> PublicRecord:
    """The public SFPD files (:func:`analysis.public.load_shared_folder`): monthly counts and the interrupted
    time series at the unit change, the before/after table of the Kaggle rows (``kaggle_hashes``: its file's
    hash, for the footer) and the sampling frame sizes."""
    from ..public import frame_table, monthly_counts
    from ..public.frame import count_tables
    from ..stats import its

    result = PublicRecord(missing=[k for k in ("daily", "kaggle", "incidents") if k not in files])
    if "daily" in files:
        monthly = monthly_counts(files["daily"])
        result.its = its.fit_its(monthly, cfg.unit_change_date)
        result.shared += [DataItem(f"{folder}/monthly_counts.csv", monthly),
                          DataItem(f"{folder}/its_summary.csv", result.its.summary, source=result.its)]
    if "kaggle" in files:
        kaggle = files["kaggle"]
        made = count_tables(kaggle, cfg, names=("resolution", "description_group", "district"))
        for table in made.values():
            if isinstance(table, Exception):
                raise table
        compared = [("resolution", "Resolution", made["resolution"]),
                    ("description_group", "Offence description", made["description_group"]),
                    ("district", "District", made["district"])]
        result.shared.append(public_comparison(compared, kaggle, cb, cfg, kaggle_hashes or {},
                                               path=f"{folder}/public_before_after"))
    if "incidents" in files:
        result.shared.append(DataItem(f"{folder}/sampling_frame.csv", frame_table(files["incidents"], cfg)))
    return result


# --- 5. charts --------------------------------------------------------------------------------------------------


def charts(derived: dict[str, pd.DataFrame], its_result, synthetic: bool, cb: Codebook, cfg: StudyConfig, *,
           n_boot: int = 2000, standard: list[NamedTable] | None = None, comparisons: dict | None = None) -> list:
    """The meeting charts (:func:`analysis.report.charts.meeting_charts`), in meeting order; without
    ``its_result`` the public-series chart is left out. With ``standard`` (the standard tables) the charts show
    their q-values (one adjustment family per table). ``comparisons``: the charts' before/after tables as the
    report computed them (:attr:`NotebookResults.chart_comparisons`), not computed again."""
    from .charts import meeting_charts

    return meeting_charts(derived, its_result, synthetic=synthetic, config=cfg, n_boot=n_boot, codebook=cb,
                          standard={nt.name: nt.table for nt in standard or []}, comparisons=comparisons)


def chart_items(derived: dict[str, pd.DataFrame], its_result, synthetic: bool, cb: Codebook, cfg: StudyConfig, *,
                n_boot: int = 2000, standard: list[NamedTable] | None = None,
                comparisons: dict | None = None) -> list[FigureItem]:
    """The meeting charts as shared items: their numbers now, their figures drawn by the publishing step from
    the protection of everything shared (:func:`analysis.report.charts.meeting.chart_plans`). ``comparisons``:
    the charts' before/after tables (:func:`analysis.report.charts.meeting.chart_comparisons`), when computed
    before."""
    from .charts.meeting import chart_plans

    plans = chart_plans(derived, its_result, synthetic=synthetic, config=cfg, n_boot=n_boot, codebook=cb,
                        standard={nt.name: nt.table for nt in standard or []}, comparisons=comparisons)
    return [FigureItem(plan=p, units=derived) for p in plans]


# --- what the notebooks show: the results of stages 1 to 5, computed once -------------------------------------


@dataclass
class NotebookResults:
    """What a report run's stages computed that its notebooks show (:func:`write_results`, :func:`load_results`).

    Row-level data (the validated and derived tables, the public files): it lives in a temporary work file for
    the notebooks of one run, never in the shared or analyst folders."""

    run_date: str
    derived: Derived  # stage 1 (notebooks 01, 02, 04, 05)
    reliability: Reliability | None  # stage 2, None without a second coding (notebook 01)
    tables: Tables  # stage 3: the standard tables and the model (notebook 02)
    frame: dict[int, int] | None  # the sampling frame the tables are weighted to (notebook 02)
    public: PublicRecord | None  # stage 4, None without the public SFPD folder (notebooks 03, 04)
    public_files: dict[str, pd.DataFrame] | None  # the public files stage 4 read (notebook 03)
    chart_comparisons: dict  # stage 5: each chart's before/after tables with their own q-values (notebook 04)

    @property
    def its(self):
        """The interrupted time series of the public monthly series (None without the daily file)."""
        return self.public.its if self.public is not None else None

    @property
    def note(self) -> str:
        """What a notebook prints when it shows these results."""
        return (f"Shown from the report's run of {self.run_date}: the results its pipeline stages computed, read "
                "from its work file, not computed again here (run by hand, with results_file = None, this "
                "notebook computes them from the data).")


RESULTS_FILE = "results.pickle"


def write_results(results: NotebookResults, folder: Path) -> Path:
    """``results`` as ``folder/results.pickle`` (a pickle: the notebooks of the same run read it back with the
    same code); returns its path."""
    path = Path(folder) / RESULTS_FILE
    with open(path, "wb") as f:
        pickle.dump(results, f, protocol=pickle.HIGHEST_PROTOCOL)
    return path


def load_results(path: str | Path) -> NotebookResults:
    """The report's results written by :func:`write_results` (a notebook's ``results_file``)."""
    with open(path, "rb") as f:
        results = pickle.load(f)
    if not isinstance(results, NotebookResults):
        raise TypeError(f"{Path(path).name} holds {type(results).__name__}, not a report's results")
    return results


SHARED_CHARTS_FILE = "shared_charts.pickle"
CHARTS_NOTEBOOK = "04_november_meeting_charts"  # shows the pack's charts: waits until they are drawn


def write_shared_charts(charts: list, pngs: dict[str, bytes], folder: Path) -> Path:
    """The charts as the pack shares them (drawn from the protection of everything shared, so with its
    suppression and q-values), without their figures, and their PNGs (``pngs``: ``{shared path: PNG}``), as
    ``folder/shared_charts.pickle`` for notebook 04 (its ``charts_file``); returns its path."""
    shared = ([dataclasses.replace(chart, fig=None) for chart in charts],
              {PurePosixPath(path).name: png for path, png in pngs.items()})
    path = Path(folder) / SHARED_CHARTS_FILE
    with open(path, "wb") as f:
        pickle.dump(shared, f, protocol=pickle.HIGHEST_PROTOCOL)
    return path


def load_shared_charts(path: str | Path) -> tuple[list, dict[str, bytes]]:
    """The charts written by :func:`write_shared_charts` (a notebook's ``charts_file``): the charts (each with
    its title, data as shared and description; no figure) and ``{<name>.png: PNG}``."""
    with open(path, "rb") as f:
        charts, pngs = pickle.load(f)
    return charts, pngs


# --- the run ----------------------------------------------------------------------------------------------------


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


@dataclass
class RunInputs:
    """What a report run reads: the coded data, the public SFPD folder, the derived folder it writes, and the
    sampling frame (parsed, with the file it came from for the notebooks)."""

    data_dir: Path
    sfpd_dir: Path
    derived_dir: Path
    frame: dict[int, int] | None = None
    frame_path: Path | None = None
    income_lookup: pd.DataFrame | None = None  # parsed ACS B19013 lookup (analysis.derive.income), or None
    income_lookup_name: str | None = None

    def resolved(self) -> RunInputs:
        """Absolute paths (the notebooks run with notebooks/ as their working directory)."""
        return RunInputs(Path(self.data_dir).resolve(), Path(self.sfpd_dir).resolve(), Path(self.derived_dir),
                         self.frame, Path(self.frame_path).resolve() if self.frame_path else None,
                         self.income_lookup, self.income_lookup_name)


class _Clock:
    """Stage times and progress lines: ``[k/steps] name (seconds s): note``."""

    def __init__(self, res: ReportResult, steps: int, progress: Callable[[str], None]):
        self.res, self.steps, self.progress = res, steps, progress
        self.last = time.perf_counter()

    def done(self, name: str, note: str = "") -> None:
        now = time.perf_counter()
        seconds, self.last = now - self.last, now
        self.res.stages.append(Stage(name, seconds, note))
        k = len(self.res.stages)
        self.progress(f"[{k}/{self.steps}] {name} ({seconds:.1f} s)" + (f": {note}" if note else ""))


@dataclass
class _Run:
    """One report run's settings and what it has made so far."""

    inputs: RunInputs
    cb: Codebook
    cfg: StudyConfig
    run_date: str
    n_boot: int
    work: Path
    final: Path
    res: ReportResult
    clock: _Clock
    pub: Publication = field(default_factory=Publication)

    @property
    def analyst(self) -> Path:
        return self.work / "analyst"


def run(inputs: RunInputs, out_root: Path, cb: Codebook, cfg: StudyConfig, *, run_date: str | None = None,
        notebooks: bool = True, n_boot: int | None = None, force: bool = False,
        progress: Callable[[str], None] = print, workers=None) -> ReportResult:
    """The whole pipeline into ``out_root/<run date>/`` (``shared/`` and ``analyst/``), written atomically
    (:func:`analysis.report.output.run_folder`). The derived folder is checked before any work: one made from
    other inputs is refused unless ``force``. ``workers``: with ``notebooks``, the notebook workers the caller
    started (:func:`analysis.report.notebooks.notebook_workers`; the command starts them before it imports this
    module), else they are started here."""
    inputs = inputs.resolved()
    n_boot = n_boot or cfg.bootstrap_resamples  # the study configuration's, as the notebooks use
    out_root = Path(out_root).resolve()
    run_date = run_date or dt.date.today().isoformat()
    output.check_derived_folder(inputs.derived_dir, inputs.data_dir, force=force, option="report --derived")
    final = out_root / run_date
    res = ReportResult(final)
    with output.run_folder(out_root, run_date, progress) as work:
        r = _Run(inputs, cb, cfg, run_date, n_boot, work, final, res, _Clock(res, 8 if notebooks else 7, progress))
        r.pub.run_date = run_date
        _build(r, notebooks, workers)
    return res


def _build(r: _Run, notebooks: bool, workers=None) -> None:
    # the notebook workers start now (unless started before): each starts a kernel ahead, which imports what the
    # notebooks import while the first stages run here (on one core); the notebooks are given to them after stage 5.
    # Workers started before are let go, or stopped if the run fails, here too: before the run folder is left
    if not notebooks:
        _build_with(r, None)
    else:
        with notebook_workers(report_workers()) if workers is None else contextlib.closing(workers) as workers:
            _build_with(r, workers)
    output.write_text(r.analyst / "stages.json", json.dumps([s.__dict__ for s in r.res.stages], indent=2) + "\n")


def _build_with(r: _Run, workers) -> None:
    derived, stamp = _stage_derive(r)
    rel = _stage_reliability(r, derived)
    tables = _stage_tables(r, derived, stamp)
    rel_table = rel.table if rel is not None else None
    r.pub.add(*findings_pages(r.cb, derived, rel_table, weighted=r.inputs.frame is not None,
                              income_available=r.inputs.income_lookup is not None))
    public, files = _stage_public(r)
    comparisons = _stage_charts(r, derived, tables, public.its if public is not None else None)
    results = NotebookResults(r.run_date, derived, rel, tables, r.inputs.frame, public, files, comparisons)
    # the notebooks run (worker processes) while this process makes the pack; stopped with the run if it fails
    # (notebook 04 shows the pack's own charts: it is started as soon as the pack's charts are drawn)
    with _stage_notebooks(r, results, workers) if workers is not None else contextlib.nullcontext((None, None)) \
            as (running, charts_drawn):
        _stage_pack(r, derived, stamp, charts_drawn)
        output.write_text(r.analyst / "README.md", analyst_readme(r.cfg.suppression_threshold))
        if running is not None:
            pack_done = time.perf_counter()
            ran = running.wait()
            # the stage's time is the wait after the pack (so that the stages add up to the run's time)
            during = min(running.seconds, max(0.0, pack_done - running.started))
            r.clock.done("notebooks (in parallel with the pack)",
                         f"{', '.join(ran)}; {running.seconds:.1f} s from start to end, {during:.1f} s of it while "
                         "the pack was made")
    output.write_text(r.work / "README.md", run_readme(r.run_date))
    r.clock.done("finish", shown_path(r.final))


def _stage_derive(r: _Run) -> tuple[Derived, dict]:
    """1. Validate and derive into the derived folder (row-level outputs stay there)."""
    inputs = r.inputs
    derived = derive_into(inputs.data_dir, inputs.derived_dir, r.cb, r.cfg, check=False,
                          income_lookup=inputs.income_lookup, income_lookup_name=inputs.income_lookup_name)
    result = derived.validation
    r.res.exit_code, r.res.synthetic = result.exit_code, derived.synthetic
    r.pub.synthetic = derived.synthetic
    r.pub.add(*derived.shared)
    r.clock.done("validate + derive", f"{sum(result.input_rows.values()):,} rows read, {result.n_rejected} rejected")
    return derived, provenance(output.input_hashes(inputs.data_dir), r.cb.version, derived.synthetic)


def _stage_reliability(r: _Run, derived: Derived) -> Reliability | None:
    """2. Reliability, when the data folder has a second coding (the disagreement list goes to the derived
    folder). Returns its result, or None."""
    second = r.inputs.data_dir / "second_coder"
    if not second.is_dir():
        r.pub.add(Note("Reliability: no second coding found at {folder}; skipped.",
                       values={"folder": shown_path(second)}))
        r.clock.done("reliability", "skipped (no second coding)")
        return None
    rel = reliability(derived.validation.valid, load_coded_tables(second, r.cb), r.cb, r.cfg, n_boot=r.n_boot,
                      seed=r.cfg.bootstrap_seed)
    r.pub.add(*rel.shared)
    output.write_csv(rel.disagreements, r.inputs.derived_dir / "reliability" / "disagreements.csv")
    r.clock.done("reliability", f"{len(rel.table)} variables/options, {rel.flagged} below 0.800")
    return rel


def findings_pages(cb: Codebook, derived: Derived, rel_table: pd.DataFrame | None, *, weighted: bool,
                   income_available: bool) -> list:
    """The findings page (one finding per committee question) and the data-quality page, as items: they are
    written by :func:`~analysis.report.publish.publish` from the tables as shared."""
    accounting = next(item for item in derived.shared if item.path.endswith("row_accounting.csv"))
    return [FindingsItem(cb.questions, rel_table, weighted=weighted, income_available=income_available),
            DataQualityItem(cb.questions, rel_table, accounting)]


def _stage_tables(r: _Run, derived: Derived, stamp: dict) -> Tables:
    """3. The before/after tables and the model (the analyst's full tables are written now)."""
    tables = tables_and_model(derived.tables, r.cb, r.cfg, stamp, frame=r.inputs.frame, n_boot=r.n_boot)
    r.pub.add(*tables.shared)
    output.write_files(r.analyst, analyst_tables(tables.standard))
    r.clock.done("tables + model", f"{len(tables.standard) + 1} tables")
    return tables


def _stage_public(r: _Run) -> tuple[PublicRecord | None, dict[str, pd.DataFrame] | None]:
    """4. The public record, when the SFPD data folder is there. Returns its result and the files read (or
    None, None)."""
    from ..public import load_shared_folder

    sfpd = r.inputs.sfpd_dir
    if not sfpd.is_dir():
        r.pub.add(Note("Public record: the SFPD data folder {folder} is absent; the public series and tables were "
                       "skipped.", values={"folder": shown_path(sfpd)}))
        r.clock.done("public record", f"skipped ({shown_path(sfpd)} absent)")
        return None, None
    files = load_shared_folder(sfpd)
    hashes = output.source_hashes(files["kaggle"]) if "kaggle" in files else {}
    public = public_record(files, r.cb, r.cfg, kaggle_hashes=hashes)
    r.pub.add(*public.shared)
    if public.missing:
        r.pub.add(Note("Public record: file(s) for {files} not found in {folder}.",
                       values={"files": ", ".join(public.missing), "folder": shown_path(sfpd)}))
    r.clock.done("public record", "interrupted time series and before/after tables")
    return public, files


def _stage_charts(r: _Run, derived: Derived, tables: Tables, its_result) -> dict:
    """5. The meeting charts' numbers (drawn by the publishing step). Returns each chart's before/after tables
    with their own q-values (:func:`analysis.report.charts.meeting.chart_comparisons`, for notebook 04)."""
    from .charts.meeting import chart_comparisons

    comparisons = chart_comparisons(derived.tables, config=r.cfg, n_boot=r.n_boot, codebook=r.cb)
    chart_list = chart_items(derived.tables, its_result, derived.synthetic, r.cb, r.cfg, n_boot=r.n_boot,
                             standard=tables.standard, comparisons=comparisons)
    r.pub.add(*chart_list)
    r.clock.done("charts", f"{len(chart_list)} charts")
    return comparisons


def _stage_pack(r: _Run, derived: Derived, stamp: dict, charts_drawn: Callable | None = None) -> None:
    """6. The meeting pack, and with it every shared file: publish() writes shared/ in one step (``charts_drawn``:
    given the charts as soon as they are drawn)."""
    valid = {t: len(df) for t, df in derived.validation.valid.items()}
    r.pub.pack = pack_text(r.cfg, stamp, source=SOURCE, valid_rows=valid, weighted=bool(r.inputs.frame),
                           run_date=r.run_date)
    r.pub.units, r.pub.codebook = derived.tables, r.cb
    protection = protect_publication(r.pub, r.cfg)
    leaks = protection.leaks() + [(k, (0, 0)) for k in protection.unprotected]
    apart = {k.population for k, _ in leaks if k.population.startswith("counts:")}
    if leaks and len(apart) == len({k.population for k, _ in leaks}):
        # a table of a subset of people too small to protect (the outcomes tables of a small coding): left out
        r.pub.tables = [t for t in r.pub.tables if not (hasattr(t.source, "population")
                                                        and f"counts:{t.source.population}" in apart)]
        r.pub.add(Note("Some tables of a small group of people (e.g. prosecution outcomes) were left out: too few "
                       "people to share them without risk of identifying someone."))
        protection = protect_publication(r.pub, r.cfg)
        leaks = protection.leaks() + [(k, (0, 0)) for k in protection.unprotected]
    if leaks:
        from ..tables.disclosure import CannotProtect

        counts = derived.tables["incidents"]["period"].astype(str).value_counts()
        sizes = ", ".join(f"{int(counts.get(p, 0))} {label}" for p, label in r.cfg.period_labels.items())
        raise CannotProtect(
            f"the shared pack cannot be protected, so nothing was shared: the coding is too small (reports per period: "
            f"{sizes}) for every count below {r.cfg.suppression_threshold} to stay hidden from someone holding all the "
            f"shared files. Code more reports before sharing (the analyst's unsuppressed tables are in the run's .incomplete folder). First "
            f"counts that could not be protected: " + "; ".join(k.describe() for k, _ in leaks[:3]))
    output.write_files(r.work / "shared", publish(r.pub, r.cfg, protection, charts_drawn=charts_drawn))
    output.write_files(r.analyst, disclosure_files(protection))
    r.res.notes = r.pub.note_texts(protection)
    hidden = sum(1 for k, st in protection.status.items() if st == "hidden")
    r.clock.done("meeting pack", f"meeting_pack.html, meeting_pack.pdf; {hidden} counts suppressed")


def disclosure_files(protection) -> dict[str, bytes]:
    """The analyst's record of the protection (never shared: it says which counts are small):
    ``disclosure/information_loss.csv`` (per shared item: counts shown, suppressed, suppressed at or above the
    threshold, withheld, merged levels) and ``disclosure/suppressed.csv`` (every suppressed count, its value, the
    exact check's range for small ones, and which small counts each larger one protects)."""
    from ..tables.disclosure.loss import information_loss

    summary, detail = information_loss(protection)
    return {"disclosure/information_loss.csv": frame_to_csv(summary).encode("utf-8"),
            "disclosure/suppressed.csv": frame_to_csv(detail).encode("utf-8")}


def notebook_config_file(cfg: StudyConfig) -> str | None:
    """The study configuration file the notebooks are to load for a run with ``cfg``: None for the package's
    own (the notebooks' default), else the file ``cfg`` was read from."""
    from ..scheme.config import default_config_path

    return None if Path(cfg.source).resolve() == default_config_path().resolve() else cfg.source


@contextlib.contextmanager
def _stage_notebooks(r: _Run, results: NotebookResults, workers):
    """7. The five notebooks, executed with the report's inputs and configuration into analyst/notebooks, started
    now in worker processes (:func:`analysis.report.notebooks.notebooks_running`): they show ``results``, written
    to a work file in a temporary folder of its own (row-level data: never in the run folder), removed when they
    are done or stopped. Notebook 04 shows the pack's charts: it waits until they are drawn. Yields the running
    notebooks (``wait()`` for them) and what the pack calls with its charts (:func:`publish`'s ``charts_drawn``),
    which writes them for notebook 04 and lets it start."""
    inputs = r.inputs
    shown = {r.work: shown_path(r.final), inputs.data_dir: shown_path(inputs.data_dir),
             inputs.sfpd_dir: shown_path(inputs.sfpd_dir)}
    frame_path = str(inputs.frame_path) if inputs.frame_path else None
    if frame_path:
        shown[Path(frame_path)] = shown_path(frame_path)
    config_file = notebook_config_file(r.cfg)
    if config_file:
        shown[Path(config_file)] = shown_path(config_file)
    work = Path(tempfile.mkdtemp(prefix="analysis-report-"))  # readable by this user only
    try:
        results_file = write_results(results, work)
        charts_file = work / SHARED_CHARTS_FILE
        with notebooks_running(inputs.data_dir, inputs.sfpd_dir, r.analyst / "notebooks", n_boot=r.n_boot,
                               frame_path=frame_path, config_file=config_file, shown=shown,
                               results_file=str(results_file), workers=workers,
                               held={CHARTS_NOTEBOOK: {"charts_file": str(charts_file)}}) as running:

            def charts_drawn(charts: list, pngs: dict[str, bytes]) -> None:
                write_shared_charts(charts, pngs, work)
                running.release()

            yield running, charts_drawn
    finally:
        shutil.rmtree(work, ignore_errors=True)
