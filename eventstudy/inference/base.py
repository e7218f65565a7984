"""Value types of the inference layer: :class:`TestInput` and :class:`TestResult`."""

from __future__ import annotations

import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import special

__all__ = [
    "DEFAULT_DRAWS",
    "TestInput",
    "TestResult",
    "TestSpec",
    "average_ranks",
    "finite_subset",
    "normal_p",
    "shared_cache",
    "not_applicable",
    "t_p",
]

#: Default number of resampling draws (``TestInput.draws``).
DEFAULT_DRAWS = 999


class _AutoCache(dict[object, object]):
    """Marker default of ``TestInput.cache``: replaced by the shared memo of the est arrays."""


#: Key under which a shared memo records the identity of the arrays it belongs to.
_OWNER = "_owner"

_SHARED: dict[tuple[int, ...], tuple[tuple[weakref.ref[np.ndarray], ...], dict[object, object]]] = {}


def shared_cache(*arrays: np.ndarray) -> dict[object, object]:
    """One memo dict per identity of ``arrays`` (the estimation arrays of a study).

    Every :class:`TestInput` built on the very same ``est_resid``, ``est_sar``
    and ``est_day`` objects (the windows of one study) gets the same dict, so
    quantities that depend on those arrays only are computed once. Entries
    are held through weak references and dropped when the arrays are
    garbage-collected; the arrays must not be modified in place afterwards.
    """
    key = tuple(id(a) for a in arrays)
    hit = _SHARED.get(key)
    if hit is not None and all(r() is a for r, a in zip(hit[0], arrays, strict=True)):
        return hit[1]

    def drop(_ref: object, key: tuple[int, ...] = key) -> None:
        _SHARED.pop(key, None)

    memo: dict[object, object] = {_OWNER: key}
    _SHARED[key] = (tuple(weakref.ref(a, drop) for a in arrays), memo)
    return memo


@dataclass(frozen=True, eq=False)
class TestInput:
    """The cross-section of pairs for one CAR window ``(τ1, τ2)``.

    Every array has one row per included pair; tests receive it with an index
    array selecting the pairs of one group.

    Attributes
    ----------
    car : ndarray (P,)
        CAR_i(τ1, τ2), NaN when the window has no available day.
    se : ndarray (P,)
        √(γ'V_iγ), the prediction-error-corrected standard error of CAR_i.
    days : ndarray (P,)
        L_i, available days in the window.
    dof : ndarray (P,)
        M_i − k.
    n_est : ndarray (P,)
        M_i.
    ar : ndarray (P, W)
        Abnormal returns of the window's days (NaN outside the window).
    sar : ndarray (P, W)
        Prediction-error-corrected standardized ARs of the window's days.
    est_resid : ndarray (P, T)
        Estimation-window abnormal returns (NaN where unused).
    est_sar : ndarray (P, T)
        Estimation-window residuals divided by σ̂_i.
    est_day : ndarray (P, T) of int64
        Calendar day number of each estimation row (for date-aligned
        cross-correlations); meaningless where ``est_resid`` is NaN.
    seed : int
        Seed for resampling tests.
    extra : dict
        Free-form metadata.
    draws : int
        Number of draws B of the randomized resampling tests (``wild_bootstrap``;
        default 999).
    window_len : ndarray (P,) of int, optional
        Nominal length of each pair's CAR window in sessions (τ2 − τ1 + 1 plus
        the date-only extension), used by ``placebo`` to place the same window
        inside the estimation period. Defaults to ``days``.
    event_ar : ndarray (P, W), optional
        Abnormal returns of the whole (extended) event window of each pair, NaN
        outside it. ``corrado_rank`` ranks each pair's ARs over estimation plus
        event-window days combined (Corrado 1989); without it only the CAR
        window's days (``ar``) join the estimation days.
    window_day : ndarray (P, W) of int, optional
        Calendar day number of each day of the pair's CAR window (−1 outside
        it); with it, the Kolari–Pynnönen r̄ weights each correlation by the
        calendar overlap of the two pairs' windows.
    event_day : ndarray (P, W) of int, optional
        Calendar day number of each day of the pair's whole event window (−1
        where none): every window's days are among them. With it, the r̄ of
        a study on the dense route (:func:`~eventstudy.inference.kpdense.dense_route`)
        correlates only pairs whose event windows are linked through shared
        days (the only ones any window weights), once for all its windows
        (:mod:`~eventstudy.inference.linkedcorr`).
    cluster : ndarray (P,) of int, optional
        Cluster of each pair for this window (:func:`~eventstudy.inference.clusters.cluster_labels`;
        −1 without a window); the cluster tests need it.
    dup : ndarray (P,) of int, optional
        Exact-duplicate key of each pair for this window (same market, same
        window sessions); the cluster tests count each key once per group.
    cache : dict
        Memo of quantities that depend only on the estimation-window arrays,
        the seed and the number of draws (the P×P residual correlations, r̄
        per group, estimation-window ranks, the sign-flip matrix). By default
        every input built on the same ``est_resid``, ``est_sar`` and
        ``est_day`` objects shares one dict (:func:`shared_cache`), so the
        windows of a study compute these once; pass a dict to control it.
    memo : dict
        Per-input memo of window-dependent quantities (not an argument).
    """

    __test__ = False  # not a pytest test class

    car: np.ndarray
    se: np.ndarray
    days: np.ndarray
    dof: np.ndarray
    n_est: np.ndarray
    ar: np.ndarray
    sar: np.ndarray
    est_resid: np.ndarray
    est_sar: np.ndarray
    est_day: np.ndarray
    seed: int = 0
    extra: dict[str, object] = field(default_factory=dict)
    draws: int = DEFAULT_DRAWS
    window_len: np.ndarray | None = None
    event_ar: np.ndarray | None = None
    window_day: np.ndarray | None = None
    cluster: np.ndarray | None = None
    event_day: np.ndarray | None = None
    dup: np.ndarray | None = None
    cache: dict[object, object] = field(default_factory=_AutoCache, repr=False)
    memo: dict[object, object] = field(default_factory=dict, repr=False, init=False)

    def __post_init__(self) -> None:
        arrays = (self.est_resid, self.est_sar, self.est_day)
        owner = self.cache.get(_OWNER)
        # the default, or a shared memo of other arrays (e.g. after dataclasses.replace)
        if isinstance(self.cache, _AutoCache) or (
            owner is not None and owner != tuple(id(a) for a in arrays)
        ):
            object.__setattr__(self, "cache", shared_cache(*arrays))

    @property
    def scar(self) -> np.ndarray:
        """SCAR_i = CAR_i / √(γ'V_iγ) (computed once per input)."""
        hit = self.memo.get("scar")
        if isinstance(hit, np.ndarray):
            return hit
        with np.errstate(invalid="ignore", divide="ignore"):
            out = self.car / self.se
        self.memo["scar"] = out
        return out


