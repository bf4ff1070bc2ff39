"""Benchmark: protecting the whole shared pack (issue 11) at 1x and 100x the synthetic example.

Run with `make bench` (or `python bench/bench_disclosure.py [--runs 3] [--scales 1,100]`). A child process runs
the report pipeline on the synthetic sample (no notebooks, no public record, a small bootstrap) and, at the pack
stage, times :func:`analysis.report.publish.protect_publication` on the publication as built: the register of
every shared count, the families, the secondary suppression and the exact check. The call is repeated ``runs``
times on the same publication (the figure is the protection's own time, not the pipeline's). Target (issue 11):
seconds. The number of atoms and cells does not grow with the sample (only the counts do), so 100x should take
about as long as 1x.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import RUNS, Figure, Run, machine_load, print_table, python_child, save, synthetic_sample  # noqa: E402

EXAMPLE_REPORTS = 989

CHILD = r"""
import json, resource, sys, time
from pathlib import Path
from analysis.report import pipeline
from analysis.scheme.codebook import load_codebook
from analysis.scheme.config import load_study_config

data, work, runs = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
real = pipeline.protect_publication
seconds, info = [], {}

def timed(pub, cfg, **kw):
    out = None
    for _ in range(runs):
        t = time.perf_counter()
        out = real(pub, cfg, **kw)
        seconds.append(time.perf_counter() - t)
    reg = out.register
    info.update(cells=len(reg.cells), hidden=sum(1 for s in out.status.values() if s == "hidden"),
                leaks=len(out.leaks()) + len(out.unprotected))
    return out

pipeline.protect_publication = timed
inputs = pipeline.RunInputs(data, work / "no-sfpd", work / "derived")
pipeline.run(inputs, work / "reports", load_codebook(), load_study_config(), run_date="bench", notebooks=False,
             n_boot=20, progress=lambda s: None)
print(json.dumps({"seconds": seconds, **info,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=RUNS)
    ap.add_argument("--scales", default="1,100")
    args = ap.parse_args(argv)
    load_before = machine_load()
    figures, extra = [], {}
    for scale in (int(s) for s in args.scales.split(",")):
        sample = synthetic_sample(EXAMPLE_REPORTS * scale)
        fig = Figure(f"protect pack {scale}x", target="seconds (issue 11)")
        with tempfile.TemporaryDirectory() as tmp:
            _, out = python_child(CHILD, sample, tmp, args.runs)
        got = json.loads(out.strip().splitlines()[-1])
        fig.runs = [Run(s, got["peak_mb"]) for s in got["seconds"]]
        fig.met = max(got["seconds"]) < 60
        fig.note = (f"{got['cells']:,} registered counts, {got['hidden']} suppressed, "
                    f"{got['leaks']} unprotected; peak memory is the whole pipeline's")
        figures.append(fig)
        extra[f"{scale}x"] = {k: got[k] for k in ("cells", "hidden", "leaks")}
    print_table("Disclosure control: protecting the whole shared pack (issue 11)", figures, load_before,
                machine_load())
    print(f"  results: {save('disclosure', figures, extra)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
