"""The volatility reaction: per-pair ratios, the cluster-robust test, its size and power."""

from __future__ import annotations

from dataclasses import replace
from dataclasses import replace as dc_replace

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import special, stats

from eventstudy import EventStudy
from eventstudy.chunks import compute_chunks
from eventstudy.inference.base import TestInput
from eventstudy.inference.volatility import (
    VOLATILITY_COLUMNS,
    estimation_log_mean,
    log_null_mean,
    pair_ratio,
    pair_ratios,
    volatility_table,
)


@pytest.fixture(scope="module")
def syn(synthetic_panel):
    return synthetic_panel(seed=3, n_events=12)


@pytest.fixture(scope="module")
def study(syn):
    return EventStudy(syn.events, syn.prices, model="market", benchmark=syn.benchmark).run()


def _estimation_sar(syn) -> np.ndarray:  # type: ignore[no-untyped-def]
    """The estimation-window SARs of every included pair (rows in ``car.csv`` pair order)."""
    study = EventStudy(syn.events, syn.prices, model="market", benchmark=syn.benchmark)
    cfg = study.config
    panel = study._bound_panel()
    out = compute_chunks(
        panel, dc_replace(cfg, car_windows=study.engine_windows()), study.model, 20_000, None, True
    )
    kept = panel.pairs.iloc[out.keep].reset_index(drop=True)
    inputs, _ = study._test_inputs(panel, out, kept)
    return next(iter(inputs.values())).est_sar


def _block_log_mean(x: np.ndarray, big_l: int) -> float:
    """Mean over every run of ``big_l`` consecutive available days of log(mean x²) (a plain loop)."""
    v = x[np.isfinite(x)]
    return float(np.mean([np.log(np.mean(v[j : j + big_l] ** 2)) for j in range(len(v) - big_l + 1)]))


def _cr2_reference(y: np.ndarray, cl: np.ndarray) -> tuple[float, float, float]:
    """Mean of ``y``, its CR2 t and Bell–McCaffrey df by the dense matrix definitions."""
    n = len(y)
    x = np.ones((n, 1))
    xtx_inv = np.linalg.inv(x.T @ x)
    h = x @ xtx_inv @ x.T
    beta = float((xtx_inv @ x.T @ y)[0])
    u = y - beta
    meat = 0.0
    cols = []
    for g in np.unique(cl):
        i = np.flatnonzero(cl == g)
        w, v = np.linalg.eigh(np.eye(len(i)) - h[np.ix_(i, i)])
        a = v @ np.diag(1.0 / np.sqrt(w)) @ v.T
        s = (x[i].T @ a @ u[i]).item()
        meat += s * s
        cols.append((np.eye(n) - h)[:, i] @ a @ x[i] @ xtx_inv)
    se = float(np.sqrt(xtx_inv.item() ** 2 * meat))
    gm = np.hstack(cols)
    m = gm.T @ gm
    return beta, beta / se, float(np.trace(m) ** 2 / np.trace(m @ m))


