"""Inter-coder reliability statistics: percent agreement, Krippendorff's alpha, Cohen's kappa.

Pure functions (numpy/scipy only; no file I/O, no printing).

Data layout
-----------
Multi-coder functions take a *coders x units* reliability-data matrix (list of
lists, or a 2-D ndarray): row ``i`` holds coder ``i``'s values, column ``u``
holds the values assigned to unit ``u``.  Missing values are ``NaN`` or
``None`` (``pandas.NA``/``NaT`` are also recognised in object arrays).  Values
may be numbers or, for nominal data, any hashable labels such as strings.

Note on string input: ``numpy.asarray([["a", np.nan]])`` silently turns the
NaN into the string ``"nan"``.  Lists are therefore converted with
``dtype=object`` here, which keeps ``None``/``NaN`` recognisable; if you build
the ndarray yourself, use ``dtype=object`` for labelled data with gaps.

Sources
-------
* Krippendorff, K. (2011). *Computing Krippendorff's Alpha-Reliability*.
  Departmental Papers (ASC), Annenberg School for Communication, University
  of Pennsylvania. https://repository.upenn.edu/asc_papers/43
* Krippendorff, K. (2004). *Content Analysis: An Introduction to Its
  Methodology* (2nd ed.), ch. 11. Sage.
* Cohen, J. (1960). A coefficient of agreement for nominal scales.
  *Educational and Psychological Measurement*, 20(1), 37-46.
* Fleiss, J. L., Cohen, J., & Everitt, B. S. (1969). Large sample standard
  errors of kappa and weighted kappa. *Psychological Bulletin*, 72(5), 323-327.
* Fleiss, J. L., Levin, B., & Paik, M. C. (2003). *Statistical Methods for
  Rates and Proportions* (3rd ed.), ch. 18. Wiley.
* Efron, B., & Tibshirani, R. J. (1993). *An Introduction to the Bootstrap*,
  ch. 13 (percentile interval). Chapman & Hall.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

__all__ = [
    "LEVELS",
    "percent_agreement",
    "krippendorff_alpha",
    "krippendorff_alpha_ci",
    "krippendorff_alpha_cis",
    "cohen_kappa",
    "cohen_kappa_ci",
]

#: Levels of measurement accepted by :func:`krippendorff_alpha`.
LEVELS: tuple[str, ...] = ("nominal", "ordinal", "interval", "ratio")

# Row-block size for the O(V^2) expected-disagreement sum of the ratio metric.
_RATIO_BLOCK = 1024


# --------------------------------------------------------------------------
# Input handling
# --------------------------------------------------------------------------


def _is_missing_scalar(x: Any) -> bool:
    """True for None, NaN (float or numpy), NaT and pandas.NA."""
    if x is None:
        return True
    if type(x).__name__ in ("NAType", "NaTType"):
        return True
    if isinstance(x, (float, np.floating, np.datetime64, np.timedelta64)):
        try:
            return bool(x != x)
        except (TypeError, ValueError):  # pragma: no cover - defensive
            return False
    return False


_is_missing_vec = np.vectorize(_is_missing_scalar, otypes=[bool])


def _is_real_number(x: Any) -> bool:
    return isinstance(x, numbers.Real)  # includes bool and numpy real scalars


_is_real_vec = np.vectorize(_is_real_number, otypes=[bool])


# Types whose missing values are exactly None and float NaN, so that an object array holding only these can be
# checked with two vectorised comparisons instead of a Python call per cell. bool/int/str are never missing.
_PLAIN_TYPES = frozenset({type(None), str, float, int, bool, np.float64, np.float32, np.int64, np.int32, np.bool_})


def _object_missing_fast(arr: np.ndarray) -> tuple[np.ndarray, bool] | None:
    """``(missing, numeric)`` for an object array of plain values (None, str, Python/numpy numbers), as
    :func:`_is_missing_scalar` and :func:`_is_real_number` would give cell by cell; None for anything else
    (pandas.NA, NaT, Decimal, ...), which takes the general path."""
    if not arr.size:
        return None
    types = set(map(type, arr.ravel().tolist()))
    if not types <= _PLAIN_TYPES:
        return None
    missing = np.equal(arr, None).astype(bool, copy=False)
    if types & {float, np.float64, np.float32}:
        missing |= np.not_equal(arr, arr).astype(bool, copy=False)  # among these types only NaN != itself
    numeric = all(issubclass(t, numbers.Real) for t in types - {type(None)})
    return missing, numeric


def _as_matrix(data: Any, ndim: int, what: str) -> tuple[np.ndarray, np.ndarray, bool]:
    """Convert ``data`` to an array of the given ndim.

    Returns ``(arr, missing, numeric)`` where ``arr`` is a float array when
    every non-missing value is a real number (``numeric`` True) and an object
    array of labels otherwise, and ``missing`` is a boolean mask.
    """
    if isinstance(data, np.ndarray):
        arr = data
    else:
        try:
            arr = np.asarray(data)
        except ValueError:  # ragged nesting
            arr = np.asarray(data, dtype=object)
        if arr.dtype.kind in "US":
            # numpy would have turned NaN into the string "nan": redo as object.
            arr = np.asarray(data, dtype=object)
    if arr.ndim != ndim:
        if ndim == 2:
            raise ValueError(
                f"{what} must be a 2-D coders x units array; got an array with "
                f"ndim={arr.ndim} and shape {arr.shape}"
            )
        raise ValueError(f"{what} must be 1-D; got ndim={arr.ndim} and shape {arr.shape}")

    kind = arr.dtype.kind
    if kind in "biu":
        return arr.astype(float), np.zeros(arr.shape, dtype=bool), True
    if kind == "f":
        arr = arr.astype(float, copy=False)
        return arr, np.isnan(arr), True
    if kind in "US":
        # A caller-built string array: no way to mark missing values.
        return arr.astype(object), np.zeros(arr.shape, dtype=bool), False
    if kind == "c":
        raise ValueError(f"{what}: complex values are not supported")

    arr = arr.astype(object, copy=False)
    fast = _object_missing_fast(arr)
    if fast is not None:
        missing, numeric = fast
        if numeric:
            out = np.full(arr.shape, np.nan)
            out[~missing] = arr[~missing].astype(float)
            return out, missing, True
        return arr, missing, False
    missing = _is_missing_vec(arr) if arr.size else np.zeros(arr.shape, dtype=bool)
    present = arr[~missing]
    if present.size == 0 or bool(_is_real_vec(present).all()):
        out = np.full(arr.shape, np.nan)
        out[~missing] = present.astype(float)
        return out, missing, True
    return arr, missing, False


def _encode(values: np.ndarray, numeric: bool) -> tuple[np.ndarray, np.ndarray]:
    """Map a 1-D array of present values to integer codes.

    Returns ``(distinct, codes)``.  Numeric values are sorted ascending (needed
    for the ordinal metric); labels are sorted when they are mutually
    orderable and otherwise kept in order of first appearance.
    """
    if numeric:
        distinct, codes = np.unique(values.astype(float), return_inverse=True)
        return distinct, codes.astype(np.int64)
    try:
        # np.unique's sorted order without sorting every value (object comparisons are slow): sort the
        # distinct labels, then look each value up.
        labels = values.tolist()
        order = sorted(set(labels))
        lookup = {v: i for i, v in enumerate(order)}
        codes = np.fromiter(map(lookup.__getitem__, labels), dtype=np.int64, count=len(labels))
        distinct = np.empty(len(order), dtype=object)
        distinct[:] = order
        return distinct, codes
    except TypeError:  # mixed, non-orderable labels (e.g. str and int)
        mapping: dict[Any, int] = {}
        codes = np.fromiter(
            (mapping.setdefault(v, len(mapping)) for v in values), dtype=np.int64, count=values.size
        )
        distinct = np.empty(len(mapping), dtype=object)
        for v, i in mapping.items():
            distinct[i] = v
        return distinct, codes


@dataclass(frozen=True)
class _Pairable:
    """Pairable values (units with >= 2 values) in flattened, pair-listed form.

    ``val_code``/``val_unit``: code and unit index of every pairable value.
    ``pair_*``: every unordered pair of values from two different coders
    within a unit, with the unit's weight 1/(m_u - 1).
    """

    distinct: np.ndarray  # distinct values (float if numeric, else object)
    numeric: bool
    n_units: int
    val_code: np.ndarray
    val_unit: np.ndarray
    pair_c: np.ndarray
    pair_k: np.ndarray
    pair_unit: np.ndarray
    pair_w: np.ndarray
    m_u: np.ndarray  # number of values per pairable unit


def _pairable(data: Any) -> _Pairable:
    arr, missing, numeric = _as_matrix(data, 2, "data")
    present = ~missing
    keep = present.sum(axis=0) >= 2  # Krippendorff (2011): drop units with < 2 values
    arr, present = arr[:, keep], present[:, keep]
    n_coders, n_units = arr.shape

    distinct, flat_codes = _encode(arr[present], numeric)
    codes = np.full(arr.shape, -1, dtype=np.int64)
    codes[present] = flat_codes
    m_u = present.sum(axis=0)

    # Row-major boolean indexing above means flat_codes are ordered coder by
    # coder; recover unit indices the same way.
    val_unit = np.nonzero(present)[1].astype(np.int64)

    w_unit = np.zeros(n_units)
    if n_units:
        w_unit = 1.0 / (m_u - 1.0)
    pc, pk, pu = [], [], []
    for i in range(n_coders):  # loop over coder pairs; vectorised over units
        for j in range(i + 1, n_coders):
            both = np.nonzero(present[i] & present[j])[0]
            if both.size:
                pc.append(codes[i, both])
                pk.append(codes[j, both])
                pu.append(both)
    if pc:
        pair_c, pair_k, pair_unit = (np.concatenate(x) for x in (pc, pk, pu))
    else:
        pair_c = pair_k = pair_unit = np.zeros(0, dtype=np.int64)
    return _Pairable(
        distinct=distinct,
        numeric=numeric,
        n_units=n_units,
        val_code=flat_codes,
        val_unit=val_unit,
        pair_c=pair_c,
        pair_k=pair_k,
        pair_unit=pair_unit,
        pair_w=w_unit[pair_unit],
        m_u=m_u,
    )


def _check_level(level: Any) -> str:
    if not isinstance(level, str) or level not in LEVELS:
        raise ValueError(
            f"level must be one of 'nominal', 'ordinal', 'interval', 'ratio'; got {level!r}"
        )
    return level


# --------------------------------------------------------------------------
# Percent agreement
# --------------------------------------------------------------------------


def percent_agreement(data: Any) -> float:
    """Mean pairwise percent agreement over units coded by at least two coders.

    For every unit ``u`` with ``m_u >= 2`` non-missing values, the unit's
    agreement is the proportion of its ``m_u (m_u - 1) / 2`` pairs of values
    (from different coders) that are identical; the result is the unweighted
    mean of these proportions over all such units.  With two coders and no
    missing data this is the plain proportion of units on which they agree
    (Cohen's ``p_o``).  Units with fewer than two values are ignored.  Values
    are compared for equality as nominal categories (``1`` equals ``1.0``).

    Parameters
    ----------
    data : array-like, coders x units
        ``NaN``/``None`` mark missing values; values may be numbers or labels.

    Returns
    -------
    float
        In [0, 1]; ``NaN`` if no unit has at least two values.

    Raises
    ------
    ValueError
        If ``data`` is not 2-D.

    References
    ----------
    Krippendorff (2004), *Content Analysis* 2nd ed., ch. 11 (percent
    agreement and its limitations); Fleiss, Levin & Paik (2003), ch. 18.
    """
    p = _pairable(data)
    if p.n_units == 0:
        return float("nan")
    agree = np.bincount(
        p.pair_unit, weights=(p.pair_c == p.pair_k).astype(float), minlength=p.n_units
    )
    n_pairs = p.m_u * (p.m_u - 1) / 2.0
    return float(np.mean(agree / n_pairs))


# --------------------------------------------------------------------------
# Krippendorff's alpha
# --------------------------------------------------------------------------


def _alpha_core(p: _Pairable, level: str, unit_weight: np.ndarray | None = None) -> float:
    """Alpha from pairable data; ``unit_weight`` = bootstrap multiplicity per unit."""
    if p.n_units == 0:
        return float("nan")
    V = p.distinct.shape[0]
    if unit_weight is None:
        n_c = np.bincount(p.val_code, minlength=V).astype(float)
        pw = p.pair_w
    else:
        n_c = np.bincount(p.val_code, weights=unit_weight[p.val_unit], minlength=V)
        pw = p.pair_w * unit_weight[p.pair_unit]
    n = n_c.sum()
    if n < 2:
        return float("nan")

    # Sum_c Sum_k o_ck * delta^2_ck, where o is the coincidence matrix
    # o_ck = Sum_u (number of c-k pairs in u) / (m_u - 1).  Each unordered pair
    # of values appears twice in o (as c-k and k-c), hence the factor 2.  The
    # matrix is contracted with delta^2 pair by pair instead of being stored,
    # so memory and time are O(pairs + V) (O(V^2) only for the ratio metric).
    if level == "nominal":
        d2_pairs = (p.pair_c != p.pair_k).astype(float)
        expected = n * n - float(np.dot(n_c, n_c))  # Sum_c Sum_k n_c n_k [c != k]
    elif level in ("interval", "ordinal"):
        if level == "interval":
            x = p.distinct.astype(float)
        else:
            # Krippendorff's ordinal metric:
            #   delta_ck = Sum_{g=c}^{k} n_g - (n_c + n_k)/2 = M_k - M_c,
            # with mid-cumulative frequencies M_g = Sum_{h<=g} n_h - n_g/2
            # over the ranked (sorted) distinct values.  So the ordinal metric
            # is the interval metric applied to M.
            x = np.cumsum(n_c) - n_c / 2.0
        d2_pairs = (x[p.pair_c] - x[p.pair_k]) ** 2
        xbar = float(np.dot(n_c, x)) / n
        # Sum_c Sum_k n_c n_k (x_c - x_k)^2 = 2 n Sum_c n_c (x_c - xbar)^2
        expected = 2.0 * n * float(np.dot(n_c, (x - xbar) ** 2))
    else:  # ratio: delta^2_ck = ((c - k) / (c + k))^2
        x = p.distinct.astype(float)
        d2_pairs = _ratio_d2(x[p.pair_c], x[p.pair_k])
        expected = 0.0
        for start in range(0, V, _RATIO_BLOCK):
            xs = x[start : start + _RATIO_BLOCK]
            block = _ratio_d2(xs[:, None], x[None, :])
            expected += float(n_c[start : start + _RATIO_BLOCK] @ block @ n_c)

    if not expected > 0.0:
        return float("nan")
    observed = 2.0 * float(np.dot(pw, d2_pairs))
    # alpha = 1 - D_o / D_e,  D_o = (1/n) Sum o_ck d2_ck,
    # D_e = 1/(n(n-1)) Sum n_c n_k d2_ck   (Krippendorff 2011)
    return float(1.0 - (n - 1.0) * observed / expected)


def _ratio_d2(c: np.ndarray, k: np.ndarray) -> np.ndarray:
    c, k = np.broadcast_arrays(c, k)
    s = c + k
    d = np.divide(c - k, s, out=np.zeros(s.shape), where=s != 0)  # 0/0 (c = k = 0) -> 0
    return np.square(d, out=d)


def _prepare_alpha(data: Any, level: Any) -> tuple[_Pairable, str]:
    level = _check_level(level)
    p = _pairable(data)
    if level != "nominal":
        if not p.numeric:
            raise ValueError(
                f"level={level!r} requires numeric values; non-numeric labels are "
                "only allowed with level='nominal'"
            )
        if level == "ratio" and p.distinct.size and float(np.min(p.distinct)) < 0:
            raise ValueError("level='ratio' requires non-negative values")
    return p, level


def krippendorff_alpha(data: Any, level: str = "nominal") -> float:
    """Krippendorff's alpha reliability coefficient.

    Implements the coincidence-matrix formulation of Krippendorff (2011),
    *Computing Krippendorff's Alpha-Reliability* (general form for any number
    of coders, missing data and any metric):

    * units with fewer than two non-missing values are dropped (unpairable);
    * coincidences ``o_ck = Sum_u (number of c-k pairs of values from different
      coders in unit u) / (m_u - 1)``, with marginals ``n_c`` and ``n = Sum n_c``
      (the number of pairable values);
    * ``alpha = 1 - D_o / D_e = 1 - (n - 1) * Sum_ck o_ck d2_ck / Sum_ck n_c n_k d2_ck``.

    Difference functions ``d2_ck`` (Krippendorff 2011):

    * ``"nominal"``: 0 if ``c == k`` else 1;
    * ``"ordinal"``: ``(Sum_{g=c}^{k} n_g - (n_c + n_k) / 2)^2`` over the ranks of
      the sorted distinct values, ``n_g`` being the coincidence-matrix
      marginals (so only the order of the values matters);
    * ``"interval"``: ``(c - k)^2``;
    * ``"ratio"``: ``((c - k) / (c + k))^2`` (taken as 0 when ``c = k = 0``);
      values must be non-negative.

    Implementation: the coincidence matrix is never materialised; it is
    contracted with ``d2`` pair by pair (numpy, vectorised over units, with a
    Python loop only over coder pairs), and ``n_c`` comes from ``np.bincount``.
    Time and memory are O(number of pairable value pairs + V) for nominal,
    ordinal and interval data (V = number of distinct values) and O(V^2) time
    for ratio data.

    Parameters
    ----------
    data : array-like, coders x units
        ``NaN``/``None`` mark missing values.  Numbers for every level; any
        hashable labels (e.g. strings) for ``"nominal"``.
    level : {"nominal", "ordinal", "interval", "ratio"}

    Returns
    -------
    float
        Alpha (1 = perfect reliability, 0 = chance level; can be negative).
        ``NaN`` -- not an exception -- when alpha is undefined: when there is
        no variation at all among the pairable values (expected disagreement
        ``D_e = 0``, e.g. every coder used the same single value), or when no
        unit has at least two values.

    Raises
    ------
    ValueError
        If ``level`` is not one of the four levels, if ``data`` is not 2-D,
        if non-numeric labels are used with a non-nominal level, or if ratio
        data contain negative values.
    """
    p, level = _prepare_alpha(data, level)
    return _alpha_core(p, level)


def krippendorff_alpha_ci(
    data: Any,
    level: str = "nominal",
    n_boot: int = 1000,
    conf: float = 0.95,
    seed: Any = 0,
) -> tuple[float, float, float]:
    """Krippendorff's alpha with a bootstrap percentile confidence interval.

    Nonparametric bootstrap over units: the pairable units (those with at
    least two values; the others do not enter alpha) are resampled with
    replacement ``n_boot`` times, alpha is recomputed on each resample with
    :func:`krippendorff_alpha`'s formula (for ordinal data the ranks' marginal
    frequencies are recomputed on each resample), and the interval is the
    ``(1 - conf)/2`` and ``(1 + conf)/2`` percentiles of the replicates
    (Efron & Tibshirani 1993, ch. 13; quantiles by ``numpy.quantile``'s
    default linear interpolation).  Replicates whose alpha is undefined
    (``NaN``: no variation in the resample) are discarded.

    Resample ``b`` draws its ``N`` unit indices as the ``b``-th row of
    ``numpy.random.default_rng(seed).integers(0, N, size=(n_boot, N))``.
    The coincidence matrix is a sum of per-unit matrices, so a resample's
    coincidences and marginals are the unit multiplicities times a fixed
    (sparse) units x cells matrix: one sparse product per block of resamples,
    no per-resample rebuild, no BLAS in a loop.  Time O(n_boot x N) and
    memory O(N) beyond the data (blocks of about 2 million multiplicities).

    Note: this is the plain unit-level bootstrap, not the bootstrap of
    Hayes & Krippendorff (2007, *Communication Methods and Measures* 1, 77-89),
    which resamples pairs of values.

    Parameters
    ----------
    data, level
        As for :func:`krippendorff_alpha`.
    n_boot : int
        Number of bootstrap replicates (>= 1).
    conf : float
        Confidence level, 0 < conf < 1.
    seed
        Seed for ``numpy.random.default_rng``; the result is deterministic
        for a given seed.

    Returns
    -------
    (alpha, low, high) : tuple of float
        All ``NaN`` if alpha itself is undefined.
    """
    return krippendorff_alpha_cis([data], [level], n_boot=n_boot, conf=conf, seed=seed)[0]


def krippendorff_alpha_cis(
    datasets: list[Any],
    levels: list[str] | str = "nominal",
    n_boot: int = 1000,
    conf: float = 0.95,
    seed: Any = 0,
) -> list[tuple[float, float, float]]:
    """:func:`krippendorff_alpha_ci` for several reliability-data matrices at once.

    The result for each matrix is exactly what ``krippendorff_alpha_ci(data, level, n_boot, conf, seed)``
    gives on its own; the resamples are drawn once for all the matrices with the same number of pairable
    units (each would draw the same ones from the same seed), so a table of many variables coded on the
    same units costs one set of draws. ``levels``: one level for all, or one per matrix. A ``seed`` that is
    a ``Generator`` or ``BitGenerator`` (whose state moves on) or ``None`` is used matrix by matrix, in order.
    """
    if isinstance(n_boot, bool) or not isinstance(n_boot, numbers.Integral) or n_boot < 1:
        raise ValueError(f"n_boot must be a positive integer; got {n_boot!r}")
    if not (isinstance(conf, numbers.Real) and 0.0 < float(conf) < 1.0):
        raise ValueError(f"conf must be strictly between 0 and 1; got {conf!r}")
    datasets = list(datasets)
    if isinstance(levels, str):
        levels = [levels] * len(datasets)
    if len(levels) != len(datasets):
        raise ValueError(f"levels must be one level or one per dataset; got {len(levels)} for {len(datasets)}")
    nan = float("nan")
    results: list[tuple[float, float, float]] = [(nan, nan, nan)] * len(datasets)
    plans: dict[int, list[tuple[int, _BootPlan]]] = {}
    for i, (data, level) in enumerate(zip(datasets, levels)):
        p, level = _prepare_alpha(data, level)
        alpha = _alpha_core(p, level)
        if math.isnan(alpha):
            continue
        results[i] = (alpha, nan, nan)
        plans.setdefault(p.n_units, []).append((i, _BootPlan(p, level, alpha)))
    shared = seed is not None and not isinstance(seed, (np.random.Generator, np.random.BitGenerator))
    if shared:
        groups = list(plans.values())
    else:  # one matrix at a time, in input order, each drawing on from where the last stopped
        groups = [[x] for x in sorted((x for g in plans.values() for x in g), key=lambda x: x[0])]
        rng = np.random.default_rng(seed)
    tail = (1.0 - float(conf)) / 2.0
    for group in groups:
        n_units = group[0][1].n_units
        boots = [np.empty(int(n_boot)) for _ in group]
        for start, mult_t in _multiplicities(n_units, int(n_boot), np.random.default_rng(seed) if shared else rng):
            for (_, plan), out in zip(group, boots):
                out[start : start + mult_t.shape[1]] = plan.alphas(mult_t)
        for (i, plan), b in zip(group, boots):
            b = b[~np.isnan(b)]
            if b.size == 0:  # pragma: no cover - needs every resample degenerate
                continue
            low, high = np.quantile(b, [tail, 1.0 - tail])
            results[i] = (plan.alpha, float(low), float(high))
    return results


# Multiplicities held at once by the bootstrap: blocks of resamples of about this many units x resamples.
_BOOT_BLOCK = 1 << 21


def _multiplicities(n_units: int, n_boot: int, rng: np.random.Generator):
    """Blocks ``(first resample, units x resamples multiplicities)``: resample ``b`` counts how often each
    unit is drawn in the ``b``-th row of ``rng.integers(0, n_units, size=(n_boot, n_units))`` (drawn block
    by block: the same numbers as one call)."""
    per = max(1, min(n_boot, _BOOT_BLOCK // max(n_units, 1)))
    for start in range(0, n_boot, per):
        rows = min(per, n_boot - start)
        idx = rng.integers(0, n_units, size=(rows, n_units))
        idx += (np.arange(rows, dtype=idx.dtype) * n_units)[:, None]
        mult = np.bincount(idx.ravel(), minlength=rows * n_units).reshape(rows, n_units)
        yield start, np.ascontiguousarray(mult.T, dtype=float)


class _BootPlan:
    """Alpha of bootstrap resamples of one matrix, from the units' multiplicities.

    Every quantity alpha needs is a sum over units of a per-unit contribution: the marginals
    ``n_c = Sum_u w_u (values c in unit u)`` and the observed disagreement ``Sum_u w_u Sum_{pairs in u}
    delta^2 / (m_u - 1)``. They are the rows of ``cells @ w``, ``cells`` being a sparse (cells x units)
    matrix: V rows of value counts, then one row of per-unit observed disagreement (nominal, interval,
    ratio: delta^2 does not depend on the resample), or, for ordinal data (whose delta^2 depends on the
    resample's marginals), one row per pair of distinct values found together in a unit.
    """

    def __init__(self, p: _Pairable, level: str, alpha: float):
        from scipy import sparse

        self.level, self.alpha, self.n_units = level, alpha, p.n_units
        V = p.distinct.shape[0]
        self.V = V
        counts = sparse.coo_matrix((np.ones(p.val_code.size), (p.val_code, p.val_unit)), shape=(V, p.n_units))
        if level == "ordinal":
            lo, hi = np.minimum(p.pair_c, p.pair_k), np.maximum(p.pair_c, p.pair_k)
            differ = lo != hi  # pairs of equal values have delta 0 under any marginals
            kinds, kind = np.unique(lo[differ] * V + hi[differ], return_inverse=True)
            self.lo, self.hi = kinds // V, kinds % V
            rows = sparse.coo_matrix((p.pair_w[differ], (kind.ravel(), p.pair_unit[differ])),
                                     shape=(kinds.size, p.n_units))
        else:
            if level == "nominal":
                d2 = (p.pair_c != p.pair_k).astype(float)
            elif level == "interval":
                x = p.distinct.astype(float)
                d2 = (x[p.pair_c] - x[p.pair_k]) ** 2
            else:
                x = p.distinct.astype(float)
                d2 = _ratio_d2(x[p.pair_c], x[p.pair_k])
            observed = np.bincount(p.pair_unit, weights=p.pair_w * d2, minlength=p.n_units)
            rows = sparse.coo_matrix(observed[None, :])
        self.cells = sparse.vstack([counts, rows]).tocsr()
        self.x = p.distinct.astype(float) if p.numeric else None

    def alphas(self, mult_t: np.ndarray) -> np.ndarray:
        """Alpha of each resample, from the units x resamples multiplicities."""
        sums = np.asarray(self.cells @ mult_t)  # cells x resamples
        V = self.V
        n_c = sums[:V].T  # resamples x V
        n = n_c.sum(axis=1)
        if self.level == "nominal":
            expected = n * n - (n_c * n_c).sum(axis=1)
            observed = 2.0 * sums[V]
        elif self.level == "ratio":
            x = self.x
            expected = np.zeros(n.shape)
            for start in range(0, V, _RATIO_BLOCK):
                block = _ratio_d2(x[start : start + _RATIO_BLOCK, None], x[None, :])  # block x V
                expected += (n_c[:, start : start + _RATIO_BLOCK] * (n_c @ block.T)).sum(axis=1)
            observed = 2.0 * sums[V]
        else:
            if self.level == "interval":
                x = self.x[None, :]
                observed = 2.0 * sums[V]
            else:  # ordinal: mid-cumulative frequencies of the resample's marginals
                x = np.cumsum(n_c, axis=1) - n_c / 2.0
                gap = x[:, self.hi] - x[:, self.lo]
                observed = 2.0 * (sums[V:].T * gap * gap).sum(axis=1)
            with np.errstate(invalid="ignore", divide="ignore"):
                xbar = (n_c * x).sum(axis=1) / n
            expected = 2.0 * n * (n_c * (x - xbar[:, None]) ** 2).sum(axis=1)
        ok = (n >= 2) & (expected > 0.0)
        out = np.full(n.shape, np.nan)
        out[ok] = 1.0 - (n[ok] - 1.0) * observed[ok] / expected[ok]
        return out


# --------------------------------------------------------------------------
# Cohen's kappa
# --------------------------------------------------------------------------


def _kappa_table(a: Any, b: Any) -> np.ndarray:
    """V x V table of joint counts (rows: coder a, columns: coder b)."""
    arr_a, miss_a, num_a = _as_matrix(a, 1, "a")
    arr_b, miss_b, num_b = _as_matrix(b, 1, "b")
    if arr_a.shape[0] != arr_b.shape[0]:
        raise ValueError(
            f"a and b must have the same length; got {arr_a.shape[0]} and {arr_b.shape[0]}"
        )
    keep = ~(miss_a | miss_b)
    va, vb = arr_a[keep], arr_b[keep]
    numeric = num_a and num_b
    if numeric:
        both = np.concatenate([va.astype(float), vb.astype(float)])
    else:
        both = np.concatenate([va.astype(object), vb.astype(object)])
    distinct, codes = _encode(both, numeric)
    V = max(int(distinct.shape[0]), 1)
    m = int(va.shape[0])
    ca, cb = codes[:m], codes[m:]
    return np.bincount(ca * V + cb, minlength=V * V).reshape(V, V).astype(float)


def _kappa_from_table(table: np.ndarray) -> tuple[float, float, np.ndarray]:
    n = table.sum()
    if n == 0:
        return float("nan"), float("nan"), table
    p = table / n
    pe = float(p.sum(axis=1) @ p.sum(axis=0))
    po = float(np.trace(p))
    if pe >= 1.0:
        return float("nan"), pe, p
    return (po - pe) / (1.0 - pe), pe, p


def cohen_kappa(a: Any, b: Any) -> float:
    """Cohen's (1960) kappa for two coders' nominal codes.

    ``kappa = (p_o - p_e) / (1 - p_e)`` with ``p_o`` the observed proportion of
    agreement and ``p_e = Sum_c p_c. p_.c`` the agreement expected from the two
    coders' own marginal distributions (Cohen 1960; Fleiss, Levin & Paik 2003,
    ch. 18).

    Parameters
    ----------
    a, b : 1-D sequences of equal length
        Codes of coder A and coder B for the same units.  Pairs in which
        either code is missing (``NaN``/``None``) are dropped.

    Returns
    -------
    float
        ``NaN`` if no complete pair remains or if ``p_e = 1`` (both coders
        used one and the same category throughout, kappa undefined).

    Raises
    ------
    ValueError
        If ``a`` or ``b`` is not 1-D or their lengths differ.
    """
    kappa, _, _ = _kappa_from_table(_kappa_table(a, b))
    return float(kappa)


def cohen_kappa_ci(a: Any, b: Any, conf: float = 0.95) -> tuple[float, float, float]:
    """Cohen's kappa with a large-sample (Wald) confidence interval.

    The standard error is the *non-null* large-sample standard error of
    Fleiss, Cohen & Everitt (1969) (also given in Fleiss, Levin & Paik 2003, ch. 18),
    i.e. the SE valid when kappa is not assumed to be 0 -- the one appropriate
    for confidence intervals (SAS PROC FREQ calls it "ASE")::

        SE = sqrt(A + B - C) / ((1 - p_e) sqrt(n))
        A  = Sum_i p_ii [1 - (p_i. + p_.i)(1 - kappa)]^2
        B  = (1 - kappa)^2 Sum_{i != j} p_ij (p_.i + p_j.)^2
        C  = [kappa - p_e (1 - kappa)]^2

    The interval is ``kappa -/+ z SE`` with ``z = Phi^{-1}((1 + conf) / 2)``;
    it is not truncated to [-1, 1].  (The *null* SE, used to test kappa = 0,
    is not what is used here.)

    Parameters
    ----------
    a, b : 1-D sequences of equal length (see :func:`cohen_kappa`)
    conf : float
        Confidence level, 0 < conf < 1.

    Returns
    -------
    (kappa, low, high) : tuple of float
        All ``NaN`` when kappa is undefined.
    """
    if not (isinstance(conf, numbers.Real) and 0.0 < float(conf) < 1.0):
        raise ValueError(f"conf must be strictly between 0 and 1; got {conf!r}")
    table = _kappa_table(a, b)
    kappa, pe, p = _kappa_from_table(table)
    nan = float("nan")
    if math.isnan(kappa):
        return nan, nan, nan
    n = table.sum()
    se = _fce_se(p, kappa, pe, n)
    z = float(stats.norm.ppf(0.5 + float(conf) / 2.0))
    return float(kappa), float(kappa - z * se), float(kappa + z * se)


def _fce_se(p: np.ndarray, kappa: float, pe: float, n: float) -> float:
    """Fleiss, Cohen & Everitt (1969) non-null large-sample SE of kappa."""
    row = p.sum(axis=1)  # p_i.
    col = p.sum(axis=0)  # p_.i
    diag = np.diag(p)
    a_term = float(np.sum(diag * (1.0 - (row + col) * (1.0 - kappa)) ** 2))
    # (p_.i + p_j.)^2 for cell (i, j)
    w = (col[:, None] + row[None, :]) ** 2
    off = p * w
    b_term = (1.0 - kappa) ** 2 * float(off.sum() - np.trace(off))
    c_term = (kappa - pe * (1.0 - kappa)) ** 2
    var = max(a_term + b_term - c_term, 0.0)
    return math.sqrt(var) / ((1.0 - pe) * math.sqrt(n))
