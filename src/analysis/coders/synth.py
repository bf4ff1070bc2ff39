"""A synthetic example sample, generated from the codebook with a fixed seed.

It is shaped like the real study (989 reports, about 1,440 people, four sampled years) so every later analysis
has something to find, but no row describes a real report or person. It is marked synthetic in the data itself:
every report id starts with ``SYN-``, every person code with ``SYN-P`` and every coder id with ``synth_``.

The generator builds in the before/after differences listed in :data:`BUILT_IN_DIFFERENCES`; tests and
analyses check they are found with the right sign.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from ..scheme.charges import charge_table
from ..scheme.codebook import Codebook, load_codebook
from ..scheme.config import StudyConfig, load_study_config
from ..scheme.race import letter_reading
from ..scheme.synthetic import SYNTHETIC_PREFIX

__all__ = ["BUILT_IN_DIFFERENCES", "DEFAULT_REPORTS", "DEFAULT_SEED", "generate"]
DEFAULT_SEED = 20171115
DEFAULT_REPORTS = 989

# Each entry: what differs, and the generating probability before (Vice) and after (SVU).
BUILT_IN_DIFFERENCES = {
    "condoms_evidence": ("Condoms photographed or documented as evidence, share of all reports",
                         0.55 * (1 - 0.30 * 0.70), 0.35 * (1 - 0.90 * 0.98)),
    "screened_trafficking": ("Screened for trafficking", 0.15, 0.50),
    "phones_seized": ("Cell phones seized", 0.25, 0.45),
    "interpreter_used": ("Interpreter used when a language other than English is noted", 0.35, 0.65),
    "origin_sting_sellers": ("Case from a decoy/sting targeting sellers", 0.45, 0.20),
    "origin_massage_inspection": ("Case from a massage-establishment inspection", 0.05, 0.15),
    "labelled_trafficking": ("SFPD labelled the report trafficking (or both)", 0.07, 0.30),
    "correctly_identified": ("Of reports SFPD labelled trafficking, share the coder assessed as established", 0.6, 0.25),
    "hiv_charge": ("HIV-specific charge (PC 647f / H&S 120291) added to a charged person selling sex", 0.03, 0.0),
    "condoms_photographed": ("Condoms photographed, share of all reports", 0.55 * 0.30, 0.35 * 0.02),
    "race_read_hispanic_latino": ("People read as Hispanic / Latino from the race SFPD recorded (an artefact: SFPD's "
                                  "system had no letter for it before September 2012)", 0.0, 0.18),
}

#: How SFPD recorded each (true) race: before the change of lists (September 2012) its own system had only W, B, C
#: and O, and Latino people were mostly entered as W, Asian people as C or O; from then the California DOJ's letters.
#: Drawn from a second random stream (``[seed, 14]``), so the rest of the example is as before these items existed.
_LETTERS_BEFORE = {
    "asian": (["c", "o"], [0.75, 0.25]), "black": (["b"], [1.0]), "hispanic_latino": (["w", "o"], [0.85, 0.15]),
    "native_american": (["o"], [1.0]), "pacific_islander": (["o"], [1.0]), "white": (["w"], [1.0]),
    "other": (["o"], [1.0]), "-8": (["-8"], [1.0]),
}
_LETTERS_AFTER = {
    "asian": (["c", "f", "v", "k", "a", "j", "z", "d", "l"], [0.35, 0.15, 0.15, 0.10, 0.10, 0.05, 0.04, 0.03, 0.03]),
    "black": (["b"], [1.0]), "hispanic_latino": (["h"], [1.0]), "native_american": (["i"], [1.0]),
    "pacific_islander": (["p", "s", "u", "g"], [0.4, 0.2, 0.2, 0.2]), "white": (["w"], [1.0]),
    "other": (["o"], [1.0]), "-8": (["x", "-8"], [0.5, 0.5]),
}
_PHOTOGRAPHED_P = {"vice": 0.30, "svu": 0.02}

_DISTRICTS = ["bayview", "central", "ingleside", "mission", "northern", "park", "richmond", "southern",
              "taraval", "tenderloin"]
_DISTRICT_P = [0.04, 0.14, 0.03, 0.26, 0.12, 0.02, 0.03, 0.12, 0.04, 0.20]
_ORIGINS = ["sting_sellers", "operation_buyers", "massage_inspection", "online_ad", "tip",
            "victim_came_forward", "patrol", "other"]
_ORIGIN_P = {
    "vice": [0.45, 0.20, 0.05, 0.08, 0.08, 0.03, 0.10, 0.01],
    "svu": [0.20, 0.25, 0.15, 0.12, 0.12, 0.07, 0.08, 0.01],
}
_RACES = ["asian", "black", "hispanic_latino", "native_american", "pacific_islander", "white", "other", "-8"]
_RACE_P = {"seller": [0.22, 0.30, 0.18, 0.01, 0.02, 0.20, 0.03, 0.04],
           "buyer": [0.25, 0.10, 0.22, 0.01, 0.02, 0.33, 0.04, 0.03],
           "other": [0.25, 0.25, 0.20, 0.01, 0.02, 0.20, 0.03, 0.04]}
_INDICATORS = ["minor_in_commercial_sex", "third_party_control", "debt_bondage", "documents_held",
               "not_free_to_leave", "physical_abuse", "threats_coercion", "lives_at_workplace",
               "recruited_by_deception", "earnings_handed_over"]
_BUYER_ZIPS = ["94102", "94103", "94107", "94109", "94110", "94112", "94115", "94117", "94121", "94122",
               "94124", "94127", "94131", "94134", "94501", "94538", "94601", "94806", "94014", "94015",
               "94044", "94066", "94080", "94401", "94403", "94903", "95014", "95112", "95122", "94025"]
_SELLING_WRITTEN = ["647(b) PC", "PC 647(b)", "647(b)", "PC 647b", "647 (b) P.C."]


def _choice(rng: np.random.Generator, items: list, p: list[float] | None = None):
    return items[int(rng.choice(len(items), p=p))]


def generate(
    n_reports: int = DEFAULT_REPORTS,
    seed: int = DEFAULT_SEED,
    codebook: Codebook | None = None,
    config: StudyConfig | None = None,
) -> dict[str, pd.DataFrame]:
    """Generate the three coded tables (as text, the way a coder would enter them).

    One random stream (``seed``) is drawn from in a fixed order, report by report: the case and its place
    (:func:`_case`), the trafficking label and assessment (:func:`_trafficking`), the evidence and language
    items (:func:`_evidence`), the date, the people on it (:func:`_roles`, :func:`_person`, their charges) and
    the report's last items (:func:`_incident_row`). Changing that order changes every example file.
    """
    cb = codebook or load_codebook()
    cfg = config or load_study_config()
    rng = np.random.default_rng(seed)
    extra = np.random.default_rng([seed, 14])  # the items added in codebook 2.0 (see _LETTERS_BEFORE)
    years = list(cfg.sampled_years)
    period_of = cfg.year_to_period
    per_year = [n_reports // len(years) + (1 if k < n_reports % len(years) else 0) for k in range(len(years))]
    width = max(4, len(str(n_reports)))
    incidents, persons, charges = [], [], []
    pnum = 0
    rid_n = 0
    for year, n in zip(years, per_year):
        before = period_of[year] == cfg.periods[0].code
        start = dt.date(year, 1, 1)
        ndays = (dt.date(year + 1, 1, 1) - start).days
        for _ in range(n):
            rid_n += 1
            rid = f"{SYNTHETIC_PREFIX}{rid_n:0{width}d}"
            origin, loc = _case(rng, before)
            traf = _trafficking(rng, origin, before)
            ev = _evidence(rng, before, loc)
            date = start + dt.timedelta(days=int(rng.integers(0, ndays)))
            ev["photo"] = _photographed(extra, ev["cond_m"], before)
            ages = []
            for role in _roles(rng, origin, traf["truth"]):
                pnum += 1
                person, age = _person(rng, role, before, rid, f"{SYNTHETIC_PREFIX}P{pnum:0{width + 1}d}",
                                      lang=ev["lang"], phones=ev["phones"])
                _as_recorded(extra, person, date, cfg, cb)
                if age is not None:
                    ages.append(age)
                persons.append(person)
                if person["outcome"] in ("cited", "booked"):
                    for statute in _charges_for(rng, role, traf["truth"], before):
                        charges.append({"report_id": rid, "person_code": person["person_code"], "statute": statute})
            incidents.append(_incident_row(rng, rid, year, date, loc, origin, traf, ev, ages, cfg))
    out = {
        "incidents": pd.DataFrame(incidents, columns=cb.table("incidents").columns),
        "persons": pd.DataFrame(persons, columns=cb.table("persons").columns),
        "charges": pd.DataFrame(charges, columns=cb.table("charges").columns),
    }
    out["outcomes"] = _outcome_tables(out["incidents"], out["persons"], out["charges"], seed, cb, cfg)
    return out


def _case(rng: np.random.Generator, before: bool) -> tuple[str, str]:
    """How the case began, and the place that goes with it."""
    origin = _choice(rng, _ORIGINS, _ORIGIN_P["vice" if before else "svu"])
    if origin == "massage_inspection":
        loc = "massage_establishment"
    elif origin == "online_ad":
        loc = _choice(rng, ["online_ad", "hotel_motel", "residence"], [0.6, 0.3, 0.1])
    elif origin in ("sting_sellers", "operation_buyers", "patrol"):
        loc = _choice(rng, ["street", "vehicle", "hotel_motel", "other"], [0.75, 0.15, 0.07, 0.03])
    else:
        loc = _choice(rng, ["hotel_motel", "residence", "massage_establishment", "nail_salon", "street",
                            "-8"], [0.3, 0.25, 0.2, 0.05, 0.15, 0.05])
    return origin, loc


def _trafficking(rng: np.random.Generator, origin: str, before: bool) -> dict:
    """Trafficking: the truth first, then SFPD's label (SVU over-labels massage inspections and buyer stings),
    the coder's assessment and indicators, and whether the report documents screening."""
    p_true = {"tip": 0.30, "victim_came_forward": 0.55, "massage_inspection": 0.08}.get(origin, 0.02)
    truth = rng.random() < p_true
    some_ind = (not truth) and rng.random() < (0.35 if origin == "massage_inspection" else 0.08)
    if truth:
        label_p = 0.85 if before else 0.90
    elif before:
        label_p = 0.03
    else:
        label_p = 0.55 if origin in ("massage_inspection", "operation_buyers") else 0.10
    labelled = rng.random() < label_p
    label = _choice(rng, ["trafficking", "both"], [0.5, 0.5]) if labelled else "prostitution"
    assessment = "established" if truth else ("indicators_not_established" if some_ind else "none")
    if truth:
        k = int(rng.integers(2, 5))
        inds = sorted(rng.choice(len(_INDICATORS), size=k, replace=False))
        indicators = ";".join(_INDICATORS[i] for i in inds)
    elif some_ind:
        inds = sorted(rng.choice(len(_INDICATORS), size=int(rng.integers(1, 3)), replace=False))
        indicators = ";".join(_INDICATORS[i] for i in inds)
    else:
        indicators = "none"
    screened = "yes" if (truth and rng.random() < 0.8) or rng.random() < (0.15 if before else 0.50) else "no"
    return {"truth": truth, "label": label, "assessment": assessment, "indicators": indicators,
            "screened": screened}


