"""Before/after tables: counts, denominators, intervals, tests, q-values, weights and the shared display."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from analysis.stats.inference import categorical_test, newcombe_diff_ci
from analysis.tables.compare import before_after, variable_specs
from analysis.tables.disclosure import check_no_small_cells
from analysis.tables.display import display


def _incidents():
    """20 reports, 10 per period, with values chosen so every number can be worked out by hand."""
    period = ["vice"] * 10 + ["svu"] * 10
    year = [2009] * 4 + [2010] * 6 + [2014] * 5 + [2015] * 5
    screened = ["yes"] * 3 + ["no"] * 7 + ["yes"] * 6 + ["no"] * 4
    origin = (["sting_sellers"] * 6 + ["tip"] * 2 + ["-8"] * 2
              + ["sting_sellers"] * 2 + ["tip"] * 6 + ["massage_inspection"] * 2)
    phones = [1, 2, 3, 4, np.nan, np.nan, np.nan, np.nan, np.nan, np.nan] + [2, 2, 3, 3, 4, 4, 5, np.nan, np.nan, np.nan]
    svu = [False] * 10 + [True] * 9 + [pd.NA]
    return pd.DataFrame({
        "report_id": [f"R{i}" for i in range(20)],
        "period": pd.Categorical(period, categories=["vice", "svu"], ordered=True),
        "report_year": year,
        "screened_trafficking": screened,
        "origin": pd.Categorical(origin),
        "phones_seized_count": pd.array(phones, dtype="Float64"),
        "investigating_unit__svu": pd.array(svu, dtype="boolean"),
    })


@pytest.fixture
def table(cb, cfg):
    return before_after(_incidents(), "incidents", codebook=cb, config=cfg)


def _row(ct, column, level=None):
    r = ct.rows[ct.rows["column"] == column]
    if level is not None:
        r = r[r["level"] == level]
    return r.iloc[0]


def test_rows_follow_the_codebook_order(table):
    assert list(dict.fromkeys(table.rows["column"])) == [
        "investigating_unit__svu", "origin", "screened_trafficking", "phones_seized_count"]


def test_yes_no_row_counts_percentages_and_newcombe_interval(table):
    r = _row(table, "screened_trafficking")
    assert (r["n_vice"], r["N_vice"], r["n_svu"], r["N_svu"], r["n_overall"], r["N_overall"]) == (3, 10, 6, 10, 9, 20)
    assert (r["pct_vice"], r["pct_svu"], r["pct_overall"]) == (30.0, 60.0, 45.0)
    # change = after minus before: Newcombe's interval of svu - vice
    diff, lo, hi = newcombe_diff_ci(6, 10, 3, 10)
    assert r["diff_pp"] == pytest.approx(30.0) and r["diff_pp"] == pytest.approx(100 * diff)
    assert (r["diff_low"], r["diff_high"]) == pytest.approx((100 * lo, 100 * hi))
    before_minus_after = newcombe_diff_ci(3, 10, 6, 10)
    assert (r["diff_low"], r["diff_high"]) == pytest.approx((-100 * before_minus_after[2], -100 * before_minus_after[1]))
    # expected counts 4.5 < 5 -> Fisher's exact (gtsummary's rule)
    assert r["test"] == "Fisher's exact"
    assert r["p_value"] == pytest.approx(categorical_test([[3, 6], [7, 4]]).p_value)


def test_not_documented_is_its_own_row_and_out_of_the_denominator(table, cb, cfg):
    origin = table.rows[table.rows["column"] == "origin"]
    # every level the codebook declares, in its order, zero counts included; the missing row after them
    assert origin["level"].tolist() == ["sting_sellers", "operation_buyers", "massage_inspection", "online_ad", "tip",
                                        "victim_came_forward", "patrol", "other", "-8"]
    assert _row(table, "origin", "operation_buyers")[["n_vice", "n_svu"]].tolist() == [0, 0]
    sting = _row(table, "origin", "sting_sellers")
    assert (sting["n_vice"], sting["N_vice"], sting["pct_vice"]) == (6, 8, 75.0)
    nd = _row(table, "origin", "-8")
    assert (nd["row_type"], nd["level_label"], nd["n_vice"], nd["n_svu"]) == ("missing", "Not documented", 2, 0)
    assert math.isnan(nd["pct_vice"])
    with_missing = before_after(_incidents(), "incidents", include_missing=True, codebook=cb, config=cfg)
    assert _row(with_missing, "origin", "sting_sellers")["N_vice"] == 10
    assert _row(with_missing, "origin", "sting_sellers")["pct_vice"] == 60.0


def test_multi_select_option_row_with_unknown(table):
    r = _row(table, "investigating_unit__svu", "yes")
    assert (r["n_vice"], r["N_vice"], r["n_svu"], r["N_svu"]) == (0, 10, 9, 9)
    u = _row(table, "investigating_unit__svu", "unknown")
    assert (u["n_vice"], u["n_svu"]) == (0, 1)


def test_numbers_median_iqr_mean_sd_and_rank_sum(table):
    r = _row(table, "phones_seized_count")
    assert (r["N_vice"], r["median_vice"], r["q1_vice"], r["q3_vice"]) == (4, 2.5, 1.75, 3.25)
    assert r["mean_svu"] == pytest.approx(23 / 7) and r["sd_svu"] == pytest.approx(np.std([2, 2, 3, 3, 4, 4, 5], ddof=1))
    assert r["test"] == "Wilcoxon rank-sum"


def test_q_values_are_holm_over_the_variables(table):
    per_var = table.rows.dropna(subset=["p_value"]).drop_duplicates("column")
    p = per_var["p_value"].to_numpy()
    order = np.argsort(p)
    m = len(p)
    holm = np.empty(m)
    running = 0.0
    for rank, i in enumerate(order):  # Holm (1979) by hand: step-down, monotone, capped at 1
        running = max(running, min(1.0, (m - rank) * p[i]))
        holm[i] = running
    assert per_var["q_value"].to_numpy() == pytest.approx(holm)


def test_weighted_to_the_sampling_frame(cb, cfg):
    d = _incidents()
    # vice: 2009 has 2 of 4 screened... set it by hand: 2009 yes,yes,no,no; 2010 yes + 5 no
    d.loc[:9, "screened_trafficking"] = ["yes", "yes", "no", "no", "yes", "no", "no", "no", "no", "no"]
    ct = before_after(d, "incidents", frame={2009: 100, 2010: 300, 2014: 50, 2015: 50},
                      variables=["screened_trafficking"], codebook=cb, config=cfg)
    r = _row(ct, "screened_trafficking")
    # stratified: p = 0.25 * 2/4 + 0.75 * 1/6 = 0.25
    assert r["pct_vice"] == pytest.approx(25.0)
    # var = 0.25^2 * .5*.5/3 * (1 - 4/100) + 0.75^2 * (1/6)(5/6)/5 * (1 - 6/300) = 0.0203125
    assert r["se_vice"] == pytest.approx(100 * math.sqrt(0.0203125))
    assert ct.weighted and "Weighted to the sampling frame" in ct.methods_text()
    unweighted = before_after(d, "incidents", variables=["screened_trafficking"], codebook=cb, config=cfg)
    assert "Unweighted: no sampling frame given." in unweighted.methods_text()


def test_unknown_role_and_variable_are_clear_errors(cb, cfg):
    with pytest.raises(ValueError, match="unknown role"):
        before_after(_incidents().assign(role="seller"), "persons", role="sellers", codebook=cb, config=cfg)
    with pytest.raises(KeyError, match="not variables of the incidents table: condom"):
        variable_specs("incidents", _incidents(), cb, ["condom"])


# --- sharing: suppression -----------------------------------------------------------------------------


def test_display_suppresses_small_counts_and_hides_their_difference(table):
    shown = display(table, threshold=5)
    assert check_no_small_cells(shown.iloc[:, 2:5], 5) == []
    svu_row = shown[shown["Variable"] == "Investigating unit(s): Special Victims Unit (SVU)"].iloc[0]
    # vice 0/10, svu 9/9: the unknown row (1 report, after) is small and hidden, so a count the difference is
    # computed from is hidden with it (else 10 - 9 gives the 1 back), and the difference shows the one marker
    assert svu_row["Change, after minus before (percentage points)"] == "suppressed"
    assert "<5" not in shown.to_string()


def test_example_tables_find_the_built_in_differences(cb, cfg):
    from analysis.coders.synth import BUILT_IN_DIFFERENCES
    from analysis.derive.variables import derive
    from analysis.intake.load import load_coded_tables
    from analysis.intake.validate import validate_tables

    from .conftest import EXAMPLE

    inc = derive(validate_tables(load_coded_tables(EXAMPLE)).valid, cb, cfg)["incidents"]
    ct = before_after(inc, "incidents", variables=["condoms_evidence_any", "screened_trafficking", "phones_seized",
                                                   "labelled_trafficking", "correctly_identified"],
                      codebook=cb, config=cfg)
    keys = {"condoms_evidence_any": "condoms_evidence", "screened_trafficking": "screened_trafficking",
            "phones_seized": "phones_seized", "labelled_trafficking": "labelled_trafficking",
            "correctly_identified": "correctly_identified"}
    for col, key in keys.items():
        _, before, after = BUILT_IN_DIFFERENCES[key]
        r = _row(ct, col, "yes")
        assert np.sign(r["diff_pp"]) == np.sign(after - before), col  # change = after minus before
        assert r["p_value"] < 0.05, col


def test_from_counts_uses_the_same_methods(cfg):
    from analysis.tables.compare import from_counts

    counts = pd.DataFrame({"period": ["vice", "vice", "svu", "svu"], "category": ["cited", "booked", "cited", "booked"],
                           "n": [60, 40, 30, 70]})
    ct = from_counts([("resolution", "Resolution", counts)], population="public records", config=cfg)
    cited = ct.rows[ct.rows["level"] == "cited"].iloc[0]
    assert (cited["n_vice"], cited["N_vice"], cited["pct_vice"], cited["pct_svu"]) == (60, 100, 60.0, 30.0)
    assert cited["test"] == "Pearson's chi-squared"
    assert cited["p_value"] == pytest.approx(categorical_test([[60, 30], [40, 70]]).p_value)
    assert ct.group_n == {"vice": 100, "svu": 100}
