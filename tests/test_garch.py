"""The GARCH(1,1) model against ``arch`` called directly, on synthetic GARCH data.

Every reference number comes from ``arch.arch_model`` fitted here on the same
returns (in percent, as the model does) with its default starting values,
and from hand recursions of the GARCH(1,1) variance forecast.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eventstudy.models import Fit, Garch, GarchMarket, garchfit

arch = pytest.importorskip("arch")


def simulate(
    n: int, seed: int, mu: float, beta: float | None, omega: float, alpha: float, beta_g: float
) -> tuple[np.ndarray, np.ndarray]:
    """Decimal returns y = μ + βx + ε, ε ~ GARCH(1,1) with (ω, α, β_g) in percent² units."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0.0, 0.01, n)
    s2 = omega / (1.0 - alpha - beta_g)
    eps = np.empty(n)
    for t in range(n):
        eps[t] = np.sqrt(s2) * rng.standard_normal()
        s2 = omega + alpha * eps[t] ** 2 + beta_g * s2
    y = mu + (0.0 if beta is None else beta * x) + eps / 100.0
    return y, x


def arch_direct(y: np.ndarray, x: np.ndarray | None):
    from arch import arch_model

    am = arch_model(
        100.0 * y,
        x=None if x is None else 100.0 * x[:, None],
        mean="Constant" if x is None else "LS",
        vol="GARCH",
        p=1,
        q=1,
        dist="normal",
        rescale=False,
    )
    return am.fit(disp="off", show_warning=False)


@pytest.fixture(scope="module", params=["constant", "market"])
def case(request: pytest.FixtureRequest) -> dict:
    """Three pairs (rows) of 240 estimation days, a few masked, and a 21-day event window."""
    market = request.param == "market"
    T, W = 240, 21
    ys, xs, ws = [], [], []
    for i in range(3):
        y, x = simulate(T + W, 100 + i, 3e-4, 0.8 if market else None, 0.2, 0.12, 0.75)
        w = np.ones(T + W, dtype=bool)
        w[[30 + i, 100, 101, 200 + 5 * i]] = False  # masked days (other events)
        w[T - 1 - i :] = False  # the last estimation days of later rows are masked too
        ys.append(y)
        xs.append(x)
        ws.append(w)
    y, x, w = np.array(ys), np.array(xs), np.array(ws)
    model = GarchMarket() if market else Garch()  # estimation −250…−11, event −10…+10
    fit = model.fit(y[:, :T], x[:, :T] if market else None, w[:, :T])
    refs = [arch_direct(y[p, :T][w[p, :T]], x[p, :T][w[p, :T]] if market else None) for p in range(3)]
    return {
        "model": model,
        "fit": fit,
        "refs": refs,
        "y": y,
        "x": x,
        "w": w,
        "T": T,
        "W": W,
        "market": market,
    }


def test_parameters_residuals_and_variances_equal_arch(case: dict) -> None:
    fit: Fit = case["fit"]
    k = 2 if case["market"] else 1
    assert fit.reason is not None and (fit.reason == "").all()
    for p, res in enumerate(case["refs"]):
        pr = res.params.to_numpy()
        want = [pr[0] / 100.0, *pr[1:k], pr[k] / 1e4, pr[k + 1], pr[k + 2], pr[k + 1] + pr[k + 2], 0.0]
        np.testing.assert_allclose(fit.params[p], want, rtol=1e-8, atol=1e-14)
        used = case["w"][p, : case["T"]]
        np.testing.assert_allclose(fit.resid[p, used], np.asarray(res.resid) / 100.0, rtol=1e-8, atol=1e-14)
        assert np.isnan(fit.resid[p, ~used]).all()
        assert fit.est_var is not None
        np.testing.assert_allclose(
            fit.est_var[p, used], res.conditional_volatility**2 / 1e4, rtol=1e-8, atol=1e-16
        )
        assert fit.n[p] == used.sum() and fit.dof[p] == used.sum() - k - 3
        np.testing.assert_allclose(fit.sigma2[p], pr[k] / (1 - pr[k + 1] - pr[k + 2]) / 1e4, rtol=1e-8)


