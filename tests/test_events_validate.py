"""``events validate`` lists every error with its line and column; naive times get a warning."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import build_synthetic
from typer.testing import CliRunner

import eventstudy as es
from eventstudy.cli import app
from eventstudy.events import validate_events

BAD = """event_id,timestamp,tz,title,category,direction
a,2025-06-10T09:00,,naive time,talks,1
b,2019,,bad timestamp,talks,1
c,2025-06-11,Mars/Olympus,,nonsense,2
a,2025-06-12,,duplicate id,talks,1
d,2025-06-13,,too,many,fields,here
"""
# (line, column) of every error of BAD, in file order
EXPECTED = [
    (3, "timestamp"),
    (4, "title"),
    (4, "tz"),
    (4, "category"),
    (4, "direction"),
    (5, "event_id"),
    (6, None),
]


@pytest.fixture()
def bad_file(tmp_path: Path) -> Path:
    p = tmp_path / "bad.csv"
    p.write_text(BAD, encoding="utf-8")
    return p


def test_every_error_is_listed_with_line_and_column(bad_file: Path) -> None:
    events, errors, warnings = validate_events(bad_file)
    assert events is None
    assert [(e.line, e.column) for e in errors] == EXPECTED
    assert all(str(e).startswith(f"{bad_file}, line {e.line}") for e in errors)
    assert "'2019' is not an ISO 8601 timestamp" in str(errors[0])
    assert "first on line 2" in str(errors[5])
    assert len(warnings) == 1 and "line 2, column 'timestamp'" in warnings[0] and "read as UTC" in warnings[0]
    _, first_two, _ = validate_events(bad_file, limit=2)
    assert [(e.line, e.column) for e in first_two] == EXPECTED[:2]
    # reading stops at the first error, the same one
    with pytest.raises(es.EventsFileError) as exc:
        es.read_events(bad_file)
    assert str(exc.value) == str(errors[0])


def test_cli_lists_errors_and_warnings(bad_file: Path) -> None:
    r = CliRunner().invoke(
        app, ["events", "validate", str(bad_file)], env={"COLUMNS": "200", "NO_COLOR": "1"}
    )
    assert r.exit_code == 1
    err_lines = [ln for ln in r.output.splitlines() if ln.startswith("error: ")]
    assert len(err_lines) == len(EXPECTED)
    for (line, column), text in zip(EXPECTED, err_lines, strict=True):
        assert f"line {line}" in text and (column is None or f"column '{column}'" in text)
    assert "warning: " in r.output and f"{bad_file}: 7 errors" in r.output
    r = CliRunner().invoke(app, ["events", "validate", str(bad_file), "--limit", "3"])
    assert r.exit_code == 1 and r.output.count("error: ") == 3 and "raise --limit" in r.output


def test_naive_time_warning_reaches_the_result(tmp_path: Path) -> None:
    syn = build_synthetic(seed=3, n_events=4)
    day = syn.dates[300].strftime("%Y-%m-%d")
    recs = [*syn.records, {"event_id": "naive", "timestamp": f"{day}T09:00", "title": "naive time"}]
    p = tmp_path / "events.csv"
    es.events_from_records(recs).table.loc[:, list(es.events.COLUMNS)].to_csv(p, index=False)
    ev = es.read_events(p)
    assert len(ev.warnings) == 1 and "'timestamp'" in ev.warnings[0]
    assert ev.filter(ids=["naive"]).warnings == ev.warnings
    res = es.EventStudy(ev, syn.prices, model="market", benchmark=syn.benchmark, draws=99).run()
    assert any("read as UTC" in w for w in res.warnings)
    # a time with an offset, or a tz, needs no warning
    ok = p.read_text("utf-8").replace(f"{day}T09:00,", f"{day}T09:00Z,")
    p.write_text(ok, encoding="utf-8")
    assert es.read_events(p).warnings == ()
