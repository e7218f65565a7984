"""The pieces a study's tables are built from, each computed once, when a table first needs it.

:meth:`EventStudy.run <eventstudy.EventStudy.run>` returns the CAR table and
the manifest at once; the tables that ``car()`` does not need (abnormal
returns, fits, CAAR, headlines, volatility, and the tests when none is
chosen) are deferred (:func:`eventstudy.results.deferred`) and built from
these pieces the first time they are read. Every piece is built by the same
code in either case, so the numbers do not depend on what was read first:

* clusters and duplicate keys (:func:`~eventstudy.pairclusters.pair_clusters`)
  of the CAR windows, then of the single-day windows;
* the :class:`~eventstudy.inference.TestInput` of each engine window (the
  CAR windows, then the single-day windows) and the group labels of the pairs.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .config import format_window
from .inference import TestInput
from .inference.runner import GROUPINGS
from .pairclusters import pair_clusters

if TYPE_CHECKING:
    from .engine import EngineOutput
    from .panel import Panel
    from .study import EventStudy

__all__ = [
    "StudyParts",
    "direction_labels",
    "estimation_sar",
    "window_inputs",
    "window_major",
    "WINDOW_ARRAYS",
]


def estimation_sar(out: EngineOutput) -> np.ndarray:
    """Standardized estimation-window residuals (P×T; P×0 when the residuals were not kept)."""
    est_resid = out.fit.resid
    with np.errstate(invalid="ignore"):
        if out.fit.est_var is not None:  # the model's own residual variances (GARCH)
            return np.asarray(est_resid / np.sqrt(out.fit.est_var))
        est_sar = est_resid / np.sqrt(out.fit.sigma2)[:, None]
        if out.est_span is not None:  # a k-session residual has variance kσ² (divided in place)
            np.divide(est_sar, np.sqrt(out.est_span), out=est_sar)
    return np.asarray(est_sar)


#: The per-pair window arrays of an engine output that the tests and tables read window by window.
WINDOW_ARRAYS = ("car", "car_se", "car_days", "car_ext")


def window_major(out: EngineOutput, name: str) -> EngineOutput:
    """``out`` with its window array ``name`` (P × C) in column-major order.

    The same values; each window's column is then contiguous, as the tests
    and tables read them (a window at a time), instead of strided across the
    pairs. One array per call: a caller that rebinds ``out`` after each
    (``for name in WINDOW_ARRAYS: out = window_major(out, name)``) holds at
    most one extra array at a time.
    """
    arr = getattr(out, name)
    if arr.ndim != 2 or arr.flags.f_contiguous:
        return out
    fields: dict[str, Any] = {name: np.asfortranarray(arr)}
    return replace(out, **fields)


def window_inputs(
    study: EventStudy,
    out: EngineOutput,
    cols: range,
    clusters: np.ndarray,
    dups: np.ndarray,
    est_sar: np.ndarray,
    evt_days: np.ndarray,
    event_ar: np.ndarray | None = None,
) -> dict[str, TestInput]:
    """The test input of each engine window ``cols`` (column ``j`` of ``clusters`` is ``cols[j]``).

    ``event_ar`` (the ARs of the whole event window, NaN outside it) is built
    from ``out`` when not given; passing the same array to every call of a
    study lets the tests that depend on it alone share their work through the
    inputs' common cache.
    """
    cfg = study.config
    windows = study.engine_windows()
    avail = np.isfinite(out.ar)
    if event_ar is None:
        event_ar = np.where(out.in_window, out.ar, np.nan)
    rel = out.rel
    inputs: dict[str, TestInput] = {}
    for j, c in enumerate(cols):
        t1, t2 = windows[c]
        e = out.car_ext[:, c]
        # the window's days lie in the columns of t1 … t2 + the largest extension: only those are
        # selected (the same arrays as np.where over every column, NaN or −1 elsewhere)
        top = t2 + (int(e.max()) if len(e) else 0)
        at = slice(int(np.searchsorted(rel, t1, "left")), int(np.searchsorted(rel, top, "right")))
        sel = (rel[None, at] >= t1) & (rel[None, at] <= (t2 + e)[:, None]) & avail[:, at]
        inputs[format_window((t1, t2))] = TestInput(
            car=out.car[:, c],
            se=out.car_se[:, c],
            days=out.car_days[:, c],
            dof=out.fit.dof,
            n_est=out.fit.n,
            ar=_within(sel, out.ar, at, np.nan),
            sar=_within(sel, out.sar, at, np.nan),
            est_resid=out.fit.resid,
            est_sar=est_sar,
            est_day=out.est_day,
            seed=cfg.seed,
            draws=cfg.draws,
            window_len=(t2 - t1 + 1) + e,
            event_ar=event_ar,
            window_day=_within(sel, evt_days, at, -1),
            event_day=evt_days,
            cluster=clusters[:, j],
            dup=dups[:, j],
        )
    return inputs


def _within(sel: np.ndarray, values: np.ndarray, at: slice, fill: float) -> np.ndarray:
    """``np.where(sel, values, fill)`` over the columns ``at`` of ``values``, ``fill`` in the others."""
    part = np.where(sel, values[:, at], fill)
    out = np.full(values.shape, fill, dtype=part.dtype)
    out[:, at] = part
    return out


def group_labels(study: EventStudy, kept: pd.DataFrame) -> dict[str, np.ndarray]:
    """Per grouping of :data:`~eventstudy.inference.runner.GROUPINGS`, each pair's group (read-only)."""
    evt = study.events.table
    rows = kept["ev"].to_numpy(dtype=np.int64)  # each pair's row of the events table
    dirs = evt["direction"].to_numpy()[rows]
    labels = {
        "all": np.full(len(kept), "all", dtype=object),
        "event": _shared_text(kept["event_id"]),
        "market": _shared_text(kept["symbol"]),
        "category": evt["category"].to_numpy().astype(object)[rows],
        "direction": direction_labels(dirs),
    }
    assert tuple(labels) == GROUPINGS
    for lab in labels.values():  # read-only: each grouping is factorized once (Groups.from_labels)
        lab.flags.writeable = False
    return labels


