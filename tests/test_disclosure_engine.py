"""Tests for the programmes of analysis.tables.disclosure.engine and the shortcuts that make protection fast (issue 11):
the constraint rows built as triplets, a merge trial given up once it cannot win, a family with nothing small never
reaching the solver, and the grids cached per codebook object."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse

from analysis.tables.disclosure import engine, families
from analysis.tables.disclosure import protect as protect_mod


def small_problem(**kw) -> engine.Problem:
    """Two periods of 3 atoms each, x = (2, 6, 7 | 8, 9, 10) (totals 15 and 27); cells 0-5: each atom; cell 6: atoms
    0+1 (8); cell 7: atoms 3+4 (17); all printed, hiding cell i costs i + 1. Cell 0 (2) is the only small count."""
    x0 = np.array([2, 6, 7, 8, 9, 10])
    rows = [[1 if j == i else 0 for j in range(6)] for i in range(6)]
    rows += [[1, 1, 0, 0, 0, 0], [0, 0, 0, 1, 1, 0]]
    A = sparse.csr_matrix(np.array(rows, dtype=np.int8))
    value = A @ x0
    n = len(value)
    args = dict(A=A, value=value, published=np.ones(n, dtype=bool), fixed=np.zeros(n, dtype=bool),
                soft=np.zeros(n, dtype=bool), cost=np.arange(1, n + 1, dtype=float),
                blocks=[(np.array([0, 1, 2]), 15), (np.array([3, 4, 5]), 27)],
                atom_ub=np.array([15, 15, 15, 27, 27, 27.0]), upper={}, threshold=5, x0=x0.astype(float))
    args.update(kw)
    return engine.Problem(**args)


def test_constraint_rows_are_the_programme_written_out_by_hand():
    """Cell 0 hidden, cells 1 and 6 candidates, a known upper bound on cell 7: the rows (atoms, then one y per
    candidate) and their bounds, by hand."""
    p = small_problem(upper={7: 30})
    hidden = np.zeros(p.n_cells, dtype=bool)
    hidden[0] = True
    cands = np.zeros(p.n_cells, dtype=bool)
    cands[[1, 6]] = True
    rows, cidx = engine._rows(p, hidden, cands, soft_fixed=True)
    assert list(cidx) == [1, 6]
    M = rows.matrix(p.n_atoms + 2).toarray()
    lb, ub = rows.bounds()
    # a candidate's big M: max(value, its upper bound (its block's total) - value): cell 1: max(6, 9); cell 6: max(8, 7)
    inf = np.inf
    expected = [
        ([1, 1, 1, 0, 0, 0, 0, 0], 15, 15),  # block totals
        ([0, 0, 0, 1, 1, 1, 0, 0], 27, 27),
        ([0, 0, 1, 0, 0, 0, 0, 0], 7, 7),  # shown cells at their values (cells 2, 3, 4, 5, 7)
        ([0, 0, 0, 1, 0, 0, 0, 0], 8, 8),
        ([0, 0, 0, 0, 1, 0, 0, 0], 9, 9),
        ([0, 0, 0, 0, 0, 1, 0, 0], 10, 10),
        ([0, 0, 0, 1, 1, 0, 0, 0], 17, 17),
        ([1, 0, 0, 0, 0, 0, 0, 0], 1, inf),  # a hidden printed cell is at least 1
        ([0, 1, 0, 0, 0, 0, -9, 0], -inf, 6),  # candidates: value - M y <= A x <= value + M y ...
        ([1, 1, 0, 0, 0, 0, 0, -8], -inf, 8),
        ([0, 1, 0, 0, 0, 0, 9, 0], 6, inf),
        ([1, 1, 0, 0, 0, 0, 0, 8], 8, inf),
        ([0, 1, 0, 0, 0, 0, 0, 0], 1, inf),  # ... and at least 1
        ([1, 1, 0, 0, 0, 0, 0, 0], 1, inf),
        ([0, 0, 0, 1, 1, 0, 0, 0], -inf, 30),  # the known upper bound of cell 7
    ]
    assert M.tolist() == [[float(v) for v in r] for r, _, _ in expected]
    assert lb.tolist() == [float(lo) for _, lo, _ in expected]
    assert ub.tolist() == [float(hi) for _, _, hi in expected]


def test_protect_hides_the_cheapest_complement_and_a_losing_trial_gives_up():
    """Cell 0 (2) must be able to reach 5 with everything shown unchanged: moving 3 from atom 1 to atom 0 changes
    only cell 1 (cost 2; atoms 0+1 keep 8); via atom 2 would change cells 2 and 6 (cost 10). So cells 0 and 1 are
    hidden, cell 1 cannot be shown again, and a reader's range for cell 0 is 1..7 (cell 6 = 8, cell 1 >= 1)."""
    p = small_problem()
    sol = engine.protect(p, prune=True)
    assert sol.unprotected == []
    assert np.where(sol.hidden)[0].tolist() == [0, 1]
    assert engine.audit(p, sol.hidden, full=True) == {0: (1, 7)}
    first = engine.protect(p, prune=False)
    assert engine.score(p, first.hidden, first.unprotected) == (0, 1)  # cell 1 (6) is at least the threshold
    # a merge trial that cannot beat a best of (0, 0) stops before its first programme; one with room finishes as
    # it would have without the bound
    assert engine.protect(p, prune=False, give_up_at=(0, 0)) is None
    roomy = engine.protect(p, prune=False, give_up_at=(0, 2))
    assert roomy is not None and roomy.hidden.tolist() == first.hidden.tolist()


