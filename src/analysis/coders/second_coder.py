"""A second, fallible coder for the SYNTHETIC example: the double-coded reports coded again, with errors.

:func:`second_coding` copies the rows of the chosen reports (incidents, their people and their charges) and
changes some values the way a second coder plausibly would, at the per-variable rates below, so the reliability
report has something to find: some variables clearly reliable, some tentative, some unreliable. Every row stays
valid under the validator: codes come from the codebook, and when a parent of skip logic changes its children
are re-coded (-9 when they no longer apply, a plausible answer when they now do). ``coder_id`` is set to the
second coder's id. The same input and seed always give the same output.

Built-in error rates (probability that the second coder's value differs; "applicable" = rows where skip logic
lets the item apply)::

    incidents
      report_year                  0.01  the other year of the same period (the date's year follows)
      incident_date                0.05  1-3 days off, within the report year
      district                     0.02  another district or -8
      location_type                0.08  a neighbouring category (hotel_motel / online_ad / residence, ...)
      sfpd_label                   0.03  trafficking <-> both, prostitution -> both
      investigating_unit           0.05  district_station added or dropped
      origin                       0.20  a confusable origin (sting_sellers <-> operation_buyers, tip <->
                                         victim_came_forward, ...)
      screened_trafficking         0.04  yes <-> no
      trafficking_indicators       none -> one indicator 0.08; else each indicator dropped 0.45 and one
                                         other indicator added 0.45 (empty -> none)
      trafficking_assessment       established -> indicators_not_established 0.35;
                                   indicators_not_established -> none / established 0.40;
                                   none -> indicators_not_established 0.07
      condoms_mentioned            0.04  yes <-> no (children re-coded)
      condoms_confiscated          0.05  of applicable rows: another of yes / no / -8
      condoms_photographed         0     copied (-9 when condoms_mentioned turns no, -8 when it turns yes)
      condoms_evidence             0.50  of applicable rows: yes <-> no (4 in 5), else another of yes / no / -8
      phones_seized                0.03  yes <-> no (count re-coded)
      phones_seized_count          0.08  of applicable rows: one more or one fewer, or -8 <-> a count
      language_other_than_english  0.05  yes <-> no (interpreter items re-coded)
      interpreter_used             0.10  of applicable rows: another of yes / no / -8 (mode re-coded)
      interpreter_mode             0.85  of applicable rows: another mode or -8
      minors_involved              0.03  another of yes / no / -8
    persons
      role                         0.05  seller <-> trafficking_victim, witness <-> other, third_party -> other
                                         (buyers are never re-roled, so ZIP skip logic and charge categories hold)
      age                          0.06  one year off (birthday arithmetic); 0.01 -> -8
      gender_identity              0.04  female <-> trans_female, male <-> trans_female, -8 <-> a code
      race_recorded                0     copied (the letter is read off the report)
      race_ethnicity               0.05  another code or -8
      residence_zip                0.03  of buyers: another ZIP seen in the data, or -8
      limited_english              0.06  another of yes / no / -8 (interpreter item re-coded)
      person_interpreter_used      0.10  of applicable rows: another of yes / no / -8
      outcome                      0.04  cited <-> booked, none <-> referred, -8 -> cited
      person_phone_seized          0.08  another of yes / no / -8
    charges
      respelling                   0.10  the same statute written another way (not a disagreement)
      647(f) <-> 647f              0.30  the classic public-intoxication / HIV-charge confusion
      dropped charge               0.10  of people with two or more charges: the last one left out

On the shipped example (the 198-report double-coding sample, seed 20171115) these give Krippendorff's alpha of
0.99 for report_year and 0.98 for district (reliable); 0.76 for origin and 0.78 for trafficking_assessment
(ordinal; tentative); 0.62 for condoms_evidence, 0.52 for interpreter_mode and 0.42 for trafficking_indicators
(unreliable; per indicator mostly 0.2-0.6). Skip-logic fixes and sampling noise move the others a little
(e.g. investigating_unit: district_station 0.71, and one 647(f)/647f swap makes the HIV charge category 0.66).
tests/test_reliability.py checks these values.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from ..scheme.charges import charge_table
from ..scheme.codebook import NOT_APPLICABLE, NOT_DOCUMENTED, Codebook, load_codebook
from ..scheme.config import StudyConfig, load_study_config
from .synth import DEFAULT_SEED

SECOND_CODER_ID = "synth_b2"
SAMPLE_FRACTION, SAMPLE_MINIMUM = 0.2, 50

#: The per-variable error rates documented above (the probability of a change, before skip-logic fixes);
#: trafficking_assessment uses :data:`ASSESSMENT_RATES`, trafficking_indicators also INDICATOR_NONE_TO_ONE.
ERROR_RATES: dict[str, float] = {
    "report_year": 0.01,
    "incident_date": 0.05,
    "district": 0.02,
    "location_type": 0.08,
    "sfpd_label": 0.03,
    "investigating_unit": 0.05,
    "origin": 0.20,
    "screened_trafficking": 0.04,
    "trafficking_indicators": 0.45,
    "condoms_mentioned": 0.04,
    "condoms_confiscated": 0.05,
    "condoms_evidence": 0.50,
    "phones_seized": 0.03,
    "phones_seized_count": 0.08,
    "language_other_than_english": 0.05,
    "interpreter_used": 0.10,
    "interpreter_mode": 0.85,
    "minors_involved": 0.03,
    "role": 0.05,
    "age": 0.06,
    "gender_identity": 0.04,
    "race_ethnicity": 0.05,
    "residence_zip": 0.03,
    "limited_english": 0.06,
    "person_interpreter_used": 0.10,
    "outcome": 0.04,
    "person_phone_seized": 0.08,
}
INDICATOR_NONE_TO_ONE = 0.08
ASSESSMENT_RATES = {"established": 0.35, "indicators_not_established": 0.40, "none": 0.07}
AGE_TO_MISSING = 0.01
CHARGE_RESPELL, CHARGE_647F_SWAP, CHARGE_DROP = 0.10, 0.30, 0.10

_LOCATION_CONFUSION = {
    "street": ["vehicle", "other"], "vehicle": ["street"], "hotel_motel": ["online_ad", "residence"],
    "online_ad": ["hotel_motel"], "residence": ["hotel_motel", "other"],
    "massage_establishment": ["nail_salon", "other"], "nail_salon": ["massage_establishment"],
    "other": ["street", "residence"], NOT_DOCUMENTED: ["street", "other"],
}
_LABEL_CONFUSION = {"trafficking": ["both"], "both": ["trafficking"], "prostitution": ["both"]}
_ORIGIN_CONFUSION = {
    "sting_sellers": ["operation_buyers", "patrol", "online_ad"],
    "operation_buyers": ["sting_sellers", "online_ad"],
    "massage_inspection": ["tip", "other"],
    "online_ad": ["sting_sellers", "operation_buyers"],
    "tip": ["victim_came_forward", "patrol", "other"],
    "victim_came_forward": ["tip"],
    "patrol": ["sting_sellers", "tip"],
    "other": ["tip", "patrol"],
    NOT_DOCUMENTED: ["tip", "patrol"],
}
_MODES = ["language_line", "in_person", "bilingual_officer", "other", "language_line;bilingual_officer",
          NOT_DOCUMENTED]
_ROLE_CONFUSION = {"seller": ["trafficking_victim", "other"], "trafficking_victim": ["seller"],
                   "witness": ["other"], "other": ["witness"], "third_party": ["other"]}
_GENDER_CONFUSION = {"female": ["trans_female"], "trans_female": ["female", "male"], "male": ["trans_female"],
                     NOT_DOCUMENTED: ["female", "male"]}
_OUTCOME_CONFUSION = {"cited": ["booked"], "booked": ["cited"], "none": ["referred"], "referred": ["none"],
                      NOT_DOCUMENTED: ["cited"]}
_YES_NO_ND = ["yes", "no", NOT_DOCUMENTED]


class _Coder:
    """The second coder's random choices (one generator, drawn in a fixed order)."""

    def __init__(self, seed: int):
        self.rng = np.random.default_rng(seed)

    def hit(self, p: float) -> bool:
        return bool(self.rng.random() < p)

    def pick(self, items: list):
        return items[int(self.rng.integers(0, len(items)))]

    def other(self, current: str, choices: list[str]) -> str:
        rest = [c for c in choices if c != current]
        return self.pick(rest) if rest else current

    def confuse(self, current: str, table: dict[str, list[str]], fallback: list[str]) -> str:
        return self.pick(table[current]) if current in table else self.other(current, fallback)


