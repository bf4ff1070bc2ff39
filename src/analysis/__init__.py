"""Coding scheme, validation and before/after analysis of SFPD prostitution / human-trafficking incident reports.

Data flows one way: raw coded tables -> :mod:`analysis.intake.validate` -> :mod:`analysis.derive.variables` -> tables and charts.
The coding scheme (:mod:`analysis.scheme.codebook`, ``codebook.yaml``) is the single source of truth.
"""

import sys


def __getattr__(name: str):
    """``__version__``: the installed package's version, read when first asked for (reading the installed
    distributions' metadata takes a few hundredths of a second, at the start of every command otherwise)."""
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            found = version("sfpd-vice-svu-analysis")
        except PackageNotFoundError:  # running from a source tree that is not installed
            found = "0.0.0+source"
        globals()["__version__"] = found
        return found
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class _LazyF2py:
    """Loads ``numpy.f2py`` (NumPy's Fortran wrapper generator) only when something of it is used.

    SciPy imports its array-API layer (every ``scipy.sparse``, ``scipy.optimize``, ``scipy.stats`` import) with
    ``from numpy import *``; NumPy 2 lists ``f2py`` in ``numpy.__all__``, so that line imports f2py, whose parser
    compiles hundreds of regular expressions: about 0.1 s of CPU in every process of the project (each command,
    notebook kernel and test worker), for a module nothing here uses. The module is given to that line unexecuted
    (``importlib.util.LazyLoader``) and runs in full the first time one of its attributes is read."""

    def find_spec(self, name, path=None, target=None):  # (importlib.abc.MetaPathFinder's method)
        if name != "numpy.f2py":
            return None
        import importlib.machinery
        import importlib.util

        sys.meta_path.remove(self)  # once
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is not None and spec.loader is not None and hasattr(spec.loader, "exec_module"):
            spec.loader = importlib.util.LazyLoader(spec.loader)
        return spec


if "numpy.f2py" not in sys.modules:
    sys.meta_path.insert(0, _LazyF2py())
