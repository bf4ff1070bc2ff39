"""Fuzz the intake: over a thousand malformed inputs built from the synthetic example, loaded and validated.

A seeded generator takes a small synthetic coding and breaks it the ways coders' files break: wrong codes,
misspellings, blanks, whitespace, look-alike characters, impossible dates, huge numbers, duplicate ids, orphans,
renamed / shuffled / duplicated / extra columns, encodings, delimiters, line endings, stray quotes, line breaks
in cells, ragged rows, blank rows, empty and binary files, and workbook variants (stored dimensions that
understate the data, formulas with and without saved values, serial dates, hidden rows, extra sheets, damaged,
encrypted and legacy files, .xlsm, .ods). It writes every file itself, so it knows, independently of the
project's reader, how many data rows each table has and which rows it corrupted.

For every case: no exception other than UnusableInputError (each of whose problems names a file); input rows =
valid + rejected = the rows written; every error names file, row and variable; every corrupted row is rejected;
every accepted value is in its codebook domain. ``pytest -s`` prints the tally.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import random
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pytest

from analysis.coders.synth import generate
from analysis.derive.variables import derive
from analysis.intake.load import load_coded_tables
from analysis.intake.problems import UnusableInputError
from analysis.intake.validate import validate_tables
from analysis.scheme.charges import charge_table
from analysis.scheme.codebook import TABLES, load_codebook
from analysis.scheme.config import load_study_config

N_CASES = int(os.environ.get("FUZZ_INTAKE_CASES", "1000"))
CB = load_codebook()
CFG = load_study_config()
VARS = {t: {v.name: v for v in CB.table(t).variables} for t in TABLES}
LOOKALIKE = {"a": "а", "e": "е", "o": "о", "p": "р", "c": "с", "x": "х", "y": "у", "i": "і", "s": "ѕ", "0": "О"}
FULLWIDTH = str.maketrans("0123456789-", "０１２３４５６７８９－")
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


@dataclass
class Case:
    """One generated input: the tables as text rows, and what was done to them."""

    kind: str
    cols: dict[str, list[str]]
    rows: dict[str, list[list[str]]]
    corrupted: dict[str, set[int]] = field(default_factory=lambda: {t: set() for t in TABLES})  # row ordinals
    text_muts: dict[str, dict[int, list[tuple]]] = field(default_factory=lambda: {t: {} for t in TABLES})
    links: list[tuple[str, int, int, str]] = field(default_factory=list)  # (table, row, row with the same id, column)
    formula_rows: set[tuple[str, int]] = field(default_factory=set)
    blank_before: dict[str, dict[int, str]] = field(default_factory=lambda: {t: {} for t in TABLES})
    unusable: str = "no"  # "no": must load; "yes": must be refused; "maybe": either
    classes: list[str] = field(default_factory=list)

    def corrupt(self, t: str, i: int) -> None:
        self.corrupted[t].add(i)


# --- cell mutations ------------------------------------------------------------------------------------------


def _pick(case: Case, rng: random.Random, types: tuple[str, ...], tables=TABLES, need_show_if=None):
    choices = [(t, c) for t in tables for c in case.cols[t] if c in VARS[t] and VARS[t][c].type in types
               and (need_show_if is None or bool(VARS[t][c].show_if) == need_show_if) and case.rows[t]]
    if not choices:
        return None
    t, c = rng.choice(choices)
    i = rng.randrange(len(case.rows[t]))
    return t, i, case.cols[t].index(c)


def _set(case, t, i, k, value, corrupt=True):
    case.rows[t][i][k] = value
    if corrupt:
        case.corrupt(t, i)


def m_wrong_code(case, rng):
    p = _pick(case, rng, ("code", "multi", "statute"))
    if p:
        _set(case, *p, rng.choice(["qx", "maybe", "unknown", "0", "yes please", "n/a", "zzz", "vice;svy", "647 zz"]))


def m_misspell(case, rng):
    p = _pick(case, rng, ("code", "multi"))
    if p:
        t, i, k = p
        v = case.rows[t][i][k]
        _set(case, t, i, k, v[:-1] + "q" + v[-1:] if len(v) > 1 else v + "q")


def m_blank_required(case, rng):
    p = _pick(case, rng, ("code", "multi", "integer", "date", "id", "text", "statute"), need_show_if=False)
    if p:
        _set(case, *p, "")


def m_whitespace(case, rng):
    p = _pick(case, rng, ("code", "multi", "integer", "date", "id", "text", "statute"))
    if p:
        t, i, k = p
        pad = lambda: rng.choice([" ", "  ", "\u00a0", "\t", " \u00a0"])  # noqa: E731
        _set(case, t, i, k, pad() + case.rows[t][i][k] + pad(), corrupt=False)


def m_case(case, rng):
    p = _pick(case, rng, ("code", "multi"))
    if p:
        t, i, k = p
        _set(case, t, i, k, case.rows[t][i][k].upper(), corrupt=False)


def m_lookalike(case, rng):
    p = _pick(case, rng, ("code", "multi", "id", "text", "integer", "date"))
    if not p:
        return
    t, i, k = p
    v = case.rows[t][i][k]
    spots = [j for j, ch in enumerate(v) if ch in LOOKALIKE]
    if spots and rng.random() < 0.7:
        j = rng.choice(spots)
        _set(case, t, i, k, v[:j] + LOOKALIKE[v[j]] + v[j + 1 :])
    elif len(v) >= 2:
        j = rng.randrange(1, len(v))
        _set(case, t, i, k, v[:j] + rng.choice(["\u00a0", "\u200b", "\u2009"]) + v[j:])


def m_other_digits(case, rng):
    p = _pick(case, rng, ("integer", "date"))
    if p:
        t, i, k = p
        v = case.rows[t][i][k]
        w = v.translate(rng.choice([FULLWIDTH, ARABIC_INDIC]))
        if w != v:
            _set(case, t, i, k, w)


def m_impossible_date(case, rng):
    p = _pick(case, rng, ("date",))
    if p:
        t, i, k = p
        year = case.rows[t][i][case.cols[t].index("report_year")] if "report_year" in case.cols[t] else "2009"
        year = year if re.fullmatch(r"[0-9]{4}", year) else "2009"
        _set(case, t, i, k, rng.choice([f"{year}-02-30", f"{year}-04-31", f"{year}-13-01", f"{year}-00-10",
                                        f"{year}-02-29" if year != "2012" else f"{year}-02-30"]))


def m_huge_number(case, rng):
    p = _pick(case, rng, ("integer",))
    if p:
        _set(case, *p, rng.choice(["9" * 25, "9" * 400, "1" + "0" * 4999, "-" + "9" * 30, "1e400", "inf", "NaN"]))


def m_bad_id(case, rng):
    t, col = rng.choice([("incidents", "coder_id"), ("incidents", "report_id"), ("persons", "person_code")])
    if case.rows[t] and col in case.cols[t]:
        _set(case, t, rng.randrange(len(case.rows[t])), case.cols[t].index(col),
             rng.choice(["-2-3", "=1+2", "@SUM(A1)", "+x", "_a", "a b", "x" * 45]))


def m_semicolons(case, rng):
    p = _pick(case, rng, ("code", "id", "text", "statute"))
    if p:
        _set(case, *p, "a;" * rng.choice([5, 300, 3000]))


def m_duplicate_id(case, rng):
    t, col = rng.choice([("incidents", "report_id"), ("persons", "person_code")])
    if len(case.rows[t]) >= 2 and col in case.cols[t]:
        i, j = rng.sample(range(len(case.rows[t])), 2)
        k = case.cols[t].index(col)
        if case.rows[t][j][k].strip():
            _set(case, t, i, k, case.rows[t][j][k], corrupt=False)
            case.links.append((t, i, j, col))  # both rows are corrupted, if nothing later changes either id


def m_orphan(case, rng):
    t, col, value = rng.choice([("persons", "report_id", "SYN-9999"), ("charges", "person_code", "SYN-P999999")])
    if case.rows[t] and col in case.cols[t]:
        _set(case, t, rng.randrange(len(case.rows[t])), case.cols[t].index(col), value)


CELL_MUTATIONS = [m_wrong_code, m_misspell, m_blank_required, m_whitespace, m_case, m_lookalike, m_other_digits,
                  m_impossible_date, m_huge_number, m_bad_id, m_semicolons, m_duplicate_id, m_orphan]


# --- row mutations (CSV text) ----------------------------------------------------------------------------------


def _plain_cell(case, t, i, rng):
    """A cell of row i holding no quote, separator or line break (so a quote added to it is the only one)."""
    ks = [k for k, v in enumerate(case.rows[t][i]) if v and not set(v) & set('",;\t\r\n')]
    return rng.choice(ks) if ks else None


def r_stray_quote(case, rng):
    t = rng.choice(TABLES)
    if not case.rows[t]:
        return
    i = rng.randrange(len(case.rows[t]))
    k = _plain_cell(case, t, i, rng)
    if k is not None:
        where = rng.choice(["start", "end", "start", "middle"])
        case.text_muts[t].setdefault(i, []).append(("quote", k, where))
        case.corrupt(t, i)
        if rng.random() < 0.3 and i + 1 < len(case.rows[t]):  # a second stray quote on the next line
            k2 = _plain_cell(case, t, i + 1, rng)
            if k2 is not None:
                case.text_muts[t].setdefault(i + 1, []).append(("quote", k2, "end"))
                case.corrupt(t, i + 1)


def r_line_break(case, rng):
    """A line break typed into a cell (the file quotes it). Never into a cell holding a separator: such a cell is
    read line by line (see load._parse_lines), which the oracle does not model."""
    t = rng.choice(TABLES)
    if case.rows[t]:
        i = rng.randrange(len(case.rows[t]))
        ks = [k for k, v in enumerate(case.rows[t][i]) if not set(v) & set(",;\t")]
        if not ks or any(m[0] != "quote" for m in case.text_muts[t].get(i, [])):
            return  # nor into a ragged row: read line by line too (see r_ragged)
        k = rng.choice(ks)
        v = case.rows[t][i][k]
        j = rng.randrange(len(v) + 1)
        _set(case, t, i, k, v[:j] + rng.choice(["\n", "\r\n", "\n\n"]) + v[j:])


def r_ragged(case, rng):
    t = rng.choice(TABLES)
    if not case.rows[t]:
        return
    i = rng.randrange(len(case.rows[t]))
    if any(m[0] != "quote" for m in case.text_muts[t].get(i, [])):
        return  # one ragged change per row, so the oracle knows what it did
    if any("\n" in v or "\r" in v for v in case.rows[t][i]):
        return  # a ragged record with a quoted line break is read line by line (load._parse_lines): not modelled
    what = rng.choice(["extra", "extra_empty", "missing", "merge"])
    case.text_muts[t].setdefault(i, []).append((what,))
    if what in ("extra", "merge"):
        case.corrupt(t, i)  # 'missing' is judged in check(): it corrupts only a row that lacks a codebook column


def r_blank_rows(case, rng):
    t = rng.choice(TABLES)
    for _ in range(rng.randint(1, 3)):
        i = rng.randint(0, len(case.rows[t]))
        case.blank_before[t][i] = rng.choice(["", "   ", "sep", "sep", "\t "])


ROW_MUTATIONS = [r_stray_quote, r_line_break, r_ragged, r_blank_rows]


# --- columns ---------------------------------------------------------------------------------------------------


def c_columns(case, rng):
    t = rng.choice(TABLES)
    cols, rows = case.cols[t], case.rows[t]
    what = rng.choice(["shuffle", "extra", "unnamed", "rename", "duplicate", "drop", "case"])
    case.classes.append(f"columns:{what}")
    if what == "shuffle":
        order = list(range(len(cols)))
        rng.shuffle(order)
        case.cols[t] = [cols[k] for k in order]
        case.rows[t] = [[r[k] for k in order] for r in rows]
    elif what == "extra":
        cols.append(rng.choice(["notes", "narrative", "coder notes"]))
        for r in rows:
            r.append(rng.choice(["", "free text", "see p. 2"]))
    elif what == "unnamed":
        cols.append("")
        for i, r in enumerate(rows):
            r.append("")
        plain = [i for i in range(len(rows)) if i not in case.text_muts[t]]
        if plain:
            i = rng.choice(plain)
            rows[i][-1] = "stray"
            case.corrupt(t, i)
    elif what == "rename":
        k = rng.randrange(len(cols))
        cols[k] = cols[k][:-1] + "x"
        case.unusable = "yes"
    elif what == "duplicate":
        k = rng.randrange(len(cols))
        cols.append(cols[k])
        for r in rows:
            r.append(r[k])
        case.unusable = "yes"
    elif what == "drop":
        k = rng.randrange(len(cols))
        del cols[k]
        for r in rows:
            del r[k]
        # a stray quote recorded for a cell keeps pointing at that cell (none for the dropped column)
        case.text_muts[t] = {i: [m if m[0] != "quote" or m[1] < k else (m[0], m[1] - 1, m[2])
                                 for m in muts if m[0] != "quote" or m[1] != k]
                             for i, muts in case.text_muts[t].items()}
        case.unusable = "yes"
    else:
        case.cols[t] = [c.upper().replace("_", " ") for c in cols]  # 'REPORT ID' is read as report_id


# --- writing ---------------------------------------------------------------------------------------------------


def _quote(v: str, sep: str) -> str:
    return '"' + v.replace('"', '""') + '"' if set(v) & {sep, '"', "\n", "\r"} else v


def render_csv(case: Case, t: str, sep: str, ending: str) -> tuple[str, list[int]]:
    """The file's text and the line on which each data row starts."""
    lines, starts = [], []
    line = 1

    def emit(text: str) -> None:
        nonlocal line
        lines.append(text)
        line += 1 + len(re.findall(r"\r\n|\r|\n", text))

    emit(sep.join(_quote(c, sep) for c in case.cols[t]))
    ncols = len(case.cols[t])
    for i, row in enumerate(case.rows[t]):
        if i in case.blank_before[t]:
            b = case.blank_before[t][i]
            emit(sep * (ncols - 1) if b == "sep" else b)
        cells = [_quote(v, sep) for v in row]
        for mut in sorted(case.text_muts[t].get(i, []), key=lambda m: m[0] != "quote"):  # quotes before ragged
            if mut[0] == "quote":
                _, k, where = mut
                v = cells[k]
                half = len(v) // 2
                cells[k] = {"start": '"' + v, "end": v + '"', "middle": v[:half] + '"' + v[half:]}[where]
            elif mut[0] == "extra":
                cells.append("junk")
            elif mut[0] == "extra_empty":
                cells.append("")
            elif mut[0] == "missing":
                cells.pop()
            elif mut[0] == "merge" and len(cells) >= 2:
                k = len(cells) // 2
                cells[k - 1 : k + 1] = [cells[k - 1] + cells[k]]
        starts.append(line)
        emit(sep.join(cells))
    if len(case.rows[t]) in case.blank_before[t]:
        b = case.blank_before[t][len(case.rows[t])]
        emit(sep * (ncols - 1) if b == "sep" else b)
    return ending.join(lines) + ending, starts


