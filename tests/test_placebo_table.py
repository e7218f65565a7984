"""The saved placebo distribution reproduces the placebo test's p-value."""

from __future__ import annotations

import numpy as np
import pandas as pd
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


def _table_by_frames(result: es.StudyResult) -> pd.DataFrame:
    """The placebo table as one frame per grouping, window and group, from a plain loop over pairs.

    Each group's placebo CAAR at position k is the mean, over the group's pairs with a
    CAR, of their placebo CARs (the sum of the available estimation-window residuals of
    the pair's L_i-day window starting at k, L_i its window length with any date-only
    extension; pairs without any, or whose window runs past the period, are left out;
    positions up to T − min L_i).
    """
    from eventstudy import studyresult

    parts = studyresult._last_parts  # type: ignore[attr-defined]
    frames = []
    for gb in ("all", "market"):
        labels = parts.labels[gb]
        for window, inp in parts.car_inputs.items():
            resid = inp.est_resid
            lengths = np.maximum(np.asarray(inp.window_len), 1)
            positions = resid.shape[1] - int(lengths.min()) + 1
            for group in sorted(set(labels)):  # groups in sorted order, as every table
                rows = [i for i in range(len(labels)) if labels[i] == group and np.isfinite(inp.car[i])]
                caar = []
                for k in range(positions):
                    cars = []
                    for i in rows:
                        part = resid[i, k : k + int(lengths[i])]
                        if k + int(lengths[i]) <= resid.shape[1] and np.isfinite(part).any():
                            cars.append(np.nansum(part))
                    caar.append(np.mean(cars) if cars else np.nan)
                frames.append(
                    pd.DataFrame(
                        {
                            "group_by": gb,
                            "group": group,
                            "window": window,
                            "position": np.arange(positions),
                            "caar": caar,
                        }
                    )
                )
    return pd.concat(frames, ignore_index=True)


def test_placebo_table_against_a_loop_over_pairs(monkeypatch: pytest.MonkeyPatch) -> None:
    """The whole-column table: the rows, order and column types of frames built group by group."""
    from eventstudy import studyresult

    class Keep(studyresult.StudyParts):  # type: ignore[misc]
        def __init__(self, *a: object, **k: object) -> None:
            super().__init__(*a, **k)
            studyresult._last_parts = self  # type: ignore[attr-defined]

    monkeypatch.setattr(studyresult, "StudyParts", Keep)
    events = es.read_events().filter(start="2024-01-01")
    res = es.EventStudy(
        events, es.load_prices(["^HSI", "^GDAXI", "^FTSE"]), car_windows=[(-1, 1), (0, 0)], tests=["placebo"]
    ).run()
    table = res.placebo()
    expected = _table_by_frames(res)
    assert list(table.columns) == list(expected.columns)
    assert list(table.dtypes) == list(expected.dtypes)
    pd.testing.assert_frame_equal(table.drop(columns="caar"), expected.drop(columns="caar"), check_exact=True)
    np.testing.assert_allclose(table["caar"], expected["caar"], rtol=1e-12, atol=1e-15)
    assert len(table) > 0 and set(table["group_by"]) == {"all", "market"}
