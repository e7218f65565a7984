"""The volatility reaction: per-pair ratios, the cluster-robust test, its size and power."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from scipy import special, stats

from eventstudy import EventStudy
from eventstudy.inference.base import TestInput
from eventstudy.inference.volatility import VOLATILITY_COLUMNS, log_null_mean, volatility_table


@pytest.fixture(scope="module")
def study(synthetic_panel):
    s = synthetic_panel(seed=3, n_events=12)
    return EventStudy(s.events, s.prices, model="market", benchmark=s.benchmark).run()


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


def test_pairs_and_groups_match_a_plain_loop(study):
    ar = study.abnormal_returns
    car = study.car()
    fits = study.fits.set_index(["event_id", "symbol"])
    k = 2  # market model: constant and beta
    rows = []
    for r in car.itertuples():
        t1, t2 = (int(v) for v in r.window.split(":"))
        hi = t2 + (int(r.extended_by) if t2 >= 0 else 0)
        d = ar[(ar["event_id"] == r.event_id) & (ar["symbol"] == r.symbol)]
        s = d.loc[(d["rel_day"] >= t1) & (d["rel_day"] <= hi), "sar"].dropna().to_numpy()
        dof = int(fits.loc[(r.event_id, r.symbol), "n_est"]) - k
        vr = float(np.mean(s**2))
        big_l = len(s)
        e0 = special.digamma(big_l / 2) - np.log(big_l / 2) - special.digamma(dof / 2) + np.log(dof / 2)
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
        assert row["mean_log_ratio"] == pytest.approx(mean, rel=1e-10, abs=1e-14)
        assert row["statistic"] == pytest.approx(t, rel=1e-9)
        assert row["df"] == pytest.approx(df, rel=1e-9)
        assert row["p_value"] == pytest.approx(2 * stats.t.sf(abs(t), df), rel=1e-9)


def test_saved_and_loaded(study, tmp_path):
    from eventstudy import StudyResult

    back = StudyResult.load(study.save(tmp_path / "out"))
    pd.testing.assert_frame_equal(back.volatility(by=None), study.volatility(by=None), check_dtype=False)
    by_market = study.volatility(by="market", window="-1:+1")
    assert set(by_market["group"]) == set(study.symbols) and set(by_market["window"]) == {"-1:+1"}


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
    dof: int = 200,
) -> TestInput:
    """SARs of ``n_events`` × ``n_markets`` pairs; the markets of one event correlate ``rho`` day by day."""
    common = rng.standard_normal((n_events, 1, days))
    own = rng.standard_normal((n_events, n_markets, days))
    e = (np.sqrt(rho) * common + np.sqrt(1.0 - rho) * own).reshape(-1, days)
    p = len(e)
    sigma_hat = np.sqrt(rng.chisquare(dof, size=(p, 1)) / dof)  # σ̂/σ of each pair's estimation window
    sar = scale * e / sigma_hat
    z = np.zeros((p, 1))
    return TestInput(
        car=sar.sum(axis=1),
        se=np.full(p, np.sqrt(days)),
        days=np.full(p, days),
        dof=np.full(p, float(dof)),
        n_est=np.full(p, dof + 1.0),
        ar=sar,
        sar=sar,
        est_resid=z,
        est_sar=z,
        est_day=z.astype(np.int64),
        cluster=np.repeat(np.arange(n_events), n_markets),
        dup=np.arange(p),
    )


def _rejections(seed: int, sims: int, **kw: float) -> float:
    rng = np.random.default_rng(seed)
    labels = {"all": np.full(kw["n_events"] * kw["n_markets"], "all", dtype=object)}
    p = [volatility_table({"w": _inputs(rng, **kw)}, labels)["p_value"].iloc[0] for _ in range(sims)]  # type: ignore[arg-type]
    return float(np.mean(np.asarray(p) < 0.05))


@pytest.mark.parametrize(("days", "n_events"), [(1, 20), (3, 30), (11, 15)])
def test_size_on_homoskedastic_dependent_pairs(days, n_events):
    rate = _rejections(11 + days, 300, n_events=n_events, n_markets=5, days=days, rho=0.6)
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
