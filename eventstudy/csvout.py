"""The CSV files of an output folder: every file holds data, and an empty table is named with why.

A table without rows (the abnormal returns of a ``--detail pairs`` run, the
placebo distribution when the placebo test did not run, the event-dummy
regression without per-market return series) is not written: a header-only
or blank file reads back as an empty or broken table that says nothing. Each
one is named instead under ``omitted_files`` in ``study.json`` with the
reason, so every CSV of the folder reads back with :func:`pandas.read_csv`.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .csvsafe import neutralise_frame

if TYPE_CHECKING:
    from .results import StudyResult

__all__ = ["FLOAT_FORMAT", "omission_reason", "to_csv", "with_omitted", "write_csv_tables"]

#: How the folder's CSV files write floats: 10 significant digits, NaN blank.
FLOAT_FORMAT = "%.10g"

#: Rows formatted and written at a time (bounds the text held for a large table).
CSV_ROWS = 20_000


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
        to_csv(neutralise_frame(df), folder / name)
    return omitted


def to_csv(df: pd.DataFrame, path: Path) -> None:
    """``df.to_csv(path, index=False, lineterminator="\\n", float_format=FLOAT_FORMAT)``, byte for byte.

    pandas formats each float cell through a Python closure (about 2 µs a
    cell: 2 of the 12 s of a 6,000-pair run's command line). The cells are
    formatted here instead, column by column (:func:`_cells`): floats as
    ``FLOAT_FORMAT % v`` over plain floats and NaN blank, integers and
    booleans as ``str``, text as it is and missing text blank; the rows go
    to the csv module's writer with pandas' dialect, :data:`CSV_ROWS` rows at a
    time, or, when no cell holds a separator, quote or line break and there
    are two columns or more (the csv module quotes nothing then), are joined
    with commas (a fifth of the writer's time). A chunk holding another
    column type (dates, nullable integers, …) is written by pandas, its float
    columns formatted here.
    """
    floats = [k for k, dtype in enumerate(df.dtypes) if isinstance(dtype, np.dtype) and dtype.kind == "f"]
    names = [str(c) for c in df.columns]
    plain = len(names) > 0 and all(type(c) is str for c in df.columns)  # a header the csv module writes
    with open(path, "w", encoding="utf-8", newline="") as fh:
        # pandas' dialect: minimal quoting, quotes doubled, "\n" ends a row
        writer = csv.writer(fh, lineterminator="\n", quoting=csv.QUOTE_MINIMAL, doublequote=True)
        for start in range(0, max(len(df), 1), CSV_ROWS):
            part = df.iloc[start : start + CSV_ROWS]
            columns = [_column(part.iloc[:, k]) for k in range(part.shape[1])]
            cells = [c for c, _ in columns]
            if plain and all(c is not None for c in cells):
                if start == 0:
                    writer.writerow(names)
                if len(cells) > 1 and all(bare for _, bare in columns):  # nothing to quote: rows joined
                    fh.write("\n".join(map(",".join, zip(*cells, strict=True))) + "\n")
                else:
                    writer.writerows(zip(*cells, strict=True))
                continue
            if floats:
                part = part.copy(deep=False)
                for k in floats:
                    part.isetitem(k, pd.Series(_float_cells(part.iloc[:, k]), index=part.index, dtype=object))
            part.to_csv(fh, index=False, header=start == 0, lineterminator="\n")


def _float_cells(col: pd.Series) -> list[str]:
    """A float column as ``FLOAT_FORMAT`` text, NaN blank."""
    return [FLOAT_FORMAT % v if v == v else "" for v in col.to_numpy().tolist()]  # v != v: NaN


def _cells(col: pd.Series) -> list[str] | None:
    """The text pandas writes for each cell of ``col``, or ``None`` for a type left to pandas."""
    return _column(col)[0]


def _column(col: pd.Series) -> tuple[list[str] | None, bool]:
    """:func:`_cells` of ``col``, and whether none of them needs quotes (no separator, quote or
    line break in any text).

    Float columns (:func:`_float_cells`), integer and boolean numpy columns
    (``str``), text columns (``str`` dtype, or objects that are all text or
    missing: missing blank). Integers, booleans and text are spelled once per
    distinct value (one ``pd.factorize``) and laid out by their codes: a
    column of a study's tables repeats a few ids, dates or labels many times.
    """
    dtype = col.dtype
    if isinstance(dtype, np.dtype) and dtype.kind == "f":
        return _float_cells(col), True  # digits, '.', 'e', signs, "inf", "nan"
    if isinstance(dtype, np.dtype) and dtype.kind in "iub":
        codes, uniques = pd.factorize(col.to_numpy())
        return _spelled(codes, list(map(str, uniques.tolist()))), True
    if isinstance(dtype, pd.StringDtype) or (isinstance(dtype, np.dtype) and dtype.kind == "O"):
        codes, uniques = pd.factorize(col, use_na_sentinel=True)  # missing: code −1, written blank
        texts = list(uniques)
        if not all(type(v) is str for v in texts):
            return None, False
        return _spelled(codes, texts), _QUOTED.search("".join(texts)) is None
    return None, False


#: Characters that make the csv module (pandas' dialect) quote a field.
_QUOTED = re.compile(r'[,"\r\n]')


def _spelled(codes: np.ndarray, texts: list[str]) -> list[str]:
    """``texts[code]`` of every cell, ``""`` for code −1 (a missing value)."""
    return np.array([*texts, ""], dtype=object)[codes].tolist()


def with_omitted(manifest: dict[str, Any], omitted: dict[str, str]) -> dict[str, Any]:
    """The manifest to write: ``omitted_files`` replaced by ``omitted`` (left out when empty)."""
    out = {k: v for k, v in manifest.items() if k != "omitted_files"}
    return out | ({"omitted_files": omitted} if omitted else {})
