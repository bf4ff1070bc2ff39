"""The coding scheme, read from ``codebook.yaml``: the single source of truth for every table and rule.

Everything that needs to know a variable's codes, labels, missing codes, skip logic or order asks this module;
nothing else hard-codes them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

TABLES = ("incidents", "persons", "charges")
NOT_DOCUMENTED = "-8"
NOT_APPLICABLE = "-9"
VARIABLE_TYPES = {"id", "text", "date", "integer", "code", "multi", "statute"}
LEVELS = {"nominal", "ordinal", "interval", "none"}


@dataclass(frozen=True)
class Code:
    code: str
    label: str


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
class Table:
    name: str
    label: str
    description: str
    key: str | None
    variables: tuple[Variable, ...]

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


def _parse_variable(table: str, raw: dict, value_sets: dict[str, list[dict]]) -> Variable:
    codes_raw = raw.get("codes")
    if codes_raw is None and "value_set" in raw:
        codes_raw = value_sets[raw["value_set"]]
    codes = tuple(Code(str(c["code"]), str(c["label"])) for c in (codes_raw or []))
    show_if = tuple(
        Condition(c["variable"], tuple(str(v) for v in c["in"])) for c in raw.get("show_if", []) or []
    )
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
    )


def parse_codebook(doc: dict) -> Codebook:
    """Build a :class:`Codebook` from the parsed YAML document."""
    value_sets = doc.get("value_sets", {})
    tables = {}
    for tname, traw in doc["tables"].items():
        variables = tuple(_parse_variable(tname, v, value_sets) for v in traw["variables"])
        tables[tname] = Table(
            name=tname,
            label=traw["label"],
            description=traw.get("description", ""),
            key=traw.get("key"),
            variables=variables,
        )
    return Codebook(
        version=str(doc["version"]),
        title=doc.get("title", ""),
        missing_labels={str(m["code"]): m["label"] for m in doc["missing_codes"]},
        missing_meanings={str(m["code"]): " ".join(m["meaning"].split()) for m in doc["missing_codes"]},
        separator=doc["multi_select"]["separator"],
        multi_select_description=" ".join(doc["multi_select"]["description"].split()),
        tables=tables,
        charge_classification=doc["charge_classification"],
        derived={
            t: tuple(
                DerivedVariable(
                    name=d["name"],
                    table=t,
                    label=d["label"],
                    kind=d["kind"],
                    definition=" ".join(str(d.get("definition", "")).split()),
                    levels=tuple(Code(str(c["code"]), str(c["label"])) for c in d.get("levels", []) or []),
                    sources=tuple(str(x) for x in d.get("from", []) or []),
                )
                for d in ds
            )
            for t, ds in (doc.get("derived") or {}).items()
        },
        disclosure=dict(doc.get("disclosure") or {}),
    )


def codebook_path() -> Path:
    return Path(str(resources.files("analysis.scheme") / "codebook.yaml"))


@lru_cache(maxsize=4)
def load_codebook(path: str | None = None) -> Codebook:
    """Read the codebook (the package's own unless ``path`` is given)."""
    text = Path(path).read_text(encoding="utf-8") if path else codebook_path().read_text(encoding="utf-8")
    return parse_codebook(yaml.safe_load(text))


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
    return problems