@dataclass(frozen=True)
class TestResult:
    """Outcome of one test on one group.

    ``statistic`` and ``p_value`` are NaN exactly when the test cannot apply;
    ``note`` then says why.
    """

    __test__ = False  # not a pytest test class

    statistic: float
    p_value: float
    n: int
    note: str = ""


@dataclass(frozen=True)
class TestSpec:
    """A registered test: its function, the null distribution and a citation."""

    __test__ = False  # not a pytest test class

    name: str
    func: Callable[[TestInput, np.ndarray], TestResult]
    distribution: str
    citation: str
    description: str
    #: Whether the test reads the estimation-window arrays (``est_resid``,
    #: ``est_sar``, ``est_day``); studies whose tests do not skip building them.
    uses_estimation: bool = True
    #: The same test on every group of a grouping at once:
    #: ``batch(inp, groups) -> BatchResult`` (see :mod:`~eventstudy.inference.grouped`);
    #: when absent, the runner calls ``func`` group by group.
    batch: Callable[..., Any] | None = None
    #: The same test on every group in several windows at once:
    #: ``batch_windows(inputs, groups) -> list[BatchResult]``, for tests whose
    #: windows share expensive work (the bootstrap's flip matrix).
    batch_windows: Callable[..., Any] | None = None
    #: Whether ``batch`` reads only the per-pair arrays (``car``, ``se``, ``days``,
    #: ``dof``, ``n_est``, ``cluster``, ``dup``) and the seed, so that several windows
    #: side by side, each window's groups apart, give every window's result in one
    #: call (:mod:`~eventstudy.inference.sidebyside`).
    stacks: bool = False


def not_applicable(n: int, why: str) -> TestResult:
    """A result for a test that cannot be computed, with the reason."""
    return TestResult(float("nan"), float("nan"), int(n), why)


def finite_subset(values: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """The pair indices of ``idx`` whose ``values`` are finite, in ``idx`` order."""
    idx = np.asarray(idx, dtype=np.int64)
    return idx[np.isfinite(values[idx])]


def normal_p(z: float) -> float:
    """Two-sided p-value of ``z`` under N(0, 1)."""
    return float(2.0 * special.ndtr(-abs(z)))


def t_p(t: float, df: float) -> float:
    """Two-sided p-value of ``t`` under Student's t with ``df`` degrees of freedom."""
    return float(2.0 * special.stdtr(df, -abs(t)))


def average_ranks(a: np.ndarray) -> np.ndarray:
    """Average ranks 1…n of a 1-D array without NaN (ties share their mean rank).

    Same values as :func:`scipy.stats.rankdata` (``method="average"``), without
    its per-call overhead.
    """
    a = np.asarray(a)
    sorter = np.argsort(a, kind="mergesort")
    inv = np.empty(sorter.size, dtype=np.intp)
    inv[sorter] = np.arange(sorter.size, dtype=np.intp)
    s = a[sorter]
    obs = np.r_[True, s[1:] != s[:-1]]
    dense = obs.cumsum()[inv]
    count = np.r_[np.nonzero(obs)[0], len(obs)]
    return 0.5 * (count[dense] + count[dense - 1] + 1)
