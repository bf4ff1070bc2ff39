"""`python -m analysis report` / `make report`: the whole pipeline, into ``reports/<run date>/``.

Stages: validate and derive the coded data -> inter-coder reliability (when a second coding is there) ->
before/after tables and the misclassification model -> the public record (when ../shared/data/sfpd is
there) -> charts -> the meeting pack (one HTML page, one PDF) -> the four notebooks, executed with the same
inputs and exported to HTML. Progress is printed as each stage finishes, with its time.

What is shared and what is not: everything in the report folder is meant for sharing (suppressed, no
identifiers) except ``analyst/``, which holds the unsuppressed tables and the executed notebooks for the
statistician (it still holds no person codes). Row-level outputs with ids (validation problems, rejected rows,
the disagreement list) stay in ``data/derived/`` on the analyst's machine.
This module is the report command's implementation: it is the one place besides cli.py that writes files.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pandas as pd

from .codebook import load_codebook
from .config import StudyConfig, load_study_config, paths

NOTEBOOKS = ("01_coding_quality", "02_before_after_tables", "03_public_incident_trends",
             "04_november_meeting_charts")
ANALYST_README = """# analyst/: not for sharing

The unsuppressed before/after tables and the executed notebooks, for the statistician. They hold no person
codes, but small counts are not suppressed here. Share only the files outside this folder.
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
    progress: Callable[[str], None] = print,
) -> ReportResult:
    from . import cli
    from .export import footer_lines, provenance, to_csv, to_html, to_markdown
    from .synth import is_synthetic
    from .tables import SOURCE

    # notebooks run with notebooks/ as their working directory: every input path must be absolute
    data_dir = Path(data_dir).resolve()
    out_root = Path(out_root).resolve()
    frame_path = str(Path(frame_path).resolve()) if frame_path else None
    config_path = str(Path(config_path).resolve()) if config_path else None
    cfg = load_study_config(config_path)
    cb = load_codebook()
    run_date = run_date or dt.date.today().isoformat()
    folder = out_root / run_date
    folder.mkdir(parents=True, exist_ok=True)
    derived_dir = derived_dir or paths().derived
    sfpd_dir = (Path(sfpd_dir) if sfpd_dir is not None else paths().shared_sfpd).resolve()
    res = ReportResult(folder)
    steps = 8 if notebooks else 7
    clock = [time.perf_counter()]

    def done(k: int, name: str, note: str = "") -> None:
        now = time.perf_counter()
        seconds, clock[0] = now - clock[0], now
        res.stages.append(Stage(name, seconds, note))
        progress(f"[{k}/{steps}] {name} ({seconds:.1f} s)" + (f": {note}" if note else ""))

    # 1. validate and derive (row-level outputs stay in data/derived)
    result, derived = cli.run_derive(Path(data_dir), derived_dir, config_path, None)
    res.exit_code = result.exit_code
    res.synthetic = is_synthetic(result.valid["incidents"]) or is_synthetic(result.rejected["incidents"])
    stamp = provenance(cli.input_hashes(Path(data_dir)), cb.version, res.synthetic)
    acct = result.accounting()
    thr = cfg.suppression_threshold
    acct_display = acct.copy()
    for c in ("input_rows", "valid_rows", "rejected_rows"):
        acct_display[c] = [_small(int(v), thr) for v in acct[c]]
    cli.write_csv(acct_display, folder / "validation" / "row_accounting.csv")
    done(1, "validate + derive", f"{sum(result.input_rows.values()):,} rows read, {result.n_rejected} rejected")

    # 2. reliability
    second = Path(data_dir) / "second_coder"
    reliability = None
    if second.is_dir():
        from .load import load_coded_tables
        from .reliability import coder_name, disagreements, reliability_table
        from .validate import validate_tables

        other = validate_tables(load_coded_tables(second), cb, cfg)
        codings = {coder_name(result.valid, "coder_a"): result.valid, coder_name(other.valid, "coder_b"): other.valid}
        reliability = reliability_table(codings, cb, n_boot=n_boot)
        cli.write_csv(reliability, folder / "reliability" / "reliability.csv")
        cli.write_csv(disagreements(codings, cb), derived_dir / "reliability" / "disagreements.csv")
        flagged = int((reliability["flag"] != "reliable").sum())
        done(2, "reliability", f"{len(reliability)} variables/options, {flagged} below 0.800")
    else:
        res.notes.append(f"Reliability: no second coding found at {second}; skipped.")
        done(2, "reliability", "skipped (no second coding)")

    # 3. tables and the misclassification model
    frame = cli._read_frame(frame_path)
    names = cli.write_tables(derived, folder / "tables", stamp, cfg, frame, n_boot=n_boot,
                             analyst_dir=folder / "analyst" / "tables")
    from .compare import before_after, display
    from .models import misclassification_model
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
                                "(analysis.models).", cfg, stamp, SOURCE)
    model_title = "Misclassification model: odds ratios" + (" (SYNTHETIC DATA)" if res.synthetic else "")
    (folder / "tables" / "misclassification_model.csv").write_text(to_csv(models, model_title, model_footer))
    (folder / "tables" / "misclassification_model.md").write_text(to_markdown(models, model_title, model_footer))
    (folder / "tables" / "misclassification_model.html").write_text(to_html(models, model_title, model_footer))
    key_tables.append(PackTable(model_title, models, model_footer))
    done(3, "tables + model", f"{len(names) + 1} tables")

    # 4. the public record
    its_result = None
    if Path(sfpd_dir).is_dir():
        its_result = _public_stage(Path(sfpd_dir), folder / "public", cfg, res)
        done(4, "public record", "interrupted time series and before/after tables")
    else:
        res.notes.append(f"Public record: the SFPD data folder {sfpd_dir} is absent; the public series and tables "
                         "were skipped.")
        done(4, "public record", f"skipped ({sfpd_dir} absent)")

    # 5. charts
    from .charts import meeting_charts, save_chart

    charts = meeting_charts(derived, its_result, synthetic=res.synthetic, config=cfg, n_boot=n_boot)
    for ch in charts:
        save_chart(ch, folder / "figures")
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
    (folder / "meeting_pack.html").write_text(html_page(pack), encoding="utf-8")
    (folder / "meeting_pack.pdf").write_bytes(pdf_pack(pack))
    done(6, "meeting pack", "meeting_pack.html, meeting_pack.pdf")

    # 7. notebooks
    (folder / "analyst").mkdir(parents=True, exist_ok=True)
    (folder / "analyst" / "README.md").write_text(ANALYST_README)
    k = 7
    if notebooks:
        ran = run_notebooks(Path(data_dir), Path(sfpd_dir), folder / "analyst" / "notebooks", n_boot=n_boot,
                            frame_path=frame_path)
        done(k, "notebooks", ", ".join(ran))
        k += 1
    (folder / "README.md").write_text(_folder_readme(res, run_date, names), encoding="utf-8")
    (folder / "stages.json").write_text(json.dumps([s.__dict__ for s in res.stages], indent=2) + "\n")
    done(k, "finish", str(folder))
    return res


