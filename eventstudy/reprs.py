"""Short text and HTML views of the library's objects, for the console and notebooks.

``repr()`` of :class:`~eventstudy.results.StudyResult`, :class:`~eventstudy.events.Events`
and :class:`~eventstudy.sources.base.Prices` is a few lines that say what the object
holds; ``_repr_html_`` (used by Jupyter) shows the same with a small table. Neither
ever dumps the data: the tables are one method call away.
"""

from __future__ import annotations

import html
import weakref
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .summary import headline_sentence, stars

if TYPE_CHECKING:
    from .events import Events
    from .results import StudyResult
    from .sources.base import Prices

__all__ = [
    "events_html",
    "events_repr",
    "prices_html",
    "prices_repr",
    "record_folder",
    "result_folder",
    "result_html",
    "result_repr",
]

#: Most symbols or rows a view lists before saying how many more there are.
SHOW = 8

#: Where each result was last saved or loaded from (the result itself stays immutable).
_FOLDERS: weakref.WeakKeyDictionary[Any, Path] = weakref.WeakKeyDictionary()


def record_folder(res: StudyResult, folder: str | Path) -> None:
    """Remember the output folder of ``res`` (after :meth:`StudyResult.save` or ``load``)."""
    _FOLDERS[res] = Path(folder)


def result_folder(res: StudyResult) -> Path | None:
    """The folder ``res`` was saved to or loaded from, if any."""
    return _FOLDERS.get(res)


def _more(items: list[str], limit: int = SHOW) -> str:
    text = ", ".join(items[:limit])
    return text + (f", … ({len(items) - limit} more)" if len(items) > limit else "")


def _outputs(res: StudyResult) -> str:
    folder = result_folder(res)
    if folder is None:
        return f"not saved; res.save('reports/{res.config.study_name}') writes the folder"
    return f"{folder} (index.html, car.csv, tests.csv, headlines.csv, tables.tex, …)"


def _head_line(res: StudyResult) -> str:
    cfg = res.config
    counts = res.manifest.get("counts", {})
    bench = f", benchmark {cfg.benchmark}" if cfg.benchmark else ""
    return (
        f"StudyResult '{cfg.study_name}': {cfg.model} model{bench}; {len(res.events)} events × "
        f"{len(res.symbols)} markets, {counts.get('included', '?')} pairs "
        f"({counts.get('excluded', 0)} excluded); CAR windows {', '.join(res.car_windows)}"
    )


def result_repr(res: StudyResult) -> str:
    """A few lines: what was studied, the headline, where the outputs are, what to call next."""
    return "\n".join(
        [
            "<" + _head_line(res),
            "  " + headline_sentence(res.headline),
            "  outputs: " + _outputs(res),
            "  tables: res.car(), res.tests(by=…), res.headlines(by=…), res.summary(), res.to_latex()>",
        ]
    )


def _pct(v: float) -> str:
    return f"{100 * v:+.2f}" if np.isfinite(v) else ""


def caar_view(res: StudyResult, by: str = "all") -> pd.DataFrame:
    """The CAAR of each CAR window with the headline test (``cluster_t``), formatted for reading."""
    h = res.headlines(by)
    h = h[h["window"].isin(res.car_windows)]
    return pd.DataFrame(
        {
            "group": h["group"],
            "window": h["window"],
            "CAAR (%)": [_pct(v) for v in h["estimate"]],
            "95% interval (%)": [
                f"{_pct(lo)} to {_pct(hi)}" if np.isfinite(lo) else ""
                for lo, hi in zip(h["ci_low"], h["ci_high"], strict=True)
            ],
            "t": [
                f"{v:.2f}{stars(p)}" if np.isfinite(v) else ""
                for v, p in zip(h["statistic"], h["p_value"], strict=True)
            ],
            "p": [f"{p:.4f}" if np.isfinite(p) else "" for p in h["p_value"]],
            "clusters G": h["n_clusters"],
            "pairs N": h["n_pairs"],
            "MDE (%)": [f"{100 * v:.2f}" if np.isfinite(v) else "" for v in h["mde"]],
        }
    ).reset_index(drop=True)


