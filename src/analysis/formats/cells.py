"""Spreadsheet-safe cells: a value typed by a coder must never become a formula in someone else's spreadsheet.

A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read as a formula by Excel,
LibreOffice Calc and Google Sheets (OWASP "CSV injection"): ``=HYPERLINK("http://x","click")`` becomes a live
link in ``problems.csv``, ``=cmd|' /C calc'!A0`` a DDE call. Every writer of CSV and XLSX files in this project
passes its text cells through :func:`formula_safe` (CSV) or :func:`formula_like` (XLSX); this module is the one
place the rule lives. It imports nothing from the project, so any layer may use it.

The rule, exactly:

* A **text** value is *formula-like* when its first character is one of ``= + - @ \\t \\r`` and the whole value
  is neither a *plain number* nor an *estimate with its interval* (below).
* A *plain number* is ASCII only: an optional sign, digits with at most one decimal point (``8``, ``-8``,
  ``-3.5``, ``+1``, ``.5``, ``-5.``), and an optional exponent (``-1e5``, ``2.5E-3``); nothing before or after it,
  not even a space. ``-8`` and ``-9`` (the codebook's missing codes) are plain numbers; ``-8+1``, ``-2-3``,
  ``--8``, ``-8 `` (trailing space), ``-inf``, ``-nan``, ``-1,000`` and ``=1`` are not.
* An *estimate with its interval* as the tables write it, ``-18.8 (-35.0 to +3.8)``, is also left alone: signs,
  digits, points, a space, brackets and the word ``to`` in exactly that shape can call nothing.
* Values that are not text (numbers, dates, missing values) are never changed; neither is any other text.

In CSV a formula-like value gets a single quote ``'`` in front (OWASP's rule): spreadsheets then show it as text,
and the value the coder typed is everything after the quote. In XLSX the value is kept unchanged and written as a
text cell with Excel's quote-prefix style (the quote is not part of the value and is not shown).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
QUOTE = "'"

_NUMBER = r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
_PLAIN_NUMBER = re.compile(_NUMBER + r"\Z")
_ESTIMATE = re.compile(_NUMBER + r" \(" + _NUMBER + r" to " + _NUMBER + r"\)\Z")


def is_plain_number(value: str) -> bool:
    """True for a plain number as defined in the module docstring (``-8``, ``-3.5``, ``+1``; not ``-8+1``)."""
    return _PLAIN_NUMBER.match(value) is not None


def formula_like(value: object) -> bool:
    """True when ``value`` is text that a spreadsheet would read as a formula (see the module docstring)."""
    return (isinstance(value, str) and value[:1] in TRIGGERS
            and _PLAIN_NUMBER.match(value) is None and _ESTIMATE.match(value) is None)


def formula_safe(value: object) -> object:
    """``value`` with a ``'`` in front when it is formula-like (for CSV); anything else unchanged.

    >>> formula_safe('=1'), formula_safe('-2-3'), formula_safe('-8'), formula_safe(-8)
    ("'=1", "'-2-3", '-8', -8)
    """
    return QUOTE + value if formula_like(value) else value


def formula_safe_frame(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with every formula-like text cell and column name quoted by :func:`formula_safe`.

    Returns ``df`` itself (not a copy) when nothing needs quoting, so the common case costs one scan and the
    written bytes stay exactly as before. Numeric columns are never touched."""
    import pandas as pd  # (here, not at the top: this module is on every command's start-up path)

    changed: dict[int, pd.Series] = {}
    for j in range(df.shape[1]):
        s = df.iloc[:, j]
        if isinstance(s.dtype, pd.CategoricalDtype):
            if any(formula_like(c) for c in s.cat.categories):
                changed[j] = s.astype(object).map(formula_safe)
        elif pd.api.types.is_object_dtype(s.dtype) or pd.api.types.is_string_dtype(s.dtype):
            if any(formula_like(v) for v in _distinct(s)):
                changed[j] = s.map(formula_safe, na_action="ignore")
    renamed = [formula_safe(c) for c in df.columns]
    if not changed and renamed == list(df.columns):
        return df
    out = df.copy()
    for j, s in changed.items():
        out.isetitem(j, s)
    out.columns = renamed
    return out


def _distinct(s: pd.Series):
    """The distinct values of a text column (a column of many rows holds few: codes, labels), or all of them when
    they cannot be hashed."""
    import pandas as pd

    try:
        return pd.unique(s.to_numpy()) if not isinstance(s.dtype, pd.CategoricalDtype) else s.unique()
    except TypeError:  # (a value that cannot be hashed)
        return s.to_numpy()


def _has_cr(df: pd.DataFrame) -> bool:
    import pandas as pd

    cols = [df.iloc[:, j] for j in range(df.shape[1])
            if pd.api.types.is_object_dtype(df.iloc[:, j].dtype) or pd.api.types.is_string_dtype(df.iloc[:, j].dtype)
            or isinstance(df.iloc[:, j].dtype, pd.CategoricalDtype)]
    return any(isinstance(v, str) and "\r" in v for s in cols for v in _distinct(s)) or any(
        isinstance(c, str) and "\r" in c for c in df.columns)


def frame_to_csv(df: pd.DataFrame) -> str:
    """``df`` as CSV text the way every output of this project is written: no index, ``\\n`` line ends, text cells
    made safe by :func:`formula_safe_frame`.

    A cell holding a carriage return is put in double quotes like one holding a line feed (Python before 3.13
    leaves it bare when the line end is ``\\n``, and a spreadsheet then breaks the row there). Only files with
    such a cell are written differently from a plain ``DataFrame.to_csv``."""
    safe = formula_safe_frame(df)
    if not _has_cr(safe):
        return safe.to_csv(index=False, lineterminator="\n")
    text = safe.to_csv(index=False, lineterminator="\r\n")  # the csv module quotes cells holding \r or \n
    out, quoted, i = [], False, 0
    while i < len(text):  # record ends are the \r\n outside quotes; "" inside a quoted cell toggles twice
        c = text[i]
        if c == '"':
            quoted = not quoted
        elif c == "\r" and not quoted and text.startswith("\r\n", i):
            out.append("\n")
            i += 2
            continue
        out.append(c)
        i += 1
    return "".join(out)
