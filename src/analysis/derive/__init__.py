"""Validated rows -> analysis tables: derived variables and buyer income strata."""
