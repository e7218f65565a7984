"""Data-quality checks of price series, reported in ``study.json`` (``data_quality``).

Checks per market (on the data actually used):

* ``multi_session_returns`` — a session of the calendar has no price, so the
  next return spans several sessions (e.g. Yahoo's ^STOXX50E lacks Swiss
  holidays such as 2025-06-09). Kept and marked by default; ``gaps="drop"``
  removes such returns from the study.
* ``rows_off_calendar`` — price rows dated on a non-session of the market's
  calendar; set aside.
* ``stale_runs`` — the same close repeated over ``STALE_RUN`` or more
  consecutive sessions (a frozen feed).
* ``extreme_moves`` — returns more than ``EXTREME_Z`` robust standard
  deviations (median absolute deviation × 1.4826) from the median.

Structurally bad rows (text, zero or negative prices, duplicate dates) are
errors raised by the readers, not flags.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .returns import MarketReturns

__all__ = ["quality_report", "STALE_RUN", "EXTREME_Z"]

STALE_RUN = 5
EXTREME_Z = 10.0


def _stale_runs(close: pd.Series) -> list[dict[str, Any]]:
    v = close.to_numpy()
    if len(v) < STALE_RUN:
        return []
    same = np.concatenate([[False], v[1:] == v[:-1]])
    runs: list[dict[str, Any]] = []
    start = None
    for i, s in enumerate(np.append(same, False)):
        if s and start is None:
            start = i - 1
        elif not s and start is not None:
            if i - start >= STALE_RUN:
                runs.append(
                    {
                        "from": str(close.index[start].date()),
                        "to": str(close.index[i - 1].date()),
                        "sessions": i - start,
                        "close": float(v[start]),
                    }
                )
            start = None
    return runs


def _extreme(m: MarketReturns) -> list[dict[str, Any]]:
    r = m.ret
    ok = np.isfinite(r)
    if ok.sum() < 20:
        return []
    med = float(np.median(r[ok]))
    mad = float(np.median(np.abs(r[ok] - med))) * 1.4826
    if mad == 0:
        return []
    z = np.where(ok, (r - med) / mad, 0.0)
    idx = np.flatnonzero(np.abs(z) > EXTREME_Z)
    d = m.sessions.dates
    return [{"date": str(d[i].date()), "return": float(r[i]), "robust_z": float(z[i])} for i in idx]


def quality_report(m: MarketReturns, close: pd.Series) -> dict[str, Any]:
    """Flags for one market (see the module docstring)."""
    d = m.sessions.dates
    gaps = np.flatnonzero(m.span > 1)
    return {
        "multi_session_returns": [
            {"date": str(d[i].date()), "from": str(d[i - int(m.span[i])].date()), "sessions": int(m.span[i])}
            for i in gaps
        ],
        "rows_off_calendar": list(m.off_session),
        "stale_runs": _stale_runs(close),
        "extreme_moves": _extreme(m),
    }