def encode(text: str, enc: str) -> bytes:
    if enc == "utf-16-be":
        return ("\ufeff" + text).encode("utf-16-be")
    try:
        return text.encode(enc)
    except UnicodeEncodeError:
        return text.encode("utf-8")


def write_csv_case(case: Case, folder: Path, rng: random.Random) -> dict[str, list[int]]:
    folder.mkdir()
    starts = {}
    for t in TABLES:
        sep = rng.choice([",", ",", ",", ";", "\t"])
        ending = rng.choice(["\n", "\n", "\r\n", "\r"])
        enc = rng.choice(["utf-8", "utf-8", "utf-8-sig", "utf-16", "utf-16-be", "cp1252"])
        case.classes += [f"sep:{sep!r}", f"end:{ending!r}", f"enc:{enc}"]
        text, starts[t] = render_csv(case, t, sep, ending)
        if enc == "cp1252" and case.rows[t] and rng.random() < 0.5:
            i = rng.randrange(len(case.rows[t]))
            k = _plain_cell(case, t, i, rng)
            if k is not None and case.cols[t][k] in VARS[t]:  # an accented letter typed into a coded cell: still
                # read, and rejected (a cell of an extra column that is not in the codebook is ignored, not rejected)
                case.rows[t][i][k] += "é"
                case.corrupt(t, i)
                text, starts[t] = render_csv(case, t, sep, ending)
        (folder / f"{t}.csv").write_bytes(encode(text, enc))
    return starts


