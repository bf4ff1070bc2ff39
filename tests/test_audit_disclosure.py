"""The attacker (``python -m analysis audit-disclosure SHARED_DIR``, :mod:`analysis.tables.audit`).

Each of the six leak kinds of issue 11 in a small shared folder built here, with the value a reader works out by
hand; a folder that leaks nothing; the command's exit codes and report; and nothing found on the protected outputs
of the example (with the issue-11 cells the protection now shows) and of five random 80-report subsamples.
"""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.cli.app import main
from analysis.stats.inference import categorical_test
from analysis.tables.audit.agreement import coder_counts
from analysis.tables.audit.core import MARKER, N_ROWS, RELATED, RELIABILITY, ROLES, TESTS, TEXT, audit
from analysis.tables.audit.register import N_COLUMN
from analysis.tables.audit.summary import format_report, kind_counts

from .conftest import EXAMPLE

BEFORE, AFTER = "Before: Vice (2009-2010) n/N (%)", "After: SVU (2014-2015) n/N (%)"
HEADER = ["Variable", "Level", BEFORE, AFTER, "Overall n/N (%)", "Test", "p", "q"]


def table_csv(title: str, population: str, rows: list[list[str]], zero_note: str = "") -> str:
    """A before/after table as analysis.tables.export writes it: title, header, body, blank line, footer."""
    def line(cells):
        return ",".join(f'"{c}"' if ("," in c or "'" in c) else c for c in cells)

    body = [line([title]), line(HEADER)] + [line(r + [""] * (len(HEADER) - len(r))) for r in rows]
    footer = [f"Population: {population}. Percentages exclude the missing-data levels.",
              "Suppression: counts from 1 to 4 are shown as <5; further cells are hidden ('suppressed')." + zero_note]
    return "\n".join(body + [""] + footer) + "\n"


def write(folder: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        p = folder / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, encoding="utf-8")
    return folder


