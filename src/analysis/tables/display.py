"""The shared (printed) version of a before/after table: :func:`display_table`.

Kept apart from :mod:`analysis.tables.compare` (which makes the table) because printing it for sharing needs the
disclosure control of the whole shared register (:mod:`analysis.tables.disclosure`), which itself reads the
comparison tables.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .compare import CHANGE_HEADER, ComparisonTable, _fmt_num, _fmt_p, _fmt_pct

__all__ = ["display", "display_table"]


def display_table(ct: ComparisonTable, suppress: bool = True, threshold: int | None = None, *,
                  protection=None) -> pd.DataFrame:
    """The table as strings for sharing: ``n/N (%)`` per period and overall, difference (95% CI), test, p, q.

    With ``suppress`` (the default) the counts and statistics print as the protection of the whole shared register
    decides (:mod:`analysis.tables.disclosure`): a hidden count prints ``suppressed``; a role's column in a period
    with too few people ``not shown``; a count whose denominator is hidden prints without it; a difference, test,
    p or q prints only when every count it is computed from prints, and q is adjusted over the printed tests;
    merged levels print as one row. ``protection`` is the publication's
    (:func:`analysis.report.publish.protect_publication`); without it the table is protected on its own, from its
    counts alone (a preview: the shared files are protected together, with the codebook's relations).
    """
    if not suppress:
        return _display_rows(ct, None)
    if protection is None:
        from .disclosure import protect_tables

        protection = protect_tables([ct], threshold=threshold)
    return _display_rows(ct, protection)


def _display_rows(ct: ComparisonTable, protection) -> pd.DataFrame:
    """The display of :func:`display_table` (``protection`` None: everything prints)."""
    from .disclosure.show import SUPPRESSED, Shown, apply_merges

    shown = None
    if protection is not None:
        ct = apply_merges(ct, protection)
        shown = Shown(ct, protection)
    a, b = ct.groups
    periods = (a, b, "overall")
    tests = shown.tests() if shown else {}
    qs = shown.q_values(tests) if shown else {}

    def mark(col, kind, level, g):
        return shown.marker(col, kind, level, g) if shown else None

    out_rows = []
    blocks: dict[str, list[dict]] = {}  # the rows as records, by variable (in table order): one conversion
    for x in ct.rows.to_dict("records"):
        blocks.setdefault(x["column"], []).append(x)
    for col, block in blocks.items():
        first = block[0]
        test_ok = tests.get(col, True) if shown else True
        estimates_ok = shown.weighted_prints(col) if shown else True  # a weighted table's estimates of col
        test = first.get("test", "")
        test = test if isinstance(test, str) else ""
        p_txt = _fmt_p(first.get("p_value", np.nan)) if test_ok else (SUPPRESSED if test else "")
        q_raw = qs.get(col, np.nan) if shown else first.get("q_value", np.nan)
        q_txt = _fmt_p(q_raw) if test_ok else (SUPPRESSED if test else "")
        test_txt = test if test_ok else (SUPPRESSED if test else "")
        if first["kind"] == "number":
            cells = []
            for g in periods:
                N = first[f"N_{g}"]
                m = mark(col, "n", "", g)
                if m is not None:
                    cells.append(m)
                elif not N:
                    cells.append("")
                elif not estimates_ok:
                    cells.append(f"n = {int(N)}")
                else:
                    cells.append(f"median {_fmt_num(first[f'median_{g}'])} (IQR {_fmt_num(first[f'q1_{g}'])}-"
                                 f"{_fmt_num(first[f'q3_{g}'])}); mean {_fmt_num(first[f'mean_{g}'])} "
                                 f"(SD {_fmt_num(first[f'sd_{g}'])}); n = {int(N)}")
            out_rows.append([first["label"], "", *cells, "", test_txt, p_txt, q_txt])
            continue
        for i, x in enumerate(block):
            kind, level = shown.row_level(x) if shown else ("", "")
            cells = []
            for g in periods:
                n = x[f"n_{g}"]
                m = mark(col, kind, level, g)
                if m is not None:
                    cells.append(m)
                elif x["row_type"] == "missing" or mark(col, "den", "", g) is not None:
                    cells.append(f"{int(n)}")
                elif not estimates_ok:
                    cells.append(f"{int(n)}/{int(x[f'N_{g}'])}")
                else:
                    cells.append(f"{int(n)}/{int(x[f'N_{g}'])} ({_fmt_pct(x.get(f'pct_{g}', np.nan))})")
            diff = ""
            if x["kind"] == "binary" and x["row_type"] == "level" and pd.notna(x.get("diff_pp", np.nan)):
                diff = (f"{x['diff_pp']:+.1f} ({x['diff_low']:+.1f} to {x['diff_high']:+.1f})"
                        if test_ok else SUPPRESSED)
            label = x["label"] if i == 0 else ""
            lvl = "" if x["kind"] == "binary" and x["row_type"] == "level" else x["level_label"]
            first_row = i == 0
            out_rows.append([label, lvl, *cells, diff, test_txt if first_row else "",
                             p_txt if first_row else "", q_txt if first_row else ""])
    # every table states its denominators: the number of reports / people per period, in the headers too
    ns = [ct.group_n[a], ct.group_n[b], ct.group_n[a] + ct.group_n[b]]
    n_cells = [(shown.n_marker(g) or f"{n:,}") if shown else f"{n:,}" for g, n in zip(periods, ns)]
    n_text = [f"N = {c}" if c[:1].isdigit() else f"N {c}" for c in n_cells]
    header = ["Variable", "Level", f"{ct.group_labels[a]}, {n_text[0]}: n/N (%)",
              f"{ct.group_labels[b]}, {n_text[1]}: n/N (%)", f"Overall, {n_text[2]}: n/N (%)", CHANGE_HEADER,
              "Test", "p", "q"]
    df = pd.DataFrame(out_rows, columns=header)
    top = ["N", "", *n_cells, "", "", "", ""]
    return pd.concat([pd.DataFrame([top], columns=header), df], ignore_index=True)


display = display_table  # the old name (it shadows IPython's display in a notebook: use display_table there)
