"""analysis.stats.milp: the same answers as scipy.optimize.milp (the same solver, options and programme), by value."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import Bounds, LinearConstraint
from scipy.optimize import milp as scipy_milp
from scipy.sparse import random as sparse_random

from analysis.stats import milp as milp_module
from analysis.stats.milp import milp


def test_a_small_programme_by_hand():
    # max x + 2y s.t. x + y <= 3.5, x - y >= -1.5, x, y >= 0: y <= 2.5 on the reals, whole numbers give x=1, y=2
    c = np.array([-1.0, -2.0])
    cons = LinearConstraint(np.array([[1.0, 1.0], [1.0, -1.0]]), [-np.inf, -1.5], [3.5, np.inf])
    whole = milp(c, integrality=np.ones(2), bounds=Bounds(0, np.inf), constraints=cons)
    assert whole.status == 0 and whole.success and whole.fun == pytest.approx(-5.0)
    assert whole.x.tolist() == pytest.approx([1.0, 2.0])
    real = milp(c, integrality=np.zeros(2), bounds=Bounds(0, np.inf), constraints=cons)
    assert real.fun == pytest.approx(-(1.0 + 2 * 2.5)) and real.x.tolist() == pytest.approx([1.0, 2.5])


def test_infeasible_and_unbounded_have_scipys_status():
    cons = LinearConstraint(np.array([[1.0, 1.0]]), [5.0], [5.0])
    res = milp(np.ones(2), integrality=np.ones(2), bounds=Bounds(0, 2), constraints=cons)
    assert (res.status, res.x, res.fun) == (2, None, None)
    ref = scipy_milp(np.ones(2), integrality=np.ones(2), bounds=Bounds(0, 2), constraints=cons)
    assert ref.status == 2
    free = milp(-np.ones(2), bounds=Bounds(0, np.inf), constraints=LinearConstraint(np.array([[1.0, -1.0]]), 0, 0))
    assert free.status == scipy_milp(-np.ones(2), bounds=Bounds(0, np.inf),
                                     constraints=LinearConstraint(np.array([[1.0, -1.0]]), 0, 0)).status
    assert free.x is None


def _programme(seed: int):
    """A random table-like programme: non-negative integer atoms, sums of atoms fixed or bounded, binaries."""
    rng = np.random.default_rng(seed)
    n, m = 24, 16
    A = sparse_random(m, n, density=0.2, random_state=rng, data_rvs=lambda k: np.ones(k)).tocsr()
    x0 = rng.integers(0, 6, n).astype(float)
    v = A @ x0
    lo = np.where(rng.random(m) < 0.5, v, v - 3)
    hi = np.where(rng.random(m) < 0.5, v, v + 3)
    c = rng.normal(size=n)
    integ = (rng.random(n) < 0.7).astype(int)
    return c, LinearConstraint(A, lo, hi), Bounds(np.zeros(n), np.full(n, 8.0)), integ


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("options", [{}, {"time_limit": 30.0, "mip_rel_gap": 0.5}, {"presolve": False},
                                     {"disp": False, "presolve": True}])
def test_the_same_solution_as_scipy(seed, options):
    c, cons, bounds, integ = _programme(seed)
    ours = milp(c, integrality=integ, bounds=bounds, constraints=cons, options=dict(options))
    ref = scipy_milp(c, integrality=integ, bounds=bounds, constraints=cons, options=dict(options))
    assert ours.status == ref.status
    assert ours.fun == ref.fun
    assert np.array_equal(ours.x, ref.x)


def test_an_unknown_option_is_refused():
    c, cons, bounds, integ = _programme(0)
    with pytest.raises(ValueError, match="unsupported option"):
        milp(c, integrality=integ, bounds=bounds, constraints=cons, options={"node_limit": 5})


def test_without_scipys_binding_it_is_scipys_milp(monkeypatch):
    c, cons, bounds, integ = _programme(3)
    fast = milp(c, integrality=integ, bounds=bounds, constraints=cons)
    monkeypatch.setattr(milp_module, "_highs", None)
    slow = milp(c, integrality=integ, bounds=bounds, constraints=cons)
    assert (slow.status, slow.fun) == (fast.status, fast.fun) and np.array_equal(slow.x, fast.x)


@pytest.mark.parametrize("seed", range(6))
def test_a_warm_programme_gives_the_relaxations_optimum_objective_after_objective(seed):
    """WarmLP: the constraints passed once, then one objective after another: each optimum is the linear
    relaxation's (milp with no whole-number column), infeasible is SciPy's status 2, and the next solve starts
    from the last basis (the same objective again takes no simplex step; a fresh programme takes some)."""
    from analysis.stats.milp import WarmLP

    c0, cons, bounds, _ = _programme(seed)
    lp = WarmLP(bounds, cons)
    rng = np.random.default_rng(seed)
    for c in [c0] + [rng.normal(size=c0.size) for _ in range(6)] + [-c0]:
        ours = lp.solve(c)
        ref = scipy_milp(c, integrality=np.zeros(c.size), bounds=bounds, constraints=cons)
        assert ours.status == ref.status == 0
        assert ours.fun == pytest.approx(ref.fun, abs=1e-7)
        assert float(c @ ours.x) == pytest.approx(ours.fun, abs=1e-7)
        assert np.all(cons.A @ ours.x >= cons.lb - 1e-7) and np.all(cons.A @ ours.x <= cons.ub + 1e-7)
    assert lp.h.getInfo().simplex_iteration_count > 0
    lp.solve(-c0)
    assert lp.h.getInfo().simplex_iteration_count == 0  # warm: the last basis is already optimal
    fresh = WarmLP(bounds, cons)
    fresh.solve(-c0)
    assert fresh.h.getInfo().simplex_iteration_count > 0


def test_a_warm_programme_with_no_solution_says_infeasible():
    from analysis.stats.milp import WarmLP

    lp = WarmLP(Bounds(0, 2), LinearConstraint(np.array([[1.0, 1.0]]), [5.0], [5.0]))
    res = lp.solve(np.ones(2))
    assert (res.status, res.x, res.fun) == (2, None, None)


def test_whole_number_rounds_only_a_solution_that_is_one():
    from analysis.stats.milp import whole_number

    assert whole_number(np.array([2.0, 3.0000000000004, 0.5]), [1, 1, 0]).tolist() == [2.0, 3.0, 0.5]
    assert whole_number(np.array([2.0, 1.5]), [1, 1]) is None
    assert whole_number(np.array([2.0, 1.5]), [1, 0]).tolist() == [2.0, 1.5]
    assert whole_number(np.array([4.0, 1.5])) is None and whole_number(np.array([4.0, 1.0])).tolist() == [4.0, 1.0]
