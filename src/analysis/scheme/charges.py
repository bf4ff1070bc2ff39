"""Charge classification: statute text as coders type it -> normalised statute, category and severity.

The table itself lives in the codebook (``charge_classification``). Parentheses are significant: ``647(f)``
(public intoxication) and ``647f`` (HIV-specific felony) are different statutes. Unknown text is reported,
never guessed.

Some rules depend on the person and the date (the codebook says which, with the law that changed them):

* the category can depend on the role of the person charged (``by_role``: PC 647(b) is buying for a buyer before
  the 2017 split; PC 315 is selling for a resident coded as selling sex);
* a statute may exist only from or until a date (``in_force``: 647(b)(1)-(3) from 1 January 2017, SB 420), and its
  severity or title may change on a date (``changes``: H&S 11350 a misdemeanour from 5 November 2014,
  Proposition 47). The date of a charge is the incident date (:func:`charge_date`);
* an attempt (``664/647(b)``) is the attempted statute, marked ``attempt``;
* San Francisco's own codes (``any_section``) accept every section, as category other unless listed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import re
from dataclasses import dataclass
from functools import lru_cache

from .codebook import Codebook, load_codebook


@dataclass(frozen=True)
class Change:
    """From ``date`` on, the statute's severity and/or title are these (None: unchanged), because of ``by``."""

    date: dt.date
    by: str
    severity: str | None = None
    title: str | None = None


@dataclass(frozen=True)
class Statute:
    statute: str
    code: str
    section: str
    title: str
    category: str
    severity: str
    by_role: tuple[tuple[str, str], ...] = ()
    in_force_from: dt.date | None = None
    in_force_until: dt.date | None = None  # the day it was repealed (no longer in force)
    in_force_by: str = ""
    changes: tuple[Change, ...] = ()
    attempt: bool = False

    def category_for(self, role: str | None) -> str:
        """The charge category for a person in ``role`` (647(b) is buying for a buyer; PC 315 selling for a
        resident coded as selling sex)."""
        return dict(self.by_role).get(role, self.category) if role else self.category

    def in_force_on(self, date: dt.date | None) -> bool:
        """Whether the statute existed on ``date`` (True when the date is unknown)."""
        if date is None:
            return True
        return not ((self.in_force_from and date < self.in_force_from)
                    or (self.in_force_until and date >= self.in_force_until))

    def not_in_force_text(self) -> str:
        """Why a charge dated outside the statute's life is wrong, in words."""
        span = (f"exists only from {_day(self.in_force_from)}" if self.in_force_from else "")
        if self.in_force_until:
            span += (" and " if span else "") + f"was repealed on {_day(self.in_force_until)}"
        return f"{self.statute} {span} ({self.in_force_by})"

    def _on(self, date: dt.date | None, what: str):
        value = getattr(self, what)
        for ch in self.changes:
            if date is not None and date >= ch.date and getattr(ch, what) is not None:
                value = getattr(ch, what)
        return value

    def severity_on(self, date: dt.date | None) -> str:
        """The severity of a charge dated ``date`` (the statute's first severity when the date is unknown)."""
        return self._on(date, "severity")

    def title_on(self, date: dt.date | None) -> str:
        return self._on(date, "title")

    @property
    def buyer_category(self) -> str | None:
        """The category for a buyer when it differs from :attr:`category` (kept for older callers)."""
        return dict(self.by_role).get("buyer")


def _day(d: dt.date) -> str:
    return f"{d.day} {d:%B %Y}"


def _date(value) -> dt.date | None:
    if value in (None, ""):
        return None
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def charge_date(incident_date, report_year) -> dt.date | None:
    """The date a charge is judged by: the incident date, or 1 July of the report year when the date is not
    documented (the middle of the year; the sampled years are whole years), or None when neither is known."""
    if isinstance(incident_date, dt.date):
        return incident_date if not isinstance(incident_date, dt.datetime) else incident_date.date()
    text = "" if incident_date is None else str(incident_date)
    if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            pass
    year = "" if report_year is None else str(report_year)
    if re.fullmatch(r"[0-9]{4}", year):
        return dt.date(int(year), 7, 1)
    return None


