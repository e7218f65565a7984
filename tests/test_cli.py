"""The command line (``eventstudy.cli.app``) through ``typer.testing.CliRunner``.

All runs happen in a temporary working folder. Study runs are few and shared
between tests (module-scoped fixtures); expected event sets are computed here
from ``events.csv`` with the standard ``csv`` module.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from importlib.metadata import version
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from scipy import stats
from typer.testing import CliRunner

from eventstudy import csvout
from eventstudy.cli import app

REPO = Path(__file__).resolve().parents[1]
EVENTS_CSV = REPO / "events.csv"
DEFAULT_SYMBOLS = ["^HSI", "^STOXX50E", "^GDAXI", "^FTSE", "^FCHI"]

AR_COLUMNS = ["event_id", "symbol", "rel_day", "date", "return", "normal_return", "ar", "sar", "car"]
CAR_COLUMNS = [
    "event_id",
    "symbol",
    "window",
    "car",
    "se",
    "t_stat",
    "p_value",
    "n_est",
    "day0",
    "day0_latest",
    "cluster",
    "day0_uncertain",
]
CAR_EXTRA = {"overlaps", "days", "extended_by", "p_holm", "p_bh", "vol_ratio"}
TEST_COLUMNS = ["group_by", "group", "window", "test", "statistic", "p_value", "n"]
OUTPUT_FILES = {"index.html", "abnormal_returns.csv", "car.csv", "tests.csv", "fits.csv", "study.json"}
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
WINDOW = re.compile(r"^(0|[+-][1-9]\d*):(0|[+-][1-9]\d*)$")

runner = CliRunner()


# ------------------------------------------------------------------ helpers
def _raw_events() -> list[dict[str, str]]:
    with EVENTS_CSV.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _local_date(r: dict[str, str]) -> date:
    ts = r["timestamp"]
    if "/" in ts:  # an interval: the date of its start in the event's zone
        return datetime.fromisoformat(ts.split("/")[0]).astimezone(ZoneInfo(r["tz"] or "UTC")).date()
    if "T" not in ts:
        return date.fromisoformat(ts)
    return datetime.fromisoformat(ts.replace("Z", "+00:00")).astimezone(UTC).date()


def _flat(text: str) -> str:
    """Output without rich's box drawing and line wrapping."""
    return " ".join(re.sub(r"[│╭╮╰╯─]", " ", text).split())


