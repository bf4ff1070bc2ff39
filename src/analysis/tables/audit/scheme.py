"""What the public codebook and study configuration tell a reader of the shared pack.

Two things, both read from the codebook and the study configuration shipped with the package (no data):

* :func:`variable_specs`: every row a before/after table can print, by its label (``"Condoms confiscated"``,
  ``"Investigating unit(s): Vice"``), with its derived column, its kind and its levels (label -> code). This
  mirrors :func:`analysis.tables.compare.variable_specs` without needing the data.
* :func:`families`: groups of variables tied by the codebook (skip logic ``show_if``; the definitions of the
  derived variables) with their *atoms*, the logically possible combinations of the family's displayed values
  for one unit. Every count a table prints is a sum of atoms of one family; families share only the population
  N. Derived values are computed by the rules of :mod:`analysis.derive.variables` (the functions below follow
  it line by line, and ``tests/test_audit_disclosure.py`` checks that every unit of the derived example is one
  of the atoms). Multi-select variables are not enumerated option by option: their option counts are tied to the
  number of units with a known answer by the exact projection of that polytope (see :class:`Multi`).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

from ...derive.income import NOT_APPLICABLE as INCOME_NA
from ...derive.income import NOT_AVAILABLE, NOT_IN_LOOKUP, STRATUM_REASONS
from ...derive.income import NOT_DOCUMENTED as INCOME_ND
from ...derive.variables import LABELLED_TRAFFICKING, SEVERITY_ORDER
from ...scheme.charges import charge_table
from ...scheme.codebook import NOT_APPLICABLE, NOT_DOCUMENTED, Codebook
from ...scheme.config import StudyConfig
from ..compare import is_missing_level

MISSING = (NOT_DOCUMENTED, NOT_APPLICABLE)
KNOWN = "known"  # an integer or multi-select answer that is not a missing code
UNKNOWN = "unknown"  # the 'Unknown' row of a derived yes/no or a multi-select option
_NOT_COMPARED_TYPES = {"id", "text", "date", "statute"}
_NOT_COMPARED = {"report_year", "coder_id"}
POPULATIONS = ("incidents", "persons")


@dataclass(frozen=True)
class Spec:
    """One variable as a before/after table prints it.

    ``kind``: ``binary`` (a yes row, then missing / unknown rows), ``category`` (one row per level), ``number``
    (a summary with ``n = ...``). ``levels``: printed label -> level code, for every row the variable can have
    (missing codes and 'Unknown' included). ``substantive``: the level codes inside the denominator. ``coded``:
    a coded yes/no (levels 'yes', 'no', '-8', '-9') rather than a derived one (True / False / unknown).
    ``option_of``: the multi-select variable of an option column (``investigating_unit__vice``).
    """

    column: str
    label: str
    kind: str
    table: str
    levels: dict[str, str] = field(default_factory=dict)
    substantive: tuple[str, ...] = ()
    coded: bool = False
    option_of: str | None = None
    option: str | None = None


def _missing_levels(cb: Codebook, codes) -> dict[str, str]:
    return {cb.missing_labels[m]: m for m in codes}


def variable_specs(cb: Codebook, cfg: StudyConfig) -> dict[str, dict[str, Spec]]:
    """``{table: {printed label: Spec}}`` for 'incidents' and 'persons' (the rows of their before/after tables)."""
    out: dict[str, dict[str, Spec]] = {}
    for table in POPULATIONS:
        specs: dict[str, Spec] = {}
        for v in cb.table(table).variables:
            if v.type in _NOT_COMPARED_TYPES or v.name in _NOT_COMPARED:
                continue
            miss = _missing_levels(cb, v.missing)
            if v.type == "code" and set(v.code_values) == {"yes", "no"}:
                specs[v.label] = Spec(v.name, v.label, "binary", table, {"Yes": "yes", **miss}, ("yes", "no"), True)
            elif v.type == "code":
                levels = {c.label: c.code for c in v.codes} | miss
                specs[v.label] = Spec(v.name, v.label, "category", table, levels, tuple(v.code_values))
            elif v.type == "multi":
                for c in v.codes:
                    lab = f"{v.label}: {c.label}"
                    specs[lab] = Spec(f"{v.name}__{c.code}", lab, "binary", table, {"Yes": "yes", "Unknown": UNKNOWN},
                                      ("yes", "no"), option_of=v.name, option=c.code)
            elif v.type == "integer":
                specs[v.label] = Spec(v.name, v.label, "number", table, {}, (KNOWN,))
        for d in cb.derived.get(table, ()):
            if d.name == "period":
                continue
            if d.kind == "binary":
                specs[d.label] = Spec(d.name, d.label, "binary", table, {"Yes": "yes", "Unknown": UNKNOWN}, ("yes", "no"))
            elif d.kind == "category":
                codes = [c.code for c in d.levels] or _derived_levels(d.name, cfg)
                labels = {c.label: c.code for c in d.levels} or {c.replace("_", " "): c for c in codes}
                if d.name == "income_stratum":  # the tables print the study's labels and the reasons' labels
                    from ..compare import INCOME_REASON_LABELS

                    labels |= {lab: code for code, lab in INCOME_REASON_LABELS.items()}
                    labels |= dict(zip(cfg.income_labels, cfg.income_codes))
                specs[d.label] = Spec(d.name, d.label, "category", table, labels,
                                      tuple(c for c in codes if not is_missing_level(c)))
            else:
                specs[d.label] = Spec(d.name, d.label, "number", table, {}, (KNOWN,))
        _add_merges(specs, cb.disclosure.get("merges", {}).get(table, {}) if cb.disclosure else {})
        out[table] = specs
    return out


MERGED = "merge:"  # a level code standing for several levels shown together (the codebook's disclosure merges)


def _add_merges(specs: dict[str, Spec], merges: dict) -> None:
    """The codebook's declared merges for sharing (``disclosure: merges:``): a shared table may print the merged
    level's label instead of its levels; its code is ``merge:a+b`` (the sum of the levels)."""
    by_column = {sp.column: sp for sp in specs.values()}
    for column, ms in (merges or {}).items():
        sp = by_column.get(column)
        if sp is None:
            continue
        for m in ms or []:
            sp.levels.setdefault(str(m["label"]), MERGED + "+".join(str(x) for x in m["levels"]))


