"""Per-pair streaming (``detail="pairs"``) and the shared-grid panel give the very same numbers.

* ``compute_chunks(..., detail="pairs")`` and ``iter_chunks`` keep exactly the
  per-pair arrays of ``compute`` on the whole panel, whatever the chunk size
  and the executor, and drop the P×W / P×T arrays;
* ``build_panel`` on many series (some sharing dates, some not, some starting
  after events, events restricted to some symbols) gives every series the same
  returns, pairs and engine results as a panel of that series alone;
* ``EventStudy.run(detail="pairs")`` gives the full run's CARs, fits, CAAR and
  per-pair tests, no abnormal-returns table, and saves, loads and renders.
"""

from __future__ import annotations

import json
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import build_synthetic, random_event_records
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from eventstudy import TESTS, EventStudy, StudyResult, events_from_records, load_prices, read_events
from eventstudy.cli import app
from eventstudy.engine import EngineOutput, chunk_panel, compute, compute_chunks, iter_chunks
from eventstudy.errors import InputError
from eventstudy.panel import Panel, build_panel
from eventstudy.persist import rerender
from eventstudy.streamtests import NOT_STREAMED, STREAMED

PER_PAIR = ("keep", "est_start", "est_end", "car", "car_se", "car_t", "car_p", "car_days", "car_ext")
FIT = ("params", "sigma2", "n", "dof")
WIDE = ("est_day", "evt_idx", "ret", "normal", "ar", "sar", "in_window")


def _study(model: str = "market") -> EventStudy:
    syms = ("AAA", "BBB", "CCC", "DDD", "EEE", "LATE")
    dates = pd.bdate_range("2019-01-01", periods=700).as_unit("ns")
    recs = random_event_records(np.random.default_rng(3), dates, 14, lo=60)
    recs.append(
        {"event_id": "only_aaa", "timestamp": str(dates[400].date()), "title": "x", "symbols": "AAA BBB"}
    )
    syn = build_synthetic(
        seed=5,
        symbols=syms,
        n_days=700,
        records=recs,
        # DDD misses 12 random dates, EEE a block; LATE starts after some events
        drop={"DDD": 12, "EEE": list(range(300, 305)), "LATE": list(range(0, 330))},
    )
    return EventStudy(syn.events, syn.prices, model=model, benchmark="MKT", min_estimation=60)


@pytest.fixture(scope="module")
def setup() -> tuple[EventStudy, Panel, EngineOutput]:
    study = _study()
    panel = _panel(study)
    cfg = replace(study.config, car_windows=study.engine_windows())
    return study, panel, compute(panel, cfg, study.model)


def _panel(study: EventStudy, symbols: list[str] | None = None) -> Panel:
    return build_panel(
        study.events,
        study.prices,
        symbols or study.symbols,
        study.config,
        study.mask_events,
        study.model.needs_benchmark,
    )


def _same_pairs(full: EngineOutput, light: EngineOutput) -> None:
    for name in PER_PAIR:
        a, b = getattr(full, name), getattr(light, name)
        assert a.dtype == b.dtype and a.shape == b.shape, name
        assert np.array_equal(
            a.view("i8") if a.dtype.kind == "M" else a,
            b.view("i8") if b.dtype.kind == "M" else b,
            equal_nan=a.dtype.kind == "f",
        ), name
    for name in FIT:
        np.testing.assert_array_equal(getattr(full.fit, name), getattr(light.fit, name), err_msg=name)
    assert full.excluded == light.excluded


def _is_light(out: EngineOutput) -> None:
    P = len(out.keep)
    assert out.detail == "pairs"
    assert len(out.rel) == 0
    assert out.fit.resid.shape == (P, 0)
    for name in WIDE:
        assert getattr(out, name).shape == (P, 0), name


