"""Clusters of dependent pairs and the cluster tests, against independent computations.

* cluster labels against a plain O(P²) union–find over the connection rules;
* ``cluster_t`` against a loop over cluster means and ``scipy.stats.ttest_1samp``;
* ``cluster_cr2_t`` against statsmodels OLS residuals with the CR2 matrices
  (I − H_gg)^{-1/2} and the Bell–McCaffrey degrees of freedom computed by hand
  (Imbens and Kolesár 2016, the G matrix and its eigenvalues);
* ``cluster_bootstrap``'s batch form against the slow draw-by-draw reference;
* invariances (hypothesis): duplicating events, permuting pairs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import linalg, stats
from test_inference_synth import make_input, permute, replace

from eventstudy.inference import TESTS, Groups, TestInput
from eventstudy.inference.clustered import estimates, mde
from eventstudy.inference.clusters import cluster_labels, duplicate_keys, first_of_duplicates


# ---------------------------------------------------------------- clusters
def _naive_clusters(event: np.ndarray, first: np.ndarray, last: np.ndarray) -> np.ndarray:
    """Union–find over every pair of pairs: same event, or overlapping [first, last]."""
    n = len(event)
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in range(n):
        for j in range(i + 1, n):
            if first[i] < 0 or first[j] < 0:
                continue
            if event[i] == event[j] or (first[i] <= last[j] and first[j] <= last[i]):
                parent[find(i)] = find(j)
    roots = np.array([find(i) if first[i] >= 0 else -1 for i in range(n)])
    return roots


def _same_partition(a: np.ndarray, b: np.ndarray) -> bool:
    pairs = set(zip(a.tolist(), b.tolist(), strict=True))
    return len(pairs) == len(set(a.tolist())) == len(set(b.tolist()))


def test_cluster_labels_hand_case() -> None:
    # event A: HSI and DAX on day 100; B: HSI day 101 only; C: DAX days 99–100 (overlaps A);
    # D: HSI day 200; E: FTSE day 300 and HSI day 200 (linked to D by calendar overlap)
    event = np.array(["A", "A", "B", "C", "D", "E", "E", "X"])
    first = np.array([100, 100, 101, 99, 200, 300, 200, -1])
    last = np.array([100, 100, 101, 100, 200, 300, 200, -1])
    lab = cluster_labels(event, first, last)
    assert lab.tolist() == [0, 0, 1, 0, 2, 2, 2, -1]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 6), st.integers(-1, 40), st.integers(0, 4)), min_size=1, max_size=40)
)
def test_cluster_labels_equal_union_find(rows: list[tuple[int, int, int]]) -> None:
    event = np.array([r[0] for r in rows])
    first = np.array([r[1] for r in rows])
    last = np.where(first >= 0, first + np.array([r[2] for r in rows]), -1)
    lab = cluster_labels(event, first, last)
    ref = _naive_clusters(event, first, last)
    assert ((lab < 0) == (ref < 0)).all()
    ok = lab >= 0
    assert _same_partition(lab[ok], ref[ok])
    # canonical numbering: by the earliest first day of each cluster
    if ok.any():
        starts = pd.Series(first[ok]).groupby(lab[ok]).min()
        assert starts.is_monotonic_increasing
        assert starts.index.tolist() == list(range(len(starts)))


def test_duplicates_count_once_per_group() -> None:
    keys = duplicate_keys(np.array(["H", "H", "D", "H"]), np.array([5, 5, 5, 6]), np.array([5, 5, 5, 6]))
    assert keys[0] == keys[1] and len(set(keys.tolist())) == 3
    mask = np.ones(4, dtype=bool)
    assert first_of_duplicates(keys, np.zeros(4, dtype=int), mask).tolist() == [True, False, True, True]
    # the same window in two groups counts in each
    assert first_of_duplicates(keys, np.array([0, 1, 0, 0]), mask).tolist() == [True, True, True, True]


# ------------------------------------------------------------------ inputs
def _clustered_input(seed: int, n: int = 40, n_clusters: int = 9, dup_share: float = 0.15) -> TestInput:
    rng = np.random.default_rng(seed)
    base = make_input(n=n, seed=seed, missing=0.05)
    cluster = rng.integers(0, n_clusters, n)
    car = base.car.copy()
    dup = np.arange(n, dtype=np.int64)
    # exact duplicates: copy another pair of the same cluster
    for i in np.flatnonzero(rng.random(n) < dup_share):
        same = np.flatnonzero((cluster == cluster[i]) & (np.arange(n) < i))
        if len(same):
            j = int(same[0])
            car[i], dup[i] = car[j], dup[j]
    return replace(base, car=car, cluster=cluster.astype(np.int64), dup=dup)


def _frame(inp: TestInput) -> pd.DataFrame:
    assert inp.cluster is not None and inp.dup is not None
    df = pd.DataFrame({"car": inp.car, "cluster": inp.cluster, "dup": inp.dup})
    return df[np.isfinite(df["car"])].drop_duplicates("dup")


@pytest.mark.parametrize("seed", range(6))
def test_cluster_t_equals_ttest_on_cluster_means(seed: int) -> None:
    inp = _clustered_input(seed)
    idx = np.arange(len(inp.car))
    theta = _frame(inp).groupby("cluster")["car"].mean().to_numpy()
    ref = stats.ttest_1samp(theta, 0.0)
    res = TESTS["cluster_t"].func(inp, idx)
    assert res.n == len(theta)
    assert res.statistic == pytest.approx(ref.statistic, rel=1e-10)
    assert res.p_value == pytest.approx(ref.pvalue, rel=1e-9)


def _cr2_by_hand(car: np.ndarray, cluster: np.ndarray) -> tuple[float, float, float]:
    """CR2 t and Bell–McCaffrey df from statsmodels OLS and explicit matrices."""
    n = len(car)
    x = np.ones((n, 1))
    fit = sm.OLS(car, x).fit()
    u = fit.resid
    xtx_inv = np.linalg.inv(x.T @ x)
    h = x @ xtx_inv @ x.T
    ids = np.unique(cluster)
    meat = np.zeros((1, 1))
    g_cols = []
    m_resid = np.eye(n) - h
    for g in ids:
        at = np.flatnonzero(cluster == g)
        a_g = linalg.inv(linalg.sqrtm(np.eye(len(at)) - h[np.ix_(at, at)])).real
        v = x[at].T @ a_g @ u[at]
        meat += np.outer(v, v)
        # Imbens–Kolesár G matrix column: (I − H)_{·,g} A_g X_g (X'X)⁻¹ ℓ
        g_cols.append(m_resid[:, at] @ a_g @ x[at] @ xtx_inv[:, 0])
    var = float((xtx_inv @ meat @ xtx_inv)[0, 0])
    gmat = np.column_stack(g_cols)
    lam = np.linalg.eigvalsh(gmat.T @ gmat)
    df = float(lam.sum() ** 2 / (lam**2).sum())
    return float(fit.params[0] / np.sqrt(var)), df, float(np.sqrt(var))


@pytest.mark.parametrize("seed", range(6))
def test_cluster_cr2_equals_hand_cr2_with_bell_mccaffrey_df(seed: int) -> None:
    inp = _clustered_input(seed, n=30, n_clusters=7)
    df = _frame(inp)
    t_ref, df_ref, _ = _cr2_by_hand(df["car"].to_numpy(), df["cluster"].to_numpy())
    res = TESTS["cluster_cr2_t"].func(inp, np.arange(len(inp.car)))
    assert res.statistic == pytest.approx(t_ref, rel=1e-9)
    assert res.p_value == pytest.approx(2 * stats.t.sf(abs(t_ref), df_ref), rel=1e-8)
    assert f"df={df_ref:.1f}" in res.note
    # the batch form over groups gives the same per group
    groups = Groups.from_labels(np.where(np.arange(len(inp.car)) % 2 == 0, "a", "b"))
    batch = TESTS["cluster_cr2_t"].batch(inp, groups)  # type: ignore[misc]
    for g, members in enumerate(groups.members(np.ones(len(inp.car), dtype=bool))):
        one = TESTS["cluster_cr2_t"].func(inp, members)
        assert batch.statistic[g] == pytest.approx(one.statistic, rel=1e-10, nan_ok=True)


def test_cr2_equal_clusters_reduces_to_cr1_and_g_minus_1() -> None:
    from eventstudy.inference.clustered import Cells

    rng = np.random.default_rng(1)
    s = rng.standard_normal(6)
    c = Cells(
        group=np.zeros(6, dtype=np.int64),
        cluster=np.arange(6),
        n=np.full(6, 3.0),
        s=s,
        g=np.array([6]),
        pairs=np.array([18]),
        dups=np.array([0]),
    )
    _, se2, df2 = estimates("cr2", c)
    _, se1, df1 = estimates("cr1", c)
    assert se2[0] == pytest.approx(se1[0], rel=1e-12)
    assert df2[0] == pytest.approx(5.0, rel=1e-12) and df1[0] == 5.0


def test_cluster_bootstrap_batch_equals_slow_reference_loop() -> None:
    inp = _clustered_input(3, n=80, n_clusters=20)
    inp = replace(inp, draws=199)
    n = len(inp.car)
    assert inp.cluster is not None
    labels = np.where(inp.cluster < 4, "few", np.where(np.arange(n) % 2 == 0, "many", "more"))
    groups = Groups.from_labels(labels)
    spec = TESTS["cluster_bootstrap"]
    batch = spec.batch(inp, groups)  # type: ignore[misc]
    for g, members in enumerate(groups.members(np.ones(n, dtype=bool))):
        one = spec.func(replace(inp), members)
        assert batch.statistic[g] == pytest.approx(one.statistic, rel=1e-10)
        assert batch.p_value[g] == pytest.approx(one.p_value, abs=1e-12)
        assert batch.note[g] == one.note
    # few clusters use Webb's weights, many Rademacher
    assert groups.names == ("few", "many", "more")
    assert "Webb" in batch.note[0] and "Rademacher" in batch.note[1]


@settings(max_examples=12, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n_clusters=st.integers(2, 16),
    n_groups=st.integers(1, 6),
    fill=st.sampled_from([0.0, 2.0]),
    block=st.sampled_from([1, 7, 1 << 21]),
)
def test_cluster_bootstrap_grid_and_runs_equal_the_loop(
    seed: int, n_clusters: int, n_groups: int, fill: float, block: int
) -> None:
    """Both layouts of the resampled sums (groups × clusters grid, cells in a row) give the loop's p."""
    import eventstudy.inference.clusterdraws as cd

    inp = replace(_clustered_input(seed, n=60, n_clusters=n_clusters), draws=99)
    labels = np.array([f"g{k}" for k in np.random.default_rng(seed).integers(0, n_groups, 60)], dtype=object)
    groups = Groups.from_labels(labels)
    spec = TESTS["cluster_bootstrap"]
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(cd, "GRID_FILL", fill)  # 0: always the grid, 2: never
        mp.setattr(cd, "GRID_BLOCK", block)
        mp.setattr(cd, "CELL_BLOCK", block)
        batch = spec.batch(replace(inp), groups)  # type: ignore[misc]
    for g, members in enumerate(groups.members(np.ones(60, dtype=bool))):
        one = spec.func(replace(inp), members)
        assert batch.p_value[g] == pytest.approx(one.p_value, abs=1e-12, nan_ok=True)
        assert batch.note[g] == one.note