def merged_members(level: str) -> tuple[str, ...] | None:
    """The levels of a merged level code, or None for an ordinary level."""
    return tuple(level[len(MERGED):].split("+")) if level.startswith(MERGED) else None


def age_group_labels(cfg: StudyConfig) -> list[str]:
    """The age groups of :func:`analysis.derive.variables._age_groups`, then 'not documented'."""
    b = list(cfg.age_group_bounds)
    return [f"{lo}-{hi - 1}" for lo, hi in zip(b, b[1:])] + [f"{b[-1]}+", "not documented"]


def _derived_levels(name: str, cfg: StudyConfig) -> list[str]:
    if name == "age_group":
        return age_group_labels(cfg)
    if name == "income_stratum":
        return list(cfg.income_codes) + list(STRATUM_REASONS)
    return []


# --- families ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Multi:
    """A multi-select variable inside a family: its atoms say only whether the answer is known (or which missing
    code it has). The option counts ``c_k`` of one role and period are tied to the known count ``u`` by
    ``c_e`` (exclusive options, which stand alone), ``0 <= c_k <= u - sum(c_e)`` and ``sum(c_k) >= u - sum(c_e)``
    over the other options: every known answer has at least one option. That is exactly the set of option counts
    some list of answers gives (fill the answers round-robin), so nothing is lost by not enumerating subsets."""

    name: str
    options: tuple[str, ...]
    exclusive: tuple[str, ...] = ()

    def column(self, option: str) -> str:
        return f"{self.name}__{option}"


@dataclass(frozen=True)
class Cross:
    """Two coded variables A x B whose derived variable depends on B only when A is one of ``special``
    (gender identity x race: trans woman of color depends on race only for trans female). The atoms are not
    enumerated: the unknowns are A's counts, B's counts and the (special A, B) cells, with the special cells of
    each B value at most B's count. The other A values and what is left of B form a table whose two margins have
    the same total, and such a table always exists, so this is exact and far smaller."""

    a: str
    special: tuple[str, ...]
    b: str


@dataclass
class Family:
    """Variables tied together, and their atoms for a role (None: incidents, or everyone)."""

    name: str
    table: str
    columns: tuple[str, ...]
    atoms: Callable[[str | None], list[dict[str, object]]]
    multis: tuple[Multi, ...] = ()
    cross: Cross | None = None
    _cache: dict = field(default_factory=dict, repr=False)

    def atoms_for(self, role: str | None) -> list[dict[str, object]]:
        if role not in self._cache:
            self._cache[role] = self.atoms(role)
        return self._cache[role]


