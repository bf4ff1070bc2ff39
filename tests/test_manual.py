"""The codebook manual: generated from the codebook, and the committed docs/codebook.md is up to date."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from analysis.cli.app import main
from analysis.coders.manual import render_manual

DOC = Path(__file__).resolve().parents[1] / "docs" / "codebook.md"


def test_committed_manual_matches_the_codebook(cb):
    assert DOC.exists(), "docs/codebook.md is missing: run `python -m analysis manual`"
    assert DOC.read_text(encoding="utf-8") == render_manual(cb), (
        "docs/codebook.md is out of date with src/analysis/scheme/codebook.yaml: run `python -m analysis manual` "
        "and commit the result")


def test_manual_follows_a_codebook_change(cb):
    table = cb.table("incidents")
    changed = tuple(dataclasses.replace(v, label="District of the incident") if v.name == "district" else v
                    for v in table.variables)
    other = dataclasses.replace(cb, tables={**cb.tables, "incidents": dataclasses.replace(table, variables=changed)})
    text = render_manual(other)
    assert text != render_manual(cb)
    assert "**District of the incident.** The SFPD police district" in text


def test_title_version_and_conventions(cb):
    text = render_manual(cb)
    assert text.startswith("# SFPD prostitution and human-trafficking incident reports: coding scheme\n\n"
                           "Codebook version **2.0.0**.\n")
    assert "| `-8` | Not documented | The report does not say." in text
    assert "| `-9` | Not applicable | The item does not apply because of an earlier answer" in text
    assert "## Multi-select answers\n\nA multi-select answer is written in one cell as codes separated by " \
           "semicolons" in text
    assert "The separator is `;`." in text
    assert text.endswith("\n") and "\n\n\n" not in text


def test_every_variable_is_described_in_table_order(cb):
    text = render_manual(cb)
    headings = [line[5:] for line in text.splitlines() if line.startswith("#### ")]
    assert headings == [f"{t}.{v.name}" for t in ("incidents", "persons", "charges", "outcomes")
                        for v in cb.table(t).variables]
    for t in ("incidents", "persons", "charges", "outcomes"):
        for v in cb.table(t).variables:
            assert f"**{v.label}.** {v.definition}" in text
            for rule in v.rules:
                assert rule.replace("|", "\\|") in text or rule in text


def test_a_variable_section_in_full(cb):
    text = render_manual(cb)
    start = text.index("#### incidents.condoms_confiscated\n")
    section = text[start:text.index("#### incidents.condoms_photographed")]
    assert section == (
        "#### incidents.condoms_confiscated\n\n"
        "**Condoms confiscated.** Condoms were taken from a person or the scene by police.\n\n"
        "- **Type:** code (one code from the list)\n"
        "- **Required:** yes\n"
        "- **Skip logic:** applies only when condoms_mentioned is 'yes' (Yes); otherwise leave blank or write -9.\n"
        "- **Missing codes:** -8 (Not documented); -9 (Not applicable)\n"
        "- **Level of measurement:** nominal\n\n"
        "| Code | Label |\n|---|---|\n| `yes` | Yes |\n| `no` | No |\n\n"
        "Decision rules:\n\n"
        "1. yes if condoms were seized, booked or taken; no if the report says they were left or returned.\n"
        "2. -8 if condoms are mentioned but the report does not say what happened to them.\n\n"
    )


def test_ranges_formats_and_references(cb):
    text = render_manual(cb)
    age = text[text.index("#### persons.age\n"):text.index("#### persons.gender_identity")]
    assert "- **Range:** 10 to 95\n" in age and "- **Missing codes:** -8 (Not documented)\n" in age
    year = text[text.index("#### incidents.report_year\n"):text.index("#### incidents.district")]
    assert "- **Allowed values:** the `sampled_years` of the study configuration" in year
    charge = text[text.index("#### charges.person_code\n"):]
    assert "- **Must match:** `persons.person_code`" in charge
    assert "- **Stands alone:** `none`" in text
    assert "| `massage_establishment` | Massage establishment |" in text


def test_charge_classification_table_and_the_647f_pair(cb):
    text = render_manual(cb)
    assert "| Statute | Aliases | Title | Category | Category by role | Severity | Dated rules |" in text
    assert ("| PC 647(b) | 647b | Prostitution: soliciting, agreeing to or engaging in | selling (Selling sex) | "
            "buyer: buying (Buying sex) | Misdemeanour |  |") in text
    assert ("| PC 647f |  | Prostitution by a person with HIV after a prior conviction (repealed 2018, SB 239) | "
            "hiv (HIV-specific) |  | Felony | in force until 2018-01-01: SB 239 (2017) repealed it from 1 January "
            "2018 |") in text
    assert ("| PC 647(f) |  | Public intoxication (NOT an HIV charge) | other (Other, not prostitution-related) "
            "|  | Misdemeanour |  |") in text
    assert ("| PC 315 |  | Keeping or residing in a house of ill fame | third_party (Third-party exploitation) | "
            "seller: selling (Selling sex); trafficking_victim: selling (Selling sex) | Misdemeanour |  |") in text
    assert ("| HS 11350 | 11350(a) | Possession of a controlled substance | other (Other, not prostitution-related) "
            "|  | Felony | from 2014-11-05: misdemeanour (Proposition 47 (passed 4 November 2014, in force 5 November "
            "2014) made simple possession a misdemeanour) |") in text
    assert "> **PC 647f and PC 647(f) are different charges.**" in text
    n_statutes = len(cb.charge_classification["statutes"])
    section = text[text.index("### Statutes"):text.index("## REDCap")]
    assert sum(line.startswith("| ") for line in section.splitlines()) == n_statutes + 1


def test_redcap_notes_are_in_the_manual(cb):
    text = render_manual(cb)
    redcap = text[text.index("## REDCap\n"):]
    assert "Make `persons`, `charges` and `outcomes` repeating instruments" in redcap
    assert "`charges.person_code` is the field `charge_person_code`" in redcap


def test_manual_command_writes_and_checks(tmp_path, cb, capsys):
    out = tmp_path / "codebook.md"
    assert main(["manual", "--out", str(out), "--check"]) == 1
    assert "run python -m analysis manual" in capsys.readouterr().out
    assert main(["manual", "--out", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == render_manual(cb)
    assert main(["manual", "--out", str(out), "--check"]) == 0
