"""The coding template: an Excel workbook generated from the codebook, for coders to fill in.

One sheet per table (incidents, persons, charges, and outcomes: optional) with the codebook's variable names as
the header row, and Excel data validation built from the codebook on every data row up to ``rows``:

* code variables: a drop-down of ``code = label`` choices plus the variable's missing codes in the same form.
  The lists live on a hidden ``lists`` sheet and are referenced by range (Excel's inline list is limited to
  255 characters). Typing a plain code (``mission``) is allowed after a warning: the validator accepts it.
* report_year (``allowed_from_config: sampled_years``): a drop-down of the sampled years.
* dates: a custom rule that accepts a date in the sampled years (an outcome's date: any date from the first
  sampled year on), or -8 where the variable accepts it.
* whole numbers: a custom rule (min/max from the codebook, or -8/-9 where the variable accepts them).
* multi-select variables cannot use a drop-down (Excel picks one value): their input message lists the codes.
* every header cell and every data column carries an input message with the label and definition.

Sheets ``read me`` (how to code) and ``codebook`` (every variable) travel with the workbook. The bytes are the
same for the same codebook and configuration (:func:`analysis.formats.xlsx.deterministic_zip`).
"""

from __future__ import annotations

import io

from ..formats.xlsx import FIXED_TIME, deterministic_zip
from ..scheme.codebook import TABLES, Codebook, Variable, display_choice, load_codebook
from ..scheme.config import StudyConfig, load_study_config

DEFAULT_ROWS = 5000
README_SHEET = "read me"
CODEBOOK_SHEET = "codebook"
LISTS_SHEET = "lists"
SHEET_ORDER = (README_SHEET, *TABLES, CODEBOOK_SHEET, LISTS_SHEET)

# Excel's limits on data-validation messages
TITLE_LIMIT = 32
PROMPT_LIMIT = 255

CODEBOOK_SHEET_COLUMNS = (
    "table", "name", "label", "type", "required", "codes", "missing codes", "range or format",
    "skip logic", "definition", "rules",
)


# --- text helpers ----------------------------------------------------------------------------------------


def fit(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters at a word boundary, with '…' when cut."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut[limit // 2 :]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:.") + "…"


def choices(var: Variable, cb: Codebook, cfg: StudyConfig) -> list:
    """The drop-down values for ``var`` (display form ``code = label``), or [] when it has no drop-down."""
    if var.type == "code":
        return [display_choice(c.code, c.label) for c in var.codes] + [
            display_choice(m, cb.missing_labels[m]) for m in var.missing
        ]
    if var.type == "integer" and var.allowed_from_config == "sampled_years":
        return list(cfg.sampled_years)
    return []


def skip_logic_text(var: Variable, cb: Codebook) -> str:
    """Skip logic in words, e.g. "only when condoms_mentioned is 'yes' (Yes); otherwise leave blank or -9"."""
    if not var.show_if:
        return ""
    parts = []
    for cond in var.show_if:
        parent = cb.variable(var.table, cond.variable)
        labels = parent.labels
        vals = " or ".join(f"'{v}'" + (f" ({labels[v]})" if v in labels else "") for v in cond.values)
        parts.append(f"{cond.variable} is {vals}")
    return "only when " + " and ".join(parts) + "; otherwise leave blank or write -9"


def _missing_text(var: Variable, cb: Codebook) -> str:
    return ", ".join(f"{m} = {cb.missing_labels[m]}" for m in var.missing)


def _year_ranges(years) -> list[tuple[int, int]]:
    """Consecutive runs of years: (2009, 2010, 2014, 2015) -> [(2009, 2010), (2014, 2015)]."""
    runs: list[list[int]] = []
    for y in sorted(years):
        if runs and y == runs[-1][1] + 1:
            runs[-1][1] = y
        else:
            runs.append([y, y])
    return [(a, b) for a, b in runs]


def range_text(var: Variable, cfg: StudyConfig) -> str:
    """The allowed range or format of a non-coded variable, in words."""
    years = ", ".join(map(str, cfg.sampled_years))
    if var.type == "date" and var.not_before:
        return f"a date (YYYY-MM-DD or a date cell), in any year, not before {_not_before_text(var)}"
    if var.type == "date":
        return f"a date (YYYY-MM-DD or a date cell) in the sampled years {years}"
    if var.type == "integer" and var.allowed_from_config == "sampled_years":
        return f"one of the sampled years {years}"
    if var.type == "integer":
        return f"a whole number from {var.min:g} to {var.max:g}"
    if var.type == "statute":
        return "the statute as written, e.g. 647(b) PC"
    if var.type == "statutes":
        return "one or more statutes as written, separated by ';', e.g. 647(b) PC; 148(a)(1) PC"
    if var.name == "residence_zip":
        return "five digits"
    if var.type in {"id", "text"}:
        return "letters, digits, '-' and '_' (no spaces, never a name)"
    return ""


