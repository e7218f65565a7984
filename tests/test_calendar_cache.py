"""Sessions reloaded from the disk cache equal freshly built ones."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from eventstudy import calendars


def test_disk_cache_round_trip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVENTSTUDY_CACHE", str(tmp_path))
    start, end = pd.Timestamp("2022-01-01"), pd.Timestamp("2024-12-31")
    calendars._build.cache_clear()
    fresh = calendars._build("XHKG", start, end)
    assert list((tmp_path / "calendars").glob("XHKG-*.npz"))
    calendars._build.cache_clear()
    cached = calendars._build("XHKG", start, end)
    pd.testing.assert_index_equal(fresh.dates, cached.dates)
    assert fresh.closes is not None and cached.closes is not None
    pd.testing.assert_index_equal(fresh.closes, cached.closes)
    assert pd.Timestamp("2023-09-01") not in cached.dates  # the added closure survives the cache
    calendars._build.cache_clear()


def test_corrupt_cache_file_is_rebuilt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVENTSTUDY_CACHE", str(tmp_path))
    start, end = pd.Timestamp("2022-01-01"), pd.Timestamp("2024-12-31")
    path = calendars._cache_file("XETR", start, end)
    assert path is not None
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not an npz file")
    calendars._build.cache_clear()
    sess = calendars._build("XETR", start, end)
    assert len(sess.dates) > 700
    calendars._build.cache_clear()


def test_truncated_cache_file_is_rebuilt_and_replaced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EVENTSTUDY_CACHE", str(tmp_path))
    start, end = pd.Timestamp("2022-01-01"), pd.Timestamp("2024-12-31")
    calendars._build.cache_clear()
    fresh = calendars._build("XLON", start, end)
    path = calendars._cache_file("XLON", start, end)
    assert path is not None and path.is_file()
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])  # truncated, e.g. by a full disk
    calendars._build.cache_clear()
    again = calendars._build("XLON", start, end)
    pd.testing.assert_index_equal(fresh.dates, again.dates)
    calendars._build.cache_clear()
    with calendars.np.load(path) as z:  # the broken file was replaced by a good one
        assert len(z["dates"]) == len(fresh.dates)
    calendars._build.cache_clear()
