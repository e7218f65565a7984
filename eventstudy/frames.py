"""Events and prices from pandas DataFrames, validated exactly like the files.

``EventStudy(events, prices)`` accepts DataFrames besides :class:`~eventstudy.events.Events`
and :class:`~eventstudy.sources.base.Prices`:

* **events**: a frame with the columns of ``events.csv`` (``event_id``, ``timestamp``,
  ``title`` required; the optional ones as in the file; extra columns such as a covariate
  are kept as in a file), e.g. ``pd.read_csv("events.csv")``.
  Every cell is written as the file would hold it and read by the same parser, so the
  same rows are accepted or refused with the same messages; an error names the row by
  its index label (``events DataFrame, row 3, column 'timestamp': …``). Missing cells
  (NaN, None) are empty; whole-number floats (``1.0`` in a ``direction`` column that
  has gaps) are written as integers; a timestamp may also be a ``datetime.date`` or a
  time-zone-aware ``Timestamp``. A naive ``Timestamp`` is refused: it could be a date
  or an instant in any zone, and the choice would silently move day 0. An
  ``Events.table`` (the file's columns plus the derived ones) is read from its file columns.
* **prices**: a *wide* frame (a ``DatetimeIndex`` or a ``date`` column, one column of
  closes per symbol; NaN where a market had no session) or a *long* frame with the
  columns ``date, symbol, close``. Closes must be finite and positive, dates unique
  per symbol; errors name the row and the column. A time-zone-aware index counts by
  its local (wall-clock) dates, as the date written in a price file does.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re
from numbers import Integral, Real
from typing import Any

import numpy as np
import pandas as pd

from .errors import EventsFileError, InputError, PricesError, show
from .events import Events, _parse
from .sources.base import Prices
from .sources.cells import MAX_PRICE, MIN_PRICE, symbol_rows
from .sources.csvfile import _NA_NAMES

__all__ = ["as_events", "as_prices", "events_from_frame", "prices_from_frame"]

EVENTS_NAME = "events DataFrame"
#: Columns :class:`Events` derives from the file's (``Events.table`` has them too).
DERIVED = ("start_utc", "end_utc", "local_date", "local_end", "timing", "date_only")
PRICES_NAME = "prices DataFrame"


def _cell(value: Any, row: object, column: str) -> str:
    """A DataFrame cell as the text an events file would hold."""
    if value is None or value is pd.NaT or (isinstance(value, float) and np.isnan(value)):
        return ""
    if value is pd.NA:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    if isinstance(value, Integral):
        return str(int(value))
    if isinstance(value, Real):
        v = float(value)
        return str(int(v)) if v.is_integer() else repr(v)
    if isinstance(value, dt.datetime):  # pandas.Timestamp included
        if value.tzinfo is None:
            raise EventsFileError(
                EVENTS_NAME,
                f"{show(value)} has no time zone: a date or an instant in which zone? Write the ISO "
                "text as in events.csv (2025-06-10 or 2025-06-10T22:55Z) or a tz-aware Timestamp",
                column=column,
                row=row,
            )
        return pd.Timestamp(value).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def events_from_frame(df: pd.DataFrame) -> Events:
    """Events from a DataFrame with the columns of ``events.csv`` (see the module docstring).

    Raises
    ------
    EventsFileError
        A bad column or row; the message names the row (index label) and the column.
    """
    if not isinstance(df, pd.DataFrame):
        raise InputError(f"events: expected a DataFrame, got {type(df).__name__}")
    if df.index.name == "event_id" and "event_id" not in df.columns:
        df = df.reset_index()
    derived = [c for c in DERIVED if c in df.columns]
    if len(derived) == len(DERIVED):  # an Events.table given back: keep the file's columns
        df = df.drop(columns=derived + (["line"] if "line" in df.columns else []))
    header = [str(c).strip() for c in df.columns]
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    ends: dict[int, object] = {}  # last physical line of each row → its index label
    for label, values in zip(df.index, df.itertuples(index=False, name=None), strict=True):
        writer.writerow([_cell(v, label, h) for v, h in zip(values, header, strict=True)])
        ends[buf.getvalue().count("\n")] = label
    text = buf.getvalue()
    try:
        return _parse(text, EVENTS_NAME, hashlib.sha256(text.encode()).hexdigest())
    except EventsFileError as exc:
        if exc.line is None or exc.line == 1:
            raise EventsFileError(EVENTS_NAME, exc.message, column=exc.column) from None
        msg = re.sub(
            r"first on line (\d+)", lambda m: f"first in row {ends.get(int(m.group(1)))}", exc.message
        )
        raise EventsFileError(EVENTS_NAME, msg, column=exc.column, row=ends.get(exc.line)) from None


def as_events(events: Events | pd.DataFrame, name: str = "events") -> Events:
    """``events`` as :class:`Events` (a DataFrame is read by :func:`events_from_frame`)."""
    if isinstance(events, Events):
        return events
    if isinstance(events, pd.DataFrame):
        return events_from_frame(events)
    raise InputError(
        f"{name}: pass an Events object (eventstudy.read_events) or a DataFrame with the events.csv "
        f"columns, not {type(events).__name__}"
    )


# ----------------------------------------------------------------------- prices
def _fail(msg: str, row: object = None, column: object = None) -> PricesError:
    if isinstance(row, pd.Timestamp) and row == row.normalize():
        row = str(row.date())
    where = PRICES_NAME + (f", row {row}" if row is not None else "")
    where += f", column {show(column)}" if column is not None else ""
    return PricesError(f"{where}: {msg}")


def _dates(values: pd.Index | pd.Series, labels: pd.Index, column: str) -> pd.DatetimeIndex:
    raw = pd.Series(np.asarray(values, dtype=object), index=labels)
    if isinstance(values, pd.DatetimeIndex) or pd.api.types.is_datetime64_any_dtype(values):
        d = pd.DatetimeIndex(values)
    else:
        d = pd.DatetimeIndex(
            pd.to_datetime(raw.astype(str).str.slice(0, 10), format="%Y-%m-%d", errors="coerce")
        )
    if d.tz is not None:
        d = d.tz_localize(None)
    d = d.normalize()
    bad = d.isna() | (d < pd.Timestamp("1900-01-01")) | (d > pd.Timestamp("2200-12-31"))
    if bad.any():
        i = int(np.argmax(bad))
        raise _fail(f"{show(raw.iloc[i])} is not a date between 1900 and 2200", labels[i], column)
    return d.as_unit("ns")


def _closes(values: pd.Series, dates: pd.DatetimeIndex, symbol: str, column: str) -> pd.Series:
    num = pd.to_numeric(values, errors="coerce")
    bad = num.isna() & values.notna() & (values.astype(str).str.strip() != "")
    if bad.any():
        i = int(np.argmax(bad.to_numpy()))
        raise _fail(f"{show(values.iloc[i])} is not a number", values.index[i], column)
    v = num.to_numpy(dtype="float64")
    odd = np.isfinite(v) & (v > 0) & ((v < MIN_PRICE) | (v > MAX_PRICE))  # as in a price file
    for test, what in (
        (np.isinf(v), "is not finite"),
        (v <= 0, "is not positive; prices must be > 0"),
        (odd, f"is outside {MIN_PRICE:g} … {MAX_PRICE:g}; check the units"),
    ):
        if test.any():
            i = int(np.argmax(test))
            raise _fail(f"price {v[i]} {what}", values.index[i], column)
    keep = ~np.isnan(v)
    s = pd.Series(v[keep], index=dates[keep], name=symbol)
    dup = s.index.duplicated()
    if dup.any():
        i = int(np.flatnonzero(keep)[int(np.argmax(dup))])
        raise _fail(
            f"duplicate date {dates[i].date()} for {symbol}; keep one row per date", values.index[i], column
        )
    if s.empty:
        raise _fail(f"no prices for {symbol}", column=column)
    s = s.sort_index(kind="stable")
    s.index.name = "date"
    return s


def _wide_closes(data: pd.DataFrame, dates: pd.DatetimeIndex) -> dict[str, pd.Series]:
    """Each column of a wide frame as :func:`_closes` gives it, errors in the same order.

    A frame of numpy numbers (floats, integers) on unique dates is checked as one array
    and its dates are sorted once for all columns (a thousand columns: a tenth of the
    time); a column with a problem, and any other frame, go through :func:`_closes`,
    which raises the column's first error. Columns come in order, each with its name
    checked first, as a column-by-column pass meets them.
    """
    closes: dict[str, pd.Series] = {}
    fast = all(isinstance(d, np.dtype) and d.kind in "fiu" for d in data.dtypes) and not dates.has_duplicates
    if fast:
        v = data.to_numpy(dtype="float64")
        keep = ~np.isnan(v)
        with np.errstate(invalid="ignore"):
            odd = (v <= 0) | (v < MIN_PRICE) | (v > MAX_PRICE)  # (infinities too)
        problem = odd.any(axis=0) | ~keep.any(axis=0)
        index, rows, kept = dates, v, keep  # (an index in order keeps its freq, as before)
        if not dates.is_monotonic_increasing:
            order = np.argsort(dates.asi8, kind="stable")
            index, rows, kept = dates[order], v[order], keep[order]
    for j, c in enumerate(data.columns):
        sym = str(c).strip()
        _check_symbol(sym, None, str(c))
        if sym in closes:
            raise _fail(f"column {show(sym)} appears twice; keep one column per symbol", column=str(c))
        if not fast or problem[j]:
            closes[sym] = _closes(data[c], dates, sym, str(c))
            continue
        s = pd.Series(rows[kept[:, j], j], index=index[kept[:, j]], name=sym)
        s.index.name = "date"
        closes[sym] = s
    return closes


def _long_closes(
    values: pd.Series, dates: pd.DatetimeIndex, groups: list[tuple[str, np.ndarray]]
) -> dict[str, pd.Series]:
    """Each symbol's closes of a long frame (``groups``: its rows) as :func:`_closes` gives them.

    A column of numpy numbers is checked whole: the problems of :func:`_closes` (not
    finite, not positive, implausible, a date twice among a symbol's closes, no close)
    are found for every symbol at once, and only a symbol with one goes through
    :func:`_closes`, which raises its first error; symbols come in order of first
    appearance, as a symbol-by-symbol pass meets them. Any other column goes symbol by
    symbol.
    """
    if not (isinstance(values.dtype, np.dtype) and values.dtype.kind in "fiu"):
        return {str(sym): _closes(values.iloc[rows], dates[rows], str(sym), "close") for sym, rows in groups}
    v = values.to_numpy(dtype="float64")
    keep = ~np.isnan(v)
    with np.errstate(invalid="ignore"):
        odd = (v <= 0) | (v < MIN_PRICE) | (v > MAX_PRICE)  # (infinities too)
    code = np.empty(len(v), dtype=np.int64)
    for g, (_, rows) in enumerate(groups):
        code[rows] = g
    kept = np.flatnonzero(keep)
    by = kept[np.lexsort((dates.asi8[kept], code[kept]))]  # a symbol's kept closes by date
    twice = by[1:][(code[by[1:]] == code[by[:-1]]) & (dates.asi8[by[1:]] == dates.asi8[by[:-1]])]
    problem = np.zeros(len(groups), dtype=bool)
    problem[code[odd]] = True
    problem[code[twice]] = True
    problem[np.bincount(code[kept], minlength=len(groups)) == 0] = True
    closes: dict[str, pd.Series] = {}
    for g, (sym, rows) in enumerate(groups):
        if problem[g]:
            closes[str(sym)] = _closes(values.iloc[rows], dates[rows], str(sym), "close")
            continue
        mine = rows[keep[rows]]
        s = pd.Series(v[mine], index=dates[mine], name=str(sym)).sort_index(kind="stable")
        s.index.name = "date"
        closes[str(sym)] = s
    return closes


def _check_symbol(sym: str, row: object, column: str) -> None:
    """A symbol (column name or ``symbol`` cell) as a price file would accept it."""
    if not sym or sym.lower() in _NA_NAMES or not sym.isprintable():
        raise _fail(f"{show(sym)} is not a symbol name; name every series by its symbol", row, column)


def prices_from_frame(df: pd.DataFrame) -> Prices:
    """Prices from a wide or long DataFrame (see the module docstring).

    Raises
    ------
    PricesError
        A bad date or close; the message names the row (index label) and the column.
    """
    if not isinstance(df, pd.DataFrame):
        raise InputError(f"prices: expected a DataFrame, got {type(df).__name__}")
    if df.empty:
        raise _fail("has no rows")
    cols = {str(c).strip().lower(): c for c in df.columns}
    closes: dict[str, pd.Series] = {}
    if {"date", "symbol", "close"} <= set(cols):
        dates = _dates(df[cols["date"]], df.index, "date")
        syms = df[cols["symbol"]]
        empty = syms.isna() | (syms.astype(str).str.strip() == "")
        if empty.any():
            raise _fail("symbol is empty", df.index[int(np.argmax(empty.to_numpy()))], "symbol")
        syms = syms.astype(str).str.strip()
        groups = symbol_rows(syms)
        for sym, rows in groups:  # (the first row of the first odd symbol is the first odd row)
            _check_symbol(sym, syms.index[rows[0]], "symbol")
        closes = _long_closes(df[cols["close"]], dates, groups)
        layout = "long"
    else:
        if "date" in cols:
            dates = _dates(df[cols["date"]], df.index, "date")
            data = df.drop(columns=cols["date"])
        elif isinstance(df.index, pd.DatetimeIndex):
            dates, data = _dates(df.index, df.index, "index"), df
        else:
            raise _fail(
                "no dates: give a wide frame a DatetimeIndex (or a 'date' column), "
                "or pass a long frame with the columns date, symbol, close"
            )
        if data.shape[1] == 0:
            raise _fail("no price columns; one column of closes per symbol")
        closes = _wide_closes(data, dates)
        layout = "wide"
    prov: dict[str, object] = {"layout": layout}
    prices = Prices(closes, "dataframe", PRICES_NAME, prov)
    prov["sha256"] = prices.sha256()
    return prices


def as_prices(prices: Prices | pd.DataFrame) -> Prices:
    """``prices`` as :class:`Prices` (a DataFrame is read by :func:`prices_from_frame`)."""
    if isinstance(prices, Prices):
        return prices
    if isinstance(prices, pd.DataFrame):
        return prices_from_frame(prices)
    raise InputError(
        "prices: pass a Prices object (eventstudy.load_prices) or a DataFrame (wide with a "
        f"DatetimeIndex, or long with date, symbol, close), not {type(prices).__name__}"
    )
