"""Tests for analysis.tables.disclosure: small-cell suppression of shared tables.

Every expected display below was worked out by hand from the rules in the module docstring; the
arithmetic is in the comments. Recoverability is checked with an independent brute-force "reader"
(:func:`reader_values`) that lists every whole-number table consistent with what is displayed.
"""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st

from analysis.scheme.config import load_study_config
from analysis.tables.disclosure import (
    COMPLEMENTARY_MARKER,
    SuppressedTable,
    check_no_small_cells,
    suppress_counts,
    suppress_percentages,
)

C = COMPLEMENTARY_MARKER  # "[c]"


def frame(rows, index, columns):
    return pd.DataFrame(rows, index=index, columns=columns)


# ------------------------------------------------------------------------------------------------
# An independent reader: what can someone holding only the displayed table (and, without totals,
# the margins) work out? Brute force over whole numbers, no linear programming.
# ------------------------------------------------------------------------------------------------


def reader_values(
    sup: SuppressedTable, stop_early: bool = True, max_nodes: int = 200_000
) -> dict[tuple[int, int], set[int]]:
    """Possible values of each hidden *primary* cell (with ``stop_early``: until every one has two)."""
    disp = sup.display.to_numpy()
    t = sup.threshold
    counts = sup.counts.to_numpy()
    nr, nc = disp.shape
    primary_text = f"<{t}"
    hidden = [(i, j) for i in range(nr) for j in range(nc) if not str(disp[i, j]).isdigit()]
    known = {(i, j): int(disp[i, j]) for i in range(nr) for j in range(nc) if str(disp[i, j]).isdigit()}
    if sup.totals:
        # The grand total bounds every cell when it is shown; when it is hidden the reader has no
        # bound, and a generous one stands in for "unbounded" (too tight a cap would invent leaks).
        grand = int(counts[-1, -1])
        cap = grand if str(disp[-1, -1]).isdigit() else 3 * grand + 3 * t
        lines = [([(i, j) for j in range(nc - 1)], (i, nc - 1), 0) for i in range(nr)]
        lines += [([(i, j) for i in range(nr - 1)], (nr - 1, j), 0) for j in range(nc)]
    else:  # the reader is assumed to know the margins
        cap = int(max(counts.sum(axis=1).max(), counts.sum(axis=0).max()))
        lines = [([(i, j) for j in range(nc)], None, int(counts[i].sum())) for i in range(nr) if nc >= 2]
        lines += [([(i, j) for i in range(nr)], None, int(counts[:, j].sum())) for j in range(nc) if nr >= 2]
    domain = {
        c: list(range(1, t)) if disp[c] == primary_text else [0] + list(range(t, cap + 1)) for c in hidden
    }
    # Each line as: sum(coef * unknown) = rhs.
    eqs = []
    for body, total, margin in lines:
        terms = [(c, 1) for c in body] + ([(total, -1)] if total is not None else [])
        rhs = margin
        coef = {}
        for c, s in terms:
            if c in known:
                rhs -= s * known[c]
            else:
                coef[c] = coef.get(c, 0) + s
        if coef:
            eqs.append((coef, rhs))
        else:
            assert rhs == 0, "the displayed visible cells are inconsistent"
    primaries = [c for c in hidden if disp[c] == primary_text]
    seen: dict[tuple[int, int], set[int]] = {c: set() for c in primaries}
    value: dict[tuple[int, int], int] = {}
    nodes = [0]

    class Done(Exception):
        pass

    def consistent() -> bool:
        for coef, rhs in eqs:
            need, lo, hi = rhs, 0, 0
            for c, s in coef.items():
                if c in value:
                    need -= s * value[c]
                else:
                    dmin, dmax = domain[c][0], domain[c][-1]
                    lo += s * dmin if s > 0 else s * dmax
                    hi += s * dmax if s > 0 else s * dmin
            if not lo <= need <= hi:
                return False
        return True

    def assign(k: int) -> None:
        nodes[0] += 1
        if nodes[0] > max_nodes:
            raise RuntimeError("reader_values: too many partial tables; use a smaller example")
        if k == len(hidden):
            for c in primaries:
                seen[c].add(value[c])
            if stop_early and all(len(v) >= 2 for v in seen.values()):
                raise Done
            return
        cell = hidden[k]
        for v in domain[cell]:
            value[cell] = v
            if consistent():
                assign(k + 1)
        del value[cell]

    try:
        assign(0)
    except Done:
        pass
    return seen


