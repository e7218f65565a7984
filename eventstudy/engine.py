"""The vectorized computation: fits, abnormal returns, CARs and their variances.

Given a :class:`~eventstudy.panel.Panel` and a model, every pair's estimation
window is gathered as a row of a P×T matrix and every event window as a row of
a P×W matrix; the model is fitted to all rows at once. Per pair:

* AR_τ = R_τ − E[R_τ], SAR_τ = AR_τ / (σ̂ √(1 + h_τ)) (prediction-error
  corrected; Patell 1976, Campbell, Lo and MacKinlay 1997 §4.4);
* CAR(τ1, τ2) = Σ_τ AR_τ over the window's available days,
  Var(CAR) = γ'Vγ (formula sheet §5.2), t = CAR / √Var ~ t(M − k).

Windows that end at or after day 0 are extended by the number of sessions
between the earliest and the latest possible day 0 of a date-only event.

Chunked and parallel computation: :mod:`eventstudy.chunks` (its functions are
also reachable here, e.g. ``eventstudy.engine.compute_chunks``).
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any, Literal, get_args

import numpy as np
import pandas as pd
from scipy import special

from .config import StudyConfig
from .estrows import _estimation, _estimation_rows
from .models import Fit, Model
from .panel import Panel

__all__ = [
    "DETAILS",
    "Detail",
    "EngineOutput",
    "check_detail",
    "compute",
]

#: How much of each pair an :class:`EngineOutput` keeps: ``"full"`` (every
#: array) or ``"pairs"`` (per-pair quantities only; see :func:`compute`).
Detail = Literal["full", "pairs"]
DETAILS: tuple[str, ...] = get_args(Detail)


def check_detail(detail: object) -> Detail:
    """``detail`` if it is one of :data:`DETAILS`, else a ``ValueError`` naming them."""
    if detail not in DETAILS:
        raise ValueError(f"detail: expected one of {', '.join(map(repr, DETAILS))}, got {detail!r}")
    return detail  # type: ignore[return-value]


@dataclass(frozen=True, eq=False)
class EngineOutput:
    """Arrays for the P included pairs (row order = ``pairs`` rows kept).

    Attributes
    ----------
    keep : ndarray of int
        Row positions (in ``panel.pairs``) of the included pairs.
    excluded : dict
        Row position → reason, for pairs the engine excluded (too few
        estimation observations, or a residual variance of zero); see
        :meth:`reasons`.
    fit : Fit
        Estimation results of the included pairs.
    est_day : ndarray (P, T) of int32
        Calendar day number (days since 1970-01-01) of each estimation-window
        row (meaningful where the residual is not NaN).
    est_start, est_end : ndarray (P,) of datetime64
        First and last estimation observation used.
    rel : ndarray (W,)
        Relative days of the gathered event-window columns.
    evt_idx : ndarray (P, W)
    ret, normal, ar, sar : ndarray (P, W)
    in_window : ndarray (P, W) bool
        Column within the pair's (extended) event window.
    est_span : ndarray (P, T) or None
        Sessions spanned by each estimation-window return (a k-session
        residual has variance kσ²); ``None`` when every return spans one.
    car, car_se, car_t, car_p, car_days, car_ext : ndarray (P, C)
        Per CAR window.
    detail : {"full", "pairs"}
        With ``"pairs"`` only the per-pair arrays are kept: ``rel`` is empty,
        and ``est_day``, ``fit.resid``, ``evt_idx``, ``ret``, ``normal``,
        ``ar``, ``sar`` and ``in_window`` have zero columns (P×0).
    """

    keep: np.ndarray
    excluded: dict[int, str]
    fit: Fit
    est_day: np.ndarray
    est_start: np.ndarray
    est_end: np.ndarray
    rel: np.ndarray
    evt_idx: np.ndarray
    ret: np.ndarray
    normal: np.ndarray
    ar: np.ndarray
    sar: np.ndarray
    in_window: np.ndarray
    car: np.ndarray
    car_se: np.ndarray
    car_t: np.ndarray
    car_p: np.ndarray
    car_days: np.ndarray
    car_ext: np.ndarray
    detail: Detail = "full"
    est_span: np.ndarray | None = None

    def reasons(self, pairs: pd.DataFrame) -> np.ndarray:
        """Exclusion reason of every pair of ``pairs`` ("" when included)."""
        out = pairs["reason"].to_numpy(dtype=object).copy()
        for row, why in self.excluded.items():
            out[row] = why
        return out


MIN_VARIANCE = 1e-14
"""Residual variances at or below this (σ ≤ 1e-7 per session) count as zero: constant prices."""


def _single_column(rel: np.ndarray, t1: int, t2: int, ext: tuple[int, int]) -> int | None:
    """The one column of ``rel`` (ascending) in every pair's window ``t1 … t2 + e`` (e from
    ``ext[0]`` to ``ext[1]``) when the windows reach no other column, else ``None``."""
    lo, hi = np.searchsorted(rel, t1, "left"), np.searchsorted(rel, t2 + ext[1], "right")
    if hi - lo != 1 or rel[lo] > t2 + ext[0]:
        return None
    return int(lo)


def _column_variance(
    model: Model, fit: Fit, xe: np.ndarray | None, one: np.ndarray, span: np.ndarray | None, col: int
) -> np.ndarray:
    """Var(CAR) of the one-day window at column ``col`` (available where ``one``), for a model
    whose ``car_variance`` of a selector zero elsewhere is that of the column alone
    (``columnwise_variance``): the P×1 arrays instead of P×W ones."""
    at = slice(col, col + 1)
    gamma = one.astype("float64")[:, None]
    x, sp = None if xe is None else xe[:, at], None if span is None else span[:, at]
    return model.car_variance(fit, x, gamma, sp)


def _used_positions(panel: Panel, model: Model, ps: Any) -> np.ndarray:
    """Long-array positions usable for estimation by ``model``, ascending (cached on the panel)."""
    if ps is panel.__dict__.get(f"_prefix_{model.needs_benchmark}"):
        return panel.used_positions(model.needs_benchmark)
    key = f"_upos_{id(ps)}"
    hit = panel.__dict__.get(key)
    if hit is None:
        hit = panel.__dict__[key] = np.flatnonzero(ps.used)
    return hit


def compute(
    panel: Panel,
    cfg: StudyConfig,
    model: Model,
    rows: np.ndarray | None = None,
    need_resid: bool = True,
    detail: Detail = "full",
    stats_windows: int | None = None,
) -> EngineOutput:
    """Run the model on the pairs ``rows`` of ``panel`` (all by default).

    ``keep`` and ``excluded`` of the output refer to positions in
    ``panel.pairs``. Linear models are fitted from prefix sums
    (:mod:`eventstudy.moments`); the estimation-window residuals and day
    numbers (P×T, for the tests that use them) are built only with
    ``need_resid``. With ``detail="pairs"`` the output keeps only the
    per-pair arrays (fit parameters, σ², n, degrees of freedom, estimation
    range, and CAR, se, t, p, days and extension per window), with the same
    numbers as ``"full"``; the P×W event-window and P×T estimation arrays are
    dropped (``need_resid`` is then ignored). With ``stats_windows``, ``car_t``
    and ``car_p`` have the first that many windows' columns only (a study's
    CAR windows, whose table shows them; the p-value of Student's t costs
    more than the rest of a window), with the same numbers.
    """
    detail = check_detail(detail)
    if detail == "pairs":
        need_resid = False
    pairs = panel.pairs
    rows = np.arange(len(pairs)) if rows is None else np.asarray(rows, dtype=np.int64)
    base_all = panel.base_all
    cand = rows[base_all[rows] >= 0]
    base = base_all[cand]
    e_lo, e_hi = cfg.estimation
    ps = model.window_sums(panel)
    a, b = base + e_lo, base + e_hi + 1
    n_used = ps.count[b] - ps.count[a]
    few = n_used < cfg.min_estimation
    excluded = {
        int(cand[j]): f"only {int(n_used[j])} estimation observations (minimum {cfg.min_estimation})"
        for j in np.flatnonzero(few)
    }
    ok = ~few
    keep, base, a, b = cand[ok], base[ok], a[ok], b[ok]
    # first and last estimation observation used: positions of the used days
    upos = _used_positions(panel, model, ps)
    c_a, c_b = ps.count[a], ps.count[b]
    has = c_b > c_a
    nat = np.datetime64("NaT", "ns")
    est_start = np.where(has, panel.dates[upos[np.minimum(c_a, len(upos) - 1)]], nat)
    est_end = np.where(has, panel.dates[upos[np.maximum(c_b - 1, 0)]], nat)
    est_span = np.empty((len(keep), 0))
    if model.from_sums:  # residuals (when needed) below, for the pairs kept only
        fit = model.fit_sums(ps.window(a, b))
    else:
        _, used, y, x, sp = _estimation(panel, cfg, model, base, ps.used)
        fit = model.fit(y, x, used, sp)
        if sp is not None and need_resid:
            est_span = sp
    # a residual variance of zero (constant prices) or beyond floating point makes every
    # standardized statistic undefined: exclude the pair with its reason
    bad = ~(np.isfinite(fit.sigma2) & (fit.sigma2 > MIN_VARIANCE))
    failed = np.zeros_like(bad) if fit.reason is None else fit.reason != ""  # the model's own reason
    bad |= failed
    if bad.any():
        for j in np.flatnonzero(bad):
            excluded[int(keep[j])] = (
                str(fit.reason[j])  # type: ignore[index]
                if failed[j]
                else "zero variance of the estimation-window returns (constant prices); no test possible"
                if np.isfinite(fit.sigma2[j])
                else "the estimation-window returns are not finite; check the prices"
            )
        good = ~bad
        keep, base, est_start, est_end = keep[good], base[good], est_start[good], est_end[good]
        if est_span.shape[0] == len(good):
            est_span = est_span[good]
        fit = replace(
            fit,
            **{
                f.name: v[good]
                for f in fields(fit)
                if isinstance(v := getattr(fit, f.name), np.ndarray) and v.shape[:1] == good.shape
            },
        )
    if need_resid:
        own = fit if model.from_sums else None  # the other models' fits hold their residuals
        est_day, resid, sp = _estimation_rows(panel, cfg, model, base, ps.used, own)
        if resid is not None:
            fit = replace(fit, resid=resid)
            if sp is not None:
                est_span = sp
    else:
        est_day = np.empty((len(keep), 0), dtype=np.int32)

    ext = pairs["ext"].to_numpy()[keep]
    w_lo, w_hi = cfg.window
    rel = np.arange(w_lo, w_hi + panel.max_ext + 1)
    evt_idx = base[:, None] + rel[None, :]
    ret = panel.R[evt_idx]
    xe = model.regressors(panel, evt_idx, base)
    span = None if panel.span is None else panel.span[evt_idx]
    shape = ret.shape
    normal = model.normal(fit, xe, shape, span)
    ar = ret - normal
    with np.errstate(invalid="ignore"):
        sar = ar / np.sqrt(model.ar_variance(fit, xe, shape, span))
    in_window = rel[None, :] <= (w_hi + ext)[:, None]
    avail = np.isfinite(ar)

    C = len(cfg.car_windows)
    P = len(keep)
    car = np.full((P, C), np.nan)
    var = np.full((P, C), np.nan)
    days = np.zeros((P, C), dtype=np.int64)
    car_ext = np.zeros((P, C), dtype=np.int64)
    for c, (t1, t2) in enumerate(cfg.car_windows):
        e = ext if t2 >= 0 else np.zeros_like(ext)
        car_ext[:, c] = e
        col = _single_column(rel, t1, t2, (int(e.min()), int(e.max())) if P else (0, 0))
        if col is None:
            sel = (rel[None, :] >= t1) & (rel[None, :] <= (t2 + e)[:, None]) & avail
            gamma = sel.astype("float64")
            days[:, c] = sel.sum(axis=1)
            car[:, c] = np.where(days[:, c] > 0, np.where(sel, ar, 0.0).sum(axis=1), np.nan)
        else:  # every pair's window is this one column (where available): the same numbers, directly
            one = avail[:, col]
            days[:, c] = one
            # a row's sum of one AR and zeros is that AR (+0.0 turns a −0 into 0 as the sum does)
            car[:, c] = np.where(one, ar[:, col] + 0.0, np.nan)
            if model.columnwise_variance:  # the variance from that column alone: the same numbers
                var[:, c] = _column_variance(model, fit, xe, one, span, col)
                continue
            gamma = np.zeros(ar.shape)
            gamma[:, col] = one
        var[:, c] = model.car_variance(fit, xe, gamma, span)
    with np.errstate(invalid="ignore", divide="ignore"):
        se = np.where(days > 0, np.sqrt(var), np.nan)  # no available day: no CAR, no SE
        tstat = car / se if stats_windows is None else car[:, :stats_windows] / se[:, :stats_windows]
    dof = fit.dof[:, None]
    pval = 2.0 * special.stdtr(dof, -np.abs(tstat))  # = 2·t.sf(|t|, dof), without its overhead
    if detail == "pairs":
        none = np.empty((P, 0))
        fit = replace(fit, resid=none, est_var=None if fit.est_var is None else none)
        est_day = np.empty((P, 0), dtype=np.int32)
        est_span = np.empty((P, 0))
        rel, evt_idx, ret, normal, ar, sar = rel[:0], np.empty((P, 0), np.int64), none, none, none, none
        in_window = np.empty((P, 0), dtype=bool)
    return EngineOutput(
        keep=keep,
        excluded=excluded,
        fit=fit,
        est_day=est_day,
        est_start=est_start,
        est_end=est_end,
        rel=rel,
        evt_idx=evt_idx,
        ret=ret,
        normal=normal,
        ar=ar,
        sar=sar,
        in_window=in_window,
        car=car,
        car_se=se,
        car_t=tstat,
        car_p=pval,
        car_days=days,
        car_ext=car_ext,
        detail=detail,
        est_span=est_span if est_span.shape[1] else None,
    )


_CHUNKED = ("chunk_panel", "compute_chunks", "concat_outputs", "iter_chunks")


def __getattr__(name: str) -> object:
    """The chunked computation lives in :mod:`eventstudy.chunks` (re-exported here)."""
    if name in _CHUNKED:
        from . import chunks

        return getattr(chunks, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
