"""Group quantities shared by the tests of one window: the same numbers as computed apart."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from test_inference_synth import make_input, replace

from eventstudy.inference import Groups
from eventstudy.inference.grouped import mean_t_batch, moments
from eventstudy.inference.groupmemo import car_count, group_stats, mean_t_shared


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 2**31 - 1),
    n=st.integers(1, 40),
    n_groups=st.integers(1, 6),
    missing=st.sampled_from([0.0, 0.2, 0.6]),
)
def test_shared_t_and_counts_match_a_loop_and_the_unshared_form(seed, n, n_groups, missing):
    rng = np.random.default_rng(seed)
    inp = make_input(n=n, seed=seed % 1000)
    car = inp.car.copy()
    car[rng.random(n) < missing] = np.nan
    car[rng.random(n) < 0.2] = 0.5  # ties: groups without variation
    inp = replace(inp, car=car)
    groups = Groups.from_labels(rng.integers(0, n_groups, n).astype(str))
    for name in ("car", "scar"):
        values = inp.car if name == "car" else inp.scar
        t, cnt, reasons = mean_t_shared(inp, groups, name)
        again = mean_t_shared(inp, groups, name)  # from the memo: the same numbers
        ref = mean_t_batch(groups, values, np.isfinite(values))
        m = moments(groups, values, np.isfinite(values))
        for got_stat, want_stat in zip(
            group_stats(inp, groups, name), (m.n, m.mean, m.sd, m.constant), strict=True
        ):
            np.testing.assert_array_equal(got_stat, want_stat)
        for got in (t, again[0]):
            np.testing.assert_array_equal(got, ref[0])
        np.testing.assert_array_equal(cnt, ref[1])
        assert [why for _, why in reasons] == [why for _, why in ref[2]]
        for (a, _), (b, _) in zip(reasons, ref[2], strict=True):
            np.testing.assert_array_equal(a, b)
        # against scipy, group by group
        for g in range(groups.size):
            v = values[(groups.codes == g) & np.isfinite(values)]
            assert cnt[g] == len(v)
            if len(v) >= 2 and v.max() > v.min():
                np.testing.assert_allclose(t[g], stats.ttest_1samp(v, 0.0).statistic, rtol=1e-10)
    want = [int(np.isfinite(inp.car[groups.codes == g]).sum()) for g in range(groups.size)]
    np.testing.assert_array_equal(car_count(inp, groups), want)


def test_memo_is_per_input_and_per_grouping():
    inp = make_input(n=20, seed=3)
    other = replace(inp, car=-inp.car)  # another window: its own memo
    groups = Groups.from_labels(np.array(["a", "b"] * 10))
    whole = Groups.from_labels(np.array(["all"] * 20))
    t = mean_t_shared(inp, groups, "car")[0]
    np.testing.assert_array_equal(mean_t_shared(other, groups, "car")[0], -t)
    assert mean_t_shared(inp, whole, "car")[0].shape == (1,)
    np.testing.assert_array_equal(mean_t_shared(inp, groups, "car")[0], t)
