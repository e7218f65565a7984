"""The folder's CSV writer equals pandas' ``to_csv(float_format="%.10g")`` byte for byte."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eventstudy import csvout
from eventstudy.csvsafe import neutralise_frame


def _pandas(df: pd.DataFrame, path: Path) -> bytes:
    df.to_csv(path, index=False, lineterminator="\n", float_format="%.10g")
    return path.read_bytes()


def _ours(df: pd.DataFrame, path: Path) -> bytes:
    csvout.to_csv(df, path)
    return path.read_bytes()


def _mixed(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n) * 10.0 ** rng.integers(-12, 12, n)
    x[rng.random(n) < 0.2] = np.nan
    special = np.array([np.inf, -np.inf, -0.0, 0.0, 1e-300, 1e300, 3.0, 1234567890123.0, 0.1 + 0.2])
    x[: min(n, len(special))] = special[: min(n, len(special))]
    return pd.DataFrame(
        {
            "text": [f'a,b "{i}"\n' if i % 7 == 0 else f"m{i}" for i in range(n)],
            "x": x,
            "f32": np.clip(x, -1e38, 1e38).astype(np.float32),
            "k": np.arange(n, dtype=np.int64),
            "flag": np.arange(n) % 3 == 0,
            "nullable": pd.array([None if i % 5 == 0 else i for i in range(n)], dtype="Int64"),
            "when": pd.date_range("2020-01-01", periods=n, freq="D"),
            "y": np.where(np.arange(n) % 4 == 0, np.nan, np.arange(n) / 7.0),
        }
    )


@pytest.mark.parametrize("rows", [1, 2, 9, 250])
def test_mixed_columns_byte_for_byte(tmp_path: Path, rows: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(csvout, "CSV_ROWS", 7)  # several chunks
    df = _mixed(rows, rows)
    assert _ours(df, tmp_path / "a.csv") == _pandas(df, tmp_path / "b.csv")


def test_a_column_of_only_blanks_and_one_column_tables(tmp_path: Path) -> None:
    for df in (
        pd.DataFrame({"x": [np.nan, np.nan]}),
        pd.DataFrame({"x": [1.5, np.nan]}),
        pd.DataFrame({"x": [np.nan, 2.0], "y": [np.nan, np.nan]}),
    ):
        assert _ours(df, tmp_path / "a.csv") == _pandas(df, tmp_path / "b.csv")
    assert (tmp_path / "a.csv").read_text() == "x,y\n,\n2,\n"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=1, max_size=40))
def test_any_floats_byte_for_byte(tmp_path: Path, values: list[float]) -> None:
    df = pd.DataFrame({"v": np.array(values, dtype=float), "w": np.array(values[::-1], dtype=float)})
    assert _ours(df, tmp_path / "a.csv") == _pandas(df, tmp_path / "b.csv")


def test_every_table_of_the_default_study(tmp_path: Path, snapshot_study) -> None:  # type: ignore[no-untyped-def]
    """The study folder's tables (neutralised text, every column type they hold)."""
    for name, df in snapshot_study.tables().items():
        if len(df) == 0:
            continue
        safe = neutralise_frame(df)
        assert _ours(safe, tmp_path / name) == _pandas(safe, tmp_path / f"pandas-{name}"), name


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    texts=st.lists(
        st.one_of(st.none(), st.text(alphabet=st.sampled_from(list("ab ,;\"'\n\r\t=+-@é€")), max_size=6)),
        min_size=1,
        max_size=30,
    ),
    ints=st.lists(st.integers(min_value=-(2**62), max_value=2**62), min_size=30, max_size=30),
)
def test_text_integer_and_boolean_columns_byte_for_byte(
    tmp_path: Path, texts: list[str | None], ints: list[int]
) -> None:
    """Text with quotes, separators, line breaks and blanks (object and ``str`` columns, missing
    as None or NaN), integers and booleans: written by the csv module as pandas writes them."""
    n = len(texts)
    obj = np.array(texts, dtype=object)
    df = pd.DataFrame(
        {
            "obj": pd.Series(obj, dtype=object),
            "nan_text": pd.Series([np.nan if t is None else t for t in texts], dtype=object),
            "str": pd.Series(texts, dtype="str"),
            "k": np.array(ints[:n], dtype=np.int64),
            "flag": np.array([i % 2 == 0 for i in range(n)]),
            "x": np.linspace(-1.0, 1.0, n),
        }
    )
    assert [csvout._cells(df[c]) is not None for c in df.columns] == [True] * 6
    assert _ours(df, tmp_path / "a.csv") == _pandas(df, tmp_path / "b.csv")


