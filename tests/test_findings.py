"""The committee's questions (codebook), the findings and data-quality pages, and `python -m analysis questions`."""

from __future__ import annotations

import copy
import csv
import io
import math
import re

import pandas as pd
import pytest
import yaml

from analysis.cli.app import main
from analysis.coders.second_coder import second_coder_example
from analysis.report.findings import (
    DataQuality,
    Finding,
    Findings,
    build_data_quality,
    clip,
    coverage_lines,
)
from analysis.scheme.codebook import check_questions, codebook_path, parse_codebook
from analysis.tables.standard import OUTCOME_TABLES, STANDARD

from .conftest import write_folder

CHARTS = {"key_indicators", "case_origin", "people_by_role", "charges_by_role", "districts", "public_series"}
ISSUE_QUESTIONS = {"condoms", "classification", "charges", "buyer_income", "trans_women_of_color", "tay", "phones",
                   "language_access", "hiv_charges", "origin"}


def test_every_committee_question_has_variables_a_table_and_a_chart_or_none(cb):
    assert {q.id for q in cb.questions} >= ISSUE_QUESTIONS
    assert check_questions(cb) == []
    tables = {name for name, *_ in STANDARD} | {name for name, *_ in OUTCOME_TABLES}
    for q in cb.questions:
        assert q.variables and q.asked and q.population, q.id
        assert q.table in tables, q.id
        assert q.chart is None or q.chart in CHARTS, q.id


def _doc():
    return yaml.safe_load(codebook_path().read_text(encoding="utf-8"))


def test_a_question_with_no_variable_or_an_unknown_one_is_a_codebook_problem():
    doc = _doc()
    doc["questions"][0]["variables"] = []
    doc["questions"][1]["variables"] = ["incidents.condoms_evidense"]
    doc["questions"][2]["variables"] = ["incidents.interpreter_mode__smoke_signals"]
    problems = check_questions(parse_codebook(copy.deepcopy(doc)))
    assert problems == [
        "question 'condoms': names no variable that answers it",
        "question 'classification': 'incidents.condoms_evidense' is not a variable of the codebook (write "
        "table.variable)",
        "question 'charges': 'incidents.interpreter_mode__smoke_signals' is not a variable of the codebook (write "
        "table.variable)",
    ]


def test_coverage_flags_a_question_without_a_finding(cb):
    one = Finding("condoms", "Q?", ["A sentence."], rows=["Condoms"])
    lines, uncovered = coverage_lines(cb, Findings([one]))
    assert "condoms" not in uncovered
    assert set(uncovered) == {q.id for q in cb.questions} - {"condoms"}  # every other question has no finding
    assert "   finding:    [] A sentence." in lines


# --- the findings of a small synthetic coding, as the report writes them -------------------------------------


@pytest.fixture(scope="module")
def small(_small_frames, tmp_path_factory, cb, cfg):
    """A small synthetic coding (24 reports, double-coded): its findings as publish() writes them, and the files."""
    from analysis.intake.load import load_coded_tables
    from analysis.report import pipeline
    from analysis.report.publish import (
        FindingsItem,
        Publication,
        protect_publication,
        publish,
        rendered_pages,
        shown_table,
    )

    folder = write_folder({k: v.copy() for k, v in _small_frames.items()}, tmp_path_factory.mktemp("coded"))
    write_folder(second_coder_example(_small_frames, seed=7), folder / "second_coder")
    derived = pipeline.validate_derive(load_coded_tables(folder, cb), cb, cfg)
    stamp = {"inputs": {}, "codebook_version": cb.version, "code_version": "x", "synthetic": True}
    tables = pipeline.tables_and_model(derived.tables, cb, cfg, stamp, n_boot=20, key=False)
    pub = Publication(synthetic=True)
    pub.add(*tables.standard_shared(), FindingsItem(cb.questions, None, income_available=False))
    thr = cfg.suppression_threshold
    protection = protect_publication(pub, cfg, check_ranges=False)
    findings, _ = rendered_pages(pub, [(item, shown_table(item, protection), []) for item in pub.tables], thr,
                                 protection)
    SMALL.update(publication=pub, protection=protection)
    return folder, findings, publish(pub, cfg, protection)


SMALL: dict = {}  # the small fixture's publication and protection


def test_a_data_item_cannot_be_written_over_a_page(small, cfg):
    """The publishing step refuses two items making one file, a page's file (findings.csv) included."""
    import dataclasses

    from analysis.report.publish import DataItem, publish

    pub = dataclasses.replace(SMALL["publication"], data=[DataItem("findings.csv", pd.DataFrame({"note": ["x"]}))])
    with pytest.raises(ValueError, match="two shared items would both be written to findings.csv"):
        publish(pub, cfg, SMALL["protection"])


def test_one_finding_per_question_in_codebook_order_with_sentences(small, cb):
    _, f, _ = small
    assert [x.id for x in f.items] == [q.id for q in cb.questions]
    for x in f.items:
        assert x.sentences and all(s.strip().endswith(".") for s in x.sentences), x.id
        assert x.status in {"change", "no clear change", "not tested", "described", "suppressed", "not available"}
        assert x.caveats[-1].startswith("unweighted"), x.id  # weighted or not, always said
    assert f.synthetic
    income = next(x for x in f.items if x.id == "buyer_income")
    assert income.status == "not available" and "--income-lookup" in income.text


