"""The analyses a :class:`~eventstudy.results.StudyResult` runs on its tables (:mod:`eventstudy.analysis`).

Each function takes the result and one of its CAR windows (the main one by
default) and hands the window's CARs, the events, or the abnormal returns and
per-market return series to :mod:`eventstudy.analysis`: the second-stage
cross-section (:func:`cross_section_of`, every window at once in
:func:`second_stage_models`), its covariates (:func:`covariates_of`), the
comparison of two groups (:func:`comparison_of`) and Karafiath's (1988)
event-dummy regressions (:func:`event_dummies_of`). The analysis package is
imported only when one of them runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from .config import WindowLike, parse_window
from .returns import ReturnFrames

if TYPE_CHECKING:
    from .analysis.compare import Comparison
    from .analysis.crosssection import CrossSection
    from .results import StudyResult

__all__ = [
    "comparison_of",
    "covariates_of",
    "cross_section_of",
    "event_dummies_of",
    "main_window_dummies",
    "second_stage_models",
    "second_stage_tables",
]


def _car_window(res: StudyResult, window: WindowLike | None) -> str:
    """The label of CAR window ``window`` of ``res``, the main window when omitted."""
    return res.main_window if window is None else res._window(window, car_only=True)


def cross_section_of(res: StudyResult, window: WindowLike | None = None, **kwargs: Any) -> CrossSection:
    """The second stage of ``res`` in one window (:meth:`StudyResult.cross_section_model
    <eventstudy.results.StudyResult.cross_section_model>`)."""
    from .analysis import cross_section

    w = _car_window(res, window)
    kwargs.setdefault("covariates", res.config.covariates)
    return cross_section(res.car(), res.events, window=w, **kwargs)


def second_stage_models(res: StudyResult) -> dict[str, CrossSection]:
    """The second stage of every CAR window of ``res``, with the study's covariates."""
    from .analysis import cross_sections

    return cross_sections(res.car(), res.events, covariates=res.config.covariates)


def second_stage_tables(res: StudyResult) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``cross_section.csv`` and ``direction.csv`` from the models of ``res``'s second stage."""
    from .analysis import cross_section_tables

    return cross_section_tables(res._second_stage_models)


def covariates_of(res: StudyResult) -> pd.DataFrame:
    """``covariates.csv`` (:meth:`StudyResult.covariates <eventstudy.results.StudyResult.covariates>`)."""
    from .analysis import covariate_table

    if not res.config.covariates:
        return covariate_table({})
    return covariate_table(res._second_stage_models)


def comparison_of(
    res: StudyResult, by: str, a: Any, b: Any = None, window: WindowLike | None = None, **kwargs: Any
) -> Comparison:
    """Two groups of pairs of ``res`` compared in one window (:meth:`StudyResult.compare
    <eventstudy.results.StudyResult.compare>`)."""
    from .analysis import compare_groups

    return compare_groups(res.car(), res.events, by, a, b, window=_car_window(res, window), **kwargs)


def event_dummies_of(res: StudyResult, window: WindowLike | None = None, cov_type: str = "hac") -> Any:
    """The event-dummy regressions of ``res`` in one window (:meth:`StudyResult.event_dummies_model
    <eventstudy.results.StudyResult.event_dummies_model>`).

    The dummies cover each pair's days of the window with a return,
    extended like its CAR window when day 0 is uncertain.
    """
    from .analysis import event_dummy_regressions

    w = _car_window(res, window)
    t1, t2 = parse_window(w)
    ar = res.abnormal_returns_table
    car = res.car(w)
    ext = car.set_index(["event_id", "symbol"])["extended_by"]
    ext_row = ext.reindex(pd.MultiIndex.from_frame(ar[["event_id", "symbol"]])).to_numpy()
    hi = t2 + np.where(t2 >= 0, np.nan_to_num(ext_row), 0)
    rows = ar[(ar["rel_day"] >= t1) & (ar["rel_day"] <= hi) & ar["return"].notna()]
    model = res.config.model
    rets = _return_columns(res.market_returns, "ret")
    bench = None
    if model == "market":
        bench = _return_columns(res.market_returns, "bench")
    elif model == "market-adjusted":
        bench_of = _return_columns(res.market_returns, "bench")
        rets = {s: r - bench_of[s] for s, r in rets.items()}
    return event_dummy_regressions(rets, rows[["event_id", "symbol", "date"]], bench, cov_type=cov_type)  # type: ignore[arg-type]


def _return_columns(
    frames: Mapping[str, pd.DataFrame], name: Literal["ret", "bench"]
) -> dict[str, pd.Series]:
    """Each market's column ``name`` of ``res.market_returns`` (a study's own mapping builds no frame)."""
    if isinstance(frames, ReturnFrames):
        return frames.series(name)
    return {s: df[name] for s, df in frames.items()}


def main_window_dummies(res: StudyResult) -> pd.DataFrame:
    """``event_dummies.csv``: the event-dummy CARs of the main window (empty without return series)."""
    if not res.market_returns:
        return pd.DataFrame()
    cars = res.event_dummies()
    cars.insert(2, "window", res.main_window)
    return cars
