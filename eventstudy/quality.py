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
  deviations (median absolute deviation × 1.4826) from the median
  (Rousseeuw and Croux 1993).

Every check runs over all series at once (series laid end to end, or stacked
by length), so a universe of a thousand securities costs a few array
operations, not a thousand pandas objects; Python objects are built only for
the flags found.

Structurally bad rows (text, zero or negative prices, duplicate dates) are
errors raised by the readers, not flags.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from .returns import MarketReturns

__all__ = ["quality_report", "quality_reports", "STALE_RUN", "EXTREME_Z"]

STALE_RUN = 5
EXTREME_Z = 10.0
MAD_SCALE = 1.4826
MIN_RETURNS = 20  # fewer finite returns: no robust scale, no extreme-move check
BLOCK = 2**18  # values per block of series checked at once (bounded memory for any universe)


def _day(values: np.ndarray) -> list[str]:
    """ISO dates (``YYYY-MM-DD``) of datetime64 values."""
    return [str(s) for s in np.datetime_as_string(np.asarray(values).astype("datetime64[D]"), unit="D")]


def _ends(lengths: Sequence[int]) -> np.ndarray:
    return np.cumsum(np.asarray(lengths, dtype=np.int64))


def _owner(pos: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Series index of each position of the end-to-end layout."""
    return np.searchsorted(ends, pos, side="right")


def _multi_session(markets: Sequence[MarketReturns]) -> list[list[dict[str, Any]]]:
    """Returns spanning several sessions, per market: the dates of every market's at once."""
    out: list[list[dict[str, Any]]] = [[] for _ in markets]
    first_of: dict[int, int] = {}  # markets with equal dates share their span array
    owners: list[int] = []  # per distinct span array with hits: its first market
    ends_ns: list[np.ndarray] = []
    starts_ns: list[np.ndarray] = []
    lengths: list[np.ndarray] = []
    for k, m in enumerate(markets):
        if id(m.span) in first_of:
            continue
        first_of[id(m.span)] = k
        span = np.asarray(m.span)
        hits = np.flatnonzero(span > 1)
        if len(hits):
            d = m.sessions.dates_ns
            owners.append(k)
            ends_ns.append(d[hits])
            starts_ns.append(d[hits - span[hits]])
            lengths.append(span[hits])
    if not owners:
        return out
    to, frm = (_day(np.concatenate(x).view("M8[ns]")) for x in (ends_ns, starts_ns))
    at = 0
    flags: dict[int, list[dict[str, Any]]] = {}
    for k, n in zip(owners, lengths, strict=True):
        flags[k] = [
            {"date": t, "from": f, "sessions": s}
            for t, f, s in zip(to[at : at + len(n)], frm[at : at + len(n)], n.tolist(), strict=True)
        ]
        at += len(n)
    for k, m in enumerate(markets):
        first = first_of[id(m.span)]
        if first in flags:
            out[k] = flags[first] if first == k else [dict(x) for x in flags[first]]
    return out


def _blocks(lengths: Sequence[int]) -> list[tuple[int, int]]:
    """Consecutive ranges ``(k0, k1)`` of series holding about :data:`BLOCK` values each (at least one)."""
    size = BLOCK
    out: list[tuple[int, int]] = []
    k0, total = 0, 0
    for k, n in enumerate(lengths):
        total += n
        if total >= size:
            out.append((k0, k + 1))
            k0, total = k + 1, 0
    if k0 < len(lengths):
        out.append((k0, len(lengths)))
    return out


def _stale_runs(closes: Sequence[pd.Series]) -> list[list[dict[str, Any]]]:
    """Runs of ``STALE_RUN`` or more equal consecutive closes, per series (blocks of series end to end)."""
    out: list[list[dict[str, Any]]] = [[] for _ in closes]
    for k0, k1 in _blocks([len(c) for c in closes]):
        block = closes[k0:k1]
        v = np.concatenate([np.asarray(c.to_numpy(), dtype=np.float64) for c in block])
        ends = _ends([len(c) for c in block])
        same = np.zeros(len(v), dtype=bool)
        same[1:] = v[1:] == v[:-1]
        heads = ends[:-1]
        same[heads[heads < len(v)]] = False  # a series' first close repeats nothing
        edges = np.diff(np.concatenate(([0], same.view(np.int8), [0])))
        first = np.flatnonzero(edges == 1) - 1  # first close of the run
        last = np.flatnonzero(edges == -1) - 1  # last close of the run
        keep = last - first + 1 >= STALE_RUN
        first, last = first[keep], last[keep]
        for j, a, b in zip(_owner(first, ends).tolist(), first.tolist(), last.tolist(), strict=True):
            at = int(ends[j - 1]) if j else 0
            idx = block[j].index
            frm, to = _day(np.asarray([idx[a - at].to_datetime64(), idx[b - at].to_datetime64()]))
            out[k0 + j].append({"from": frm, "to": to, "sessions": b - a + 1, "close": float(v[a])})
    return out


def _row_median(s: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Median of the first ``n`` values of each sorted row, as :func:`numpy.median` gives it."""
    rows = np.arange(len(s))
    hi = s[rows, np.maximum(n // 2, 0)]
    lo = s[rows, np.maximum(n // 2 - 1, 0)]
    return np.where(n % 2 == 1, hi, (lo + hi) / 2.0)


def _extreme(markets: Sequence[MarketReturns]) -> list[list[dict[str, Any]]]:
    """Returns beyond ``EXTREME_Z`` robust standard deviations, per series (stacked by length, in blocks)."""
    out: list[list[dict[str, Any]]] = [[] for _ in markets]
    by_len: dict[int, list[int]] = {}
    for k, m in enumerate(markets):
        by_len.setdefault(len(m.ret), []).append(k)
    for n_obs, every in by_len.items():
        if n_obs < MIN_RETURNS:
            continue
        rows = max(1, BLOCK // n_obs)
        for b0 in range(0, len(every), rows):
            ks = every[b0 : b0 + rows]
            r = np.stack([np.asarray(markets[k].ret, dtype=np.float64) for k in ks])
            for j, i, z in _beyond(r):
                m = markets[ks[j]]
                out[ks[j]].append(
                    {
                        "date": _day(np.asarray([m.sessions.dates[i].to_datetime64()]))[0],
                        "return": float(r[j, i]),
                        "robust_z": z,
                    }
                )
    return out


def _beyond(r: np.ndarray) -> list[tuple[int, int, float]]:
    """(row, column, robust z) of the values of ``r`` (series × sessions) beyond ``EXTREME_Z``."""
    ok = np.isfinite(r)
    cnt = ok.sum(axis=1)
    with np.errstate(invalid="ignore"):
        med = _row_median(np.sort(np.where(ok, r, np.nan), axis=1), cnt)
        dev = np.where(ok, np.abs(r - med[:, None]), np.nan)
        mad = _row_median(np.sort(dev, axis=1), cnt) * MAD_SCALE
        live = (cnt >= MIN_RETURNS) & (mad != 0)
        safe = np.where(live, mad, 1.0)
        z = np.where(ok, (r - med[:, None]) / safe[:, None], 0.0)
    row, col = np.nonzero((np.abs(z) > EXTREME_Z) & live[:, None])
    return [(j, i, float(z[j, i])) for j, i in zip(row.tolist(), col.tolist(), strict=True)]


def quality_reports(
    markets: Sequence[MarketReturns], closes: Sequence[pd.Series]
) -> dict[str, dict[str, Any]]:
    """Flags of every market (see the module docstring), keyed by symbol.

    Parameters
    ----------
    markets : sequence of MarketReturns
        Each market's returns on its session grid.
    closes : sequence of Series
        The price series behind them, in the same order.

    Returns
    -------
    dict
        Per symbol: ``multi_session_returns``, ``rows_off_calendar``,
        ``stale_runs`` and ``extreme_moves`` (lists, empty when clean).
    """
    if len(markets) != len(closes):
        raise ValueError(f"closes: expected {len(markets)} series (one per market), got {len(closes)}")
    gaps, stale, extreme = _multi_session(markets), _stale_runs(closes), _extreme(markets)
    return {
        m.symbol: {
            "multi_session_returns": gaps[k],
            "rows_off_calendar": list(m.off_session),
            "stale_runs": stale[k],
            "extreme_moves": extreme[k],
        }
        for k, m in enumerate(markets)
    }


def quality_report(m: MarketReturns, close: pd.Series) -> dict[str, Any]:
    """Flags for one market (see the module docstring and :func:`quality_reports`)."""
    return quality_reports([m], [close])[m.symbol]
