"""The package is a one-way house: no import cycle, no import from a later stage, nothing outside the CLI imports
the CLI, and no function over 80 lines unless its docstring says why it is long.

Every module's imports are read from its syntax tree (``ast``): absolute and relative imports, at the top or
inside a function. Stages and their ranks (a module may import its own subpackage or a lower rank; subpackages
of equal rank may import each other, but never in a circle)::

    0  scheme, formats, stats   (stats: pure numerics, imports nothing else from the package)
    1  intake
    2  derive
    3  tables, coders, public
    4  report
    5  cli                      (and analysis/__main__.py)

The root package (``analysis/__init__.py``: the version) may be imported by any stage but stats.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "analysis"

RANKS = {"scheme": 0, "formats": 0, "stats": 0, "intake": 1, "derive": 2, "tables": 3, "coders": 3, "public": 3,
         "report": 4, "cli": 5, "__main__": 5}
PURE = {"stats"}  # import nothing from the package outside themselves
MAX_LINES = 80

# Known violations: none. (An entry here is left out of the checks below; keep it empty.)
PENDING_IMPORTS: dict[tuple[str, str], str] = {}
PENDING_LONG: dict[str, str] = {}


# --- reading the package -----------------------------------------------------------------------------------


@dataclass
class Graph:
    modules: dict[str, Path]  # dotted name -> file
    edges: dict[str, set[str]] = field(default_factory=dict)  # module -> modules of the package it imports
    long_functions: dict[str, int] = field(default_factory=dict)  # "sub/module.py:function" -> lines


def _module_names(root: Path) -> dict[str, Path]:
    out = {}
    for f in sorted(root.rglob("*.py")):
        parts = list(f.relative_to(root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = f
    return out


def _resolve(name: str | None, level: int, here: str, is_package: bool) -> str:
    """The absolute dotted name of ``from <level dots><name> import ...`` written in module ``here``."""
    if level == 0:
        return name or ""
    base = here.split(".") if is_package else here.split(".")[:-1]
    base = base[: len(base) - (level - 1)]
    return ".".join(base + ([name] if name else []))


def read_package(root: Path = PACKAGE) -> Graph:
    """Every module of the package at ``root``, the package modules each imports, and its long functions."""
    g = Graph(_module_names(root))
    top = root.name
    for mod, f in g.modules.items():
        tree = ast.parse(f.read_text(encoding="utf-8"), filename=str(f))
        is_package = f.name == "__init__.py"
        targets: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                base = _resolve(node.module, node.level, mod, is_package)
                targets |= {base} | {f"{base}.{a.name}" for a in node.names}
            elif isinstance(node, ast.Import):
                targets |= {a.name for a in node.names}
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                n = node.end_lineno - node.lineno + 1
                if n > MAX_LINES and "long" not in (ast.get_docstring(node) or "").lower():
                    g.long_functions[f"{f.relative_to(root).as_posix()}:{node.name}"] = n
        g.edges[mod] = set()
        for t in targets:
            while t and t not in g.modules:  # `from x import name`: name is an attribute, x the module
                t = t.rpartition(".")[0]
            if t and t != mod and (t == top or t.startswith(top + ".")):
                g.edges[mod].add(t)
    return g


def without(g: Graph, pending: dict[tuple[str, str], str]) -> dict[str, set[str]]:
    return {m: {t for t in ts if (m, t) not in pending} for m, ts in g.edges.items()}


def stage(module: str) -> str:
    """The stage (subpackage) a module belongs to; '' for the root package."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


# --- the rules -----------------------------------------------------------------------------------------------


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan). An edge from a module to its own
    package's ``__init__`` is not followed: a package's ``__init__`` importing its modules is how packages work."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def strong(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(edges.get(v, ())):
            if w == v.rpartition(".")[0]:
                continue
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(edges):
        if v not in index:
            strong(v)
    return sorted(out)


def upward(edges: dict[str, set[str]], ranks: dict[str, int] = RANKS) -> list[str]:
    """Imports of a later stage (a higher rank), as 'module -> module (rank a -> rank b)'."""
    out = []
    for m, ts in sorted(edges.items()):
        for t in sorted(ts):
            a, b = stage(m), stage(t)
            if a == b or b == "":
                continue
            if ranks[b] > ranks[a]:
                out.append(f"{m} -> {t} (rank {ranks[a]} -> {ranks[b]})")
    return out


def impure(edges: dict[str, set[str]], pure: set[str] = PURE) -> list[str]:
    """Imports by a pure stage of anything in the package outside itself (the root package included)."""
    return [f"{m} -> {t}" for m, ts in sorted(edges.items()) if stage(m) in pure
            for t in sorted(ts) if stage(t) != stage(m)]