def file_level(case: Case, folder: Path, rng: random.Random) -> None:
    """Replace one file with something that is not a table."""
    t = rng.choice(TABLES)
    what = rng.choice(["empty", "binary", "whitespace", "utf32", "zip", "header_only"])
    case.classes.append(f"file:{what}")
    f = folder / f"{t}.csv"
    if what == "header_only":
        f.write_text(",".join(case.cols[t]) + "\n")
        case.rows[t] = []
        case.corrupted[t] = set()
        return
    case.unusable = "yes"
    f.write_bytes({"empty": b"", "binary": bytes(rng.randrange(256) for _ in range(300)) + b"\x00",
                   "whitespace": b" \r\n\t\n", "utf32": f.read_bytes().decode("utf-8", "replace").encode("utf-32"),
                   "zip": b"PK\x03\x04" + b"\x00" * 100}[what])


def _xlsx_member(data: bytes, title: str) -> str:
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(data), read_only=True)
    try:
        return wb[title]._worksheet_path
    finally:
        wb.close()


def _rewrite(data: bytes, member: str, fn) -> bytes:
    z = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in z.infolist():
            b = z.read(info.filename)
            dst.writestr(info, fn(b) if info.filename == member else b)
    return out.getvalue()


def write_workbook_case(case: Case, folder: Path, rng: random.Random) -> tuple[Path, dict[str, list[int]]]:
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter
    from openpyxl.utils.datetime import CALENDAR_MAC_1904, to_excel

    variant = rng.choice(["plain", "dimension", "dimension", "formula", "formula_saved", "hidden", "extra_sheet",
                          "damaged", "truncated", "encrypted", "xls", "xlsm"])
    dates = rng.choice(["cells", "serial", "text"])
    case.classes.append(f"workbook:{variant}:{dates}")
    folder.mkdir()
    path = folder / ("coded.xlsm" if variant == "xlsm" else "coded.xls" if variant == "xls" else "coded.xlsx")
    if variant in ("encrypted", "xls"):
        streams = ["Root Entry", "EncryptionInfo", "EncryptedPackage"] if variant == "encrypted" else ["Workbook"]
        path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504
                         + b"".join(s.encode("utf-16-le").ljust(128, b"\x00") for s in streams))
        case.unusable = "yes"
        return path, {}
    wb = Workbook()
    wb.remove(wb.active)
    if rng.random() < 0.3:
        wb.epoch = CALENDAR_MAC_1904
    starts, formulas = {}, []
    for t in TABLES:
        ws = wb.create_sheet(t)
        ws.append(case.cols[t])
        r = 2
        starts[t] = []
        for i, row in enumerate(case.rows[t]):
            if i in case.blank_before[t]:
                r += 1  # an empty row
            out = []
            for c, v in zip(case.cols[t], row):
                var = VARS[t].get(c)
                if var is not None and var.type == "integer" and re.fullmatch(r"[0-9]{1,9}", v):
                    out.append(int(v))
                elif var is not None and var.type == "date" and dates != "text" and re.fullmatch(
                        r"[0-9]{4}-[0-9]{2}-[0-9]{2}", v) and _real(v):
                    d = dt.date.fromisoformat(v)
                    out.append(d if dates == "cells" else int(to_excel(d, wb.epoch)))
                else:
                    out.append(v if v != "" else None)
            for k, v in enumerate(out, start=1):
                if v is not None:
                    ws.cell(row=r, column=k, value=v)
            starts[t].append(r)
            r += 1
        if variant == "hidden" and case.rows[t]:
            for i in rng.sample(range(len(case.rows[t])), min(2, len(case.rows[t]))):
                ws.row_dimensions[starts[t][i]].hidden = True
        if variant in ("formula", "formula_saved") and case.rows[t]:
            i = rng.randrange(len(case.rows[t]))
            k = rng.randrange(len(case.cols[t]))
            value = case.rows[t][i][k]
            ws.cell(row=starts[t][i], column=k + 1, value=f'=TRIM("{value}")')
            formulas.append((t, f"{get_column_letter(k + 1)}{starts[t][i]}", value))
            case.formula_rows.add((t, i))
            if variant == "formula" or value == "" or not value.isascii() or "<" in value or "&" in value:
                case.corrupt(t, i)
    if variant == "extra_sheet":
        wb.create_sheet(rng.choice(["notes", "Sheet1", "persons (2)"])).append(["x"])
    buf = io.BytesIO()
    wb.save(buf)
    data = buf.getvalue()
    if variant == "dimension":
        ref = rng.choice(["A1", "A1:U10", "A1:B2"]).encode()
        for t in TABLES:
            data = _rewrite(data, _xlsx_member(data, t), lambda x: re.sub(rb'<dimension ref="[^"]*" ?/>',
                                                                          b'<dimension ref="' + ref + b'"/>', x))
    elif variant == "formula_saved":
        for t, ref, value in formulas:
            if value and value.isascii() and "<" not in value and "&" not in value:
                data = _rewrite(data, _xlsx_member(data, t), lambda x, ref=ref.encode(), v=value.encode(): re.sub(
                    rb'<c r="' + ref + rb'"[^>]*><f>(.*?)</f><v ?/>',
                    lambda m: b'<c r="' + ref + b'" t="str"><f>' + m.group(1) + b"</f><v>" + v + b"</v>", x))
    elif variant == "damaged":
        t = rng.choice(TABLES)
        data = _rewrite(data, _xlsx_member(data, t), lambda x: x.replace(b"</sheetData>", b"<row r=\"x\"><c"))
        case.unusable = "yes"
    elif variant == "truncated":
        data = data[: rng.randrange(100, len(data) - 100)]
        case.unusable = "yes"
    path.write_bytes(data)
    return path, starts


