"""Charts written without plotly's validators are plotly's own ``to_html`` text, byte for byte."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pandas as pd
import plotly.io as pio
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eventstudy import StudyResult
from eventstudy.report.plotdiv import plain_div
from eventstudy.report.render import PLOT_CONFIG, figure_specs, plot_div

pytest.importorskip("orjson", reason="the plain route follows plotly's orjson engine")


def _plotly(fig: dict[str, Any], div_id: str) -> str:
    return str(
        pio.to_html(
            copy.deepcopy(fig),
            include_plotlyjs=False,
            full_html=False,
            div_id=div_id,
            config=dict(PLOT_CONFIG),
            validate=False,
        )
    )


def test_every_chart_of_the_default_study_is_plotlys_text(snapshot_study: StudyResult) -> None:
    specs = figure_specs(snapshot_study, plain=True)
    assert len(specs) >= 5
    for spec in specs:
        fast = plain_div(copy.deepcopy(spec["fig"]), spec["id"], dict(PLOT_CONFIG))
        assert fast is not None, spec["id"]
        assert fast == _plotly(spec["fig"], spec["id"]), spec["id"]
        assert str(plot_div(spec["fig"], spec["id"])) == fast


_TEXT = st.text(alphabet=st.sampled_from(list("ab </>&\"'\\\u2028\u2029é$")), max_size=6)
_NUMBER = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True), st.integers(-(2**40), 2**40), st.none(), st.booleans()
)
_VALUE = st.recursive(
    st.one_of(_NUMBER, _TEXT),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(_TEXT, inner, max_size=3)),
    max_leaves=12,
)


@settings(max_examples=50, deadline=None)
@given(
    traces=st.lists(st.dictionaries(_TEXT, _VALUE, max_size=4), max_size=3),
    layout=st.dictionaries(st.sampled_from(["title", "xaxis", "a/b", "width", "height"]), _VALUE, max_size=4),
    template=st.dictionaries(st.sampled_from(["width", "height", "font"]), _VALUE, max_size=2),
    arrays=st.booleans(),
    div_id=st.sampled_from(["fig-a", "fig-caar-market"]),
)
def test_random_figures_are_plotlys_text(
    traces: list[dict[str, Any]], layout: dict[str, Any], template: dict[str, Any], arrays: bool, div_id: str
) -> None:
    if arrays:  # numeric numpy arrays, as figures may hold them
        traces = [{**t, "y": np.linspace(-1.0, 1.0, 5), "z": np.arange(3)} for t in traces]
    fig = {"data": traces, "layout": {**layout, **({"template": {"layout": template}} if template else {})}}
    fast = plain_div(copy.deepcopy(fig), div_id, dict(PLOT_CONFIG))
    assert fast is not None
    assert fast == _plotly(fig, div_id)


@pytest.mark.parametrize(
    "fig",
    [
        {"data": [], "layout": {}, "frames": [{"data": []}]},
        {"data": [{"x": pd.Series([1.0, np.nan])}], "layout": {}},  # plotly cleans what orjson refuses
        {"data": [{"x": [pd.Timestamp("2020-01-02")]}], "layout": {}},
    ],
)
def test_what_plotly_writes_otherwise_is_left_to_plotly(fig: dict[str, Any]) -> None:
    assert plain_div(copy.deepcopy(fig), "fig-a", dict(PLOT_CONFIG)) is None
    assert str(plot_div(fig, "fig-a")) == _plotly(fig, "fig-a")
