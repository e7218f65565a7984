"""A calendar for every series: ``--calendar SYM=MIC``, index aliases, warnings, STOXX days.

Expected sessions come from exchange_calendars called directly.
"""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path
from zoneinfo import ZoneInfo

import exchange_calendars as xcals
import pandas as pd
import pytest
from typer.testing import CliRunner

from eventstudy import EventStudy, events_from_records, load_prices
from eventstudy.calendars import exchange_sessions
from eventstudy.cli import app
from eventstudy.config import StudyConfig
from eventstudy.errors import InputError
from eventstudy.markets import CalendarSpec, calendar_for, parse_calendars

# the London framework: 23:00Z on 10 June 2025 = 07:00 HKT on 11 June, before the Hong Kong open
LONDON = {"event_id": "london", "timestamp": "2025-06-10T23:00Z", "title": "London framework"}
DATED = {"event_id": "dated", "timestamp": "2025-05-20", "tz": "Asia/Shanghai", "title": "A date"}


def _xhkg_day0(ts: str) -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cal = xcals.get_calendar("XHKG", start="2024-01-01", end="2025-12-31")
        return str(cal.minute_to_session(pd.Timestamp(ts), direction="next").date())


@pytest.fixture(scope="module")
def wide_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The snapshot's Hang Seng closes under two other names: an alias and an unknown name."""
    hsi = load_prices(["^HSI"], source="snapshot")["^HSI"]
    hsi = hsi[hsi.index >= "2024-01-01"]
    p = tmp_path_factory.mktemp("prices") / "wide.csv"
    pd.DataFrame(
        {"date": hsi.index.strftime("%Y-%m-%d"), "HSI": hsi.to_numpy(), "MYHK": hsi.to_numpy()}
    ).to_csv(p, index=False)
    return p


def _run(wide_csv: Path, recs: list[dict[str, str]], **kw: object) -> tuple[pd.DataFrame, object]:
    prices = load_prices(source="csv", path=wide_csv)
    res = EventStudy(events_from_records(recs), prices, car_windows=[(0, 0)], **kw).run()  # type: ignore[arg-type]
    return res.car().set_index(["event_id", "symbol"]), res


def test_alias_takes_the_registry_calendar_with_a_note(wide_csv: Path) -> None:
    car, res = _run(wide_csv, [LONDON])
    expected = _xhkg_day0("2025-06-10T23:00Z")
    assert expected == "2025-06-11"
    assert str(pd.Timestamp(car.loc[("london", "HSI"), "day0"]).date()) == expected
    assert res.manifest["alignment"]["calendars"]["HSI"] == "XHKG"  # type: ignore[attr-defined]
    assert any(n.startswith("HSI: read as Hang Seng Index (^HSI), calendar XHKG") for n in res.notes)  # type: ignore[attr-defined]
    # MYHK has no calendar: day 0 is the first data date on or after 10 June (UTC date), with a warning
    assert str(pd.Timestamp(car.loc[("london", "MYHK"), "day0"]).date()) == "2025-06-10"
    (w,) = res.warnings  # type: ignore[attr-defined]
    assert w.startswith("MYHK has no exchange calendar") and "--calendar MYHK=MIC" in w
    assert res.manifest["warnings"] == [w]  # type: ignore[attr-defined]


@pytest.mark.parametrize("calendar", [["MYHK=XHKG"], "MYHK=XHKG", {"MYHK": "XHKG"}, "XHKG"])
def test_per_symbol_and_bare_calendars(wide_csv: Path, calendar: object) -> None:
    car, res = _run(wide_csv, [LONDON, DATED], calendar=calendar)
    assert str(pd.Timestamp(car.loc[("london", "MYHK"), "day0"]).date()) == _xhkg_day0("2025-06-10T23:00Z")
    # the alias is unaffected by a bare calendar, and both agree on a dated event too
    assert car.loc[("dated", "MYHK"), "day0"] == car.loc[("dated", "HSI"), "day0"]
    assert res.warnings == ()  # type: ignore[attr-defined]


def test_no_warning_when_events_have_no_time(wide_csv: Path) -> None:
    _, res = _run(wide_csv, [DATED])
    assert res.warnings == ()  # type: ignore[attr-defined]


