"""The committed R reference values (tests/fixtures/r/, made by survey_reference.R) still describe today's synthetic
example: the unweighted counts behind every fixture row are recomputed here from the derived tables, without R.

If a test here fails, the derived example changed under the fixtures: rerun the R script (see its README) and
commit the new CSVs, or the design-based tests of issue 13 would compare against values for other data.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from .conftest import EXAMPLE

FIXTURES = Path(__file__).parent / "fixtures" / "r"
MISSING = {"-8", "-9", "not documented", "not applicable", "unknown", ""}
YES, NO = {"yes", "True"}, {"no", "False"}


def fixture(name: str) -> pd.DataFrame:
    return pd.read_csv(FIXTURES / f"{name}.csv", keep_default_na=False, na_values=[""])


@pytest.fixture(scope="module")
def derived(tmp_path_factory) -> dict[str, pd.DataFrame]:
    """The derived example as the R script reads it: the CSVs of ``python -m analysis derive``, all text."""
    out = tmp_path_factory.mktemp("derived")
    run = subprocess.run([sys.executable, "-m", "analysis", "derive", str(EXAMPLE), "--out", str(out)],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    return {t: pd.read_csv(out / f"{t}.csv", dtype=str, keep_default_na=False) for t in ("incidents", "persons")}


def in_population(df: pd.DataFrame, population: str) -> pd.Series:
    return df["role"] == "seller" if population == "seller" else pd.Series(True, index=df.index)


def test_the_frame_holds_the_sample_and_the_refused_frame_does_not(derived):
    sampled = derived["incidents"]["report_year"].astype(int).value_counts().to_dict()
    assert sampled == {2009: 248, 2010: 247, 2014: 247, 2015: 247}
    frame = fixture("frame").set_index("report_year")["frame_reports"].to_dict()
    assert frame == {2009: 1136, 2010: 910, 2014: 420, 2015: 360}
    assert all(frame[y] >= n for y, n in sampled.items())
    refused = fixture("refused")
    assert refused[["design", "report_year", "frame_reports", "sampled_reports"]].values.tolist() == [
        ["incidents", 2015, 216, 247], ["persons", 2015, 216, 247]]
    assert set(refused["r_error"]) == {"FPC implies >100% sampling in some strata"}


def test_strata_counts_match_the_derived_tables(derived):
    for _, r in fixture("strata").iterrows():
        df = derived[r["design"]]
        rows = df[df["report_year"].astype(int) == r["report_year"]]
        assert (len(rows), rows["report_id"].nunique()) == (r["sampled_units"], r["sampled_reports"]), r.to_dict()
        assert r["weight"] == pytest.approx(r["frame_reports"] / r["sampled_reports"], rel=1e-15)


def test_proportion_counts_match_the_derived_tables(derived):
    """n (rows with the level) and N (rows in the domain) of every fixture row, per period and overall."""
    props = fixture("proportions")
    assert len(props) == 150
    for (table, population, variable, kind), rows in props.groupby(["table", "population", "variable", "kind"]):
        df = derived[table]
        df = df[in_population(df, population)]
        values = df[variable]
        if kind == "binary":
            domain, hit = values.isin(YES | NO), values.isin(YES)
        else:
            domain = ~values.isin(MISSING)
        for _, r in rows.iterrows():
            in_group = domain & ((df["period"] == r["group"]) if r["group"] != "overall" else True)
            if kind == "category":
                hit = values == r["level"]
            assert (int((in_group & hit).sum()), int(in_group.sum())) == (r["n"], r["N"]), r.to_dict()


def test_mean_counts_and_firth_cells_match_the_derived_tables(derived):
    for _, r in fixture("means").iterrows():
        df = derived[r["table"]]
        x = pd.to_numeric(df[r["variable"]], errors="coerce").notna() & in_population(df, r["population"])
        if r["group"] != "overall":
            x &= df["period"] == r["group"]
        assert int(x.sum()) == r["N"], r.to_dict()
    cells = fixture("firth_cells")
    inc = derived["incidents"]
    flag = {c: inc[f"investigating_unit__{c}"] == "True" for c in ("vice", "svu", "district_station", "other")}
    unit = pd.Series(None, index=inc.index, dtype=object)
    unit[flag["district_station"] | flag["other"]] = "district_other"
    unit[flag["vice"] | flag["svu"]] = "specialised"
    labelled = inc["correctly_identified"].isin(["True", "False"]) & unit.notna()
    for _, r in cells[cells["model"].str.startswith("correctly_identified")].iterrows():
        m = labelled & (inc["period"] == r["period"]) & (unit == r["unit_type"])
        assert (int((m & (inc["correctly_identified"] == "True")).sum()), int(m.sum())) == (r["events"], r["n"])
