"""The saved placebo distribution reproduces the placebo test's p-value."""

from __future__ import annotations

import numpy as np
import pytest

import eventstudy as es


@pytest.fixture(scope="module")
def result() -> es.StudyResult:
    return es.EventStudy(
        es.read_events().filter(start="2019-01-01"), es.load_prices(["^HSI", "^GDAXI", "^FTSE"])
    ).run()


@pytest.mark.parametrize("by", ["all", "market"])
def test_placebo_p_from_table(result: es.StudyResult, by: str) -> None:
    tests = result.tests(by)
    caar = result.caar(by).set_index(["group", "window"])["caar"]
    table = result.placebo()
    table = table[table["group_by"] == by]
    checked = 0
    for (group, window), dist in table.groupby(["group", "window"]):
        row = tests[(tests["group"] == group) & (tests["window"] == window) & (tests["test"] == "placebo")]
        b = dist["caar"].dropna().to_numpy()
        obs = caar.loc[(group, window)]
        p = (1 + np.sum(np.abs(b) >= abs(obs) - 1e-15)) / (1 + len(b))
        assert row["p_value"].iloc[0] == pytest.approx(p, abs=1e-12)
        checked += 1
    assert checked >= 4
