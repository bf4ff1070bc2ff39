"""Benchmark: the weighted person tables (design-based, issue 13) at 1x and 100x, next to today's.

Run with `make bench` (or `python bench/bench_weighted.py [--runs 3] [--runs-100x 1]`). Times the five standard
person tables (everyone, sellers, buyers, third parties, trafficking victims) weighted to a sampling frame, at
1x (the synthetic example, 1,457 people; frame 1136 / 910 / 420 / 360 as in tests/fixtures/r/frame.csv) and
100x (the 98,900-report sample of bench_tables.py, 144,468 people; the frame times 100), and beside them:

* "before": the same tables with the code of commit ``BEFORE_COMMIT`` (the hand-written stratified estimator,
  people as independent units, unweighted Overall column), run from that commit's ``src/`` (``git archive``) in
  the same way, on the same machine, in the same minutes;
* the unweighted person tables, now and before (now they also test categories and numbers with report
  clusters).

Each figure runs in a child process of its own (the derived tables come from a pickle made once under
bench/results/); the time is the five tables' own, measured in the child. There is no speed target in the
issue: the figures are here so that the cost of the design-based estimates is known and a regression is seen.
"""

from __future__ import annotations

import argparse
import json
import pickle
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (  # noqa: E402
    RESULTS,
    ROOT,
    RUNS,
    Figure,
    Run,
    finish,
    machine_load,
    python_child,
)

#: The code before issue 13 (the hand-written weighted estimator), measured beside today's.
BEFORE_COMMIT = "cf2295e"
FRAME = {2009: 1136, 2010: 910, 2014: 420, 2015: 360}

CHILD = r"""
import json, pickle, resource, sys, time
if sys.argv[4]:
    sys.path.insert(0, sys.argv[4])  # the source tree of another commit
from analysis.tables.compare import before_after

derived = pickle.loads(open(sys.argv[1], "rb").read())
frame = {int(y): n for y, n in json.loads(sys.argv[2]).items()} or None
runs = int(sys.argv[3])
persons = derived["persons"]
roles = [None] + [r for r in ("seller", "buyer", "third_party", "trafficking_victim")
                  if (persons["role"].astype(str) == r).any()]
seconds = []
for _ in range(runs):
    t = time.perf_counter()
    for role in roles:
        before_after(persons, "persons", role=role, frame=frame)
    seconds.append(time.perf_counter() - t)
print(json.dumps({"seconds": seconds, "people": len(persons), "tables": len(roles),
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def example_pickle() -> Path:
    """The derived tables of the synthetic example (1x), pickled once."""
    path = RESULTS / "weighted_input_989.pkl"
    if not path.exists():
        from analysis.derive.variables import derive
        from analysis.intake.load import load_coded_tables
        from analysis.intake.validate import validate_tables

        RESULTS.mkdir(exist_ok=True)
        derived = derive(validate_tables(load_coded_tables(ROOT / "data" / "raw" / "example")).valid)
        path.write_bytes(pickle.dumps({t: derived[t] for t in ("incidents", "persons")}))
    return path


def before_source(workdir: Path) -> str | None:
    """``src/`` of :data:`BEFORE_COMMIT` unpacked into ``workdir`` (None, with a message, without git history)."""
    try:
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", BEFORE_COMMIT, "src"], check=True,
                                 capture_output=True).stdout
    except (OSError, subprocess.CalledProcessError) as exc:
        print(f"  (no 'before' figures: cannot read commit {BEFORE_COMMIT} with git: {exc})")
        return None
    tar = workdir / "before.tar"
    tar.write_bytes(archive)
    with tarfile.open(tar) as t:
        try:
            t.extractall(workdir, filter="data")
        except TypeError:  # Python before 3.11.4 has no extraction filters (the archive is git's own)
            t.extractall(workdir)
    return str(workdir / "src")


def measure(data: Path, frame: dict, runs: int, src: str | None) -> tuple[list[Run], dict]:
    wall, text = python_child(CHILD, data, json.dumps(frame), runs, src or "", cwd=ROOT)
    d = json.loads(text)
    return [Run(s, wall.peak_mb) for s in d["seconds"]], d


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Benchmark the weighted person tables at 1x and 100x, with today's.")
    ap.add_argument("--runs", type=int, default=RUNS, help=f"runs of each 1x figure (default {RUNS})")
    ap.add_argument("--runs-100x", type=int, default=1, help="runs of each 100x figure (default 1: minutes each)")
    ap.add_argument("--sizes", default="1x,100x", help="which samples (default 1x,100x)")
    args = ap.parse_args(argv)
    sizes = [s.strip() for s in args.sizes.split(",")]
    from bench_tables import derived_pickle  # the 100x sample's derived tables, shared with that benchmark

    print("Weighted person tables (issue 13) at 1x and 100x, with today's ...", flush=True)
    inputs = {}
    if "1x" in sizes:
        inputs["1x"] = (example_pickle(), FRAME, args.runs)
    if "100x" in sizes:
        inputs["100x"] = (derived_pickle(), {y: 100 * n for y, n in FRAME.items()}, args.runs_100x)
    load_before = machine_load()
    figures, details = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        old = before_source(Path(tmp))
        for size, (data, frame, runs) in inputs.items():
            for weighted in (True, False):
                what = f"{'weighted' if weighted else 'unweighted'} person tables {size}"
                versions = [("now", None)] + ([(f"before ({BEFORE_COMMIT})", old)] if old else [])
                for label, src in versions:
                    runs_, d = measure(data, frame if weighted else {}, runs, src)
                    fig = Figure(f"{what}, {label}", runs=runs_,
                                 baseline=f"{what}, before ({BEFORE_COMMIT})" if old and src is None else None)
                    if src is None:
                        fig.note = f"{d['tables']} tables, {d['people']:,} people"
                    figures.append(fig)
                    details[fig.name] = d
    finish("weighted", "Person tables, weighted (design-based: svy, strata = year, PSU = report, fpc) and unweighted "
           "(report clusters), now and before issue 13", figures,
           {"details": details, "before_commit": BEFORE_COMMIT, "frame_1x": FRAME}, load_before)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
