"""Plotly figures of a study. Figures only read the result's tables.

Each function returns a figure as plain JSON-able dictionaries,
``{"data": [...], "layout": {...}}`` (:data:`Figure`): what plotly.js draws
and what :class:`plotly.graph_objects.Figure` accepts. Building plotly's graph
objects validates and deep-copies every property, which cost a third of the
report; :func:`~eventstudy.report.render.figure_specs` still hands callers
graph objects, and :data:`VALIDATE` checks the dictionaries against plotly's
schema (the structure tests switch it on). The style is a small built-in one
instead of a named plotly template, which keeps the embedded JSON small.

Every text that can come from events or files (titles, sources, market names)
goes through :func:`~eventstudy.report.fmt.plot_text` before it reaches a
chart, so plotly shows it literally. Colours follow the Okabe–Ito
colour-blind-safe palette, and series are also told apart by line dash,
bar pattern or marker shape.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..config import format_window
from ..markets import market_name
from . import fmt
from .figstyle import (
    DIRECTION_STYLE,
    PALETTE,
    PATTERNS,
    Figure,
    base_layout,
    day_shapes,
    day_xaxis,
    direction_int,
    make_figure,
    mean_band,
    rounded,
    series_style,
)
from .headlines import headline
from .tablerows import day_windows
from .views import Lookup, caar_path, ci95, group_label

if TYPE_CHECKING:
    from ..results import StudyResult


__all__ = [
    "Figure",
    "PALETTE",
    "aar_by_day",
    "caar_by_group",
    "caar_by_market",
    "caar_windows",
]


MAX_MARKETS = 40


def shown_markets(res: StudyResult, present: Any = None) -> list[str]:
    """The study's markets drawn market by market: the first :data:`MAX_MARKETS` in ``present``."""
    have = set(res.symbols if present is None else present)
    return [s for s in res.symbols if s in have][:MAX_MARKETS]


def caar_by_market(res: StudyResult) -> Figure:
    """CAAR path over the event window per market (and all pairs), with 95% bands.

    The path is the mean across pairs of each pair's AR cumulated from the
    first day of the event window; the band is the cross-sectional 95%
    interval (see :func:`~eventstudy.report.views.caar_path`).
    """
    data: list[dict[str, Any]] = []
    path = caar_path(res, "market")
    shown = shown_markets(res, path["group"].astype(str).unique())  # the study's market order
    groups = {str(g): sub for g, sub in path.groupby("group", sort=False)}
    for i, g in enumerate(shown):
        colour, dash = series_style(i)
        data += mean_band(groups[g], fmt.plot_text(market_name(g)), colour, dash)
    allp = caar_path(res, "all")
    if len(allp):
        data += mean_band(allp, "All pairs", "#000000", "dash", visible="legendonly")
    lay = base_layout(
        "Cumulative average abnormal return around the announcements, by market",
        "CAAR (%)",
        xaxis=day_xaxis(res.config.window),
        shapes=day_shapes(),
    )
    return make_figure(data, lay)


def caar_by_group(res: StudyResult) -> Figure:
    """CAAR paths by direction (shown) or by category (menu), with 95% bands."""
    data: list[dict[str, Any]] = []
    spans: dict[str, tuple[int, int]] = {}
    for by in ("direction", "category"):
        path = caar_path(res, by)
        start = len(data)
        for i, (g, sub) in enumerate(path.groupby("group", sort=False)):
            if by == "direction":
                colour = DIRECTION_STYLE.get(direction_int(str(g)), ("#000000", "", ""))[0]
                dash = ["solid", "dash", "dot"][i % 3]
            else:
                colour, dash = series_style(i)
            data += mean_band(
                sub, fmt.plot_text(group_label(by, str(g))), colour, dash, visible=(by == "direction")
            )
        spans[by] = (start, len(data))
    k = len(data)
    buttons = [
        {"label": f"by {by}", "method": "update", "args": [{"visible": [a <= j < b for j in range(k)]}]}
        for by, (a, b) in spans.items()
    ]
    lay = base_layout(
        "CAAR by direction or category of the news",
        "CAAR (%)",
        xaxis=day_xaxis(res.config.window),
        shapes=day_shapes(),
        updatemenus=[
            {
                "buttons": buttons,
                "direction": "down",
                "x": 1.0,
                "xanchor": "right",
                "y": 1.14,
                "yanchor": "top",
                "showactive": True,
                "active": 0,
            }
        ],
    )
    return make_figure(data, lay)