def test_setup_has_exclusions_and_padding(setup: tuple[EventStudy, Panel, EngineOutput]) -> None:
    _, panel, full = setup
    assert (panel.pairs["reason"] != "").any()  # LATE: day 0 before its first price
    assert len(full.excluded) > 0  # and too few estimation observations
    assert panel.offsets[-1] > panel.starts[-1]  # LATE's windows reach before its data


@pytest.mark.parametrize("chunk", [1, 7, 50, 100_000])
@pytest.mark.parametrize("pool", [None, "thread"])
def test_pairs_detail_equals_compute(
    setup: tuple[EventStudy, Panel, EngineOutput], chunk: int, pool: str | None
) -> None:
    study, panel, full = setup
    cfg = replace(study.config, car_windows=study.engine_windows())
    if pool:
        with ThreadPoolExecutor(2) as ex:
            light = compute_chunks(panel, cfg, study.model, chunk, ex, detail="pairs")
    else:
        light = compute_chunks(panel, cfg, study.model, chunk, detail="pairs")
    _same_pairs(full, light)
    _is_light(light)
    # the full chunked output is unchanged too
    _same_pairs(full, compute_chunks(panel, cfg, study.model, chunk))


def test_pairs_detail_on_a_process_pool(setup: tuple[EventStudy, Panel, EngineOutput]) -> None:
    study, panel, full = setup
    cfg = replace(study.config, car_windows=study.engine_windows())
    with ProcessPoolExecutor(2) as ex:
        light = compute_chunks(panel, cfg, study.model, 40, ex, detail="pairs")
    _same_pairs(full, light)
    _is_light(light)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    chunk=st.integers(1, 200), in_flight=st.integers(1, 5), model=st.sampled_from(["market", "constant-mean"])
)
def test_iter_chunks_any_chunking(chunk: int, in_flight: int, model: str) -> None:
    study = _STUDIES[model]
    panel = _PANELS[model]
    cfg = replace(study.config, car_windows=study.engine_windows())
    full = compute(panel, cfg, study.model, need_resid=False)
    with ThreadPoolExecutor(2) as ex:
        parts = list(iter_chunks(panel, cfg, study.model, chunk, ex, detail="pairs", in_flight=in_flight))
    assert all(len(p.keep) + len(p.excluded) <= chunk for p in parts)
    keep = np.concatenate([p.keep for p in parts])
    np.testing.assert_array_equal(keep, full.keep)
    car_t = np.concatenate([p.car_t for p in parts])
    np.testing.assert_array_equal(car_t, full.car_t)


_STUDIES = {m: _study(m) for m in ("market", "constant-mean")}
_PANELS = {m: _panel(s) for m, s in _STUDIES.items()}


def test_detail_is_checked(setup: tuple[EventStudy, Panel, EngineOutput]) -> None:
    study, panel, _ = setup
    with pytest.raises(ValueError, match="detail"):
        compute(panel, study.config, study.model, detail="everything")  # type: ignore[arg-type]


def test_panel_of_many_equals_panels_of_one(setup: tuple[EventStudy, Panel, EngineOutput]) -> None:
    """Sharing grids between series changes nothing for any one series."""
    study, panel, full = setup
    cfg = replace(study.config, car_windows=study.engine_windows())
    for mk, sym in enumerate(study.symbols):
        one = _panel(study, [sym])
        rows = np.flatnonzero(panel.pairs["mk"].to_numpy() == mk)
        cols = ["event_id", "symbol", "ev", "day0", "day0_latest", "day0_uncertain", "ext", "reason"]
        pd.testing.assert_frame_equal(
            panel.pairs.iloc[rows][cols].reset_index(drop=True), one.pairs[cols].reset_index(drop=True)
        )
        m, m1 = panel.markets[mk], one.markets[0]
        np.testing.assert_array_equal(m.ret, m1.ret)
        np.testing.assert_array_equal(m.bench, m1.bench)
        np.testing.assert_array_equal(m.span, m1.span)
        assert m.sessions.dates.equals(m1.sessions.dates)
        o = compute(panel, cfg, study.model, rows=rows)
        o1 = compute(one, cfg, study.model)
        # exact inputs; the fits come from prefix sums running over the whole long
        # arrays, so they agree to their precision (~1e-13 relative), not bit for bit
        for name in ("ret", "car_days", "in_window"):
            np.testing.assert_array_equal(getattr(o, name), getattr(o1, name), err_msg=f"{sym} {name}")
        for name in ("car", "car_se", "car_t", "ar", "sar"):
            np.testing.assert_allclose(getattr(o, name), getattr(o1, name), rtol=1e-9, atol=1e-15)
        np.testing.assert_allclose(o.fit.params, o1.fit.params, rtol=1e-9, atol=1e-15)
        # positions differ (other markets come first), dates do not
        np.testing.assert_array_equal(panel.dates[o.evt_idx], one.dates[o1.evt_idx])
    assert full.car.shape[0] == len(full.keep)


