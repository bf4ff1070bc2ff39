"""The audit's report for people: what leaks, where (file, line, column, row), the attacker's range, and why.

:func:`format_report` turns an :class:`~analysis.tables.audit.core.AuditResult` into text; :func:`kind_counts`
gives the numbers of its summary (hidden cells recovered per leak kind), which the tests check.
"""

from __future__ import annotations

from collections import Counter

from .core import KINDS, MARKER, AuditResult, Finding

MAX_PLACES = 3  # other places a hidden cell is printed, listed under it


def kind_counts(result: AuditResult) -> dict[str, int]:
    """Hidden cells that leak (pinned, or narrowed within 1..t-1), per leak kind (a cell may have several kinds);
    the other findings per kind."""
    out: Counter = Counter()
    for f in result.findings:
        for k in f.kinds:
            out[k] += 1
    return {k: out[k] for k in KINDS if out[k]}


def _range(lo: float, hi: float) -> str:
    return f"{lo:g}" if lo == hi else f"{lo:g}..{hi:g}"


def _hidden_line(f: Finding, t: int) -> list[str]:
    c = f.cell
    lo, hi = c.final
    how = ("pinned to " + _range(lo, hi)) if lo == hi else f"narrowed to {_range(lo, hi)}"
    if f.kinds == [MARKER]:
        how = f"in 1..{t - 1} from its marker alone"
    linear = "" if c.linear == c.final else f" (linear relations alone: {_range(*c.linear)})"
    lines = [f"- {c.places[0]}: shown as {c.marker!r}; attacker range {_range(lo, hi)}: {how}{linear}",
             f"    kind: {', '.join(f.kinds).replace('<t', f'<{t}').replace('t-1', str(t - 1))}"]
    if len(c.places) > 1:
        more = "; ".join(str(p) for p in c.places[1:1 + MAX_PLACES])
        extra = len(c.places) - 1 - MAX_PLACES
        lines.append(f"    also printed at: {more}" + (f" and {extra} more" if extra > 0 else ""))
    if c.reasons and f.kinds != [MARKER]:
        lines.append("    from: " + "; ".join(c.reasons[:6]))
    return lines


def format_report(result: AuditResult, folder: str = "the shared folder") -> str:
    """The audit as text: a summary, then every leak (hidden cells first, those pinned to a value first)."""
    t = result.threshold
    c = result.counts()
    hidden = [f for f in result.findings if f.kind == "hidden"]
    others = [f for f in result.findings if f.kind != "hidden"]
    pinned = [f for f in hidden if f.cell.final[0] == f.cell.final[1]]
    narrowed = [f for f in hidden if f not in pinned and f.kinds != [MARKER]]
    marked = [f for f in hidden if f.kinds == [MARKER]]
    lines = [f"Disclosure audit of {folder}: {result.files} files read in {result.seconds:.1f} s; threshold {t} "
             f"(a count from 1 to {t - 1} must not be shown or be worked out)."]
    if not result.findings and result.problems:
        lines.append(f"NOT VOUCHED FOR: {len(result.problems)} problem(s) below leave numbers out of the attacker's "
                     f"model, so a count from 1 to {t - 1} may still be worked out there. Elsewhere no leak was found: "
                     f"every hidden cell ({len(result.hidden)}) keeps a range that includes 0 or a value of {t} or "
                     f"more, and no count from 1 to {t - 1} is printed.")
    elif not result.findings:
        lines.append(f"No leak found: every hidden cell ({len(result.hidden)}) keeps a range that includes 0 or a "
                     f"value of {t} or more, and no count from 1 to {t - 1} is printed.")
    else:
        lines.append(f"LEAKS FOUND: {len(result.findings)}.")
        lines.append(f"  Hidden cells: {len(result.hidden)} ({c['small_cells']} shown as '<{t}'); "
                     f"{len(pinned)} pinned to a value from 1 to {t - 1}, {len(narrowed)} narrowed within 1..{t - 1}, "
                     f"{len(marked)} given away by the '<{t}' marker alone.")
        lines.append("  By leak kind (a finding may have several):")
        for k, n in kind_counts(result).items():
            lines.append(f"    {k.replace('<t', f'<{t}').replace('t-1', str(t - 1))}: {n}")
        by = Counter(f.kind for f in others)
        if by:
            lines.append("  Other findings: " + ", ".join(f"{k} {n}" for k, n in sorted(by.items())))
    pinned_big = [h for h in result.hidden if h.final[0] == h.final[1] and h.final[0] >= t]
    if pinned_big:
        lines.append(f"  (Information, not a leak: {len(pinned_big)} hidden cells are pinned to a value of {t} or "
                     "more.)")
    if hidden:
        lines += ["", "Hidden cells that leak (file, line, column, row: marker; the attacker's range; why):"]
        for f in pinned + narrowed + marked:
            lines += _hidden_line(f, t)
    if others:
        lines += ["", "Other leaks:"]
        for f in others:
            lines.append(f"- [{f.kind}] {f.where}: {f.message}")
    if result.problems:
        lines += ["", "Problems (printed numbers the audit could not use, or a channel it does not model; the "
                  "ranges involved may be wider than an attacker's):"]
        lines += [f"- {p}" for p in result.problems]
    return "\n".join(lines) + "\n"