def _recode_incident(r: dict, c: _Coder, cb: Codebook, cfg: StudyConfig) -> dict:
    """One report as the second coder codes it: the changes below, drawn in a fixed order (changing the order
    changes every second coding)."""
    r = dict(r)
    _recode_when(r, c, cfg)
    _recode_case(r, c, cb)
    _recode_trafficking(r, c, cb)
    _recode_condoms(r, c)
    _recode_phones(r, c)
    _recode_language(r, c)
    if c.hit(ERROR_RATES["minors_involved"]):
        r["minors_involved"] = c.other(r["minors_involved"], _YES_NO_ND)
    return r


def _recode_when(r: dict, c: _Coder, cfg: StudyConfig) -> None:
    """The report year (the other year of the same period; the date's year follows) and the date."""
    e = ERROR_RATES
    if c.hit(e["report_year"]):
        period = cfg.year_to_period[int(r["report_year"])]
        years = [y for p in cfg.periods if p.code == period for y in p.years if y != int(r["report_year"])]
        if years:
            new = c.pick(years)
            r["report_year"] = str(new)
            if r["incident_date"] not in (NOT_DOCUMENTED, NOT_APPLICABLE):
                d = dt.date.fromisoformat(r["incident_date"])
                day = min(d.day, 28) if d.month == 2 else d.day
                r["incident_date"] = dt.date(new, d.month, day).isoformat()
    if c.hit(e["incident_date"]) and r["incident_date"] not in (NOT_DOCUMENTED, NOT_APPLICABLE):
        d = dt.date.fromisoformat(r["incident_date"])
        shift = int(c.rng.integers(1, 4)) * (1 if c.hit(0.5) else -1)
        new = d + dt.timedelta(days=shift)
        if new.year != d.year:
            new = d - dt.timedelta(days=shift)
        r["incident_date"] = new.isoformat()


