"""Benchmark: the full incident and person before/after tables on the 100x synthetic sample, against tableone.

Run with `make bench` (or `python bench/bench_tables.py [--runs 3]`). Both build the same variables (tableone
is given the same columns, categorical levels and the period grouping, with p-values). Target (issue 4): at
least as fast as tableone. Each figure runs in a child process of its own (its peak memory includes the
derived 100x tables it starts from, read from a pickle made once under bench/results/); the time is the
table's own, measured in the child, once per run.
"""

from __future__ import annotations

import argparse
import json
import pickle
import sys
from pathlib import Path

import pandas as pd

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
    synthetic_sample,
)


def tableone_input(df: pd.DataFrame, specs) -> tuple[pd.DataFrame, list[str], list[str], list[str]]:
    """The same variables as our table, in tableone's terms: categorical columns with missing as None."""
    cols, cat, nonnormal = {}, [], []
    for s in specs:
        x = df[s.column]
        if s.kind == "number":
            cols[s.column] = pd.to_numeric(x, errors="coerce").astype(float)
            nonnormal.append(s.column)
        else:
            v = x.astype(object).astype(str)
            cols[s.column] = v.where(~v.isin(["-8", "-9", "<NA>", "nan"]))
            cat.append(s.column)
    out = pd.DataFrame(cols)
    out["period"] = df["period"].astype(str).to_numpy()
    return out, list(cols), cat, nonnormal


CHILD = r"""
import json, pickle, resource, sys, time
sys.path.insert(0, sys.argv[4])
from bench_tables import tableone_input
from analysis.tables.compare import before_after, variable_specs

derived = pickle.loads(open(sys.argv[1], "rb").read())
table, method, runs = sys.argv[2], sys.argv[3], int(sys.argv[5])
df = derived[table]
specs = variable_specs(table, df)
if method == "tableone":
    from tableone import TableOne
    t1_df, columns, cat, nonnormal = tableone_input(df, specs)
    fn = lambda: TableOne(t1_df, columns=columns, categorical=cat, nonnormal=nonnormal, groupby="period",
                          pval=True, include_null=False)
elif method == "naive":
    fn = lambda: before_after(df, table, cluster=None)
else:
    fn = lambda: before_after(df, table, n_boot=2000)
seconds = []
for _ in range(runs):
    t = time.perf_counter()
    fn()
    seconds.append(time.perf_counter() - t)
print(json.dumps({"seconds": seconds, "rows": len(df), "variables": len(specs),
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def derived_pickle() -> Path:
    """The derived tables of the 100x sample, pickled once (validate + derive take a while at that size)."""
    folder = synthetic_sample(98_900)
    path = RESULTS / "tables_input_98900.pkl"
    if not path.exists() or path.stat().st_mtime < (folder / ".complete").stat().st_mtime:
        from analysis.derive.variables import derive
        from analysis.intake.load import load_coded_tables
        from analysis.intake.validate import validate_tables

        derived = derive(validate_tables(load_coded_tables(folder)).valid)
        path.write_bytes(pickle.dumps({t: derived[t] for t in ("incidents", "persons")}))
    return path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Benchmark the before/after tables against tableone at 100x.")
    ap.add_argument("--runs", type=int, default=RUNS, help=f"runs of each figure (default {RUNS})")
    args = ap.parse_args(argv)
    print(f"Tables benchmark (100x sample, against tableone), {args.runs} runs each ...", flush=True)
    data = derived_pickle()
    load_before = machine_load()
    figures, details = [], {}
    for table in ("incidents", "persons"):
        figs = {}
        for method in ("tableone", "naive", "default"):
            wall, text = python_child(CHILD, data, table, method, Path(__file__).resolve().parent, args.runs,
                                      cwd=ROOT)
            d = json.loads(text)
            name = {"tableone": f"tableone: {table}", "naive": f"ours (same methods): {table}",
                    "default": f"ours (default): {table}"}[method]
            fig = Figure(name, runs=[Run(s, wall.peak_mb) for s in d["seconds"]],
                         baseline=None if method == "tableone" else f"tableone: {table}")
            figs[method] = fig
            details[f"{table}/{method}"] = d
        figs["naive"].target = "<= tableone"
        figs["naive"].met = figs["naive"].min_s <= figs["tableone"].min_s
        figs["tableone"].note = f"{d['rows']:,} rows, {d['variables']} variables"
        if table == "persons":
            figs["default"].note = "cluster bootstrap (2000 resamples) and cluster-robust tests: tableone does neither"
        figures += list(figs.values())
    finish("tables", "Before/after tables at 100x (issue 4 target: ours with the same methods at least as fast as "
           "tableone)", figures, {"details": details}, load_before)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
