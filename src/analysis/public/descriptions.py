"""SFPD public descriptions -> public groups -> the codebook's charge categories, declared in one place.

The table :data:`DESCRIPTIONS` lists every prostitution / trafficking description found in the public files
(``../shared/data/sfpd``: the Kaggle rows, the Socrata page and the incident table, San Francisco rows), each
with its public group and the statute it most plausibly records. Each group maps to one codebook charge
category (:data:`GROUPS`). Descriptions not in the table are *reported* (:func:`unknown_descriptions`),
never guessed: add them here once their meaning is settled.

Caveats that travel with the mapping (``note``):

- **Soliciting before 2017 covers buyers too.** PC 647(b) was one offence for both parties until SB 420
  (2016, in force 1 January 2017) split it into (b)(1) seller, (b)(2) buyer of an adult and (b)(3) buyer of a
  minor (SB 1129, also 2016, only repealed mandatory minimum jail terms). SFPD's "SOLICITS FOR ACT OF
  PROSTITUTION" therefore includes people arrested as buyers (decoy operations). It is mapped to the codebook
  category ``selling`` because that is the statute's category in the codebook; read it as "PC 647(b), seller *or*
  buyer".
- "SOLICITS TO VISIT HOUSE OF PROSTITUTION" is mapped by its statute (PC 318, prevailing on a person to
  visit a place of prostitution: third party), but its volume (392 of 694 Kaggle rows in 2009, then
  59 in 2010) is not what a third-party offence looks like; how SFPD used this code is unconfirmed.
"""

from __future__ import annotations

import pandas as pd

from .load import map_values

# public group -> (label, codebook charge category, note)
GROUPS: dict[str, dict[str, str]] = {
    "soliciting": {
        "label": "Soliciting",
        "category": "selling",
        "note": ("PC 647(b) before 2017 covers both seller and buyer (SB 420, in force 2017, split it): 'selling' here "
                 "means seller or buyer."),
    },
    "loitering": {
        "label": "Loitering for prostitution",
        "category": "selling",
        "note": "PC 653.22 (repealed 2023).",
    },
    "pimping_pandering": {
        "label": "Pimping / pandering",
        "category": "third_party",
        "note": "",
    },
    "house_of_prostitution": {
        "label": "House of prostitution",
        "category": "third_party",
        "note": "",
    },
    "trafficking": {
        "label": "Human trafficking",
        "category": "trafficking",
        "note": "PC 236.1 (labour, sex, minors); SFPD's label, not a finding that it was trafficking.",
    },
    "lewd_conduct": {
        "label": "Lewd conduct",
        "category": "lewd_conduct",
        "note": "",
    },
}

# SFPD description (upper case, single spaces) -> group, statute (as the codebook writes it, or None), note
DESCRIPTIONS: dict[str, dict] = {
    "SOLICITS FOR ACT OF PROSTITUTION": {"group": "soliciting", "statute": "PC 647(b)",
                                         "note": "Before 2017 includes buyers."},
    "LOITERING FOR PURPOSE OF PROSTITUTION": {"group": "loitering", "statute": "PC 653.22", "note": ""},
    "SOLICITS TO VISIT HOUSE OF PROSTITUTION": {
        "group": "house_of_prostitution", "statute": "PC 318",
        "note": "Mapped by statute; its volume in 2008-2009 suggests wider use, unconfirmed."},
    "INMATE/KEEPER OF HOUSE OF PROSTITUTION": {"group": "house_of_prostitution", "statute": "PC 315",
                                               "note": "PC 315 covers keepers and residents alike."},
    "DISORDERLY HOUSE, KEEPING": {"group": "house_of_prostitution", "statute": "PC 316", "note": ""},
    "PIMPING": {"group": "pimping_pandering", "statute": "PC 266h", "note": ""},
    "PANDERING": {"group": "pimping_pandering", "statute": "PC 266i", "note": ""},
    "PROCUREMENT, PIMPING, & PANDERING": {"group": "pimping_pandering", "statute": None,
                                          "note": "PC 266 / 266h / 266i, not told apart."},
    "PLACING WIFE IN HOUSE OF PROSTITUTION": {"group": "pimping_pandering", "statute": "PC 266g", "note": ""},
    "PURCHASE FEMALE FOR THE PURPOSE OF PROSTITUTION": {"group": "pimping_pandering", "statute": "PC 266e",
                                                        "note": "Purchasing a person for prostitution."},
    "HUMAN TRAFFICKING": {"group": "trafficking", "statute": "PC 236.1", "note": ""},
    "ENGAGING IN LEWD CONDUCT - PROSTITUTION RELATED": {"group": "lewd_conduct", "statute": "PC 647(a)", "note": ""},
    "SOLICITS LEWD ACT": {"group": "lewd_conduct", "statute": "PC 647(a)", "note": ""},
    "INDECENT EXPOSURE - PROSTITUTION RELATED": {"group": "lewd_conduct", "statute": "PC 314",
                                                 "note": "Indecent exposure; grouped with lewd conduct."},
}