def test_restricted_events_are_not_shared() -> None:
    """Two series with equal dates but different applicable events get their own pairs and masks."""
    syn = build_synthetic(seed=2, symbols=("AAA", "BBB"), n_days=500)
    dates = syn.dates
    recs = [
        {"event_id": "a", "timestamp": str(dates[300].date()), "title": "a", "symbols": "AAA"},
        {"event_id": "b", "timestamp": str(dates[310].date()), "title": "b"},
    ]
    study = EventStudy(events_from_records(recs), syn.prices, model="market", benchmark="MKT")
    panel = _panel(study)
    assert panel.pairs.groupby("symbol")["event_id"].apply(list).to_dict() == {
        "AAA": ["a", "b"],
        "BBB": ["b"],
    }
    assert panel.masked[panel.offsets[0] + 300 - 1 : panel.offsets[0] + 300 + 2].all()
    bstart = panel.offsets[1]
    assert not panel.masked[bstart + 299 : bstart + 302].any()
    assert panel.masked[bstart + 309 : bstart + 312].all()


# ----------------------------------------------------------------- study level
@pytest.fixture(scope="module")
def snapshot() -> tuple[EventStudy, StudyResult, StudyResult]:
    study = EventStudy(
        read_events().filter(start="2024-01-01"),
        load_prices(["^HSI", "^GDAXI", "^FTSE", "ACWI"]),
        model="market",
        benchmark="ACWI",
    )
    return study, study.run(), study.run(detail="pairs")


def test_run_pairs_detail(snapshot: tuple[EventStudy, StudyResult, StudyResult]) -> None:
    """CARs, fits and CAAR are those of the full run; only per-pair tests, with the same numbers."""
    _, full, light = snapshot
    # no daily SARs kept, so no volatility ratios (car.csv's vol_ratio, volatility.csv)
    pd.testing.assert_frame_equal(full.car().drop(columns="vol_ratio"), light.car().drop(columns="vol_ratio"))
    assert light.car()["vol_ratio"].isna().all() and light.volatility().empty
    pd.testing.assert_frame_equal(full.fits, light.fits)
    pd.testing.assert_frame_equal(full.caar(), light.caar())
    assert len(light.abnormal_returns) == 0
    assert list(light.abnormal_returns.columns) == list(full.abnormal_returns.columns)
    per_pair = {name for name, spec in TESTS.items() if not spec.uses_estimation}
    # the estimation-window tests are accumulated chunk by chunk, all but the KP ones
    run = per_pair | set(STREAMED)
    assert set(light.tests()["test"]) == run == set(TESTS) - set(NOT_STREAMED)
    cols = ["group_by", "group", "window", "test", "statistic", "p_value", "n", "note"]
    ft = full.tests()
    ft = ft[ft["test"].isin(run)].reset_index(drop=True)
    pd.testing.assert_frame_equal(ft[cols], light.tests()[cols], check_exact=False, rtol=1e-12, atol=1e-14)
    assert light.manifest["parameters"]["detail"] == "pairs"
    assert sorted(light.manifest["parameters"]["tests"]) == sorted(run)
    assert "detail" not in full.manifest["parameters"]
    assert light.market_returns == {}


