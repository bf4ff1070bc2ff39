"""Benchmark: the public record at real size (issue 15).

    python bench/bench_public.py [--file BIG.csv] [--runs 3]

On the DataSF-shaped file of about 2.1 million rows made by ``make_big_public.py`` (made once under
bench/results/ and reused while the generator is unchanged), time and peak memory of

* the project's commands, as a user runs them: ``python -m analysis public trends FILE --out DIR``,
  ``public tables FILE --out DIR`` and ``public frame FILE --out FILE.csv``;
* a **DuckDB-only** baseline and a **pandas-only** baseline of each, doing the same work: read the file (only
  the columns needed), keep the PROSTITUTION / human-trafficking rows (the rule of
  ``analysis.public.schemas.PROSTITUTION_FILTER``), date each incident by its earliest date, and count
  distinct incident numbers: per month (trends), per study period by resolution, description and district,
  plus the period totals (tables), per year and the first row of each incident of the sampled years (frame).
  They do not fit the time-series model or write the output files (the project's commands do: small work).

Every figure runs in a child process of its own (Python start-up and imports included, the same for all).
The table gives each command's ratio to its DuckDB baseline; issue 15's target is at most 2x that time and
at most 600 MB peak memory for each command. The baselines' counts are checked against the project's own
output files, so the three really do the same counting. Needs the shared SFPD folder (for the generator) and
the ``duckdb`` package (pinned in requirements.txt); downloads nothing.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (  # noqa: E402
    ROOT,
    RUNS,
    Figure,
    finish,
    machine_load,
    python_child,
    repeat,
    run_child,
)

import make_big_public  # noqa: E402

TARGET_RATIO, TARGET_MB = 2.0, 600
COMMANDS = ("trends", "tables", "frame")

# --- the baselines (each runs as `python -c CODE FILE PERIODS_JSON`; prints JSON) ----------------------

DUCKDB = r'''
import json, sys
import duckdb
path, periods = sys.argv[1], json.loads(sys.argv[2])
what = sys.argv[3]
con = duckdb.connect()
con.execute("SET enable_progress_bar = false")
cols = {"trends": "IncidntNum, Category, Descript, Date",
        "tables": "IncidntNum, Category, Descript, Date, PdDistrict, Resolution",
        "frame": "IncidntNum, Category, Descript, Date, Time"}[what]
con.execute(f"""
CREATE TEMP TABLE p AS
SELECT * EXCLUDE (Date), strptime(Date, '%m/%d/%Y')::DATE AS d
FROM (SELECT {cols} FROM read_csv('{path.replace("'", "''")}', header = true, all_varchar = true))
WHERE upper(trim(Category)) = 'PROSTITUTION'
   OR contains(upper(Category), 'HUMAN TRAFFICKING') OR contains(upper(Descript), 'HUMAN TRAFFICKING')
""")
con.execute("CREATE TEMP TABLE i AS SELECT IncidntNum, min(d) AS d FROM p GROUP BY IncidntNum")
out = {}
if what == "trends":
    out["monthly"] = {str(m)[:7]: n for m, n in con.execute(
        "SELECT date_trunc('month', d) AS m, count(*) FROM i GROUP BY m ORDER BY m").fetchall()}
    out["last_date"] = str(con.execute("SELECT max(d) FROM p").fetchone()[0])
elif what == "tables":
    con.execute("CREATE TEMP TABLE periods (year INTEGER, period VARCHAR)")
    con.executemany("INSERT INTO periods VALUES (?, ?)", [[int(y), p] for y, p in periods.items()])
    con.execute("""CREATE TEMP TABLE pp AS SELECT p.*, periods.period FROM p JOIN i USING (IncidntNum)
                   JOIN periods ON year(i.d) = periods.year""")
    for name, col in (("resolution", "Resolution"), ("description", "Descript"), ("district", "PdDistrict")):
        out[name] = [[per, c, n] for per, c, n in con.execute(
            f"SELECT period, {col}, count(DISTINCT IncidntNum) FROM pp GROUP BY ALL ORDER BY ALL").fetchall()]
    out["total"] = dict(con.execute("SELECT period, count(DISTINCT IncidntNum) FROM pp GROUP BY ALL").fetchall())
else:
    out["per_year"] = {str(y): n for y, n in con.execute(
        "SELECT year(d) AS y, count(*) FROM i GROUP BY y ORDER BY y").fetchall()}
    years = ", ".join(str(int(y)) for y in periods)
    out["frame_rows"] = con.execute(f"""
        SELECT count(*) FROM (SELECT IncidntNum, arg_min(Descript, strftime(d, '%Y-%m-%d') || ' ' || Time) AS first,
                                     min(d) AS d FROM p GROUP BY IncidntNum) WHERE year(d) IN ({years})""").fetchone()[0]
print(json.dumps(out))
'''

PANDAS = r'''
import json, sys
import pandas as pd
path, periods = sys.argv[1], {int(k): v for k, v in json.loads(sys.argv[2]).items()}
what = sys.argv[3]
cols = {"trends": ["IncidntNum", "Category", "Descript", "Date"],
        "tables": ["IncidntNum", "Category", "Descript", "Date", "PdDistrict", "Resolution"],
        "frame": ["IncidntNum", "Category", "Descript", "Date", "Time"]}[what]
df = pd.read_csv(path, usecols=cols, dtype=str, keep_default_na=False)
cat, desc = df["Category"].str.strip().str.upper(), df["Descript"].str.upper()
keep = (cat == "PROSTITUTION") | cat.str.contains("HUMAN TRAFFICKING", regex=False) | desc.str.contains(
    "HUMAN TRAFFICKING", regex=False)
p = df[keep].copy()
del df, cat, desc
p["d"] = pd.to_datetime(p["Date"], format="%m/%d/%Y")
p["first"] = p.groupby("IncidntNum")["d"].transform("min")
out = {}
if what == "trends":
    inc = p.drop_duplicates("IncidntNum")
    out["monthly"] = {str(m): int(n) for m, n in inc.groupby(inc["first"].dt.to_period("M")).size().items()}
    out["last_date"] = str(p["d"].max().date())
elif what == "tables":
    p["period"] = p["first"].dt.year.map(periods)
    pp = p[p["period"].notna()]
    for name, col in (("resolution", "Resolution"), ("description", "Descript"), ("district", "PdDistrict")):
        n = pp.groupby(["period", col])["IncidntNum"].nunique()
        out[name] = [[per, c, int(v)] for (per, c), v in n.items()]
    out["total"] = {k: int(v) for k, v in pp.groupby("period")["IncidntNum"].nunique().items()}
else:
    inc = p.sort_values(["IncidntNum", "d", "Time"], kind="stable").drop_duplicates("IncidntNum")
    out["per_year"] = {str(y): int(n) for y, n in inc.groupby(inc["first"].dt.year).size().items()}
    out["frame_rows"] = int(inc["first"].dt.year.isin(list(periods)).sum())
print(json.dumps(out))
'''


# --- the big file ---------------------------------------------------------------------------------------


def _generator_id() -> str:
    src = Path(make_big_public.__file__).read_bytes()
    return hashlib.sha256(src).hexdigest()[:16]


def big_file(path: Path | None) -> Path:
    """The benchmark file: ``path`` as given, or the default one, made (again) when missing or when the
    generator has changed since it was made."""
    if path is not None:
        if not path.is_file():
            raise SystemExit(f"bench_public: {path} not found")
        return path
    out = make_big_public.DEFAULT_OUT
    meta = out.with_name(out.name + ".meta.json")
    want = {"generator": _generator_id(), "rows": make_big_public.DEFAULT_ROWS, "seed": make_big_public.DEFAULT_SEED}
    if out.is_file() and meta.is_file() and json.loads(meta.read_text()).get("params") == want:
        return out
    print(f"Making the benchmark file {out} (once; about 30 s) ...", flush=True)
    run, text = run_child([sys.executable, str(Path(make_big_public.__file__)), str(out)], cwd=ROOT)
    print("  " + text.strip().replace("\n", "\n  "))
    meta.write_text(json.dumps({"params": want, "output": text.strip().splitlines()}, indent=2) + "\n")
    return out


# --- checking that the three count the same ---------------------------------------------------------------


def _read_csv(path: Path) -> list[dict]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _months(monthly: dict[str, int], last_date: str) -> dict[str, int]:
    """Every month from the first to the last complete one (as analysis.stats.its.monthly_counts)."""
    import pandas as pd

    first, last = pd.Period(min(monthly), "M"), pd.Period(last_date[:7], "M")
    if pd.Timestamp(last_date) < last.to_timestamp(how="end").normalize():
        last -= 1
    return {str(m): monthly.get(str(m), 0) for m in pd.period_range(first, last, freq="M")}


def check(command: str, project_dir: Path, project_stdout: str, baselines: dict[str, dict]) -> list[str]:
    """Disagreements between the project's output and each baseline (empty: they agree)."""
    problems = []
    if command == "trends":
        ours = {r["month"]: int(r["incidents"]) for r in _read_csv(project_dir / "monthly_counts.csv")}
        for name, b in baselines.items():
            theirs = _months(b["monthly"], b["last_date"])
            if theirs != ours:
                diff = sorted(k for k in set(ours) | set(theirs) if ours.get(k) != theirs.get(k))
                problems.append(f"{name}: monthly counts differ in {len(diff)} month(s), e.g. {diff[:3]}")
    elif command == "tables":
        for table, file, key in (("description", "description_by_period.csv", lambda c: c),
                                 ("district", "district_by_period.csv", lambda c: c.strip().lower() or "unknown")):
            ours = {(r["period"], r["category"]): int(r["n"]) for r in _read_csv(project_dir / file) if int(r["n"])}
            for name, b in baselines.items():
                theirs: dict = {}
                for per, c, n in b[table]:
                    theirs[(per, key(c))] = theirs.get((per, key(c)), 0) + n
                if theirs != ours:
                    problems.append(f"{name}: {table} counts differ from {file}")
        totals = {r["period"]: int(r["period_n"]) for r in _read_csv(project_dir / "district_by_period.csv")}
        for name, b in baselines.items():
            if {k: int(v) for k, v in b["total"].items()} != totals:
                problems.append(f"{name}: period totals {b['total']} differ from the project's {totals}")
    else:
        ours = {}
        for line in project_stdout.splitlines():
            parts = line.strip().split(":")
            if len(parts) >= 2 and parts[0].isdigit() and parts[1].strip().split(" ")[0].isdigit():
                ours[parts[0]] = int(parts[1].strip().split(" ")[0])
        frame_rows = len(_read_csv(project_dir / "frame.csv"))
        for name, b in baselines.items():
            if b["per_year"] != ours:
                problems.append(f"{name}: incidents per year {b['per_year']} differ from the project's {ours}")
            if b["frame_rows"] != frame_rows:
                problems.append(f"{name}: {b['frame_rows']} sampling-frame incidents, the project {frame_rows}")
    return problems


# --- main -------------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Benchmark the public record on a DataSF-shaped file of 2.1M rows.")
    ap.add_argument("--file", type=Path, help="benchmark on this DataSF CSV instead of the generated one")
    ap.add_argument("--runs", type=int, default=RUNS, help=f"runs of each figure (default {RUNS})")
    args = ap.parse_args(argv)
    try:
        import duckdb
    except ImportError:
        print("bench_public: the duckdb package is not installed in this environment; it is the baseline of this "
              "benchmark. Install the pinned environment (make setup) or `pip install duckdb`.", file=sys.stderr)
        return 2
    try:
        make_big_public.check_folder(make_big_public.shared_folder())
    except make_big_public.MissingData as exc:
        if args.file is None:
            print(f"bench_public: cannot make the benchmark file: {exc}", file=sys.stderr)
            return 2
    path = big_file(args.file)
    from analysis.scheme.config import load_study_config

    periods = json.dumps({str(y): p for y, p in load_study_config().year_to_period.items()})
    print(f"Public record benchmark on {path} ({path.stat().st_size / 1e6:.0f} MB); duckdb {duckdb.__version__}, "
          f"{args.runs} runs of each figure ...", flush=True)
    load_before = machine_load()
    figures: list[Figure] = []
    startup = Figure("project: start-up only (--help)", note="python -m analysis --help: interpreter and CLI import")
    repeat(startup, lambda: run_child([sys.executable, "-m", "analysis", "--help"], cwd=ROOT), args.runs)
    problems = []
    with tempfile.TemporaryDirectory() as tmp:
        for command in COMMANDS:
            duck = Figure(f"duckdb: {command}")
            pand = Figure(f"pandas: {command}", baseline=duck.name)
            ours = Figure(f"project: public {command}", baseline=duck.name,
                          target=f"<= {TARGET_RATIO:g}x duckdb, <= {TARGET_MB} MB")
            results = {
                "duckdb": repeat(duck, lambda: python_child(DUCKDB, path, periods, command), args.runs),
                "pandas": repeat(pand, lambda: python_child(PANDAS, path, periods, command), args.runs),
            }
            out = Path(tmp) / command
            argv = [sys.executable, "-m", "analysis", "public", command, str(path), "--out",
                    str(out / "frame.csv" if command == "frame" else out)]
            out.mkdir()

            def project(argv=argv, out=out, command=command):
                if command == "frame":
                    (out / "frame.csv").unlink(missing_ok=True)
                return run_child(argv, cwd=ROOT)

            stdout = repeat(ours, project, args.runs)
            ours.met = ours.min_s <= TARGET_RATIO * duck.min_s and ours.peak_mb <= TARGET_MB
            problems += [f"{command}: {p}" for p in
                         check(command, out, stdout, {k: json.loads(v) for k, v in results.items()})]
            figures += [duck, pand, ours]
    figures.append(startup)
    if problems:
        notes = ["The baselines and the project do NOT count the same:"] + [f"  {p}" for p in problems]
    else:
        notes = ["Checked: the DuckDB and pandas baselines give the project's own counts (monthly counts; "
                 "description and district counts and period totals; incidents per year and sampling-frame size)."]
    finish("public", f"Public record on {path.name} (issue 15 target: each command <= {TARGET_RATIO:g}x the DuckDB "
           f"baseline's time and <= {TARGET_MB} MB)", figures,
           {"file": str(path), "duckdb": duckdb.__version__, "problems": problems}, load_before, notes)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
