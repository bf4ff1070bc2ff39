"""Coding scheme, validation and before/after analysis of SFPD prostitution / human-trafficking incident reports.

Data flows one way: raw coded tables -> :mod:`analysis.intake.validate` -> :mod:`analysis.derive.variables` -> tables and charts.
The coding scheme (:mod:`analysis.scheme.codebook`, ``codebook.yaml``) is the single source of truth.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("sfpd-vice-svu-analysis")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+source"