def _recode_case(r: dict, c: _Coder, cb: Codebook) -> None:
    """District, place, SFPD's label, the units, how the case began and screening."""
    e = ERROR_RATES
    sep = cb.separator
    var = cb.variable("incidents", "district")
    if c.hit(e["district"]):
        r["district"] = c.other(r["district"], list(var.code_values) + [NOT_DOCUMENTED])
    if c.hit(e["location_type"]):
        r["location_type"] = c.confuse(r["location_type"], _LOCATION_CONFUSION,
                                       list(cb.variable("incidents", "location_type").code_values))
    if c.hit(e["sfpd_label"]):
        r["sfpd_label"] = c.confuse(r["sfpd_label"], _LABEL_CONFUSION, ["prostitution"])
    if c.hit(e["investigating_unit"]):
        units_var = cb.variable("incidents", "investigating_unit")
        toks = [] if r["investigating_unit"] in (NOT_DOCUMENTED,) else r["investigating_unit"].split(sep)
        if "district_station" in toks and len(toks) > 1:
            toks.remove("district_station")
        elif "district_station" not in toks:
            toks.append("district_station")
        else:  # district station alone: the coder reads the header's unit as well
            toks.append(c.pick(["vice", "svu"]))
        order = {k: i for i, k in enumerate(units_var.code_values)}
        r["investigating_unit"] = sep.join(sorted(set(toks), key=order.__getitem__))
    if c.hit(e["origin"]):
        r["origin"] = c.confuse(r["origin"], _ORIGIN_CONFUSION, ["tip"])
    if c.hit(e["screened_trafficking"]):
        r["screened_trafficking"] = c.other(r["screened_trafficking"], ["yes", "no"])


