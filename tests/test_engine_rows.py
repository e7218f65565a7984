"""The engine's estimation-window arrays, written block by block, are those of one pass.

``compute`` builds the P×T residuals, day numbers and spans a block of pairs at
a time, after the pairs with a zero or non-finite variance are excluded. The
arrays must not depend on the block size, and the residuals must be the
estimation returns minus each pair's own fitted normal return (a plain loop
over pairs and days here, from the fitted parameters).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from conftest import build_synthetic, random_event_records
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import eventstudy.engine as engine
import eventstudy.estrows as estrows
from eventstudy import EventStudy
from eventstudy.engine import EngineOutput, compute
from eventstudy.panel import Panel


def _study(model: str, **kw: object) -> tuple[EventStudy, Panel]:
    syms = ("AAA", "BBB", "CCC", "DDD", "FLAT")
    dates = pd.bdate_range("2019-01-01", periods=600).as_unit("ns")
    recs = random_event_records(np.random.default_rng(7), dates, 12, lo=60)
    flat = np.zeros(600)  # constant prices: every pair of FLAT is excluded (zero variance)
    syn = build_synthetic(
        seed=11, symbols=syms, n_days=600, records=recs, drop={"DDD": 15}, returns={"FLAT": flat}
    )
    study = EventStudy(syn.events, syn.prices, model=model, benchmark="MKT", min_estimation=60, **kw)
    return study, _panel(study)


def _panel(study: EventStudy) -> Panel:
    """The study's panel with its model bound to it (as ``EventStudy.run`` builds them)."""
    return study._bound_panel()


_CASES = {
    "market": ("market", {}),
    "constant-mean": ("constant-mean", {}),
    "dimson": ("market", {"beta": "dimson", "lags": 1}),
    "spans": ("market", {"calendar": "XNYS"}),  # sessions missing from the data: k-session returns
}


@pytest.fixture(scope="module", params=list(_CASES))
def case(request: pytest.FixtureRequest) -> tuple[EventStudy, Panel, EngineOutput]:
    model, kw = _CASES[request.param]
    study, panel = _study(model, **kw)
    cfg = replace(study.config, car_windows=study.engine_windows())
    return study, panel, compute(panel, cfg, study.model)


def _same(a: np.ndarray | None, b: np.ndarray | None) -> None:
    assert (a is None) == (b is None)
    if a is not None and b is not None:
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a, b)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.integers(1, 40), copies=st.booleans())
def test_blocks_of_pairs_give_the_same_arrays(
    case: tuple[EventStudy, Panel, EngineOutput], rows: int, copies: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Any block size, rows copied whole or gathered element by element: the very same arrays."""
    study, panel, whole = case
    cfg = replace(study.config, car_windows=study.engine_windows())
    monkeypatch.setattr(estrows, "_EST_ROWS", rows)
    monkeypatch.setattr(estrows, "_ROW_COPIES", copies)
    out = compute(panel, cfg, study.model)
    assert out.excluded == whole.excluded
    _same(out.keep, whole.keep)
    _same(out.fit.resid, whole.fit.resid)
    _same(out.est_day, whole.est_day)
    _same(out.est_span, whole.est_span)


def test_excluded_pairs_are_present(case: tuple[EventStudy, Panel, EngineOutput]) -> None:
    _, panel, out = case
    flat = panel.pairs["symbol"].to_numpy()[list(out.excluded)] == "FLAT"
    assert flat.any()  # the zero-variance pairs were left out before the residuals


def test_spans_are_present() -> None:
    study, panel = _study("market", calendar="XNYS")
    out = compute(panel, replace(study.config, car_windows=study.engine_windows()), study.model)
    assert out.est_span is not None and (out.est_span > 1).any()


def test_residuals_are_returns_minus_the_pairs_own_fit() -> None:
    """ε_t = R_t − (α + β R_m,t) on every used estimation day, NaN elsewhere (market model, no gaps)."""
    study, _ = _study("market")
    study = EventStudy(
        study.events, study.prices.select(["AAA", "BBB", "MKT"]), model="market", benchmark="MKT"
    )
    panel = _panel(study)
    out = compute(panel, study.config, study.model)
    e_lo, e_hi = study.config.estimation
    base = panel.base_all[out.keep]
    used_all = study.model.window_sums(panel).used
    for i, b in enumerate(base):
        alpha, beta = out.fit.params[i]
        for j, pos in enumerate(range(b + e_lo, b + e_hi + 1)):
            if used_all[pos]:
                assert out.est_day[i, j] == (
                    panel.dates[pos] - np.datetime64("1970-01-01")
                ) // np.timedelta64(1, "D")
                expected = panel.R[pos] - (alpha + beta * panel.B[pos])
                assert out.fit.resid[i, j] == pytest.approx(expected, rel=1e-12, abs=1e-15)
            else:
                assert np.isnan(out.fit.resid[i, j])


@pytest.mark.parametrize("k", [0, 1, 3])
def test_t_and_p_of_the_first_windows_only_are_those_of_every_window(
    case: tuple[EventStudy, Panel, EngineOutput], k: int
) -> None:
    """``stats_windows`` keeps the first windows' t and p, as computed with every window, and
    changes nothing else; through the chunks (on an executor too) as well."""
    from concurrent.futures import ThreadPoolExecutor

    from eventstudy.chunks import compute_chunks

    study, panel, full = case
    cfg = replace(study.config, car_windows=study.engine_windows())
    part = compute(panel, cfg, study.model, stats_windows=k)
    assert part.car_t.shape == part.car_p.shape == (len(full.keep), k)
    np.testing.assert_array_equal(part.car_t, full.car_t[:, :k])
    np.testing.assert_array_equal(part.car_p, full.car_p[:, :k])
    for name in ("keep", "car", "car_se", "car_days", "car_ext", "ar", "sar", "est_day"):
        np.testing.assert_array_equal(getattr(part, name), getattr(full, name))
    with ThreadPoolExecutor(2) as pool:
        for ex in (None, pool):
            chunked = compute_chunks(panel, cfg, study.model, 7, ex, True, "full", k)
            np.testing.assert_array_equal(chunked.car_t, full.car_t[:, :k])
            np.testing.assert_array_equal(chunked.car_p, full.car_p[:, :k])


def test_single_day_windows_taken_directly_equal_the_general_sums(
    case: tuple[EventStudy, Panel, EngineOutput], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A window whose days are one column for every pair (a single day, no date-only extension
    reaching further) gives the CAR, days and variance of the general selection, bit for bit."""
    study, panel, full = case
    lo, hi = study.config.window
    windows = (*study.engine_windows(), (lo, lo + 2), (hi - 1, hi), (lo, hi))
    cfg = replace(study.config, car_windows=windows)
    fast = compute(panel, cfg, study.model)
    monkeypatch.setattr(engine, "_single_column", lambda *a: None)
    general = compute(panel, cfg, study.model)
    for name in ("car", "car_se", "car_t", "car_p", "car_days", "car_ext"):
        a, b = getattr(fast, name), getattr(general, name)
        assert a.dtype == b.dtype and a.tobytes() == b.tobytes(), name
        n = getattr(full, name).shape[1]  # the engine windows, as the fixture computed them
        np.testing.assert_array_equal(a[:, :n], getattr(full, name))
