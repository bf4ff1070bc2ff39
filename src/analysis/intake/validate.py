"""Validate coded tables against the codebook: every problem at once, every row accounted for.

Column rules (codes, missing codes, whole numbers, ranges, dates, formats, statutes) are built from the
codebook and declared as a pandera schema per table (:func:`table_schema`); the validator evaluates the same
checks directly, once per distinct value, so all failures come back together (a test keeps the two in step;
pandera's per-call overhead was most of the time on a small table). Rules that span
columns or tables (skip logic, blank cells, consistency rules, date vs year, the order of dates, duplicate
keys, links between tables) follow. A row with any error is rejected with its reasons; the rest are valid.
Input rows = valid + rejected, always. Rows that depend on a rejected row (the people on a rejected report, the
charges and outcomes of a rejected person) are rejected too, with the reason, so no valid row points at
nothing. An optional table the input does not have (outcomes) has no rows and a note. Rows the loader could not read cleanly (a
stray quote, a line break in a cell, cells under no header, a formula with no saved value) are rejected with
the loader's reason. Whatever passes is safe for ``derive``: whole numbers are ASCII digits within their
range, dates are real calendar dates in ASCII digits, codes are the codebook's.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
import unicodedata
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

import pandas as pd

from ..scheme.charges import charge_date, charge_table
from ..scheme.codebook import (
    NOT_APPLICABLE,
    NOT_DOCUMENTED,
    TABLES,
    Codebook,
    Variable,
    load_codebook,
)
from ..scheme.config import StudyConfig, load_study_config
from ..scheme.race import letter_not_in_use
from .load import ROW, RawTable, gc_paused
from .normalise import accepted_spellings, map_distinct, normalise_values, split_statutes
from .row_rules import consistency_problems, date_order_problems
from .problems import problem, problems_frame

if TYPE_CHECKING:  # pandera is imported by table_schema alone: the validator runs the same checks without it
    import pandera.pandas as pa

REASONS = "_reasons"
_WHOLE = re.compile(r"^[+-]?[0-9]+$")  # ASCII digits only: \d and int() accept other scripts
_ISO_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_MAX_DIGITS = 18  # a whole number with more significant digits is outside every range (and int64)


def whole_number(v: str) -> int | None:
    """The value of an ASCII whole number that fits in 64 bits, else None."""
    if not _WHOLE.match(v) or len(v.lstrip("+-").lstrip("0")) > _MAX_DIGITS:
        return None
    return int(v)


def real_date(v: str) -> bool:
    """True for YYYY-MM-DD in ASCII digits naming a day that exists (not 2009-02-30)."""
    if not _ISO_DATE.match(v):
        return False
    try:
        dt.date.fromisoformat(v)
    except ValueError:
        return False
    return True


def lookalike_hint(v: str) -> str:
    """A sentence naming the first character of ``v`` that is not plain ASCII (a Cyrillic 'а', a full-width
    digit, a non-breaking space), or '' when there is none."""
    ch = next((c for c in v if not c.isascii()), None)
    if ch is None:
        return ""
    name = unicodedata.name(ch, f"U+{ord(ch):04X}")
    return (f" It contains '{ch}' ({name}, U+{ord(ch):04X}), which is not a plain letter, digit or space although "
            "it may look like one: retype the value.")


@dataclass(frozen=True)
class Rule:
    """One column rule: a vectorised test (True = passes) and the message for a failing value."""

    name: str
    test: Callable[[pd.Series], pd.Series]
    message: Callable[[str], str]


@dataclass
class ValidationResult:
    valid: dict[str, pd.DataFrame]
    rejected: dict[str, pd.DataFrame]
    problems: pd.DataFrame
    input_rows: dict[str, int]
    sources: dict[str, dict] = field(default_factory=dict)

    @property
    def errors(self) -> pd.DataFrame:
        return self.problems[self.problems["severity"] == "error"]

    @property
    def notes(self) -> pd.DataFrame:
        """Notes, which are not problems: e.g. that an optional table (outcomes) is not in the input."""
        return self.problems[self.problems["severity"] == "note"]

    @property
    def n_rejected(self) -> int:
        return sum(len(df) for df in self.rejected.values())

    @property
    def exit_code(self) -> int:
        return 0 if self.n_rejected == 0 else 1

    def accounting(self) -> pd.DataFrame:
        rows = [
            {
                "table": t,
                "input_rows": self.input_rows[t],
                "valid_rows": len(self.valid[t]),
                "rejected_rows": len(self.rejected[t]),
            }
            for t in TABLES
        ]
        return pd.DataFrame(rows)

    def summary(self, max_listed: int = 25) -> str:
        lines = []
        for _, r in self.accounting().iterrows():
            lines.append(
                f"  {r['table']:<10} {r['input_rows']:>7} rows read  {r['valid_rows']:>7} valid  "
                f"{r['rejected_rows']:>7} rejected"
            )
        errs = self.errors[self.errors["rule"] != "parent_rejected"]
        held = self.errors[self.errors["rule"] == "parent_rejected"]
        warns = self.problems[self.problems["severity"] == "warning"]
        notes = self.problems[self.problems["severity"] == "note"]
        if self.errors.empty:
            lines.append("No errors: every row is valid.")
        else:
            n_direct = len(errs[["table", "row"]].drop_duplicates())
            n_held = len(held[["table", "row"]].drop_duplicates().merge(
                errs[["table", "row"]].drop_duplicates(), how="left", indicator=True).query("_merge == 'left_only'"))
            lines.append(f"{len(errs)} error(s) to fix in {n_direct} row(s); {self.n_rejected} row(s) rejected in all"
                         + (f" ({n_held} held back only because the report or person they belong to was rejected)."
                            if n_held else "."))
            lines.append("By rule:")
            for rule, n in errs["rule"].value_counts().sort_index().items():
                lines.append(f"  {rule:<28} {n}")
            lines.append("Errors (file, row, report, variable: message):")
            for _, p in errs.head(max_listed).iterrows():
                lines.append("  " + describe_problem(p))
            if len(errs) > max_listed:
                lines.append(f"  ... and {len(errs) - max_listed} more (see the problems table).")
        for _, p in warns.iterrows():
            lines.append("Warning: " + describe_problem(p))
        for _, p in notes.iterrows():
            lines.append("Note: " + describe_problem(p))
        return "\n".join(lines)


def describe_problem(p) -> str:
    where = [str(p["file"]).split("/")[-1] if p["file"] else ""]
    if p["sheet"]:
        where.append(f"sheet {p['sheet']}")
    if pd.notna(p["row"]):
        where.append(f"row {p['row']}")
    if p["report_id"]:
        where.append(f"report {p['report_id']}")
    if p["person_code"]:
        where.append(f"person {p['person_code']}")
    if p["variable"]:
        where.append(p["variable"])
    return ", ".join(w for w in where if w) + ": " + p["message"]


# --- column rules, from the codebook -----------------------------------------------------------------


def _suggest(value: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(value.lower(), choices, n=2, cutoff=0.6)
    return f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""


def _codes_text(var: Variable, cb: Codebook) -> str:
    codes = ", ".join(var.code_values)
    miss = ", ".join(f"{m} ({cb.missing_labels[m].lower()})" for m in var.missing)
    return codes + (f"; or {miss}" if miss else "")


def _per_value(pred: Callable[[str], bool]) -> Callable[[pd.Series], pd.Series]:
    """A vectorised test from a per-value predicate, evaluated once per distinct value."""

    def test(s: pd.Series) -> pd.Series:
        return map_distinct(s, lambda u: bool(pred(u)), dtype=bool)

    test.pred = pred  # the validator calls the predicate itself, once per distinct value
    return test


def column_rules(var: Variable, cb: Codebook, cfg: StudyConfig) -> list[Rule]:
    """The column rules for one variable. Blank cells pass here (blank is judged with skip logic)."""
    if var.type == "code":
        return _code_rules(var, cb)
    if var.type == "multi":
        return _multi_rules(var, cb)
    if var.type == "integer":
        return _integer_rules(var, cb, cfg)
    if var.type == "date":
        return _date_rules(var, cb, cfg)
    if var.type in {"id", "text"}:
        return _text_rules(var, cb)
    if var.type == "statute":
        return _statute_rules(var, cb)
    if var.type == "statutes":
        return _statutes_rules(var, cb)
    return []


def _missing_rule(var: Variable, cb: Codebook) -> Rule:
    """A missing code (-8, -9) the variable does not accept."""
    all_missing = set(cb.missing_labels)
    allowed_missing = set(var.missing)

    def msg(v: str) -> str:
        if v == NOT_APPLICABLE:
            return (
                f"-9 (not applicable) is not allowed for {var.name}: it has no skip logic, so it always "
                f"applies. Enter a code" + (", or -8 if the report does not say." if "-8" in var.missing else ".")
            )
        return (
            f"{v} ({cb.missing_labels[v].lower()}) is not allowed for {var.name}: choose one of "
            f"{', '.join(var.code_values) or 'the allowed values'}."
        )

    return Rule("missing_code_not_allowed", _per_value(lambda v: v not in all_missing or v in allowed_missing), msg)


def _code_rules(var: Variable, cb: Codebook) -> list[Rule]:
    all_missing = set(cb.missing_labels)
    choices = sorted({k for k in accepted_spellings(var, cb)} - {m.lower() for m in all_missing})
    return [
        Rule(
            "unknown_code",
            _per_value(lambda v: v == "" or v in var.code_values or v in all_missing),
            lambda v: f"'{v}' is not a code for {var.name}. Allowed: {_codes_text(var, cb)}."
            + (lookalike_hint(v) or _suggest(v, choices)),
        ),
        _missing_rule(var, cb),
    ]


def _multi_rules(var: Variable, cb: Codebook) -> list[Rule]:
    all_missing = set(cb.missing_labels)
    allowed_missing = set(var.missing)
    sep = cb.separator
    known = set(var.code_values) | all_missing

    def tokens(v: str) -> list[str]:
        return [t for t in v.split(sep) if t]

    def unknown_msg(v: str) -> str:
        bad = [t for t in tokens(v) if t not in known]
        hint = lookalike_hint(v) or "".join(_suggest(b, list(var.code_values)) for b in bad[:2])
        return (
            f"{', '.join(repr(b) for b in bad)} {'is' if len(bad) == 1 else 'are'} not a code for {var.name}. "
            f"Allowed: {_codes_text(var, cb)}; separate several codes with '{sep}'." + hint
        )

    rules = [
        Rule("unknown_code", _per_value(lambda v: all(t in known for t in tokens(v))), unknown_msg),
        Rule(
            "missing_code_combined",
            _per_value(lambda v: len(tokens(v)) <= 1 or not any(t in all_missing for t in tokens(v))),
            lambda v: f"'{v}': a missing code (-8 or -9) must stand alone in {var.name}.",
        ),
    ]
    if var.exclusive:
        ex = set(var.exclusive)
        rules.append(
            Rule(
                "exclusive_option",
                _per_value(lambda v: len(tokens(v)) <= 1 or not (set(tokens(v)) & ex)),
                lambda v: f"'{v}': {' / '.join(sorted(ex))} must stand alone in {var.name}; "
                "remove it or the other codes.",
            )
        )
    rules.append(
        Rule(
            "missing_code_not_allowed",
            _per_value(lambda v: not (len(tokens(v)) == 1 and v in all_missing) or v in allowed_missing),
            _missing_rule(var, cb).message,
        )
    )
    return rules


def _integer_rules(var: Variable, cb: Codebook, cfg: StudyConfig) -> list[Rule]:
    all_missing = set(cb.missing_labels)
    rules = [
        Rule(
            "not_a_whole_number",
            _per_value(lambda v: v == "" or v in all_missing or bool(_WHOLE.match(v))),
            lambda v: f"'{_short(v)}' is not a whole number; {var.name} needs a whole number"
            + (f" or {', '.join(var.missing)}." if var.missing else ".")
            + lookalike_hint(v),
        ),
        _missing_rule(var, cb),
    ]
    if var.allowed_from_config == "sampled_years":
        years = cfg.sampled_years
        rules.append(
            Rule(
                "outside_sampled_years",
                _per_value(lambda v: not _WHOLE.match(v) or v in all_missing or whole_number(v) in years),
                lambda v: f"{_short(v)} is not a sampled year; {var.name} must be one of "
                f"{', '.join(map(str, years))} (study configuration).",
            )
        )
    else:
        lo, hi = var.min, var.max
        rules.append(
            Rule(
                "out_of_range",
                _per_value(lambda v: not _WHOLE.match(v) or v in all_missing
                           or (whole_number(v) is not None and lo <= whole_number(v) <= hi)),
                lambda v: f"{_short(v)} is outside the allowed range {lo}-{hi} for {var.name}; check the report"
                + (", or use -8 if it is not documented." if "-8" in var.missing else "."),
            )
        )
    return rules


def _date_rules(var: Variable, cb: Codebook, cfg: StudyConfig) -> list[Rule]:
    """A real date; in the sampled years, unless the date follows another (``not_before``: an outcome's date may
    fall in any later year, and is checked against the dates it follows in :mod:`.row_rules`)."""
    all_missing = set(cb.missing_labels)
    years = cfg.sampled_years
    rules = [
        Rule("bad_date", _per_value(lambda v: v == "" or v in all_missing or real_date(v)), _bad_date_message),
        _missing_rule(var, cb),
    ]
    if var.not_before:
        return rules
    return rules + [
        Rule(
            "date_outside_sampled_years",
            _per_value(lambda v: not real_date(v) or int(v[:4]) in years),
            lambda v: f"{v} is outside the sampled years ({', '.join(map(str, years))}); check the date "
            "and the report year.",
        ),
    ]


def _text_rules(var: Variable, cb: Codebook) -> list[Rule]:
    all_missing = set(cb.missing_labels)
    rules = []
    if var.pattern:
        pat = re.compile(var.pattern)
        rules.append(
            Rule(
                "bad_format",
                _per_value(lambda v: v == "" or v in all_missing or bool(pat.match(v))),
                lambda v: f"'{_short(v)}' does not have the form {var.name} needs ({_pattern_hint(var)})."
                + lookalike_hint(v),
            )
        )
    rules.append(_missing_rule(var, cb))
    return rules


def _statute_rules(var: Variable, cb: Codebook) -> list[Rule]:
    table = charge_table(cb)
    return [
        Rule(
            "unknown_statute",
            _per_value(lambda v: v == "" or table.classify(v) is not None),
            lambda v: f"statute '{v}' is not in the charge classification table. "
            + (f"Close matches: {', '.join(table.suggest(v))}. " if table.suggest(v) else "")
            + "Check what the report says; if it is right, ask the data manager to add it to the codebook.",
        )
    ]


def _statutes_rules(var: Variable, cb: Codebook) -> list[Rule]:
    """One or more statutes separated by ';', each known to the charge classification table; a missing code
    stands alone."""
    table = charge_table(cb)
    all_missing = set(cb.missing_labels)

    def unknown(v: str) -> list[str]:
        return [p for p in split_statutes(v) if p not in all_missing and table.classify(p) is None]

    def unknown_msg(v: str) -> str:
        bad = unknown(v)
        close = [f"{b!r}: {', '.join(table.suggest(b))}" for b in bad if table.suggest(b)]
        return (f"{', '.join(repr(b) for b in bad)} {'is' if len(bad) == 1 else 'are'} not in the charge "
                "classification table. " + (f"Close matches: {'; '.join(close)}. " if close else "")
                + "Separate several statutes with ';'. Check what the record says; if it is right, ask the data "
                "manager to add it to the codebook.")

    return [
        Rule("unknown_statute", _per_value(lambda v: v == "" or v in all_missing or not unknown(v)), unknown_msg),
        Rule("missing_code_combined",
             _per_value(lambda v: v in all_missing or not any(p in all_missing for p in split_statutes(v))),
             lambda v: f"'{v}': a missing code (-8 or -9) must stand alone in {var.name}."),
        _missing_rule(var, cb),
    ]


def _short(v: str, limit: int = 40) -> str:
    return v if len(v) <= limit else v[: limit - 3] + "..."


def _bad_date_message(v: str) -> str:
    if _ISO_DATE.match(v):
        return f"'{v}' is not a real date (there is no such day); check the date on the report."
    if any(c.isdigit() for c in v) and not v.isascii():
        return (f"'{_short(v)}' is written with characters that look like digits but are not the plain digits 0-9 "
                "(full-width or another script); retype the date as YYYY-MM-DD.")
    return f"'{_short(v)}' is not a date; write YYYY-MM-DD (or M/D/YYYY, or a date cell)." + lookalike_hint(v)


def _pattern_hint(var: Variable) -> str:
    if var.name == "residence_zip":
        return "five digits, e.g. 94110"
    return "letters, digits, '-' and '_' only, no spaces"


def table_schema(table: str, cb: Codebook | None = None, cfg: StudyConfig | None = None) -> pa.DataFrameSchema:
    """The pandera schema of one table's column rules (on normalised text), built from the codebook. (pandera is
    imported here, not with the module: it costs about half a second of CPU in every process that validates, and
    the validator evaluates the same checks without it.)"""
    import pandera.pandas as pa

    cb = cb or load_codebook()
    cfg = cfg or load_study_config()
    columns = {}
    for var in cb.table(table).variables:
        checks = [pa.Check(r.test, name=r.name, error=r.name) for r in column_rules(var, cb, cfg)]
        columns[var.name] = pa.Column(object, checks=checks, nullable=False, coerce=False, required=True)
    return pa.DataFrameSchema(columns, strict=False, name=table)


# --- validation ----------------------------------------------------------------------------------------


_RULES: dict[tuple[int, int, str], tuple[Codebook, StudyConfig, list[tuple[Variable, list[Rule]]]]] = {}


def _table_rules(table: str, cb: Codebook, cfg: StudyConfig) -> list[tuple[Variable, list[Rule]]]:
    """The column rules of every variable of ``table``, built once per codebook and configuration."""
    key = (id(cb), id(cfg), table)
    hit = _RULES.get(key)
    if hit is None or hit[0] is not cb or hit[1] is not cfg:
        if len(_RULES) > 30:
            _RULES.clear()
        hit = _RULES[key] = (cb, cfg, [(v, column_rules(v, cb, cfg)) for v in cb.table(table).variables])
    return hit[2]


def _run_column_rules(table: str, df: pd.DataFrame, cb: Codebook, cfg: StudyConfig) -> list[tuple[int, str, str, str]]:
    """(index, variable, rule, message) for every failing cell: the checks of :func:`table_schema`, evaluated
    directly, once per distinct value (the same :class:`Rule` objects; pandera's per-call overhead would be most
    of a small table's time). ``test_validate`` checks both find the same cells."""
    out = []
    for var, rules in _table_rules(table, cb, cfg):
        col = df[var.name]
        values = col.tolist()
        distinct = dict.fromkeys(values)
        for rule in rules:
            pred = getattr(rule.test, "pred", None)
            if pred is not None:
                bad = {u for u in distinct if not pred(u)}
                failing = [(i, v) for i, v in zip(col.index, values) if v in bad] if bad else []
            else:  # pragma: no cover - every rule is built with _per_value
                ok = rule.test(col).to_numpy(dtype=bool)
                failing = [(i, v) for i, v, good in zip(col.index, values, ok) if not good]
            messages: dict[str, str] = {}
            for i, v in failing:
                if v not in messages:
                    messages[v] = rule.message(str(v))
                out.append((int(i), var.name, rule.name, messages[v]))
    return out


def _skip_logic(
    table: str, df: pd.DataFrame, raw: pd.DataFrame, cb: Codebook, bad_cells: dict[str, set[int]]
) -> tuple[pd.DataFrame, list[tuple[int, str, str, str]]]:
    """Judge blanks and -9 against skip logic; blanks in skipped items become -9."""
    out = []
    index = df.index.tolist()
    n = len(index)
    variables = cb.table(table).variables
    vals = {v.name: df[v.name].tolist() for v in variables}
    filled = set()
    for var in variables:
        col = list(vals[var.name])  # as entered (before this variable's blanks are filled)
        blank = [v == "" for v in col]
        doc = NOT_DOCUMENTED in var.missing
        if var.show_if:
            applies = [True] * n
            parent_bad = [False] * n
            for cond in var.show_if:
                parent = vals[cond.variable]
                wanted = set(cond.values)
                if cb.variable(table, cond.variable).type == "multi":
                    hit = [bool(set(p.split(cb.separator)) & wanted) for p in parent]
                else:
                    hit = [p in wanted for p in parent]
                bad = bad_cells.get(cond.variable, set())
                applies = [a and h for a, h in zip(applies, hit)]
                parent_bad = [pb or i in bad for pb, i in zip(parent_bad, index)]
            conds = " and ".join(c.describe() for c in var.show_if)
            for r in range(n):
                if parent_bad[r]:
                    continue
                i = index[r]
                if blank[r]:
                    if applies[r]:
                        out.append((i, var.name, "required", f"{var.name} is blank but applies because {conds}: enter "
                                    "a code" + (", or -8 if the report does not say." if doc else ".")))
                    else:
                        vals[var.name][r] = NOT_APPLICABLE
                        filled.add(var.name)
                elif col[r] == NOT_APPLICABLE:
                    if applies[r]:
                        out.append((i, var.name, "skip_logic", f"{var.name} is -9 (not applicable) but {conds}, so it "
                                    "applies: enter a code" + (", or -8 if the report does not say." if doc else ".")))
                elif not applies[r]:
                    parents = ", ".join(f"{c.variable} is '{vals[c.variable][r]}'" for c in var.show_if)
                    out.append(
                        (i, var.name, "skip_logic", f"{var.name} should be -9 (not applicable) or blank because "
                         f"{parents} (it applies only when {conds}); remove '{raw.at[i, var.name]}' or correct "
                         f"{', '.join(c.variable for c in var.show_if)}.")
                    )
        elif var.required:
            for r in range(n):
                if blank[r]:
                    out.append((index[r], var.name, "required", f"{var.name} is blank: enter a code"
                                + (" or -8 if the report does not say." if doc else ".")))
    df = df.copy()
    for name in filled:
        df[name] = pd.Series(vals[name], index=df.index, dtype=object)
    return df, out


def _duplicates(df: pd.DataFrame, key: str, what: str) -> list[tuple[int, str, str, str]]:
    col = df[key]
    dup = col.duplicated(keep=False) & (col != "")
    out = []
    if dup.any():
        rows_by_key = df.loc[dup].groupby(key, sort=False)[ROW].apply(list).to_dict()
        for i in df.index[dup]:
            rows = rows_by_key[col[i]]
            out.append(
                (i, key, "duplicate_id", f"{what} '{col[i]}' appears {len(rows)} times (rows "
                 f"{', '.join(map(str, rows))}); each {what} is entered once. Keep one row and fix or delete the others.")
            )
    return out


def validate_tables(
    raw: dict[str, RawTable], codebook: Codebook | None = None, config: StudyConfig | None = None
) -> ValidationResult:
    """Validate the three coded tables. Returns valid rows (canonical text), rejected rows and all problems."""
    with gc_paused():
        return _validate_tables(raw, codebook, config)


def _validate_tables(raw: dict[str, RawTable], codebook: Codebook | None, config: StudyConfig | None) -> ValidationResult:
    """Each table's own checks (:func:`_check_table`), the date against the year, the links between the tables
    (with rejection cascading down: report -> people -> charges), then the result (:func:`_sort_out`)."""
    cb = codebook or load_codebook()
    cfg = config or load_study_config()
    cells: dict[str, list[tuple[int, str, str, str]]] = {}
    canon: dict[str, pd.DataFrame] = {}
    for name in TABLES:
        canon[name], cells[name] = _check_table(name, raw[name], cb, cfg)
    cells["incidents"] += _date_year_mismatches(canon["incidents"], cfg)
    cells["persons"] += _person_links(canon["incidents"], canon["persons"], cells["incidents"])
    for child, what in (("charges", "charge"), ("outcomes", "outcome")):
        cells[child] += _charge_links(canon["persons"], canon[child], cells["persons"], what)
    cells["charges"] += _charges_not_in_force(canon["incidents"], canon["charges"], cb)
    cells["outcomes"] += date_order_problems("outcomes", canon["outcomes"], canon["incidents"], cb, cells["outcomes"])
    warnings = {"persons": _race_letters_not_in_use(canon["incidents"], canon["persons"], cb, cfg)}
    records: list[dict] = []
    valid, rejected, input_rows, sources = {}, {}, {}, {}
    for name in TABLES:
        rt = raw[name]
        input_rows[name] = len(rt.frame)
        if rt.frame.empty and not rt.absent and name in cb.optional_tables:
            records.append(problem(
                "optional_table_empty", f"the {name} table has no rows. {cb.table(name).label} are optional: the "
                f"analysis leaves them out (its {name} variables are blank and the {name} tables are not made).",
                severity="note", file=rt.file, sheet=rt.sheet, table=name))
        sources[name] = {"file": rt.file, "sheet": rt.sheet, "blank_rows": rt.blank_rows}
        valid[name], rejected[name], found = _sort_out(name, rt, canon[name], cells[name], cb, warnings.get(name, []))
        records += found
    return ValidationResult(valid, rejected, problems_frame(records), input_rows, sources)


def _check_table(name: str, rt: RawTable, cb: Codebook, cfg: StudyConfig) -> tuple[pd.DataFrame, list[tuple]]:
    """One table on its own: the canonical text, and (index, variable, rule, message[, value]) for every problem
    found in it: column rules, skip logic, the loader's row problems, cells under no header, duplicate keys."""
    frame = rt.frame
    columns = {v.name: normalise_values(v, frame[v.name].tolist(), cb) for v in cb.table(name).variables}
    columns[ROW] = frame[ROW].to_numpy()
    df = pd.DataFrame(columns, index=frame.index)
    for v in cb.table(name).variables:
        if df[v.name].dtype != object:  # an empty table
            df[v.name] = df[v.name].astype(object)
    found = _run_column_rules(name, df, cb, cfg)
    bad: dict[str, set[int]] = {}
    for i, v, _, _ in found:
        bad.setdefault(v, set()).add(i)
    df, skip = _skip_logic(name, df, frame, cb, bad)
    found += skip
    found += consistency_problems(name, df, cb, found)
    index_of_row = dict(zip(df[ROW], df.index))
    for p in rt.row_problems:
        if p["row"] in index_of_row:
            found.append((index_of_row[p["row"]], p["variable"], p["rule"], p["message"], p["value"]))
    located = {p["row"] for p in rt.row_problems}
    for i in df.index[df[ROW].isin([r for r in rt.too_wide_rows if r not in located])]:
        found.append((i, "", "too_many_cells", "the row has a value in a column with no header (more cells "
                      "than the header has names); move it into the right column or delete it."))
    key = cb.table(name).key
    if key:
        found += _duplicates(df, key, "report id" if key == "report_id" else "person code")
    return df, found


def _date_year_mismatches(inc: pd.DataFrame, cfg: StudyConfig) -> list[tuple[int, str, str, str]]:
    """The incident date must fall in the report year (checked where both are valid on their own)."""
    iso = inc["incident_date"].map(real_date).astype(bool)
    yr = inc["report_year"].str.match(r"^[0-9]+$")
    in_years = inc["incident_date"].str[:4].isin([str(y) for y in cfg.sampled_years])
    mismatch = iso & yr & in_years & (inc["incident_date"].str[:4] != inc["report_year"])
    return [(i, "incident_date", "date_year_mismatch", f"incident date {inc.at[i, 'incident_date']} is not in "
             f"report year {inc.at[i, 'report_year']}; correct the date or the year.") for i in inc.index[mismatch]]


def _person_links(inc: pd.DataFrame, per: pd.DataFrame, inc_cells: list[tuple]) -> list[tuple[int, str, str, str]]:
    """People on a report the incidents table does not have, or on a report that was rejected."""
    out = []
    inc_ids = set(inc["report_id"]) - {""}
    bad_inc_ids = set(inc.loc[sorted({i for i, *_ in inc_cells}), "report_id"]) if inc_cells else set()
    for i in per.index[(per["report_id"] != "") & ~per["report_id"].isin(inc_ids)]:
        out.append(
            (i, "report_id", "unknown_report", f"report id '{per.at[i, 'report_id']}' is not in the incidents "
             "table; add the report or correct the id.")
        )
    rejected_parent = per["report_id"].isin(bad_inc_ids) & per["report_id"].isin(inc_ids)
    for i in per.index[rejected_parent]:
        out.append(
            (i, "report_id", "parent_rejected", f"report '{per.at[i, 'report_id']}' was rejected (see the "
             "incidents errors); this person is held back until it is fixed.")
        )
    return out


def _charge_links(per: pd.DataFrame, chg: pd.DataFrame, per_cells: list[tuple], what: str = "charge"
                  ) -> list[tuple[int, str, str, str]]:
    """Rows of ``chg`` (charges, or another table of rows per person: ``what`` names its row) for a person the
    persons table does not have, on another report than the person's, or of a person who was rejected."""
    out = []
    person_report = dict(zip(per["person_code"], per["report_id"]))
    bad_people = set(per.loc[sorted({i for i, *_ in per_cells}), "person_code"])
    has_code = chg["person_code"] != ""
    known = chg["person_code"].isin(person_report.keys())
    their_report = chg["person_code"].map(person_report)
    for i in chg.index[has_code & ~known]:
        out.append(
            (i, "person_code", "unknown_person", f"person code '{chg.at[i, 'person_code']}' is not in the persons "
             "table; add the person or correct the code.")
        )
    mismatch = has_code & known & (chg["report_id"] != "") & (chg["report_id"] != their_report)
    for i in chg.index[mismatch]:
        out.append(
            (i, "report_id", "person_report_mismatch", f"person '{chg.at[i, 'person_code']}' is on report "
             f"'{their_report[i]}' in the persons table, not '{chg.at[i, 'report_id']}'; correct one of them.")
        )
    for i in chg.index[has_code & known & ~mismatch & chg["person_code"].isin(bad_people)]:
        out.append(
            (i, "person_code", "parent_rejected", f"person '{chg.at[i, 'person_code']}' was rejected (see the "
             f"persons errors); this {what} is held back until it is fixed.")
        )
    return out


def _charges_not_in_force(inc: pd.DataFrame, chg: pd.DataFrame, cb: Codebook) -> list[tuple[int, str, str, str]]:
    """A statute charged on a date it was not in force (e.g. 647(b)(1), which exists from 2017, on a 2009
    report). The date is the report's incident date, or 1 July of the report year when the date is not
    documented (:func:`analysis.scheme.charges.charge_date`)."""
    table = charge_table(cb)
    dates = {rid: (charge_date(d, y), real_date(d)) for rid, d, y in
             zip(inc["report_id"], inc["incident_date"], inc["report_year"])}
    out = []
    for i, rid, written in zip(chg.index, chg["report_id"], chg["statute"]):
        day, documented = dates.get(rid, (None, False))
        st = table.classify(written) if day is not None and written else None
        if st is None or st.in_force_on(day):
            continue
        when = "the incident date" if documented else "1 July of the report year: the incident date is not documented"
        out.append((i, "statute", "statute_not_in_force",
                    f"'{written}' is charged on a report dated {day.isoformat()} ({when}), but "
                    f"{st.not_in_force_text()}. Check the statute on the report."))
    return out


def _race_letters_not_in_use(inc: pd.DataFrame, per: pd.DataFrame, cb: Codebook,
                             cfg: StudyConfig) -> list[tuple[int, str, str, str]]:
    """Warnings (the row is kept): a race letter not in the list SFPD used at the report's date, e.g. D
    (Cambodian, a California DOJ letter) on a 2010 report (:mod:`analysis.scheme.race`)."""
    if "race_recorded" not in per.columns or not cb.race_recording:
        return []
    letters = set(cb.variable("persons", "race_recorded").code_values)
    dated: dict[tuple, object] = {}  # (each distinct date and year once: a report date is shared by many reports,
    said: dict[tuple, str] = {}  # and each letter on each day once)
    dates = {}
    for rid, d, y in zip(inc["report_id"], inc["incident_date"], inc["report_year"]):
        if (d, y) not in dated:
            dated[(d, y)] = charge_date(d, y)
        dates[rid] = dated[(d, y)]
    out = []
    for i, rid, letter in zip(per.index, per["report_id"], per["race_recorded"]):
        day = dates.get(rid)
        if day is None or letter not in letters:
            continue
        if (letter, day) not in said:
            said[(letter, day)] = letter_not_in_use(letter, day, cfg, cb)
        msg = said[(letter, day)]
        if msg:
            out.append((i, "race_recorded", "race_letter_not_in_use", msg))
    return out


def _sort_out(name: str, rt: RawTable, df: pd.DataFrame, cells: list[tuple], cb: Codebook,
              warnings: list[tuple] = ()) -> tuple[pd.DataFrame, pd.DataFrame, list[dict]]:
    """One table's valid rows (canonical text), rejected rows (as entered, with their reasons) and problem
    records (in row and codebook order; then the warnings, which reject nothing; then the loader's notes and the
    ignored columns)."""
    frame = rt.frame
    order = {v.name: k for k, v in enumerate(cb.table(name).variables)}
    by_index: dict[str, dict] = {}

    def cell(i, col):
        if col not in by_index:
            by_index[col] = dict(zip(frame.index, frame[col].tolist()))
        return by_index[col][i]

    found = sorted(cells, key=lambda t: (cell(t[0], ROW), order.get(t[1], -1 if not t[1] else len(order)), t[2]))
    records: list[dict] = []
    reasons: dict[int, list[str]] = {}
    for i, var, rule, msg, *given in found:
        reasons.setdefault(i, []).append(f"{var}: {msg}" if var else msg)
        records.append(
            problem(
                rule,
                msg,
                file=rt.file,
                sheet=rt.sheet,
                row=int(cell(i, ROW)),
                table=name,
                report_id=str(cell(i, "report_id")).strip(),
                person_code=str(cell(i, "person_code")).strip() if "person_code" in frame else "",
                variable=var,
                value=given[0] if given else str(cell(i, var)) if var in frame.columns else "",
            )
        )
    for i, var, rule, msg in warnings:
        records.append(problem(rule, msg, severity="warning", file=rt.file, sheet=rt.sheet, row=int(cell(i, ROW)),
                               table=name, report_id=str(cell(i, "report_id")).strip(),
                               person_code=str(cell(i, "person_code")).strip() if "person_code" in frame else "",
                               variable=var, value=str(cell(i, var)) if var in frame.columns else ""))
    bad_idx = sorted(reasons)
    rej = frame.loc[bad_idx].copy()
    rej[REASONS] = [" | ".join(reasons[i]) for i in bad_idx]
    records.extend(rt.notes)
    for col in rt.ignored_columns:
        records.append(
            problem(
                "unknown_column",
                f"column '{col}' is not in the codebook and was ignored" + _suggest(col, cb.table(name).columns),
                severity="warning",
                file=rt.file,
                sheet=rt.sheet,
                row=1,
                table=name,
                variable=col,
            )
        )
    return df.drop(index=bad_idx).reset_index(drop=True), rej.reset_index(drop=True), records
