"""``model="garch"`` in a study: numbers against ``arch`` per pair, executors, failed fits, CLI.

The reference fits are ``arch.arch_model`` called here on each pair's
estimation sample (the rows the engine uses, gathered from the same panel)
with the toolkit's specification (returns in percent, GARCH(1,1), normal).
"""

from __future__ import annotations

import html
import json
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_garch import arch_direct
from typer.testing import CliRunner

import eventstudy as es
from eventstudy.cli import app
from eventstudy.engine import _estimation
from eventstudy.models import configured_model
from eventstudy.panel import build_panel

pytest.importorskip("arch")

runner = CliRunner()
SYMBOLS = ["^HSI", "^GDAXI"]


def _study(benchmark: str | None) -> es.EventStudy:
    # March–May 2025: 15 events, 30 pairs (5 with an extended window); a GARCH fit per pair is
    # most of a run's time, and the module runs the study eight times per benchmark
    return es.EventStudy(
        es.read_events().filter(start="2025-03-01", end="2025-05-31"),
        es.load_prices([*SYMBOLS, "ACWI"]),
        symbols=SYMBOLS,
        model="garch",
        benchmark=benchmark,
    )


@pytest.fixture(scope="module", params=[None, "ACWI"], ids=["constant", "market"])
def study(request: pytest.FixtureRequest) -> es.EventStudy:
    return _study(request.param)


@pytest.fixture(scope="module")
def serial(study: es.EventStudy) -> es.StudyResult:
    return study.run()


