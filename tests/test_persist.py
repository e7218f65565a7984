"""A saved study folder reads back into a StudyResult and its report renders again."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import eventstudy as es
from eventstudy.cli import app
from eventstudy.persist import load_result


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> tuple[es.StudyResult, Path]:
    res = es.EventStudy(
        es.read_events().filter(start="2025-04-01", end="2025-06-30"),
        es.load_prices(["^HSI", "^GDAXI", "ACWI"]),
        model="market",
        benchmark="ACWI",
    ).run()
    folder = tmp_path_factory.mktemp("studies") / "s"
    res.save(folder)
    return res, folder


def test_tables_round_trip(saved: tuple[es.StudyResult, Path]) -> None:
    res, folder = saved
    back = load_result(folder)
    assert back.config == res.config
    assert back.symbols == res.symbols
    for name in ("car", "tests"):
        a, b = getattr(res, name)(), getattr(back, name)()
        assert list(a.columns) == list(b.columns)
        num = [c for c in a.columns if pd.api.types.is_float_dtype(a[c])]
        np.testing.assert_allclose(a[num].to_numpy(float), b[num].to_numpy(float), rtol=1e-9, atol=1e-12)
    pd.testing.assert_frame_equal(
        res.events.table[["event_id", "title"]], back.events.table[["event_id", "title"]]
    )


def test_report_command_rerenders_and_lists(saved: tuple[es.StudyResult, Path]) -> None:
    _, folder = saved
    (folder / "index.html").unlink()
    runner = CliRunner()
    r = runner.invoke(app, ["report", str(folder)])
    assert r.exit_code == 0, r.output
    html = (folder / "index.html").read_text()
    for section in ('id="summary"', 'id="markets"', 'id="charts"', 'id="pairs"', 'id="method"'):
        assert section in html
    r = runner.invoke(app, ["report", str(folder.parent)])
    assert r.exit_code == 0, r.output
    listing = (folder.parent / "index.html").read_text()
    assert 'href="s/index.html"' in listing or "s/index.html" in listing


def test_report_command_on_a_missing_folder_is_a_clean_error(tmp_path: Path) -> None:
    r = CliRunner().invoke(app, ["report", str(tmp_path / "nope")])
    assert r.exit_code == 1
    assert "no such folder" in r.stderr and "Traceback" not in r.output
