"""Race as SFPD recorded it: which list of race letters was in use on a report's date, and how a letter is read.

The lists live in the codebook (``race_recording``; letters are stored in lower case, as REDCap needs raw values,
and shown in upper case); the day SFPD changed from its own few categories to the
California DOJ's one-letter list is a setting (``race_recording_change_date`` in the study configuration: the month,
September 2012, is documented, the day is not). A person's ``race_recorded`` is the letter as written and
``race_ethnicity`` the coder's reading; the two periods' race figures are not directly comparable.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from .codebook import Codebook
from .config import StudyConfig


@dataclass(frozen=True)
class RaceList:
    """One list of race letters: ``readings`` letter -> race_ethnicity code (or -8), ``notes`` letter -> caveat."""

    name: str
    label: str
    in_use: str  # before_change | from_change
    confirmed: bool
    source: str
    readings: tuple[tuple[str, str], ...]
    notes: tuple[tuple[str, str], ...]

    @property
    def letters(self) -> tuple[str, ...]:
        return tuple(letter for letter, _ in self.readings)

    def reading(self, letter: str) -> str | None:
        return dict(self.readings).get(letter)


def race_lists(cb: Codebook) -> dict[str, RaceList]:
    """The codebook's race lists by when they are in use (``before_change``, ``from_change``)."""
    out = {}
    for lst in cb.race_recording.get("lists", []):
        out[str(lst["in_use"])] = RaceList(
            name=str(lst["name"]), label=str(lst["label"]), in_use=str(lst["in_use"]),
            confirmed=bool(lst.get("confirmed", False)), source=" ".join(str(lst.get("source", "")).split()),
            readings=tuple((str(e["letter"]), str(e["reading"])) for e in lst["letters"]),
            notes=tuple((str(e["letter"]), str(e["note"])) for e in lst["letters"] if e.get("note")),
        )
    return out


def list_in_use(day: dt.date, cfg: StudyConfig, cb: Codebook) -> RaceList:
    """The list SFPD used on ``day``: the older one before the configured change date, the DOJ's from it."""
    lists = race_lists(cb)
    return lists["before_change" if day < cfg.race_recording_change_date else "from_change"]


def letter_reading(letter: str, day: dt.date, cfg: StudyConfig, cb: Codebook) -> str | None:
    """How ``letter`` on a report dated ``day`` is read (a race_ethnicity code or -8); None when the letter is not
    in the list in use then (the coder reads the report)."""
    return list_in_use(day, cfg, cb).reading(letter)


def letter_not_in_use(letter: str, day: dt.date, cfg: StudyConfig, cb: Codebook) -> str:
    """The warning for a letter not in the list in use on ``day`` ('' when it is in it)."""
    lst = list_in_use(day, cfg, cb)
    if letter in lst.letters:
        return ""
    name = cb.variable("persons", "race_recorded").labels.get(letter, "?").split(": ", 1)[-1]
    change = cfg.race_recording_change_date
    when = "before" if day < change else "from"
    unconfirmed = "" if cfg.race_recording_change_date_confirmed else ", the day unconfirmed"
    return (f"race letter '{letter.upper()}' ({name}) is not in the list SFPD used on {day.isoformat()} "
            f"({lst.label}: {', '.join(x.upper() for x in lst.letters)}; in use {when} {change:%-d %B %Y}"
            f"{unconfirmed}). Check the report: keep the letter as written and code race_ethnicity from what the "
            "report supports.")
