"""The plotly.js that the report inlines: the official *cartesian* partial bundle.

The full plotly.js bundle is about 4.8 MB; the report draws only ``scatter``,
``bar``, ``heatmap`` and ``histogram`` traces, all of which the official
``plotly.js-cartesian-dist-min`` bundle (about 1.5 MB) holds. The bundle is
vendored in ``vendor/`` with its MIT licence (``vendor/plotly-LICENSE.txt``),
so rendering and testing need no network. It is used only when its version is
the plotly.js version that the installed plotly Python package expects;
otherwise the package's own full bundle is inlined (larger, always matching).
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources

from plotly.offline import get_plotlyjs, get_plotlyjs_version

__all__ = ["BUNDLE_TRACES", "bundle_version", "plotly_js"]

#: Trace types of the vendored bundle (from its README).
BUNDLE_TRACES = frozenset(
    {
        "bar",
        "box",
        "contour",
        "heatmap",
        "histogram",
        "histogram2d",
        "histogram2dcontour",
        "image",
        "pie",
        "scatter",
        "scatterternary",
        "violin",
    }
)

_BUNDLE = "plotly-cartesian.min.js"


@lru_cache(maxsize=1)
def _vendored() -> str:
    return resources.files("eventstudy.report").joinpath("vendor", _BUNDLE).read_text("utf-8")


def bundle_version() -> str:
    """The plotly.js version in the vendored bundle's banner (``""`` if unreadable)."""
    m = re.search(r"plotly\.js \(cartesian - minified\) v(\d+\.\d+\.\d+)", _vendored()[:400])
    return m.group(1) if m else ""


def plotly_js() -> str:
    """plotly.js to inline: the vendored cartesian bundle when its version matches plotly's.

    Returns
    -------
    str
        The script text (the full bundle of the plotly package when the
        vendored one is of another version).
    """
    if bundle_version() == get_plotlyjs_version():
        return _vendored()
    return str(get_plotlyjs())