def _domain(var, applies: bool | None) -> list[str]:
    """A coded variable's possible values; ``applies`` False: only -9 (skip logic), True: no -9."""
    if applies is False:
        return [NOT_APPLICABLE]
    if var.type == "code":
        base = list(var.code_values)
    elif var.type == "integer":
        base = [KNOWN]
    elif var.type == "multi":
        base = [KNOWN]
    else:  # text (residence ZIP)
        base = [KNOWN]
    miss = [m for m in var.missing if not (m == NOT_APPLICABLE and applies is True)]
    return base + miss


def _applies(var, values: dict[str, object], cb: Codebook, table: str) -> bool | None:
    if not var.show_if:
        return None
    for cond in var.show_if:
        parent = values.get(cond.variable)
        if parent is None:
            return None
        if cb.variable(table, cond.variable).type == "multi":
            if parent != KNOWN:  # a multi parent's options are not enumerated: never a parent in this codebook
                return False
            return None
        if parent not in cond.values:
            return False
    return True


def _enumerate(sources: list, cb: Codebook, table: str, fixed: dict[str, object]) -> list[dict[str, object]]:
    """Every combination of the source variables' values that the skip logic allows (parents first)."""
    combos = [dict(fixed)]
    for var in sources:
        if var.name in fixed:
            continue
        nxt = []
        for c in combos:
            for v in _domain(var, _applies(var, c, cb, table)):
                nxt.append({**c, var.name: v})
        combos = nxt
    return combos


def _dedupe(atoms: list[dict[str, object]], columns: tuple[str, ...]) -> list[dict[str, object]]:
    seen, out = set(), []
    for a in atoms:
        key = tuple(a.get(c) for c in columns)
        if key not in seen:
            seen.add(key)
            out.append({c: a.get(c) for c in columns})
    return out


def _coded_family(name: str, table: str, cb: Codebook, sources: list[str], derived: dict[str, Callable],
                  shown: list[str], multis: tuple[Multi, ...] = ()) -> Family:
    """A family of coded variables (enumerated with skip logic) and derived variables computed from them.
    ``derived``: column -> function(values) returning the list of values it can take."""
    variables = [cb.variable(table, s) for s in sources]
    columns = tuple(shown) + tuple(derived)

    def atoms(role: str | None) -> list[dict[str, object]]:
        fixed = {"role": role} if role is not None else {}
        out = []
        for combo in _enumerate(variables, cb, table, fixed):
            options = [[(k, v) for v in f(combo)] for k, f in derived.items()]
            for extra in itertools.product(*options):
                out.append({**combo, **dict(extra)})
        return _dedupe(out, columns)

    return Family(name, table, columns, atoms, multis)


def _multi(cb: Codebook, table: str, name: str) -> Multi:
    v = cb.variable(table, name)
    return Multi(name, tuple(v.code_values), tuple(v.exclusive))


