"""The report's chart style and figure helpers: palette, layout, day axis, bands.

Figures are plain JSON-able dictionaries ``{"data": [...], "layout": {...}}``
(:data:`Figure`); :data:`VALIDATE` checks them against plotly's schema (the
structure tests switch it on). Colours follow the Okabe–Ito colour-blind-safe
palette (Okabe and Ito 2008), and series are also told apart by line dash, bar
pattern or marker shape.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    pass

#: Okabe–Ito colour-blind-safe palette (Okabe and Ito 2008), black last.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]
DASHES = ["solid", "dash", "dot", "dashdot", "longdash", "longdashdot"]
PATTERNS = ["", "/", ".", "x", "-", "+", "\\", "|"]
#: Direction → (colour, marker symbol, words): escalation vermillion ▼, de-escalation blue ▲.
DIRECTION_STYLE: dict[int, tuple[str, str, str]] = {
    -1: ("#D55E00", "triangle-down", "escalation"),
    1: ("#0072B2", "triangle-up", "de-escalation"),
    0: ("#7F7F7F", "circle", "unclear direction"),
}
#: Diverging scale, vermillion (negative) – white – blue (positive).
DIVERGING = [[0.0, "#D55E00"], [0.5, "#F7F7F7"], [1.0, "#0072B2"]]
DAY_AXIS = (
    "Trading day relative to day 0 (first session closing after the earliest possible time of the news)"
)
GRID = "#E6EAF0"
#: Every axis of the report's charts. ``ticklabeloverflow="allow"``: the margins make room for
#: the labels (``automargin``), so plotly's check of each label against the page's edge (a
#: measurement of every label, over a third of the charts' drawing time) finds nothing to hide.
AXIS = {
    "gridcolor": GRID,
    "linecolor": "#BBBBBB",
    "zeroline": False,
    "automargin": True,
    "ticklabeloverflow": "allow",
}


def rgba(hex_colour: str, alpha: float) -> str:
    h = hex_colour.lstrip("#")
    r, g, b = (int(h[i : i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


def series_style(i: int) -> tuple[str, str]:
    return PALETTE[i % len(PALETTE)], DASHES[(i // len(PALETTE)) % len(DASHES)]


def rounded(v: Any, nd: int = 4) -> list[float | None]:
    """Rounded list for compact JSON; NaN → None (a gap)."""
    a = np.round(np.asarray(v, dtype=float), nd)
    return [None if not np.isfinite(x) else float(x) for x in a.ravel()]


def base_layout(title: str, ytitle: str = "", height: int = 440, **extra: Any) -> dict[str, Any]:
    lay: dict[str, Any] = {
        "title": {"text": title, "x": 0.0, "xanchor": "left", "font": {"size": 15}},
        "colorway": PALETTE,
        "paper_bgcolor": "white",
        "plot_bgcolor": "white",
        "xaxis": dict(AXIS),
        "yaxis": dict(AXIS, title={"text": ytitle}),
        "margin": {"l": 64, "r": 24, "t": 64, "b": 56},
        "height": height,
        "legend": {"orientation": "h", "y": -0.22},
        "font": {
            "family": "system-ui, -apple-system, Segoe UI, Roboto, sans-serif",
            "size": 12,
            "color": "#222",
        },
        "hoverlabel": {"align": "left"},
        # as plotly's default template: numeric-looking strings stay categories
        "autotypenumbers": "strict",
        "hovermode": "closest",
    }
    for k, v in extra.items():
        if isinstance(v, dict) and isinstance(lay.get(k), dict):
            lay[k] = {**lay[k], **v}
        else:
            lay[k] = v
    return lay


#: Validate figures against plotly's schema (the structure tests switch it on;
#: skipping it saves about half a second per report).
VALIDATE = False

#: A figure as plain dictionaries ``{"data": [trace, ...], "layout": {...}}``.
Figure = dict[str, Any]


def make_figure(data: list[dict[str, Any]], layout: dict[str, Any]) -> Figure:
    """The figure of the assembled dictionaries (checked against plotly's schema when ``VALIDATE``)."""
    fig: Figure = {"data": data, "layout": layout}
    if VALIDATE:
        import plotly.graph_objects as go

        go.Figure(fig)  # raises on a property or value plotly does not know
    return fig


def day_shapes() -> list[dict[str, Any]]:
    return [
        {
            "type": "line",
            "xref": "x",
            "yref": "paper",
            "x0": 0,
            "x1": 0,
            "y0": 0,
            "y1": 1,
            "line": {"dash": "dot", "color": "#555", "width": 1},
        },
        {
            "type": "line",
            "xref": "paper",
            "yref": "y",
            "x0": 0,
            "x1": 1,
            "y0": 0,
            "y1": 0,
            "line": {"color": "#999", "width": 1},
        },
    ]


def day_xaxis(window: tuple[int, int]) -> dict[str, Any]:
    return {"title": {"text": DAY_AXIS}, "dtick": 1 if window[1] - window[0] <= 30 else 5}


def mean_band(
    path: pd.DataFrame, name: str, colour: str, dash: str, visible: bool | str = True
) -> list[dict[str, Any]]:
    """Mean line and 95% band of one group (three traces)."""
    x = path["rel_day"].to_numpy().tolist()
    caar, lo, hi = (100 * path[c].to_numpy(dtype=float) for c in ("caar", "lo", "hi"))
    n = path["n"].to_numpy()
    leg = f"grp-{name}"
    common = {"x": x, "legendgroup": leg, "visible": visible}
    cd = [
        [a, b, int(k) if np.isfinite(k) else None]
        for a, b, k in zip(rounded(lo, 2), rounded(hi, 2), n, strict=True)
    ]
    return [
        {
            "type": "scatter",
            **common,
            "y": rounded(hi),
            "mode": "lines",
            "line": {"width": 0},
            "hoverinfo": "skip",
            "showlegend": False,
        },
        {
            "type": "scatter",
            **common,
            "y": rounded(lo),
            "mode": "lines",
            "line": {"width": 0},
            "fill": "tonexty",
            "fillcolor": rgba(colour, 0.16),
            "hoverinfo": "skip",
            "showlegend": False,
        },
        {
            "type": "scatter",
            **common,
            "y": rounded(caar),
            "mode": "lines+markers",
            "name": name,
            "line": {"color": colour, "dash": dash, "width": 2},
            "marker": {"size": 4},
            "customdata": cd,
            "hovertemplate": f"{name}<br>day %{{x}}: CAAR %{{y:.2f}}%<br>95% CI %{{customdata[0]}}% to "
            "%{customdata[1]}%<br>n = %{customdata[2]}<extra></extra>",
        },
    ]


#: Most markets drawn one by one in the per-market charts (the study's first
#: ones); a universe of more markets is summarised in the tables and CSVs.


def direction_int(g: str) -> int:
    try:
        return int(float(g))
    except ValueError:
        return 0
