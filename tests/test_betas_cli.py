"""Non-synchronous betas through the command line, study.toml and executors (snapshot data, offline)."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import EVENTS_CSV
from typer.testing import CliRunner

import eventstudy as es
from eventstudy.cli import app

runner = CliRunner()
WINDOW = ["--start", "2025-01-01", "--end", "2025-06-30"]


def test_toml_keys_and_fits_columns(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "study.toml").write_text(
        '[study]\nmodel = "market"\nbenchmark = "ACWI"\nbeta = "dimson"\nlags = 2\n'
        'symbols = ["^HSI", "^GSPC"]\n'
    )
    r = runner.invoke(
        app, ["run", "--config", "study.toml", "--events", str(EVENTS_CSV), *WINDOW, "--out", "o"]
    )
    assert r.exit_code == 0, r.output
    fits = pd.read_csv(tmp_path / "o" / "fits.csv")
    inc = fits[~fits["excluded"]]
    assert {"beta", "beta_lag1", "beta_lag2", "beta_sum"} <= set(fits.columns)
    np.testing.assert_allclose(
        inc["beta_sum"], inc[["beta", "beta_lag1", "beta_lag2"]].sum(axis=1), rtol=1e-6
    )
    man = json.loads((tmp_path / "o" / "study.json").read_text())
    assert man["parameters"]["beta"] == "dimson" and man["parameters"]["lags"] == 2
    align = man["benchmark_alignment"]
    assert align["^HSI"]["benchmark_closes_later"] and not align["^GSPC"]["benchmark_closes_later"]
    assert "lag 2" in align["^HSI"]["model_uses"]
    html = (tmp_path / "o" / "index.html").read_text()
    assert "Benchmark alignment" in html and "table-benchmark-alignment" in html


@pytest.mark.parametrize(
    ("args", "word"),
    [(["--beta", "dimsen"], "beta"), (["--beta", "scholes-williams", "--lags", "2"], "lags")],
)
def test_bad_options_are_usage_errors(args: list[str], word: str) -> None:
    r = runner.invoke(app, ["run", "--model", "market", "--benchmark", "ACWI", *args])
    assert r.exit_code == 2
    assert f"{word}:" in r.output


def test_threads_and_chunks_give_the_serial_numbers() -> None:
    """Default betas on a mix of markets (Dimson for Hong Kong and London, OLS for New York)."""
    ev = es.read_events(EVENTS_CSV).filter(start="2024-06-01")
    prices = es.load_prices(["^HSI", "^FTSE", "^GSPC", "ACWI"], source="snapshot")
    study = es.EventStudy(ev, prices, model="market", benchmark="ACWI", tests=["csect_t", "grank_t"])
    serial = study.run()
    with ThreadPoolExecutor(2) as ex:
        par = study.run(executor=ex, chunk_size=7)
    pd.testing.assert_frame_equal(serial.car(), par.car())
    pd.testing.assert_frame_equal(serial.fits, par.fits)
    f = serial.fits[~serial.fits["excluded"]]
    assert f.loc[f["symbol"] == "^GSPC", "beta_lag1"].isna().all()
    assert f.loc[f["symbol"] != "^GSPC", "beta_lag1"].notna().all()
    # the New York market's OLS inside the mixed study equals a plain OLS study
    ols = es.EventStudy(ev, prices, model="market", benchmark="ACWI", tests=["csect_t"], beta="ols").run()
    ny_a, ny_b = serial.car()["symbol"] == "^GSPC", ols.car()["symbol"] == "^GSPC"
    np.testing.assert_allclose(serial.car()[ny_a]["se"], ols.car()[ny_b]["se"], rtol=1e-10)
    np.testing.assert_allclose(serial.car()[ny_a]["car"], ols.car()[ny_b]["car"], rtol=1e-9, atol=1e-13)
    pairs = study.run(detail="pairs")
    pd.testing.assert_frame_equal(serial.car()[["car", "se"]], pairs.car()[["car", "se"]])
