"""The shipped synthetic example: regenerable byte for byte, valid, marked synthetic, with its built-in differences."""

from __future__ import annotations

import pytest

from analysis.cli.app import main
from analysis.coders.synth import BUILT_IN_DIFFERENCES, generate
from analysis.derive.variables import derive
from analysis.intake.load import load_coded_tables
from analysis.intake.validate import validate_tables
from analysis.scheme.synthetic import is_synthetic

from .conftest import EXAMPLE


def test_example_regenerates_byte_for_byte(tmp_path, capsys):
    assert main(["synth", "--out", str(tmp_path)]) == 0
    shipped = sorted(str(p.relative_to(EXAMPLE)) for p in EXAMPLE.rglob("*") if p.is_file() and p.name != "README.md"
                     and "income_lookup" not in p.parts)  # the income lookup is shipped beside the coded example
    assert shipped == ["charges.csv", "example_workbook.xlsx", "incidents.csv", "outcomes.csv", "persons.csv",
                       "second_coder/charges.csv", "second_coder/incidents.csv", "second_coder/persons.csv"]
    for name in shipped:
        assert (tmp_path / name).read_bytes() == (EXAMPLE / name).read_bytes(), (
            f"{name} differs from a fresh `python -m analysis synth`; regenerate with `make example`")


def test_default_size_is_the_published_sample_size():
    f = generate()
    assert len(f["incidents"]) == 989
    assert 1380 <= len(f["persons"]) <= 1500  # published: 1,442 people
    assert f["incidents"]["report_year"].value_counts().sort_index().to_dict() == {
        "2009": 248, "2010": 247, "2014": 247, "2015": 247}


def test_example_is_valid_and_marked_synthetic():
    r = validate_tables(load_coded_tables(EXAMPLE))
    assert r.exit_code == 0
    assert is_synthetic(r.valid["incidents"])
    assert r.valid["incidents"]["report_id"].str.startswith("SYN-").all()
    assert r.valid["persons"]["person_code"].str.startswith("SYN-P").all()
    assert r.valid["incidents"]["coder_id"].str.startswith("synth_").all()


def test_workbook_holds_the_same_data_as_the_csvs():
    a = validate_tables(load_coded_tables(EXAMPLE))
    b = validate_tables(load_coded_tables(EXAMPLE / "example_workbook.xlsx"))
    for t in a.valid:
        assert a.valid[t].equals(b.valid[t]), t


@pytest.fixture(scope="module")
def example_derived(cb, cfg):
    r = validate_tables(load_coded_tables(EXAMPLE))
    return derive(r.valid, cb, cfg)


def _by_period(series, period):
    return series.groupby(period.astype(str), observed=True).mean()


def _outcome_differences(per):
    """The built-in differences of the prosecution outcomes, each in the population its probability is of."""
    cited = per[per["outcome"].isin(["cited", "booked"])]
    known = per[per["da_outcome_known"].fillna(False).astype(bool)]
    selling = known[known["charged_selling"]]
    buyers = known[known["role"] == "buyer"]
    sellers_not_nc = known[(known["role"] == "seller") & (known["nc_referred"] == False)]  # noqa: E712
    return {
        "da_outcome_known": _by_period(cited["da_outcome_known"].astype(float), cited["period"]),
        "nc_referred": _by_period(selling["nc_referred"].astype(float), selling["period"]),
        "first_offender_program": _by_period(buyers["diverted_other"].astype(float), buyers["period"]),
        "convicted": _by_period(sellers_not_nc["convicted"].astype(float), sellers_not_nc["period"]),
    }


def test_built_in_differences_are_found_with_the_right_sign(example_derived):
    inc, per = example_derived["incidents"], example_derived["persons"]
    observed = {
        "condoms_evidence": _by_period(inc["condoms_evidence_any"].astype(float), inc["period"]),
        "screened_trafficking": _by_period(inc["screened_trafficking_yes"].astype(float), inc["period"]),
        "phones_seized": _by_period(inc["phones_seized_yes"].astype(float), inc["period"]),
        "interpreter_used": _by_period(inc["interpreter_used_yes"].astype(float), inc["period"]),
        "origin_sting_sellers": _by_period((inc["origin"] == "sting_sellers").astype(float), inc["period"]),
        "origin_massage_inspection": _by_period((inc["origin"] == "massage_inspection").astype(float), inc["period"]),
        "labelled_trafficking": _by_period(inc["labelled_trafficking"].astype(float), inc["period"]),
        "correctly_identified": _by_period(inc["correctly_identified"].astype(float), inc["period"]),
        "hiv_charge": _by_period(per["hiv_charge"].astype(float), per["period"]),
        "condoms_photographed": _by_period(
            inc["condoms_photographed_yes"].astype("boolean").fillna(False).astype(float), inc["period"]),
        "race_read_hispanic_latino": _by_period((per["race_ethnicity"] == "hispanic_latino").astype(float),
                                                per["period"]),
        **_outcome_differences(per),
    }
    assert set(observed) == set(BUILT_IN_DIFFERENCES)
    for key, (_, before, after) in BUILT_IN_DIFFERENCES.items():
        got = observed[key]
        assert (got["vice"] - got["svu"]) * (before - after) > 0, (key, got.to_dict())