def _not_before_text(var: Variable) -> str:
    """'the incident date and disposition_date' for a date's ``not_before`` (and the relief statute's date)."""
    parts = ["the incident date" if "." in ref else ref for ref in var.not_before]
    if var.in_force_of:
        parts.append(f"the date the {var.in_force_of} came into force")
    return ", ".join(parts[:-1]) + (" or " if len(parts) > 1 else "") + parts[-1]


# --- messages --------------------------------------------------------------------------------------------


def header_prompt(var: Variable, cb: Codebook) -> str:
    """Input message on the header cell: the definition, and the skip logic if any."""
    text = var.definition
    skip = skip_logic_text(var, cb)
    if skip:
        text += f" Applies {skip}."
    return fit(text, PROMPT_LIMIT)


def data_prompt(var: Variable, cb: Codebook, cfg: StudyConfig) -> str:
    """Input message on the data cells: what to enter, then as much of the definition as fits."""
    sep = cb.separator
    miss = _missing_text(var, cb)
    if var.type == "multi":
        head = f"Codes separated by '{sep}': "
        alone = [*var.exclusive, *var.missing]
        tail = f". {' or '.join(alone)} must stand alone." if alone else "."
        codes = list(var.code_values)
        listed = ""
        for k in range(len(codes), 0, -1):
            listed = f"{sep} ".join(codes[:k]) + ("" if k == len(codes) else f"{sep} … (see codebook sheet)")
            if len(head + listed + tail) <= PROMPT_LIMIT:
                break
        what = head + listed + tail
    elif var.type == "code":
        what = "Pick 'code = label' from the list (typing the code alone is fine)."
    elif var.type == "date" and var.not_before:
        what = f"A date (YYYY-MM-DD), not before {_not_before_text(var)}" + (f"; or {miss}" if miss else "") + "."
    elif var.type == "date":
        years = ", ".join(map(str, cfg.sampled_years))
        what = f"A date (YYYY-MM-DD) in the sampled years {years}" + (f"; or {miss}" if miss else "") + "."
    elif var.type == "integer" and var.allowed_from_config:
        what = "Pick the sampled year from the list."
    elif var.type == "integer":
        what = f"A whole number {var.min:g}-{var.max:g}" + (f", or {miss}" if miss else "") + "."
    elif var.type == "statute":
        what = "The statute exactly as written, one charge per row."
    elif var.type == "statutes":
        what = "The statutes exactly as written, separated by ';'" + (f"; or {miss}" if miss else "") + "."
    else:
        what = range_text(var, cfg).capitalize() + (f"; or {miss}" if miss else "") + "."
    skip = skip_logic_text(var, cb)
    if skip:
        what += f" Applies {skip}."
    if len(what) >= PROMPT_LIMIT - 10:
        return fit(what, PROMPT_LIMIT)
    return fit(what + " " + var.definition, PROMPT_LIMIT)


# --- validation formulas -----------------------------------------------------------------------------------


def _missing_terms(cell: str, codes) -> tuple[list[str], list[str]]:
    """Formula terms accepting missing codes typed as numbers and as text."""
    return [f"{cell}={m}" for m in codes], [f'{cell}="{m}"' for m in codes]


def date_formula(var: Variable, cell: str, cfg: StudyConfig) -> str:
    """Custom rule: a date in the sampled years (a date that follows the incident: from the first sampled year
    on), or one of the variable's missing codes (number or text)."""
    if var.not_before:
        spans = [f"{cell}>=DATE({min(cfg.sampled_years)},1,1)"]
    else:
        spans = [
            f"AND({cell}>=DATE({a},1,1),{cell}<=DATE({b},12,31))" for a, b in _year_ranges(cfg.sampled_years)
        ]
    num, txt = _missing_terms(cell, var.missing)
    in_years = "OR(" + ",".join(num + spans) + ")"
    as_text = ("OR(" + ",".join(txt) + ")") if len(txt) > 1 else (txt[0] if txt else "FALSE")
    return f"IF(ISNUMBER({cell}),{in_years},{as_text})"


