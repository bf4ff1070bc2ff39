"""Turn what coders type into the codebook's canonical values, without guessing.

Accepted for a code: the code itself in any case, its label in any case, and the template's drop-down form
``code = label``. Missing codes may be written ``-8``, ``-8.0`` or ``-8 = Not documented``. Multi-select cells
may separate codes with ``;`` or ``,``. Dates may be ``YYYY-MM-DD``, a spreadsheet date, or ``M/D/YYYY``.
Statute lists are split at ``;`` and written back with ``;`` between the statutes as typed.
Only plain (ASCII) text is recognised: a value with look-alike characters (a Cyrillic 'а', full-width digits)
is never turned into a code, a number or a date. Anything else is left as typed (stripped), for the validator
to report.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Callable

import numpy as np
import pandas as pd

from ..scheme.codebook import Codebook, Variable, display_choice

_INT_RE = re.compile(r"^[+-]?[0-9]+(\.0*)?$")  # ASCII digits only: \d and int() accept other scripts
_MULTI_SPLIT = re.compile(r"\s*[;,]\s*")
_STATUTES_SPLIT = re.compile(r"\s*;\s*")


def split_statutes(text: str) -> list[str]:
    """The statutes of a ``statutes`` cell ('647(b) PC; 148(a)(1) PC'), stripped, empty parts left out. Only ';'
    separates: a comma may belong to how a statute is written."""
    return [p for p in _STATUTES_SPLIT.split(text.strip()) if p]


def accepted_spellings(var: Variable, cb: Codebook) -> dict[str, str]:
    """Lower-cased spellings accepted for ``var`` -> canonical code (codes and missing codes)."""
    out: dict[str, str] = {}
    for m in cb.missing_labels:
        label = cb.missing_labels[m]
        for s in (m, f"{m}.0", display_choice(m, label), label):
            out[s.lower()] = m
    for c in var.codes:
        for s in (c.label, display_choice(c.code, c.label), c.code):
            out[s.lower()] = c.code
    return out


def _normalise_int(s: str) -> str:
    """'34.0', '+34', '034' -> '34'; anything else (and numbers too long to be one) as typed."""
    if len(s) > 40 or not _INT_RE.match(s):
        return s
    return str(int(s.split(".")[0]))


def _normalise_date(s: str) -> str:
    if not s or s in {"-8", "-9"} or not s.isascii():
        return s
    head = s.split(" ")[0].split("T")[0]
    for fmt in ("%Y-%m-%d", "%m/%d/%Y"):
        try:
            return dt.datetime.strptime(head, fmt).date().isoformat()
        except ValueError:
            continue
    return s


def _lookup(s: str, spellings: dict[str, str]) -> str:
    """The canonical code for ``s`` (any case), or ``s``; never for non-ASCII text ('K' (Kelvin) lowers to 'k')."""
    return spellings.get(s.lower(), s) if s.isascii() else s


def _normalise_multi(s: str, spellings: dict[str, str], order: dict[str, int]) -> str:
    if not s:
        return s
    parts = [p for p in _MULTI_SPLIT.split(s) if p]
    canon = [_lookup(p, spellings) for p in parts]
    if any(c not in order for c in canon):
        return ";".join(canon)
    return ";".join(sorted(set(canon), key=order.__getitem__))


_SMALL = 2000  # below this many cells a dict beats pandas' factorize (whose fixed cost dominates)


def _distinct_map(values, fn: Callable[[object], object]) -> list | np.ndarray:
    """``[fn(v) for v in values]`` (a list, or an object array when long), calling ``fn`` once per distinct
    value."""
    if len(values) >= _SMALL:
        codes, uniques = pd.factorize(np.asarray(values, dtype=object), use_na_sentinel=False)
        mapped = np.empty(len(uniques), dtype=object)
        mapped[:] = [fn(u) for u in uniques]
        return mapped[codes]
    cache: dict = {}
    out = []
    for v in values:
        try:
            r = cache[v]
        except KeyError:
            r = cache[v] = fn(v)
        except TypeError:  # an unhashable cell: no caching
            r = fn(v)
        out.append(r)
    return out


def map_distinct(values: pd.Series, fn: Callable[[str], object], dtype=object) -> pd.Series:
    """Apply ``fn`` once per distinct value (coded columns have few) and spread the results back."""
    if len(values) < _SMALL:
        out = _distinct_map(values.to_numpy(dtype=object), fn)
        arr = np.empty(len(out), dtype=object)
        arr[:] = out
        return pd.Series(arr if dtype is object else arr.astype(dtype), index=values.index, dtype=dtype)
    codes, uniques = pd.factorize(values.to_numpy(dtype=object), use_na_sentinel=False)
    mapped = np.array([fn(u) for u in uniques], dtype=dtype)
    return pd.Series(mapped[codes], index=values.index, dtype=dtype)


def normaliser(var: Variable, cb: Codebook) -> Callable[[object], str]:
    """The function from one typed cell to its canonical text, for ``var`` (built once per variable)."""
    key = (id(var), id(cb))
    hit = _NORMALISERS.get(key)
    if hit is not None and hit[0] is var and hit[1] is cb:
        return hit[2]
    if var.type == "statutes":
        spell = {k: v for k, v in accepted_spellings(var, cb).items() if v in cb.missing_labels}

        def fn(u):
            t = _lookup("" if u is None or u != u else str(u).strip(), spell)
            return t if t in cb.missing_labels else ";".join(split_statutes(t))
    elif var.type in {"id", "text", "statute"}:
        spell = {k: v for k, v in accepted_spellings(var, cb).items() if v in cb.missing_labels} if var.missing else {}

        def fn(u):
            return _lookup("" if u is None or u != u else str(u).strip(), spell)
    elif var.type == "code":
        spell = accepted_spellings(var, cb)

        def fn(u):
            return _lookup("" if u is None or u != u else str(u).strip(), spell)
    elif var.type == "multi":
        spell = accepted_spellings(var, cb)
        order = {c: i for i, c in enumerate(var.code_values)}
        order.update({m: -1 for m in cb.missing_labels})

        def fn(u):
            return _normalise_multi("" if u is None or u != u else str(u).strip(), spell, order)
    elif var.type == "integer":
        def fn(u):
            return _normalise_int("" if u is None or u != u else str(u).strip())
    elif var.type == "date":
        def fn(u):
            return _normalise_date("" if u is None or u != u else str(u).strip())
    else:  # pragma: no cover - check_codebook rejects unknown types
        raise ValueError(f"unknown variable type {var.type!r}")
    if len(_NORMALISERS) > 500:
        _NORMALISERS.clear()
    _NORMALISERS[key] = (var, cb, fn)
    return fn


_NORMALISERS: dict[tuple[int, int], tuple[Variable, Codebook, Callable[[object], str]]] = {}


def normalise_values(var: Variable, values: list, cb: Codebook) -> list[str] | np.ndarray:
    """Canonical text for a list of cells (each distinct value normalised once)."""
    return _distinct_map(values, normaliser(var, cb))


def normalise_column(var: Variable, values: pd.Series, cb: Codebook) -> pd.Series:
    """Canonical text for one column. Unrecognised values are returned as typed (stripped)."""
    return pd.Series(normalise_values(var, values.tolist(), cb), index=values.index, dtype=object)
