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

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import numpy as np
import pandas as pd

from ..config import format_window
from ..markets import market_name
from . import fmt
from .headlines import headline
from .tablerows import day_windows
from .views import EventInfo, Lookup, caar_path, ci95, group_label, unique

if TYPE_CHECKING:
    from ..results import StudyResult

__all__ = [
    "Figure",
    "PALETTE",
    "aar_by_day",
    "ar_by_event",
    "caar_by_group",
    "caar_by_market",
    "caar_windows",
    "car_heatmap",
    "index_levels",
    "placebo_histogram",
]

#: Okabe–Ito colour-blind-safe palette (Okabe and Ito 2008), black last.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]
_DASHES = ["solid", "dash", "dot", "dashdot", "longdash", "longdashdot"]
_PATTERNS = ["", "/", ".", "x", "-", "+", "\\", "|"]
#: Direction → (colour, marker symbol, words): escalation vermillion ▼, de-escalation blue ▲.
_DIRECTION_STYLE: dict[int, tuple[str, str, str]] = {
    -1: ("#D55E00", "triangle-down", "escalation"),
    1: ("#0072B2", "triangle-up", "de-escalation"),
    0: ("#7F7F7F", "circle", "unclear direction"),
}
#: Diverging scale, vermillion (negative) – white – blue (positive).
_DIVERGING = [[0.0, "#D55E00"], [0.5, "#F7F7F7"], [1.0, "#0072B2"]]
_DAY_AXIS = (
    "Trading day relative to day 0 (first session closing after the earliest possible time of the news)"
)
_GRID = "#E6EAF0"
_AXIS = {"gridcolor": _GRID, "linecolor": "#BBBBBB", "zeroline": False, "automargin": True}


