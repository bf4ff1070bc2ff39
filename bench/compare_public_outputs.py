"""Are the public record's outputs identical before and after the DuckDB engine (issue 15)?

    python bench/compare_public_outputs.py [--ref main]

Runs ``public trends``, ``public tables``, ``public frame`` and ``public draw-sample`` on every file of the
shared SFPD folder with the code of ``--ref`` (exported with ``git archive`` into a temporary folder) and with
this worktree's code, in the same Python environment, and compares every output file byte for byte and every
line printed. Lines that this branch adds on purpose are listed apart, not counted as differences:
``public frame`` says whether the frame is a lower bound (issue 14). Exit 0 when identical, 1 when not.
Needs the shared folder; writes only into a temporary folder.
"""

from __future__ import annotations

import argparse
import filecmp
import os
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from analysis.public.load import SHARED_FILES  # noqa: E402
from analysis.scheme.config import paths  # noqa: E402

# (command, shared files, extra arguments); OUT is replaced by the output path
RUNS = [
    ("trends", ["daily", "kaggle", "incidents", "socrata"], ["--out", "OUT"]),
    ("tables", ["kaggle", "incidents", "socrata"], ["--out", "OUT"]),
    ("frame", ["incidents", "socrata"], ["--out", "OUT/frame.csv"]),
    ("draw-sample", ["incidents"], ["--per-year", "5", "--seed", "2017", "--out", "OUT/sample.csv"]),
]
ADDED_ON_PURPOSE = ("  LOWER BOUND: ", "  The sampled years' counts include ")  # public frame (issue 14)


def export(ref: str, into: Path) -> Path:
    archive = into / "ref.tar"
    subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", "-o", str(archive), ref, "src"], check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(into / "ref", filter="data")
    return into / "ref" / "src"


def run(src: Path, argv: list[str], out: Path) -> str:
    out.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONPATH": str(src), "ANALYSIS_PROJECT_ROOT": str(ROOT)}
    argv = [a.replace("OUT", str(out)) for a in argv]
    p = subprocess.run([sys.executable, "-m", "analysis", *argv], capture_output=True, text=True, env=env,
                       cwd=str(out))
    return f"exit {p.returncode}\n" + (p.stdout + p.stderr).replace(str(out), "OUT")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ref", default="main", help="the git revision to compare with (default main)")
    args = ap.parse_args(argv)
    shared = paths().shared_sfpd
    if not shared.is_dir():
        print(f"compare_public_outputs: the shared SFPD folder {shared} is absent", file=sys.stderr)
        return 2
    differences, added, compared = [], [], 0
    with tempfile.TemporaryDirectory(prefix="compare-public-") as tmp:
        ref_src = export(args.ref, Path(tmp))
        for command, keys, extra in RUNS:
            for key in keys:
                path = str(shared / SHARED_FILES[key])
                cli = ["public", command, path, *extra]
                before = run(ref_src, cli, Path(tmp) / "before" / command / key)
                after = run(ROOT / "src", cli, Path(tmp) / "after" / command / key)
                # lines added on purpose count apart only when the reference lacks them (main has issue 14 now)
                new_lines = [ln for ln in after.splitlines()
                             if ln.startswith(ADDED_ON_PURPOSE) and ln not in before.splitlines()]
                kept = [ln for ln in after.splitlines() if ln not in new_lines]
                added += [f"{command} {key}: {ln.strip()}" for ln in new_lines]
                if kept != before.splitlines():
                    differences.append(f"{command} {key}: printed output differs\n--- {args.ref}\n{before}\n--- now\n{after}")
                b, a = Path(tmp) / "before" / command / key, Path(tmp) / "after" / command / key
                names = sorted({p.relative_to(b).as_posix() for p in b.rglob("*") if p.is_file()}
                               | {p.relative_to(a).as_posix() for p in a.rglob("*") if p.is_file()})
                for name in names:
                    compared += 1
                    if not ((b / name).is_file() and (a / name).is_file() and filecmp.cmp(b / name, a / name, shallow=False)):
                        differences.append(f"{command} {key}: {name} differs (or is missing on one side)")
                print(f"{command:12} {key:10} {len(names)} file(s) compared", flush=True)
    print(f"\n{compared} output file(s) and {sum(len(k) for _, k, _ in RUNS)} command outputs compared with {args.ref}.")
    for line in added:
        print(f"  added on purpose (issue 14): {line}")
    if differences:
        print(f"{len(differences)} difference(s):")
        for d in differences:
            print("  " + d)
        return 1
    print("Identical: every output file byte for byte, every printed line.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