def stage_cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Circles between stages (e.g. tables -> coders -> tables), from the imports that cross stages."""
    between: dict[str, set[str]] = {}
    for m, ts in edges.items():
        for t in ts:
            if stage(m) and stage(t) and stage(m) != stage(t):
                between.setdefault(stage(m), set()).add(stage(t))
    return cycles(between)


def into_cli(edges: dict[str, set[str]]) -> list[str]:
    """Imports of the CLI from outside it (``analysis/__main__.py``, the entry point, may)."""
    return [f"{m} -> {t}" for m, ts in sorted(edges.items()) for t in sorted(ts)
            if stage(t) == "cli" and stage(m) not in ("cli", "__main__")]


# --- the package ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def graph() -> Graph:
    return read_package()


def test_every_stage_has_a_rank(graph):
    stages = {stage(m) for m in graph.modules} - {""}
    assert stages <= set(RANKS), f"give the new stage(s) {sorted(stages - set(RANKS))} a rank in RANKS"
    assert {"scheme", "intake", "derive", "stats", "tables", "coders", "public", "report", "cli"} <= stages


def test_no_import_cycle(graph):
    assert cycles(without(graph, PENDING_IMPORTS)) == []


def test_no_import_from_a_later_stage(graph):
    assert upward(without(graph, PENDING_IMPORTS)) == []


def test_stats_is_pure_numerics(graph):
    assert impure(without(graph, PENDING_IMPORTS)) == []


def test_stages_of_equal_rank_never_import_in_a_circle(graph):
    assert stage_cycles(without(graph, PENDING_IMPORTS)) == []


def test_nothing_outside_the_cli_imports_it(graph):
    assert into_cli(without(graph, PENDING_IMPORTS)) == []


def test_no_function_over_80_lines_without_a_reason(graph):
    long = {k: n for k, n in graph.long_functions.items() if k not in PENDING_LONG}
    assert long == {}, "split these, or say in the docstring why a function is long"


# --- the checker itself, on a package made for it ------------------------------------------------------------


def _write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, encoding="utf-8")


def test_the_checker_finds_every_kind_of_violation(tmp_path):
    body = "\n".join(f"    x = {i}" for i in range(MAX_LINES))
    _write(tmp_path / "analysis", {
        "__init__.py": "__version__ = '1'\n",
        "__main__.py": "from .cli.app import main\n",
        "scheme/__init__.py": "",
        "scheme/codebook.py": "import os\n",
        "stats/__init__.py": "",
        "stats/its.py": "def f():\n    from ..intake.problems import problem\n    from .. import __version__\n",
        "intake/__init__.py": "",
        "intake/problems.py": "from ..scheme.codebook import x\nfrom analysis.derive import variables\n",
        "derive/__init__.py": "",
        "derive/variables.py": "from . import income\n",
        "derive/income.py": "from .variables import y\n",
        "tables/__init__.py": "",
        "tables/compare.py": "from ..coders import synth\n",
        "coders/__init__.py": "",
        "coders/synth.py": "import analysis.tables.export\n",
        "tables/export.py": "",
        "report/__init__.py": "",
        "report/run.py": f"def run():\n    '''Runs.'''\n    from ..cli import app\n{body}\n",
        "report/pack.py": f"def pack():\n    '''Long: a declarative table.'''\n{body}\n",
        "cli/__init__.py": "",
        "cli/app.py": "from ..report import run\n",
    })
    g = read_package(tmp_path / "analysis")
    assert g.edges["analysis.stats.its"] == {"analysis.intake.problems", "analysis"}
    # `from analysis.derive import variables` runs the package's __init__ too
    assert g.edges["analysis.intake.problems"] == {"analysis.scheme.codebook", "analysis.derive",
                                                   "analysis.derive.variables"}
    assert g.edges["analysis.derive.variables"] == {"analysis.derive", "analysis.derive.income"}
    assert g.edges["analysis.coders.synth"] == {"analysis.tables.export"}
    assert cycles(g.edges) == [["analysis.cli.app", "analysis.report.run"],
                               ["analysis.derive.income", "analysis.derive.variables"]]
    assert upward(g.edges) == [
        "analysis.intake.problems -> analysis.derive (rank 1 -> 2)",
        "analysis.intake.problems -> analysis.derive.variables (rank 1 -> 2)",
        "analysis.report.run -> analysis.cli (rank 4 -> 5)",
        "analysis.report.run -> analysis.cli.app (rank 4 -> 5)",
        "analysis.stats.its -> analysis.intake.problems (rank 0 -> 1)",
    ]
    assert impure(g.edges) == ["analysis.stats.its -> analysis", "analysis.stats.its -> analysis.intake.problems"]
    assert stage_cycles(g.edges) == [["cli", "report"], ["coders", "tables"]]
    assert into_cli(g.edges) == ["analysis.report.run -> analysis.cli", "analysis.report.run -> analysis.cli.app"]
    assert g.long_functions == {"report/run.py:run": MAX_LINES + 3}
    pending = {("analysis.report.run", "analysis.cli"): "pending", ("analysis.report.run", "analysis.cli.app"): "pending"}
    assert into_cli(without(g, pending)) == []
    assert cycles(without(g, pending)) == [["analysis.derive.income", "analysis.derive.variables"]]


def test_a_package_importing_its_own_modules_is_no_cycle(tmp_path):
    _write(tmp_path / "analysis", {
        "__init__.py": "",
        "report/__init__.py": "",
        "report/charts/__init__.py": "from .meeting import meeting_charts\nfrom .style import Chart\n",
        "report/charts/style.py": "class Chart: ...\n",
        "report/charts/meeting.py": "from . import style\nfrom .style import Chart\n",
    })
    g = read_package(tmp_path / "analysis")
    assert g.edges["analysis.report.charts.meeting"] == {"analysis.report.charts", "analysis.report.charts.style"}
    assert cycles(g.edges) == []