def test_cluster_tests_need_two_clusters() -> None:
    inp = _clustered_input(0)
    one = replace(inp, cluster=np.zeros(len(inp.car), dtype=np.int64))
    for name in ("cluster_t", "cluster_cr2_t", "cluster_bootstrap"):
        res = TESTS[name].func(one, np.arange(len(one.car)))
        assert np.isnan(res.p_value)
        assert "needs at least 2 clusters (has 1)" in res.note


def test_mde_formula() -> None:
    # (t_{0.975,d} + t_{0.80,d}) · SE; about 2.80 · SE for large d
    assert float(mde(1.0, 1e6)) == pytest.approx(1.959964 + 0.841621, rel=1e-5)
    assert float(mde(0.5, 10)) == pytest.approx(0.5 * (stats.t.ppf(0.975, 10) + stats.t.ppf(0.8, 10)))


# -------------------------------------------------------------- invariances
_NAMES = ("cluster_t", "cluster_cr2_t", "cluster_bootstrap")


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 10_000))
def test_permuting_pairs_leaves_cluster_tests_unchanged(seed: int) -> None:
    inp = replace(_clustered_input(seed % 50, n=30), draws=99)
    order = np.random.default_rng(seed).permutation(len(inp.car))
    other = permute(inp, order)
    for name in _NAMES:
        a = TESTS[name].func(inp, np.arange(len(inp.car)))
        b = TESTS[name].func(other, np.arange(len(inp.car)))
        assert a.statistic == pytest.approx(b.statistic, rel=1e-12, nan_ok=True)
        assert a.p_value == pytest.approx(b.p_value, rel=1e-12, nan_ok=True)


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 10_000))
def test_adding_exact_duplicates_leaves_cluster_tests_unchanged(seed: int) -> None:
    inp = replace(_clustered_input(seed % 50, n=30), draws=99)
    assert inp.cluster is not None and inp.dup is not None
    both = np.r_[np.arange(len(inp.car)), np.arange(len(inp.car))]
    doubled = permute(inp, both)  # every pair twice: same cluster, same duplicate key
    for name in _NAMES:
        a = TESTS[name].func(inp, np.arange(len(inp.car)))
        b = TESTS[name].func(doubled, np.arange(len(doubled.car)))
        assert a.statistic == pytest.approx(b.statistic, rel=1e-12, nan_ok=True)
        assert a.p_value == pytest.approx(b.p_value, rel=1e-12, nan_ok=True)


