"""The interrupted time series: the tutorial's Sicily models reproduced, the design at a mid-month change,
exact recovery of a known step and trend change, errors, and the `public trends` command."""

from __future__ import annotations

import datetime as dt
import inspect
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.public import monthly_counts
from analysis.stats import its
from analysis.stats.its import SeriesError

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "public"


def run_cli(argv: list[str]) -> int:
    """``python -m analysis ...``: through analysis.cli.app.main once `public` is wired there, else cli_public.main."""
    from analysis.cli import app as cli
    from analysis.cli import public as cli_public

    wired = "cli_public" in inspect.getsource(cli)
    return (cli.main if wired else cli_public.main)(argv)


@pytest.fixture(scope="module")
def sicily():
    d = pd.read_csv(FIXTURES / "sicily.csv")
    d["month"] = pd.to_datetime({"year": d["year"], "month": d["month"], "day": 1})
    return d


BAN = dt.date(2005, 1, 1)


def _rr(result, term, digits=3):
    return tuple(round(x, digits) for x in result.rr(term))


def test_sicily_fixture_is_the_tutorial_series(sicily):
    assert len(sicily) == 59 and int(sicily["aces"].sum()) == 48_914
    # the means printed in the tutorial code: 810.9 before the ban, 857.5 after
    assert round(sicily.loc[sicily["smokban"] == 0, "aces"].mean(), 1) == 810.9
    assert round(sicily.loc[sicily["smokban"] == 1, "aces"].mean(), 1) == 857.5
    assert sicily["month"].iloc[0] == pd.Timestamp("2002-01-01") and sicily["month"].iloc[-1] == pd.Timestamp("2006-11-01")
    assert int(sicily["smokban"].sum()) == 23 and int(sicily.loc[sicily["smokban"] == 1, "time"].min()) == 37


def test_sicily_seasonally_adjusted_quasi_poisson_matches_the_published_model(sicily):
    # Lopez Bernal, Cummins & Gasparrini (2017), IJE 46:348-355, Step 5 (seasonality): quasi-Poisson, offset
    # log(stdpop), harmonic(month, 2, 12), step change: RR 0.885 (95% CI 0.839-0.933); the authors' Rcode.R
    # (model3) prints the same, with dispersion 2.262 and a trend of 1.067 per year.
    r = its.fit_its(sicily, BAN, count="aces", offset="stdpop", n_harmonics=2, se="quasi", slope_change=False)
    assert _rr(r, "level_change_rr") == (0.885, 0.839, 0.933)
    assert round(r.dispersion, 3) == 2.262
    assert round(float(np.exp(12 * r.params["time"])), 3) == 1.067


def test_sicily_poisson_and_quasi_poisson_without_seasonality(sicily):
    # Rcode.R model1 (Poisson) and model2 (quasi-Poisson): same estimate, wider interval, dispersion 3.559.
    m1 = its.fit_its(sicily, BAN, count="aces", offset="stdpop", n_harmonics=0, se="model", slope_change=False)
    assert _rr(m1, "level_change_rr") == (0.894, 0.865, 0.925)
    assert _rr(m1, "pre_trend_rr", 4) == (1.0050, 1.0040, 1.0059)
    m2 = its.fit_its(sicily, BAN, count="aces", offset="stdpop", n_harmonics=0, se="quasi", slope_change=False)
    assert _rr(m2, "level_change_rr") == (0.894, 0.839, 0.953)
    assert round(m2.dispersion, 3) == 3.559


