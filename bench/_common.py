"""What every benchmark in bench/ shares: timing child processes (wall time and their own peak memory),
repeating runs, the machine-load figure, the synthetic samples, and the printed table.

Every figure is measured in a child process of its own, so its peak memory (max RSS, from ``os.wait4``) is
its own and nothing it imports is already loaded; the time includes starting Python and the imports, the
same for the project's command and for the baselines. Each is run ``RUNS`` times; the table shows the
minimum and the median time, the peak memory (the largest of the runs), and the ratio to the figure's
baseline (minimum to minimum; peak to peak).
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "results"
RUNS = 3

# A fixed amount of pure-Python work: about 1 s of CPU on the project's 2-core machine (Python 3.11) when
# nothing else runs. Its wall time in a run tells how loaded the machine was.
LOAD_ITERATIONS = 17_500_000


def _workload(n: int = LOAD_ITERATIONS) -> int:
    acc = 0
    for i in range(n):
        acc = (acc + i * i) % 1000003
    return acc


def machine_load() -> dict:
    """Wall and CPU seconds of the fixed workload, and the 1-minute load average."""
    t, c = time.perf_counter(), time.process_time()
    _workload()
    wall, cpu = time.perf_counter() - t, time.process_time() - c
    return {"workload_wall_s": wall, "workload_cpu_s": cpu, "loadavg_1min": os.getloadavg()[0],
            "cpus": os.cpu_count()}


def describe_load(load: dict) -> str:
    return (f"fixed 1-second CPU workload: {load['workload_wall_s']:.2f} s wall ({load['workload_cpu_s']:.2f} s CPU); "
            f"load average {load['loadavg_1min']:.2f} on {load['cpus']} CPUs")


@dataclass
class Run:
    seconds: float
    peak_mb: float


def run_child(argv: list[str], *, cwd: Path | None = None, env: dict | None = None, stdout=None) -> tuple[Run, str]:
    """Run ``argv``; its wall time and peak memory (its own max RSS) and its stdout. Fails loudly."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t = time.perf_counter()
        proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=stdout or out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - t
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        text, errors = out.read().decode("utf-8", "replace"), err.read().decode("utf-8", "replace")
    if proc.returncode:
        raise SystemExit(f"benchmark child failed (exit {proc.returncode}): {' '.join(map(str, argv))}\n"
                         f"{errors[-4000:]}")
    return Run(seconds, usage.ru_maxrss / 1024), text


def python_child(code: str, *args: str, **kw) -> tuple[Run, str]:
    """Run a piece of Python in the benchmark's interpreter (the project's .venv under `make bench`)."""
    return run_child([sys.executable, "-c", code, *map(str, args)], **kw)


@dataclass
class Figure:
    """One benchmarked figure: its runs, and what it is compared with."""

    name: str
    runs: list[Run] = field(default_factory=list)
    baseline: str | None = None  # the name of another Figure
    target: str = ""  # e.g. "<= 2x duckdb, <= 600 MB"
    met: bool | None = None
    note: str = ""

    @property
    def min_s(self) -> float:
        return min(r.seconds for r in self.runs)

    @property
    def median_s(self) -> float:
        return statistics.median(r.seconds for r in self.runs)

    @property
    def peak_mb(self) -> float:
        return max(r.peak_mb for r in self.runs)


def repeat(fig: Figure, fn, runs: int = RUNS):
    """Call ``fn()`` (returning ``(Run, output)``) ``runs`` times into ``fig``; the last output."""
    out = None
    for _ in range(runs):
        r, out = fn()
        fig.runs.append(r)
    return out


def print_table(title: str, figures: list[Figure], load_before: dict, load_after: dict) -> None:
    by_name = {f.name: f for f in figures}
    print()
    print(title)
    print(f"  machine load before: {describe_load(load_before)}")
    print(f"  machine load after:  {describe_load(load_after)}")
    w = max(len(f.name) for f in figures) + 2
    wb = max([len(f.baseline or "-") for f in figures]) + 2
    head = (f"  {'figure':<{w}}{'min s':>8}{'median s':>10}{'peak MB':>9}  {'baseline':<{wb}}{'x time':>7}"
            f"{'x mem':>7}  target")
    print(head)
    print("  " + "-" * (len(head) - 2))
    for f in figures:
        base = by_name.get(f.baseline) if f.baseline else None
        rt = f"{f.min_s / base.min_s:>7.2f}" if base else f"{'':>7}"
        rm = f"{f.peak_mb / base.peak_mb:>7.2f}" if base else f"{'':>7}"
        verdict = "" if f.met is None else (" -> met" if f.met else " -> NOT met")
        target = (f.target + verdict).strip()
        print(f"  {f.name:<{w}}{f.min_s:>8.2f}{f.median_s:>10.2f}{f.peak_mb:>9.0f}  {(f.baseline or '-'):<{wb}}"
              f"{rt}{rm}  {target}".rstrip())
        if f.note:
            print(f"  {'':<4}{f.note}")
    runs = max(len(f.runs) for f in figures)
    print(f"  ({runs} run(s) each; x time = min / baseline's min, x mem = peak / baseline's peak)")


def save(name: str, figures: list[Figure], extra: dict) -> Path:
    RESULTS.mkdir(exist_ok=True)
    data = {"python": platform.python_version(), "machine": platform.machine(), **extra,
            "figures": {f.name: {**{k: v for k, v in asdict(f).items() if k != "runs"},
                                 "runs": [asdict(r) for r in f.runs], "min_s": f.min_s, "median_s": f.median_s,
                                 "peak_mb": f.peak_mb} for f in figures}}
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(data, indent=2) + "\n")
    return path


def finish(name: str, title: str, figures: list[Figure], extra: dict, load_before: dict,
           notes: list[str] = ()) -> Path:
    """A benchmark's end: the machine's load measured again, the table printed (then ``notes``), and
    bench/results/<name>.json written with ``extra`` and both loads; its path."""
    load_after = machine_load()
    print_table(title, figures, load_before, load_after)
    for line in notes:
        print(f"  {line}")
    saved = save(name, figures, {**extra, "load_before": load_before, "load_after": load_after})
    print(f"  Results in {saved.relative_to(ROOT)}")
    return saved


def synthetic_sample(reports: int) -> Path:
    """bench/results/synth_<reports>/: the synthetic coded sample with a second coder's file (made once with
    ``python -m analysis synth --reports N --no-xlsx``; the same arguments always give the same files)."""
    import hashlib
    import shutil

    folder = RESULTS / f"synth_{reports}"
    done = folder / ".complete"
    # made again when the generator or the codebook it follows has changed (a sample from an older codebook lacks
    # its newer columns and fails validation)
    made_by = hashlib.sha256(b"".join((ROOT / "src" / "analysis" / p).read_bytes() for p in
                                      ("coders/synth.py", "scheme/codebook.yaml"))).hexdigest()
    stamp = f"made by bench/_common.py from {made_by}\n"
    if not done.exists() or done.read_text() != stamp:
        shutil.rmtree(folder, ignore_errors=True)
        RESULTS.mkdir(exist_ok=True)
        print(f"  making the synthetic sample of {reports:,} reports in {folder} (once) ...", flush=True)
        subprocess.run([sys.executable, "-m", "analysis", "synth", "--reports", str(reports), "--no-xlsx",
                        "--out", str(folder)], check=True, capture_output=True, cwd=ROOT)
        done.write_text(stamp)
    return folder
