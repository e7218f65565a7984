"""The index-levels chart: each market's closing level with its events' day 0 marked.

Like :mod:`eventstudy.report.eventfigs`, it returns plain dictionaries
(:data:`~eventstudy.report.figstyle.Figure`) and reads only the result's
prices and tables; texts from events or files (titles, sources, exclusion
reasons) go through :func:`~eventstudy.report.fmt.plot_text`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import numpy as np
import pandas as pd

from ..markets import market_name
from . import fmt
from .figstyle import AXIS, DIRECTION_STYLE, Figure, base_layout, direction_int, make_figure, rounded
from .figures import shown_markets
from .views import EventInfo

if TYPE_CHECKING:
    from ..results import StudyResult

__all__ = ["index_levels", "weekly_last"]


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


def weekly_last(closes: pd.Series, rule: str = "W-FRI") -> tuple[list[str], np.ndarray]:
    """The dates (``YYYY-MM-DD``) and values of ``closes.resample(rule).last().dropna()``.

    For ``W-FRI`` on dates without a time of day (daily closes, sorted), counted
    directly: a week runs Saturday to Friday, is labelled by its Friday and takes
    its last available close (weeks without one are left out), without pandas'
    resampler (a few milliseconds a market). Other rules and indexes go through
    pandas.
    """
    idx = closes.index
    plain = (
        rule == "W-FRI"
        and isinstance(idx, pd.DatetimeIndex)
        and idx.tz is None
        and idx.is_monotonic_increasing
        and bool((idx == idx.normalize()).all())
    )
    if not plain:
        wk = closes.resample(rule).last().dropna()
        return wk.index.strftime("%Y-%m-%d").tolist(), wk.to_numpy()
    values = closes.to_numpy(dtype=float)
    ok = ~np.isnan(values)
    days = idx.to_numpy().astype("datetime64[D]")[ok]
    # 1970-01-01 was a Thursday: Monday = 0 … Friday = 4; each day's week ends on its Friday
    weekday = (days.astype(np.int64) + 3) % 7
    friday = days + ((4 - weekday) % 7).astype("timedelta64[D]")
    last = np.r_[friday[1:] != friday[:-1], True] if len(friday) else np.zeros(0, dtype=bool)
    return np.datetime_as_string(friday[last], unit="D").tolist(), values[ok][last]


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
        lay_axes[f"yaxis{ax}"] = dict(AXIS, domain=[max(top - h, 0.0), top], tickformat=",.0f")
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
        week_x, week_y = weekly_last(closes, rule)
        data.append(
            {
                "type": "scatter",
                "x": week_x,
                "y": rounded(week_y, 2),
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
        dirs = np.array([direction_int(str(info.get(e, "direction", 0))) for e in eids])
        reasons = (
            f["reason"].fillna("").astype(str).to_numpy() if "reason" in f.columns else np.full(len(f), "")
        )
        for dval, (colour, symbol, words) in DIRECTION_STYLE.items():
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
                    "y": rounded(level[m], 2),
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
    lay = base_layout(
        "Index levels (weekly closes) with the announcements' day 0",
        "",
        height=140 + 190 * n,
        legend={"orientation": "h", "y": 1.0, "yanchor": "bottom", "x": 1.0, "xanchor": "right"},
        xaxis={"anchor": f"y{'' if n == 1 else n}", "type": "date"},
        annotations=notes,
        margin={"t": 90},
    )
    lay.update(lay_axes)
    return make_figure(data, lay)