def test_sicily_step_and_slope_change(sicily):
    # Rcode.R model4 (additional material): smokban + I(time - 36):smokban, quasi-Poisson with 2 harmonics.
    m4 = its.fit_its(sicily, BAN, count="aces", offset="stdpop", se="quasi")
    assert _rr(m4, "level_change_rr") == (0.876, 0.827, 0.929)
    assert _rr(m4, "slope_change_rr", 4) == (1.0015, 0.9978, 1.0051)
    # our default errors (Newey-West, 3 lags for 59 months): same estimates, narrower intervals here
    hac = its.fit_its(sicily, BAN, count="aces", offset="stdpop")
    assert hac.maxlags == 3 and hac.se == "hac"
    assert _rr(hac, "level_change_rr") == (0.876, 0.846, 0.908)
    assert _rr(hac, "slope_change_rr", 4) == (1.0015, 0.9987, 1.0043)


def test_design_at_a_mid_month_change():
    X = its.design(pd.date_range("2011-08-01", periods=4, freq="MS"), dt.date(2011, 10, 17), n_harmonics=1)
    assert list(X.columns) == ["const", "time", "level", "slope", "sin1", "cos1"]
    assert X["time"].tolist() == [1, 2, 3, 4]
    # 15 of October's 31 days are on or after the 17th; the slope counts months elapsed to each month's end
    assert X["level"].tolist() == pytest.approx([0, 0, 15 / 31, 1])
    assert X["slope"].tolist() == pytest.approx([0, 0, 15 / 31, 1 + 15 / 31])
    assert X["sin1"].iloc[0] == pytest.approx(np.sin(2 * np.pi * 8 / 12))


@pytest.mark.filterwarnings("ignore:Perfect separation")
def test_known_step_and_trend_change_are_recovered_exactly():
    months = pd.date_range("2008-01-01", periods=72, freq="MS")
    X = its.design(months, dt.date(2011, 1, 1))
    mu = np.exp(np.log(200) + np.log(0.995) * X["time"] + np.log(0.5) * X["level"] + np.log(1.01) * X["slope"]
                + 0.1 * X["sin1"] - 0.05 * X["cos2"])
    monthly = pd.DataFrame({"month": months, "incidents": mu})
    r = its.fit_its(monthly, dt.date(2011, 1, 1))
    assert r.rr("level_change_rr")[0] == pytest.approx(0.5, rel=1e-8)
    assert r.rr("slope_change_rr")[0] == pytest.approx(1.01, rel=1e-8)
    assert r.rr("pre_trend_rr")[0] == pytest.approx(0.995, rel=1e-8)
    assert r.rr("post_trend_rr")[0] == pytest.approx(0.995 * 1.01, rel=1e-8)
    s = r.series
    assert s["fitted"].to_numpy() == pytest.approx(mu.to_numpy(), rel=1e-8)
    # counterfactual = fitted before the change; after it, fitted / counterfactual = level RR x slope RR^slope
    before = s["month"] < pd.Timestamp("2011-01-01")
    assert (s.loc[before, "fitted"] == s.loc[before, "counterfactual"]).all()
    ratio = (s["fitted"] / s["counterfactual"])[~before]
    assert ratio.to_numpy() == pytest.approx((0.5 * 1.01 ** s.loc[~before, "slope"]).to_numpy(), rel=1e-8)
    # an offset proportional to the counts leaves no change to find
    with_offset = monthly.assign(offset=mu * 3)
    r0 = its.fit_its(with_offset, dt.date(2011, 1, 1), offset="offset")
    assert r0.rr("level_change_rr")[0] == pytest.approx(1.0, abs=1e-8)


def test_monthly_counts_fill_zeros_and_drop_an_incomplete_last_month():
    from analysis.public import parse_public

    text = '"i","Date","Solved","Not Solved"\n"1",2010-01-05,3,1\n"2",2010-03-31,2,0\n"3",2010-04-08,1,0\n'
    f = parse_public(text.encode(), "sfpd_prostitution_daily.csv")
    m = monthly_counts(f)
    assert m["month"].dt.strftime("%Y-%m").tolist() == ["2010-01", "2010-02", "2010-03"]
    assert m["incidents"].tolist() == [4, 0, 2]
    assert monthly_counts(f, drop_incomplete=False)["incidents"].tolist() == [4, 0, 2, 1]
    assert monthly_counts(f, start="2010-02", end="2010-03")["incidents"].tolist() == [0, 2]


