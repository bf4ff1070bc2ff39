"""Before/after comparison tables, the standard set, disclosure control and shared-file formats."""