def _evidence(rng: np.random.Generator, before: bool, loc: str) -> dict:
    """Condoms, phones, a language other than English and the interpreter, and the investigating units."""
    cond_m = rng.random() < (0.55 if before else 0.35)
    if cond_m:
        cond_c = _choice(rng, ["yes", "no", "-8"], [0.6, 0.3, 0.1] if before else [0.1, 0.8, 0.1])
        cond_e = "yes" if rng.random() < (0.70 if before else 0.10) else _choice(rng, ["no", "-8"], [0.85, 0.15])
    else:
        cond_c = cond_e = "-9"
    phones = rng.random() < (0.25 if before else 0.45)
    n_phones = (str(int(rng.integers(1, 4))) if rng.random() < 0.95 else "-8") if phones else "-9"
    lang = rng.random() < (0.6 if loc in ("massage_establishment", "nail_salon") else 0.12)
    if lang:
        r = rng.random()
        p_yes = 0.35 if before else 0.65
        interp = "yes" if r < p_yes else ("-8" if r > 0.92 else "no")
    else:
        interp = "-9"
    mode = (_choice(rng, ["language_line", "in_person", "bilingual_officer", "language_line;bilingual_officer"],
                    [0.5, 0.2, 0.25, 0.05]) if interp == "yes" else "-9")
    units = (_choice(rng, ["vice", "vice;district_station", "district_station"], [0.85, 0.10, 0.05])
             if before else
             _choice(rng, ["svu", "svu;district_station", "district_station", "other"], [0.80, 0.12, 0.05, 0.03]))
    return {"cond_m": cond_m, "cond_c": cond_c, "cond_e": cond_e, "phones": phones, "n_phones": n_phones,
            "lang": lang, "interp": interp, "mode": mode, "units": units}


