"""Mixed-integer linear programmes, solved by HiGHS: ``scipy.optimize.milp``, called without its per-call overhead.

The disclosure protection (:mod:`analysis.tables.disclosure.engine`) and its exact check, and the audit of the
shared files (:mod:`analysis.tables.audit.model`), solve thousands of small programmes per report (a few
milliseconds each). SciPy's ``milp`` spends about 2 ms of Python on each beyond the solve itself: it validates its
arguments, makes one Python object per column for the integrality, checks each option through an options manager,
and after the solve builds the bounds' multipliers column by column and reads the basis, which ``milp`` then throws
away. :func:`milp` here takes the same arguments and gives the same answer from the same solver (SciPy's own HiGHS
binding, with the options SciPy would pass), doing only what the answer needs; when that binding is not there (a
SciPy that moved it), it is ``scipy.optimize.milp`` itself. ``tests/test_milp.py`` checks that both give the same
solutions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import Bounds, LinearConstraint
from scipy.sparse import csc_array

try:  # SciPy's HiGHS binding, the one scipy.optimize.milp calls (SciPy 1.16, as requirements.txt pins it)
    from scipy.optimize._highspy import _core as _highs
except ImportError:  # pragma: no cover - another SciPy: its milp
    _highs = None


@dataclass(frozen=True)
class MilpResult:
    """What ``scipy.optimize.milp`` returns and the callers use: the solution ``x`` (None when there is none), the
    objective ``fun``, SciPy's ``status`` (0 optimal, 1 a time or iteration limit, 2 infeasible, 3 unbounded, 4
    other) and a message."""

    x: np.ndarray | None
    fun: float | None
    status: int
    message: str

    @property
    def success(self) -> bool:
        return self.status == 0


def milp(c, *, integrality=None, bounds: Bounds, constraints: LinearConstraint, options: dict | None = None,
         ) -> MilpResult:
    """``scipy.optimize.milp(c, integrality=, bounds=, constraints=, options=)`` for one LinearConstraint and a
    Bounds, with the options ``time_limit``, ``mip_rel_gap``, ``presolve`` and ``disp``: the same programme given to
    the same solver with the same options, so the same solution."""
    if _highs is None:  # (a SciPy without the binding)
        from scipy.optimize import milp as scipy_milp

        res = scipy_milp(c, integrality=integrality, bounds=bounds, constraints=constraints, options=options)
        return MilpResult(res.x, res.fun, res.status, res.message)
    c = np.atleast_1d(np.asarray(c, dtype=np.float64))
    shape = c.shape
    integ = np.broadcast_to(0 if integrality is None else integrality, shape).astype(np.int32)
    lb = np.broadcast_to(bounds.lb, shape).astype(np.float64)
    ub = np.broadcast_to(bounds.ub, shape).astype(np.float64)
    A = csc_array(constraints.A)
    row_lb = np.atleast_1d(constraints.lb).astype(np.float64)
    row_ub = np.atleast_1d(constraints.ub).astype(np.float64)
    if A.shape != (row_lb.size, c.size):
        raise ValueError("The shape of `A` must be (len(b_l), len(c)).")
    h = _highs._Highs()
    _set_options(h, options or {})
    status = h.passModel(c.size, row_lb.size, A.nnz, int(_highs.MatrixFormat.kColwise), int(_highs.ObjSense.kMinimize),
                         0.0, c, lb, ub, row_lb, row_ub, A.indptr.astype(np.int32), A.indices.astype(np.int32),
                         A.data.astype(np.float64), integ)
    if status == _highs.HighsStatus.kError or h.run() == _highs.HighsStatus.kError:
        return _result(h, None, None)
    model = h.getModelStatus()
    info = h.getInfo()
    limits = (_highs.HighsModelStatus.kTimeLimit, _highs.HighsModelStatus.kIterationLimit,
              _highs.HighsModelStatus.kSolutionLimit)
    if integ.any():  # a solution at a limit counts when one was found (as SciPy)
        solved = model == _highs.HighsModelStatus.kOptimal or (
            model in limits and info.objective_function_value != _highs.kHighsInf)
    else:
        solved = model == _highs.HighsModelStatus.kOptimal
    if not solved:
        return _result(h, None, None)
    return _result(h, np.array(h.getSolution().col_value), info.objective_function_value)


def _set_options(h, options: dict) -> None:
    """The options as SciPy's milp sets them (it logs nothing unless ``disp``)."""
    unknown = set(options) - {"time_limit", "mip_rel_gap", "presolve", "disp"}
    if unknown:
        raise ValueError(f"unsupported option(s): {', '.join(sorted(unknown))}")
    h.setOptionValue("log_to_console", bool(options.get("disp", False)))
    if not options.get("disp", False):
        h.setOptionValue("output_flag", False)
    for key in ("time_limit", "mip_rel_gap"):
        if options.get(key) is not None:
            h.setOptionValue(key, float(options[key]))
    if options.get("presolve") is not None:
        h.setOptionValue("presolve", "on" if options["presolve"] else "off")