def _real(v: str) -> bool:
    try:
        dt.date.fromisoformat(v)
        return True
    except ValueError:
        return False


def write_ods_case(case: Case, folder: Path) -> tuple[Path, dict[str, list[int]]]:
    case.classes.append("workbook:ods")
    folder.mkdir()
    path = folder / "coded.ods"
    with pd.ExcelWriter(path, engine="odf") as w:
        for t in TABLES:
            pd.DataFrame(case.rows[t], columns=case.cols[t], dtype=object).to_excel(w, sheet_name=t, index=False)
    case.blank_before = {t: {} for t in TABLES}
    return path, {t: list(range(2, len(case.rows[t]) + 2)) for t in TABLES}


# --- the oracle ------------------------------------------------------------------------------------------------

CHARGES = charge_table(CB)


def in_domain(t: str, name: str, v: str) -> bool:
    """Whether a canonical value is allowed by the codebook (written here from the codebook, not the validator)."""
    var = VARS[t][name]
    missing = set(var.missing) | ({"-9"} if var.show_if else set())
    if v in missing:
        return True
    if var.type == "code":
        return v in var.code_values
    if var.type == "multi":
        toks = v.split(CB.separator)
        return bool(toks) and all(x in var.code_values for x in toks) and (
            len(toks) == 1 or not set(toks) & set(var.exclusive or ()))
    if var.type == "integer":
        if not re.fullmatch(r"-?[0-9]{1,18}", v):
            return False
        n = int(v)
        return n in CFG.sampled_years if var.allowed_from_config == "sampled_years" else var.min <= n <= var.max
    if var.type == "date":  # a date that follows another (not_before: an outcome's) may fall in any year
        return bool(re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", v)) and _real(v) and (
            bool(var.not_before) or int(v[:4]) in CFG.sampled_years)
    if var.type in ("id", "text"):
        return bool(v) and v.isascii() and v == v.strip() and (
            not var.pattern or re.fullmatch(var.pattern, v) is not None)
    if var.type == "statute":
        return CHARGES.classify(v) is not None
    if var.type == "statutes":  # one or more separated by ';', each known; a missing code only alone (above)
        parts = [p.strip() for p in v.split(";") if p.strip()]
        return bool(parts) and all(p not in ("-8", "-9") and CHARGES.classify(p) is not None for p in parts)
    raise AssertionError(var.type)