def test_pool_keeps_only_tables_a_reader_cannot_rule_out():
    """The pruning pass's pool of whole-number certificates: a table is usable only while it agrees with every shown
    cell, keeps hidden printed cells at 1 or more, and respects the block totals, the atoms' bounds and the known
    upper bounds."""
    p = small_problem(upper={7: 17})
    true = np.array([2, 6, 7, 8, 9, 10])
    moved = np.array([5, 3, 7, 8, 9, 10])  # 3 moved from atom 1 to atom 0: cells 0 and 1 change
    over = np.array([5, 3, 7, 8, 10, 9])  # ... and 1 from atom 5 to atom 4: cell 7 (18) over its bound of 17
    off_total = np.array([5, 6, 7, 8, 9, 10])  # period 1 totals 18, not 15
    pool = engine._Pool(p, [true, moved, over, off_total])
    hidden = np.zeros(p.n_cells, dtype=bool)
    assert pool.consistent(hidden).tolist() == [True, False, False, False]
    hidden[[0, 1]] = True
    assert pool.consistent(hidden).tolist() == [True, True, False, False]
    hidden[[4, 5, 6, 7]] = True
    assert pool.consistent(hidden).tolist() == [True, True, False, False]  # cell 7's bound, period 1's total
    assert pool.protecting(0, pool.consistent(hidden)) is moved  # the true table puts cell 0 at 2: no certificate
    assert pool.protecting(0, np.array([True, False, False, False])) is None


