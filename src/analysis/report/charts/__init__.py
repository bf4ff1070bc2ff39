"""Charts for the committee's November meeting: one function per chart, each returning a :class:`Chart`.

Every chart takes data (the derived tables, or an :class:`analysis.stats.its.ITSResult`) and options and returns a
:class:`Chart`: ``name`` (file stem), ``title``, ``fig`` (a matplotlib Figure), ``data`` (the table behind the
chart, already suppressed, without person codes) and ``alt`` (one sentence for screen readers and HTML ``alt``).
No chart function reads or writes files; :func:`save_chart` writes ``<name>.png`` (slides), ``<name>.pdf``
(vector) and ``<name>.csv`` (the data), byte for byte the same on every run. :func:`meeting_charts` makes the set
in meeting order:

1. :func:`key_indicators`  eight indicators the committee asked for, before vs after, with 95% intervals
2. :func:`case_origin`     how cases originated (share of reports), by period
3. :func:`charges_by_role` charge categories by role and period (share of people in the role)
4. :func:`people_by_role`  people by role; trans women of color, transitional-aged youth and minors among
   people selling sex
5. :func:`public_series`   SFPD's public monthly series with the unit change and the interrupted time series
6. :func:`districts`       share of reports per SFPD police district, before vs after

The numbers come from :func:`analysis.tables.compare.before_after` (percentages, Wilson intervals, differences with
their intervals, tests); nothing is re-estimated here. Titles are in plain words that state the subject (a
direction is named only when it is computed from the data).

The modules (the names above are all importable from here):

- :mod:`.style`       colours, sizes, the 16:9 page (one helper, ``_page``, used by every chart), wording, ``Chart``
- :mod:`.protect`     the protected rows: what a chart may show of a before/after table (the shared tables' rule)
- :mod:`.marks`       the marks several charts share: dot-and-interval rows, grouped bars, 'suppressed'
- :mod:`.indicators`, :mod:`.origin`, :mod:`.charges`, :mod:`.people`, :mod:`.series`, :mod:`.district`
                      one chart each (1 to 6 above), with the before/after tables it needs (``comparisons``)
- :mod:`.meeting`     ``meeting_charts``: the set, every chart's numbers computed before any figure is drawn
- :mod:`.files`       ``chart_files`` / ``save_chart``: the PNG, PDF and CSV of a chart

Small-cell suppression: the same rule as the shared tables (:func:`analysis.tables.compare.display`), cell for cell
(:mod:`.protect`). A value whose count, complementary count ('No'), or denominator is hidden is never drawn: the
chart shows the words "suppressed (<5)" or "suppressed" where the mark would be, and the CSV holds ``<5`` /
``suppressed`` instead of the number.
"""

from .charges import CHARGE_ROLES, charges_by_role
from .district import districts
from .files import chart_files, save_chart
from .indicators import INDICATORS, key_indicators
from .meeting import meeting_charts
from .origin import case_origin
from .people import SELLER_GROUPS, people_by_role
from .series import public_series
from .style import (
    COLORS,
    FIGSIZE,
    MARKERS,
    PNG_DPI,
    SIZE,
    SOURCE_CODED,
    SOURCE_PUBLIC,
    SOURCE_SYNTHETIC,
    SUPPRESSED,
    WATERMARK,
    Chart,
)

__all__ = [
    "CHARGE_ROLES", "COLORS", "FIGSIZE", "INDICATORS", "MARKERS", "PNG_DPI", "SELLER_GROUPS", "SIZE", "SOURCE_CODED",
    "SOURCE_PUBLIC", "SOURCE_SYNTHETIC", "SUPPRESSED", "WATERMARK", "Chart", "case_origin", "chart_files",
    "charges_by_role", "districts", "key_indicators", "meeting_charts", "people_by_role", "public_series",
    "save_chart",
]