def whole_number_formula(var: Variable, cell: str) -> str:
    """Custom rule: a whole number in [min, max], or one of the variable's missing codes (number or text)."""
    num, txt = _missing_terms(cell, var.missing)
    in_range = f"AND({cell}=INT({cell}),{cell}>={var.min:g},{cell}<={var.max:g})"
    as_number = "OR(" + ",".join(num + [in_range]) + ")" if num else in_range
    as_text = ("OR(" + ",".join(txt) + ")") if len(txt) > 1 else (txt[0] if txt else "FALSE")
    return f"IF(ISNUMBER({cell}),{as_number},{as_text})"


# --- the workbook --------------------------------------------------------------------------------------------


def readme_lines(cb: Codebook, cfg: StudyConfig) -> list[str]:
    """The 'read me' sheet, one line per row."""
    sep = cb.separator
    years = ", ".join(map(str, cfg.sampled_years))
    lines = [
        cb.title,
        f"Coding template, codebook version {cb.version}. Generated from the codebook: do not rename sheets or "
        "column headers, and do not edit the 'codebook' sheet.",
        "",
        "NEVER ENTER NAMES, ADDRESSES, DATES OF BIRTH OR NARRATIVE TEXT. Use the study's report ids and the "
        "person codes from the sample data only.",
        "",
        "One row per record",
    ]
    for t in TABLES:
        table = cb.table(t)
        lines.append(f"  Sheet '{t}': {table.description}")
    lines += [
        "  Enter each report once in 'incidents'; each person on it once in 'persons' (with the report id); "
        "each charge of each person on its own row in 'charges' (report id and person code).",
        "  " + " ".join(f"Sheet '{t}' is optional: leave it empty (or delete it) until its records are coded."
                        for t in cb.optional_tables),
        "",
        "Missing values: never leave a cell blank because the report is silent",
    ]
    for code, label in cb.missing_labels.items():
        lines.append(f"  {code} = {label}: {cb.missing_meanings[code]}")
    lines += [
        "  -8 is a finding about the report (it applies but the report does not say); -9 only follows from "
        "skip logic (an earlier answer makes the item not apply). Each variable accepts only the missing codes "
        "the codebook lists for it (see the 'codebook' sheet).",
        "",
        "Skip logic: these items apply only when an earlier answer says so; otherwise leave them blank or write -9",
    ]
    for t in TABLES:
        for v in cb.table(t).variables:
            if v.show_if:
                lines.append(f"  {t}.{v.name} ({v.label}): {skip_logic_text(v, cb)}.")
    multi_vars = [v for t in TABLES for v in cb.table(t).variables if v.type == "multi"]
    multi = [f"{v.table}.{v.name}" for v in multi_vars]
    statute_rules = [r for t in TABLES for v in cb.table(t).variables if v.type == "statute" for r in v.rules]
    lines += [
        "  If you write -9 where the item applies, or a code where it does not, the validator reports it.",
        "",
        "Consistency: items of a row that must agree (the validator reports a row where they do not)",
        *[f"  {t}: when {r.describe()}, {r.require.variable} is "
          + " or ".join(f"'{v}'" for v in r.require.values) + f" ({r.why})."
          for t in TABLES for r in cb.table(t).consistency],
        "",
        f"Multi-select items ({', '.join(multi)})",
        f"  {cb.multi_select_description} The separator is '{sep}'.",
        "  Excel drop-downs cannot hold several values: the cell's input message lists the codes, and the "
        "'codebook' sheet gives every code with its label.",
        "",
        "Entering values",
        "  Coded items have a drop-down of 'code = label' (pick one; typing the plain code is fine too, "
        "click Yes if Excel asks).",
        f"  Dates: a date cell or YYYY-MM-DD, in the sampled years ({years}); a date that follows the incident "
        "(an outcome's) may fall in any later year. Report year: pick from the list.",
        "  Lists of statutes (charges filed, convictions): each statute as written, separated by ';'.",
        "  Whole numbers (ages, counts): digits only, within the range the input message gives.",
        "  Statutes: " + " ".join(statute_rules),
        "  Hover over (or select) a column header to see the variable's label and definition.",
        "",
        "Check your work",
        "  python -m analysis validate THIS_FILE.xlsx   lists every problem with its sheet, row and variable.",
        "  The full manual with decision rules: docs/codebook.md (python -m analysis manual).",
    ]
    return lines


