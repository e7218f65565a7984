"""The estimation-window rows of every pair: day numbers, residuals and spans (P×T each).

Built for the tests that read the estimation window (ranks, placebo, CDA,
KP r̄) once the fits are known, a block of pairs at a time: whole rows of the
long arrays are copied (a strided view, no gather of each element) and the
model's normal returns subtracted in place.
"""

from __future__ import annotations

from dataclasses import fields, replace
from typing import TYPE_CHECKING

import numpy as np

from .models import Fit, Model

if TYPE_CHECKING:
    from .config import StudyConfig
    from .panel import Panel

__all__: list[str] = []


def _estimation(
    panel: Panel, cfg: StudyConfig, model: Model, base: np.ndarray, used_all: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]:
    e_lo, e_hi = cfg.estimation
    idx = base[:, None] + np.arange(e_lo, e_hi + 1)[None, :]
    y = panel.R[idx]
    used = used_all[idx]
    x = model.regressors(panel, idx, base)
    span = None if panel.span is None else panel.span[idx]
    return idx, used, y, x, span


#: Pairs whose estimation-window rows are built at a time (the P×T arrays are
#: written block by block: no P×T temporaries, whose first touch costs more
#: than the arithmetic).
_EST_ROWS = 1024

#: Copy each pair's estimation rows whole from the long arrays (else gather
#: every element; same numbers, for rows that would leave the arrays).
_ROW_COPIES = True


def _windows(a: np.ndarray, width: int) -> np.ndarray:
    """Row k of the result is ``a[k : k + width]`` (a view)."""
    return np.lib.stride_tricks.sliding_window_view(a, width)


def _estimation_rows(
    panel: Panel, cfg: StudyConfig, model: Model, base: np.ndarray, used_all: np.ndarray, fit: Fit | None
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """Calendar day numbers of the estimation rows and, with ``fit``, residuals and spans (P×T each).

    ``resid = R − normal`` where used, else NaN; ``span`` only when the panel
    has spans. Computed :data:`_EST_ROWS` pairs at a time into the outputs.
    """
    e_lo, e_hi = cfg.estimation
    shape = (len(base), e_hi - e_lo + 1)
    est_day = np.empty(shape, dtype=np.int32)
    resid = None if fit is None else np.empty(shape)
    span = None if fit is None or panel.span is None else np.empty(shape)
    days = panel.__dict__.get("_day_numbers")
    if days is None:  # day numbers of the long array's dates, once per panel
        days = panel.__dict__["_day_numbers"] = panel.dates.astype("datetime64[D]").astype(np.int32)
    starts = base + e_lo
    if _ROW_COPIES and len(base) and starts.min() >= 0 and starts.max() + shape[1] <= len(days):
        day_rows = _windows(days, shape[1])
    else:
        day_rows = None
    offsets = np.arange(e_lo, e_hi + 1)
    own_regressors = type(model).regressors is not Model.regressors
    for lo in range(0, shape[0], _EST_ROWS):
        rows = slice(lo, lo + _EST_ROWS)
        est_day[rows] = days[base[rows, None] + offsets] if day_rows is None else day_rows[starts[rows]]
        if fit is None:
            continue
        if day_rows is None:
            _, used, y, x, sp = _estimation(panel, cfg, model, base[rows], used_all)
        else:  # whole rows of the long arrays (a copy of each row, no gather of each element)
            at = starts[rows]
            y, used = _windows(panel.R, shape[1])[at], _windows(used_all, shape[1])[at]
            if own_regressors:
                x = model.regressors(panel, base[rows, None] + offsets, base[rows])
            else:  # the default regressors (the benchmark at the same positions): whole rows too
                x = _windows(panel.B, shape[1])[at] if model.needs_benchmark else None
            sp = None if panel.span is None else _windows(panel.span, shape[1])[at]
        part = replace(
            fit,
            **{
                f.name: v[rows]
                for f in fields(fit)
                if isinstance(v := getattr(fit, f.name), np.ndarray) and v.shape[:1] == (shape[0],)
            },
        )
        fitted = model.normal(part, x, y.shape, sp)
        assert resid is not None
        np.subtract(y, fitted, out=resid[rows])
        resid[rows][~used] = np.nan
        if span is not None:
            span[rows] = sp
    return est_day, resid, span