def lines_of(sup: SuppressedTable):
    """Rows and columns of the displayed table that count as lines (see the module docstring)."""
    m = sup.mask.to_numpy()
    nr, nc = m.shape
    out = []
    if sup.totals or nc >= 2:
        out += [m[i, :] for i in range(nr)]
    if sup.totals or nr >= 2:
        out += [m[:, j] for j in range(nc)]
    return out


# ------------------------------------------------------------------------------------------------
# Hand-made tables with their exact expected display
# ------------------------------------------------------------------------------------------------

COUNTS_3x3 = frame([[3, 10, 20], [8, 12, 30], [15, 25, 40]], list("abc"), list("ABC"))


def test_one_small_cell_gets_a_complement_in_its_row_and_column():
    # (a, A) = 3 is the only count in 1..4 -> "<5".
    # Row a then has one hidden cell: hide its smallest other non-zero cell, (a, B) = 10.
    # Column A has one hidden cell: hide its smallest other non-zero cell, (b, A) = 8.
    # Column B now has one hidden cell, (a, B): hide the smallest other, (b, B) = 12.
    # Row b now has two hidden cells: stable. Totals 33, 50, 80 / 26, 47, 90 / 163 are all >= 5.
    sup = suppress_counts(COUNTS_3x3, threshold=5)
    expected = frame(
        [["<5", C, "20", "33"], [C, C, "30", "50"], ["15", "25", "40", "80"], ["26", "47", "90", "163"]],
        list("abc") + ["Total"], list("ABC") + ["Total"],
    )
    pd.testing.assert_frame_equal(sup.display, expected)
    assert sup.primary.loc["a", "A"] and sup.n_primary == 1
    assert sup.complementary.loc[["a", "b"], ["A", "B"]].to_numpy().sum() == 3 and sup.n_complementary == 3
    assert (sup.mask == (sup.primary | sup.complementary)).all().all()
    assert sup.unprotected == ()
    # The reader's view: x_aA + x_aB = 33 - 20 = 13, x_aA + x_bA = 26 - 15 = 11, x_aB, x_bA >= 5, so
    # x_aA is only known to be 1, 2, 3 or 4.
    assert reader_values(sup, stop_early=False)[(0, 0)] == {1, 2, 3, 4}
    assert "<5: a count from 1 to 4" in sup.footnote and C in sup.footnote


def test_same_table_without_totals():
    sup = suppress_counts(COUNTS_3x3, threshold=5, totals=False)
    expected = frame([["<5", C, "20"], [C, C, "30"], ["15", "25", "40"]], list("abc"), list("ABC"))
    pd.testing.assert_frame_equal(sup.display, expected)
    assert reader_values(sup, stop_early=False)[(0, 0)] == {1, 2, 3, 4}


def test_threshold_is_a_parameter():
    # threshold 3: the 3 is not below 3, nothing is hidden.
    sup3 = suppress_counts(COUNTS_3x3, threshold=3)
    assert not sup3.mask.to_numpy().any()
    assert sup3.display.loc["a", "A"] == "3"
    # threshold 11: 3, 10 and 8 are "<11"; row b holds only (b, A) -> hide its smallest other, 12.
    # Columns A and B then hold two hidden cells each.
    sup11 = suppress_counts(COUNTS_3x3, threshold=11)
    expected = frame(
        [
            ["<11", "<11", "20", "33"],
            ["<11", C, "30", "50"],
            ["15", "25", "40", "80"],
            ["26", "47", "90", "163"],
        ],
        list("abc") + ["Total"], list("ABC") + ["Total"],
    )
    pd.testing.assert_frame_equal(sup11.display, expected)
    # Reader: x_aA + x_aB = 13, x_bA + x_bB = 20, x_aA + x_bA = 11, x_bB >= 11 -> x_aA in 3..10.
    assert reader_values(sup11, stop_early=False)[(0, 0)] == set(range(3, 11))


