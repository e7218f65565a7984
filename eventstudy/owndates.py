"""Session grids and day-0 timing of many price series on their own dates, at once.

A series without an exchange calendar has its own dates as sessions
(:func:`~eventstudy.calendars.data_sessions`): every price row is its own
session, and day 0 of an event is its first date on or after the event's
local date. :func:`~eventstudy.daytiming.grid_of` and
:func:`~eventstudy.daytiming.timing_of` compute that a series at a time,
shared by the series with equal dates; a universe of stocks with a few
missing closes each has nearly as many date sets as series, and then
:func:`own_date_layouts` computes the same :class:`~eventstudy.daytiming.Grid`
and :class:`~eventstudy.daytiming.Timing` for all of them at once, on the
series' dates laid end to end (one search for every series × event, one
cumulative sum for every confounding mask), with the same integers and the
same benchmark returns bit for bit.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .calendars import Sessions
from .config import StudyConfig
from .daytiming import FAR, EventArrays, Grid, Timing
from .returns import Alignment, interval_returns
from .runs import bounded_runs

__all__ = [
    "OWN_DATES_MIN",
    "LaidDates",
    "assemble_layouts",
    "bench_returns",
    "own_date_layouts",
    "set_timings",
]

#: Studies whose series without a calendar have at least this many distinct
#: sets of dates lay them out at once; fewer go series by series (the same
#: grids and timings).
OWN_DATES_MIN = 16

#: Most dates laid end to end at once (runs of date sets; a universe's layout is
#: made run by run, each array of its dates 64 MiB at most). Results do not depend on it.
LAYOUT_DATES = 2**23

_DAY = 86_400 * 10**9

#: Day-0 positions and dates of every date set (rows) and selected event (columns):
#: earliest and latest grid positions, their dates.
Day0 = Callable[[EventArrays, np.ndarray], tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class LaidDates:
    """Date sets laid end to end: int64 nanoseconds, each date's set, each set's start and length."""

    ns: np.ndarray
    seg: np.ndarray
    starts: np.ndarray
    lengths: np.ndarray

    @classmethod
    def of(cls, indexes: Sequence[pd.DatetimeIndex]) -> LaidDates | None:
        """The sets laid out, or ``None`` unless all are midnight dates in ns, ascending and unique."""
        if any(len(ix) == 0 or ix.dtype != np.dtype("M8[ns]") for ix in indexes):
            return None
        lengths = np.array([len(ix) for ix in indexes], dtype=np.int64)
        starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
        ns = np.concatenate([np.asarray(ix.asi8) for ix in indexes])
        seg = np.repeat(np.arange(len(indexes)), lengths)
        if (ns % _DAY).any() or (np.diff(ns)[np.diff(seg) == 0] <= 0).any():
            return None
        return cls(ns, seg, starts, lengths)


@dataclass(frozen=True)
class LayoutSpec:
    """What the layouts take from the study: its event sets, settings and benchmark.

    ``study_ev`` and ``mask_ev`` are the study's events and the events of the
    confounding mask; ``shifts`` the benchmark lags wanted; ``max_ext`` as
    :func:`~eventstudy.daytiming.max_extension`.
    """

    study_ev: EventArrays
    mask_ev: EventArrays
    cfg: StudyConfig
    bench: pd.Series | None
    shifts: tuple[int, ...]
    max_ext: int


def own_date_layouts(
    closes: dict[str, pd.Series], dates: dict[str, tuple[Any, bytes]], spec: LayoutSpec
) -> dict[str, tuple[Grid, Timing]]:
    """Grid and timing of the series ``dates`` names (symbols without a calendar), or none.

    ``dates`` maps each of those symbols to the key of its dates
    (:func:`~eventstudy.daytiming.date_key`); ``closes`` holds their closes.

    Series with equal dates share one grid (as :func:`~eventstudy.panel.build_panel`
    shares them). Empty unless there are :data:`OWN_DATES_MIN` distinct sets
    of dates, all midnight dates in nanoseconds, ascending and unique (the
    other cases go series by series), laid out a run of sets at a time
    (:func:`date_set_chunks`).
    """
    out: dict[str, tuple[Grid, Timing]] = {}
    for groups in date_set_chunks(closes, dates):
        out.update(_own_layouts(closes, groups, spec))
    return out


def date_set_chunks(closes: dict[str, pd.Series], dates: dict[str, Any]) -> list[list[list[str]]]:
    """The symbols of each distinct date set, in runs of sets of at most :data:`LAYOUT_DATES` dates.

    None when there are fewer than :data:`OWN_DATES_MIN` sets (series by
    series then). A run holds one set at least; runs bound the memory of a
    universe's layout (a few arrays of its dates each).
    """
    groups: dict[Any, list[str]] = {}
    for sym, key in dates.items():
        groups.setdefault(key, []).append(sym)
    if len(groups) < OWN_DATES_MIN:
        return []
    sets = list(groups.values())
    return [[sets[k] for k in run] for run in bounded_runs([len(closes[s[0]]) for s in sets], LAYOUT_DATES)]


def _own_layouts(
    closes: dict[str, pd.Series], groups: list[list[str]], spec: LayoutSpec
) -> dict[str, tuple[Grid, Timing]]:
    """:func:`own_date_layouts` of one run of date sets (``groups``: each set's symbols)."""
    first = [closes[syms[0]].index for syms in groups]
    laid = LaidDates.of(first)
    if laid is None:
        return {}
    grids = _grids(first, laid, bench_returns(laid.ns, laid.starts, spec))
    return assemble_layouts(
        groups, grids, [0] * len(grids), lambda _, idx: functools.partial(_day0, laid, idx), spec
    )


def assemble_layouts(
    groups: Sequence[list[str]],
    grids: Sequence[Grid],
    parts: Sequence[Hashable],
    day0_of: Callable[[Hashable, np.ndarray], Day0],
    spec: LayoutSpec,
) -> dict[str, tuple[Grid, Timing]]:
    """Each series' grid and timing, from the grids of the date sets (``groups``: each set's symbols).

    The events that apply (mask set, study set) differ only with restricted
    events: the timings of the sets of one part (``parts``: a calendar, say)
    and one selection of events are computed together, with day 0 from
    ``day0_of(part, sets)``.
    """
    n = np.array([g.n for g in grids], dtype=np.int64)
    chosen: dict[str, tuple[bytes, bytes]] = {}
    arrays: dict[tuple[bytes, bytes], tuple[np.ndarray, np.ndarray]] = {}
    sets: dict[tuple[Hashable, tuple[bytes, bytes]], list[int]] = {}
    for k, syms in enumerate(groups):
        for sym in syms:
            msel, sel = spec.mask_ev.applies_to(sym), spec.study_ev.applies_to(sym)
            key = chosen[sym] = (msel.tobytes(), sel.tobytes())
            arrays.setdefault(key, (msel, sel))
            ks = sets.setdefault((parts[k], key), [])
            if not ks or ks[-1] != k:
                ks.append(k)
    timing: dict[tuple[bytes, bytes], dict[int, Timing]] = {}
    for (part, key), ks in sets.items():
        msel, sel = arrays[key]
        idx = np.asarray(ks, dtype=np.int64)
        made = set_timings(n[idx], day0_of(part, idx), msel, sel, spec)
        timing.setdefault(key, {}).update(zip(ks, made, strict=True))
    return {sym: (grids[k], timing[chosen[sym]][k]) for k, syms in enumerate(groups) for sym in syms}


def bench_returns(cns: np.ndarray, firsts: np.ndarray, spec: LayoutSpec) -> dict[int, np.ndarray]:
    """The benchmark's returns between consecutive dates ``cns`` of series laid end to end (and shifted).

    As :func:`~eventstudy.returns.align_dates`: the benchmark level at the
    last benchmark date on or before each date (none past its data), its
    returns between a series' consecutive dates; NaN at ``firsts``, each
    series' first date.
    """
    bench = spec.bench
    if bench is None:
        return {}
    b = bench.to_numpy(dtype="float64")
    bns = np.asarray(bench.index.as_unit("ns").asi8)
    last = np.searchsorted(bns, cns, side="right") - 1
    stale = cns > bns[-1]
    out = {}
    for s in dict.fromkeys((0, *spec.shifts)):
        bi = last - s
        lv = np.where((bi >= 0) & (bi < len(b)), b[np.clip(bi, 0, len(b) - 1)], np.nan)
        lv[stale] = np.nan
        ret = interval_returns(lv, spec.cfg.returns)
        ret[firsts] = np.nan
        out[s] = ret
    return out


def _grids(first: Sequence[pd.DatetimeIndex], laid: LaidDates, shifted: dict[int, np.ndarray]) -> list[Grid]:
    """Each date set's grid: its own dates, every row on its session (shared read-only arrays)."""
    longest = int(laid.lengths.max())
    on, pos = np.ones(longest, dtype=bool), np.arange(longest)
    span = np.ones(longest, dtype=np.int64)
    span[0] = 0
    dates = laid.ns.view("M8[ns]")
    grids = []
    for ix, a, n in zip(first, laid.starts.tolist(), laid.lengths.tolist(), strict=True):
        sess = Sessions(None, ix, None)
        mine = {s: r[a : a + n] for s, r in shifted.items()}
        al = Alignment(sess, on[:n], pos[:n], True, span[:n], [], mine.get(0), mine)
        grids.append(Grid(sess, al, 0, n, dates[a : a + n]))
    return grids


def _day0(
    laid: LaidDates, sets: np.ndarray, ev: EventArrays, sel: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """:func:`~eventstudy.daytiming.positions` of the events ``sel`` on every date set ``sets``.

    Each set's dates are its sessions (no closing times): the earliest day 0
    is the first date on or after the event's local date, the latest (of an
    interval) the first on or after its local end; an event dated before the
    set's first date has none. One search of every set × event on keys
    (set, day) ordered as the sets' dates laid end to end.
    """
    ns, starts = laid.ns, laid.starts
    day = (ns - ns.min()) // _DAY
    width = int(day.max()) + 2
    keys = laid.seg * width + day

    def search(local: np.ndarray) -> np.ndarray:
        # first date on or after an instant: dates before it are whole days before its day's end
        q = np.clip(-((ns.min() - local) // _DAY), 0, width - 1)  # ceil((local − first) / day)
        at = np.searchsorted(keys, sets[:, None] * width + q[None, :], side="left")
        return at - starts[sets][:, None]

    local = ev.local[sel]
    e_full = search(local)
    interval = ev.interval[sel]
    l_full = (
        np.where(interval[None, :], search(ev.local_end[sel]), e_full) if interval.any() else e_full.copy()
    )
    n = laid.lengths[sets][:, None]
    first = ns[starts[sets]][:, None]
    nat = np.datetime64("NaT", "ns")
    stamps = ns.view("M8[ns]")
    d0 = np.where(e_full < n, stamps[np.minimum(starts[sets][:, None] + e_full, len(ns) - 1)], nat)
    d1 = np.where(l_full < n, stamps[np.minimum(starts[sets][:, None] + l_full, len(ns) - 1)], nat)
    early = local[None, :] < first

    def grid_pos(full: np.ndarray) -> np.ndarray:
        return np.where(full >= n, FAR, np.where((full < 0) | early, -FAR, full))

    return grid_pos(e_full), grid_pos(l_full), d0, d1


def set_timings(
    n: np.ndarray, day0: Day0, msel: np.ndarray, sel: np.ndarray, spec: LayoutSpec
) -> list[Timing]:
    """:func:`~eventstudy.daytiming.timing_of` of date sets of grid lengths ``n``, for one selection.

    ``day0(events, selection)`` gives :func:`~eventstudy.daytiming.positions`
    of every set (rows) and selected event (columns).
    """
    cfg, max_ext = spec.cfg, spec.max_ext
    a, b = cfg.mask
    mp0, mp1, _, _ = day0(spec.mask_ev, msel)
    # confounding masks: +1 where a masked run starts, −1 past its end, summed along
    # each set's n + 1 slots laid end to end (every run ends within its set)
    slot = np.concatenate([[0], np.cumsum(n + 1)[:-1]]).astype(np.int64)
    mlo = np.clip(mp0 + a, 0, n[:, None])
    mhi = np.clip(mp1 + b + 1, 0, n[:, None])
    ok = mlo < mhi
    diff = np.zeros(int((n + 1).sum()), dtype=np.int64)
    np.add.at(diff, (slot[:, None] + mlo)[ok], 1)
    np.add.at(diff, (slot[:, None] + mhi)[ok], -1)
    level = np.cumsum(diff)
    p0, p1, d0, d1 = day0(spec.study_ev, sel)
    inside = (p0 >= 0) & (p0 < n[:, None])
    ext = np.where(inside, np.clip(np.minimum(p1, n[:, None] - 1) - p0, 0, max_ext), 0)
    (e_lo, e_hi), (w_lo, w_hi) = cfg.estimation, cfg.window
    big = np.iinfo(np.int64).max
    any_in = inside.any(axis=1)
    q_min = np.where(inside, p0, big).min(axis=1, initial=big)
    q_max = np.where(inside, p0, -big).max(axis=1, initial=-big)
    left = np.where(any_in, np.maximum(0, -(q_min + min(e_lo, w_lo))), 0)
    right = np.where(any_in, np.maximum(0, q_max + max(e_hi, w_hi + max_ext) - (n - 1)), 0)
    mask_idx, ev_idx = np.flatnonzero(msel), np.flatnonzero(sel)
    out = []
    for r, (s, m) in enumerate(zip(slot.tolist(), n.tolist(), strict=True)):
        out.append(
            Timing(
                mask_idx,
                mp0[r],
                mp1[r],
                level[s : s + m] > 0,
                ev_idx,
                p0[r],
                d0[r],
                d1[r],
                inside[r],
                ext[r],
                int(left[r]),
                int(right[r]),
            )
        )
    return out