def _recode_trafficking(r: dict, c: _Coder, cb: Codebook) -> None:
    """The trafficking indicators (the least reliable judgement) and the assessment."""
    e = ERROR_RATES
    sep = cb.separator
    ind_var = cb.variable("incidents", "trafficking_indicators")
    all_ind = [k for k in ind_var.code_values if k != "none"]
    if r["trafficking_indicators"] == "none":
        if c.hit(INDICATOR_NONE_TO_ONE):
            r["trafficking_indicators"] = c.pick(all_ind)
    else:
        toks = r["trafficking_indicators"].split(sep)
        kept = [t for t in toks if not c.hit(e["trafficking_indicators"])]
        if c.hit(e["trafficking_indicators"]):
            kept.append(c.pick([k for k in all_ind if k not in toks]))
        order = {k: i for i, k in enumerate(ind_var.code_values)}
        r["trafficking_indicators"] = sep.join(sorted(set(kept), key=order.__getitem__)) or "none"
    a = r["trafficking_assessment"]
    if c.hit(ASSESSMENT_RATES.get(a, 0.0)):
        r["trafficking_assessment"] = {"established": "indicators_not_established",
                                       "none": "indicators_not_established"}.get(a) or c.pick(["none", "established"])


def _recode_condoms(r: dict, c: _Coder) -> None:
    """Condoms: the parent first, then its children."""
    e = ERROR_RATES
    if c.hit(e["condoms_mentioned"]):
        if r["condoms_mentioned"] == "yes":
            r["condoms_mentioned"] = "no"
            r["condoms_confiscated"] = r["condoms_photographed"] = r["condoms_evidence"] = NOT_APPLICABLE
        else:
            r["condoms_mentioned"] = "yes"
            r["condoms_confiscated"] = c.pick(_YES_NO_ND)
            r["condoms_photographed"] = NOT_DOCUMENTED  # no draw: the stream stays as before the item existed
            r["condoms_evidence"] = c.pick(_YES_NO_ND)
    if r["condoms_mentioned"] == "yes":
        if c.hit(e["condoms_confiscated"]):
            r["condoms_confiscated"] = c.other(r["condoms_confiscated"], _YES_NO_ND)
        if c.hit(e["condoms_evidence"]):
            cur = r["condoms_evidence"]
            r["condoms_evidence"] = ("no" if cur == "yes" else "yes") if c.hit(0.8) else c.other(cur, _YES_NO_ND)


def _recode_phones(r: dict, c: _Coder) -> None:
    """Phones seized, and how many."""
    e = ERROR_RATES
    if c.hit(e["phones_seized"]):
        if r["phones_seized"] == "yes":
            r["phones_seized"], r["phones_seized_count"] = "no", NOT_APPLICABLE
        else:
            r["phones_seized"], r["phones_seized_count"] = "yes", str(int(c.rng.integers(1, 4)))
    if r["phones_seized"] == "yes" and c.hit(e["phones_seized_count"]):
        cur = r["phones_seized_count"]
        if cur == NOT_DOCUMENTED:
            r["phones_seized_count"] = "1"
        elif c.hit(0.2):
            r["phones_seized_count"] = NOT_DOCUMENTED
        else:
            n = int(cur)
            r["phones_seized_count"] = str(n + 1 if n == 1 or c.hit(0.5) else n - 1)


