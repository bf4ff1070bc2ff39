"""The coding scheme and the study's settings: the codebook (single source of truth), the charge classification table and the study configuration."""
