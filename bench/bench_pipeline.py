"""Benchmark: validate + derive on the default synthetic sample and on one 100 times larger; and the main job,
``make report`` after set-up, on the shipped example.

Run with `make bench` (or `python bench/bench_pipeline.py [--runs 3] [--report-100x]`). Each run is a child process
of its own, so peak memory (max RSS) is that run's own.

- Validate + derive: the time is load + validate + derive as measured inside the child. Baseline: the default size
  (so the ratio shows how the time grows with the data). Target (issue 2): the 100x sample validates and derives
  in under 20 s on 2 cores.
- The report: ``python -m analysis report data/raw/example`` as `make report` runs it (from the project root, the
  study configuration's bootstrap resamples, the public SFPD folder when present), each run into a temporary
  folder; wall time of the whole command and its peak memory (the largest of the report process and its notebook
  workers and kernels: max RSS of the waited-for children). Baseline: the same report with ``--no-notebooks``, so
  the ratio shows what the notebooks add. Target (issue 15): under 15 s at 1x; with ``--report-100x`` also the
  100x sample, target under 90 s. The note gives each stage's median time (stages.json).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (  # noqa: E402
    ROOT,
    RUNS,
    Figure,
    Run,
    finish,
    machine_load,
    python_child,
    repeat,
    run_child,
    synthetic_sample,
)

TARGET_S = 20.0
REPORT_TARGET_S = {989: 15.0, 98_900: 90.0}

CHILD = r"""
import json, resource, sys, time
from pathlib import Path
from analysis.intake.load import load_coded_tables
from analysis.intake.validate import validate_tables
from analysis.derive.variables import derive

folder = Path(sys.argv[1])
t0 = time.perf_counter(); raw = load_coded_tables(folder)
t1 = time.perf_counter(); result = validate_tables(raw)
t2 = time.perf_counter(); derived = derive(result.valid)
t3 = time.perf_counter()
rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"rows": result.input_rows, "load_s": t1 - t0,
                  "validate_s": t2 - t1, "derive_s": t3 - t2, "total_s": t3 - t0, "peak_rss_mb": rss_mb,
                  "rejected": result.n_rejected}))
"""


def report_once(data: Path, notebooks: bool) -> tuple[Run, dict]:
    """One `python -m analysis report` on ``data`` into a temporary folder: its wall time and peak memory, and
    the stage times it wrote (analyst/stages.json)."""
    with tempfile.TemporaryDirectory(prefix="bench-report-") as tmp:
        argv = [sys.executable, "-m", "analysis", "report", str(data), "--out", str(Path(tmp) / "reports"),
                "--derived", str(Path(tmp) / "derived"), "--run-date", "2017-11-15"]
        run, _ = run_child(argv + ([] if notebooks else ["--no-notebooks"]), cwd=ROOT)
        stages = json.loads((Path(tmp) / "reports" / "2017-11-15" / "analyst" / "stages.json").read_text())
    return run, {s["name"]: s["seconds"] for s in stages}


def report_figures(sizes: list[tuple[str, Path, int]], runs: int) -> tuple[list[Figure], dict]:
    """The report with and without the notebooks at each size (``sizes``: label, data folder, reports)."""
    figures, results = [], {}
    for label, folder, n in sizes:
        pair = []
        for notebooks in (False, True):
            fig = Figure(f"report {label}" + ("" if notebooks else " --no-notebooks"),
                         baseline=pair[0].name if pair else None)
            stages: list[dict] = []

            def one(folder=folder, notebooks=notebooks, stages=stages):
                run, times = report_once(folder, notebooks)
                stages.append(times)
                return run, ""

            repeat(fig, one, runs)
            fig.note = "stages (median s): " + ", ".join(
                f"{name} {statistics.median(t.get(name, 0.0) for t in stages):.1f}" for name in stages[-1])
            if notebooks:
                fig.target = f"< {REPORT_TARGET_S[n]:g} s"
                fig.met = fig.min_s < REPORT_TARGET_S[n]
            pair.append(fig)
            results[fig.name] = {"runs": [r.__dict__ for r in fig.runs], "stages": stages}
        figures += pair
    return figures, results


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Benchmark validate + derive at 1x and 100x, and the report.")
    ap.add_argument("--runs", type=int, default=RUNS, help=f"runs of each figure (default {RUNS})")
    ap.add_argument("--only-report", action="store_true", help="only the report figures")
    ap.add_argument("--report-100x", action="store_true",
                    help="also the report on the 100x sample (several minutes a run)")
    args = ap.parse_args(argv)
    if not args.only_report:
        validate_derive_figures(args.runs)
    sizes = [("1x (example)", ROOT / "data" / "raw" / "example", 989)]
    if args.report_100x:
        sizes.append(("100x (98,900 reports)", synthetic_sample(98_900), 98_900))
    print(f"Report benchmark (python -m analysis report), {args.runs} runs each ...", flush=True)
    load_before = machine_load()
    figures, results = report_figures(sizes, args.runs)
    finish("report", "The report, after set-up (issue 15 target: under 15 s at 1x, under 90 s at 100x, notebooks "
           "included; baseline: the same without notebooks)", figures, {"runs": results}, load_before)
    return 0


def validate_derive_figures(runs_each: int) -> None:
    sizes = [("1x (989 reports)", 989), ("100x (98,900 reports)", 98_900)]
    print(f"Pipeline benchmark (validate + derive), {runs_each} runs each ...", flush=True)
    folders = {n: synthetic_sample(n) for _, n in sizes}
    load_before = machine_load()
    figures, results = [], {}
    for label, n in sizes:
        fig = Figure(f"validate + derive {label}", baseline=figures[0].name if figures else None)
        runs = []

        def one(folder=folders[n]):
            wall, text = python_child(CHILD, folder, cwd=ROOT)
            d = json.loads(text)
            runs.append(d)
            return Run(d["total_s"], wall.peak_mb), text

        repeat(fig, one, runs_each)
        rows = runs[-1]["rows"]
        fig.note = (f"{rows['incidents']:,} incidents, {rows['persons']:,} persons, {rows['charges']:,} charges; "
                    + ", ".join(f"median {k.removesuffix('_s')} {statistics.median(r[k] for r in runs):.2f} s"
                                for k in ("load_s", "validate_s", "derive_s")))
        if n == 98_900:
            fig.target = f"< {TARGET_S:g} s"
            fig.met = fig.min_s < TARGET_S
        figures.append(fig)
        results[label] = runs
    finish("pipeline", "Validate + derive (issue 2 target: 100x under 20 s; baseline: the default size)", figures,
           {"runs": results}, load_before)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
