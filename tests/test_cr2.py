"""CR2 covariance with Bell–McCaffrey degrees of freedom (eventstudy.analysis.cr2).

Checked against statsmodels' HC2 (every cluster a singleton), against the
constant-only closed form of the headline inference (cluster means), and by
invariances: relabelling and reordering clusters, rescaling a regressor.
"""

from __future__ import annotations

import numpy as np
import pytest
import statsmodels.api as sm
from hypothesis import given, settings
from hypothesis import strategies as st

from eventstudy.analysis.cr2 import cr2_bm


def _data(seed: int, n: int = 60, G: int = 12) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    groups = rng.integers(0, G, n)
    x = rng.lognormal(0, 1, n) * (rng.random(n) < 0.5)
    X = np.column_stack([np.ones(n), rng.normal(size=n), x])
    y = X @ [0.1, 0.5, -0.2] + rng.normal(size=n) + rng.normal(size=G)[groups]
    return X, y, groups


def test_singleton_clusters_give_hc2() -> None:
    X, y, _ = _data(1)
    res = sm.OLS(y, X).fit(cov_type="HC2")
    cov, _ = cr2_bm(X, res.resid, np.arange(len(y)))
    np.testing.assert_allclose(cov, res.cov_params(), rtol=1e-10, atol=1e-14)


def test_constant_only_is_the_cluster_mean_form() -> None:
    # y on a constant with equal clusters: CR2 = variance of the cluster means / G, dof = G − 1
    rng = np.random.default_rng(3)
    G, m = 9, 4
    groups = np.repeat(np.arange(G), m)
    y = rng.normal(size=G * m) + rng.normal(size=G)[groups]
    cov, dof = cr2_bm(np.ones((G * m, 1)), y - y.mean(), groups)
    means = y.reshape(G, m).mean(axis=1)
    assert cov[0, 0] == pytest.approx(means.var(ddof=1) / G, rel=1e-10)
    assert dof[0] == pytest.approx(G - 1, rel=1e-10)


def test_skewed_regressor_gets_fewer_degrees_of_freedom_than_g_minus_1() -> None:
    X, y, groups = _data(5)
    _, dof = cr2_bm(X, y - X @ np.linalg.lstsq(X, y, rcond=None)[0], groups)
    assert np.all(dof > 1) and dof[2] < len(np.unique(groups)) - 1


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), scale=st.floats(1e-3, 1e3), perm_seed=st.integers(0, 10_000))
def test_invariances(seed: int, scale: float, perm_seed: int) -> None:
    X, y, groups = _data(seed)
    e = y - X @ np.linalg.lstsq(X, y, rcond=None)[0]
    cov, dof = cr2_bm(X, e, groups)
    # rescaling a regressor rescales its variance by 1/scale² and leaves the dof
    Xs = X.copy()
    Xs[:, 2] *= scale
    cov_s, dof_s = cr2_bm(Xs, e, groups)
    assert cov_s[2, 2] == pytest.approx(cov[2, 2] / scale**2, rel=1e-6)
    np.testing.assert_allclose(dof_s, dof, rtol=1e-6)
    # reordering rows and renaming clusters changes nothing
    p = np.random.default_rng(perm_seed).permutation(len(y))
    cov_p, dof_p = cr2_bm(X[p], e[p], (groups[p] * 7 + 3).astype(str))
    np.testing.assert_allclose(cov_p, cov, rtol=1e-8, atol=1e-15)
    np.testing.assert_allclose(dof_p, dof, rtol=1e-8)
