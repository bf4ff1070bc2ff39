"""requirements.in, requirements.txt (the lock) and environment.yml describe the same environment; pyproject's
requires-python and the Makefile agree on the Python versions; the Makefile's interpreter and .venv checks."""

from __future__ import annotations

import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
import tomllib

import pytest
import yaml
from packaging.markers import Marker
from packaging.specifiers import SpecifierSet

from .conftest import ROOT

needs_make = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pin_lines(path):
    """(name, version, marker or None) for each line; every line must be pinned with ==, each package once."""
    pins = []
    for line in (ROOT / path).read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            req, _, marker = line.partition(";")
            name, _, version = req.partition("==")
            assert version.strip(), f"{path}: '{line}' is not pinned with =="
            pins.append((_norm(name.strip()), version.strip(), marker.strip() or None))
    names = [name for name, _, _ in pins]
    assert len(names) == len(set(names)), f"{path} pins a package twice: {sorted({n for n in names if names.count(n) > 1})}"
    return pins


def _pins(path):
    return {name: version for name, version, _ in _pin_lines(path)}


def _requires_python():
    return SpecifierSet(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"])


def _makefile_python_versions():
    m = re.search(r"^PY_VERSIONS\s*:=\s*(.+)$", (ROOT / "Makefile").read_text(), re.M)
    assert m, "Makefile: no PY_VERSIONS := line"
    return [tuple(int(p) for p in v.split(".")) for v in m.group(1).split()]


def test_environment_yml_matches_requirements_in():
    top = _pins("requirements.in")
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda = {}
    for dep in env["dependencies"]:
        if isinstance(dep, str) and dep != "pip":
            name, version = re.fullmatch(r"([A-Za-z0-9_.-]+)(.*)", dep).groups()
            conda[_norm(name)] = version
        elif isinstance(dep, dict):  # the pip: section: packages not on conda-forge, pinned with ==, and the project
            for line in dep["pip"]:
                if line != "-e .":
                    name, _, version = line.partition("==")
                    assert version, f"environment.yml: pip line '{line}' is not pinned with =="
                    conda[_norm(name)] = f"={version}"
    # conda's "python>=3.11,<3.14" is pyproject's requires-python
    assert SpecifierSet(conda.pop("python")) == _requires_python()
    assert conda == {name: f"={version}" for name, version in top.items()}


def test_lock_pins_the_same_top_level_versions():
    lock = _pins("requirements.txt")
    for name, version in _pins("requirements.in").items():
        assert lock.get(name) == version, f"{name}: requirements.in has {version}, requirements.txt {lock.get(name)}"


def test_odfpy_is_a_runtime_pin_for_ods_files():
    # pandas reads .ods through odfpy (read_excel(engine="odf")); 1.4.1 is pandas' minimum and the latest release.
    assert _pins("requirements.in")["odfpy"] == "1.4.1"
    assert "odfpy>=1.4.1" in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]


