"""The placebo-replication builder of ``bench/calibration.py`` and its model options (no network)."""

from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binomtest

import eventstudy as es

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench import calibration as cal

SEED = 7


@pytest.fixture(scope="module")
def design() -> cal.Design:
    return cal.load_design(cal.CURATED)


@pytest.fixture(scope="module")
def curated() -> pd.DataFrame:
    return es.read_events(cal.CURATED).table


def _days(values) -> np.ndarray:
    return pd.DatetimeIndex(values).tz_localize(None).normalize().to_numpy(dtype="datetime64[D]")


def _touched(table: pd.DataFrame) -> np.ndarray:
    """Every calendar date an events table touches: dates written in timestamps, and local dates."""
    written = [d for ts in table["timestamp"] for d in re.findall(r"\d{4}-\d{2}-\d{2}", ts)]
    return np.union1d(np.array(written, dtype="datetime64[D]"), _days(table["local_date"]))


def _min_distance(days: np.ndarray, anchors: np.ndarray) -> np.ndarray:
    return np.abs((days[:, None] - anchors[None, :]).astype(int)).min(axis=1)


def test_eligible_dates_inside_range_and_away_from_curated(design, curated):
    el = design.eligible
    assert el.min() >= np.datetime64("2018-01-01") and el.max() <= np.datetime64("2024-12-31")
    # the curated file's own calendar dates, as written and as the library files them
    anchors = _touched(curated)
    assert _min_distance(el, anchors).min() > cal.GAP_DAYS
    # and every day of 2018–2024 that is left out has a curated event within 10 days
    all_days = np.arange(np.datetime64("2018-01-01"), np.datetime64("2025-01-01"))
    left_out = np.setdiff1d(all_days, el)
    assert len(left_out) > 0
    assert _min_distance(left_out, anchors).max() <= cal.GAP_DAYS


@pytest.mark.parametrize("rep", [0, 1, 13])
def test_replication_mirrors_the_curated_design(design, curated, rep):
    ev = cal.replication_events(design, rep, SEED).table
    assert len(ev) == len(curated)
    assert ev["event_id"].is_unique
    # dates: eligible, hence inside 2018–2024 and more than 10 days from any curated event
    days = _days(ev["local_date"])
    assert np.isin(days, design.eligible).all()
    assert _min_distance(_touched(ev), _touched(curated)).min() > cal.GAP_DAYS
    # each event keeps its curated timestamp form, tz and symbols
    assert (ev["date_only"].to_numpy() == curated["date_only"].to_numpy()).all()
    assert (ev["tz"].to_numpy() == curated["tz"].to_numpy()).all()
    assert (ev["symbols"].to_numpy() == curated["symbols"].to_numpy()).all()
    assert (ev["category"].to_numpy() == curated["category"].to_numpy()).all()
    inst = ~curated["date_only"].to_numpy()
    tod = lambda s: s - s.dt.floor("D")  # noqa: E731
    assert (tod(ev["start_utc"])[inst].to_numpy() == tod(curated["start_utc"])[inst].to_numpy()).all()
    recs = cal.replication_records(design, rep, SEED)
    assert Counter(map(cal.timestamp_form, recs)) == Counter(map(cal.timestamp_form, design.records))
    assert Counter(cal.timestamp_form(r) for r in recs)[("date", "Asia/Shanghai")] > 0


def test_seeded_reproducibility(design):
    a = cal.replication_records(design, 3, SEED)
    assert a == cal.replication_records(design, 3, SEED)
    b = cal.replication_records(design, 4, SEED)
    c = cal.replication_records(design, 3, SEED + 1)
    ts = [r["timestamp"] for r in a]
    assert ts != [r["timestamp"] for r in b] and ts != [r["timestamp"] for r in c]
    # replications are spread over the eligible days, not stuck on a few
    dates = {r["timestamp"][:10] for k in range(20) for r in cal.replication_records(design, k, SEED)}
    assert len(dates) > 600


def test_shift_timestamp_moves_every_date_and_keeps_the_rest():
    assert cal.shift_timestamp("2019-05-05T16:08Z", 10) == "2019-05-15T16:08Z"
    assert cal.shift_timestamp("2020-02-28", 2) == "2020-03-01"
    assert cal.shift_timestamp("2025-05-12T01:00Z/2025-05-12T09:00Z", -365) == (
        "2024-05-12T01:00Z/2024-05-12T09:00Z"
    )
    assert cal.timestamp_form({"timestamp": "2019-05-05T16:08Z"}) == ("time", "T16:08Z")
    assert cal.timestamp_form({"timestamp": "2019-05-05", "tz": "Asia/Shanghai"}) == ("date", "Asia/Shanghai")


