"""Subcommands registered into ``python -m analysis`` (see :func:`analysis.cli.app.build_parser`):
``reliability sample|report``.

    python -m analysis reliability sample PATH [--fraction 0.2] [--min 50] [--seed N] [--out FILE.csv]
    python -m analysis reliability report CODING_A CODING_B [...] [--out DIR] [--n-boot N] [--seed N]

Every input is validated first; only valid rows are used. Exit codes as elsewhere: 0 ok, 1 some input rows were
rejected (the output is still written from the valid rows), 2 unusable input.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from ..formats.cells import frame_to_csv
from .console import EXIT_OK, EXIT_UNUSABLE, check_output_file, load_scheme, share, whole_number, write_bytes
from .console import err as _err
from .console import say as _say
from .console import write_csv as _write_csv

if TYPE_CHECKING:  # (pandas is imported where it is used: a command's start-up imports none)
    import pandas as pd

SYNTHETIC_NOTE = "NOTE: SYNTHETIC DATA. These results come from the generated example, not from real reports."


def _validate(path: Path, cb, cfg):
    """The coding at ``path`` (folder or workbook), validated with the codebook and configuration given."""
    from ..intake.load import load_coded_tables
    from ..intake.validate import validate_tables

    return validate_tables(load_coded_tables(path, cb), cb, cfg)


# --- sample --------------------------------------------------------------------------------------------


def cmd_sample(args) -> int:
    from ..coders.reliability import DEFAULT_SAMPLE_SEED, double_coding_sample, report_periods
    from ..scheme.synthetic import is_synthetic

    seed = DEFAULT_SAMPLE_SEED if args.seed is None else args.seed
    path = Path(args.path)
    if args.out:
        check_output_file(Path(args.out))
    cb, cfg = load_scheme(args)
    result = _validate(path, cb, cfg)
    inc = result.valid["incidents"]
    if result.exit_code:
        _err(f"{path}: {len(result.rejected['incidents'])} report(s) rejected by validation are left out of "
             "the sample (run `python -m analysis validate` to see why).")
    ids = double_coding_sample(inc, fraction=args.fraction, minimum=args.min, seed=seed, config=cfg)
    periods = report_periods(inc, cfg)
    sample = periods[periods["report_id"].isin(ids)].sort_values("report_id").reset_index(drop=True)
    lines = [f"Double-coding sample: {len(sample)} of {len(inc)} valid reports "
             f"(fraction {args.fraction}, minimum {args.min}, seed {seed}), stratified by period:"]
    for p in cfg.period_codes:
        lines.append(f"  {p:<8} {int((sample['period'] == p).sum()):>5} of {int((periods['period'] == p).sum())}")
    if is_synthetic(inc):
        lines.append(SYNTHETIC_NOTE)
    if args.out:
        _write_csv(sample, Path(args.out))
        lines.append(f"Wrote the report ids and their period to {args.out}")
        for line in lines:
            _say(line)
    else:  # the list on stdout (to redirect), the summary on stderr
        for line in lines:
            _err(line)
        sys.stdout.write(frame_to_csv(sample))
        sys.stdout.flush()
    return result.exit_code


# --- report --------------------------------------------------------------------------------------------


def _fmt(x: float, digits: int = 3) -> str:
    import pandas as pd

    return "" if pd.isna(x) else f"{x:.{digits}f}"


def format_reliability(table: pd.DataFrame) -> str:
    """The reliability table as text for the terminal (rounded; CIs in brackets, clipped to [-1, 1])."""
    import pandas as pd

    from ..coders.reliability import clip_intervals

    table = clip_intervals(table)
    view = pd.DataFrame({
        "table": table["table"],
        "variable": table["variable"] + table["option"].map(lambda o: f": {o}" if o else ""),
        "level": table["level"],
        "n": table["n_units"],
        "agree%": table["percent_agreement"].map(lambda x: _fmt(x, 1)),
        "kappa [95% CI]": [
            "" if pd.isna(k) else f"{k:.3f} [{_fmt(lo)}, {_fmt(hi)}]"
            for k, lo, hi in zip(table["kappa"], table["kappa_low"], table["kappa_high"])
        ],
        "alpha [95% CI]": [
            "" if pd.isna(a) else f"{a:.3f} [{_fmt(lo)}, {_fmt(hi)}]"
            for a, lo, hi in zip(table["alpha"], table["alpha_low"], table["alpha_high"])
        ],
        "flag": table["flag"],
    })
    return view.to_string(index=False)


def disagreements_xlsx(df: pd.DataFrame) -> bytes:
    """The disagreement list as a workbook (one sheet, bold header row, frozen), byte for byte reproducible."""
    from ..formats.xlsx import tables_to_xlsx

    return tables_to_xlsx({"disagreements": df.astype(str)})


def cmd_report(args) -> int:
    from ..coders.reliability import (
        DEFAULT_SAMPLE_SEED,
        coder_name,
        disagreements,
        needs_retraining,
        reliability_table,
    )
    from ..scheme.synthetic import is_synthetic

    if len(args.codings) < 2:
        _err("error: reliability report needs at least two codings (folders or workbooks)")
        return EXIT_UNUSABLE
    seed = DEFAULT_SAMPLE_SEED if args.seed is None else args.seed
    cb, cfg = load_scheme(args)
    codings: dict[str, dict[str, pd.DataFrame]] = {}
    exit_code = EXIT_OK
    synthetic = False
    for raw_path in args.codings:
        path = Path(raw_path)
        result = _validate(path, cb, cfg)
        name = coder_name(result.valid, path.stem if path.suffix else path.name)
        base, k = name, 2
        while name in codings:
            name, k = f"{base}_{k}", k + 1
        codings[name] = result.valid
        synthetic = synthetic or is_synthetic(result.valid["incidents"])
        rej = result.n_rejected
        _say(f"{path}: coder '{name}', {len(result.valid['incidents'])} valid reports"
             + (f", {rej} rejected row(s) left out (run `python -m analysis validate {path}`)" if rej else ""))
        exit_code = max(exit_code, result.exit_code)
    table = reliability_table(codings, cb, n_boot=args.n_boot, seed=seed)
    dis = disagreements(codings, cb)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    _write_csv(table, out / "reliability.csv")
    _write_csv(dis, out / "disagreements.csv")
    write_bytes(out / "disagreements.xlsx", disagreements_xlsx(dis))
    if synthetic:
        _say(SYNTHETIC_NOTE)
    _say(f"Inter-coder reliability ({len(codings)} codings: {', '.join(codings)}; "
         f"Krippendorff's alpha with a {args.n_boot}-resample bootstrap CI, seed {seed}):")
    _say(format_reliability(table))
    flagged = needs_retraining(table)
    if flagged.empty:
        _say("Every assessed variable is reliable (alpha >= 0.800).")
    else:
        _say(f"Flagged ({len(flagged)}; alpha < 0.800 or undefined): retrain and clarify the rules for:")
        for _, r in flagged.iterrows():
            opt = f": {r['option']}" if r["option"] else ""
            _say(f"  {r['table']}.{r['variable']}{opt}  alpha {_fmt(r['alpha'])}  {r['flag']}")
    _say(f"{len(dis)} disagreement(s) listed for the reconciliation meeting.")
    _say(f"Wrote reliability.csv, disagreements.csv and disagreements.xlsx to {out}")
    return exit_code


# --- parser --------------------------------------------------------------------------------------------


def add_commands(sub) -> None:
    """Register this module's subcommands on the argparse sub-parsers object ``sub``."""
    from ..scheme.config import paths

    rel = sub.add_parser("reliability", help="double-coding sample and inter-coder reliability report",
                         description="Draw the double-coding sample, or compare two or more codings of the "
                         "same reports (percent agreement, Cohen's kappa, Krippendorff's alpha).")
    rsub = rel.add_subparsers(dest="reliability_command", required=True, metavar="SUBCOMMAND")

    def common(sp):
        sp.add_argument("--config", help="study configuration YAML (default: the package's study.yaml)")

    s = rsub.add_parser("sample", help="draw the reports to be coded a second time",
                        description="A reproducible random sample of the valid reports in PATH, stratified by "
                        "period (proportional allocation), for double coding. Writes report_id and period.")
    s.add_argument("path", help="coded data: folder of CSV files or .xlsx workbook")
    s.add_argument("--fraction", type=share, default=0.2, help="share of reports to draw, over 0 and at most 1 "
                   "(default 0.2)")
    s.add_argument("--min", type=whole_number(0), default=50, help="draw at least this many reports (default 50)")
    s.add_argument("--seed", type=whole_number(0), help="random seed (default 20171115); keep it with the sample "
                   "list")
    s.add_argument("--out", help="CSV file for the list (default: print it)")
    common(s)
    s.set_defaults(func=cmd_sample)

    r = rsub.add_parser("report", help="inter-coder reliability of two or more codings",
                        description="Validate each coding (folder or workbook; the coder's name is its coder_id "
                        "when single-valued, else the folder/file name), then write reliability.csv, "
                        "disagreements.csv and disagreements.xlsx.")
    r.add_argument("codings", nargs="+", metavar="CODING", help="coded data of one coder (two or more)")
    r.add_argument("--out", default=str(paths().derived / "reliability"),
                   help="output folder (default data/derived/reliability)")
    r.add_argument("--n-boot", type=whole_number(1), default=1000,
                   help="bootstrap resamples for alpha's CI (default 1000)")
    r.add_argument("--seed", type=whole_number(0), help="bootstrap seed (default 20171115)")
    common(r)
    r.set_defaults(func=cmd_report)