_LETTER_DOT = re.compile(r"(?<=[A-Z&])\.")
_SPACES = re.compile(r"\s+")
_SECTION_MARK = re.compile(r"^(§+|SECTION|SEC)\s*")
_ANY_SECTION = re.compile(r"^[0-9]+(\.[0-9]+)?[A-Z]?(\([A-Z0-9]+\))*$")


class ChargeTable:
    """Look-up of statutes, built from the codebook's ``charge_classification``."""

    def __init__(self, codebook: Codebook):
        cc = codebook.charge_classification
        self.categories: dict[str, str] = {c["code"]: c["label"] for c in cc["categories"]}
        self.severities: dict[str, str] = {s["code"]: s["label"] for s in cc["severities"]}
        spellings = []
        for code, spec in cc["codes"].items():
            for s in spec["spellings"]:
                spellings.append((self._clean(s), code))
        # longest spelling first so 'HEALTH AND SAFETY CODE' wins over 'HS'
        spellings.sort(key=lambda t: -len(t[0]))
        alts = "|".join(re.escape(s) for s, _ in spellings)
        self._spelling_to_code = dict(spellings)
        self._prefix = re.compile(rf"^({alts})(?:\s+|(?=\d))")
        self._suffix = re.compile(rf"(?:\s+|(?<=\)))({alts})$")
        self.statutes: list[Statute] = []
        self._lookup: dict[tuple[str, str], Statute] = {}
        for entry in cc["statutes"]:
            code, section = self._split(entry["statute"])
            if code is None:
                raise ValueError(f"charge_classification: {entry['statute']!r} needs a code name (PC, HS, ...)")
            st = self._statute(entry, code, section)
            self.statutes.append(st)
            for sec in [section] + [self._section(a) for a in entry.get("aliases", [])]:
                key = (code, sec)
                if key in self._lookup and self._lookup[key] is not st:
                    raise ValueError(f"charge_classification: {code} {sec} is listed for two statutes")
                self._lookup[key] = st
        self._any_section: dict[str, dict] = {code: spec["any_section"] for code, spec in cc["codes"].items()
                                              if spec.get("any_section")}
        att = cc.get("attempt") or {}
        self._attempt = (att.get("code", "PC"), str(att.get("section", "664")), att.get("title", "Attempt"))
        # a section written with no code name: Penal Code first, then a code where the section is unique
        self._bare: dict[str, Statute] = {}
        by_section: dict[str, list[Statute]] = {}
        for (code, sec), st in self._lookup.items():
            by_section.setdefault(sec, []).append(st)
        for sec, sts in by_section.items():
            pc = [s for s in sts if s.code == "PC"]
            if pc:
                self._bare[sec] = pc[0]
            elif len({s.statute for s in sts}) == 1:
                self._bare[sec] = sts[0]

    @staticmethod
    def _clean(text: str) -> str:
        s = str(text).strip().upper()
        s = _LETTER_DOT.sub("", s)
        return _SPACES.sub(" ", s).strip()

    @staticmethod
    def _section(text: str) -> str:
        s = ChargeTable._clean(text)
        s = _SECTION_MARK.sub("", s)
        s = re.sub(r"\s*\(\s*", "(", s)
        s = re.sub(r"\s*\)", ")", s)
        return s.strip()

    def _split(self, text: str) -> tuple[str | None, str]:
        s = self._clean(text)
        m = self._prefix.match(s)
        if m:
            return self._spelling_to_code[m.group(1)], self._section(s[m.end():])
        m = self._suffix.search(s)
        if m:
            return self._spelling_to_code[m.group(1)], self._section(s[: m.start()])
        return None, self._section(s)

    @staticmethod
    def _statute(entry: dict, code: str, section: str) -> Statute:
        force = entry.get("in_force") or {}
        changes = tuple(sorted((Change(_date(c["date"]), c.get("by", ""), c.get("severity"), c.get("title"))
                                for c in entry.get("changes") or []), key=lambda c: c.date))
        return Statute(
            statute=entry["statute"],
            code=code,
            section=section,
            title=entry["title"],
            category=entry["category"],
            severity=entry["severity"],
            by_role=tuple(sorted((entry.get("by_role") or {}).items())),
            in_force_from=_date(force.get("from")),
            in_force_until=_date(force.get("until")),
            in_force_by=str(force.get("by", "")),
            changes=changes,
        )

    def _one(self, text: str, default_code: str | None = None) -> Statute | None:
        code, section = self._split(text)
        code = code or default_code
        if code is None:
            return self._bare.get(section)
        st = self._lookup.get((code, section))
        if st is None and code in self._any_section and _ANY_SECTION.match(section):
            spec = self._any_section[code]
            st = Statute(statute=f"{code} {section.lower()}", code=code, section=section, title=spec["title"],
                         category=spec["category"], severity=spec["severity"])
        return st

    def classify(self, text: str) -> Statute | None:
        """The statute ``text`` denotes, or None when the table does not know it. An attempt (``664/647(b)``)
        is the attempted statute with ``attempt`` set."""
        if text is None or not str(text).strip():
            return None
        text = str(text)
        parts = [p for p in self._clean(text).split("/")]
        if len(parts) == 2 and all(p.strip() for p in parts):
            return self._attempted(parts)
        return self._one(text)

    def _attempted(self, parts: list[str]) -> Statute | None:
        """'664/647(b) PC', 'PC 664/236.1', '647(b)/664': the attempt of the other statute (None otherwise)."""
        att_code, att_section, att_title = self._attempt
        for k in (0, 1):
            code, section = self._split(parts[k])
            if section == att_section and code in (None, att_code):
                other = parts[1 - k]
                target = self._one(other, default_code=code or self._split(other)[0] or att_code)
                if target is None or target.attempt:
                    return None
                shown = target.statute.split(" ", 1)[1] if target.code == att_code else target.statute
                return dataclasses.replace(target, statute=f"{att_code} {att_section}/{shown}",
                                           title=f"{att_title}: {target.title}", attempt=True,
                                           changes=tuple(dataclasses.replace(c, title=(f"{att_title}: {c.title}"
                                                                                        if c.title else None))
                                                         for c in target.changes))
        return None

    def suggest(self, text: str, n: int = 3) -> list[str]:
        """Statutes whose written form is close to ``text`` (for error messages; never applied)."""
        code, section = self._split(str(text))
        squeezed = section.replace(" ", "")
        candidates = {f"{c} {s}": st.statute for (c, s), st in self._lookup.items()}
        names = list(candidates)
        target = f"{code or 'PC'} {squeezed}"
        out = []
        for name in difflib.get_close_matches(target, names, n=n * 2, cutoff=0.75):
            if candidates[name] not in out:
                out.append(candidates[name])
        # '647 f' -> both readings, since the space hides whether parentheses were meant
        for st in self.statutes:
            if st.section.replace("(", "").replace(")", "") == squeezed and st.statute not in out:
                out.append(st.statute)
        return out[:n]


@lru_cache(maxsize=4)
def _charge_table(codebook: Codebook) -> ChargeTable:
    return ChargeTable(codebook)


def charge_table(codebook: Codebook | None = None) -> ChargeTable:
    """The charge table of ``codebook`` (the package codebook by default), built once."""
    return _charge_table(codebook or load_codebook())


def classify_statute(text: str, role: str | None = None, codebook: Codebook | None = None,
                     date: dt.date | str | None = None) -> dict | None:
    """Classify one statute as written, for a person in ``role`` charged on ``date`` (the incident date).
    Returns statute, category, severity, title, attempt and in_force (on that date), or None if unknown."""
    st = charge_table(codebook).classify(text)
    if st is None:
        return None
    day = _date(date)
    return {"statute": st.statute, "category": st.category_for(role), "severity": st.severity_on(day),
            "title": st.title_on(day), "attempt": st.attempt, "in_force": st.in_force_on(day)}
