"""Every test's group-vectorized form against the same test called group by group.

The per-group forms are themselves checked against independent references
(plain loops, scipy, hand-worked cases) in the other ``test_inference_*``
files; here the batch forms must reproduce them on every group of a
grouping: the default study on the bundled snapshot, and random inputs with
missing values, ties, tiny groups and overlapping windows.
"""

from __future__ import annotations

import re
from dataclasses import replace as dc_replace

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_inference_synth import make_input, replace

from eventstudy import EventStudy
from eventstudy.engine import compute_chunks
from eventstudy.inference import TESTS, Groups, TestInput
from eventstudy.inference.runner import run_tests
from eventstudy.markets import DEFAULT_SYMBOLS
from eventstudy.panel import build_panel

_NUM = re.compile(r"-?\d+\.\d+(e[-+]?\d+)?")


def _assert_same(batched: pd.DataFrame, looped: pd.DataFrame, rtol: float = 1e-9) -> None:
    assert list(batched.columns) == list(looped.columns)
    assert len(batched) == len(looped)
    for col in ("group_by", "group", "window", "test"):
        assert (batched[col].to_numpy() == looped[col].to_numpy()).all(), col
    assert (batched["n"].to_numpy() == looped["n"].to_numpy()).all()
    for col in ("statistic", "p_value"):
        a, b = batched[col].to_numpy(float), looped[col].to_numpy(float)
        bad = ~np.isclose(a, b, rtol=rtol, atol=1e-12, equal_nan=True)
        assert not bad.any(), batched.loc[bad].assign(looped=b[bad]).to_string()
    na = np.array([_NUM.sub("#", s) for s in batched["note"]])
    nb = np.array([_NUM.sub("#", s) for s in looped["note"]])
    assert (na == nb).all(), batched.loc[na != nb, "note"].to_string()


def _study_inputs(events, prices):  # type: ignore[no-untyped-def]
    study = EventStudy(events, prices)
    cfg = study.config
    panel = build_panel(study.events, study.prices, study.symbols, cfg, study.mask_events, False)
    out = compute_chunks(
        panel, dc_replace(cfg, car_windows=study.engine_windows()), study.model, 20_000, None, True
    )
    kept = panel.pairs.iloc[out.keep].reset_index(drop=True)
    return study._test_inputs(panel, out, kept)


@pytest.fixture(scope="module")
def default_inputs(snapshot_events, snapshot_prices):  # type: ignore[no-untyped-def]
    """The default study's test inputs and group labels (tests pass fresh caches where it matters)."""
    return _study_inputs(snapshot_events, snapshot_prices.select(list(DEFAULT_SYMBOLS)))


@pytest.mark.slow  # every test group by group on the default study; random inputs below run by default
def test_batch_equals_per_group_on_the_default_study(default_inputs) -> None:  # type: ignore[no-untyped-def]
    inputs, labels = default_inputs
    specs = list(TESTS.values())
    windows = {k: inputs[k] for k in ("0:0", "-1:+1", "-5:+5", "+3:+3") if k in inputs}
    assert len(windows) == 4
    batched = run_tests(windows, labels, specs)
    # the per-group forms on fresh caches: nothing computed by the batch forms is reused
    fresh = dict(zip(windows, [replace(v) for v in windows.values()], strict=True))
    looped = run_tests(fresh, labels, specs, batched=False)
    _assert_same(batched, looped)
    # the whole battery ran: every test has a finite statistic somewhere, per grouping
    ok = batched.dropna(subset=["statistic"])
    assert set(ok["test"]) == set(TESTS)
    assert set(ok["group_by"]) == set(labels)


