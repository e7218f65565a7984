"""Price sources: the bundled snapshot and users' CSV files.

Reference values come from the snapshot's PROVENANCE.md (written when the data
were collected and cross-checked against other providers), copied here as
literals; they are not produced by the code under test.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import json
import subprocess
import sys
import zipfile
from datetime import date, timedelta
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from eventstudy import EventStudy, InputError, Prices, PricesError, events_from_records, load_prices
from eventstudy.sources import CsvSource, SnapshotSource

REPO = Path(__file__).resolve().parents[1]

# PROVENANCE.md, table "Files": symbol, rows, first date, last date, sha256 of the source CSV
_FILES_TABLE = """
^HSI       2214 2017-01-03 2025-12-31 f946f804a87eaf72cfdc235fee18cae1ab8e8a382bb10dbdfb79889106e11d2b
^STOXX50E  2259 2017-01-03 2025-12-30 ab73163044b3638918fe1939390c9cf55a3cc06871ef7b0a43f24a16815f65a2
^GDAXI     2282 2017-01-02 2025-12-30 06431005ee6c75ea7c11557133c5cd61439ad2e00569b2357a18f26d4d778a4a
^FTSE      2272 2017-01-03 2025-12-31 f983a4059c9f3ad2c895a38c0b6f16851bd311e32578ef64c0c5ad0c80ce37b8
^FCHI      2303 2017-01-02 2025-12-31 57e383325a07af25ab596695f47c6c8b2f4f8b0135b67f1e5658edfc83de3146
^STOXX     2259 2017-01-03 2025-12-30 03c55e945e468e13d8c4e3be144c1b2d1b19c6a1a2c9b1e2f746b63e48423868
^GSPC      2262 2017-01-03 2025-12-31 758bacc300287bfef908e8acb31c3d5ee10b7526783206fef67ffedd22981cd2
^N225      2198 2017-01-04 2025-12-30 a75854643c2d34d6736479fb74444e50aa98d6461a5ece2357ae80f9627867cd
000001.SS  1455 2020-01-02 2025-12-31 75b3c6165a68351f0227f04daf2c41ebe0bd17ec7fbadac8e91b01f95601cb35
ACWI       2262 2017-01-03 2025-12-31 17618a8e0a0a23546ecbf77db3d42840e9eff9ceb62352bb53225df5f2cd154c
URTH       2231 2017-01-03 2025-11-14 d0dddf4c931dafb830cccd4732c7e659ea140382a4e0f4af0108957af6208e95
CNY=X      2325 2017-01-02 2025-12-31 8456b40862e26aae8855361f1232c2efee29f87dea25e53c0b54b230980f3bd4
EURUSD=X   2341 2017-01-02 2025-12-31 17e8ef47d13d941c844e079cd41fa0222d19166f6a8dab5514a6c02584291df2
"""
PROVENANCE_FILES: dict[str, tuple[int, str, str, str]] = {
    f[0]: (int(f[1]), f[2], f[3], f[4]) for f in (ln.split() for ln in _FILES_TABLE.strip().splitlines())
}

# PROVENANCE.md, "Event sanity checks": close-to-close % change vs the previous row, 2 dp ("—" = no row)
SANITY_TABLE = """
date ^HSI 000001.SS ^N225 ^STOXX50E ^STOXX ^GDAXI ^FCHI ^FTSE ^GSPC ACWI URTH CNY=X EURUSD=X
2018-03-22 -1.09 — +0.99 -1.55 -1.55 -1.70 -1.38 -1.23 -2.52 -2.37 -2.22 -0.19 +0.78
2019-05-13 — — -0.72 -1.20 -1.21 -1.52 -1.22 -0.55 -2.41 -2.51 -2.25 -0.05 +0.13
2025-04-03 -1.52 -0.24 -2.77 -3.59 -2.57 -3.01 -3.31 -1.55 -4.84 -3.82 -4.11 -0.03 +1.04
2025-04-04 — — -2.75 -4.60 -5.12 -4.95 -4.26 -4.95 -5.97 -6.12 -6.09 +0.00 +1.24
2025-04-07 -13.22 -7.34 -7.83 -4.55 -4.50 -4.13 -4.78 -4.38 -0.23 -0.97 -0.89 +0.19 -0.54
2025-04-09 +0.68 +1.31 -3.93 -3.17 -3.50 -3.00 -3.34 -2.92 +9.52 +8.79 +8.94 +0.42 +0.60
2025-05-12 +2.98 +0.82 +0.38 +1.56 +1.21 +0.29 +1.37 +0.59 +3.26 +2.43 +2.46 +0.15 +0.05
2025-06-09 +1.63 +0.43 +0.92 — — -0.54 -0.17 -0.06 +0.09 +0.13 +0.05 +0.19 -0.40
"""

# PROVENANCE.md, spot closes quoted in the text
SPOT_CLOSES = [
    ("^HSI", "2025-04-03", 22849.81),
    ("^HSI", "2025-04-07", 19828.30),
    ("^HSI", "2025-05-09", 22867.74),
    ("^HSI", "2025-05-12", 23549.46),
    ("^FCHI", "2025-04-07", 6927.12),
    ("^GDAXI", "2025-04-07", 19789.62),
    ("^FTSE", "2025-04-07", 7702.10),
]


def _sanity() -> list[tuple[str, str, float | None]]:
    lines = [ln for ln in SANITY_TABLE.strip().splitlines()]
    head = lines[0].split()
    out = []
    for ln in lines[1:]:
        cells = ln.split()
        for sym, val in zip(head[1:], cells[1:], strict=True):
            out.append((cells[0], sym, None if val == "—" else float(val)))
    return out


@pytest.fixture(scope="module")
def snapshot() -> Prices:
    return load_prices()


# ------------------------------------------------------------------ snapshot
def test_snapshot_has_all_13_symbols(snapshot: Prices) -> None:
    assert sorted(snapshot.symbols) == sorted(PROVENANCE_FILES)
    assert snapshot.source == "snapshot"


def test_snapshot_is_a_package_resource_and_checksum_matches() -> None:
    pkg = resources.files("eventstudy")
    manifest = json.loads(pkg.joinpath("data/snapshot/manifest.json").read_text("utf-8"))
    data = pkg.joinpath(f"data/snapshot/{manifest['file']}").read_bytes()
    assert hashlib.sha256(data).hexdigest() == manifest["sha256"]
    assert pkg.joinpath("data/snapshot/PROVENANCE.md").is_file()
    # the data really is the documented long layout, readable without our code
    text = gzip.decompress(data).decode("utf-8")
    header = text.splitlines()[0].split(",")
    assert set(header) == {"symbol", "date", "close"}


def test_manifest_matches_provenance() -> None:
    pkg = resources.files("eventstudy")
    manifest = json.loads(pkg.joinpath("data/snapshot/manifest.json").read_text("utf-8"))
    prov = pkg.joinpath("data/snapshot/PROVENANCE.md").read_text("utf-8")
    assert set(manifest["symbols"]) == set(PROVENANCE_FILES)
    for sym, (rows, first, last, sha) in PROVENANCE_FILES.items():
        m = manifest["symbols"][sym]
        assert (m["rows"], m["first"], m["last"], m["source_sha256"]) == (rows, first, last, sha), sym
        assert sha in prov


def _is_fx(sym: str) -> bool:
    return sym.endswith("=X")


def _prev_weekday(day: str) -> str:
    """The business day before ``day`` (Mon → Fri)."""
    d = date.fromisoformat(day) - timedelta(days=1)
    while d.weekday() >= 5:
        d -= timedelta(days=1)
    return d.isoformat()


def _loaded_date(sym: str, day: str) -> str:
    """Where the snapshot puts the PROVENANCE row of ``day``.

    Yahoo stamps FX bars with the date of a ~00:00 London snapshot, i.e. the
    previous business day's close (PROVENANCE.md, "FX timing"); the toolkit
    moves FX closes back one business day (eventstudy/sources/fx.py). Other
    series keep their dates.
    """
    return _prev_weekday(day) if _is_fx(sym) else day


@pytest.mark.parametrize("sym", sorted(PROVENANCE_FILES))
def test_snapshot_rows_first_last(snapshot: Prices, sym: str) -> None:
    rows, first, last, _ = PROVENANCE_FILES[sym]
    first, last = _loaded_date(sym, first), _loaded_date(sym, last)
    s = snapshot[sym]
    assert len(s) == rows
    assert str(s.index[0].date()) == first
    assert str(s.index[-1].date()) == last
    assert s.index.is_monotonic_increasing and s.index.is_unique
    assert s.index.tz is None
    assert (s.index == s.index.normalize()).all()
    assert (s.index.day_of_week < 5).all()
    assert np.isfinite(s.to_numpy()).all() and (s.to_numpy() > 0).all()


@pytest.mark.parametrize(("sym", "day", "close"), SPOT_CLOSES)
def test_snapshot_spot_closes(snapshot: Prices, sym: str, day: str, close: float) -> None:
    assert snapshot[sym].loc[pd.Timestamp(day)] == pytest.approx(close, abs=0.005)


def test_snapshot_daily_changes_match_provenance_table(snapshot: Prices) -> None:
    for day, sym, pct in _sanity():
        s = snapshot[sym]
        ts = pd.Timestamp(_loaded_date(sym, day))
        if pct is None:
            assert ts not in s.index, (sym, day)
            continue
        i = s.index.get_loc(ts)
        change = 100 * (s.iloc[i] / s.iloc[i - 1] - 1)
        assert round(change, 2) == pytest.approx(pct, abs=0.0051), (sym, day, change)


# PROVENANCE.md, "FX timing": Yahoo's CNY=X shows 6.9392 on 2019-08-05 and 7.0497 on 08-06 (the yuan
# broke 7.0 during Asian trading on Monday 08-05); EUR/USD's jump after the 2025-04-02 announcement
# appears on 2025-04-03 (1.0909). Moved to the business day they close:
FX_SPOTS = [
    ("CNY=X", "2019-08-02", 6.9392),
    ("CNY=X", "2019-08-05", 7.0497),
    ("EURUSD=X", "2025-04-02", 1.0909),
]


@pytest.mark.parametrize(("sym", "day", "close"), FX_SPOTS)
def test_snapshot_fx_closes_on_the_business_day_they_close(
    snapshot: Prices, sym: str, day: str, close: float
) -> None:
    assert snapshot[sym].loc[pd.Timestamp(day)] == pytest.approx(close, abs=5e-5)


def test_snapshot_hk_2023_closures_have_no_rows(snapshot: Prices) -> None:
    hsi = snapshot["^HSI"]
    for d in ("2023-09-01", "2023-09-08", "2025-04-04", "2025-12-25"):
        assert pd.Timestamp(d) not in hsi.index


def test_snapshot_select_and_unknown_symbol() -> None:
    p = load_prices(["^HSI", "ACWI"])
    assert p.symbols == ["^HSI", "ACWI"]
    with pytest.raises(PricesError) as ei:
        load_prices(["^HSI", "NOPE"])
    assert "NOPE" in str(ei.value)
    assert isinstance(ei.value, ValueError)
    with pytest.raises(PricesError):
        p["^GDAXI"]


def test_snapshot_source_object_and_clip() -> None:
    p = SnapshotSource().load(["^HSI"], start=pd.Timestamp("2025-04-01"), end=pd.Timestamp("2025-04-30"))
    s = p["^HSI"]
    assert str(s.index[0].date()) == "2025-04-01"
    assert str(s.index[-1].date()) == "2025-04-30"
    assert pd.Timestamp("2025-04-04") not in s.index


def test_load_prices_rejects_unknown_source() -> None:
    with pytest.raises(InputError, match="bogus"):
        load_prices(["^HSI"], source="bogus")  # type: ignore[arg-type]
    with pytest.raises(InputError):
        load_prices(["^HSI"], source="csv")


def test_prices_are_immutable(snapshot: Prices) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        snapshot.source = "x"  # type: ignore[misc]


def test_snapshot_works_from_another_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert len(load_prices(["^GDAXI"])["^GDAXI"]) == PROVENANCE_FILES["^GDAXI"][0]


@pytest.mark.slow  # another interpreter importing from a zip
def test_snapshot_loads_from_a_zipped_package(tmp_path: Path) -> None:
    """importlib.resources, not file paths: the snapshot loads when the package is imported from a zip."""
    archive = tmp_path / "eventstudy.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for p in (REPO / "eventstudy").rglob("*"):
            if p.is_file() and "__pycache__" not in p.parts:
                z.write(p, p.relative_to(REPO).as_posix())
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); import eventstudy as es; "
        "assert es.__file__.startswith(sys.argv[1]), es.__file__; p = es.load_prices(); "
        "print(len(p.symbols), repr(float(p['^HSI'].loc['2025-05-12'])))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(archive)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["13", "23549.46"]


# ------------------------------------------------------------------ CSV files
SYMS = ["^HSI", "^GDAXI"]


def _write_wide(path: Path, prices: Prices, syms: list[str]) -> None:
    dates = sorted(set().union(*[set(prices[s].index) for s in syms]))
    lines = ["date," + ",".join(syms)]
    for d in dates:
        cells = [repr(float(prices[s].loc[d])) if d in prices[s].index else "" for s in syms]
        lines.append(f"{d.date()}," + ",".join(cells))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _write_long(path: Path, prices: Prices, syms: list[str]) -> None:
    lines = ["date,symbol,close,volume"]
    # interleaved and in reverse date order: layout and order must not matter
    rows = [(d, s, v) for s in syms for d, v in prices[s].items()]
    rows.sort(key=lambda r: (r[0], r[1]), reverse=True)
    lines += [f"{d.date()},{s},{float(v)!r},1000" for d, s, v in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.fixture(scope="module")
def csv_pair(tmp_path_factory: pytest.TempPathFactory, snapshot: Prices) -> tuple[Prices, Prices, Path, Path]:
    d = tmp_path_factory.mktemp("prices")
    sub = snapshot.select(SYMS)
    wide_p, long_p = d / "wide.csv", d / "long.csv"
    _write_wide(wide_p, sub, SYMS)
    _write_long(long_p, sub, SYMS)
    return (
        load_prices(source="csv", path=wide_p),
        load_prices(source="csv", path=long_p),
        wide_p,
        long_p,
    )


def test_wide_and_long_give_identical_prices(
    csv_pair: tuple[Prices, Prices, Path, Path], snapshot: Prices
) -> None:
    wide, long_, wide_p, long_p = csv_pair
    assert sorted(wide.symbols) == sorted(long_.symbols) == sorted(SYMS)
    for s in SYMS:
        pd.testing.assert_series_equal(wide[s], long_[s])
        pd.testing.assert_series_equal(wide[s], snapshot[s], check_names=False)
    assert wide.source == long_.source == "csv"
    assert str(wide_p) in wide.origin and str(long_p) in long_.origin


def test_wide_and_long_have_identical_sha256(
    csv_pair: tuple[Prices, Prices, Path, Path], snapshot: Prices
) -> None:
    wide, long_, wide_p, long_p = csv_pair
    h = wide.sha256(SYMS)
    assert len(h) == 64 and int(h, 16) >= 0
    assert h == long_.sha256(SYMS) == wide.sha256() == long_.sha256()
    assert h == snapshot.sha256(SYMS)
    # but the files themselves differ, and a different set of series hashes differently
    assert wide_p.read_bytes() != long_p.read_bytes()
    assert wide.sha256(["^HSI"]) != h
    assert snapshot.sha256(["^HSI", "^FTSE"]) != h


def test_wide_and_long_give_identical_study_results(
    csv_pair: tuple[Prices, Prices, Path, Path], snapshot: Prices
) -> None:
    ev = events_from_records(
        [
            {"event_id": "libday", "timestamp": "2025-04-02T20:35Z", "title": "Liberation Day"},
            {"event_id": "bj34", "timestamp": "2025-04-04", "tz": "Asia/Shanghai", "title": "Beijing 34%"},
            {"event_id": "geneva", "timestamp": "2025-05-12T07:00Z", "title": "Geneva"},
        ]
    )
    wide, long_, _, _ = csv_pair
    kw = {"window": (-5, 5), "car_windows": [(0, 0), (-1, 1)], "tests": ["csect_t"], "symbols": SYMS}
    car_w = EventStudy(ev, wide, **kw).run().car()  # type: ignore[arg-type]
    car_l = EventStudy(ev, long_, **kw).run().car()  # type: ignore[arg-type]
    car_s = EventStudy(ev, snapshot.select(SYMS), **kw).run().car()  # type: ignore[arg-type]
    assert len(car_w) == 3 * 2 * 2
    pd.testing.assert_frame_equal(car_w, car_l)
    pd.testing.assert_frame_equal(car_w, car_s)


def test_semicolon_and_bom_csv(tmp_path: Path) -> None:
    p = tmp_path / "semi.csv"
    p.write_bytes(b"\xef\xbb\xbfdate;IDX\r\n2025-01-03;101.5\r\n2025-01-02;100\r\n")
    s = load_prices(source="csv", path=p)["IDX"]
    assert list(s.index.strftime("%Y-%m-%d")) == ["2025-01-02", "2025-01-03"]
    assert list(s) == [100.0, 101.5]


def test_csv_source_missing_symbol(csv_pair: tuple[Prices, Prices, Path, Path]) -> None:
    _, _, wide_p, _ = csv_pair
    with pytest.raises(PricesError) as ei:
        CsvSource(wide_p).load(["^HSI", "^FTSE"])
    assert "^FTSE" in str(ei.value) and str(wide_p) in str(ei.value)


# ------------------------------------------------------------------ CSV errors
def _check(path: Path, line: int | None, column: str | None, fragment: str) -> None:
    with pytest.raises(PricesError) as ei:
        load_prices(source="csv", path=path)
    exc = ei.value
    assert isinstance(exc, ValueError)
    msg = str(exc)
    assert "\n" not in msg, msg
    assert str(path) in msg, msg
    if line is not None:
        assert f"line {line}" in msg, msg
    if column is not None:
        assert column in msg, msg
    assert fragment in msg, msg


# (case id, file text, line, column, fragment)
CSV_ERRORS: list[tuple[str, str, int | None, str | None, str]] = [
    ("non-numeric-wide", "date,A,B\n2025-01-02,1.0,2.0\n2025-01-03,abc,2.1\n", 3, "A", "abc"),
    (
        "non-numeric-long",
        "date,symbol,close\n2025-01-02,A,1\n2025-01-03,A,1\n2025-01-06,A,n/a\n",
        4,
        "close",
        "n/a",
    ),
    (
        "zero-price",
        "date,A,B\n2025-01-02,1.0,2.0\n2025-01-03,1.1,2.1\n2025-01-06,1.2,0\n",
        4,
        "B",
        "positive",
    ),
    ("negative-price", "date,symbol,close\n2025-01-02,A,1\n2025-01-03,A,-5\n", 3, "close", "positive"),
    ("duplicate-date-wide", "date,A\n2025-01-02,1\n2025-01-03,2\n2025-01-03,3\n", 4, "date", "2025-01-03"),
    (
        "duplicate-date-long",
        "date,symbol,close\n2025-01-02,A,1\n2025-01-02,B,1\n2025-01-02,A,2\n",
        4,
        "date",
        "2025-01-02",
    ),
    ("bad-date", "date,A\n2025-01-02,1\n2025-13-01,2\n", 3, "date", "2025-13-01"),
    ("missing-date-column", "day,A,B\n2025-01-02,1,2\n", 1, None, "date"),
    ("header-only", "date,A,B\n", None, None, "no rows"),
    ("empty-file", "", None, None, "empty"),
    ("no-price-columns", "date\n2025-01-02\n", None, None, "column"),
    ("empty-symbol-long", "date,symbol,close\n2025-01-02,,1\n", 2, "symbol", "symbol"),
]


@pytest.mark.parametrize(
    ("text", "line", "column", "fragment"), [pytest.param(*c[1:], id=c[0]) for c in CSV_ERRORS]
)
def test_csv_errors_name_file_line_column(
    tmp_path: Path, text: str, line: int | None, column: str | None, fragment: str
) -> None:
    p = tmp_path / "my prices.csv"
    p.write_text(text, encoding="utf-8")
    _check(p, line, column, fragment)


def test_csv_missing_file(tmp_path: Path) -> None:
    _check(tmp_path / "absent.csv", None, None, "not found")


def test_csv_binary_and_non_utf8(tmp_path: Path) -> None:
    b = tmp_path / "bin.csv"
    b.write_bytes(b"\x00\x01\x02PK\x03\x04" * 50)
    _check(b, None, None, "binary")
    n = tmp_path / "latin.csv"
    n.write_bytes("date,Caf\xe9\n2025-01-02,1\n".encode("latin-1"))
    _check(n, None, None, "UTF-8")


def test_csv_error_line_after_blank_line(tmp_path: Path) -> None:
    p = tmp_path / "blank.csv"
    p.write_text("date,A\n2025-01-02,1\n\n2025-01-03,abc\n", encoding="utf-8")
    _check(p, 4, "A", "abc")


def test_csv_duplicate_date_rows_with_complementary_cells(tmp_path: Path) -> None:
    p = tmp_path / "dup.csv"
    p.write_text("date,A,B\n2025-01-02,1,\n2025-01-02,,2\n2025-01-03,1,2\n", encoding="utf-8")
    _check(p, 3, "date", "2025-01-02")
