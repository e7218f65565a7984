"""The numpy OLS of the second stage against statsmodels (the independent reference).

Coefficients, R², CRV1 (use_correction, df_correction) and Newey–West HAC
covariances, t, p and intervals agree with statsmodels to 1e-10 on random
designs (hypothesis), including a design with rows zeroed as the event-dummy
regression passes it.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.regression.linear_model import OLS

from eventstudy.analysis.linfit import cluster_cov, hac_cov, inference, ols


def _design(seed: int, n: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = np.column_stack([np.ones(n), rng.normal(size=(n, k - 1))])
    X[:, -1] = rng.integers(0, 2, n)  # a dummy, as the cross-section's terms
    y = X @ rng.normal(size=k) + rng.standard_t(4, size=n) * 0.02
    return y, X


def _close(a: object, b: object) -> None:
    np.testing.assert_allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float), rtol=1e-10, atol=1e-13)


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 2**31),
    n=st.integers(12, 120),
    k=st.integers(2, 6),
    n_groups=st.integers(3, 12),
    alpha=st.sampled_from([0.01, 0.05, 0.1]),
)
def test_cluster_matches_statsmodels(seed: int, n: int, k: int, n_groups: int, alpha: float) -> None:
    y, X = _design(seed, n, k)
    groups = np.random.default_rng(seed + 1).integers(0, n_groups, n)
    groups = np.unique(groups, return_inverse=True)[1]
    G = int(groups.max()) + 1
    if G < 2 or np.linalg.matrix_rank(X) < k:
        return
    ref = OLS(y, X).fit(
        cov_type="cluster",
        cov_kwds={"groups": groups, "use_correction": True, "df_correction": True},
        use_t=True,
    )
    fit = ols(y, X)
    cov = cluster_cov(fit, X, groups)
    _close(fit.params, ref.params)
    _close(fit.rsquared, ref.rsquared)
    _close(cov, ref.cov_params())
    inf = inference(fit.params, np.diag(cov), G - 1.0, alpha)
    _close(inf.se, ref.bse)
    _close(inf.t, ref.tvalues)
    _close(inf.p, ref.pvalues)
    _close(np.column_stack([inf.ci_low, inf.ci_high]), ref.conf_int(alpha=alpha))
    # a contrast, as the escalation answer (statsmodels t_test)
    c = np.zeros(k)
    c[-1] = -2.0
    tt = ref.t_test(c[None, :])
    one = inference(np.array([c @ fit.params]), np.array([c @ cov @ c]), G - 1.0)
    _close(one.se, np.ravel(tt.sd))
    _close(one.t, np.ravel(tt.tvalue))
    _close(one.p, np.ravel(tt.pvalue))
    assert float(tt.df_denom) == G - 1


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**31), n=st.integers(30, 300), lags=st.integers(0, 8), k=st.integers(1, 2))
def test_hac_matches_statsmodels_with_zeroed_rows(seed: int, n: int, lags: int, k: int) -> None:
    """The event-dummy regression's form: event rows of y and X set to zero."""
    rng = np.random.default_rng(seed)
    X = np.column_stack([np.ones(n), rng.normal(size=n)])[:, :k]
    y = X @ rng.normal(size=k) + rng.normal(size=n) * 0.01
    keep = (rng.random(n) > 0.1).astype(float)
    keep[:5] = 1.0
    Xz, yz = X * keep[:, None], y * keep
    ref = OLS(yz, Xz).fit(cov_type="HAC", cov_kwds={"maxlags": lags, "use_correction": False})
    fit = ols(yz, Xz)
    _close(fit.params, ref.params)
    _close(fit.bread, ref.normalized_cov_params)
    _close(hac_cov(fit, Xz, lags), ref.cov_params())
    _close(fit.rsquared, ref.rsquared)


def test_hand_case_two_clusters_of_a_mean() -> None:
    """Intercept only: CRV1 variance by hand, c · Σ_g (Σ_i û_i)² / N²."""
    y = np.array([1.0, 2.0, 3.0, 10.0, 11.0, 15.0])
    X = np.ones((6, 1))
    g = np.array([0, 0, 1, 1, 2, 2])
    fit = ols(y, X)
    u = y - y.mean()
    sums = np.array([u[:2].sum(), u[2:4].sum(), u[4:].sum()])
    c = 3 / 2 * 5 / 5
    assert fit.params[0] == pytest.approx(7.0)
    assert cluster_cov(fit, X, g)[0, 0] == pytest.approx(c * (sums**2).sum() / 36)
