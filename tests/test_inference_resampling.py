"""Wild bootstrap and estimation-window placebo against per-draw / per-position loops."""

from __future__ import annotations

import itertools
import math
import statistics

import numpy as np
import pytest
from test_inference_synth import make_input, replace

from eventstudy.inference import TESTS, TestInput

ALL = np.arange(12)
SUB = np.array([0, 1, 2, 5, 6, 9, 11])


def ref_wild(inp: TestInput, idx: np.ndarray) -> tuple[float, float]:
    """One draw at a time, with the documented flip stream (rows ↔ sorted CARs)."""
    x = sorted(float(inp.car[i]) for i in idx if math.isfinite(inp.car[i]))
    n, b = len(x), inp.draws
    # blocks of 4096 rows, block k from default_rng([seed, k]); one block covers these groups
    flips = 2 * np.random.default_rng([inp.seed, 0]).integers(0, 2, size=(4096, b), dtype=np.int8)[:n] - 1
    t_obs = statistics.mean(x) / (statistics.stdev(x) / math.sqrt(n))
    extreme = 0
    for d in range(b):
        y = [x[j] * int(flips[j, d]) for j in range(n)]
        sd = statistics.stdev(y)
        t_b = math.inf if sd == 0 else statistics.mean(y) / (sd / math.sqrt(n))
        extreme += abs(t_b) >= abs(t_obs) * (1 - 1e-10)
    return t_obs, (1 + extreme) / (1 + b)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("idx", [ALL, SUB], ids=["all", "subset"])
def test_wild_bootstrap_against_loop(seed: int, idx: np.ndarray) -> None:
    inp = make_input(seed=seed, effect=0.4)
    t, p = ref_wild(inp, idx)
    r = TESTS["wild_bootstrap"].func(inp, idx)
    assert r.statistic == pytest.approx(t, rel=1e-12)
    assert r.p_value == pytest.approx(p, rel=1e-12)
    assert "B=199" in r.note


def test_wild_bootstrap_seeded_and_draws_configurable() -> None:
    inp = make_input(seed=3, effect=0.3)
    a = TESTS["wild_bootstrap"].func(inp, ALL)
    assert TESTS["wild_bootstrap"].func(replace(inp), ALL) == a
    other = TESTS["wild_bootstrap"].func(replace(inp, seed=8), ALL)
    assert other.statistic == a.statistic
    big = TESTS["wild_bootstrap"].func(replace(inp, draws=999), ALL)
    assert "B=999" in big.note
    assert big.p_value * 1000 == pytest.approx(round(big.p_value * 1000))


def test_wild_bootstrap_approaches_exact_sign_flip_p() -> None:
    """With many draws the p-value tends to the exact share over all 2^N flips."""
    inp = make_input(n=8, seed=5, effect=0.6, missing=0.0)
    x = inp.car
    t_obs = x.mean() / (x.std(ddof=1) / math.sqrt(8))
    ts = []
    for s in itertools.product([-1, 1], repeat=8):
        y = x * np.array(s)
        ts.append(abs(y.mean() / (y.std(ddof=1) / math.sqrt(8))))
    exact = float(np.mean(np.array(ts) >= abs(t_obs) * (1 - 1e-10)))
    r = TESTS["wild_bootstrap"].func(replace(inp, draws=20000), np.arange(8))
    assert r.p_value == pytest.approx(exact, abs=0.01)


def ref_placebo(inp: TestInput, idx: np.ndarray) -> tuple[float, float, int]:
    """Position by position, pair by pair."""
    used = [i for i in idx if math.isfinite(inp.car[i])]
    t = inp.est_resid.shape[1]
    assert inp.window_len is not None
    lengths = {i: int(inp.window_len[i]) for i in used}
    caars = []
    for k in range(t - min(lengths.values()) + 1):
        vals = []
        for i in used:
            if k + lengths[i] > t:
                continue
            days = [v for v in inp.est_resid[i, k : k + lengths[i]] if math.isfinite(v)]
            if days:
                vals.append(sum(days))
        if vals:
            caars.append(sum(vals) / len(vals))
    obs = sum(inp.car[i] for i in used) / len(used)
    extreme = sum(abs(c) >= abs(obs) * (1 - 1e-10) for c in caars)
    return obs, (1 + extreme) / (1 + len(caars)), len(caars)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("idx", [ALL, SUB], ids=["all", "subset"])
def test_placebo_against_loop(seed: int, idx: np.ndarray) -> None:
    inp = make_input(seed=seed, effect=0.8, missing=0.2)
    obs, p, b = ref_placebo(inp, idx)
    r = TESTS["placebo"].func(inp, idx)
    assert r.statistic == pytest.approx(obs, rel=1e-12)
    assert r.p_value == pytest.approx(p, rel=1e-12)
    assert f"B={b} positions" in r.note


