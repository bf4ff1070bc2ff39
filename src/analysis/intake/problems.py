"""The record of a problem found in coded data, shared by the loader and the validator."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

PROBLEM_COLUMNS = [
    "severity",
    "file",
    "sheet",
    "row",
    "table",
    "report_id",
    "person_code",
    "variable",
    "value",
    "rule",
    "message",
]


def problem(
    rule: str,
    message: str,
    *,
    severity: str = "error",
    file: str = "",
    sheet: str = "",
    row: int | None = None,
    table: str = "",
    report_id: str = "",
    person_code: str = "",
    variable: str = "",
    value: str = "",
) -> dict:
    return {
        "severity": severity,
        "file": file,
        "sheet": sheet,
        "row": row,
        "table": table,
        "report_id": report_id,
        "person_code": person_code,
        "variable": variable,
        "value": value,
        "rule": rule,
        "message": message,
    }


def problems_frame(records: list[dict]) -> pd.DataFrame:
    import pandas as pd

    df = pd.DataFrame(records, columns=PROBLEM_COLUMNS)
    df["row"] = df["row"].astype("Int64")
    return df


class UnusableInputError(Exception):
    """The input cannot be validated at all (missing file or table, not a table, wrong columns...)."""

    def __init__(self, problems: list[dict]):
        self.problems = problems
        super().__init__("; ".join(p["message"] for p in problems))
