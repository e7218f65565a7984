"""Render the study page from Jinja2 templates (autoescaped).

The page is one self-contained HTML file: CSS, a small table-sorting script
and plotly.js are inlined (plotly.js once, in ``<head>``); every chart is a
``div.plotly-graph-div`` with a fixed id, so two renders of one result differ
only in the run timestamp. Text from events and files reaches the page only
through Jinja2's autoescaping (or :class:`markupsafe.Markup.format`, which
escapes its arguments) and reaches charts only through
:func:`~eventstudy.report.fmt.plot_text`; JSON inside ``<script>`` is escaped
so that it cannot close the element.

The charts and their captions come from
:func:`~eventstudy.report.figspecs.figure_specs`, the header and the
provenance section from :mod:`eventstudy.report.studymeta`. The templates'
compiled code is kept in the toolkit's disk cache between runs
(:mod:`~eventstudy.report.templatecache`).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import jinja2
from markupsafe import Markup

from ..config import format_window
from ..manifest import DAY0_RULE
from ..markets import market_name
from ..models import MODELS
from . import blocks, fmt, headlines, studymeta, tablerows, views
from .assets import plotly_js
from .cards import event_cards
from .figspecs import figure_specs, per_pair_only
from .figures import shown_markets
from .plotdiv import plain_div
from .templatecache import TemplateCache

if TYPE_CHECKING:
    from ..results import StudyResult

__all__ = ["ENV", "PLOT_CONFIG", "figure_specs", "per_pair_only", "plot_div", "render_report", "script_json"]

ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("eventstudy", "report/templates"),
    autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
    undefined=jinja2.StrictUndefined,
    bytecode_cache=TemplateCache(),  # compiled once per machine, not once per run
)

#: plotly config of every chart: no logo, no LaTeX typesetting (event titles
#: with two "$" would otherwise be taken for TeX), responsive width.
PLOT_CONFIG: dict[str, Any] = {"displaylogo": False, "responsive": True, "typesetMath": False}


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
    # market by market (cards, table, tests, event cards), the markets the charts draw
    studied = look.groups.get("market", [])
    shown = shown_markets(res, studied)
    market_table = [
        {
            "label": market_name(s),
            "cells": [headlines.headline(look, "market", s, w) for w in cfg.car_windows],
        }
        for s in shown
    ]
    days = [lab for _, lab in tablerows.day_windows(look, cfg.window)]
    days = days if len(days) > 1 else []  # a day-by-day view needs the single-day windows
    groupings = [
        tablerows.tests_matrix(
            look, by, info, windows, order=shown if by == "market" else (), only=by == "market"
        )
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
        head=studymeta.header(res, info),
        cfg=cfg,
        main_window=mw,
        main_words=fmt.window_phrase(main),
        windows=windows,
        overall=overall,
        group_sentences=headlines.group_sentences(look, main),
        answers=blocks.answer_sentences(extras, mw),
        markets=headlines.market_headlines(res, look, main, shown),
        markets_total=len(set(studied) & set(res.symbols)),
        market_table=market_table,
        notable=notable,
        chance=chance,
        summary=tablerows.summary_table(look, windows),
        groupings=groupings,
        day_tests=day_tests,
        rbar=tablerows.rbar_rows(tests, windows),
        pairs=tablerows.pair_rows(res, info, windows, mw),
        cards=event_cards(res, info, shown),
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
        tests_info=studymeta.tests_info(views.unique(tests["test"].astype(str))),
        primary=views.PRIMARY_TESTS,
        prov=studymeta.provenance(res),
        manifest_json=Markup(script_json(res.manifest)),
        star_note=views.STAR_NOTE,
        per_pair_only=per_pair_only(res),
        study_warnings=list(res.warnings),
        alignment_notes=list(res.notes),
    )