def _photographed(rng: np.random.Generator, mentioned: bool, before: bool) -> str:
    """Condoms photographed (second stream): often before the 2012-2013 policy changes, rarely after."""
    if not mentioned:
        return "-9"
    r = rng.random()
    return "yes" if r < _PHOTOGRAPHED_P["vice" if before else "svu"] else ("-8" if r > 0.95 else "no")


def _as_recorded(rng: np.random.Generator, person: dict, date: dt.date, cfg: StudyConfig, cb: Codebook) -> None:
    """The race letter SFPD wrote (second stream) for the person's race (drawn as ``race_ethnicity``), and the
    coder's reading of that letter by the list in use at the report's date: before September 2012 a Latino person
    entered as W is read as white."""
    legacy = date < cfg.race_recording_change_date
    letters, p = (_LETTERS_BEFORE if legacy else _LETTERS_AFTER)[person["race_ethnicity"]]
    letter = _choice(rng, letters, p)
    person["race_recorded"] = letter
    person["race_ethnicity"] = "-8" if letter == "-8" else letter_reading(letter, date, cfg, cb)


def _roles(rng: np.random.Generator, origin: str, truth: bool) -> list[str]:
    """The roles of the people on the report, the first set by how the case began."""
    n_people = 1 + int(rng.choice(4, p=[0.64, 0.28, 0.06, 0.02]))
    first = {"sting_sellers": "seller", "operation_buyers": "buyer", "patrol": "seller",
             "online_ad": "seller", "massage_inspection": "seller"}.get(origin, "seller")
    if truth:
        first = "trafficking_victim"
    roles = [first]
    for _ in range(n_people - 1):
        if truth:
            roles.append(_choice(rng, ["third_party", "trafficking_victim", "buyer", "witness"],
                                 [0.45, 0.25, 0.15, 0.15]))
        else:
            roles.append(_choice(rng, ["buyer", "seller", "third_party", "witness", "other"],
                                 [0.40, 0.30, 0.12, 0.13, 0.05]))
    return roles


