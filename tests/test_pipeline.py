"""analysis.report.pipeline: each stage called directly returns the expected data; analysis.report.publish: the
one publishing step makes every shared file, with the small-cell rule, and notes carry no free-standing numbers."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from analysis.intake.load import load_coded_tables, tables_from_frames
from analysis.report import pipeline
from analysis.report.publish import DataItem, FigureItem, Note, Publication, TableItem, publish
from analysis.tables.compare import ComparisonTable
from analysis.tables.display import display
from analysis.tables.export import provenance

from .conftest import EXAMPLE

STANDARD = ["incidents", "persons_all", "persons_sellers", "persons_buyers", "persons_third_parties",
            "persons_trafficking_victims", "outcomes_all", "outcomes_selling"]

# issue 13: the misclassification models of the example are Firth fits (sparse district/other cells); the
# analyst's note (issue 11: the shared note says 'sparse', test_report)
RAW_FIRTH_NOTE = ("Fit: Firth's bias-reduced logistic regression with profile penalised-likelihood intervals and "
                  "penalised likelihood-ratio p-values, because a period x unit cell has fewer than five events or "
                  "non-events.")


def _coded(frames, cb):
    return tables_from_frames(frames, source="test", codebook=cb)


# --- 1. validate and derive -----------------------------------------------------------------------------------


def test_validate_derive_returns_the_valid_rows_derived_and_the_row_accounting(frames, cb, cfg):
    frames["persons"].loc[0, "age"] = "200"  # one person rejected, and their charges held back with them
    derived = pipeline.validate_derive(_coded(frames, cb), cb, cfg)
    n_persons = len(frames["persons"])
    assert derived.validation.exit_code == 1
    assert len(derived.tables["incidents"]) == 24 and len(derived.tables["persons"]) == n_persons - 1
    assert str(derived.tables["persons"]["period"].dtype) == "category"
    assert derived.synthetic is True
    [item] = derived.shared
    assert isinstance(item, DataItem) and item.path == "validation/row_accounting.csv"
    files = publish(Publication(data=[item]), cfg)
    shown = pd.read_csv(io.BytesIO(files["validation/row_accounting.csv"]), dtype=str).set_index("table")
    assert shown.loc["incidents"].tolist() == ["24", "24", "0"]
    # 1 person rejected (small): hidden with one marker, and the rows read with it (read = valid + rejected); the
    # valid rows (the tables' N) stay shown; the person's charges and outcome row are held back with them
    assert shown.loc["persons"].tolist() == ["suppressed", str(n_persons - 1), "suppressed"]
    assert shown.loc["charges"].tolist() == ["suppressed", "34", "suppressed"]
    assert shown.loc["outcomes"].tolist() == ["suppressed", "19", "suppressed"]


def test_manifest_records_what_the_derived_folder_was_made_from(frames, cb, cfg):
    derived = pipeline.validate_derive(_coded(frames, cb), cb, cfg)
    m = pipeline.manifest(derived, cb, cfg, inputs={"incidents.csv": "ab"}, input_path="data/x")
    assert m["synthetic_data"] is True and m["input_path"] == "data/x" and m["inputs"] == {"incidents.csv": "ab"}
    assert m["study_config"] == "study.yaml" and m["income_lookup"] is None
    assert m["rows"]["incidents"] == {"input": 24, "valid": 24, "rejected": 0, "derived": 24}


def test_derive_into_writes_the_derived_folder(frames, cb, cfg, tmp_path):
    from .conftest import write_folder

    data = write_folder(frames, tmp_path / "coded")
    derived = pipeline.derive_into(data, tmp_path / "derived", cb, cfg)
    assert len(derived.tables["persons"]) == len(frames["persons"])
    written = sorted(p.relative_to(tmp_path / "derived").as_posix() for p in (tmp_path / "derived").rglob("*")
                     if p.is_file())
    assert "manifest.json" in written and "incidents.parquet" in written and "validation/problems.csv" in written


# --- 2. reliability -----------------------------------------------------------------------------------------


def test_reliability_stage_finds_the_one_disagreement(frames, cb, cfg):
    frames["incidents"]["coder_id"] = "synth_a"
    second = {k: v.copy() for k, v in frames.items()}
    rid = second["incidents"].loc[0, "report_id"]
    second["incidents"].loc[0, "origin"] = "tip" if second["incidents"].loc[0, "origin"] != "tip" else "patrol"
    main = pipeline.validate_derive(_coded(frames, cb), cb, cfg).validation.valid
    rel = pipeline.reliability(main, _coded(second, cb), cb, cfg, n_boot=20)
    # both codings name coder synth_a: the second is told apart
    assert rel.disagreements.columns.tolist()[-2:] == ["synth_a", "synth_a_2"]
    assert rel.disagreements[["report_id", "table", "variable"]].values.tolist() == [[rid, "incidents", "origin"]]
    row = rel.table.set_index(["table", "variable", "option"]).loc[("incidents", "origin", "")]
    assert row["n_units"] == 24 and row["percent_agreement"] == pytest.approx(100 * 23 / 24)
    assert rel.flagged == int((rel.table["flag"] != "reliable").sum()) and rel.flagged >= 1
    assert [i.path for i in rel.shared] == ["reliability/reliability.csv"]


# --- 3. tables and the model ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def example():
    from analysis.scheme.codebook import load_codebook
    from analysis.scheme.config import load_study_config

    cb, cfg = load_codebook(), load_study_config()
    derived = pipeline.validate_derive(load_coded_tables(EXAMPLE, cb), cb, cfg)
    stamp = provenance({"incidents.csv": "0" * 64}, cb.version, derived.synthetic)
    return cb, cfg, derived, stamp, pipeline.tables_and_model(derived.tables, cb, cfg, stamp, n_boot=20)


def test_tables_stage_returns_the_eight_standard_tables_with_the_examples_n(example):
    _, _, _, _, tables = example
    assert tables.names == STANDARD
    assert all(isinstance(nt.table, ComparisonTable) for nt in tables.standard)
    first = {nt.name: display(nt.table).iloc[0].tolist() for nt in tables.standard}
    assert first["incidents"][:5] == ["N", "", "495", "494", "989"]
    assert first["persons_all"][:5] == ["N", "", "718", "739", "1,457"]
    assert first["outcomes_all"][:5] == ["N", "", "357", "459", "816"]
    assert first["outcomes_selling"][:5] == ["N", "", "234", "240", "474"]
    assert [title for title, _ in tables.key] == ["Key indicators: incident reports",
                                                   "Key indicators: people selling sex"]
    assert [label for label, _ in tables.models] == ["Correctly identified as trafficking",
                                                      "Screened for trafficking"]


def test_tables_stage_items_keep_their_analyst_tables(example):
    _, _, _, _, tables = example
    items = [i for i in tables.shared if isinstance(i, TableItem)]
    assert [i.path for i in items] == [f"tables/{n}" for n in STANDARD] + [
        "tables/key_0", "tables/key_1", "tables/misclassification_model"]
    assert [i.source for i in items[:8]] == [nt.table for nt in tables.standard]  # the unsuppressed table itself
    assert [i.pack for i in items] == [False] * 8 + [True] * 3
    assert [i.formats for i in items[8:10]] == [(), ()]  # the key tables are in the pack only
    assert tables.standard_shared() == items[:8]
    # the model's notes say which reports were left out and which fit was used (issue 13); they are published
    # without counts, and only for the model whose estimates are shown (issue 11: ModelNote, rendered by publish)
    from analysis.report.publish import ModelNote

    model_notes = [i for i in tables.shared if isinstance(i, ModelNote)]
    assert [(n.label, n.result.notes) for n in model_notes] == [
        ("Correctly identified as trafficking", ("Reports left out: those with a blank correctly_identified.",
                                                 RAW_FIRTH_NOTE)),
        ("Screened for trafficking", (RAW_FIRTH_NOTE,))]
    assert model_notes[0].result is tables.models[0][1]
    assert all(n.counts == {} for n in tables.shared if isinstance(n, Note))


def test_analyst_tables_are_the_full_tables_marked_not_for_sharing(example):
    _, _, _, _, tables = example
    files = pipeline.analyst_tables(tables.standard)
    assert sorted(files) == sorted(f"tables/{n}_full.csv" for n in STANDARD)
    full = pd.read_csv(io.BytesIO(files["tables/incidents_full.csv"]), dtype=str, keep_default_na=False)
    assert set(full["NOT_FOR_SHARING"]) == {"analyst table: unsuppressed"}
    assert len(full) == len(tables.standard[0].table.rows)


# --- 4. the public record, 5. charts -----------------------------------------------------------------------------


def test_public_record_stage_without_the_daily_file(cb, cfg):
    from analysis.public import parse_public

    from .test_public_frame import KAGGLE

    kaggle = parse_public(KAGGLE.encode(), "train.csv")
    public = pipeline.public_record({"kaggle": kaggle}, cb, cfg, kaggle_hashes={"train.csv": "f" * 64})
    assert public.its is None and public.missing == ["daily", "incidents"]
    [item] = public.shared
    assert item.path == "public/public_before_after" and item.title == "The public record, before and after"
    assert item.stamp["synthetic"] is False and item.stamp["inputs"] == {"train.csv": "f" * 64}
    files = publish(Publication(tables=[item]), cfg)
    assert sorted(files) == ["public/public_before_after.csv", "public/public_before_after.html",
                             "public/public_before_after.md"]
    csv = files["public/public_before_after.csv"].decode()
    assert csv.startswith('"The public record, before and after"\n') and "train.csv sha256:ffffffffffff" in csv
    # 4 rows before, 3 after (one 2012 row is in neither period): the N row is hidden, its overall too (7 - 3 = 4)
    assert "\nN,,suppressed,suppressed,suppressed," in csv and "<5" not in csv


def test_public_record_stage_on_the_shared_files(shared_sfpd, cb, cfg):
    from analysis.public import load_shared_folder

    public = pipeline.public_record(load_shared_folder(shared_sfpd), cb, cfg)
    assert public.missing == []
    assert [getattr(i, "path", "") for i in public.shared] == [
        "public/monthly_counts.csv", "public/its_summary.csv", "public/public_before_after", "public/sampling_frame.csv"]
    assert public.its.rr("level_change_rr") == pytest.approx((0.616, 0.478, 0.795), abs=5e-4)
    frame = public.shared[3].frame.set_index("year")
    assert frame.loc[2009, "n"] == 1136 and frame.loc[2015, "n"] == 216


def test_charts_stage_makes_the_meeting_charts_in_order(frames, cb, cfg):
    derived = pipeline.validate_derive(_coded(frames, cb), cb, cfg)
    charts = pipeline.charts(derived.tables, None, derived.synthetic, cb, cfg, n_boot=20)
    assert [c.name for c in charts] == ["key_indicators", "case_origin", "charges_by_role", "people_by_role",
                                        "districts"]  # no public series without the ITS
    files = publish(Publication(figures=[FigureItem(charts[0])]), cfg)
    assert sorted(files) == ["figures/key_indicators.csv", "figures/key_indicators.pdf", "figures/key_indicators.png"]


# --- the publishing step -----------------------------------------------------------------------------------------


@pytest.mark.slow  # the whole pack: protection and every format
def test_publish_makes_every_format_and_one_workbook_per_folder(example):
    _, cfg, _, _, tables = example
    pub = Publication(synthetic=True)
    pub.add(*tables.standard_shared())
    files = publish(pub, cfg)
    assert sorted(files) == sorted([f"tables/{n}.{e}" for n in STANDARD for e in ("csv", "md", "html")]
                                   + ["tables/tables.xlsx"])
    csv = files["tables/incidents.csv"].decode()
    assert csv.startswith('"Incident reports, before and after (SYNTHETIC DATA)"\n')
    assert "Suppression: 'suppressed' marks a count not shown because it could identify a person: a count from 1 to 4" in csv


def test_publish_applies_the_threshold_of_the_configuration_it_is_given(example):
    import dataclasses

    _, cfg, _, _, tables = example
    pub = Publication(tables=[tables.standard_shared()[0]])
    strict = dataclasses.replace(cfg, suppression_threshold=1000)
    csv = publish(pub, strict)["tables/incidents.csv"].decode()
    assert "a count from 1 to 999" in csv and "<1000" not in csv


@pytest.mark.slow  # the whole pack: protection and every format
def test_the_pack_readme_and_notes_come_from_the_publication(example):
    cb, cfg, derived, stamp, tables = example
    pub = Publication(run_date="2017-11-15", synthetic=True)
    pub.add(*tables.shared)
    pub.add(Note("Reliability: no second coding found at {folder}; skipped.", values={"folder": "x/second_2"}))
    valid = {t: len(df) for t, df in derived.validation.valid.items()}
    pub.pack = pipeline.pack_text(cfg, stamp, source="coded reports", valid_rows=valid, weighted=False,
                                  run_date="2017-11-15")
    files = publish(pub, cfg)
    assert {"meeting_pack.html", "meeting_pack.pdf", "README.md"} <= set(files)
    readme = files["README.md"].decode()
    # the full models' cross-tabulations have a suppressed cell: only the period-only models are shown, with their
    # own notes (maximum likelihood: every cell of the period-only model has at least five events and non-events)
    ml = ("Fit: maximum likelihood with Wald intervals and p-values (every cell of the model has at least five events "
          "and five non-events).")
    only = "only the period odds ratio is shown (a cell of the period x unit x outcome cross-tabulation is suppressed)."
    assert readme.endswith("## Notes\n\n"
                           f"- Model (Correctly identified as trafficking): {only}\n"
                           "- Model (Correctly identified as trafficking): Reports left out: those with a blank "
                           "correctly_identified.\n"
                           f"- Model (Correctly identified as trafficking): {ml}\n"
                           f"- Model (Screened for trafficking): {only}\n"
                           f"- Model (Screened for trafficking): {ml}\n"
                           "- Reliability: no second coding found at x/second_2; skipped.\n")
    html = files["meeting_pack.html"].decode()
    assert "Key indicators: people selling sex (SYNTHETIC DATA)" in html
    assert "Data: coded reports; 4,455 valid rows (989 reports, 1,457 people)." in html
    assert pub.pack.counts == {"valid_rows": 4455, "reports": 989, "people": 1457}


def test_the_weighted_methods_say_what_the_weights_withhold(cfg):
    stamp = {"synthetic": True, "code_version": "0", "codebook_version": "0", "inputs": {}}
    methods = pipeline.pack_text(cfg, stamp, source="coded reports", valid_rows={"incidents": 10, "persons": 12},
                                 weighted=True, run_date="2017-11-15").methods
    assert methods[2] == ("Weighted to the sampling frame. Each sampled year has its own weight, so a variable's "
                          "weighted percentages, change and test are shown only where none of its counts is from 1 "
                          "to 4 in a sampled year; otherwise its counts are shown as n/N.")
    unweighted = pipeline.pack_text(cfg, stamp, source="coded reports", valid_rows={"incidents": 10, "persons": 12},
                                    weighted=False, run_date="2017-11-15").methods
    assert unweighted[2] == "Unweighted: no sampling frame was given."


def test_a_note_declares_its_numbers_as_counts():
    text = "Model (a): 784 of 1,989 reports left out (784 blank y2); float64 warning; alpha 0.800 {x}"
    note = Note.from_text(text, source="m")
    assert note.counts == {"c0": 784, "c1": 1989, "c2": 784}
    assert note.template == ("Model (a): {c0} of {c1:,} reports left out ({c2} blank y2); float64 warning; "
                             "alpha 0.800 {{x}}")
    assert note.text == text and note.source == "m"


def test_a_note_with_a_number_in_its_own_text_is_refused():
    with pytest.raises(ValueError, match="carries the number 3 in its text"):
        Note("3 reports left out")
    assert Note("{n} reports left out", counts={"n": 3}).text == "3 reports left out"


def test_two_items_on_one_path_and_unknown_items_are_refused(example):
    _, cfg, _, _, tables = example
    item = tables.standard_shared()[0]
    with pytest.raises(ValueError, match="two shared items would both be written to tables/incidents.csv"):
        publish(Publication(tables=[item, item]), cfg)
    with pytest.raises(TypeError, match="not an item for publishing: str"):
        Publication().add("tables/incidents.csv")


def test_the_notebooks_load_the_configuration_the_run_loaded(cfg, tmp_path):
    from analysis.scheme.config import default_config_path, load_study_config

    assert pipeline.notebook_config_file(cfg) is None  # the package's own: the notebooks' default
    mine = tmp_path / "my_study.yaml"
    mine.write_text(default_config_path().read_text(encoding="utf-8").replace("suppression_threshold: 5",
                                                                              "suppression_threshold: 11"))
    other = load_study_config(mine)
    assert other.suppression_threshold == 11
    assert pipeline.notebook_config_file(other) == str(mine)
