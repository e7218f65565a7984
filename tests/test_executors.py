"""Results do not depend on the executor or the chunk size (process pool, Dask)."""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import pandas as pd
import pytest

import eventstudy as es


@pytest.fixture(scope="module")
def study() -> es.EventStudy:
    return es.EventStudy(
        es.read_events().filter(start="2024-01-01"),
        es.load_prices(["^HSI", "^GDAXI", "^FTSE", "ACWI"]),
        model="market",
        benchmark="ACWI",
    )


@pytest.fixture(scope="module")
def serial(study: es.EventStudy) -> es.StudyResult:
    return study.run()


def _same(a: es.StudyResult, b: es.StudyResult) -> None:
    pd.testing.assert_frame_equal(a.car(), b.car())
    pd.testing.assert_frame_equal(a.abnormal_returns, b.abnormal_returns)
    pd.testing.assert_frame_equal(a.fits, b.fits)
    pd.testing.assert_frame_equal(a.tests(), b.tests())


@pytest.mark.parametrize("chunk", [1, 7, 50, 10_000])
def test_chunk_size_does_not_matter(study: es.EventStudy, serial: es.StudyResult, chunk: int) -> None:
    _same(serial, study.run(chunk_size=chunk, executor=ThreadPoolExecutor(2)))


@pytest.mark.slow  # a process pool
def test_process_pool(study: es.EventStudy, serial: es.StudyResult) -> None:
    with ProcessPoolExecutor(2) as pool:
        _same(serial, study.run(executor=pool, chunk_size=40))


@pytest.mark.slow  # a Dask cluster of worker processes
def test_dask_local_cluster(study: es.EventStudy, serial: es.StudyResult) -> None:
    distributed = pytest.importorskip(
        "distributed", reason="Dask is an optional extra: pip install '.[dask]'"
    )
    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=2, processes=False, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        _same(serial, study.run(executor=client.get_executor(), chunk_size=30))


def test_per_pair_tests_skip_the_estimation_arrays(study: es.EventStudy, serial: es.StudyResult) -> None:
    """With only per-pair tests the P×T estimation arrays are not built; the numbers do not change."""
    light = es.EventStudy(
        study.events,
        study.prices,
        model="market",
        benchmark="ACWI",
        symbols=study.symbols,
        tests=["csect_t", "patell_z", "bmp_t", "sign_z"],
    ).run()
    pd.testing.assert_frame_equal(serial.car(), light.car())
    pd.testing.assert_frame_equal(serial.abnormal_returns, light.abnormal_returns)
    full = serial.tests()
    full = full[full["test"].isin(["csect_t", "bmp_t", "patell_z", "sign_z"])].reset_index(drop=True)
    pd.testing.assert_frame_equal(
        full[["group_by", "group", "window", "test", "statistic", "p_value"]],
        light.tests()[["group_by", "group", "window", "test", "statistic", "p_value"]],
    )
