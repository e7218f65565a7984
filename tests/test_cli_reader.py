"""The terminal as a reader: summary, --json, --quiet, --version, one-line usage errors, `event ID`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from eventstudy import load_prices
from eventstudy.cli import app

runner = CliRunner()
SYMS = "^HSI,^GDAXI"


def test_version() -> None:
    r = runner.invoke(app, ["--version"])
    assert r.exit_code == 0
    from eventstudy import __version__

    out = r.stdout.strip()
    assert out.startswith(f"eventstudy {__version__}")  # installed, or "(source checkout)"


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["run", "--model", "nope"], "'nope' is not a known model"),
        (["run", "--bogus"], "No such option: --bogus"),
        (["run", "--car", "5:1"], "starts after it ends"),
        (["event"], "Missing argument"),
    ],
)
def test_usage_errors_are_one_line_exit_2(args: list[str], words: str) -> None:
    r = runner.invoke(app, args)
    assert r.exit_code == 2, r.output
    err = r.stderr.strip()
    assert "\n" not in err, err
    assert err.startswith("usage error: ") and words in err, err
    assert "╭" not in err and "│" not in err
    assert r.stdout == ""


def test_help_lists_the_allowed_values_and_extras_unmangled() -> None:
    r = runner.invoke(app, ["run", "--help"], env={"COLUMNS": "250"})
    assert r.exit_code == 0
    text = " ".join(r.stdout.split())
    for values in (
        "snapshot (bundled, default), yahoo (cached) or csv",
        "constant-mean (default), market-adjusted, market, factor (--factors) or garch",
        "simple (default) or log",
        "keep (marked) or drop",
        "ols, dimson or scholes-williams",
        "full (default) or pairs",
    ):
        assert values in text, values
    assert "pip install '.[dask]'" in text
    assert "--json" in text and "--quiet" in text


@pytest.fixture(scope="module")
def json_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path]:
    out = tmp_path_factory.mktemp("cli") / "two-markets"
    r = runner.invoke(app, ["run", "--symbols", SYMS, "--out", str(out), "--json"])
    assert r.exit_code == 0, r.stderr
    return json.loads(r.stdout), out


def test_run_json_is_the_machine_readable_summary(json_run: tuple[dict, Path]) -> None:
    doc, out = json_run
    assert doc["folder"] == str(out) and Path(doc["report"]).is_file()
    saved = json.loads((out / "study.json").read_text("utf-8"))["headline"]
    assert doc["headline"]["test"] == "cluster_t" == saved["test"]
    assert doc["headline"]["p_value"] == pytest.approx(saved["p_value"])
    assert isinstance(doc["headline"]["n_clusters"], int)
    assert [m["symbol"] for m in doc["markets"]] == ["^HSI", "^GDAXI"]
    hsi = doc["markets"][0]["windows"]["0:0"]
    assert hsi["test"] == "cluster_t" and hsi["ci_low"] < hsi["caar"] < hsi["ci_high"]
    assert doc["sentence"].startswith("Across all event×market pairs")


@pytest.fixture(scope="module")
def quiet_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Any]]:
    """Three quiet runs in a fresh folder: ^HSI since 2025, then by category, then with another CAR."""
    work = tmp_path_factory.mktemp("quiet")
    base = ["run", "--symbols", "^HSI", "--start", "2025-01-01", "-q"]
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(work)
        runs = [
            runner.invoke(app, base + extra)
            for extra in ([], ["--category", "tariff_escalation"], ["--car=-1:+1"])
        ]
    return work, runs


def test_quiet_prints_nothing(quiet_runs: tuple[Path, list[Any]]) -> None:
    work, runs = quiet_runs
    r = runs[0]
    assert r.exit_code == 0, r.stderr
    assert r.stdout == ""
    assert (work / "reports" / "constant-mean_symbols=HSI_start=2025-01-01" / "index.html").is_file()


def _close_return(sym: str, day: str, prev: str) -> float:
    p = load_prices([sym])[sym]
    return float(p.loc[day] / p.loc[prev] - 1)


def test_event_command_prints_each_markets_reaction() -> None:
    r = runner.invoke(app, ["event", "2025-06-10-london-framework", "--symbols", SYMS])
    assert r.exit_code == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].startswith("London negotiators agree framework")
    row = {ln.split("  ")[0]: ln for ln in lines if ln.startswith(("Hang Seng Index", "DAX 40"))}
    assert set(row) == {"Hang Seng Index", "DAX 40"}
    hsi = _close_return("^HSI", "2025-06-11", "2025-06-10")
    dax = _close_return("^GDAXI", "2025-06-11", "2025-06-10")
    assert f"{100 * hsi:+.2f}%" in row["Hang Seng Index"] and "2025-06-11" in row["Hang Seng Index"]
    assert f"{100 * dax:+.2f}%" in row["DAX 40"]
    assert "CAR -1:+1" in r.stdout


def test_event_command_json_and_title_words() -> None:
    r = runner.invoke(app, ["event", "joint statement geneva", "--symbols", SYMS, "--json"])
    assert r.exit_code == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["event"]["event_id"] == "2025-05-12-geneva-joint-statement"
    assert [m["symbol"] for m in doc["markets"]] == ["^HSI", "^GDAXI"]
    for m in doc["markets"]:
        assert m["ar"] == pytest.approx(m["return"] - m["normal_return"])
    r = runner.invoke(app, ["event", "geneva", "--symbols", SYMS])
    assert r.exit_code == 1 and "matches 5 events" in r.stderr and "give the event_id" in r.stderr


def test_event_command_unknown_event_is_one_line_exit_1() -> None:
    r = runner.invoke(app, ["event", "no-such-event-zzz", "--symbols", "^HSI"])
    assert r.exit_code == 1
    assert r.stderr.count("\n") == 1 and "no event matches" in r.stderr


def test_runs_with_other_parameters_keep_every_study(quiet_runs: tuple[Path, list[Any]]) -> None:
    tmp_path, runs = quiet_runs
    for r in runs:
        assert r.exit_code == 0, r.stderr
    folders = sorted(p.name for p in (tmp_path / "reports").iterdir() if p.is_dir())
    assert folders == [
        "constant-mean_symbols=HSI_category=tariff_escalation_start=2025-01-01",
        "constant-mean_symbols=HSI_start=2025-01-01",
        "constant-mean_symbols=HSI_start=2025-01-01_car=-1..+1",
    ]
    for name in folders:
        doc = json.loads((tmp_path / "reports" / name / "study.json").read_text("utf-8"))
        assert doc["parameters"]["name"] == name
    cars = json.loads((tmp_path / "reports" / folders[2] / "study.json").read_text("utf-8"))
    assert cars["parameters"]["car_windows"] == ["-1:+1"]
