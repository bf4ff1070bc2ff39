"""Shared fixtures: the codebook, the study configuration, and small synthetic coded data."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from analysis.codebook import load_codebook
from analysis.config import load_study_config, paths
from analysis.synth import generate

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "data" / "raw" / "example"


@pytest.fixture(scope="session")
def cb():
    return load_codebook()


@pytest.fixture(scope="session")
def cfg():
    return load_study_config()


@pytest.fixture(scope="session")
def _small_frames():
    return generate(n_reports=24, seed=7)


@pytest.fixture
def frames(_small_frames):
    """A fresh copy of a small synthetic coding (24 reports) as text frames, safe to modify."""
    return {k: v.copy() for k, v in _small_frames.items()}


def write_folder(frames: dict[str, pd.DataFrame], folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, df in frames.items():
        df.to_csv(folder / f"{name}.csv", index=False, lineterminator="\n")
    return folder


@pytest.fixture
def shared_sfpd():
    d = paths().shared_sfpd
    if not d.is_dir():
        pytest.skip(f"shared SFPD data not found at {d} (it is present in CI)")
    return d