@dataclass
class Tally:
    cases: int = 0
    crashes: int = 0
    rows_lost: int = 0
    unlocated: int = 0
    invalid_accepted: int = 0
    wrongly_refused: int = 0
    wrongly_accepted: int = 0
    unusable: int = 0
    derived: int = 0
    failures: list[str] = field(default_factory=list)

    def fail(self, what: str) -> None:
        if len(self.failures) < 20:
            self.failures.append(what)

    def line(self) -> str:
        return (f"fuzz intake: {self.cases} cases ({self.unusable} unusable as intended, {self.derived} also "
                f"derived), {self.crashes} crashes, "
                f"{self.rows_lost} rows lost, {self.unlocated} unlocated problems, {self.invalid_accepted} invalid "
                f"accepted, {self.wrongly_refused} wrongly refused, {self.wrongly_accepted} wrongly accepted")


def make_case(k: int, bases, tmp: Path) -> tuple[Case, Path, dict[str, list[int]]]:
    rng = random.Random(9000 + k)
    cols, rows = bases[k % len(bases)]
    case = Case("csv", {t: list(cols[t]) for t in TABLES}, {t: [list(r) for r in rows[t]] for t in TABLES})
    for _ in range(rng.choice([0, 1, 1, 2, 3])):
        m = rng.choice(CELL_MUTATIONS)
        case.classes.append(m.__name__)
        m(case, rng)
    roll = rng.random()
    folder = tmp / f"case{k:04d}"
    if roll < 0.07:
        case.kind = "workbook"
        path, starts = write_workbook_case(case, folder, rng)
    elif roll < 0.08:
        case.kind = "ods"
        path, starts = write_ods_case(case, folder)
    else:
        for _ in range(rng.choice([0, 1, 1, 2])):
            m = rng.choice(ROW_MUTATIONS)
            case.classes.append(m.__name__)
            m(case, rng)
        if rng.random() < 0.12:
            c_columns(case, rng)
        starts = write_csv_case(case, folder, rng)
        path = folder
        if rng.random() < 0.04:
            file_level(case, folder, rng)
    return case, path, starts


