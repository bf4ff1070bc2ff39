"""The published statements of this study (``published.yaml``), each with its source and what it claims: the data
the headline analysis (:mod:`analysis.tables.headline`) tests."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from .yamltext import load_yaml

CLAIMS = ("higher", "lower", "no_change", "explained_by", "none_from")


@dataclass(frozen=True)
class Statement:
    id: str
    statement: str
    source: str
    claim: str
    estimate: str
    origins: tuple[str, ...] = ()


def published_path() -> Path:
    return Path(str(resources.files("analysis.scheme") / "published.yaml"))


def load_published(path: str | Path | None = None) -> tuple[Statement, ...]:
    """The published statements, in order (the package's own unless ``path`` is given)."""
    doc = load_yaml(Path(path or published_path()).read_text(encoding="utf-8"))
    out = []
    for s in doc["statements"]:
        st = Statement(id=str(s["id"]), statement=" ".join(str(s["statement"]).split()),
                       source=str(s["source"]), claim=str(s["claim"]), estimate=str(s["estimate"]),
                       origins=tuple(str(o) for o in s.get("origins", []) or []))
        if st.claim not in CLAIMS:
            raise ValueError(f"{path or published_path()}: statement {st.id!r} has unknown claim {st.claim!r}; "
                             f"use one of {', '.join(CLAIMS)}")
        out.append(st)
    return tuple(out)