def families(cb: Codebook, cfg: StudyConfig) -> dict[str, list[Family]]:
    """The families of each table (see the module docstring). Every displayed column belongs to one family."""
    inc = [
        _coded_family("label", "incidents", cb, ["sfpd_label", "trafficking_assessment"], {
            "labelled_trafficking": lambda v: [v["sfpd_label"] in LABELLED_TRAFFICKING],
            "assessed_trafficking": lambda v: [v["trafficking_assessment"] == "established"],
            "correctly_identified": lambda v: [(v["trafficking_assessment"] == "established")
                                               if v["sfpd_label"] in LABELLED_TRAFFICKING else None],
            "misclassification": lambda v: [_misclassification(v)],
            "misclassified": lambda v: [_misclassification(v) != "agree"],
        }, ["sfpd_label", "trafficking_assessment"]),
        _coded_family("origin", "incidents", cb, ["origin"], {
            "origin_group": lambda v: [_origin_group(v["origin"], cb)],
            "police_initiated": lambda v: [None if v["origin"] == NOT_DOCUMENTED
                                           else _origin_group(v["origin"], cb) == "police_initiated"],
            "origin_sting_sellers": lambda v: [None if v["origin"] == NOT_DOCUMENTED
                                               else v["origin"] == "sting_sellers"],
        }, ["origin"]),
        _coded_family("condoms", "incidents", cb, ["condoms_mentioned", "condoms_confiscated", "condoms_photographed",
                                                   "condoms_evidence"], {
            "condoms_evidence_any": lambda v: [_any_yes([v["condoms_photographed"], v["condoms_evidence"]],
                                                        v["condoms_mentioned"] == "yes")],
            "condoms_any_police_action": lambda v: [_any_yes([v["condoms_confiscated"], v["condoms_photographed"],
                                                              v["condoms_evidence"]], v["condoms_mentioned"] == "yes")],
        }, ["condoms_mentioned", "condoms_confiscated", "condoms_photographed", "condoms_evidence"]),
        _coded_family("phones", "incidents", cb, ["phones_seized", "phones_seized_count"], {},
                      ["phones_seized", "phones_seized_count"]),
        _coded_family("language", "incidents", cb, ["language_other_than_english", "interpreter_used",
                                                    "interpreter_mode"], {},
                      ["language_other_than_english", "interpreter_used", "interpreter_mode"],
                      (_multi(cb, "incidents", "interpreter_mode"),)),
        _coded_family("investigating_unit", "incidents", cb, ["investigating_unit"], {}, ["investigating_unit"],
                      (_multi(cb, "incidents", "investigating_unit"),)),
        _coded_family("trafficking_indicators", "incidents", cb, ["trafficking_indicators"], {},
                      ["trafficking_indicators"], (_multi(cb, "incidents", "trafficking_indicators"),)),
    ]
    for name in ("district", "location_type", "screened_trafficking", "minors_involved"):
        inc.append(_coded_family(name, "incidents", cb, [name], {}, [name]))
    for name in ("n_persons", "n_charges"):
        inc.append(Family(name, "incidents", (name,), lambda role, n=name: [{n: KNOWN}]))
    per = [
        Family("role", "persons", ("role",), lambda role: [{"role": role}]),
        _age_family(cb, cfg),
        _crossed(_coded_family("gender_race", "persons", cb, ["gender_identity", "race_ethnicity"], {
            "trans_woman_of_color": lambda v: [_twoc(v["gender_identity"], v["race_ethnicity"])],
        }, ["gender_identity", "race_ethnicity"]), Cross("gender_identity", ("trans_female",), "race_ethnicity")),
        _coded_family("language", "persons", cb, ["limited_english", "person_interpreter_used"], {},
                      ["limited_english", "person_interpreter_used"]),
        _coded_family("income", "persons", cb, ["role", "residence_zip"], {
            "income_stratum": lambda v: _income(v["role"], v["residence_zip"], cfg),
        }, []),
        _charges_family(cb),
    ]
    for name in ("outcome", "person_phone_seized"):
        per.append(_coded_family(name, "persons", cb, [name], {}, [name]))
    return {"incidents": inc, "persons": per}


def _crossed(fam: Family, cross: Cross) -> Family:
    """``fam`` solved through :class:`Cross`; checks that its derived values need B only for the special A."""
    derived = [c for c in fam.columns if c not in (cross.a, cross.b)]
    for role in (None,):
        seen: dict = {}
        for atom in fam.atoms_for(role):
            if atom[cross.a] in cross.special:
                continue
            value = tuple(atom[c] for c in derived)
            if seen.setdefault(atom[cross.a], value) != value:
                raise ValueError(f"{fam.name}: {derived} depend on {cross.b} for {cross.a} = {atom[cross.a]}")
    fam.cross = cross
    fam._cache.clear()
    return fam


def _misclassification(v: dict) -> str:
    labelled = v["sfpd_label"] in LABELLED_TRAFFICKING
    established = v["trafficking_assessment"] == "established"
    if labelled and not established:
        return "over_labelled"
    if established and not labelled:
        return "under_labelled"
    return "agree"


def _origin_group(origin: str, cb: Codebook) -> str:
    """derive: the codebook's grouping of origin (origin_group); a code outside the groups (-8) is kept."""
    return cb.derived_variable("incidents", "origin_group").group_of().get(origin, origin)


def _any_yes(items: list[str], applies: bool):
    """derive._any_yes: True when one item is yes; False when the items do not apply or all are no; else unknown."""
    vals = [c if applies else "no" for c in items]
    if any(c == "yes" for c in vals):
        return True
    if all(c == "no" for c in vals):
        return False
    return None


