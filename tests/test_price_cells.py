"""Price cells checked all columns at once equal a plain column-by-column pass, errors included.

``eventstudy.sources.cells.numbers`` strips and parses every value cell of a file
in one pass; ``frames._wide_closes`` checks a numeric wide DataFrame as one array,
``frames._long_closes`` a long one's close column; ``cells.symbol_rows`` groups a long
file's rows by symbol with one factorization.
The references here go column by column with pandas, as a reader of one column at
a time would: the same closes (bit for bit), the same first error (message, line
or row, column) and, in a lenient read, the same rows set aside in the same order.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eventstudy.errors import PricesError, show
from eventstudy.frames import _check_symbol, _closes, _fail, _long_closes, _wide_closes
from eventstudy.sources.cells import MAX_PRICE, MIN_PRICE, blank_rows, numbers, symbol_rows
from eventstudy.sources.csvfile import read_price_file

CELLS = [
    "100", " 101.5 ", "1e2", "+99.9", "", "  ", "\t7\t", "0.000001", "123456789.123456789", "7.", ".5",
    "abc", "inf", "-inf", "0", "-3", "1e-9", "2e12", "nan", "NaN", "1,5", "\u00a012\u00a0", "1_0",
]  # fmt: skip


def _reference(col: pd.Series, name: str, label: str, lines: np.ndarray, dropped: list | None) -> np.ndarray:
    """One column as a column-by-column reader checks it (the order of problems of the module)."""
    s = col.str.strip()
    num = pd.to_numeric(s.where(s != "", None), errors="coerce").to_numpy(dtype="float64")
    bad = np.isnan(num) & (s != "").to_numpy()
    with np.errstate(invalid="ignore"):
        checks = [
            (bad, "not a number", lambda c: f"{show(c)} is not a number"),
            (np.isinf(num), "not finite", lambda c: f"{show(c)} is not a finite number"),
            (num <= 0, "not positive", lambda c: f"price {c} is not positive; prices must be > 0"),
            (
                np.isfinite(num) & (num > 0) & ((num < MIN_PRICE) | (num > MAX_PRICE)),
                f"outside {MIN_PRICE:g} … {MAX_PRICE:g}",
                lambda c: (
                    f"price {show(c)} is outside the plausible range {MIN_PRICE:g} … {MAX_PRICE:g}; "
                    "check the units of the column"
                ),
            ),
        ]
    for mask, why, message in checks:
        if dropped is not None:
            dropped.extend({"line": int(x), "column": label, "problem": why} for x in lines[mask])
        elif mask.any():
            i = int(np.argmax(mask))
            raise PricesError(f"{name}, line {int(lines[i])}, column {show(label)}: {message(s.iloc[i])}")
    with np.errstate(invalid="ignore"):
        return np.where(np.isfinite(num) & (num >= MIN_PRICE) & (num <= MAX_PRICE), num, np.nan)


def _outcome(fn):  # type: ignore[no-untyped-def]
    try:
        return "ok", fn()
    except PricesError as exc:
        return "error", str(exc)


def _assert_same_closes(got: tuple, want: tuple) -> None:
    """Both the same error, or the same symbols in the same order with the same series."""
    assert got[0] == want[0], (got, want)
    if got[0] == "error":
        assert got[1] == want[1]
        return
    assert list(got[1]) == list(want[1])
    for sym in want[1]:
        pd.testing.assert_series_equal(got[1][sym], want[1][sym], check_exact=True, check_freq=True)


@settings(max_examples=150, deadline=None)
@given(
    st.integers(1, 6).flatmap(
        lambda k: st.lists(st.lists(st.sampled_from(CELLS), min_size=k, max_size=k), min_size=1, max_size=12)
    ),
    st.booleans(),
)
def test_numbers_of_all_columns_equal_a_column_by_column_pass(rows: list[list[str]], lenient: bool) -> None:
    k = len(rows[0])
    frame = pd.DataFrame(rows, columns=[f"S{j}" for j in range(k)], dtype="str")
    lines = np.arange(len(rows)) + 2
    labels = list(frame.columns)
    got_dropped: list | None = [] if lenient else None
    want_dropped: list | None = [] if lenient else None
    got = _outcome(lambda: numbers([frame[c] for c in labels], labels, "f.csv", lines, got_dropped))

    def column_by_column() -> np.ndarray:
        return np.column_stack([_reference(frame[c], "f.csv", c, lines, want_dropped) for c in labels])

    want = _outcome(column_by_column)
    assert got[0] == want[0], (got, want)
    if got[0] == "error":
        assert got[1] == want[1]
    else:
        assert got[1].shape == want[1].shape
        assert np.array_equal(got[1], want[1], equal_nan=True)
        assert got[1].tobytes() == want[1].tobytes()  # bit for bit
        assert got_dropped == want_dropped


@settings(max_examples=80, deadline=None)
@given(
    st.lists(
        st.lists(st.sampled_from(["", " ", "\t", "x", " 1 ", "\u00a0"]), min_size=3, max_size=3), max_size=10
    )
)
def test_blank_rows_are_the_rows_of_white_space_only(rows: list[list[str]]) -> None:
    frame = pd.DataFrame(rows, columns=["date", "A", "B"], dtype="str")
    want = (frame.apply(lambda c: c.str.strip()) == "").all(axis=1).to_numpy() if rows else np.zeros(0, bool)
    assert np.array_equal(blank_rows(frame), want)


def test_a_wide_file_of_many_columns_reads_as_each_column_alone(tmp_path: Path) -> None:
    """End to end: a wide file equals, symbol by symbol, the file of that symbol's column alone."""
    rng = np.random.default_rng(3)
    dates = pd.bdate_range("2024-01-01", periods=40)
    wide = pd.DataFrame(
        rng.uniform(10, 200, (40, 30)).round(4), index=dates, columns=[f"S{j}" for j in range(30)]
    )
    wide = wide.mask(rng.random(wide.shape) < 0.1)
    wide = wide.iloc[rng.permutation(40)]  # rows out of order
    wide.index.name = "date"
    whole = tmp_path / "wide.csv"
    wide.to_csv(whole)
    got = read_price_file(whole)
    for sym in wide.columns:
        one = tmp_path / f"{sym}.csv"
        wide[[sym]].to_csv(one)
        pd.testing.assert_series_equal(got[sym], read_price_file(one)[sym], check_exact=True)
    # the first bad cell is the one a column-by-column reader meets first
    text = whole.read_text().splitlines()
    cells = [line.split(",") for line in text]
    cells[9][12], cells[4][20], cells[30][12] = "-1", "abc", "abc"  # S11 line 10, S19 line 5, S11 line 31
    whole.write_text("\n".join(",".join(c) for c in cells) + "\n")
    with pytest.raises(PricesError, match=r"line 31, column 'S11': 'abc' is not a number"):
        read_price_file(whole)
    lenient = read_price_file(whole, lenient=True)
    drops = [(d["line"], d["column"], d["problem"]) for d in lenient.provenance["dropped_rows"]]
    assert drops == [(31, "S11", "not a number"), (10, "S11", "not positive"), (5, "S19", "not a number")]