def check(case: Case, path: Path, starts: dict[str, list[int]], tally: Tally, label: str, derive_too=False) -> None:
    try:
        r = validate_tables(load_coded_tables(path, CB), CB, CFG)
    except UnusableInputError as exc:
        if case.unusable == "no":
            tally.wrongly_refused += 1
            tally.fail(f"{label}: refused: {exc}")
        else:
            tally.unusable += 1
        if not exc.problems or any(not p["file"] for p in exc.problems):
            tally.unlocated += 1
            tally.fail(f"{label}: unusable-input problem without a file: {exc.problems}")
        return
    except Exception as exc:  # noqa: BLE001 - the tally counts every escape
        tally.crashes += 1
        tally.fail(f"{label}: {type(exc).__name__}: {exc}")
        return
    for t in TABLES:
        if case.cols[t] and case.cols[t][-1] in VARS[t]:
            case.corrupted[t] |= {i for i, muts in case.text_muts[t].items() if ("missing",) in muts
                                  and i < len(case.rows[t])}
    for t, i, j, col in case.links:
        untouched = {(t, i), (t, j)}.isdisjoint(case.formula_rows) and not {i, j} & set(case.text_muts[t])
        if col in case.cols[t] and max(i, j) < len(case.rows[t]) and untouched:
            k = case.cols[t].index(col)
            if case.rows[t][i][k].strip() == case.rows[t][j][k].strip():
                case.corrupt(t, i)
                case.corrupt(t, j)
    if case.unusable == "yes":
        tally.wrongly_accepted += 1
        tally.fail(f"{label}: accepted although it should be refused")
    for t in TABLES:
        n = len(case.rows[t])
        got = r.input_rows[t]
        if got != n or len(r.valid[t]) + len(r.rejected[t]) != got:
            tally.rows_lost += abs(n - got) or 1
            tally.fail(f"{label}: {t}: wrote {n} rows, read {got} ({len(r.valid[t])} valid + {len(r.rejected[t])} "
                       "rejected)")
        rejected = set(r.rejected[t]["_row"])
        for i in case.corrupted[t]:
            if starts.get(t) and starts[t][i] not in rejected:
                tally.invalid_accepted += 1
                tally.fail(f"{label}: {t}: corrupted row {starts[t][i]} ({case.rows[t][i]}) was accepted")
        for name in VARS[t]:
            for v in r.valid[t][name].unique():
                if not in_domain(t, name, v):
                    tally.invalid_accepted += 1
                    tally.fail(f"{label}: {t}.{name}: accepted value {v!r} is outside the codebook")
    if derive_too:  # whatever validate accepts, derive types without a traceback
        try:
            derive(r.valid, CB, CFG)
            tally.derived += 1
        except Exception as exc:  # noqa: BLE001
            tally.crashes += 1
            tally.fail(f"{label}: derive: {type(exc).__name__}: {exc}")
    e = r.errors
    bad = e[(e["file"] == "") | e["row"].isna() | (e["variable"] == "")]
    if len(bad):
        tally.unlocated += len(bad)
        tally.fail(f"{label}: unlocated: {bad[['rule', 'message']].values.tolist()[:2]}")