def test_pairs_and_groups_match_a_plain_loop(syn, study):
    est_sar = _estimation_sar(syn)
    car = study.car()
    pair_row = {
        key: i for i, key in enumerate(dict.fromkeys(zip(car["event_id"], car["symbol"], strict=True)))
    }
    ar = study.abnormal_returns
    fits = study.fits.set_index(["event_id", "symbol"])
    k = 2  # market model: constant and beta
    rows = []
    for r in car.itertuples():
        t1, t2 = (int(v) for v in r.window.split(":"))
        hi = t2 + (int(r.extended_by) if t2 >= 0 else 0)
        d = ar[(ar["event_id"] == r.event_id) & (ar["symbol"] == r.symbol)]
        s = d.loc[(d["rel_day"] >= t1) & (d["rel_day"] <= hi), "sar"].dropna().to_numpy()
        n_est = int(fits.loc[(r.event_id, r.symbol), "n_est"])
        dof = n_est - k
        vr = float(np.mean(s**2))
        # the estimation period's own placebo blocks, plus the out-of-sample vs in-sample gap
        e0 = _block_log_mean(est_sar[pair_row[(r.event_id, r.symbol)]], len(s))
        e0 += np.log(n_est / 2) - special.digamma(dof / 2)
        rows.append((r.window, r.cluster, vr, np.log(vr) - e0, dof / (dof - 2.0)))
    ref = pd.DataFrame(rows, columns=["window", "cluster", "vr", "y", "e"])
    np.testing.assert_allclose(car["vol_ratio"].to_numpy(), ref["vr"].to_numpy(), rtol=1e-12)
    pairs = study.volatility(pairs=True)
    np.testing.assert_allclose(pairs["vol_ratio"].to_numpy(), ref["vr"].to_numpy(), rtol=1e-12)
    vol = study.volatility()
    assert list(study.tables()["volatility.csv"].columns) == VOLATILITY_COLUMNS
    for w, grp in ref.groupby("window", sort=False):
        row = vol[vol["window"] == w].iloc[0]
        mean, t, df = _cr2_reference(grp["y"].to_numpy(), grp["cluster"].to_numpy())
        assert row["n_pairs"] == len(grp) and row["n_clusters"] == grp["cluster"].nunique()
        assert row["mean_ratio"] == pytest.approx(grp["vr"].mean(), rel=1e-12)
        assert row["expected_ratio"] == pytest.approx(grp["e"].mean(), rel=1e-12)
        assert row["mean_log_ratio"] == pytest.approx(mean, rel=1e-8)
        assert row["statistic"] == pytest.approx(t, rel=1e-8)
        assert row["df"] == pytest.approx(df, rel=1e-9)
        assert row["p_value"] == pytest.approx(2 * stats.t.sf(abs(t), df), rel=1e-7)


def test_saved_and_loaded(study, tmp_path):
    from eventstudy import StudyResult

    back = StudyResult.load(study.save(tmp_path / "out"))
    pd.testing.assert_frame_equal(back.volatility(by=None), study.volatility(by=None), check_dtype=False)
    by_market = study.volatility(by="market", window="-1:+1")
    assert set(by_market["group"]) == set(study.symbols) and set(by_market["window"]) == {"-1:+1"}


def test_estimation_blocks_skip_gaps_and_mix_lengths():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((6, 30))
    x[rng.random(x.shape) < 0.2] = np.nan
    x[5, 3:] = np.nan  # fewer available days than the window
    days = np.array([1, 3, 3, 11, 2, 5])
    got = estimation_log_mean(x, days)
    want = [
        _block_log_mean(x[i], int(days[i])) if np.isfinite(x[i]).sum() >= days[i] else np.nan
        for i in range(6)
    ]
    np.testing.assert_allclose(got, want, rtol=1e-10, equal_nan=True)


