"""Every CSV of an output folder reads back with ``pd.read_csv``; empty tables are named with why."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from conftest import Synthetic, build_synthetic
from typer.testing import CliRunner

import eventstudy as es
from eventstudy.cli import app


@pytest.fixture(scope="module")
def syn() -> Synthetic:
    return build_synthetic(seed=11, n_events=6)


def _check_folder(folder: Path) -> dict[str, str]:
    """Read every CSV of ``folder`` back; return ``omitted_files`` of its study.json."""
    csvs = sorted(folder.glob("*.csv"))
    assert csvs
    for p in csvs:
        df = pd.read_csv(p)  # raises on a blank file
        assert len(df) > 0, f"{p.name} has no rows"
        assert len(df.columns) > 0
    omitted = json.loads((folder / "study.json").read_text("utf-8")).get("omitted_files", {})
    assert not set(omitted) & {p.name for p in csvs}
    return omitted


@pytest.mark.parametrize("detail", ["full", "pairs"])
def test_every_csv_reads_back(syn: Synthetic, tmp_path: Path, detail: str) -> None:
    res = es.EventStudy(syn.events, syn.prices, model="market", benchmark=syn.benchmark, draws=99).run(
        detail=detail  # type: ignore[arg-type]
    )
    omitted = _check_folder(res.save(tmp_path / detail))
    names = {p.name for p in (tmp_path / detail).glob("*.csv")}
    if detail == "full":
        assert omitted == {}
        assert {"abnormal_returns.csv", "placebo.csv", "event_dummies.csv", "volatility.csv"} <= names
    else:
        assert set(omitted) == {"abnormal_returns.csv", "placebo.csv", "event_dummies.csv", "volatility.csv"}
        assert "--detail pairs" in omitted["abnormal_returns.csv"]
        assert {"car.csv", "tests.csv", "fits.csv", "headlines.csv"} <= names
        # the folder reads back and renders again
        back = es.StudyResult.load(tmp_path / detail)
        assert back.abnormal_returns.empty and list(back.abnormal_returns.columns)[:2] == [
            "event_id",
            "symbol",
        ]
        assert "<html" in back.to_html()[:500].lower()


def test_cli_detail_pairs_writes_only_readable_files(tmp_path: Path) -> None:
    out = tmp_path / "pairs"
    r = CliRunner().invoke(app, ["run", "--symbols", "^HSI,^GDAXI", "--detail", "pairs", "--out", str(out)])
    assert r.exit_code == 0, r.output
    omitted = _check_folder(out)
    assert set(omitted) == {"abnormal_returns.csv", "placebo.csv", "event_dummies.csv", "volatility.csv"}
    assert (out / "tables.md").read_text("utf-8").count("cluster_t") >= 1
