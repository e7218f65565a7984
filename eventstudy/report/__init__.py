"""HTML report: renders a finished :class:`~eventstudy.results.StudyResult`.

The page is self-contained (plotly.js inlined once), deterministic (fixed
element ids) and escapes every text that comes from events or files. The
report computes no statistics: it reads the result's tables.

* :func:`render_report` — the study page (``index.html`` of a study folder);
* :func:`write_reports_index` — ``reports/index.html`` listing every study;
* :func:`export_png` — optional static PNGs of the charts (needs kaleido).
"""

from __future__ import annotations

from .index import write_reports_index
from .png import export_png, png_unavailable_reason
from .render import render_report

__all__ = ["export_png", "png_unavailable_reason", "render_report", "write_reports_index"]
