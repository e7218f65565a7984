"""The CSV files of an output folder: every file holds data, and an empty table is named with why.

A table without rows (the abnormal returns of a ``--detail pairs`` run, the
placebo distribution when the placebo test did not run, the event-dummy
regression without per-market return series) is not written: a header-only
or blank file reads back as an empty or broken table that says nothing. Each
one is named instead under ``omitted_files`` in ``study.json`` with the
reason, so every CSV of the folder reads back with :func:`pandas.read_csv`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from .csvsafe import neutralise_frame

if TYPE_CHECKING:
    from .results import StudyResult

__all__ = ["omission_reason", "with_omitted", "write_csv_tables"]


def omission_reason(res: StudyResult, name: str) -> str:
    """Why the table ``name`` of ``res`` has no rows, in one sentence."""
    pairs = (res.manifest.get("parameters") or {}).get("detail") == "pairs"
    if name == "abnormal_returns.csv" and pairs:
        return "--detail pairs keeps per-pair results only, no abnormal returns per day (use --detail full)"
    if name == "placebo.csv":
        if pairs:
            return "--detail pairs runs only the tests that need no estimation-window data, not placebo"
        return "the placebo test was not run"
    if name == "volatility.csv" and pairs:
        return "--detail pairs keeps no daily standardized abnormal returns, so no volatility ratios"
    if name == "event_dummies.csv":
        if pairs:
            return "--detail pairs keeps no per-market return series, so no event-dummy regression"
        if not res.market_returns:
            return "no per-market return series (a study read back from its folder); run the study again"
    return "the table has no rows"


def write_csv_tables(res: StudyResult, folder: Path) -> dict[str, str]:
    """Write the tables of ``res.tables()`` that have rows; return the others with the reason.

    Text cells a spreadsheet would evaluate (``=``, ``+``, ``-``, ``@``, tab, CR
    first) are prefixed with ``'`` (:mod:`eventstudy.csvsafe`; restored on load).
    """
    omitted: dict[str, str] = {}
    for name, df in res.tables().items():
        if len(df) == 0:
            omitted[name] = omission_reason(res, name)
            continue
        neutralise_frame(df).to_csv(folder / name, index=False, lineterminator="\n", float_format="%.10g")
    return omitted


def with_omitted(manifest: dict[str, Any], omitted: dict[str, str]) -> dict[str, Any]:
    """The manifest to write: ``omitted_files`` replaced by ``omitted`` (left out when empty)."""
    out = {k: v for k, v in manifest.items() if k != "omitted_files"}
    return out | ({"omitted_files": omitted} if omitted else {})