# Whole categories that settle the group without a description (the 2018-present dataset's trafficking
# categories). Upper case.
CATEGORIES: dict[str, str] = {
    "HUMAN TRAFFICKING (A), COMMERCIAL SEX ACTS": "trafficking",
    "HUMAN TRAFFICKING, COMMERCIAL SEX ACTS": "trafficking",
    "HUMAN TRAFFICKING (B), INVOLUNTARY SERVITUDE": "trafficking",
}

GROUP_ORDER = tuple(GROUPS)


def normalise_description(text: object) -> str:
    """Upper case with single spaces: the key :data:`DESCRIPTIONS` is written in."""
    if text is None or (isinstance(text, float) and text != text) or text is pd.NA:
        return ""
    return " ".join(str(text).upper().split())


def mapping_table() -> pd.DataFrame:
    """The mapping as a table: description, group, group label, codebook category, statute, note."""
    rows = []
    for desc, m in DESCRIPTIONS.items():
        g = GROUPS[m["group"]]
        rows.append({"description": desc, "group": m["group"], "group_label": g["label"],
                     "charge_category": g["category"], "statute": m["statute"] or "",
                     "note": " ".join(x for x in (m["note"], g["note"]) if x)})
    for cat, grp in CATEGORIES.items():
        g = GROUPS[grp]
        rows.append({"description": f"(category) {cat}", "group": grp, "group_label": g["label"],
                     "charge_category": g["category"], "statute": "", "note": g["note"]})
    return pd.DataFrame(rows)


def classify(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` (the standard frame) with ``description_group``, ``charge_category`` and ``mapped_by``.

    ``mapped_by`` is "description", "category" or "" (not mapped: the group and category are then "").
    """
    out = frame.copy()
    desc = map_values(out["description"], normalise_description)
    by_desc = map_values(desc, lambda d: DESCRIPTIONS[d]["group"] if d in DESCRIPTIONS else "")
    by_cat = map_values(out["category"], normalise_description).map(CATEGORIES).fillna("")
    group = by_desc.where(by_desc != "", by_cat)
    out["description_group"] = group
    out["charge_category"] = map_values(group, lambda g: GROUPS[g]["category"] if g else "")
    out["mapped_by"] = pd.Series("", index=out.index).where(by_desc == "", "description")
    out.loc[(by_desc == "") & (by_cat != ""), "mapped_by"] = "category"
    return out


def unknown_descriptions(frame: pd.DataFrame) -> pd.DataFrame:
    """Descriptions of the frame that the mapping does not cover: description, category, n (records).

    Daily count tables (no descriptions) give an empty table.
    """
    cls = classify(frame)
    rows = cls[(cls["mapped_by"] == "") & (cls["description"] != "")]
    if rows.empty:
        return pd.DataFrame({"description": pd.Series(dtype=str), "category": pd.Series(dtype=str),
                             "n": pd.Series(dtype="int64")})
    return (rows.groupby(["description", "category"], as_index=False).size().rename(columns={"size": "n"})
            .sort_values(["n", "description"], ascending=[False, True]).reset_index(drop=True))
