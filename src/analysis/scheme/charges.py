"""Charge classification: statute text as coders type it -> normalised statute, category and severity.

The table itself lives in the codebook (``charge_classification``). Parentheses are significant: ``647(f)``
(public intoxication) and ``647f`` (HIV-specific felony) are different statutes. Unknown text is reported,
never guessed.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from functools import lru_cache

from .codebook import Codebook, load_codebook


@dataclass(frozen=True)
class Statute:
    statute: str
    code: str
    section: str
    title: str
    category: str
    buyer_category: str | None
    severity: str

    def category_for(self, role: str | None) -> str:
        """The charge category for a person in ``role`` (647(b) is buying when the person is a buyer)."""
        if role == "buyer" and self.buyer_category:
            return self.buyer_category
        return self.category


_LETTER_DOT = re.compile(r"(?<=[A-Z&])\.")
_SPACES = re.compile(r"\s+")
_SECTION_MARK = re.compile(r"^(§+|SECTION|SEC)\s*")


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
            st = Statute(
                statute=entry["statute"],
                code=code,
                section=section,
                title=entry["title"],
                category=entry["category"],
                buyer_category=entry.get("buyer_category"),
                severity=entry["severity"],
            )
            self.statutes.append(st)
            for sec in [section] + [self._section(a) for a in entry.get("aliases", [])]:
                key = (code, sec)
                if key in self._lookup and self._lookup[key] is not st:
                    raise ValueError(f"charge_classification: {code} {sec} is listed for two statutes")
                self._lookup[key] = st
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

    def classify(self, text: str) -> Statute | None:
        """The statute ``text`` denotes, or None when the table does not know it."""
        if text is None or not str(text).strip():
            return None
        code, section = self._split(str(text))
        if code is None:
            return self._bare.get(section)
        return self._lookup.get((code, section))

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


def classify_statute(text: str, role: str | None = None, codebook: Codebook | None = None) -> dict | None:
    """Classify one statute as written. Returns statute, category, severity and title, or None if unknown."""
    st = charge_table(codebook).classify(text)
    if st is None:
        return None
    return {"statute": st.statute, "category": st.category_for(role), "severity": st.severity, "title": st.title}
