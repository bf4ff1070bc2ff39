"""Tests of analysis.stats.models: the misclassification / screening logistic regressions.

Constructed data with known answers: 2 x 2 odds ratios and Wald intervals computed by hand, saturated-model
cell probabilities equal to the observed proportions, separation reported rather than fitted.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from analysis.stats.models import misclassification_model, predicted_probabilities, unit_type

Z = norm.ppf(0.975)  # 1.959964; the hand formula's "1.96" rounded changes the 4th decimal of a CI limit

UNITS = {
    "vice": dict(vice=True, svu=False, district_station=False, other=False),
    "vice;district_station": dict(vice=True, svu=False, district_station=True, other=False),
    "svu": dict(vice=False, svu=True, district_station=False, other=False),
    "district_station": dict(vice=False, svu=False, district_station=True, other=False),
    "other": dict(vice=False, svu=False, district_station=False, other=True),
    "-8": dict(vice=None, svu=None, district_station=None, other=None),
}


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


def test_interaction_model_is_saturated_cell_probabilities_equal_observed():
    spec = [("vice", "vice", 28, 42), ("vice", "district_station", 3, 10),
            ("svu", "svu", 44, 155), ("svu", "district_station", 4, 12)]
    df = incidents(spec)
    res = misclassification_model(df)
    assert res.formula == "correctly_identified ~ period * unit"
    assert res.notes == ()
    pred = predicted_probabilities(res)
    assert list(pred["n"]) == [42, 10, 155, 12]
    assert list(pred["events"]) == [28, 3, 44, 4]
    np.testing.assert_allclose(pred["predicted"], [28 / 42, 3 / 10, 44 / 155, 4 / 12], rtol=1e-8)
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


def test_cell_without_events_is_reported_and_interaction_dropped():
    df = incidents([("vice", "vice", 28, 42), ("vice", "district_station", 0, 5),
                    ("svu", "svu", 44, 155), ("svu", "district_station", 4, 12)])
    res = misclassification_model(df)
    assert res.formula == "correctly_identified ~ period + unit"
    note = " ".join(res.notes)
    assert "interaction period x unit not estimable" in note
    assert "Vice period x district station / other unit only: 0 of 5 correctly identified" in note
    assert np.isfinite(res.table[["odds_ratio", "ci_low", "ci_high", "p_value"]].to_numpy()).all()
    assert list(res.table["term"]) == ["period[T.svu]", "unit[T.district_other]"]
    # no longer saturated: predictions differ from the observed 0/5 but still fit the margins
    pred = predicted_probabilities(res)
    assert pred.loc[1, "observed"] == 0.0 and pred.loc[1, "predicted"] > 0.0
    assert (pred["predicted"] * pred["n"]).sum() == pytest.approx(pred["events"].sum(), rel=1e-6)


def test_unit_margin_without_events_drops_unit():
    # no district-station-only report is correctly identified in either period: unit is quasi-separated
    df = incidents([("vice", "vice", 28, 42), ("vice", "district_station", 0, 5),
                    ("svu", "svu", 44, 155), ("svu", "district_station", 0, 7)])
    res = misclassification_model(df)
    assert res.formula == "correctly_identified ~ period"
    assert any("unit term not estimable" in n and "0 of 12" in n for n in res.notes)
    assert np.isfinite(res.table["odds_ratio"]).all()


def test_complete_separation_by_period_gives_nan_and_a_note():
    df = incidents([("vice", "vice", 10, 10), ("svu", "svu", 0, 8)])
    res = misclassification_model(df)
    assert res.table["odds_ratio"].isna().all() and res.table["p_value"].isna().all()
    assert any("period odds ratio not estimable" in n and "Vice: 10 of 10" in n and "SVU: 0 of 8" in n
               for n in res.notes)
    assert predicted_probabilities(res)["predicted"].isna().all()


def test_empty_cell_is_a_rank_problem_not_a_crash():
    df = incidents([("vice", "vice", 20, 42), ("svu", "svu", 44, 155), ("svu", "district_station", 4, 12)])
    res = misclassification_model(df)
    assert res.formula == "correctly_identified ~ period + unit"
    assert any("empty cells" in n and "Vice period x district station / other unit only: no reports" in n
               for n in res.notes)
    pred = predicted_probabilities(res)
    assert math.isnan(pred.loc[1, "predicted"]) and pred.loc[1, "n"] == 0


def test_missing_outcome_and_unit_are_left_out():
    df = incidents([("vice", "vice", 5, 10), ("svu", "svu", 3, 10), ("svu", "-8", 1, 2)])
    df.loc[0, "correctly_identified"] = pd.NA
    res = misclassification_model(df, interaction=False)
    assert res.n == 22 - 3  # 22 reports: one blank outcome, two with the unit not documented
    assert any("3 of 22 reports left out" in n for n in res.notes)
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


def test_synthetic_screening_rose(example_incidents):
    # built in: 0.15 -> 0.50 of reports screened for trafficking
    res = misclassification_model(example_incidents, "screened_trafficking_yes")
    period = res.table.set_index("term").loc["period[T.svu]"]
    assert period["odds_ratio"] > 1 and period["ci_low"] > 1
    pred = predicted_probabilities(res)
    assert pred["n"].sum() == res.n