def _kp_input(rng: np.random.Generator, n: int, win: int) -> TestInput:
    """make_input plus calendar window days: a few event dates shared by several pairs."""
    base = make_input(n=n, seed=int(rng.integers(1 << 30)), missing=0.1, common=0.3)
    starts = rng.choice([0, 1, 3, 40], size=n)
    window_day = 500 + starts[:, None] + np.arange(win)[None, :]
    window_day = np.where(rng.random((n, win)) < 0.1, -1, window_day)
    return replace(base, window_day=window_day.astype(np.int64))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**31 - 1),
    n=st.integers(1, 40),
    n_groups=st.integers(1, 6),
    ties=st.booleans(),
    no_event_ar=st.booleans(),
    kp=st.booleans(),
)
def test_batch_equals_per_group_on_random_inputs(
    seed: int, n: int, n_groups: int, ties: bool, no_event_ar: bool, kp: bool
) -> None:
    rng = np.random.default_rng(seed)
    inp = _kp_input(rng, n, 3) if kp else make_input(n=n, seed=seed % 10_000, missing=0.1)
    if ties:  # rounded CARs: ties, zeros and constant groups
        inp = replace(inp, car=np.round(inp.car, 0))
    if no_event_ar:
        inp = replace(inp, event_ar=None)
    nan = rng.random(n) < 0.1
    car = inp.car.copy()
    car[nan] = np.nan
    inp = replace(inp, car=car)
    labels = {
        "all": np.full(n, "all", dtype=object),
        "g": np.array([f"g{k}" for k in rng.integers(0, n_groups, n)], dtype=object),
    }
    specs = list(TESTS.values())
    looped = run_tests({"w": replace(inp)}, labels, specs, batched=False)
    _assert_same(run_tests({"w": inp}, labels, specs), looped)


def test_groups_helpers() -> None:
    g = Groups.from_labels(np.array(["b", "a", "b", "c", "a"], dtype=object))
    assert g.names == ("a", "b", "c")
    mask = np.array([True, True, False, True, True])
    assert g.count(mask).tolist() == [2, 1, 1]
    v = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    assert g.total(v, mask).tolist() == [7.0, 1.0, 4.0]
    assert [m.tolist() for m in g.members(mask)] == [[1, 4], [0], [3]]
    assert np.asarray(g.matrix(mask) @ v).tolist() == [7.0, 1.0, 4.0]
    order, starts = g.sorted_within(-v, mask)
    assert order.tolist() == [4, 1, 0, 3] and starts.tolist() == [0, 2, 3, 4]


@pytest.mark.parametrize("name", sorted(TESTS))
def test_every_registered_test_has_a_batch_form(name: str) -> None:
    assert TESTS[name].batch is not None