def grid_problem(seed: int, k: int = 4) -> engine.Problem:
    """A k x k table in one block: every cell, row and column total printed; hiding a count costs its value + 1."""
    rng = np.random.default_rng(seed)
    x0 = rng.choice([1, 2, 3, 6, 8, 12, 15], size=k * k)
    rows = [[1 if j == i else 0 for j in range(k * k)] for i in range(k * k)]
    rows += [[1 if j // k == r else 0 for j in range(k * k)] for r in range(k)]
    rows += [[1 if j % k == c else 0 for j in range(k * k)] for c in range(k)]
    A = sparse.csr_matrix(np.array(rows, dtype=np.int8))
    value = A @ x0
    n, total = len(value), int(x0.sum())
    return engine.Problem(A, value, np.ones(n, dtype=bool), np.zeros(n, dtype=bool), np.zeros(n, dtype=bool),
                          value + 1.0, [(np.arange(k * k), total)], np.full(k * k, float(total)), {}, 5,
                          x0.astype(float))


def test_pruning_with_the_pool_hides_the_same_cells_with_fewer_programmes(monkeypatch):
    """Whether a cell is shown again depends only on whether every target still has a certificate, not on which one:
    answering from the pool hides exactly the cells that solving every programme hides, and solves fewer (seeds 1
    and 6: 16 instead of 19, 14 instead of 16)."""
    calls = []
    milp = engine.milp
    monkeypatch.setattr(engine, "milp", lambda *a, **k: calls.append(1) or milp(*a, **k))
    for seed, (with_pool, without) in {1: (16, 19), 6: (14, 16), 3: (15, 15)}.items():
        calls.clear()
        a = engine.protect(grid_problem(seed))
        n_a = len(calls)
        with monkeypatch.context() as m:
            m.setattr(engine._Pool, "protecting", lambda self, target, usable: None)
            calls.clear()
            b = engine.protect(grid_problem(seed))
        assert (n_a, len(calls)) == (with_pool, without)
        assert a.hidden.tolist() == b.hidden.tolist() and a.unprotected == b.unprotected == []


def test_a_family_with_nothing_small_never_reaches_the_solver(monkeypatch, cb, cfg):
    """No count from 1 to 4: every printed count shown, implicit ones recorded as implicit, no programme solved."""
    from analysis.tables.disclosure.register import CellDef, CellKey, Register

    def no_solver(*a, **k):
        raise AssertionError("the solver was called for a family with nothing to protect")

    monkeypatch.setattr(engine, "milp", no_solver)
    reg = Register(cb, cfg)
    a, b = reg.periods
    cells = [CellDef(CellKey("counts:x", None, "col", "level", "yes", g), ("col",), True, v) for g, v in ((a, 7), (b, 9))]
    cells.append(CellDef(CellKey("counts:x", None, "col", "no", "F", a), ("col",), False, 0))
    prot = protect_mod.Protection(5, register=reg)
    fam = protect_mod._Family("counts:x", ("col",), cells, {a: [protect_mod.ALL], b: [protect_mod.ALL]}, {})
    costs = protect_mod._Costs(reg)
    assert protect_mod._protect_family(reg, fam, prot, costs, set(), {}, True) == []
    assert [prot.status[c.key] for c in cells] == ["shown", "shown", "implicit"]
    assert [prot.values[c.key] for c in cells] == [7, 9, 0]
    assert prot.ranges == {}


def test_grid_cache_answers_only_for_the_same_codebook_object(cb, cfg):
    """An entry made for one codebook object is not handed to another that happens to get the same id."""
    cache: dict = {}
    key = (id(cb), id(cfg), "family")
    cache[key] = (object(), cfg, {"stale": True})  # as if a freed codebook had had this id
    assert families._cached(cache, key, cb, cfg) is None
    cache[key] = (cb, cfg, {"fresh": True})
    assert families._cached(cache, key, cb, cfg) == {"fresh": True}
    families.clear_caches()
    assert families._GRID_CACHE == {} and families._CHARGE_GRIDS == {}


if __name__ == "__main__":  # pragma: no cover
    pytest.main([__file__, "-q"])


def test_the_exact_check_takes_a_whole_number_optimum_of_the_relaxation_and_gives_the_same_ranges(monkeypatch):
    """The exact check's ranges come first from the linear relaxation, warm from the last solve: when its optimum
    is a whole-number table it is the whole-number optimum (a table of the programme that no real one beats), and
    only otherwise is the whole-number programme solved. The ranges equal those of solving every whole-number
    programme, with almost no whole-number programme solved (a grid's relaxation has whole-number vertices)."""
    from analysis.stats.milp import MilpResult

    calls = []
    milp = engine.milp
    monkeypatch.setattr(engine, "milp", lambda *a, **k: calls.append(1) or milp(*a, **k))
    for seed in (1, 3, 6):
        p = grid_problem(seed)
        hidden = engine.protect(p).hidden
        calls.clear()
        warm = engine.audit(p, hidden, full=True)
        n_warm = len(calls)
        with monkeypatch.context() as m:  # the control: the relaxation never answers
            m.setattr(engine.WarmLP, "solve", lambda self, c: MilpResult(None, None, 4, "not used"))
            calls.clear()
            cold = engine.audit(p, hidden, full=True)
        assert warm == cold and len(warm) == int(p.targets.sum()) > 0
        assert len(calls) == 2 * len(warm) and n_warm == 0
        if seed == 1:
            assert warm == {4: (1, 5), 5: (1, 5), 8: (1, 6), 9: (1, 6), 11: (1, 5), 12: (1, 5), 14: (1, 5), 15: (1, 5)}
