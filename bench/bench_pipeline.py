"""Benchmark: validate + derive on the default synthetic sample and on one 100 times larger.

Run with `make bench`. Each size runs in its own process so peak memory (max RSS) is that size's own.
Target (issue 2): the 100x sample validates and derives in under 20 s on 2 cores.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

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


def run(reports: int, workdir: Path) -> dict:
    folder = workdir / f"synth_{reports}"
    subprocess.run([sys.executable, "-m", "analysis", "synth", "--reports", str(reports), "--no-xlsx", "--no-second-coder",
                    "--out", str(folder)], check=True, capture_output=True)
    out = subprocess.run([sys.executable, "-c", CHILD, str(folder)], capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(f"benchmark child failed:\n{out.stderr}")
    return json.loads(out.stdout)


def main() -> int:
    results = {}
    with tempfile.TemporaryDirectory() as d:
        for label, n in [("default (989 reports)", 989), ("100x (98,900 reports)", 98_900)]:
            results[label] = run(n, Path(d))
    print(f"{'sample':<24}{'incidents':>10}{'persons':>10}{'charges':>10}{'load s':>9}{'validate s':>11}"
          f"{'derive s':>10}{'total s':>9}{'peak MB':>9}")
    for label, r in results.items():
        rows = r["rows"]
        print(f"{label:<24}{rows['incidents']:>10}{rows['persons']:>10}{rows['charges']:>10}{r['load_s']:>9.2f}"
              f"{r['validate_s']:>11.2f}{r['derive_s']:>10.2f}{r['total_s']:>9.2f}{r['peak_rss_mb']:>9.0f}")
    big = results["100x (98,900 reports)"]
    print(f"target: 100x validate + derive < 20 s -> {'met' if big['total_s'] < 20 else 'NOT met'} "
          f"({big['total_s']:.1f} s)")
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    (out / "pipeline.json").write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
