"""The study's tables built from the engine's output: abnormal returns, CAAR, headline, finished tests."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .analysis.multitest import adjust_tests_table
from .cartable import text_column
from .chunks import compute_chunks
from .config import StudyConfig
from .engine import EngineOutput
from .heap import trim_heap
from .inference.headline import mark_independence, robust_table
from .inference.runner import TRIM_PAIRS, caar_table
from .panel import Panel

if TYPE_CHECKING:
    from .assembly import StudyParts

__all__ = ["ar_table", "caar_of", "date_ranges", "day_windows", "finished_tests", "robust_of"]


def finished_tests(held: list[pd.DataFrame], n_pairs: int) -> pd.DataFrame:
    """The tests table in ``held`` (:func:`~eventstudy.studytests.raw_tests`, taken out of the list, so
    that its unmarked notes are freed once marked) with its notes and adjusted p-values."""
    tests = adjust_tests_table(mark_independence(held.pop()))
    if n_pairs >= TRIM_PAIRS:  # the tables' transients, before the next tables
        trim_heap()
    return tests


def day_windows(
    panel: Panel, cfg: StudyConfig, model: Any, chunk_size: int, out: EngineOutput, n_car: int
) -> EngineOutput:
    """``out`` (the first ``n_car`` engine windows of ``cfg``) completed with the others.

    The engine is run again for the remaining windows only: every window's
    CAR, SE, days and extension are computed column by column from the same
    fit and abnormal returns, so the joined arrays equal those of one run
    with every window; t and p stay those of the CAR windows (as in a study's
    one run: nothing reads the single days').
    """
    rest_cfg = replace(cfg, car_windows=cfg.car_windows[n_car:])
    rest = compute_chunks(panel, rest_cfg, model, chunk_size, None, False, "full", 0)
    if not np.array_equal(rest.keep, out.keep):  # the same pairs, fitted alike
        raise RuntimeError("the single-day windows kept other pairs than the CAR windows")

    def cat(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.concatenate([a, b], axis=1)

    return replace(
        out,
        car=cat(out.car, rest.car),
        car_se=cat(out.car_se, rest.car_se),
        car_days=cat(out.car_days, rest.car_days),
        car_ext=cat(out.car_ext, rest.car_ext),
    )


def ar_table(panel: Panel, out: EngineOutput, kept: pd.DataFrame) -> pd.DataFrame:
    """Abnormal returns (long), within each pair's extended event window."""
    sel = out.in_window
    pi, wi = np.nonzero(sel)
    arr = out.ar
    cum = np.cumsum(np.where(np.isfinite(arr), arr, 0.0), axis=1)
    return pd.DataFrame(
        {
            "event_id": text_column(kept["event_id"], pi) if len(pi) else kept["event_id"].to_numpy()[pi],
            "symbol": text_column(kept["symbol"], pi) if len(pi) else kept["symbol"].to_numpy()[pi],
            "rel_day": out.rel[wi],
            "date": pd.DatetimeIndex(panel.dates[out.evt_idx[pi, wi]]),
            "return": out.ret[pi, wi],
            "normal_return": out.normal[pi, wi],
            "ar": arr[pi, wi],
            "sar": out.sar[pi, wi],
            "car": cum[pi, wi],
        }
    )


def caar_of(parts: StudyParts) -> pd.DataFrame:
    """CAAR per grouping, group and window: the CAR windows, then the single days."""
    return pd.concat(
        [caar_table(parts.car_inputs, parts.labels), caar_table(parts.day_inputs, parts.day_labels)],
        ignore_index=True,
    )


def robust_of(parts: StudyParts) -> pd.DataFrame:
    """The headline test per grouping, group and window (``headlines.csv``)."""
    return pd.concat(
        [robust_table(parts.car_inputs, parts.labels), robust_table(parts.day_inputs, parts.day_labels)],
        ignore_index=True,
    )


def date_ranges(panel: Panel) -> dict[str, list[str]]:
    """First and last session date (ISO) of each market's data."""
    ends = np.array(
        [(m.sessions.dates_ns[0], m.sessions.dates_ns[-1]) for m in panel.markets], dtype=np.int64
    )
    days = np.datetime_as_string(ends.reshape(-1).astype("datetime64[ns]").astype("datetime64[D]"), unit="D")
    return {m.symbol: [str(days[2 * k]), str(days[2 * k + 1])] for k, m in enumerate(panel.markets)}