def test_event_window_equals_arch_forecasts(case: dict) -> None:
    """AR, Var(AR), SAR and Var(CAR) from arch's multi-step forecast and parameter covariance."""
    model, fit, T, W = case["model"], case["fit"], case["T"], case["W"]
    k = 2 if case["market"] else 1
    ret = case["y"][:, T:]
    xe = case["x"][:, T:] if case["market"] else None
    normal = model.normal(fit, xe, ret.shape)
    var = model.ar_variance(fit, xe, ret.shape)
    gamma = np.zeros((3, W))
    gamma[:, 9:16] = 1.0  # days −1…+5
    gamma[1, 12] = 0.0  # a missing day
    car_var = model.car_variance(fit, xe, gamma)
    for p, res in enumerate(case["refs"]):
        last = np.flatnonzero(case["w"][p, :T])[-1]
        gap = T - last  # sessions from the last estimation observation to the first event day
        horizon = gap + W - 1
        exog = None if xe is None else {"x0": np.zeros((1, horizon))}
        f = res.forecast(horizon=horizon, reindex=False, x=exog).variance.to_numpy()[0, gap - 1 :] / 1e4
        d = np.ones((W, 1)) if xe is None else np.column_stack([np.ones(W), xe[p]])
        unit = np.array([0.01, 1.0])[:k]
        cov = res.param_cov.to_numpy()[:k, :k] * np.outer(unit, unit)
        mean = res.params.to_numpy()[:k] * unit
        np.testing.assert_allclose(normal[p], d @ mean, rtol=1e-8, atol=1e-14)
        want_var = f + np.einsum("wi,ij,wj->w", d, cov, d)
        np.testing.assert_allclose(var[p], want_var, rtol=1e-8)
        sar = (ret[p] - normal[p]) / np.sqrt(var[p])
        np.testing.assert_allclose(sar, (ret[p] - d @ mean) / np.sqrt(want_var), rtol=1e-7)
        g = gamma[p] @ d
        np.testing.assert_allclose(car_var[p], gamma[p] @ f + g @ cov @ g, rtol=1e-8)


def test_engine_hooks_agree(case: dict) -> None:
    """leverage/car_leverage restate the variances on the σ̄² scale of the base interface."""
    model, fit, T, W = case["model"], case["fit"], case["T"], case["W"]
    xe = case["x"][:, T:] if case["market"] else None
    shape = (3, W)
    lev = model.leverage(fit, xe, shape)
    np.testing.assert_allclose(fit.sigma2[:, None] * (1 + lev), model.ar_variance(fit, xe, shape), rtol=1e-12)
    one = np.zeros(shape)
    one[:, 10] = 1.0
    np.testing.assert_allclose(model.car_variance(fit, xe, one), model.ar_variance(fit, xe, shape)[:, 10])


@pytest.mark.parametrize("market", [False, True])
def test_recovers_known_parameters(market: bool) -> None:
    """A long synthetic GARCH(1,1) series: the true parameters come back within sampling error."""
    y, x = simulate(4000, 7, 5e-4, 0.7 if market else None, 0.04, 0.09, 0.88)
    model = GarchMarket((-4010, -11), (-10, 10)) if market else Garch((-4010, -11), (-10, 10))
    fit = model.fit(y[None], x[None] if market else None, np.ones((1, 4000), dtype=bool))
    p = dict(zip(model.param_names, fit.params[0], strict=True))
    assert abs(p["alpha"] - 0.09) < 0.03 and abs(p["beta_garch"] - 0.88) < 0.04
    assert abs(p["persistence"] - 0.97) < 0.015
    assert abs(p["omega"] * 1e4 - 0.04) < 0.025
    assert abs(p["mu"] - 5e-4) < 4e-4
    if market:
        assert abs(p["beta"] - 0.7) < 0.05


def test_constant_and_short_series_get_reasons() -> None:
    y, _ = simulate(250, 3, 0.0, None, 0.05, 0.05, 0.9)
    rows = np.array([y, np.full(250, 0.001), y])
    w = np.ones((3, 250), dtype=bool)
    w[2, 40:] = False  # 40 observations
    fit = Garch().fit(rows, None, w)
    assert fit.reason is not None
    assert fit.reason[0] == ""
    assert "constant returns" in fit.reason[1] and "zero variance" in fit.reason[1]
    assert fit.reason[2] == "only 40 estimation observations; GARCH(1,1) needs at least 60"
    assert np.isnan(fit.params[1:]).all() and np.isnan(fit.resid[1:]).all()


class _Fake:
    """Stands in for an arch model whose fit ends with given flags/parameters, or raises."""

    def __init__(self, real, flag: int = 0, params: np.ndarray | None = None, error: bool = False) -> None:
        self.real, self.flag, self.params, self.error = real, flag, params, error

    def fit(self, **kw):
        if self.error:
            raise np.linalg.LinAlgError("Singular matrix\nmore detail")
        res = self.real.fit(**kw)

        class R:
            convergence_flag = self.flag
            optimization_result = type("O", (), {"message": "Iteration limit reached"})()
            params = res.params if self.params is None else type(res.params)(self.params, res.params.index)
            resid = res.resid
            conditional_volatility = res.conditional_volatility
            param_cov = res.param_cov

        return R()