def test_estimation_blocks_shared_through_the_cache_match_the_loop():
    """Windows of one study share each pair's block mean per L through the cache: a call for
    some pairs, then one for others and for all pairs, gives the loop's values every time."""
    rng = np.random.default_rng(7)
    x = rng.standard_normal((9, 25))
    x[rng.random(x.shape) < 0.25] = np.nan
    x[8, 2:] = np.nan
    cache: dict[object, object] = {}
    calls = [np.array([3, 0, 3, 1, 3, 2, 0, 0, 3]), np.full(9, 3), np.array([1, 3, 2, 1, 1, 3, 2, 2, 30])]
    for days in calls:
        got = estimation_log_mean(x, days, cache)
        want = [
            _block_log_mean(x[i], int(d)) if 0 < d <= np.isfinite(x[i]).sum() else np.nan
            for i, d in enumerate(days)
        ]
        np.testing.assert_allclose(got, want, rtol=1e-10, equal_nan=True)
        np.testing.assert_array_equal(got, estimation_log_mean(x, days))  # the same numbers uncached
    assert ("volatility_log_mean", 3) in cache


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**31 - 1),
    shape=st.tuples(st.integers(1, 12), st.integers(1, 30)),
    gaps=st.sampled_from([0.0, 0.1, 0.5, 0.9]),
    scale=st.sampled_from([1e-6, 1.0, 1e6]),
)
def test_estimation_blocks_match_the_loop_whatever_the_gaps(seed, shape, gaps, scale):
    """Rows without gaps, with gaps, empty or shorter than L: the loop's value (NaN where no block)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape) * scale
    x[rng.random(shape) < gaps] = np.nan
    x[0, : shape[1] // 2] = np.nan  # a row whose available days are all at the end
    days = rng.integers(0, shape[1] + 2, shape[0])
    got = estimation_log_mean(x, days, {})
    want = [
        _block_log_mean(x[i], int(d)) if 0 < d <= np.isfinite(x[i]).sum() else np.nan
        for i, d in enumerate(days)
    ]
    np.testing.assert_allclose(got, want, rtol=1e-9, equal_nan=True)


def test_ratio_alone_is_the_ratio_of_pair_ratios():
    """``pair_ratio`` (no estimation SARs read) equals ``pair_ratios``' ratio and a plain loop."""
    rng = np.random.default_rng(11)
    p, w = 40, 5
    sar = rng.standard_normal((p, w))
    sar[rng.random(sar.shape) < 0.3] = np.nan
    sar[3] = np.nan  # no day: NaN
    sar[4] = 0.0  # a ratio of 0
    est = rng.standard_normal((p, 30))
    inp = TestInput(
        car=np.nansum(sar, axis=1),
        se=np.ones(p),
        days=np.isfinite(sar).sum(axis=1),
        dof=np.full(p, 28.0),
        n_est=np.full(p, 30.0),
        ar=sar,
        sar=sar,
        est_resid=est,
        est_sar=est,
        est_day=np.zeros(est.shape, dtype=np.int64),
    )
    got = pair_ratio(inp)
    np.testing.assert_array_equal(got, pair_ratios(inp)[0])
    want = [np.mean(r[np.isfinite(r)] ** 2) if np.isfinite(r).any() else np.nan for r in sar]
    np.testing.assert_allclose(got, want, rtol=1e-14, equal_nan=True)


def test_log_null_mean_is_the_mean_of_log_f():
    rng = np.random.default_rng(0)
    big_l, d = 3, 40
    f = rng.f(big_l, d, size=400_000)
    assert np.log(f).mean() == pytest.approx(
        float(log_null_mean(np.array([big_l]), np.array([d]))[0]), abs=4e-3
    )


# ------------------------------------------------------------- simulated inputs
def _inputs(
    rng: np.random.Generator,
    n_events: int,
    n_markets: int,
    days: int,
    rho: float,
    scale: float = 1.0,
    n_est: int = 200,
    tails: float = 0.0,
) -> TestInput:
    """SARs of ``n_events`` × ``n_markets`` constant-mean pairs with ``n_est`` estimation days.

    The markets of one event correlate ``rho`` day by day in the window; shocks
    are normal, or Student t with ``tails`` degrees of freedom (unit variance).
    """
    p = n_events * n_markets

    def shocks(shape: tuple[int, ...]) -> np.ndarray:
        if not tails:
            return rng.standard_normal(shape)
        return rng.standard_t(tails, size=shape) / np.sqrt(tails / (tails - 2.0))

    est = shocks((p, n_est))
    est = est - est.mean(axis=1, keepdims=True)  # in-sample residuals of the constant
    sigma_hat = np.sqrt((est * est).sum(axis=1, keepdims=True) / (n_est - 1))
    if tails:  # a common shock with t tails: one t draw per event and day, one per pair and day
        common, own = shocks((n_events, 1, days)), shocks((n_events, n_markets, days))
    else:
        common, own = (
            rng.standard_normal((n_events, 1, days)),
            rng.standard_normal((n_events, n_markets, days)),
        )
    e = (np.sqrt(rho) * common + np.sqrt(1.0 - rho) * own).reshape(-1, days)
    sar = scale * e / (sigma_hat * np.sqrt(1.0 + 1.0 / n_est))
    return TestInput(
        car=sar.sum(axis=1),
        se=np.full(p, np.sqrt(days)),
        days=np.full(p, days),
        dof=np.full(p, n_est - 1.0),
        n_est=np.full(p, float(n_est)),
        ar=sar,
        sar=sar,
        est_resid=est,
        est_sar=est / sigma_hat,
        est_day=np.zeros_like(est, dtype=np.int64),
        cluster=np.repeat(np.arange(n_events), n_markets),
        dup=np.arange(p),
    )


