"""Benchmark: the full incident and person before/after tables on the 100x synthetic sample, against tableone.

Run with `make bench`. Both build the same variables (tableone is given the same columns, categorical
levels and the period grouping, with p-values). Target (issue 4): at least as fast as tableone.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from analysis.derive.variables import derive
from analysis.intake.load import load_coded_tables
from analysis.intake.validate import validate_tables
from analysis.tables.compare import before_after, variable_specs


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


def time_it(fn, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def main() -> int:
    from tableone import TableOne

    with tempfile.TemporaryDirectory() as d:
        folder = Path(d) / "synth"
        subprocess.run([sys.executable, "-m", "analysis", "synth", "--reports", "98900", "--no-xlsx",
                        "--no-second-coder", "--out", str(folder)], check=True, capture_output=True)
        derived = derive(validate_tables(load_coded_tables(folder)).valid)
    results = {}
    for table in ("incidents", "persons"):
        df = derived[table]
        specs = variable_specs(table, df)
        t1_df, columns, cat, nonnormal = tableone_input(df, specs)
        results[table] = {
            "rows": len(df),
            "variables": len(specs),
            "ours_naive_s": time_it(lambda: before_after(df, table, cluster=None)),
            "ours_default_s": time_it(lambda: before_after(df, table, n_boot=2000), repeat=1),
            "tableone_s": time_it(lambda: TableOne(t1_df, columns=columns, categorical=cat, nonnormal=nonnormal,
                                                   groupby="period", pval=True, include_null=False)),
        }
    print(f"{'table':<10}{'rows':>9}{'vars':>6}{'ours (naive) s':>16}{'ours (default) s':>18}{'tableone s':>12}")
    for t, r in results.items():
        print(f"{t:<10}{r['rows']:>9}{r['variables']:>6}{r['ours_naive_s']:>16.2f}{r['ours_default_s']:>18.2f}"
              f"{r['tableone_s']:>12.2f}")
    print("ours (default) = persons with cluster bootstrap (2000 resamples) and cluster-robust tests, which "
          "tableone does not do; ours (naive) = the same methods as tableone.")
    ok = all(r["ours_naive_s"] <= r["tableone_s"] for r in results.values())
    print(f"target: at least as fast as tableone (same methods) -> {'met' if ok else 'NOT met'}")
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    (out / "tables.json").write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
