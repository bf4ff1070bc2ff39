"""The codebook manual (docs/codebook.md), rendered from the codebook so the two never disagree.

``python -m analysis manual`` writes it; a test fails when the committed file differs from
:func:`render_manual` of the current codebook.
"""

from __future__ import annotations

import re

from ..scheme.codebook import TABLES, Codebook, Variable
from .template import skip_logic_text

TYPE_WORDS = {
    "id": "identifier (text)",
    "text": "text",
    "date": "date, YYYY-MM-DD (a spreadsheet date cell is fine)",
    "integer": "whole number",
    "code": "one code from the list",
    "multi": "multi-select, one or more codes from the list",
    "statute": "statute as written on the report (classified with the charge classification table)",
    "statutes": "one or more statutes as written in the record, separated by ';' (each classified with the charge "
                "classification table)",
}


def _cell(text: object) -> str:
    """Text safe inside a Markdown table cell."""
    return " ".join(str(text).split()).replace("|", "\\|")


def _table(header: list[str], rows: list[list[object]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(_cell(c) for c in r) + " |" for r in rows]
    return out


def _anchor(heading: str) -> str:
    """GitHub's anchor for a heading (lower case, punctuation dropped, spaces to hyphens)."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def _variable_section(v: Variable, cb: Codebook) -> list[str]:
    out = [f"#### {v.table}.{v.name}", "", f"**{v.label}.** {v.definition}", ""]
    facts = [f"- **Type:** {v.type} ({TYPE_WORDS.get(v.type, v.type)})"]
    facts.append(f"- **Required:** {'yes' if v.required else 'no'}")
    if v.show_if:
        facts.append(f"- **Skip logic:** applies {skip_logic_text(v, cb)}.")
    if v.missing:
        facts.append("- **Missing codes:** " + "; ".join(f"{m} ({cb.missing_labels[m]})" for m in v.missing))
    else:
        facts.append("- **Missing codes:** none; a value is always expected")
    if v.type == "integer" and v.allowed_from_config:
        facts.append(f"- **Allowed values:** the `{v.allowed_from_config}` of the study configuration "
                     "(src/analysis/scheme/study.yaml)")
    elif v.min is not None or v.max is not None:
        facts.append(f"- **Range:** {v.min:g} to {v.max:g}")
    if v.type == "date" and v.not_before:
        after = ", ".join("the report's incident date" if "." in ref else f"`{ref}`" for ref in v.not_before)
        if v.in_force_of:
            after += f", and the day the law coded in `{v.in_force_of}` came into force"
        facts.append(f"- **Range:** any year; not before {after}")
    elif v.type == "date":
        facts.append("- **Range:** within the sampled years of the study configuration")
    if v.pattern:
        facts.append(f"- **Format:** `{v.pattern}`")
    if v.references:
        facts.append(f"- **Must match:** `{v.references}`")
    if v.exclusive:
        facts.append("- **Stands alone:** " + ", ".join(f"`{e}`" for e in v.exclusive))
    if v.identifier:
        facts.append("- **Identifier:** yes: could help identify a person; never shown in shared outputs")
    facts.append(f"- **Level of measurement:** {v.level}")
    out += facts + [""]
    if v.codes and any(c.in_force for c in v.codes):
        out += _table(["Code", "Label", "In force from"],
                      [[f"`{c.code}`", c.label, c.in_force or ""] for c in v.codes]) + [""]
    elif v.codes:
        out += _table(["Code", "Label"], [[f"`{c.code}`", c.label] for c in v.codes]) + [""]
    if v.rules:
        out += ["Decision rules:", ""] + [f"{k}. {r}" for k, r in enumerate(v.rules, start=1)] + [""]
    return out


def _parenthesis_pairs(statutes: list[dict]) -> list[tuple[dict, dict]]:
    """Statutes that differ only by parentheses, e.g. PC 647(f) and PC 647f."""
    bare: dict[str, list[dict]] = {}
    for s in statutes:
        bare.setdefault(re.sub(r"[()]", "", s["statute"]), []).append(s)
    return [(g[0], g[1]) for g in bare.values() if len(g) == 2]


def _charges_section(cb: Codebook) -> list[str]:
    cc = cb.charge_classification
    cats = {c["code"]: c["label"] for c in cc["categories"]}
    sevs = {s["code"]: s["label"] for s in cc["severities"]}
    out = [
        "## Charge classification",
        "",
        "The `statute` column of the charges table is copied as written. It is classified with this table "
        "(from the codebook's `charge_classification`). Matching ignores case and the dots and spacing in the code "
        "name, and accepts the code name before or after the section (`PC 647(b)`, `647(b) PC`, `P.C. 647 (b)`); "
        "a section with no code name is read as Penal Code. **Parentheses matter**: `647(f)` is a subdivision "
        "of section 647 and `647f` is a section of its own. Spaces inside a section number are not guessed at "
        "(`647 f` is reported as unknown). A statute the table does not know is reported by the validator, never "
        "guessed.",
        "",
    ]
    for a, b in _parenthesis_pairs(cc["statutes"]):
        out += [
            f"> **{a['statute']} and {b['statute']} are different charges.** {a['statute']}: {a['title']} "
            f"(category `{a['category']}`). {b['statute']}: {b['title']} (category `{b['category']}`). "
            "Copy the parentheses exactly as the report writes them.",
            "",
        ]
    out += ["### Code names", ""]
    out += _table(["Code", "Name", "Spellings accepted"],
                  [[f"`{k}`", v["label"], ", ".join(v["spellings"])] for k, v in cc["codes"].items()])
    for k, v in cc["codes"].items():
        if v.get("any_section"):
            a = v["any_section"]
            out += ["", f"Any section of `{k}` ({v['label']}) is accepted: as listed below, or else as "
                    f"{a['category']} ({cats.get(a['category'], '?')}), {sevs.get(a['severity'], a['severity']).lower()}. "
                    + a.get("note", "")]
    if cc.get("attempt"):
        att = cc["attempt"]
        out += ["", f"**Attempts.** {att['rule']}"]
    out += ["", "### Categories", ""]
    out += _table(["Category", "Label"], [[f"`{k}`", v] for k, v in cats.items()])
    out += ["", "### Severities", ""]
    out += _table(["Severity", "Label"], [[f"`{k}`", v] for k, v in sevs.items()])
    out += [
        "",
        "### Statutes",
        "",
        "A role category replaces the category when the person charged has that role (before 2017, 647(b) "
        "covered both selling and buying; PC 315 covers keepers and residents of a house of prostitution). "
        "Dated rules: a charge is judged by the report's incident date (1 July of the report year when the date "
        "is not documented); a statute charged outside the dates it was in force is an error, and a severity "
        "or title changes on the date given.",
        "",
    ]

    def roles(s: dict) -> str:
        return "; ".join(f"{r}: {c} ({cats.get(c, '?')})" for r, c in (s.get("by_role") or {}).items())

    def dated(s: dict) -> str:
        f = s.get("in_force") or {}
        parts = [f"in force {'from ' + str(f['from']) if f.get('from') else ''}"
                 f"{' ' if f.get('from') and f.get('until') else ''}{'until ' + str(f['until']) if f.get('until') else ''}"
                 f": {f.get('by', '')}"] if f else []
        for c in s.get("changes") or []:
            what = ", ".join(x for x in ((sevs.get(c["severity"], c["severity"]).lower() if c.get("severity") else ""),
                                         (f"title: {c['title']}" if c.get("title") else "")) if x)
            parts.append(f"from {c['date']}: {what} ({c.get('by', '')})")
        return "; ".join(parts)

    rows = [[s["statute"], ", ".join(s.get("aliases") or []) or "", s["title"],
             f"{s['category']} ({cats.get(s['category'], '?')})", roles(s),
             sevs.get(s["severity"], s["severity"]), dated(s)]
            for s in cc["statutes"]]
    out += _table(["Statute", "Aliases", "Title", "Category", "Category by role", "Severity", "Dated rules"], rows)
    return out + [""]


def render_manual(codebook: Codebook) -> str:
    """The codebook manual as Markdown (deterministic: the same codebook gives the same text)."""
    from .redcap_dictionary import setup_notes

    cb = codebook
    lines = _front_matter(cb) + _general_rules(cb)
    for t in TABLES:
        lines += _table_section(t, cb)
    lines += _derived_section(cb)
    lines += _questions_section(cb)
    lines += _charges_section(cb)
    lines += [
        "## REDCap",
        "",
        "`python -m analysis redcap-dictionary OUT.csv` writes the REDCap data dictionary and "
        "`python -m analysis import-redcap EXPORT.csv --out FOLDER` turns a REDCap raw records export back into "
        "the tables the validator reads. Setting up the project:",
        "",
    ]
    lines += [f"{k}. {note}" for k, note in enumerate(setup_notes(cb), start=1)]
    lines.append("")
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).rstrip("\n") + "\n"


def _front_matter(cb: Codebook) -> list[str]:
    """The title, what the manual is, and the contents."""
    lines = [
        f"# {cb.title}",
        "",
        f"Codebook version **{cb.version}**.",
        "",
        "<!-- Generated from src/analysis/scheme/codebook.yaml by `python -m analysis manual`. Do not edit by hand: "
        "change the codebook and run the command again. -->",
        "",
        "This manual is generated from `src/analysis/scheme/codebook.yaml`, the single source of truth for the coding "
        "scheme; the validator, the coding template (`python -m analysis template`) and the REDCap data "
        "dictionary (`python -m analysis redcap-dictionary`) are made from the same file. To change it, edit the "
        "codebook and run `python -m analysis manual`.",
        "",
        "**Never enter names, addresses, dates of birth or narrative text.** Reports are identified by the study's "
        "report id and people by the person code in the sample data.",
        "",
        "## Contents",
        "",
        "- [Missing values](#missing-values)",
        "- [Multi-select answers](#multi-select-answers)",
        "- [Skip logic](#skip-logic)",
    ]
    for t in TABLES:
        heading = f"Table {t}: {cb.table(t).label}"
        lines.append(f"- [{heading}](#{_anchor(heading)})")
    return lines + ["- [Derived variables](#derived-variables)", "- [Committee questions](#committee-questions)",
                    "- [Charge classification](#charge-classification)", "- [REDCap](#redcap)", ""]


def _general_rules(cb: Codebook) -> list[str]:
    """Missing values, multi-select answers and skip logic: the rules every table follows."""
    lines = ["## Missing values", ""]
    lines += _table(["Code", "Label", "Meaning"],
                    [[f"`{c}`", cb.missing_labels[c], cb.missing_meanings[c]] for c in cb.missing_labels])
    lines += [
        "",
        "Each variable accepts only the missing codes listed for it. -8 (not documented) is a finding about the "
        "report: the item applies but the report does not say. -9 (not applicable) follows only from skip logic; "
        "where the item applies, -9 is an error. Missing codes may be written `-8`, `-8 = Not documented` or "
        "`Not documented`.",
        "",
        "## Multi-select answers",
        "",
        f"{cb.multi_select_description} The separator is `{cb.separator}`.",
        "",
        "## Skip logic",
        "",
        "Some items apply only when an earlier item takes certain values. When an item does not apply the cell is "
        "left blank or -9 (a blank skipped cell is read as -9); when it applies, a code (or -8 where accepted) is "
        "required.",
        "",
    ]
    skip_rows = [[f"{v.table}.{v.name}", v.label, skip_logic_text(v, cb)]
                 for t in TABLES for v in cb.table(t).variables if v.show_if]
    return lines + _table(["Variable", "Label", "Applies"], skip_rows) + [""]


def _table_section(t: str, cb: Codebook) -> list[str]:
    """One table: its description, key, a summary of its variables, then each variable's section."""
    table = cb.table(t)
    lines = [f"## Table {t}: {table.label}", "", table.description, ""]
    if table.optional:
        lines += [f"**Optional.** Coded data without a `{t}` table (no `{t}.csv`, no sheet `{t}`) is validated, "
                  f"derived and reported without it, with a note; the derived variables that come from it are "
                  "blank.", ""]
    if table.key:
        lines += [f"Key: `{table.key}` (unique in this table).", ""]
    else:
        lines += ["No key: several rows may share a report id and person code.", ""]
    summary = [[f"[{v.name}](#{_anchor(f'{t}.{v.name}')})", v.label, v.type,
                ", ".join(v.missing) or "", "yes" if v.show_if else ""] for v in table.variables]
    lines += _table(["Variable", "Label", "Type", "Missing codes", "Skip logic"], summary) + [""]
    for v in table.variables:
        lines += _variable_section(v, cb)
    if table.consistency:
        lines += [f"### Consistency rules ({t})", "",
                  "Items of a row that must agree; the validator rejects a row where they do not (rows with -8 or "
                  "-9 in either item are not judged).", ""]
        lines += _table(["When", "Then", "Why"],
                        [[r.describe(), f"{r.require.variable} is " + " or ".join(f"'{v}'" for v in r.require.values),
                          r.why] for r in table.consistency]) + [""]
    return lines


def _derived_section(cb: Codebook) -> list[str]:
    """The variables analysis.derive adds, per derived table, with their definitions."""
    lines = ["## Derived variables", "",
             "Made by `analysis.derive` from the coded tables (never entered); the tables and charts take their "
             "labels and levels from here. Binary variables are yes/no, blank when unknown.", ""]
    for t in TABLES:
        ds = cb.derived.get(t, ())
        if not ds:
            continue
        lines += [f"### Derived {t}", ""]
        rows = [[f"`{d.name}`", d.label, d.kind + (f" ({', '.join(c.code for c in d.levels)})" if d.levels else ""),
                 d.definition] for d in ds]
        lines += _table(["Variable", "Label", "Kind", "Definition"], rows) + [""]
    return lines


def _questions_section(cb: Codebook) -> list[str]:
    """The committee's questions and the variables and tables that answer them."""
    lines = ["## Committee questions", "",
             "The questions the committee asked, and where the analysis answers them (`questions` in the codebook).",
             ""]
    rows = [[f"`{q.id}`", q.asked, q.source, q.population, ", ".join(f"`{v}`" for v in q.variables),
             f"`{q.table}`" if q.table else "", f"`{q.chart}`" if q.chart else ""] for q in cb.questions]
    return lines + _table(["Id", "Asked", "Source", "Population", "Variables", "Table", "Chart"], rows) + [""]
