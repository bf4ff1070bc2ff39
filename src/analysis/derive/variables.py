"""Derived analysis tables from validated coded tables.

Takes the validator's valid rows (canonical text) and returns typed tables:

* coded variables become ordered categoricals in the codebook's order, with -8 / -9 kept as their own levels;
* multi-select variables get one nullable yes/no column per option (``<variable>__<code>``);
* whole numbers and dates become numbers and dates (missing codes -> NA);
* period, age group, minor, transitional-aged youth, trans woman of color, charge categories per person,
  HIV charge, SFPD label vs coder assessment (misclassification), how the case began in the codebook's groups
  (origin_group: police-initiated or reactive; police_initiated; stings on sellers alone), the condom indicators
  out of all reports (photographed or documented; any of the three acts the April 2013 bulletin ended), buyer
  income stratum are added;
* each charge's severity and title follow the law on its date (the incident date; the codebook's dated rules);
* the prosecution outcomes (optional) are typed and summarised per person (:mod:`.outcomes`).

All settings (periods, TAY range, age groups, income breaks) come from the study configuration.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..intake.normalise import map_distinct
from ..scheme.charges import charge_date, charge_table
from ..scheme.codebook import NOT_APPLICABLE, NOT_DOCUMENTED, Codebook, load_codebook
from ..scheme.config import StudyConfig, load_study_config
from ..scheme.synthetic import SYNTHETIC_PREFIX
from .income import STRATUM_REASONS, income_stratum
from .outcomes import add_outcome_variables, derive_outcomes

MISSING = (NOT_DOCUMENTED, NOT_APPLICABLE)
SEVERITY_ORDER = ["none", "infraction", "misdemeanor", "felony"]
LABELLED_TRAFFICKING = ("trafficking", "both")


def _typed(df: pd.DataFrame, table: str, cb: Codebook) -> pd.DataFrame:
    out = pd.DataFrame(index=df.index)
    for var in cb.table(table).variables:
        col = df[var.name]
        if var.type == "code":
            cats = list(var.code_values) + [m for m in MISSING if m in var.missing]
            out[var.name] = pd.Categorical(col, categories=cats, ordered=var.level == "ordinal")
        elif var.type == "multi":
            out[var.name] = col
            sep = cb.separator
            for code in var.code_values:
                has = map_distinct(col, lambda u, c=code: None if u in MISSING else c in u.split(sep))
                out[f"{var.name}__{code}"] = pd.array(has, dtype="boolean")
        elif var.type == "integer":
            out[var.name] = pd.to_numeric(col.where(~col.isin(MISSING)), errors="raise").astype("Int64")
        elif var.type == "date":
            out[var.name] = pd.to_datetime(col.where(~col.isin(MISSING)), format="%Y-%m-%d")
        else:
            out[var.name] = col
    return out


def _yes(series: pd.Series) -> pd.Series:
    """yes -> True, no -> False, missing codes -> NA (nullable boolean)."""
    return pd.array(map_distinct(series, {"yes": True, "no": False}.get), dtype="boolean")


def _age_groups(age: pd.Series, cfg: StudyConfig) -> pd.Categorical:
    bounds = list(cfg.age_group_bounds)
    labels = [f"{lo}-{hi - 1}" for lo, hi in zip(bounds, bounds[1:])] + [f"{bounds[-1]}+"]
    groups = pd.cut(age.astype("float"), bins=bounds + [np.inf], right=False, labels=labels)
    cats = labels + ["not documented"]
    return pd.Categorical(groups.astype(object).where(age.notna(), "not documented"), categories=cats, ordered=True)


def derive_incidents(inc: pd.DataFrame, per: pd.DataFrame, chg: pd.DataFrame, cb: Codebook, cfg: StudyConfig) -> pd.DataFrame:
    out = _typed(inc, "incidents", cb)
    period = inc["report_year"].astype(int).map(cfg.year_to_period)
    out.insert(1, "period", pd.Categorical(period, categories=list(cfg.period_codes), ordered=True))
    out.insert(0, "synthetic", inc["report_id"].str.startswith(SYNTHETIC_PREFIX).to_numpy())
    out["n_persons"] = inc["report_id"].map(per["report_id"].value_counts()).fillna(0).astype(int)
    out["n_charges"] = inc["report_id"].map(chg["report_id"].value_counts()).fillna(0).astype(int)
    labelled = inc["sfpd_label"].isin(LABELLED_TRAFFICKING)
    established = inc["trafficking_assessment"] == "established"
    out["labelled_trafficking"] = labelled.to_numpy()
    out["assessed_trafficking"] = established.to_numpy()
    # correctly identified: of the reports SFPD labelled trafficking, those the coder assessed as established
    out["correctly_identified"] = pd.array(established.where(labelled, None), dtype="boolean")
    mis = np.select([labelled & ~established, ~labelled & established], ["over_labelled", "under_labelled"], "agree")
    out["misclassification"] = pd.Categorical(mis, categories=["agree", "over_labelled", "under_labelled"])
    out["misclassified"] = mis != "agree"
    out = out.assign(**_origin_groups(inc, cb))
    for name in ("screened_trafficking", "condoms_mentioned", "condoms_confiscated", "condoms_photographed",
                 "condoms_evidence", "phones_seized", "language_other_than_english", "interpreter_used",
                 "minors_involved"):
        out[f"{name}_yes"] = _yes(inc[name])
    mentioned = inc["condoms_mentioned"] == "yes"
    out["condoms_evidence_any"] = _any_yes([inc["condoms_photographed"], inc["condoms_evidence"]], mentioned)
    out["condoms_any_police_action"] = _any_yes(
        [inc["condoms_confiscated"], inc["condoms_photographed"], inc["condoms_evidence"]], mentioned)
    return out


def _any_yes(items: list[pd.Series], applies: pd.Series) -> pd.arrays.BooleanArray:
    """Any of ``items`` yes, out of all rows: True when one is yes; False when none applies (``applies`` false)
    or all are no; NA when none is yes and one is not documented."""
    cols = [s.where(applies, "no").to_numpy(dtype=object) for s in items]
    any_yes = np.logical_or.reduce([c == "yes" for c in cols])
    all_no = np.logical_and.reduce([c == "no" for c in cols])
    return pd.array(np.where(any_yes, True, np.where(all_no, False, None)), dtype="boolean")


def _origin_groups(inc: pd.DataFrame, cb: Codebook) -> dict[str, object]:
    """origin_group (the codebook's grouping of origin: police-initiated, reactive, other; -8 kept),
    police_initiated and origin_sting_sellers (blank when the origin is not documented)."""
    grouping = cb.derived_variable("incidents", "origin_group")
    origin = inc["origin"]
    group = origin.map(grouping.group_of()).fillna(origin)
    documented = origin != NOT_DOCUMENTED
    return {
        "origin_group": pd.Categorical(group, categories=[c.code for c in grouping.levels]),
        "police_initiated": pd.array((group == "police_initiated").where(documented, None), dtype="boolean"),
        "origin_sting_sellers": pd.array((origin == "sting_sellers").where(documented, None), dtype="boolean"),
    }


def derive_persons(per: pd.DataFrame, inc: pd.DataFrame, chg_derived: pd.DataFrame, cb: Codebook,
                   cfg: StudyConfig, income_lookup: pd.DataFrame | None) -> pd.DataFrame:
    out = _typed(per, "persons", cb)
    year = per["report_id"].map(dict(zip(inc["report_id"], inc["report_year"].astype(int))))
    out.insert(2, "report_year", year.to_numpy())
    out.insert(3, "period", pd.Categorical(year.map(cfg.year_to_period), categories=list(cfg.period_codes), ordered=True))
    out.insert(0, "synthetic", per["person_code"].str.startswith(SYNTHETIC_PREFIX).to_numpy())
    age = out["age"]
    out["age_group"] = _age_groups(age, cfg)
    out["minor"] = pd.array((age < cfg.minor_age_below).where(age.notna(), None), dtype="boolean")
    lo, hi = cfg.tay_age_range
    out["tay"] = pd.array(((age >= lo) & (age <= hi)).where(age.notna(), None), dtype="boolean")
    g, r = per["gender_identity"], per["race_ethnicity"]
    twoc = pd.Series(pd.NA, index=per.index, dtype="boolean")
    twoc[(g != NOT_DOCUMENTED) & (g != "trans_female")] = False
    twoc[(g == "trans_female") & (r == "white")] = False
    twoc[(g == "trans_female") & ~r.isin(["white", NOT_DOCUMENTED])] = True
    out["trans_woman_of_color"] = twoc
    # charges per person
    cats = list(charge_table(cb).categories)
    has = (pd.get_dummies(chg_derived["charge_category"].astype(str)).reindex(columns=cats, fill_value=False)
           .groupby(chg_derived["person_code"].to_numpy()).any())
    has = has.reindex(per["person_code"].to_numpy(), fill_value=False)
    for c in cats:
        out[f"charge__{c}"] = has[c].to_numpy(dtype=bool)
    out["n_charges"] = per["person_code"].map(chg_derived["person_code"].value_counts()).fillna(0).astype(int).to_numpy()
    out["hiv_charge"] = out["charge__hiv"]
    rank = {s: k for k, s in enumerate(SEVERITY_ORDER)}
    worst = chg_derived.assign(_r=chg_derived["severity"].astype(str).map(rank)).groupby("person_code")["_r"].max()
    sev = per["person_code"].map(worst).fillna(0).astype(int).map(dict(enumerate(SEVERITY_ORDER)))
    out["most_serious_charge"] = pd.Categorical(sev, categories=SEVERITY_ORDER, ordered=True)
    strata = income_stratum(per["residence_zip"], per["role"], income_lookup, cfg)
    out["income_stratum"] = pd.Categorical(strata, categories=list(cfg.income_codes) + list(STRATUM_REASONS))
    return out


def derive_charges(chg: pd.DataFrame, per: pd.DataFrame, inc: pd.DataFrame, cb: Codebook, cfg: StudyConfig) -> pd.DataFrame:
    """One row per charge: the statute as written and as classified, its category for the person's role, and its
    severity and title on the charge's date (the incident date, or 1 July of the report year when the date is not
    documented: Proposition 47 made H&S 11350 a misdemeanour from 5 November 2014); ``attempt`` marks PC 664."""
    table = charge_table(cb)
    role = chg["person_code"].map(dict(zip(per["person_code"], per["role"])))
    uniq = {s: table.classify(s) for s in chg["statute"].unique()}
    st = chg["statute"].map(uniq)
    year = chg["report_id"].map(dict(zip(inc["report_id"], inc["report_year"].astype(int))))
    day_of = {rid: charge_date(d, y) for rid, d, y in zip(inc["report_id"], inc["incident_date"], inc["report_year"])}
    day = chg["report_id"].map(day_of)
    out = pd.DataFrame({
        "synthetic": chg["report_id"].str.startswith(SYNTHETIC_PREFIX).to_numpy(),
        "report_id": chg["report_id"],
        "person_code": chg["person_code"],
        "report_year": year,
        "period": pd.Categorical(year.map(cfg.year_to_period), categories=list(cfg.period_codes), ordered=True),
        "role": pd.Categorical(role, categories=list(cb.variable("persons", "role").code_values)),
        "statute_as_written": chg["statute"],
        "statute": st.map(lambda s: s.statute),
        "statute_title": [s.title_on(d) for s, d in zip(st, day)],
        "charge_date": pd.to_datetime(day),
        "attempt": st.map(lambda s: s.attempt).astype(bool),
        "charge_category": pd.Categorical(
            [s.category_for(r) for s, r in zip(st, role)], categories=list(table.categories)
        ),
        "severity": pd.Categorical([s.severity_on(d) for s, d in zip(st, day)], categories=SEVERITY_ORDER[1:],
                                   ordered=True),
    })
    return out


def derive(valid: dict[str, pd.DataFrame], codebook: Codebook | None = None, config: StudyConfig | None = None,
           income_lookup: pd.DataFrame | None = None) -> dict[str, pd.DataFrame]:
    """Derived ``incidents``, ``persons``, ``charges`` and ``outcomes`` tables from validated rows. ``outcomes``
    is optional (absent or empty: the persons' outcome variables are blank, see :mod:`.outcomes`)."""
    cb = codebook or load_codebook()
    cfg = config or load_study_config()
    inc, per, chg = (valid[t].drop(columns=["_row"], errors="ignore") for t in ("incidents", "persons", "charges"))
    out_rows = valid.get("outcomes")
    if out_rows is None:
        out_rows = pd.DataFrame({c: pd.Series([], dtype=object) for c in cb.table("outcomes").columns})
    out_rows = out_rows.drop(columns=["_row"], errors="ignore").reset_index(drop=True)
    charges = derive_charges(chg, per, inc, cb, cfg)
    outcomes = derive_outcomes(_typed(out_rows, "outcomes", cb), out_rows, per, inc, cb, cfg)
    persons = add_outcome_variables(derive_persons(per, inc, charges, cb, cfg, income_lookup), outcomes, cb)
    incidents = derive_incidents(inc, per, chg, cb, cfg)
    return {"incidents": incidents.reset_index(drop=True), "persons": persons.reset_index(drop=True),
            "charges": charges.reset_index(drop=True), "outcomes": outcomes}