EXPECTED_CLASSES = (
    [m.__name__ for m in CELL_MUTATIONS + ROW_MUTATIONS]
    + [f"columns:{w}" for w in ("shuffle", "extra", "unnamed", "rename", "duplicate", "drop", "case")]
    + [f"file:{w}" for w in ("empty", "binary", "whitespace", "utf32", "zip", "header_only")]
    + [f"sep:{s!r}" for s in (",", ";", "\t")] + [f"end:{e!r}" for e in ("\n", "\r\n", "\r")]
    + [f"enc:{e}" for e in ("utf-8", "utf-8-sig", "utf-16", "utf-16-be", "cp1252")]
    + [f"workbook:{v}" for v in ("plain", "dimension", "formula", "formula_saved", "hidden", "extra_sheet", "damaged",
                                 "truncated", "encrypted", "xls", "xlsm", "ods")]
)


@pytest.mark.slow  # 1,000 generated inputs (about 35 s)
def test_fuzz_intake(tmp_path):
    bases = []
    for n, s in ((5, 11), (6, 12), (7, 13)):
        frames = generate(n_reports=n, seed=s)
        bases.append(({t: list(frames[t].columns) for t in TABLES},
                      {t: [list(r) for r in frames[t].itertuples(index=False)] for t in TABLES}))
    tally = Tally()
    seen: dict[str, int] = {}
    for k in range(N_CASES):
        case, path, starts = make_case(k, bases, tmp_path)
        tally.cases += 1
        for c in case.classes:
            short = ":".join(c.split(":")[:2])
            seen[short] = seen.get(short, 0) + 1
        check(case, path, starts, tally, f"case {k} [{case.kind}: {', '.join(case.classes) or 'plain'}]",
              derive_too=k % 50 == 0)
    print("\n" + tally.line())
    assert tally.cases >= min(N_CASES, 1000)
    assert (tally.crashes, tally.rows_lost, tally.unlocated, tally.invalid_accepted, tally.wrongly_refused,
            tally.wrongly_accepted) == (0, 0, 0, 0, 0, 0), "\n".join(tally.failures)
    assert tally.unusable > 0 and tally.derived > 0
    if N_CASES >= 1000:
        assert [c for c in EXPECTED_CLASSES if c not in seen] == []


@pytest.mark.parametrize("ending", ["\n", "\r\n"])
def test_the_generator_knows_its_rows(ending):
    """The oracle's own line numbers, checked by hand: a line break in a cell and a blank line shift them."""
    rows = [["SYN-0001", "SYN-P00001", "647(b)"], ["SYN-0002", "SYN-P00002", "647(b)\nPC"],
            ["SYN-0003", "SYN-P00003", "647(b)"], ["SYN-0004", "SYN-P00004", "647(b)"]]
    case = Case("csv", {t: [] for t in TABLES} | {"charges": ["report_id", "person_code", "statute"]},
                {t: [] for t in TABLES} | {"charges": rows})
    case.blank_before["charges"][3] = ""
    text, starts = render_csv(case, "charges", ",", ending)
    assert starts == [2, 3, 5, 7]
    assert text == ending.join(["report_id,person_code,statute", "SYN-0001,SYN-P00001,647(b)",
                                'SYN-0002,SYN-P00002,"647(b)\nPC"', "SYN-0003,SYN-P00003,647(b)", "",
                                "SYN-0004,SYN-P00004,647(b)"]) + ending