def test_run_pairs_detail_any_executor(snapshot: tuple[EventStudy, StudyResult, StudyResult]) -> None:
    study, _, light = snapshot
    with ThreadPoolExecutor(2) as ex:
        other = study.run(executor=ex, chunk_size=7, detail="pairs")
    pd.testing.assert_frame_equal(light.car(), other.car())
    pd.testing.assert_frame_equal(light.tests(), other.tests())


def test_run_rejects_unknown_detail(snapshot: tuple[EventStudy, StudyResult, StudyResult]) -> None:
    with pytest.raises(InputError, match="detail"):
        snapshot[0].run(detail="ar")  # type: ignore[arg-type]


def test_pairs_result_save_load_report(
    snapshot: tuple[EventStudy, StudyResult, StudyResult], tmp_path: Path
) -> None:
    _, _, light = snapshot
    light.save(tmp_path / "s")
    html = (tmp_path / "s" / "index.html").read_text("utf-8")
    assert 'id="per-pair-only"' in html
    assert 'id="fig-ar-event"' not in html
    back = StudyResult.load(tmp_path / "s")
    assert back.manifest["parameters"]["detail"] == "pairs"
    assert len(back.abnormal_returns) == 0
    assert len(back.car()) == len(light.car())
    np.testing.assert_allclose(back.car()["t_stat"], light.car()["t_stat"], rtol=1e-9)
    assert set(back.tests()["test"]) == set(light.tests()["test"])
    rerender(tmp_path / "s")
    assert 'id="per-pair-only"' in (tmp_path / "s" / "index.html").read_text("utf-8")


def test_cli_detail_pairs(tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "study"
    r = runner.invoke(app, ["run", "--start", "2025-01-01", "--detail", "pairs", "--out", str(out)])
    assert r.exit_code == 0, r.output
    # no abnormal returns: the file is not written, and study.json says why
    assert not (out / "abnormal_returns.csv").exists()
    omitted = json.loads((out / "study.json").read_text("utf-8"))["omitted_files"]
    assert "--detail pairs" in omitted["abnormal_returns.csv"]
    assert len(pd.read_csv(out / "car.csv")) > 0
    bad = runner.invoke(app, ["run", "--detail", "everything", "--out", str(tmp_path / "x")])
    assert bad.exit_code == 2
    assert "detail" in bad.output


@pytest.mark.parametrize("chunk", [1, 9, 64])
def test_chunk_panels_give_every_array(setup: tuple[EventStudy, Panel, EngineOutput], chunk: int) -> None:
    """On an executor each chunk ships only its part of the panel; every array is unchanged."""
    study, panel, full = setup
    cfg = replace(study.config, car_windows=study.engine_windows())
    with ThreadPoolExecutor(2) as ex:
        out = compute_chunks(panel, cfg, study.model, chunk, ex)
    _same_pairs(full, out)
    for name in WIDE:
        a, b = getattr(full, name), getattr(out, name)
        assert a.dtype == b.dtype and a.shape == b.shape, name
        np.testing.assert_array_equal(a, b, err_msg=name)
    np.testing.assert_array_equal(full.fit.resid, out.fit.resid)
    np.testing.assert_array_equal(full.fit.xtx_inv, out.fit.xtx_inv)


def test_chunk_panel_is_small(setup: tuple[EventStudy, Panel, EngineOutput]) -> None:
    study, panel, _ = setup
    rows = np.arange(10, 20)
    sub, lo = chunk_panel(panel, study.config, rows, True)
    assert len(sub.pairs) == 10
    assert len(sub.R) < len(panel.R) / 2
    np.testing.assert_array_equal(sub.R, panel.R[lo : lo + len(sub.R)])