def _person(rng: np.random.Generator, role: str, before: bool, rid: str, pcode: str, *, lang: bool,
            phones: bool) -> tuple[dict, int | None]:
    """One person's row, and their age when documented."""
    if role in ("seller", "trafficking_victim"):
        age = int(np.clip(rng.normal(27 if role == "trafficking_victim" else 31, 8), 14, 70))
        g = _choice(rng, ["female", "trans_female", "male", "genderqueer_nonbinary", "-8"],
                    [0.74, 0.16 if before else 0.11, 0.05, 0.01, 0.04 if before else 0.09])
        race = _choice(rng, _RACES, _RACE_P["seller"])
    elif role == "buyer":
        age = int(np.clip(rng.normal(42, 12), 18, 85))
        g = _choice(rng, ["male", "female", "-8"], [0.96, 0.02, 0.02])
        race = _choice(rng, _RACES, _RACE_P["buyer"])
    else:
        age = int(np.clip(rng.normal(36, 11), 16, 80))
        g = _choice(rng, ["male", "female", "trans_female", "-8"], [0.6, 0.3, 0.02, 0.08])
        race = _choice(rng, _RACES, _RACE_P["other"])
    age_s = str(age) if rng.random() > 0.04 else "-8"
    zip_ = (_choice(rng, _BUYER_ZIPS) if rng.random() < 0.88 else "-8") if role == "buyer" else "-9"
    lep = "yes" if lang and rng.random() < 0.7 else ("no" if rng.random() < 0.9 else "-8")
    if lep == "yes":
        pi = "yes" if rng.random() < (0.35 if before else 0.65) else _choice(rng, ["no", "-8"], [0.8, 0.2])
    else:
        pi = "-9"
    outcome = _outcome(rng, role, before)
    pphone = ("yes" if rng.random() < 0.6 else _choice(rng, ["no", "-8"], [0.6, 0.4])) if phones else "no"
    person = {
        "person_code": pcode, "report_id": rid, "role": role, "age": age_s, "gender_identity": g,
        "race_ethnicity": race, "residence_zip": zip_, "limited_english": lep,
        "person_interpreter_used": pi, "outcome": outcome, "person_phone_seized": pphone,
    }
    return person, (age if age_s != "-8" else None)


def _outcome(rng: np.random.Generator, role: str, before: bool) -> str:
    if role in ("witness", "trafficking_victim"):
        return _choice(rng, ["none", "referred"], [0.5, 0.5])
    if role == "seller":
        return _choice(rng, ["cited", "booked", "none", "referred", "-8"],
                       [0.62, 0.22, 0.07, 0.06, 0.03] if before else [0.52, 0.18, 0.10, 0.17, 0.03])
    if role == "buyer":
        return _choice(rng, ["cited", "booked", "none"], [0.82, 0.10, 0.08])
    if role == "third_party":
        return _choice(rng, ["booked", "cited", "none"], [0.7, 0.15, 0.15])
    return _choice(rng, ["none", "cited"], [0.8, 0.2])


