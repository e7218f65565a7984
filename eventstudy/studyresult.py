"""The :class:`~eventstudy.results.StudyResult` of a run, assembled from the engine's output.

:func:`assemble_result` builds at once what ``run`` must return (the CAR
table, with each pair's overlaps and volatility ratio, and the manifest with
the headline) and, when the run kept no estimation-window arrays, defers the
other tables (:func:`~eventstudy.results.deferred`): abnormal returns, fits,
CAAR, headlines, volatility, placebo distributions, and the tests when none
was chosen. Either way every table comes from the same pieces
(:class:`~eventstudy.assembly.StudyParts`) by the same code, so its numbers
do not depend on when it is built. Memory is given back between the large
tables of a universe-scale run (:func:`~eventstudy.heap.trim_heap`).
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from .assembly import StudyParts
from .cartable import car_table, overlap_ids
from .chunks import release_engine_caches
from .config import format_window
from .fitstable import fits_table
from .heap import trim_heap
from .inference.headline import headline_of
from .inference.runner import TRIM_PAIRS
from .inference.volatility import pair_ratio, volatility_table
from .results import StudyResult, deferred
from .returns import ReturnFrames
from .studymanifest import benchmark_alignment, run_manifest
from .studytables import ar_table, caar_of, finished_tests, robust_of
from .studytests import placebo_table, raw_tests, tests_table

if TYPE_CHECKING:
    from .engine import EngineOutput
    from .panel import Panel
    from .study import EventStudy

__all__ = ["assemble_result"]


def assemble_result(
    study: EventStudy, panel: Panel, out: EngineOutput, days: Callable[[], EngineOutput] | None = None
) -> StudyResult:
    """The result of ``study`` run on ``panel`` into ``out``; ``days`` completes ``out`` with the
    single-day windows when it lacks them."""
    cfg = study.config
    pairs = panel.pairs
    kept = pairs.iloc[out.keep].reset_index(drop=True)
    wlabels = [format_window(w) for w in cfg.car_windows]
    C = len(wlabels)
    parts = StudyParts(copy.copy(study), panel, out, kept, days)
    # tables ``car()`` does not need are built when first read; at once when the run kept
    # estimation-window arrays (P×T, for the chosen tests: not held beyond the run) or
    # per-pair results only
    lazy = out.detail == "full" and out.fit.resid.shape[1] == 0
    later: Any = deferred if lazy else (lambda build: build())

    # a pairs run's estimation tests run the engine again (chunk by chunk): the panel's
    # prefix sums are released after them, else at once (no engine pass is left)
    streamed = out.detail != "full" and any(s.uses_estimation for s in study.test_specs)
    if out.detail != "full" and not streamed:
        release_engine_caches(panel)
    raw = raw_tests(study, parts) if study.test_specs else None
    if streamed:
        release_engine_caches(panel)
    if lazy:
        robust = later(functools.partial(robust_of, parts))
        caar = later(functools.partial(caar_of, parts))
    else:
        # built now, before the tests' notes and adjusted p-values and the CAR windows'
        # tables: nothing else reads the single days' inputs and clusters, which go
        # before those are built (at universe scale about half a GiB)
        robust, caar = robust_of(parts), caar_of(parts)
        for name in ("day_inputs", "day_clusters"):
            parts.__dict__.pop(name, None)  # the cached properties' values
    if raw is not None:
        held, raw = [raw], None
        tests = finished_tests(held, len(out.keep))
    else:  # no test chosen: the (empty) table when read
        tests = later(functools.partial(tests_table, parts.study, parts))

    # CARs per window (the first C engine windows are the CAR windows)
    overlaps = overlap_ids(
        panel, out.car_ext, kept, cfg.car_windows, study.mask_events.table["event_id"].to_numpy()
    )
    alignment = benchmark_alignment(study, panel)
    car_in = parts.car_inputs
    vol_ratio = np.column_stack([pair_ratio(car_in[w]) for w in wlabels]) if C else np.empty(0)
    car_tab = car_table(kept, out, wlabels, parts.car_clusters[0], overlaps, vol_ratio)
    del overlaps, vol_ratio
    tidy = trim_heap if len(out.keep) >= TRIM_PAIRS else (lambda: None)
    tidy()  # the car table's transients, before the tables built after it
    # the headline (manifest): all pairs in the first CAR window, as in the headline table
    headline = headline_of(car_in[wlabels[0]], wlabels[0]) if wlabels else {}
    manifest = run_manifest(study, panel, out, headline, alignment)
    tidy()  # the data-quality counts' transients, before the fits table
    frozen = parts.study
    return StudyResult(
        config=cfg,
        events=study.events,
        prices=study.prices.select(study.symbols + study._reference_series()),
        symbols=tuple(study.symbols),
        abnormal_returns_table=later(functools.partial(ar_table, panel, out, kept)),
        car_table=car_tab,
        tests_table=tests,
        caar_table=caar,
        fits_table=later(functools.partial(fits_table, frozen, panel, out, alignment)),
        manifest=manifest,
        placebo_table=later(lambda: placebo_table(frozen, parts.car_inputs, parts.labels)),
        headline_table=robust,
        volatility_table=later(lambda: volatility_table(parts.car_inputs, parts.labels)),
        # per-pair results only: no per-day series either
        market_returns=ReturnFrames(panel.markets if out.detail == "full" else []),
    )
