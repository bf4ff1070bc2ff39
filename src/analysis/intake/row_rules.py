"""Rules between the items of a row, declared in the codebook: a table's consistency rules, and the order of
dates (``not_before``: a date may not precede the report's incident date or another date of its row;
``in_force_of``: nor the day the law named by a coded item came into force).

Each function returns (index, variable, rule, message) for the validator (:mod:`.validate`), which rejects the
row. A rule is judged only where the cells it compares are valid on their own (``found``: the problems already
found in the table), so a bad cell is reported once, for what is wrong with it.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from ..scheme.codebook import Codebook, Variable


def _real(v: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(v) if len(v) == 10 else None
    except ValueError:
        return None


def _bad_cells(found: list[tuple]) -> dict[str, set[int]]:
    bad: dict[str, set[int]] = {}
    for i, var, *_ in found:
        bad.setdefault(var, set()).add(i)
    return bad


def consistency_problems(table: str, df: pd.DataFrame, cb: Codebook, found: list[tuple]
                         ) -> list[tuple[int, str, str, str]]:
    """Rows where a consistency rule's conditions hold and its requirement does not (``inconsistent``). Rows with a
    missing code (-8, -9) in either item are not judged."""
    rules = cb.table(table).consistency
    if not rules or df.empty:
        return []
    bad = _bad_cells(found)
    out = []
    for rule in rules:
        req = rule.require
        involved = [c.variable for c in rule.when] + [req.variable]
        hit = pd.Series(True, index=df.index)
        for cond in rule.when:
            hit &= df[cond.variable].isin(cond.values)
        codes = set(cb.variable(table, req.variable).code_values)
        value = df[req.variable]
        hit &= value.isin(codes) & ~value.isin(req.values)
        skip = set().union(*(bad.get(v, set()) for v in involved))
        for i in df.index[hit]:
            if i in skip:
                continue
            allowed = " or ".join(f"'{v}'" for v in req.values)
            out.append((i, req.variable, "inconsistent",
                        f"{req.variable} is '{value[i]}' but {rule.describe()}: {rule.why}, so {req.variable} should "
                        f"be {allowed}. Correct one of them."))
    return out


def _incident_dates(incidents: pd.DataFrame) -> dict[str, tuple[dt.date, bool]]:
    """report id -> (the date an outcome may not precede, whether it is the incident date itself): the incident
    date, or 1 January of the report year when the date is not documented."""
    out = {}
    for rid, d, year in zip(incidents["report_id"], incidents["incident_date"], incidents["report_year"]):
        day = _real(d)
        if day is not None:
            out[rid] = (day, True)
        elif year.isascii() and year.isdigit() and 1 <= int(year) <= 9999:
            out[rid] = (dt.date(int(year), 1, 1), False)
    return out


def date_order_problems(table: str, df: pd.DataFrame, incidents: pd.DataFrame, cb: Codebook, found: list[tuple]
                        ) -> list[tuple[int, str, str, str]]:
    """Dates before the report's incident date (``date_before_incident``), before another date of the row they
    follow (``date_order``), or before the law named in ``in_force_of`` came into force (``before_in_force``)."""
    dated = [v for v in cb.table(table).variables if v.type == "date" and (v.not_before or v.in_force_of)]
    if not dated or df.empty:
        return []
    bad = _bad_cells(found)
    incident = _incident_dates(incidents)
    out = []
    for var in dated:
        for i, v in zip(df.index, df[var.name]):
            day = _real(v)
            if day is None or i in bad.get(var.name, set()):
                continue
            out += _row_date_order(var, i, v, day, df, incident, cb, bad)
    return out


def _row_date_order(var: Variable, i: int, v: str, day: dt.date, df: pd.DataFrame,
                    incident: dict[str, tuple[dt.date, bool]], cb: Codebook, bad: dict[str, set[int]]) -> list[tuple]:
    out = []
    for ref in var.not_before:
        table, _, name = ref.rpartition(".")
        if table:  # the report's date, through the row's report id
            rid = df.at[i, "report_id"]
            if rid not in incident or day >= incident[rid][0]:
                continue
            first, is_date = incident[rid]
            what = (f"the incident date {first.isoformat()} of report '{rid}'" if is_date else
                    f"{first.year}, the report year of report '{rid}' (its incident date is not documented)")
            out.append((i, var.name, "date_before_incident", f"{var.name} {v} is before {what}; an outcome comes "
                        "after the incident: check both dates."))
        elif i not in bad.get(name, set()):
            other = _real(df.at[i, name])
            if other is not None and day < other:
                out.append((i, var.name, "date_order", f"{var.name} {v} is before {name} {other.isoformat()}; "
                            f"{var.name} cannot come first: check both dates."))
    if var.in_force_of and i not in bad.get(var.in_force_of, set()):
        parent = cb.variable(var.table, var.in_force_of)
        code = next((c for c in parent.codes if c.code == df.at[i, var.in_force_of]), None)
        if code is not None and code.in_force and day < dt.date.fromisoformat(code.in_force):
            law = code.label.split(":")[0]
            out.append((i, var.name, "before_in_force", f"{var.name} {v} is before {law} came into force "
                        f"({code.in_force}): relief cannot have been granted under it then. Check the date and "
                        f"{var.in_force_of}."))
    return out
