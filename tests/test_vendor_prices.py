"""Single-series vendor price files (Yahoo's OHLCV export, Date,Close) and several files at once."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import eventstudy as es
from eventstudy.cli import app


@pytest.fixture(scope="module")
def snap() -> es.Prices:
    return es.load_prices(["^HSI", "^GDAXI", "ACWI"], source="snapshot")


def _yahoo(c: pd.Series, adj: pd.Series | None = None, null_rows: int = 0) -> pd.DataFrame:
    """A Yahoo Finance export of the closes ``c``: Close is ``c`` scaled away, Adj Close is ``adj``."""
    df = pd.DataFrame(
        {
            "Date": c.index.strftime("%Y-%m-%d"),
            "Open": c.to_numpy() * 0.99,
            "High": c.to_numpy() * 1.02,
            "Low": c.to_numpy() * 0.98,
            "Close": c.to_numpy() * 1.5,  # differs from Adj Close, so the choice shows
            "Adj Close": (c if adj is None else adj).to_numpy(),
            "Volume": 0,  # zero volume (an index) must not count as a price
        }
    ).astype({"Adj Close": object, "Close": object})
    if null_rows:  # Yahoo writes null on days without a quote
        extra = pd.DataFrame({k: ["null"] * null_rows for k in df.columns})
        extra["Date"] = pd.bdate_range("2030-01-01", periods=null_rows).strftime("%Y-%m-%d")
        df = pd.concat([df, extra], ignore_index=True)
    return df


def test_yahoo_export_is_one_series_named_by_the_file(tmp_path: Path, snap: es.Prices) -> None:
    p = tmp_path / "^HSI.csv"
    _yahoo(snap["^HSI"], null_rows=2).to_csv(p, index=False)
    got = es.load_prices(source="csv", path=p)
    assert got.symbols == ["^HSI"]
    pd.testing.assert_series_equal(got["^HSI"], snap["^HSI"], check_names=False, check_freq=False)
    notes = got.provenance["notes"]
    assert "symbol '^HSI' from the file name" in notes[0] and "'Adj Close'" in notes[0]  # type: ignore[index]


def test_date_close_file_and_a_wide_file_stay_apart(tmp_path: Path, snap: es.Prices) -> None:
    c = snap["ACWI"]
    p = tmp_path / "ACWI.csv"
    pd.DataFrame({"Date": c.index.strftime("%Y-%m-%d"), "Close": c.to_numpy()}).to_csv(p, index=False)
    got = es.load_prices(source="csv", path=p)
    assert got.symbols == ["ACWI"] and "closes from 'Close'" in got.provenance["notes"][0]  # type: ignore[index]
    np.testing.assert_array_equal(got["ACWI"].to_numpy(), c.to_numpy())
    wide = tmp_path / "wide.csv"
    pd.DataFrame({"date": c.index.strftime("%Y-%m-%d"), "AAA": c.to_numpy(), "Close2": c.to_numpy()}).to_csv(
        wide, index=False
    )
    assert es.load_prices(source="csv", path=wide).symbols == ["AAA", "Close2"]


def test_several_files_give_the_snapshot_study(tmp_path: Path, snap: es.Prices) -> None:
    paths = []
    for s in snap.symbols:
        p = tmp_path / f"{s}.csv"
        _yahoo(snap[s]).to_csv(p, index=False)
        paths.append(p)
    files = es.load_prices(source="csv", path=paths)
    assert files.symbols == snap.symbols
    ev = es.read_events().filter(start="2024-01-01")
    a = es.EventStudy(ev, snap, model="market", benchmark="ACWI", draws=99).run()
    b = es.EventStudy(ev, files, model="market", benchmark="ACWI", draws=99).run()
    for name in ("car.csv", "tests.csv", "headlines.csv"):
        pd.testing.assert_frame_equal(a.tables()[name], b.tables()[name], check_exact=True, obj=name)
    assert sum("from the file name" in n for n in b.notes) == 3
    with pytest.raises(es.PricesError, match=r"symbol '\^HSI' is in two price files"):
        es.load_prices(source="csv", path=[paths[0], paths[0]])
    with pytest.raises(es.PricesError, match="not in the price files"):
        es.load_prices(["^N225"], source="csv", path=paths)


def test_cli_repeated_prices(tmp_path: Path, snap: es.Prices) -> None:
    args = ["run", "--model", "market", "--benchmark", "ACWI", "--start", "2024-01-01"]
    for s in snap.symbols:
        p = tmp_path / f"{s}.csv"
        _yahoo(snap[s]).to_csv(p, index=False)
        args += ["--prices", str(p)]
    r = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "out")], env={"COLUMNS": "200"})
    assert r.exit_code == 0, r.output
    assert "closes from 'Adj Close'" in r.output
    car = pd.read_csv(tmp_path / "out" / "car.csv")
    assert set(car["symbol"]) == {"^HSI", "^GDAXI"}
