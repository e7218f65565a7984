"""Hostile inputs: silently-wrong data refused, blocking or huge files refused fast.

Companion of ``test_hostile.py`` (outputs, faults and interrupts).
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import eventstudy as es
from eventstudy.cli import app
from eventstudy.errors import EventsFileError, InputError, PricesError

runner = CliRunner()
EVENTS = "event_id,timestamp,title\ne1,2021-03-04T12:00Z,one\ne2,2021-06-10,two\n"


def _wide(n: int = 400, **cols: np.ndarray) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    d = pd.bdate_range("2020-01-01", periods=n)
    out = {"date": d.strftime("%Y-%m-%d")}
    out["AAA"] = (100 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))).round(4)
    out.update({k: v for k, v in cols.items()})
    return pd.DataFrame(out)


def _invoke(*args: str) -> tuple[int, str]:
    r = runner.invoke(app, list(args))
    return r.exit_code, r.stderr


def _one_line(stderr: str) -> None:
    assert "Traceback" not in stderr
    assert len(stderr.strip().splitlines()) == 1, stderr


@pytest.fixture
def events_file(tmp_path: Path) -> Path:
    p = tmp_path / "ev.csv"
    p.write_text(EVENTS)
    return p


# ------------------------------------------------------------------ price headers and values
@pytest.mark.parametrize(
    ("header", "fragment"),
    [
        ("date,AAA,AAA", "appears twice"),
        ("date,AAA, AAA ", "appears twice"),
        ("date,AAA,", "empty name"),
        ("date,AAA,nan", "'nan'"),
        ("date,AAA,NULL", "'NULL'"),
        ('date,AAA,"B\x1b[31mB"', "control characters"),
        ('date,AAA,"B\nB"', "control characters"),
    ],
)
def test_bad_price_headers_are_refused(tmp_path: Path, events_file: Path, header: str, fragment: str) -> None:
    rows = "\n".join(f"2020-01-{d:02d},{100 + d},{50 + d}" for d in range(1, 29))
    (tmp_path / "px.csv").write_text(header + "\n" + rows + "\n")
    code, err = _invoke("run", "--events", str(events_file), "--prices", str(tmp_path / "px.csv"))
    assert code == 1
    _one_line(err)
    assert "line 1" in err and fragment in err
    assert "\x1b" not in err


@pytest.mark.parametrize("value", ["1e-300", "1e300", "1e-9", "2e12"])
def test_implausible_prices_are_refused_with_line_and_column(tmp_path: Path, value: str) -> None:
    df = _wide(50).astype({"AAA": str})
    df.loc[10, "AAA"] = value
    df.to_csv(tmp_path / "px.csv", index=False)
    with pytest.raises(PricesError, match=r"line 12, column 'AAA'.*plausible range"):
        es.load_prices(source="csv", path=tmp_path / "px.csv")


def test_lenient_drops_implausible_prices_and_returns_stay_finite(tmp_path: Path) -> None:
    df = _wide(50).astype({"AAA": str})
    df.loc[10, "AAA"] = "1e-300"
    df.to_csv(tmp_path / "px.csv", index=False)
    p = es.load_prices(source="csv", path=tmp_path / "px.csv", lenient=True)
    assert len(p["AAA"]) == 49 and np.isfinite(np.diff(np.log(p["AAA"].to_numpy()))).all()
    assert p.provenance["dropped_rows"][0]["line"] == 12


def test_long_layout_refuses_nan_symbols(tmp_path: Path) -> None:
    (tmp_path / "px.csv").write_text("date,symbol,close\n2020-01-01,nan,1\n2020-01-02,nan,2\n")
    with pytest.raises(PricesError, match="line 2, column 'symbol'"):
        es.load_prices(source="csv", path=tmp_path / "px.csv")


def test_parquet_with_two_level_header_or_no_date_is_one_error(tmp_path: Path) -> None:
    df = _wide(30).set_index("date")
    df.columns = pd.MultiIndex.from_tuples([("close", "AAA")])
    df.to_parquet(tmp_path / "two.parquet")
    with pytest.raises(PricesError, match="multi-level header"):
        es.load_prices(source="csv", path=tmp_path / "two.parquet")
    pd.DataFrame({"AAA": [1.0, 2.0]}).to_parquet(tmp_path / "nodate.parquet", index=False)
    with pytest.raises(PricesError, match="date"):
        es.load_prices(source="csv", path=tmp_path / "nodate.parquet")


def test_zero_variance_pair_is_excluded_with_a_reason(tmp_path: Path) -> None:
    _wide(400, FLAT=np.full(400, 50.0)).to_csv(tmp_path / "px.csv", index=False)
    ev = es.events_from_records([{"event_id": "e1", "timestamp": "2021-03-04T12:00Z", "title": "x"}])
    res = es.EventStudy(ev, es.load_prices(source="csv", path=tmp_path / "px.csv")).run()
    fits = res.fits.set_index("symbol")
    assert bool(fits.loc["FLAT", "excluded"]) and "zero variance" in fits.loc["FLAT", "reason"]
    assert not bool(fits.loc["AAA", "excluded"])
    assert set(res.car()["symbol"]) == {"AAA"}
    assert res.manifest["counts"]["excluded"] == 1


# ------------------------------------------------------------------ event symbols
def test_unknown_event_symbol_names_file_line_and_column(tmp_path: Path) -> None:
    (tmp_path / "ev.csv").write_text(
        "event_id,timestamp,title,symbols\ne1,2021-03-04T12:00Z,one,\ne2,2021-06-10,two,^HSI HSI\n"
    )
    code, err = _invoke("run", "--events", str(tmp_path / "ev.csv"), "--symbols", "^HSI")
    assert code == 1
    _one_line(err)
    assert "ev.csv, line 3, column 'symbols'" in err and "'HSI'" in err
    ev = es.read_events(tmp_path / "ev.csv")
    with pytest.raises(EventsFileError, match="line 3"):
        es.EventStudy(ev, es.load_prices(["^HSI"]))


def test_event_for_a_market_not_studied_is_counted_and_warned(tmp_path: Path) -> None:
    (tmp_path / "ev.csv").write_text(
        "event_id,timestamp,title,symbols\ne1,2021-03-04T12:00Z,one,\ne2,2021-06-10,two,^GDAXI\n"
    )
    code, err = _invoke(
        "run", "--events", str(tmp_path / "ev.csv"), "--symbols", "^HSI", "--out", str(tmp_path / "o")
    )
    assert code == 0, err
    assert "1 event(s) apply only to markets not studied (e2)" in err
    import json

    man = json.loads((tmp_path / "o" / "study.json").read_text())
    assert man["events_not_studied"] == ["e2"]


@pytest.mark.parametrize("tz", ["America", "../../etc/passwd", "Not/AZone", "a" * 300])
def test_bad_tz_values_are_one_line(tmp_path: Path, tz: str) -> None:
    (tmp_path / "ev.csv").write_text(f"event_id,timestamp,title,tz\ne1,2021-03-04,one,{tz}\n")
    code, err = _invoke("events", "validate", str(tmp_path / "ev.csv"))
    assert code == 1
    _one_line(err)
    assert "line 2, column 'tz'" in err


# ------------------------------------------------------------------ non-regular inputs
@pytest.mark.parametrize("which", ["events", "prices", "config"])
def test_fifo_is_refused_within_seconds(tmp_path: Path, events_file: Path, which: str) -> None:
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    args = {
        "events": ["run", "--events", str(fifo)],
        "prices": ["run", "--events", str(events_file), "--prices", str(fifo)],
        "config": ["run", "--config", str(fifo)],
    }[which]
    t0 = time.monotonic()
    code, err = _invoke(*args)
    assert time.monotonic() - t0 < 10
    assert code == 1
    _one_line(err)
    assert "FIFO" in err and "regular file" in err


@pytest.mark.parametrize("which", ["events", "prices"])
def test_dev_zero_symlink_is_refused_within_seconds(tmp_path: Path, events_file: Path, which: str) -> None:
    link = tmp_path / "zero.csv"
    link.symlink_to("/dev/zero")
    args = (
        ["run", "--events", str(link)]
        if which == "events"
        else ["run", "--events", str(events_file), "--prices", str(link)]
    )
    t0 = time.monotonic()
    code, err = _invoke(*args)
    assert time.monotonic() - t0 < 10
    assert code == 1
    _one_line(err)
    assert "device" in err


def test_oversized_input_is_refused_before_reading(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVENTSTUDY_MAX_INPUT_MB", "1")
    big = tmp_path / "big.csv"
    with big.open("wb") as fh:
        fh.truncate(3 << 20)  # sparse: 3 MB of zeros, costs no disk
    with pytest.raises(InputError, match="more than the 1 MB"):
        es.read_events(big)


def test_report_of_a_study_whose_prices_point_at_a_device_is_quick(tmp_path: Path) -> None:
    import json

    px = tmp_path / "px.csv"
    _wide(400).to_csv(px, index=False)
    ev = tmp_path / "ev.csv"
    ev.write_text(EVENTS)
    code, err = _invoke("run", "--events", str(ev), "--prices", str(px), "--out", str(tmp_path / "s"))
    assert code == 0, err
    man_path = tmp_path / "s" / "study.json"
    man = json.loads(man_path.read_text())
    man["prices"]["origin"] = "/dev/zero"
    man_path.write_text(json.dumps(man))
    t0 = time.monotonic()
    code, err = _invoke("report", str(tmp_path / "s"))
    assert time.monotonic() - t0 < 60
    assert code == 0, err  # the report is rendered without the index-level chart
    assert (tmp_path / "s" / "index.html").is_file()


# ------------------------------------------------------------------ config and options
@pytest.mark.parametrize(
    ("toml", "fragment"),
    [
        ('min_estimation = "abc"', "key 'min_estimation' must be a whole number"),
        ("car = 5", "key 'car' must be text"),
        ("symbols = 3", "key 'symbols'"),
        ('model = ["a"]', "key 'model' must be text"),
        ("seed = true", "key 'seed' must be a whole number"),
        ("estimation = [1, 2, 3]", "key 'estimation'"),
        ("[study\n", "not valid TOML"),
    ],
)
def test_study_toml_type_errors_exit_fast(tmp_path: Path, toml: str, fragment: str) -> None:
    cfg = tmp_path / "study.toml"
    cfg.write_text(toml if toml.startswith("[") else f"[study]\n{toml}\n")
    t0 = time.monotonic()
    code, err = _invoke("run", "--config", str(cfg), "--out", str(tmp_path / "o"))
    assert time.monotonic() - t0 < 5  # before any data is read
    assert code == 1
    _one_line(err)
    assert fragment in err and "study.toml" in err
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--seed=-1"], "seed"),
        (["--draws", "1000000000"], "draws"),
        (["--estimation=-99999999999:-11"], "estimation"),
        (["--window=-5:99999999999999999999"], "window"),
        (["--car=0:+100000"], "car"),
        (["--workers", "0"], "workers"),
    ],
)
def test_out_of_range_options_are_usage_errors(tmp_path: Path, args: list[str], fragment: str) -> None:
    t0 = time.monotonic()
    code, err = _invoke("run", *args, "--out", str(tmp_path / "o"))
    assert time.monotonic() - t0 < 5
    assert code == 2
    assert "Traceback" not in err and fragment in err
    assert not (tmp_path / "o").exists()


@pytest.fixture(scope="module")
def saved_study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One small study saved by ``run``; each test damages its own copy."""
    root = tmp_path_factory.mktemp("saved")
    px = root / "px.csv"
    _wide(400).to_csv(px, index=False)
    ev = root / "ev.csv"
    ev.write_text(EVENTS)
    assert _invoke("run", "--events", str(ev), "--prices", str(px), "--out", str(root / "s"))[0] == 0
    return root / "s"


@pytest.mark.parametrize("damage", ["car_columns", "symbols_type", "caar_unterminated", "events_garbage"])
def test_malformed_saved_study_is_one_line(tmp_path: Path, saved_study: Path, damage: str) -> None:
    import json

    s = tmp_path / "s"
    shutil.copytree(saved_study, s)
    if damage == "car_columns":
        pd.read_csv(s / "car.csv").drop(columns=["car", "window"]).to_csv(s / "car.csv", index=False)
    elif damage == "symbols_type":
        man = json.loads((s / "study.json").read_text())
        man["parameters"]["symbols"] = 7
        (s / "study.json").write_text(json.dumps(man))
    elif damage == "caar_unterminated":
        (s / "caar.csv").write_text('group_by,group\n"unterminated\n')
    else:
        (s / "events.csv").write_bytes(b"\x00\xff" * 50)
    before = (s / "index.html").read_bytes()
    code, err = _invoke("report", str(s))
    assert code == 1
    _one_line(err)
    assert "save the study again" in err or "events.csv" in err
    assert (s / "index.html").read_bytes() == before
