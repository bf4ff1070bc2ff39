"""Study configuration and project paths: the one place settings and locations come from."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import yaml

from .yamltext import load_yaml


@dataclass(frozen=True)
class Period:
    code: str
    label: str
    unit: str
    years: tuple[int, ...]


@dataclass(frozen=True)
class PolicyDate:
    """A law or policy that changed on ``date`` (``confirmed``: the day is documented), for chart annotations."""

    code: str
    date: dt.date
    confirmed: bool
    short: str
    label: str
    source: str
    affects: tuple[str, ...]


@dataclass(frozen=True)
class StudyConfig:
    study: str
    periods: tuple[Period, ...]
    unit_change_date: dt.date
    unit_change_date_confirmed: bool
    tay_age_range: tuple[int, int]
    minor_age_below: int
    age_group_bounds: tuple[int, ...]
    suppression_threshold: int
    income_breaks: tuple[float, ...]
    income_codes: tuple[str, ...]
    income_labels: tuple[str, ...]
    source: str
    race_recording_change_date: dt.date = dt.date(2012, 9, 1)
    race_recording_change_date_confirmed: bool = False
    policy_dates: tuple[PolicyDate, ...] = ()
    meeting: str = ""  # the meeting the pack is for (its name), and its date as text
    meeting_date: str = ""
    bootstrap_resamples: int = 1000  # the report's, the tables' and the notebooks' bootstrap resamples
    bootstrap_seed: int = 20171115  # and their seed

    @property
    def sampled_years(self) -> tuple[int, ...]:
        return tuple(sorted(y for p in self.periods for y in p.years))

    @property
    def year_to_period(self) -> dict[int, str]:
        return {y: p.code for p in self.periods for y in p.years}

    @property
    def period_codes(self) -> tuple[str, ...]:
        return tuple(p.code for p in self.periods)

    @property
    def period_labels(self) -> dict[str, str]:
        return {p.code: p.label for p in self.periods}

    def policy_dates_for(self, chart: str) -> tuple[PolicyDate, ...]:
        """The policy dates that affect ``chart`` (a chart name), in date order."""
        return tuple(sorted((d for d in self.policy_dates if chart in d.affects), key=lambda d: d.date))


class ConfigError(ValueError):
    """The study configuration file is unusable."""


def default_config_path() -> Path:
    return Path(str(resources.files("analysis.scheme") / "study.yaml"))


def load_study_config(path: str | os.PathLike | None = None) -> StudyConfig:
    """Read the study configuration (the package default unless ``path`` is given)."""
    p = Path(path) if path else default_config_path()
    try:
        doc = load_yaml(p.read_text(encoding="utf-8"))
        periods = tuple(
            Period(str(q["code"]), str(q["label"]), str(q.get("unit", "")), tuple(int(y) for y in q["years"]))
            for q in doc["periods"]
        )
        tay = tuple(int(a) for a in doc["tay_age_range"])
        strata = doc["income_strata"]
        cfg = StudyConfig(
            study=str(doc.get("study", "")),
            periods=periods,
            unit_change_date=dt.date.fromisoformat(str(doc["unit_change_date"])),
            unit_change_date_confirmed=bool(doc.get("unit_change_date_confirmed", False)),
            tay_age_range=(tay[0], tay[1]),
            minor_age_below=int(doc.get("minor_age_below", 18)),
            age_group_bounds=tuple(int(b) for b in doc["age_group_bounds"]),
            suppression_threshold=int(doc["suppression_threshold"]),
            income_breaks=tuple(float(b) for b in strata["breaks"]),
            income_codes=tuple(strata["codes"]),
            income_labels=tuple(strata["labels"]),
            source=str(p),
            race_recording_change_date=dt.date.fromisoformat(str(doc["race_recording_change_date"])),
            race_recording_change_date_confirmed=bool(doc.get("race_recording_change_date_confirmed", False)),
            policy_dates=tuple(
                PolicyDate(str(d["code"]), dt.date.fromisoformat(str(d["date"])), bool(d.get("confirmed", False)),
                           str(d["short"]), str(d["label"]), str(d.get("source", "")),
                           tuple(str(a) for a in d.get("affects", []) or []))
                for d in doc.get("policy_dates", []) or []
            ),
            meeting=str((doc.get("meeting") or {}).get("name", "")),
            meeting_date=str((doc.get("meeting") or {}).get("date", "")),
            bootstrap_resamples=int((doc.get("bootstrap") or {}).get("resamples", 1000)),
            bootstrap_seed=int((doc.get("bootstrap") or {}).get("seed", 20171115)),
        )
    except FileNotFoundError:
        raise ConfigError(f"{p}: study configuration file not found") from None
    except (KeyError, TypeError, ValueError, yaml.YAMLError) as exc:
        raise ConfigError(f"{p}: study configuration is not valid ({type(exc).__name__}: {exc})") from None
    years = [y for q in periods for y in q.years]
    if len(years) != len(set(years)):
        raise ConfigError(f"{p}: a year belongs to more than one period")
    if cfg.tay_age_range[0] > cfg.tay_age_range[1]:
        raise ConfigError(f"{p}: tay_age_range must be [low, high]")
    if len(cfg.income_codes) != len(cfg.income_breaks) + 1 or len(cfg.income_labels) != len(cfg.income_codes):
        raise ConfigError(f"{p}: income_strata needs one more code and label than breaks")
    if cfg.suppression_threshold < 1:
        raise ConfigError(f"{p}: suppression_threshold must be at least 1")
    if cfg.bootstrap_resamples < 1 or cfg.bootstrap_seed < 0:
        raise ConfigError(f"{p}: bootstrap resamples must be at least 1 and the seed a whole number of at least 0")
    return cfg


def project_root() -> Path:
    """The checkout's root: $ANALYSIS_PROJECT_ROOT, else the folder above src/ holding pyproject.toml."""
    env = os.environ.get("ANALYSIS_PROJECT_ROOT")
    if env:
        return Path(env)
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "pyproject.toml").exists() and (parent / "src" / "analysis").is_dir():
            return parent
    return Path.cwd()


@dataclass(frozen=True)
class Paths:
    root: Path

    @property
    def raw(self) -> Path:
        return self.root / "data" / "raw"

    @property
    def example(self) -> Path:
        return self.raw / "example"

    @property
    def derived(self) -> Path:
        return self.root / "data" / "derived"

    @property
    def reports(self) -> Path:
        return self.root / "reports"

    @property
    def shared_sfpd(self) -> Path:
        env = os.environ.get("ANALYSIS_SFPD_DIR")
        return Path(env) if env else self.root.parent / "shared" / "data" / "sfpd"


def paths() -> Paths:
    return Paths(project_root())


def shown_path(path: str | os.PathLike, root: str | os.PathLike | None = None) -> str:
    """How a local path is written into an output file: relative to the project root when it lies inside it,
    otherwise just its name. No report file records an absolute local path (a user's home, a temporary
    folder, the checkout's location)."""
    p = Path(path).resolve()
    base = Path(root).resolve() if root is not None else project_root().resolve()
    try:
        return p.relative_to(base).as_posix() or "."
    except ValueError:
        return p.name
