"""Computing a study in chunks of pairs, in this process or on an executor.

Chunks are disjoint, consecutive sets of pairs; each is computed by
:func:`eventstudy.engine.compute` (on a worker, on only the part of the panel
its pairs read, :func:`chunk_panel`) and the outputs are joined in order
(:func:`concat_outputs`), so results do not depend on the chunk size or the
executor.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Executor, Future
from dataclasses import replace

import numpy as np

from .config import StudyConfig
from .engine import Detail, EngineOutput, check_detail, compute
from .heap import trim_heap
from .models import Fit, Model
from .moments import Checkpoints, PrefixSums, checkpoint_sums, checkpoints, slice_sums
from .panel import Panel

__all__ = [
    "chunk_panel",
    "compute_chunks",
    "concat_outputs",
    "iter_chunks",
    "release_engine_caches",
    "use_checkpoints",
]

_FIT_FIELDS = ("params", "sigma2", "n", "dof", "resid", "xtx_inv", "est_var", "state", "reason")
_OPTIONAL_FIT = ("xtx_inv", "est_var", "state", "reason")
_ARRAY_FIELDS = (
    "keep",
    "est_day",
    "est_start",
    "est_end",
    "evt_idx",
    "ret",
    "normal",
    "ar",
    "sar",
    "in_window",
    "car",
    "car_se",
    "car_t",
    "car_p",
    "car_days",
    "car_ext",
)


def concat_outputs(parts: Iterable[EngineOutput], stats_windows: int | None = None) -> EngineOutput:
    """Join the outputs of disjoint chunks of pairs (in chunk order).

    ``parts`` may be any iterable (e.g. :func:`iter_chunks`); its outputs are
    taken apart as they come and each field's chunks are released once that
    field is joined, so the peak is the joined output plus one field's chunks
    (not twice the output) when the caller keeps no reference to the parts.
    With ``stats_windows``, only the first that many windows keep their
    ``car_t`` and ``car_p`` (the CAR windows of a study, whose table shows
    them; the single days' t and p are read by nothing).
    """
    first: EngineOutput | None = None
    excluded: dict[int, str] = {}
    cols: dict[str, list[np.ndarray]] = {f: [] for f in _ARRAY_FIELDS + _FIT_FIELDS}
    spans: list[np.ndarray | None] = []
    shapes: list[tuple[int, ...]] = []
    count = 0
    for p in parts:
        count += 1
        if first is None:
            first = p
        excluded.update(p.excluded)
        spans.append(p.est_span)
        shapes.append(p.est_day.shape)
        for f in _ARRAY_FIELDS:
            a = getattr(p, f)
            # a copy of the kept columns, so that the chunk's whole t and p are freed now
            cols[f].append(a[:, :stats_windows].copy() if stats_windows is not None and f in _STATS else a)
        for f in _FIT_FIELDS:
            cols[f].append(getattr(p.fit, f))
    if first is None:
        raise ValueError("concat_outputs: no outputs to join")
    if count == 1:
        if stats_windows is None:
            return first
        return replace(first, car_t=cols["car_t"][0], car_p=cols["car_p"][0])

    def cat(name: str) -> np.ndarray:
        chunks = cols.pop(name)
        out = np.concatenate(chunks, axis=0)
        chunks.clear()
        return out

    optional = {f: cat(f) if getattr(first.fit, f) is not None else None for f in _OPTIONAL_FIT}
    fit = Fit(
        params=cat("params"),
        sigma2=cat("sigma2"),
        n=cat("n"),
        dof=cat("dof"),
        resid=cat("resid"),
        **optional,
    )
    arrays = {f: cat(f) for f in _ARRAY_FIELDS}
    est_span = None
    if any(sp is not None for sp in spans):
        est_span = np.concatenate(
            [np.ones(shape) if sp is None else sp for sp, shape in zip(spans, shapes, strict=True)]
        )
    return EngineOutput(
        excluded=excluded, fit=fit, rel=first.rel, detail=first.detail, est_span=est_span, **arrays
    )


#: Per-window statistics that ``concat_outputs(..., stats_windows=…)`` keeps for the first windows only.
_STATS = ("car_t", "car_p")


def _chunk_job(args: tuple[Panel, StudyConfig, Model, np.ndarray, bool, Detail, int | None]) -> EngineOutput:
    return compute(*args)


def _sub_job(
    args: tuple[Panel, int, StudyConfig, Model, np.ndarray, bool, Detail, int | None],
) -> EngineOutput:
    """Compute every pair of a chunk panel cut at ``lo`` (see :func:`chunk_panel`).

    Rows and long-array positions of the output are those of the whole panel.
    """
    sub, lo, cfg, model, rows, need_resid, detail, stats = args
    out = compute(sub, cfg, model, None, need_resid, detail, stats)
    return replace(
        out,
        keep=rows[out.keep],
        excluded={int(rows[k]): why for k, why in out.excluded.items()},
        evt_idx=out.evt_idx + lo,
    )


def chunk_panel(
    panel: Panel, cfg: StudyConfig, rows: np.ndarray, with_benchmark: bool, model: Model | None = None
) -> tuple[Panel, int]:
    """The part of ``panel`` that the pairs ``rows`` read, for shipping one chunk to a worker.

    Returns the chunk panel and ``lo``, the long-array position where it was
    cut. Its long arrays, prefix sums and used positions are cut to the range
    the pairs' estimation and event windows reach (re-indexed from ``lo``), and
    ``pairs`` to those pairs (``base`` rebased; only the columns the engine
    reads). :func:`compute` on it gives the very numbers it gives on
    ``panel`` for those pairs, with ``keep``/``excluded`` positions among
    ``rows`` and long-array positions (``evt_idx``) counted from ``lo``.
    ``markets`` and ``day0_pos`` are left empty. With ``model``, its own
    window sums (when not the panel's prefix sums) are cut the same way.
    """
    base = panel.base_all[rows]
    inside = base >= 0
    (e_lo, e_hi), (w_lo, w_hi) = cfg.estimation, cfg.window
    if inside.any():
        lo = int(base[inside].min()) + min(e_lo, w_lo, 0)  # day 0 itself stays inside
        hi = int(base[inside].max()) + max(e_hi, w_hi + panel.max_ext, 0) + 1
    else:
        lo = hi = 0
    starts = panel.starts
    k0 = max(int(np.searchsorted(starts, lo, side="right")) - 1, 0)
    k1 = max(int(np.searchsorted(starts, max(hi - 1, lo), side="right")), k0)
    sub_starts = np.maximum(starts[k0:k1] - lo, 0)
    pairs = panel.pairs.iloc[rows][["base", "ext", "reason"]].reset_index(drop=True)
    pairs["base"] = np.where(inside, base - lo, -1)
    sub = Panel(
        markets=[],
        pairs=pairs,
        R=panel.R[lo:hi],
        B=panel.B[lo:hi],
        masked=panel.masked[lo:hi],
        dates=panel.dates[lo:hi],
        starts=sub_starts,
        day0_pos={},
        offsets=panel.offsets[k0:k1] - lo,
        max_ext=panel.max_ext,
        span=None if panel.span is None else panel.span[lo:hi],
        BX=None if panel.BX is None else panel.BX[:, lo:hi],
        shifts=panel.shifts,
        later=panel.later[k0:k1] if len(panel.later) else panel.later,
    )
    sums = _range_sums(panel, with_benchmark, lo, hi, k0, k1, sub_starts)
    sub.__dict__[f"_prefix_{with_benchmark}"] = sums
    upos = np.flatnonzero(sums.used)  # = the panel's used positions in [lo, hi), less lo
    sub.__dict__[f"_upos_{with_benchmark}"] = upos.astype(np.int32) if len(panel.R) < 2**31 - 1 else upos
    if model is not None:
        for key, val in list(panel.__dict__.items()):
            if key.startswith("_gram_"):
                sub.__dict__[key] = val.sliced(lo, hi, k0, k1, sub_starts)
    return sub, lo


def _range_sums(
    panel: Panel, with_benchmark: bool, lo: int, hi: int, k0: int, k1: int, starts: np.ndarray
) -> PrefixSums:
    """The panel's prefix sums of positions ``[lo, hi)`` (:func:`~eventstudy.moments.slice_sums`).

    From the checkpoints when the panel holds them and not the whole sums
    (:func:`use_checkpoints`); the same numbers either way.
    """
    whole = panel.__dict__.get(f"_prefix_{with_benchmark}")
    cp = panel.__dict__.get(f"{_CHECKPOINTS}{with_benchmark}")
    if whole is None and isinstance(cp, Checkpoints):
        return checkpoint_sums(panel, cp, lo, hi, k0, k1, starts)
    return slice_sums(panel.prefix_sums(with_benchmark), lo, hi, k0, k1, starts)


#: Key prefix of the panel's cached checkpoints (a ``_prefix_`` key: released with the prefix sums).
_CHECKPOINTS = "_prefix_cp_"


def use_checkpoints(panel: Panel, model: Model) -> bool:
    """Keep only checkpoints of the panel's prefix sums, for a model that reads them.

    Builds them once (:func:`~eventstudy.moments.checkpoints`); each chunk's
    sums are then rebuilt from them (:func:`chunk_panel`), so the whole sums
    (about 48 bytes per long-array position, 1.1 GiB for a million pairs)
    are never held. ``False`` (nothing built) for a model with its own window
    sums.
    """
    if type(model).window_sums is not Model.window_sums:
        return False
    key = f"{_CHECKPOINTS}{model.needs_benchmark}"
    if key not in panel.__dict__ and f"_prefix_{model.needs_benchmark}" not in panel.__dict__:
        panel.__dict__[key] = checkpoints(panel, model.needs_benchmark)
    return True


def iter_chunks(
    panel: Panel,
    cfg: StudyConfig,
    model: Model,
    chunk_size: int,
    executor: Executor | None = None,
    need_resid: bool = True,
    detail: Detail = "full",
    in_flight: int | None = None,
    bounded: bool = False,
    stats_windows: int | None = None,
) -> Iterator[EngineOutput]:
    """Compute chunks of ``chunk_size`` consecutive pairs, yielding each output in order.

    Parameters
    ----------
    panel, cfg, model
        As for :func:`compute`.
    chunk_size : int
        Pairs per chunk.
    executor : concurrent.futures.Executor, optional
        Where to compute the chunks (in this process, one at a time, when
        omitted). Each submitted job carries only the part of the panel its
        chunk reads (:func:`chunk_panel`), not the whole panel.
    need_resid, detail
        As for :func:`compute`. With ``detail="pairs"`` memory stays bounded:
        a chunk's P×W and P×T arrays are dropped before the next one.
    in_flight : int, optional
        Most chunks submitted to ``executor`` and not yet yielded (default:
        twice the worker count when the executor says, else 4), so that the
        jobs and their results do not pile up.
    bounded : bool
        Hold only checkpoints of the panel's prefix sums (:func:`use_checkpoints`)
        and compute each chunk, in this process too, on its own part of the
        panel (:func:`chunk_panel`, as on an executor); the same numbers.
    stats_windows : int, optional
        ``car_t`` and ``car_p`` of the first that many windows only
        (:func:`~eventstudy.engine.compute`).

    Yields
    ------
    EngineOutput
        One per chunk; ``keep`` and ``excluded`` refer to ``panel.pairs``.
    """
    detail = check_detail(detail)
    n = len(panel.pairs)
    bounds = list(range(0, n, max(1, chunk_size))) + [n]
    chunks = (np.arange(a, b) for a, b in itertools.pairwise(bounds))
    if bounded and use_checkpoints(panel, model):
        if executor is None:
            for rows in chunks:
                sub, lo = chunk_panel(panel, cfg, rows, model.needs_benchmark, model)
                yield _sub_job((sub, lo, cfg, model, rows, need_resid, detail, stats_windows))
            return
    else:
        panel.prefix_sums(model.needs_benchmark)  # once, before the chunks are shipped
        panel.used_positions(model.needs_benchmark)
        model.window_sums(panel)
    if executor is None:
        for rows in chunks:
            yield _chunk_job((panel, cfg, model, rows, need_resid, detail, stats_windows))
        return
    limit = in_flight or 2 * int(getattr(executor, "_max_workers", 2) or 2)
    pending: deque[Future[EngineOutput]] = deque()
    for rows in chunks:
        # each worker gets only the part of the panel its chunk reads
        sub, lo = chunk_panel(panel, cfg, rows, model.needs_benchmark, model)
        job = (sub, lo, cfg, model, rows, need_resid, detail, stats_windows)
        pending.append(executor.submit(_sub_job, job))
        if len(pending) >= limit:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()


def compute_chunks(
    panel: Panel,
    cfg: StudyConfig,
    model: Model,
    chunk_size: int,
    executor: Executor | None = None,
    need_resid: bool = True,
    detail: Detail = "full",
    stats_windows: int | None = None,
) -> EngineOutput:
    """Compute in chunks of ``chunk_size`` pairs, optionally on ``executor``.

    Chunks are disjoint, consecutive sets of pairs and results are joined in
    order, so the output does not depend on the chunk size or the executor.
    With ``detail="pairs"`` only the per-pair arrays of each chunk are kept
    (see :func:`compute`) and only checkpoints of the prefix sums
    (``bounded``, :func:`iter_chunks`), so memory is bounded by the panel,
    one chunk's work and the per-pair results. ``stats_windows`` as for :func:`concat_outputs`.
    """
    parts = iter_chunks(
        panel,
        cfg,
        model,
        chunk_size,
        executor,
        need_resid,
        detail,
        bounded=detail == "pairs",
        stats_windows=stats_windows,
    )
    return concat_outputs(parts, stats_windows)


def release_engine_caches(panel: Panel) -> None:
    """Drop the panel's engine caches (prefix sums, used positions, model window sums, day numbers).

    They are about 1 GiB per million pairs and only the engine reads them; a
    later :func:`compute` on ``panel`` builds them again (the same numbers).
    On glibc the freed heap is then handed back to the system
    (``malloc_trim``), so the process's resident size falls with it.
    """
    for key in [k for k in panel.__dict__ if k.startswith(("_prefix_", "_upos_", "_gram_", "_day_numbers"))]:
        del panel.__dict__[key]
    trim_heap()