def test_its_refuses_unusable_series():
    monthly = pd.DataFrame({"month": pd.date_range("2012-01-01", periods=24, freq="MS"), "incidents": 5})
    with pytest.raises(SeriesError) as exc:
        its.fit_its(monthly, dt.date(2011, 10, 17))
    assert (exc.value.rule, exc.value.variable) == ("its_range", "month")
    assert str(exc.value) == ("the change date 2011-10-17 needs at least 3 whole months on each "
                                                "side of it; the series runs 2012-01 to 2013-12 (0 before, 24 after)")
    gap = monthly.drop(index=5)
    with pytest.raises(SeriesError, match="not consecutive"):
        its.fit_its(gap, dt.date(2012, 10, 1))
    with pytest.raises(SeriesError, match="offset offset must be positive"):
        its.fit_its(monthly.assign(offset=0), dt.date(2012, 10, 1), offset="offset")


def test_trends_command_writes_counts_and_summary(tmp_path, capsys):
    # a daily table with a fixed seasonal pattern, halved from 17 Oct 2011
    days = pd.date_range("2009-01-01", "2013-12-31", freq="D")
    rate = np.where(days >= pd.Timestamp("2011-10-17"), 2, 4) + (days.month == 7)
    table = pd.DataFrame({"i": range(1, len(days) + 1), "Date": days.strftime("%Y-%m-%d"), "Solved": rate,
                          "Not Solved": 0})
    src = tmp_path / "daily.csv"
    table.to_csv(src, index=False)
    assert run_cli(["public", "trends", str(src), "--out", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    assert "Monthly counts (offence rows): 60 months, 2009-01 to 2013-12, 5845 in all" in out
    monthly = pd.read_csv(tmp_path / "out" / "monthly_counts.csv")
    assert list(monthly.columns) == ["month", "incidents"]
    assert monthly.iloc[[0, 6, 33, 34]].values.tolist() == [["2009-01", 124], ["2009-07", 155], ["2011-10", 94],
                                                            ["2011-11", 60]]
    summary = pd.read_csv(tmp_path / "out" / "its_summary.csv")
    assert list(summary.columns) == ["term", "estimate", "ci_low", "ci_high"]
    assert {"level_change_rr", "slope_change_rr"} <= set(summary["term"])
    est = summary.set_index("term")["estimate"]
    assert est["level_change_rr"] == pytest.approx(0.5, abs=0.02)
    assert est["slope_change_rr"] == pytest.approx(1.0, abs=0.002)


def test_trends_on_the_real_daily_table(shared_sfpd, tmp_path, capsys):
    daily = shared_sfpd / "sfpd_prostitution_daily_2003_2015.csv"
    everything = shared_sfpd / "sfpd_all_categories_daily_2003_2015.csv"
    assert run_cli(["public", "trends", str(daily), "--out", str(tmp_path / "a")]) == 0
    out = capsys.readouterr().out
    assert "155 months, 2003-01 to 2015-11, 15435 in all" in out  # December 2015 (to the 8th) dropped
    s = pd.read_csv(tmp_path / "a" / "its_summary.csv").set_index("term")
    assert tuple(s.loc["level_change_rr"].round(3)) == (0.616, 0.478, 0.795)
    assert tuple(s.loc["slope_change_rr"].round(3)) == (0.985, 0.977, 0.994)
    assert round(s.loc["dispersion", "estimate"], 2) == 9.78
    assert run_cli(["public", "trends", str(daily), "--offset", str(everything), "--out", str(tmp_path / "b")]) == 0
    s = pd.read_csv(tmp_path / "b" / "its_summary.csv").set_index("term")
    assert tuple(s.loc["level_change_rr"].round(3)) == (0.589, 0.466, 0.744)
