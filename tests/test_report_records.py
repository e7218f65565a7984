"""The report's records are pandas' ``to_dict("records")``: same keys, values and value types."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eventstudy import StudyResult
from eventstudy.report.views import records


def _same(a: list[dict[str, Any]], b: list[dict[str, Any]]) -> None:
    assert len(a) == len(b)
    for ra, rb in zip(a, b, strict=True):
        assert list(ra) == list(rb)
        for k in ra:
            x, y = ra[k], rb[k]
            assert type(x) is type(y), (k, x, y)
            assert (isinstance(x, float) and math.isnan(x) and math.isnan(y)) or x is y or x == y, (k, x, y)


def test_tables_of_the_default_study(snapshot_study: StudyResult) -> None:
    res = snapshot_study
    for frame in (res.tests(), res.caar(), res.headlines(), res.car(), res.excluded, res.events.table):
        _same(records(frame), frame.to_dict("records"))


_DTYPES = ["float64", "int64", "bool", "str", "string", "object", "datetime64[ns]", "category", "Int64"]


@pytest.mark.filterwarnings("ignore:DataFrame columns are not unique")
@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(0, 5),
    dtypes=st.lists(st.sampled_from(_DTYPES), max_size=4),
    repeat=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_frames_of_every_kind(n: int, dtypes: list[str], repeat: bool, seed: int) -> None:
    rng = np.random.default_rng(seed)
    cols: dict[str, Any] = {}
    for i, dt in enumerate(dtypes):
        x = rng.normal(size=n)
        x[rng.random(n) < 0.3] = np.nan
        if dt in ("float64",):
            cols[f"c{i}"] = pd.Series(x, dtype=dt)
        elif dt in ("int64", "Int64", "bool"):
            cols[f"c{i}"] = pd.Series((x > 0) if dt == "bool" else np.arange(n), dtype=dt)
        elif dt == "datetime64[ns]":
            cols[f"c{i}"] = pd.Series(pd.date_range("2020-01-01", periods=n), dtype=dt)
        else:
            text = [None if np.isnan(v) else f"v{v:.2f}" for v in x]
            cols[f"c{i}"] = pd.Series(text, dtype=dt)
    frame = pd.DataFrame(cols, index=range(n))
    if repeat and len(frame.columns) > 1:
        frame.columns = ["a"] * len(frame.columns)
    _same(records(frame), frame.to_dict("records"))
