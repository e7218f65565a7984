"""The factor model on the bundled prices (against statsmodels) and through the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from conftest import EVENTS_CSV
from factor_reference import Column, check_against_reference, design, sessions
from typer.testing import CliRunner

import eventstudy as es
from eventstudy.cli import app

runner = CliRunner()
WINDOW = ["--start", "2025-01-01", "--end", "2025-06-30"]
CARS = [(0, 0), (0, 1), (-1, 1), (-5, 5)]


@pytest.mark.parametrize(
    ("kw", "cols"),
    [
        ({}, [("ACWI", 0), ("ACWI", 1), ("EURUSD=X", 0)]),
        ({"beta": "dimson", "lags": 1}, [("ACWI", 0), ("ACWI", 1), ("EURUSD=X", 0), ("EURUSD=X", 1)]),
    ],
    ids=["default", "dimson-1"],
)
def test_bundled_prices_equal_statsmodels_pair_by_pair(kw: dict[str, object], cols: list[Column]) -> None:
    """Hong Kong and Frankfurt on ACWI (New York: lagged by default) and EUR/USD (own dates)."""
    events = es.read_events(EVENTS_CSV).filter(start="2024-01-01")
    prices = es.load_prices(["^HSI", "^GDAXI", "ACWI", "EURUSD=X"], source="snapshot")
    res = es.EventStudy(
        events, prices, model="factor", factors=["ACWI", "EURUSD=X"], tests=["csect_t"], **kw
    ).run()
    assert res.symbols == ("^HSI", "^GDAXI")
    assert res.fits["day0_uncertain"].any()  # date-only events: CAR windows extended
    checked = 0
    for sym, code in (("^HSI", "XHKG"), ("^GDAXI", "XETR")):
        grid = sessions(code, "2016-01-01", "2026-12-31")
        # the typhoon closures that exchange_calendars 4.13 lists as sessions (see eventstudy.calendars)
        if code == "XHKG":
            grid = grid.drop(pd.DatetimeIndex(["2023-09-01", "2023-09-08"]))
        d = design(prices[sym], grid, {f: prices[f] for f in ("ACWI", "EURUSD=X")}, cols)
        checked += check_against_reference(res, sym, cols, d, CARS)
    assert checked >= 50


def test_run_writes_named_coefficients(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    args = ["run", "--model", "factor", "--factors", "ACWI,EURUSD=X", "--symbols", "^HSI,^GSPC"]
    r = runner.invoke(app, [*args, "--events", str(EVENTS_CSV), *WINDOW, "--out", "o"])
    assert r.exit_code == 0, r.output
    fits = pd.read_csv(tmp_path / "o" / "fits.csv")
    assert {"b_ACWI", "b_ACWI_lag1", "b_EURUSD=X", "b_ACWI_sum"} <= set(fits.columns)
    inc = fits[~fits["excluded"]]
    # New York closes with ACWI: no lag there; Hong Kong closes before it: lag 1
    assert inc.loc[inc["symbol"] == "^GSPC", "b_ACWI_lag1"].isna().all()
    assert inc.loc[inc["symbol"] == "^HSI", "b_ACWI_lag1"].notna().all()
    man = json.loads((tmp_path / "o" / "study.json").read_text())
    assert man["parameters"]["model"] == "factor"
    assert man["parameters"]["factors"] == ["ACWI", "EURUSD=X"]
    hk = man["factor_alignment"]["^HSI"]["factors"]
    assert hk["ACWI"]["closes_later"] and hk["ACWI"]["terms"] == ["b_ACWI", "b_ACWI_lag1"]
    assert man["factor_alignment"]["^GSPC"]["factors"]["ACWI"]["terms"] == ["b_ACWI"]
    html = (tmp_path / "o" / "index.html").read_text()
    assert "table-factor-alignment" in html and "EUR/USD exchange rate (EURUSD=X)" in html
    # the same study through the library
    lib = es.EventStudy(
        es.read_events(EVENTS_CSV).filter(start="2025-01-01", end="2025-06-30"),
        es.load_prices(["^HSI", "^GSPC", "ACWI", "EURUSD=X"], source="snapshot"),
        model="factor",
        factors=["ACWI", "EURUSD=X"],
        symbols=["^HSI", "^GSPC"],
        tests=["csect_t"],
        mask_events=es.read_events(EVENTS_CSV),  # the command line masks every event of the file
    ).run()
    pd.testing.assert_series_equal(
        lib.fits["b_EURUSD=X"].reset_index(drop=True), fits["b_EURUSD=X"], check_exact=False, rtol=1e-9
    )


def test_study_toml_takes_factors_with_benchmark_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "study.toml").write_text(
        '[study]\nmodel = "factor"\nbenchmark = "ACWI"\nfactors = ["CNY=X"]\nbeta = "dimson"\nlags = 2\n'
        'symbols = ["^HSI"]\n'
    )
    r = runner.invoke(
        app, ["run", "--config", "study.toml", "--events", str(EVENTS_CSV), *WINDOW, "--out", "o"]
    )
    assert r.exit_code == 0, r.output
    fits = pd.read_csv(tmp_path / "o" / "fits.csv")
    terms = [c for c in fits.columns if c.startswith("b_")]
    lags = ["b_ACWI", "b_ACWI_lag1", "b_ACWI_lag2", "b_CNY=X", "b_CNY=X_lag1", "b_CNY=X_lag2"]
    assert terms == [*lags, "b_ACWI_sum", "b_CNY=X_sum"]
    man = json.loads((tmp_path / "o" / "study.json").read_text())
    assert (
        man["parameters"]["factors"] == ["ACWI", "CNY=X"]
        and man["parameters"]["name"] == "factor-acwi+cny=x-dimson2"
    )
    loaded = es.StudyResult.load(tmp_path / "o")
    assert loaded.config.factors == ("ACWI", "CNY=X") and loaded.config.benchmark == "ACWI"


@pytest.mark.parametrize(
    ("args", "code", "word"),
    [
        (["--factors", "ACWI"], 2, "factors: only the factor model"),
        (
            ["--model", "market", "--benchmark", "ACWI", "--factors", "EURUSD=X"],
            2,
            "factors: only the factor",
        ),
        (["--model", "factor"], 2, "factors: model 'factor' needs"),
        (["--model", "factor", "--factors", "ACWI", "--beta", "scholes-williams"], 2, "beta:"),
        (["--model", "factor", "--factors", "ACWI,ACWI"], 2, "factors: 'ACWI' is listed twice"),
        (
            ["--model", "factor", "--factors", "NOPE"],
            1,
            "factors: symbol(s) NOPE not in the bundled snapshot",
        ),
        (
            ["--model", "factor", "--factors", "ACWI,^HSI", "--symbols", "^HSI"],
            1,
            "factors: '^HSI' is also a market",
        ),
    ],
)
def test_bad_factor_options_are_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], code: int, word: str
) -> None:
    monkeypatch.chdir(tmp_path)
    r = runner.invoke(app, ["run", *args, "--events", str(EVENTS_CSV), *WINDOW, "--out", "o"])
    assert r.exit_code == code, r.output
    lines = [ln for ln in r.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and word in lines[0], r.output
    assert "Traceback" not in r.output and not (tmp_path / "o").exists()


def test_event_command_takes_factors() -> None:
    """``eventstudy event`` with the factor model: the same AR as the library's study."""
    args = ["event", "2025-06-10-london-framework", "--symbols", "^HSI,^GDAXI", "--json"]
    r = runner.invoke(app, [*args, "--model", "factor", "--factors", "ACWI,EURUSD=X"])
    assert r.exit_code == 0, r.output
    got = {m["symbol"]: m["ar"] for m in json.loads(r.stdout)["markets"]}
    lib = es.EventStudy(
        es.read_events(EVENTS_CSV),
        es.load_prices(["^HSI", "^GDAXI", "ACWI", "EURUSD=X"], source="snapshot"),
        model="factor",
        factors=["ACWI", "EURUSD=X"],
        symbols=["^HSI", "^GDAXI"],
        tests=["csect_t"],
    ).run()
    ar = lib.abnormal_returns
    day0 = ar[(ar["event_id"] == "2025-06-10-london-framework") & (ar["rel_day"] == 0)].set_index("symbol")
    assert got == pytest.approx(day0["ar"].to_dict(), abs=1e-9)  # the JSON holds 10 digits
    r = runner.invoke(app, ["event", "2025-06-10-london-framework", "--factors", "ACWI"])
    assert r.exit_code == 1 and "factors: only the factor model" in r.output