def test_inject_changes_only_day0_returns():
    idx = pd.bdate_range("2020-01-01", periods=30)
    rng = np.random.default_rng(0)
    closes = {"A": pd.Series(100 * np.cumprod(1 + rng.normal(0, 0.01, 30)), idx)}
    prices = es.Prices(closes, "test")
    d0 = [idx[5], idx[5], idx[12]]  # two events share a day 0: the market-day moves once
    shocked = cal.inject(prices, pd.DataFrame({"symbol": "A", "day0": d0}), -0.01)
    r0, r1 = prices["A"].pct_change(), shocked["A"].pct_change()
    hit = idx.isin([idx[5], idx[12]])
    np.testing.assert_allclose(r1[hit], 0.99 * (1 + r0[hit]) - 1, rtol=1e-12)
    np.testing.assert_allclose(r1[~hit][1:], r0[~hit][1:], rtol=1e-12)


def test_rates_and_exact_interval():
    p = pd.DataFrame(
        {"delta": 0.0, "test": "t", "window": "0:0", "p_value": [0.01, 0.2, 0.04, np.nan, 0.5, 0.9]}
    )
    r = cal.rates(p).iloc[0]
    assert (r["k"], r["n"]) == (2, 5)
    ci = binomtest(2, 5).proportion_ci(method="exact")
    assert r["lo"] == pytest.approx(ci.low) and r["hi"] == pytest.approx(ci.high)


def test_burst_layout_keeps_the_curated_gaps(design, curated):
    ids = cal.bursts(design.anchors)
    assert ids.max() + 1 == 38  # the curated file's bursts (neighbours at most 10 days apart)
    for rep in (0, 5):
        days = cal.replication_dates(design, rep, SEED, "bursts")
        assert np.isin(days, design.eligible).all()
        for b in range(ids.max() + 1):
            m = ids == b
            # each burst moved as a whole: the same shift for every member
            assert len(np.unique((days[m] - design.anchors[m]).astype(int))) == 1
        ev = cal.replication_events(design, rep, SEED, "bursts").table
        assert (ev["date_only"].to_numpy() == curated["date_only"].to_numpy()).all()
        assert _min_distance(_touched(ev), _touched(curated)).min() > cal.GAP_DAYS
    a = cal.replication_dates(design, 2, SEED, "bursts")
    assert (a == cal.replication_dates(design, 2, SEED, "bursts")).all()
    assert (a != cal.replication_dates(design, 3, SEED, "bursts")).any()
    # the uniform layout spreads the bursts: more distinct dates than the curated file has
    assert len(np.unique(cal.replication_dates(design, 2, SEED))) > len(np.unique(a))


def test_model_options_reach_the_study(design):
    """``--model/--benchmark/--factors``: the worker loads the extra series and the study uses them
    (its fits carry the factor coefficients); no option gives the default study exactly."""
    events = cal.replication_events(design, 0, SEED).filter(start="2020-01-01", end="2020-12-31")
    cal._init_worker(["^HSI", "^GDAXI"], cal.GAP_DAYS, {"model": "factor", "factors": ["ACWI", "EURUSD=X"]})
    prices = cal._WORKER["prices"]
    assert set(prices.symbols) == {"^HSI", "^GDAXI", "ACWI", "EURUSD=X"}
    res = cal._study(events, prices, ["cluster_t"], 99, SEED)
    assert res.config.model == "factor"
    assert sorted(res.symbols) == ["^GDAXI", "^HSI"]
    assert {"b_ACWI", "b_EURUSD=X"} <= set(res.fits.columns)
    direct = es.EventStudy(
        events,
        prices,
        symbols=["^HSI", "^GDAXI"],
        model="factor",
        factors=["ACWI", "EURUSD=X"],
        tests=["cluster_t"],
        draws=99,
        seed=SEED,
    ).run()
    pd.testing.assert_frame_equal(res.car(), direct.car())
    cal._init_worker(["^HSI", "^GDAXI"], cal.GAP_DAYS)
    default = cal._study(events, cal._WORKER["prices"], ["cluster_t"], 99, SEED)
    plain = es.EventStudy(events, cal._WORKER["prices"], tests=["cluster_t"], draws=99, seed=SEED).run()
    assert default.config.model == plain.config.model
    pd.testing.assert_frame_equal(default.car(), plain.car())
