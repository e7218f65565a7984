"""The cells of a price file, checked: closes of many columns at once, dates, blank rows.

A wide file holds one column per symbol. Its cells are stripped, compared and
parsed as one long column of text (the columns one after another), so that
``pandas.to_numeric`` and the string kernels run once for the file, not once
per symbol: a file of 1,000 symbols is read in a third of the time
(bench/README.md). Every cell is parsed by the same function as before, and a
bad cell is still reported as the first one a column-by-column pass meets: the
first column with a problem, its first problem in the order *not a number*,
*not finite*, *not positive*, *outside the plausible range*, at its first line.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..errors import PricesError, show

__all__ = [
    "MAX_PRICE",
    "MIN_PRICE",
    "blank_rows",
    "dates",
    "drop",
    "fail",
    "numbers",
    "stripped",
    "symbol_rows",
]

MIN_PRICE = 1e-8
MAX_PRICE = 1e12
"""Plausible closes: outside this range a value is a unit or data error, and ratios of
such values would overflow to infinite returns."""


def fail(path: str, msg: str, line: int | None = None, col: str | None = None) -> PricesError:
    """The error of a price file: ``path, line L, column C: msg``."""
    where = path + (f", line {line}" if line is not None else "")
    where += f", column {show(col)}" if col is not None else ""
    return PricesError(f"{where}: {msg}")


def drop(dropped: list[dict[str, object]], mask: np.ndarray, lines: np.ndarray, col: str, why: str) -> None:
    """Set the rows of ``mask`` aside under ``dropped`` (a lenient read), naming line, column and why."""
    for ln in lines[mask]:
        dropped.append({"line": int(ln), "column": col, "problem": why})


def stripped(columns: Sequence[pd.Series]) -> pd.Series:
    """The cells of ``columns`` (text, all of one length), stripped, one column after another.

    Columns held by pyarrow are joined as the chunks of one array (no copy; ``pd.concat``
    of a thousand columns costs a hundred times more), others by ``pd.concat``.
    """
    if len(columns) == 1:
        return columns[0].reset_index(drop=True).str.strip()
    dtype = columns[0].dtype
    if (
        isinstance(dtype, pd.StringDtype)
        and dtype.storage == "pyarrow"
        and all(c.dtype == dtype for c in columns)
    ):
        import pyarrow as pa

        parts = [pa.array(c.array) for c in columns]  # (an array, or the chunks of one)
        chunks = [ch for a in parts for ch in (a.chunks if isinstance(a, pa.ChunkedArray) else [a])]
        joined = pa.chunked_array(chunks, type=parts[0].type)
        return pd.Series(pd.array(joined, dtype=dtype)).str.strip()
    return pd.concat(list(columns), ignore_index=True).str.strip()


def blank_rows(df: pd.DataFrame) -> np.ndarray:
    """Rows of ``df`` (text cells) whose every cell is empty or white space."""
    n, k = df.shape
    if not k:
        return np.ones(n, dtype=bool)
    empty = (stripped([df.iloc[:, j] for j in range(k)]) == "").to_numpy(dtype=bool)
    return empty.reshape(k, n).all(axis=0)


def numbers(
    columns: Sequence[pd.Series],
    labels: Sequence[str],
    name: str,
    lines: np.ndarray,
    dropped: list[dict[str, object]] | None = None,
) -> np.ndarray:
    """The closes of ``columns`` (text cells), rows × columns, NaN where a cell is empty.

    Strict (``dropped`` is ``None``): a cell that is not a number, infinite, not
    positive or outside :data:`MIN_PRICE` … :data:`MAX_PRICE` is an error naming
    the file, its line and its column (``labels``). Lenient: such cells are set
    aside under ``dropped`` (column after column, each in that order of
    problems) and read as empty.
    """
    k, n = len(columns), len(lines)
    if not k:
        return np.empty((n, 0))
    s = stripped(columns)
    filled = s != ""
    num = pd.to_numeric(s.where(filled, None), errors="coerce").to_numpy(dtype="float64").reshape(k, n)
    bad = np.isnan(num) & filled.to_numpy(dtype=bool).reshape(k, n)
    inf = np.isinf(num)
    with np.errstate(invalid="ignore"):
        nonpos = num <= 0
        odd = (num < MIN_PRICE) | (num > MAX_PRICE)
    checks = [
        (bad, "not a number"),
        (inf, "not finite"),
        (nonpos, "not positive"),
        (np.isfinite(num) & ~nonpos & odd, f"outside {MIN_PRICE:g} … {MAX_PRICE:g}"),
    ]
    if dropped is not None:  # lenient: set bad cells aside instead of failing
        for j in np.flatnonzero((bad | inf | nonpos | odd).any(axis=1)).tolist():
            for mask, why in checks:
                drop(dropped, mask[j], lines, str(labels[j]), why)
        return np.where(np.isfinite(num) & ~nonpos & ~odd, num, np.nan).T
    problem = (bad | inf | nonpos | odd).any(axis=1)
    if problem.any():
        first = int(np.argmax(problem))
        raise _first_error(
            s, n, first, (bad[first], inf[first], nonpos[first], odd[first]), name, str(labels[first]), lines
        )
    return num.T


def _first_error(
    s: pd.Series, n: int, j: int, masks: tuple[np.ndarray, ...], name: str, col: str, lines: np.ndarray
) -> PricesError:
    """The error of column ``j``: its first problem in the order of the checks, at its first line."""
    bad, inf, nonpos, odd = masks
    for mask, what in ((bad, "nan"), (inf, "inf"), (nonpos, "nonpos"), (odd, "odd")):
        if mask.any():
            i = int(np.argmax(mask))
            cell, line = s.iloc[j * n + i], int(lines[i])
            if what == "nan":
                return fail(name, f"{show(cell)} is not a number", line, col)
            if what == "inf":
                return fail(name, f"{show(cell)} is not a finite number", line, col)
            if what == "nonpos":
                return fail(name, f"price {cell} is not positive; prices must be > 0", line, col)
            return fail(
                name,
                f"price {show(cell)} is outside the plausible range {MIN_PRICE:g} … {MAX_PRICE:g}; "
                "check the units of the column",
                line,
                col,
            )
    raise AssertionError("a column with a problem has one")  # pragma: no cover


def dates(
    values: pd.Series, name: str, lines: np.ndarray, dropped: list[dict[str, object]] | None = None
) -> pd.DatetimeIndex:
    """Dates from the leading ``YYYY-MM-DD`` of each cell (a time or offset after it is ignored:
    the written date is the session's local date)."""
    text = values.str.strip()
    iso = text.str.match(r"^\d{4}-\d{2}-\d{2}($|[T ])")
    d = pd.to_datetime(text.str.slice(0, 10).where(iso, ""), format="%Y-%m-%d", errors="coerce")
    bad = (d.isna() | (d < pd.Timestamp("1900-01-01")) | (d > pd.Timestamp("2200-12-31"))).to_numpy()
    if dropped is not None:
        drop(dropped, bad, lines, "date", "not a date")
        return pd.DatetimeIndex(d.where(~bad)).as_unit("ns")
    if bad.any():
        i = int(np.argmax(bad))
        raise fail(
            name,
            f"{show(values.iloc[i])} is not a date between 1900 and 2200; write YYYY-MM-DD",
            int(lines[i]),
            "date",
        )
    return pd.DatetimeIndex(d).as_unit("ns")


def symbol_rows(symbols: pd.Series) -> list[tuple[str, np.ndarray]]:
    """Each distinct symbol of a long file or frame, in order of first appearance (as
    ``pd.unique``), with its rows in ascending order (as a mask ``symbols == sym`` selects
    them): one factorization and one stable sort, not a pass over the column per symbol."""
    codes, uniques = pd.factorize(symbols)
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(len(uniques) + 1))
    return [(uniques[g], order[bounds[g] : bounds[g + 1]]) for g in range(len(uniques))]