def _incident_row(rng: np.random.Generator, rid: str, year: int, date: dt.date, loc: str, origin: str, traf: dict,
                  ev: dict, ages: list[int], cfg: StudyConfig) -> dict:
    """The report's row: the items drawn above, and the last draws (minors, coder, district, origin documented)."""
    minors = "yes" if any(a < cfg.minor_age_below for a in ages) else ("no" if rng.random() > 0.03 else "-8")
    return {
        "report_id": rid,
        "coder_id": _choice(rng, ["synth_a", "synth_b", "synth_c"]),
        "incident_date": date.isoformat(),
        "report_year": str(year),
        "district": _choice(rng, _DISTRICTS, _DISTRICT_P) if rng.random() > 0.02 else "-8",
        "location_type": loc,
        "sfpd_label": traf["label"],
        "investigating_unit": ev["units"],
        "origin": origin if rng.random() > 0.03 else "-8",
        "screened_trafficking": traf["screened"],
        "trafficking_indicators": traf["indicators"],
        "trafficking_assessment": traf["assessment"],
        "condoms_mentioned": "yes" if ev["cond_m"] else "no",
        "condoms_confiscated": ev["cond_c"],
        "condoms_photographed": ev["photo"],
        "condoms_evidence": ev["cond_e"],
        "phones_seized": "yes" if ev["phones"] else "no",
        "phones_seized_count": ev["n_phones"],
        "language_other_than_english": "yes" if ev["lang"] else "no",
        "interpreter_used": ev["interp"],
        "interpreter_mode": ev["mode"],
        "minors_involved": minors,
    }


def _charges_for(rng: np.random.Generator, role: str, truth: bool, before: bool) -> list[str]:
    if role == "seller":
        main = _choice(rng, _SELLING_WRITTEN) if rng.random() < 0.85 else _choice(rng, ["653.22 PC", "PC 653.22"])
        out = [main]
        if before and rng.random() < 0.03:
            out.append(_choice(rng, ["647f PC", "H&S 120291"]))
        extra = rng.random()
        if extra < 0.05:
            out.append("148(a)(1) PC")
        elif extra < 0.07:
            out.append("647(f) PC")
        elif extra < 0.10:
            out.append("H&S 11350")
        return out
    if role == "buyer":
        return [_choice(rng, _SELLING_WRITTEN)]
    if role == "third_party":
        out = [_choice(rng, ["266h PC", "266H", "PC 266i", "653.23 PC"], [0.4, 0.2, 0.3, 0.1])]
        if truth:
            out.append(_choice(rng, ["236.1 PC", "PC 236.1(b)"]))
        return out
    return ["647(f) PC"] if rng.random() < 0.5 else ["PC 415"]


# --- prosecution outcomes (the optional fourth table) ----------------------------------------------------------
#
# Shaped like the published companion report on prosecutorial outcomes (:data:`PUBLISHED_OUTCOMES`): outcomes
# for exactly 816 people cited or booked (only they reach the DA), 474 of them charged with selling sex, 36% of
# those (171) referred to Neighborhood Court (which began around 2011: rarely in 2009/2010, mostly in 2014/2015),
# of whom 60% (103) completed and 39% (67) were discharged; cases not referred mostly discharged or dismissed, for
# lack of evidence or because further investigation was needed. The counts are fixed; who is drawn is weighted
# by period (the odds of the probabilities in OUTCOME_DIFFERENCES), so the built-in differences hold. Drawn from a
# random stream of its own (seed, OUTCOMES_STREAM) after the other tables, so the other tables do not depend on it.