def _recode_language(r: dict, c: _Coder) -> None:
    """Language access: the parent, the child (interpreter used) and the grandchild (its mode)."""
    e = ERROR_RATES
    if c.hit(e["language_other_than_english"]):
        if r["language_other_than_english"] == "yes":
            r["language_other_than_english"] = "no"
            r["interpreter_used"] = r["interpreter_mode"] = NOT_APPLICABLE
        else:
            r["language_other_than_english"] = "yes"
            r["interpreter_used"] = c.pick(_YES_NO_ND)
            r["interpreter_mode"] = c.pick(_MODES[:3]) if r["interpreter_used"] == "yes" else NOT_APPLICABLE
    if r["language_other_than_english"] == "yes" and c.hit(e["interpreter_used"]):
        r["interpreter_used"] = c.other(r["interpreter_used"], _YES_NO_ND)
        if r["interpreter_used"] != "yes":
            r["interpreter_mode"] = NOT_APPLICABLE
        elif r["interpreter_mode"] == NOT_APPLICABLE:
            r["interpreter_mode"] = c.pick(_MODES[:3])
    if r["interpreter_used"] == "yes" and c.hit(e["interpreter_mode"]):
        r["interpreter_mode"] = c.other(r["interpreter_mode"], _MODES)


def _recode_person(r: dict, c: _Coder, cb: Codebook, zips: list[str]) -> dict:
    r = dict(r)
    e = ERROR_RATES
    if r["role"] != "buyer" and c.hit(e["role"]):
        r["role"] = c.confuse(r["role"], _ROLE_CONFUSION, ["other"])
    age_var = cb.variable("persons", "age")
    if r["age"] != NOT_DOCUMENTED:
        if c.hit(AGE_TO_MISSING):
            r["age"] = NOT_DOCUMENTED
        elif c.hit(e["age"]):
            n = int(r["age"])
            new = n + (1 if c.hit(0.5) else -1)
            if not age_var.min <= new <= age_var.max:
                new = n - (new - n)
            r["age"] = str(new)
    if c.hit(e["gender_identity"]):
        r["gender_identity"] = c.confuse(r["gender_identity"], _GENDER_CONFUSION,
                                         list(cb.variable("persons", "gender_identity").code_values))
    if c.hit(e["race_ethnicity"]):
        r["race_ethnicity"] = c.other(r["race_ethnicity"],
                                      list(cb.variable("persons", "race_ethnicity").code_values) + [NOT_DOCUMENTED])
    if r["role"] == "buyer" and c.hit(e["residence_zip"]):
        r["residence_zip"] = c.other(r["residence_zip"], zips + [NOT_DOCUMENTED])
    if c.hit(e["limited_english"]):
        r["limited_english"] = c.other(r["limited_english"], _YES_NO_ND)
        if r["limited_english"] == "yes":
            r["person_interpreter_used"] = c.pick(_YES_NO_ND)
        else:
            r["person_interpreter_used"] = NOT_APPLICABLE
    if r["limited_english"] == "yes" and c.hit(e["person_interpreter_used"]):
        r["person_interpreter_used"] = c.other(r["person_interpreter_used"], _YES_NO_ND)
    if c.hit(e["outcome"]):
        r["outcome"] = c.confuse(r["outcome"], _OUTCOME_CONFUSION, ["cited"])
    if c.hit(e["person_phone_seized"]):
        r["person_phone_seized"] = c.other(r["person_phone_seized"], _YES_NO_ND)
    return r


def _recode_charges(rows: list[dict], c: _Coder, cb: Codebook) -> list[dict]:
    table = charge_table(cb)
    out = []
    for r in rows:
        r = dict(r)
        st = table.classify(r["statute"])
        if st is not None and st.statute in ("PC 647(f)", "PC 647f") and c.hit(CHARGE_647F_SWAP):
            r["statute"] = "647f PC" if st.statute == "PC 647(f)" else "647(f) PC"
        elif st is not None and c.hit(CHARGE_RESPELL):
            code, section = st.statute.split(" ", 1)
            written = f"{section} {code}"
            r["statute"] = written if written != r["statute"] else st.statute
        out.append(r)
    if len(out) >= 2 and c.hit(CHARGE_DROP):
        out = out[:-1]
    return out


