"""Render the study page from Jinja2 templates (autoescaped)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import jinja2
import numpy as np
import pandas as pd
import plotly.io as pio
from plotly.offline import get_plotlyjs

from ..inference import TESTS
from ..manifest import DAY0_RULE
from ..markets import market_name
from ..models import MODELS
from . import figures

if TYPE_CHECKING:
    from ..results import StudyResult

__all__ = ["render_report"]

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("eventstudy", "report/templates"),
    autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


def _fmt_pct(v: float) -> str:
    return "" if not np.isfinite(v) else f"{100 * v:+.2f}%"


def _fmt_num(v: float, nd: int = 2) -> str:
    return "" if not np.isfinite(v) else f"{v:.{nd}f}"


def _fmt_p(p: float) -> str:
    if not np.isfinite(p):
        return ""
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def _fig_div(fig: Any, div_id: str) -> str:
    html: str = pio.to_html(
        fig,
        include_plotlyjs=False,
        full_html=False,
        div_id=div_id,
        config={"displaylogo": False, "responsive": True},
    )
    return html


def _script_json(obj: Any) -> str:
    """JSON safe to embed inside <script> (no closing tags, no comments)."""
    return json.dumps(obj).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def render_report(res: StudyResult) -> str:
    """Return the report of ``res`` as one self-contained HTML document."""
    from ..results import stars

    cfg = res.config
    summary = res.summary_frame()
    rows = [
        {
            "window": r.window,
            "caar": _fmt_pct(r.caar),
            "test": r.test,
            "statistic": _fmt_num(r.statistic),
            "p": _fmt_p(r.p_value),
            "stars": r.stars,
            "n": int(r.n),
            "note": r.note,
        }
        for r in summary.itertuples()
    ]
    main = cfg.car_windows[0]
    from ..config import format_window

    mw = format_window(main)
    car = res.car(mw).merge(
        res.events.table[["event_id", "title", "category", "direction", "source"]], on="event_id"
    )
    pair_rows = [
        {
            "event_id": r.event_id,
            "title": r.title,
            "market": market_name(r.symbol),
            "day0": "" if pd.isna(r.day0) else str(pd.Timestamp(r.day0).date()),
            "car": _fmt_pct(r.car),
            "t": _fmt_num(r.t_stat),
            "p": _fmt_p(r.p_value),
            "stars": stars(r.p_value),
            "overlaps": r.overlaps,
        }
        for r in car.itertuples()
    ]
    by_market = res.tests("market")
    by_market = by_market[by_market["window"] == mw]
    mkt_rows = []
    cm = res.caar("market")
    cm = cm[cm["window"] == mw].set_index("group")
    for sym, g in by_market.groupby("group", sort=False):
        t = g.set_index("test")
        mkt_rows.append(
            {
                "market": market_name(str(sym)),
                "caar": _fmt_pct(float(cm.loc[sym, "caar"])),
                "n": int(cm.loc[sym, "n"]),
                "tests": [
                    {
                        "name": k,
                        "stat": _fmt_num(float(t.loc[k, "statistic"])),
                        "p": _fmt_p(float(t.loc[k, "p_value"])),
                        "stars": stars(float(t.loc[k, "p_value"])),
                    }
                    for k in t.index
                ],
            }
        )
    excluded = res.excluded.to_dict("records")
    figs = {
        "fig-caar-path": _fig_div(figures.aar_path(res), "fig-caar-path"),
        "fig-caar-market": _fig_div(figures.caar_by_market(res), "fig-caar-market"),
    }
    man = res.manifest
    tpl = _ENV.get_template("report.html.j2")
    return tpl.render(
        title=f"Event study: {cfg.study_name}",
        cfg=cfg,
        params=man["parameters"],
        created=man["created"],
        counts=man["counts"],
        model_desc=MODELS[cfg.model].description,
        markets=[market_name(s) for s in res.symbols],
        summary=rows,
        main_window=mw,
        mkt_rows=mkt_rows,
        pairs=pair_rows,
        excluded=excluded,
        figs=figs,
        plotlyjs=get_plotlyjs(),
        day0_rule=DAY0_RULE,
        tests=[TESTS[n] for n in dict.fromkeys(summary["test"])],
        manifest_json=_script_json(man),
        versions=man["versions"],
        prices=man["prices"],
        events_info=man["events"],
        calendars=man["alignment"]["calendars"],
    )