OUTCOMES_STREAM = 14
PUBLISHED_OUTCOMES = {
    "people": 816,  # people with a DA outcome (of 1,442 on the 989 reports)
    "charged_selling": 474,  # of them, charged with selling sex (58%)
    "nc_referred": 171,  # of those, referred to Neighborhood Court: 36% of 474
    "nc_completed": 103,  # of the referrals, completed: 60% of 171
    "nc_discharged": 67,  # of the referrals, discharged without completing: 39% of 171
}
OUTCOME_DIFFERENCES = {
    "da_outcome_known": ("DA or court outcome known, of people cited or booked", 0.70, 0.84),
    "nc_referred": ("Referred to Neighborhood Court, of people charged with selling sex with an outcome", 0.13, 0.68),
    "first_offender_program": ("First Offender Prostitution Program, of buyers with an outcome", 0.55, 0.30),
    "convicted": ("Convicted, of people selling sex with an outcome not referred to Neighborhood Court", 0.20, 0.10),
}
BUILT_IN_DIFFERENCES.update(OUTCOME_DIFFERENCES)
RECORDS_OBTAINED = dt.date(2018, 6, 30)  # the DA's and court's records are as of this day (relief dates end here)
NC_BEGAN = dt.date(2011, 6, 1)  # an approximate start for the synthetic referrals of 2009/2010 cases
_REASONS = ["insufficient_evidence", "further_investigation", "witness_unavailable", "trafficking_victim",
            "interest_of_justice", "other", "-8"]
_REASON_P = [0.38, 0.30, 0.10, 0.04, 0.12, 0.03, 0.03]
_DELAY_DAYS = {"discharged": (1, 45), "dismissed": (20, 200), "convicted": (14, 300), "acquitted": (60, 400),
               "diversion_completed": (30, 240)}


def _draw(rng: np.random.Generator, candidates: list[int], before: list[bool], k: int, key: str) -> set[int]:
    """``k`` of ``candidates`` without replacement, each weighted by the odds of OUTCOME_DIFFERENCES[key] for its
    period (so the period with the higher probability gets more of them)."""
    if not k:
        return set()
    _, p_before, p_after = OUTCOME_DIFFERENCES[key]
    w = np.array([p_before / (1 - p_before) if b else p_after / (1 - p_after) for b in before])
    picked = rng.choice(len(candidates), size=k, replace=False, p=w / w.sum())
    return {candidates[i] for i in picked}


def _outcome_tables(incidents: pd.DataFrame, persons: pd.DataFrame, charges: pd.DataFrame, seed: int,
                    cb: Codebook, cfg: StudyConfig) -> pd.DataFrame:
    """The outcomes table: one row per case for people cited or booked whom the DA's records cover (a few with a
    second case, a failure to appear), drawn from the stream (seed, OUTCOMES_STREAM) in the published counts."""
    rng = np.random.default_rng([seed, OUTCOMES_STREAM])
    first = cfg.periods[0].code
    before_of = {r: cfg.year_to_period[int(y)] == first for r, y in zip(incidents["report_id"], incidents["report_year"])}
    date_of = dict(zip(incidents["report_id"], incidents["incident_date"]))
    written = charges.groupby("person_code", sort=False)["statute"].apply(list).to_dict()
    people = [p for p in persons.to_dict("records") if p["outcome"] in ("cited", "booked")]
    before = [before_of[p["report_id"]] for p in people]
    # people charged with selling sex on the report (a buyer's 647(b) is buying) and everyone else
    selling = [i for i, p in enumerate(people) if p["role"] in ("seller", "trafficking_victim")
               and any(_is_selling(st, cb) for st in written.get(p["person_code"], []))]
    others = sorted(set(range(len(people))) - set(selling))
    # the published counts are for DEFAULT_REPORTS reports; a smaller or larger example scales them
    scale = len(incidents) / DEFAULT_REPORTS
    n_sell = min(round(PUBLISHED_OUTCOMES["charged_selling"] * scale), len(selling))
    n_others = min(round((PUBLISHED_OUTCOMES["people"] - PUBLISHED_OUTCOMES["charged_selling"]) * scale), len(others))
    chosen_selling = _draw(rng, selling, [before[i] for i in selling], n_sell, "da_outcome_known")
    chosen_others = _draw(rng, others, [before[i] for i in others], n_others, "da_outcome_known")
    in_order = sorted(chosen_selling)
    n_nc = round(PUBLISHED_OUTCOMES["nc_referred"] * n_sell / PUBLISHED_OUTCOMES["charged_selling"])
    referred = sorted(_draw(rng, in_order, [before[i] for i in in_order], n_nc, "nc_referred"))
    completed = round(PUBLISHED_OUTCOMES["nc_completed"] * n_nc / PUBLISHED_OUTCOMES["nc_referred"])
    discharged = min(round(PUBLISHED_OUTCOMES["nc_discharged"] * n_nc / PUBLISHED_OUTCOMES["nc_referred"]),
                     n_nc - completed)
    results = ["completed"] * completed + ["discharged"] * discharged + ["returned_to_da"] * (n_nc - completed
                                                                                                - discharged)
    nc_result = dict(zip(referred, (results[i] for i in rng.permutation(len(results)))))
    rows = []
    for i in sorted(chosen_selling | chosen_others):
        p = people[i]
        incident = dt.date.fromisoformat(date_of[p["report_id"]])
        rows.append(_prosecution(rng, p, written.get(p["person_code"], []), before[i], incident, nc_result.get(i), cb))
        if rng.random() < 0.02:
            rows.append(_failure_to_appear(rng, p, incident))
    return pd.DataFrame(rows, columns=cb.table("outcomes").columns)