def test_ci_builds_a_fresh_venv_then_runs_make_test():
    lines = [
        line.strip()
        for line in (ROOT / ".ci" / "run").read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert "rm -rf .venv" in lines
    assert "make test" in lines
    assert lines.index("rm -rf .venv") < lines.index("make test")


def test_requires_python_and_makefile_name_the_same_versions():
    spec = _requires_python()
    supported = _makefile_python_versions()
    assert supported == [(3, 11), (3, 12), (3, 13)]
    for minor in range(8, 16):
        for patch in (0, 2, 5, 30):
            version = f"3.{minor}.{patch}"
            assert spec.contains(version) == ((3, minor) in supported), (
                f"pyproject requires-python {spec} and the Makefile's PY_VERSIONS disagree on {version}"
            )


def test_every_installed_pin_allows_python_3_11_0_to_3_13():
    """Each pin of the lock that applies here is what is installed, and its Requires-Python allows every
    supported Python from 3.11.0 (Debian 12 ships 3.11.2; soupsieve 3.0+ needs 3.11.5 and broke it)."""
    lock = _pin_lines("requirements.txt")
    applicable = [(name, version) for name, version, marker in lock if marker is None or Marker(marker).evaluate()]
    assert len(applicable) > 100
    problems = []
    for name, version in applicable:
        try:
            dist = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            problems.append(f"{name}=={version} is not installed (run make setup)")
            continue
        if dist.version != version:
            problems.append(f"{name}: requirements.txt pins {version}, {dist.version} is installed (run make setup)")
            continue
        requires = dist.metadata.get("Requires-Python")
        for python in ("3.11.0", "3.12.0", "3.13.0"):
            if requires and not SpecifierSet(requires).contains(python):
                problems.append(f"{name}=={version} has Requires-Python {requires}: not Python {python}")
    assert problems == []


# The Makefile's checks, run with stand-in interpreters: each is a Python script that pretends to be another
# version or to lack ensurepip, then runs the code the Makefile passes with -c.
def _fake_python(tmp_path, name, version=None, no_ensurepip=False):
    lines = [f"#!{sys.executable}", "import sys"]
    if version:
        lines.append(f"sys.version_info = {tuple(version) + ('final', 0)!r}")
    if no_ensurepip:
        lines.append("sys.modules['ensurepip'] = None")
    lines += ["assert sys.argv[1] == '-c'", "exec(sys.argv[2], {'__name__': '__main__'})"]
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    path.chmod(0o755)
    return path


def _make(*args, cwd=ROOT):
    # Not the MAKEFLAGS of a make that runs this suite: they would pass its PYTHON= on.
    env = {k: v for k, v in os.environ.items() if k not in {"MAKEFLAGS", "MFLAGS", "MAKELEVEL", "PYTHON"}}
    return subprocess.run(["make", "--no-print-directory", "-f", str(ROOT / "Makefile"), *args],
                          cwd=cwd, env=env, capture_output=True, text=True, timeout=60)


@needs_make
def test_make_refuses_python_3_10_naming_it_and_how_to_pass_another(tmp_path):
    fake = _fake_python(tmp_path, "python3", version=(3, 10, 12))
    r = _make("check-python", f"PYTHON={fake}", "USER_GOALS=test")
    assert r.returncode != 0
    assert r.stderr.splitlines()[:2] == [
        f"Python 3.11 to 3.13 is needed, but {fake} is Python 3.10.12 ({sys.executable}).",
        "Pass another interpreter, e.g.: make PYTHON=python3.12 test",
    ]


@needs_make
@pytest.mark.parametrize("version", [(3, 11, 0), (3, 11, 2), (3, 12, 1), (3, 13, 0)])
def test_make_accepts_3_11_0_to_3_13(tmp_path, version):
    fake = _fake_python(tmp_path, "python3", version=version)
    r = _make("check-python", f"PYTHON={fake}")
    assert (r.returncode, r.stdout, r.stderr) == (0, "", "")


@needs_make
def test_make_refuses_3_14(tmp_path):
    fake = _fake_python(tmp_path, "python3", version=(3, 14, 0))
    r = _make("check-python", f"PYTHON={fake}", "USER_GOALS=report")
    assert r.returncode != 0
    assert "is Python 3.14.0" in r.stderr and "make PYTHON=python3.12 report" in r.stderr


@needs_make
def test_make_says_what_to_install_when_venv_is_missing(tmp_path):
    # Debian's python3 without the python3-venv package has no ensurepip, and `python3 -m venv` fails.
    fake = _fake_python(tmp_path, "python3", version=(3, 11, 2), no_ensurepip=True)
    r = _make("check-python", f"PYTHON={fake}")
    assert r.returncode != 0
    assert r.stderr.splitlines()[:2] == [
        f"{fake} (Python 3.11.2, {sys.executable}) cannot make a virtual environment: it has no venv/ensurepip module.",
        "On Debian or Ubuntu install it with: apt-get install python3-venv   (for a python3.X that is not the",
    ]


@needs_make
def test_make_names_a_missing_interpreter(tmp_path):
    r = _make("check-python", "PYTHON=python3.99", "USER_GOALS=test")
    assert r.returncode != 0
    assert r.stderr.splitlines()[0] == (
        "python3.99 was not found. Pass another interpreter (Python 3.11 to 3.13), e.g.: make PYTHON=python3.12 test"
    )


# venv-check on a stand-in .venv in tmp_path (VENV=...): a venv made --without-pip is quick to make.
@pytest.fixture
def small_venv(tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys._base_executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=60)
    return venv


@needs_make
def test_venv_check_keeps_a_complete_venv_of_the_same_python(small_venv):
    (small_venv / ".installed").touch()
    r = _make("venv-check", f"VENV={small_venv}", f"PYTHON={sys._base_executable}")
    assert (r.returncode, r.stdout, r.stderr) == (0, "", "")
    assert (small_venv / "bin" / "python").exists()


@needs_make
def test_venv_check_removes_a_venv_whose_install_did_not_finish(small_venv):
    # no stamp: pip stopped half-way (as it did on soupsieve under Python 3.11.2)
    r = _make("venv-check", f"VENV={small_venv}")
    assert r.returncode == 0
    assert r.stdout == f"Removing {small_venv} to make it again: its last install did not finish.\n"
    assert not small_venv.exists()


@needs_make
def test_venv_check_removes_a_venv_made_with_another_python(small_venv, tmp_path):
    (small_venv / ".installed").touch()
    other = _fake_python(tmp_path, "python3.12", version=(3, 12, 1))
    (small_venv / "bin" / "python").unlink()
    (small_venv / "bin" / "python").write_text("#!/bin/sh\necho 3.11.2 /usr\n")
    (small_venv / "bin" / "python").chmod(0o755)
    r = _make("venv-check", f"VENV={small_venv}", f"PYTHON={other}")
    assert r.returncode == 0
    want = subprocess.run([str(other), "-c", "import os, sys; print('%d.%d.%d' % sys.version_info[:3], "
                           "os.path.realpath(sys.base_prefix))"], capture_output=True, text=True).stdout.strip()
    assert r.stdout == (
        f"Removing {small_venv} to make it again: it was made with Python 3.11.2 /usr, not {other} (Python {want}).\n"
    )
    assert not small_venv.exists()


@needs_make
def test_venv_check_keeps_a_complete_venv_when_no_python_is_given(small_venv):
    # Without PYTHON=, a complete .venv of a supported Python is kept, whichever made it.
    (small_venv / ".installed").touch()
    (small_venv / "bin" / "python").unlink()
    (small_venv / "bin" / "python").write_text("#!/bin/sh\necho 3.12.1 /opt/python3.12\n")
    (small_venv / "bin" / "python").chmod(0o755)
    r = _make("venv-check", f"VENV={small_venv}")
    assert (r.returncode, r.stdout) == (0, "")
    assert small_venv.exists()


@needs_make
@pytest.mark.parametrize(
    "script, why",
    [("#!/bin/sh\necho 3.10.4 /usr\n", "it has Python 3.10.4, outside 3.11 to 3.13"),
     ("#!/bin/sh\nexit 1\n", "its python does not run")],
)
def test_venv_check_removes_a_venv_it_cannot_use(small_venv, script, why):
    (small_venv / ".installed").touch()
    (small_venv / "bin" / "python").unlink()
    (small_venv / "bin" / "python").write_text(script)
    (small_venv / "bin" / "python").chmod(0o755)
    r = _make("venv-check", f"VENV={small_venv}")
    assert r.stdout == f"Removing {small_venv} to make it again: {why}.\n"
    assert not small_venv.exists()


@needs_make
def test_venv_check_leaves_the_venv_alone_when_the_given_python_is_refused(small_venv, tmp_path):
    (small_venv / ".installed").touch()
    old = _fake_python(tmp_path, "python3.10", version=(3, 10, 12))
    r = _make("venv-check", f"VENV={small_venv}", f"PYTHON={old}")
    assert r.returncode != 0 and "is Python 3.10.12" in r.stderr
    assert (small_venv / "bin" / "python").exists()


@needs_make
def test_make_clean_keeps_reports_and_data(tmp_path):
    # make clean in a copy of the project's layout: .venv, caches and build files go; reports/ and data/ stay.
    for d in [".venv/bin", ".pytest_cache", ".hypothesis", "build", "dist", "src/analysis/__pycache__",
              "src/x.egg-info", "reports/2026-11-01", "data/derived/tables", "bench/results"]:
        (tmp_path / d).mkdir(parents=True)
    for f in ["reports/2026-11-01/meeting_pack.html", "data/derived/tables/t.csv", "data/derived/README.md",
              "bench/results/pipeline.json", "src/analysis/__pycache__/x.pyc"]:
        (tmp_path / f).write_text("x")
    r = _make("clean", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    left = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())
    assert left == ["bench/results/pipeline.json", "data/derived/README.md", "data/derived/tables/t.csv",
                    "reports/2026-11-01/meeting_pack.html"]
    assert not (tmp_path / ".venv").exists() and not (tmp_path / "src" / "x.egg-info").exists()
