"""The report's charts in page order, each with its fixed element id and caption.

:func:`figure_specs` decides which charts a study gets (no abnormal-returns
paths with ``detail="pairs"``, the placebo histogram only when the result has
placebo draws, a note when only the first
:data:`~eventstudy.report.figures.MAX_MARKETS` markets are drawn) and builds
them with :mod:`eventstudy.report.figures`, :mod:`eventstudy.report.eventfigs`
and :mod:`eventstudy.report.levelfig`.
:func:`~eventstudy.report.render.render_report` embeds them;
:func:`~eventstudy.report.export_png` writes them as PNG files.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..config import format_window
from . import eventfigs, figstyle, figures, levelfig, tablerows, views

if TYPE_CHECKING:
    from ..results import StudyResult

__all__ = ["figure_specs", "per_pair_only"]

#: Charts drawn from the abnormal-returns table (absent with ``detail="pairs"``).
_AR_FIGURES = frozenset({"fig-caar-market", "fig-caar-group", "fig-ar-event"})


def per_pair_only(res: StudyResult) -> bool:
    """Whether ``res`` was run with ``detail="pairs"`` (no abnormal-returns table)."""
    params = res.manifest.get("parameters") or {}
    return params.get("detail") == "pairs"


#: Charts drawn market by market (at most figures.MAX_MARKETS markets).
_MARKET_FIGURES = {
    "fig-aar-day",  # its menu of markets
    "fig-caar-market",
    "fig-caar-windows",
    "fig-car-heatmap",
    "fig-ar-event",
    "fig-levels",
}


def figure_specs(
    res: StudyResult,
    info: views.EventInfo | None = None,
    look: views.Lookup | None = None,
    placebo: Any = "auto",
    plain: bool = False,
) -> list[dict[str, Any]]:
    """The report's charts in page order: ``{"id", "fig", "caption"}`` per chart.

    ``id`` is the fixed element id of the chart (also the PNG file name of
    :func:`~eventstudy.report.export_png`). The placebo distribution is drawn
    when ``placebo`` (a table ``window, caar``; by default looked up in the
    result's tables) provides one. ``fig`` is a
    :class:`plotly.graph_objects.Figure`, or with ``plain=True`` the figure's
    plain dictionaries (:data:`~eventstudy.report.figstyle.Figure`; what the
    report embeds, without building graph objects).
    """
    info = info if info is not None else views.event_info(res)
    look = look if look is not None else views.Lookup.of(res)
    n_markets = len(res.symbols)
    capped = (
        f" Only the first {figures.MAX_MARKETS} of the {n_markets} markets are drawn; every pair is in "
        "car.csv."
        if n_markets > figures.MAX_MARKETS
        else ""
    )
    if isinstance(placebo, str):
        placebo = views.placebo_table(views.extra_tables(res))
    lo, hi = res.config.window
    mw = format_window(res.config.car_windows[0])
    out: list[dict[str, Any]] = []
    if len(tablerows.day_windows(look, res.config.window)) > 1:
        out.append(
            {
                "id": "fig-aar-day",
                "fig": figures.aar_by_day(res, look),
                "caption": "Average abnormal return (AAR) of each day of the event window across pairs; "
                "whiskers: 95% interval and stars: the headline test of that single day (cluster_t, "
                "valid when markets and overlapping windows are dependent) "
                "(menu: all pairs, one market, one direction). Day 0 in vermillion.",
            }
        )
    out += [
        {
            "id": "fig-caar-market",
            "fig": figures.caar_by_market(res),
            "caption": f"Mean of each pair's abnormal return cumulated from day {lo:+d}, per market; "
            "shaded: 95% cross-sectional interval of that mean (mean ± t·sd/√n over pairs; it treats "
            "pairs as independent, so it is too narrow where events overlap in time: the headline "
            "intervals under Summary account for that). "
            "Click a legend entry to hide or show it; “All pairs” is hidden at first.",
        },
        {
            "id": "fig-caar-group",
            "fig": figures.caar_by_group(res),
            "caption": "The same path for pairs grouped by the direction of the news (menu: by category). "
            "Escalation is the −1 direction of the events file, de-escalation +1.",
        },
        {
            "id": "fig-caar-windows",
            "fig": figures.caar_windows(res),
            "caption": "Average CAR per market for each CAR window; whiskers: 95% interval of the headline "
            "test (cluster_t: a market's events that overlap in time are not independent).",
        },
        {
            "id": "fig-car-heatmap",
            "fig": eventfigs.car_heatmap(res, info),
            "caption": f"CAR of each event (rows, oldest first) in each market (columns), window {mw} "
            "(menu: other windows). Stars: the pair's own t test (*** p < 0.01, ** p < 0.05, * p < 0.10); "
            "blank: the pair was not studied or was excluded.",
        },
        {
            "id": "fig-ar-event",
            "fig": eventfigs.ar_by_event(res, info),
            "caption": f"Daily abnormal returns of one event in every market over days {lo:+d} to {hi:+d}; "
            "the menu picks the event (it opens on the event with the largest average absolute CAR), and so "
            "does the event picker under One event.",
        },
        {
            "id": "fig-levels",
            "fig": levelfig.index_levels(res, info),
            "caption": "Closing levels downsampled to weekly (last close of each week) to keep the file "
            "small; "
            "markers sit at the daily close of each event's day 0: ▼ escalation, ▲ de-escalation, "
            "● unclear (events after the end of a market's data are not marked). Hover for title, dates "
            "and source.",
        },
    ]
    if per_pair_only(res):  # no abnormal-returns table: no paths, no daily ARs
        out = [f for f in out if f["id"] not in _AR_FIGURES]
    for f in out:
        if f["id"] in _MARKET_FIGURES:
            f["caption"] += capped
    if placebo is not None and len(placebo):
        out.append(
            {
                "id": "fig-placebo",
                "fig": eventfigs.placebo_histogram(res, placebo),
                "caption": "CAAR of the same window placed at every position of the estimation period "
                "(no refit), observed CAAR dashed; the placebo p-value is in the tests table.",
            }
        )
    if not plain:
        import plotly.graph_objects as go

        for f in out:
            f["fig"] = go.Figure(f["fig"], _validate=figstyle.VALIDATE)
    return out