def _pairs(text: str) -> list[tuple[int, int]]:
    return [(int(a.replace(",", "")), int(b.replace(",", ""))) for a, b in re.findall(r"(\d[\d,]*) of (\d[\d,]*)", text)]


def test_findings_numbers_are_the_shared_tables_numbers(small, cb):
    """Every 'a of N' in a finding sentence is a cell 'a/N' of the shared tables (suppressed cells are never
    written): read back from the files publish() makes."""
    _, _, files = small
    found = list(csv.DictReader(io.StringIO(files["findings.csv"].decode())))
    assert [r["id"] for r in found] == [q.id for q in cb.questions]
    cells = {}
    for name in [n for n, *_ in STANDARD]:
        if f"tables/{name}.csv" in files:
            cells[name] = files[f"tables/{name}.csv"].decode()
    checked = 0
    for r in found:
        sentence_cells = _pairs(r["finding"].split("Caveats")[0])
        for a, n in sentence_cells:
            assert any(f"{a}/{n} (" in text for text in cells.values()), (r["id"], a, n)
            checked += 1
        assert "<5" not in r["finding"]
    assert checked >= 4
    assert files["findings.md"].decode().startswith("# Findings: what changed, question by question (SYNTHETIC DATA)")


def test_questions_command_scheme_only(capsys, cb):
    assert main(["questions", "--scheme-only"]) == 0
    out = capsys.readouterr().out
    assert "1. [condoms] Are condoms still taken or documented as evidence of prostitution?" in out
    assert "   variables:  incidents.condoms_evidence_any, incidents.condoms_confiscated" in out
    assert f"All {len(cb.questions)} questions have variables." in out


@pytest.mark.slow
def test_questions_command_prints_each_finding(small, capsys):
    folder, f, _ = small
    code = main(["questions", str(folder), "--n-boot", "20"])
    out = capsys.readouterr().out
    for x in f.items:
        assert f"   finding:    [{x.status}] {x.text}" in out
    assert code == (0 if all(x.rows for x in f.items) else 1)


# --- data quality ------------------------------------------------------------------------------------------


def test_data_quality_rows_clip_flag_and_small_cells(cb):
    rel = pd.DataFrame([
        {"table": "incidents", "variable": "condoms_evidence", "option": "", "label": "Condoms documented as evidence",
         "n_units": 198, "alpha": 0.618, "alpha_low": 0.54, "alpha_high": 0.69, "flag": "unreliable"},
        {"table": "incidents", "variable": "screened_trafficking", "option": "", "label": "Screened for trafficking",
         "n_units": 3, "alpha": 0.95, "alpha_low": 0.80, "alpha_high": 1.04, "flag": "reliable"},
        {"table": "charges", "variable": "statute", "option": "hiv", "label": "Charge category: HIV-specific",
         "n_units": 295, "alpha": 0.66, "alpha_low": -1.3, "alpha_high": 1.0, "flag": "unreliable"},
    ])
    acc = pd.DataFrame({"table": ["incidents"], "input_rows": ["989"]})
    dq = build_data_quality(cb.questions, rel, acc, threshold=5)
    assert isinstance(dq, DataQuality)
    by = {r.variable: r for r in dq.rows}
    assert by["incidents.condoms_evidence"].alpha_text == "0.62 (95% CI 0.54 to 0.69)"
    assert by["incidents.condoms_evidence"].questions == ["condoms"]
    assert by["incidents.screened_trafficking"].n_double_coded == "<5"  # the small-cell rule
    assert by["incidents.screened_trafficking"].alpha_high == 1.0  # clipped to alpha's range
    assert by["charges.statute__hiv"].alpha_low == -1.0 and by["charges.statute__hiv"].questions == ["hiv_charges"]
    assert by["incidents.origin"].flag == "not double-coded"
    assert any(n.startswith("Flagged") and "Condoms documented as evidence" in n for n in dq.notes)
    assert "| incidents | 989 |" in dq.markdown()


def test_clip():
    assert clip(1.2) == 1.0 and clip(-1.5) == -1.0 and clip(0.3) == 0.3 and math.isnan(clip(float("nan")))


def test_reliability_intervals_are_clipped_for_display():
    from analysis.coders.reliability import clip_intervals

    t = pd.DataFrame({"kappa_low": [-1.2, 0.5], "kappa_high": [1.07, 0.9], "alpha_low": [0.1, -3.0],
                      "alpha_high": [1.0001, 0.2], "alpha": [0.6, -0.5]})
    c = clip_intervals(t)
    assert c["kappa_low"].tolist() == [-1.0, 0.5] and c["kappa_high"].tolist() == [1.0, 0.9]
    assert c["alpha_low"].tolist() == [0.1, -1.0] and c["alpha_high"].tolist() == [1.0, 0.2]
    assert c["alpha"].tolist() == [0.6, -0.5] and t["kappa_high"].tolist() == [1.07, 0.9]  # estimates, input kept


def test_notebooks_do_not_shadow_ipythons_display_and_take_the_bootstrap_from_the_configuration():
    import json
    from pathlib import Path

    for path in sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb")):
        code = "\n".join("".join(c["source"]) for c in json.loads(path.read_text(encoding="utf-8"))["cells"]
                         if c["cell_type"] == "code")
        assert not re.search(r"from analysis[^\n]* import [^\n]*\bdisplay\b(?!_)", code), path.name
        assert not re.search(r"n_boot = \d", code), path.name  # None: cfg.bootstrap_resamples
        if "n_boot" in code:
            assert "n_boot = n_boot or cfg.bootstrap_resamples" in code, path.name