def _text(df: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    return df[columns].fillna("").astype(str)


def second_coding(
    tables: dict[str, pd.DataFrame],
    report_ids: list[str],
    seed: int = DEFAULT_SEED,
    coder_id: str = SECOND_CODER_ID,
    codebook: Codebook | None = None,
    config: StudyConfig | None = None,
) -> dict[str, pd.DataFrame]:
    """The reports ``report_ids`` (with their people and charges) coded again by a fallible second coder.

    ``tables`` are coded text frames (``analysis.coders.synth.generate`` output or validated ``.valid`` frames; a
    ``_row`` column is ignored). Returns the three tables as text frames with the codebook's columns, rows in
    the input order, every row valid. Deterministic for a given ``seed``.
    """
    cb = codebook or load_codebook()
    cfg = config or load_study_config()
    wanted = set(map(str, report_ids))
    cols = {t: cb.table(t).columns for t in ("incidents", "persons", "charges")}
    inc = _text(tables["incidents"], cols["incidents"])
    per = _text(tables["persons"], cols["persons"])
    chg = _text(tables["charges"], cols["charges"])
    missing = sorted(wanted - set(inc["report_id"]))
    if missing:
        raise ValueError(f"{len(missing)} report id(s) are not in the incidents table: {', '.join(missing[:10])}")
    inc = inc[inc["report_id"].isin(wanted)]
    per = per[per["report_id"].isin(wanted)]
    chg = chg[chg["report_id"].isin(wanted)]
    zips = sorted({z for z in tables["persons"]["residence_zip"].astype(str)
                   if z not in (NOT_DOCUMENTED, NOT_APPLICABLE, "")})
    c = _Coder(seed)
    persons_of = {rid: g for rid, g in per.groupby("report_id", sort=False)}
    charges_of = {p: g for p, g in chg.groupby("person_code", sort=False)}
    out_inc, out_per, out_chg = [], [], []
    for r in inc.to_dict("records"):
        new = _recode_incident(r, c, cb, cfg)
        new["coder_id"] = coder_id
        out_inc.append(new)
        people = persons_of.get(r["report_id"])
        if people is None:
            continue
        for p in people.to_dict("records"):
            out_per.append(_recode_person(p, c, cb, zips))
            rows = charges_of.get(p["person_code"])
            if rows is not None:
                out_chg.extend(_recode_charges(rows.to_dict("records"), c, cb))
    return {
        "incidents": pd.DataFrame(out_inc, columns=cols["incidents"]),
        "persons": pd.DataFrame(out_per, columns=cols["persons"]),
        "charges": pd.DataFrame(out_chg, columns=cols["charges"]),
    }


def second_coder_example(
    tables: dict[str, pd.DataFrame],
    seed: int = DEFAULT_SEED,
    fraction: float = SAMPLE_FRACTION,
    minimum: int = SAMPLE_MINIMUM,
    codebook: Codebook | None = None,
    config: StudyConfig | None = None,
) -> dict[str, pd.DataFrame]:
    """The shipped example's second coding: the double-coding sample of ``tables`` (``fraction``, ``minimum``,
    ``seed``) re-coded by :func:`second_coding` with the same ``seed``. ``tables`` is the main example
    (``analysis.coders.synth.generate(989, 20171115)``); the result goes to data/raw/example/second_coder/."""
    from .reliability import double_coding_sample

    cfg = config or load_study_config()
    ids = double_coding_sample(tables["incidents"], fraction=fraction, minimum=minimum, seed=seed, config=cfg)
    return second_coding(tables, ids, seed=seed, codebook=codebook, config=cfg)
