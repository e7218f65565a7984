"""Write a :class:`~eventstudy.results.StudyResult`'s output folder (read back by :mod:`eventstudy.persist`).

:func:`folder_tables` gives the CSV tables of the folder, keyed by file name
(dates as ISO text); :func:`save_result` writes them with ``study.json``,
``events.csv``, the publication tables and the HTML report, atomically
(:mod:`eventstudy.output`), neutralising text cells a spreadsheet would
evaluate (:mod:`eventstudy.csvsafe`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .csvout import with_omitted, write_csv_tables
from .csvsafe import neutralise_frame
from .errors import InputError
from .events import COLUMNS
from .output import atomic_folder
from .reprs import record_folder
from .resultcolumns import TEST_COLUMNS
from .tables import write_tables

if TYPE_CHECKING:
    from .results import StudyResult

__all__ = ["folder_tables", "save_result"]


def _iso(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with its date columns as ``YYYY-MM-DD`` text (blank where missing), each distinct date
    formatted once (a study's tables repeat a few hundred dates over many rows)."""
    out = df.copy()
    for c in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[c]):
            codes, days = pd.factorize(out[c])  # a missing date: code −1
            text = np.array([*pd.DatetimeIndex(days).strftime("%Y-%m-%d"), ""], dtype=object)
            out[c] = pd.Series(text[codes], index=out.index, dtype=object)
    return out


def folder_tables(res: StudyResult) -> dict[str, pd.DataFrame]:
    """The tables of :meth:`StudyResult.tables <eventstudy.results.StudyResult.tables>` (not copied)."""
    coefs, answers = res._second_stage
    return {
        "abnormal_returns.csv": _iso(res.abnormal_returns),
        "car.csv": _iso(res.car()),
        "tests.csv": res.tests().loc[:, TEST_COLUMNS],
        "caar.csv": res.caar(),
        "headlines.csv": res.headlines(),
        "volatility.csv": res.volatility(by=None),
        "fits.csv": _iso(res.fits),
        "cross_section.csv": coefs.copy(),
        "direction.csv": answers.copy(),
        **({"covariates.csv": res.covariates()} if res.config.covariates else {}),
        "placebo.csv": res.placebo(),
        "event_dummies.csv": res._dummies,
    }


def save_result(res: StudyResult, path: str | Path, png: bool = False) -> Path:
    """Write the output folder of ``res`` at ``path`` (see :meth:`StudyResult.save
    <eventstudy.results.StudyResult.save>`)."""
    target = Path(path)
    html = res.to_html()
    if png:
        from .report import png_unavailable_reason

        why = png_unavailable_reason()
        if why:
            raise InputError(f"png: cannot export charts: {why}")
    with atomic_folder(target) as tmp:
        if png:
            from .report import export_png

            export_png(res, tmp / "png")
        omitted = write_csv_tables(res, tmp)  # tables with rows (neutralised); the others named with why
        (tmp / "study.json").write_text(
            json.dumps(with_omitted(res.manifest, omitted), indent=2, default=str) + "\n",
            encoding="utf-8",
        )
        neutralise_frame(res.events.table.loc[:, list(COLUMNS) + res.events.extra_columns]).to_csv(
            tmp / "events.csv", index=False, lineterminator="\n"
        )
        write_tables(res, tmp)
        (tmp / "index.html").write_text(html, encoding="utf-8")
    record_folder(res, target)
    return target