def test_per_symbol_calendar_beats_the_alias(wide_csv: Path) -> None:
    car, _ = _run(wide_csv, [LONDON], calendar=["HSI=XNYS"])
    # 23:00Z is after the New York close of 10 June: day 0 is the next New York session
    assert str(pd.Timestamp(car.loc[("london", "HSI"), "day0"]).date()) == "2025-06-11"
    assert calendar_for("HSI", parse_calendars(["HSI=XNYS"])).code == "XNYS"


@pytest.mark.parametrize(
    ("alias", "symbol"),
    [("HSI", "^HSI"), ("SX5E", "^STOXX50E"), ("DAX", "^GDAXI"), ("UKX", "^FTSE"), ("CAC", "^FCHI"),
     ("SPX", "^GSPC"), (".FTSE", "^FTSE"), ("UKX Index", "^FTSE"), ("nky", "^N225"), ("SXXP", "^STOXX")],
)  # fmt: skip
def test_aliases(alias: str, symbol: str) -> None:
    from eventstudy.markets import MARKETS

    choice = calendar_for(alias)
    assert (choice.code, choice.source) == (MARKETS[symbol].calendar, "alias")
    assert symbol in choice.note


def test_unknown_symbol_without_calendar_uses_its_data() -> None:
    assert calendar_for("AAPL").code is None
    assert calendar_for("AAPL", CalendarSpec("XNYS")).code == "XNYS"
    assert calendar_for("CNY=X", CalendarSpec("XNYS")).code is None  # registry FX: own dates


@pytest.mark.parametrize(
    ("value", "words"),
    [("NOPE", "unknown exchange calendar 'NOPE'"), ("=XHKG", "names no symbol"),
     (["XHKG", "XNYS"], "two calendars for every unknown symbol"),
     (["A=XHKG", "A=XNYS"], "two calendars for 'A'")],
)  # fmt: skip
def test_bad_calendar_values_name_the_option(value: object, words: str) -> None:
    with pytest.raises(InputError, match=f"^calendar: .*{re.escape(words)}"):
        StudyConfig(calendar=value)


def test_config_round_trip() -> None:
    cfg = StudyConfig(calendar=["HSI=XHKG", "xnys", "DAX=XETR"])
    assert cfg.calendar == CalendarSpec("XNYS", (("DAX", "XETR"), ("HSI", "XHKG")))
    d = cfg.to_dict()
    assert d["calendar"] == "XNYS" and d["calendars"] == {"DAX": "XETR", "HSI": "XHKG"}
    assert StudyConfig.from_dict(json.loads(json.dumps(d))) == cfg
    assert "calendars" not in StudyConfig().to_dict()


