"""Market models for benchmarks on another clock: Dimson (1979) and Scholes–Williams (1977).

Both regress the market's return on benchmark returns of several sessions,
taken from the panel's shifted benchmark returns (``Panel.BX``; shift 0 is
the same date, 1 a lag, −1 a lead; see :mod:`eventstudy.returns`), and are
fitted for every pair at once from window sums of the cross-moments
(:mod:`eventstudy.gram`).

* Dimson: R_t = α + Σ_s β_s R_m,t−s + ε_t by OLS; β_sum = Σ_s β_s; the AR
  uses every term and Var(CAR) = γ'Vγ with V = σ²(I + X*(X'X)⁻¹X*') for the
  full design (Campbell, Lo and MacKinlay 1997, §4.4). Dimson, E. (1979),
  J. Financial Economics 7(2), 197–226.
* Scholes–Williams: b_s the simple-regression slopes on the lag, the same
  date and the lead over the same days, ρ_m the first-order autocorrelation
  of the benchmark over those days, β_SW = (b_−1 + b_0 + b_+1)/(1 + 2ρ_m),
  α_SW = R̄ − β_SW R̄_m; the AR uses the same-date return and σ² has M − 2
  degrees of freedom. The prediction-error term uses (X'X)⁻¹ of the design
  [1, R_m] (the OLS form; an approximation for this estimator). Scholes, M.
  and Williams, J. (1977), J. Financial Economics 5(3), 309–327.

A return spanning k sessions has the intercept regressor k and variance kσ²
(trade-to-trade weights, formula sheet §6.3). Pairs of a market whose lags
are inactive (the default when the benchmark does not close after the
market) get plain OLS on the same date within the same computation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from .base import Fit, Model

if TYPE_CHECKING:
    from ..gram import GramSums, GramWindow
    from ..panel import Panel

__all__ = ["Dimson", "GramOLS", "ScholesWilliams", "gram_ols", "shift_name"]


#: Exclusion reason of a pair whose design is singular over its estimation window.
SINGULAR = (
    "a regressor (a factor or benchmark return, or its lag) is constant or collinear with the others "
    "over the estimation window; the model cannot be fitted"
)


def shift_name(s: int) -> str:
    """Parameter name of the coefficient on the benchmark return shifted by ``s`` sessions."""
    return "beta" if s == 0 else (f"beta_lag{s}" if s > 0 else f"beta_lead{-s}")


def _to_original(inv_c: np.ndarray, cx: np.ndarray) -> np.ndarray:
    """(X'WX)⁻¹ of the design [k, x] from that of the centred design [k, x − k·cx].

    With M = [[1, −cx'], [0, I]] the centred design is X M, so
    (X'WX)⁻¹ = M (M'X'WXM)⁻¹ M'.
    """
    P, d, _ = inv_c.shape
    M = np.broadcast_to(np.eye(d), (P, d, d)).copy()
    M[:, 0, 1:] = -cx
    return np.einsum("pij,pjk,plk->pil", M, inv_c, M)


@dataclass(frozen=True, eq=False)
class GramOLS:
    """OLS of every pair from its Gram window (see :func:`gram_ols`)."""

    alpha: np.ndarray
    beta: np.ndarray
    sigma2: np.ndarray
    n: np.ndarray
    dof: np.ndarray
    inv: np.ndarray
    ok: np.ndarray
    reason: np.ndarray

    def fit(self, params: np.ndarray) -> Fit:
        """The :class:`Fit` with these parameters (rows of failed pairs already NaN)."""
        empty = np.empty((len(self.n), 0))
        return Fit(params, self.sigma2, self.n, self.dof, empty, self.inv, reason=self.reason)


def gram_ols(w: GramWindow) -> GramOLS:
    """OLS of y on ``[k, x_1 … x_K]`` for every pair from its Gram matrix, all pairs at once.

    An inactive regressor (``w.active`` false) has coefficient 0: its row and
    column of X'X are replaced by those of the identity, so the degrees of
    freedom are M − 1 − (active regressors). A pair whose design is singular
    (a regressor constant or collinear over its window) or that has too few
    observations gets ``ok`` false and σ² NaN; a singular one also its
    ``reason`` (the engine excludes the pair with it). (X'X)⁻¹ is returned
    for the uncentred design (see :func:`_to_original`).
    """
    K = w.G.shape[1] - 2
    G = w.G.copy()
    act = w.active
    idx = np.arange(1, K + 1)
    off = ~act
    # an inactive regressor: its row and column of X'X are those of the identity
    G[:, idx, :] = np.where(off[:, :, None], 0.0, G[:, idx, :])
    G[:, :, idx] = np.where(off[:, None, :], 0.0, G[:, :, idx])
    G[:, idx, idx] = np.where(off, 1.0, G[:, idx, idx])
    n = w.n
    dof = n - 1 - act.sum(axis=1)
    ok = (dof > 0) & (n > K + 1)
    xtx = G[:, : K + 1, : K + 1]
    # singular designs: the smallest eigenvalue of the scaled X'X (a correlation-like matrix)
    with np.errstate(invalid="ignore", divide="ignore"):
        d = np.sqrt(np.abs(np.diagonal(xtx, axis1=1, axis2=2)))
        scaled = xtx / (d[:, :, None] * d[:, None, :])
    enough = ok.copy()
    ok &= (d > 0).all(axis=1) & np.isfinite(scaled).all(axis=(1, 2))
    scaled = np.where(ok[:, None, None], scaled, np.eye(K + 1))
    ok &= np.linalg.eigvalsh(scaled)[:, 0] > 1e-10
    reason = np.full(len(ok), "", dtype=object)
    reason[enough & ~ok] = SINGULAR
    xtx = np.where(ok[:, None, None], xtx, np.eye(K + 1))
    xty = G[:, : K + 1, K + 1]
    inv_c = np.linalg.inv(xtx)
    theta = np.einsum("pkl,pl->pk", inv_c, xty)
    ssr = G[:, K + 1, K + 1] - np.einsum("pk,pk->p", theta, xty)
    beta = theta[:, 1:]
    cx = np.where(act, w.cx, 0.0)
    alpha = theta[:, 0] + w.cy - (beta * cx).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        sigma2 = np.where(ok, np.maximum(ssr, 0.0) / dof, np.nan)
    return GramOLS(alpha, beta, sigma2, n, dof.astype("float64"), _to_original(inv_c, cx), ok, reason)


class _Lagged(Model):
    """Shared machinery: sums, design rows [k, x_1 … x_K], γ'Vγ."""

    name = "market"
    needs_benchmark = True
    from_sums = True
    dof_loss = 2
    description = "OLS market model against the benchmark"

    def __init__(self, shifts: tuple[int, ...], later: bool | None = None) -> None:
        # later=None: every regressor estimated for every market; True: the
        # shifts other than 0 only for markets the benchmark closes after
        self.shifts = tuple(shifts)
        self.only_later = later is not None

    # ---------------------------------------------------------------- panel hooks
    def window_sums(self, panel: Panel) -> GramSums:
        from ..gram import gram_sums

        key = f"_gram_{self.shifts}_{self.only_later}"
        hit = panel.__dict__.get(key)
        if hit is None:
            rows = [panel.shifts.index(s) for s in self.shifts]
            active = self._active(panel)
            hit = panel.__dict__[key] = gram_sums(panel, np.asarray(rows, dtype=np.int64), active)
        return hit

    def _active(self, panel: Panel) -> np.ndarray:
        nb = len(panel.starts)
        act = np.ones((nb, len(self.shifts)), dtype=bool)
        if self.only_later:
            later = panel.later if len(panel.later) == nb else np.zeros(nb, dtype=bool)
            for j, s in enumerate(self.shifts):
                if s != 0:
                    act[:, j] = later
        return act

    def regressors(self, panel: Panel, idx: np.ndarray, base: np.ndarray) -> np.ndarray:
        """Design regressors (P, W, K) at long-array positions ``idx``, 0 where inactive."""
        assert panel.BX is not None
        cols = self.design_shifts
        x = np.stack([panel.BX[panel.shifts.index(s)][idx] for s in cols], axis=-1)
        block = np.searchsorted(panel.starts, base, side="right") - 1
        act = self._active(panel)[block][:, [self.shifts.index(s) for s in cols]]
        return np.where(act[:, None, :], x, 0.0)

    @property
    def design_shifts(self) -> tuple[int, ...]:
        """Shifts whose benchmark returns enter the AR."""
        return self.shifts

    # ---------------------------------------------------------------- AR and variances
    def fit(self, y: np.ndarray, x: np.ndarray | None, w: np.ndarray, span: np.ndarray | None = None) -> Fit:
        raise NotImplementedError("fitted from window sums (fit_sums)")

    def _design(
        self, x_evt: np.ndarray | None, shape: tuple[int, ...], span: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Design rows [k, x_1 … x_K] (NaN where a regressor is missing) and the same with 0 there.

        Memoized for the last ``(x_evt, span)``: the engine asks for the rows
        of one event window once per CAR window.
        """
        assert x_evt is not None
        hit = self.__dict__.get("_memo")
        if hit is not None and hit[0] is x_evt and hit[1] is span and hit[2].shape[:2] == shape[:2]:
            return hit[2], hit[3]
        k = np.ones(shape[:2]) if span is None else span
        zero = np.concatenate([k[..., None], np.nan_to_num(x_evt)], axis=-1)
        ok = np.isfinite(x_evt).all(axis=-1)
        zero[~ok] = 0.0
        rows = np.where(ok[..., None], zero, np.nan)
        self.__dict__["_memo"] = (x_evt, span, rows, zero)
        return rows, zero

    def _rows(self, x_evt: np.ndarray | None, shape: tuple[int, ...], span: np.ndarray | None) -> np.ndarray:
        return self._design(x_evt, shape, span)[0]

    def __getstate__(self) -> dict[str, Any]:
        """Pickled without the memo (models are shipped to workers with each chunk)."""
        return {k: v for k, v in self.__dict__.items() if k != "_memo"}

    def normal(
        self, fit: Fit, x_evt: np.ndarray | None, shape: tuple[int, int], span: np.ndarray | None = None
    ) -> np.ndarray:
        d = self._rows(x_evt, shape, span)
        theta = np.nan_to_num(fit.params[:, : d.shape[-1]])
        theta = np.where(np.isfinite(fit.params[:, :1]), theta, np.nan)
        return np.einsum("pwk,pk->pw", d, theta)

    def leverage(
        self, fit: Fit, x_evt: np.ndarray | None, shape: tuple[int, int], span: np.ndarray | None = None
    ) -> np.ndarray:
        assert fit.xtx_inv is not None
        d = self._rows(x_evt, shape, span)
        return np.einsum("pwk,pkl,pwl->pw", d, fit.xtx_inv, d)

    def car_leverage(
        self, fit: Fit, x_evt: np.ndarray | None, gamma: np.ndarray, span: np.ndarray | None = None
    ) -> np.ndarray:
        assert fit.xtx_inv is not None
        zero = self._design(x_evt, gamma.shape, span)[1]
        g = np.einsum("pw,pwk->pk", gamma, zero)
        return np.einsum("pk,pkl,pl->p", g, fit.xtx_inv, g)

    def fit_sums(self, w: Any) -> Fit:  # pragma: no cover - overridden
        raise NotImplementedError


class Dimson(_Lagged):
    """Dimson (1979) sum of betas: OLS on the benchmark returns of every shift (see the module)."""

    def __init__(self, shifts: tuple[int, ...] = (0, 1), later: bool | None = None) -> None:
        super().__init__(shifts, later)
        self.param_names = ("alpha", *(shift_name(s) for s in self.shifts), "beta_sum")  # type: ignore[misc]

    def fit_sums(self, w: GramWindow) -> Fit:
        """OLS of every pair from its Gram matrix (inactive regressors: coefficient 0)."""
        ols = gram_ols(w)
        shown = np.where(w.active, ols.beta, np.nan)
        params = np.column_stack([ols.alpha, shown, ols.beta.sum(axis=1)])
        params[~ols.ok] = np.nan
        return ols.fit(params)


class ScholesWilliams(_Lagged):
    """Scholes and Williams (1977) beta from the lag, same-date and lead slopes (see the module)."""

    param_names: ClassVar[tuple[str, ...]] = ("alpha", "beta", "b_lag1", "b_same", "b_lead1", "rho_m")

    def __init__(self) -> None:
        super().__init__((1, 0, -1), None)

    @property
    def design_shifts(self) -> tuple[int, ...]:
        return (0,)

    def fit_sums(self, w: GramWindow) -> Fit:
        """β_SW, α_SW and σ² of every pair from its Gram matrix."""
        G = w.G
        n = w.n
        ok = n > 4
        with np.errstate(invalid="ignore", divide="ignore"):
            c = G[:, 0, 0]
            # centred cross-moments (Schur complement of the intercept column)
            C = G[:, 1:, 1:] - G[:, 1:, :1] * G[:, :1, 1:] / c[:, None, None]
            ylag = 3  # columns of C: lag1, same, lead1, y
            b = C[:, :3, ylag] / C[:, [0, 1, 2], [0, 1, 2]]
            rho = C[:, 1, 0] / np.sqrt(C[:, 1, 1] * C[:, 0, 0])
            beta = b.sum(axis=1) / (1.0 + 2.0 * rho)
            a_c = (G[:, 0, 4] - beta * G[:, 0, 2]) / c
            ssr = (
                G[:, 4, 4]
                - 2 * a_c * G[:, 0, 4]
                - 2 * beta * G[:, 2, 4]
                + a_c**2 * c
                + 2 * a_c * beta * G[:, 0, 2]
                + beta**2 * G[:, 2, 2]
            )
            dof = n - 2
            sigma2 = np.where(ok, np.maximum(ssr, 0.0) / dof, np.nan)
            cx0 = w.cx[:, 1]
            alpha = a_c + w.cy - beta * cx0
            xtx = G[:, [0, 2]][:, :, [0, 2]]
            xtx = np.where(ok[:, None, None], xtx, np.eye(2))
            inv = _to_original(np.linalg.inv(xtx), cx0[:, None])
        params = np.column_stack([alpha, beta, b, rho])
        params[~ok] = np.nan
        return Fit(params, sigma2, n, dof, np.empty((len(n), 0)), inv)
