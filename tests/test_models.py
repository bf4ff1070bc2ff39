"""Tests of analysis.stats.models: the misclassification / screening logistic regressions.

Constructed data with known answers: 2 x 2 odds ratios and Wald intervals computed by hand, saturated-model
cell probabilities equal to the observed proportions; sparse or separated cells fitted by Firth's method (checked
by hand and against R, tests/fixtures/r/firth.csv), with notes that say which fit was used and carry no counts.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from analysis.stats.models import (
    METHOD_FIRTH,
    METHOD_ML,
    firth_logit,
    misclassification_model,
    predicted_probabilities,
    unit_type,
)

from .test_r_fixtures import fixture

Z = norm.ppf(0.975)  # 1.959964; the hand formula's "1.96" rounded changes the 4th decimal of a CI limit

UNITS = {
    "vice": dict(vice=True, svu=False, district_station=False, other=False),
    "vice;district_station": dict(vice=True, svu=False, district_station=True, other=False),
    "svu": dict(vice=False, svu=True, district_station=False, other=False),
    "district_station": dict(vice=False, svu=False, district_station=True, other=False),
    "other": dict(vice=False, svu=False, district_station=False, other=True),
    "-8": dict(vice=None, svu=None, district_station=None, other=None),
}


def no_counts(notes) -> bool:
    """The notes are shared and carry no numbers (no "3 of 22", "0 of 5 correctly identified", "(12 reports)")."""
    return not any(re.search(r"\d", n) for n in notes)


def incidents(cells: list[tuple[str, str, int, int]], outcome: str = "correctly_identified") -> pd.DataFrame:
    """A derived-incidents-like table: for each (period, investigating_unit, events, n), n reports of which
    ``events`` have the outcome."""
    rows = []
    for period, unit, events, n in cells:
        for i in range(n):
            rows.append({"period": period, outcome: i < events,
                         **{f"investigating_unit__{k}": v for k, v in UNITS[unit].items()}})
    df = pd.DataFrame(rows)
    df["period"] = pd.Categorical(df["period"], categories=["vice", "svu"], ordered=True)
    for c in df.columns:
        if c != "period":
            df[c] = df[c].astype("boolean")
    return df


def test_unit_type_definition():
    df = incidents([("vice", u, 0, 1) for u in UNITS])
    got = pd.Series(unit_type(df)).astype(object).where(lambda s: s.notna(), None).tolist()
    assert got == ["specialised", "specialised", "specialised", "district_other", "district_other", None]
    assert list(unit_type(df).categories) == ["specialised", "district_other"]


def test_period_odds_ratio_equals_2x2_odds_ratio_and_wald_ci():
    # no unit variation: every report names the specialised unit
    a, b = 30, 20  # Vice: 30 correctly identified, 20 not
    c, d = 12, 38  # SVU: 12 correctly identified, 38 not
    df = incidents([("vice", "vice", a, a + b), ("svu", "svu", c, c + d)])
    res = misclassification_model(df, "correctly_identified")
    # OR = (c/d) / (a/b) = (12/38) / (30/20) = 0.210526
    or_hand = (c / d) / (a / b)
    se_hand = math.sqrt(1 / a + 1 / b + 1 / c + 1 / d)  # sqrt(1/30 + 1/20 + 1/12 + 1/38) = sqrt(0.192982)
    assert or_hand == pytest.approx(0.21052631578947367)
    assert se_hand == pytest.approx(0.4392977, abs=1e-7)
    row = res.table.set_index("term").loc["period[T.svu]"]
    assert row["odds_ratio"] == pytest.approx(or_hand, rel=1e-8)
    assert row["ci_low"] == pytest.approx(math.exp(math.log(or_hand) - Z * se_hand), rel=1e-7)  # exp(-1.558145 - 0.861008)
    assert row["ci_high"] == pytest.approx(math.exp(math.log(or_hand) + Z * se_hand), rel=1e-7)  # exp(-1.558145 + 0.861008)
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((0.088997, 0.498009), abs=1e-5)
    assert row["p_value"] == pytest.approx(2 * norm.sf(abs(math.log(or_hand)) / se_hand), rel=1e-6)
    assert row["label"] == "SVU period vs Vice period (crude)"
    assert (res.n, res.events) == (100, 42) and row["n"] == 100
    assert res.formula == "correctly_identified ~ period"
    # the interaction and the unit term were dropped, and the notes say so
    assert len(res.table) == 1
    assert any("interaction" in n and "dropped" in n for n in res.notes)
    assert any(n.startswith("unit term not estimable") for n in res.notes)
    # every cell has at least 5 events and 5 non-events: maximum likelihood, and the note says so
    assert res.method == METHOD_ML and any(n.startswith("Fit: maximum likelihood") for n in res.notes)
    assert no_counts(res.notes)


def test_interaction_model_is_saturated_cell_probabilities_equal_observed():
    spec = [("vice", "vice", 28, 42), ("vice", "district_station", 6, 15),
            ("svu", "svu", 44, 155), ("svu", "district_station", 7, 20)]
    df = incidents(spec)
    res = misclassification_model(df)
    assert res.formula == "correctly_identified ~ period * unit"
    assert res.method == METHOD_ML
    assert res.notes == ("Fit: maximum likelihood with Wald intervals and p-values (every cell of the model has at "
                         "least five events and five non-events).",)
    pred = predicted_probabilities(res)
    assert list(pred["n"]) == [42, 15, 155, 20]
    assert list(pred["events"]) == [28, 6, 44, 7]
    np.testing.assert_allclose(pred["predicted"], [28 / 42, 6 / 15, 44 / 155, 7 / 20], rtol=1e-8)
    np.testing.assert_allclose(pred["predicted"], pred["observed"], rtol=1e-8)
    assert (pred["ci_low"] < pred["predicted"]).all() and (pred["predicted"] < pred["ci_high"]).all()
    # terms by hand: odds in each cell
    odds = {(p, u): e / (n - e) for p, u, e, n in spec}
    t = res.table.set_index("term")["odds_ratio"]
    or_period = odds[("svu", "svu")] / odds[("vice", "vice")]
    or_unit = odds[("vice", "district_station")] / odds[("vice", "vice")]
    or_period_local = odds[("svu", "district_station")] / odds[("vice", "district_station")]
    assert t["period[T.svu]"] == pytest.approx(or_period, rel=1e-7)
    assert t["unit[T.district_other]"] == pytest.approx(or_unit, rel=1e-7)
    assert t["period[T.svu]:unit[T.district_other]"] == pytest.approx(or_period_local / or_period, rel=1e-7)
    assert res.table["label"].str.contains("SVU period vs Vice period, reports naming the specialised unit").any()
    renamed = misclassification_model(df, period_names={"vice": "Before", "svu": "After"})
    assert renamed.table["label"].iloc[0].startswith("After period vs Before period")
    assert predicted_probabilities(renamed)["label"].iloc[0].startswith("Before period, specialised unit")


def test_cell_without_events_is_fitted_by_firth_with_the_interaction():
    # issue 13: a separated cell used to drop the interaction; Firth's fit keeps it and stays finite
    df = incidents([("vice", "vice", 28, 42), ("vice", "district_station", 0, 5),
                    ("svu", "svu", 44, 155), ("svu", "district_station", 4, 12)])
    res = misclassification_model(df)
    assert res.formula == "correctly_identified ~ period * unit"
    assert res.method == METHOD_FIRTH
    assert list(res.table["term"]) == ["period[T.svu]", "unit[T.district_other]",
                                       "period[T.svu]:unit[T.district_other]"]
    assert np.isfinite(res.table[["odds_ratio", "ci_low", "ci_high", "p_value"]].to_numpy()).all()
    assert (res.table["ci_low"] < res.table["odds_ratio"]).all() and (res.table["odds_ratio"] < res.table["ci_high"]).all()
    assert res.notes == ("Fit: Firth's bias-reduced logistic regression with profile penalised-likelihood intervals "
                         "and penalised likelihood-ratio p-values, because the data are separated (a period x unit "
                         "cell with no events or only events).",)
    # the penalty pulls the observed 0/5 off zero, and the cell counts stay available to the analyst
    pred = predicted_probabilities(res)
    assert pred.loc[1, "observed"] == 0.0 and 0.0 < pred.loc[1, "predicted"] < 0.1
    assert list(res.cells["events"]) == [28, 0, 44, 4]


def test_few_events_in_a_cell_means_firth_and_the_note_has_no_counts():
    df = incidents([("vice", "vice", 28, 42), ("vice", "district_station", 3, 10),
                    ("svu", "svu", 44, 155), ("svu", "district_station", 4, 12)])
    res = misclassification_model(df)
    assert res.method == METHOD_FIRTH and res.formula == "correctly_identified ~ period * unit"
    assert res.notes[-1].endswith("because a period x unit cell has fewer than five events or non-events.")
    assert no_counts(res.notes)


def test_unit_margin_without_events_is_fitted_not_dropped():
    # no district-station-only report is correctly identified in either period: quasi-separated, Firth keeps unit
    df = incidents([("vice", "vice", 28, 42), ("vice", "district_station", 0, 5),
                    ("svu", "svu", 44, 155), ("svu", "district_station", 0, 7)])
    res = misclassification_model(df)
    assert res.formula == "correctly_identified ~ period * unit" and res.method == METHOD_FIRTH
    assert np.isfinite(res.table["odds_ratio"]).all() and no_counts(res.notes)


def test_complete_separation_by_period_is_firths_2x2_estimate():
    # all Vice reports have the outcome, no SVU report: no ML estimate. For a 2 x 2 table Firth's estimate is the
    # odds ratio with 0.5 added to every cell (Firth 1993): (0.5 / 8.5) / (10.5 / 0.5) = 0.0028011
    df = incidents([("vice", "vice", 10, 10), ("svu", "svu", 0, 8)])
    res = misclassification_model(df)
    row = res.table.set_index("term").loc["period[T.svu]"]
    assert res.formula == "correctly_identified ~ period" and res.method == METHOD_FIRTH
    assert row["odds_ratio"] == pytest.approx((0.5 / 8.5) / (10.5 / 0.5), rel=1e-7)
    assert 0 < row["ci_low"] < row["odds_ratio"] < row["ci_high"] < 1 and row["p_value"] < 0.05
    assert any("because the data are separated (a period with no events or only events)" in n for n in res.notes)
    assert no_counts(res.notes)


def test_empty_cell_is_a_rank_problem_not_a_crash():
    df = incidents([("vice", "vice", 20, 42), ("svu", "svu", 44, 155), ("svu", "district_station", 4, 12)])
    res = misclassification_model(df)
    assert res.formula == "correctly_identified ~ period + unit"
    assert ("interaction period x unit not estimable (empty cells or a level that does not occur: no reports in "
            "Vice period x district station / other unit only); dropped") in res.notes
    assert res.method == METHOD_FIRTH  # SVU x district/other: 4 events
    pred = predicted_probabilities(res)
    assert math.isnan(pred.loc[1, "predicted"]) and pred.loc[1, "n"] == 0
    assert no_counts(res.notes)


def test_missing_outcome_and_unit_are_left_out():
    df = incidents([("vice", "vice", 5, 10), ("svu", "svu", 3, 10), ("svu", "-8", 1, 2)])
    df.loc[0, "correctly_identified"] = pd.NA
    res = misclassification_model(df, interaction=False)
    assert res.n == 22 - 3  # 22 reports: one blank outcome, two with the unit not documented
    # the note says which reports, not how many (the notes are shared; n is in the table)
    assert "Reports left out: those with a blank correctly_identified or no period or unit documented." in res.notes
    assert no_counts(res.notes)
    crude = misclassification_model(df, unit=False)
    assert crude.n == 21  # the unit does not matter for the crude model


def test_bad_input_is_explained():
    df = incidents([("vice", "vice", 5, 10), ("svu", "svu", 3, 10)])
    with pytest.raises(ValueError, match="no column 'nope'"):
        misclassification_model(df, "nope")


# --------------------------------------------------------------------------------------------------
# The synthetic example's built-in differences
# --------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def example_incidents():
    from analysis.derive.variables import derive
    from analysis.intake.load import load_coded_tables
    from analysis.intake.validate import validate_tables

    from .conftest import EXAMPLE

    return derive(validate_tables(load_coded_tables(EXAMPLE)).valid)["incidents"]


def test_synthetic_correctly_identified_fell(example_incidents):
    # built in: 0.6 -> 0.25 of reports labelled trafficking are established
    res = misclassification_model(example_incidents, "correctly_identified")
    period = res.table.set_index("term").loc["period[T.svu]"]
    assert period["odds_ratio"] < 1 and period["ci_high"] < 1
    assert res.n == int(example_incidents["correctly_identified"].notna().sum())
    assert res.events == int(example_incidents["correctly_identified"].sum())
    crude = misclassification_model(example_incidents, "correctly_identified", unit=False)
    assert crude.table["odds_ratio"].iloc[0] < 1


def test_synthetic_model_is_firths_and_matches_r(example_incidents):
    # the district/other cells have 1 of 2 and 2 of 6 reports correctly identified: a Firth fit, which R
    # (logistf's profile penalised likelihood, checked against brglm2) gives as in tests/fixtures/r/firth.csv
    res = misclassification_model(example_incidents, "correctly_identified")
    assert res.method == METHOD_FIRTH and res.formula == "correctly_identified ~ period * unit"
    ref = fixture("firth")
    ref = ref[ref["model"] == "correctly_identified ~ period * unit_type"].set_index("term")
    terms = {"period[T.svu]": "periodsvu", "unit[T.district_other]": "unit_typedistrict_other",
             "period[T.svu]:unit[T.district_other]": "periodsvu:unit_typedistrict_other"}
    for term, r_term in terms.items():
        row, r = res.table.set_index("term").loc[term], ref.loc[r_term]
        assert math.log(row["odds_ratio"]) == pytest.approx(r["estimate"], abs=1e-6), term
        assert (math.log(row["ci_low"]), math.log(row["ci_high"])) == pytest.approx((r["ci_low"], r["ci_high"]),
                                                                                     abs=1e-6), term
        assert row["p_value"] == pytest.approx(r["p_value"], rel=1e-6), term
        assert (row["n"], row["events"]) == (r["n"], r["events"])
    cells = fixture("firth_cells")
    assert [tuple(x) for x in cells.loc[cells["model"].str.startswith("correctly"), ["events", "n"]].to_numpy()] == \
        [tuple(x) for x in res.cells[["events", "n"]].to_numpy()[[0, 2, 1, 3]]]


def test_firth_logit_matches_r_on_a_separated_cell():
    # hiv_charge ~ period among the example's sellers: no HIV charge in SVU (quasi-complete separation)
    ref = fixture("firth")
    ref = ref[ref["model"] == "hiv_charge ~ period (sellers)"]
    n, events = int(ref["n"].iloc[0]), int(ref["events"].iloc[0])
    cells = fixture("firth_cells")
    c = cells[cells["model"] == "hiv_charge ~ period (sellers)"].set_index("period")
    assert c.loc["svu", "events"] == 0 and c.loc[["vice", "svu"], "n"].sum() == n
    X, y = [], []
    for period, r in c.iterrows():
        for i in range(int(r["n"])):
            X.append([1.0, float(period == "svu")])
            y.append(float(i < r["events"]))
    fit = firth_logit(np.array(X), np.array(y))
    assert sum(y) == events
    np.testing.assert_allclose(fit.coef, ref["estimate"], atol=1e-6)
    np.testing.assert_allclose(fit.se, ref["se"], rtol=1e-4)
    np.testing.assert_allclose(fit.ci_low, ref["ci_low"], atol=1e-6)
    np.testing.assert_allclose(fit.ci_high, ref["ci_high"], atol=1e-6)
    np.testing.assert_allclose(fit.p_value, ref["p_value"], rtol=1e-6)
    assert fit.loglik == pytest.approx(ref["penalized_loglik"].iloc[0], rel=1e-9) and fit.notes == ()


def test_synthetic_screening_rose(example_incidents):
    # built in: 0.15 -> 0.50 of reports screened for trafficking
    res = misclassification_model(example_incidents, "screened_trafficking_yes")
    period = res.table.set_index("term").loc["period[T.svu]"]
    assert period["odds_ratio"] > 1 and period["ci_low"] > 1
    pred = predicted_probabilities(res)
    assert pred["n"].sum() == res.n