def codebook_rows(cb: Codebook, cfg: StudyConfig) -> list[list[str]]:
    """One row per variable for the 'codebook' sheet (columns :data:`CODEBOOK_SHEET_COLUMNS`)."""
    rows = []
    for t in TABLES:
        for v in cb.table(t).variables:
            rows.append([
                t,
                v.name,
                v.label,
                v.type,
                "yes" if v.required else "no",
                "\n".join(display_choice(c.code, c.label) for c in v.codes),
                "\n".join(display_choice(m, cb.missing_labels[m]) for m in v.missing),
                range_text(v, cfg) if not v.is_coded else "",
                skip_logic_text(v, cb),
                v.definition,
                "\n".join(f"- {r}" for r in v.rules),
            ])
    return rows


def _width(texts, lo: int = 10, hi: int = 45) -> float:
    longest = max((len(str(t)) for t in texts), default=0)
    return float(min(max(longest + 2, lo), hi))


def template_workbook(
    codebook: Codebook | None = None, config: StudyConfig | None = None, rows: int = DEFAULT_ROWS
) -> bytes:
    """The coding template as .xlsx bytes (deterministic for the same codebook, configuration and ``rows``).

    The sheets are filled one at a time: the read-me, the hidden lists (whose ranges the data sheets' drop-downs
    use), the three data sheets (each column's validation: :func:`_column_validation`), the codebook.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill

    cb = codebook or load_codebook()
    cfg = config or load_study_config()
    if rows < 2:
        raise ValueError("rows must be at least 2 (the header is row 1)")
    style = {"bold": Font(bold=True), "header_fill": PatternFill("solid", fgColor="DDEBF7"),
             "wrap": Alignment(wrap_text=True, vertical="top")}

    wb = Workbook()
    wb.remove(wb.active)
    sheets = {name: wb.create_sheet(name) for name in SHEET_ORDER}
    _fill_readme(sheets[README_SHEET], cb, cfg, style)
    list_ranges = _fill_lists(sheets[LISTS_SHEET], cb, cfg, style)
    for t in TABLES:
        _fill_data_sheet(sheets[t], t, cb, cfg, rows, list_ranges, style)
    _fill_codebook(sheets[CODEBOOK_SHEET], cb, cfg, style)

    wb.active = 0
    wb.properties.creator = "analysis"
    wb.properties.title = f"Coding template, codebook {cb.version}"
    wb.properties.created = FIXED_TIME
    wb.properties.modified = FIXED_TIME
    buf = io.BytesIO()
    wb.save(buf)
    return deterministic_zip(buf.getvalue())


def _fill_readme(ws, cb: Codebook, cfg: StudyConfig, style: dict) -> None:
    from openpyxl.styles import Font

    for line in readme_lines(cb, cfg):
        ws.append([line])
    ws["A1"].font = Font(bold=True, size=14)
    for row in ws.iter_rows(min_row=2):
        if row[0].value and not str(row[0].value).startswith("  ") and row[0].row > 2:
            row[0].font = style["bold"]
    ws.column_dimensions["A"].width = 130


def _fill_lists(lists, cb: Codebook, cfg: StudyConfig, style: dict) -> dict[tuple[str, str], str]:
    """The hidden lists sheet: one column per variable with a drop-down. Returns (table, variable) -> its range."""
    from openpyxl.utils import get_column_letter, quote_sheetname

    list_ranges: dict[tuple[str, str], str] = {}
    col = 0
    for t in TABLES:
        for v in cb.table(t).variables:
            values = choices(v, cb, cfg)
            if not values:
                continue
            col += 1
            letter = get_column_letter(col)
            lists.cell(row=1, column=col, value=f"{t}.{v.name}").font = style["bold"]
            for i, value in enumerate(values, start=2):
                lists.cell(row=i, column=col, value=value)
            lists.column_dimensions[letter].width = _width(values)
            list_ranges[(t, v.name)] = (
                f"{quote_sheetname(LISTS_SHEET)}!${letter}$2:${letter}${len(values) + 1}"
            )
    lists.sheet_state = "hidden"
    return list_ranges


def _fill_data_sheet(ws, t: str, cb: Codebook, cfg: StudyConfig, rows: int, list_ranges: dict[tuple[str, str], str],
                     style: dict) -> None:
    """One data sheet: the header of variable names, and each column's input message, validation and format."""
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    variables = cb.table(t).variables
    ws.append([v.name for v in variables])
    ws.freeze_panes = "B2"
    for j, v in enumerate(variables, start=1):
        letter = get_column_letter(j)
        cell = ws.cell(row=1, column=j)
        cell.font = style["bold"]
        cell.fill = style["header_fill"]
        title = fit(v.label, TITLE_LIMIT)
        head = DataValidation(showInputMessage=True, promptTitle=title, prompt=header_prompt(v, cb))
        head.add(f"{letter}1")
        ws.add_data_validation(head)
        dv = _column_validation(v, cb, cfg, f"{letter}2", list_ranges.get((t, v.name)))
        dv.add(f"{letter}2:{letter}{rows}")
        ws.add_data_validation(dv)
        if v.type in {"id", "text", "statute", "statutes", "multi", "code"}:
            ws.column_dimensions[letter].number_format = "@"  # typed codes and ZIPs stay text
        if v.type == "date":
            ws.column_dimensions[letter].number_format = "yyyy-mm-dd"
        ws.column_dimensions[letter].width = _width([v.name, *map(str, choices(v, cb, cfg))], lo=12, hi=40)


