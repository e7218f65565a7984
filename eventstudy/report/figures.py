"""Plotly figures of a study. Figures only read the result's tables."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import plotly.graph_objects as go

from ..markets import market_name

if TYPE_CHECKING:
    from ..results import StudyResult

__all__ = ["PALETTE", "aar_path", "caar_by_market"]

#: Okabe–Ito colour-blind-safe palette.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]


def _layout(fig: go.Figure, title: str, ytitle: str) -> go.Figure:
    fig.update_layout(
        title=title,
        template="plotly_white",
        colorway=PALETTE,
        yaxis_title=ytitle,
        margin={"l": 60, "r": 20, "t": 50, "b": 50},
        height=420,
        legend={"orientation": "h", "y": -0.18},
    )
    return fig


def caar_by_market(res: StudyResult) -> go.Figure:
    """CAAR per market and CAR window, with 95% cross-sectional intervals."""
    c = res.caar("market")
    fig = go.Figure()
    for i, (win, g) in enumerate(c.groupby("window", sort=False)):
        half = 1.96 * g["sd"] / np.sqrt(g["n"].clip(lower=1))
        fig.add_bar(
            x=[market_name(s) for s in g["group"]],
            y=100 * g["caar"],
            error_y={"type": "data", "array": 100 * half.fillna(0)},
            name=f"CAR {win}",
            marker_color=PALETTE[i % len(PALETTE)],
            hovertemplate="%{x}<br>CAAR %{y:.2f}%<extra>" + f"window {win}</extra>",
        )
    fig.update_layout(barmode="group")
    return _layout(fig, "Average cumulative abnormal return by market", "CAAR (%)")


def aar_path(res: StudyResult) -> go.Figure:
    """Average cumulative abnormal return over the event window, per market."""
    ar = res.abnormal_returns
    fig = go.Figure()
    lo, hi = res.config.window
    ar = ar[(ar["rel_day"] >= lo) & (ar["rel_day"] <= hi)]
    for i, (sym, g) in enumerate(ar.groupby("symbol", sort=False)):
        aar = g.groupby("rel_day")["ar"].mean()
        path = aar.fillna(0).cumsum()
        fig.add_scatter(
            x=path.index,
            y=100 * path.to_numpy(),
            mode="lines+markers",
            name=market_name(str(sym)),
            line={"color": PALETTE[i % len(PALETTE)]},
            hovertemplate="day %{x}<br>CAAR %{y:.2f}%<extra>" + market_name(str(sym)) + "</extra>",
        )
    fig.add_vline(x=0, line_dash="dot", line_color="#666")
    fig.update_xaxes(title="Trading day relative to the announcement (day 0)")
    return _layout(fig, "Cumulative average abnormal return around the events", "CAAR (%)")
