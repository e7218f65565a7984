"""Tables built when first read, and the short cuts of a study without tests, against direct references.

* a study run in this process defers the tables ``car()`` does not need, and
  (without tests) the single-day windows of the engine; every table, read in
  any order, equals that of the same study run on an executor, where the
  engine computes every window at once and nothing is left for later;
* the empty tests table of a study without tests equals the runner's table
  over every window and grouping;
* clusters joined by label propagation equal the sparse connected components;
* the calendar days of clusters looked up at the pairs' positions equal the
  day of every position filled in one pass;
* package versions read from the metadata's ``Version`` line equal
  :func:`importlib.metadata.version`.
"""

from __future__ import annotations

import copy
import importlib.metadata as im
import pickle
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from conftest import build_synthetic
from hypothesis import given, settings
from hypothesis import strategies as st

import eventstudy.inference.clusters as cl
from eventstudy import EventStudy, StudyResult
from eventstudy.analysis.multitest import adjust_tests_table
from eventstudy.engine import EngineOutput
from eventstudy.inference.headline import mark_independence
from eventstudy.inference.runner import run_tests
from eventstudy.manifest import _DEPS, version
from eventstudy.pairclusters import _filled_days, _filled_days_at
from eventstudy.panel import Panel, build_panel

READERS = {
    "abnormal_returns": lambda r: r.abnormal_returns,
    "car": lambda r: r.car(),
    "tests": lambda r: r.tests(),
    "caar": lambda r: r.caar(),
    "headlines": lambda r: r.headlines(),
    "volatility": lambda r: r.volatility(by=None),
    "fits": lambda r: r.fits,
    "placebo": lambda r: r.placebo(),
}


def _study(tests: list[str] | None, seed: int = 2) -> EventStudy:
    syn = build_synthetic(seed, n_days=500, n_events=12, drop={"BBB": 15})
    return EventStudy(
        syn.events,
        syn.prices,
        model="market",
        benchmark=syn.benchmark,
        symbols=list(syn.symbols),
        min_estimation=50,
        tests=tests,
        draws=99,
        car_windows=[(0, 0), (-2, 3)],
    )


def _manifest(r: StudyResult) -> dict[str, object]:
    m = copy.deepcopy(r.manifest)
    m.pop("created", None)
    return m


@pytest.mark.parametrize(
    "tests", [[], ["csect_t", "cluster_t", "cluster_cr2_t"], ["corrado_rank", "placebo", "csect_t"]]
)
def test_deferred_tables_equal_those_computed_at_once(tests: list[str]) -> None:
    lazy = _study(tests).run()
    pending = set(lazy.__dict__.get("_pending", {}))
    if {"corrado_rank", "placebo"} & set(tests):  # estimation-window arrays: every table at once
        assert pending == set()
    else:
        assert {"abnormal_returns_table", "caar_table", "headline_table", "volatility_table"} <= pending
        assert ("tests_table" in pending) == (not tests)  # chosen tests run at once
    with ThreadPoolExecutor(1) as ex:  # on an executor every window is computed at once
        eager = _study(tests).run(executor=ex)
    assert _manifest(lazy) == _manifest(eager)
    # read in an order other than the study's own, and from a copy (or a pickled one) for half of them
    twin = copy.copy(lazy) if tests else pickle.loads(pickle.dumps(lazy))
    assert "_pending" not in twin.__dict__  # copying builds the deferred tables first
    for k, (name, read) in enumerate(reversed(READERS.items())):
        got = read(twin if k % 2 else lazy)
        pd.testing.assert_frame_equal(got, read(eager), check_exact=True, obj=name)
    for name, t in lazy.tables().items():
        pd.testing.assert_frame_equal(t, eager.tables()[name], check_exact=True, obj=name)


def test_empty_tests_table_equals_the_runner_over_every_window() -> None:
    study = _study([])
    res = study.run()
    with ThreadPoolExecutor(1) as ex:
        panel, out, kept = _engine(study, ex)
    inputs, labels = study._test_inputs(panel, out, kept)
    car = {k: inputs[k] for k in res.car_windows}
    days = {k: v for k, v in inputs.items() if k not in car}
    day_labels = {k: v for k, v in labels.items() if k != "event"}
    want = adjust_tests_table(
        mark_independence(
            pd.concat([run_tests(car, labels, []), run_tests(days, day_labels, [])], ignore_index=True)
        )
    )
    assert len(days) == 20 and len(want) == 0  # 21 days of the window, 0:0 among the CAR windows
    pd.testing.assert_frame_equal(res.tests_table, want, check_exact=True)


