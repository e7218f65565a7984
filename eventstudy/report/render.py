"""Render the study page from Jinja2 templates (autoescaped).

The page is one self-contained HTML file: CSS, a small table-sorting script
and plotly.js are inlined (plotly.js once, in ``<head>``); every chart is a
``div.plotly-graph-div`` with a fixed id, so two renders of one result differ
only in the run timestamp. Text from events and files reaches the page only
through Jinja2's autoescaping (or :class:`markupsafe.Markup.format`, which
escapes its arguments) and reaches charts only through
:func:`~eventstudy.report.fmt.plot_text`; JSON inside ``<script>`` is escaped
so that it cannot close the element.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import jinja2
from markupsafe import Markup

from ..config import format_window
from ..inference import TESTS
from ..manifest import DAY0_RULE
from ..markets import market_name
from ..models import MODELS
from . import blocks, eventfigs, figstyle, figures, fmt, headlines, tablerows, views
from .assets import plotly_js
from .cards import event_cards
from .plotdiv import plain_div

if TYPE_CHECKING:
    from ..results import StudyResult

__all__ = ["ENV", "PLOT_CONFIG", "figure_specs", "plot_div", "render_report", "script_json"]

ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("eventstudy", "report/templates"),
    autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
    undefined=jinja2.StrictUndefined,
)

#: plotly config of every chart: no logo, no LaTeX typesetting (event titles
#: with two "$" would otherwise be taken for TeX), responsive width.
PLOT_CONFIG: dict[str, Any] = {"displaylogo": False, "responsive": True, "typesetMath": False}

_MODEL_WORDS = {
    "constant-mean": "each index's own average daily return over the estimation window",
    "market-adjusted": "the same day's return of the benchmark {b}",
    "market": "α + β × the return of the benchmark {b}, fitted by OLS over the estimation window",
    "factor": "α + Σ b × the returns of the factors {b}, fitted by OLS over the estimation window",
}


def script_json(obj: Any) -> str:
    """JSON safe inside ``<script>``: ``<``, ``>``, ``&`` and line separators escaped.

    No ``</script>``, ``<!--`` or ``]]>`` can appear in the output, and the
    result is still valid JSON (the escapes are JSON string escapes).
    """
    s = json.dumps(obj, ensure_ascii=False, sort_keys=False, default=str)
    for a, b in (
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("&", "\\u0026"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        s = s.replace(a, b)
    return s


def plot_div(fig: Any, div_id: str) -> Markup:
    """A chart as a ``div.plotly-graph-div`` with a fixed id, without plotly.js.

    ``fig`` is a plain figure dictionary (written as it is: plotly's JSON
    encoder, no graph objects; :func:`~eventstudy.report.plotdiv.plain_div`
    writes plotly's text without importing plotly's validators) or a
    :class:`plotly.graph_objects.Figure` (validated, with its template, as
    plotly writes it).
    """
    if isinstance(fig, dict):
        fast = plain_div(fig, div_id, PLOT_CONFIG)
        if fast is not None:
            return Markup(fast)
    import plotly.io as pio

    html: str = pio.to_html(
        fig,
        include_plotlyjs=False,
        full_html=False,
        div_id=div_id,
        config=PLOT_CONFIG,
        validate=not isinstance(fig, dict),
    )
    return Markup(html)


def _sessions_words(w: tuple[int, int]) -> str:
    return f"sessions {w[0]:+d} to {w[1]:+d} ({w[1] - w[0] + 1} sessions)"


def _header(res: StudyResult, info: views.EventInfo) -> dict[str, Any]:
    cfg = res.config
    man = res.manifest
    ranges = (man.get("prices") or {}).get("ranges") or {}
    firsts = sorted(str(v[0]) for v in ranges.values() if v)
    lasts = sorted(str(v[1]) for v in ranges.values() if v)
    dates = sorted(info.table["date"].astype(str))
    markets = [market_name(s) for s in res.symbols]
    bench = f"{market_name(cfg.benchmark)} ({cfg.benchmark})" if cfg.benchmark else ""
    if cfg.model == "factor":
        used = (man.get("parameters") or {}).get("factors") or list(cfg.factors)
        bench = ", ".join(f"{market_name(f)} ({f})" for f in used)
    model_words = _MODEL_WORDS.get(
        cfg.model, MODELS[cfg.model].description if cfg.model in MODELS else cfg.model
    )
    if cfg.model == "garch":
        from ..models.garch import PLACEBO_NOTE

        mean = "the market mean on the benchmark {b}" if cfg.benchmark else "a constant mean"
        model_words = f"{mean} with GARCH(1,1) errors, fitted per pair by maximum likelihood ({PLACEBO_NOTE})"
    extra = cfg.extra if isinstance(cfg.extra, dict) else {}
    question = extra.get("question") or (
        f"How did {', '.join(markets[:-1]) + ' and ' + markets[-1] if len(markets) > 1 else markets[0]} "
        f"move, beyond their normal returns, around {len(res.events)} announcements"
        + (f" made between {dates[0]} and {dates[-1]}" if dates else "")
        + "?"
    )
    return {
        "title": extra.get("title") or f"Event study: {cfg.study_name}",
        "name": cfg.study_name,
        "question": question,
        "created": str(man.get("created", "")),
        "data_range": f"{firsts[0]} to {lasts[-1]}" if firsts and lasts else "",
        "events_range": f"{dates[0]} to {dates[-1]}" if dates else "",
        "markets": markets,
        "model": cfg.model,
        "model_words": model_words.format(b=bench),
        "estimation": _sessions_words(cfg.estimation),
        "window": _sessions_words(cfg.window),
        "car_windows": [{"label": format_window(w), "words": fmt.window_phrase(w)} for w in cfg.car_windows],
        "returns": cfg.returns,
        "counts": man.get("counts", {}),
    }


#: Charts drawn from the abnormal-returns table (absent with ``detail="pairs"``).
_AR_FIGURES = frozenset({"fig-caar-market", "fig-caar-group", "fig-ar-event"})


def per_pair_only(res: StudyResult) -> bool:
    """Whether ``res`` was run with ``detail="pairs"`` (no abnormal-returns table)."""
    params = res.manifest.get("parameters") or {}
    return params.get("detail") == "pairs"


#: Charts drawn market by market (at most figures.MAX_MARKETS markets).
_MARKET_FIGURES = {"fig-caar-market", "fig-caar-windows", "fig-car-heatmap", "fig-ar-event", "fig-levels"}


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
            "fig": eventfigs.index_levels(res, info),
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


def _tests_info(names: list[str]) -> list[dict[str, str]]:
    out = []
    for n in names:
        spec = TESTS.get(n)
        out.append(
            {
                "name": n,
                "description": spec.description if spec else "",
                "distribution": spec.distribution if spec else "",
                "citation": spec.citation if spec else "",
            }
        )
    return out


def _dict(v: Any) -> dict[str, Any]:
    return v if isinstance(v, dict) else {}


def _provenance(res: StudyResult) -> dict[str, Any]:
    man = _dict(res.manifest)
    prices = _dict(man.get("prices"))
    prov = _dict(prices.get("provenance"))
    series = _dict(prov.get("series"))
    align = _dict(man.get("alignment"))
    return {
        "parameters": [(str(k), _plain(v)) for k, v in _dict(man.get("parameters")).items()],
        "versions": [(str(k), str(v)) for k, v in _dict(man.get("versions")).items()],
        "events": _dict(man.get("events")),
        "prices": {k: _plain(v) for k, v in prices.items() if k not in ("provenance", "ranges")},
        "ranges": [
            (market_name(str(k)), str(k), v[0], v[1])
            for k, v in _dict(prices.get("ranges")).items()
            if isinstance(v, (list, tuple)) and len(v) == 2
        ],
        "provenance": [
            (str(k), _plain(v)) for k, v in prov.items() if k != "series" and v not in (None, "", [], {})
        ],
        "series": [
            (str(k), {kk: _plain(vv) for kk, vv in v.items()})
            for k, v in series.items()
            if isinstance(v, dict)
        ],
        "calendars": [(market_name(str(s)), str(c)) for s, c in _dict(align.get("calendars")).items()],
        "calendar_version": str(align.get("exchange_calendars", "")),
        "extra_closures": [
            (str(k), ", ".join(map(str, v))) for k, v in _dict(align.get("extra_closures")).items()
        ],
    }


def _plain(v: Any) -> str:
    if isinstance(v, (list, tuple)):
        return ", ".join(_plain(x) for x in v)
    if isinstance(v, dict):
        return "; ".join(f"{k}: {_plain(x)}" for k, x in v.items())
    return "none" if v is None else str(v)


def render_report(res: StudyResult) -> str:
    """Return the report of ``res`` as one self-contained HTML document.

    Parameters
    ----------
    res : StudyResult

    Returns
    -------
    str
        The page; plotly.js is inlined once, there are no external resources,
        and the only part that changes between two renders of one result is
        the run timestamp of the manifest (``res.manifest["created"]``).
    """
    cfg = res.config
    info = views.event_info(res)
    look = views.Lookup.of(res)
    tests = look.tests
    main = cfg.car_windows[0]
    mw = format_window(main)
    windows = [format_window(w) for w in cfg.car_windows]
    extras = views.extra_tables(res)
    placebo = views.placebo_table(extras)
    overall = headlines.overall_headline(look, main)
    notable, chance = headlines.notable_pairs(res, info, main)
    studied = set(look.groups.get("market", []))
    market_table = [
        {
            "label": market_name(s),
            "cells": [headlines.headline(look, "market", s, w) for w in cfg.car_windows],
        }
        for s in res.symbols
        if s in studied
    ]
    days = [lab for _, lab in tablerows.day_windows(look, cfg.window)]
    days = days if len(days) > 1 else []  # a day-by-day view needs the single-day windows
    groupings = [
        tablerows.tests_matrix(look, by, info, windows, order=res.symbols if by == "market" else ())
        for by in ("market", "direction", "category")  # by event: the event cards and tests.csv
        if (tests["group_by"] == by).any()
    ]
    day_tests = [
        tablerows.tests_matrix(
            look,
            by,
            info,
            days,
            name=f"day, {'all pairs' if by == 'all' else by}",
            order=res.symbols if by == "market" else (),
        )
        for by in ("all",)  # per market and day: the AAR chart's menu and tests.csv
        if days and (tests["group_by"] == by).any()
    ]
    analyses = blocks.analysis_blocks(extras, windows, mw, skip=placebo)
    tpl = ENV.get_template("report.html.j2")
    return tpl.render(
        head=_header(res, info),
        cfg=cfg,
        main_window=mw,
        main_words=fmt.window_phrase(main),
        windows=windows,
        overall=overall,
        group_sentences=headlines.group_sentences(look, main),
        answers=blocks.answer_sentences(extras, mw),
        markets=headlines.market_headlines(res, look, main),
        market_table=market_table,
        notable=notable,
        chance=chance,
        summary=tablerows.summary_table(look, windows),
        groupings=groupings,
        day_tests=day_tests,
        rbar=tablerows.rbar_rows(tests, windows),
        pairs=tablerows.pair_rows(res, info, windows, mw),
        cards=event_cards(res, info),
        pairs_total=int((res.car_table["window"] == mw).sum()),
        pairs_bh=bool(len(res.car_table)) and "p_bh" in res.car_table.columns,
        excluded=tablerows.excluded_rows(res, info),
        data_quality=tablerows.data_quality_rows(res.manifest.get("data_quality")),
        analyses=analyses,
        figs=[
            {"id": f["id"], "html": plot_div(f["fig"], f["id"]), "caption": f["caption"]}
            for f in figure_specs(res, info, look, placebo, plain=True)
        ],
        plotlyjs=Markup(plotly_js()),
        day0_rule=(res.manifest.get("alignment") or {}).get("rule") or DAY0_RULE,
        params=res.manifest.get("parameters") or {},
        bench_align=res.manifest.get("benchmark_alignment") or {},
        factor_align=res.manifest.get("factor_alignment") or {},
        models=[{"name": n, "description": m.description, "used": n == cfg.model} for n, m in MODELS.items()],
        tests_info=_tests_info(views.unique(tests["test"].astype(str))),
        primary=views.PRIMARY_TESTS,
        prov=_provenance(res),
        manifest_json=Markup(script_json(res.manifest)),
        star_note=views.STAR_NOTE,
        per_pair_only=per_pair_only(res),
        study_warnings=list(res.warnings),
        alignment_notes=list(res.notes),
    )
