"""The columns of a :class:`~eventstudy.results.StudyResult`'s long tables, in the order of their CSV files.

``abnormal_returns.csv`` (:data:`AR_COLUMNS`), ``car.csv``
(:data:`CAR_COLUMNS`) and ``tests.csv`` (:data:`TEST_COLUMNS`); the result's
accessors and its output folder both select them.
"""

from __future__ import annotations

__all__ = ["AR_COLUMNS", "CAR_COLUMNS", "TEST_COLUMNS"]

AR_COLUMNS = ["event_id", "symbol", "rel_day", "date", "return", "normal_return", "ar", "sar", "car"]
CAR_COLUMNS = [
    "event_id",
    "symbol",
    "window",
    "car",
    "se",
    "t_stat",
    "p_value",
    "n_est",
    "day0",
    "day0_latest",
    "cluster",
    "day0_uncertain",
    "overlaps",
    "days",
    "extended_by",
    "p_holm",
    "p_bh",
    "vol_ratio",
]
TEST_COLUMNS = ["group_by", "group", "window", "test", "statistic", "p_value", "n", "note", "p_holm", "p_bh"]