def test_placebo_with_pair_specific_lengths() -> None:
    inp = make_input(seed=4, effect=0.5, missing=0.1)
    lengths = np.where(np.arange(12) % 3 == 0, 5, 3)  # date-only extension of some pairs
    ext = replace(inp, window_len=lengths)
    _, p, b = ref_placebo(ext, ALL)
    r = TESTS["placebo"].func(ext, ALL)
    assert r.p_value == pytest.approx(p, rel=1e-12)
    assert f"B={b} positions" in r.note


@pytest.mark.parametrize("seed", [0, 1])
def test_placebo_group_sums_with_empty_positions_against_loop(seed: int) -> None:
    """Masked pairs and positions without any available day: counts and sums of every group,
    for two masks and two groupings sharing the study cache, equal a loop over pairs."""
    from eventstudy.inference import Groups
    from eventstudy.inference.placebo import placebo_group_sums

    inp = make_input(seed=seed, effect=0.3, missing=0.6)
    t = inp.est_resid.shape[1]
    span = int(inp.window_len[0]) if inp.window_len is not None else 3
    inp = replace(inp, window_len=np.full(12, span))
    rng = np.random.default_rng(seed)
    for labels in (np.arange(12) % 3, (np.arange(12) >= 5).astype(int)):
        groups = Groups.from_labels(labels.astype(str))
        for mask in (np.ones(12, dtype=bool), rng.random(12) < 0.6):
            total, count = placebo_group_sums(inp, groups, mask)
            for g in range(groups.size):
                members = [i for i in range(12) if mask[i] and groups.codes[i] == g]
                for k in range(t - span + 1):
                    days = [inp.est_resid[i, k : k + span] for i in members]
                    have = [d[np.isfinite(d)] for d in days if np.isfinite(d).any()]
                    assert count[g, k] == len(have)
                    assert total[g, k] == pytest.approx(sum(float(np.sum(d)) for d in have), abs=1e-12)
    assert any(key[0] == "placebo_empty" for key in inp.cache if isinstance(key, tuple))


def test_placebo_defaults_to_available_days() -> None:
    inp = make_input(seed=2, effect=0.5, missing=0.0)
    a = TESTS["placebo"].func(replace(inp, window_len=None), ALL)
    b = TESTS["placebo"].func(inp, ALL)
    assert a == b  # no missing window day: days equal the nominal length


def test_placebo_window_longer_than_estimation_gives_reason() -> None:
    inp = make_input(seed=2)
    r = TESTS["placebo"].func(replace(inp, window_len=np.full(12, 500)), ALL)
    assert np.isnan(r.statistic) and "does not fit" in r.note


def test_flip_matrix_blocks_and_bounded_products(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rows come in blocks of FLIP_BLOCK from their own generators; products drawn block by block agree."""
    from eventstudy.inference import flips as fl

    monkeypatch.setattr(fl, "FLIP_BLOCK", 8)
    full = fl.rademacher(3, 21, 5)
    for k in range(3):
        block = 2 * np.random.default_rng([3, k]).integers(0, 2, size=(8, 5), dtype=np.int8) - 1
        np.testing.assert_array_equal(full[8 * k : 8 * k + 8], block[: min(8, 21 - 8 * k)])
    np.testing.assert_array_equal(fl.rademacher(3, 13, 5), full[:13])
    inp = make_input(n=21, seed=1)
    x = np.random.default_rng(0).standard_normal((4, 21))
    monkeypatch.setattr(fl, "_FLIP_CACHE_BYTES", 0)  # no float matrix: int8 signs kept
    expected = x @ fl.rademacher(inp.seed, 21, 5)
    small = replace(inp)
    np.testing.assert_allclose(fl.flip_products(small, x, 5), expected, rtol=1e-12)
    assert any(isinstance(k, tuple) and k[0] == "rademacher_int8" for k in small.cache)
    monkeypatch.setattr(fl, "_INT8_CACHE_BYTES", 0)  # no int8 signs either: packed bits kept
    packed = replace(inp)
    np.testing.assert_allclose(fl.flip_products(packed, x, 5), expected, rtol=1e-12)
    assert any(isinstance(k, tuple) and k[0] == "rademacher_bits" for k in packed.cache)
    monkeypatch.setattr(fl, "_PACKED_CACHE_BYTES", 0)  # nothing kept: blocks drawn per product
    np.testing.assert_allclose(fl.flip_products(replace(inp), x, 5), expected, rtol=1e-12)
