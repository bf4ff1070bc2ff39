"""The public record: SFPD open data on prostitution and human-trafficking incidents (DataSF), in every form.

- :mod:`.schemas`      every source form and its column mapping, declared as data; the standard frame
- :mod:`.load`         ``load_public(path)`` -> the standard frame (form detected from the columns)
- :mod:`.descriptions` SFPD descriptions -> public groups -> the codebook's charge categories
- :mod:`.frame`        incidents per year (the sampling frame), the stratified sample, before/after counts
- :mod:`.monthly`      ``monthly_counts(frame)`` -> ``month, incidents``, the series for the time series
- :mod:`.fetch`        the DataSF (Socrata) download, for users with internet
- :mod:`.notebook`     small helpers for notebook 03 (stop gracefully when the data folder is absent)

The interrupted time series (the model, pure numerics) is :mod:`analysis.stats.its`.
"""

# What the package exports, by the module that defines it: imported on first use (PEP 562), so that a command
# importing one module of the package (the engine's scan, before pandas) does not import them all.
_EXPORTS = {
    "descriptions": ("classify", "mapping_table", "unknown_descriptions"),
    "frame": ("compare_years", "count", "counting_unit", "describe_sources", "description_counts",
              "district_counts", "draw_sample", "frame_lower_bound", "frame_sizes", "frame_table", "per_year",
              "resolution_counts", "sampling_frame", "share_table", "with_shares"),
    "load": ("SHARED_FILES", "detect_format", "load_public", "load_shared_folder", "parse_public",
             "select_prostitution", "shared_folder_problems"),
    "monthly": ("monthly_counts",),
    "schemas": ("FORMATS", "STANDARD_COLUMNS"),
}
_FROM = {name: module for module, names in _EXPORTS.items() for name in names}


def __getattr__(name: str):
    if name not in _FROM:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(f".{_FROM[name]}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_FROM))


__all__ = sorted(_FROM)
