"""Fuzzing the file readers: any bytes either load or raise the project's own error."""

from __future__ import annotations

import string
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eventstudy.errors import EventStudyError
from eventstudy.events import COLUMNS, read_events
from eventstudy.sources.csvfile import read_price_file

SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

cells = st.one_of(
    st.text(alphabet=string.printable, max_size=12),
    st.sampled_from(
        [
            "2025-06-10T22:55Z",
            "2025-06-11",
            "2025-02-30",
            "1e999",
            "-1",
            "0",
            "nan",
            "",
            '"',
            "Asia/Nope",
            "Europe/Paris",
            "talks",
            "1",
            "+1",
            "9999-12-31T23:59+14:00",
            "2025-03-30T02:30",
        ]
    ),
)


def _write(tmp: Path, name: str, data: bytes) -> Path:
    p = tmp / name
    p.write_bytes(data)
    return p


@SETTINGS
@given(data=st.binary(max_size=400))
def test_events_reader_random_bytes(tmp_path: Path, data: bytes) -> None:
    p = _write(tmp_path, "ev.csv", data)
    try:
        read_events(p)
    except EventStudyError as exc:
        assert "\n" not in str(exc)


@SETTINGS
@given(
    header=st.lists(st.sampled_from([*COLUMNS, "bogus"]), min_size=1, max_size=6),
    rows=st.lists(st.lists(cells, min_size=0, max_size=7), max_size=5),
    sep=st.sampled_from([",", ";", "\t"]),
    eol=st.sampled_from(["\n", "\r\n"]),
)
def test_events_reader_random_shapes(
    tmp_path: Path, header: list[str], rows: list[list[str]], sep: str, eol: str
) -> None:
    text = eol.join([sep.join(header)] + [sep.join(r) for r in rows])
    p = _write(tmp_path, "ev.csv", text.encode())
    try:
        ev = read_events(p)
    except EventStudyError as exc:
        assert "\n" not in str(exc)
        assert str(p) in str(exc)
    else:
        assert len(ev) >= 1
        assert ev.table["event_id"].is_unique


@SETTINGS
@given(
    optional=st.lists(st.sampled_from(COLUMNS[3:]), unique=True, max_size=4),
    rows=st.lists(st.lists(cells, min_size=3, max_size=7), min_size=1, max_size=5),
)
def test_events_reader_valid_header_random_cells(
    tmp_path: Path, optional: list[str], rows: list[list[str]]
) -> None:
    header = ["event_id", "timestamp", "title", *optional]
    body = [",".join((r + [""] * len(header))[: len(header)]) for r in rows]
    p = _write(tmp_path, "ev.csv", "\n".join([",".join(header), *body]).encode())
    try:
        ev = read_events(p)
    except EventStudyError as exc:
        assert "\n" not in str(exc)
        assert "line" in str(exc) or "no events" in str(exc)
    else:
        assert ev.table["start_utc"].notna().all()
        assert (ev.table["end_utc"] >= ev.table["start_utc"]).all()


@SETTINGS
@given(data=st.binary(max_size=400))
def test_prices_reader_random_bytes(tmp_path: Path, data: bytes) -> None:
    p = _write(tmp_path, "px.csv", data)
    try:
        read_price_file(p)
    except EventStudyError as exc:
        assert "\n" not in str(exc)


@SETTINGS
@given(
    header=st.lists(
        st.sampled_from(["date", "symbol", "close", "^HSI", "X", "open"]), min_size=1, max_size=5
    ),
    rows=st.lists(
        st.lists(
            st.one_of(cells, st.sampled_from(["2025-01-02", "2025-01-03", "100.5", "^HSI"])),
            max_size=6,
        ),
        max_size=6,
    ),
)
def test_prices_reader_random_shapes(tmp_path: Path, header: list[str], rows: list[list[str]]) -> None:
    text = "\n".join([",".join(header)] + [",".join(r) for r in rows])
    p = _write(tmp_path, "px.csv", text.encode())
    try:
        prices = read_price_file(p)
    except EventStudyError as exc:
        assert "\n" not in str(exc)
    else:
        for s in prices.symbols:
            c = prices[s]
            assert (
                (c > 0).all()
                and np.isfinite(c).all()
                and c.index.is_monotonic_increasing
                and c.index.is_unique
            )


@pytest.mark.parametrize("name", ["ev.parquet"])
def test_prices_reader_corrupt_parquet(tmp_path: Path, name: str) -> None:
    p = _write(tmp_path, name, b"PAR1 not really parquet")
    with pytest.raises(EventStudyError):
        read_price_file(p)
