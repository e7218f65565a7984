"""HTML report: renders a finished :class:`~eventstudy.results.StudyResult`.

The page is self-contained (plotly.js inlined once), deterministic (fixed
element ids) and escapes every text that comes from events or files.
"""

from __future__ import annotations

from .render import render_report

__all__ = ["render_report"]