def _public_stage(sfpd_dir: Path, out: Path, cfg: StudyConfig, res: ReportResult):
    from . import its
    from .cli_public import write_public_comparison
    from .public import (
        description_counts,
        district_counts,
        frame_sizes,
        load_shared_folder,
        resolution_counts,
    )

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
        res.notes.append(f"Public record: file(s) for {', '.join(missing)} not found in {sfpd_dir}.")
    return result


class NotebookFailed(RuntimeError):
    """A notebook of the report stopped with an error (its executed copy, with the error, is kept)."""


def _run_one(args) -> tuple[str, str]:
    import papermill as pm
    from nbconvert import HTMLExporter

    name, src, dst_dir, params = args
    dst = dst_dir / f"{name}.ipynb"
    error = ""
    try:
        pm.execute_notebook(str(src), str(dst), parameters=params, kernel_name="python3", cwd=str(src.parent),
                            progress_bar=False, log_output=False)
    except pm.PapermillExecutionError as exc:
        error = f"{exc.ename}: {exc.evalue} (cell {exc.exec_count})"
    if dst.exists():
        body, _ = HTMLExporter(template_name="lab").from_filename(str(dst))
        (dst_dir / f"{name}.html").write_text(body, encoding="utf-8")
    return name, error


def run_notebooks(data_dir: Path, sfpd_dir: Path, out: Path, *, n_boot: int, frame_path: str | None = None,
                  workers: int = 2) -> list[str]:
    """Execute the four notebooks with the report's inputs (papermill) and export each to HTML."""
    from concurrent.futures import ProcessPoolExecutor

    out.mkdir(parents=True, exist_ok=True)
    nb_dir = paths().root / "notebooks"
    work = out / "work"
    params = {
        "01_coding_quality": {"data_dir": str(data_dir), "second_coder_dir": str(data_dir / "second_coder"),
                              "n_boot": min(n_boot, 500)},
        "02_before_after_tables": {"data_dir": str(data_dir), "frame_file": frame_path, "out_dir": None,
                                   "n_boot": n_boot},
        "03_public_incident_trends": {"sfpd_dir": str(sfpd_dir), "out_dir": str(work / "03")},
        "04_november_meeting_charts": {"data_dir": str(data_dir), "sfpd_dir": str(sfpd_dir),
                                       "out_dir": str(work / "04"), "n_boot": n_boot},
    }
    jobs = [(name, nb_dir / f"{name}.ipynb", out, params[name]) for name in NOTEBOOKS]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(_run_one, jobs))
    import shutil

    shutil.rmtree(work, ignore_errors=True)  # the notebooks' own files duplicate the report's figures
    failed = [f"{name}: {error}" for name, error in results if error]
    if failed:
        raise NotebookFailed("notebook(s) stopped with an error: " + "; ".join(failed)
                             + f". The executed copies, with the error, are in {out}.")
    return [name for name, _ in results]


def _folder_readme(res: ReportResult, run_date: str, names: list[str]) -> str:
    lines = [f"# Meeting pack, {run_date}", ""]
    if res.synthetic:
        lines += ["**SYNTHETIC DATA: made from the generated example, not from real reports.**", ""]
    lines += [
        "| path | what |", "|---|---|",
        "| `meeting_pack.html` | the pack as one self-contained web page (charts embedded; no network needed) |",
        "| `meeting_pack.pdf` | the same as a PDF: cover, charts, key tables, methods and provenance |",
        "| `figures/` | each chart as PNG (slides) and PDF (vector), with the data behind it as CSV of the same name |",
        "| `tables/` | the before/after tables (" + ", ".join(names) + ") and the misclassification model, as "
        "CSV, Markdown and HTML, and all of them in `tables.xlsx` |",
        "| `reliability/reliability.csv` | inter-coder reliability per variable |",
        "| `public/` | the public record: monthly counts, interrupted time series, before/after table, frame |",
        "| `validation/row_accounting.csv` | rows read, valid and rejected per table |",
        "| `analyst/` | **not for sharing**: unsuppressed tables and the executed notebooks (HTML) |",
        "| `stages.json` | how long each stage took |", "",
        "Everything outside `analyst/` applies small-cell suppression and carries no identifiers.",
    ]
    if res.notes:
        lines += ["", "## Notes", ""] + [f"- {n}" for n in res.notes]
    return "\n".join(lines) + "\n"