def _frame_reference(data: pd.DataFrame, dates: pd.DatetimeIndex) -> dict[str, pd.Series]:
    """The wide frame column by column: each name, then each column's closes (:func:`_closes`)."""
    closes: dict[str, pd.Series] = {}
    for c in data.columns:
        sym = str(c).strip()
        _check_symbol(sym, None, str(c))
        if sym in closes:
            raise _fail(f"column {show(sym)} appears twice; keep one column per symbol", column=str(c))
        closes[sym] = _closes(data[c], dates, sym, str(c))
    return closes


@settings(max_examples=120, deadline=None)
@given(
    st.integers(1, 5),
    st.integers(2, 25),
    st.sampled_from(["B", "D"]),
    st.booleans(),
    st.lists(st.sampled_from([np.nan, 0.0, -2.0, np.inf, 1e-9, 5e12, 50.0]), max_size=4),
    st.integers(0, 2**16),
)
def test_a_numeric_wide_frame_at_once_equals_column_by_column(
    k: int, n: int, freq: str, shuffle: bool, odd: list[float], seed: int
) -> None:
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2023-01-02", periods=n, freq=freq)
    if shuffle:
        dates = dates[rng.permutation(n)]
    v = rng.uniform(1, 300, (n, k))
    v[rng.random((n, k)) < 0.2] = np.nan
    for x in odd:
        v[rng.integers(n), rng.integers(k)] = x
    data = pd.DataFrame(v, index=dates, columns=[f"S{j}" for j in range(k)])
    if k > 1 and seed % 7 == 0:
        data = data.rename(columns={"S1": " S0 "})  # a name twice
    if seed % 5 == 0:
        data["S0"] = data["S0"].fillna(1.0).clip(1, 1e6).round().astype("int64")
    got = _outcome(lambda: _wide_closes(data, data.index))
    want = _outcome(lambda: _frame_reference(data, data.index))
    _assert_same_closes(got, want)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from(["A", "B", "C", "é", "A "]), max_size=30))
def test_symbol_rows_are_each_symbols_rows_in_order(symbols: list[str]) -> None:
    s = pd.Series(symbols, dtype="str")
    got = symbol_rows(s)
    want = [(u, np.flatnonzero((s == u).to_numpy())) for u in pd.unique(s)]
    assert [g for g, _ in got] == [w for w, _ in want]
    for (_, a), (_, b) in zip(got, want, strict=True):
        assert np.array_equal(a, b)


@settings(max_examples=120, deadline=None)
@given(
    st.integers(1, 6),
    st.integers(1, 40),
    st.lists(st.sampled_from([np.nan, 0.0, -2.0, np.inf, 1e-9, 5e12]), max_size=3),
    st.booleans(),
    st.integers(0, 2**16),
)
def test_a_numeric_long_frame_at_once_equals_symbol_by_symbol(
    k: int, n: int, odd: list[float], ints: bool, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    syms = pd.Series(rng.choice([f"S{j}" for j in range(k)], n), dtype="str")
    dates = pd.DatetimeIndex(pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 12, n), "D"))
    v = rng.uniform(1, 300, n).round(2)
    v[rng.random(n) < 0.2] = np.nan
    for x in odd:
        v[rng.integers(n)] = x
    values = pd.Series(v, index=np.arange(n) * 2 + 5)
    if ints and np.isfinite(v).all():
        values = values.astype("int64")
    groups = symbol_rows(syms)
    got = _outcome(lambda: _long_closes(values, dates, groups))
    want = _outcome(
        lambda: {str(s): _closes(values.iloc[rows], dates[rows], str(s), "close") for s, rows in groups}
    )
    _assert_same_closes(got, want)
