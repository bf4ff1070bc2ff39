"""Buyer income strata end to end: the shipped SYNTHETIC lookup, labelled strata, and 'not available' once."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from analysis.cli.app import main
from analysis.derive.income import parse_acs_income
from analysis.intake.load import load_coded_tables
from analysis.report.pipeline import validate_derive
from analysis.tables.compare import before_after
from analysis.tables.display import display_table

from .conftest import write_folder

LOOKUP = Path(__file__).resolve().parents[1] / "data" / "raw" / "example" / "income_lookup" / "SYNTHETIC_acs_b19013_zcta.csv"


def _lookup() -> pd.DataFrame:
    return parse_acs_income(pd.read_csv(LOOKUP, dtype=str, keep_default_na=False), source=str(LOOKUP))


def test_the_shipped_lookup_is_acs_shaped_and_marked_synthetic():
    text = LOOKUP.read_text(encoding="utf-8")
    assert text.splitlines()[0] == "GEO_ID,NAME,B19013_001E,B19013_001M"
    assert "SYNTHETIC" in text.splitlines()[1] and "SYNTHETIC" in LOOKUP.name
    lk = _lookup().set_index("zip")["median_income"]
    assert len(lk) == 29 and "94025" not in lk.index  # one example ZIP left out: 'ZIP not in lookup'
    assert pd.isna(lk["94134"]) and lk["95014"] == 250000.0  # no estimate; top-coded 250,000+


def _buyers(frames, cb, cfg, lookup, folder):
    coded = load_coded_tables(write_folder({k: v.copy() for k, v in frames.items()}, folder), cb)
    persons = validate_derive(coded, cb, cfg, lookup).tables["persons"]
    return before_after(persons, "persons", role="buyer", n_boot=10, codebook=cb, config=cfg)


def test_without_a_lookup_one_not_available_row_and_no_test(_small_frames, cb, cfg, tmp_path):
    ct = _buyers(_small_frames, cb, cfg, None, tmp_path)
    rows = ct.rows[ct.rows["column"] == "income_stratum"]
    # said once; the buyers with no ZIP on the report stay counted as 'not documented'
    assert rows["level_label"].tolist() == ["Not available (no income lookup given)", "Not documented"]
    assert rows["row_type"].tolist() == ["missing", "missing"]
    assert rows["test"].iloc[0] == "not tested" and rows["p_value"].isna().all() and rows["q_value"].isna().all()


def test_with_the_lookup_strata_carry_the_study_labels(_small_frames, cb, cfg, tmp_path):
    ct = _buyers(_small_frames, cb, cfg, _lookup(), tmp_path)
    rows = ct.rows[ct.rows["column"] == "income_stratum"]
    levels = rows[rows["row_type"] == "level"]["level_label"].tolist()
    assert levels == list(cfg.income_labels)
    assert "low" not in rows["level_label"].tolist()
    shown = display_table(ct, threshold=cfg.suppression_threshold)
    assert cfg.income_labels[0] in shown["Level"].tolist()


@pytest.mark.slow
def test_tables_command_takes_the_income_lookup(_small_frames, tmp_path, capsys):
    folder = write_folder({k: v.copy() for k, v in _small_frames.items()}, tmp_path / "coded")
    assert main(["tables", str(folder), "--out", str(tmp_path / "out"), "--n-boot", "5",
                 "--income-lookup", str(LOOKUP)]) == 0
    buyers = (tmp_path / "out" / "shared" / "persons_buyers.csv").read_text(encoding="utf-8")
    assert "Lower income (< $50,000)" in buyers and "Not available" not in buyers
    assert main(["tables", str(folder), "--out", str(tmp_path / "out2"), "--n-boot", "5"]) == 0
    out = capsys.readouterr().out
    assert "Buyer income strata: not available (no --income-lookup file given)." in out
    buyers = (tmp_path / "out2" / "shared" / "persons_buyers.csv").read_text(encoding="utf-8")
    assert buyers.count("Not available (no income lookup given)") == 1 and "Lower income" not in buyers
