"""The headline analysis: each published statement beside the project's estimate, with numbers checked by hand."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from analysis.derive.variables import derive
from analysis.intake.load import load_coded_tables
from analysis.intake.validate import validate_tables
from analysis.scheme.published import Statement, load_published
from analysis.stats.models import unit_type
from analysis.tables import headline as H

from .conftest import EXAMPLE


@pytest.fixture(scope="module")
def tables(cb, cfg):
    return derive(validate_tables(load_coded_tables(EXAMPLE), cb, cfg).valid, cb, cfg)


@pytest.fixture(scope="module")
def result(tables, cb, cfg):
    return H.headline(tables, cb, cfg)


def test_the_published_statements_are_data_with_their_sources():
    s = {x.id: x for x in load_published()}
    assert list(s) == ["screened_more", "svu_correct_fell", "others_correct_rose", "svu_fall_from_massage_and_buyers",
                       "sellers_no_change", "minutes_no_stings"]
    assert s["svu_fall_from_massage_and_buyers"].origins == ("massage_inspection", "operation_buyers")
    assert s["minutes_no_stings"].source.startswith("Sex Work and Trafficking Policy Impact Committee, minutes")
    assert all(x.source and x.statement for x in s.values())
    assert {x.estimate for x in s.values()} <= set(H.ESTIMATES)


def test_an_unknown_claim_is_refused(tmp_path):
    p = tmp_path / "published.yaml"
    p.write_text("statements:\n  - {id: x, statement: s, source: y, claim: bigger, estimate: screened}\n")
    with pytest.raises(ValueError, match="statement 'x' has unknown claim 'bigger'; use one of higher, lower"):
        load_published(p)


def _cells_frame(cells):
    """A derived-incidents-like frame from {(period, unit): (n, events)}: period, correctly_identified and the
    investigating-unit flags (unit 'specialised' = SVU/Vice named, 'district_other' = a district station only)."""
    rows = []
    for (period, unit), (n, events) in cells.items():
        for k in range(n):
            rows.append({"period": period, "correctly_identified": k < events,
                         "investigating_unit__vice": unit == "specialised" and period == "vice",
                         "investigating_unit__svu": unit == "specialised" and period == "svu",
                         "investigating_unit__district_station": unit == "district_other",
                         "investigating_unit__other": False})
    df = pd.DataFrame(rows)
    df["period"] = pd.Categorical(df["period"], categories=["vice", "svu"])
    return df


def test_with_full_cells_the_period_odds_ratios_are_the_cell_odds_ratios():
    """Every cell with 5+ events and non-events: a maximum-likelihood fit of the saturated period x unit model, so
    the odds ratio for each unit is the 2 x 2 odds ratio of its cells (by hand)."""
    from analysis.stats.models import METHOD_ML, misclassification_model

    cells = {("vice", "specialised"): (40, 30), ("svu", "specialised"): (100, 25),
             ("vice", "district_other"): (20, 8), ("svu", "district_other"): (30, 18)}
    m = misclassification_model(_cells_frame(cells), "correctly_identified")
    assert m.method == METHOD_ML
    spec, dist = H.period_odds_ratio(m, "specialised"), H.period_odds_ratio(m, "district_other")
    assert spec.odds_ratio == pytest.approx((25 / 75) / (30 / 10), rel=1e-6)
    assert dist.odds_ratio == pytest.approx((18 / 12) / (8 / 12), rel=1e-6)
    assert spec.note == "" and dist.note == "Wald interval of the period and interaction terms' sum"


def test_sparse_cells_take_the_firth_fit_and_its_profile_interval(result, tables):
    """On the example a district cell has 2 reports: the model is Firth's, the specialised unit's period odds ratio
    is the model's period term with its profile interval (not the cell odds ratio, 0.198), and the note says so."""
    from analysis.stats.models import METHOD_FIRTH

    m = result.models["correct"]
    assert m.method == METHOD_FIRTH
    row = m.table.set_index("term").loc["period[T.svu]"]
    e = result.estimates["correct_specialised"]
    assert (e.odds_ratio, e.ci_low, e.ci_high) == (row["odds_ratio"], row["ci_low"], row["ci_high"])
    by_hand = (44 / 111) / (28 / 14)
    assert e.odds_ratio != pytest.approx(by_hand, rel=1e-3) and e.odds_ratio == pytest.approx(by_hand, rel=0.05)
    assert e.note == "Firth's bias-reduced fit (sparse cells)"
    assert e.ci_low < e.odds_ratio < e.ci_high


def test_the_district_other_interval_is_that_of_the_sum_of_two_coefficients(result):
    m = result.models["correct"]
    p, i = "period[T.svu]", "period[T.svu]:unit[T.district_other]"
    var = m.cov.loc[p, p] + m.cov.loc[i, i] + 2 * m.cov.loc[p, i]
    b = m.params[p] + m.params[i]
    e = result.estimates["correct_district_other"]
    assert (math.log(e.ci_low), math.log(e.ci_high)) == pytest.approx((b - 1.959964 * var ** 0.5,
                                                                      b + 1.959964 * var ** 0.5), rel=1e-6)


