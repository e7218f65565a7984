"""Windows handed to a test's ``batch_windows`` a few at a time give the table of all at once.

* :func:`eventstudy.inference.runner.window_batches` cuts the windows into
  consecutive runs covering each window once, each run within the bound of
  entries unless it is a single window (hypothesis);
* ``run_tests`` with a bound small enough to give each window its own pass
  (or two windows a pass) returns the same table as with every window in one
  pass, and as the per-group reference, and leaves nothing in the windows' memos
  (with the heap trimmed after each window, as for large studies).
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_inference_synth import make_input, replace

from eventstudy.inference import TESTS, runner
from eventstudy.inference.runner import run_tests, window_batches


@settings(max_examples=80, deadline=None)
@given(
    sizes=st.lists(st.integers(0, 50), max_size=12),
    n_groupings=st.integers(0, 5),
    bound=st.integers(0, 400),
)
def test_batches_are_consecutive_runs_within_the_bound(
    sizes: list[int], n_groupings: int, bound: int
) -> None:
    batches = window_batches(sizes, n_groupings, bound)
    assert [w for b in batches for w in b] == list(range(len(sizes)))
    assert all(b == list(range(b[0], b[0] + len(b))) for b in batches)
    for b in batches:
        held = sum(sizes[w] for w in b) * max(n_groupings, 1)
        assert len(b) == 1 or held <= bound
    # a run is cut only when the next window would not fit
    for b, nxt in itertools.pairwise(batches):
        assert (sum(sizes[w] for w in b) + sizes[nxt[0]]) * max(n_groupings, 1) > bound


def _inputs(n: int) -> dict[str, object]:
    base = make_input(n=n, seed=7)
    shared: dict[object, object] = {}
    rng = np.random.default_rng(7)
    return {
        f"w{k}": replace(base, car=base.car * rng.uniform(0.5, 2, n) + 0.1 * k, cache=shared)
        for k in range(5)
    }


@pytest.mark.parametrize("bound", [1, 2 * 40 * 3])
def test_windows_in_several_passes_give_the_table_of_one(bound: int, monkeypatch: pytest.MonkeyPatch) -> None:
    n = 40
    rng = np.random.default_rng(1)
    labels = {
        "all": np.full(n, "all", dtype=object),
        "g": np.array([f"g{k}" for k in rng.integers(0, 4, n)], dtype=object),
        "h": np.array([f"h{k}" for k in rng.integers(0, 2, n)], dtype=object),
    }
    specs = [TESTS["wild_bootstrap"], TESTS["csect_t"]]
    whole = run_tests(_inputs(n), labels, specs)  # the default bound: one pass
    inputs = _inputs(n)
    monkeypatch.setattr(runner, "SWEEP_ENTRIES", bound)
    monkeypatch.setattr(runner, "TRIM_PAIRS", 0)  # the heap trimmed after every window too
    assert len(window_batches([n] * 5, 3)) == (5 if bound == 1 else 3)
    cut = run_tests(inputs, labels, specs)
    pd.testing.assert_frame_equal(cut, whole)
    looped = run_tests(_inputs(n), labels, specs, batched=False)
    np.testing.assert_allclose(cut["p_value"], looped["p_value"], rtol=0, atol=1e-12)
    assert all(not inp.memo for inp in inputs.values())
