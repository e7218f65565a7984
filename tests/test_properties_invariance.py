"""Invariants of a study under relabelling and rescaling, checked with hypothesis.

* the results do not depend on the order of the events or of the symbols;
* scaling a price series by a positive constant leaves every number unchanged.

(Kept apart from :mod:`test_properties` so that the two halves run on different
test workers.)
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from conftest import build_synthetic
from hypothesis import example, given
from hypothesis import strategies as st
from property_helpers import COSTLY, N_DAYS, SETTINGS, models, run, seeds, sorted_by

from eventstudy import Prices, events_from_records


# ---------------------------------------------------------------------- order
@COSTLY  # two studies with tests an example: 12 drawn, and each model at the extremes of the sizes
@given(seed=seeds, model=models, n_events=st.integers(2, 8), perm_seed=seeds)
@example(seed=0, model="constant-mean", n_events=2, perm_seed=4)  # events and symbols permuted
@example(seed=1, model="market-adjusted", n_events=8, perm_seed=2)
@example(seed=2, model="market", n_events=8, perm_seed=3)
def test_order_of_events_and_symbols_does_not_matter(
    seed: int, model: str, n_events: int, perm_seed: int
) -> None:
    syn = build_synthetic(seed=seed, n_days=N_DAYS, n_events=n_events, drop={"BBB": 5, "MKT": 5})
    rng = np.random.default_rng(perm_seed)
    recs = [syn.records[i] for i in rng.permutation(len(syn.records))]
    syms = [syn.symbols[i] for i in rng.permutation(len(syn.symbols))]
    closes = {s: syn.prices[s] for s in [*syms, syn.benchmark][:: 1 if rng.random() < 0.5 else -1]}
    a = run(syn, model)
    b = run(syn, model, prices=Prices(closes, "synthetic"), events=events_from_records(recs), symbols=syms)

    keys = ["event_id", "symbol", "window"]
    ca, cb = sorted_by(a.car(), keys), sorted_by(b.car(), keys)
    for c in (ca, cb):  # the ids listed in `overlaps` are a set
        c["overlaps"] = c["overlaps"].map(lambda s: " ".join(sorted(s.split())))
    pd.testing.assert_frame_equal(ca, cb, check_exact=False, rtol=1e-12, atol=1e-15)
    k2 = ["event_id", "symbol", "rel_day"]
    pd.testing.assert_frame_equal(
        sorted_by(a.abnormal_returns, k2), sorted_by(b.abnormal_returns, k2), check_exact=False, rtol=1e-12
    )
    pd.testing.assert_frame_equal(
        sorted_by(a.fits, ["event_id", "symbol"]),
        sorted_by(b.fits, ["event_id", "symbol"]),
        check_exact=False,
        rtol=1e-12,
    )
    k3 = ["group_by", "group", "window", "test"]
    pd.testing.assert_frame_equal(
        sorted_by(a.tests(), k3), sorted_by(b.tests(), k3), check_exact=False, rtol=1e-9, atol=1e-12
    )


# ---------------------------------------------------------------------- scale
@SETTINGS
@given(
    seed=seeds,
    model=models,
    n_events=st.integers(1, 6),
    scale=st.floats(1e-3, 1e3),
    which=st.sets(st.sampled_from(["AAA", "BBB", "CCC", "MKT"]), min_size=1),
)
def test_scaling_prices_changes_nothing(
    seed: int, model: str, n_events: int, scale: float, which: set[str]
) -> None:
    syn = build_synthetic(seed=seed, n_days=N_DAYS, n_events=n_events, drop={"CCC": 7, "MKT": 3})
    scaled = Prices({s: c * scale if s in which else c for s, c in syn.prices.closes.items()}, "synthetic")
    a, b = run(syn, model, tests=()), run(syn, model, prices=scaled, tests=())
    k = ["event_id", "symbol", "rel_day"]
    xa, xb = sorted_by(a.abnormal_returns, k), sorted_by(b.abnormal_returns, k)
    for c in ("return", "normal_return", "ar", "car"):
        np.testing.assert_allclose(xa[c], xb[c], rtol=0, atol=1e-12, err_msg=c)
    np.testing.assert_allclose(xa["sar"], xb["sar"], rtol=1e-9, atol=1e-10)
    k = ["event_id", "symbol", "window"]
    ca, cb = sorted_by(a.car(), k), sorted_by(b.car(), k)
    np.testing.assert_allclose(ca["car"], cb["car"], rtol=0, atol=1e-12)
    for c in ("se", "t_stat", "p_value"):
        np.testing.assert_allclose(ca[c], cb[c], rtol=1e-9, atol=1e-12, err_msg=c)
    np.testing.assert_array_equal(ca["n_est"], cb["n_est"])
