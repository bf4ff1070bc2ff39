"""The coding scheme, read from ``codebook.yaml``: the single source of truth for every table and rule.

Everything that needs to know a variable's codes, labels, missing codes, skip logic or order asks this module;
nothing else hard-codes them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from .yamltext import load_yaml

TABLES = ("incidents", "persons", "charges", "outcomes")
NOT_DOCUMENTED = "-8"
NOT_APPLICABLE = "-9"
VARIABLE_TYPES = {"id", "text", "date", "integer", "code", "multi", "statute", "statutes"}
LEVELS = {"nominal", "ordinal", "interval", "none"}
DISPLAY_SEP = " = "  # a code as a drop-down shows it: "code = label"


def display_choice(code: str, label: str) -> str:
    """How a code is shown in a drop-down list (the template's, REDCap's): ``code = label``."""
    return f"{code}{DISPLAY_SEP}{label}"


@dataclass(frozen=True)
class Code:
    code: str
    label: str
    in_force: str | None = None  # YYYY-MM-DD: the day the law a code names came into force (relief statutes)


@dataclass(frozen=True)
class Condition:
    """Skip logic: the variable applies only when ``variable`` takes one of ``values``."""

    variable: str
    values: tuple[str, ...]

    def describe(self) -> str:
        vals = " or ".join(f"'{v}'" for v in self.values)
        return f"{self.variable} is {vals}"


@dataclass(frozen=True)
class Variable:
    name: str
    label: str
    type: str
    table: str
    required: bool = True
    codes: tuple[Code, ...] = ()
    missing: tuple[str, ...] = ()
    show_if: tuple[Condition, ...] = ()
    min: float | None = None
    max: float | None = None
    pattern: str | None = None
    references: str | None = None
    exclusive: tuple[str, ...] = ()
    allowed_from_config: str | None = None
    level: str = "nominal"
    identifier: bool = False
    definition: str = ""
    rules: tuple[str, ...] = ()
    caveat: str = ""  # a limitation every table showing the variable repeats (e.g. race before/after 2012)
    # dates only: the dates this one may not precede ("incidents.incident_date": the report's incident date;
    # a plain name: another date of the same row), and a coded variable whose code's ``in_force`` it may not precede
    not_before: tuple[str, ...] = ()
    in_force_of: str | None = None

    @property
    def code_values(self) -> tuple[str, ...]:
        return tuple(c.code for c in self.codes)

    @property
    def labels(self) -> dict[str, str]:
        return {c.code: c.label for c in self.codes}

    @property
    def is_coded(self) -> bool:
        return self.type in {"code", "multi"}


@dataclass(frozen=True)
class Consistency:
    """A rule between two items of a row: when every ``when`` condition holds, ``require`` must hold too (checked
    only where both items hold codes, not missing codes). ``why`` says why, in words for the coder."""

    when: tuple[Condition, ...]
    require: Condition
    why: str

    def describe(self) -> str:
        return " and ".join(c.describe() for c in self.when)


@dataclass(frozen=True)
class Table:
    name: str
    label: str
    description: str
    key: str | None
    variables: tuple[Variable, ...]
    optional: bool = False  # coded data without this table is complete (it is analysed without it)
    consistency: tuple[Consistency, ...] = ()

    @property
    def columns(self) -> list[str]:
        return [v.name for v in self.variables]

    def variable(self, name: str) -> Variable:
        for v in self.variables:
            if v.name == name:
                return v
        raise KeyError(f"table {self.name!r} has no variable {name!r}")


@dataclass(frozen=True)
class DerivedVariable:
    """A variable made by :mod:`analysis.derive.variables`, declared in the codebook for its label, kind and levels."""

    name: str
    table: str
    label: str
    kind: str  # binary | category | number
    definition: str
    levels: tuple[Code, ...] = ()
    sources: tuple[str, ...] = ()  # ``from:`` the variables it is computed from (``table.column`` for another table)
    caveat: str = ""
    source: str = ""  # the coded variable a grouping is made from (its levels then list their ``members``)
    members: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (level, codes of ``source``) in level order
    topic: str = ""  # "outcomes": shown in the outcomes tables, not in the other person tables

    def group_of(self) -> dict[str, str]:
        """For a grouping: each code of the source variable -> its level."""
        return {code: level for level, codes in self.members for code in codes}


@dataclass(frozen=True)
class Question:
    """A question the committee asked (the codebook's ``questions:``): its plain wording, the population and the
    variables (``table.variable``, an option as ``table.variable__option``) that answer it, the standard table
    that shows their rows and the meeting chart (or None)."""

    id: str
    asked: str
    source: str
    population: str
    variables: tuple[str, ...]
    table: str
    chart: str | None = None

    def split(self) -> list[tuple[str, str]]:
        """``(table, column)`` of each variable."""
        return [tuple(v.split(".", 1)) for v in self.variables]


@dataclass(frozen=True, eq=False)
class Codebook:
    version: str
    title: str
    missing_labels: dict[str, str]
    missing_meanings: dict[str, str]
    separator: str
    multi_select_description: str
    tables: dict[str, Table]
    charge_classification: dict[str, Any] = field(repr=False)
    derived: dict[str, tuple[DerivedVariable, ...]] = field(default_factory=dict, repr=False)
    disclosure: dict[str, Any] = field(default_factory=dict, repr=False)  # disclosure-control settings, as written
    race_recording: dict[str, Any] = field(default_factory=dict, repr=False)
    questions: tuple[Question, ...] = field(default=(), repr=False)

    @property
    def optional_tables(self) -> tuple[str, ...]:
        """The tables coded data may leave out (e.g. outcomes, when the DA's records are not available)."""
        return tuple(t for t in TABLES if t in self.tables and self.tables[t].optional)

    def has_variable(self, table: str, name: str) -> bool:
        """True when ``name`` is a coded or a derived variable of ``table``."""
        coded = table in self.tables and name in self.tables[table].columns
        return coded or any(d.name == name for d in self.derived.get(table, ()))

    def question(self, qid: str) -> Question:
        for q in self.questions:
            if q.id == qid:
                return q
        raise KeyError(f"no committee question {qid!r} in the codebook")

    def derived_variable(self, table: str, name: str) -> DerivedVariable:
        for d in self.derived.get(table, ()):
            if d.name == name:
                return d
        raise KeyError(f"no derived variable {name!r} in {table}")

    def table(self, name: str) -> Table:
        return self.tables[name]

    def variable(self, table: str, name: str) -> Variable:
        return self.tables[table].variable(name)

    def missing_label(self, code: str) -> str:
        return self.missing_labels[code]


def _condition(raw: dict) -> Condition:
    return Condition(raw["variable"], tuple(str(v) for v in raw["in"]))


def _parse_code(raw: dict) -> Code:
    in_force = raw.get("in_force")
    return Code(str(raw["code"]), str(raw["label"]), str(in_force) if in_force is not None else None)


def _parse_variable(table: str, raw: dict, value_sets: dict[str, list[dict]]) -> Variable:
    codes_raw = raw.get("codes")
    if codes_raw is None and "value_set" in raw:
        codes_raw = value_sets[raw["value_set"]]
    codes = tuple(_parse_code(c) for c in (codes_raw or []))
    show_if = tuple(_condition(c) for c in raw.get("show_if", []) or [])
    return Variable(
        name=raw["name"],
        label=raw["label"],
        type=raw["type"],
        table=table,
        required=bool(raw.get("required", True)),
        codes=codes,
        missing=tuple(str(m) for m in raw.get("missing", []) or []),
        show_if=show_if,
        min=raw.get("min"),
        max=raw.get("max"),
        pattern=raw.get("pattern"),
        references=raw.get("references"),
        exclusive=tuple(raw.get("exclusive", []) or []),
        allowed_from_config=raw.get("allowed_from_config"),
        level=raw.get("level", "nominal"),
        identifier=bool(raw.get("identifier", False)),
        definition=" ".join(str(raw.get("definition", "")).split()),
        rules=tuple(raw.get("rules", []) or []),
        caveat=" ".join(str(raw.get("caveat", "")).split()),
        not_before=tuple(str(n) for n in raw.get("not_before", []) or []),
        in_force_of=raw.get("in_force_of"),
    )


def _sources(d: dict) -> tuple[str, ...]:
    raw = d.get("from")
    if not raw:
        return ()
    return (str(raw),) if isinstance(raw, str) else tuple(str(x) for x in raw)


def _grouping_source(d: dict) -> str:
    """The source variable of a grouping (levels with ``members``), else the ``from:`` string, else ''."""
    raw = d.get("from")
    if isinstance(raw, str):
        return raw
    if raw and len(raw) == 1 and any("members" in c for c in d.get("levels", []) or []):
        return str(raw[0])
    return ""


def _parse_derived(table: str, d: dict) -> DerivedVariable:
    return DerivedVariable(
        name=d["name"],
        table=table,
        label=d["label"],
        kind=d["kind"],
        definition=" ".join(str(d.get("definition", "")).split()),
        levels=tuple(Code(str(c["code"]), str(c["label"])) for c in d.get("levels", []) or []),
        caveat=" ".join(str(d.get("caveat", "")).split()),
        # ``from:`` is the coded variable of a grouping (a string) or the list of the variables it is computed from
        source=_grouping_source(d),
        sources=_sources(d),
        members=tuple((str(c["code"]), tuple(str(m) for m in c["members"])) for c in d.get("levels", []) or []
                      if "members" in c),
        topic=str(d.get("topic", "")),
    )


def _parse_table(tname: str, traw: dict, value_sets: dict[str, list[dict]]) -> Table:
    variables = tuple(_parse_variable(tname, v, value_sets) for v in traw["variables"])
    consistency = tuple(
        Consistency(tuple(_condition(c) for c in r["when"]), _condition(r["require"]), " ".join(str(r["why"]).split()))
        for r in traw.get("consistency", []) or []
    )
    return Table(name=tname, label=traw["label"], description=" ".join(str(traw.get("description", "")).split()),
                 key=traw.get("key"), variables=variables, optional=bool(traw.get("optional", False)),
                 consistency=consistency)


def parse_codebook(doc: dict) -> Codebook:
    """Build a :class:`Codebook` from the parsed YAML document."""
    value_sets = doc.get("value_sets", {})
    tables = {tname: _parse_table(tname, traw, value_sets) for tname, traw in doc["tables"].items()}
    return Codebook(
        version=str(doc["version"]),
        title=doc.get("title", ""),
        missing_labels={str(m["code"]): m["label"] for m in doc["missing_codes"]},
        missing_meanings={str(m["code"]): " ".join(m["meaning"].split()) for m in doc["missing_codes"]},
        separator=doc["multi_select"]["separator"],
        multi_select_description=" ".join(doc["multi_select"]["description"].split()),
        tables=tables,
        charge_classification=doc["charge_classification"],
        derived={t: tuple(_parse_derived(t, d) for d in ds) for t, ds in (doc.get("derived") or {}).items()},
        disclosure=dict(doc.get("disclosure") or {}),
        race_recording=doc.get("race_recording") or {},
        questions=tuple(_parse_question(q) for q in doc.get("questions", []) or []),
    )


def _parse_question(raw: dict) -> Question:
    return Question(id=str(raw["id"]), asked=" ".join(str(raw["asked"]).split()), source=str(raw.get("source", "")),
                    population=" ".join(str(raw.get("population", "")).split()),
                    variables=tuple(str(v) for v in raw.get("variables") or []), table=str(raw.get("table", "")),
                    chart=raw.get("chart") or None)


def codebook_path() -> Path:
    return Path(str(resources.files("analysis.scheme") / "codebook.yaml"))


@lru_cache(maxsize=4)
def load_codebook(path: str | None = None) -> Codebook:
    """Read the codebook (the package's own unless ``path`` is given)."""
    text = Path(path).read_text(encoding="utf-8") if path else codebook_path().read_text(encoding="utf-8")
    return parse_codebook(load_yaml(text))


def check_codebook(cb: Codebook) -> list[str]:
    """Return every inconsistency in the codebook itself (an empty list when it is sound)."""
    problems: list[str] = []
    known_missing = set(cb.missing_labels)
    seen_names: dict[str, str] = {}
    for table in cb.tables.values():
        names = [v.name for v in table.variables]
        for n in sorted({n for n in names if names.count(n) > 1}):
            problems.append(f"{table.name}: variable {n!r} is defined more than once")
        if table.key and table.key not in names:
            problems.append(f"{table.name}: key {table.key!r} is not a variable")
        for v in table.variables:
            where = f"{table.name}.{v.name}"
            if v.references is None and v.name in seen_names:
                problems.append(f"{where}: name already used in {seen_names[v.name]} (names must be unique)")
            if v.references is None:
                seen_names.setdefault(v.name, table.name)
            if v.type not in VARIABLE_TYPES:
                problems.append(f"{where}: unknown type {v.type!r}")
            if v.level not in LEVELS:
                problems.append(f"{where}: unknown level {v.level!r}")
            if not v.label or not v.definition:
                problems.append(f"{where}: needs a label and a definition")
            if v.is_coded and not v.codes:
                problems.append(f"{where}: a coded variable needs codes")
            if not v.is_coded and v.codes:
                problems.append(f"{where}: only code and multi variables take codes")
            codes = [c.code for c in v.codes]
            for c in v.codes:
                if not c.label.strip():
                    problems.append(f"{where}: code {c.code!r} has no label")
                if c.code in known_missing:
                    problems.append(f"{where}: code {c.code!r} clashes with a missing code")
                if cb.separator in c.code or c.code != c.code.strip():
                    problems.append(f"{where}: code {c.code!r} contains the separator or spaces")
            for c in sorted({c for c in codes if codes.count(c) > 1}):
                problems.append(f"{where}: code {c!r} is listed twice")
            for m in v.missing:
                if m not in known_missing:
                    problems.append(f"{where}: missing code {m!r} is not defined in missing_codes")
            if bool(v.show_if) != (NOT_APPLICABLE in v.missing):
                problems.append(f"{where}: -9 (not applicable) must be accepted exactly when there is skip logic")
            for cond in v.show_if:
                if cond.variable not in names:
                    problems.append(f"{where}: skip logic refers to unknown variable {cond.variable!r}")
                    continue
                parent = table.variable(cond.variable)
                if names.index(cond.variable) > names.index(v.name):
                    problems.append(f"{where}: skip logic refers to a later variable {cond.variable!r}")
                for val in cond.values:
                    if val not in parent.code_values:
                        problems.append(f"{where}: skip logic value {val!r} is not a code of {cond.variable}")
            for e in v.exclusive:
                if e not in codes:
                    problems.append(f"{where}: exclusive option {e!r} is not a code")
            if v.references:
                rt, _, rv = v.references.partition(".")
                if rt not in cb.tables or cb.tables[rt].key != rv:
                    problems.append(f"{where}: references {v.references!r}, which is not a table key")
            if v.type == "integer" and v.allowed_from_config is None and (v.min is None or v.max is None):
                problems.append(f"{where}: an integer needs min and max")
    problems += _check_dates_and_consistency(cb)
    problems += check_questions(cb)
    for tname, ds in cb.derived.items():
        names = [d.name for d in ds]
        for d in ds:
            where = f"derived {tname}.{d.name}"
            if tname not in cb.tables:
                problems.append(f"{where}: unknown table")
            if d.kind not in {"binary", "category", "number"}:
                problems.append(f"{where}: unknown kind {d.kind!r}")
            if not d.label or not d.definition:
                problems.append(f"{where}: needs a label and a definition")
            if names.count(d.name) > 1:
                problems.append(f"{where}: declared more than once")
            if tname in cb.tables and d.name in cb.tables[tname].columns:
                problems.append(f"{where}: clashes with a coded variable")
            problems += _grouping_problems(cb, tname, d, where)
    problems += _label_problems(cb) + _race_problems(cb)
    return problems


def _grouping_problems(cb: Codebook, tname: str, d: DerivedVariable, where: str) -> list[str]:
    """A grouping of a coded variable (``from``): every code of it in exactly one level."""
    if not d.source:
        return []
    if tname not in cb.tables or d.source not in cb.tables[tname].columns:
        return [f"{where}: groups unknown variable {d.source!r}"]
    codes = cb.variable(tname, d.source).code_values
    listed = [c for _, cs in d.members for c in cs]
    out = [f"{where}: {c!r} is not a code of {d.source}" for c in listed if c not in codes]
    out += [f"{where}: code {c!r} of {d.source} is in {listed.count(c)} levels, not exactly one"
            for c in codes if listed.count(c) != 1]
    return out


def _label_problems(cb: Codebook) -> list[str]:
    """Two variables of one table (coded or derived) with the same label cannot be told apart in a table."""
    out = []
    for tname, table in cb.tables.items():
        labels = [v.label for v in table.variables] + [d.label for d in cb.derived.get(tname, ())]
        out += [f"{tname}: the label {lab!r} is used by {labels.count(lab)} variables"
                for lab in sorted({lab for lab in labels if labels.count(lab) > 1})]
    return out


def _race_problems(cb: Codebook) -> list[str]:
    """The race lists: letters of persons.race_recorded, readings of persons.race_ethnicity (or -8), one list
    before the change date and one from it."""
    rr = cb.race_recording
    if not rr:
        return []
    try:
        letters = set(cb.variable("persons", "race_recorded").code_values)
        readings = set(cb.variable("persons", "race_ethnicity").code_values) | {NOT_DOCUMENTED}
    except KeyError as exc:
        return [f"race_recording: {exc.args[0]}"]
    out = []
    if sorted(str(lst.get("in_use")) for lst in rr.get("lists", [])) != ["before_change", "from_change"]:
        out.append("race_recording: needs exactly one list in_use before_change and one from_change")
    for lst in rr.get("lists", []):
        for e in lst.get("letters", []):
            if str(e["letter"]) not in letters:
                out.append(f"race_recording {lst['name']}: letter {e['letter']!r} is not a code of race_recorded")
            if str(e["reading"]) not in readings:
                out.append(f"race_recording {lst['name']}: reading {e['reading']!r} is not a code of race_ethnicity")
    return out


def _iso(text: str | None) -> bool:
    try:
        dt.date.fromisoformat(str(text))
    except ValueError:
        return False
    return True


def _check_dates_and_consistency(cb: Codebook) -> list[str]:
    """``not_before`` and ``in_force_of`` of dates, ``in_force`` of codes, and the tables' consistency rules."""
    problems: list[str] = []
    for table in cb.tables.values():
        names = table.columns
        for v in table.variables:
            where = f"{table.name}.{v.name}"
            for c in v.codes:
                if c.in_force is not None and not _iso(c.in_force):
                    problems.append(f"{where}: code {c.code!r} has in_force {c.in_force!r}, not a date YYYY-MM-DD")
            if (v.not_before or v.in_force_of) and v.type != "date":
                problems.append(f"{where}: not_before and in_force_of are for dates only")
            for ref in v.not_before:
                rt, _, rv = ref.rpartition(".")
                ok = (rt in cb.tables and rv in cb.tables[rt].columns) if rt else rv in names
                target = cb.variable(rt, rv) if rt and ok else table.variable(rv) if ok else None
                if target is None or target.type != "date" or target is v:
                    problems.append(f"{where}: not_before {ref!r} is not another date variable")
            if v.in_force_of is not None:
                parent = table.variable(v.in_force_of) if v.in_force_of in names else None
                if parent is None or not any(c.in_force for c in parent.codes):
                    problems.append(f"{where}: in_force_of {v.in_force_of!r} is not a coded variable with in_force dates")
        for rule in table.consistency:
            for cond in (*rule.when, rule.require):
                if cond.variable not in names:
                    problems.append(f"{table.name}: consistency rule refers to unknown variable {cond.variable!r}")
                    continue
                bad = [x for x in cond.values if x not in table.variable(cond.variable).code_values]
                if bad:
                    problems.append(f"{table.name}: consistency rule value(s) {', '.join(map(repr, bad))} are not "
                                    f"codes of {cond.variable}")
            if not rule.why:
                problems.append(f"{table.name}: a consistency rule needs a 'why'")
    return problems


def question_variable_known(cb: Codebook, table: str, column: str) -> bool:
    """``table.column`` is a coded variable, an option of a multi-select (``variable__option``) or a derived
    variable of the codebook."""
    if table not in cb.tables:
        return False
    names = {v.name: v for v in cb.tables[table].variables}
    names.update({d.name: None for d in cb.derived.get(table, ())})
    if column in names:
        return True
    var, _, opt = column.partition("__")
    v = names.get(var)
    return v is not None and v.type == "multi" and opt in v.code_values


def check_questions(cb: Codebook) -> list[str]:
    """Every committee question has an id (once), its wording, at least one known variable and a table."""
    problems = []
    ids = [q.id for q in cb.questions]
    for q in cb.questions:
        where = f"question {q.id!r}"
        if ids.count(q.id) > 1:
            problems.append(f"{where}: id used more than once")
        if not q.asked.strip():
            problems.append(f"{where}: needs its wording (asked)")
        if not q.variables:
            problems.append(f"{where}: names no variable that answers it")
        if not q.table:
            problems.append(f"{where}: names no table")
        for v in q.variables:
            table, _, column = v.partition(".")
            if not column or not question_variable_known(cb, table, column):
                problems.append(f"{where}: {v!r} is not a variable of the codebook (write table.variable)")
    return problems