def aar_by_day(res: StudyResult, look: Lookup) -> Figure:
    """Average abnormal return of each event-window day with its 95% interval; a menu picks the group
    (all pairs, the markets of :func:`shown_markets`, each direction).

    Reads the single-day windows ``d:d`` of the headlines table: bars are the
    AAR (exact duplicates once), whiskers the 95% interval and the label the
    stars of the dependence-robust headline test (see
    :data:`~eventstudy.report.views.PRIMARY_TESTS`).
    """
    days = day_windows(look, res.config.window)
    groups = [("all", "all")]
    groups += [("market", g) for g in shown_markets(res, look.groups.get("market", []))]
    groups += [("direction", g) for g in look.groups.get("direction", [])]
    series: list[dict[str, Any]] = []
    for by, g in groups:
        hs = [headline(look, by, g, (d, d), brief=True) for d, _ in days]
        y = np.array([h.caar_value for h in hs], dtype=float)
        up = np.array([h.ci_high for h in hs], dtype=float) - y
        series.append(
            {
                "label": fmt.plot_text(group_label(by, g)),
                "y": rounded(100 * y),
                "err": rounded(100 * up),
                "text": [h.stars for h in hs],
                "customdata": [[h.p or "n/a", h.test or "no test", h.n] for h in hs],
            }
        )
    x = [d for d, _ in days]
    s0 = series[0]
    data = [
        {
            "type": "bar",
            "x": x,
            "y": s0["y"],
            "error_y": {"type": "data", "array": s0["err"], "color": "#333"},
            "text": s0["text"],
            "textposition": "outside",
            "cliponaxis": False,
            "customdata": s0["customdata"],
            "marker": {"color": [PALETTE[0] if d != 0 else PALETTE[3] for d in x]},
            "name": "AAR",
            "hovertemplate": "day %{x}: AAR %{y:.3f}% ± %{error_y.array:.3f}<br>p %{customdata[0]} "
            "(%{customdata[1]}), %{customdata[2]} pairs<extra></extra>",
        }
    ]

    def title(label: str) -> str:
        return f"Average abnormal return by day, {label}"

    buttons = [
        {
            "label": s["label"],
            "method": "update",
            "args": [
                {
                    "y": [s["y"]],
                    "error_y.array": [s["err"]],
                    "text": [s["text"]],
                    "customdata": [s["customdata"]],
                },
                {"title.text": title(s["label"])},
            ],
        }
        for s in series
    ]
    lay = base_layout(
        title(s0["label"]),
        "AAR (%)",
        xaxis=day_xaxis(res.config.window),
        shapes=[day_shapes()[1]],
        showlegend=False,
        margin={"t": 90},
        updatemenus=[
            {
                "buttons": buttons,
                "direction": "down",
                "x": 1.0,
                "xanchor": "right",
                "y": 1.16,
                "yanchor": "top",
                "showactive": True,
                "active": 0,
            }
        ],
    )
    return make_figure(data, lay)


def caar_windows(res: StudyResult) -> Figure:
    """CAAR per market and CAR window with 95% intervals.

    Estimates and intervals of the dependence-robust headline test
    (``headlines.csv``: exact duplicates once, clusters of dependent pairs);
    a result without that table shows the cross-sectional interval.
    """
    wins = [format_window(w) for w in res.config.car_windows]
    rob = res.headlines("market")
    if len(rob):
        c = rob.rename(columns={"estimate": "caar", "n_pairs": "n"})
        c["hi"] = c["ci_high"]
    else:
        c = res.caar("market")
        c["hi"] = [ci95(a, s, n)[1] for a, s, n in zip(c["caar"], c["sd"], c["n"], strict=True)]
    c = c[c["window"].isin(wins)]
    shown = shown_markets(res, c["group"].astype(str).unique())
    rank = {m: i for i, m in enumerate(shown)}
    c = c[c["group"].astype(str).isin(shown)]
    c = c.assign(_order=[rank[str(g)] for g in c["group"]]).sort_values(
        "_order", kind="stable"
    )  # study's order
    data: list[dict[str, Any]] = []
    for i, (win, g) in enumerate(c.groupby("window", sort=False)):
        up = [h - a if np.isfinite(h) else np.nan for h, a in zip(g["hi"], g["caar"], strict=True)]
        data.append(
            {
                "type": "bar",
                "x": [fmt.plot_text(market_name(str(s))) for s in g["group"]],
                "y": rounded(100 * g["caar"].to_numpy(dtype=float)),
                "error_y": {
                    "type": "data",
                    "array": rounded(100 * np.asarray(up, dtype=float)),
                    "color": "#333",
                },
                "name": f"CAR {win}",
                "marker": {
                    "color": PALETTE[i % len(PALETTE)],
                    "pattern": {"shape": PATTERNS[i % len(PATTERNS)]},
                },
                "customdata": [int(v) for v in g["n"]],
                "hovertemplate": "%{x}<br>CAAR %{y:.2f}% ± %{error_y.array:.2f}<br>n = %{customdata}"
                f"<extra>window {win}</extra>",
            }
        )
    lay = base_layout(
        "Average CAR by market and window (95% intervals)",
        "CAAR (%)",
        barmode="group",
        shapes=[day_shapes()[1]],
    )
    return make_figure(data, lay)
