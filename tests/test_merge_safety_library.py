"""Issue 12's data safety applied to issue 15's library inputs and output writer."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import eventstudy as es
from eventstudy.cli import app
from eventstudy.errors import EventsFileError, PricesError


@pytest.fixture(scope="module")
def snap() -> es.Prices:
    return es.load_prices(["^HSI", "^GDAXI"])


def _wide(snap: es.Prices) -> pd.DataFrame:
    return pd.DataFrame({s: snap[s] for s in snap.symbols})


def test_dataframe_closes_outside_the_plausible_range_are_refused(snap: es.Prices) -> None:
    df = _wide(snap)
    df.iloc[3, 0] = 5e12
    with pytest.raises(PricesError, match=r"prices DataFrame, row .*, column '\^HSI'.*outside 1e-08"):
        es.prices_from_frame(df)


@pytest.mark.parametrize("name", ["nan", "", "A\x1bB"])
def test_dataframe_symbol_names_are_checked_like_file_headers(snap: es.Prices, name: str) -> None:
    df = _wide(snap).rename(columns={"^HSI": name})
    with pytest.raises(PricesError, match="is not a symbol name"):
        es.prices_from_frame(df)


def test_dataframe_duplicate_symbol_after_strip_is_refused(snap: es.Prices) -> None:
    df = _wide(snap)
    df.columns = ["^HSI", " ^HSI"]
    with pytest.raises(PricesError, match="appears twice"):
        es.prices_from_frame(df)


def test_single_series_file_named_like_nan_is_refused(tmp_path: Path, snap: es.Prices) -> None:
    p = tmp_path / "nan.csv"
    p.write_text("Date,Close\n" + "".join(f"{d.date()},{v}\n" for d, v in snap["^HSI"].items()))
    with pytest.raises(PricesError, match="not a symbol name"):
        es.load_prices(source="csv", path=p)


def test_unknown_symbol_in_dataframe_events_names_the_event(snap: es.Prices) -> None:
    ev = pd.DataFrame({"event_id": ["e1"], "timestamp": ["2021-06-10"], "title": ["x"], "symbols": ["HSI"]})
    with pytest.raises(
        EventsFileError, match=r"events DataFrame, column 'symbols': event 'e1': symbol 'HSI'"
    ):
        es.EventStudy(ev, snap)


def test_events_table_with_line_column_reads_back() -> None:
    ev = es.read_events()
    assert "line" in ev.table.columns
    pd.testing.assert_frame_equal(es.events_from_frame(ev.table).table, ev.table)


def test_formula_cells_are_neutralised_by_the_new_writer_and_restored(
    tmp_path: Path, snap: es.Prices
) -> None:
    ev = pd.DataFrame(
        {
            "event_id": ["e1", "e2", "e3"],
            "timestamp": ["2021-03-04T12:00Z", "2021-06-10", "2022-01-05"],
            "title": ['=HYPERLINK("http://x")', "'=kept", "@cmd"],
        }
    )
    res = es.EventStudy(ev, snap).run(detail="pairs")
    out = res.save(tmp_path / "s")
    text = (out / "events.csv").read_text()
    assert "'=HYPERLINK" in text and "''=kept" in text and "'@cmd" in text
    man = json.loads((out / "study.json").read_text())
    assert "abnormal_returns.csv" in man["omitted_files"]  # issue 15's writer kept
    assert (out / "tables.tex").is_file() and (out / "tables.md").is_file()
    back = es.StudyResult.load(out)
    assert list(back.events.table["title"]) == ['=HYPERLINK("http://x")', "'=kept", "@cmd"]


def test_study_toml_takes_a_list_of_price_files(tmp_path: Path, snap: es.Prices) -> None:
    files = []
    for s in snap.symbols:
        p = tmp_path / f"{s}.csv"
        p.write_text("Date,Close\n" + "".join(f"{d.date()},{v}\n" for d, v in snap[s].items()))
        files.append(str(p))
    cfg = tmp_path / "study.toml"
    cfg.write_text("prices = [" + ", ".join(json.dumps(f) for f in files) + ']\nstart = "2024-01-01"\n')
    r = CliRunner().invoke(app, ["run", "--config", str(cfg), "--out", str(tmp_path / "o")])
    assert r.exit_code == 0, r.output
    assert set(pd.read_csv(tmp_path / "o" / "car.csv")["symbol"]) == {"^HSI", "^GDAXI"}


def test_events_validate_escapes_control_characters(tmp_path: Path) -> None:
    p = tmp_path / "ev.csv"
    p.write_text("event_id,timestamp,title\nbad\x1b[31mid,2020-01-01,\nok,nodate,x\n")
    r = CliRunner().invoke(app, ["events", "validate", str(p)])
    assert r.exit_code == 1
    assert "\x1b" not in r.output
    assert "3 errors" in r.output