# ------------------------------------------------------ whole-study properties
def _records(snapshot_events) -> list[dict[str, object]]:  # type: ignore[no-untyped-def]
    path = snapshot_events.path
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    return raw[raw["timestamp"].str[:4].isin(["2025"])].to_dict("records")[:24]


def _robust(res) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    t = res.tests("all")
    t = t[t["test"].isin(_NAMES)].set_index(["window", "test"])
    return t[["statistic", "p_value", "n"]].sort_index()


@pytest.mark.parametrize("change", ["duplicate_events", "permute_events_and_markets"])
def test_study_cluster_statistics_and_headline_are_invariant(
    snapshot_events,
    snapshot_prices,
    change: str,  # type: ignore[no-untyped-def]
) -> None:
    from eventstudy import EventStudy, events_from_records

    recs = _records(snapshot_events)
    symbols = ["^HSI", "^GDAXI", "^FTSE"]
    prices = snapshot_prices.select(symbols)
    kw = {"tests": list(_NAMES), "draws": 199, "car_windows": [(0, 0), (-1, 1)], "window": (-3, 3)}
    base = EventStudy(events_from_records(recs), prices, **kw).run()
    if change == "duplicate_events":
        dup = [dict(r, event_id=f"{r['event_id']}-copy") for r in recs]
        other = EventStudy(events_from_records(recs + dup), prices, **kw).run()
        assert len(other.car()) == 2 * len(base.car())
    else:
        order = np.random.default_rng(7).permutation(len(recs))
        other = EventStudy(
            events_from_records([recs[i] for i in order]), prices, symbols=symbols[::-1], **kw
        ).run()
    a, b = _robust(base), _robust(other)
    assert a.notna().any().all()  # the tests applied
    pd.testing.assert_frame_equal(a, b, rtol=1e-10)
    assert base.headline["test"] == other.headline["test"]
    for k in ("statistic", "p_value", "n_clusters", "n_pairs", "mde"):
        assert base.headline[k] == pytest.approx(other.headline[k], rel=1e-10), k


