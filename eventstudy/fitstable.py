"""The fits table (``fits.csv``): per pair, the normal-return model's fit and why a pair was excluded.

One row per event×market pair of the panel, kept or not: the model's
parameters, which betas the market model used for the market (``betas``:
``ols``, ``dimson`` or ``scholes-williams``; see
:func:`~eventstudy.studymanifest.benchmark_alignment`), the residual σ, the
number and range of estimation observations, day 0 (earliest and latest
possible) and the exclusion reason (empty for a kept pair).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .studymanifest import benchmark_alignment

if TYPE_CHECKING:
    from .engine import EngineOutput
    from .panel import Panel
    from .study import EventStudy

__all__ = ["fits_table"]


def fits_table(
    study: EventStudy, panel: Panel, out: EngineOutput, align: dict[str, Any] | None = None
) -> pd.DataFrame:
    """The fits of every pair of ``panel`` from ``out`` (``align``: the study's benchmark alignment)."""
    pairs = panel.pairs
    fit = out.fit
    n = len(pairs)
    cols: dict[str, Any] = {
        "event_id": pairs["event_id"],
        "symbol": pairs["symbol"],
        "model": study.model.name,
    }
    for j, pname in enumerate(study.model.param_names):
        col = np.full(n, np.nan)
        col[out.keep] = fit.params[:, j]
        cols[pname] = col
    if study.config.model == "market":  # which betas each market got (see benchmark_alignment)
        align = benchmark_alignment(study, panel) if align is None else align
        per_market = [str(align.get(m.symbol, {}).get("betas", "ols")) for m in panel.markets]
        cols["betas"] = np.asarray(per_market, dtype=object)[pairs["mk"].to_numpy(dtype=np.int64)]
    sigma = np.full(n, np.nan)
    sigma[out.keep] = np.sqrt(fit.sigma2)
    n_est = np.zeros(n, dtype=np.int64)
    n_est[out.keep] = fit.n.astype(np.int64)
    start = np.full(n, np.datetime64("NaT", "ns"))
    end = np.full(n, np.datetime64("NaT", "ns"))
    start[out.keep] = out.est_start
    end[out.keep] = out.est_end
    reason = out.reasons(pairs)
    cols |= {
        "sigma": sigma,
        "n_est": n_est,
        "est_start": pd.DatetimeIndex(start),
        "est_end": pd.DatetimeIndex(end),
        "day0": pairs["day0"],
        "day0_latest": pairs["day0_latest"],
        "day0_uncertain": pairs["day0_uncertain"],
        "excluded": reason != "",
        "reason": reason,
    }
    return pd.DataFrame(cols)  # one frame from whole columns
