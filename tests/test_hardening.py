"""Bad input, faults and interrupts: clear one-line errors, nothing half-written."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from typer.testing import CliRunner

import eventstudy as es
from eventstudy.cli import app
from eventstudy.errors import EventStudyError, PricesError
from eventstudy.output import MARKER, atomic_folder

runner = CliRunner()
EVENTS = "event_id,timestamp,title\ne1,2021-03-04T12:00Z,one\ne2,2021-06-10,two\n"


def _wide_prices(path: Path, n: int = 400) -> Path:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    d = pd.bdate_range("2020-01-01", periods=n)
    a = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    b = 50 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    pd.DataFrame({"date": d.strftime("%Y-%m-%d"), "AAA": a.round(4), "BBB": b.round(4)}).to_csv(
        path, index=False
    )
    return path


def _run(tmp_path: Path, prices_text: str, *extra: str) -> tuple[int, str]:
    (tmp_path / "ev.csv").write_text(EVENTS)
    (tmp_path / "px.csv").write_text(prices_text)
    r = runner.invoke(
        app,
        [
            "run",
            "--events",
            str(tmp_path / "ev.csv"),
            "--prices",
            str(tmp_path / "px.csv"),
            "--out",
            str(tmp_path / "o"),
            *extra,
        ],
    )
    return r.exit_code, r.stderr


@pytest.mark.parametrize(
    ("text", "fragments"),
    [
        ("date,AAA\n2021-01-04,100\n2021-01-05,abc\n", ["line 3", "'AAA'", "not a number"]),
        ("date,AAA\n2021-01-04,100\n2021-01-05,0\n", ["line 3", "not positive"]),
        ("date,AAA\n2021-01-04,100\n2021-01-05,-3\n", ["line 3", "not positive"]),
        ("date,AAA\n2021-01-04,100\n2021-01-04,101\n", ["line 3", "duplicate date"]),
        ("date,AAA\n", ["no rows"]),
        ("date,AAA\n2021-01-04,100\n", ["excluded"]),
    ],
)
def test_bad_price_files_through_the_cli(tmp_path: Path, text: str, fragments: list[str]) -> None:
    code, err = _run(tmp_path, text)
    assert code == 1
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    for f in fragments:
        assert f in err
    assert not (tmp_path / "o").exists()


def test_bad_price_file_through_the_library(tmp_path: Path) -> None:
    p = tmp_path / "px.csv"
    p.write_text("date,AAA\n2021-01-04,100\n2021-01-05,abc\n")
    with pytest.raises(PricesError, match="line 3"):
        es.load_prices(source="csv", path=p)


def test_events_outside_the_data_are_excluded_with_reasons(tmp_path: Path) -> None:
    px = _wide_prices(tmp_path / "px.csv")
    ev = es.events_from_records(
        [
            {"event_id": "early", "timestamp": "2019-06-03T12:00Z", "title": "before any price"},
            {"event_id": "late", "timestamp": "2030-01-02T12:00Z", "title": "after the last price"},
            {"event_id": "ok", "timestamp": "2021-03-04T12:00Z", "title": "inside"},
        ]
    )
    res = es.EventStudy(ev, es.load_prices(source="csv", path=px)).run()
    reasons = res.excluded.set_index(["event_id", "symbol"])["reason"]
    assert "before the first price" in reasons[("early", "AAA")]
    assert "after the last price" in reasons[("late", "AAA")]
    assert set(res.car()["event_id"]) == {"ok"}


def test_debug_shows_a_traceback(tmp_path: Path) -> None:
    r = runner.invoke(app, ["run", "--events", str(tmp_path / "missing.csv"), "--debug"])
    assert r.exit_code != 0 and isinstance(r.exception, EventStudyError)


def _tree_hash(folder: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(folder.rglob("*")):
        h.update(str(p.relative_to(folder)).encode())
        if p.is_file():
            h.update(p.read_bytes())
    return h.hexdigest()


def test_interrupt_leaves_no_partial_folder_and_keeps_the_old_one(tmp_path: Path) -> None:
    target = tmp_path / "study"
    target.mkdir()
    (target / "car.csv").write_text("old\n")
    (target / MARKER).write_text("an earlier study\n")
    before = _tree_hash(target)
    with pytest.raises(KeyboardInterrupt), atomic_folder(target) as tmp:
        (tmp / "car.csv").write_text("new\n")
        raise KeyboardInterrupt
    assert _tree_hash(target) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["study"]  # no temporary folder left


def test_missing_session_is_reported_and_can_be_dropped() -> None:
    ev = es.read_events().filter(start="2025-06-01", end="2025-06-30")
    prices = es.load_prices(["^STOXX50E"])
    keep = es.EventStudy(ev, prices).run()
    gaps = keep.manifest["data_quality"]["^STOXX50E"]["multi_session_returns"]
    assert {"date": "2025-06-10", "from": "2025-06-06", "sessions": 2} in gaps
    ar = keep.abnormal_returns
    assert ar.loc[ar["date"] == "2025-06-10", "return"].notna().all()
    dropped = es.EventStudy(ev, prices, gaps="drop").run().abnormal_returns
    assert dropped.loc[dropped["date"] == "2025-06-10", "return"].isna().all()


def test_yahoo_source_offline_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from eventstudy.errors import NetworkError
    from eventstudy.sources import yahoo

    def offline(*_a: object, **_k: object) -> object:
        raise NetworkError("cannot reach Yahoo Finance (no network); use --source snapshot, or the cache")

    monkeypatch.setenv("EVENTSTUDY_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(yahoo.YahooSource, "load", offline)
    monkeypatch.chdir(tmp_path)
    r = runner.invoke(app, ["run", "--source", "yahoo", "--symbols", "^HSI"])
    assert r.exit_code == 1
    assert r.stderr.count("\n") == 1 and "cannot reach Yahoo Finance" in r.stderr
    assert not (tmp_path / "reports").exists()


def test_lenient_drops_bad_rows_and_lists_them(tmp_path: Path) -> None:
    px = _wide_prices(tmp_path / "px.csv")
    lines = px.read_text().splitlines()
    lines[5] = lines[5].split(",")[0] + ",abc," + lines[5].split(",")[2]  # text in AAA, line 6
    lines[9] = lines[9].split(",")[0] + ",0," + lines[9].split(",")[2]  # zero in AAA, line 10
    lines.insert(20, lines[19])  # duplicate date, new line 21
    px.write_text("\n".join(lines) + "\n")
    (tmp_path / "ev.csv").write_text(EVENTS)
    strict = runner.invoke(
        app, ["run", "--events", str(tmp_path / "ev.csv"), "--prices", str(px), "--out", str(tmp_path / "s")]
    )
    assert strict.exit_code == 1 and "line 21" in strict.stderr
    r = runner.invoke(
        app,
        [
            "run",
            "--events",
            str(tmp_path / "ev.csv"),
            "--prices",
            str(px),
            "--out",
            str(tmp_path / "o"),
            "--lenient",
        ],
    )
    assert r.exit_code == 0, r.output
    import json

    dq = json.loads((tmp_path / "o" / "study.json").read_text())["data_quality"]["dropped_rows"]
    got = {(d["line"], d["column"], d["problem"]) for d in dq}
    assert (6, "AAA", "not a number") in got
    assert (10, "AAA", "not positive") in got
    assert any(d["line"] == 21 and d["problem"] == "duplicate date" for d in dq)
    lib = es.load_prices(source="csv", path=px, lenient=True)
    assert lib["AAA"].index.is_unique and (lib["AAA"] > 0).all()
