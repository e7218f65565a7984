"""The CAR table (``car.csv``): one row per included event×market pair and CAR window.

Rows are pair by pair, the CAR windows in their order within each pair. The
table is built from whole columns in one frame: text columns (event ids,
symbols, window labels, overlapping events) are taken from their few distinct
values by position (no Python string per row), the adjusted p-values come
from the pairs × windows matrix (:func:`~eventstudy.analysis.multitest.adjust_columns`),
and no column is copied after the frame is made.

The ``overlaps`` column lists, per pair and window, the other events whose
day 0 falls inside the pair's window on that market (see :func:`overlap_ids`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .analysis.multitest import adjust_columns
from .config import Window

if TYPE_CHECKING:
    from .engine import EngineOutput
    from .panel import Panel

__all__ = ["car_table", "overlap_ids", "text_column"]


def overlap_ids(
    panel: Panel, car_ext: np.ndarray, kept: pd.DataFrame, windows: Sequence[Window], event_ids: np.ndarray
) -> np.ndarray:
    """Per pair and window: ids of other events whose day 0 falls inside the window.

    Linear in the number of events: the events are sorted by their
    earliest day 0, and each pair looks only at the events whose day-0
    range can reach its window (two binary searches), never at a
    pairs × events matrix. Markets whose event positions are the same
    arrays (series with equal dates share them, see
    :func:`~eventstudy.panel.build_panel`) are handled together, so a
    universe on one calendar is one pass, not one per security.

    Parameters
    ----------
    panel : Panel
    car_ext : ndarray (P, ≥ C)
        Extension of each pair's windows (its first C columns are ``windows``).
    kept : DataFrame
        The included pairs (``mk``, ``base``, ``event_id`` columns of ``panel.pairs``).
    windows : sequence of (int, int)
        The C CAR windows.
    event_ids : ndarray
        Ids of the events behind ``panel.day0_pos`` (the mask events).

    Returns
    -------
    ndarray (P, C) of object
        Space-separated ids in the market's event order, ``""`` when none.
    """
    P, C = len(kept), len(windows)
    res = np.full((P, C), "", dtype=object)
    if P == 0 or C == 0:
        return res
    # group markets by their (shared) event-position arrays
    key_of: dict[tuple[int, int, int], int] = {}
    group = np.empty(len(panel.markets), dtype=np.int64)
    timing: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    for k, m in enumerate(panel.markets):
        pos = panel.day0_pos[m.symbol]
        key = (id(pos[0]), id(pos[1]), id(pos[2]))
        if key not in key_of:
            key_of[key] = len(timing)
            timing.append(pos)
        group[k] = key_of[key]
    mk = kept["mk"].to_numpy(dtype=np.int64)
    local = kept["base"].to_numpy(dtype=np.int64) - np.asarray(panel.offsets, dtype=np.int64)[mk]
    own_all = kept["event_id"].to_numpy()
    pair_group = group[mk]
    order_g = np.argsort(pair_group, kind="stable")
    cuts = np.searchsorted(pair_group[order_g], np.arange(len(timing) + 1))
    for g, (midx, p0, p1) in enumerate(timing):
        rows = order_g[cuts[g] : cuts[g + 1]]
        if len(rows) == 0 or len(midx) == 0:
            continue
        _overlaps_of(res, rows, local[rows], own_all[rows], event_ids[midx], p0, p1, car_ext, windows)
    return res


def _overlaps_of(
    res: np.ndarray,
    rows: np.ndarray,
    d: np.ndarray,
    own: np.ndarray,
    names: np.ndarray,
    p0: np.ndarray,
    p1: np.ndarray,
    car_ext: np.ndarray,
    windows: Sequence[Window],
) -> None:
    """Fill ``res[rows]`` for pairs (day 0 at grid position ``d``) of markets sharing events ``names``."""
    order = np.argsort(p0, kind="stable")
    p0s = p0[order]
    span = int((p1 - p0).max())
    for c, (t1, t2) in enumerate(windows):
        lo = d + t1
        hi = d + t2 + car_ext[rows, c]
        left = np.searchsorted(p0s, lo - span, side="left")
        right = np.searchsorted(p0s, hi, side="right")
        counts = right - left
        if counts.sum() == 0:
            continue
        pair = np.repeat(np.arange(len(rows)), counts)
        start = np.repeat(np.cumsum(counts) - counts, counts)
        ev = order[left[pair] + np.arange(len(pair)) - start]
        hit = (p1[ev] >= lo[pair]) & (names[ev] != own[pair])
        pair, ev = pair[hit], ev[hit]
        if len(pair) == 0:
            continue
        srt = np.lexsort((ev, pair))  # by pair, then in the market's event order
        pair, ids = pair[srt], names[ev[srt]]
        cuts = np.flatnonzero(np.diff(pair)) + 1
        firsts = np.concatenate(([0], cuts))
        ends = np.concatenate((cuts, [len(pair)]))
        res[rows[pair[firsts]], c] = [" ".join(ids[i:j]) for i, j in zip(firsts, ends, strict=True)]


def text_column(values: Any, take: np.ndarray) -> Any:
    """``values[take]`` as a column of text, typed as a frame types those values.

    ``values`` are the few distinct values (an object array) or a text column
    of ``kept``; taking by position keeps the column type pandas gives text
    (arrow strings under pandas 3, objects before) without one Python string
    per row.
    """
    arr = values.array if isinstance(values, pd.Series) else pd.Series(values).array
    return arr.take(take)


def car_table(
    kept: pd.DataFrame,
    out: EngineOutput,
    labels: Sequence[str],
    clusters: np.ndarray,
    overlaps: np.ndarray,
    vol_ratio: np.ndarray,
) -> pd.DataFrame:
    """The CAR table (columns :data:`~eventstudy.results.CAR_COLUMNS`, pair by pair).

    Parameters
    ----------
    kept : DataFrame
        The included pairs (rows of ``panel.pairs`` kept by the engine).
    out : EngineOutput
        Its first C windows are the CAR windows.
    labels : sequence of str
        The C window labels (``-1:+1``).
    clusters, overlaps, vol_ratio : ndarray (P, C)
        Cluster ids, overlapping events (:func:`overlap_ids`) and volatility ratios.

    Returns
    -------
    DataFrame
        ``P × C`` rows (a study has at least one pair and one CAR window).
    """
    P, C = len(kept), len(labels)
    # columns that need a transient (row indices, a C-ordered copy) first, each transient
    # released once its column is made: at universe scale each is a column's size, and the
    # finished columns are most of the table's memory
    pair = np.repeat(np.arange(P), C)
    event_id, symbol = text_column(kept["event_id"], pair), text_column(kept["symbol"], pair)
    del pair
    window = text_column(np.asarray(labels, dtype=object), np.tile(np.arange(C), P))
    flat = overlaps.ravel()
    full = np.flatnonzero(flat != "")
    text = np.empty(len(full) + 1, dtype=object)
    text[0], text[1:] = "", flat[full]
    at = np.zeros(P * C, dtype=np.int64)
    at[full] = np.arange(1, len(full) + 1)
    del flat, full
    overlap_col = text_column(text, at)
    del text, at
    adjusted = adjust_columns(out.car_p[:, :C])  # column-major (P, C): ravelled one at a time
    p_holm = adjusted.pop("p_holm").ravel()
    p_bh = adjusted.pop("p_bh").ravel()
    del adjusted
    cols: dict[str, Any] = {
        "event_id": event_id,
        "symbol": symbol,
        "window": window,
        "car": out.car[:, :C].ravel(),
        "se": out.car_se[:, :C].ravel(),
        "t_stat": out.car_t[:, :C].ravel(),
        "p_value": out.car_p[:, :C].ravel(),
        "n_est": np.repeat(out.fit.n.astype(np.int64), C),
        "day0": np.repeat(kept["day0"].to_numpy(), C),
        "day0_latest": np.repeat(kept["day0_latest"].to_numpy(), C),
        "cluster": clusters.ravel(),
        "day0_uncertain": np.repeat(kept["day0_uncertain"].to_numpy(), C),
        "overlaps": overlap_col,
        "days": out.car_days[:, :C].ravel(),
        "extended_by": out.car_ext[:, :C].ravel(),
        "p_holm": p_holm,
        "p_bh": p_bh,
        "vol_ratio": np.asarray(vol_ratio).ravel(),
    }
    return pd.DataFrame(cols, copy=False)  # whole fresh columns: none copied again