def _tree_bytes(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _invoke(args: list[str]):  # type: ignore[no-untyped-def]
    return runner.invoke(app, args, env={"COLUMNS": "200", "NO_COLOR": "1"})


@dataclass
class Run:
    args: list[str]
    exit_code: int
    stdout: str
    stderr: str
    folder: Path

    def csv(self, name: str) -> pd.DataFrame:
        return pd.read_csv(self.folder / name, dtype=str, keep_default_na=False)

    def manifest(self) -> dict:  # type: ignore[type-arg]
        return json.loads((self.folder / "study.json").read_text("utf-8"))


def _run(workdir: Path, args: list[str], folder: str) -> Run:
    r = _invoke(args)
    assert r.exit_code == 0, (args, r.stdout[-2000:], r.stderr[-2000:], r.exception)
    return Run(args, r.exit_code, r.stdout, r.stderr, workdir / folder)


# ------------------------------------------------------------------ fixtures
@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    d = tmp_path_factory.mktemp("cli")
    shutil.copy(EVENTS_CSV, d / "events.csv")  # `run` uses ./events.csv when present
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(d)
        yield d


@pytest.fixture(scope="module")
def default_run(workdir: Path) -> Run:
    return _run(workdir, ["run"], "reports/constant-mean")


FILTER = ["--start", "2025-04-01", "--end", "2025-06-30"]


@pytest.fixture(scope="module")
def car_runs(workdir: Path) -> tuple[Run, Run]:
    a = _run(workdir, ["run", "--car=-1:1", *FILTER, "--out", "out/a"], "out/a")
    b = _run(workdir, ["run", "--car=-1:+1", *FILTER, "--out", "out/b"], "out/b")
    return a, b


@pytest.fixture(scope="module")
def market_run(workdir: Path) -> Run:
    args = ["run", "--model", "market", "--benchmark", "ACWI", "--category", "tariff_escalation,retaliation"]
    args += ["--direction", "-1", "--start", "2025-01-01", "--end", "2025-12-31"]
    # a run with other parameters gets its own folder (the options it sets are in the name)
    return _run(
        workdir,
        args,
        "reports/market-acwi_category=tariff_escalation,retaliation_direction=-1_start=2025-01-01_end=2025-12-31",
    )


@pytest.fixture(scope="module")
def config_run(workdir: Path) -> Run:
    (workdir / "study.toml").write_text(
        "[study]\n"
        'name = "from-config"\n'
        'car = ["0:0", "-1:+1"]\n'
        'start = "2025-04-01"\n'
        'end = "2025-06-30"\n'
        'category = ["tariff_escalation", "retaliation", "truce"]\n'
        "seed = 1\n",
        encoding="utf-8",
    )
    return _run(workdir, ["run", "--config", "study.toml", "--seed", "7"], "reports/from-config")


# ------------------------------------------------------------------ default run
def test_default_run_writes_the_study_folder(default_run: Run) -> None:
    assert {p.name for p in default_run.folder.iterdir()} >= OUTPUT_FILES
    html = (default_run.folder / "index.html").read_text("utf-8")
    assert html.lstrip().lower().startswith("<!doctype html>")
    assert "reports/constant-mean" in default_run.stdout
    # no temporary folders are left behind
    assert [p.name for p in default_run.folder.parent.iterdir() if p.name.startswith(".")] == []


def test_default_run_headline_is_dependence_robust(default_run: Run) -> None:
    """study.json's headline is the cluster_t row of all pairs in the first window of
    headlines.csv, it equals that test's row in tests.csv, and the CLI summary quotes it."""
    h = default_run.manifest()["headline"]
    assert set(h) >= {"test", "window", "statistic", "p_value", "n_clusters", "n_pairs", "mde"}
    assert h["test"] == "cluster_t" and h["window"] == "0:0"
    rob = default_run.csv("headlines.csv")
    row = rob[(rob["group_by"] == "all") & (rob["window"] == "0:0")].iloc[0]
    assert float(row["p_value"]) == pytest.approx(h["p_value"], rel=1e-9)
    assert int(row["n_clusters"]) == h["n_clusters"] < h["n_pairs"]
    tests = default_run.csv("tests.csv")
    t = tests[(tests["group_by"] == "all") & (tests["window"] == "0:0") & (tests["test"] == "cluster_t")]
    assert float(t["statistic"].iloc[0]) == pytest.approx(h["statistic"], rel=1e-9)
    assert int(t["n"].iloc[0]) == h["n_clusters"]
    # the naive tests say what they assume; the cluster tests give their pairs
    naive = tests[tests["test"].isin(["bmp_t", "csect_t", "patell_z"])]
    assert naive["note"].str.startswith("assumes independent pairs").all()
    overall = tests[(tests["test"] == "cluster_t") & (tests["group_by"] == "all")]
    assert overall["note"].str.startswith("pairs=").all()
    assert "Headline (cluster_t, window 0:0)" in default_run.stdout
    assert f"{h['n_pairs']} pairs in {h['n_clusters']} independent clusters" in default_run.stdout
    # the MDE is (t_.975 + t_.80) · se with the headline's df
    crit = stats.t.ppf(0.975, h["df"]) + stats.t.ppf(0.8, h["df"])
    assert h["mde"] == pytest.approx(crit * h["se"], rel=1e-9)


def test_default_run_abnormal_returns_columns(default_run: Run) -> None:
    ar = default_run.csv("abnormal_returns.csv")
    assert list(ar.columns) == AR_COLUMNS
    assert ar["date"].str.match(ISO_DATE).all()
    rel = ar["rel_day"].astype(int)
    assert rel.min() == -10 and rel.max() >= 10
    assert set(ar["symbol"]) == set(DEFAULT_SYMBOLS)


def test_default_run_car_columns(default_run: Run) -> None:
    car = default_run.csv("car.csv")
    cols = list(car.columns)
    assert cols[: len(CAR_COLUMNS)] == CAR_COLUMNS
    assert set(cols[len(CAR_COLUMNS) :]) <= CAR_EXTRA
    assert list(dict.fromkeys(car["window"])) == ["0:0", "0:+1", "-1:+1", "-5:+5"]
    # every pair with a CAR has a cluster; one event's pairs share it in each window
    has = car["car"] != ""
    assert (car.loc[has, "cluster"].astype(int) >= 0).all()
    assert (car[has].groupby(["window", "event_id"])["cluster"].nunique() == 1).all()
    assert car["day0"].str.match(ISO_DATE).all()
    assert car["day0_latest"].str.match(ISO_DATE).all()
    assert set(car["day0_uncertain"]) <= {"True", "False"}
    # keyed on event × symbol × window
    assert not car.duplicated(["event_id", "symbol", "window"]).any()


def test_default_run_tests_columns(default_run: Run) -> None:
    tests = default_run.csv("tests.csv")
    cols = list(tests.columns)
    assert cols[: len(TEST_COLUMNS)] == TEST_COLUMNS
    assert set(cols[len(TEST_COLUMNS) :]) <= {"note", "p_holm", "p_bh"}
    overall = tests[tests["group_by"] == "all"]
    assert len(overall) > 0 and set(overall["group"]) == {"all"}
    assert {"csect_t", "bmp_t"} <= set(tests["test"])
    assert tests["window"].str.match(WINDOW).all()
    assert {"all", "event", "market", "category", "direction"} <= set(tests["group_by"])


def test_default_run_fits_and_exclusions(default_run: Run) -> None:
    fits = default_run.csv("fits.csv")
    cols = set(fits.columns)
    assert {"event_id", "symbol", "model", "sigma", "n_est"} <= cols
    assert any("start" in c for c in cols) and any("end" in c for c in cols)
    reason_col = next(c for c in fits.columns if "reason" in c)
    assert set(fits["model"]) == {"constant-mean"}
    raw = _raw_events()
    # every pair is in fits.csv
    assert len(fits) == len(raw) * len(DEFAULT_SYMBOLS)
    # events after the snapshot's last date (2025-12-31) cannot be studied: excluded with a reason,
    # present in fits.csv and absent from car.csv
    late = {r["event_id"] for r in raw if _local_date(r) > date(2025, 12, 31)}
    assert len(late) == 3
    f_late = fits[fits["event_id"].isin(late)]
    assert len(f_late) == 3 * len(DEFAULT_SYMBOLS)
    assert (f_late[reason_col].str.len() > 0).all()
    car = default_run.csv("car.csv")
    assert not car["event_id"].isin(late).any()
    excluded = fits[fits[reason_col].str.len() > 0]
    kept_pairs = set(zip(car["event_id"], car["symbol"], strict=True))
    assert not kept_pairs & set(zip(excluded["event_id"], excluded["symbol"], strict=True))


def test_default_run_manifest(default_run: Run) -> None:
    from eventstudy import load_prices

    m = default_run.manifest()
    p = m["parameters"]
    assert p["model"] == "constant-mean"
    assert p["estimation"] == "-250:-11"
    assert p["window"] == "-10:+10"
    assert p["car_windows"] == ["0:0", "0:+1", "-1:+1", "-5:+5"]
    assert p["mask"] == "-1:+1"
    assert list(p["symbols"]) == DEFAULT_SYMBOLS
    v = m["versions"]
    for pkg in ("numpy", "pandas", "scipy", "statsmodels", "exchange_calendars", "plotly"):
        assert v[pkg] == version(pkg), pkg
    assert "eventstudy" in v
    assert m["alignment"]["exchange_calendars"] == version("exchange_calendars")
    assert "strictly after" in m["alignment"]["rule"]
    assert m["events"]["sha256"] == hashlib.sha256(EVENTS_CSV.read_bytes()).hexdigest()
    sha = m["prices"]["sha256"]
    assert re.fullmatch(r"[0-9a-f]{64}", sha)
    assert sha == load_prices(DEFAULT_SYMBOLS).sha256(DEFAULT_SYMBOLS)
    datetime.fromisoformat(m["created"])


def test_default_run_summary_on_stdout(default_run: Run) -> None:
    lines = default_run.stdout.splitlines()
    assert lines[0].startswith("Across all event×market pairs, markets ")  # the headline sentence first
    assert "cluster_t" in lines[0]
    markets = [ln for ln in lines if ln.startswith("  Hang Seng Index") or ln.startswith("  DAX 40")]
    assert len(markets) == 2 and all(re.search(r"[−+]\d+\.\d\d%", ln) for ln in markets)  # percent
    assert "csect_t" not in default_run.stdout  # the full test table is in tests.csv and the report
    assert default_run.stderr.strip() == ""


# ------------------------------------------------------------------ options
def test_car_window_spellings_are_equivalent(car_runs: tuple[Run, Run]) -> None:
    a, b = car_runs
    for name in ("car.csv", "tests.csv", "abnormal_returns.csv", "fits.csv"):
        assert (a.folder / name).read_bytes() == (b.folder / name).read_bytes(), name
    assert set(a.csv("car.csv")["window"]) == {"-1:+1"}
    assert a.manifest()["parameters"]["car_windows"] == ["-1:+1"]


def test_out_option(car_runs: tuple[Run, Run], workdir: Path) -> None:
    a, _ = car_runs
    assert a.folder == workdir / "out" / "a"
    assert {p.name for p in a.folder.iterdir()} >= OUTPUT_FILES


def test_date_filters(car_runs: tuple[Run, Run]) -> None:
    a, _ = car_runs
    exp = {r["event_id"] for r in _raw_events() if date(2025, 4, 1) <= _local_date(r) <= date(2025, 6, 30)}
    fits = a.csv("fits.csv")
    assert set(fits["event_id"]) == exp
    assert set(a.csv("car.csv")["event_id"]) <= exp
    assert a.manifest()["events"]["n_events"] == len(exp)


def test_market_model_with_benchmark_and_filters(market_run: Run) -> None:
    m = market_run.manifest()
    assert m["parameters"]["model"] == "market"
    assert m["parameters"]["benchmark"] == "ACWI"
    fits = market_run.csv("fits.csv")
    assert set(fits["model"]) == {"market"}
    assert "ACWI" not in set(fits["symbol"])
    exp = {
        r["event_id"]
        for r in _raw_events()
        if r["category"] in ("tariff_escalation", "retaliation")
        and r["direction"] == "-1"
        and date(2025, 1, 1) <= _local_date(r) <= date(2025, 12, 31)
    }
    assert set(fits["event_id"]) == exp
    # the market model has two parameters per pair
    kept = fits[fits[next(c for c in fits.columns if "reason" in c)] == ""]
    numeric = [c for c in fits.columns if c not in ("event_id", "symbol", "model") and "reason" not in c]
    assert len(kept) > 0 and len(numeric) >= 2


def test_config_file(config_run: Run) -> None:
    m = config_run.manifest()
    p = m["parameters"]
    assert p["name"] == "from-config"
    assert p["car_windows"] == ["0:0", "-1:+1"]
    assert p["seed"] == 7  # the command line wins over the file
    exp = {
        r["event_id"]
        for r in _raw_events()
        if r["category"] in ("tariff_escalation", "retaliation", "truce")
        and date(2025, 4, 1) <= _local_date(r) <= date(2025, 6, 30)
    }
    assert set(config_run.csv("fits.csv")["event_id"]) == exp
    assert set(config_run.csv("car.csv")["window"]) == {"0:0", "-1:+1"}


# ------------------------------------------------------------------ usage errors (exit 2)
@pytest.mark.parametrize(
    "args",
    [
        ["--car", "3:1"],
        ["--car=-1"],
        ["--window", "abc"],
        ["--estimation", "-11:-250"],
        ["--mask", "1:x"],
    ],
    ids=["car-reversed", "car-one-number", "window-words", "estimation-reversed", "mask-bad"],
)
def test_bad_window_is_a_usage_error(workdir: Path, args: list[str]) -> None:
    r = _invoke(["run", *args])
    assert r.exit_code == 2, (r.stdout, r.stderr)
    assert "Traceback" not in r.output
    assert not (workdir / "reports" / "none").exists()


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--car", "-20:20"], "outside the event window"),
        (["--model", "market"], "benchmark"),
        (["--returns", "weird"], "weird"),
    ],
    ids=["car-outside-window", "market-without-benchmark", "bad-returns"],
)
def test_inconsistent_options_are_usage_errors(workdir: Path, args: list[str], fragment: str) -> None:
    r = _invoke(["run", *args])
    assert r.exit_code == 2, (r.stdout, r.stderr, r.exception)
    assert fragment in _flat(r.stderr)
    assert "Traceback" not in r.output


