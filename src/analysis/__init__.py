"""Coding scheme, validation and before/after analysis of SFPD prostitution / human-trafficking incident reports.

Data flows one way: raw coded tables -> :mod:`analysis.intake.validate` -> :mod:`analysis.derive.variables` -> tables and charts.
The coding scheme (:mod:`analysis.scheme.codebook`, ``codebook.yaml``) is the single source of truth.
"""

import importlib.abc
import importlib.machinery
import importlib.util
import sys
from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("sfpd-vice-svu-analysis")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+source"


class _LazyF2py(importlib.abc.MetaPathFinder):
    """Loads ``numpy.f2py`` (NumPy's Fortran wrapper generator) only when something of it is used.

    SciPy imports its array-API layer (every ``scipy.sparse``, ``scipy.optimize``, ``scipy.stats`` import) with
    ``from numpy import *``; NumPy 2 lists ``f2py`` in ``numpy.__all__``, so that line imports f2py, whose parser
    compiles hundreds of regular expressions: about 0.1 s of CPU in every process of the project (each command,
    notebook kernel and test worker), for a module nothing here uses. The module is given to that line unexecuted
    (``importlib.util.LazyLoader``) and runs in full the first time one of its attributes is read."""

    def find_spec(self, name, path=None, target=None):
        if name != "numpy.f2py":
            return None
        sys.meta_path.remove(self)  # once
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is not None and spec.loader is not None and hasattr(spec.loader, "exec_module"):
            spec.loader = importlib.util.LazyLoader(spec.loader)
        return spec


if "numpy.f2py" not in sys.modules:
    sys.meta_path.insert(0, _LazyF2py())