def test_the_restricted_models_use_the_right_reports(result, tables):
    inc, per = tables["incidents"], tables["persons"]
    in_model = inc["correctly_identified"].notna() & pd.Series(unit_type(inc), index=inc.index).notna()
    selling = inc["report_id"].isin(per.loc[per["role"].astype(str).isin(["seller", "trafficking_victim"]),
                                            "report_id"])
    assert result.models["correct_sellers"].n == int((in_model & selling).sum())
    kept = ~inc["origin"].astype(str).isin(["massage_inspection", "operation_buyers"])
    without = result.models["correct_without"]
    assert (without.n, without.events) == (int((in_model & kept).sum()),
                                           int(inc.loc[in_model & kept, "correctly_identified"].astype(bool).sum()))
    assert result.models["correct"].n == int(in_model.sum())


def test_labelled_by_origin_counts(result, tables):
    t = result.labelled_by_origin
    inc = tables["incidents"]
    lab = inc[inc["labelled_trafficking"].astype(bool)]
    for p in ("vice", "svu"):
        allu = t[(t["period"] == p) & (t["unit"] == "all units")]
        assert allu["labelled"].sum() == (lab["period"].astype(str) == p).sum()
        assert allu["pct_of_labelled"].sum() == pytest.approx(100)
    row = t[(t["period"] == "svu") & (t["unit"] == "all units") & (t["origin"] == "operation_buyers")].iloc[0]
    assert (row["labelled"], row["correct"], row["origin_group"]) == (61, 2, "police_initiated")
    assert H.origin_summary(result).loc[("police_initiated", "Operation targeting buyers")].tolist() == [7, 2, 61, 2]


def test_established_cases_by_origin(result):
    t = result.established_origin.set_index("origin")
    assert (t["n_vice"].sum(), t["n_svu"].sum()) == (34, 50)
    assert t.loc[["sting_sellers", "operation_buyers"], "n_svu"].sum() == 5
    assert t.loc["tip", "pct_svu"] == pytest.approx(100 * t.loc["tip", "n_svu"] / 50)


def test_agreement_rules():
    def est(lo, hi):
        return H.Estimate(1.0, lo, hi, pd.DataFrame())
    assert H._direction(est(1.2, 3.0), "higher") == "yes"
    assert H._direction(est(0.2, 0.9), "higher") == "no"
    assert H._direction(est(0.8, 1.3), "higher") == "not shown"
    assert H._direction(est(0.2, 0.9), "lower") == "yes"
    assert H._direction(est(0.8, 1.3), "no_change") == "yes"
    assert H._direction(est(1.1, 1.3), "no_change") == "no"
    assert H._direction(H.Estimate(math.nan, math.nan, math.nan, pd.DataFrame()), "lower") == "cannot tell"
    assert H._explained(est(0.1, 0.4), est(0.3, 1.5)) == "yes"
    assert H._explained(est(0.1, 0.4), est(0.2, 0.8)) == "no"
    assert H._explained(est(0.5, 1.4), est(0.3, 1.5)) == "not shown"


def test_none_from_counts_established_cases(result, cb, cfg):
    s = Statement("x", "none from stings", "minutes", "none_from", "established_origin", ("sting_sellers",))
    table = result.established_origin.copy()
    got = H._none_from(s, table, {"vice": "Vice", "svu": "SVU"}, ("vice", "svu"), "a sting")
    n_from = int(table.loc[table["origin"] == "sting_sellers", ["n_vice", "n_svu"]].sum().sum())
    assert got["agrees"] == ("yes" if n_from == 0 else "no")
    table[["n_vice", "n_svu"]] = table[["n_vice", "n_svu"]].where(table["origin"] != "sting_sellers", 0)
    assert H._none_from(s, table, {}, ("vice", "svu"), "a sting")["agrees"] == "yes"


def test_comparison_has_one_row_per_statement(result):
    c = result.comparison
    assert c["id"].tolist() == [s.id for s in load_published()]
    assert c.set_index("id")["agrees"].to_dict() == {
        "screened_more": "yes", "svu_correct_fell": "yes", "others_correct_rose": "not shown",
        "svu_fall_from_massage_and_buyers": "yes", "sellers_no_change": "no", "minutes_no_stings": "no"}
    text = H.format_comparison(result)
    assert text.startswith("1. Published (RTI International, NCJ 254004 (August 2018), abstract):\n"
                           "   SFPD screened more reports for trafficking in 2014/15 than in 2009/10.\n"
                           "   Project's estimate: screened: Vice 2009/10 83/495 (17%)")
