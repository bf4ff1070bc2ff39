"""Peer check: on the same data our table agrees with tableone wherever the two use the same method.

Where they differ, the difference is by design and is asserted here so it stays documented:
* 2 x 2 tables: tableone's chi-square uses Yates' continuity correction (scipy's default); we follow
  gtsummary (no correction, Fisher's exact when an expected count is below 5).
* Numbers: tableone tests with Kruskal-Wallis; we use the Wilcoxon rank-sum (Mann-Whitney) test, which with
  two groups differs only by scipy's continuity correction, so the p-values are close but not equal.
* Missing values: we exclude 'not documented' from denominators and tests and show it as its own row; fed the
  same rows (include_null=False), tableone gives the same counts and percentages.
"""

from __future__ import annotations

import pandas as pd
import pytest
from scipy import stats as sps

from analysis.derive.variables import derive
from analysis.intake.load import load_coded_tables
from analysis.intake.validate import validate_tables
from analysis.tables.compare import before_after

from .conftest import EXAMPLE

tableone = pytest.importorskip("tableone")


@pytest.fixture(scope="module")
def incidents(cb, cfg):
    return derive(validate_tables(load_coded_tables(EXAMPLE)).valid, cb, cfg)["incidents"]


@pytest.fixture(scope="module")
def both(incidents, cb, cfg):
    ours = before_after(incidents, "incidents", variables=["district", "screened_trafficking", "phones_seized_count"],
                        codebook=cb, config=cfg).rows
    df = pd.DataFrame({
        "period": incidents["period"].astype(str),
        "district": incidents["district"].astype(str).where(incidents["district"].astype(str) != "-8"),
        "screened": incidents["screened_trafficking"].astype(str),
        "phones": incidents["phones_seized_count"].astype(float),
    })
    t1 = tableone.TableOne(df, columns=["district", "screened", "phones"], categorical=["district", "screened"],
                           nonnormal=["phones"], groupby="period", pval=True, include_null=False, decimals=1,
                           htest_name=True)
    return ours, t1, df


def _cell(t1, var, level, col):
    return t1.tableone.loc[(var, level), ("Grouped by period", col)]


def test_counts_and_percentages_agree(both):
    ours, t1, _ = both
    for _, r in ours[(ours["column"] == "district") & (ours["row_type"] == "level")].iterrows():
        for g in ("vice", "svu"):
            assert _cell(t1, "district, n (%)", r["level"], g) == f"{int(r[f'n_{g}'])} ({r[f'pct_{g}']:.1f})"
    yes = ours[ours["column"] == "screened_trafficking"].iloc[0]
    assert _cell(t1, "screened, n (%)", "yes", "vice") == f"{int(yes['n_vice'])} ({yes['pct_vice']:.1f})"
    assert _cell(t1, "screened, n (%)", "yes", "svu") == f"{int(yes['n_svu'])} ({yes['pct_svu']:.1f})"


def test_chi_square_p_agrees_on_larger_tables(both):
    ours, t1, _ = both
    r = ours[ours["column"] == "district"].iloc[0]
    assert r["test"] == "Pearson's chi-squared"
    assert _cell(t1, "district, n (%)", "bayview", "Test") == "Chi-squared"
    assert float(_cell(t1, "district, n (%)", "bayview", "P-Value")) == pytest.approx(r["p_value"], abs=0.0005)


def test_two_by_two_differs_only_by_yates_correction(both):
    ours, t1, df = both
    yes = ours[ours["column"] == "screened_trafficking"].iloc[0]
    tab = pd.crosstab(df["screened"], df["period"]).to_numpy()
    assert yes["p_value"] == pytest.approx(sps.chi2_contingency(tab, correction=False)[1])
    their = t1.tableone.loc[("screened, n (%)", "no"), ("Grouped by period", "P-Value")]
    yates = sps.chi2_contingency(tab, correction=True)[1]
    assert their == ("<0.001" if yates < 0.001 else f"{yates:.3f}")


def test_numbers_medians_agree_and_p_values_are_close(both):
    ours, t1, df = both
    r = ours[ours["column"] == "phones_seized_count"].iloc[0]
    cell = t1.tableone.loc[("phones, median [Q1,Q3]", ""), ("Grouped by period", "vice")]
    assert cell == f"{r['median_vice']:.1f} [{r['q1_vice']:.1f},{r['q3_vice']:.1f}]"
    kw = sps.kruskal(df.loc[df.period == "vice", "phones"].dropna(), df.loc[df.period == "svu", "phones"].dropna())[1]
    assert r["p_value"] == pytest.approx(kw, abs=0.01)
    assert t1.tableone.loc[("phones, median [Q1,Q3]", ""), ("Grouped by period", "Test")] == "Kruskal-Wallis"
