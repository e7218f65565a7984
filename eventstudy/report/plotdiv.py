"""A chart's ``<div>`` as :func:`plotly.io.to_html` writes it, without importing plotly's validators.

``plotly.io.to_html`` imports ``plotly.io.json``, whose validators import
narwhals: about 0.1–0.2 s of a default run, for figures that are plain
dictionaries and never validated. :func:`plain_div` writes the same text for
such a figure (``include_plotlyjs=False, full_html=False``, a fixed ``div_id``):
the data and the layout encoded as plotly's default JSON engine does when
orjson is installed (``orjson.dumps`` with non-string keys and numpy arrays,
then ``<``, ``>``, ``/`` and the line separators escaped), the config by
:func:`json.dumps`, in plotly's HTML layout. Whenever plotly would take another
route (orjson missing or not the configured engine, a value orjson cannot
encode, frames) it returns
None and the caller uses plotly itself; ``tests/test_report_plotdiv.py``
compares both on every chart of the default study and on random figures.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from typing import Any

__all__ = ["plain_div"]

#: What plotly's orjson engine escapes in its output (``plotly.io._json._swap_orjson``).
_SWAP = (("<", "\\u003c"), (">", "\\u003e"), ("/", "\\u002f"), ("\u2028", "\\u2028"), ("\u2029", "\\u2029"))

_HAS_ORJSON = importlib.util.find_spec("orjson") is not None


def _encode(obj: Any) -> str | None:
    import orjson

    try:
        out = orjson.dumps(obj, option=orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY).decode("utf8")
    except TypeError:  # plotly cleans such values first (dates, pandas objects…)
        return None
    for a, b in _SWAP:
        if a in out:
            out = out.replace(a, b)
    return out


def _plotly_route(fig: dict[str, Any]) -> bool:
    """Whether plotly would write ``fig`` otherwise than :func:`plain_div` does."""
    loaded = sys.modules.get("plotly.io._json")  # a user may have chosen another JSON engine
    if loaded is not None and getattr(loaded.config, "default_engine", "auto") not in ("auto", "orjson"):
        return True
    layout = fig.get("layout", {})
    if not isinstance(layout, dict) or not isinstance(layout.get("template", {}), dict):
        return True
    return not _HAS_ORJSON or bool(fig.get("frames")) or not set(fig) <= {"data", "layout"}


def _size(layout: dict[str, Any], key: str) -> str:
    """The outer div's width or height as plotly sets it (a number in pixels, else as given)."""
    template = layout.get("template", {}).get("layout", {})
    v: Any = layout.get(key, template.get(key, "100%") if isinstance(template, dict) else "100%")
    try:
        float(v)
    except (ValueError, TypeError):
        return f"{v}"
    return f"{v}px"


def plain_div(fig: dict[str, Any], div_id: str, config: dict[str, Any]) -> str | None:
    """The chart's ``<div>`` as plotly writes it, or None where plotly must write it.

    The text of ``plotly.io.to_html(fig, include_plotlyjs=False, full_html=False,
    div_id=div_id, config=config, validate=False)``.

    Parameters
    ----------
    fig : dict
        ``{"data": [...], "layout": {...}}`` (lists, numbers, text, numeric numpy arrays).
    div_id : str
        The chart's element id.
    config : dict
        plotly.js config (``responsive`` is set to True when absent, as plotly does).

    Returns
    -------
    str or None
    """
    if _plotly_route(fig):
        return None
    data, layout = _encode(fig.get("data", [])), _encode(fig.get("layout", {}))
    if data is None or layout is None:
        return None
    config.setdefault("responsive", True)
    if not config.get("showSendToCloud", False):
        config.pop("plotlyServerURL", None)
    pad = " " * 4
    script = (
        f'{pad * 4}if (document.getElementById("{div_id}")) {{{pad * 5}Plotly.newPlot({pad * 6}"{div_id}",'
        f"{pad * 6}{data},{pad * 6}{layout},{pad * 6}{json.dumps(config)}{pad * 5}){pad * 4}}}"
    )
    size = fig.get("layout", {})
    return (
        f'<div style="height:{_size(size, "height")}; width:{_size(size, "width")};">{pad * 7}'
        f'<div id="{div_id}" class="plotly-graph-div" style="height:100%; width:100%;"></div>{pad * 3}'
        f"<script>{pad * 4}window.PLOTLYENV=window.PLOTLYENV || {{}};{pad * 4}{script};{pad * 3}</script>"
        f"{pad * 2}</div>"
    )