@pytest.mark.parametrize(
    ("fake", "reason"),
    [
        ({"flag": 9}, "GARCH(1,1) optimizer did not converge (flag 9: Iteration limit reached)"),
        (
            {"params": np.array([0.0, 0.01, 0.1, 0.9])},
            "GARCH(1,1) not stationary: alpha + beta_garch = 1.000000",
        ),
        ({"error": True}, "GARCH(1,1) fit failed: Singular matrix"),
    ],
)
def test_optimizer_failures_give_its_reason(monkeypatch: pytest.MonkeyPatch, fake: dict, reason: str) -> None:
    real = garchfit.arch_model_for
    monkeypatch.setattr(garchfit, "arch_model_for", lambda y, x: _Fake(real(y, x), **fake))
    y, _ = simulate(250, 4, 0.0, None, 0.05, 0.05, 0.9)
    r = garchfit.fit_garch(y, None)
    assert r.reason.startswith(reason)
    assert np.isnan(r.mean).all() and np.isnan(r.cond_var).all()


@settings(max_examples=60, deadline=None)
@given(
    omega=st.floats(1e-7, 1e-3),
    alpha=st.floats(0.0, 0.3),
    rho=st.floats(0.0, 0.999),
    next_var=st.floats(1e-7, 1e-2),
    gap=st.integers(1, 30),
)
def test_forecast_is_the_garch_recursion(
    omega: float, alpha: float, rho: float, next_var: float, gap: int
) -> None:
    """σ²_{T+h+1} = ω + (α + β)σ²_{T+h}: the closed form equals the recursion of the forecasts."""
    beta_g = max(rho - alpha, 0.0)
    rho = alpha + beta_g
    params = np.array([[0.0, omega, alpha, beta_g, rho, 0.0]])
    state = np.array([[next_var, gap, 1e-8]])
    fit = Fit(
        params,
        np.array([omega / (1 - rho)]),
        np.array([250.0]),
        np.array([246.0]),
        np.empty((1, 0)),
        None,
        state=state,
    )
    got = Garch().forecast(fit, 12)[0]
    want, f = [], next_var
    for h in range(1, gap + 12):
        if h >= gap:
            want.append(f)
        f = omega + rho * f
    np.testing.assert_allclose(got, want, rtol=1e-9)


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    market=st.booleans(),
    lo=st.integers(0, 20),
    length=st.integers(1, 21),
)
def test_car_variance_is_forecasts_plus_mean_error(seed: int, market: bool, lo: int, length: int) -> None:
    """Var(CAR) = Σ forecasts + g'Cg ≥ Σ forecasts, and a one-day window's is that day's Var(AR)."""
    rng = np.random.default_rng(seed)
    P, W = 4, 21
    k = 2 if market else 1
    alpha = rng.uniform(0.0, 0.3, P)
    beta_g = rng.uniform(0.0, 0.69, P)
    omega = rng.uniform(1e-7, 1e-5, P)
    a = rng.normal(size=(P, k, k)) * 1e-3
    cov = a @ a.transpose(0, 2, 1)  # positive semi-definite
    mean = rng.normal(size=(P, k)) * 1e-3
    params = np.column_stack([mean, omega, alpha, beta_g, alpha + beta_g, np.zeros(P)])
    state = np.column_stack([rng.uniform(1e-6, 1e-3, P), rng.integers(1, 5, P), cov.reshape(P, -1)])
    long_run = omega / (1 - alpha - beta_g)
    fit = Fit(params, long_run, np.full(P, 240.0), np.full(P, 235.0), np.empty((P, 0)), None, state=state)
    model = GarchMarket() if market else Garch()
    xe = rng.normal(0, 0.01, (P, W)) if market else None
    gamma = np.zeros((P, W))
    gamma[:, lo : lo + length] = 1.0
    f = model.forecast(fit, W)
    total = model.car_variance(fit, xe, gamma)
    assert (total >= (gamma * f).sum(axis=1) * (1 - 1e-12)).all()
    per_day = model.ar_variance(fit, xe, (P, W))
    one = np.zeros((P, W))
    one[:, lo] = 1.0
    np.testing.assert_allclose(model.car_variance(fit, xe, one), per_day[:, lo], rtol=1e-12)
