"""Run the registered tests for every grouping and CAR window."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd

from ..heap import trim_heap
from ..runs import bounded_runs
from .base import TestInput, TestSpec
from .grouped import GROUPINGS_KEY, BatchResult, Groups, moments
from .sidebyside import repeated, share_down, share_up, side_by_side, window_part

__all__ = ["run_tests", "caar_table", "GROUPINGS", "window_batches"]

#: Build the tests table as one frame from whole columns (else one frame per
#: grouping and window, concatenated: the same table, slower).
_WHOLE_COLUMNS = True

#: Groupings of pairs reported in ``tests.csv`` (``all`` is the whole sample).
GROUPINGS: tuple[str, ...] = ("all", "event", "market", "category", "direction")


def _per_group(spec: TestSpec, inp: TestInput, groups: Groups) -> BatchResult:
    """A test without a batch form, called group by group."""
    res = [spec.func(inp, idx) for idx in groups.members(np.ones(len(groups.codes), dtype=bool))]
    return BatchResult(
        np.array([r.statistic for r in res], dtype="float64"),
        np.array([r.p_value for r in res], dtype="float64"),
        np.array([r.n for r in res], dtype=np.int64),
        [r.note for r in res],
    )


#: Studies of at least this many pairs hand the memory freed by each window's
#: tests back to the system before the next window (:func:`~eventstudy.heap.trim_heap`).
TRIM_PAIRS = 100_000

#: Most pair × grouping × window entries the windows handed together to a test's
#: ``batch_windows`` may hold (the wild bootstrap's one sweep of the flips keeps
#: about 15 bytes per entry, 0.12 GiB at the bound; it was sized at 60). Below it
#: every window goes at once (any study up to about 100,000 pairs); results do
#: not depend on it.
SWEEP_ENTRIES = 2**23


#: Most pair × window entries of the windows that the tests reading only per-pair arrays
#: take side by side (:mod:`~eventstudy.inference.sidebyside`; about 100 bytes an entry
#: while they run); larger studies give them a window at a time. Results do not depend on it.
STACK_ENTRIES = 2**20


def window_batches(sizes: Sequence[int], n_groupings: int, bound: int | None = None) -> list[list[int]]:
    """Consecutive runs of the windows (``sizes``: pairs of each) of at most ``bound`` entries.

    A window's entries are its pairs times ``n_groupings``; a run holds one
    window at least, whatever its size.
    """
    entries = [size * max(n_groupings, 1) for size in sizes]
    return bounded_runs(entries, SWEEP_ENTRIES if bound is None else bound)


def run_tests(
    inputs: Mapping[str, TestInput],
    labels: Mapping[str, np.ndarray],
    specs: Sequence[TestSpec],
    batched: bool = True,
    threads: int = 1,
) -> pd.DataFrame:
    """Apply each test to each group of each grouping, for each window.

    Parameters
    ----------
    inputs : mapping window label → TestInput
    labels : mapping grouping name → array of group labels (one per pair)
    specs : the tests to run
    batched : bool
        Use the tests' group-vectorized forms (default). ``False`` calls every
        test group by group (the reference the batch forms are tested against).
    threads : int
        Windows computed at the same time, in threads (after the first, which
        fills the caches the windows share). Results do not depend on it.

    Returns
    -------
    DataFrame with columns ``group_by, group, window, test, statistic,
    p_value, n, note``, ordered by grouping, window, group, then test.
    """
    grouped = [(gb, Groups.from_labels(lab)) for gb, lab in labels.items()]
    names = np.array([spec.name for spec in specs], dtype=object)
    windows = list(inputs.items())
    results: dict[tuple[int, int], list[BatchResult | None]] = {
        (k, w): [None] * len(specs) for k in range(len(grouped)) for w in range(len(windows))
    }
    large = any(len(inp.car) >= TRIM_PAIRS for _, inp in windows)
    if large:  # what the study freed before
        trim_heap()
    multi = [s for s, spec in enumerate(specs) if batched and spec.batch_windows is not None]
    # tests whose windows share work: the windows of a grouping together (the groupings
    # announced, so that a test may also do them all in one pass), as many windows at a
    # time as keep the pairs × groupings × windows entries of one pass within the bound
    batches = window_batches([len(inp.car) for _, inp in windows], len(grouped)) if multi else []
    for batch in batches:
        windows[batch[0]][1].memo[GROUPINGS_KEY] = tuple(groups for _, groups in grouped)
    for k, (_, groups) in enumerate(grouped):
        for s in multi:
            several = specs[s].batch_windows
            assert several is not None
            for batch in batches:
                for w, res in zip(batch, several([windows[w][1] for w in batch], groups), strict=True):
                    results[(k, w)][s] = res
                if large:
                    trim_heap()
    # tests that read only per-pair arrays: several windows side by side, one call per grouping
    stack = [s for s, spec in enumerate(specs) if batched and spec.stacks and s not in multi]
    if stack and len(windows) > 1:
        for batch in window_batches([len(inp.car) for _, inp in windows], 1, STACK_ENTRIES):
            if len(batch) < 2:
                continue
            parts = [windows[w][1] for w in batch]
            joined = side_by_side(parts)
            for k, (_, groups) in enumerate(grouped):
                wide = repeated(groups, len(batch))
                share_up(parts, joined, groups, wide)
                for s in stack:
                    res = specs[s].batch(joined, wide)  # type: ignore[misc]
                    for j, w in enumerate(batch):
                        results[(k, w)][s] = window_part(res, j, groups.size)
                share_down(parts, joined, groups, wide)
            del joined

    # the others window by window, so that each window's memo is built once
    # for all groupings and freed before the next window
    def window(w: int, inp: TestInput) -> None:
        # the groupings announced whatever the tests (shared passes do not wait for a several-window test)
        inp.memo.setdefault(GROUPINGS_KEY, tuple(groups for _, groups in grouped))
        for k, (_, groups) in enumerate(grouped):
            for s, spec in enumerate(specs):
                if s in multi or results[(k, w)][s] is not None:  # (computed side by side)
                    continue
                results[(k, w)][s] = (
                    spec.batch(inp, groups)
                    if batched and spec.batch is not None
                    else _per_group(spec, inp, groups)
                )
        inp.memo.clear()
        if large:
            trim_heap()

    items = [(w, inp) for w, (_, inp) in enumerate(windows)]
    if items:  # the first window alone builds the study-wide caches the others read
        window(*items[0])
    if threads > 1 and len(items) > 2:
        # the array work releases the GIL; each window writes only its own results
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(lambda item: window(*item), items[1:]))
    else:
        for item in items[1:]:
            window(*item)
    columns = ["group_by", "group", "window", "test", "statistic", "p_value", "n", "note"]
    keys = sorted(results)
    if not keys:
        return pd.DataFrame(columns=columns)
    if not _WHOLE_COLUMNS or not specs or any(grouped[k][1].size == 0 for k, _ in keys):
        return _frames_table(results, grouped, windows, names, columns)
    return _whole_table(results, keys, grouped, windows, names, columns)


def _whole_table(
    results: Mapping[tuple[int, int], list[BatchResult | None]],
    keys: Sequence[tuple[int, int]],
    grouped: Sequence[tuple[str, Groups]],
    windows: Sequence[tuple[str, TestInput]],
    names: np.ndarray,
    columns: list[str],
) -> pd.DataFrame:
    """The tests table as one frame from whole columns, in the order of the blocks ``keys``.

    Each column is filled in place, block by block (rows: the block's groups, each
    with every test), and handed to the frame on its own, so that a universe's
    table (millions of rows) is built with one column's Python objects at a time
    beside the finished columns.
    """
    n_tests = len(names)
    sizes = [grouped[k][1].size * n_tests for k, _ in keys]
    starts = np.cumsum([0, *sizes])
    total = int(starts[-1])

    def fill(column: str) -> np.ndarray:
        kind = {"statistic": np.float64, "p_value": np.float64, "n": np.int64}.get(column, object)
        out = np.empty(total, dtype=kind)
        for (k, w), a, z in zip(keys, starts[:-1], starts[1:], strict=True):
            gb, groups = grouped[k]
            block = out[a:z].reshape(groups.size, n_tests)  # a view: rows are groups, columns tests
            if column == "group_by":
                block[:] = gb
            elif column == "group":
                block[:] = np.array(groups.names, dtype=object)[:, None]
            elif column == "window":
                block[:] = windows[w][0]
            elif column == "test":
                block[:] = names[None, :]
            else:
                res = [r for r in results[(k, w)] if r is not None]
                for s, r in enumerate(res):
                    block[:, s] = r.note if column == "note" else getattr(r, column)
        return out

    # each column a Series of its own (string columns inferred as a frame of the arrays
    # would infer them), its array of Python objects dropped before the next is filled
    return pd.DataFrame({c: pd.Series(fill(c), copy=False) for c in columns}, copy=False)


def _frames_table(
    results: Mapping[tuple[int, int], list[BatchResult | None]],
    grouped: Sequence[tuple[str, Groups]],
    windows: Sequence[tuple[str, TestInput]],
    names: np.ndarray,
    columns: list[str],
) -> pd.DataFrame:
    """The tests table as one frame per grouping and window (no test or an empty grouping)."""
    frames = []
    for (k, w), found in sorted(results.items()):
        res = [r for r in found if r is not None]
        gb, groups = grouped[k]
        n_groups, n_tests = groups.size, len(names)
        frames.append(
            pd.DataFrame(
                {
                    "group_by": gb,
                    "group": np.repeat(np.array(groups.names, dtype=object), n_tests),
                    "window": windows[w][0],
                    "test": np.tile(names, n_groups),
                    "statistic": np.column_stack([r.statistic for r in res]).ravel() if res else [],
                    "p_value": np.column_stack([r.p_value for r in res]).ravel() if res else [],
                    "n": np.column_stack([r.n for r in res]).ravel() if res else np.array([], dtype=np.int64),
                    "note": [r.note[g] for g in range(n_groups) for r in res],
                }
            )
        )
    return pd.concat(frames, ignore_index=True)[columns]


def caar_table(inputs: Mapping[str, TestInput], labels: Mapping[str, np.ndarray]) -> pd.DataFrame:
    """CAAR (mean CAR over pairs with a CAR) and its cross-sectional spread per group.

    Every group of a grouping at once (two-pass group moments); the spread is
    the N − 1 standard deviation, NaN below 2 pairs.
    """
    columns = ["group_by", "group", "window", "caar", "sd", "n"]
    cols: dict[str, list[np.ndarray]] = {c: [] for c in columns}
    for gb, lab in labels.items():
        groups = Groups.from_labels(lab)
        names = np.array(groups.names, dtype=object)
        for wlabel, inp in inputs.items():
            m = moments(groups, inp.car, np.isfinite(inp.car))
            k = len(names)
            cols["group_by"].append(np.full(k, gb, dtype=object))
            cols["group"].append(names)
            cols["window"].append(np.full(k, wlabel, dtype=object))
            cols["caar"].append(np.asarray(m.mean, dtype=np.float64))
            cols["sd"].append(np.where(m.n > 1, m.sd, np.nan))
            cols["n"].append(m.n.astype(np.int64))
    if not cols["group"]:
        return pd.DataFrame(columns=columns)
    # one frame from whole columns (not one small frame per grouping and window)
    return pd.DataFrame({c: np.concatenate(v) for c, v in cols.items()})
