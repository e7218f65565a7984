"""The vendored plotly.js partial bundle: right version, licence shipped, every trace type held;
axes it draws without measuring each label."""

from __future__ import annotations

from importlib import resources

from plotly.offline import get_plotlyjs, get_plotlyjs_version

from eventstudy import EventStudy, events_from_records, load_prices
from eventstudy.report import render
from eventstudy.report.assets import BUNDLE_TRACES, bundle_version, plotly_js


def test_vendored_bundle_matches_the_plotly_package() -> None:
    assert bundle_version() == get_plotlyjs_version()
    js = plotly_js()
    assert js != get_plotlyjs()  # the partial bundle is the one used
    assert len(js.encode()) < 1_700_000 < len(get_plotlyjs().encode())
    licence = resources.files("eventstudy.report").joinpath("vendor", "plotly-LICENSE.txt").read_text("utf-8")
    assert "MIT" in licence and "Plotly" in licence


def test_every_chart_trace_type_is_in_the_bundle() -> None:
    ev = events_from_records(
        [
            {"event_id": "a", "timestamp": "2025-04-02T20:35Z", "title": "A", "direction": "-1"},
            {"event_id": "b", "timestamp": "2025-05-12T07:00Z", "title": "B", "direction": "1"},
        ]
    )
    res = EventStudy(ev, load_prices(["^HSI", "^GDAXI"])).run()
    types = {tr.type for spec in render.figure_specs(res) for tr in spec["fig"].data}
    assert types and types <= BUNDLE_TRACES, types - BUNDLE_TRACES


def test_every_axis_lets_its_labels_overflow_so_plotly_does_not_measure_each() -> None:
    """``ticklabeloverflow="allow"`` on every axis of every chart (automargin makes the room):
    without it plotly measures each tick label against the page's edge, over a third of the
    charts' drawing time in Chromium (bench/bench_report_page.py), for nothing to hide."""
    ev = events_from_records(
        [
            {"event_id": "a", "timestamp": "2025-04-02T20:35Z", "title": "A", "direction": "-1"},
            {"event_id": "b", "timestamp": "2025-05-12T07:00Z", "title": "B", "direction": "1"},
        ]
    )
    res = EventStudy(ev, load_prices(["^HSI", "^GDAXI"])).run()
    seen = 0
    for spec in render.figure_specs(res, plain=True):
        lay = spec["fig"]["layout"]
        axes = [k for k in lay if k.startswith(("xaxis", "yaxis"))]
        assert axes, spec["id"]
        for k in axes:
            if lay[k].get("visible") is False:  # (an overlay axis that draws no labels)
                continue
            assert lay[k].get("ticklabeloverflow") == "allow", (spec["id"], k)
            seen += 1
    assert seen >= 2 * 7
