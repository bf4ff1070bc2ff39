"""Benchmark: inter-coder reliability at 1x, 10x and 100x the bundled sample (issue 15).

    python bench/bench_reliability.py [--sizes 989 9890 98900] [--runs 3]

For each size, the synthetic sample with its second coder's file (``python -m analysis synth --reports N``,
made once under bench/results/) is timed two ways, each run in a child process of its own:

* **the stage** as ``make report`` runs it: validate the second coding, then ``reliability_table`` (1000
  bootstrap resamples per variable) and ``disagreements`` (the first coding is validated too, as stage 1 of
  the report does, but not counted);
* **the command** ``python -m analysis reliability report A B --out DIR``: everything, from start-up and
  validating both codings to writing reliability.csv, disagreements.csv and disagreements.xlsx.

Baseline: the 1x figure, so the ratio shows how the time grows with the data (10x the units should cost
about 10x); the slope of log time on log size between 10x and 100x is printed (1 = linear). Target
(issue 15): the stage under 20 s at 100x. Before issue 15 this stage took 1.2 s at 1x, 5.2 s at 10x and
164-318 s at 100x (slope 1.7).
"""

from __future__ import annotations

import argparse
import json
import math
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
BUNDLED = 989

STAGE = r"""
import json, resource, sys, time
from pathlib import Path
from analysis.coders.reliability import coder_name, disagreements, reliability_table
from analysis.intake.load import load_coded_tables
from analysis.intake.validate import validate_tables
from analysis.scheme.codebook import load_codebook
from analysis.scheme.config import load_study_config

folder = Path(sys.argv[1])
cb, cfg = load_codebook(), load_study_config()
main = validate_tables(load_coded_tables(folder), cb, cfg)
t0 = time.perf_counter()
other = validate_tables(load_coded_tables(folder / "second_coder"), cb, cfg)
t1 = time.perf_counter()
codings = {coder_name(main.valid, "coder_a"): main.valid, coder_name(other.valid, "coder_b"): other.valid}
table = reliability_table(codings, cb)
t2 = time.perf_counter()
dis = disagreements(codings, cb)
t3 = time.perf_counter()
print(json.dumps({"validate_s": t1 - t0, "table_s": t2 - t1, "disagreements_s": t3 - t2, "stage_s": t3 - t0,
                  "rows": len(table), "disagreements": len(dis),
                  "units": int(table["n_units"].max()),
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Benchmark the reliability stage at several sizes.")
    ap.add_argument("--sizes", type=int, nargs="+", default=[BUNDLED, 10 * BUNDLED, 100 * BUNDLED],
                    help="numbers of reports (default: 1x, 10x and 100x the bundled 989)")
    ap.add_argument("--runs", type=int, default=RUNS, help=f"runs of each figure (default {RUNS})")
    args = ap.parse_args(argv)
    print(f"Reliability benchmark: {', '.join(f'{n:,}' for n in args.sizes)} reports, {args.runs} runs each ...",
          flush=True)
    folders = {n: synthetic_sample(n) for n in args.sizes}
    load_before = machine_load()
    figures: list[Figure] = []
    details = {}
    base_stage = base_cmd = None
    for n in args.sizes:
        label = f"{n / BUNDLED:g}x" if n % BUNDLED == 0 else f"{n:,} reports"
        stage = Figure(f"stage {label} ({n:,} reports)", baseline=base_stage)
        cmd = Figure(f"command {label}", baseline=base_cmd)
        runs = []

        def one_stage(folder=folders[n]):
            wall, text = python_child(STAGE, folder, cwd=ROOT)
            d = json.loads(text)
            runs.append(d)
            return Run(d["stage_s"], wall.peak_mb), text

        repeat(stage, one_stage, args.runs)
        with tempfile.TemporaryDirectory() as tmp:
            repeat(cmd, lambda folder=folders[n]: run_child(
                [sys.executable, "-m", "analysis", "reliability", "report", str(folder), str(folder / "second_coder"),
                 "--out", tmp], cwd=ROOT), args.runs)
        d = runs[-1]
        stage.note = (f"{d['units']:,} double-coded units, {d['rows']} rows, {d['disagreements']:,} disagreements; "
                      f"median validate {_median(runs, 'validate_s'):.2f} s + table {_median(runs, 'table_s'):.2f} s "
                      f"+ disagreements {_median(runs, 'disagreements_s'):.2f} s")
        if n == 100 * BUNDLED:
            stage.target = f"< {TARGET_S:g} s"
            stage.met = stage.min_s < TARGET_S
        details[n] = runs
        figures += [stage, cmd]
        base_stage = base_stage or stage.name
        base_cmd = base_cmd or cmd.name
    stages = [f for f in figures if f.name.startswith("stage")]
    notes = []
    if len(stages) >= 2:
        a, b = stages[-2], stages[-1]
        na, nb = args.sizes[-2], args.sizes[-1]
        slope = math.log(b.min_s / a.min_s) / math.log(nb / na)
        notes.append(f"growth of the stage from {na:,} to {nb:,} reports: slope {slope:.2f} on log-log (1 = linear; "
                     "before issue 15: 1.7)")
    finish("reliability", "Reliability (issue 15 target: the stage under 20 s at 100x; baseline: the smallest size)",
           figures, {"sizes": args.sizes, "details": details}, load_before, notes)
    return 0


def _median(runs: list[dict], key: str) -> float:
    import statistics

    return statistics.median(r[key] for r in runs)


if __name__ == "__main__":
    raise SystemExit(main())