def _prosecution(rng: np.random.Generator, p: dict, statutes: list[str], before: bool, incident: dt.date,
                 nc_result: str | None, cb: Codebook) -> dict:
    """One person's case: the route (Neighborhood Court with result ``nc_result`` when referred, another
    diversion, or the DA's charging decision and the court), then its dates and any petition for relief."""
    role = p["role"]
    selling = role in ("seller", "trafficking_victim")
    row = {"person_code": p["person_code"], "report_id": p["report_id"],
           "outcome_source": _choice(rng, ["da", "da_and_court", "court"], [0.78, 0.20, 0.02]),
           "nc_referred": "no", "nc_result": "-9", "other_diversion": "none", "disposition_reason": "-9"}
    if nc_result is not None:
        row.update(_neighborhood_court(rng, nc_result))
    elif role == "buyer" and rng.random() < OUTCOME_DIFFERENCES["first_offender_program"][1 if before else 2]:
        done = rng.random() < 0.85
        row.update(other_diversion="first_offender_prostitution_program", charges_filed="no" if done else "yes",
                   disposition="diversion_completed" if done else _choice(rng, ["convicted", "dismissed"]))
    else:
        row.update(_charging(rng, role, before))
    if row["disposition"] in ("discharged", "dismissed") and row["disposition_reason"] == "-9":
        row["disposition_reason"] = _choice(rng, _REASONS, _REASON_P)
    row["filed_statutes"] = (("; ".join(statutes) if rng.random() > 0.04 else "-8") if row["charges_filed"] == "yes"
                             else "-9")
    row["disposition_date"] = _disposition_date(rng, row, before, incident)
    row.update(_relief(rng, row, statutes, selling, before, incident, cb))
    return row


def _neighborhood_court(rng: np.random.Generator, result: str) -> dict:
    row = {"nc_referred": "yes", "nc_result": result, "charges_filed": "no"}
    if result == "completed":
        row["disposition"] = "diversion_completed"
    elif result == "discharged":
        row.update(disposition="discharged", disposition_reason=_choice(
            rng, ["diversion_not_completed", "further_investigation", "insufficient_evidence", "-8"],
            [0.70, 0.12, 0.12, 0.06]))
    elif result == "pending":
        row["disposition"] = "pending"
    else:
        row.update(charges_filed="yes", disposition=_choice(rng, ["dismissed", "convicted", "pending"], [0.5, 0.4, 0.1]))
    return row


def _charging(rng: np.random.Generator, role: str, before: bool) -> dict:
    """The DA's decision and the court's, for a case not sent to Neighborhood Court or the buyers' program."""
    if role == "third_party":
        disp = _choice(rng, ["convicted", "dismissed", "discharged", "pending", "acquitted"],
                       [0.45, 0.30, 0.15, 0.08, 0.02])
    elif role == "buyer":
        disp = _choice(rng, ["discharged", "dismissed", "convicted", "pending"], [0.45, 0.25, 0.25, 0.05])
    else:
        conv = OUTCOME_DIFFERENCES["convicted"][1 if before else 2]
        rest = 1.0 - conv - 0.03 - 0.01 - 0.04 - 0.02
        disp = _choice(rng, ["discharged", "dismissed", "convicted", "acquitted", "pending", "diversion_completed", "-8"],
                       [rest * 0.6, rest * 0.4, conv, 0.01, 0.04 if before else 0.02, 0.03, 0.02 if before else 0.04])
    row = {"disposition": disp, "charges_filed": "yes"}
    if disp == "discharged":
        row["charges_filed"] = "no"
    elif disp == "pending":
        row["charges_filed"] = _choice(rng, ["yes", "no"])
    elif disp == "diversion_completed":
        row["other_diversion"] = "pretrial_diversion"
    elif disp == "-8":
        row["charges_filed"] = _choice(rng, ["yes", "no", "-8"], [0.4, 0.3, 0.3])
    return row