def test_other_objects_and_dates_are_written_by_pandas(tmp_path: Path) -> None:
    """Cells that are not text (dates, numbers in an object column) leave the chunk to pandas."""
    import datetime

    df = pd.DataFrame(
        {
            "d": pd.Series([datetime.date(2020, 1, 2), None, "x"], dtype=object),
            "t": pd.date_range("2020-01-01 12:00", periods=3, freq="h"),
            "x": [0.5, np.nan, 1e-7],
        }
    )
    assert csvout._cells(df["d"]) is None and csvout._cells(df["t"]) is None
    assert _ours(df, tmp_path / "a.csv") == _pandas(df, tmp_path / "b.csv")


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    texts=st.lists(
        st.one_of(st.none(), st.text(alphabet=st.sampled_from(list("ab ;'\t=+-@é€:/.")), max_size=5)),
        min_size=1,
        max_size=60,
    ),
    quoted=st.sampled_from(["", ",", '"', "\n", "\r"]),
    repeat=st.integers(1, 40),
    columns=st.integers(1, 4),
)
def test_rows_without_anything_to_quote_are_joined_byte_for_byte(
    tmp_path: Path, texts: list[str | None], quoted: str, repeat: int, columns: int
) -> None:
    """Repeated labels (each spelled once), blanks, integers, booleans and floats: rows that need
    no quotes are joined, a table with one column or a quoted character anywhere goes through the
    csv module; both as pandas writes them."""
    n = len(texts) * repeat
    labels = np.array(texts * repeat, dtype=object)
    if quoted:
        labels[n // 2] = f"x{quoted}y"
    rng = np.random.default_rng(n)
    x = rng.normal(size=n)
    x[::5] = np.nan
    x[1::7] = -0.0
    full = pd.DataFrame(
        {
            "label": pd.Series(labels, dtype="str"),
            "k": np.arange(n, dtype=np.int64) % 7 - 3,
            "flag": np.arange(n) % 3 == 0,
            "x": x,
        }
    )
    df = full.iloc[:, :columns]
    assert _ours(df, tmp_path / "a.csv") == _pandas(df, tmp_path / "b.csv")
    bare = csvout._column(df["label"])[1]
    assert bare == (not quoted and not any(t is not None and any(c in t for c in ',"\r\n') for t in texts))


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**16), n=st.integers(0, 300), zone=st.sampled_from([None, "Asia/Shanghai", "UTC"])
)
def test_date_columns_are_the_text_of_each_cell(seed: int, n: int, zone: str | None) -> None:
    """The folder's date columns (each distinct date formatted once) equal ``strftime`` cell by cell,
    blank where a date is missing; other columns untouched."""
    from eventstudy.savefolder import _iso

    rng = np.random.default_rng(seed)
    days = pd.Series(pd.Timestamp("2019-12-30") + pd.to_timedelta(rng.integers(0, 40, n), unit="D"))
    days[rng.random(n) < 0.2] = pd.NaT
    if zone:
        days = days.dt.tz_localize(zone)
    df = pd.DataFrame({"date": days, "x": rng.normal(size=n)})
    got = _iso(df)
    want = [d.strftime("%Y-%m-%d") if d is not pd.NaT else "" for d in df["date"]]
    assert got["date"].dtype == object and got["date"].tolist() == want
    pd.testing.assert_series_equal(got["x"], df["x"])
