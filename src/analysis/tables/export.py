"""Shared tables as CSV, XLSX, HTML and Markdown, each with the same footer.

The footer says where the data comes from, how the periods are defined, which tests were used, the
suppression rule, whether the data is synthetic, and a provenance stamp (input file hashes, codebook version,
code version). Functions return text or bytes; the caller writes them.
"""

from __future__ import annotations

import html
import io

import pandas as pd

from .. import __version__
from ..formats.cells import formula_safe, frame_to_csv
from ..scheme.config import StudyConfig
from .disclosure import footer_text

SYNTHETIC_BANNER = "SYNTHETIC DATA: made from the generated example, not from real reports."


def provenance(inputs: dict[str, str], codebook_version: str, synthetic: bool) -> dict:
    """The provenance stamp: input file name -> SHA-256, codebook version, code version, synthetic flag."""
    return {"inputs": dict(sorted(inputs.items())), "codebook_version": codebook_version,
            "code_version": __version__, "synthetic": bool(synthetic)}


def footer_lines(methods: str, cfg: StudyConfig, stamp: dict, source: str, weighted: bool = False) -> list[str]:
    periods = "; ".join(f"{p.label}: report years {', '.join(map(str, p.years))}" for p in cfg.periods)
    lines = []
    if stamp["synthetic"]:
        lines.append(SYNTHETIC_BANNER)
    lines += [
        f"Source: {source}.",
        f"Periods: {periods}. SFPD's reorganised SVU opened {cfg.unit_change_date.isoformat()}"
        + ("" if cfg.unit_change_date_confirmed else " (date prostitution work left Vice unconfirmed)") + ".",
        methods,
        footer_text(cfg.suppression_threshold, weighted),
        "Provenance: code " + stamp["code_version"] + ", codebook " + stamp["codebook_version"] + "; inputs "
        + (", ".join(f"{k} sha256:{v[:12]}" for k, v in stamp["inputs"].items()) or "(in memory)") + ".",
    ]
    return lines


def to_csv(table: pd.DataFrame, title: str, footer: list[str]) -> str:
    """Title line, the table, a blank line, the footer; formula-like text cells quoted (analysis.formats.cells)."""
    buf = io.StringIO()
    buf.write(_csv_cell(title) + "\n")
    buf.write(frame_to_csv(table))
    buf.write("\n")
    for line in footer:
        buf.write(_csv_cell(line) + "\n")
    return buf.getvalue()


def _csv_cell(text: str) -> str:
    text = formula_safe(text)
    return '"' + text.replace('"', '""') + '"' if any(c in text for c in ',"\n\r') else text


def _md_escape(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def to_markdown(table: pd.DataFrame, title: str, footer: list[str]) -> str:
    cols = list(table.columns)
    lines = [f"### {title}", ""]
    if footer and footer[0] == SYNTHETIC_BANNER:
        lines += [f"**{SYNTHETIC_BANNER}**", ""]
    lines.append("| " + " | ".join(_md_escape(c) for c in cols) + " |")
    lines.append("|" + "|".join("---" for _ in cols) + "|")
    for row in table.itertuples(index=False):
        lines.append("| " + " | ".join(_md_escape(v) for v in row) + " |")
    lines.append("")
    lines += [f"- {_md_escape(f)}" for f in footer]
    return "\n".join(lines) + "\n"


_CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:1.5rem;color:#111}
table.compare{border-collapse:collapse;font-size:0.92rem}
table.compare th,table.compare td{border-bottom:1px solid #ddd;padding:0.3rem 0.6rem;text-align:left;vertical-align:top}
table.compare th{background:#f3f3f3}
.synthetic{background:#b00020;color:#fff;font-weight:700;padding:0.5rem 1rem;display:inline-block;margin-bottom:1rem}
.footer{font-size:0.85rem;color:#333;max-width:60rem}
"""


def to_html(table: pd.DataFrame, title: str, footer: list[str], standalone: bool = True) -> str:
    body = []
    if footer and footer[0] == SYNTHETIC_BANNER:
        body.append(f'<div class="synthetic">{html.escape(SYNTHETIC_BANNER)}</div>')
    body.append(f"<h3>{html.escape(title)}</h3>")
    body.append(table.to_html(index=False, escape=True, classes="compare", border=0))
    body.append('<ul class="footer">' + "".join(f"<li>{html.escape(f)}</li>" for f in footer) + "</ul>")
    inner = "\n".join(body)
    if not standalone:
        return inner
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{html.escape(title)}</title>"
            f"<style>{_CSS}</style></head><body>\n{inner}\n</body></html>\n")


def to_xlsx(sheets: dict[str, tuple[pd.DataFrame, str, list[str]]]) -> bytes:
    """One sheet per table: title in row 1, the table from row 3, the footer below it. Deterministic bytes."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    from ..formats.xlsx import FIXED_TIME, append_row, deterministic_zip

    wb = Workbook()
    wb.remove(wb.active)
    for name, (table, title, footer) in sheets.items():
        ws = wb.create_sheet(name[:31])
        append_row(ws, [title])
        ws["A1"].font = Font(bold=True, size=13)
        ws.append([])
        append_row(ws, list(table.columns))
        for c in ws[3]:
            c.font = Font(bold=True)
        for row in table.itertuples(index=False):
            append_row(ws, [None if v == "" else v for v in row])
        ws.append([])
        for line in footer:
            append_row(ws, [line])
            ws.cell(ws.max_row, 1).alignment = Alignment(wrap_text=False)
            if line == SYNTHETIC_BANNER:
                ws.cell(ws.max_row, 1).font = Font(bold=True, color="B00020")
        ws.freeze_panes = "C4"
        for j, col in enumerate(table.columns, start=1):
            width = max([len(str(col))] + [len(str(v)) for v in table.iloc[:, j - 1]]) + 2
            ws.column_dimensions[ws.cell(3, j).column_letter].width = min(width, 60)
    wb.properties.created = FIXED_TIME
    wb.properties.modified = FIXED_TIME
    buf = io.BytesIO()
    wb.save(buf)
    return deterministic_zip(buf.getvalue())