def _disposition_date(rng: np.random.Generator, row: dict, before: bool, incident: dt.date) -> str:
    disp = row["disposition"]
    if disp not in _DELAY_DAYS:  # pending or not documented: no disposition date applies
        return "-9"
    if rng.random() < 0.03:
        return "-8"
    if row["nc_referred"] == "yes" and before:  # a 2009/2010 case still open when Neighborhood Courts began
        return (NC_BEGAN + dt.timedelta(days=int(rng.integers(0, 540)))).isoformat()
    lo, hi = _DELAY_DAYS[disp]
    return (incident + dt.timedelta(days=int(rng.integers(lo, hi + 1)))).isoformat()


def _conviction_statutes(rng: np.random.Generator, statutes: list[str]) -> str:
    """What the person was convicted of: the charge as written, a plea to disturbing the peace, or -8."""
    if not statutes or rng.random() < 0.05:
        return "-8"
    hiv = [s for s in statutes if s in ("647f PC", "H&S 120291")]
    if hiv and rng.random() < 0.5:
        return hiv[0]
    return statutes[0] if rng.random() < 0.72 else "415 PC"


def _is_selling(statute: str, cb: Codebook) -> bool:
    st = charge_table(cb).classify(statute)
    return st is not None and st.category == "selling"


def _relief(rng: np.random.Generator, row: dict, statutes: list[str], selling: bool, before: bool,
            incident: dt.date, cb: Codebook) -> dict:
    """The statutes of conviction and any petition to vacate or seal (people selling sex, mostly from 2009/2010,
    whose convictions are older)."""
    out = {"conviction_statutes": "-9", "relief_petition": "-9", "relief_statute": "-9", "relief_result": "-9",
           "relief_date": "-9"}
    if row["disposition"] != "convicted":
        return out
    out["conviction_statutes"] = _conviction_statutes(rng, statutes)
    r = rng.random()
    if r < 0.03:
        out["relief_petition"] = "-8"
        return out
    if r >= 0.03 + ((0.25 if before else 0.12) if selling else 0.02):
        out["relief_petition"] = "no"
        return out
    conv = out["conviction_statutes"]
    if not selling:
        statute = "other"
    elif conv in ("647f PC", "H&S 120291"):
        statute = "pc_1170_21" if conv == "647f PC" else "pc_1170_22"
    elif _is_selling(conv, cb):  # 1203.49 sets aside 647(b) convictions only
        statute = _choice(rng, ["pc_236_14", "pc_1203_49", "other"], [0.55, 0.40, 0.05])
    else:
        statute = _choice(rng, ["pc_236_14", "other"], [0.85, 0.15])
    result = _choice(rng, ["granted", "denied", "pending"], [0.70, 0.10, 0.20])
    out.update(relief_petition="yes", relief_statute=statute, relief_result=result)
    if result == "granted":
        out["relief_date"] = _relief_date(rng, statute, row["disposition_date"], incident)
    return out


def _relief_date(rng: np.random.Generator, statute: str, disposition_date: str, incident: dt.date) -> str:
    in_force = {"pc_236_14": dt.date(2017, 1, 1), "pc_1203_49": dt.date(2015, 1, 1), "pc_1170_21": dt.date(2018, 1, 1),
                "pc_1170_22": dt.date(2018, 1, 1)}.get(statute, incident)
    start = max(in_force, incident, dt.date.fromisoformat(disposition_date) if disposition_date[0] != "-" else incident)
    return (start + dt.timedelta(days=int(rng.integers(0, max(1, (RECORDS_OBTAINED - start).days))))).isoformat()


def _failure_to_appear(rng: np.random.Generator, p: dict, incident: dt.date) -> dict:
    """A second case from the same incident: failure to appear after the citation (PC 853.7), from the court."""
    disp = _choice(rng, ["dismissed", "pending"], [0.6, 0.4])
    return {"person_code": p["person_code"], "report_id": p["report_id"], "outcome_source": "court",
            "charges_filed": "yes", "filed_statutes": "853.7 PC", "nc_referred": "no", "nc_result": "-9",
            "other_diversion": "none", "disposition": disp,
            "disposition_reason": _choice(rng, _REASONS, _REASON_P) if disp == "dismissed" else "-9",
            "disposition_date": ((incident + dt.timedelta(days=int(rng.integers(60, 400)))).isoformat()
                                 if disp == "dismissed" else "-9"),
            "conviction_statutes": "-9", "relief_petition": "-9", "relief_statute": "-9", "relief_result": "-9",
            "relief_date": "-9"}
