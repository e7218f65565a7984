"""Prices from a user's file: CSV (wide or long layout, detected) or parquet.

Layouts
-------
wide
    ``date,SYM1,SYM2,…`` — one column of closes per symbol; an empty cell
    means the market had no session that day.
long
    ``date,symbol,close`` — one row per symbol and date (extra columns such
    as ``open`` or ``volume`` are ignored).
single series
    ``Date,Open,High,Low,Close,Adj Close,Volume`` (Yahoo's export) or
    ``Date,Close``: one symbol, named by the file (see :mod:`.vendor`).

The layout is detected from the header: a file with ``symbol`` and ``close``
columns is long, anything else with a ``date`` column is wide. Every cell is
validated: a bad value is a :class:`~eventstudy.errors.PricesError` naming
the file, the line and the column.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import PricesError, show
from ..safety import MAX_PRICE_BYTES, check_input, read_input_bytes
from .base import Prices, clip
from .cells import blank_rows, drop, numbers, symbol_rows
from .cells import dates as _dates
from .cells import fail as _fail
from .vendor import single_series_column, symbol_from_path

__all__ = ["CsvSource", "read_price_file"]


def _err(path: str, msg: str) -> PricesError:
    return _fail(path, msg)


_NA_NAMES = {"nan", "na", "n/a", "null", "none", "nat", "<na>"}


def _check_header(columns: Sequence[object], name: str) -> None:
    """Refuse blank, ``nan``-like, duplicated or control-character column names."""
    seen: dict[str, int] = {}
    for i, raw in enumerate(columns, start=1):
        if not isinstance(raw, str):
            raise _fail(name, f"column {i} has the name {show(raw)}; give every column a text name", 1)
        col = raw.strip()
        if not col:
            raise _fail(name, f"column {i} has an empty name; name every price column by its symbol", 1)
        if col.lower() in _NA_NAMES:
            raise _fail(name, f"column {i} is named {show(col)}; name every price column by its symbol", 1)
        if not col.isprintable():
            raise _fail(name, f"column {i} name {show(col)} has control characters; remove them", 1)
        if col in seen:
            raise _fail(
                name,
                f"column {show(col)} appears twice (columns {seen[col]} and {i}); keep one column per symbol",
                1,
            )
        seen[col] = i


def _read_parquet(path: Path) -> pd.DataFrame:
    name = str(path)
    try:
        df = pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises many types
        raise _fail(name, f"cannot read parquet: {exc}".splitlines()[0]) from exc
    if isinstance(df.columns, pd.MultiIndex):
        raise _fail(name, "has a multi-level header; write one header row: date,SYM1,SYM2,…")
    df = df.reset_index() if "date" not in df.columns else df
    if "date" not in df.columns:
        raise _fail(name, "no 'date' column; write the dates as a column named date")
    _check_header(list(df.columns), name)
    df = df.astype({c: "str" for c in df.columns if c != "date"}).assign(
        date=lambda d: d["date"].astype("str")
    )
    df.index = np.arange(len(df)) + 2  # row numbers as if it were a CSV file
    return df


def _read_frame(path: Path) -> pd.DataFrame:
    name = str(path)
    if path.suffix.lower() in (".parquet", ".pq") or path.is_dir():
        check_input(path, "prices", MAX_PRICE_BYTES, allow_parquet_dir=True, error=_err)
        return _read_parquet(path)
    raw = read_input_bytes(path, "prices", MAX_PRICE_BYTES, error=_err)
    if b"\x00" in raw[:4096]:
        raise _fail(name, "looks like a binary file, not CSV text")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _fail(name, "is not UTF-8 text; save it as UTF-8") from exc
    if not text.strip():
        raise _fail(name, "the file is empty; it needs a header row and one row per date")
    head = text.splitlines()[0]
    sep = ";" if ("," not in head and ";" in head) else ","
    from io import StringIO

    try:
        header = next(csv.reader(StringIO(text), delimiter=sep))
    except (csv.Error, StopIteration) as exc:
        raise _fail(name, f"malformed header: {exc}", 1) from exc
    _check_header(header, name)
    try:
        df = pd.read_csv(StringIO(text), sep=sep, dtype=str, keep_default_na=False, skip_blank_lines=False)
    except (pd.errors.ParserError, ValueError) as exc:
        raise _fail(name, f"malformed CSV: {str(exc).splitlines()[0]}") from exc
    # file line of each row (header = line 1); blank lines are kept above so
    # that the numbering holds, then dropped
    df.index = np.arange(len(df)) + 2
    return df.loc[~blank_rows(df)]


def _series(
    dates: pd.DatetimeIndex,
    vals: np.ndarray,
    lines: np.ndarray,
    name: str,
    sym: str,
    dropped: list[dict[str, object]] | None = None,
) -> pd.Series:
    keep = ~np.isnan(vals) & ~dates.isna()
    d, v, ln = dates[keep], vals[keep], lines[keep]
    order = np.argsort(d.asi8, kind="stable")
    d, v, ln = d[order], v[order], ln[order]
    dup = d.duplicated()
    if dropped is not None and dup.any():  # lenient: keep the first row of a date
        drop(dropped, np.asarray(dup), ln, sym, "duplicate date")
        d, v, ln = d[~dup], v[~dup], ln[~dup]
        dup = d.duplicated()
    if dup.any():
        i = int(np.argmax(dup))
        raise _fail(
            name,
            f"duplicate date {d[i].date()} for {sym}; keep one row per date",
            int(ln[i]),
            "date",
        )
    s = pd.Series(v, index=d, name=sym)
    s.index.name = "date"
    return s


def _wide_series(dates: pd.DatetimeIndex, block: np.ndarray, symbols: list[str]) -> dict[str, pd.Series]:
    """Each column of ``block`` (rows × symbols) as :func:`_series` gives it, the dates (unique, or
    NaT where a lenient read set the row aside) sorted once for all of them."""
    keep = np.flatnonzero(~dates.isna())
    order = keep[np.argsort(dates.asi8[keep], kind="stable")]
    index, rows = dates[order], block[order]
    out = {}
    for j, sym in enumerate(symbols):
        has = ~np.isnan(rows[:, j])
        s = pd.Series(rows[has, j], index=index[has], name=sym)
        s.index.name = "date"
        out[sym] = s
    return out


def read_price_file(path: str | Path, lenient: bool = False) -> Prices:
    """Read a wide or long price file (CSV or parquet) into :class:`Prices`.

    Structurally bad cells (text, zero, negative or infinite prices, bad
    dates, duplicate dates) are errors naming the line and column; with
    ``lenient`` they are dropped instead and listed under ``dropped_rows`` in
    the provenance (and so in the study's data-quality report).
    """
    p = Path(path)
    dropped: list[dict[str, object]] | None = [] if lenient else None
    name = str(p)
    df = _read_frame(p)
    cols = {c.strip().lower(): c for c in df.columns}
    if "date" not in cols:
        raise _fail(name, "no 'date' column; the header must start with date", 1)
    lines = np.asarray(df.index, dtype=np.int64)
    if len(df) == 0:
        raise _fail(name, "has a header but no rows of prices")
    dates = _dates(df[cols["date"]], name, lines, dropped)
    closes: dict[str, pd.Series] = {}
    notes: list[str] = []
    single = single_series_column(cols)
    if single is not None:  # a vendor's single series (Yahoo OHLCV, Date,Close): see sources.vendor
        sym = symbol_from_path(p)
        if not sym.strip() or sym.strip().lower() in _NA_NAMES or not sym.isprintable() or sym != sym.strip():
            raise _fail(
                name,
                f"a single-series file is named by its symbol, and {show(sym)} is not a symbol name; "
                "rename the file (e.g. ^HSI.csv)",
            )
        vals = numbers([df[single].replace("null", "")], [single], name, lines, dropped)[:, 0]
        closes[sym] = _series(dates, vals, lines, name, sym, dropped)
        layout = "single"
        notes.append(
            f"{p.name}: one series, symbol {sym!r} from the file name, closes from {single!r}"
            + (
                " (adjusted for splits and dividends) rather than 'Close'"
                if single.lower() != "close"
                else ""
            )
        )
    elif "symbol" in cols and "close" in cols:
        syms = df[cols["symbol"]].str.strip()
        if (syms == "").any():
            i = int(np.argmax((syms == "").to_numpy()))
            raise _fail(name, "symbol is empty", int(lines[i]), "symbol")
        groups = symbol_rows(syms)
        # (a symbol's first row is the first row of that name: the first odd one is the first odd row)
        for sym, rows in groups:
            if sym.lower() in _NA_NAMES or not sym.isprintable():
                raise _fail(name, f"symbol {show(sym)} is not a symbol name", int(lines[rows[0]]), "symbol")
        vals = numbers([df[cols["close"]]], ["close"], name, lines, dropped)[:, 0]
        for sym, rows in groups:
            closes[str(sym)] = _series(dates[rows], vals[rows], lines[rows], name, str(sym), dropped)
        layout = "long"
    else:
        others = [c for c in df.columns if c != cols["date"]]
        if not others:
            raise _fail(name, "no price columns; add one column per symbol (wide) or symbol,close (long)", 1)
        dup = dates.duplicated() & ~dates.isna()
        if dropped is not None and dup.any():
            drop(dropped, np.asarray(dup), lines, "date", "duplicate date")
            keep_rows = ~np.asarray(dup)
            df, dates, lines = df.loc[df.index[keep_rows]], dates[keep_rows], lines[keep_rows]
            dup = dates.duplicated() & ~dates.isna()
        if dup.any():
            i = int(np.argmax(dup))
            raise _fail(
                name, f"duplicate date {dates[i].date()}; keep one row per date", int(lines[i]), "date"
            )
        # every column's cells at once; then each column's series (the dates are shared and unique)
        block = numbers([df[c] for c in others], others, name, lines, dropped)
        closes.update(_wide_series(dates, block, [c.strip() for c in others]))
        layout = "wide"
    empty = [s for s, c in closes.items() if len(c) == 0]
    if empty:
        raise _fail(name, f"no prices for {', '.join(empty)}")
    prov: dict[str, object] = {
        "file": name,
        "sha256": _sha256(p),
        "layout": layout,
    }
    if dropped is not None:
        prov["dropped_rows"] = dropped
    if notes:
        prov["notes"] = notes
    return Prices(closes, "csv", name, prov)


def _sha256(path: Path) -> str:
    """Hash of the file, or of a parquet folder's files in name order."""
    h = hashlib.sha256()
    files = sorted(f for f in path.rglob("*") if f.is_file()) if path.is_dir() else [path]
    for f in files:
        with f.open("rb") as fh:
            while block := fh.read(1 << 20):
                h.update(block)
    return h.hexdigest()


class CsvSource:
    """Price source over a user's CSV or parquet file."""

    name = "csv"

    def __init__(self, path: str | Path, lenient: bool = False) -> None:
        self.path = Path(path)
        self.lenient = lenient

    def load(
        self,
        symbols: Sequence[str] | None = None,
        start: pd.Timestamp | None = None,
        end: pd.Timestamp | None = None,
    ) -> Prices:
        prices = read_price_file(self.path, self.lenient)
        if symbols is not None:
            missing = [s for s in symbols if s not in prices]
            if missing:
                raise PricesError(
                    f"{self.path}: symbol(s) {', '.join(missing)} not in the file; "
                    f"columns found: {', '.join(prices.symbols)}"
                )
            prices = prices.select(list(symbols))
        return clip(prices, start, end)