def read(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def hidden_finding(result, column: str, level: str, period: str, role=None):
    found = [f for f in result.findings if f.kind == "hidden" and f.cell.key.column == column
             and f.cell.key.level == level and f.cell.key.period == period and f.cell.key.role == role]
    assert len(found) == 1, [f.message for f in result.findings]
    return found[0]


INCIDENTS_N = ["N", "", "495", "494", "989"]


# --- the six leak kinds, one constructed folder each ------------------------------------------------------------


def test_related_rows_give_the_hidden_cell_away(tmp_path, cb, cfg):
    """Coder assessed trafficking established after = 50, correctly identified after = 46 (of 60 labelled):
    'labelled prostitution only, trafficking established' after = 50 - 46 = 4, though shown as '<5'."""
    folder = write(tmp_path, {"tables/incidents.csv": table_csv("Incident reports", "Incident reports", [
        INCIDENTS_N,
        ["Coder assessed trafficking established", "", "30/495 (6.1%)", "50/494 (10.1%)", "80/989 (8.1%)"],
        ["Correctly identified as trafficking", "", "20/40 (50.0%)", "46/60 (76.7%)", "66/100 (66.0%)"],
        ["", "Unknown", "455", "434", "889"],
        ["SFPD label vs coder's assessment", "Labelled prostitution only, trafficking established", "suppressed",
         "<5", "suppressed"],
    ])})
    result = audit(read(folder), cb, cfg)
    f = hidden_finding(result, "misclassification", "under_labelled", "svu")
    assert f.cell.final == (4, 4) and f.cell.linear == (4, 4)
    assert RELATED in f.kinds
    assert f.where == f"tables/incidents.csv, line 7, column '{AFTER}', row \"SFPD label vs coder's assessment: " \
                      "Labelled prostitution only, trafficking established\""
    before = [h for h in result.hidden if h.key.period == "vice"]
    assert [h.final for h in before] == [(10, 10)]  # 30 - 20 = 10: pinned, but 10 is not a leak
    assert len(result.findings) == 1 and result.exit_code == 1


def test_related_rows_pinned_to_a_large_value_are_not_a_leak(tmp_path, cb, cfg):
    folder = write(tmp_path, {"tables/incidents.csv": table_csv("Incident reports", "Incident reports", [
        INCIDENTS_N,
        ["Coder assessed trafficking established", "", "30/495 (6.1%)", "50/494 (10.1%)", "80/989 (8.1%)"],
        ["Correctly identified as trafficking", "", "20/40 (50.0%)", "40/60 (66.7%)", "60/100 (60.0%)"],
        ["", "Unknown", "455", "434", "889"],
        ["SFPD label vs coder's assessment", "Labelled prostitution only, trafficking established", "suppressed",
         "suppressed", "suppressed"],
    ])})
    result = audit(read(folder), cb, cfg)
    assert result.findings == []
    pinned = {(h.key.period, h.final) for h in result.hidden}
    assert pinned == {("vice", (10, 10)), ("svu", (10, 10)), ("overall", (20, 20))}
    assert result.exit_code == 0


def test_role_tables_add_up_to_the_everyone_table(tmp_path, cb, cfg):
    """Native American people before: everyone 6, buyers 5, sellers '<5': the sellers' cell is 1."""
    race = "Race/ethnicity (coder's reading)"  # the codebook's label (issue 14)
    folder = write(tmp_path, {
        "tables/persons_all.csv": table_csv("People", "People on the reports", [
            ["N", "", "100", "100", "200"], [race, "Native American", "6/100 (6.0%)", "suppressed", "suppressed"]]),
        "tables/persons_buyers.csv": table_csv("Buyers", "Buyer", [
            ["N", "", "40", "40", "80"], [race, "Native American", "5/40 (12.5%)", "suppressed", "suppressed"]]),
        "tables/persons_sellers.csv": table_csv("Sellers", "Person selling sex", [
            ["N", "", "50", "50", "100"], [race, "Native American", "<5", "suppressed", "suppressed"]]),
    })
    result = audit(read(folder), cb, cfg)
    f = hidden_finding(result, "race_ethnicity", "native_american", "vice", role="seller")
    assert f.cell.final == (1, 1)
    assert ROLES in f.kinds
    assert "tables/persons_sellers.csv, line 4" in f.where


def test_the_n_row_is_protected_too(tmp_path, cb, cfg):
    """Trafficking victims N = '<5' / 8 / 11: before = 3."""
    folder = write(tmp_path, {"tables/persons_trafficking_victims.csv": table_csv(
        "Trafficking victims", "Trafficking victim", [["N", "", "<5", "8", "11"]])})
    result = audit(read(folder), cb, cfg)
    f = hidden_finding(result, N_COLUMN, "", "vice", role="trafficking_victim")
    assert f.cell.final == (3, 3)
    assert N_ROWS in f.kinds
    assert f.where == f"tables/persons_trafficking_victims.csv, line 3, column '{BEFORE}', row 'N'"


def test_a_number_rows_n_gives_the_missing_row(tmp_path, cb, cfg):
    """Sellers after: N 50, age known for n = 47: 'age group not documented' after = 3."""
    folder = write(tmp_path, {"tables/persons_sellers.csv": table_csv("Sellers", "Person selling sex", [
        ["N", "", "60", "50", "110"],
        ["Age (years)", "", "median 30.0; n = 60", "median 31.0; n = 47", "median 30.0; n = 107"],
        ["Age group", "not documented", "0", "suppressed", "suppressed"],
    ])})
    result = audit(read(folder), cb, cfg)
    f = hidden_finding(result, "age_group", "not documented", "svu", role="seller")
    assert f.cell.final == (3, 3)
    assert N_ROWS in f.kinds


def test_the_printed_p_value_pins_the_hidden_cell(tmp_path, cb, cfg):
    """Screened before 8 of 100, after '<5' of 100: the relations allow 1..4; the test's name (chi-squared, so
    no expected count below 5: not 1) and its p (to 3 decimals) leave only the true value, 3."""
    p = categorical_test(np.array([[8, 3], [92, 97]])).p_value
    others = [categorical_test(np.array([[8, y], [92, 100 - y]])).p_value for y in (2, 4)]
    assert all(f"{p:.3f}" != f"{q:.3f}" for q in others)  # the check below is not vacuous
    folder = write(tmp_path, {"tables/incidents.csv": table_csv("Incident reports", "Incident reports", [
        ["N", "", "100", "100", "200"],
        ["Screened for trafficking", "", "8/100 (8.0%)", "<5", "suppressed", "Pearson's chi-squared", f"{p:.3f}"],
    ])})
    result = audit(read(folder), cb, cfg)
    f = hidden_finding(result, "screened_trafficking", "yes", "svu")
    assert f.cell.linear == (1, 4)
    assert f.cell.final == (3, 3)
    assert TESTS in f.kinds
    assert f"printed Pearson's chi-squared, p {p:.3f}" in format_report(result)


def test_model_notes_with_raw_counts_are_found(tmp_path, cb, cfg):
    readme = ("# Shared\n\n## Notes\n- Model (Correctly identified as trafficking): Vice: 2 of 2 correctly "
              "identified; 0 of 4 screened.\n")
    folder = write(tmp_path, {"README.md": readme, "tables/incidents.csv": table_csv(
        "Incident reports", "Incident reports", [INCIDENTS_N])})
    result = audit(read(folder), cb, cfg)
    text = [f for f in result.findings if f.kind == "text"]
    assert sorted({int(f.message.split()[1]) for f in text}) == [2, 4]
    assert all(f.kinds == [TEXT] and f.where == "README.md, line 4" for f in text)


def test_reliability_figures_give_each_coders_count(tmp_path, cb, cfg):
    """The HIV-specific charge: 295 charges, 99.322% agreement (2 disagreements), kappa and alpha give the two
    coders' counts 2 and 4 (hand check: a = 2, b = 4, n11 = 2 gives p_e and kappa 0.66363)."""
    n, a, b, d = 295, 2, 4, 2
    po = (n - d) / n
    pe = (a * b + (n - a) * (n - b)) / n**2
    kappa = (po - pe) / (1 - pe)
    alpha = 1 - (2 * n - 1) * d / ((a + b) * (2 * n - a - b))
    assert math.isclose(kappa, 0.6636259977194979, rel_tol=1e-9)
    assert coder_counts(n, 100 * po, kappa, alpha) == (2, [(2, 4), (291, 293)])
    csv = ("table,variable,option,label,level,n_units,n_units_all_coders,percent_agreement,kappa,alpha,flag\n"
           f"charges,statute,hiv,Charge category: HIV-specific,nominal,{n},{n},{100 * po!r},{kappa!r},{alpha!r},"
           "unreliable\n")
    folder = write(tmp_path, {"reliability/reliability.csv": csv})
    result = audit(read(folder), cb, cfg)
    msgs = sorted(f.message for f in result.findings)
    assert msgs == ["kappa and alpha give one coder's count of the rarer category as 2",
                    "kappa and alpha give the other coder's count of the rarer category as 4",
                    "n_units x percent agreement gives 2 disagreement(s)"]
    assert all(f.kinds == [RELIABILITY] and f.where.startswith("reliability/reliability.csv, line 2") for f in
               result.findings)


# --- markers, clean folders, formats ---------------------------------------------------------------------------


def test_a_small_marker_is_a_leak_by_itself_and_the_uniform_marker_is_not(tmp_path, cb, cfg):
    rows = [INCIDENTS_N, ["Screened for trafficking", "", "{}", "30/494 (6.1%)", "suppressed"]]
    marked = write(tmp_path / "a", {"tables/incidents.csv": table_csv(
        "Incident reports", "Incident reports", [rows[0], [c.format("<5") for c in rows[1]]])})
    f = hidden_finding(audit(read(marked), cb, cfg), "screened_trafficking", "yes", "vice")
    assert f.kinds == [MARKER] and f.cell.final == (1, 4)
    uniform = write(tmp_path / "b", {"tables/incidents.csv": table_csv(
        "Incident reports", "Incident reports", [rows[0], [c.format("suppressed") for c in rows[1]]],
        " Zero is shown.")})
    result = audit(read(uniform), cb, cfg)
    assert result.findings == [] and result.exit_code == 0
    assert {h.key.period: h.final for h in result.hidden} == {"vice": (1, 495), "overall": (31, 525)}


def test_a_visible_small_count_is_a_leak(tmp_path, cb, cfg):
    folder = write(tmp_path, {"tables/incidents.csv": table_csv("Incident reports", "Incident reports", [
        INCIDENTS_N, ["Screened for trafficking", "", "3/495 (0.6%)", "30/494 (6.1%)", "33/989 (3.3%)"]])})
    result = audit(read(folder), cb, cfg)
    assert [(f.kind, f.where) for f in result.findings] == [
        ("visible", f"tables/incidents.csv, line 4, column '{BEFORE}', row 'Screened for trafficking'")]


def test_a_number_only_in_the_markdown_is_reported(tmp_path, cb, cfg):
    rows = [INCIDENTS_N, ["Screened for trafficking", "", "suppressed", "30/494 (6.1%)", "suppressed"]]
    md = ("### Incident reports\n\n| " + " | ".join(HEADER) + " |\n|" + "---|" * len(HEADER) + "\n"
          "| N |  | 495 | 494 | 989 |  |  |  |\n| Screened for trafficking |  | 12/495 (2.4%) | 30/494 (6.1%) | "
          "suppressed |  |  |  |\n")
    folder = write(tmp_path, {"tables/incidents.csv": table_csv("Incident reports", "Incident reports", rows),
                              "tables/incidents.md": md})
    result = audit(read(folder), cb, cfg)
    fmt = [f for f in result.findings if f.kind == "format"]
    assert len(fmt) == 1 and "prints '12/495 (2.4%)' where tables/incidents.csv prints 'suppressed'" in fmt[0].message


# --- the command ---------------------------------------------------------------------------------------------------


def test_command_exit_codes_and_report(tmp_path, capsys):
    leaking = write(tmp_path / "leaking", {"tables/persons_trafficking_victims.csv": table_csv(
        "Trafficking victims", "Trafficking victim", [["N", "", "<5", "8", "11"]])})
    assert main(["audit-disclosure", str(leaking), "--out", str(tmp_path / "audit.txt")]) == 1
    out = capsys.readouterr().out
    assert "LEAKS FOUND: 1." in out
    assert (f"- tables/persons_trafficking_victims.csv, line 3, column '{BEFORE}', row 'N': shown as '<5'; "
            "attacker range 3: pinned to 3") in out
    assert (tmp_path / "audit.txt").read_text(encoding="utf-8").startswith("Disclosure audit of ")
    clean = write(tmp_path / "clean", {"tables/incidents.csv": table_csv("Incident reports", "Incident reports",
                                                                         [INCIDENTS_N])})
    assert main(["audit-disclosure", str(clean)]) == 0
    assert "No leak found" in capsys.readouterr().out


@pytest.mark.parametrize("make, message", [
    (lambda p: p / "nowhere", "no such folder"),
    (lambda p: write(p / "f", {"a.txt": "x"}) / "a.txt", "not a folder"),
    (lambda p: write(p / "images", {"chart.png": "x", "notes.txt": "x"}), "no CSV file: this is not a shared folder"),
])
def test_command_unreadable_folder_exits_2_with_one_line(tmp_path, capsys, make, message):
    assert main(["audit-disclosure", str(make(tmp_path))]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and err.count("\n") == 1


# --- the pipeline's outputs ------------------------------------------------------------------------------------------


def run_report(data: Path, out: Path, derived: Path) -> Path:
    """``python -m analysis report DATA --no-notebooks`` into ``out``; the shared folder."""
    absent = out.parent / "no-public-data"  # the public record is skipped (its folder is absent)
    code = main(["report", str(data), "--no-notebooks", "--out", str(out), "--derived", str(derived),
                 "--run-date", "2026-01-01", "--n-boot", "50", "--sfpd-dir", str(absent), "--force"])
    assert code == 0
    return out / "2026-01-01" / "shared"


def subsample(seed: int, dest: Path, n: int = 80) -> Path:
    """``n`` random reports of the example (and their people, charges and second coding)."""
    inc = pd.read_csv(EXAMPLE / "incidents.csv", dtype=str, keep_default_na=False)
    ids = set(inc["report_id"].sample(n, random_state=seed))
    for sub in ("", "second_coder"):
        (dest / sub).mkdir(parents=True, exist_ok=True)
        for name in ("incidents.csv", "persons.csv", "charges.csv"):
            df = pd.read_csv(EXAMPLE / sub / name, dtype=str, keep_default_na=False)
            df[df["report_id"].isin(ids)].to_csv(dest / sub / name, index=False)
    return dest


SUBSAMPLE_SEEDS = (11, 1111, 20171115, 424242, 987654)


@pytest.mark.slow
@pytest.mark.parametrize("seed", SUBSAMPLE_SEEDS)
def test_protected_subsample_output_leaks_nothing(seed, tmp_path, cb, cfg):
    data = subsample(seed, tmp_path / "data")
    shared = run_report(data, tmp_path / "reports", tmp_path / "derived")
    result = audit(read(shared), cb, cfg)
    assert result.findings == [] and result.problems == [], format_report(result)
    shutil.rmtree(tmp_path / "reports", ignore_errors=True)


# --- the attacker's model of the codebook is the project's own ------------------------------------------------------


@pytest.fixture(scope="module")
def example_derived(cb, cfg):
    from analysis.derive.variables import derive
    from analysis.intake.load import load_coded_tables
    from analysis.intake.validate import validate_tables

    return derive(validate_tables(load_coded_tables(EXAMPLE, cb), cb, cfg).valid, cb, cfg)


def _atom_value(column: str, v):
    from analysis.tables.audit.scheme import KNOWN

    if column == "age":
        return "-8" if pd.isna(v) else KNOWN
    if v is None or (not isinstance(v, str) and pd.isna(v)):
        return None
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    return str(v)


@pytest.mark.parametrize("pop, name", [("incidents", "label"), ("incidents", "origin"), ("incidents", "condoms"),
                                       ("persons", "age"), ("persons", "gender_race")])
def test_families_hold_every_combination_derive_makes(example_derived, cb, cfg, pop, name):
    """Every unit of the derived example is one of its family's atoms (computed by the audit from the codebook and
    derive's rules): the attacker's relations are never stricter than the project's derive code."""
    from analysis.tables.audit.scheme import families

    fam = next(f for f in families(cb, cfg)[pop] if f.name == name)
    df = example_derived[pop]
    roles = df["role"].unique() if pop == "persons" else [None]
    for role in roles:
        atoms = {tuple(a[c] for c in fam.columns) for a in fam.atoms_for(role)}
        rows = df if role is None else df[df["role"] == role]
        seen = {tuple(_atom_value(c, r[c]) for c in fam.columns) for _, r in rows.iterrows()}
        assert seen <= atoms, sorted(seen - atoms, key=str)[:5]
    assert len(seen) >= 2


def test_fisher_rx2_and_adjusted_match_the_projects_functions():
    from analysis.stats.inference import _fisher_rxc_enumerated, adjust_pvalues
    from analysis.tables.audit.printed import adjusted, fisher_rx2

    for table in ([[3, 1], [2, 5], [0, 4]], [[1, 0], [4, 6], [2, 2], [0, 3]]):
        arr = np.array(table)
        assert math.isclose(fisher_rx2(arr), _fisher_rxc_enumerated(arr, 10**6), rel_tol=1e-9)
    p = np.array([0.01, 0.04, 0.03, 0.2, 0.0005])
    for method in ("holm", "bh"):
        assert np.allclose(adjusted(p, method), adjust_pvalues(p, method))


def test_a_printed_change_is_read_as_after_minus_before():
    """Every change is printed after minus before, as the example prints interpreter use (34/68 before, 66/103
    after): '+14.1 (-1.0 to +28.5)'. The completion that printed it reproduces it, so the row's statistics bind the
    attacker's model; the same change read before minus after matched no completion, and the row's p-value, test
    and change were left out of the audit ('no completion reproduces what is printed')."""
    from analysis.tables.audit.printed import check
    from analysis.tables.audit.register import Interval, Key, Place, RowStats

    def iv(text):
        half = 0.05 if "." in text else 0.5
        return Interval(float(text) - half, float(text) + half, text)

    def row(diff):
        return RowStats(Place("tables/incidents.csv", 66, "Test/p", "Interpreter or Language Line used"),
                        "incidents", None, "interpreter_used", "binary", ["yes"], ("vice", "svu"),
                        test="Pearson's chi-squared", p=Interval(0.0665, 0.0675, "0.067"),
                        diff=tuple(iv(t) for t in diff))

    values = {Key("incidents", None, "interpreter_used", lev, g): v
              for (lev, g), v in {("yes", "vice"): 34, ("den", "vice"): 68, ("yes", "svu"): 66,
                                  ("den", "svu"): 103}.items()}
    assert check(row(("+14.1", "-1.0", "+28.5")), values, {}, {})
    assert not check(row(("-14.1", "-28.5", "+1.0")), values, {}, {})  # before minus after: not what is printed
    values[Key("incidents", None, "interpreter_used", "yes", "svu")] = 65  # 63.1%: the change no longer prints so
    assert not check(row(("+14.1", "-1.0", "+28.5")), values, {}, {})


def test_a_row_whose_printed_numbers_no_completion_reproduces_is_not_vouched_for(tmp_path, capsys):
    """p = 0.500 is printed for 34/68 against a hidden after period that the Overall column pins to 66/103
    (Pearson's chi-squared gives 0.067): no completion of the row's hidden cells reproduces it, so its numbers are
    left out of the attacker's model. The audit says it cannot vouch for the folder and exits 1, not 0 ('No leak
    found')."""
    folder = write(tmp_path / "shared", {"tables/incidents.csv": table_csv("Incident reports", "Incident reports", [
        INCIDENTS_N,
        ["Interpreter or Language Line used", "", "34/68 (50.0%)", "suppressed", "100/171 (58.5%)",
         "Pearson's chi-squared", "0.500"],
        ["", "Not documented", "8", "suppressed", "suppressed"],
        ["", "Not applicable", "419", "suppressed", "suppressed"],
    ])})
    assert main(["audit-disclosure", str(folder)]) == 1
    out = capsys.readouterr().out
    assert out.splitlines()[1].startswith("NOT VOUCHED FOR: 1 problem(s) below leave numbers out of the attacker's "
                                          "model, so a count from 1 to 4 may still be worked out there.")
    assert out.endswith("- tables/incidents.csv, line 4, column 'Test/p', row 'Interpreter or Language Line used': "
                        "no completion reproduces what is printed (1 tried)\n")


def test_completions_are_listed_over_the_cells_the_statistics_read_with_the_same_ranges(tmp_path, cb, cfg,
                                                                                         monkeypatch):
    """A yes/no row's test reads 'yes' and the denominator of each period: its completions are listed over those
    alone (the rows outside the denominator are tied to them by sums the linear system holds). The ranges are the
    same as when every split of the hidden 'not documented' / 'not applicable' rows is listed too, and the printed p
    still narrows the hidden 'yes' before (0 to 68 by the sums alone)."""
    from analysis.tables.audit import printed

    folder = write(tmp_path, {"tables/incidents.csv": table_csv("Incident reports", "Incident reports", [
        ["N", "", "495", "120", "615"],
        ["Interpreter or Language Line used", "", "suppressed", "66/103 (64.1%)", "suppressed",
         "Pearson's chi-squared", "0.067"],
        ["", "Not documented", "8", "suppressed", "suppressed"],
        ["", "Not applicable", "419", "suppressed", "suppressed"],
    ])})
    projected = audit(read(folder), cb, cfg)
    monkeypatch.setattr(printed, "check_keys", lambda st: set(printed.row_keys(st)[0]))  # every key of the row
    full = audit(read(folder), cb, cfg)
    assert {str(h.key): h.final for h in projected.hidden} == {str(h.key): h.final for h in full.hidden}
    assert projected.problems == full.problems == []
    [yes] = [h for h in projected.hidden if h.key.column == "interpreter_used" and h.key.level == "yes"
             and h.key.period == "vice"]
    assert yes.linear == (0, 68) and yes.final == (34, 34)  # pinned by the printed p (34 is not a small count)


def test_a_row_with_too_many_completions_to_list_is_not_vouched_for(tmp_path, cb, cfg):
    """'Yes' and the denominator before are both hidden, with nothing to narrow them (about 120,000 completions):
    the row's printed p-value is not used, and the audit says so instead of passing over it."""
    folder = write(tmp_path, {"tables/incidents.csv": table_csv("Incident reports", "Incident reports", [
        INCIDENTS_N,
        ["Interpreter or Language Line used", "", "suppressed", "66/103 (64.1%)", "suppressed",
         "Pearson's chi-squared", "0.067"],
        ["", "Not documented", "suppressed", "12", "suppressed"],
        ["", "Not applicable", "suppressed", "379", "suppressed"],
    ])})
    result = audit(read(folder), cb, cfg)
    assert result.problems == ["tables/incidents.csv, line 4, column 'Test/p', row 'Interpreter or Language Line "
                               "used': the printed tests were not used (more than 20,000 completions of the hidden "
                               "cells they read)"]
    assert result.findings == [] and result.exit_code == 1


def test_a_weighted_table_is_not_vouched_for(tmp_path, cb, cfg):
    """A weighted percentage depends on how the period's counts split between its years, a channel the audit does
    not attack (README: Sampling weights): a weighted table is a problem, and the audit exits 1."""
    rows = [INCIDENTS_N, ["Screened for trafficking", "", "83/495 (16.8%)", "252/494 (50.8%)", "335/989 (24.6%)"]]
    weighted = " Weighted to the sampling frame (reports per sampled year: 2009 1,468, 2010 1,299, 2014 449, 2015 369)."
    folder = write(tmp_path, {"tables/incidents.csv": table_csv("Incident reports", "Incident reports", rows, weighted)})
    result = audit(read(folder), cb, cfg)
    assert result.findings == [] and result.exit_code == 1
    assert result.problems == ["tables/incidents.csv: weighted to the sampling frame: the weighted percentages, "
                               "intervals and tests also depend on how each period's counts split between its "
                               "sampled years, which this audit does not attack (README: Sampling weights)"]
    rows[1][3:5] = ["252/494 (51.0%)", "335/989 (33.9%)"]  # the same row unweighted
    plain = write(tmp_path / "plain", {"tables/incidents.csv": table_csv("Incident reports", "Incident reports", rows)})
    assert audit(read(plain), cb, cfg).exit_code == 0


def test_a_file_that_cannot_be_read_makes_the_folder_unreadable(tmp_path, capsys):
    folder = write(tmp_path / "shared", {"tables/incidents.csv": table_csv("Incident reports", "Incident reports",
                                                                           [INCIDENTS_N])})
    (folder / "tables" / "persons_all.csv").write_bytes(b"\x00\xff\xfe junk")
    assert main(["audit-disclosure", str(folder)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {folder}: tables/persons_all.csv: could not be read (") and err.count("\n") == 1


def test_period_years_are_not_counts_and_a_cell_is_taken_out_of_text_as_a_whole_token():
    """'2009/10 and 2014/15' are the periods' years; a table cell '80' is not taken out of '280 valid rows'."""
    from analysis.tables.audit.core import _without_tables
    from analysis.tables.audit.read import Grid
    from analysis.tables.audit.text import text_counts

    assert [c.value for c in text_counts("x", "not comparable between 2009/10 and 2014/15; 3/10 people")] == [3, 10]
    grid = Grid("x#table-0", "", ["Variable", "Level"], [["N", "80"]], [1], [])
    text = _without_tables("280 valid rows (80 reports, 113 people).", [grid])
    assert [c.value for c in text_counts("x", text)] == [280, 113]


# Very small codings (issue 11, the 24-report case): withheld role columns ('not shown', a role with fewer than 10
# people in a period) are everyone minus the other roles, and hide their zeros (0 or more, not 1 or more).
SMALL_CODINGS = ((24, 7), (40, 5))


@pytest.mark.slow
@pytest.mark.parametrize("n_reports, seed", SMALL_CODINGS)
def test_protected_output_of_a_very_small_coding_leaks_nothing(n_reports, seed, tmp_path, cb, cfg):
    data = tmp_path / "data"
    assert main(["synth", "--out", str(data), "--reports", str(n_reports), "--seed", str(seed), "--no-xlsx"]) == 0
    shared = run_report(data, tmp_path / "reports", tmp_path / "derived")
    result = audit(read(shared), cb, cfg)
    assert result.exit_code == 0 and result.findings == [] and result.problems == [], format_report(result)
    shutil.rmtree(tmp_path / "reports", ignore_errors=True)


def test_a_coding_too_small_to_protect_stops_the_report_with_a_clear_message_and_shares_nothing(tmp_path, capsys):
    """12 reports (6 a period): some incident counts cannot be protected whatever is hidden; the report says so in
    words (exit 2, no traceback, no 'bug' hint) and writes no shared folder."""
    data = tmp_path / "data"
    assert main(["synth", "--out", str(data), "--reports", "12", "--seed", "3", "--no-xlsx"]) == 0
    capsys.readouterr()
    code = main(["report", str(data), "--no-notebooks", "--out", str(tmp_path / "reports"), "--derived",
                 str(tmp_path / "derived"), "--sfpd", str(tmp_path / "no-sfpd"), "--run-date", "2026-01-01"])
    err = capsys.readouterr().err
    assert code == 2
    assert ("error: the shared pack cannot be protected, so nothing was shared: the coding is too small (reports per "
            "period: 6 Before: Vice (2009-2010), 6 After: SVU (2014-2015)) for every count below 5 to stay hidden") in err
    assert "Code more reports before sharing" in err and "bug" not in err and "Traceback" not in err
    assert not (tmp_path / "reports" / "2026-01-01").exists()
    assert not list((tmp_path / "reports").glob("*/shared"))


# --- the solver's ranges: the linear relaxation first, the whole-number programme when it is not enough ------------


def test_a_range_is_the_relaxations_whole_number_optimum_or_else_the_whole_number_programmes(monkeypatch):
    """Table-like rows (a + b = 7, b <= 4) have whole-number vertices: the relaxation, warm from the last solve,
    gives a's range 3..7 with no whole-number programme. Three pairs with at most 1 each (a + b, b + c, a + c <= 1)
    have a relaxation whose maximum of a + b + c is 1.5 (each a half): the whole-number programme is solved for it
    (1), and the relaxed range is rounded inwards to the same 0..1."""
    from analysis.stats.milp import MilpResult
    from analysis.tables.audit import model

    calls = []
    milp = model.milp
    monkeypatch.setattr(model, "milp", lambda *a, **k: calls.append(1) or milp(*a, **k))
    s = model.System()
    a, b = s.var("a", 0, 10), s.var("b", 0, 4)
    s.add({a: 1, b: 1}, 7, 7, "a + b = 7")
    assert model.Solver(s).range(({a: 1.0}, 0.0)) == (3, 7) and calls == []

    s = model.System()
    a, b, c = s.var("a", 0, 10), s.var("b", 0, 10), s.var("c", 0, 10)
    for i, j in ((a, b), (b, c), (a, c)):
        s.add({i: 1, j: 1}, 0, 1, "a pair <= 1")
    total = ({a: 1.0, b: 1.0, c: 1.0}, 0.0)
    solver = model.Solver(s)
    assert solver.range(total) == (0, 1) and len(calls) == 1
    assert solver.range(total, relaxed=True) == (0, 1)
    with monkeypatch.context() as m:  # the control: the whole-number programme for every end gives the same
        m.setattr(model.WarmLP, "solve", lambda self, c: MilpResult(None, None, 4, "not used"))
        assert model.Solver(s).range(total) == (0, 1)