def test_pairs_equal_arch_called_directly(study: es.EventStudy, serial: es.StudyResult) -> None:
    """fits.csv, AR, SAR and the CAR standard errors of a study against per-pair arch fits."""
    cfg = study.config
    model = configured_model(cfg)
    panel = build_panel(
        study.events, study.prices, study.symbols, cfg, study.mask_events, model.needs_benchmark, sync=True
    )
    fits = serial.fits
    inc = fits[~fits["excluded"]]
    assert len(inc) >= 10
    pairs = panel.pairs.reset_index(drop=True)
    k = 2 if cfg.benchmark else 1
    ar = serial.abnormal_returns.set_index(["event_id", "symbol", "rel_day"]).sort_index()
    car = serial.car("-1:+1").set_index(["event_id", "symbol"])
    for _, row in inc.iloc[:: max(1, len(inc) // 4)].iterrows():
        j = int(
            np.flatnonzero((pairs["event_id"] == row["event_id"]) & (pairs["symbol"] == row["symbol"]))[0]
        )
        base = panel.pairs["base"].to_numpy()[[j]]
        _, used, y, x, _ = _estimation(panel, cfg, model, base, panel.prefix_sums(model.needs_benchmark).used)
        u = used[0]
        res = arch_direct(y[0][u], None if x is None else x[0][u])
        p = res.params.to_numpy()
        got = row[list(model.param_names[:-2])].to_numpy(dtype=float)
        want = [p[0] / 100, *p[1:k], p[k] / 1e4, p[k + 1], p[k + 2]]
        np.testing.assert_allclose(got, want, rtol=1e-7, atol=1e-13)
        assert row["convergence_flag"] == 0 and row["persistence"] == pytest.approx(p[k + 1] + p[k + 2])
        # event window: arch's forecasts from the last estimation observation
        T = y.shape[1]
        gap = (cfg.window[0] - cfg.estimation[0]) - int(np.flatnonzero(u)[-1])
        width = cfg.window[1] - cfg.window[0] + 1
        exog = None if x is None else np.zeros((1, gap + width - 1))
        f = (
            res.forecast(horizon=gap + width - 1, reindex=False, x=exog).variance.to_numpy()[0, gap - 1 :]
            / 1e4
        )
        unit = np.array([0.01, 1.0])[:k]
        cov = res.param_cov.to_numpy()[:k, :k] * np.outer(unit, unit)
        days = ar.loc[(row["event_id"], row["symbol"])].reindex(range(cfg.window[0], cfg.window[1] + 1))
        evt = base[0] + np.arange(cfg.window[0], cfg.window[1] + 1)
        bench = panel.B[evt]
        d = np.ones((width, 1)) if k == 1 else np.column_stack([np.ones(width), bench])
        mean = p[:k] * unit
        ok = days["return"].notna().to_numpy()
        np.testing.assert_allclose(
            days["ar"].to_numpy()[ok], (days["return"] - d @ mean).to_numpy()[ok], atol=1e-13
        )
        var = f + np.einsum("wi,ij,wj->w", d, cov, d)
        np.testing.assert_allclose(
            days["sar"].to_numpy()[ok], days["ar"].to_numpy()[ok] / np.sqrt(var[ok]), rtol=1e-7
        )
        sel = np.isin(np.arange(cfg.window[0], cfg.window[1] + 1), [-1, 0, 1]) & ok
        if row["day0_uncertain"]:
            continue  # the window is extended; covered by the model-level tests
        g = sel.astype(float) @ d
        se = np.sqrt(sel.astype(float) @ f + g @ cov @ g)
        assert car.loc[(row["event_id"], row["symbol"]), "se"] == pytest.approx(se, rel=1e-7)
        assert cfg.estimation[1] - cfg.estimation[0] + 1 == T


def test_estimation_residuals_are_garch_standardized(study: es.EventStudy, serial: es.StudyResult) -> None:
    """The standardized residuals handed to Patell/BMP/rank tests are ε̂_t/σ̂_t."""
    from eventstudy.chunks import compute_chunks

    cfg = study.config
    model = configured_model(cfg)
    panel = build_panel(
        study.events, study.prices, study.symbols, cfg, study.mask_events, model.needs_benchmark, sync=True
    )
    ecfg = type(cfg)(**{**cfg.__dict__, "car_windows": study.engine_windows()})
    out = compute_chunks(panel, ecfg, model, 16)
    kept = panel.pairs.iloc[out.keep].reset_index(drop=True)
    inputs, _ = study._test_inputs(panel, out, kept)
    inp = next(iter(inputs.values()))
    assert out.fit.est_var is not None
    np.testing.assert_allclose(inp.est_sar, out.fit.resid / np.sqrt(out.fit.est_var), rtol=1e-12)
    # not the constant-σ standardization of the linear models
    assert not np.allclose(
        np.nan_to_num(inp.est_sar), np.nan_to_num(out.fit.resid / np.sqrt(out.fit.sigma2)[:, None])
    )


def _same(a: es.StudyResult, b: es.StudyResult) -> None:
    pd.testing.assert_frame_equal(a.car(), b.car())
    pd.testing.assert_frame_equal(a.abnormal_returns, b.abnormal_returns)
    pd.testing.assert_frame_equal(a.fits, b.fits)
    pd.testing.assert_frame_equal(a.tests(), b.tests())


@pytest.mark.slow  # a process pool
def test_process_pool_gives_the_serial_tables(study: es.EventStudy, serial: es.StudyResult) -> None:
    with ProcessPoolExecutor(2) as pool:
        _same(serial, study.run(executor=pool, chunk_size=5))


@pytest.mark.slow  # a Dask cluster of worker processes
def test_dask_gives_the_serial_tables(study: es.EventStudy, serial: es.StudyResult) -> None:
    distributed = pytest.importorskip("distributed", reason="Dask is an optional extra")
    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=2, processes=False, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        _same(serial, study.run(executor=client.get_executor()))


def test_per_pair_detail_keeps_the_numbers(study: es.EventStudy, serial: es.StudyResult) -> None:
    """``detail="pairs"`` drops the GARCH variance paths with the other P×T arrays, not the numbers."""
    light = study.run(detail="pairs")
    pd.testing.assert_frame_equal(serial.fits, light.fits)
    cols = ["car", "se", "t_stat", "p_value"]
    pd.testing.assert_frame_equal(serial.car()[cols], light.car()[cols])
    assert light.abnormal_returns.empty


def test_failed_fits_are_excluded_with_the_reason() -> None:
    """A constant series and a too-short estimation window: excluded with the reason; the run goes on."""
    prices = es.load_prices(["^HSI"])
    closes = pd.DataFrame({"^HSI": prices["^HSI"]})
    closes["FLAT"] = 100.0
    closes.index.name = "date"
    ev = es.read_events().filter(start="2025-03-01", end="2025-06-30")
    res = es.EventStudy(ev, closes.reset_index(), symbols=["^HSI", "FLAT"], model="garch").run()
    fits = res.fits
    flat = fits[fits["symbol"] == "FLAT"]
    assert flat["excluded"].all() and flat["reason"].str.contains("constant returns").all()
    assert set(res.car()["symbol"]) == {"^HSI"}
    assert (fits.loc[fits["symbol"] == "^HSI", "reason"].fillna("") == "").any()
    short = es.EventStudy(
        ev, prices, symbols=["^HSI"], model="garch", estimation=(-60, -11), min_estimation=20
    )
    with pytest.raises(es.DataError, match="GARCH\\(1,1\\) needs at least 60"):
        short.run()


@pytest.mark.parametrize("bench", [[], ["--benchmark", "ACWI"]], ids=["constant", "market"])
def test_cli_runs_garch_on_the_bundled_data(tmp_path: Path, bench: list[str]) -> None:
    out = tmp_path / "study"
    # eight events (June–July 2025): the files, columns and report note need no more pairs
    args = ["run", "--model", "garch", *bench, "--symbols", "^HSI,^FTSE", "--start", "2025-06-01"]
    r = runner.invoke(app, [*args, "--end", "2025-07-31", "--out", str(out), "--quiet"])
    assert r.exit_code == 0, r.output
    fits = pd.read_csv(out / "fits.csv")
    names = {"mu", "omega", "alpha", "beta_garch", "persistence", "convergence_flag"}
    assert names <= set(fits.columns) and ("beta" in fits.columns) == bool(bench)
    inc = fits[~fits["excluded"]]
    assert len(inc) > 0 and (inc["persistence"] < 1).all() and (inc["convergence_flag"] == 0).all()
    np.testing.assert_allclose(inc["persistence"], inc["alpha"] + inc["beta_garch"], rtol=1e-9)
    man = json.loads((out / "study.json").read_text())
    assert man["parameters"]["model"] == "garch"
    if bench:
        assert "GARCH mean" in man["benchmark_alignment"]["^HSI"]["model_uses"]
    # the report's header carries what placebo studies found for this model's headline
    from eventstudy.models.garch import PLACEBO_NOTE

    assert html.escape(PLACEBO_NOTE, quote=False) in (out / "index.html").read_text()


def test_summary_and_note_say_what_the_placebo_studies_found(serial: es.StudyResult) -> None:
    """The command line's summary of a GARCH study repeats the placebo note (a constant-mean
    study's does not), and the note's rejection rates are those of bench/results/calibration_garch.md."""
    import re

    from eventstudy.cli_reader import summary_lines
    from eventstudy.models.garch import PLACEBO_NOTE

    assert any(PLACEBO_NOTE in line for line in summary_lines(serial))
    plain = es.EventStudy(
        es.read_events().filter(start="2025-03-01", end="2025-08-31"),
        es.load_prices(SYMBOLS),
        tests=["cluster_t"],
    ).run()
    assert not any("placebo" in line for line in summary_lines(plain))
    md = (Path(__file__).resolve().parents[1] / "bench" / "results" / "calibration_garch.md").read_text()
    row = next(line for line in md.splitlines() if line.startswith("| `cluster_t` |"))
    size = [float(c.split()[0]) for c in row.split("|")[2:6]]  # 0:0, 0:+1, -1:+1, -5:+5
    quoted = [float(x) for x in re.findall(r"(\d+\.\d) %", PLACEBO_NOTE)]
    assert quoted == [size[0], max(size[:3])]


@pytest.mark.parametrize(
    ("args", "code", "word"),
    [
        (["--model", "garsh"], 2, "model"),
        (["--model", "garch", "--beta", "dimson"], 2, "beta"),
        (["--model", "garch", "--lags", "2"], 2, "lags"),
        (["--model", "garch", "--benchmark", "NOPE"], 1, "NOPE"),
    ],
)
def test_bad_options_are_one_line(args: list[str], code: int, word: str) -> None:
    r = runner.invoke(app, ["run", *args])
    assert r.exit_code == code
    lines = [ln for ln in r.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and f"{word}" in lines[0] and "Traceback" not in r.output


@pytest.mark.slow  # three CLI runs and a Dask cluster; the executors' tables are checked above
def test_cli_workers_and_scheduler_write_the_serial_tables(tmp_path: Path) -> None:
    """``--workers 2`` (process pool) and ``--scheduler`` (a Dask cluster) give the serial files."""
    distributed = pytest.importorskip("distributed", reason="Dask is an optional extra")
    args = ["run", "--model", "garch", "--symbols", "^HSI", "--start", "2025-04-01", "--end", "2025-06-30"]

    def run(name: str, *extra: str) -> dict[str, pd.DataFrame]:
        r = runner.invoke(app, [*args, *extra, "--out", str(tmp_path / name), "--quiet"])
        assert r.exit_code == 0, r.output
        return {f: pd.read_csv(tmp_path / name / f) for f in ("car.csv", "fits.csv", "abnormal_returns.csv")}

    serial = run("serial")
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=2, processes=False, dashboard_address=":0"
    ) as cluster:
        for got in (run("pool", "--workers", "2"), run("dask", "--scheduler", cluster.scheduler_address)):
            for f, frame in serial.items():
                pd.testing.assert_frame_equal(frame, got[f], obj=f)