def test_unknown_model_lists_valid_names(workdir: Path) -> None:
    r = _invoke(["run", "--model", "capm-ish"])
    assert r.exit_code == 2
    text = _flat(r.stderr or r.output)
    assert "capm-ish" in text
    for name in ("constant-mean", "market-adjusted", "market"):
        assert name in text


# ------------------------------------------------------------------ input errors (exit 1)
def _assert_one_line_error(r, *fragments: str) -> str:  # type: ignore[no-untyped-def]
    assert r.exit_code == 1, (r.stdout, r.stderr, r.exception)
    err = r.stderr.strip()
    assert err and "\n" not in err, r.stderr
    assert "Traceback" not in r.output
    for f in fragments:
        assert f in err, err
    return err


def test_bad_events_file(workdir: Path) -> None:
    bad = workdir / "bad events.csv"
    bad.write_text(
        "event_id,timestamp,title,category\na,2025-05-12,ok,talks\nb,2025-05-13,bad,war\n", encoding="utf-8"
    )
    r = _invoke(["run", "--events", str(bad)])
    _assert_one_line_error(r, str(bad), "line 3", "category")
    r = _invoke(["events", "validate", str(bad)])
    _assert_one_line_error(r, str(bad), "line 3", "category")


def test_missing_events_file(workdir: Path) -> None:
    r = _invoke(["run", "--events", "nope.csv"])
    assert r.exit_code in (1, 2)
    assert "nope.csv" in _flat(r.stderr)
    assert "Traceback" not in r.output