def test_stoxx_calendar_is_eurex_days_closing_at_1730_frankfurt() -> None:
    sess = exchange_sessions("STOXX", pd.Timestamp("2017-01-01"), pd.Timestamp("2025-12-31"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        eurex = xcals.get_calendar("XEUR", start="2016-01-01", end="2026-12-31").sessions
    lo, hi = pd.Timestamp("2017-01-02"), pd.Timestamp("2025-12-31")
    mine = sess.dates[(sess.dates >= lo) & (sess.dates <= hi)]
    ref = pd.DatetimeIndex(eurex).tz_localize(None)
    assert mine.equals(ref[(ref >= lo) & (ref <= hi)].as_unit("ns"))
    # German Unity Day: Xetra shut, the indices calculated
    assert pd.Timestamp("2019-10-03") in mine and pd.Timestamp("2019-12-24") not in mine
    berlin = ZoneInfo("Europe/Berlin")
    for d, c in zip(sess.dates[-300:], sess.closes[-300:], strict=True):  # type: ignore[index]
        local = c.tz_convert(berlin)
        assert (local.date(), local.hour, local.minute) == (d.date(), 17, 30)


def test_stoxx_indices_have_no_off_calendar_rows_on_the_snapshot() -> None:
    prices = load_prices(["^STOXX50E", "^STOXX", "^HSI"], source="snapshot")
    ev = events_from_records([{"event_id": "e", "timestamp": "2019-10-03T12:00Z", "title": "Unity Day"}])
    res = EventStudy(ev, prices, symbols=["^STOXX50E", "^STOXX"], car_windows=[(0, 0)]).run()
    dq = res.manifest["data_quality"]
    for sym in ("^STOXX50E", "^STOXX"):
        assert res.manifest["alignment"]["calendars"][sym] == "STOXX"
        assert dq[sym]["rows_off_calendar"] == []
    car = res.car().set_index("symbol")
    # a real index day: the news of 3 Oct 2019 at 12:00Z belongs to that day's session
    assert str(pd.Timestamp(car.loc["^STOXX50E", "day0"]).date()) == "2019-10-03"


def test_cli_warns_on_stderr_and_in_the_report(wide_csv: Path, tmp_path: Path) -> None:
    ev = tmp_path / "ev.csv"
    ev.write_text("event_id,timestamp,title\nlondon,2025-06-10T23:00Z,London framework\n")
    runner = CliRunner()
    out = tmp_path / "reports" / "a"
    r = runner.invoke(
        app, ["run", "--events", str(ev), "--prices", str(wide_csv), "--out", str(out), "--car", "0:0"]
    )
    assert r.exit_code == 0, r.output
    assert "warning: MYHK has no exchange calendar" in r.stderr
    assert "note: HSI: read as Hang Seng Index" in r.stderr
    html = (out / "index.html").read_text()
    assert "MYHK has no exchange calendar" in html
    assert json.loads((out / "study.json").read_text())["warnings"][0].startswith("MYHK has no")
    out2 = tmp_path / "reports" / "b"
    args = ["run", "--events", str(ev), "--prices", str(wide_csv), "--out", str(out2), "--car", "0:0"]
    r = runner.invoke(app, [*args, "--calendar", "MYHK=XHKG", "--calendar", "XNYS"])
    assert r.exit_code == 0, r.output
    assert "warning:" not in r.stderr
    car = pd.read_csv(out2 / "car.csv").set_index("symbol")
    assert car.loc["MYHK", "day0"] == car.loc["HSI", "day0"] == "2025-06-11"
    r = runner.invoke(app, [*args, "--calendar", "MYHK=NOPE"])
    assert r.exit_code == 2 and "calendar: unknown exchange calendar 'NOPE'" in r.stderr


def test_calendar_from_study_toml(wide_csv: Path, tmp_path: Path) -> None:
    ev = tmp_path / "ev.csv"
    ev.write_text("event_id,timestamp,title\nlondon,2025-06-10T23:00Z,London framework\n")
    toml = tmp_path / "study.toml"
    toml.write_text('[study]\ncar = ["0:0"]\n[study.calendar]\nMYHK = "XHKG"\n')
    out = tmp_path / "reports" / "t"
    r = CliRunner().invoke(
        app, ["run", "--events", str(ev), "--prices", str(wide_csv), "--config", str(toml), "--out", str(out)]
    )
    assert r.exit_code == 0, r.output
    assert "warning:" not in r.stderr
    assert json.loads((out / "study.json").read_text())["parameters"]["calendars"] == {"MYHK": "XHKG"}
    assert pd.read_csv(out / "car.csv").set_index("symbol").loc["MYHK", "day0"] == "2025-06-11"


def test_many_symbols_without_a_calendar_get_one_warning() -> None:
    """A universe of stocks without calendars: one warning with their number, the first few
    and both ways to give them one; up to NAMED_SYMBOLS, one warning each (as above)."""
    from eventstudy.align import NAMED_SYMBOLS, calendar_notes

    recs = [
        dict(LONDON, event_id="a"),
        dict(LONDON, event_id="b", timestamp="2025-06-12"),  # a date only: no hour to lose
    ]
    events = events_from_records(recs)
    syms = [f"STK{i:02d}" for i in range(NAMED_SYMBOLS + 3)]
    notes, warnings = calendar_notes(events, syms, None)
    assert notes == []
    (w,) = warnings
    assert w.startswith(f"{NAMED_SYMBOLS + 3} symbols have no exchange calendar (STK00, STK01")
    assert f"STK{NAMED_SYMBOLS - 1:02d} and 3 more)" in w and f"STK{NAMED_SYMBOLS:02d}" not in w
    assert f"the hour of their {NAMED_SYMBOLS + 3} event(s) with a time is ignored" in w
    assert "--calendar MIC" in w and "--calendar SYMBOL=MIC" in w
    few = calendar_notes(events, syms[:NAMED_SYMBOLS], None)[1]
    assert [x.split(" ")[0] for x in few] == syms[:NAMED_SYMBOLS]
    assert all("the hour of its 1 event(s)" in x for x in few)