def test_study_configuration_threshold_is_used_as_is():
    t = load_study_config().suppression_threshold
    sup = suppress_counts(COUNTS_3x3, threshold=t)
    assert check_no_small_cells(sup.display, t) == []
    assert sup.threshold == t


def test_zeros_are_shown_and_never_chosen_while_a_non_zero_cell_is_available():
    # 3 -> "<5"; row 0: the other cells are 0 and 12 -> hide 12 (not the 0).
    # Column 1: 3, 6, 0 -> hide 6. Column 2 then holds only (0, 2) -> hide its smallest other, 9.
    # Row 1 = 0, [c], [c]: two hidden. Zeros stay "0".
    counts = frame([[0, 3, 12], [0, 6, 9], [6, 0, 30]], ["r0", "r1", "r2"], ["A", "B", "C"])
    sup = suppress_counts(counts)
    expected = frame(
        [["0", "<5", C, "15"], ["0", C, C, "15"], ["6", "0", "30", "36"], ["6", "9", "51", "66"]],
        ["r0", "r1", "r2", "Total"], ["A", "B", "C", "Total"],
    )
    pd.testing.assert_frame_equal(sup.display, expected)
    # A table of zeros and large counts only is shown unchanged.
    plain = frame([[0, 7, 12], [0, 0, 9], [6, 0, 30]], ["r0", "r1", "r2"], ["A", "B", "C"])
    out = suppress_counts(plain)
    assert not out.mask.to_numpy().any()
    assert out.display.loc["r1", "A"] == "0" and out.display.loc["Total", "Total"] == "64"


def test_a_small_total_is_suppressed_and_protected():
    # Row r0 = 2, 1, total 3: all three are "<5".
    # Column A: 2 hidden -> hide 20; column B: 1 hidden -> hide 30.
    # Total column: 3 hidden, 50 and 53 visible -> hide 50 (smallest non-zero body cell).
    counts = frame([[2, 1], [20, 30]], ["r0", "r1"], ["A", "B"])
    sup = suppress_counts(counts)
    expected = frame(
        [["<5", "<5", "<5"], [C, C, C], ["22", "31", "53"]], ["r0", "r1", "Total"], ["A", "B", "Total"]
    )
    pd.testing.assert_frame_equal(sup.display, expected)
    assert sup.primary.loc["r0", "Total"]
    # Reader: x_A + x_B = x_T with all three in 1..4 -> x_A in {1, 2, 3}, x_B in {1, 2, 3}, x_T in {2, 3, 4}.
    vals = reader_values(sup, stop_early=False)
    assert vals[(0, 0)] == {1, 2, 3} and vals[(0, 2)] == {2, 3, 4}


def test_line_rule_alone_can_leak_and_the_audit_closes_it():
    # counts          line rule alone (audit=False) hides:
    #  4 12 15         a: <5 [c] 15 | 31      each row and column has exactly two hidden cells, yet:
    # 15  6  9         b: 15 [c] [c] | 30     x_aA = 31-15 - x_aB = 16 - (33-15 - x_bB) = x_bB - 2
    #  9 15  1         c: [c] 15 <5 | 25           = (30-15 - x_bC) - 2 = 13 - (25-15 - x_cC) = 3 + x_cC.
    # With x_cC >= 1 ("<5") x_aA >= 4, and x_aA <= 4: so x_aA = 4 and x_cC = 1 exactly.
    counts = frame([[4, 12, 15], [15, 6, 9], [9, 15, 1]], list("abc"), list("ABC"))
    leaky = suppress_counts(counts, audit=False)
    assert leaky.display.loc["a"].tolist() == ["<5", C, "15", "31"]
    assert leaky.display.loc["b"].tolist() == ["15", C, C, "30"]
    assert leaky.display.loc["c"].tolist() == [C, "15", "<5", "25"]
    assert all(line.sum() in (0, 2) for line in lines_of(leaky))
    seen = reader_values(leaky, stop_early=False)
    assert seen[(0, 0)] == {4} and seen[(2, 2)] == {1}
    # The audit hides (b, A) = 15 as well (it frees both cells with the fewest hidden cells).
    safe = suppress_counts(counts)
    assert safe.display.loc["b"].tolist() == [C, C, C, "30"]
    assert safe.mask.to_numpy().sum() == leaky.mask.to_numpy().sum() + 1
    assert all(len(v) >= 2 for v in reader_values(safe).values())