def _engine(study: EventStudy, ex: ThreadPoolExecutor) -> tuple[Panel, EngineOutput, pd.DataFrame]:
    from dataclasses import replace

    from eventstudy.chunks import compute_chunks
    from eventstudy.models import configured_model

    cfg = study.config
    panel = build_panel(study.events, study.prices, study.symbols, cfg, study.mask_events, True)
    model, panel = configured_model(cfg, panel).bind(panel, study.prices, study.events, cfg)
    ecfg = replace(cfg, car_windows=study.engine_windows())
    out = compute_chunks(panel, ecfg, model, 20_000, ex, False, "full")
    return panel, out, panel.pairs.iloc[out.keep].reset_index(drop=True)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 200), st.integers(1, 6), st.integers(1, 30))
def test_propagated_clusters_equal_sparse_components(seed: int, n: int, per: int, reach: int) -> None:
    rng = np.random.default_rng(seed)
    ev = rng.integers(0, max(1, n // per), n)
    first = rng.integers(0, 300, n)
    last = first + rng.integers(0, reach, n)
    first[rng.random(n) < 0.05] = -1
    got = cl.cluster_labels(ev, first, last)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(cl, "_PROPAGATION_ROUNDS", 0)  # straight to connected components
        want = cl.cluster_labels(ev, first, last)
    assert np.array_equal(got, want)


def test_long_chains_fall_back_to_sparse_components() -> None:
    # events alternate with calendar overlaps along a chain far longer than the propagation rounds
    n = 200
    ev = np.arange(n) // 2  # pairs 2k, 2k+1 share an event
    first = np.repeat(np.arange(n // 2) * 10, 2)
    first[1::2] += 5  # the second pair of each event overlaps the next event's first pair
    last = first + np.where(np.arange(n) % 2 == 1, 6, 0)
    got = cl.cluster_labels(ev, first, last)
    assert np.all(got == 0)  # one cluster through the whole chain
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(cl, "_PROPAGATION_ROUNDS", 0)
        assert np.array_equal(cl.cluster_labels(ev, first, last), got)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_filled_days_at_positions_equal_the_whole_array(seed: int) -> None:
    syn = build_synthetic(seed, n_days=400, n_events=10, drop={"AAA": 25, "MKT": 6, "CCC": [0, 1, 2]})
    study = EventStudy(syn.events, syn.prices, model="market", benchmark="MKT", min_estimation=50)
    cfg = study.config
    panel = build_panel(study.events, study.prices, study.symbols, cfg, study.mask_events, True)
    assert np.isnat(panel.dates).any()  # padding and gaps are looked up too
    pos = np.arange(len(panel.dates))
    assert np.array_equal(_filled_days_at(panel, pos), _filled_days(panel))
    grid = np.random.default_rng(seed).integers(0, len(pos), (50, 3))
    assert np.array_equal(_filled_days_at(panel, grid), _filled_days(panel)[grid])
    # a position without a date inside a market's data, and a market's first and last dates
    # missing too: the lookups among the dated positions around them
    dates = panel.dates.copy()
    at = np.random.default_rng(seed).choice(np.flatnonzero(~np.isnat(dates)), 5, replace=False)
    dates[at] = np.datetime64("NaT")
    dates[panel.offsets[1]] = dates[panel.offsets[2] - 1] = np.datetime64("NaT")
    odd = replace(panel, dates=dates)
    assert np.array_equal(_filled_days_at(odd, pos), _filled_days(odd))
    assert np.array_equal(_filled_days_at(replace(odd, markets=[]), pos), _filled_days(odd))  # searched


def test_versions_from_the_metadata_line_equal_importlib() -> None:
    for name in _DEPS:
        try:
            want = im.version(name)
        except im.PackageNotFoundError:
            with pytest.raises(im.PackageNotFoundError):
                version(name)
            continue
        assert version(name) == want


@pytest.mark.parametrize("n_events", [1, 3, 12])
def test_headline_of_equals_the_record_of_the_headline_table(n_events: int) -> None:
    from eventstudy.inference.headline import headline_of, headline_record, robust_table

    syn = build_synthetic(4, n_days=400, n_events=n_events)
    study = EventStudy(syn.events, syn.prices, symbols=list(syn.symbols), min_estimation=50, tests=[])
    with ThreadPoolExecutor(1) as ex:
        panel, out, kept = _engine(study, ex)
    inputs, labels = study._test_inputs(panel, out, kept)
    for w, inp in inputs.items():
        want = headline_record(robust_table({w: inp}, {"all": labels["all"]}), w)
        got = headline_of(inp, w)
        assert got == want
        assert list(got) == list(want)
    assert (headline_of(inputs["0:0"], "0:0")["statistic"] is None) == (n_events == 1)
