"""Benchmark: validate + derive on the default synthetic sample and on one 100 times larger.

Run with `make bench` (or `python bench/bench_pipeline.py [--runs 3]`). Each run is a child process of its own,
so peak memory (max RSS) is that run's own; the time is load + validate + derive as measured inside it.
Baseline: the default size (so the ratio shows how the time grows with the data). Target (issue 2): the
100x sample validates and derives in under 20 s on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (  # noqa: E402
    ROOT,
    RUNS,
    Figure,
    Run,
    machine_load,
    print_table,
    python_child,
    repeat,
    save,
    synthetic_sample,
)

TARGET_S = 20.0

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


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Benchmark validate + derive at 1x and 100x.")
    ap.add_argument("--runs", type=int, default=RUNS, help=f"runs of each figure (default {RUNS})")
    args = ap.parse_args(argv)
    sizes = [("1x (989 reports)", 989), ("100x (98,900 reports)", 98_900)]
    print(f"Pipeline benchmark (validate + derive), {args.runs} runs each ...", flush=True)
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

        repeat(fig, one, args.runs)
        rows = runs[-1]["rows"]
        fig.note = (f"{rows['incidents']:,} incidents, {rows['persons']:,} persons, {rows['charges']:,} charges; "
                    + ", ".join(f"median {k.removesuffix('_s')} {statistics.median(r[k] for r in runs):.2f} s"
                                for k in ("load_s", "validate_s", "derive_s")))
        if n == 98_900:
            fig.target = f"< {TARGET_S:g} s"
            fig.met = fig.min_s < TARGET_S
        figures.append(fig)
        results[label] = runs
    load_after = machine_load()
    print_table("Validate + derive (issue 2 target: 100x under 20 s; baseline: the default size)", figures,
                load_before, load_after)
    saved = save("pipeline", figures, {"runs": results, "load_before": load_before, "load_after": load_after})
    print(f"  Results in {saved.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