def _yes(code: str):
    return {"yes": True, "no": False}.get(code)


def _twoc(g: str, r: str):
    """derive_persons: False when gender is recorded and not trans female, or trans female and White; True when
    trans female and race recorded and not White; unknown otherwise."""
    if g != NOT_DOCUMENTED and g != "trans_female":
        return False
    if g == "trans_female" and r == "white":
        return False
    if g == "trans_female" and r not in ("white", NOT_DOCUMENTED):
        return True
    return None


def _income(role: str, zip_value: str, cfg: StudyConfig) -> list[str]:
    """derive.income.income_stratum: every value a person can get (the lookup file is not shared, so a buyer with
    a ZIP code may be in any stratum, not in the lookup, or 'not available' when no lookup was given)."""
    if role != "buyer":
        return [INCOME_NA]
    if zip_value == NOT_DOCUMENTED:
        return [INCOME_ND, NOT_AVAILABLE]
    return list(cfg.income_codes) + [NOT_IN_LOOKUP, NOT_AVAILABLE]


def _age_family(cb: Codebook, cfg: StudyConfig) -> Family:
    """Age (number), age group, minor, transitional-aged youth: every age the codebook allows, and -8."""
    age = cb.variable("persons", "age")
    ages = list(range(int(age.min), int(age.max) + 1))
    bounds = list(cfg.age_group_bounds)
    labels = age_group_labels(cfg)
    lo, hi = cfg.tay_age_range
    columns = ("age", "age_group", "minor", "tay")

    def group(a: int) -> str | None:
        k = None
        for i, b in enumerate(bounds):
            if a >= b:
                k = i
        return None if k is None else labels[k]

    def atoms(role):
        out = [{"age": KNOWN, "age_group": group(a), "minor": a < cfg.minor_age_below, "tay": lo <= a <= hi}
               for a in ages]
        if NOT_DOCUMENTED in age.missing:
            out.append({"age": NOT_DOCUMENTED, "age_group": "not documented", "minor": None, "tay": None})
        return _dedupe(out, columns)

    return Family("age", "persons", columns, atoms)


def _charges_family(cb: Codebook) -> Family:
    """Charge categories per person, the HIV charge, the most serious charge and the number of charges.

    A person's atom is (the set S of categories of their charges, their most serious severity). For a role, the
    categories come from the charge classification (``category_for(role)``: 647(b) is buying for a buyer); a
    severity v is possible for S when some category of S has a statute of severity v and every category of S has
    a statute no more serious than v. No charge: S empty, 'none'."""
    table = charge_table(cb)
    cats = list(table.categories)
    rank = {s: k for k, s in enumerate(SEVERITY_ORDER)}
    columns = tuple(f"charge__{c}" for c in cats if c != "hiv") + ("hiv_charge", "most_serious_charge", "n_charges")

    def atoms(role):
        sev: dict[str, set[int]] = {c: set() for c in cats}
        for st in table.statutes:
            sev[st.category_for(role)].add(rank[st.severity])
        usable = [c for c in cats if sev[c]]
        out = [_charge_atom(set(), "none", cats)]
        for k in range(1, len(usable) + 1):
            for subset in itertools.combinations(usable, k):
                floor = max(min(sev[c]) for c in subset)
                for v in sorted(set().union(*(sev[c] for c in subset))):
                    if v >= floor:
                        out.append(_charge_atom(set(subset), SEVERITY_ORDER[v], cats))
        return _dedupe(out, columns)

    return Family("charges", "persons", columns, atoms)


def _charge_atom(subset: set[str], worst: str, cats: list[str]) -> dict[str, object]:
    atom: dict[str, object] = {f"charge__{c}": c in subset for c in cats if c != "hiv"}
    atom["hiv_charge"] = "hiv" in subset
    atom["most_serious_charge"] = worst
    atom["n_charges"] = KNOWN
    return atom


def family_of(fams: list[Family]) -> dict[str, tuple[Family, Multi | None]]:
    """Displayed column -> (its family, the multi-select variable when it is an option column)."""
    out: dict[str, tuple[Family, Multi | None]] = {}
    for f in fams:
        for c in f.columns:
            out.setdefault(c, (f, None))
        for m in f.multis:
            for o in m.options:
                out[m.column(o)] = (f, m)
    return out