def test_every_pair_excluded_is_an_error(workdir: Path) -> None:
    r = _invoke(["run", "--min-estimation", "100000", *FILTER, "--out", "out/never"])
    _assert_one_line_error(r, "excluded")
    assert not (workdir / "out" / "never").exists()


def test_unknown_symbol_is_an_error(workdir: Path) -> None:
    r = _invoke(["run", "--symbols", "^HSI,NOPE", *FILTER, "--out", "out/never2"])
    _assert_one_line_error(r, "NOPE")


# ------------------------------------------------------------------ atomicity
def test_failed_run_leaves_earlier_study_untouched(
    car_runs: tuple[Run, Run], workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, _ = car_runs
    before = _tree_bytes(a.folder)
    assert set(before) >= OUTPUT_FILES

    # 1. the study itself fails (every pair excluded)
    r = _invoke(["run", "--car=-1:1", *FILTER, "--min-estimation", "100000", "--out", "out/a"])
    assert r.exit_code == 1
    assert _tree_bytes(a.folder) == before

    # 2. writing fails half-way through the folder (after one table file was written)
    written: list[str] = []
    real = csvout.to_csv

    def flaky(df: pd.DataFrame, path: Path) -> None:  # the folder's CSV writer, file by file
        if written:
            raise OSError(28, "No space left on device")
        written.append(str(path))
        real(df, path)

    monkeypatch.setattr(csvout, "to_csv", flaky)
    r = _invoke(["run", "--car=0:0", *FILTER, "--out", "out/a"])
    monkeypatch.undo()
    assert written, "the run never reached the writing stage"
    assert Path(written[0]).resolve().parent != a.folder.resolve()  # it wrote into a temporary folder
    assert r.exit_code != 0
    assert _tree_bytes(a.folder) == before
    # no temporary folder or file is left beside the study
    leftovers = [p.name for p in (workdir / "out").iterdir() if p.name.startswith(".")]
    assert leftovers == [], leftovers


# ------------------------------------------------------------------ events / prices commands
def test_events_list(workdir: Path) -> None:
    r = _invoke(["events", "list"])
    assert r.exit_code == 0, r.stderr
    lines = r.stdout.strip().splitlines()
    raw = _raw_events()
    assert "80 events" in lines[-1]
    for ev in raw:
        assert ev["event_id"] in r.stdout
    assert len(lines) == 80 + 1


def test_events_validate_ok(workdir: Path) -> None:
    r = _invoke(["events", "validate", "events.csv"])
    assert r.exit_code == 0, r.stderr
    out = r.stdout
    assert "OK" in out and "80 events" in out
    assert "23 with a time" in out and "46 within an interval" in out and "11 date only" in out


def test_events_align(workdir: Path) -> None:
    r = _invoke(["events", "align", "--symbols", "^HSI,^GDAXI"])
    assert r.exit_code == 0, r.stderr
    rows = [ln.split() for ln in r.stdout.strip().splitlines()[1:]]
    assert len(rows) == 80 * 2
    got = {(x[0], x[1]): (x[2], x[3], x[4]) for x in rows}
    # hand-derived (see test_day0.py for the reasoning)
    assert got[("2025-04-02-liberation-day", "^HSI")] == ("2025-04-03", "2025-04-03", "no")
    assert got[("2025-04-02-liberation-day", "^GDAXI")] == ("2025-04-03", "2025-04-03", "no")
    assert got[("2025-04-04-china-34pct-and-rare-earths", "^HSI")] == ("2025-04-07", "2025-04-07", "no")
    # Friday in Beijing to noon CEST: inside Xetra's Friday session
    assert got[("2025-04-04-china-34pct-and-rare-earths", "^GDAXI")] == ("2025-04-04", "2025-04-04", "no")
    # after the US close on Monday: Tuesday everywhere (not the yuan-break Monday)
    assert got[("2019-08-05-currency-manipulator", "^HSI")] == ("2019-08-06", "2019-08-06", "no")
    assert got[("2019-08-05-currency-manipulator", "^GDAXI")] == ("2019-08-06", "2019-08-06", "no")
    # Friday in Beijing up to 16:59 Beijing: the Hong Kong close (16:00) lies inside
    assert got[("2025-04-11-china-125pct", "^HSI")] == ("2025-04-11", "2025-04-14", "yes")
    # a date only: the whole Washington Tuesday
    assert got[("2025-06-10-world-bank-forecast-cut", "^GDAXI")] == ("2025-06-10", "2025-06-11", "yes")
    assert got[("2025-06-10-london-framework", "^HSI")][0] == "2025-06-11"  # 23:00Z = 07:00 HKT


def test_events_align_default_markets(workdir: Path) -> None:
    r = _invoke(["events", "align"])
    assert r.exit_code == 0, r.stderr
    rows = r.stdout.strip().splitlines()[1:]
    assert len(rows) == 80 * len(DEFAULT_SYMBOLS)
    assert {ln.split()[1] for ln in rows} == set(DEFAULT_SYMBOLS)


def test_prices_show(workdir: Path) -> None:
    r = _invoke(["prices", "show", "^HSI"])
    assert r.exit_code == 0, r.stderr
    out = r.stdout
    first = out.splitlines()[0]
    assert "^HSI" in first and "2214" in first
    assert "2017-01-03" in first and "2025-12-31" in first
    dated = [ln for ln in out.splitlines() if ISO_DATE.match(ln.split()[0] if ln.split() else "")]
    assert len(dated) == 10
    assert dated[0].startswith("2017-01-03") and dated[-1].startswith("2025-12-31")


def test_prices_show_unknown_symbol(workdir: Path) -> None:
    r = _invoke(["prices", "show", "NOPE"])
    _assert_one_line_error(r, "NOPE")


def test_bundled_events_used_without_local_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """DESIGN: `./events.csv` when the working folder has one, else the bundled curated list."""
    monkeypatch.chdir(tmp_path)
    r = _invoke(["events", "list"])
    assert r.exit_code == 0, r.stderr
    assert "80 events" in r.stdout


def _installed(dist: str) -> bool:
    from importlib.metadata import PackageNotFoundError

    try:
        version(dist)
    except PackageNotFoundError:
        return False
    return True


def test_manifest_records_package_version(default_run: Run) -> None:
    import eventstudy

    # the installed distribution's version, or the source tree's marked as such
    assert default_run.manifest()["versions"]["eventstudy"].startswith(eventstudy.__version__)
