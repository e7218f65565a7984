"""The estimation-window tests of ``detail="pairs"``, accumulated chunk by chunk, equal the full run.

A study of about 1,300 pairs (110 markets × 12 events) on ragged synthetic
data (missing dates per series, date-only events whose windows are extended,
rounded returns that tie in the ranks, more markets than the per-day tables
split by) is run once with
``detail="full"`` (every pairs × days array in memory, the reference) and with
``detail="pairs"`` in small, uneven chunks, in this process and on a Dask
``LocalCluster``: every test's statistic, p-value, n and note agree (to the
order of floating-point additions), the bootstrap's seeded draws included.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import build_synthetic
from typer.testing import CliRunner

from eventstudy import TESTS, EventStudy, StudyResult
from eventstudy.cli import app
from eventstudy.streamtests import NOT_STREAMED, STREAMED

KEY = ["group_by", "group", "window", "test"]


@pytest.fixture(scope="module")
def study() -> EventStudy:
    symbols = tuple(f"S{i:03d}" for i in range(110))
    rng = np.random.default_rng(7)
    # ten series with returns on a 0.1 % grid: ties within their estimation windows
    rounded = {s: np.round(rng.normal(0.0, 0.01, 600), 3) for s in symbols[:10]}
    syn = build_synthetic(
        seed=11, symbols=symbols, n_events=12, drop={s: 12 for s in symbols[::3]}, returns=rounded
    )
    return EventStudy(
        syn.events, syn.prices, model="market", benchmark="MKT", draws=199, seed=5, calendar="XNYS"
    )


@pytest.fixture(scope="module")
def full(study: EventStudy) -> StudyResult:
    return study.run()


@pytest.fixture(scope="module")
def streamed(study: EventStudy) -> StudyResult:
    return study.run(chunk_size=331, detail="pairs")


def _agree(ref: pd.DataFrame, got: pd.DataFrame) -> None:
    """Same rows in the same order; numbers to 1e-12 relative, n and notes exactly."""
    ref = ref[ref["test"].isin(set(got["test"]))].reset_index(drop=True)
    got = got.reset_index(drop=True)
    pd.testing.assert_frame_equal(ref[KEY], got[KEY])
    for col in ("statistic", "p_value"):
        np.testing.assert_allclose(got[col], ref[col], rtol=1e-12, atol=1e-14, err_msg=col)
    np.testing.assert_array_equal(got["n"], ref["n"])
    np.testing.assert_array_equal(got["note"].fillna(""), ref["note"].fillna(""))


def test_the_data_exercise_the_hard_cases(study: EventStudy, full: StudyResult) -> None:
    """Extended windows, unequal estimation lengths, ties and excluded pairs are present."""
    car = full.car()
    assert (car["extended_by"] > 0).any() and (car["extended_by"] == 0).any()
    assert full.fits["n_est"][~full.fits["excluded"]].nunique() > 1
    assert len(study.symbols) > 50  # the per-day tables leave out the market grouping
    tests = full.tests()
    grank = tests[(tests["test"] == "grank_t") & tests["statistic"].notna()]
    assert len(grank) > 100


def test_every_streamable_test_equals_the_full_run(full: StudyResult, streamed: StudyResult) -> None:
    tests = streamed.tests()
    assert set(tests["test"]) == set(TESTS) - set(NOT_STREAMED)
    assert set(STREAMED) <= set(tests["test"])
    assert tests["statistic"].notna().mean() > 0.5
    _agree(full.tests(), tests)
    pd.testing.assert_frame_equal(full.caar(), streamed.caar())


def test_chunk_size_does_not_matter(study: EventStudy, streamed: StudyResult) -> None:
    _agree(streamed.tests(), study.run(chunk_size=97, detail="pairs").tests())


@pytest.mark.slow  # a Dask cluster of worker processes
def test_dask_local_cluster_gives_the_same_tables(study: EventStudy, streamed: StudyResult) -> None:
    distributed = pytest.importorskip(
        "distributed", reason="Dask is an optional extra: pip install '.[dask]'"
    )
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        res = study.run(executor=client.get_executor(), chunk_size=331, detail="pairs")
    pd.testing.assert_frame_equal(streamed.tests(), res.tests(), check_exact=True)
    pd.testing.assert_frame_equal(streamed.car(), res.car(), check_exact=True)
    pd.testing.assert_frame_equal(streamed.fits, res.fits, check_exact=True)


def test_cli_chunk_size(tmp_path: Path) -> None:
    """``--chunk-size`` changes the chunks, not the tables; a bad value is a usage error (exit 2)."""
    runner = CliRunner()
    base = ["run", "--start", "2025-01-01", "--detail", "pairs", "--symbols", "^HSI,^GDAXI"]
    a = runner.invoke(app, [*base, "--out", str(tmp_path / "a")])
    b = runner.invoke(app, [*base, "--chunk-size", "7", "--out", str(tmp_path / "b")])
    assert a.exit_code == 0 and b.exit_code == 0, a.output + b.output
    ta, tb = pd.read_csv(tmp_path / "a" / "tests.csv"), pd.read_csv(tmp_path / "b" / "tests.csv")
    assert set(STREAMED) <= set(ta["test"])
    pd.testing.assert_frame_equal(ta, tb, check_exact=False, rtol=1e-12, atol=1e-14)
    bad = runner.invoke(app, [*base, "--chunk-size", "0", "--out", str(tmp_path / "c")])
    assert bad.exit_code == 2
    assert "chunk-size" in bad.output and "Traceback" not in bad.output