def _rgba(hex_colour: str, alpha: float) -> str:
    h = hex_colour.lstrip("#")
    r, g, b = (int(h[i : i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


def _style(i: int) -> tuple[str, str]:
    return PALETTE[i % len(PALETTE)], _DASHES[(i // len(PALETTE)) % len(_DASHES)]


def _r(v: Any, nd: int = 4) -> list[float | None]:
    """Rounded list for compact JSON; NaN → None (a gap)."""
    a = np.round(np.asarray(v, dtype=float), nd)
    return [None if not np.isfinite(x) else float(x) for x in a.ravel()]


def _layout(title: str, ytitle: str = "", height: int = 440, **extra: Any) -> dict[str, Any]:
    lay: dict[str, Any] = {
        "title": {"text": title, "x": 0.0, "xanchor": "left", "font": {"size": 15}},
        "colorway": PALETTE,
        "paper_bgcolor": "white",
        "plot_bgcolor": "white",
        "xaxis": dict(_AXIS),
        "yaxis": dict(_AXIS, title={"text": ytitle}),
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


def _figure(data: list[dict[str, Any]], layout: dict[str, Any]) -> Figure:
    """The figure of the assembled dictionaries (checked against plotly's schema when ``VALIDATE``)."""
    fig: Figure = {"data": data, "layout": layout}
    if VALIDATE:
        import plotly.graph_objects as go

        go.Figure(fig)  # raises on a property or value plotly does not know
    return fig


def _day_shapes() -> list[dict[str, Any]]:
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


def _day_xaxis(window: tuple[int, int]) -> dict[str, Any]:
    return {"title": {"text": _DAY_AXIS}, "dtick": 1 if window[1] - window[0] <= 30 else 5}


def _band(
    path: pd.DataFrame, name: str, colour: str, dash: str, visible: bool | str = True
) -> list[dict[str, Any]]:
    """Mean line and 95% band of one group (three traces)."""
    x = path["rel_day"].to_numpy().tolist()
    caar, lo, hi = (100 * path[c].to_numpy(dtype=float) for c in ("caar", "lo", "hi"))
    n = path["n"].to_numpy()
    leg = f"grp-{name}"
    common = {"x": x, "legendgroup": leg, "visible": visible}
    cd = [[a, b, int(k) if np.isfinite(k) else None] for a, b, k in zip(_r(lo, 2), _r(hi, 2), n, strict=True)]
    return [
        {
            "type": "scatter",
            **common,
            "y": _r(hi),
            "mode": "lines",
            "line": {"width": 0},
            "hoverinfo": "skip",
            "showlegend": False,
        },
        {
            "type": "scatter",
            **common,
            "y": _r(lo),
            "mode": "lines",
            "line": {"width": 0},
            "fill": "tonexty",
            "fillcolor": _rgba(colour, 0.16),
            "hoverinfo": "skip",
            "showlegend": False,
        },
        {
            "type": "scatter",
            **common,
            "y": _r(caar),
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
        colour, dash = _style(i)
        data += _band(groups[g], fmt.plot_text(market_name(g)), colour, dash)
    allp = caar_path(res, "all")
    if len(allp):
        data += _band(allp, "All pairs", "#000000", "dash", visible="legendonly")
    lay = _layout(
        "Cumulative average abnormal return around the announcements, by market",
        "CAAR (%)",
        xaxis=_day_xaxis(res.config.window),
        shapes=_day_shapes(),
    )
    return _figure(data, lay)


def _direction_int(g: str) -> int:
    try:
        return int(float(g))
    except ValueError:
        return 0


def caar_by_group(res: StudyResult) -> Figure:
    """CAAR paths by direction (shown) or by category (menu), with 95% bands."""
    data: list[dict[str, Any]] = []
    spans: dict[str, tuple[int, int]] = {}
    for by in ("direction", "category"):
        path = caar_path(res, by)
        start = len(data)
        for i, (g, sub) in enumerate(path.groupby("group", sort=False)):
            if by == "direction":
                colour = _DIRECTION_STYLE.get(_direction_int(str(g)), ("#000000", "", ""))[0]
                dash = ["solid", "dash", "dot"][i % 3]
            else:
                colour, dash = _style(i)
            data += _band(
                sub, fmt.plot_text(group_label(by, str(g))), colour, dash, visible=(by == "direction")
            )
        spans[by] = (start, len(data))
    k = len(data)
    buttons = [
        {"label": f"by {by}", "method": "update", "args": [{"visible": [a <= j < b for j in range(k)]}]}
        for by, (a, b) in spans.items()
    ]
    lay = _layout(
        "CAAR by direction or category of the news",
        "CAAR (%)",
        xaxis=_day_xaxis(res.config.window),
        shapes=_day_shapes(),
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
    return _figure(data, lay)


def aar_by_day(res: StudyResult, look: Lookup) -> Figure:
    """Average abnormal return of each event-window day with its 95% interval; a menu picks the group.

    Reads the single-day windows ``d:d`` of the headlines table: bars are the
    AAR (exact duplicates once), whiskers the 95% interval and the label the
    stars of the dependence-robust headline test (see
    :data:`~eventstudy.report.views.PRIMARY_TESTS`).
    """
    days = day_windows(look, res.config.window)
    groups = [("all", "all")]
    groups += [("market", g) for g in look.groups.get("market", [])]
    groups += [("direction", g) for g in look.groups.get("direction", [])]
    series: list[dict[str, Any]] = []
    for by, g in groups:
        hs = [headline(look, by, g, (d, d)) for d, _ in days]
        y = np.array([h.caar_value for h in hs], dtype=float)
        up = np.array([h.ci_high for h in hs], dtype=float) - y
        series.append(
            {
                "label": fmt.plot_text(group_label(by, g)),
                "y": _r(100 * y),
                "err": _r(100 * up),
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
    lay = _layout(
        title(s0["label"]),
        "AAR (%)",
        xaxis=_day_xaxis(res.config.window),
        shapes=[_day_shapes()[1]],
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
    return _figure(data, lay)


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
    c = c.assign(_r=[rank[str(g)] for g in c["group"]]).sort_values("_r", kind="stable")  # study's order
    data: list[dict[str, Any]] = []
    for i, (win, g) in enumerate(c.groupby("window", sort=False)):
        up = [h - a if np.isfinite(h) else np.nan for h, a in zip(g["hi"], g["caar"], strict=True)]
        data.append(
            {
                "type": "bar",
                "x": [fmt.plot_text(market_name(str(s))) for s in g["group"]],
                "y": _r(100 * g["caar"].to_numpy(dtype=float)),
                "error_y": {"type": "data", "array": _r(100 * np.asarray(up, dtype=float)), "color": "#333"},
                "name": f"CAR {win}",
                "marker": {
                    "color": PALETTE[i % len(PALETTE)],
                    "pattern": {"shape": _PATTERNS[i % len(_PATTERNS)]},
                },
                "customdata": [int(v) for v in g["n"]],
                "hovertemplate": "%{x}<br>CAAR %{y:.2f}% ± %{error_y.array:.2f}<br>n = %{customdata}"
                f"<extra>window {win}</extra>",
            }
        )
    lay = _layout(
        "Average CAR by market and window (95% intervals)",
        "CAAR (%)",
        barmode="group",
        shapes=[_day_shapes()[1]],
    )
    return _figure(data, lay)


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
            "y": _r(arr[e0, j], 3) if events else [],
            "name": names(e0)[j] if events else mnames[j],
            "marker": {
                "color": PALETTE[j % len(PALETTE)],
                "pattern": {"shape": _PATTERNS[j % len(_PATTERNS)]},
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
                {"y": [_r(arr[i, j], 3) for j in range(len(syms))], "name": names(i)},
                {"title.text": title(eid)},
            ],
        }
        for i, eid in enumerate(events)
    ]
    lay = _layout(
        title(first) if events else "Abnormal returns",
        "AR (%)",
        height=500,
        barmode="group",
        xaxis=_day_xaxis(res.config.window),
        shapes=_day_shapes(),
        margin={"t": 110},
        updatemenus=[
            {
                "buttons": buttons,
                "direction": "down",
                "active": e0,
                "x": 0.0,
                "xanchor": "left",
                "y": 1.2,
                "yanchor": "top",
                "showactive": True,
            }
        ],
    )
    return _figure(data, lay)


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
            "z": [_r(row, 3) for row in z],
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
                "colorscale": _DIVERGING,
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
    lay = _layout(
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
    return _figure(data, lay)


def _source_lines(src: Any, width: int = 60, max_lines: int = 3) -> str:
    """Sources as short lines (each URL reduced to its host), escaped, joined by ``<br>``."""
    parts = [p.strip() for p in str(src or "").split(";") if p.strip()]
    out = []
    for p in parts[:max_lines]:
        words = []
        for w in p.split():
            if w.startswith(("http://", "https://")):
                host = urlsplit(w).hostname or w
                words.append(f"({host.removeprefix('www.')})")
            else:
                words.append(w)
        out.append(fmt.plot_text(fmt.shorten(" ".join(words), width)))
    if len(parts) > max_lines:
        out.append(f"(+{len(parts) - max_lines} more)")
    return "<br>".join(out) if out else "n/a"


def index_levels(res: StudyResult, info: EventInfo, rule: str = "W-FRI") -> Figure:
    """Each index's closing level (weekly: last close of each week) with its events' day 0 marked.

    Markers sit at the daily close of the event's day 0 (so they may lie
    slightly off the weekly line); hover gives title, dates, direction and
    source. Pairs that were excluded are marked too, with their reason.
    """
    syms = shown_markets(res, [s for s in res.symbols if s in res.prices.closes])
    n = max(len(syms), 1)
    gap = min(0.05, 0.25 / n)
    h = (1 - gap * (n - 1)) / n
    fits = res.fits_table
    data: list[dict[str, Any]] = []
    lay_axes: dict[str, Any] = {}
    notes = []
    shown: set[int] = set()
    for i, s in enumerate(syms):
        ax = "" if i == 0 else str(i + 1)
        top = 1 - i * (h + gap)
        lay_axes[f"yaxis{ax}"] = dict(_AXIS, domain=[max(top - h, 0.0), top], tickformat=",.0f")
        notes.append(
            {
                "text": f"<b>{fmt.plot_text(market_name(s))}</b>",
                "x": 0,
                "xref": "paper",
                "xanchor": "left",
                "y": top,
                "yref": "paper",
                "yanchor": "bottom",
                "showarrow": False,
                "font": {"size": 12},
            }
        )
        closes = res.prices.closes[s].sort_index()
        wk = closes.resample(rule).last().dropna()
        data.append(
            {
                "type": "scatter",
                "x": wk.index.strftime("%Y-%m-%d").tolist(),
                "y": _r(wk.to_numpy(), 2),
                "xaxis": "x",
                "yaxis": f"y{ax}",
                "mode": "lines",
                "line": {"color": "#555", "width": 1.2},
                "showlegend": False,
                "name": fmt.plot_text(market_name(s)),
                "xhoverformat": "%Y-%m-%d",
                "hovertemplate": "week to %{x}: %{y:,.0f}<extra>"
                + fmt.plot_text(market_name(s))
                + "</extra>",
            }
        )
        f = fits[(fits["symbol"] == s) & fits["day0"].notna()]
        if len(closes):
            f = f[(f["day0"] >= closes.index[0]) & (f["day0"] <= closes.index[-1])]
        if f.empty:
            continue
        d0 = pd.DatetimeIndex(f["day0"])
        level = np.array(closes.reindex(d0).to_numpy(dtype=float), copy=True)
        miss = ~np.isfinite(level)
        if miss.any():
            level[miss] = closes.asof(d0[miss]).to_numpy(dtype=float)
        eids = f["event_id"].astype(str).to_numpy()
        dirs = np.array([_direction_int(str(info.get(e, "direction", 0))) for e in eids])
        reasons = (
            f["reason"].fillna("").astype(str).to_numpy() if "reason" in f.columns else np.full(len(f), "")
        )
        for dval, (colour, symbol, words) in _DIRECTION_STYLE.items():
            m = dirs == dval
            if not m.any():
                continue
            cd = [
                [
                    fmt.plot_text(fmt.shorten(info.title(e), 100)),
                    fmt.plot_text(info.get(e, "announced")),
                    str(d.date()),
                    _source_lines(info.get(e, "source")),
                    ("<br>excluded: " + fmt.plot_text(r)) if r else "",
                ]
                for e, d, r in zip(eids[m], d0[m], reasons[m], strict=True)
            ]
            data.append(
                {
                    "type": "scatter",
                    "x": d0[m].strftime("%Y-%m-%d").tolist(),
                    "y": _r(level[m], 2),
                    "xaxis": "x",
                    "yaxis": f"y{ax}",
                    "mode": "markers",
                    "name": words,
                    "marker": {
                        "color": colour,
                        "symbol": symbol,
                        "size": 9,
                        "line": {"width": 0.5, "color": "#fff"},
                    },
                    "legendgroup": f"dir{dval}",
                    "showlegend": dval not in shown,
                    "customdata": cd,
                    "xhoverformat": "%Y-%m-%d",
                    "hovertemplate": "<b>%{customdata[0]}</b><br>announced %{customdata[1]}; "
                    "day 0 %{customdata[2]}<br>close %{y:,.0f}<br>"
                    "source: %{customdata[3]}%{customdata[4]}<extra></extra>",
                }
            )
            shown.add(dval)
    lay = _layout(
        "Index levels (weekly closes) with the announcements' day 0",
        "",
        height=140 + 190 * n,
        legend={"orientation": "h", "y": 1.0, "yanchor": "bottom", "x": 1.0, "xanchor": "right"},
        xaxis={"anchor": f"y{'' if n == 1 else n}", "type": "date"},
        annotations=notes,
        margin={"t": 90},
    )
    lay.update(lay_axes)
    return _figure(data, lay)


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
                "x": _r(v),
                "name": f"placebo {w}",
                "marker": {"color": _rgba(colour, 0.55)},
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
    lay = _layout(
        "Placebo distribution of the CAAR, observed value dashed",
        "placebo positions",
        barmode="overlay",
        yaxis2={"overlaying": "y", "range": [0, 1], "visible": False},
        xaxis={"title": {"text": "CAAR (%) of the same window placed inside the estimation period"}},
    )
    return _figure(data, lay)
