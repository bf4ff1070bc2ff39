"""File formats every stage may use: deterministic workbooks, formula-safe spreadsheet cells."""