_PAIR_FIELDS = (
    "car",
    "se",
    "days",
    "dof",
    "n_est",
    "ar",
    "sar",
    "est_resid",
    "est_sar",
    "est_day",
    "cluster",
)


def _rejections(seed: int, sims: int, block: int = 100, **kw: float) -> float:
    """Share of ``sims`` simulated studies (drawn one after the other from ``seed``) rejecting at 5 %.

    The simulations are tested ``block`` at a time in one table: each simulation is a
    group of its own (its pairs, its clusters, its estimation blocks), and the test of a
    group uses only its pairs, so each row is that simulation's test, as one call per
    simulation gives it (checked on the first simulations of each block).
    """
    rng = np.random.default_rng(seed)
    p_pairs = kw["n_events"] * kw["n_markets"]
    one = {"all": np.full(p_pairs, "all", dtype=object)}
    p: list[float] = []
    for lo in range(0, sims, block):
        parts = [_inputs(rng, **kw) for _ in range(min(block, sims - lo))]  # type: ignore[arg-type]
        stacked = TestInput(
            **{f: np.concatenate([getattr(x, f) for x in parts]) for f in _PAIR_FIELDS},
            dup=np.arange(len(parts) * p_pairs),
        )
        labels = {"sim": np.repeat(np.array([f"s{i:04d}" for i in range(len(parts))], dtype=object), p_pairs)}
        table = volatility_table({"w": stacked}, labels)
        assert table["group"].tolist() == [f"s{i:04d}" for i in range(len(parts))]
        got = table["p_value"].to_numpy(dtype=float)
        for i in range(2):
            alone = volatility_table({"w": parts[i]}, one)["p_value"].iloc[0]
            assert got[i] == pytest.approx(alone, rel=1e-9, abs=1e-12)
        p.extend(got)
    return float(np.mean(np.asarray(p) < 0.05))


@pytest.mark.parametrize(
    ("days", "n_events", "tails"), [(1, 20, 0.0), (3, 30, 0.0), (11, 15, 0.0), (1, 20, 4.0), (3, 30, 4.0)]
)
def test_size_on_homoskedastic_dependent_pairs(days, n_events, tails):
    # fat tails (t with 4 df) too: the estimation period's own blocks centre the log ratio
    rate = _rejections(11 + days, 300, n_events=n_events, n_markets=5, days=days, rho=0.6, tails=tails)
    assert 0.03 <= rate <= 0.08, rate


def test_power_against_a_variance_jump():
    # event-window ARs twice as large: the variance quadruples
    assert _rejections(5, 200, n_events=20, n_markets=5, days=1, rho=0.6, scale=2.0) > 0.8
    # a 50 % rise in the standard deviation with 3-day windows
    assert _rejections(6, 200, n_events=30, n_markets=5, days=3, rho=0.6, scale=1.5) > 0.8


def test_duplicated_pairs_and_relabelled_clusters_leave_the_test_unchanged():
    inp = _inputs(np.random.default_rng(2), n_events=12, n_markets=4, days=3, rho=0.5)
    labels = {"all": np.full(48, "all", dtype=object)}
    base = volatility_table({"w": inp}, labels)
    twice = TestInput(
        **{
            f: np.concatenate([getattr(inp, f)] * 2)
            for f in ("car", "se", "days", "dof", "n_est", "ar", "sar", "est_resid", "est_sar", "est_day")
        },
        cluster=np.concatenate([inp.cluster, inp.cluster]),  # type: ignore[list-item]
        dup=np.concatenate([inp.dup, inp.dup]),  # type: ignore[list-item]
    )
    doubled = volatility_table({"w": twice}, {"all": np.full(96, "all", dtype=object)})
    pd.testing.assert_frame_equal(doubled, base)
    # a cluster treated as one observation: a single cluster has no test
    one = replace(inp, cluster=np.zeros(48, dtype=np.int64))
    row = volatility_table({"w": one}, labels).iloc[0]
    assert np.isnan(row["statistic"]) and "at least 2 clusters" in row["note"]


def test_report_section(study):
    html = study.to_html()
    assert 'id="analysis-volatility"' in html and 'id="table-volatility-1"' in html
