"""requirements.in, requirements.txt (the lock) and environment.yml describe the same environment."""

from __future__ import annotations

import re

import yaml

from .conftest import ROOT


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pins(path):
    pins = {}
    for line in (ROOT / path).read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, _, version = line.partition("==")
            assert version, f"{path}: '{line}' is not pinned with =="
            pins[_norm(name)] = version
    return pins


def test_environment_yml_matches_requirements_in():
    top = _pins("requirements.in")
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda = {}
    for dep in env["dependencies"]:
        if isinstance(dep, str) and "=" in dep:
            name, _, version = dep.partition("=")
            conda[_norm(name)] = version
    assert conda.pop("python") == "3.11"
    assert conda == top


def test_lock_pins_the_same_top_level_versions():
    lock = _pins("requirements.txt")
    for name, version in _pins("requirements.in").items():
        assert lock.get(name) == version, f"{name}: requirements.in has {version}, requirements.txt {lock.get(name)}"


def test_ci_runs_make_test():
    assert "make test" in (ROOT / ".ci" / "run").read_text()
