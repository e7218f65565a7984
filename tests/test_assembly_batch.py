"""Study assembly done over all series at once, against direct per-item references.

Duplicate keys against ``numpy.unique(..., axis=0)``; the shared grouping of
read-only labels; the lazily built per-market return frames; the parsed
``symbols`` restrictions of events; ``tables()`` built once but handed out
as copies; and the overlap flags of a synthetic universe against a brute-force
scan of every other event's day 0.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from eventstudy import EventStudy
from eventstudy.events import events_from_records
from eventstudy.inference.clusters import duplicate_keys
from eventstudy.inference.grouped import Groups

ints = hnp.arrays(np.int64, st.integers(0, 60), elements=st.integers(-4, 4))


@given(ints, st.integers(0, 2**32 - 1))
def test_duplicate_keys_number_rows_as_numpy_unique(sym: np.ndarray, seed: int) -> None:
    rng = np.random.default_rng(seed)
    first = rng.integers(-3, 3, len(sym))
    last = first + rng.integers(0, 2, len(sym))
    want = np.unique(np.column_stack([sym, first, last]), axis=0, return_inverse=True)[1].ravel()
    assert np.array_equal(duplicate_keys(sym, first, last), want.astype(np.int64))


def test_read_only_labels_are_factorized_once_and_writeable_ones_each_time() -> None:
    lab = np.array(["b", "a", "b", "c"], dtype=object)
    g1, g2 = Groups.from_labels(lab), Groups.from_labels(lab)
    assert g1 is not g2  # writeable: never cached (it could change)
    lab.flags.writeable = False
    g3 = Groups.from_labels(lab)
    assert Groups.from_labels(lab) is g3
    assert g3.names == ("a", "b", "c") and g3.codes.tolist() == [1, 0, 1, 2]
    assert Groups.from_labels(lab.copy()) is not g3  # another array: its own factorization


def _study(gap: int = 4) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(7)
    dates = pd.bdate_range("2019-01-01", periods=420)
    wide = pd.DataFrame(
        100.0 * np.cumprod(1.0 + rng.normal(0, 0.01, (420, 6)), axis=0),
        index=dates,
        columns=["A", "B", "C", "D", "E", "MKT"],
    )
    recs = []
    for k, d in enumerate(range(300, 300 + 9 * gap, gap)):
        recs.append(
            {
                "event_id": f"ev{k}",
                "timestamp": dates[d].strftime("%Y-%m-%d"),
                "title": f"event {k}",
                "symbols": "A B" if k % 3 == 1 else "",
            }
        )
    return wide, pd.DataFrame(recs)


def test_overlap_flags_match_a_brute_force_scan() -> None:
    wide, ev = _study()
    res = EventStudy(ev, wide, model="market", benchmark="MKT", car_windows=[(-5, 5), (0, 1)], tests=[]).run()
    car = res.car()
    day0 = {(r.event_id, r.symbol): r.day0 for r in car.itertuples()}
    pos = {d: i for i, d in enumerate(wide.index)}
    events = res.events
    for r in car.itertuples():
        t1, t2 = (int(x) for x in r.window.split(":"))
        lo, hi = pos[r.day0] + t1, pos[r.day0] + t2 + int(r.extended_by)
        want = [
            e
            for e in events.table["event_id"]
            if e != r.event_id
            and events.applies_to(r.symbol)[list(events.table["event_id"]).index(e)]
            and lo <= pos[day0.get((e, r.symbol), wide.index[0])] <= hi
            and (e, r.symbol) in day0
        ]
        assert r.overlaps.split() == want, (r.event_id, r.symbol, r.window)
    assert (car["overlaps"] != "").any()


def test_events_applies_to_follows_the_symbols_column() -> None:
    ev = events_from_records(
        [
            {"event_id": "a", "timestamp": "2024-01-02", "title": "a", "symbols": ""},
            {"event_id": "b", "timestamp": "2024-01-03", "title": "b", "symbols": "X Y"},
            {"event_id": "c", "timestamp": "2024-01-04", "title": "c", "symbols": "Y"},
        ]
    )
    assert ev.applies_to("X").tolist() == [True, True, False]
    assert ev.applies_to("Y").tolist() == [True, True, True]
    assert ev.applies_to("Z").tolist() == [True, False, False]
    assert ev.applies_to("X Y").tolist() == [True, False, False]


def test_market_returns_and_tables_are_built_once_and_handed_out_safely() -> None:
    wide, ev = _study(gap=12)
    res = EventStudy(ev, wide, model="market", benchmark="MKT", tests=["csect_t"]).run()
    frames = res.market_returns
    assert list(frames) == ["A", "B", "C", "D", "E"] and len(frames) == 5
    a = frames["A"]
    assert frames["A"] is a
    r = wide["A"].pct_change().to_numpy()
    np.testing.assert_allclose(a["ret"].to_numpy()[1:], r[1:], rtol=1e-12)
    b = wide["MKT"].pct_change().to_numpy()
    np.testing.assert_allclose(a["bench"].to_numpy()[1:], b[1:], rtol=1e-12)
    with pytest.raises(KeyError):
        frames["MKT"]
    t1 = res.tables()
    t1["car.csv"].loc[:, "car"] = 0.0
    t2 = res.tables()
    assert not (t2["car.csv"]["car"] == 0.0).all()
    pd.testing.assert_frame_equal(t2["car.csv"].drop(columns=[]), res.tables()["car.csv"])


@pytest.mark.parametrize("model", ["market", "constant-mean"])
def test_market_return_columns_equal_the_frames_whether_built_or_not(model: str) -> None:
    """``ReturnFrames.series``: each market's column as its frame holds it (a built frame's own
    column; an unbuilt one's values on the same dates), the benchmark NaN without one."""
    wide, ev = _study(gap=12)
    bench = {"benchmark": "MKT"} if model == "market" else {}
    frames = EventStudy(ev, wide, model=model, tests=["csect_t"], **bench).run().market_returns
    built = frames["B"]  # one frame built first, the others not
    for name in ("ret", "bench"):
        cols = frames.series(name)  # type: ignore[attr-defined]
        assert list(cols) == list(frames)
        assert cols["B"] is not None and cols["B"].equals(built[name])
        for sym in frames:
            pd.testing.assert_series_equal(cols[sym], frames[sym][name])
            assert cols[sym].index is frames[sym].index or cols[sym].index.equals(frames[sym].index)
    if model == "constant-mean":
        assert all(s.isna().all() for s in frames.series("bench").values())  # type: ignore[attr-defined]