# SciPy's status for each of HiGHS's model statuses (scipy.optimize._linprog_highs._highs_to_scipy_status_message)
_STATUS = {"kOptimal": 0, "kTimeLimit": 1, "kIterationLimit": 1, "kInfeasible": 2, "kModelError": 2, "kUnbounded": 3}


def _result(h, x, fun) -> MilpResult:
    model = h.getModelStatus()
    return MilpResult(x, fun, _STATUS.get(model.name, 4), h.modelStatusToString(model))


def whole_number(x: np.ndarray, integrality=None) -> np.ndarray | None:
    """``x`` with its whole-number columns (``integrality`` 1; every column when None) rounded, when each of them
    is a whole number (within 1e-9); else None. A relaxation's optimum that passes is the whole-number optimum (a
    whole-number solution that no real one beats)."""
    whole = np.ones(len(x), dtype=bool) if integrality is None else np.asarray(integrality) == 1
    if not np.all(np.abs(x[whole] - np.round(x[whole])) <= 1e-9):
        return None
    return np.where(whole, np.round(x), x)


class WarmLP:
    """One linear programme's constraints and bounds, minimised for objective after objective: HiGHS keeps the
    last optimal basis and starts the next solve from it (only the costs change, so that basis is still feasible
    and a few simplex steps reach the new optimum), where :func:`milp` would build and solve the programme afresh
    each time. No presolve (it would discard the basis). Each answer is HiGHS's optimum of the linear
    relaxation, as ``milp(c, integrality=0, ...)`` would give it (the optimal value is the same; the solution may
    be another optimal one). Without SciPy's HiGHS binding, each solve is :func:`milp`."""

    def __init__(self, bounds: Bounds, constraints: LinearConstraint):
        self.bounds, self.constraints = bounds, constraints
        self.h = None
        if _highs is None:  # pragma: no cover - another SciPy
            return
        A = csc_array(constraints.A)
        self.n = A.shape[1]
        lb = np.broadcast_to(bounds.lb, (self.n,)).astype(np.float64)
        ub = np.broadcast_to(bounds.ub, (self.n,)).astype(np.float64)
        row_lb = np.atleast_1d(constraints.lb).astype(np.float64)
        row_ub = np.atleast_1d(constraints.ub).astype(np.float64)
        h = _highs._Highs()
        _set_options(h, {"presolve": False})
        status = h.passModel(self.n, row_lb.size, A.nnz, int(_highs.MatrixFormat.kColwise),
                             int(_highs.ObjSense.kMinimize), 0.0, np.zeros(self.n), lb, ub, row_lb, row_ub,
                             A.indptr.astype(np.int32), A.indices.astype(np.int32), A.data.astype(np.float64),
                             np.zeros(self.n, dtype=np.int32))
        if status != _highs.HighsStatus.kError:
            self.h, self._cols = h, np.arange(self.n, dtype=np.int32)

    def solve(self, c) -> MilpResult:
        """min c @ x over the programme's real solutions."""
        c = np.atleast_1d(np.asarray(c, dtype=np.float64))
        if self.h is None:
            return milp(c, bounds=self.bounds, constraints=self.constraints, options={"presolve": False})
        h = self.h
        h.changeColsCost(self.n, self._cols, c)
        if h.run() == _highs.HighsStatus.kError:
            return _result(h, None, None)
        if h.getModelStatus() != _highs.HighsModelStatus.kOptimal:
            return _result(h, None, None)
        return _result(h, np.array(h.getSolution().col_value), h.getInfo().objective_function_value)