def test_two_small_cells_summing_to_two_are_protected():
    # counts 1 1 20 / 10 12 30 / 15 25 40. The line rule alone hides row a's two 1s, then 10 (column A)
    # and 12 (column B): every line has 0 or 2 hidden cells, but row a reads "<5 <5 20 | 22", and
    # 22 - 20 = 2 = x_aA + x_aB with both >= 1 gives x_aA = x_aB = 1.
    counts = frame([[1, 1, 20], [10, 12, 30], [15, 25, 40]], list("abc"), list("ABC"))
    leaky = suppress_counts(counts, audit=False)
    assert leaky.display.loc["a"].tolist() == ["<5", "<5", "20", "22"]
    assert reader_values(leaky, stop_early=False) == {(0, 0): {1}, (0, 1): {1}}
    # The audit also hides 20, and then column C needs a second hidden cell: 30 (its smallest other).
    safe = suppress_counts(counts)
    assert safe.display.loc["a"].tolist() == ["<5", "<5", C, "22"]
    assert safe.display.loc["b"].tolist() == [C, C, C, "52"]
    assert safe.display.loc["c"].tolist() == ["15", "25", "40", "80"]
    assert all(len(v) >= 2 for v in reader_values(safe).values())


def test_unprotectable_cell_is_reported():
    # Without totals the reader knows the margins: row r1 and column B sum to 0, so x_r0B = 0 and
    # x_r0A = (row r0 total) = 3 whatever is hidden.
    counts = frame([[3, 0], [0, 0]], ["r0", "r1"], ["A", "B"])
    sup = suppress_counts(counts, totals=False)
    assert sup.unprotected == (("r0", "A"),)
    assert sup.display.loc["r0", "A"] == "<5"


def test_line_of_small_cells_with_a_small_total_is_reported():
    # Threshold 3, row r0 = 1, 1 | total 2: all three are "<3". Whatever else is hidden, the reader
    # knows x_A + x_B = x_T with x_A, x_B >= 1 and x_T <= 2, so x_A = x_B = 1 and x_T = 2.
    counts = frame([[1, 1], [10, 20]], ["r0", "r1"], ["A", "B"])
    sup = suppress_counts(counts, threshold=3)
    assert sup.unprotected == (("r0", "A"), ("r0", "B"), ("r0", "Total")) and not sup.safe
    assert reader_values(sup, stop_early=False) == {(0, 0): {1}, (0, 1): {1}, (0, 2): {2}}
    # With the study's threshold of 5 the same row is protected: 1 + 1, 1 + 2, ... up to a total of 4.
    sup5 = suppress_counts(counts, threshold=5)
    assert sup5.safe and reader_values(sup5, stop_early=False)[(0, 0)] == {1, 2, 3}


def test_inputs_are_checked():
    with pytest.raises(ValueError, match="whole numbers"):
        suppress_counts(frame([[1.5, 2]], ["r"], ["A", "B"]))
    with pytest.raises(ValueError, match="whole numbers"):
        suppress_counts(frame([[-1, 2]], ["r"], ["A", "B"]))
    with pytest.raises(ValueError, match="numbers only"):
        suppress_counts(frame([["<5", 2]], ["r"], ["A", "B"]))
    with pytest.raises(ValueError, match="threshold"):
        suppress_counts(COUNTS_3x3, threshold=0)
    with pytest.raises(ValueError, match="Total"):
        suppress_counts(frame([[1, 2]], ["Total"], ["A", "B"]))
    with pytest.raises(TypeError):
        suppress_counts([[1, 2]])  # type: ignore[arg-type]


def test_multiindex_columns_get_a_tuple_total_label():
    cols = pd.MultiIndex.from_tuples([("vice", "n"), ("svu", "n")])
    sup = suppress_counts(pd.DataFrame([[3, 40], [20, 30]], index=["x", "y"], columns=cols))
    assert ("Total", "") in sup.display.columns
    assert sup.display.loc["x", ("vice", "n")] == "<5"


# ------------------------------------------------------------------------------------------------
# Percentages and the scanner
# ------------------------------------------------------------------------------------------------


