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
            days = pd.Series(pd.date_range("2020-01-01", periods=n), dtype=dt)
            cols[f"c{i}"] = days.where(~np.isnan(x))  # NaT where missing
        else:
            text = [None if np.isnan(v) else f"v{v:.2f}" for v in x]
            cols[f"c{i}"] = pd.Series(text, dtype=dt)
    frame = pd.DataFrame(cols, index=range(n))
    if repeat and len(frame.columns) > 1:
        frame.columns = ["a"] * len(frame.columns)
    _same(records(frame), frame.to_dict("records"))


def _by_event_plainly(
    react: pd.DataFrame, keep: set[str] | None
) -> tuple[dict[str, list[dict[str, Any]]], dict[str, int], dict[str, list[str]]]:
    """The cards' grouping written out row by row: every pair's record, kept or not."""
    recs: dict[str, list[dict[str, Any]]] = {}
    for r in react.to_dict("records"):
        recs.setdefault(str(r["event_id"]), []).append(r)
    shown = {e: [r for r in rs if keep is None or str(r["symbol"]) in keep] for e, rs in recs.items()}
    overlaps: dict[str, list[str]] = {}
    for e, rs in recs.items():
        ov: list[str] = []
        for r in rs:
            ov += [o for o in str(r["overlaps"]).split() if o not in ov]
        overlaps[e] = ov
    return {e: rs for e, rs in shown.items() if rs}, {e: len(rs) for e, rs in recs.items()}, overlaps


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**16), n=st.integers(0, 40), keep_some=st.booleans())
def test_the_cards_pairs_overlaps_and_shown_rows_equal_a_row_by_row_reading(
    seed: int, n: int, keep_some: bool
) -> None:
    """Events repeated over markets, overlap texts repeated, blank and missing, a subset of markets shown."""
    from eventstudy.report.cards import _reactions_by_event

    rng = np.random.default_rng(seed)
    texts = np.array(["", "e1", "e2 e3", "e3 e1", None], dtype=object)
    react = pd.DataFrame(
        {
            "event_id": pd.Series(rng.choice(["e1", "e2", "e3", "e4"], n), dtype="str"),
            "symbol": pd.Series(rng.choice(["A", "B", "C"], n), dtype="str"),
            "overlaps": pd.Series(rng.choice(texts, n), dtype="str"),
            "car": rng.normal(size=n),
            "day0": pd.Series(pd.Timestamp("2025-01-01") + pd.to_timedelta(rng.integers(0, 9, n), unit="D")),
        }
    )
    keep = {"A", "C"} if keep_some else None
    got = _reactions_by_event(react, keep)
    want = _by_event_plainly(react, keep)
    assert got[1] == want[1] and got[2] == {e: v for e, v in want[2].items()}
    assert set(got[0]) == set(want[0])  # (looked up by event; each event's rows in row order)
    for e in want[0]:
        _same(got[0][e], want[0][e])


def _rbar_rows_by_groupby(tests: pd.DataFrame, windows: list[str]) -> list[dict[str, Any]]:
    """The r̄ rows the plain way: each note parsed, a groupby of the first row per window."""
    from eventstudy.report import fmt
    from eventstudy.report.views import group_label

    kp = tests[tests["test"].astype(str).str.startswith("kp_")]
    kp = kp.assign(rbar=[fmt.parse_rbar(n) for n in kp["note"]])
    kp = kp[np.isfinite(kp["rbar"].to_numpy(dtype=float))]
    first = kp.drop_duplicates(["group_by", "group", "window"])
    rows = []
    for (gb, g), sub in first.groupby(["group_by", "group"], sort=False):
        if gb != "event":
            vals = dict(zip(sub["window"].astype(str), sub["rbar"], strict=True))
            values = [fmt.fmt_num(vals.get(w, np.nan), 3) for w in windows]
            rows.append({"grouping": str(gb), "group": group_label(str(gb), str(g)), "values": values})
    return rows


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**16), n=st.integers(0, 60))
def test_rbar_rows_equal_a_groupby_of_the_kp_rows(seed: int, n: int) -> None:
    """KP and other tests, notes with and without r̄ (repeated, missing), groupings in any order."""
    from eventstudy.report.tablerows import rbar_rows

    rng = np.random.default_rng(seed)
    notes = np.array(["r̄=0.125; x", "r̄=-0.031", "no r", None, "r̄=0.125; x"], dtype=object)
    tests = pd.DataFrame(
        {
            "group_by": rng.choice(["all", "market", "event", "category"], n),
            "group": rng.choice(["all", "^HSI", "^GDAXI", "talks"], n),
            "window": rng.choice(["0:0", "-1:+1", "-5:+5"], n),
            "test": rng.choice(["kp_bmp_t", "kp_patell_z", "bmp_t"], n),
            "note": pd.Series(rng.choice(notes, n), dtype="str"),
        }
    )
    windows = ["0:0", "-1:+1", "-5:+5"]
    assert rbar_rows(tests, windows) == _rbar_rows_by_groupby(tests, windows)
