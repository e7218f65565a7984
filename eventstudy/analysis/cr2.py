"""CR2 cluster-robust covariance with Bell–McCaffrey degrees of freedom, for any OLS design.

The second stage's CRV1 standard errors with t(G − 1) over-reject when a few
clusters carry most of a regressor's variation: a skewed covariate (a tariff
size that is zero for half of the events and large for a few) rejected 9–10 %
at the 5 % level on placebo dates (``bench/calibration_covariate.py``). The
bias-reduced linearization of Bell and McCaffrey (2002, Survey Methodology
28(2)) with their Satterthwaite degrees of freedom, in the form of Imbens and
Kolesár (2016, Review of Economics and Statistics 98(4)) and Pustejovsky and
Tipton (2018, Journal of Business & Economic Statistics 36(4)), corrects both
the downward bias of the variance and the reference distribution
(formula sheet §7):

* V = M (Σ_g X_g' A_g e_g e_g' A_g X_g) M, with M = (X'X)⁻¹,
  H_gg = X_g M X_g' and A_g = (I − H_gg)^(−½) (a symmetric pseudo-inverse
  square root where I − H_gg is singular, e.g. a cluster fitted exactly by
  its own dummy);
* for a coefficient j, with ℓ = e_j, the columns G_g = (I − H)_(·,g) A_g X_g M ℓ
  (n-vectors) form the n×G matrix G; under the working model Ω = σ²I the
  degrees of freedom are ν_j = (tr G'G)² / ‖G'G‖²_F.

With every cluster a singleton, V is HC2 (MacKinnon and White 1985); with a
constant only, it is :func:`eventstudy.inference.clustered.cluster_cr2_t`'s
closed form.
"""

from __future__ import annotations

import numpy as np

__all__ = ["cr2_bm"]


def _inv_sqrt_psd(S: np.ndarray, tol: float = 1e-10) -> np.ndarray:
    """Symmetric pseudo-inverse square root of a positive semi-definite matrix."""
    lam, vec = np.linalg.eigh(S)
    inv = np.where(lam > tol, 1.0 / np.sqrt(np.clip(lam, tol, None)), 0.0)
    return (vec * inv) @ vec.T


def cr2_bm(X: np.ndarray, resid: np.ndarray, groups: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """CR2 covariance of OLS coefficients and Bell–McCaffrey degrees of freedom per coefficient.

    Parameters
    ----------
    X : ndarray (n, k)
        Full-rank design.
    resid : ndarray (n,)
        OLS residuals y − Xβ̂.
    groups : ndarray (n,)
        Cluster label of each row (any hashable values).

    Returns
    -------
    cov : ndarray (k, k)
        The CR2 covariance of β̂ (module docstring).
    dof : ndarray (k,)
        Bell–McCaffrey degrees of freedom of each coefficient's t statistic.
    """
    X = np.asarray(X, dtype=float)
    e = np.asarray(resid, dtype=float)
    n, k = X.shape
    M = np.linalg.inv(X.T @ X)
    H = X @ M @ X.T
    IH = np.eye(n) - H
    _, codes = np.unique(np.asarray(groups), return_inverse=True)
    G = int(codes.max()) + 1 if n else 0
    meat = np.zeros((k, k))
    Gmat = np.zeros((n, k, G))  # column g of coefficient j's G matrix
    for g in range(G):  # one small dense block per cluster (G ≲ a few hundred)
        idx = np.flatnonzero(codes == g)
        A = _inv_sqrt_psd(np.eye(idx.size) - H[np.ix_(idx, idx)])
        Xg = X[idx]
        u = Xg.T @ (A @ e[idx])
        meat += np.outer(u, u)
        W = A @ Xg @ M  # n_g × k: A_g X_g M ℓ for every ℓ = e_j
        Gmat[:, :, g] = IH[:, idx] @ W
    cov = M @ meat @ M
    B = np.einsum("ijg,ijh->jgh", Gmat, Gmat)  # G'G per coefficient
    tr = np.einsum("jgg->j", B)
    fro = np.einsum("jgh,jgh->j", B, B)
    with np.errstate(invalid="ignore", divide="ignore"):
        dof = tr**2 / fro
    return cov, dof