def test_suppress_percentages_hides_exactly_the_masked_cells():
    sup = suppress_counts(COUNTS_3x3)
    pct = COUNTS_3x3 / COUNTS_3x3.sum(axis=0) * 100  # column percentages, no Total row/column
    out = suppress_percentages(pct, sup.mask)
    assert out.loc["a", "A"] == "" and out.loc["a", "B"] == "" and out.loc["b", "A"] == ""
    assert out.loc["b", "B"] == ""
    assert out.loc["a", "C"] == "22.2"  # 20 / 90
    assert out.loc["c", "A"] == "57.7"  # 15 / 26
    named = suppress_percentages(pct, sup.mask, hidden="suppressed", fmt="{:.0f}%")
    assert named.loc["a", "A"] == "suppressed" and named.loc["c", "C"] == "44%"
    with pytest.raises(ValueError, match="does not cover"):
        suppress_percentages(pct.rename(index={"a": "zz"}), sup.mask)


def test_check_no_small_cells_finds_every_form_of_a_small_count():
    shown = pd.DataFrame(
        {
            "n": ["12", "3", "<5", "0", "1,204"],
            "n_pct": ["12 (40.0%)", "4 (13.3%)", "[c]", "0 (0.0%)", "5 (16.7%)"],
            "frac": ["12/30", "30/2", "", "0/30", "7/30"],
            "pct": [40.0, 3.0, 2.5, 0.0, 1.0],  # decimals are not counts
            "p": ["0.03", "1.00", "<0.001", "", "0.2"],
            "int": [12, 2, 0, 7, 9],
        },
        index=list("vwxyz"),
    )
    found = check_no_small_cells(shown, 5)
    assert found == [("w", "n", "3"), ("w", "n_pct", "4 (13.3%)"), ("w", "frac", "30/2"), ("w", "int", 2)]
    assert check_no_small_cells(shown, 5, columns=["pct", "p"]) == []
    assert check_no_small_cells(shown, 3) == [("w", "frac", "30/2"), ("w", "int", 2)]
    assert check_no_small_cells(suppress_counts(COUNTS_3x3).display, 5) == []


# ------------------------------------------------------------------------------------------------
# Property test
# ------------------------------------------------------------------------------------------------

_cells = st.sampled_from([0, 0, 1, 2, 3, 4, 5, 6, 8, 12, 20])


@st.composite
def count_tables(draw):
    nr = draw(st.integers(1, 3))
    nc = draw(st.integers(1, 3))
    rows = [[draw(_cells) for _ in range(nc)] for _ in range(nr)]
    return pd.DataFrame(rows, index=[f"r{i}" for i in range(nr)], columns=[f"g{j}" for j in range(nc)])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(counts=count_tables(), threshold=st.sampled_from([3, 5]), totals=st.booleans())
def test_property_no_small_cell_visible_or_recoverable(counts, threshold, totals):
    sup = suppress_counts(counts, threshold=threshold, totals=totals)
    disp = sup.display
    # 1. No visible count in 1..threshold-1, and every visible cell is the true count.
    assert check_no_small_cells(disp, threshold) == []
    shown = ~sup.mask.to_numpy()
    assert (disp.to_numpy()[shown] == sup.counts.to_numpy()[shown].astype(str)).all()
    # 2. Exactly the counts in 1..threshold-1 are primary; zeros are never primary.
    vals = sup.counts.to_numpy()
    assert (sup.primary.to_numpy() == ((vals >= 1) & (vals < threshold))).all()
    # 3. Every row and column (with totals: including the totals row and column) has 0 or >= 2 hidden.
    assert all(line.sum() != 1 for line in lines_of(sup))
    # 4. No primary cell is pinned to one value by the displayed table (and margins), unless reported.
    #    (Cells that no suppression could protect are reported in `unprotected`, see the tests above.)
    unprotected = {(disp.index.get_loc(r), disp.columns.get_loc(c)) for r, c in sup.unprotected}
    assert sup.safe == (not unprotected)
    try:
        readings = reader_values(sup)
    except RuntimeError:  # the brute-force reader gave up on this table's size: no verdict either way
        reject()
    for cell, values in readings.items():
        assert len(values) >= 2 or cell in unprotected, (cell, values, disp)