@pytest.mark.parametrize("seed", range(4))
def test_cluster_bootstrap_statistic_equals_statsmodels_cluster_t(seed: int) -> None:
    """The bootstrapped statistic is the CAAR over its CR1 standard error: statsmodels'
    cluster-robust OLS on a constant (correction G/(G − 1) · (N − 1)/(N − K) with K = 1)."""
    inp = _clustered_input(seed, n=40, n_clusters=9)
    df = _frame(inp)
    fit = sm.OLS(df["car"].to_numpy(), np.ones((len(df), 1))).fit(
        cov_type="cluster", cov_kwds={"groups": df["cluster"].to_numpy()}
    )
    res = TESTS["cluster_bootstrap"].func(replace(inp, draws=9), np.arange(len(inp.car)))
    assert res.statistic == pytest.approx(float(fit.tvalues[0]), rel=1e-10)
    assert res.n == df["cluster"].nunique()


@settings(max_examples=40, deadline=None)
@given(codes=st.lists(st.integers(0, 3000), min_size=0, max_size=80), extra=st.sampled_from([0, 10**6]))
def test_cell_codes_unique_as_numpy(codes: list[int], extra: int) -> None:
    """The counting form of the cells' unique codes equals ``np.unique`` (sorted codes, inverse)."""
    from eventstudy.inference.clustercells import _unique

    code = np.array(codes, dtype=np.int64)
    uniq, inv = _unique(code, 3001 + extra)
    ref_u, ref_i = np.unique(code, return_inverse=True)
    np.testing.assert_array_equal(uniq, ref_u)
    np.testing.assert_array_equal(inv, ref_i.ravel())
