"""Figures per event: AR by event, the CAR heat map, placebo draws.

Like :mod:`eventstudy.report.figures`, each returns plain dictionaries
(:data:`~eventstudy.report.figstyle.Figure`) and reads only the result's tables;
texts from events or files go through :func:`~eventstudy.report.fmt.plot_text`.
The index levels with the events' day 0 marked are drawn by
:func:`~eventstudy.report.levelfig.index_levels` (also importable from here).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..config import format_window
from ..markets import market_name
from . import fmt
from .figstyle import (
    DIVERGING,
    PALETTE,
    PATTERNS,
    Figure,
    base_layout,
    day_shapes,
    day_xaxis,
    make_figure,
    rgba,
    rounded,
)
from .figures import shown_markets
from .levelfig import index_levels
from .views import EventInfo, unique

if TYPE_CHECKING:
    from ..results import StudyResult

__all__ = ["ar_by_event", "car_heatmap", "index_levels", "placebo_histogram"]


def _event_order(info: EventInfo, events: Sequence[str]) -> list[str]:
    return sorted(events, key=lambda e: (str(info.get(e, "date")), e))


def ar_by_event(res: StudyResult, info: EventInfo) -> Figure:
    """Daily abnormal returns of one event in every market; a menu picks the event.

    Opens on the event with the largest mean absolute CAR of the main window.
    The legend gives each market's day 0 of the chosen event.
    """
    lo, hi = res.config.window
    ar = res.abnormal_returns
    ar = ar[(ar["rel_day"] >= lo) & (ar["rel_day"] <= hi)]
    days = np.arange(lo, hi + 1)
    syms = shown_markets(res, ar["symbol"].unique())
    events = _event_order(info, unique(ar["event_id"]))
    main = format_window(res.config.car_windows[0])
    car = res.car_table
    car = car[car["window"] == main]
    strength = car.assign(a=car["car"].abs()).groupby("event_id")["a"].mean()
    first = str(strength.idxmax()) if strength.notna().any() else (events[0] if events else "")
    key = ar.set_index(["event_id", "symbol", "rel_day"])
    key = key[~key.index.duplicated()]
    full = pd.MultiIndex.from_product([events, syms, days.tolist()])
    shape = (len(events), len(syms), len(days))
    arr = (100 * key["ar"].reindex(full).to_numpy(dtype=float)).reshape(shape)
    d0 = car.set_index(["event_id", "symbol"])["day0"]
    d0 = d0[~d0.index.duplicated()].reindex(pd.MultiIndex.from_product([events, syms]))
    d0s = np.array(["" if pd.isna(d) else str(pd.Timestamp(d).date()) for d in d0], dtype=object).reshape(
        len(events), len(syms)
    )
    mnames = [fmt.plot_text(market_name(s)) for s in syms]

    def names(i: int) -> list[str]:
        return [
            f"{m} (day 0 {d0s[i, j]})" if d0s[i, j] else f"{m} (not studied)" for j, m in enumerate(mnames)
        ]

    def title(eid: str) -> str:
        return (
            f"Abnormal returns: {fmt.plot_text(fmt.shorten(info.title(eid), 90))} ({info.get(eid, 'date')})"
        )

    e0 = events.index(first) if first in events else 0
    data = [
        {
            "type": "bar",
            "x": days.tolist(),
            "y": rounded(arr[e0, j], 3) if events else [],
            "name": names(e0)[j] if events else mnames[j],
            "marker": {
                "color": PALETTE[j % len(PALETTE)],
                "pattern": {"shape": PATTERNS[j % len(PATTERNS)]},
            },
            "hovertemplate": f"{m}<br>day %{{x}}: AR %{{y:.2f}}%<extra></extra>",
        }
        for j, m in enumerate(mnames)
    ]
    buttons = [
        {
            "label": fmt.plot_text(f"{info.get(eid, 'date')} {fmt.shorten(info.title(eid), 48)}"),
            "name": fmt.plot_text(eid),  # the page's event picker selects the event by this name
            "method": "update",
            "args": [
                {"y": [rounded(arr[i, j], 3) for j in range(len(syms))], "name": names(i)},
                {"title.text": title(eid)},
            ],
        }
        for i, eid in enumerate(events)
    ]
    lay = base_layout(
        title(first) if events else "Abnormal returns",
        "AR (%)",
        height=500,
        barmode="group",
        xaxis=day_xaxis(res.config.window),
        shapes=day_shapes(),
        margin={"t": 110},
        updatemenus=[
            {
                "buttons": buttons,
                "direction": "down",
                "active": e0,
                "x": 0.0,
                "xanchor": "left",
                "y": 1.0,  # just above the plot, under the title
                "yanchor": "bottom",
                "pad": {"b": 6},
                "showactive": True,
            }
        ],
    )
    return make_figure(data, lay)


def car_heatmap(res: StudyResult, info: EventInfo) -> Figure:
    """Event × market heatmap of CARs (stars: the pair's own t test); a menu picks the window.

    The colour scale is symmetric around zero and saturates at the 98th
    percentile of |CAR| of the window, so that one crash does not wash out
    every other cell (hover shows the exact value).
    """
    car = res.car_table
    syms = shown_markets(res, car["symbol"].unique())
    events = _event_order(info, unique(car["event_id"]))
    windows = unique(car["window"])
    idx = pd.MultiIndex.from_product([events, syms])
    shape = (len(events), len(syms))
    mats: dict[str, dict[str, Any]] = {}
    for w in windows:
        sub = car[car["window"] == w].set_index(["event_id", "symbol"])
        sub = sub[~sub.index.duplicated()].reindex(idx)
        z = (100 * sub["car"].to_numpy(dtype=float)).reshape(shape)
        p = sub["p_value"].to_numpy(dtype=float).reshape(shape)
        st = np.where(p < 0.01, "***", np.where(p < 0.05, "**", np.where(p < 0.1, "*", "")))
        cap = float(np.nanpercentile(np.abs(z), 98)) if np.isfinite(z).any() else 1.0
        mats[w] = {
            "z": [rounded(row, 3) for row in z],
            "text": st.tolist(),
            "customdata": [[fmt.fmt_p(v) or "n/a" for v in row] for row in p],
            "cap": round(max(cap, 0.1), 3),
        }
    ticks = [fmt.plot_text(f"{info.get(e, 'date')} {fmt.shorten(info.title(e), 64)}") for e in events]
    hover = [[fmt.plot_text(fmt.shorten(info.title(e), 120))] * len(syms) for e in events]
    w0 = windows[0] if windows else ""
    data: list[dict[str, Any]] = []
    if windows:
        m = mats[w0]
        data.append(
            {
                "type": "heatmap",
                "z": m["z"],
                "x": [fmt.plot_text(market_name(s)) for s in syms],
                "y": list(range(len(events))),
                "text": m["text"],
                "texttemplate": "%{text}",
                "textfont": {"size": 10},
                "hovertext": hover,
                "customdata": m["customdata"],
                "colorscale": DIVERGING,
                "zmid": 0,
                "zmin": -m["cap"],
                "zmax": m["cap"],
                "hoverongaps": False,
                "colorbar": {"title": {"text": "CAR (%)"}},
                "hovertemplate": "%{hovertext}<br>%{x}: CAR %{z:.2f}% (p %{customdata})<extra></extra>",
            }
        )

    def title(w: str) -> str:
        return f"CAR of every event and market, window {w}"

    buttons = [
        {
            "label": f"window {w}",
            "method": "update",
            "args": [
                {
                    "z": [mats[w]["z"]],
                    "text": [mats[w]["text"]],
                    "customdata": [mats[w]["customdata"]],
                    "zmin": [-mats[w]["cap"]],
                    "zmax": [mats[w]["cap"]],
                },
                {"title.text": title(w)},
            ],
        }
        for w in windows
    ]
    lay = base_layout(
        title(w0),
        "",
        height=max(420, 130 + 15 * len(events)),
        margin={"l": 430, "t": 110, "b": 30},
        xaxis={"side": "top"},
        yaxis={
            "tickmode": "array",
            "tickvals": list(range(len(events))),
            "ticktext": ticks,
            "autorange": "reversed",
            "tickfont": {"size": 9},
            "gridcolor": "rgba(0,0,0,0)",
        },
        updatemenus=[
            {
                "buttons": buttons,
                "direction": "down",
                "x": 1.0,
                "xanchor": "right",
                "y": 1.0,
                "yanchor": "bottom",
                "pad": {"b": 30},
                "showactive": True,
                "active": 0,
            }
        ],
    )
    return make_figure(data, lay)


def placebo_histogram(res: StudyResult, placebo: pd.DataFrame) -> Figure:
    """Distribution of placebo CAARs per window with the observed CAAR marked.

    ``placebo`` holds one row per placebo position (``window, caar``, and
    optionally ``group_by``/``group``; only the overall group is drawn).
    """
    p = placebo
    if "group_by" in p.columns:
        p = p[p["group_by"] == "all"]
    obs = res.caar("all").set_index("window")["caar"]
    data: list[dict[str, Any]] = []
    for i, w in enumerate(unique(p["window"])):
        v = 100 * p.loc[p["window"].astype(str) == w, "caar"].to_numpy(dtype=float)
        colour = PALETTE[i % len(PALETTE)]
        vis: bool | str = True if i == 0 else "legendonly"
        data.append(
            {
                "type": "histogram",
                "x": rounded(v),
                "name": f"placebo {w}",
                "marker": {"color": rgba(colour, 0.55)},
                "nbinsx": 40,
                "visible": vis,
                "legendgroup": w,
                "hovertemplate": "CAAR %{x}%: %{y} placebo positions<extra>" + f"{w}</extra>",
            }
        )
        if w in obs.index and np.isfinite(obs[w]):
            x = round(100 * float(obs[w]), 4)
            data.append(
                {
                    "type": "scatter",
                    "x": [x, x],
                    "y": [0, 1],
                    "yaxis": "y2",
                    "mode": "lines",
                    "name": f"observed {w}",
                    "line": {"color": colour, "width": 3, "dash": "dash"},
                    "legendgroup": w,
                    "visible": vis,
                    "hovertemplate": f"observed CAAR {w}: " + "%{x:.2f}%<extra></extra>",
                }
            )
    lay = base_layout(
        "Placebo distribution of the CAAR, observed value dashed",
        "placebo positions",
        barmode="overlay",
        yaxis2={"overlaying": "y", "range": [0, 1], "visible": False},
        xaxis={"title": {"text": "CAAR (%) of the same window placed inside the estimation period"}},
    )
    return make_figure(data, lay)
