"""Derived prosecution outcomes: the outcomes table typed and classified, and the outcome variables per person.

The outcomes table is optional. When the coded data has no valid outcome rows, every person's outcome variables
are blank (unknown), never "no": nothing is known about their cases. ``charged_selling`` is the exception: it
counts the report's own charges too.

Per row: ``filed_selling`` / ``convicted_selling`` (a selling-sex statute among the charges filed / the statutes
of conviction, classified with the charge table for the person's role) and ``vacated`` (relief granted under a
relief statute with an ``in_force`` date in the codebook: PC 236.14, 1203.49, 1170.21, 1170.22, 653.29).

Per person (a person may have several cases): the first of convicted, acquitted, pending, dismissed,
discharged, diversion completed is the result of the case; yes/no variables are yes when any case says yes,
no when every case says no, and blank otherwise.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..intake.normalise import split_statutes
from ..scheme.charges import charge_table
from ..scheme.codebook import NOT_APPLICABLE, NOT_DOCUMENTED, Codebook
from ..scheme.config import StudyConfig
from ..scheme.synthetic import SYNTHETIC_PREFIX

MISSING = (NOT_DOCUMENTED, NOT_APPLICABLE)
# the person's case result: the first of these among their cases
RESULT_ORDER = ("convicted", "acquitted", "pending", "dismissed", "discharged", "diversion_completed")
CLOSED_WITH_REASON = ("discharged", "dismissed")
NOT_DOCUMENTED_LEVEL = "not_documented"


def vacatur_statutes(cb: Codebook) -> tuple[str, ...]:
    """The relief statutes that count as vacatur: the codes of ``relief_statute`` with an in-force date."""
    return tuple(c.code for c in cb.variable("outcomes", "relief_statute").codes if c.in_force)


def _has_category(cells: pd.Series, roles: pd.Series, category: str, cb: Codebook) -> pd.array:
    """Whether a statutes cell holds a statute of ``category`` (for the person's role); NA for missing codes."""
    table = charge_table(cb)
    out = []
    for text, role in zip(cells, roles):
        if text in MISSING or text == "":
            out.append(None)
            continue
        cats = {st.category_for(role) for st in map(table.classify, split_statutes(text)) if st is not None}
        out.append(category in cats)
    return pd.array(out, dtype="boolean")


def _row_vacated(rows: pd.DataFrame, cb: Codebook) -> pd.array:
    """Relief granted under a vacatur statute: True; a petition denied, pending or under another statute: False;
    no petition, or its result or statute not documented: NA."""
    petition, result, statute = rows["relief_petition"], rows["relief_result"], rows["relief_statute"]
    vac = set(vacatur_statutes(cb))
    out = []
    for p, r, s in zip(petition, result, statute):
        if p != "yes" or r in MISSING:
            out.append(None)
        elif r != "granted":
            out.append(False)
        elif s in vac:
            out.append(True)
        else:
            out.append(False if s not in MISSING else None)
    return pd.array(out, dtype="boolean")


def derive_outcomes(typed: pd.DataFrame, rows: pd.DataFrame, per: pd.DataFrame, inc: pd.DataFrame, cb: Codebook,
                    cfg: StudyConfig) -> pd.DataFrame:
    """The derived outcomes table: ``typed`` (the coded columns, typed) with the person's report year, period and
    role in front, and ``filed_selling``, ``convicted_selling`` and ``vacated``. ``rows`` are the valid rows as
    text."""
    role_of = dict(zip(per["person_code"], per["role"]))
    year = rows["report_id"].map(dict(zip(inc["report_id"], inc["report_year"].astype(int))))
    role = rows["person_code"].map(role_of)
    front = pd.DataFrame({
        "synthetic": rows["report_id"].str.startswith(SYNTHETIC_PREFIX).to_numpy(dtype=bool),
        "report_year": year.astype("Int64").to_numpy(),
        "period": pd.Categorical(year.map(cfg.year_to_period), categories=list(cfg.period_codes), ordered=True),
        "role": pd.Categorical(role, categories=list(cb.variable("persons", "role").code_values)),
    }, index=typed.index)
    out = pd.concat([typed[["person_code", "report_id"]], front, typed.drop(columns=["person_code", "report_id"])],
                    axis=1)
    out["filed_selling"] = _has_category(rows["filed_statutes"], role, "selling", cb)
    out["convicted_selling"] = _has_category(rows["conviction_statutes"], role, "selling", cb)
    out["vacated"] = _row_vacated(rows, cb)
    return out.reset_index(drop=True)


# --- per person --------------------------------------------------------------------------------------------


def _any_all(values: pd.Series, person: pd.Series, yes, no, persons: pd.Series) -> pd.array:
    """Per person: True when any of their rows is in ``yes``, False when every row is in ``no``, else NA
    (also for people without rows)."""
    frame = pd.DataFrame({"p": person.to_numpy(), "yes": values.isin(yes).to_numpy(),
                          "no": values.isin(no).to_numpy()})
    g = frame.groupby("p")
    any_yes, all_no = g["yes"].any(), g["no"].all()
    result = pd.Series(pd.NA, index=any_yes.index, dtype="boolean")
    result[all_no] = False
    result[any_yes] = True
    return pd.array(persons.map(result).to_numpy(), dtype="boolean")


def _case_result(outcomes: pd.DataFrame, persons: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Each person's case result (the first of :data:`RESULT_ORDER` among their cases; 'not_documented' when no
    disposition is documented) and, for a discharge or dismissal, its reason; None where there is none."""
    rank = {c: k for k, c in enumerate(RESULT_ORDER)}
    result: dict[str, str] = {}
    reason: dict[str, str] = {}
    best: dict[str, int] = {}
    for p, disp, why in zip(outcomes["person_code"], outcomes["disposition"].astype(str),
                            outcomes["disposition_reason"].astype(str)):
        k = rank.get(disp, len(RESULT_ORDER))
        if p not in best or k < best[p]:
            best[p] = k
            result[p] = disp if disp in rank else NOT_DOCUMENTED_LEVEL
            reason[p] = (why if why not in MISSING else NOT_DOCUMENTED_LEVEL) if disp in CLOSED_WITH_REASON else None
    return persons.map(result).to_numpy(dtype=object), persons.map(reason).to_numpy(dtype=object)


def add_outcome_variables(persons: pd.DataFrame, outcomes: pd.DataFrame, cb: Codebook) -> pd.DataFrame:
    """The derived persons table with the outcome variables (the codebook's derived persons variables with topic
    ``outcomes``) added at the end; blank for everyone when ``outcomes`` has no rows (no outcomes coded)."""
    out = persons.copy()
    codes = out["person_code"]
    known = len(outcomes) > 0
    o = outcomes.astype({c: str for c in ("charges_filed", "nc_referred", "nc_result", "other_diversion",
                                          "disposition", "relief_petition")})
    p = o["person_code"]
    out["da_outcome_known"] = pd.array(codes.isin(set(p)) if known else [None] * len(codes), dtype="boolean")
    filed_selling = o.loc[o["filed_selling"].fillna(False).astype(bool), "person_code"]
    out["charged_selling"] = out["charge__selling"].to_numpy(dtype=bool) | codes.isin(set(filed_selling)).to_numpy()
    out["charged"] = _any_all(o["charges_filed"], p, ["yes"], ["no"], codes)
    out["nc_referred"] = _any_all(o["nc_referred"], p, ["yes"], ["no"], codes)
    ref = o[o["nc_referred"] == "yes"]
    done = ("completed", "discharged", "returned_to_da", "pending")
    out["nc_completed"] = _any_all(ref["nc_result"], ref["person_code"], ["completed"],
                                   [d for d in done if d != "completed"], codes)
    out["nc_discharged"] = _any_all(ref["nc_result"], ref["person_code"], ["discharged"],
                                    [d for d in done if d != "discharged"], codes)
    diversions = [c for c in cb.variable("outcomes", "other_diversion").code_values if c != "none"]
    out["diverted_other"] = _any_all(o["other_diversion"], p, diversions, ["none"], codes)
    result, reason = _case_result(o, codes)
    levels = [c.code for c in cb.derived_variable("persons", "case_result").levels]
    out["case_result"] = pd.Categorical(result, categories=levels)
    out["closure_reason"] = pd.Categorical(reason, categories=[c.code for c in
                                                               cb.derived_variable("persons", "closure_reason").levels])
    closed = [c for c in RESULT_ORDER if c != "convicted"]
    out["convicted"] = _any_all(o["disposition"], p, ["convicted"], closed, codes)
    conv = o[o["disposition"] == "convicted"]
    out["relief_petitioned"] = _any_all(conv["relief_petition"], conv["person_code"], ["yes"], ["no"], codes)
    vac = conv["vacated"].astype(object).map({True: "yes", False: "no"}).fillna(
        conv["relief_petition"].map({"no": "no"}))
    out["vacated"] = _any_all(vac.fillna(""), conv["person_code"], ["yes"], ["no"], codes)
    return out