@pytest.mark.parametrize("atom_links", [0, 64])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_kp_atom_sums_equal_the_pair_by_pair_blocks(
    seed: int, atom_links: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Large-study paths: r̄ from the atoms' group sums (or block matrices) vs the per-group blocks."""
    import eventstudy.inference.crosscorr as cc
    import eventstudy.inference.crossgroups as cg
    import eventstudy.inference.kpblocks as kb
    import eventstudy.inference.kpdense as kd

    monkeypatch.setattr(cg, "ATOM_LINKS", atom_links)
    monkeypatch.setattr(kb, "_BLOCK_ENTRIES", 200)  # several row chunks

    rng = np.random.default_rng(seed)
    n = 60
    inp = _kp_input(rng, n, 4)
    # atoms with several members: pairs sharing estimation dates and window days
    base = replace(inp, est_day=np.repeat(inp.est_day[:6], 10, axis=0))
    base = replace(base, window_day=np.repeat(inp.window_day[:6], 10, axis=0))
    labels = {
        "all": np.full(n, "all", dtype=object),
        "g": np.array([f"g{k}" for k in rng.integers(0, 4, n)], dtype=object),
    }
    specs = [TESTS["kp_bmp_t"], TESTS["kp_patell_z"]]
    cc_limit, atom_size = cc.DENSE_LIMIT, kd.DENSE_ATOM_SIZE
    for case in (inp, base):
        with monkeypatch.context() as mp:  # the dense route whatever the atoms' size
            mp.setattr(kd, "DENSE_ATOM_SIZE", np.inf)
            assert kd.dense_route(replace(case))
            dense = run_tests({"w": replace(case)}, labels, specs)
        monkeypatch.setattr(cc, "DENSE_LIMIT", 0)
        monkeypatch.setattr(kd, "DENSE_ATOM_SIZE", 0.0)
        monkeypatch.setattr(kd, "DENSE_LINK_ATOMS", np.inf)
        assert not kd.dense_route(replace(case))
        atoms = run_tests({"w": replace(case)}, labels, specs)
        blocks = run_tests({"w": replace(case)}, labels, specs, batched=False)
        monkeypatch.setattr(cc, "DENSE_LIMIT", cc_limit)
        monkeypatch.setattr(kd, "DENSE_ATOM_SIZE", atom_size)
        _assert_same(atoms, blocks)
        _assert_same(atoms, dense)
        assert atoms["statistic"].notna().any()


@pytest.mark.parametrize("per_set", [1, 3, 10, 20, 30])
def test_kp_route_follows_the_pairs_per_set_of_estimation_dates(
    per_set: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Dense while fewer than DENSE_ATOM_SIZE pairs share a set of available estimation
    dates on average (counted here with a plain set of tuples) and the study is within
    DENSE_LIMIT; the atoms otherwise. Both routes give the same KP table."""
    import eventstudy.inference.kpdense as kd

    monkeypatch.setattr(kd, "DENSE_LINK_ATOMS", np.inf)  # the pairs per set alone decide
    n = 60
    rng = np.random.default_rng(per_set)
    inp = _kp_input(rng, n, 4)
    first = np.arange(n) // per_set  # rows of one set share the first row's days and gaps
    lead = inp.est_resid[first * per_set]
    own = np.where(np.isnan(inp.est_resid), lead, inp.est_resid)
    case = replace(inp, est_day=inp.est_day[first * per_set], est_resid=np.where(np.isnan(lead), np.nan, own))
    sets = {tuple(case.est_day[i][np.isfinite(case.est_resid[i])].tolist()) for i in range(n)}
    assert len(sets) == -(-n // per_set)
    ragged = n < kd.DENSE_ATOM_SIZE * len(sets)
    assert kd.dense_route(replace(case)) == ragged == (per_set < 16)
    labels = {"all": np.full(n, "all", dtype=object), "g": (np.arange(n) % 4).astype(str).astype(object)}
    specs = [TESTS["kp_bmp_t"], TESTS["kp_patell_z"]]
    routed = run_tests({"w": replace(case)}, labels, specs)
    monkeypatch.setattr(kd, "DENSE_ATOM_SIZE", np.inf if not ragged else 0.0)  # the other route
    assert kd.dense_route(replace(case)) != ragged
    other = run_tests({"w": replace(case)}, labels, specs)
    _assert_same(routed, other)
    assert routed["statistic"].notna().any()
    monkeypatch.setattr(kd, "DENSE_ATOM_SIZE", np.inf)
    monkeypatch.setattr(kd, "DENSE_LIMIT", n - 1)  # above the limit: the atoms whatever the dates
    assert not kd.dense_route(replace(case))


def _one_block(inp: TestInput, lead: np.ndarray) -> tuple[TestInput, int]:
    """``inp`` with each pair on the estimation dates and gaps of pair ``lead[i]`` (its own
    missing values filled) and every pair on the first pair's window days (one block), and
    its number of distinct sets of available estimation dates (counted with tuples)."""
    nan_lead = np.isnan(inp.est_resid[lead])
    case = replace(
        inp,
        est_day=inp.est_day[lead],
        est_resid=np.where(nan_lead, np.nan, np.where(np.isnan(inp.est_resid), 0.01, inp.est_resid)),
        window_day=np.broadcast_to(inp.window_day[0], inp.window_day.shape).copy(),
    )
    days = case.est_day, np.isfinite(case.est_resid)
    return case, len({tuple(days[0][i][days[1][i]].tolist()) for i in range(len(lead))})


@pytest.mark.parametrize("n_sets", [4, 8, 9, 12])
def test_kp_route_is_dense_when_a_block_holds_many_atoms(
    n_sets: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pairs sharing their estimation dates 20 to a set, all with the same window days (one
    block): the atoms unless the block's pairs of atoms (counted here as sets²) exceed
    DENSE_LINK_ATOMS (64); with a mask leaving one set out, the block holds one atom fewer.
    Both routes give the same KP table."""
    import eventstudy.inference.kpdense as kd

    per_set = 20
    n = per_set * n_sets
    rng = np.random.default_rng(n_sets)
    inp = _kp_input(rng, n, 4)
    case, n_found = _one_block(inp, np.arange(n) // per_set * per_set)
    assert n_found == n_sets and n >= kd.DENSE_ATOM_SIZE * n_sets
    everyone = np.ones(n, dtype=bool)
    assert not kd.dense_route(replace(case))  # no window: the pairs per set decide
    assert kd.dense_route(replace(case), everyone) == (n_sets * n_sets > 64)
    but_one = np.arange(n) >= per_set
    assert kd.dense_route(replace(case), but_one) == ((n_sets - 1) ** 2 > 64)
    labels = {"all": np.full(n, "all", dtype=object), "g": (np.arange(n) % 3).astype(str).astype(object)}
    specs = [TESTS["kp_bmp_t"], TESTS["kp_patell_z"]]
    routed = run_tests({"w": replace(case)}, labels, specs)
    monkeypatch.setattr(kd, "DENSE_LINK_ATOMS", np.inf)
    assert not kd.dense_route(replace(case), everyone)
    atoms = run_tests({"w": replace(case)}, labels, specs)
    _assert_same(routed, atoms)
    assert routed["statistic"].notna().all()


@pytest.mark.parametrize("large", [16, 10_000])
@pytest.mark.parametrize("seed", [0, 1])
def test_kp_block_of_large_and_small_atoms_equals_the_pair_by_pair_groups(
    seed: int, large: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One block (the same window days) of two atoms of 20 pairs (same estimation dates) and
    30 pairs each with its own dates, on the atoms' route: the large atoms by their group
    sums and the small ones as a matrix (``large`` 16), or the whole block as a matrix
    (``large`` beyond the block), equal r̄ from every group's own pairwise correlations."""
    import eventstudy.inference.crosscorr as cc
    import eventstudy.inference.crossgroups as cg
    import eventstudy.inference.kpdense as kd

    monkeypatch.setattr(cc, "DENSE_LIMIT", 0)
    monkeypatch.setattr(kd, "DENSE_ATOM_SIZE", 0.0)
    monkeypatch.setattr(kd, "DENSE_LINK_ATOMS", np.inf)
    monkeypatch.setattr(cg, "ATOM_LARGE", large)
    n = 70
    rng = np.random.default_rng(seed)
    inp = _kp_input(rng, n, 4)
    case, n_sets = _one_block(inp, np.where(np.arange(n) < 40, np.arange(n) // 20 * 20, np.arange(n)))
    assert n_sets == 32  # two atoms of 20 and 30 of one: 32² pairs of atoms > ATOM_LINKS
    labels = {"all": np.full(n, "all", dtype=object), "g": rng.choice(["a", "b", "c"], n).astype(object)}
    specs = [TESTS["kp_bmp_t"], TESTS["kp_patell_z"]]
    atoms = run_tests({"w": replace(case)}, labels, specs)
    blocks = run_tests({"w": replace(case)}, labels, specs, batched=False)
    _assert_same(atoms, blocks)
    assert atoms["statistic"].notna().all()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**31 - 1),
    large=st.lists(st.integers(1, 24), min_size=1, max_size=4),
    small=st.integers(0, 20),
    n_groups=st.integers(1, 4),
    blank=st.floats(0.0, 0.3),
)
def test_kp_atoms_route_with_large_atoms_equals_the_pair_by_pair_groups(
    seed: int, large: list[int], small: int, n_groups: int, blank: float
) -> None:
    """Atoms of random sizes (some of at least ATOM_LARGE pairs) and pairs of their own dates
    in one block, some CARs missing, random groups: the atoms' route (large atoms by group sums
    beside matrices, or one matrix) equals every group's own pairwise correlations."""
    import eventstudy.inference.crosscorr as cc
    import eventstudy.inference.kpdense as kd

    sizes = [*large, *([1] * small)]
    n = sum(sizes)
    rng = np.random.default_rng(seed)
    inp = _kp_input(rng, n, 4)
    starts = np.repeat(np.cumsum([0, *sizes[:-1]]), sizes)
    case, _ = _one_block(inp, starts)
    car = case.car.copy()
    car[rng.random(n) < blank] = np.nan
    case = replace(case, car=car)
    codes = rng.integers(0, n_groups, n).astype(str).astype(object)
    labels = {"all": np.full(n, "all", dtype=object), "g": codes}
    specs = [TESTS["kp_bmp_t"], TESTS["kp_patell_z"]]
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(cc, "DENSE_LIMIT", 0)
        mp.setattr(kd, "DENSE_ATOM_SIZE", 0.0)
        mp.setattr(kd, "DENSE_LINK_ATOMS", np.inf)
        atoms = run_tests({"w": replace(case)}, labels, specs)
    _assert_same(atoms, run_tests({"w": replace(case)}, labels, specs, batched=False))


def test_grank_batch_handles_day0_ties_with_estimation_values() -> None:
    """GRANK's day-0 rank with ties: an estimation SAR equal to the standardized SCAR."""
    inp = make_input(n=12, seed=5)
    scar = inp.scar
    g0 = scar / np.std(scar[np.isfinite(scar)], ddof=1)
    est_sar = inp.est_sar.copy()
    est_sar[:, 5] = g0
    est_sar[:3, 9] = g0[:3]
    tied = replace(inp, est_sar=est_sar)
    labels = {"all": np.full(12, "all", dtype=object)}
    specs = [TESTS["grank_t"]]
    batched = run_tests({"w": tied}, labels, specs)
    _assert_same(batched, run_tests({"w": replace(tied)}, labels, specs, batched=False))
    untied = run_tests({"w": replace(inp)}, labels, specs)
    assert batched["statistic"].iloc[0] != untied["statistic"].iloc[0]


@pytest.mark.parametrize("row_block", [1, 3, 2048])
def test_bootstrap_of_several_windows_equals_one_group_at_a_time(
    row_block: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Windows sharing a cache are stacked into one product per size class, in row blocks."""
    from eventstudy.inference import bootstrap as rs

    monkeypatch.setattr(rs, "_ROW_BLOCK", row_block)
    rng = np.random.default_rng(4)
    base = make_input(n=40, seed=4)
    shared: dict[object, object] = {}
    windows = [
        replace(base, car=base.car * rng.uniform(0.5, 2.0, 40) + k * 0.1, cache=shared) for k in range(3)
    ]
    groups = Groups.from_labels(np.array([f"g{k}" for k in rng.integers(0, 5, 40)], dtype=object))
    stacked = rs.wild_bootstrap_windows(windows, groups)
    for inp, res in zip(windows, stacked, strict=True):
        for g, idx in enumerate(groups.members(np.ones(40, dtype=bool))):
            one = TESTS["wild_bootstrap"].func(replace(inp), idx)
            assert res.p_value[g] == pytest.approx(one.p_value, abs=1e-12)
            assert res.statistic[g] == pytest.approx(one.statistic, rel=1e-9)


def test_threads_give_the_same_tests_table(default_inputs) -> None:  # type: ignore[no-untyped-def]
    """Windows run in threads produce exactly the table of one window after the other."""
    inputs, labels = default_inputs
    specs = list(TESTS.values())
    windows = {k: inputs[k] for k in list(inputs)[:8]}
    first: dict[object, object] = {}
    one = run_tests({k: replace(v, cache=first) for k, v in windows.items()}, labels, specs, threads=1)
    second: dict[object, object] = {}
    two = run_tests({k: replace(v, cache=second) for k, v in windows.items()}, labels, specs, threads=2)
    pd.testing.assert_frame_equal(one, two, check_exact=True)


def test_kp_without_memo_room_gives_the_same_numbers(monkeypatch: pytest.MonkeyPatch) -> None:
    """With no room to keep standardized residuals, KP recomputes them: same table."""
    import eventstudy.inference.crosscorr as cc
    import eventstudy.inference.crossgroups as cg
    import eventstudy.inference.kpdense as kd

    rng = np.random.default_rng(9)
    inp = _kp_input(rng, 50, 4)
    base = replace(inp, est_day=np.repeat(inp.est_day[:5], 10, axis=0))
    base = replace(base, window_day=np.repeat(inp.window_day[:5], 10, axis=0))
    labels = {"g": np.array([f"g{k}" for k in rng.integers(0, 3, 50)], dtype=object)}
    specs = [TESTS["kp_bmp_t"]]
    monkeypatch.setattr(cc, "DENSE_LIMIT", 0)
    monkeypatch.setattr(kd, "DENSE_ATOM_SIZE", 0.0)
    monkeypatch.setattr(kd, "DENSE_LINK_ATOMS", np.inf)
    kept = run_tests({"w": replace(base), "v": replace(base)}, labels, specs)
    monkeypatch.setattr(cg, "_KP_CACHE_BYTES", 0)
    bare = run_tests({"w": replace(base), "v": replace(base)}, labels, specs)
    pd.testing.assert_frame_equal(kept, bare, check_exact=True)


def test_caar_table_matches_a_groupby_of_the_car_table(snapshot_study) -> None:  # type: ignore[no-untyped-def]
    """CAAR, sd (N − 1) and n per market and window against pandas on car.csv."""
    car = snapshot_study.car_table.dropna(subset=["car"])
    ref = car.groupby(["symbol", "window"])["car"].agg(["mean", "std", "count"])
    got = snapshot_study.caar("market").set_index(["group", "window"])
    got = got.loc[got.index.isin(ref.index)]
    assert len(got) == len(ref)
    ref = ref.loc[got.index]
    np.testing.assert_allclose(got["caar"], ref["mean"], rtol=1e-12)
    np.testing.assert_allclose(got["sd"], ref["std"], rtol=1e-10)
    assert (got["n"].to_numpy() == ref["count"].to_numpy()).all()


@pytest.mark.parametrize("seed", [3, 4])
def test_kp_group_sums_of_atoms_in_group_order(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Atoms whose pairs are already by group (no sort), in one group (their total) or mixed: per-group r̄."""
    import eventstudy.inference.crosscorr as cc
    import eventstudy.inference.kpdense as kd

    rng = np.random.default_rng(seed)
    n = 60
    inp = _kp_input(rng, n, 4)
    case = replace(
        inp,
        est_day=np.repeat(inp.est_day[:6], 10, axis=0),
        window_day=np.repeat(inp.window_day[:6], 10, axis=0),
    )
    labels = {
        "all": np.full(n, "all", dtype=object),
        "ordered": np.array([f"h{k // 7:02d}" for k in range(n)], dtype=object),  # by pair: no sort needed
        "atoms": np.array([f"a{k // 10}" for k in range(n)], dtype=object),  # one group per atom
        "mixed": np.array([f"g{k}" for k in rng.integers(0, 4, n)], dtype=object),
    }
    specs = [TESTS["kp_bmp_t"], TESTS["kp_patell_z"]]
    monkeypatch.setattr(cc, "DENSE_LIMIT", 0)
    monkeypatch.setattr(kd, "DENSE_ATOM_SIZE", 0.0)
    monkeypatch.setattr(kd, "DENSE_LINK_ATOMS", np.inf)
    atoms = run_tests({"w": replace(case)}, labels, specs)
    blocks = run_tests({"w": replace(case)}, labels, specs, batched=False)
    _assert_same(atoms, blocks)
    assert atoms["statistic"].notna().sum() > 4


def test_tests_table_from_whole_columns_equals_the_frames(default_inputs, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The runner's table built from whole columns is the concatenation of its per-block frames, exactly."""
    import eventstudy.inference.runner as rn

    inputs, labels = default_inputs
    windows = {k: inputs[k] for k in list(inputs)[:3]}
    specs = list(TESTS.values())
    fast = run_tests({k: replace(v, cache={}) for k, v in windows.items()}, labels, specs)
    monkeypatch.setattr(rn, "_WHOLE_COLUMNS", False)
    frames = run_tests({k: replace(v, cache={}) for k, v in windows.items()}, labels, specs)
    pd.testing.assert_frame_equal(fast, frames, check_exact=True)
    assert list(fast.dtypes) == list(frames.dtypes)
    one = run_tests({k: replace(v, cache={}) for k, v in windows.items()}, labels, specs[:1])
    monkeypatch.setattr(rn, "_WHOLE_COLUMNS", True)
    pd.testing.assert_frame_equal(
        run_tests({k: replace(v, cache={}) for k, v in windows.items()}, labels, specs[:1]),
        one,
        check_exact=True,
    )