def _shared_text(column: pd.Series) -> np.ndarray:
    """``column`` as an object array holding one string object per distinct value (not one per row)."""
    codes, uniques = pd.factorize(column)
    if len(codes) and codes.min() < 0:  # a missing value: as it is
        return column.to_numpy(dtype=object)
    return np.asarray(uniques, dtype=object)[codes]


def direction_labels(dirs: np.ndarray) -> np.ndarray:
    """``"+1"``, ``"-1"`` or ``"0"`` per pair from the events' directions (+1, −1, 0)."""
    d = np.asarray(dirs, dtype=np.int64)
    if not np.isin(d, (-1, 0, 1)).all():
        bad = d[~np.isin(d, (-1, 0, 1))][0]
        raise KeyError(int(bad))  # as the per-pair lookup did: directions are validated on reading
    return np.array(["-1", "0", "+1"], dtype=object)[d + 1]


class StudyParts:
    """The memoized pieces of one study run's tables (see the module docstring).

    Parameters
    ----------
    study : EventStudy
        The study as run (a shallow copy: later runs of the original do not
        change it).
    panel, out : Panel, EngineOutput
    kept : DataFrame
        The rows of ``panel.pairs`` that ``out`` kept.
    """

    def __init__(
        self,
        study: EventStudy,
        panel: Panel,
        out: EngineOutput,
        kept: pd.DataFrame,
        complete: Callable[[], EngineOutput] | None = None,
    ) -> None:
        self.study, self.panel, self.out, self.kept = study, panel, out, kept
        self.windows = study.engine_windows()
        self.n_car = len(study.config.car_windows)  # the first engine windows are the CAR windows
        self._complete = complete

    @functools.cached_property
    def full(self) -> EngineOutput:
        """The engine output of every engine window (``out`` has only the CAR windows when
        the single-day windows were left for later: ``complete`` computes them)."""
        if self.out.car.shape[1] == len(self.windows) or self._complete is None:
            return self.out
        return self._complete()

    @functools.cached_property
    def car_clusters(self) -> tuple[np.ndarray, np.ndarray]:
        """Clusters and duplicate keys (P × CAR windows)."""
        c = self.n_car
        out = self.out
        return pair_clusters(self.panel, out.car[:, :c], out.car_ext[:, :c], self.kept, self.windows[:c])

    @functools.cached_property
    def day_clusters(self) -> tuple[np.ndarray, np.ndarray]:
        """Clusters and duplicate keys of the single-day windows after the CAR windows."""
        c = self.n_car
        out = self.full
        return pair_clusters(self.panel, out.car[:, c:], out.car_ext[:, c:], self.kept, self.windows[c:])

    @functools.cached_property
    def est_sar(self) -> np.ndarray:
        return estimation_sar(self.out)

    @functools.cached_property
    def evt_days(self) -> np.ndarray:
        """Calendar day number of every event-window cell (P×W)."""
        return self.panel.dates[self.out.evt_idx].astype("datetime64[D]").astype(np.int64)

    @functools.cached_property
    def labels(self) -> dict[str, np.ndarray]:
        return group_labels(self.study, self.kept)

    @functools.cached_property
    def event_ar(self) -> np.ndarray:
        """ARs of the whole event window (NaN outside it), one array for every window's input."""
        return np.where(self.out.in_window, self.out.ar, np.nan)

    def _build(self, cols: range, clusters: tuple[np.ndarray, np.ndarray]) -> dict[str, TestInput]:
        out = self.out if cols.stop <= self.n_car else self.full
        # the same event-window array when both inputs come from one engine output, so that the
        # rank tests' study-wide sort (keyed on it) is done once for the CAR and single-day windows
        event_ar = self.event_ar if out is self.out else None
        return window_inputs(self.study, out, cols, *clusters, self.est_sar, self.evt_days, event_ar)

    @functools.cached_property
    def car_inputs(self) -> dict[str, TestInput]:
        """Test inputs of the CAR windows, in their order."""
        return self._build(range(self.n_car), self.car_clusters)

    @functools.cached_property
    def day_inputs(self) -> dict[str, TestInput]:
        """Test inputs of the single-day windows that are not CAR windows."""
        return self._build(range(self.n_car, len(self.windows)), self.day_clusters)

    @functools.cached_property
    def day_labels(self) -> dict[str, np.ndarray]:
        """Per-day groupings: every grouping but single events (a handful of pairs), and by
        market only for studies of up to :data:`~eventstudy.study.DAILY_MARKETS` markets."""
        from .study import DAILY_MARKETS

        skip = {"event"} | ({"market"} if len(self.study.symbols) > DAILY_MARKETS else set())
        return {k: v for k, v in self.labels.items() if k not in skip}