def _column_validation(v: Variable, cb: Codebook, cfg: StudyConfig, first: str, list_range: str | None):
    """The data validation of a column whose first data cell is ``first``: a drop-down from ``list_range``, a
    date or whole-number rule, or an input message only (id, text, statute, multi)."""
    from openpyxl.worksheet.datavalidation import DataValidation

    dv_args = dict(showInputMessage=True, promptTitle=fit(v.label, TITLE_LIMIT), prompt=data_prompt(v, cb, cfg),
                   allow_blank=True)
    if list_range is not None:
        is_years = v.type == "integer"
        return DataValidation(
            type="list", formula1=list_range, showErrorMessage=True,
            errorStyle="stop" if is_years else "warning",
            errorTitle=fit(f"Not in the list: {v.name}", TITLE_LIMIT),
            error=fit(
                f"Pick a year from the list: {', '.join(map(str, choices(v, cb, cfg)))}." if is_years else
                "This is not one of the list's 'code = label' values. Typing the plain code (e.g. "
                f"{v.codes[0].code}) is fine: click Yes to keep it; otherwise pick from the list.",
                PROMPT_LIMIT,
            ),
            **dv_args,
        )
    if v.type == "date":
        return DataValidation(
            type="custom", formula1=date_formula(v, first, cfg), showErrorMessage=True, errorStyle="stop",
            errorTitle=fit(f"Not a valid {v.name}", TITLE_LIMIT),
            error=fit(data_prompt(v, cb, cfg), PROMPT_LIMIT), **dv_args,
        )
    if v.type == "integer" and v.missing:
        return DataValidation(type="custom", formula1=whole_number_formula(v, first), **dv_args,
                              showErrorMessage=True, errorStyle="stop",
                              errorTitle=fit(f"Not a valid {v.name}", TITLE_LIMIT),
                              error=fit(data_prompt(v, cb, cfg), PROMPT_LIMIT))
    if v.type == "integer":
        return DataValidation(type="whole", operator="between", formula1=f"{v.min:g}",
                              formula2=f"{v.max:g}", showErrorMessage=True, errorStyle="stop",
                              errorTitle=fit(f"Not a valid {v.name}", TITLE_LIMIT),
                              error=fit(data_prompt(v, cb, cfg), PROMPT_LIMIT), **dv_args)
    return DataValidation(**dv_args)  # id, text, statute, statutes, multi: an input message only


def _fill_codebook(ws, cb: Codebook, cfg: StudyConfig, style: dict) -> None:
    from openpyxl.utils import get_column_letter

    ws.append(list(CODEBOOK_SHEET_COLUMNS))
    for c in ws[1]:
        c.font = style["bold"]
        c.fill = style["header_fill"]
    for r in codebook_rows(cb, cfg):
        ws.append(r)
    widths = {"table": 11, "name": 28, "label": 30, "type": 9, "required": 9, "codes": 45, "missing codes": 20,
              "range or format": 30, "skip logic": 40, "definition": 60, "rules": 70}
    for j, name in enumerate(CODEBOOK_SHEET_COLUMNS, start=1):
        ws.column_dimensions[get_column_letter(j)].width = widths[name]
    for row in ws.iter_rows(min_row=2):
        for c in row:
            c.alignment = style["wrap"]
    ws.freeze_panes = "C2"
