"""The part of an event-dummy regression that does not depend on the market's returns.

A universe's markets usually share their sample dates, their benchmark and their
events (stocks on one exchange against one index): :func:`dummy_design` is then
found once for all of them (:func:`~eventstudy.analysis.dummypanel.event_dummy_regressions`
keys it by :func:`design_key` in :func:`shared_design`), and each market's fit
(:func:`~eventstudy.analysis.dummies.fit_dummies`) only reads its returns.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError

__all__ = ["DummyDesign", "design_key", "dummy_design", "newey_west_maxlags", "shared_design"]


def newey_west_maxlags(n: int) -> int:
    """Newey and West (1994) rule of thumb for the Bartlett lag truncation: ⌊4 (n/100)^{2/9}⌋."""
    return int(np.floor(4.0 * (max(n, 0) / 100.0) ** (2.0 / 9.0)))


@dataclass(frozen=True, eq=False)
class DummyDesign:
    """What a market's event-dummy regression needs besides its returns (:func:`dummy_design`).

    Markets with the same sample dates, benchmark returns, events and options share it
    (a universe's stocks on one exchange and benchmark): the dates looked up, the
    event × date membership ``C``, the zeroed design and its pseudo-inverse, the
    rank check and the lag weights are then found once (:func:`event_dummy_regressions`).
    Its arrays are read-only.
    """

    X: np.ndarray
    U: np.ndarray  # the dummy dates' rows
    C: np.ndarray  # event × dummy date membership
    missing_days: np.ndarray
    n_days: np.ndarray
    keep: np.ndarray  # 1.0 on the non-event rows
    Xz: np.ndarray
    pinv: np.ndarray
    XE: np.ndarray
    lag: np.ndarray  # min(|U_i − U_j|, L)
    w: np.ndarray  # Bartlett weights of the dummy dates' pairs
    ev_idx: np.ndarray
    d_idx: np.ndarray
    day_dates: pd.DatetimeIndex
    n_estimation: int
    dof: int
    maxlags: int
    ids: list[str]
    cov_type: str


def design_key(
    dates: pd.DatetimeIndex,
    b: np.ndarray | None,
    ids: list[str],
    flat: pd.DatetimeIndex,
    bounds: np.ndarray,
    maxlags: int | None,
    cov_type: str,
) -> tuple[Any, ...]:
    """The inputs of :func:`dummy_design` as a dictionary key (their values, not their identity)."""
    return (
        str(dates.dtype),
        dates.asi8.tobytes(),
        None if b is None else np.asarray(b, dtype=float).tobytes(),
        tuple(ids),
        str(flat.dtype),
        flat.asi8.tobytes(),
        np.asarray(bounds, dtype=np.int64).tobytes(),
        maxlags,
        cov_type,
    )


def dummy_design(
    dates: pd.DatetimeIndex,
    b: np.ndarray | None,
    ids: list[str],
    flat: pd.DatetimeIndex,
    bounds: np.ndarray,
    maxlags: int | None,
    cov_type: str,
) -> DummyDesign:
    """The returns-free part of :func:`fit_dummies` (raises its input errors)."""
    T = len(dates)
    X = np.ones((T, 1)) if b is None else np.column_stack([np.ones(T), b])
    k = X.shape[1]
    if len(set(ids)) != len(ids):
        dup = sorted({i for i in ids if ids.count(i) > 1})
        raise InputError(f"events: duplicate event id(s) {', '.join(dup[:5])}")
    # every event's dates looked up at once; each (event, date) once, by event then date
    loc_all = dates.get_indexer(flat) if len(flat) else np.empty(0, dtype=np.int64)
    sizes = np.diff(np.asarray(bounds, dtype=np.int64)).astype(np.int64)
    owner = np.repeat(np.arange(len(ids), dtype=np.int64), sizes)
    found = loc_all >= 0
    missing_days = np.bincount(owner[~found], minlength=len(ids)).astype(np.int64)
    cells = np.unique(owner[found] * max(T, 1) + loc_all[found].astype(np.int64))
    cell_ev, cell_loc = np.divmod(cells, max(T, 1))
    U = np.unique(cell_loc).astype(np.int64)
    nd = len(U)
    C = np.zeros((len(ids), nd))  # event × distinct date membership
    C[cell_ev, np.searchsorted(U, cell_loc)] = 1.0

    is_event = np.zeros(T, dtype=bool)
    is_event[U] = True
    M = T - nd
    dof = M - k
    if dof < 1:
        raise InputError(
            f"returns: {M} non-event day(s) cannot estimate a model with {k} parameter(s); "
            "pass a longer return series"
        )
    if np.linalg.matrix_rank(X[~is_event]) < k:
        raise InputError("benchmark: no variation on the non-event days; the market model is not identified")
    L = (newey_west_maxlags(T) if maxlags is None else int(maxlags)) if cov_type == "hac" else 0
    keep = (~is_event).astype(float)
    Xz = X * keep[:, None]
    lag = np.abs(U[:, None] - U[None, :])
    ev_idx, d_idx = np.nonzero(C)
    design = DummyDesign(
        X=X,
        U=U,
        C=C,
        missing_days=missing_days,
        n_days=C.sum(axis=1).astype(np.int64),
        keep=keep,
        Xz=Xz,
        pinv=np.linalg.pinv(Xz, rcond=1e-15),  # as ols() takes it
        XE=X[U],
        lag=np.minimum(lag, L),
        w=np.where(lag <= L, 1.0 - lag / (L + 1.0), 0.0),
        ev_idx=ev_idx,
        d_idx=d_idx,
        day_dates=dates[U[d_idx]],
        n_estimation=M,
        dof=dof,
        maxlags=L,
        ids=list(ids),
        cov_type=cov_type,
    )
    for v in vars(design).values():
        if isinstance(v, np.ndarray):
            v.flags.writeable = False
    return design


def shared_design(
    cache: dict[tuple[Any, ...], DummyDesign],
    dates: pd.DatetimeIndex,
    b: np.ndarray | None,
    ids: list[str],
    flat: pd.DatetimeIndex,
    bounds: np.ndarray,
    maxlags: int | None,
    cov_type: str,
) -> DummyDesign:
    """:func:`dummy_design` of these inputs, found once per :func:`design_key` in ``cache``
    (a design that raises is not kept: each market with it meets the error)."""
    key = design_key(dates, b, ids, flat, bounds, maxlags, cov_type)
    hit = cache.get(key)
    if hit is None:
        hit = cache[key] = dummy_design(dates, b, ids, flat, bounds, maxlags, cov_type)
    return hit