def result_html(res: StudyResult) -> str:
    """The headline, the CAAR table of every CAR window (headline test) and where the outputs are."""
    view = caar_view(res).drop(columns="group")
    parts = [
        f"<p><b>{html.escape(_head_line(res))}</b></p>",
        f"<p>{html.escape(headline_sentence(res.headline))}</p>",
        view.to_html(index=False, escape=True, border=0),
        "<p><small>t: cluster_t (Ibragimov–Müller t on cluster mean CARs, t(G − 1)) over G independent "
        "clusters of dependent pairs; * p &lt; 0.10, ** p &lt; 0.05, *** p &lt; 0.01.</small></p>",
        f"<p>Outputs: {html.escape(_outputs(res))}</p>",
    ]
    return "<div class='eventstudy-result'>" + "".join(parts) + "</div>"


# ----------------------------------------------------------------------- events
def _events_line(ev: Events) -> str:
    t = ev.table
    kinds = t["timing"].value_counts()
    span = ""
    if len(t):
        span = f", {t['local_date'].min().date()} to {t['local_date'].max().date()}"
    return (
        f"Events: {len(t)} from {ev.path}{span} ({int(kinds.get('instant', 0))} with a time, "
        f"{int(kinds.get('interval', 0))} within an interval, {int(kinds.get('date', 0))} date only)"
    )


def _counts(col: pd.Series) -> str:
    vc = col.astype(str).value_counts()
    return _more([f"{k} {v}" for k, v in vc.items()])


def events_repr(ev: Events) -> str:
    """A few lines: how many events, their span and timing, categories and directions."""
    t = ev.table
    dirs = t["direction"].map({1: "+1", -1: "-1", 0: "0"})
    return "\n".join(
        [
            "<" + _events_line(ev),
            "  categories: " + _counts(t["category"]),
            "  directions: " + _counts(dirs) + "; the rows: events.table>",
        ]
    )


def events_html(ev: Events) -> str:
    """The summary line and the first and last rows (id, timestamp, category, direction, title)."""
    t = ev.table.loc[:, ["event_id", "timestamp", "tz", "category", "direction", "title"]]
    shown = t if len(t) <= 2 * (SHOW // 2) + 1 else pd.concat([t.head(SHOW // 2), t.tail(SHOW // 2)])
    note = (
        ""
        if len(shown) == len(t)
        else f"<p><small>{len(t) - len(shown)} more rows in events.table</small></p>"
    )
    return (
        f"<div class='eventstudy-events'><p><b>{html.escape(_events_line(ev))}</b></p>"
        + shown.to_html(index=False, escape=True, border=0)
        + note
        + "</div>"
    )


# ----------------------------------------------------------------------- prices
def _prices_rows(p: Prices) -> pd.DataFrame:
    rows = []
    for s in p.symbols:
        c = p.closes[s]
        rows.append(
            {
                "symbol": s,
                "first": str(c.index[0].date()) if len(c) else "",
                "last": str(c.index[-1].date()) if len(c) else "",
                "closes": len(c),
                "last close": float(c.iloc[-1]) if len(c) else np.nan,
            }
        )
    return pd.DataFrame(rows, columns=["symbol", "first", "last", "closes", "last close"])


def _prices_line(p: Prices) -> str:
    origin = f", {p.origin}" if p.origin and p.origin != p.source else ""
    return f"Prices ({p.source}{origin}): {len(p.symbols)} symbols"


def prices_repr(p: Prices) -> str:
    """A few lines: source, symbols with their date ranges and number of closes."""
    r = _prices_rows(p)
    items = [
        f"{s} {a}…{b} ({n})"
        for s, a, b, n in zip(r["symbol"], r["first"], r["last"], r["closes"], strict=True)
    ]
    lines = ["<" + _prices_line(p)]
    for i in range(0, min(len(items), SHOW), 2):
        lines.append("  " + "; ".join(items[i : i + 2]))
    if len(items) > SHOW:
        lines.append(f"  … {len(items) - SHOW} more; all closes: prices.wide()")
    lines[-1] += ">"
    return "\n".join(lines)


def prices_html(p: Prices) -> str:
    """The source line and one row per symbol (first and last date, closes, last close)."""
    r = _prices_rows(p)
    shown = r.head(4 * SHOW)
    note = "" if len(shown) == len(r) else f"<p><small>{len(r) - len(shown)} more symbols</small></p>"
    return (
        f"<div class='eventstudy-prices'><p><b>{html.escape(_prices_line(p))}</b></p>"
        + shown.to_html(index=False, escape=True, border=0, float_format=lambda v: f"{v:,.2f}")
        + note
        + "</div>"
    )
